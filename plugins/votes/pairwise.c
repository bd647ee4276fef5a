/* votes, method pairwise: Chatbot Arena battles -> Bradley-Terry.
 *
 * One pass over the file keeps the counted ballots (8 bytes each) and the
 * ballot fingerprints that enforce one ballot per (judge, question, pair).
 * Judges with equal ballots are then merged into classes (classes.c).  The
 * point estimate fits the summed table of doubled wins (2 per win, 1 per
 * tie each way); the sandwich variance (sandwich.c) and the bootstrap
 * (boot.c) use the classes, or the distinct outcomes with bootstrap_unit =
 * battle.  The models are the teams' and the anchors (pwparams.c). */
#include "pairwise.h"
#include "matrix.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every model needs ballots, and the wins must tie all models together
 * (unless the prior's ties do). */
static int check_data(struct pw *pw, const double *w)
{
	const struct kv_host *h = pw->h;
	size_t k = pw->k, from, to;
	char a[300], b[300];
	for (size_t i = 0; i < k; i++) {
		double games = 0;
		for (size_t j = 0; j < k; j++)
			games += w[i * k + j] + w[j * k + i];
		if (games > 2 * (double)(k - 1) * pw->prior)
			continue;
		if (i >= pw->teams)
			return h->value_error(pw->ctx, h->value_at(h->param(pw->ctx, "anchors"), i - pw->teams),
					      "anchors: '%s' is in no counted battle of %s", pw->names[i].s, pw->path);
		const char *model = h->team_model(pw->ctx, i);
		char hint[600] = "";
		if (model)
			votes_model_hint(h, pw->ctx, pw->names, model, strlen(model), hint, sizeof hint);
		return h->error(pw->ctx, "%s: no usable votes for team '%s' (model '%s')%s", pw->path,
				h->team_id(pw->ctx, i), pw->names[i].s, hint);
	}
	if (votes_bt_unreachable(w, k, &from, &to))
		return h->error(pw->ctx, "%s: the Bradley-Terry estimate does not exist: no chain of wins "
				"(a tie counts both ways) leads from %s to %s (Hunter 2004, assumption 1); "
				"param 'prior' adds ties between every two models", pw->path,
				votes_pw_label(pw, from, a, sizeof a), votes_pw_label(pw, to, b, sizeof b));
	return KV_OK;
}

/* --- the bootstrap ------------------------------------------------------------ */

/* The 2.5% and 97.5% points of column i (minus column ref, when ref < k)
 * over the usable replicates. */
static void interval(const double *by_round, const unsigned char *ok, size_t rounds, size_t k,
		     size_t i, size_t ref, double *col, double out[2])
{
	size_t n = 0;
	for (size_t r = 0; r < rounds; r++)
		if (ok[r])
			col[n++] = by_round[r * k + i] - (ref < k ? by_round[r * k + ref] : 0);
	out[0] = votes_quantile(col, n, 0.025);
	out[1] = votes_quantile(col, n, 0.975);
}

static void boot_round_evidence(struct pw *pw, const struct votes_classes *C, size_t rounds, size_t usable)
{
	const struct kv_host *h = pw->h;
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_rounds", (double)rounds);
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_undetermined", (double)(rounds - usable));
	h->evidence_str(pw->ctx, KV_ROUND, "bootstrap_unit", "%s", pw->by_battle
			? "battle (a multinomial draw over the distinct outcomes, as Chatbot Arena)"
			: "judge (all ballots of a drawn judge)");
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_classes", (double)C->count);
	h->evidence_str(pw->ctx, KV_ROUND, "percentile", "%s", VOTES_PERCENTILE_RULE);
}

/* Intervals of every model (teams and anchors), then each team's rank as
 * Chatbot Arena computes it: 1 + the models surely better (whose lower
 * bound is above its upper bound). */
static int boot_evidence(struct pw *pw, const struct votes_boot *B, size_t rounds, size_t usable)
{
	const struct kv_host *h = pw->h;
	size_t k = pw->k;
	boot_round_evidence(pw, B->C, rounds, usable);
	if (usable == 0)
		return KV_OK;
	double *col = malloc(rounds * sizeof *col), *elo = malloc(2 * k * sizeof *elo), ni[2];
	if (!col || !elo) {
		free(col);
		free(elo);
		return votes_pw_nomem(pw, "the bootstrap's columns");
	}
	for (size_t i = 0; i < k; i++)
		interval(B->elo, B->ok, rounds, k, i, k, col, &elo[2 * i]);
	for (size_t i = 0; i < pw->teams; i++) {
		if (pw->ref < k) { /* as Chatbot Arena reports it: every replicate anchored at the reference */
			interval(B->elo, B->ok, rounds, k, i, pw->ref, col, ni);
			h->evidence_num(pw->ctx, i, "elo_minus_reference_q025", ni[0]);
			h->evidence_num(pw->ctx, i, "elo_minus_reference_q975", ni[1]);
		}
		interval(B->norm, B->ok, rounds, k, i, k, col, ni);
		h->evidence_num(pw->ctx, i, "elo_q025", elo[2 * i]);
		h->evidence_num(pw->ctx, i, "elo_q975", elo[2 * i + 1]);
		h->evidence_num(pw->ctx, i, "normalized_q025", ni[0]);
		h->evidence_num(pw->ctx, i, "normalized_q975", ni[1]);
	}
	for (size_t i = 0; i < pw->teams; i++) {
		size_t better = 0;
		for (size_t j = 0; j < k; j++)
			better += elo[2 * j] > elo[2 * i + 1];
		h->evidence_num(pw->ctx, i, "ci_rank", (double)(1 + better));
	}
	free(col);
	free(elo);
	return KV_OK;
}

/* The replicates (none when bootstrap = 0); KV_OK or a status.  B is
 * freed by bootstrap_free whatever this returns. */
static int bootstrap_run(struct pw *pw, const double *w, const double *g, struct votes_boot *B)
{
	size_t rounds = (size_t)pw->bootstrap, k = pw->k;
	*B = (struct votes_boot){.k = k, .ref = pw->ref, .rounds = rounds, .C = &pw->judges, .g0 = g, .w0 = w,
				 .prior = pw->prior};
	if (rounds == 0)
		return KV_OK;
	if (pw->by_battle) {
		if (votes_classes_of_ballots(pw->t.wins, pw->t.ties, k, &pw->outcomes))
			return votes_pw_nomem(pw, "the bootstrap's outcome classes");
		B->C = &pw->outcomes;
	}
	B->streams = calloc(rounds, sizeof *B->streams);
	B->elo = calloc(rounds * k, sizeof *B->elo);
	B->norm = calloc(rounds * k, sizeof *B->norm);
	B->ok = calloc(rounds, 1);
	if (!B->streams || !B->elo || !B->norm || !B->ok)
		return votes_pw_nomem(pw, "the bootstrap's replicates");
	for (size_t r = 0; r < rounds; r++)
		pw->h->rng_stream(pw->ctx, "bootstrap", r, &B->streams[r]);
	return votes_boot_run(B) ? votes_pw_nomem(pw, "the bootstrap's working memory") : KV_OK;
}

static int bootstrap_evidence(struct pw *pw, const struct votes_boot *B)
{
	size_t usable = 0;
	if (B->rounds == 0)
		return KV_OK;
	for (size_t r = 0; r < B->rounds; r++)
		usable += B->ok[r];
	return boot_evidence(pw, B, B->rounds, usable);
}

static void bootstrap_free(struct votes_boot *B)
{
	free(B->streams);
	free(B->elo);
	free(B->norm);
	free(B->ok);
}

/* --- the estimate ---------------------------------------------------------------- */

/* Up to 64 models: a class's models are the bits of one word. */
static void judges_by_bits(const struct votes_classes *C, const uint16_t *lo, const uint16_t *hi, uint64_t *judges)
{
	for (size_t c = 0; c < C->count; c++) {
		uint64_t named = 0;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++)
			named |= 1ULL << lo[C->code[e]] | 1ULL << hi[C->code[e]];
		for (; named; named &= named - 1)
			judges[__builtin_ctzll(named)] += C->size[c];
	}
}

/* More: each model a class names is marked once, then unmarked. */
static void judges_by_marks(const struct votes_classes *C, size_t k, const uint16_t *lo, const uint16_t *hi,
			    uint64_t *judges)
{
	unsigned char *seen = calloc(k, 1);
	size_t *named = malloc(k * sizeof *named);
	for (size_t c = 0; seen && named && c < C->count; c++) {
		size_t n = 0;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			size_t ends[2] = {lo[C->code[e]], hi[C->code[e]]};
			for (int i = 0; i < 2; i++)
				if (!seen[ends[i]])
					seen[ends[i]] = 1, named[n++] = ends[i];
		}
		for (size_t i = 0; i < n; i++) {
			judges[named[i]] += C->size[c];
			seen[named[i]] = 0;
		}
	}
	free(seen);
	free(named);
}

/* Judges who voted in a battle of model i, from the classes: each class
 * counts once for each model its entries name (a walk of the entries, not
 * of every model per class: 2 million classes x 200 models took 0.8 s). */
static void judges_per_model(const struct votes_classes *C, size_t k, uint64_t *judges)
{
	size_t codes = votes_codes(k);
	uint16_t *lo = malloc(2 * (codes ? codes : 1) * sizeof *lo);
	if (!lo)
		return;
	votes_code_models(k, lo, lo + codes);
	if (k <= 64)
		judges_by_bits(C, lo, lo + codes, judges);
	else
		judges_by_marks(C, k, lo, lo + codes, judges);
	free(lo);
}

static void team_evidence(struct pw *pw, size_t i, double g, double elo, uint64_t judges)
{
	uint64_t wins = 0, losses = 0, ties = 0;
	size_t k = pw->k;
	for (size_t j = 0; j < k; j++) {
		wins += pw->t.wins[i * k + j];
		losses += pw->t.wins[j * k + i];
		ties += pw->t.ties[i * k + j] + pw->t.ties[j * k + i];
	}
	pw->h->evidence_str(pw->ctx, i, "model", "%s", pw->names[i].s);
	pw->h->evidence_num(pw->ctx, i, "battles", (double)(wins + losses + ties));
	pw->h->evidence_num(pw->ctx, i, "wins", (double)wins);
	pw->h->evidence_num(pw->ctx, i, "losses", (double)losses);
	pw->h->evidence_num(pw->ctx, i, "ties", (double)ties);
	pw->h->evidence_num(pw->ctx, i, "judges", (double)judges);
	pw->h->evidence_num(pw->ctx, i, "strength", g);
	pw->h->evidence_num(pw->ctx, i, "elo", elo);
}

/* The sandwich variance is computed on a thread of its own while the
 * estimate's evidence is set and the bootstrap runs (all of them only read
 * the classes); its evidence follows the estimate's, as ever. */
struct sandwich {
	const struct votes_classes *C;
	size_t k;
	const double *g;
	double prior;
	double *var;          /* per model */
	int rc;               /* votes_sandwich's */
	int threaded;
	pthread_t thread;
};

static void *sandwich_work(void *arg)
{
	struct sandwich *s = arg;
	s->rc = votes_sandwich(s->C, s->k, s->g, s->prior, s->var);
	return NULL;
}

static int sandwich_start(struct pw *pw, const double *g, struct sandwich *s)
{
	*s = (struct sandwich){.C = &pw->judges, .k = pw->k, .g = g, .prior = pw->prior, .rc = -1};
	s->var = malloc(pw->k * sizeof *s->var);
	if (!s->var)
		return votes_pw_nomem(pw, "the sandwich variance");
	s->threaded = pthread_create(&s->thread, NULL, sandwich_work, s) == 0;
	if (!s->threaded) /* the same numbers, here */
		sandwich_work(s);
	return KV_OK;
}

static void sandwich_wait(struct sandwich *s)
{
	if (s->threaded)
		pthread_join(s->thread, NULL);
	s->threaded = 0;
}

/* elo_i +- 1.96 standard errors of the sandwich variance. */
static int sandwich_evidence(struct pw *pw, struct sandwich *s, const double *g)
{
	double *elo = malloc(pw->k * sizeof *elo);
	if (!elo)
		return votes_pw_nomem(pw, "the sandwich variance");
	sandwich_wait(s);
	votes_bt_elo(g, pw->k, elo);
	if (s->rc == 0)
		for (size_t i = 0; i < pw->teams; i++) {
			double half = 1.959963984540054 * 400 / 2.302585092994046 * kv_det_sqrt(s->var[i]);
			pw->h->evidence_num(pw->ctx, i, "elo_sandwich_lo", elo[i] - half);
			pw->h->evidence_num(pw->ctx, i, "elo_sandwich_hi", elo[i] + half);
		}
	pw->h->evidence_str(pw->ctx, KV_ROUND, "sandwich", "elo +- 1.96 standard errors of H^-1 M H^-1 "
			    "(H: Fisher information; M: sum over judges of their score's outer product)");
	free(elo);
	return KV_OK;
}

static void round_evidence(struct pw *pw, long iterations)
{
	const struct kv_host *h = pw->h;
	struct kv_ctx *ctx = pw->ctx;
	h->evidence_num(ctx, KV_ROUND, "battles_read", (double)pw->t.read);
	h->evidence_num(ctx, KV_ROUND, "ballots_counted",
			(double)(pw->t.read - pw->t.dup - pw->t.not_anon - pw->t.unknown));
	h->evidence_num(ctx, KV_ROUND, "excluded_duplicate", (double)pw->t.dup);
	h->evidence_num(ctx, KV_ROUND, "excluded_not_anonymous", (double)pw->t.not_anon);
	if (pw->t.ignore_unknown)
		h->evidence_num(ctx, KV_ROUND, "excluded_unknown_model", (double)pw->t.unknown);
	h->evidence_num(ctx, KV_ROUND, "without_question_id", (double)pw->t.no_question);
	h->evidence_num(ctx, KV_ROUND, "judges", (double)pw->t.judge_count);
	h->evidence_num(ctx, KV_ROUND, "judge_classes", (double)pw->judges.count);
	h->evidence_str(ctx, KV_ROUND, "ballot_key", "(judge, question_id, unordered pair); the first in "
			"file order counts; set kept as keyed SipHash-1-3 128-bit fingerprints");
	h->evidence_str(ctx, KV_ROUND, "estimator", "Bradley-Terry MLE, a tie = half a win each way");
	if (pw->prior > 0)
		h->evidence_num(ctx, KV_ROUND, "prior_ties", pw->prior);
	h->evidence_str(ctx, KV_ROUND, "convergence", "%s", VOTES_BT_RULE);
	h->evidence_num(ctx, KV_ROUND, "iterations", (double)iterations);
	h->evidence_str(ctx, KV_ROUND, "elo_scale", "1000 + 400*log10(strength/geometric mean); "
			"log by + - * / only (lib/detmath), the same on every machine");
	if (pw->ref < pw->teams)
		h->evidence_str(ctx, KV_ROUND, "reference_team", "%s", h->team_id(ctx, pw->ref));
	else if (pw->ref < pw->k)
		h->evidence_str(ctx, KV_ROUND, "reference_model", "%s", pw->names[pw->ref].s);
}

/* The anchors' strength and Elo, in the round's evidence. */
static void anchor_evidence(struct pw *pw, const double *g, const double *elo)
{
	for (size_t i = pw->teams; i < pw->k; i++) {
		char key[300];
		snprintf(key, sizeof key, "anchor %s elo", pw->names[i].s);
		pw->h->evidence_num(pw->ctx, KV_ROUND, key, elo[i]);
		snprintf(key, sizeof key, "anchor %s strength", pw->names[i].s);
		pw->h->evidence_num(pw->ctx, KV_ROUND, key, g[i]);
	}
}

/* The doubled win table (2 per win, 1 per tie each way, plus the prior). */
static void win_table(const struct pw *pw, double *w)
{
	size_t k = pw->k;
	for (size_t i = 0; i < k; i++) /* exact: integer sums far below 2^53 */
		for (size_t j = i + 1; j < k; j++) {
			double tie = (double)pw->t.ties[i * k + j];
			w[i * k + j] = 2 * (double)pw->t.wins[i * k + j] + tie + pw->prior;
			w[j * k + i] = 2 * (double)pw->t.wins[j * k + i] + tie + pw->prior;
		}
}

static int publish(struct pw *pw, const double *g, long iterations)
{
	size_t k = pw->k;
	double *wr = malloc(2 * k * sizeof *wr), *elo = wr + k;
	uint64_t *judges = calloc(k, sizeof *judges);
	if (!wr || !judges) {
		free(wr);
		free(judges);
		return votes_pw_nomem(pw, "the estimate's evidence");
	}
	votes_bt_winrate(g, k, pw->ref, wr);
	votes_bt_elo(g, k, elo);
	judges_per_model(&pw->judges, k, judges);
	for (size_t i = 0; i < pw->teams; i++) {
		pw->h->set_value(pw->ctx, i, wr[i], pw->ref < k ? "predicted win probability against the reference"
								: "mean predicted win probability");
		pw->h->set_normalized(pw->ctx, i, wr[i]);
		team_evidence(pw, i, g[i], elo[i], judges[i]);
	}
	round_evidence(pw, iterations);
	anchor_evidence(pw, g, elo);
	votes_matrix_evidence(pw);
	free(wr);
	free(judges);
	return KV_OK;
}

struct top_judges {
	struct pw *pw;
	int failed;
};

static int keep_top_judges(void *arg, const uint32_t *codes, const size_t *off)
{
	struct top_judges *top = arg;
	top->failed = votes_keep_top_judges(top->pw->keep, &top->pw->t, codes, off, top->pw->k) != 0;
	return top->failed ? -1 : 0;
}

/* The judge classes; for kaieval robustness, the judges with the most
 * ballots are kept from the same ballots grouped by judge. */
static int judge_classes(struct pw *pw)
{
	struct top_judges top = {.pw = pw};
	int rc = votes_classes_of_judges(pw->t.lists, VOTES_DEDUP_THREADS, pw->t.judge_count,
					 pw->keep ? keep_top_judges : NULL, &top, &pw->judges);
	if (top.failed)
		return votes_pw_nomem(pw, "the ballots of the judges with the most");
	return rc ? votes_pw_nomem(pw, "the judge classes") : KV_OK;
}

static int estimate(struct pw *pw)
{
	size_t k = pw->k, kk = k * k;
	double *w = calloc(kk + k, sizeof *w);
	if (!w)
		return votes_pw_nomem(pw, "the win table");
	double *g = w + kk;
	win_table(pw, w);
	int rc = check_data(pw, w);
	long iterations = rc == KV_OK ? votes_bt_fit(w, k, g) : 0;
	if (rc == KV_OK && iterations < 0)
		rc = iterations == VOTES_BT_NOMEM ? votes_pw_nomem(pw, "the fit's scratch")
		   : pw->h->error(pw->ctx, "%s: the Bradley-Terry fit did not converge (%s)", pw->path, VOTES_BT_RULE);
	if (rc == KV_OK)
		rc = judge_classes(pw);
	struct sandwich s = {0};
	struct votes_boot B = {0};
	if (rc == KV_OK)
		rc = sandwich_start(pw, g, &s);
	if (rc == KV_OK)
		rc = publish(pw, g, iterations);
	if (rc == KV_OK)
		rc = bootstrap_run(pw, w, g, &B);
	if (rc == KV_OK)
		rc = sandwich_evidence(pw, &s, g);
	sandwich_wait(&s);
	free(s.var);
	if (rc == KV_OK)
		rc = bootstrap_evidence(pw, &B);
	bootstrap_free(&B);
	if (rc == KV_OK && pw->keep &&
	    votes_keep_pairwise(pw->keep, &pw->judges, w, g, k, pw->teams, pw->ref, pw->prior))
		rc = votes_pw_nomem(pw, "the estimate kept for resampling");
	free(w);
	return rc;
}

int votes_pairwise(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_common *c)
{
	struct pw pw = {.h = h, .ctx = ctx, .keep = c->keep};
	struct kv_rng key;
	int rc = votes_pw_params(&pw, c);
	if (rc == KV_OK) {
		h->rng_stream(ctx, "ballot-fingerprint", 0, &key);
		pw.t.dedup_key[0] = kv_rng_next(&key);
		pw.t.dedup_key[1] = kv_rng_next(&key);
		rc = votes_ingest(h, ctx, pw.path, &pw.t);
		if (rc == KV_ERR_INTERNAL) /* ingest fails so only out of memory */
			rc = votes_pw_nomem(&pw, "the ballots while reading the battles (read-ahead blocks, ballot "
					    "fingerprints at 24 bytes, ballot lists at 8 bytes per ballot, judge ids)");
	}
	if (rc == KV_OK)
		rc = estimate(&pw);
	votes_tally_free(&pw.t);
	votes_classes_free(&pw.judges);
	votes_classes_free(&pw.outcomes);
	free(pw.names);
	return rc;
}

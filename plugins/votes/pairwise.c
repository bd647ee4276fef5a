/* votes, method pairwise: Chatbot Arena battles -> Bradley-Terry.
 *
 * One pass over the file keeps the counted ballots (8 bytes each, for the
 * judge bootstrap) and the ballot fingerprints that enforce one ballot per
 * (judge, question, pair).  The point estimate fits the summed table of
 * doubled wins (2 per win, 1 per tie each way); the bootstrap (boot.c)
 * draws over classes of exchangeable judges (classes.c), or over the
 * distinct outcomes with bootstrap_unit = battle. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

struct pw {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *path;
	size_t k, ref;        /* ref = k: against every other team */
	struct votes_team_name *names;
	long long bootstrap;
	int by_battle;        /* bootstrap_unit = battle */
	struct votes_tally t;
	struct votes_classes classes;
};

/* --- params --------------------------------------------------------------- */

/* Team i plays under models.<team id>, or under its id. */
static int read_models(struct pw *pw)
{
	const struct kv_host *h = pw->h;
	const struct kv_value *models = h->param(pw->ctx, "models");
	for (size_t i = 0; i < pw->k; i++)
		pw->names[i].s = h->team_id(pw->ctx, i);
	for (size_t m = 0; m < h->value_count(models); m++) {
		const struct kv_value *v = h->value_at(models, m);
		long t = h->team_index(pw->ctx, h->value_name(v));
		if (t < 0)
			return h->value_error(pw->ctx, v, "no team '%s' in this round", h->value_name(v));
		if (!h->value_string(v) || !*h->value_string(v))
			return h->value_error(pw->ctx, v, "must be a non-empty string (the model name in the battle file)");
		pw->names[t].s = h->value_string(v);
	}
	for (size_t i = 0; i < pw->k; i++) {
		votes_name_init(&pw->names[i], pw->names[i].s);
		for (size_t j = 0; j < i; j++)
			if (strcmp(pw->names[i].s, pw->names[j].s) == 0)
				return h->value_error(pw->ctx, models, "teams '%s' and '%s' both play model '%s'",
						      h->team_id(pw->ctx, j), h->team_id(pw->ctx, i), pw->names[i].s);
	}
	return KV_OK;
}

static int read_params(struct pw *pw, const struct votes_common *c)
{
	const struct kv_host *h = pw->h;
	struct kv_ctx *ctx = pw->ctx;
	const struct kv_value *ref = h->param(ctx, "reference_team");
	pw->path = h->value_string(h->param(ctx, "battles"));
	pw->k = h->team_count(ctx);
	pw->bootstrap = c->bootstrap;
	const char *unit = h->value_string(h->param(ctx, "bootstrap_unit"));
	pw->by_battle = unit && strcmp(unit, "battle") == 0;
	pw->t.keep_ballots = pw->bootstrap > 0 && !pw->by_battle;
	if (!pw->path)
		return h->error(ctx, "method pairwise needs param 'battles'");
	if (pw->k < 2 || pw->k > VOTES_MAX_TEAMS)
		return h->error(ctx, "method pairwise needs between 2 and %d teams, not %zu", VOTES_MAX_TEAMS, pw->k);
	h->value_bool(h->param(ctx, "anonymous_only"), &pw->t.anonymous_only);
	h->value_bool(h->param(ctx, "require_question_id"), &pw->t.require_question);
	pw->ref = pw->k;
	if (ref) {
		long t = h->team_index(ctx, h->value_string(ref));
		if (t < 0)
			return h->value_error(ctx, ref, "no team '%s' in this round", h->value_string(ref));
		pw->ref = (size_t)t;
	}
	pw->names = calloc(pw->k, sizeof *pw->names);
	if (!pw->names)
		return KV_ERR_INTERNAL;
	pw->t.k = pw->k;
	pw->t.names = pw->names;
	return read_models(pw);
}

/* Every team needs ballots, and the wins must tie all teams together. */
static int check_data(struct pw *pw, const double *w)
{
	size_t k = pw->k, from, to;
	for (size_t i = 0; i < k; i++) {
		double games = 0;
		for (size_t j = 0; j < k; j++)
			games += w[i * k + j] + w[j * k + i];
		if (games == 0)
			return pw->h->error(pw->ctx, "%s: no usable votes for team '%s' (model '%s')", pw->path,
					    pw->h->team_id(pw->ctx, i), pw->names[i].s);
	}
	if (votes_bt_unreachable(w, k, &from, &to))
		return pw->h->error(pw->ctx, "%s: the Bradley-Terry estimate does not exist: no chain of wins "
				    "(a tie counts both ways) leads from team '%s' to team '%s' (Hunter 2004, "
				    "assumption 1)", pw->path, pw->h->team_id(pw->ctx, from),
				    pw->h->team_id(pw->ctx, to));
	return KV_OK;
}

/* --- the bootstrap ------------------------------------------------------------ */

/* The 2.5% and 97.5% points of column i over the usable replicates. */
static void interval(const double *by_round, const unsigned char *ok, size_t rounds, size_t k,
		     size_t i, double *col, double out[2])
{
	size_t n = 0;
	for (size_t r = 0; r < rounds; r++)
		if (ok[r])
			col[n++] = by_round[r * k + i];
	out[0] = votes_quantile(col, n, 0.025);
	out[1] = votes_quantile(col, n, 0.975);
}

static void boot_evidence(struct pw *pw, const struct votes_boot *B, size_t rounds, size_t usable)
{
	const struct kv_host *h = pw->h;
	size_t k = pw->k;
	double *col = malloc(rounds * sizeof *col), *elo = malloc(2 * k * sizeof *elo), ni[2];
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_rounds", (double)rounds);
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_undetermined", (double)(rounds - usable));
	h->evidence_str(pw->ctx, KV_ROUND, "bootstrap_unit", "%s", pw->by_battle
			? "battle (a multinomial draw over the distinct outcomes, as Chatbot Arena)"
			: "judge (all ballots of a drawn judge)");
	h->evidence_num(pw->ctx, KV_ROUND, "bootstrap_classes", (double)pw->classes.count);
	h->evidence_str(pw->ctx, KV_ROUND, "percentile", "%s", VOTES_PERCENTILE_RULE);
	if (!col || !elo || usable == 0) {
		free(col);
		free(elo);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		interval(B->elo, B->ok, rounds, k, i, col, &elo[2 * i]);
		interval(B->norm, B->ok, rounds, k, i, col, ni);
		h->evidence_num(pw->ctx, i, "elo_q025", elo[2 * i]);
		h->evidence_num(pw->ctx, i, "elo_q975", elo[2 * i + 1]);
		h->evidence_num(pw->ctx, i, "normalized_q025", ni[0]);
		h->evidence_num(pw->ctx, i, "normalized_q975", ni[1]);
	}
	for (size_t i = 0; i < k; i++) { /* Chatbot Arena's rule: 1 + teams surely better */
		size_t better = 0;
		for (size_t j = 0; j < k; j++)
			better += elo[2 * j] > elo[2 * i + 1];
		h->evidence_num(pw->ctx, i, "ci_rank", (double)(1 + better));
	}
	free(col);
	free(elo);
}

static int bootstrap(struct pw *pw, const double *g)
{
	size_t rounds = (size_t)pw->bootstrap, usable = 0, k = pw->k;
	struct votes_boot B = {.k = k, .ref = pw->ref, .rounds = rounds, .C = &pw->classes, .g0 = g};
	if (rounds == 0)
		return KV_OK;
	int rc = pw->by_battle ? votes_classes_of_ballots(pw->t.wins, pw->t.ties, k, &pw->classes)
			       : votes_classes_of_judges(pw->t.lists, VOTES_DEDUP_THREADS, pw->t.judges.count, &pw->classes);
	B.streams = calloc(rounds, sizeof *B.streams);
	B.elo = calloc(rounds * k, sizeof *B.elo);
	B.norm = calloc(rounds * k, sizeof *B.norm);
	B.ok = calloc(rounds, 1);
	if (rc == 0 && B.streams && B.elo && B.norm && B.ok) {
		for (size_t r = 0; r < rounds; r++)
			pw->h->rng_stream(pw->ctx, "bootstrap", r, &B.streams[r]);
		rc = votes_boot_run(&B);
	} else {
		rc = -1;
	}
	for (size_t r = 0; rc == 0 && r < rounds; r++)
		usable += B.ok[r];
	if (rc == 0)
		boot_evidence(pw, &B, rounds, usable);
	free(B.streams);
	free(B.elo);
	free(B.norm);
	free(B.ok);
	return rc == 0 ? KV_OK : KV_ERR_INTERNAL;
}

/* --- the estimate ---------------------------------------------------------------- */

static void team_evidence(struct pw *pw, size_t i, double g, double elo)
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
	pw->h->evidence_num(pw->ctx, i, "strength", g);
	pw->h->evidence_num(pw->ctx, i, "elo", elo);
}

static void round_evidence(struct pw *pw, long iterations)
{
	const struct kv_host *h = pw->h;
	struct kv_ctx *ctx = pw->ctx;
	h->evidence_num(ctx, KV_ROUND, "battles_read", (double)pw->t.read);
	h->evidence_num(ctx, KV_ROUND, "ballots_counted",
			(double)(pw->t.read - pw->t.dup - pw->t.not_anon));
	h->evidence_num(ctx, KV_ROUND, "excluded_duplicate", (double)pw->t.dup);
	h->evidence_num(ctx, KV_ROUND, "excluded_not_anonymous", (double)pw->t.not_anon);
	h->evidence_num(ctx, KV_ROUND, "without_question_id", (double)pw->t.no_question);
	h->evidence_num(ctx, KV_ROUND, "judges", (double)pw->t.judges.count);
	h->evidence_str(ctx, KV_ROUND, "ballot_key", "(judge, question_id, unordered pair); the first in "
			"file order counts; set kept as keyed SipHash-1-3 128-bit fingerprints");
	h->evidence_str(ctx, KV_ROUND, "estimator", "Bradley-Terry MLE, a tie = half a win each way");
	h->evidence_str(ctx, KV_ROUND, "convergence", "%s", VOTES_BT_RULE);
	h->evidence_num(ctx, KV_ROUND, "iterations", (double)iterations);
	h->evidence_str(ctx, KV_ROUND, "elo_scale", "1000 + 400*log10(strength/geometric mean); "
			"uses libm log, so evidence only");
	if (pw->ref < pw->k)
		h->evidence_str(ctx, KV_ROUND, "reference_team", "%s", h->team_id(ctx, pw->ref));
}

static int estimate(struct pw *pw)
{
	size_t k = pw->k, kk = k * k;
	double *w = calloc(kk + 3 * k, sizeof *w);
	if (!w)
		return KV_ERR_INTERNAL;
	double *g = w + kk, *wr = g + k, *elo = wr + k;
	for (size_t i = 0; i < k; i++) /* exact: integer sums far below 2^53 */
		for (size_t j = i + 1; j < k; j++) {
			double tie = (double)pw->t.ties[i * k + j];
			w[i * k + j] = 2 * (double)pw->t.wins[i * k + j] + tie;
			w[j * k + i] = 2 * (double)pw->t.wins[j * k + i] + tie;
		}
	int rc = check_data(pw, w);
	long iterations = rc == KV_OK ? votes_bt_fit(w, k, g) : 0;
	if (rc == KV_OK && iterations < 0)
		rc = iterations == VOTES_BT_NOMEM ? KV_ERR_INTERNAL
		   : pw->h->error(pw->ctx, "%s: the Bradley-Terry fit did not converge (%s)", pw->path, VOTES_BT_RULE);
	if (rc == KV_OK) {
		votes_bt_winrate(g, k, pw->ref, wr);
		votes_bt_elo(g, k, elo);
		for (size_t i = 0; i < k; i++) {
			pw->h->set_value(pw->ctx, i, wr[i], pw->ref < k ? "predicted win probability against the reference"
										: "mean predicted win probability");
			pw->h->set_normalized(pw->ctx, i, wr[i]);
			team_evidence(pw, i, g[i], elo[i]);
		}
		round_evidence(pw, iterations);
		rc = bootstrap(pw, g);
	}
	free(w);
	return rc;
}

int votes_pairwise(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_common *c)
{
	struct pw pw = {.h = h, .ctx = ctx};
	struct kv_rng key;
	int rc = read_params(&pw, c);
	if (rc == KV_OK) {
		h->rng_stream(ctx, "ballot-fingerprint", 0, &key);
		pw.t.dedup_key[0] = kv_rng_next(&key);
		pw.t.dedup_key[1] = kv_rng_next(&key);
		rc = votes_ingest(h, ctx, pw.path, &pw.t);
	}
	if (rc == KV_OK)
		rc = estimate(&pw);
	votes_tally_free(&pw.t);
	votes_classes_free(&pw.classes);
	free(pw.names);
	return rc;
}

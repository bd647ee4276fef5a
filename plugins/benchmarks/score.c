/* benchmarks: runs per (team, benchmark), ratios, outcomes and evidence.
 *
 * Arithmetic is + - * / and sqrt only, summed in a fixed order: runs by run
 * id, benchmarks in list order (or bytewise order of their names). */
#include "benchmarks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rounding slack when comparing with verify_tolerance: a decimal difference
 * that equals the tolerance on paper passes. */
#define BM_TOLERANCE_SLACK 1e-9

static int cmp_obs(const void *x, const void *y)
{
	const struct bm_obs *a = x, *b = y;
	if (a->team != b->team)
		return a->team < b->team ? -1 : 1;
	if (a->bench != b->bench)
		return a->bench < b->bench ? -1 : 1;
	int c = strcmp(a->run, b->run);
	if (c == 0)
		c = strcmp(a->file, b->file);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

static void where(const struct bm_obs *o, char *buf, size_t len)
{
	if (o->line > 0)
		snprintf(buf, len, "%s:%ld", o->file, o->line);
	else
		snprintf(buf, len, "%s", o->file);
}

static int duplicate_run(struct bm *b, const struct bm_obs *first, const struct bm_obs *second)
{
	char at[1024];
	where(first, at, sizeof at);
	return b->h->error(b->ctx, "%s:%ld: column 'run': second score for team '%s', benchmark '%s', "
			   "run '%s' (first at %s)", second->file, second->line,
			   b->h->team_id(b->ctx, second->team), second->bench_name, second->run, at);
}

/* Give each scored cell its runs (obs sorted by team, benchmark, run). */
static int assign_runs(struct bm *b)
{
	for (size_t i = 0; i < b->nobs;) {
		size_t j = i + 1;
		while (j < b->nobs && b->obs[j].team == b->obs[i].team && b->obs[j].bench == b->obs[i].bench)
			j++;
		struct bm_cell *c = b->obs[i].bench >= 0 ? bm_cell(b, b->obs[i].team, (size_t)b->obs[i].bench) : NULL;
		if (c && c->scored) {
			for (size_t k = i + 1; k < j; k++)
				if (strcmp(b->obs[k].run, b->obs[k - 1].run) == 0)
					return duplicate_run(b, &b->obs[k - 1], &b->obs[k]);
			c->first = i;
			c->nruns = j - i;
		}
		i = j;
	}
	return 0;
}

static void mean_sd(struct bm *b, struct bm_cell *c)
{
	double sum = 0, dev = 0;
	for (size_t k = 0; k < c->nruns; k++)
		sum += b->obs[c->first + k].score;
	c->mean = sum / (double)c->nruns;
	for (size_t k = 0; k < c->nruns; k++) {
		double d = b->obs[c->first + k].score - c->mean;
		dev += d * d;
	}
	c->sd = c->nruns > 1 ? sqrt(dev / (double)(c->nruns - 1)) : 0;
}

static void mark_scored(struct bm *b)
{
	if (b->norm != BM_TARGET) {
		for (size_t i = 0; i < b->nteams * b->nbench; i++)
			b->cells[i].scored = 1;
		return;
	}
	for (size_t i = 0; i < b->ntargets; i++) {
		const struct bm_target *t = &b->targets[i];
		struct bm_cell *c = bm_cell(b, t->team, (size_t)bm_bench_index(b, t->bench_name));
		c->scored = 1;
		c->target = t->score;
		c->target_model = t->model;
	}
}

int bm_build_cells(struct bm *b)
{
	size_t n = b->nteams * b->nbench;
	b->cells = calloc(n > 0 ? n : 1, sizeof *b->cells);
	if (!b->cells)
		return bm_oom(b);
	mark_scored(b);
	qsort(b->obs, b->nobs, sizeof *b->obs, cmp_obs);
	int rc = assign_runs(b);
	for (size_t t = 0; !rc && t < b->nteams; t++)
		for (size_t i = 0; !rc && i < b->nbench; i++) {
			struct bm_cell *c = bm_cell(b, t, i);
			if (c->scored && c->nruns == 0)
				rc = b->h->error(b->ctx, "%s: team '%s' has no score for benchmark '%s'",
						 b->scores, b->h->team_id(b->ctx, t), b->benches[i].name);
			else if (c->scored)
				mean_sd(b, c);
		}
	return rc;
}

/* --- ratios -------------------------------------------------------------- */

/* normalize = best: the best team mean per benchmark, kept in bench.ref. */
static int find_best(struct bm *b)
{
	for (size_t i = 0; i < b->nbench; i++) {
		struct bm_bench *x = &b->benches[i];
		int any = 0;
		for (size_t t = 0; t < b->nteams; t++) {
			double m = bm_cell(b, t, i)->mean;
			if (!any || (x->higher ? m > x->ref : m < x->ref))
				x->ref = m;
			any = 1;
		}
		if (x->higher && !(x->ref > 0))
			return b->h->error(b->ctx, "%s: every team scores 0 on benchmark '%s': "
					   "normalize = \"best\" has nothing to divide by", b->scores, x->name);
	}
	return 0;
}

/* Ratio of a mean to a denominator; lower-is-better inverts it.  A perfect
 * lower-is-better score of 0 has an unbounded ratio, which the cap then limits. */
static double ratio_to(double mean, double denom, int higher)
{
	if (higher)
		return mean / denom;
	return mean > 0 ? denom / mean : INFINITY;
}

static double ratio_of(const struct bm *b, const struct bm_bench *x, const struct bm_cell *c)
{
	switch (b->norm) {
	case BM_TARGET:
		return ratio_to(c->mean, c->target, x->higher);
	case BM_REFERENCE:
		if (x->higher)
			return (c->mean - x->baseline) / (x->ref - x->baseline);
		return ratio_to(c->mean, x->ref, 0);
	case BM_BEST:
		if (!x->higher && x->ref == 0)
			return c->mean == 0 ? 1 : 0; /* the best is a perfect 0 */
		return ratio_to(c->mean, x->ref, x->higher);
	default:
		return c->mean / b->scale_max;
	}
}

static double clip(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* --- evidence ------------------------------------------------------------ */

static void ev_num(struct bm *b, size_t team, const char *bench, const char *key, double x)
{
	char k[512];
	snprintf(k, sizeof k, "%s.%s", bench, key);
	b->h->evidence_num(b->ctx, team, k, x);
}

static void ev_str(struct bm *b, size_t team, const char *bench, const char *key, const char *s)
{
	char k[512];
	snprintf(k, sizeof k, "%s.%s", bench, key);
	b->h->evidence_str(b->ctx, team, k, "%s", s);
}

/* lm-eval only: the smallest sample count, --limit runs, the task version. */
static void lmeval_evidence(struct bm *b, size_t team, const struct bm_bench *x, const struct bm_cell *c)
{
	long n_min = -1;
	int limited = 0;
	const char *version = b->obs[c->first].version;
	for (size_t k = 0; k < c->nruns; k++) {
		const struct bm_obs *o = &b->obs[c->first + k];
		if (o->n_eff >= 0 && (n_min < 0 || o->n_eff < n_min))
			n_min = o->n_eff;
		limited |= o->n_eff >= 0 && o->n_orig >= 0 && o->n_eff < o->n_orig;
		if (version && o->version && strcmp(version, o->version) != 0)
			b->h->warn(b->ctx, "%s: task '%s' version %s differs from %s in %s", o->file, x->task,
				   o->version, version, b->obs[c->first].file);
	}
	if (n_min >= 0)
		ev_num(b, team, x->name, "n_samples", (double)n_min);
	if (limited) {
		ev_num(b, team, x->name, "limited", 1);
		b->h->warn(b->ctx, "team '%s', benchmark '%s': a run used fewer samples than the task has "
			   "(--limit)", b->h->team_id(b->ctx, team), x->name);
	}
	if (version)
		ev_str(b, team, x->name, "version", version);
}

static void denominator_evidence(struct bm *b, size_t team, const struct bm_bench *x,
				 const struct bm_cell *c)
{
	switch (b->norm) {
	case BM_TARGET:
		ev_num(b, team, x->name, "target", c->target);
		ev_str(b, team, x->name, "target_model", c->target_model);
		break;
	case BM_REFERENCE:
		ev_num(b, team, x->name, "reference", x->ref);
		ev_num(b, team, x->name, "baseline", x->baseline);
		break;
	case BM_BEST:
		ev_num(b, team, x->name, "best", x->ref);
		break;
	default:
		ev_num(b, team, x->name, "scale_max", b->scale_max);
	}
}

/* Compare the verifier's mean with the team's; 1 when outside the tolerance. */
static int verify_cell(struct bm *b, size_t team, const struct bm_bench *x, const struct bm_cell *c,
		       int *failed)
{
	double v = c->verify_sum / (double)c->verify_n;
	double diff = fabs(v - c->mean);
	int ok = diff <= b->tolerance * (1 + BM_TOLERANCE_SLACK);
	ev_num(b, team, x->name, "verify_runs", (double)c->verify_n);
	ev_num(b, team, x->name, "verify_mean", v);
	ev_num(b, team, x->name, "verify_diff", diff);
	ev_str(b, team, x->name, "verify", ok ? "pass" : "fail");
	*failed += !ok;
	if (!ok && b->verify_fatal)
		return b->h->error(b->ctx, "%s:%ld: column 'score': team '%s', benchmark '%s': the verifier's "
				   "mean %g differs from the team's mean %g by %g, more than verify_tolerance %g",
				   b->verify_path, c->verify_line, b->h->team_id(b->ctx, team), x->name, v,
				   c->mean, diff, b->tolerance);
	return 0;
}

static void cell_evidence(struct bm *b, size_t team, const struct bm_bench *x, struct bm_cell *c)
{
	ev_num(b, team, x->name, "runs", (double)c->nruns);
	ev_num(b, team, x->name, "mean", c->mean);
	ev_num(b, team, x->name, "sd", c->sd);
	lmeval_evidence(b, team, x, c);
	denominator_evidence(b, team, x, c);
	if (isfinite(c->ratio))
		ev_num(b, team, x->name, "ratio", c->ratio);
	else
		ev_str(b, team, x->name, "ratio", "inf");
	ev_num(b, team, x->name, "ratio_capped", c->capped);
	ev_num(b, team, x->name, "weight", x->weight);
}

/* --- one team -------------------------------------------------------------- */

struct team_sums {
	double weighted, weights;
	int count, met, verify_failed;
};

static const char *unit_of(enum bm_normalize n)
{
	static const char *const units[] = {"share of scale_max", "ratio to target",
					    "ratio to reference", "ratio to best team"};
	return units[n];
}

static int score_team(struct bm *b, size_t team)
{
	struct team_sums s = {0};
	for (size_t i = 0; i < b->nbench; i++) {
		const struct bm_bench *x = &b->benches[i];
		struct bm_cell *c = bm_cell(b, team, i);
		if (!c->scored)
			continue;
		c->ratio = ratio_of(b, x, c);
		c->capped = clip(c->ratio, 0, b->cap);
		cell_evidence(b, team, x, c);
		if (c->verify_n && verify_cell(b, team, x, c, &s.verify_failed))
			return KV_ERR_INPUT;
		s.weighted += x->weight * c->capped;
		s.weights += x->weight;
		s.count++;
		s.met += c->ratio >= b->target_share;
	}
	if (!(s.weights > 0))
		return b->h->error(b->ctx, "team '%s': the weights of its benchmarks sum to 0",
				   b->h->team_id(b->ctx, team));
	double value = s.weighted / s.weights;
	b->h->set_value(b->ctx, team, value, unit_of(b->norm));
	b->h->set_normalized(b->ctx, team, clip(value, 0, 1));
	if (value > 1)
		b->h->evidence_num(b->ctx, team, "clipped_to_1", value);
	b->h->evidence_num(b->ctx, team, "benchmarks", s.count);
	b->h->evidence_num(b->ctx, team, "target_share.met", s.met);
	b->h->evidence_num(b->ctx, team, "target_share.share", (double)s.met / s.count);
	if (b->verify_path)
		b->h->evidence_num(b->ctx, team, "verify.failed", s.verify_failed);
	return 0;
}

static void round_evidence(struct bm *b)
{
	static const char *const names[] = {"scale", "target", "reference", "best"};
	b->h->evidence_str(b->ctx, KV_ROUND, "normalize", "%s", names[b->norm]);
	if (b->norm == BM_SCALE)
		b->h->evidence_num(b->ctx, KV_ROUND, "scale_max", b->scale_max);
	b->h->evidence_num(b->ctx, KV_ROUND, "cap", b->cap);
	b->h->evidence_num(b->ctx, KV_ROUND, "target_share", b->target_share);
	if (b->verify_path)
		b->h->evidence_num(b->ctx, KV_ROUND, "verify_tolerance", b->tolerance);
}

int bm_score(struct bm *b)
{
	int rc = b->norm == BM_BEST ? find_best(b) : 0;
	for (size_t t = 0; !rc && t < b->nteams; t++)
		rc = score_team(b, t);
	if (!rc)
		round_evidence(b);
	return rc;
}

/* --- resampling ---------------------------------------------------------- */

static void redraw_means(struct bm *b, struct kv_rng *rng)
{
	for (size_t i = 0; i < b->nteams * b->nbench; i++) {
		struct bm_cell *c = &b->cells[i];
		if (!c->scored || c->nruns < 2)
			continue;
		double sum = 0;
		for (size_t k = 0; k < c->nruns; k++)
			sum += b->obs[c->first + kv_rng_below(rng, c->nruns)].score;
		c->mean = sum / (double)c->nruns;
	}
}

/* normalize = best, on the redrawn means; a benchmark whose best is 0
 * keeps the round's own best (the round would have refused it). */
static void redraw_best(struct bm *b)
{
	for (size_t i = 0; b->norm == BM_BEST && i < b->nbench; i++) {
		struct bm_bench *x = &b->benches[i];
		double best = bm_cell(b, 0, i)->mean;
		for (size_t t = 1; t < b->nteams; t++) {
			double m = bm_cell(b, t, i)->mean;
			best = x->higher ? fmax(best, m) : fmin(best, m);
		}
		if (!x->higher || best > 0)
			x->ref = best;
	}
}

/* Set each team's outcome from the current means, leaving out benchmark
 * `skip` (nbench: none); a team with no weight left keeps its outcome. */
static void set_scores(struct bm *b, size_t skip)
{
	for (size_t t = 0; t < b->nteams; t++) {
		double weighted = 0, weights = 0;
		for (size_t i = 0; i < b->nbench; i++) {
			const struct bm_cell *c = bm_cell(b, t, i);
			if (!c->scored || i == skip)
				continue;
			weighted += b->benches[i].weight * clip(ratio_of(b, &b->benches[i], c), 0, b->cap);
			weights += b->benches[i].weight;
		}
		if (!(weights > 0))
			continue;
		double value = weighted / weights;
		b->h->set_value(b->ctx, t, value, unit_of(b->norm));
		b->h->set_normalized(b->ctx, t, clip(value, 0, 1));
	}
}

/* The state is left as evaluate left it: means and bests are put back. */
int bm_resample(struct bm *b, struct kv_rng *rng)
{
	size_t n = b->nteams * b->nbench;
	double *means = malloc((n + 1) * sizeof *means), *refs = malloc((b->nbench + 1) * sizeof *refs);
	if (!means || !refs) {
		free(means);
		free(refs);
		return b->h->error(b->ctx, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		means[i] = b->cells[i].mean;
	for (size_t i = 0; i < b->nbench; i++)
		refs[i] = b->benches[i].ref;
	redraw_means(b, rng);
	redraw_best(b);
	set_scores(b, b->nbench);
	for (size_t i = 0; i < n; i++)
		b->cells[i].mean = means[i];
	for (size_t i = 0; i < b->nbench; i++)
		b->benches[i].ref = refs[i];
	free(means);
	free(refs);
	return KV_OK;
}

void bm_score_without(struct bm *b, size_t skip)
{
	set_scores(b, skip);
}

/* kaieval robustness: how sure is each decision of a round, and what is the
 * smallest change that flips it.  The round is run once with each
 * resampling plugin's state kept open; then, per replicate, the plugins of
 * one source redraw their units (or the points are perturbed) and the
 * round's own combine ranks and selects again.  Replicates run in order on
 * one thread and every stream is derived from (seed, criterion, replicate),
 * so the output is the same bytes on every run. */
#include "robust.h"
#include "audit.h"
#include "cli.h"
#include "detmath.h"
#include "host.h"
#include "human.h"
#include "jsonw.h"
#include "lifecycle.h"
#include "output.h"
#include "result.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLICATES 10000000L
#define INTERVAL_LEVEL 0.95

/* The units a plugin may resample, in output order. */
static const char *const known_units[] = {"expert", "rater", "judge", "run"};
#define UNIT_COUNT (sizeof known_units / sizeof known_units[0])

enum weights_method { WEIGHTS_BOX, WEIGHTS_DIRICHLET };

struct options {
	const char *target, *output;
	long replicates;
	int unit_on[UNIT_COUNT];
	enum weights_method weights;
	double weights_param;        /* box: percent; dirichlet: concentration */
	int has_seed;
	long long seed;
	const char **scenarios;      /* --scenario texts, in order */
	size_t nscenarios;
};

/* Counts over replicates, per team. */
struct tally {
	long *rank_counts;           /* [team][rank 0..n]: rank 0 = gated */
	long *advance;
	long same_decision;          /* replicates where every decision stood */
	char *resampled;             /* criteria ids, ", "-joined (a source) */
	int held_fixed;              /* no criterion resamples this source */
};

/* One unit left out of one criterion, and the teams whose decision changed. */
struct dropped {
	size_t criterion;
	char *unit;
	size_t *changed;
	size_t nchanged;
};

/* Units left out of one criterion at most (the rest are not tried). */
#define MAX_LEAVE_OUT 1000

struct flip;

struct robust {
	struct options opt;
	const char *scenario;        /* the --scenario text, or NULL for the round as configured */
	char **sets;                 /* its KEY=VALUE assignments */
	size_t nsets;
	struct flip *flips;
	size_t nflips;
	struct dropped *loo;
	size_t nloo;
	struct kv_run *run;
	size_t n, k;                 /* teams, criteria */
	long *unit;                  /* [criterion]: index into known_units, or -1 */
	double *real_points;         /* [criterion] */
	double *real_norm, *real_value; /* [criterion][team] */
	int *real_advance;           /* [team] */
	long *real_rank;
	size_t *real_order;          /* the record's order of teams */
	double *total;               /* [team] real totals */
	struct tally by_unit[UNIT_COUNT], all, weights;
};

static int usage(const char *fmt, const char *arg)
{
	fputs("kaieval: robustness: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	return KV_EXIT_INPUT;
}

/* --- options ------------------------------------------------------------- */

static int parse_long(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = x;
	return 0;
}

static int parse_sources(struct options *o, const char *list)
{
	char *copy = kv_xstrdup(list), *save = NULL;
	int rc = 0, any = 0;
	memset(o->unit_on, 0, sizeof o->unit_on);
	for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		size_t u = 0;
		while (u < UNIT_COUNT && strcmp(tok, known_units[u]) != 0)
			u++;
		if (u == UNIT_COUNT)
			rc = usage("--sources: unknown source '%s' (expert, rater, judge or run)", tok);
		else
			o->unit_on[u] = any = 1;
	}
	if (!rc && !any)
		rc = usage("--sources: '%s' names no source", list);
	free(copy);
	return rc;
}

static int parse_weights(struct options *o, const char *s)
{
	char *end;
	const char *arg = strchr(s, ':');
	if (!arg)
		return usage("--weights: '%s' is not dirichlet:C or box:PCT", s);
	errno = 0;
	double x = strtod(arg + 1, &end);
	int bad = errno || end == arg + 1 || *end || !isfinite(x);
	if (strncmp(s, "dirichlet:", 10) == 0 && !bad && x > 0) {
		o->weights = WEIGHTS_DIRICHLET;
	} else if (strncmp(s, "box:", 4) == 0 && !bad && x > 0 && x <= 100) {
		o->weights = WEIGHTS_BOX;
	} else if (strncmp(s, "dirichlet:", 10) == 0) {
		return usage("--weights: the concentration in '%s' must be a number above 0", s);
	} else if (strncmp(s, "box:", 4) == 0) {
		return usage("--weights: the percent in '%s' must be a number in (0, 100]", s);
	} else {
		return usage("--weights: '%s' is not dirichlet:C or box:PCT", s);
	}
	o->weights_param = x;
	return 0;
}

static int parse_value_option(struct options *o, const char *name, const char *value)
{
	long long x;
	if (strcmp(name, "-o") == 0 || strcmp(name, "--output") == 0) {
		o->output = value;
	} else if (strcmp(name, "--replicates") == 0) {
		if (parse_long(value, &x) || x < 1 || x > MAX_REPLICATES)
			return usage("--replicates: '%s' is not a whole number from 1 to 10000000", value);
		o->replicates = (long)x;
	} else if (strcmp(name, "--sources") == 0) {
		return parse_sources(o, value);
	} else if (strcmp(name, "--weights") == 0) {
		return parse_weights(o, value);
	} else if (strcmp(name, "--scenario") == 0) {
		o->scenarios = kv_xrealloc(o->scenarios, (o->nscenarios + 1) * sizeof *o->scenarios);
		o->scenarios[o->nscenarios++] = value;
	} else if (strcmp(name, "--seed") == 0) {
		if (parse_long(value, &x))
			return usage("--seed: '%s' is not a whole number", value);
		o->seed = x;
		o->has_seed = 1;
	} else {
		return usage("unknown option '%s'", name);
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){.replicates = 1000, .weights = WEIGHTS_BOX, .weights_param = 10};
	for (size_t u = 0; u < UNIT_COUNT; u++)
		o->unit_on[u] = 1;
	for (int i = 1; i < argc; i++) {
		int rc;
		if (argv[i][0] == '-' && argv[i][1]) {
			if (i + 1 >= argc)
				return usage("%s needs a value", argv[i]);
			if ((rc = parse_value_option(o, argv[i], argv[i + 1])) != 0)
				return rc;
			i++;
		} else if (!o->target) {
			o->target = argv[i];
		} else {
			return usage("unexpected argument '%s'", argv[i]);
		}
	}
	if (!o->target)
		return usage("%s", "missing ROUND.cfg or ARCHIVE_DIR");
	return 0;
}

/* --- the round ------------------------------------------------------------ */

/* The scenario's assignments, split at blanks. */
static void split_scenario(struct robust *r)
{
	char *copy = kv_xstrdup(r->scenario), *save = NULL;
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		r->sets = kv_xrealloc(r->sets, (r->nsets + 1) * sizeof *r->sets);
		r->sets[r->nsets++] = kv_xstrdup(tok);
	}
	free(copy);
}

/* An archive folder runs from its own config, data and plugins, as every
 * command that takes one does (kv_round_arg_open); a scenario's
 * assignments follow. */
static int load_run(struct robust *r, struct kv_error *err)
{
	struct kv_round_arg ra;
	int rc = kv_round_arg_open(r->opt.target, &ra, err);
	const char **overrides = kv_xcalloc(ra.override_count + r->nsets + 1, sizeof *overrides);
	size_t n = 0;
	for (size_t i = 0; i < ra.override_count; i++)
		overrides[n++] = ra.overrides[i];
	for (size_t i = 0; i < r->nsets; i++)
		overrides[n++] = r->sets[i];
	if (rc == 0)
		rc = kv_run_round_kept(ra.config, overrides, n, &r->run, err);
	free(overrides);
	kv_round_arg_close(&ra);
	return rc;
}

static int is_score(const struct robust *r, size_t c)
{
	return r->run->round->criteria[c].kind == KV_KIND_SCORE;
}

/* The unit index criterion c resamples, or -1 (found once, by find_units). */
static long unit_of(const struct robust *r, size_t c)
{
	return r->unit[c];
}

static long unit_index(const char *name)
{
	for (size_t u = 0; name && u < UNIT_COUNT; u++)
		if (strcmp(name, known_units[u]) == 0)
			return (long)u;
	return -1;
}

/* Each kept score criterion's unit: the descriptor's, or, where the plugin
 * says per criterion (resample_unit_of), the one it names. */
static int find_units(struct robust *r, struct kv_error *err)
{
	r->unit = kv_xcalloc(r->k + 1, sizeof *r->unit);
	for (size_t c = 0; c < r->k; c++) {
		const struct kv_plugin *p = r->run->results[c].plugin.desc;
		const char *name = p->resample_unit;
		r->unit[c] = -1;
		if (!is_score(r, c) || !r->run->kept || !r->run->kept[c])
			continue;
		if (KV_PLUGIN_HAS(p, resample_unit_of) && p->resample_unit_of &&
		    p->resample_unit_of(r->run->kept[c], &name) != KV_OK)
			return kv_fail(err, KV_EXIT_INTERNAL, "criterion '%s': plugin %s failed to name its "
				       "resampling unit (plugin error)", r->run->round->criteria[c].id, p->name);
		r->unit[c] = unit_index(name);
		if (name && r->unit[c] < 0)
			return kv_fail(err, KV_EXIT_INTERNAL, "criterion '%s': plugin %s resamples unit '%s', "
				       "not expert, rater, judge or run (plugin error)",
				       r->run->round->criteria[c].id, p->name, name);
	}
	return 0;
}

static void save_real(struct robust *r)
{
	struct kv_run *run = r->run;
	r->n = run->round->team_count;
	r->k = run->round->criterion_count;
	r->real_points = kv_xcalloc(r->k, sizeof *r->real_points);
	r->real_norm = kv_xcalloc(r->k * r->n, sizeof *r->real_norm);
	r->real_value = kv_xcalloc(r->k * r->n, sizeof *r->real_value);
	r->real_advance = kv_xcalloc(r->n, sizeof *r->real_advance);
	r->real_rank = kv_xcalloc(r->n, sizeof *r->real_rank);
	r->total = kv_xcalloc(r->n, sizeof *r->total);
	r->real_order = kv_xcalloc(r->n, sizeof *r->real_order);
	memcpy(r->real_order, run->order, r->n * sizeof *r->real_order);
	for (size_t c = 0; c < r->k; c++) {
		r->real_points[c] = run->round->criteria[c].points;
		for (size_t t = 0; t < r->n; t++) {
			r->real_norm[c * r->n + t] = run->results[c].teams[t].normalized;
			r->real_value[c * r->n + t] = run->results[c].teams[t].value;
		}
	}
	for (size_t t = 0; t < r->n; t++) {
		r->real_advance[t] = run->standings[t].status == KV_ADVANCE;
		r->real_rank[t] = run->standings[t].rank;
		r->total[t] = run->standings[t].total;
	}
}

static void restore_real(struct robust *r)
{
	for (size_t c = 0; c < r->k; c++) {
		r->run->round->criteria[c].points = r->real_points[c];
		for (size_t t = 0; t < r->n; t++) {
			r->run->results[c].teams[t].normalized = r->real_norm[c * r->n + t];
			r->run->results[c].teams[t].value = r->real_value[c * r->n + t];
		}
	}
}

/* Rank and select again by the round's own rules.  A tie at the boundary
 * keeps both teams here (a replicate cannot stop the analysis). */
static void recombine(struct kv_run *run)
{
	for (size_t t = 0; t < run->round->team_count; t++)
		kv_standing_free(&run->standings[t]);
	free(run->standings);
	free(run->order);
	struct kv_error ignored = {0};
	int keep = run->round->selection.keep_ties;
	run->round->selection.keep_ties = 1;
	kv_combine(run, &ignored);
	run->round->selection.keep_ties = keep;
}

static void tally_init(struct tally *ty, size_t n)
{
	ty->rank_counts = kv_xcalloc(n * (n + 1), sizeof *ty->rank_counts);
	ty->advance = kv_xcalloc(n, sizeof *ty->advance);
}

static void tally_add(struct robust *r, struct tally *ty)
{
	int same = 1;
	for (size_t t = 0; t < r->n; t++) {
		const struct kv_standing *s = &r->run->standings[t];
		int adv = s->status == KV_ADVANCE;
		ty->rank_counts[t * (r->n + 1) + (size_t)s->rank]++;
		ty->advance[t] += adv;
		same &= adv == r->real_advance[t];
	}
	ty->same_decision += same;
}

/* --- resampling and weights ----------------------------------------------- */

/* Replicates of the criteria whose unit is on in `mask`. */
static int resample_source(struct robust *r, const int *mask, struct tally *ty, struct kv_error *err)
{
	struct kv_buf ids = {0};
	for (size_t c = 0; c < r->k; c++)
		if (unit_of(r, c) >= 0 && mask[unit_of(r, c)])
			kv_buf_printf(&ids, "%s%s", ids.len ? ", " : "", r->run->round->criteria[c].id);
	tally_init(ty, r->n);
	ty->resampled = kv_xstrdup(ids.len ? ids.data : "");
	ty->held_fixed = ids.len == 0;
	kv_buf_free(&ids);
	for (long i = 0; i < r->opt.replicates; i++) {
		for (size_t c = 0; c < r->k; c++) {
			if (unit_of(r, c) < 0 || !mask[unit_of(r, c)])
				continue;
			int rc = kv_resample_criterion(r->run, c, (uint64_t)i, err);
			if (rc)
				return rc;
		}
		if (!ty->held_fixed)
			recombine(r->run);
		tally_add(r, ty);
		restore_real(r);
	}
	if (!ty->held_fixed)
		recombine(r->run); /* the real standings again */
	return 0;
}

/* Marsaglia's polar method: no trigonometry, and its one logarithm is
 * kv_det_log, so draws are the same bits everywhere (sqrt is exact IEEE). */
static double normal(struct kv_rng *g)
{
	for (;;) {
		double u = 2 * kv_rng_uniform(g) - 1, v = 2 * kv_rng_uniform(g) - 1;
		double s = u * u + v * v;
		if (s > 0 && s < 1)
			return u * sqrt(-2 * kv_det_log(s) / s);
	}
}

/* Marsaglia and Tsang's method; shape < 1 through shape + 1. */
static double gamma_draw(struct kv_rng *g, double shape)
{
	if (shape < 1)
		return gamma_draw(g, shape + 1) * kv_det_exp(kv_det_log(1 - kv_rng_uniform(g)) / shape);
	double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x = normal(g), v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = 1 - kv_rng_uniform(g);
		if (kv_det_log(u) < 0.5 * x * x + d - d * v + d * kv_det_log(v))
			return d * v;
	}
}

/* New points for replicate i: each criterion's share drawn (Dirichlet
 * around the shares, or a +-PCT box), then scaled to the same total. */
static void perturb_points(struct robust *r, long i)
{
	struct kv_rng g;
	kv_rng_derive((uint64_t)r->run->round->seed, "", "weights", (uint64_t)i, &g);
	double total = 0, drawn = 0;
	for (size_t c = 0; c < r->k; c++)
		total += is_score(r, c) ? r->real_points[c] : 0;
	for (size_t c = 0; c < r->k; c++) {
		double w = r->real_points[c], x = 0;
		if (is_score(r, c) && w > 0 && r->opt.weights == WEIGHTS_DIRICHLET)
			x = gamma_draw(&g, r->opt.weights_param * w / total);
		else if (is_score(r, c) && w > 0)
			x = w * (1 + r->opt.weights_param / 100 * (2 * kv_rng_uniform(&g) - 1));
		r->run->round->criteria[c].points = x;
		drawn += x;
	}
	for (size_t c = 0; c < r->k && drawn > 0; c++)
		r->run->round->criteria[c].points *= total / drawn;
}

static void perturb_weights(struct robust *r)
{
	tally_init(&r->weights, r->n);
	for (long i = 0; i < r->opt.replicates; i++) {
		perturb_points(r, i);
		recombine(r->run);
		tally_add(r, &r->weights);
		restore_real(r);
	}
}

static int analyse(struct robust *r, struct kv_error *err)
{
	int rc = 0;
	for (size_t u = 0; rc == 0 && u < UNIT_COUNT; u++) {
		int mask[UNIT_COUNT] = {0};
		mask[u] = 1;
		if (r->opt.unit_on[u])
			rc = resample_source(r, mask, &r->by_unit[u], err);
	}
	if (rc == 0)
		rc = resample_source(r, r->opt.unit_on, &r->all, err);
	if (rc == 0)
		perturb_weights(r);
	recombine(r->run); /* the real standings again */
	return rc;
}

/* --- exact analyses ------------------------------------------------------- */

static void note_dropped(struct robust *r, size_t c, const char *unit)
{
	struct dropped *d;
	r->loo = kv_xrealloc(r->loo, (r->nloo + 1) * sizeof *r->loo);
	d = &r->loo[r->nloo++];
	*d = (struct dropped){.criterion = c, .unit = kv_xstrdup(unit)};
	d->changed = kv_xcalloc(r->n, sizeof *d->changed);
	for (size_t i = 0; i < r->n; i++) {
		size_t t = r->real_order[i];
		if ((r->run->standings[t].status == KV_ADVANCE) != r->real_advance[t])
			d->changed[d->nchanged++] = t;
	}
}

/* Each unit of each score criterion whose plugin can leave one out,
 * dropped alone; the round recomputed each time. */
static int leave_one_out(struct robust *r, struct kv_error *err)
{
	for (size_t c = 0; c < r->k; c++) {
		for (size_t u = 0; unit_of(r, c) >= 0 && u < MAX_LEAVE_OUT; u++) {
			const char *unit;
			int rc = kv_leave_out_criterion(r->run, c, u, &unit, err);
			if (rc)
				return rc;
			if (!unit)
				break;
			recombine(r->run);
			note_dropped(r, c, unit);
			restore_real(r);
		}
	}
	recombine(r->run);
	return 0;
}

static int gated(const struct robust *r, size_t t)
{
	return r->run->standings[t].reason == KV_REASON_GATE;
}

/* Points to the score cut: an advancing team's lead over the best team
 * eliminated by the score, an eliminated team's gap (negative) to the
 * worst advancing one; NaN when the score eliminated nobody (or everyone). */
static double margin_of(const struct robust *r, size_t t)
{
	double best_out = -INFINITY, worst_in = INFINITY;
	for (size_t j = 0; j < r->n; j++) {
		if (gated(r, j))
			continue;
		if (r->real_advance[j])
			worst_in = fmin(worst_in, r->total[j]);
		else
			best_out = fmax(best_out, r->total[j]);
	}
	if (gated(r, t) || !isfinite(best_out) || !isfinite(worst_in))
		return NAN;
	return r->real_advance[t] ? r->total[t] - best_out : r->total[t] - worst_in;
}

struct flip {
	size_t team, against;
	int feasible, changes_decision;
	double l2, linf;
	double *points;              /* [score criterion]: the L2 flipping points */
};

static size_t score_criteria(const struct robust *r, size_t *idx)
{
	size_t m = 0;
	for (size_t c = 0; c < r->k; c++)
		if (is_score(r, c))
			idx[m++] = c;
	return m;
}

/* Recompute the round with the flipping points, pushed just past the tie
 * (by twice the tie precision), and say whether any decision changed. */
static int confirm(struct robust *r, const size_t *idx, size_t m, const double *points, double margin)
{
	double total = 0, sum = 0, push = 1;
	if (margin > 0)
		push += (2 * r->run->round->selection.tie_precision + 1e-6) / margin;
	for (size_t j = 0; j < m; j++) {
		double w = r->real_points[idx[j]];
		double x = fmax(0, w + push * (points[j] - w));
		r->run->round->criteria[idx[j]].points = x;
		total += w;
		sum += x;
	}
	for (size_t j = 0; j < m && sum > 0; j++)
		r->run->round->criteria[idx[j]].points *= total / sum;
	recombine(r->run);
	int changed = 0;
	for (size_t t = 0; t < r->n; t++)
		changed |= (r->run->standings[t].status == KV_ADVANCE) != r->real_advance[t];
	restore_real(r);
	recombine(r->run);
	return changed;
}

static void flip_pair(struct robust *r, const size_t *idx, size_t m, struct flip *f)
{
	double *w = kv_xcalloc(m + 1, sizeof *w), *d = kv_xcalloc(m + 1, sizeof *d);
	double *delta = kv_xcalloc(m + 1, sizeof *delta), margin = 0;
	for (size_t j = 0; j < m; j++) {
		w[j] = r->real_points[idx[j]];
		d[j] = r->real_norm[idx[j] * r->n + f->against] - r->real_norm[idx[j] * r->n + f->team];
		margin += w[j] * d[j];
	}
	f->feasible = kv_flip_feasible(d, m);
	f->points = kv_xcalloc(m + 1, sizeof *f->points);
	if (f->feasible) {
		f->linf = kv_flip_linf(w, d, m, delta);
		f->l2 = kv_flip_l2(w, d, m, delta);
		for (size_t j = 0; j < m; j++)
			f->points[j] = w[j] + delta[j];
		f->changes_decision = confirm(r, idx, m, f->points, margin);
	}
	free(w);
	free(d);
	free(delta);
}

/* Every pair across the score cut: an eliminated team against each
 * advancing one, in record order. */
static void weight_flips(struct robust *r)
{
	size_t *count = &r->nflips;
	size_t *idx = kv_xcalloc(r->k + 1, sizeof *idx), m = score_criteria(r, idx);
	struct flip *flips = kv_xcalloc(r->n * r->n + 1, sizeof *flips);
	*count = 0;
	for (size_t i = 0; i < r->n; i++) {
		size_t e = r->real_order[i];
		if (r->run->standings[e].reason != KV_REASON_LOWEST_TOTAL)
			continue;
		for (size_t j = 0; j < r->n; j++) {
			size_t a = r->real_order[j];
			if (!r->real_advance[a] || gated(r, a))
				continue;
			flips[*count] = (struct flip){.team = e, .against = a};
			flip_pair(r, idx, m, &flips[(*count)++]);
		}
	}
	free(idx);
	r->flips = flips;
}

/* --- output --------------------------------------------------------------- */

static double share(const struct robust *r, long count)
{
	return (double)count / (double)r->opt.replicates;
}

/* The central INTERVAL_LEVEL of the rank distribution: [lo, hi] with at
 * most (1 - level)/2 of the replicates below lo and above hi. */
static void rank_interval(const struct robust *r, const struct tally *ty, size_t t, long *lo, long *hi)
{
	const long *rc = &ty->rank_counts[t * (r->n + 1)];
	double tail = (1 - INTERVAL_LEVEL) / 2 * (double)r->opt.replicates;
	long cum = 0;
	*lo = *hi = 0;
	for (size_t k = 1; k <= r->n; k++) {
		cum += rc[k];
		if (!*lo && (double)cum > tail)
			*lo = (long)k;
		if (!*hi && (double)cum >= (double)r->opt.replicates - tail)
			*hi = (long)k;
	}
}

static void write_interval(struct kv_jw *w, const struct robust *r, const struct tally *ty, size_t t)
{
	long lo, hi;
	rank_interval(r, ty, t, &lo, &hi);
	kv_jw_key(w, "rank_interval");
	if (!lo) {
		kv_jw_null(w);
		return;
	}
	kv_jw_begin_array(w);
	kv_jw_integer(w, lo);
	kv_jw_integer(w, hi ? hi : (long)r->n);
	kv_jw_end_array(w);
}

static void write_probabilities(struct kv_jw *w, const struct robust *r, const struct tally *ty, size_t t)
{
	kv_jw_key(w, "rank_probabilities");
	kv_jw_begin_array(w);
	for (size_t k = 1; k <= r->n; k++)
		kv_jw_number(w, share(r, ty->rank_counts[t * (r->n + 1) + k]));
	kv_jw_end_array(w);
	kv_jw_key(w, "p_advance");
	kv_jw_number(w, share(r, ty->advance[t]));
	kv_jw_key(w, "p_eliminated");
	kv_jw_number(w, 1 - share(r, ty->advance[t]));
	write_interval(w, r, ty, t);
}

static void write_source(struct kv_jw *w, const struct robust *r, const char *name,
			 const struct tally *ty, size_t t)
{
	kv_jw_key(w, name);
	kv_jw_begin_object(w);
	kv_jw_key(w, "held_fixed");
	kv_jw_bool(w, ty->held_fixed);
	write_probabilities(w, r, ty, t);
	kv_jw_end_object(w);
}

static void write_moves(struct kv_jw *w, const struct robust *r, double margin)
{
	kv_jw_key(w, "normalized_moves");
	kv_jw_begin_object(w);
	for (size_t c = 0; isfinite(margin) && c < r->k; c++)
		if (is_score(r, c) && r->real_points[c] > 0) {
			kv_jw_key(w, r->run->round->criteria[c].id);
			kv_jw_number(w, fabs(margin) / r->real_points[c]);
		}
	kv_jw_end_object(w);
}

static void write_team(struct kv_jw *w, const struct robust *r, size_t t)
{
	const struct kv_standing *s = &r->run->standings[t];
	double margin = margin_of(r, t);
	kv_jw_begin_object(w);
	kv_jw_key(w, "id");
	kv_jw_string(w, r->run->round->teams[t].id);
	kv_jw_key(w, "decision");
	kv_jw_string(w, r->real_advance[t] ? "advance" : "eliminated");
	kv_jw_key(w, "gate");
	kv_jw_string(w, gated(r, t) ? r->run->round->criteria[s->reason_gate].id : NULL);
	kv_jw_key(w, "rank");
	kv_jw_integer(w, r->real_rank[t]);
	kv_jw_key(w, "total");
	kv_jw_number(w, r->total[t]);
	kv_jw_key(w, "margin");
	kv_jw_number(w, margin);
	write_probabilities(w, r, &r->all, t);
	kv_jw_key(w, "by_source");
	kv_jw_begin_object(w);
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u])
			write_source(w, r, known_units[u], &r->by_unit[u], t);
	write_source(w, r, "all", &r->all, t);
	write_source(w, r, "weights", &r->weights, t);
	kv_jw_end_object(w);
	write_moves(w, r, margin);
	kv_jw_end_object(w);
}

static void write_flip(struct kv_jw *w, const struct robust *r, const struct flip *f)
{
	size_t *idx = kv_xcalloc(r->k + 1, sizeof *idx), m = score_criteria(r, idx);
	kv_jw_begin_object(w);
	kv_jw_key(w, "team");
	kv_jw_string(w, r->run->round->teams[f->team].id);
	kv_jw_key(w, "against");
	kv_jw_string(w, r->run->round->teams[f->against].id);
	kv_jw_key(w, "feasible");
	kv_jw_bool(w, f->feasible);
	kv_jw_key(w, "l2");
	kv_jw_number(w, f->feasible ? f->l2 : NAN);
	kv_jw_key(w, "linf");
	kv_jw_number(w, f->feasible ? f->linf : NAN);
	kv_jw_key(w, "points");
	if (f->feasible) {
		kv_jw_begin_object(w);
		for (size_t j = 0; j < m; j++) {
			kv_jw_key(w, r->run->round->criteria[idx[j]].id);
			kv_jw_number(w, f->points[j]);
		}
		kv_jw_end_object(w);
	} else {
		kv_jw_null(w);
	}
	kv_jw_key(w, "changes_decision");
	kv_jw_bool(w, f->feasible && f->changes_decision);
	kv_jw_end_object(w);
	free(idx);
}

static void write_sources(struct kv_jw *w, const struct robust *r)
{
	kv_jw_key(w, "sources");
	kv_jw_begin_array(w);
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u])
			kv_jw_string(w, known_units[u]);
	kv_jw_end_array(w);
	kv_jw_key(w, "resampled");
	kv_jw_begin_object(w);
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u]) {
			kv_jw_key(w, known_units[u]);
			kv_jw_string(w, r->by_unit[u].resampled);
		}
	kv_jw_end_object(w);
	kv_jw_key(w, "weights");
	kv_jw_begin_object(w);
	kv_jw_key(w, "method");
	kv_jw_string(w, r->opt.weights == WEIGHTS_BOX ? "box" : "dirichlet");
	kv_jw_key(w, r->opt.weights == WEIGHTS_BOX ? "percent" : "concentration");
	kv_jw_number(w, r->opt.weights_param);
	kv_jw_end_object(w);
}

static void write_leave_one_out(struct kv_jw *w, const struct robust *r)
{
	kv_jw_key(w, "leave_one_out");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < r->nloo; i++) {
		const struct dropped *d = &r->loo[i];
		kv_jw_begin_object(w);
		kv_jw_key(w, "source");
		kv_jw_string(w, known_units[unit_of(r, d->criterion)]);
		kv_jw_key(w, "plugin");
		kv_jw_string(w, r->run->results[d->criterion].plugin.desc->name);
		kv_jw_key(w, "criterion");
		kv_jw_string(w, r->run->round->criteria[d->criterion].id);
		kv_jw_key(w, "unit");
		kv_jw_string(w, d->unit);
		kv_jw_key(w, "changed");
		kv_jw_begin_array(w);
		for (size_t j = 0; j < d->nchanged; j++)
			kv_jw_string(w, r->run->round->teams[d->changed[j]].id);
		kv_jw_end_array(w);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
}

/* What the round (or a scenario) gave: decisions, teams, tables. */
static void write_analysis(struct kv_jw *w, const struct robust *r)
{
	kv_jw_key(w, "p_same_decision");
	kv_jw_begin_object(w);
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u]) {
			kv_jw_key(w, known_units[u]);
			kv_jw_number(w, share(r, r->by_unit[u].same_decision));
		}
	kv_jw_key(w, "all");
	kv_jw_number(w, share(r, r->all.same_decision));
	kv_jw_key(w, "weights");
	kv_jw_number(w, share(r, r->weights.same_decision));
	kv_jw_end_object(w);
	kv_jw_key(w, "teams");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < r->n; i++)
		write_team(w, r, r->real_order[i]);
	kv_jw_end_array(w);
	write_leave_one_out(w, r);
	kv_jw_key(w, "weight_flips");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < r->nflips; i++)
		write_flip(w, r, &r->flips[i]);
	kv_jw_end_array(w);
}

static void write_scenario(struct kv_jw *w, const struct robust *r)
{
	kv_jw_begin_object(w);
	kv_jw_key(w, "scenario");
	kv_jw_string(w, r->scenario);
	kv_jw_key(w, "set");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < r->nsets; i++)
		kv_jw_string(w, r->sets[i]);
	kv_jw_end_array(w);
	write_analysis(w, r);
	kv_jw_end_object(w);
}

/* rs[0] is the round as configured, rs[1..n) its scenarios. */
static void write_json(struct kv_buf *out, const struct robust *rs, size_t n)
{
	const struct robust *r = &rs[0];
	struct kv_jw w = {0};
	kv_jw_begin_object(&w);
	kv_jw_key(&w, "round");
	kv_jw_string(&w, r->run->round->id);
	kv_jw_key(&w, "config_sha256");
	kv_jw_string(&w, r->run->round->config_sha256);
	kv_jw_key(&w, "replicates");
	kv_jw_integer(&w, r->opt.replicates);
	kv_jw_key(&w, "seed");
	kv_jw_integer(&w, r->run->round->seed);
	kv_jw_key(&w, "interval_level");
	kv_jw_number(&w, INTERVAL_LEVEL);
	write_sources(&w, r);
	write_analysis(&w, r);
	kv_jw_key(&w, "scenarios");
	kv_jw_begin_array(&w);
	for (size_t i = 1; i < n; i++)
		write_scenario(&w, &rs[i]);
	kv_jw_end_array(&w);
	kv_jw_end_object(&w);
	kv_buf_add(&w.out, "\n", 1);
	*out = w.out;
}

/* --- the summary ---------------------------------------------------------- */

/* A probability as a whole percent; never "0%" or "100%" unless exact. */
static const char *percent(const struct robust *r, long count, char buf[8])
{
	double p = 100 * share(r, count);
	if (count == 0 || count == r->opt.replicates)
		snprintf(buf, 8, "%.0f%%", p);
	else if (p < 1)
		snprintf(buf, 8, "<1%%");
	else if (p > 99)
		snprintf(buf, 8, ">99%%");
	else
		snprintf(buf, 8, "%.0f%%", p);
	return buf;
}

static void print_header(const struct robust *r, int width, FILE *out)
{
	fprintf(out, "robustness of round %s: %ld replicates, seed %lld\n", r->run->round->id,
		r->opt.replicates, r->run->round->seed);
	for (size_t u = 0; u < UNIT_COUNT; u++) {
		if (!r->opt.unit_on[u])
			continue;
		if (r->by_unit[u].held_fixed)
			fprintf(out, "  %-7s held fixed (no criterion of this round resamples it)\n", known_units[u]);
		else
			fprintf(out, "  %-7s resampled in %s\n", known_units[u], r->by_unit[u].resampled);
	}
	if (r->opt.weights == WEIGHTS_BOX)
		fprintf(out, "  weights each score criterion's points within +-%g%%, total kept\n",
			r->opt.weights_param);
	else
		fprintf(out, "  weights Dirichlet on the points' shares, concentration %g, total kept\n",
			r->opt.weights_param);
	fprintf(out, "\nP(advance) by source:\n%-*s %-10s %8s", width, "team", "decision", "margin");
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u])
			fprintf(out, " %7s", known_units[u]);
	fprintf(out, " %7s %7s  %s\n", "all", "weights", "ranks (95%)");
}

static void print_team(const struct robust *r, size_t t, int width, FILE *out)
{
	char buf[8], margin[32];
	double m = margin_of(r, t);
	long lo, hi;
	if (isfinite(m))
		snprintf(margin, sizeof margin, "%+.2f", m);
	else
		snprintf(margin, sizeof margin, "%s", gated(r, t) ? "gate" : "-");
	fprintf(out, "%-*s %-10s %8s", width, r->run->round->teams[t].id,
		r->real_advance[t] ? "advance" : "eliminated", margin);
	for (size_t u = 0; u < UNIT_COUNT; u++)
		if (r->opt.unit_on[u])
			fprintf(out, " %7s", percent(r, r->by_unit[u].advance[t], buf));
	fprintf(out, " %7s", percent(r, r->all.advance[t], buf));
	fprintf(out, " %7s", percent(r, r->weights.advance[t], buf));
	rank_interval(r, &r->all, t, &lo, &hi);
	if (lo)
		fprintf(out, "  %ld-%ld\n", lo, hi);
	else
		fprintf(out, "  -\n");
}

static void print_flip(const struct robust *r, const struct flip *f, FILE *out)
{
	const char *e = r->run->round->teams[f->team].id, *a = r->run->round->teams[f->against].id;
	if (!f->feasible)
		fprintf(out, "  %s over %s: none (%s is behind on every score criterion)\n", e, a, e);
	else
		fprintf(out, "  %s over %s: %.2f points moved (L2), at most %.2f on one criterion%s\n", e, a,
			f->l2, f->linf, f->changes_decision ? "" : " (the decision still stands)");
}

/* Every pair on a small round; on a large one (a pair per eliminated and
 * advancing team: 10,000 for 200 teams) the closest that a reweighting can
 * level (kv_flips_shown), and a count of the rest, which the file of -o
 * holds. */
static void print_flips(const struct robust *r, const struct flip *flips, size_t n, FILE *out)
{
	if (!n)
		return;
	double *l2 = kv_xcalloc(n, sizeof *l2);
	size_t *order = kv_xcalloc(n, sizeof *order), none = 0;
	for (size_t i = 0; i < n; i++) {
		l2[i] = flips[i].feasible ? flips[i].l2 : NAN;
		none += !flips[i].feasible;
	}
	size_t shown = kv_flips_shown(l2, n, order);
	fprintf(out, "\nsmallest change of the points that lets an eliminated team catch an advancing one%s:\n",
		n > KV_FLIPS_SHOWN ? ", the closest pairs" : "");
	for (size_t i = 0; i < shown; i++)
		print_flip(r, &flips[order[i]], out);
	if (shown < n)
		fprintf(out, "  %s%zu %spairs (weight_flips in the file of -o): %zu of them beyond any reweighting "
			"(the eliminated team behind on every score criterion)\n", shown ? "... and " : "",
			n - shown, shown ? "more " : "", none);
	free(order);
	free(l2);
}

static void print_leave_one_out(const struct robust *r, FILE *out)
{
	size_t changing = 0;
	for (size_t i = 0; i < r->nloo; i++)
		changing += r->loo[i].nchanged > 0;
	if (r->nloo)
		fprintf(out, "\nleaving one out: %zu units dropped one at a time, %zu change a decision\n",
			r->nloo, changing);
	for (size_t i = 0; i < r->nloo; i++) {
		const struct dropped *d = &r->loo[i];
		if (!d->nchanged)
			continue;
		fprintf(out, "  without %s in %s:", d->unit, r->run->round->criteria[d->criterion].id);
		for (size_t j = 0; j < d->nchanged; j++)
			fprintf(out, " %s %s", r->run->round->teams[d->changed[j]].id,
				r->real_advance[d->changed[j]] ? "out" : "in");
		fputc('\n', out);
	}
}

static void print_summary(const struct robust *r, FILE *out)
{
	const struct flip *flips = r->flips;
	size_t n = r->nflips;
	char joint[8], weights[8];
	if (r->scenario)
		fprintf(out, "\n=== scenario: %s ===\n", r->scenario);
	int width = kv_team_id_width(r->run->round, 10);
	print_header(r, width, out);
	for (size_t i = 0; i < r->n; i++)
		print_team(r, r->real_order[i], width, out);
	fprintf(out, "every decision as in the round: %s of joint replicates, %s under the weights\n",
		percent(r, r->all.same_decision, joint), percent(r, r->weights.same_decision, weights));
	print_leave_one_out(r, out);
	print_flips(r, flips, n, out);
}

/* --- the command ------------------------------------------------------- */

static void robust_free(struct robust *r)
{
	struct tally *all[UNIT_COUNT + 2] = {&r->all, &r->weights};
	for (size_t u = 0; u < UNIT_COUNT; u++)
		all[u + 2] = &r->by_unit[u];
	for (size_t i = 0; i < UNIT_COUNT + 2; i++) {
		free(all[i]->rank_counts);
		free(all[i]->advance);
		free(all[i]->resampled);
	}
	for (size_t i = 0; i < r->nflips; i++)
		free(r->flips[i].points);
	free(r->flips);
	for (size_t i = 0; i < r->nsets; i++)
		free(r->sets[i]);
	free(r->sets);
	for (size_t i = 0; i < r->nloo; i++) {
		free(r->loo[i].unit);
		free(r->loo[i].changed);
	}
	free(r->loo);
	free(r->unit);
	free(r->real_points);
	free(r->real_norm);
	free(r->real_value);
	free(r->real_advance);
	free(r->real_rank);
	free(r->real_order);
	free(r->total);
	if (r->run)
		kv_close_kept(r->run);
	kv_run_free(r->run);
}

static int write_output(struct robust *r, const struct kv_buf *json, struct kv_error *err)
{
	if (!r->opt.output)
		return 0;
	int rc = kv_output_not_read_by(r->run, r->opt.output, err);
	return rc ? rc : kv_write_file_atomic(r->opt.output, json->data, json->len, err);
}

/* Everything for the round as configured (scenario NULL) or one scenario. */
static int run_analysis(struct robust *r, const struct options *opt, const char *scenario,
			struct kv_error *err)
{
	r->opt = *opt;
	r->scenario = scenario;
	if (scenario)
		split_scenario(r);
	int rc = load_run(r, err);
	if (rc && scenario)
		fprintf(stderr, "kaieval: robustness: --scenario '%s':\n", scenario);
	if (rc)
		return rc;
	if (opt->has_seed)
		r->run->round->seed = opt->seed; /* after the round's own evaluation */
	save_real(r);
	rc = find_units(r, err);
	rc = rc ? rc : leave_one_out(r, err);
	rc = rc ? rc : analyse(r, err);
	if (rc == 0)
		weight_flips(r);
	return rc;
}

int kv_cmd_robustness(int argc, char **argv)
{
	struct options opt;
	struct kv_error err = {0};
	int rc = parse_options(argc, argv, &opt);
	if (rc) {
		free(opt.scenarios);
		return rc;
	}
	size_t n = opt.nscenarios + 1, done = 0;
	struct robust *rs = kv_xcalloc(n, sizeof *rs);
	for (; rc == 0 && done < n; done++)
		rc = run_analysis(&rs[done], &opt, done ? opt.scenarios[done - 1] : NULL, &err);
	struct kv_buf json = {0};
	if (rc == 0) {
		write_json(&json, rs, n);
		rc = write_output(&rs[0], &json, &err);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		print_summary(&rs[i], stdout);
	if (rc)
		kv_error_print(&err, stderr);
	kv_buf_free(&json);
	for (size_t i = 0; i < done; i++)
		robust_free(&rs[i]);
	free(rs);
	free(opt.scenarios);
	return rc;
}

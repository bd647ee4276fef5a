/* votes, method rating: absolute scores per rater and team.
 *
 * Rules, in the order they apply to each row (kaieval-votes(7)):
 *   1. the row must be well formed (known team, score on the scale,
 *      numeric seconds, one group per rater) or the run stops;
 *   2. a rater outside `groups` is excluded (reason "group");
 *   3. only a rater's first row for a team is their rating: later rows are
 *      excluded ("repeat"), even when the first is then excluded as too
 *      short, so a quick first look cannot be retried into a second vote;
 *   4. a rating after less than `min_seconds` of use is excluded ("too_short"). */
#include "votes.h"
#include "matrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum reason { TOO_SHORT, REPEAT, GROUP, REASONS };
static const char *const reason_keys[REASONS] = {"excluded_too_short", "excluded_repeat",
						 "excluded_group"};

struct columns { int rater, group, team, score, seconds; };

struct rt {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *path;
	size_t teams;
	long long scale_min, scale_max;
	double min_seconds;
	const char *normalize;
	const struct kv_value *groups;
	long long bootstrap;
	struct kv_table *t;
	struct columns col;
	struct votes_intern raters;
	uint32_t *rater_group;       /* per rater: index into group_names */
	struct votes_intern group_names;
	unsigned char *seen;         /* rater x team: a first row was read */
	double *sum;                 /* rater x team: the counted score (0 if none) */
	uint32_t *count;             /* rater x team: 0 or 1 */
	size_t cap;                  /* raters the three arrays above hold */
	uint64_t rows;
	uint64_t *excluded;          /* team x reason */
	size_t *active;              /* raters with a counted rating: the bootstrap's units */
	size_t nactive;
};

/* --- params --------------------------------------------------------------- */

static int check_groups(struct rt *r)
{
	const struct kv_host *h = r->h;
	for (size_t i = 0; i < h->value_count(r->groups); i++)
		if (!h->value_string(h->value_at(r->groups, i)))
			return h->value_error(r->ctx, h->value_at(r->groups, i), "must be a string (a group name)");
	return KV_OK;
}

static int read_params(struct rt *r, const struct votes_common *c)
{
	const struct kv_host *h = r->h;
	struct kv_ctx *ctx = r->ctx;
	const struct kv_value *lo = h->param(ctx, "scale_min"), *hi = h->param(ctx, "scale_max");
	const struct kv_value *secs = h->param(ctx, "min_seconds");
	r->path = h->value_string(h->param(ctx, "ratings"));
	r->teams = h->team_count(ctx);
	r->normalize = c->normalize ? c->normalize : "scale";
	r->bootstrap = c->bootstrap;
	r->groups = h->param(ctx, "groups");
	h->value_int(lo, &r->scale_min);
	h->value_int(hi, &r->scale_max);
	h->value_double(secs, &r->min_seconds);
	if (!r->path)
		return h->error(ctx, "method rating needs param 'ratings'");
	if (r->scale_max <= r->scale_min)
		return h->value_error(ctx, hi, "must be above scale_min (%lld)", r->scale_min);
	if (r->scale_min < 0 && strcmp(r->normalize, "range") != 0)
		return h->value_error(ctx, lo, "must be >= 0 for normalize = \"%s\" (use \"range\")", r->normalize);
	if (!(r->min_seconds >= 0) || !isfinite(r->min_seconds))
		return h->value_error(ctx, secs, "must be a finite number >= 0");
	return check_groups(r);
}

/* --- rows ---------------------------------------------------------------- */

static int group_counts(const struct rt *r, const char *group)
{
	size_t n = r->h->value_count(r->groups);
	if (!r->groups)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(r->h->value_string(r->h->value_at(r->groups, i)), group) == 0)
			return 1;
	return 0;
}

/* Room for rater index e in the per-rater arrays. */
static int rater_room(struct rt *r, size_t e)
{
	if (e < r->cap)
		return 0;
	size_t cap = r->cap ? 2 * r->cap : 256, n = r->teams;
	unsigned char *seen = realloc(r->seen, cap * n);
	if (seen)
		r->seen = seen;
	double *sum = seen ? realloc(r->sum, cap * n * sizeof *sum) : NULL;
	if (sum)
		r->sum = sum;
	uint32_t *count = sum ? realloc(r->count, cap * n * sizeof *count) : NULL;
	if (count)
		r->count = count;
	uint32_t *group = count ? realloc(r->rater_group, cap * sizeof *group) : NULL;
	if (group)
		r->rater_group = group;
	if (!group)
		return -1;
	memset(r->seen + r->cap * n, 0, (cap - r->cap) * n);
	memset(r->sum + r->cap * n, 0, (cap - r->cap) * n * sizeof *sum);
	memset(r->count + r->cap * n, 0, (cap - r->cap) * n * sizeof *count);
	r->cap = cap;
	return 0;
}

/* The rater's index (-1 out of memory); a rater keeps one group throughout
 * the file, else -2 with *earlier = the group first seen. */
static long rater_of(struct rt *r, const char *rater, const char *group, const char **earlier)
{
	int added, gadded;
	long e = votes_intern(&r->raters, rater, strlen(rater), &added);
	long g = votes_intern(&r->group_names, group, strlen(group), &gadded);
	if (e < 0 || g < 0 || rater_room(r, (size_t)e))
		return -1;
	if (added)
		r->rater_group[e] = (uint32_t)g;
	*earlier = votes_intern_name(&r->group_names, r->rater_group[e]);
	return r->rater_group[e] == (uint32_t)g ? e : -2;
}

/* The checks of rule 1: every row, counted or not. */
static int check_row(struct rt *r, long *team, double *score, double *seconds)
{
	const struct kv_host *h = r->h;
	const char *rater = h->table_field(r->t, r->col.rater), *tm = h->table_field(r->t, r->col.team);
	const char *sc = h->table_field(r->t, r->col.score), *se = h->table_field(r->t, r->col.seconds);
	if (!*rater)
		return h->table_error(r->t, r->col.rater, "empty rater id");
	if ((*team = h->team_index(r->ctx, tm)) < 0)
		return h->table_error(r->t, r->col.team, "team '%s' is not in this round", tm);
	if (h->table_number(r->t, r->col.score, score))
		return h->table_error(r->t, r->col.score, "'%s' is not a number", sc);
	if (*score < (double)r->scale_min || *score > (double)r->scale_max)
		return h->table_error(r->t, r->col.score, "score %s is off the scale [%lld, %lld]", sc,
				      r->scale_min, r->scale_max);
	if (h->table_number(r->t, r->col.seconds, seconds))
		return h->table_error(r->t, r->col.seconds, "'%s' is not a number of seconds", se);
	if (*seconds < 0)
		return h->table_error(r->t, r->col.seconds, "negative time '%s'", se);
	return KV_OK;
}

static int read_row(struct rt *r)
{
	const struct kv_host *h = r->h;
	long team = -1;
	double score = 0, seconds = 0;
	int rc = check_row(r, &team, &score, &seconds);
	if (rc != KV_OK)
		return rc;
	const char *rater = h->table_field(r->t, r->col.rater), *group = h->table_field(r->t, r->col.group);
	const char *earlier;
	long e = rater_of(r, rater, group, &earlier);
	if (e == -2)
		return h->table_error(r->t, r->col.group, "rater '%s' was in group '%s' on an earlier row",
				      rater, earlier);
	if (e < 0)
		return KV_ERR_INTERNAL;
	size_t cell = (size_t)e * r->teams + (size_t)team;
	uint64_t *excluded = r->excluded + (size_t)team * REASONS;
	if (!group_counts(r, group))
		excluded[GROUP]++;
	else if (r->seen[cell])
		excluded[REPEAT]++;
	else if ((r->seen[cell] = 1) && seconds < r->min_seconds)
		excluded[TOO_SHORT]++;
	else {
		r->sum[cell] = score;
		r->count[cell] = 1;
	}
	return KV_OK;
}

static int need(const struct kv_host *h, struct kv_ctx *ctx, const char *file, int col, const char *name)
{
	return col >= 0 ? KV_OK : h->error(ctx, "%s: missing column '%s'", file, name);
}

static int read_ratings(struct rt *r)
{
	const struct kv_host *h = r->h;
	struct columns *c = &r->col;
	if (!(r->t = h->table_open(r->ctx, r->path)))
		return KV_ERR_INPUT;
	c->rater = h->table_column(r->t, "rater");
	c->group = h->table_column(r->t, "group");
	c->team = h->table_column(r->t, "team");
	c->score = h->table_column(r->t, "score");
	c->seconds = h->table_column(r->t, "seconds");
	int rc = need(h, r->ctx, r->path, c->rater, "rater");
	rc = rc ? rc : need(h, r->ctx, r->path, c->group, "group");
	rc = rc ? rc : need(h, r->ctx, r->path, c->team, "team");
	rc = rc ? rc : need(h, r->ctx, r->path, c->score, "score");
	rc = rc ? rc : need(h, r->ctx, r->path, c->seconds, "seconds");
	int more;
	while (rc == KV_OK && (more = h->table_next(r->t)) != 0) {
		r->rows++;
		rc = more < 0 ? KV_ERR_INPUT : read_row(r);
	}
	if (rc == KV_OK && r->rows == 0)
		rc = h->error(r->ctx, "%s: no ratings in the file", r->path);
	return rc;
}

/* --- scores --------------------------------------------------------------------- */

/* The raters with a counted rating, in order of first appearance. */
static int find_active(struct rt *r)
{
	r->active = malloc((r->raters.count ? r->raters.count : 1) * sizeof *r->active);
	if (!r->active)
		return KV_ERR_INTERNAL;
	for (size_t e = 0; e < r->raters.count; e++) {
		int counted = 0;
		for (size_t t = 0; t < r->teams; t++)
			counted |= r->count[e * r->teams + t] != 0;
		if (counted)
			r->active[r->nactive++] = e;
	}
	return KV_OK;
}

/* Per team the sum and number of counted ratings, active rater a weighted
 * by mult[a] (NULL: each once), summed in rater order. */
static void team_sums(const struct rt *r, const uint32_t *mult, double *sum, double *n)
{
	size_t T = r->teams;
	memset(sum, 0, T * sizeof *sum);
	memset(n, 0, T * sizeof *n);
	for (size_t a = 0; a < r->nactive; a++) {
		size_t e = r->active[a];
		double m = mult ? (double)mult[a] : 1.0;
		if (m == 0)
			continue;
		for (size_t t = 0; t < T; t++) {
			sum[t] += m * r->sum[e * T + t];
			n[t] += m * (double)r->count[e * T + t];
		}
	}
}

/* mean and normalized per team; -1 when a team has no rating or, for
 * "best", no team has a positive sum. */
static int normalize(const struct rt *r, const double *sum, const double *n, double *mean, double *norm)
{
	size_t T = r->teams;
	double best = 0, lo = (double)r->scale_min, hi = (double)r->scale_max;
	for (size_t t = 0; t < T; t++) {
		if (n[t] == 0)
			return -1;
		mean[t] = sum[t] / n[t];
		best = sum[t] > best ? sum[t] : best;
	}
	if (strcmp(r->normalize, "best") == 0 && best <= 0)
		return -1;
	for (size_t t = 0; t < T; t++)
		norm[t] = strcmp(r->normalize, "best") == 0 ? sum[t] / best
			: strcmp(r->normalize, "range") == 0 ? (mean[t] - lo) / (hi - lo)
			: mean[t] / hi;
	return 0;
}

struct rboot {
	const struct rt *r;
	struct kv_rng *streams;
	uint32_t *mult;          /* per thread: raters */
	double *work;            /* per thread: 4 * teams */
	double *mean, *norm;     /* per replicate: teams */
	unsigned char *ok;
};

static void replicate(void *arg, size_t b, unsigned thread)
{
	struct rboot *B = arg;
	size_t T = B->r->teams;
	uint32_t *mult = B->mult + thread * B->r->nactive;
	double *sum = B->work + thread * 4 * T, *n = sum + T, *mean = n + T, *norm = mean + T;
	votes_resample(&B->streams[b], mult, B->r->nactive);
	team_sums(B->r, mult, sum, n);
	B->ok[b] = normalize(B->r, sum, n, mean, norm) == 0;
	if (B->ok[b]) {
		memcpy(B->mean + b * T, mean, T * sizeof *mean);
		memcpy(B->norm + b * T, norm, T * sizeof *norm);
	}
}

static double quantile_of(const double *by_round, const unsigned char *ok, size_t rounds, size_t T,
			  size_t t, double *col, double p)
{
	size_t n = 0;
	for (size_t b = 0; b < rounds; b++)
		if (ok[b])
			col[n++] = by_round[b * T + t];
	return votes_quantile(col, n, p);
}

static void interval_evidence(const struct rt *r, const struct rboot *B, size_t rounds, size_t usable)
{
	const struct kv_host *h = r->h;
	double *col = malloc((rounds ? rounds : 1) * sizeof *col);
	h->evidence_num(r->ctx, KV_ROUND, "bootstrap_rounds", (double)rounds);
	h->evidence_num(r->ctx, KV_ROUND, "bootstrap_undetermined", (double)(rounds - usable));
	h->evidence_str(r->ctx, KV_ROUND, "bootstrap_unit", "rater (all counted ratings of a drawn rater)");
	h->evidence_str(r->ctx, KV_ROUND, "percentile", "%s", VOTES_PERCENTILE_RULE);
	for (size_t t = 0; col && usable && t < r->teams; t++) {
		h->evidence_num(r->ctx, t, "mean_q025", quantile_of(B->mean, B->ok, rounds, r->teams, t, col, 0.025));
		h->evidence_num(r->ctx, t, "mean_q975", quantile_of(B->mean, B->ok, rounds, r->teams, t, col, 0.975));
		h->evidence_num(r->ctx, t, "normalized_q025", quantile_of(B->norm, B->ok, rounds, r->teams, t, col, 0.025));
		h->evidence_num(r->ctx, t, "normalized_q975", quantile_of(B->norm, B->ok, rounds, r->teams, t, col, 0.975));
	}
	free(col);
}

static int bootstrap(const struct rt *r)
{
	size_t rounds = (size_t)r->bootstrap, T = r->teams, usable = 0;
	unsigned threads = votes_threads();
	if (rounds == 0)
		return KV_OK;
	struct rboot B = {.r = r};
	B.streams = calloc(rounds, sizeof *B.streams);
	B.mult = calloc((size_t)threads * (r->nactive ? r->nactive : 1), sizeof *B.mult);
	B.work = calloc((size_t)threads * 4 * T, sizeof *B.work);
	B.mean = calloc(rounds * T, sizeof *B.mean);
	B.norm = calloc(rounds * T, sizeof *B.norm);
	B.ok = calloc(rounds, 1);
	int rc = B.streams && B.mult && B.work && B.mean && B.norm && B.ok ? KV_OK : KV_ERR_INTERNAL;
	for (size_t b = 0; rc == KV_OK && b < rounds; b++)
		r->h->rng_stream(r->ctx, "bootstrap", b, &B.streams[b]);
	if (rc == KV_OK)
		votes_parallel(rounds, threads, replicate, &B);
	for (size_t b = 0; rc == KV_OK && b < rounds; b++)
		usable += B.ok[b];
	if (rc == KV_OK)
		interval_evidence(r, &B, rounds, usable);
	free(B.streams);
	free(B.mult);
	free(B.work);
	free(B.mean);
	free(B.norm);
	free(B.ok);
	return rc;
}

static int no_votes(const struct rt *r, const double *n)
{
	for (size_t t = 0; t < r->teams; t++)
		if (n[t] == 0)
			return r->h->error(r->ctx, "%s: no usable votes for team '%s' (%llu too short, %llu repeats, "
					   "%llu outside groups)", r->path, r->h->team_id(r->ctx, t),
					   (unsigned long long)r->excluded[t * REASONS + TOO_SHORT],
					   (unsigned long long)r->excluded[t * REASONS + REPEAT],
					   (unsigned long long)r->excluded[t * REASONS + GROUP]);
	return r->h->error(r->ctx, "%s: normalize = \"best\" needs a team with a positive sum of scores", r->path);
}

static void team_evidence(const struct rt *r, size_t t, double sum, double n, double mean)
{
	const struct kv_host *h = r->h;
	h->evidence_num(r->ctx, t, "ratings", n);
	h->evidence_num(r->ctx, t, "sum", sum);
	h->evidence_num(r->ctx, t, "mean", mean);
	for (int x = 0; x < REASONS; x++)
		h->evidence_num(r->ctx, t, reason_keys[x], (double)r->excluded[t * REASONS + (size_t)x]);
}

static void round_evidence(const struct rt *r)
{
	const struct kv_host *h = r->h;
	uint64_t total[REASONS] = {0}, counted = 0;
	for (size_t t = 0; t < r->teams; t++)
		for (int x = 0; x < REASONS; x++)
			total[x] += r->excluded[t * REASONS + (size_t)x];
	for (size_t c = 0; c < r->raters.count * r->teams; c++)
		counted += r->count[c];
	h->evidence_num(r->ctx, KV_ROUND, "rows", (double)r->rows);
	h->evidence_num(r->ctx, KV_ROUND, "ratings_counted", (double)counted);
	h->evidence_num(r->ctx, KV_ROUND, "raters", (double)r->nactive);
	h->evidence_num(r->ctx, KV_ROUND, "raters_in_file", (double)r->raters.count);
	for (int x = 0; x < REASONS; x++)
		h->evidence_num(r->ctx, KV_ROUND, reason_keys[x], (double)total[x]);
	h->evidence_str(r->ctx, KV_ROUND, "normalize", "%s",
			strcmp(r->normalize, "best") == 0 ? "best: team sum / highest team sum"
			: strcmp(r->normalize, "range") == 0 ? "range: (mean - scale_min) / (scale_max - scale_min)"
			: "scale: mean / scale_max");
}

static int score(struct rt *r)
{
	size_t T = r->teams;
	double *v = calloc(4 * (T ? T : 1), sizeof *v);
	if (!v)
		return KV_ERR_INTERNAL;
	double *sum = v, *n = v + T, *mean = n + T, *norm = mean + T;
	team_sums(r, NULL, sum, n);
	int rc = normalize(r, sum, n, mean, norm) == 0 ? KV_OK : no_votes(r, n);
	int best = strcmp(r->normalize, "best") == 0;
	for (size_t t = 0; rc == KV_OK && t < T; t++) {
		r->h->set_value(r->ctx, t, best ? sum[t] : mean[t], best ? "sum of scores" : "mean score");
		r->h->set_normalized(r->ctx, t, norm[t]);
		team_evidence(r, t, sum[t], n[t], mean[t]);
	}
	if (rc == KV_OK)
		round_evidence(r);
	struct votes_histogram_in hist = {r->teams, r->raters.count, r->sum, r->count, r->rater_group,
					  &r->group_names, r->scale_min, r->scale_max};
	if (rc == KV_OK)
		rc = votes_histogram_evidence(r->h, r->ctx, &hist);
	free(v);
	return rc == KV_OK ? bootstrap(r) : rc;
}

/* --- what kaieval robustness reuses (votes.h) ------------------------------ */

struct votes_rated {
	struct rt r;             /* without the host's objects */
	char normalize[8];
};

/* The ratings move to the kept state; r keeps nothing to free. */
static int keep(struct rt *r, struct votes_kept *k)
{
	struct votes_rated *d = calloc(1, sizeof *d);
	if (!d)
		return KV_ERR_INTERNAL;
	d->r = *r;
	snprintf(d->normalize, sizeof d->normalize, "%s", r->normalize);
	d->r.normalize = d->normalize;
	d->r.h = NULL;
	d->r.ctx = NULL;
	d->r.t = NULL;
	d->r.path = NULL;
	d->r.groups = NULL;
	*r = (struct rt){.t = r->t};
	votes_keep_rating(k, d);
	return KV_OK;
}

size_t votes_rated_raters(const struct votes_rated *d) { return d->r.nactive; }

const char *votes_rated_name(const struct votes_rated *d, size_t a)
{
	return votes_intern_name(&d->r.raters, d->r.active[a]);
}

uint32_t votes_rated_group(const struct votes_rated *d, size_t a) { return d->r.rater_group[d->r.active[a]]; }

int votes_rated_score(const struct votes_rated *d, const struct kv_host *h, struct kv_ctx *ctx,
		      const uint32_t *mult, double *work)
{
	size_t T = d->r.teams;
	double *sum = work, *n = sum + T, *mean = n + T, *norm = mean + T;
	int best = strcmp(d->r.normalize, "best") == 0;
	team_sums(&d->r, mult, sum, n);
	if (normalize(&d->r, sum, n, mean, norm))
		return -1;
	for (size_t t = 0; t < T; t++) {
		h->set_value(ctx, t, best ? sum[t] : mean[t], best ? "sum of scores" : "mean score");
		h->set_normalized(ctx, t, norm[t]);
	}
	return 0;
}

static void free_ratings(struct rt *r)
{
	votes_intern_free(&r->raters);
	votes_intern_free(&r->group_names);
	free(r->rater_group);
	free(r->seen);
	free(r->sum);
	free(r->count);
	free(r->excluded);
	free(r->active);
}

void votes_rated_free(struct votes_rated *d)
{
	if (d)
		free_ratings(&d->r);
	free(d);
}

int votes_rating(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_common *c)
{
	struct rt r = {.h = h, .ctx = ctx};
	int rc = read_params(&r, c);
	if (rc == KV_OK && !(r.excluded = calloc((r.teams ? r.teams : 1) * REASONS, sizeof *r.excluded)))
		rc = KV_ERR_INTERNAL;
	if (rc == KV_OK)
		rc = read_ratings(&r);
	if (rc == KV_OK)
		rc = find_active(&r);
	if (rc == KV_OK)
		rc = score(&r);
	if (rc == KV_OK && c->keep)
		rc = keep(&r, c->keep);
	if (r.t)
		h->table_close(r.t);
	free_ratings(&r);
	return rc;
}

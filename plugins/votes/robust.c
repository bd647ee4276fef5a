/* votes: resampling for kaieval robustness (kaieval-votes(7), ROBUSTNESS).
 *
 * evaluate leaves what a replicate needs in the criterion's state: method
 * rating its counted ratings (rating.c), method pairwise its judge classes,
 * win table and estimate, and the ballots of the judges with the most.  A
 * replicate then reads no file:
 *   rating    the raters of each rater group drawn again within their
 *             group, with replacement, as many as the group has;
 *   pairwise  the judges drawn again with replacement, all of a drawn
 *             judge's ballots counted (the class draw of boot.c), refitted.
 * Leaving one out drops a rater, or one of the VOTES_TOP_JUDGES judges with
 * the most ballots.  A replicate in which the score does not exist (a team
 * left without a rating, a fit without an estimate) keeps the round's
 * scores. */
#include "votes.h"
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

enum method { NONE, RATING, PAIRWISE };

/* Pairwise replicates are fitted this many at a time (on the plugin's
 * threads) and kept until the core asks for one outside them. */
#define BATCH 1024

struct votes_kept {
	enum method method;
	/* rating */
	struct votes_rated *rated;
	size_t raters, groups;
	size_t *by_group;            /* active raters ordered by group */
	size_t *group_first;         /* per group: where its raters start in by_group */
	uint32_t *mult, *drawn;      /* per active rater */
	double *work;                /* 4 x teams */
	/* pairwise */
	size_t k, teams, ref;
	double prior;
	double *w0, *g0, *w, *g, *wr;
	struct votes_classes judges;
	size_t ntop;
	char **top_id;               /* the judges with the most ballots, most first */
	size_t *top_first;           /* per top judge: its codes in top_codes */
	uint32_t *top_codes;
	uint16_t *code_lo, *code_hi; /* ballot code -> models (votes_code_models) */
	uint64_t batch_first;
	size_t batch_count;          /* 0: no batch yet */
	double *batch_norm;          /* BATCH x k */
	unsigned char *batch_ok;
};

struct votes_kept *votes_kept_new(void)
{
	return calloc(1, sizeof(struct votes_kept));
}

void votes_kept_free(struct votes_kept *k)
{
	if (!k)
		return;
	votes_rated_free(k->rated);
	free(k->by_group);
	free(k->group_first);
	free(k->mult);
	free(k->drawn);
	free(k->work);
	free(k->w0);
	free(k->g0);
	free(k->w);
	free(k->g);
	free(k->wr);
	votes_classes_free(&k->judges);
	for (size_t i = 0; i < k->ntop; i++)
		free(k->top_id[i]);
	free(k->top_id);
	free(k->top_first);
	free(k->top_codes);
	free(k->code_lo);
	free(k->batch_norm);
	free(k->batch_ok);
	free(k);
}

static int nomem(const struct kv_host *h, struct kv_ctx *ctx)
{
	h->error(ctx, "out of memory: could not allocate the replicates' working memory");
	return KV_ERR_INTERNAL;
}

/* --- rating ------------------------------------------------------------------- */

/* The active raters ordered by group (groups numbered by first appearance). */
static int group_raters(struct votes_kept *k)
{
	size_t n = k->raters, groups = 0;
	for (size_t a = 0; a < n; a++)
		groups = votes_rated_group(k->rated, a) + 1 > groups ? votes_rated_group(k->rated, a) + 1 : groups;
	k->groups = groups;
	k->group_first = calloc(groups + 1, sizeof *k->group_first);
	k->by_group = malloc((n ? n : 1) * sizeof *k->by_group);
	if (!k->group_first || !k->by_group)
		return -1;
	for (size_t a = 0; a < n; a++)
		k->group_first[votes_rated_group(k->rated, a) + 1]++;
	for (size_t g = 0; g < groups; g++)
		k->group_first[g + 1] += k->group_first[g];
	size_t *fill = calloc(groups + 1, sizeof *fill);
	if (!fill)
		return -1;
	for (size_t a = 0; a < n; a++) {
		uint32_t g = votes_rated_group(k->rated, a);
		k->by_group[k->group_first[g] + fill[g]++] = a;
	}
	free(fill);
	return 0;
}

void votes_keep_rating(struct votes_kept *k, struct votes_rated *d)
{
	k->rated = d;
	k->raters = votes_rated_raters(d);
	k->method = RATING;
}

/* Scratch for rating replicates, once. */
static int rating_ready(struct votes_kept *k, size_t teams)
{
	if (k->mult)
		return 0;
	k->mult = calloc(k->raters + 1, sizeof *k->mult);
	k->drawn = calloc(k->raters + 1, sizeof *k->drawn);
	k->work = calloc(4 * (teams ? teams : 1), sizeof *k->work);
	return k->mult && k->drawn && k->work ? group_raters(k) : -1;
}

/* Each group's raters drawn with replacement from that group, in group order. */
static void draw_within_groups(struct votes_kept *k, struct kv_rng *rng)
{
	for (size_t g = 0; g < k->groups; g++) {
		size_t first = k->group_first[g], n = k->group_first[g + 1] - first;
		votes_resample(rng, k->drawn, n);
		for (size_t i = 0; i < n; i++)
			k->mult[k->by_group[first + i]] = k->drawn[i];
	}
}

static int rating_resample(struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate)
{
	struct kv_rng rng;
	if (rating_ready(k, h->team_count(ctx)))
		return nomem(h, ctx);
	h->rng_stream(ctx, "resample", replicate, &rng);
	draw_within_groups(k, &rng);
	votes_rated_score(k->rated, h, ctx, k->mult, k->work);
	return KV_OK;
}

static int rating_leave_out(struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
			    const char **unit_id)
{
	*unit_id = NULL;
	if (unit >= k->raters)
		return KV_OK;
	if (rating_ready(k, h->team_count(ctx)))
		return nomem(h, ctx);
	for (size_t a = 0; a < k->raters; a++)
		k->mult[a] = a != unit;
	*unit_id = votes_rated_name(k->rated, unit);
	votes_rated_score(k->rated, h, ctx, k->mult, k->work);
	return KV_OK;
}

/* --- pairwise: the judges with the most ballots ---------------------------------- */

/* A judge's ballots, from the offsets of the ballots grouped by judge. */
static size_t ballots_of(const size_t *off, size_t j)
{
	return off[j + 1] - off[j];
}

/* Does judge a come before judge b (more ballots, then first appearance)? */
static int before(const size_t *off, size_t a, size_t b)
{
	size_t na = ballots_of(off, a), nb = ballots_of(off, b);
	return na != nb ? na > nb : a < b;
}

/* The top `want` judges, most first, by insertion into a short sorted list
 * (a judge that does not beat the last one costs one comparison). */
static size_t pick(const size_t *off, size_t judges, size_t want, size_t *top)
{
	size_t n = 0;
	for (size_t j = 0; j < judges; j++) {
		if (!ballots_of(off, j) || (n == want && !before(off, j, top[n - 1])))
			continue;
		size_t i = n < want ? n++ : n - 1;
		for (; i > 0 && before(off, j, top[i - 1]); i--)
			top[i] = top[i - 1];
		top[i] = j;
	}
	return n;
}

/* Copy the ids of the picked judges out of the ids' text. */
static int name_top(struct votes_kept *k, const struct votes_tally *t, const size_t *top)
{
	k->top_id = calloc(k->ntop + 1, sizeof *k->top_id);
	if (!k->top_id)
		return -1;
	for (size_t i = 0; i < k->ntop; i++)
		if (!(k->top_id[i] = strdup(t->judge_ids + t->judge_off[top[i]])))
			return -1;
	return 0;
}

/* The picked judges' ballot codes, grouped per judge in pick order. */
static int collect_codes(struct votes_kept *k, const uint32_t *codes, const size_t *off, const size_t *top)
{
	size_t total = 0;
	k->top_first = calloc(k->ntop + 1, sizeof *k->top_first);
	for (size_t i = 0; k->top_first && i < k->ntop; i++) {
		total += ballots_of(off, top[i]);
		k->top_first[i + 1] = total;
	}
	k->top_codes = malloc((total ? total : 1) * sizeof *k->top_codes);
	if (!k->top_first || !k->top_codes)
		return -1;
	for (size_t i = 0; i < k->ntop; i++)
		memcpy(k->top_codes + k->top_first[i], codes + off[top[i]], ballots_of(off, top[i]) * sizeof *codes);
	return 0;
}

int votes_keep_top_judges(struct votes_kept *k, struct votes_tally *t, const uint32_t *codes, const size_t *off,
			  size_t models)
{
	size_t *top = malloc(VOTES_TOP_JUDGES * sizeof *top);
	int rc = top ? 0 : -1;
	k->ntop = rc ? 0 : pick(off, t->judge_count, VOTES_TOP_JUDGES, top);
	rc = rc ? rc : collect_codes(k, codes, off, top);
	rc = rc ? rc : name_top(k, t, top);
	size_t outcomes = votes_codes(models);
	k->code_lo = rc ? NULL : malloc(2 * (outcomes ? outcomes : 1) * sizeof *k->code_lo);
	if (!k->code_lo)
		rc = -1;
	else
		votes_code_models(models, k->code_lo, k->code_hi = k->code_lo + outcomes);
	free(t->judge_ids);
	free(t->judge_off);
	t->judge_ids = NULL;
	t->judge_off = NULL;
	free(top);
	return rc;
}

int votes_keep_pairwise(struct votes_kept *k, struct votes_classes *C, const double *w, const double *g,
			size_t models, size_t teams, size_t ref, double prior)
{
	size_t kk = models * models;
	k->w0 = malloc(kk * sizeof *k->w0);
	k->w = malloc(kk * sizeof *k->w);
	k->g0 = malloc(models * sizeof *k->g0);
	k->g = malloc(models * sizeof *k->g);
	k->wr = malloc(models * sizeof *k->wr);
	if (!k->w0 || !k->w || !k->g0 || !k->g || !k->wr)
		return -1;
	memcpy(k->w0, w, kk * sizeof *w);
	memcpy(k->g0, g, models * sizeof *g);
	k->judges = *C;
	*C = (struct votes_classes){0};
	k->k = models;
	k->teams = teams;
	k->ref = ref;
	k->prior = prior;
	k->method = PAIRWISE;
	return 0;
}

/* --- pairwise: replicates and leaving a judge out ---------------------------------- */

static void set_winrates(const struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx,
			 const double *wr)
{
	const char *unit = k->ref < k->k ? "predicted win probability against the reference"
					 : "mean predicted win probability";
	for (size_t i = 0; i < k->teams; i++) {
		h->set_value(ctx, i, wr[i], unit);
		h->set_normalized(ctx, i, wr[i]);
	}
}

/* Replicates [first, first + BATCH): the class draw of boot.c, one stream
 * per replicate, so a replicate's fit does not depend on the batch or the
 * threads. */
static int fit_batch(struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx, uint64_t first)
{
	struct kv_rng *streams = calloc(BATCH, sizeof *streams);
	double *elo = calloc(BATCH * k->k, sizeof *elo);
	if (!k->batch_norm) {
		k->batch_norm = calloc(BATCH * k->k, sizeof *k->batch_norm);
		k->batch_ok = calloc(BATCH, 1);
	}
	int rc = streams && elo && k->batch_norm && k->batch_ok ? 0 : -1;
	for (size_t r = 0; rc == 0 && r < BATCH; r++)
		h->rng_stream(ctx, "resample", first + r, &streams[r]);
	struct votes_boot B = {.k = k->k, .ref = k->ref, .rounds = BATCH, .C = &k->judges, .g0 = k->g0,
			       .w0 = k->w0, .prior = k->prior, .streams = streams, .elo = elo,
			       .norm = k->batch_norm, .ok = k->batch_ok};
	if (rc == 0)
		rc = votes_boot_run(&B);
	k->batch_first = first;
	k->batch_count = rc ? 0 : BATCH;
	free(streams);
	free(elo);
	return rc;
}

static int pairwise_resample(struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate)
{
	if (!k->batch_count || replicate < k->batch_first || replicate - k->batch_first >= k->batch_count)
		if (fit_batch(k, h, ctx, replicate - replicate % BATCH))
			return nomem(h, ctx);
	size_t r = (size_t)(replicate - k->batch_first);
	if (k->batch_ok[r])
		set_winrates(k, h, ctx, k->batch_norm + r * k->k);
	return KV_OK;
}

/* The doubled win table without judge i's ballots (2 per win, 1 per tie each way). */
static void table_without(struct votes_kept *k, size_t i)
{
	size_t m = k->k;
	memcpy(k->w, k->w0, m * m * sizeof *k->w);
	for (size_t e = k->top_first[i]; e < k->top_first[i + 1]; e++) {
		uint32_t code = k->top_codes[e];
		size_t lo = k->code_lo[code], hi = k->code_hi[code];
		if (code % 3 == VOTES_LO_WON)
			k->w[lo * m + hi] -= 2;
		else if (code % 3 == VOTES_HI_WON)
			k->w[hi * m + lo] -= 2;
		else {
			k->w[lo * m + hi] -= 1;
			k->w[hi * m + lo] -= 1;
		}
	}
}

static int pairwise_leave_out(struct votes_kept *k, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
			      const char **unit_id)
{
	*unit_id = unit < k->ntop ? k->top_id[unit] : NULL;
	if (!*unit_id)
		return KV_OK;
	table_without(k, unit);
	if (votes_bt_refit(k->w, k->k, k->g0, NULL, k->g) >= 0) {
		votes_bt_winrate(k->g, k->k, k->ref, k->wr);
		set_winrates(k, h, ctx, k->wr);
	}
	return KV_OK;
}

/* --- the descriptor's entries --------------------------------------------------- */

int votes_resample_unit_of(void *state, const char **unit)
{
	const struct votes_kept *k = state;
	*unit = k->method == RATING ? "rater" : k->method == PAIRWISE ? "judge" : NULL;
	return KV_OK;
}

int votes_resample_entry(void *state, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate)
{
	struct votes_kept *k = state;
	if (k->method == RATING)
		return rating_resample(k, h, ctx, replicate);
	return k->method == PAIRWISE ? pairwise_resample(k, h, ctx, replicate) : KV_OK;
}

int votes_leave_out_entry(void *state, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
			  const char **unit_id)
{
	struct votes_kept *k = state;
	*unit_id = NULL;
	if (k->method == RATING)
		return rating_leave_out(k, h, ctx, unit, unit_id);
	return k->method == PAIRWISE ? pairwise_leave_out(k, h, ctx, unit, unit_id) : KV_OK;
}

/* Evidence for the report's charts (matrix.h).  Counts only, from tables
 * the methods already hold: nothing here changes a score. */
#include "matrix.h"

#include <stdio.h>
#include <stdlib.h>

static void model_names(const struct pw *pw)
{
	for (size_t i = 0; i < pw->k; i++) {
		char key[64];
		int team = i < pw->teams;
		snprintf(key, sizeof key, "matrix.%s.%zu", team ? "team" : "anchor", i + 1);
		pw->h->evidence_str(pw->ctx, KV_ROUND, key, "%s", team ? pw->h->team_id(pw->ctx, i) : pw->names[i].s);
	}
}

void votes_matrix_evidence(const struct pw *pw)
{
	size_t k = pw->k;
	model_names(pw);
	for (size_t a = 0; a < k; a++)
		for (size_t b = 0; b < k; b++) {
			if (a == b)
				continue;
			uint64_t ties = pw->t.ties[a < b ? a * k + b : b * k + a];
			uint64_t wins = pw->t.wins[a * k + b], losses = pw->t.wins[b * k + a];
			char key[64];
			snprintf(key, sizeof key, "matrix.%zu.%zu.battles", a + 1, b + 1);
			pw->h->evidence_num(pw->ctx, KV_ROUND, key, (double)(wins + losses + ties));
			snprintf(key, sizeof key, "matrix.%zu.%zu.wins", a + 1, b + 1);
			pw->h->evidence_num(pw->ctx, KV_ROUND, key, (double)wins);
		}
}

/* More groups than this are shown as one ("all"): a rater's group comes
 * from the file, so without the groups param their number is unbounded. */
#define HISTOGRAM_MAX_GROUPS 16
#define HISTOGRAM_MAX_BINS 10

struct bins { long long first, width, count; };

/* One bin per score on scales of up to 10 steps, else 10 equal bins. */
static struct bins bins_of(const struct votes_histogram_in *in)
{
	long long span = in->scale_max - in->scale_min + 1;
	long long width = (span + HISTOGRAM_MAX_BINS - 1) / HISTOGRAM_MAX_BINS;
	return (struct bins){in->scale_min, width, (span + width - 1) / width};
}

static size_t bin_of(const struct bins *b, double score)
{
	long long i = (long long)((score - (double)b->first) / (double)b->width);
	return (size_t)(i < 0 ? 0 : i >= b->count ? b->count - 1 : i);
}

/* Groups with a counted rating, in order of first appearance; 0 when
 * there are too many to show apart. */
static size_t used_groups(const struct votes_histogram_in *in, unsigned char *used)
{
	size_t n = 0;
	for (size_t e = 0; e < in->raters; e++)
		for (size_t t = 0; t < in->teams; t++)
			if (in->count[e * in->teams + t])
				used[in->rater_group[e]] = 1;
	for (size_t g = 0; g < in->groups->count; g++)
		n += used[g];
	return n <= HISTOGRAM_MAX_GROUPS ? n : 0;
}

static void team_histogram(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_histogram_in *in,
			   const struct bins *b, size_t t, long group, uint64_t *cnt)
{
	for (long long i = 0; i < b->count; i++)
		cnt[i] = 0;
	for (size_t e = 0; e < in->raters; e++)
		if (in->count[e * in->teams + t] && (group < 0 || in->rater_group[e] == (uint32_t)group))
			cnt[bin_of(b, in->score[e * in->teams + t])]++;
	for (long long i = 0; i < b->count; i++) {
		char key[300];
		snprintf(key, sizeof key, "histogram.%.200s.%lld", group < 0 ? "all"
			 : votes_intern_name(in->groups, (size_t)group), b->first + i * b->width);
		h->evidence_num(ctx, t, key, (double)cnt[i]);
	}
}

int votes_histogram_evidence(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_histogram_in *in)
{
	struct bins b = bins_of(in);
	unsigned char *used = calloc(in->groups->count ? in->groups->count : 1, 1);
	uint64_t *cnt = malloc((size_t)b.count * sizeof *cnt);
	if (!used || !cnt) {
		free(used);
		free(cnt);
		return KV_ERR_INTERNAL;
	}
	int apart = used_groups(in, used) > 0;
	h->evidence_num(ctx, KV_ROUND, "histogram.first_bin", (double)b.first);
	h->evidence_num(ctx, KV_ROUND, "histogram.bin_width", (double)b.width);
	h->evidence_num(ctx, KV_ROUND, "histogram.bins", (double)b.count);
	for (size_t t = 0; t < in->teams; t++)
		for (size_t g = 0; g < (apart ? in->groups->count : 1); g++)
			if (!apart || used[g])
				team_histogram(h, ctx, in, &b, t, apart ? (long)g : -1, cnt);
	free(used);
	free(cnt);
	return KV_OK;
}

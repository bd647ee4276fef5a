/* benchmarks: the descriptor, the order of the work, and small helpers. */
#include "benchmarks.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct kv_param_decl params[] = {
	{"scores", KV_T_PATH, 1, NULL, NULL,
	 "CSV/JSONL team,benchmark,run,score, or a folder of {team}/ folders of lm-eval results files (one per run)"},
	{"benchmarks", KV_T_LIST, 0, NULL, NULL,
	 "( { name; task; metric; weight = 1.0; higher_is_better = true; }, ... ); default: all in scores"},
	{"files", KV_T_STRING, 0, "results_*.json", NULL,
	 "lm-eval folders: glob naming the run files inside each team folder"},
	{"normalize", KV_T_STRING, 0, "scale", "scale|target|reference|best",
	 "ratio: s/scale_max, s/the team's target, (s-baseline)/(reference-baseline), s/best team's"},
	{"scale_max", KV_T_FLOAT, 0, "100", NULL,
	 "scale: the score worth ratio 1 (100 for points, 1 for lm-eval fractions)"},
	{"targets", KV_T_PATH, 0, NULL, NULL,
	 "target: team,benchmark,target_model,score; also names the benchmarks each team is scored on"},
	{"reference", KV_T_PATH, 0, NULL, NULL,
	 "reference: benchmark,score[,baseline] (baseline default 0)"},
	{"cap", KV_T_FLOAT, 0, "1.0", NULL,
	 "each ratio is clipped to [0, cap]; the normalized score is then clipped to 1"},
	{"verify", KV_T_PATH, 0, NULL, NULL,
	 "a verifier's re-runs team,benchmark,score, compared with the team's mean"},
	{"verify_tolerance", KV_T_FLOAT, 0, "0.01", NULL,
	 "largest allowed |verifier's mean - team's mean|, in score units"},
	{"verify_fail", KV_T_STRING, 0, "report", "report|error",
	 "a re-run outside the tolerance: report it as evidence, or stop the run"},
	{"target_share", KV_T_FLOAT, 0, "0.95", NULL,
	 "evidence: share of a team's benchmarks whose ratio reaches this (the 95% goal)"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

int bm_oom(struct bm *b)
{
	b->h->error(b->ctx, "out of memory");
	return KV_ERR_INTERNAL;
}

/* The array with room for `need` elements, or NULL (the old array intact). */
void *bm_grow(void *array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return array;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *p = n <= SIZE_MAX / size ? realloc(array, n * size) : NULL;
	if (p)
		*cap = n;
	return p;
}

/* A copy of s owned by the plugin until evaluate returns (NULL when out of memory). */
const char *bm_keep(struct bm *b, const char *s)
{
	char **pool = bm_grow(b->pool, &b->pool_cap, b->npool + 1, sizeof *pool);
	if (!pool)
		return NULL;
	b->pool = pool;
	char *c = strdup(s);
	if (c)
		b->pool[b->npool++] = c;
	return c;
}

struct bm_cell *bm_cell(struct bm *b, size_t team, size_t bench)
{
	return &b->cells[team * b->nbench + bench];
}

int bm_add_bench(struct bm *b, const struct bm_bench *x)
{
	struct bm_bench *p = bm_grow(b->benches, &b->bench_cap, b->nbench + 1, sizeof *p);
	if (!p)
		return bm_oom(b);
	b->benches = p;
	b->benches[b->nbench++] = *x;
	return 0;
}

int bm_add_obs(struct bm *b, const struct bm_obs *x)
{
	struct bm_obs *p = bm_grow(b->obs, &b->obs_cap, b->nobs + 1, sizeof *p);
	if (!p)
		return bm_oom(b);
	b->obs = p;
	b->obs[b->nobs++] = *x;
	return 0;
}

int bm_add_target(struct bm *b, const struct bm_target *x)
{
	struct bm_target *p = bm_grow(b->targets, &b->targets_cap, b->ntargets + 1, sizeof *p);
	if (!p)
		return bm_oom(b);
	b->targets = p;
	b->targets[b->ntargets++] = *x;
	return 0;
}

long bm_bench_index(const struct bm *b, const char *name)
{
	for (size_t i = 0; i < b->nbench; i++)
		if (strcmp(b->benches[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Without a `benchmarks` list: every name in the targets (normalize = target,
 * each team's own choice) or in the scores, in bytewise order, weight 1. */
static int default_benchmarks(struct bm *b)
{
	size_t n = b->norm == BM_TARGET ? b->ntargets : b->nobs;
	const char **names = malloc((n ? n : 1) * sizeof *names);
	if (!names)
		return bm_oom(b);
	for (size_t i = 0; i < n; i++)
		names[i] = b->norm == BM_TARGET ? b->targets[i].bench_name : b->obs[i].bench_name;
	qsort(names, n, sizeof *names, cmp_names);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		struct bm_bench x = {.name = names[i], .weight = 1.0, .higher = 1};
		rc = bm_add_bench(b, &x);
	}
	free(names);
	if (!rc && b->nbench == 0)
		rc = b->h->error(b->ctx, "%s: no scores", b->norm == BM_TARGET ? b->targets_path : b->scores);
	return rc;
}

/* Tie every score and target to its benchmark; scores of unlisted
 * benchmarks are left out (a shared scores file may hold other groups). */
static int settle_benchmarks(struct bm *b)
{
	int rc = b->nbench ? 0 : default_benchmarks(b);
	for (size_t i = 0; !rc && i < b->nobs; i++)
		b->obs[i].bench = bm_bench_index(b, b->obs[i].bench_name);
	for (size_t i = 0; !rc && i < b->ntargets; i++)
		if (bm_bench_index(b, b->targets[i].bench_name) < 0)
			rc = b->h->error(b->ctx, "%s:%ld: column 'benchmark': '%s' is not in the param "
					 "benchmarks", b->targets_path, b->targets[i].line,
					 b->targets[i].bench_name);
	return rc;
}

static int read_scores(struct bm *b)
{
	int kind = strstr(b->scores, "{team}") ? 2 : b->h->input_kind(b->ctx, b->scores);
	if (kind == 0)
		return b->h->error(b->ctx, "%s: no such file or folder (param 'scores')", b->scores);
	return kind == 2 ? bm_read_lmeval(b) : bm_read_score_table(b);
}

static int run(struct bm *b)
{
	int rc = bm_read_params(b);
	rc = rc ? rc : read_scores(b);
	if (!rc && b->norm == BM_TARGET)
		rc = bm_read_targets(b);
	rc = rc ? rc : settle_benchmarks(b);
	if (!rc && b->norm == BM_REFERENCE)
		rc = bm_read_reference(b);
	rc = rc ? rc : bm_build_cells(b);
	if (!rc && b->verify_path)
		rc = bm_read_verify(b);
	return rc ? rc : bm_score(b);
}

static int benchmarks_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)h;
	(void)ctx;
	*state = calloc(1, sizeof(struct bm));
	return *state ? KV_OK : KV_ERR_INTERNAL;
}

/* What evaluate read stays in the state until close, for resampling. */
static int benchmarks_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	struct bm *b = state;
	if (KV_HOST_REQUIRE(h, ctx, table_number))
		return KV_ERR_INTERNAL;
	b->h = h;
	b->ctx = ctx;
	return run(b);
}

static int benchmarks_resample(void *state, const struct kv_host *h, struct kv_ctx *ctx,
			       uint64_t replicate)
{
	struct bm *b = state;
	struct kv_rng rng;
	b->h = h;
	b->ctx = ctx;
	h->rng_stream(ctx, "resample", replicate, &rng);
	return bm_resample(b, &rng);
}

static int benchmarks_leave_out(void *state, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
				const char **unit_id)
{
	struct bm *b = state;
	b->h = h;
	b->ctx = ctx;
	*unit_id = unit < b->nbench ? b->benches[unit].name : NULL;
	if (*unit_id)
		bm_score_without(b, unit);
	return KV_OK;
}

static void benchmarks_close(void *state)
{
	struct bm *b = state;
	for (size_t i = 0; i < b->npool; i++)
		free(b->pool[i]);
	free(b->pool);
	free(b->benches);
	free(b->obs);
	free(b->targets);
	free(b->cells);
	free(b);
}

KAIEVAL_PLUGIN_DEFINE(benchmarks,
	.kinds = KV_KIND_SCORE | KV_KIND_INFO,
	.version = "1.1.0",
	.summary = "model performance from benchmark score tables or lm-evaluation-harness results",
	.params = params,
	.open = benchmarks_open,
	.evaluate = benchmarks_evaluate,
	.close = benchmarks_close,
	.resample_unit = "run",
	.resample = benchmarks_resample,
	.leave_out = benchmarks_leave_out);

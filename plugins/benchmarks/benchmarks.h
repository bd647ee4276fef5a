/* benchmarks: model performance from benchmark results (criteria.md, "benchmarks").
 *
 * The plugin works in four steps, one source file each:
 *   params.c  reads and checks the params and the `benchmarks` list;
 *   tables.c  reads the CSV/JSONL tables (scores, targets, reference, verify);
 *   lmeval.c  reads folders of lm-evaluation-harness results files;
 *   score.c   groups runs per (team, benchmark), normalizes and reports.
 * Every score read becomes one `struct obs`; everything else hangs off `struct bm`. */
#ifndef BENCHMARKS_H
#define BENCHMARKS_H

/* The largest score read: beyond it, means, deviations and ratios of
 * scores could overflow, and no benchmark reports such a number. */
#define BM_SCORE_MAX 1e15

#include <kaieval/plugin.h>
#include <stddef.h>

enum bm_normalize { BM_SCALE, BM_TARGET, BM_REFERENCE, BM_BEST };

/* One benchmark a team may be scored on. */
struct bm_bench {
	const char *name;
	const char *task;             /* lm-eval: results.<task> */
	const char *metric;           /* lm-eval: "<metric>,<filter>" or a legacy bare name */
	double weight;
	int higher;                   /* 1: higher scores are better */
	const struct kv_value *decl;  /* its group in `benchmarks`, or NULL */
	double ref, baseline;         /* normalize = reference */
	int has_ref;
	long ref_line;
};

/* One score: a run of (team, benchmark). */
struct bm_obs {
	size_t team;
	const char *bench_name;
	long bench;                   /* index into bm.benches, -1 when not listed */
	const char *run;              /* the `run` field, or the lm-eval file's name */
	double score;
	const char *file;
	long line;                    /* 0 for JSON files */
	long n_eff, n_orig;           /* lm-eval n-samples, -1 when absent */
	const char *version;          /* lm-eval versions.<task>, or NULL */
};

/* One row of the targets file. */
struct bm_target {
	size_t team;
	const char *bench_name;
	const char *model;
	double score;
	long line;
};

/* One (team, benchmark). */
struct bm_cell {
	int scored;                   /* the team is scored on this benchmark */
	size_t first, nruns;          /* its runs: bm.obs[first .. first + nruns) */
	double mean, sd;
	double target;                /* normalize = target */
	const char *target_model;
	double verify_sum;            /* the verifier's re-runs */
	size_t verify_n;
	long verify_line;
	double ratio, capped;
};

struct bm {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	/* params */
	const char *scores, *files, *targets_path, *reference_path, *verify_path;
	const struct kv_value *bench_param;
	enum bm_normalize norm;
	double scale_max, cap, tolerance, target_share;
	int verify_fatal;
	/* data */
	size_t nteams;
	struct bm_bench *benches;
	size_t nbench, bench_cap;
	struct bm_obs *obs;
	size_t nobs, obs_cap;
	struct bm_target *targets;
	size_t ntargets, targets_cap;
	struct bm_cell *cells;        /* nteams x nbench, row per team */
	char **pool;                  /* strings owned by the plugin */
	size_t npool, pool_cap;
};

/* benchmarks.c: memory that reports its own failure. */
void *bm_grow(void *array, size_t *cap, size_t need, size_t size);
int bm_add_bench(struct bm *b, const struct bm_bench *x);
int bm_add_obs(struct bm *b, const struct bm_obs *x);
int bm_add_target(struct bm *b, const struct bm_target *x);
const char *bm_keep(struct bm *b, const char *s);
int bm_oom(struct bm *b);
struct bm_cell *bm_cell(struct bm *b, size_t team, size_t bench);
long bm_bench_index(const struct bm *b, const char *name);

/* params.c */
int bm_read_params(struct bm *b);
int bm_read_bench_list(struct bm *b);

/* tables.c */
int bm_read_score_table(struct bm *b);
int bm_read_targets(struct bm *b);
int bm_read_reference(struct bm *b);
int bm_read_verify(struct bm *b);

/* lmeval.c */
int bm_read_lmeval(struct bm *b);

/* score.c */
int bm_build_cells(struct bm *b);
int bm_score(struct bm *b);
/* One replicate: each (team, benchmark) with several runs gets as many
 * runs drawn with replacement; outcomes set without evidence. */
int bm_resample(struct bm *b, struct kv_rng *rng);
/* The outcomes without benchmark `skip` (a team scored on no other keeps its own). */
void bm_score_without(struct bm *b, size_t skip);

#endif

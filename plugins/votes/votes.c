/* votes: user evaluation (criteria.md, "votes"; kaieval-votes(7)).
 *
 * This file holds the descriptor, the checks that apply to both methods and
 * the helpers they share: percentiles, bootstrap resampling and running
 * replicates on several threads. */
#include "votes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct kv_param_decl params[] = {
	{"method", KV_T_STRING, 0, "rating", "rating|pairwise",
	 "rating: absolute scores per rater and team; pairwise: Chatbot Arena battles (Bradley-Terry)"},
	{"ratings", KV_T_PATH, 0, NULL, NULL,
	 "rating: CSV/JSONL with columns rater,group,team,score,seconds[,timestamp]"},
	{"battles", KV_T_PATH, 0, NULL, NULL,
	 "pairwise: JSON array or JSONL of battles (model_a, model_b, winner, judge, question_id, tstamp), "
	 "or a CSV table of them (a name ending in .csv)"},
	{"groups", KV_T_LIST, 0, NULL, NULL, "rating: rater groups that count (default: all)"},
	{"scale_min", KV_T_INT, 0, "1", NULL, "rating: lowest score on the scale"},
	{"scale_max", KV_T_INT, 0, "5", NULL, "rating: highest score on the scale"},
	{"min_seconds", KV_T_FLOAT, 0, "180", NULL, "rating: ratings after less use (seconds) are excluded"},
	{"normalize", KV_T_STRING, 0, NULL, "scale|best|range|winrate",
	 "rating: scale (default) = mean/scale_max, best = sum/best sum, range = (mean-min)/(max-min); "
	 "pairwise: winrate (default) = mean predicted win probability"},
	{"models", KV_T_GROUP, 0, NULL, NULL,
	 "pairwise: team id -> model name used in the battle file (default: the team id)"},
	{"reference_team", KV_T_STRING, 0, NULL, NULL,
	 "pairwise: normalize by the predicted win probability against this team only"},
	{"anchors", KV_T_LIST, 0, NULL, NULL,
	 "pairwise: models in the fit that are not teams of the round (e.g. frontier models)"},
	{"reference_model", KV_T_STRING, 0, NULL, NULL,
	 "pairwise: normalize by the predicted win probability against this model (a team's or an anchor)"},
	{"unknown_models", KV_T_STRING, 0, NULL, "error|ignore",
	 "pairwise: a battle of a model neither a team's nor an anchor: error (default) or ignore (counted)"},
	{"prior", KV_T_FLOAT, 0, NULL, NULL,
	 "pairwise: ties added between every two models, so that a model that only wins or only loses "
	 "still has an estimate (default 0: none)"},
	{"anonymous_only", KV_T_BOOL, 0, "true", NULL,
	 "pairwise: battles with \"anony\": false are excluded (as Chatbot Arena does)"},
	{"require_question_id", KV_T_BOOL, 0, "false", NULL,
	 "pairwise: a battle without question_id is an error (else it is a ballot of its own)"},
	{"bootstrap", KV_T_INT, 0, "1000", NULL,
	 "resamples of raters/judges for the 95% intervals (evidence); 0 = none"},
	{"bootstrap_unit", KV_T_STRING, 0, NULL, "judge|battle",
	 "pairwise: what a resample draws: judge (default; all ballots of a judge) or battle (Chatbot Arena)"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

/* A param given for the other method is a mistake in the config. */
static int refuse(const struct kv_host *h, struct kv_ctx *ctx, const char *name, const char *method)
{
	const struct kv_value *v = h->param(ctx, name);
	return v ? h->value_error(ctx, v, "applies to method '%s' only", method) : KV_OK;
}

static int check_method_params(const struct kv_host *h, struct kv_ctx *ctx, int pairwise,
			       const char *normalize)
{
	static const char *const rating_only[] = {"ratings", "groups", NULL};
	static const char *const pairwise_only[] = {"battles", "models", "reference_team", "bootstrap_unit",
						    "anchors", "reference_model", "unknown_models", "prior", NULL};
	const char *const *other = pairwise ? rating_only : pairwise_only;
	int rc = KV_OK;
	for (size_t i = 0; rc == KV_OK && other[i]; i++)
		rc = refuse(h, ctx, other[i], pairwise ? "rating" : "pairwise");
	if (rc == KV_OK && normalize && pairwise != (strcmp(normalize, "winrate") == 0))
		rc = h->value_error(ctx, h->param(ctx, "normalize"), "'%s' does not apply to method '%s'%s",
				    normalize, pairwise ? "pairwise" : "rating",
				    pairwise ? " (use winrate)" : " (use scale, best or range)");
	return rc;
}

static int votes_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)h;
	(void)ctx;
	*state = votes_kept_new();
	return *state ? KV_OK : KV_ERR_INTERNAL;
}

static void votes_close(void *state)
{
	votes_kept_free(state);
}

static int votes_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	if (KV_HOST_REQUIRE(h, ctx, table_number))
		return KV_ERR_INTERNAL;
	struct votes_common c = {.keep = state};
	const struct kv_value *method = h->param(ctx, "method");
	const struct kv_value *bootstrap = h->param(ctx, "bootstrap");
	int pairwise = strcmp(h->value_string(method), "pairwise") == 0;
	c.normalize = h->value_string(h->param(ctx, "normalize"));
	if (!h->value_int(bootstrap, &c.bootstrap) || c.bootstrap < 0 || c.bootstrap > 1000000)
		return h->value_error(ctx, bootstrap, "must be between 0 and 1000000");
	int rc = check_method_params(h, ctx, pairwise, c.normalize);
	if (rc != KV_OK)
		return rc;
	return pairwise ? votes_pairwise(h, ctx, &c) : votes_rating(h, ctx, &c);
}

/* --- shared helpers ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double votes_quantile(double *x, size_t n, double p)
{
	qsort(x, n, sizeof *x, cmp_double);
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)h;
	if (lo + 1 >= n)
		return x[n - 1];
	return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* The processors online, at most 16, or fewer where KAIEVAL_THREADS says
 * (no result depends on it: every replicate goes to its own slot). */
unsigned votes_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	const char *cap = getenv("KAIEVAL_THREADS");
	long most = cap ? strtol(cap, NULL, 10) : 0;
	if (most >= 1 && most < n)
		n = most;
	return n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
}

/* The first write to each 4 KB page is a page fault, and on a virtual
 * machine one costs 5-14 us: the ballot lists of 10^7 battles alone took
 * 0.3 s of faults (perf).  A 2 MB page is one fault for 512 of them. */
void *votes_huge_alloc(size_t bytes)
{
	size_t rounded = (bytes + VOTES_HUGE_PAGE - 1) & ~(VOTES_HUGE_PAGE - 1);
	void *p;
	if (!bytes || rounded < bytes || posix_memalign(&p, VOTES_HUGE_PAGE, rounded))
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE); /* advice: without it, plain pages */
#endif
	return p;
}

void votes_code_models(size_t k, uint16_t *lo, uint16_t *hi)
{
	size_t x = 0;
	for (size_t a = 0; a < k; a++)
		for (size_t b = a + 1; b < k; b++)
			for (int what = 0; what < 3; what++, x++) {
				lo[x] = (uint16_t)a;
				hi[x] = (uint16_t)b;
			}
}

void *votes_huge_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (n * size < VOTES_HUGE_PAGE)
		return calloc(n ? n : 1, size ? size : 1);
	void *p = votes_huge_alloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *votes_huge_realloc(void *p, size_t used, size_t bytes)
{
	if (bytes < VOTES_HUGE_PAGE)
		return realloc(p, bytes);
	void *q = votes_huge_alloc(bytes);
	if (q) {
		if (p)
			memcpy(q, p, used < bytes ? used : bytes);
		free(p);
	}
	return q;
}

struct worker {
	pthread_t thread;
	size_t first, step, count;
	size_t *next; /* shared: the next task not taken (NULL: a fixed split) */
	unsigned index;
	void (*fn)(void *arg, size_t b, unsigned thread);
	void *arg;
};

/* Tasks first, first + step, ... (a fixed split), or whichever task is
 * next when this thread is free: tasks of unequal cost then keep every
 * thread busy to the end. */
static void *work(void *p)
{
	struct worker *w = p;
	if (w->next)
		for (size_t b; (b = __atomic_fetch_add(w->next, 1, __ATOMIC_RELAXED)) < w->count;)
			w->fn(w->arg, b, w->index);
	else
		for (size_t b = w->first; b < w->count; b += w->step)
			w->fn(w->arg, b, w->index);
	return NULL;
}

static void run_workers(size_t count, unsigned threads, size_t *next,
			void (*fn)(void *arg, size_t b, unsigned thread), void *arg)
{
	struct worker w[16];
	threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
	for (unsigned t = 0; t < threads; t++)
		w[t] = (struct worker){.first = t, .step = threads, .count = count, .next = next, .index = t,
				       .fn = fn, .arg = arg};
	unsigned started = 0;
	while (started + 1 < threads &&
	       pthread_create(&w[started + 1].thread, NULL, work, &w[started + 1]) == 0)
		started++;
	/* The share of a thread that could not start is done here: every task runs. */
	for (unsigned t = started + 1; t < threads; t++)
		work(&w[t]);
	work(&w[0]);
	for (unsigned t = 1; t <= started; t++)
		pthread_join(w[t].thread, NULL);
}

void votes_parallel(size_t count, unsigned threads, void (*fn)(void *arg, size_t b, unsigned thread),
		    void *arg)
{
	size_t next = 0;
	run_workers(count, threads, &next, fn, arg);
}

void votes_parallel_fixed(size_t count, unsigned threads, void (*fn)(void *arg, size_t b, unsigned thread),
			  void *arg)
{
	run_workers(count, threads, NULL, fn, arg);
}

KAIEVAL_PLUGIN_DEFINE(votes,
	.kinds = KV_KIND_SCORE | KV_KIND_INFO,
	.version = "1.2.0",
	.summary = "user evaluation: 1-5 ratings by rater group, or pairwise battles (Bradley-Terry)",
	.params = params,
	.open = votes_open,
	.evaluate = votes_evaluate,
	.close = votes_close,
	.resample_unit = "rater|judge",
	.resample = votes_resample_entry,
	.leave_out = votes_leave_out_entry,
	.resample_unit_of = votes_resample_unit_of);

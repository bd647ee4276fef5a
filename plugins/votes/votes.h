/* votes: user evaluation (criteria.md, "votes") -- shared declarations.
 *
 * Two methods: `rating` (absolute scores per rater and team, rating.c) and
 * `pairwise` (Chatbot Arena battles, Bradley-Terry; pairwise.c with the
 * streaming reader in reader.c and scan.c, ingest.c, the ballot set in
 * dedup.c, the fit in bt.c and the bootstrap in classes.c, boot.c and
 * binomial.c); robust.c redraws either for kaieval robustness from what
 * evaluate kept.  Every symbol shared between the files starts with votes_ so the
 * sources can link statically beside other plugins in one test program. */
#ifndef KV_VOTES_H
#define KV_VOTES_H

#include <kaieval/plugin.h>
#include "detmath.h"

#include <stddef.h>
#include <stdint.h>

/* The percentile rule of every interval (named in evidence and the man page). */
#define VOTES_PERCENTILE_RULE "Hyndman-Fan type 7 (linear interpolation; NumPy/R default)"

/* Params shared by both methods, read once in votes.c. */
struct votes_kept;
struct votes_common {
	long long bootstrap;       /* resamples for the 95% intervals; 0 = none */
	const char *normalize;     /* NULL when the config leaves it to the method */
	struct votes_kept *keep;   /* the criterion's state: what replicates reuse (robust.c) */
};

int votes_rating(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_common *c);
int votes_pairwise(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_common *c);

/* The p-th quantile (0 <= p <= 1) of x[0..n), n > 0, sorting x in place
 * (Hyndman-Fan type 7: only + - * /, so the same bytes everywhere). */
double votes_quantile(double *x, size_t n, double p);

/* Replicate b's multiplicities: n draws with replacement from n units
 * (resample.c: Lemire's multiply-shift method, unbiased). */
void votes_resample(struct kv_rng *rng, uint32_t *mult, size_t n);
/* Run fn(arg, b, thread) for every b in [0, count) on up to `threads`
 * threads (thread < threads indexes per-thread scratch), each thread taking
 * the next task when it is free.  Results must go to slot b, so they never
 * depend on the thread count or on timing. */
void votes_parallel(size_t count, unsigned threads, void (*fn)(void *arg, size_t b, unsigned thread),
		    void *arg);
/* The same with a fixed split (thread t runs t, t + threads, ...), for fn
 * whose per-thread output depends on which tasks the thread ran. */
void votes_parallel_fixed(size_t count, unsigned threads, void (*fn)(void *arg, size_t b, unsigned thread),
			  void *arg);
unsigned votes_threads(void);

/* Memory filled front to back in large amounts (read-ahead blocks, ballot
 * lists), in 2 MB pages where the kernel offers them; free() releases it.
 * NULL out of memory. */
#define VOTES_HUGE_PAGE ((size_t)2 << 20)
void *votes_huge_alloc(size_t bytes);
/* n x size zeroed bytes, in 2 MB pages when they take one or more (as
 * calloc below): for tables read and written at random, where 4 KB pages
 * missed the TLB on most accesses. */
void *votes_huge_calloc(size_t n, size_t size);
/* realloc for arrays grown by doubling and filled front to back: from
 * 2 MB on, the first `used` bytes move to 2 MB pages (a copy, where
 * realloc would leave every new 4 KB page to fault on its first write).
 * NULL out of memory, p untouched. */
void *votes_huge_realloc(void *p, size_t used, size_t bytes);

/* The n <= 8 bytes at s as a little-endian word, zero above them.  Read
 * by whole loads: copied byte by byte into a word and read back, as a
 * memcpy of n bytes compiles, they stall the load (arena8's 20 million
 * lookups of a model name took 0.5 s more so). */
static inline uint64_t votes_word(const char *s, size_t n)
{
	const unsigned char *b = (const unsigned char *)s;
	if (n >= 8)
		return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
		       (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
	if (n >= 4) { /* two loads of 4 that overlap */
		uint64_t lo = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24;
		const unsigned char *e = b + n - 4;
		uint64_t hi = (uint64_t)e[0] | (uint64_t)e[1] << 8 | (uint64_t)e[2] << 16 | (uint64_t)e[3] << 24;
		return lo | hi << (8 * (n - 4));
	}
	if (n == 0)
		return 0;
	return (uint64_t)b[0] | (uint64_t)b[n / 2] << (8 * (n / 2)) | (uint64_t)b[n - 1] << (8 * (n - 1));
}

/* --- interned ids (intern.c) ------------------------------------------------ */

/* Distinct strings numbered 0, 1, ... in order of first appearance. */
struct votes_slot;
struct votes_intern {
	struct votes_slot *slots;
	size_t mask;
	char *text;           /* the ids, each NUL-terminated */
	size_t text_len, text_cap;
	size_t *off;          /* per index: where its text starts */
	size_t count, cap;
};
/* The index of s[0..n); *added says it is new.  -1: out of memory. */
long votes_intern(struct votes_intern *t, const char *s, size_t n, int *added);
/* The same in two steps, so that a batch of lookups can prefetch. */
uint64_t votes_intern_hash(const char *s, size_t n);
void votes_intern_prefetch(const struct votes_intern *t, uint64_t hash);
long votes_intern_hashed(struct votes_intern *t, uint64_t hash, const char *s, size_t n, int *added);
const char *votes_intern_name(const struct votes_intern *t, size_t i);
void votes_intern_free(struct votes_intern *t);

/* --- Bradley-Terry (bt.c) --------------------------------------------------- */

/* Convergence rule of the MM iteration (recorded in evidence). */
#define VOTES_BT_TOLERANCE 1e-12
#define VOTES_BT_MAX_ITER 100000
#define VOTES_BT_RULE "MM (Hunter 2004) until max_i |W_i - sum_j n_ij g_i/(g_i+g_j)| <= 1e-12 * n_i, at most 100000 iterations"

/* Fit strengths g[0..k) (sum 1) from doubled win counts w[i*k + j] (2 per
 * win of i over j, 1 per tie each way).  Returns the number of MM steps
 * taken (>= 0), or one of the negative codes below. */
enum {
	VOTES_BT_UNDETERMINED = -1,  /* a team unreachable by wins (Hunter's assumption 1) */
	VOTES_BT_SLOW = -2,          /* the rule was not met within VOTES_BT_MAX_ITER */
	VOTES_BT_NOMEM = -3
};
long votes_bt_fit(const double *w, size_t k, double *g);
/* First pair (from, to) with no path of wins from `from` to `to`; 0 when the
 * win graph is strongly connected (the MLE exists). */
int votes_bt_unreachable(const double *w, size_t k, size_t *from, size_t *to);
/* Mean predicted win probability against the others, or against `ref`
 * (ref < k); + - * / only. */
void votes_bt_winrate(const double *g, size_t k, size_t ref, double *out);
/* Elo scale: 1000 + 400 log10(g_i / geometric mean g), by kv_det_log
 * (lib/detmath), so the same bytes on every machine. */
void votes_bt_elo(const double *g, size_t k, double *elo);

/* Strongly connected by wins (the MLE exists); k^2. */
int votes_bt_connected(const double *w, size_t k);
/* The same estimate as votes_bt_fit, from `start` (a nearby estimate: the
 * bootstrap's replicates start at the point estimate): the chord method
 * with `factor` (from votes_bt_factor at a nearby table and estimate, or
 * NULL), then Newton's method, in log-strength, then the MM iteration; the
 * same rule ends it.  Steps taken, or a negative code as above. */
#define VOTES_BT_NEWTON_STEPS 50
long votes_bt_refit(const double *w, size_t k, const double *start, const double *factor, double *g);
/* The Cholesky factor of the information of the log-strengths at g for
 * table w (model k-1 held fixed), for votes_bt_refit; NULL when it is
 * singular or out of memory (free() it). */
double *votes_bt_factor(const double *w, size_t k, const double *g);

/* --- exact draws (binomial.c): + - * / only, so the same bytes everywhere -- */

/* One draw of Binomial(n, part/whole), 0 <= part <= whole, whole > 0. */
uint64_t votes_binomial(struct kv_rng *rng, uint64_t n, uint64_t part, uint64_t whole);
/* Eight at once: out[i] = votes_binomial(&rng[i], n[i], part, whole), the
 * same draws and the same states after; side by side with AVX-512
 * (votes_binomial8_usable), one after another without. */
int votes_binomial8_usable(void);
void votes_binomial8(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out);
/* For tests: the logarithm of x[i] > 0, its square root and Stirling's
 * tail at whole k[i] >= 0, as the eight lanes compute them (lanes[0..8),
 * [8..16), [16..24)) and as the draws one at a time do (alone). */
void votes_binomial8_parts(const double *x, const double *k, double *lanes, double *alone);
/* The same four at once, side by side with AVX2 (votes_binomial4_usable),
 * for n[i] < 2^52; and its parts for tests (lanes[0..4), [4..8), [8..12)). */
int votes_binomial4_usable(void);
void votes_binomial4(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out);
void votes_binomial4_parts(const double *x, const double *k, double *lanes, double *alone);

/* --- classes of exchangeable units (classes.c) ------------------------------ */

/* A ballot's code: 3 p + what, for the p-th pair lo < hi (in the order
 * (0,1), (0,2), ..., (1,2), ...) and what = 0 lo won, 1 hi won, 2 a tie. */
#define VOTES_LO_WON 0
#define VOTES_HI_WON 1
#define VOTES_TIED 2
static inline uint32_t votes_code(size_t k, size_t lo, size_t hi, int what)
{
	return (uint32_t)(3 * (lo * (2 * k - lo - 1) / 2 + hi - lo - 1) + (size_t)what);
}
static inline size_t votes_codes(size_t k) { return 3 * (k * (k - 1) / 2); }
/* Per ballot code (votes_codes(k) of them; k <= VOTES_MAX_TEAMS, see
 * ingest.h): the two models of its pair, lo[code] < hi[code]. */
void votes_code_models(size_t k, uint16_t *lo, uint16_t *hi);
struct votes_ballot_list { uint64_t *x; size_t n, cap; };  /* judge << 32 | code */
int votes_list_add(struct votes_ballot_list *l, uint32_t judge, uint32_t code);
/* Room for `more` ballots in l, at once (in 2 MB pages from 2 MB on, see
 * votes_huge_realloc); 0, or -1 out of memory. */
int votes_list_reserve(struct votes_ballot_list *l, size_t more);

struct votes_classes {
	size_t count;
	uint64_t units;            /* the sum of size */
	uint32_t *size;            /* per class: its units (judges, or ballots) */
	size_t *first;             /* per class c: entries [first[c], first[c + 1]) */
	uint32_t *code, *mult;     /* per entry: a ballot code and its count in one unit */
};
/* Judges with equal ballots merged (the lists are freed); -1 out of memory
 * (or when grouped fails).  grouped, unless NULL, is shown the ballots
 * grouped by judge first: judge j's codes are codes[off[j] .. off[j+1]),
 * in file order. */
typedef int votes_grouped_fn(void *arg, const uint32_t *codes, const size_t *off);
int votes_classes_of_judges(struct votes_ballot_list *lists, size_t nlists, size_t judges,
			    votes_grouped_fn *grouped, void *arg, struct votes_classes *C);
/* One unit per ballot, a class per distinct outcome (wins[i*k+j]: i beat j;
 * ties[lo*k+hi]). */
int votes_classes_of_ballots(const uint64_t *wins, const uint64_t *ties, size_t k, struct votes_classes *C);
void votes_classes_free(struct votes_classes *C);

/* The sandwich variance of theta_i - mean(theta) (theta = log strength)
 * at the estimate g (with `prior` ties between every two models),
 * clustered by the classes' units (sandwich.c); 0, or -1 out of memory or
 * when the information is singular. */
int votes_sandwich(const struct votes_classes *C, size_t k, const double *g, double prior, double *var);

/* --- the bootstrap (boot.c) ------------------------------------------------ */

struct votes_boot {
	size_t k, ref, rounds;
	const struct votes_classes *C;
	const double *g0;              /* the point estimate */
	const double *w0;              /* its table */
	double prior;                  /* ties added between every two models */
	struct kv_rng *streams;        /* one per replicate */
	double *elo, *norm;            /* out, per replicate: k each (undefined when !ok) */
	unsigned char *ok;             /* out: the replicate's estimate exists */
};
/* Every replicate: a multinomial draw of C->units units over the classes
 * (by their sizes), the drawn classes' ballots summed, one refit.  0, or
 * -1 out of memory. */
int votes_boot_run(struct votes_boot *B);

/* --- ballot fingerprints (siphash.c) ------------------------------------- */

struct votes_fp { uint64_t h0, h1; };   /* never all zero */
/* A ballot key as SipHash reads it: 8 bytes (pair << 32 | judge id length),
 * the judge id, the question id, padded into votes_key_words() words.  The
 * judge id's bytes start 8 bytes into words. */
size_t votes_key_words(size_t judge_len, size_t question_len);
void votes_key_write(uint64_t *words, uint32_t pair, const char *judge, size_t judge_len, const char *question,
		     size_t question_len);
/* The fingerprints (keyed SipHash-1-3, 128-bit output) of n keys written by
 * votes_key_write: key i is nwords[i] words at words + off[i]. */
void votes_fingerprint_keys(const uint64_t key[2], const uint64_t *words, const size_t *off, const size_t *nwords,
			    size_t n, struct votes_fp *out);
/* SipHash with c compression and d finalization rounds, 128-bit output, of
 * len bytes; for the test vectors. */
void votes_siphash128(uint64_t k0, uint64_t k1, int c, int d, const void *msg, size_t len, uint64_t out[2]);

/* --- the ballot set (dedup.c) --------------------------------------------- */

/* A set of 128-bit ballot fingerprints: memory 24 bytes per added ballot,
 * nothing else kept.
 * Ballots are decided in batches: decide(arg, thread, payload, first, n)
 * gets n added ballots of one group, in file order among equal keys, in
 * votes_dedup_finish(); first[i] = 1 for the first ballot of its key.
 * Groups are decided on up to `threads` threads at once (thread <
 * VOTES_DEDUP_THREADS names the caller's scratch); one group's batches
 * come on one thread, in order. */
#define VOTES_DEDUP_THREADS 16
struct votes_dedup;
typedef void votes_decide_fn(void *arg, unsigned thread, const uint64_t *payload, const unsigned char *first,
			     size_t n);
struct votes_dedup *votes_dedup_new(votes_decide_fn *decide, void *arg);
void votes_dedup_free(struct votes_dedup *d);
/* Ballots of one group are decided together (equal keys must share it; the
 * judge, say, so that decide() touches few judges at a time).  0, or -1
 * out of memory. */
int votes_dedup_add(struct votes_dedup *d, struct votes_fp fp, uint32_t group, uint64_t payload);
int votes_dedup_finish(struct votes_dedup *d, unsigned threads);
/* The threads votes_dedup_finish(d, threads) decides on: 1 to VOTES_DEDUP_THREADS. */
unsigned votes_dedup_threads(unsigned threads);
/* The most ballots votes_dedup_finish(d, threads) can decide on thread t
 * (the ballots added to its groups, duplicates included). */
size_t votes_dedup_ballots_of_thread(const struct votes_dedup *d, unsigned threads, unsigned t);
size_t votes_dedup_count(const struct votes_dedup *d);

/* --- the battle scanner (battles.c) ---------------------------------------- */

/* A string field of the current record: borrowed from the read buffer, or
 * from the scanner's scratch when it held escapes. */
struct votes_str { const char *s; size_t n; };

enum votes_winner { VOTES_A = 0, VOTES_B = 1, VOTES_TIE = 2 };

struct votes_battle {
	struct votes_str model_a, model_b, winner, judge, question;
	int has_question;          /* question_id present and not null */
	int anony;                 /* -1 absent, else the field's value */
	long line;                 /* where the record starts */
	uint64_t record;           /* 1-based */
};

struct votes_reader;
/* Open path through the host and start the read-ahead thread.  NULL: out
 * of memory; votes_reader_failed(): the host refused the file (recorded). */
struct votes_reader *votes_reader_open(const struct kv_host *h, struct kv_ctx *ctx, const char *path);
int votes_reader_failed(const struct votes_reader *r);
/* The host shows the bytes read (input_progress), so records need not be. */
int votes_reader_shows_bytes(const struct votes_reader *r);
/* 1 a record in *b (valid until the next call), 0 end of file, -1 bad
 * input or a read error (recorded through the host), -2 out of memory. */
int votes_reader_next(struct votes_reader *r, struct votes_battle *b);
/* Record "file:line: record N: field 'f': msg" for the current record. */
int votes_reader_error(struct votes_reader *r, const char *field, const char *fmt, ...) KV_PRINTF(3, 4);
void votes_reader_close(struct votes_reader *r);

/* --- what kaieval robustness reuses (robust.c) ------------------------------- */

/* Method rating's counted ratings, kept after evaluate (rating.c). */
struct votes_rated;
/* Active raters (with a counted rating), in order of first appearance:
 * their count, each one's id and group (an index, the same for one group). */
size_t votes_rated_raters(const struct votes_rated *d);
const char *votes_rated_name(const struct votes_rated *d, size_t a);
uint32_t votes_rated_group(const struct votes_rated *d, size_t a);
/* Set every team's value and normalized score with active rater a counted
 * mult[a] times, as evaluate scores; work holds 4 x teams doubles.  -1,
 * and nothing set, when a team is left without a rating (or, for
 * normalize = best, no team with a positive sum). */
int votes_rated_score(const struct votes_rated *d, const struct kv_host *h, struct kv_ctx *ctx,
		      const uint32_t *mult, double *work);
void votes_rated_free(struct votes_rated *d);

struct votes_kept *votes_kept_new(void);
void votes_kept_free(struct votes_kept *k);
/* Method rating hands over its ratings (taken: the caller drops them). */
void votes_keep_rating(struct votes_kept *k, struct votes_rated *d);
/* Method pairwise: from the counted ballots grouped by judge (codes, off
 * as votes_classes_of_judges shows them), the VOTES_TOP_JUDGES judges with
 * the most (ties: first appearance), their ids and ballots; t's judge ids
 * are freed.
 * Then the fit: the classes (taken, *C emptied), the doubled win table w
 * and estimate g of k models (copied), teams, ref and prior as in the fit.
 * 0, or -1 out of memory. */
#define VOTES_TOP_JUDGES 100
struct votes_tally;
int votes_keep_top_judges(struct votes_kept *k, struct votes_tally *t, const uint32_t *codes, const size_t *off,
			  size_t models);
int votes_keep_pairwise(struct votes_kept *k, struct votes_classes *C, const double *w, const double *g,
			size_t models, size_t teams, size_t ref, double prior);
/* The descriptor's entries (kaieval-plugin(3), kaieval-votes(7)). */
int votes_resample_unit_of(void *state, const char **unit);
int votes_resample_entry(void *state, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate);
int votes_leave_out_entry(void *state, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
			  const char **unit_id);

#endif

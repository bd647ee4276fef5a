/* Classes of exchangeable bootstrap units (method pairwise).
 *
 * Two judges who cast the same multiset of ballots are interchangeable in
 * a judge bootstrap: what a replicate sums depends only on how many times
 * each class was drawn.  So the judges are merged into classes (a class
 * keeps its ballots once, as (code, multiplicity) entries, and its size),
 * and a replicate costs the classes' entries instead of judges x cells.
 * For the battle bootstrap each ballot is a unit and the classes are the
 * distinct outcomes (Chatbot Arena's unique outcome rows).
 *
 * Memory while building: 8 bytes per ballot in the lists, then 4 per
 * ballot and 16 per judge (offsets, hashes); kept: 8 bytes per entry and 12
 * per class. */
#include "votes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int votes_list_reserve(struct votes_ballot_list *l, size_t more)
{
	if (more > SIZE_MAX / sizeof *l->x - l->n)
		return -1;
	if (l->n + more <= l->cap)
		return 0;
	uint64_t *x = votes_huge_realloc(l->x, l->n * sizeof *x, (l->n + more) * sizeof *x);
	if (!x)
		return -1;
	l->x = x;
	l->cap = l->n + more;
	return 0;
}

int votes_list_add(struct votes_ballot_list *l, uint32_t judge, uint32_t code)
{
	if (l->n == l->cap && votes_list_reserve(l, l->cap ? l->cap : 4096)) /* doubling */
		return -1;
	l->x[l->n++] = (uint64_t)judge << 32 | code;
	return 0;
}

void votes_classes_free(struct votes_classes *C)
{
	free(C->size);
	free(C->first);
	free(C->code);
	free(C->mult);
	*C = (struct votes_classes){0};
}

static int alloc_classes(struct votes_classes *C, size_t classes, size_t entries)
{
	/* 2 MB pages: tens of MB written once, then read by every replicate group */
	C->size = votes_huge_calloc(classes, sizeof *C->size);
	C->first = votes_huge_calloc(classes + 1, sizeof *C->first);
	C->code = votes_huge_calloc(entries, sizeof *C->code);
	C->mult = votes_huge_calloc(entries, sizeof *C->mult);
	return C->size && C->first && C->code && C->mult ? 0 : -1;
}

/* One class per outcome that occurs. */
static int add_outcome(struct votes_classes *C, uint64_t count, uint32_t code)
{
	if (!count)
		return 0;
	if (count > UINT32_MAX)
		return -1;
	C->size[C->count] = (uint32_t)count;
	C->code[C->count] = code;
	C->mult[C->count] = 1;
	C->units += count;
	C->count++;
	C->first[C->count] = C->count;
	return 0;
}

int votes_classes_of_ballots(const uint64_t *wins, const uint64_t *ties, size_t k, struct votes_classes *C)
{
	size_t n = 0;
	int rc = 0;
	*C = (struct votes_classes){0};
	for (size_t x = 0; x < k * k; x++)
		n += (wins[x] > 0) + (ties[x] > 0);
	if (alloc_classes(C, n, n))
		return -1;
	for (size_t lo = 0; lo < k; lo++)
		for (size_t hi = lo + 1; rc == 0 && hi < k; hi++)
			rc = add_outcome(C, wins[lo * k + hi], votes_code(k, lo, hi, VOTES_LO_WON)) ||
			     add_outcome(C, wins[hi * k + lo], votes_code(k, lo, hi, VOTES_HI_WON)) ||
			     add_outcome(C, ties[lo * k + hi], votes_code(k, lo, hi, VOTES_TIED)) ? -1 : 0;
	return rc;
}

/* --- judges ----------------------------------------------------------------- */

/* A judge's codes in ascending order.  Codes are below votes_codes(k), a
 * few hundred thousand at most, so a least-significant-digit radix sort of
 * 11-bit digits (two or three passes through tmp) beats a comparison sort
 * on long lists; short ones are sorted in place by insertion. */
#define DIGIT_BITS 11
#define DIGITS (1u << DIGIT_BITS)

static void insertion_sort(uint32_t *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = c[i];
		size_t j = i;
		for (; j > 0 && c[j - 1] > v; j--)
			c[j] = c[j - 1];
		c[j] = v;
	}
}

static void sort_codes(uint32_t *c, size_t n, uint32_t *tmp, uint32_t max)
{
	if (n <= 64) {
		insertion_sort(c, n);
		return;
	}
	uint32_t *from = c, *to = tmp;
	for (unsigned shift = 0; shift == 0 || (max >> shift) != 0; shift += DIGIT_BITS) {
		size_t count[DIGITS + 1] = {0};
		for (size_t i = 0; i < n; i++)
			count[((from[i] >> shift) & (DIGITS - 1)) + 1]++;
		for (size_t d = 1; d <= DIGITS; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			to[count[(from[i] >> shift) & (DIGITS - 1)]++] = from[i];
		uint32_t *t = from;
		from = to;
		to = t;
	}
	if (from != c)
		memcpy(c, from, n * sizeof *c);
}

/* Where the i-th of n equal ranges of [0, total) starts (i = n: total). */
static inline size_t range_start(size_t total, size_t i, size_t n)
{
	return total * i / n;
}

static uint64_t hash_codes(const uint32_t *c, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ c[i]) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	return h;
}

/* The judges' ballots, grouped by judge: codes[off[j] .. off[j+1]). */
struct by_judge {
	uint32_t *codes;
	size_t *off;
	size_t judges;
	size_t longest;        /* the most ballots of a judge */
	uint32_t max;          /* the largest code */
};

/* Group_by_judge's work: the lists' ballots, taken as one sequence, in
 * `parts` ranges, each counted, then placed, by one thread.  A range's
 * counters take 8 bytes a judge: at most GROUP_PARTS ranges. */
#define GROUP_PARTS 4
#define JUDGE_RANGES 64    /* the offsets' work */
struct grouping {
	const struct votes_ballot_list *lists;
	size_t nlists, total;
	unsigned parts;
	struct by_judge *B;
	size_t **fill;         /* per part, per judge: ballots before (counts), then where its next goes */
	uint32_t max[GROUP_PARTS];               /* per part: its largest code */
	size_t start[JUDGE_RANGES + 1];          /* per range of judges: its first ballot */
	size_t longest[JUDGE_RANGES];            /* per range: its judges' most ballots */
};

/* Call visit(g, part, judge, code) on the ballots of range `part`, in
 * order; their largest code. */
static inline __attribute__((always_inline)) uint32_t
each_ballot(const struct grouping *g, size_t part, void (*visit)(const struct grouping *, size_t, size_t, uint32_t))
{
	size_t from = range_start(g->total, part, g->parts), to = range_start(g->total, part + 1, g->parts), at = 0;
	uint32_t max = 0;
	for (size_t l = 0; l < g->nlists && at < to; at += g->lists[l].n, l++) {
		size_t i = from > at ? from - at : 0, end = to - at < g->lists[l].n ? to - at : g->lists[l].n;
		for (; i < end; i++) {
			uint32_t code = (uint32_t)g->lists[l].x[i];
			visit(g, part, (size_t)(g->lists[l].x[i] >> 32), code);
			max = code > max ? code : max;
		}
	}
	return max;
}

static inline void count_one(const struct grouping *g, size_t part, size_t judge, uint32_t code)
{
	(void)code;
	g->fill[part][judge]++;
}

static inline size_t range_first(const struct grouping *g, size_t range)
{
	return range_start(g->B->judges, range, JUDGE_RANGES);
}

static inline void place_one(const struct grouping *g, size_t part, size_t judge, uint32_t code)
{
	g->B->codes[g->fill[part][judge]++] = code;
}

static void count_part(void *arg, size_t part, unsigned thread)
{
	struct grouping *g = arg;
	(void)thread;
	g->max[part] = each_ballot(g, part, count_one);
}

static void place_part(void *arg, size_t part, unsigned thread)
{
	(void)thread;
	each_ballot(arg, part, place_one);
}

/* The ballots of a range of judges. */
static void range_total(void *arg, size_t range, unsigned thread)
{
	struct grouping *g = arg;
	size_t n = 0;
	(void)thread;
	for (size_t j = range_first(g, range); j < range_first(g, range + 1); j++)
		for (unsigned p = 0; p < g->parts; p++)
			n += g->fill[p][j];
	g->start[range + 1] = n;
}

/* The offsets of a range of judges' ballots, and where each part's go: a
 * judge's ballots of earlier parts first, so in the lists' order. */
static void range_offsets(void *arg, size_t range, unsigned thread)
{
	struct grouping *g = arg;
	size_t *off = g->B->off, at = g->start[range], longest = 0;
	(void)thread;
	for (size_t j = range_first(g, range); j < range_first(g, range + 1); j++) {
		off[j] = at;
		for (unsigned p = 0; p < g->parts; p++) {
			size_t n = g->fill[p][j];
			g->fill[p][j] = at;
			at += n;
		}
		longest = at - off[j] > longest ? at - off[j] : longest;
	}
	g->longest[range] = longest;
}

/* The offsets, by ranges of judges on every thread (the judges one by
 * one took a twentieth of a second on one thread while the other
 * waited); the longest list and the largest code on the way. */
static void offsets(struct grouping *g, unsigned threads)
{
	votes_parallel(JUDGE_RANGES, threads, range_total, g);
	for (size_t r = 0; r < JUDGE_RANGES; r++)
		g->start[r + 1] += g->start[r];
	votes_parallel(JUDGE_RANGES, threads, range_offsets, g);
	g->B->off[g->B->judges] = g->start[JUDGE_RANGES];
	for (size_t r = 0; r < JUDGE_RANGES; r++)
		g->B->longest = g->longest[r] > g->B->longest ? g->longest[r] : g->B->longest;
	for (unsigned p = 0; p < g->parts; p++)
		g->B->max = g->max[p] > g->B->max ? g->max[p] : g->B->max;
}

/* Move the lists' ballots into judge order (a counting sort), then free
 * the lists.  Each thread counts and places a range of the ballots, with
 * counters of its own: a judge's ballots keep the lists' order (robust.c
 * takes them so), and each thread reads only its range (filtering all of
 * them by judge, two threads took twice the reading and a mispredicted
 * branch a ballot). */
static int group_by_judge(struct votes_ballot_list *lists, size_t nlists, size_t judges, unsigned threads,
			  struct by_judge *B)
{
	struct grouping g = {.lists = lists, .nlists = nlists, .parts = threads < GROUP_PARTS ? threads : GROUP_PARTS,
			     .B = B};
	B->judges = judges;
	B->off = votes_huge_calloc(judges + 1, sizeof *B->off);
	for (size_t l = 0; l < nlists; l++)
		g.total += lists[l].n;
	B->codes = votes_huge_calloc(g.total, sizeof *B->codes);
	g.fill = calloc(g.parts, sizeof *g.fill);
	int rc = B->off && B->codes && g.fill ? 0 : -1;
	for (unsigned p = 0; rc == 0 && p < g.parts; p++)
		rc = (g.fill[p] = votes_huge_calloc(judges ? judges : 1, sizeof *g.fill[p])) ? 0 : -1;
	if (rc == 0) {
		votes_parallel_fixed(g.parts, g.parts, count_part, &g);
		offsets(&g, threads);
		votes_parallel_fixed(g.parts, g.parts, place_part, &g);
	}
	for (unsigned p = 0; g.fill && p < g.parts; p++)
		free(g.fill[p]);
	free(g.fill);
	for (size_t l = 0; rc == 0 && l < nlists; l++) {
		free(lists[l].x);
		lists[l] = (struct votes_ballot_list){0};
	}
	return rc;
}

/* The class table: open addressing, a slot holding a class's number + 1
 * (0 = empty) and, above, the high 32 bits of its hash, so that a probe
 * past another class reads no more than its slot; a class named by its
 * first judge. */
struct table {
	uint64_t *slot;
	size_t mask;
	size_t *rep;        /* per class: its first judge */
	uint64_t *hash;     /* per class: hash_codes of its ballots */
	uint32_t *size;
	size_t count, cap;
};

static int same(const struct by_judge *B, size_t i, size_t j)
{
	size_t n = B->off[i + 1] - B->off[i];
	return n == B->off[j + 1] - B->off[j] &&
	       memcmp(B->codes + B->off[i], B->codes + B->off[j], n * sizeof *B->codes) == 0;
}

static inline uint64_t slot_of(uint64_t hash, size_t c)
{
	return (hash & ~(uint64_t)UINT32_MAX) | (c + 1);
}

static int grow(struct table *T)
{
	size_t cap = T->cap ? 2 * T->cap : 1024, slots = 2 * cap;
	size_t *rep = votes_huge_realloc(T->rep, T->count * sizeof *rep, cap * sizeof *rep);
	if (rep)
		T->rep = rep;
	uint64_t *hash = votes_huge_realloc(T->hash, T->count * sizeof *hash, cap * sizeof *hash);
	if (hash)
		T->hash = hash;
	uint32_t *size = votes_huge_realloc(T->size, T->count * sizeof *size, cap * sizeof *size);
	uint64_t *slot = votes_huge_calloc(slots, sizeof *slot);
	if (size)
		T->size = size;
	if (!rep || !hash || !size || !slot || cap > UINT32_MAX) {
		free(slot);
		return -1;
	}
	free(T->slot);
	T->slot = slot;
	T->mask = slots - 1;
	T->cap = cap;
	for (size_t c = 0; c < T->count; c++) {
		size_t s = T->hash[c] & T->mask;
		while (T->slot[s])
			s = (s + 1) & T->mask;
		T->slot[s] = slot_of(T->hash[c], c);
	}
	return 0;
}

static int add_judge(struct table *T, const struct by_judge *B, size_t j, uint64_t h)
{
	if (T->count == T->cap && grow(T))
		return -1;
	size_t s = h & T->mask;
	for (; T->slot[s]; s = (s + 1) & T->mask) {
		size_t c = (T->slot[s] & UINT32_MAX) - 1;
		if ((T->slot[s] ^ h) >> 32 == 0 && T->hash[c] == h && same(B, T->rep[c], j)) {
			T->size[c]++;
			return 0;
		}
	}
	T->slot[s] = slot_of(h, T->count);
	T->hash[T->count] = h;
	T->rep[T->count] = j;
	T->size[T->count++] = 1;
	return 0;
}

/* The classes' entries: each representative's sorted codes, run-length;
 * classes [c0, c1) of `parts` ranges are counted, then written from where
 * the ranges before end, a range to a thread (one thread took 0.1 s for
 * 1.5 million classes while the other waited). */
struct entries_work {
	const struct table *T;
	const struct by_judge *B;
	struct votes_classes *C;
	size_t *start;         /* per range: its first entry (counts, then sums) */
	size_t parts;
};

static size_t runs_of(const struct by_judge *B, size_t j)
{
	size_t n = 0;
	for (size_t i = B->off[j]; i < B->off[j + 1]; i++)
		n += i == B->off[j] || B->codes[i] != B->codes[i - 1];
	return n;
}

static void count_entries(void *arg, size_t part, unsigned thread)
{
	struct entries_work *w = arg;
	size_t c0 = range_start(w->T->count, part, w->parts), c1 = range_start(w->T->count, part + 1, w->parts), n = 0;
	(void)thread;
	for (size_t c = c0; c < c1; c++)
		n += runs_of(w->B, w->T->rep[c]);
	w->start[part + 1] = n;
}

static void write_entries(void *arg, size_t part, unsigned thread)
{
	struct entries_work *w = arg;
	const struct by_judge *B = w->B;
	struct votes_classes *C = w->C;
	size_t c0 = range_start(w->T->count, part, w->parts), c1 = range_start(w->T->count, part + 1, w->parts);
	size_t n = w->start[part];
	(void)thread;
	for (size_t c = c0; c < c1; c++) {
		size_t j = w->T->rep[c];
		for (size_t i = B->off[j]; i < B->off[j + 1]; i++) {
			if (i > B->off[j] && B->codes[i] == B->codes[i - 1]) {
				C->mult[n - 1]++;
				continue;
			}
			C->code[n] = B->codes[i];
			C->mult[n++] = 1;
		}
		C->size[c] = w->T->size[c];
		C->first[c + 1] = n;
	}
}

static int entries(const struct table *T, const struct by_judge *B, unsigned threads, struct votes_classes *C)
{
	struct entries_work w = {.T = T, .B = B, .C = C, .parts = 8 * (size_t)threads};
	w.start = calloc(w.parts + 1, sizeof *w.start);
	if (!w.start)
		return -1;
	votes_parallel(w.parts, threads, count_entries, &w);
	for (size_t p = 0; p < w.parts; p++)
		w.start[p + 1] += w.start[p];
	int rc = alloc_classes(C, T->count, w.start[w.parts]);
	if (rc == 0) {
		votes_parallel(w.parts, threads, write_entries, &w);
		for (size_t c = 0; c < T->count; c++)
			C->units += T->size[c];
		C->count = T->count;
	}
	free(w.start);
	return rc;
}

/* The work of the threads: first each judge's codes sorted and hashed
 * (judges in CHUNKS ranges), then one table per part of the hashes (a
 * class's judges share its hash, so each class is in one part), each part
 * walking the judges in order.  A class is numbered by its first judge
 * (merge_parts), as one table over all judges would number it, so the
 * classes do not depend on the threads. */
#define CHUNKS 64

struct build {
	struct by_judge B;
	uint64_t *hash;        /* per judge */
	uint32_t **tmp;        /* per thread: radix sort scratch */
	uint32_t max;
	unsigned parts;
	struct table *T;       /* per part */
	int failed;
};

static void sort_chunk(void *arg, size_t chunk, unsigned thread)
{
	struct build *b = arg;
	size_t j0 = range_start(b->B.judges, chunk, CHUNKS), j1 = range_start(b->B.judges, chunk + 1, CHUNKS);
	for (size_t j = j0; j < j1; j++) {
		size_t n = b->B.off[j + 1] - b->B.off[j];
		sort_codes(b->B.codes + b->B.off[j], n, b->tmp[thread], b->max);
		b->hash[j] = hash_codes(b->B.codes + b->B.off[j], n);
	}
}

/* The judges of one part into its table, AHEAD at a time: their slots
 * are asked for together first (a slot of a table of millions is a cache
 * miss), then the judges added in order. */
#define AHEAD 16
static void fill_part(void *arg, size_t part, unsigned thread)
{
	struct build *b = arg;
	struct table T = b->T[part]; /* the parts' tables share cache lines in b->T */
	(void)thread;
	for (size_t j = 0; j < b->B.judges;) {
		size_t batch[AHEAD], n = 0;
		for (; j < b->B.judges && n < AHEAD; j++)
			if ((b->hash[j] >> 58) % b->parts == part) {
				batch[n++] = j;
				if (T.slot)
					__builtin_prefetch(&T.slot[b->hash[j] & T.mask]);
			}
		for (size_t i = 0; i < n; i++)
			if (add_judge(&T, &b->B, batch[i], b->hash[batch[i]]))
				__atomic_store_n(&b->failed, 1, __ATOMIC_RELAXED);
	}
	b->T[part] = T;
}

/* The parts' classes in order of their first judge, into one table. */
static int merge_parts(const struct build *b, struct table *all)
{
	size_t total = 0, *at = calloc(b->parts, sizeof *at);
	for (unsigned p = 0; p < b->parts; p++)
		total += b->T[p].count;
	all->rep = votes_huge_calloc(total, sizeof *all->rep);
	all->size = votes_huge_calloc(total, sizeof *all->size);
	if (!at || !all->rep || !all->size) {
		free(at);
		return -1;
	}
	for (all->count = 0; all->count < total; all->count++) {
		unsigned first = 0;
		size_t best = SIZE_MAX;
		for (unsigned p = 0; p < b->parts; p++)
			if (at[p] < b->T[p].count && b->T[p].rep[at[p]] < best)
				best = b->T[p].rep[at[p]], first = p;
		all->rep[all->count] = best;
		all->size[all->count] = b->T[first].size[at[first]++];
	}
	free(at);
	return 0;
}

static void table_free(struct table *T)
{
	free(T->slot);
	free(T->rep);
	free(T->hash);
	free(T->size);
}

static int build_table(struct build *b, unsigned threads, struct table *all)
{
	size_t longest = b->B.longest, judges = b->B.judges;
	b->max = b->B.max;
	b->parts = threads;
	b->hash = votes_huge_calloc(judges, sizeof *b->hash);
	b->tmp = calloc(threads, sizeof *b->tmp);
	b->T = calloc(threads, sizeof *b->T);
	int rc = b->hash && b->tmp && b->T ? 0 : -1;
	for (unsigned t = 0; rc == 0 && t < threads; t++)
		rc = (b->tmp[t] = malloc((longest ? longest : 1) * sizeof *b->tmp[t])) ? 0 : -1;
	if (rc == 0) {
		votes_parallel(CHUNKS, threads, sort_chunk, b);
		votes_parallel(b->parts, threads, fill_part, b);
		rc = b->failed ? -1 : merge_parts(b, all);
	}
	for (unsigned t = 0; b->tmp && t < threads; t++)
		free(b->tmp[t]);
	for (unsigned p = 0; b->T && p < b->parts; p++)
		table_free(&b->T[p]);
	free(b->tmp);
	free(b->T);
	free(b->hash);
	return rc;
}

int votes_classes_of_judges(struct votes_ballot_list *lists, size_t nlists, size_t judges,
			    votes_grouped_fn *grouped, void *arg, struct votes_classes *C)
{
	struct build b = {0};
	struct table all = {0};
	unsigned threads = votes_threads();
	*C = (struct votes_classes){0};
	int rc = group_by_judge(lists, nlists, judges, threads, &b.B);
	if (rc == 0 && grouped) /* before build_table sorts each judge's codes */
		rc = grouped(arg, b.B.codes, b.B.off) ? -1 : 0;
	if (rc == 0)
		rc = build_table(&b, threads, &all);
	if (rc == 0)
		rc = entries(&all, &b.B, threads, C);
	free(b.B.codes);
	free(b.B.off);
	table_free(&all);
	return rc;
}

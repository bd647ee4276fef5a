/* The pairwise bootstrap: replicates drawn over classes of exchangeable
 * units (classes.c), summed sparsely, refitted from the point estimate.
 *
 * A replicate draws `units` units with replacement.  Drawing every unit
 * would cost the judges per replicate; the sum of a class's draws is one
 * binomial count instead, so the classes are cut into blocks: a class of
 * SMALL units or more is a block of its own, smaller ones share blocks of
 * at most BLOCK_UNITS units.  A replicate first splits its draws among the
 * blocks (conditional binomials, in block order: one multinomial draw),
 * then, inside each block of small classes, draws its share unit by unit.
 * All of a replicate's draws come from its own stream, in that order, so
 * the result does not depend on threads.
 *
 * R replicates are summed together (acc[code * R + r]), so that each
 * class's entries are read once for R replicates and the inner loop runs
 * over replicates, in vector registers. */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#define SMALL 16
#define BLOCK_UNITS 16384

struct block {
	size_t c0, c1;        /* classes [c0, c1) */
	uint64_t units;
	size_t map;           /* small classes: where their units' classes start in unit_class */
	int single;
};

struct plan {
	const struct votes_boot *B;
	size_t kk, codes, R;            /* codes = 2k^2 */
	struct block *blocks;
	size_t nblocks, widest;         /* widest: most classes in one block */
	uint16_t *unit_class;           /* per unit of a shared block: its class within the block */
	/* per thread */
	uint64_t *nb, *acc;
	uint32_t *m;
	double *w, *g, *wr, *elo;
};

static uint64_t mulhi64(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
	uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
	uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
	uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
	return hi_hi + (hi_lo >> 32) + (cross >> 32);
#endif
}

/* Uniform in [0, n), Lemire's multiply-shift with rejection (unbiased). */
static uint64_t below(struct kv_rng *rng, uint64_t n, uint64_t threshold)
{
	uint64_t x;
	do
		x = kv_rng_next(rng);
	while (x * n < threshold);
	return mulhi64(x, n);
}

static int add_block(struct plan *P, size_t cap, struct block b)
{
	if (P->nblocks == cap)
		return -1;
	P->blocks[P->nblocks++] = b;
	if (b.c1 - b.c0 > P->widest)
		P->widest = b.c1 - b.c0;
	return 0;
}

static int make_blocks(struct plan *P)
{
	const struct votes_classes *C = P->B->C;
	size_t cap = 2 * C->count + 1, small_units = 0;
	P->blocks = malloc(cap * sizeof *P->blocks);
	for (size_t c = 0; c < C->count; c++)
		small_units += C->size[c] < SMALL ? C->size[c] : 0;
	P->unit_class = malloc((small_units ? small_units : 1) * sizeof *P->unit_class);
	if (!P->blocks || !P->unit_class)
		return -1;
	struct block open = {0};
	int is_open = 0;
	size_t mapped = 0;
	for (size_t c = 0; c < C->count; c++) {
		int small = C->size[c] < SMALL;
		if (is_open && (!small || open.units + C->size[c] > BLOCK_UNITS)) {
			if (add_block(P, cap, open))
				return -1;
			is_open = 0;
		}
		if (!small) {
			if (add_block(P, cap, (struct block){.c0 = c, .c1 = c + 1, .units = C->size[c], .single = 1}))
				return -1;
			continue;
		}
		if (!is_open) {
			open = (struct block){.c0 = c, .c1 = c, .map = mapped};
			is_open = 1;
		}
		for (uint32_t u = 0; u < C->size[c]; u++)
			P->unit_class[mapped++] = (uint16_t)(c - open.c0);
		open.units += C->size[c];
		open.c1 = c + 1;
	}
	return is_open ? add_block(P, cap, open) : 0;
}

/* Replicates per group: as many as keep acc (codes x R x 8 bytes) near 256 KB. */
static size_t group_size(size_t codes)
{
	size_t R = 32;
	while (R > 1 && codes * R * sizeof(uint64_t) > ((size_t)256 << 10))
		R /= 2;
	return R;
}

/* Split replicate r's draws among the blocks. */
static void split(const struct plan *P, struct kv_rng *rng, uint64_t *nb, size_t r)
{
	uint64_t left = P->B->C->units, whole = left;
	for (size_t b = 0; b < P->nblocks; b++) {
		uint64_t part = P->blocks[b].units;
		uint64_t take = b + 1 == P->nblocks ? left : votes_binomial(rng, left, part, whole);
		nb[b * P->R + r] = take;
		left -= take;
		whole -= part;
	}
}

/* Add classes [c0, c1)'s entries, class c weighted by m[(c - c0) * R + r]. */
static void add_entries(const struct plan *P, uint64_t *acc, const uint32_t *m, size_t c0, size_t c1,
			size_t reps)
{
	const struct votes_classes *C = P->B->C;
	size_t R = P->R;
	for (size_t c = c0; c < c1; c++) {
		const uint32_t *mc = m + (c - c0) * R;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			uint64_t *a = acc + (size_t)C->code[e] * R;
			uint32_t mult = C->mult[e];
			for (size_t r = 0; r < reps; r++)
				a[r] += (uint64_t)mc[r] * mult;
		}
	}
}

static void draw_block(const struct plan *P, const struct block *bl, const uint64_t *nb, size_t b,
		       struct kv_rng *streams, size_t reps, uint32_t *m)
{
	size_t R = P->R, width = bl->c1 - bl->c0;
	uint64_t threshold = (0 - bl->units) % bl->units;
	if (bl->single) {
		for (size_t r = 0; r < reps; r++)
			m[r] = (uint32_t)nb[b * R + r];
		return;
	}
	memset(m, 0, width * R * sizeof *m);
	const uint16_t *map = P->unit_class + bl->map;
	for (size_t r = 0; r < reps; r++)
		for (uint64_t i = 0; i < nb[b * R + r]; i++)
			m[map[below(&streams[r], bl->units, threshold)] * R + r]++;
}

/* Replicate r's doubled win table from the sums. */
static void table_of(const struct plan *P, const uint64_t *acc, size_t r, double *w)
{
	size_t k = P->B->k, kk = P->kk, R = P->R;
	for (size_t x = 0; x < kk; x++)
		w[x] = 2 * (double)acc[x * R + r];
	for (size_t lo = 0; lo < k; lo++)
		for (size_t hi = lo + 1; hi < k; hi++) {
			double t = (double)acc[(kk + lo * k + hi) * R + r];
			w[lo * k + hi] += t;
			w[hi * k + lo] += t;
		}
}

static void fit(const struct plan *P, unsigned t, const uint64_t *acc, size_t r, size_t b)
{
	const struct votes_boot *B = P->B;
	size_t k = B->k;
	double *w = P->w + t * k * k, *g = P->g + t * k, *wr = P->wr + t * k, *elo = P->elo + t * k;
	table_of(P, acc, r, w);
	B->ok[b] = votes_bt_refit(w, k, B->g0, g) >= 0;
	if (!B->ok[b])
		return; /* a resample in which some team is never beaten (or never wins) */
	votes_bt_winrate(g, k, B->ref, wr);
	votes_bt_elo(g, k, elo);
	memcpy(B->elo + b * k, elo, k * sizeof *elo);
	memcpy(B->norm + b * k, wr, k * sizeof *wr);
}

/* Replicates [R * task, R * task + R): split, draw and sum block by block, fit. */
static void group(void *arg, size_t task, unsigned t)
{
	struct plan *P = arg;
	const struct votes_boot *B = P->B;
	size_t R = P->R, first = task * R, reps = B->rounds - first < R ? B->rounds - first : R;
	uint64_t *nb = P->nb + t * P->nblocks * R, *acc = P->acc + t * P->codes * R;
	uint32_t *m = P->m + t * P->widest * R;
	for (size_t r = 0; r < reps; r++)
		split(P, &B->streams[first + r], nb, r);
	memset(acc, 0, P->codes * R * sizeof *acc);
	for (size_t b = 0; b < P->nblocks; b++) {
		const struct block *bl = &P->blocks[b];
		draw_block(P, bl, nb, b, B->streams + first, reps, m);
		add_entries(P, acc, m, bl->c0, bl->c1, reps);
	}
	for (size_t r = 0; r < reps; r++)
		fit(P, t, acc, r, first + r);
}

static void plan_free(struct plan *P)
{
	free(P->blocks);
	free(P->unit_class);
	free(P->nb);
	free(P->acc);
	free(P->m);
	free(P->w);
	free(P->g);
	free(P->wr);
	free(P->elo);
}

int votes_boot_run(struct votes_boot *B)
{
	unsigned threads = votes_threads();
	size_t k = B->k;
	struct plan P = {.B = B, .kk = k * k, .codes = 2 * k * k};
	P.R = group_size(P.codes);
	if (B->rounds == 0)
		return 0;
	int rc = B->C->units == 0 || B->C->units > UINT32_MAX || make_blocks(&P) ? -1 : 0;
	if (rc == 0) {
		P.nb = malloc(threads * P.nblocks * P.R * sizeof *P.nb);
		P.acc = malloc(threads * P.codes * P.R * sizeof *P.acc);
		P.m = malloc(threads * P.widest * P.R * sizeof *P.m);
		P.w = malloc(threads * k * k * sizeof *P.w);
		P.g = malloc(threads * k * sizeof *P.g);
		P.wr = malloc(threads * k * sizeof *P.wr);
		P.elo = malloc(threads * k * sizeof *P.elo);
		rc = P.nb && P.acc && P.m && P.w && P.g && P.wr && P.elo ? 0 : -1;
	}
	if (rc == 0)
		votes_parallel((B->rounds + P.R - 1) / P.R, threads, group, &P);
	plan_free(&P);
	return rc;
}

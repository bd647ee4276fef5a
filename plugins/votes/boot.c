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
 * over replicates, in vector registers.  The sums are 32-bit when a bound
 * on the replicates' ballots says they fit, else 64-bit; with AVX2 or AVX-512 a
 * shared block's entries counted once go through 16-bit sums first
 * (narrow_room, added16).  All are integers: the order of the additions never
 * changes a sum.
 *
 * A block's draws are counted in lane groups of 16 bytes a unit (then
 * added up by class, see pitch_of()): four replicates' 32-bit counts
 * (m[(r / 4 * width + u) * 4 + r % 4], see at()), or, for a block summed
 * in 16 bits, eight replicates' 16-bit ones (at16()).  Four replicates'
 * draws then scatter over 16 bytes a unit, in the first-level cache, where
 * rows of R replicates spread them over 4 R bytes a unit and most
 * increments missed it; and a class's 16-bit counts of 32 replicates are
 * four lane groups, one register for the sums. */
#include "votes.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include "gen4.h"
#include "gen8.h"
#endif

#define SMALL 64   /* a binomial draw costs about as much as 100 draws of a unit */
#define MOST_REPLICATES 128   /* a group's, summed together */
#define BLOCK_UNITS 2048   /* a block's draws (unit x R x 4 bytes) take about 1 MB (second-level cache) */
_Static_assert(BLOCK_UNITS <= 65536, "a draw takes 16 bits (take)");
#define SINKS 4   /* a shared block's sinks, one per draw of a generator's output (pitch_of()) */
_Static_assert(16 * (BLOCK_UNITS + SINKS) <= UINT16_MAX, "a lane group's offset (a sink's too) fits 16 bits");

struct block {
	size_t c0, c1;        /* classes [c0, c1) */
	uint64_t heaviest;    /* the most ballots of one of its units */
	uint64_t units;
	int single;
	int distinct;         /* no class has two entries of one code (as classes.c makes them) */
	uint32_t sharing;     /* the most of its classes that have an entry of one code; 0: not counted */
};

struct plan {
	const struct votes_boot *B;
	size_t codes, R;                /* codes = votes_codes(k) */
	int avx2, avx512;
	int binomial8;                  /* votes_binomial8 draws eight side by side */
	int binomial4;                  /* votes_binomial4 draws four side by side (AVX2) */
	enum { WIDE_ONLY, NARROW_ZMM, NARROW_YMM } narrow; /* blocks may be summed in 16 bits first (add_entries16) */
	double *factor;                 /* votes_bt_factor at the point estimate, shared */
	struct block *blocks;
	size_t nblocks, widest;         /* widest: the longest row of lane groups, pitch_of() */
	/* per thread */
	uint64_t *nb, *acc64;
	uint32_t *m, *acc32;
	uint32_t *rows;                 /* acc32 transposed: a replicate's sums in a row */
	uint16_t *m16, *acc16;
	double *w, *g, *wr, *elo;
};

/* A row of a block's counts: for a block of one class, its lane group;
 * for a block of small classes, a lane group per unit, in class order, and
 * SINKS more.  A draw of unit u counts in u's lane group, 16 u bytes into
 * the row, with no table between (fold() then adds a class's units into
 * its first); the vector draws count the draws they do not keep into the
 * sinks instead of testing each draw (steps4()), and the sinks are zeroed
 * after.  The four draws of one output go to four sinks: increments of
 * one counter wait for each other. */
static inline size_t pitch_of(const struct block *bl)
{
	return bl->single ? 1 : bl->units + SINKS;
}

/* A block's counts take pitch x padded(R, per) cells (whole lane groups
 * of `per` replicates). */
static inline size_t padded(size_t R, size_t per)
{
	return (R + per - 1) / per * per;
}

/* Where replicate r's 32-bit count in lane group c is, in rows of `width` lane groups. */
static inline size_t at(size_t width, size_t c, size_t r)
{
	return ((r >> 2) * width + c) * 4 + (r & 3);
}

/* The same for 16-bit counts. */
static inline size_t at16(size_t width, size_t c, size_t r)
{
	return ((r >> 3) * width + c) * 8 + (r & 7);
}

/* `by` more draws of the unit whose lane group is `offset` bytes into m,
 * in lane `lane`; 16-bit counts when `half`. */
static inline __attribute__((always_inline)) void bump(char *m, size_t offset, size_t lane, int half, uint32_t by)
{
	if (half) {
		uint16_t *x = (uint16_t *)(void *)(m + offset) + lane;
		*x = (uint16_t)(*x + by);
	} else {
		*((uint32_t *)(void *)(m + offset) + lane) += by;
	}
}

/* Up to four draws of units uniform in [0, units), 0 < units <= 2^16,
 * from one 64-bit output x, 16 bits each, by Lemire's multiply-shift with
 * rejection (unbiased; a block's units are at most BLOCK_UNITS, so at most
 * 1 in 32 is rejected): lane `lane` of the unit's lane group, at m +
 * 16 unit, counts them, *i counts up to count. */
static inline void take(uint64_t x, uint64_t *i, uint64_t count, uint32_t units, uint32_t threshold,
			char *restrict m, size_t lane, int half)
{
	for (int q = 0; q < 4 && *i < count; q++, x >>= 16) {
		uint32_t product = (uint32_t)(x & 0xffff) * units;
		if ((product & 0xffff) < threshold)
			continue;
		bump(m, 16 * (size_t)(product >> 16), lane, half, 1);
		(*i)++;
	}
}

/* count[0] and count[1] draws of two replicates (streams rng[0], rng[1],
 * counts in lanes 0 and 1 of the lane groups at m), side by side while
 * both last, so that the two generators' dependency chains overlap; each
 * stream is used exactly as alone. */
static void draw_two(struct kv_rng *rng, const uint64_t *count, uint32_t units, char *restrict m, int both,
		     int half)
{
	uint32_t threshold = (65536u - units) % units; /* 2^16 mod units */
	struct kv_rng a = rng[0], b = both ? rng[1] : rng[0]; /* in registers, not through the pointer */
	uint64_t i = 0, j = both ? 0 : 1, nb = both ? count[1] : 1;
	while (i < count[0] && j < nb) {
		uint64_t x = kv_rng_next(&a), y = kv_rng_next(&b);
		take(x, &i, count[0], units, threshold, m, 0, half);
		take(y, &j, nb, units, threshold, m, 1, half);
	}
	while (i < count[0])
		take(kv_rng_next(&a), &i, count[0], units, threshold, m, 0, half);
	while (j < nb)
		take(kv_rng_next(&b), &j, nb, units, threshold, m, 1, half);
	rng[0] = a;
	if (both)
		rng[1] = b;
}

#if defined(__GNUC__) && defined(__x86_64__)
/* The same draws for four replicates at once, into the four lanes of a
 * lane group: their four generators side by side in 256-bit registers
 * (gen4.h), the sixteen 16-bit draws of one
 * step multiplied and checked together.  A replicate whose draws are done
 * keeps its generator's state, so every stream ends exactly where draw_two
 * leaves it, and the counts are the same. */
#define AVX2 __attribute__((target("avx2")))

/* `steps` steps of the four generators (lanes in `live` only; all of them
 * when `all`), each live lane needing four draws more a step at least, so
 * that every draw it accepts counts.  A rejected draw, and every draw of a
 * lane not live, goes to a sink (unit units + q for the q-th draw of an
 * output, see pitch_of()): no test or branch a draw.  Returns each draw
 * position's accepted draws (steps < 65536).
 *
 * A step's sixteen offsets go through memory and are counted two steps
 * later: a draw is then a load and an increment, where taking the offsets
 * out of registers by shifts cost three integer operations a draw, on the
 * ports the generators' vector operations use too (2 million judges of 8
 * models: 6 to 8 % off the bootstrap).  Loads right after the vector
 * store waited for it to complete, and the bootstrap took 45 % longer. */
AVX2 static inline __attribute__((always_inline)) __m256i
steps4(struct gen4 *state, __m256i live, uint32_t steps, uint32_t units, char *restrict m, const int half,
       const int all)
{
	struct gen4 g = *state; /* a local: in registers */
	__m256i vunits = _mm256_set1_epi16((short)units), taken = _mm256_setzero_si256();
	__m256i thr = _mm256_set1_epi16((short)((65536u - units) % units)); /* 2^16 mod units */
	__m256i sink = _mm256_add_epi16(vunits, _mm256_set1_epi64x(0x0003000200010000));
	uint16_t off[4][16];
	for (uint32_t k = 0; k < steps + 2; k++) {
		if (k < steps) {
			__m256i x = next4(&g, all ? _mm256_set1_epi64x(-1) : live);
			__m256i lo = _mm256_mullo_epi16(x, vunits), hi = _mm256_mulhi_epu16(x, vunits);
			__m256i ok = _mm256_cmpeq_epi16(_mm256_max_epu16(lo, thr), lo);
			if (!all)
				ok = _mm256_and_si256(ok, live);
			taken = _mm256_sub_epi16(taken, ok);
			hi = _mm256_slli_epi16(_mm256_blendv_epi8(sink, hi, ok), 4); /* lane groups' offsets */
			_mm256_storeu_si256((__m256i *)(void *)off[k & 3], hi);
		}
		__asm__ volatile("" : "+m"(off)); /* loads, not shifts of the register */
		if (k >= 2) {
			const uint16_t *o = off[(k - 2) & 3];
#pragma GCC unroll 16
			for (int e = 0; e < 16; e++)
				bump(m, o[e], (size_t)(e >> 2), half, 1);
		}
	}
	*state = g;
	return taken;
}

AVX2 static inline __attribute__((always_inline)) void
draw_four_any(struct kv_rng *rng, const uint64_t *count, uint32_t units, char *restrict m, const int half)
{
	__m256i vunits = _mm256_set1_epi16((short)units);
	__m256i thr = _mm256_set1_epi16((short)((65536u - units) % units));
	uint64_t i[4] = {0, 0, 0, 0};
	uint16_t idx[16], ok[16];
	struct gen4 s = gen4_load(rng);
	/* While some replicates need four draws more, they step together; the
	 * last few draws one by one below. */
	for (;;) {
		uint64_t fewest = UINT64_MAX;
		long long live[4];
		int all = 1, any = 0;
		for (int r = 0; r < 4; r++) {
			live[r] = count[r] - i[r] >= 4 ? -1 : 0;
			fewest = live[r] && count[r] - i[r] < fewest ? count[r] - i[r] : fewest;
			all &= live[r] != 0;
			any |= live[r] != 0;
		}
		if (!any)
			break;
		uint32_t steps = fewest / 4 < 65535 ? (uint32_t)(fewest / 4) : 65535;
		__m256i taken = all ? steps4(&s, _mm256_set1_epi64x(-1), steps, units, m, half, 1)
				    : steps4(&s, _mm256_set_epi64x(live[3], live[2], live[1], live[0]), steps, units, m,
					     half, 0);
		uint16_t t[16];
		_mm256_storeu_si256((__m256i *)(void *)t, taken);
		for (int r = 0; r < 4; r++)
			i[r] += (uint64_t)t[4 * r] + t[4 * r + 1] + t[4 * r + 2] + t[4 * r + 3];
	}
	for (;;) {
		long long live[4];
		int any = 0;
		for (int r = 0; r < 4; r++)
			any |= (live[r] = i[r] < count[r] ? -1 : 0) != 0;
		if (!any)
			break;
		__m256i x = next4(&s, _mm256_set_epi64x(live[3], live[2], live[1], live[0]));
		__m256i lo = _mm256_mullo_epi16(x, vunits), hi = _mm256_mulhi_epu16(x, vunits);
		_mm256_storeu_si256((__m256i *)(void *)idx, hi);
		_mm256_storeu_si256((__m256i *)(void *)ok, _mm256_cmpeq_epi16(_mm256_max_epu16(lo, thr), lo));
		for (int r = 0; r < 4; r++)
			for (int q = 0; q < 4 && i[r] < count[r]; q++)
				if (ok[4 * r + q]) {
					bump(m, 16 * (size_t)idx[4 * r + q], (size_t)r, half, 1);
					i[r]++;
				}
	}
	gen4_store(&s, rng);
}

AVX2 static void draw_four(struct kv_rng *rng, const uint64_t *count, uint32_t units, char *restrict m)
{
	draw_four_any(rng, count, units, m, 0);
}

AVX2 static void draw_four16(struct kv_rng *rng, const uint64_t *count, uint32_t units,
			     char *restrict m)
{
	draw_four_any(rng, count, units, m, 1);
}

/* The same draws for eight replicates at once, with AVX-512: a whole lane
 * group of 16-bit counts.  Eight generators in 512-bit registers take
 * half the vector instructions a draw of four in 256-bit ones (gen8.h;
 * a test gives a mask), and the vector work was two thirds of the draws'
 * time. */
#define DRAW8 __attribute__((target("avx512f,avx512bw")))

/* As steps4, for eight generators; each 16-bit element of the result
 * counts one draw position's accepted draws. */
DRAW8 static inline __attribute__((always_inline)) __m512i
steps8(struct gen8 *state, __mmask8 live, uint32_t steps, uint32_t units, char *restrict m)
{
	struct gen8 g = *state; /* a local: in registers */
	__m512i vunits = _mm512_set1_epi16((short)units), taken = _mm512_setzero_si512(), one = _mm512_set1_epi16(1);
	__m512i thr = _mm512_set1_epi16((short)((65536u - units) % units)); /* 2^16 mod units */
	__m512i sink = _mm512_add_epi16(vunits, _mm512_set1_epi64(0x0003000200010000));
	__mmask32 draws = 0; /* a live generator's four draws */
	for (int r = 0; r < 8; r++)
		draws |= (__mmask32)((live >> r & 1u) * 0xfu << 4 * r);
	uint16_t off[4][32];
	for (uint32_t k = 0; k < steps + 2; k++) {
		if (k < steps) {
			__m512i x = next8(&g, live);
			__m512i lo = _mm512_mullo_epi16(x, vunits), hi = _mm512_mulhi_epu16(x, vunits);
			__mmask32 ok = _mm512_mask_cmpge_epu16_mask(draws, lo, thr);
			taken = _mm512_mask_add_epi16(taken, ok, taken, one);
			hi = _mm512_slli_epi16(_mm512_mask_blend_epi16(ok, sink, hi), 4); /* lane groups' offsets */
			_mm512_storeu_si512((void *)off[k & 3], hi);
		}
		__asm__ volatile("" : "+m"(off)); /* loads, not shifts of the register */
		if (k >= 2) {
			const uint16_t *o = off[(k - 2) & 3];
#pragma GCC unroll 32
			for (int e = 0; e < 32; e++)
				bump(m, o[e], (size_t)(e >> 2), 1, 1);
		}
	}
	*state = g;
	return taken;
}

/* One round of steps8 for the generators that need four draws more, as
 * many steps as the fewest of them allows; 0 when none does. */
DRAW8 static int together8(struct gen8 *s, const uint64_t *count, uint64_t i[8], uint32_t units, char *restrict m)
{
	uint64_t fewest = UINT64_MAX;
	__mmask8 live = 0;
	for (int r = 0; r < 8; r++)
		if (count[r] - i[r] >= 4) {
			live |= (__mmask8)(1u << r);
			fewest = count[r] - i[r] < fewest ? count[r] - i[r] : fewest;
		}
	if (!live)
		return 0;
	uint32_t steps = fewest / 4 < 65535 ? (uint32_t)(fewest / 4) : 65535;
	__m512i taken = live == 0xff ? steps8(s, 0xff, steps, units, m) : steps8(s, live, steps, units, m);
	uint16_t t[32];
	_mm512_storeu_si512((void *)t, taken);
	for (int r = 0; r < 8; r++)
		i[r] += (uint64_t)t[4 * r] + t[4 * r + 1] + t[4 * r + 2] + t[4 * r + 3];
	return 1;
}

/* The last few draws of each generator, one by one. */
DRAW8 static void one_by_one8(struct gen8 *s, const uint64_t *count, uint64_t i[8], uint32_t units,
			      char *restrict m)
{
	__m512i vunits = _mm512_set1_epi16((short)units);
	__m512i thr = _mm512_set1_epi16((short)((65536u - units) % units));
	uint16_t idx[32];
	for (;;) {
		__mmask8 live = 0;
		for (int r = 0; r < 8; r++)
			live |= (__mmask8)((i[r] < count[r]) << r);
		if (!live)
			return;
		__m512i x = next8(s, live);
		__mmask32 ok = _mm512_cmpge_epu16_mask(_mm512_mullo_epi16(x, vunits), thr);
		_mm512_storeu_si512((void *)idx, _mm512_mulhi_epu16(x, vunits));
		for (int r = 0; r < 8; r++)
			for (int q = 0; q < 4 && i[r] < count[r]; q++)
				if (ok >> (4 * r + q) & 1) {
					bump(m, 16 * (size_t)idx[4 * r + q], (size_t)r, 1, 1);
					i[r]++;
				}
	}
}

DRAW8 static void draw_eight16(struct kv_rng *rng, const uint64_t *count, uint32_t units, char *restrict m)
{
	struct gen8 s = gen8_load(rng);
	uint64_t i[8] = {0};
	while (together8(&s, count, i, units, m)) /* see draw_four_any */
		;
	one_by_one8(&s, count, i, units, m);
	gen8_store(&s, rng);
}
#endif

/* The most classes of [c0, c1) with an entry of one code; per_code is
 * all 0, and is left so. */
static uint32_t most_sharing(const struct votes_classes *C, size_t c0, size_t c1, uint32_t *per_code)
{
	uint32_t most = 0;
	for (size_t e = C->first[c0]; e < C->first[c1]; e++)
		most = ++per_code[C->code[e]] > most ? per_code[C->code[e]] : most;
	for (size_t e = C->first[c0]; e < C->first[c1]; e++)
		per_code[C->code[e]] = 0;
	return most;
}

static int add_block(struct plan *P, size_t cap, struct block b, uint32_t *per_code)
{
	const struct votes_classes *C = P->B->C;
	if (P->nblocks == cap)
		return -1;
	b.distinct = 1;
	for (size_t c = b.c0; c < b.c1; c++) {
		uint64_t ballots = 0;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			ballots += C->mult[e];
			b.distinct &= e == C->first[c] || C->code[e] > C->code[e - 1];
		}
		b.heaviest = ballots > b.heaviest ? ballots : b.heaviest;
	}
	if (!b.single && C->first[b.c1] - C->first[b.c0] < P->codes) /* see added16() */
		b.sharing = most_sharing(C, b.c0, b.c1, per_code);
	P->blocks[P->nblocks++] = b;
	if (pitch_of(&b) > P->widest)
		P->widest = pitch_of(&b);
	return 0;
}

/* The classes cut into blocks (see the top of this file). */
static int blocks_of(struct plan *P, uint32_t *per_code)
{
	const struct votes_classes *C = P->B->C;
	size_t cap = C->count + 1;
	P->blocks = malloc(cap * sizeof *P->blocks);
	if (!P->blocks)
		return -1;
	struct block open = {0};
	int is_open = 0;
	for (size_t c = 0; c < C->count; c++) {
		int small = C->size[c] < SMALL;
		if (is_open && (!small || open.units + C->size[c] > BLOCK_UNITS)) {
			if (add_block(P, cap, open, per_code))
				return -1;
			is_open = 0;
		}
		if (!small) {
			struct block one = {.c0 = c, .c1 = c + 1, .units = C->size[c], .single = 1};
			if (add_block(P, cap, one, per_code))
				return -1;
			continue;
		}
		if (!is_open) {
			open = (struct block){.c0 = c, .c1 = c};
			is_open = 1;
		}
		open.units += C->size[c];
		open.c1 = c + 1;
	}
	return is_open ? add_block(P, cap, open, per_code) : 0;
}

static int make_blocks(struct plan *P)
{
	uint32_t *per_code = calloc(P->codes, sizeof *per_code); /* most_sharing's counters */
	int rc = per_code ? blocks_of(P, per_code) : -1;
	free(per_code);
	return rc;
}

/* The bytes a group's sums may take: the processor's second-level cache
 * (a replicate's sums are read and written at random), within [256 KB,
 * 4 MB]; 1 MB where the system does not say.  *forced: KAIEVAL_CACHE_BYTES
 * set it (for tests).  R never changes a result: each replicate has its
 * own stream and integer sums. */
static size_t group_bytes(int *forced)
{
	const char *env = getenv("KAIEVAL_CACHE_BYTES");
	long bytes = env ? strtol(env, NULL, 10) : 0, least = 1L << 18, most = 1L << 22;
	*forced = bytes > 0;
	if (bytes > 0)
		return (size_t)bytes;
#ifdef _SC_LEVEL2_CACHE_SIZE
	bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
	if (bytes <= 0)
		return (size_t)1 << 20;
	return (size_t)(bytes < least ? least : bytes > most ? most : bytes);
}

/* Whether the third-level cache holds `bytes` for each of `threads`
 * several times over. */
static int third_level_holds(size_t bytes, unsigned threads)
{
	long l3 = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
	l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
	return l3 > 0 && (size_t)l3 / 4 / threads >= bytes;
}

/* Replicates per group: as many as keep the 32-bit sums (codes x R x 4
 * bytes) within group_bytes(), up to MOST_REPLICATES (each group reads
 * every class's entries once: fewer groups, fewer passes; 128 against 64
 * took the bootstrap from 1.74 to 1.46 s on 2 million judges).  With 200
 * models and more, not even 16 replicates' sums fit the second-level
 * cache, and the passes over the entries cost more than the misses: where
 * the third-level cache has the room, the sums may take four times the
 * second level's bytes (10 million battles of 200 models by 4 million
 * judges: 32 replicates a group instead of 8, a quarter off the
 * bootstrap). */
static size_t group_size(size_t codes, unsigned threads)
{
	int forced;
	size_t R = MOST_REPLICATES, bytes = group_bytes(&forced);
	if (!forced && codes * 16 * sizeof(uint32_t) > bytes && third_level_holds(4 * bytes, threads))
		bytes *= 4;
	while (R > 1 && codes * R * sizeof(uint32_t) > bytes)
		R /= 2;
	return R;
}

/* Binomial(left[r], part/whole) for replicates [0, reps), each from its
 * own stream, into take[0, reps): eight or four at once where the
 * processor can (the same draws). */
static void draw_parts(const struct plan *P, struct kv_rng *streams, const uint64_t *left, uint64_t part,
		       uint64_t whole, uint64_t *take, size_t reps)
{
	size_t r = 0;
	for (; P->binomial8 && r + 8 <= reps; r += 8)
		votes_binomial8(streams + r, left + r, part, whole, take + r);
	for (; P->binomial4 && r + 4 <= reps; r += 4)
		votes_binomial4(streams + r, left + r, part, whole, take + r);
	for (; r < reps; r++)
		take[r] = votes_binomial(&streams[r], left[r], part, whole);
}

/* Split the draws of replicates [0, reps) among the blocks (conditional
 * binomials in block order, each replicate's from its own stream, so
 * block by block across the replicates is the same draws as replicate by
 * replicate); 1 when some replicate's sums may pass 32 bits (draws x the
 * heaviest unit, over the blocks). */
static int split(const struct plan *P, struct kv_rng *streams, uint64_t *nb, size_t reps)
{
	uint64_t left[MOST_REPLICATES], bound[MOST_REPLICATES], whole = P->B->C->units;
	for (size_t r = 0; r < reps; r++) {
		left[r] = whole;
		bound[r] = 0;
	}
	for (size_t b = 0; b < P->nblocks; b++) {
		uint64_t part = P->blocks[b].units, *take = nb + b * P->R;
		if (b + 1 == P->nblocks)
			memcpy(take, left, reps * sizeof *take);
		else
			draw_parts(P, streams, left, part, whole, take, reps);
		for (size_t r = 0; r < reps; r++) {
			left[r] -= take[r];
			if (bound[r] <= UINT32_MAX) /* once past, it stays past (and cannot wrap) */
				bound[r] += take[r] * P->blocks[b].heaviest;
		}
		whole -= part;
	}
	int wide = 0;
	for (size_t r = 0; r < reps; r++)
		wide |= bound[r] > UINT32_MAX;
	return wide;
}

/* Where lane r % per of replicate r's lane groups start, in bytes. */
static char *lanes_of(uint32_t *m, uint16_t *m16, int half, size_t width, size_t r)
{
	return half ? (char *)(m16 + at16(width, 0, r)) : (char *)(m + at(width, 0, r));
}

/* The n lane groups at first added into the first (summed in registers:
 * adding each into memory waited for the store before). */
static inline void add_groups(char *first, uint32_t n, int half)
{
	if (half) {
		uint16_t a[8], b[8];
		memcpy(a, first, sizeof a);
		for (uint32_t k = 1; k < n; k++) {
			memcpy(b, first + 16 * k, sizeof b);
			for (int i = 0; i < 8; i++)
				a[i] = (uint16_t)(a[i] + b[i]);
		}
		memcpy(first, a, sizeof a);
	} else {
		uint32_t a[4], b[4];
		memcpy(a, first, sizeof a);
		for (uint32_t k = 1; k < n; k++) {
			memcpy(b, first + 16 * k, sizeof b);
			for (int i = 0; i < 4; i++)
				a[i] += b[i];
		}
		memcpy(first, a, sizeof a);
	}
}

/* A shared block's counts by unit made counts by class: each class of
 * more than one unit gets its units' draws in its first unit's lane
 * group, in each of `rows` rows of `row_bytes` (see pitch_of()). */
static void fold(const struct votes_classes *C, const struct block *bl, char *first_row, size_t row_bytes,
		 size_t rows, int half)
{
	size_t u = 0; /* the class's first unit in the block */
	for (size_t c = bl->c0; c < bl->c1; u += C->size[c++])
		for (size_t g = 0; g < rows && C->size[c] > 1; g++)
			add_groups(first_row + g * row_bytes + 16 * u, C->size[c], half);
}

/* Each class's draws in replicate r in m[at(width, u, r)], r < R (zero
 * past reps), or, when `half`, in m16[at16(...)], where u is its first
 * unit in the block (pitch_of()).  (Rows per replicate, transposed for the
 * sums, measured slower.) */
static void draw_block(const struct plan *P, const struct block *bl, const uint64_t *nb, size_t b,
		       struct kv_rng *streams, size_t reps, uint32_t *m, uint16_t *m16, int half)
{
	size_t R = P->R, width = pitch_of(bl);
	if (bl->single) {
		for (size_t r = 0; r < R; r++)
			m[at(1, 0, r)] = (uint32_t)nb[b * R + r];
		return;
	}
	if (half)
		memset(m16, 0, width * padded(R, 8) * sizeof *m16);
	else
		memset(m, 0, width * padded(R, 4) * sizeof *m);
	size_t r = 0;
#if defined(__GNUC__) && defined(__x86_64__)
	for (; half && P->avx512 && r + 8 <= reps; r += 8)
		draw_eight16(&streams[r], &nb[b * R + r], (uint32_t)bl->units, lanes_of(m, m16, half, width, r));
	for (; P->avx2 && r + 4 <= reps; r += 4)
		(half ? draw_four16 : draw_four)(&streams[r], &nb[b * R + r], (uint32_t)bl->units,
						 lanes_of(m, m16, half, width, r));
#endif
	for (; r < reps; r += 2)
		draw_two(&streams[r], &nb[b * R + r], (uint32_t)bl->units, lanes_of(m, m16, half, width, r),
			 r + 1 < reps, half);
	size_t per = half ? 8 : 4, rows = padded(reps, per) / per; /* replicates a lane group */
	for (size_t g = 0; g < rows; g++) /* the sinks, so that the largest count is a class's */
		memset(lanes_of(m, m16, half, width, per * g) + 16 * (width - SINKS), 0, 16 * SINKS);
	fold(P->B->C, bl, lanes_of(m, m16, half, width, 0), 16 * width, rows, half);
}

/* acc[code * R + r] += m[at(pitch_of(bl), u, r)] * mult over block bl's
 * classes' entries, u a class's first unit in the block.  Always inlined,
 * so that R is a constant and the loop over r vector code (with one case
 * more, gcc stopped inlining it and the sums of 256 models took a quarter
 * longer). */
static inline __attribute__((always_inline)) void add32(const struct votes_classes *C, uint32_t *restrict acc,
							  const uint32_t *restrict m, const struct block *bl,
							  const size_t R)
{
	size_t stride = pitch_of(bl) * 4; /* from one lane group to the next */
	for (size_t c = bl->c0, u = 0; c < bl->c1; u += C->size[c++]) {
		uint32_t mc[MOST_REPLICATES], any = 0;
		const uint32_t *lanes = m + u * 4;
		for (size_t g = 0; g < R / 4; g++) /* whole lane groups, 16 bytes each */
			memcpy(mc + 4 * g, lanes + g * stride, 4 * sizeof *mc);
		for (size_t r = R / 4 * 4; r < R; r++)
			mc[r] = lanes[r];
		for (size_t r = 0; r < R; r++)
			any |= mc[r];
		if (!any)
			continue;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			uint32_t *a = acc + (size_t)C->code[e] * R, mult = C->mult[e];
			if (mult == 1) /* most entries: no vector multiply (slow on 32-bit lanes) */
				for (size_t r = 0; r < R; r++)
					a[r] += mc[r];
			else
				for (size_t r = 0; r < R; r++)
					a[r] += mc[r] * mult;
		}
	}
}

#define ADD_ENTRIES32(C, R, acc, m, bl) \
	switch (R) { \
	case 128: add32(C, acc, m, bl, 128); break; \
	case 64: add32(C, acc, m, bl, 64); break; \
	case 32: add32(C, acc, m, bl, 32); break; \
	case 16: add32(C, acc, m, bl, 16); break; \
	case 8: add32(C, acc, m, bl, 8); break; \
	case 4: add32(C, acc, m, bl, 4); break; \
	case 2: add32(C, acc, m, bl, 2); break; \
	default: add32(C, acc, m, bl, R); break; \
	}

#if defined(__GNUC__) && defined(__x86_64__)
/* The same integers in 256-bit registers (chosen at run time, simd.h). */
__attribute__((target("avx2")))
static void add_entries32_avx2(const struct votes_classes *C, size_t R, uint32_t *acc, const uint32_t *m,
			       const struct block *bl)
{
	ADD_ENTRIES32(C, R, acc, m, bl)
}
#endif

#if defined(__GNUC__) && defined(__x86_64__)
/* With AVX-512, R = 16 to 128: a class's counts in one to eight 512-bit
 * registers (four lane groups each), added to each entry's sums 16 at a
 * time. */
#define AVX512 __attribute__((target("avx512f")))
AVX512 static inline __m128i lane_group(const char *at)
{
	return _mm_loadu_si128((const __m128i *)(const void *)at);
}

/* Four lane groups of a class, rows `row` bytes apart, from `first` on:
 * 16 replicates' 32-bit counts or 32 replicates' 16-bit ones. */
AVX512 static inline __m512i four_groups(const char *first, size_t row)
{
	__m512i x = _mm512_castsi128_si512(lane_group(first));
	x = _mm512_inserti32x4(x, lane_group(first + row), 1);
	x = _mm512_inserti32x4(x, lane_group(first + 2 * row), 2);
	return _mm512_inserti32x4(x, lane_group(first + 3 * row), 3);
}

/* A class's counts (its first lane group at `lanes`) in v[0..n); whether
 * any is not 0. */
AVX512 static inline int class_counts(const void *lanes, size_t row, const int n, __m512i v[8])
{
	__m512i any = _mm512_setzero_si512();
#pragma GCC unroll 8
	for (int q = 0; q < 8; q++) /* only v[0..n) is used: this quiets gcc */
		v[q] = any;
#pragma GCC unroll 8
	for (int q = 0; q < n; q++)
		any = _mm512_or_si512(any, v[q] = four_groups((const char *)lanes + 4 * (size_t)q * row, row));
	return _mm512_test_epi32_mask(any, any) != 0;
}

/* a[0..16) += v * mult. */
AVX512 static inline void add16(uint32_t *a, __m512i v, uint32_t mult)
{
	if (mult != 1) /* a few entries: a judge's repeated ballot */
		v = _mm512_mullo_epi32(v, _mm512_set1_epi32((int)mult));
	_mm512_storeu_si512(a, _mm512_add_epi32(_mm512_loadu_si512(a), v));
}

/* R = 16 n (n = 1, 2, 4 or 8): a class's counts in n registers, kept there
 * for its entries. */
AVX512 static inline __attribute__((always_inline)) void
add32_zmm(const struct votes_classes *C, uint32_t *restrict acc, const uint32_t *restrict m,
	  const struct block *bl, const int n)
{
	size_t row = pitch_of(bl) * 16, R = 16 * (size_t)n;
	for (size_t c = bl->c0, u = 0; c < bl->c1; u += C->size[c++]) {
		__m512i v[8];
		if (!class_counts(m + u * 4, row, n, v))
			continue;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			uint32_t *a = acc + (size_t)C->code[e] * R, mult = C->mult[e];
#pragma GCC unroll 8
			for (int q = 0; q < n; q++)
				add16(a + 16 * q, v[q], mult);
		}
	}
}

AVX512 static void add_entries32_avx512(const struct votes_classes *C, size_t R, uint32_t *acc,
					const uint32_t *m, const struct block *bl)
{
	if (R == 128)
		add32_zmm(C, acc, m, bl, 8);
	else if (R == 64)
		add32_zmm(C, acc, m, bl, 4);
	else if (R == 32)
		add32_zmm(C, acc, m, bl, 2);
	else
		add32_zmm(C, acc, m, bl, 1);
}

/* Sums in 16 bits, R = 32 n (n = 1, 2 or 4), from the block's 16-bit counts
 * (at16()): a register holds a class's counts of 32 replicates (four lane
 * groups), so an entry counted once costs half the instructions of
 * add32_zmm and a class a quarter of its loads.  Its caller keeps the sums
 * from wrapping (narrow_room).  Entries counted more than once go to the
 * 32-bit sums, as there. */
#define AVX512BW __attribute__((target("avx512f,avx512bw")))

/* a[0..32) += h * mult in 32 bits (h: 32 replicates' 16-bit counts). */
AVX512BW static inline void add32_of16(uint32_t *a, __m512i h, uint32_t mult)
{
	add16(a, _mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), mult);
	add16(a + 16, _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), mult);
}

AVX512BW static inline __attribute__((always_inline)) void
add16_zmm(const struct votes_classes *C, uint32_t *restrict acc, uint16_t *restrict acc16,
	  const uint16_t *restrict m, const struct block *bl, const int n)
{
	size_t row = pitch_of(bl) * 16, R = 32 * (size_t)n;
	/* the classes' arrays in registers: the sums' stores could alias them */
	const uint32_t *restrict size = C->size, *restrict code = C->code, *restrict mults = C->mult;
	const size_t *restrict first = C->first;
	for (size_t c = bl->c0, u = 0; c < bl->c1; u += size[c++]) {
		__m512i h[8];
		if (!class_counts(m + u * 8, row, n, h))
			continue;
		for (size_t e = first[c]; e < first[c + 1]; e++) {
			uint32_t mult = mults[e];
			if (mult != 1) {
				uint32_t *a = acc + (size_t)code[e] * R;
#pragma GCC unroll 4
				for (int q = 0; q < n; q++)
					add32_of16(a + 32 * q, h[q], mult);
				continue;
			}
			uint16_t *a = acc16 + (size_t)code[e] * R;
#pragma GCC unroll 4
			for (int q = 0; q < n; q++)
				_mm512_storeu_si512(a + 32 * q, _mm512_add_epi16(_mm512_loadu_si512(a + 32 * q), h[q]));
		}
	}
}

AVX512BW static void add_entries16_avx512(const struct votes_classes *C, size_t R, uint32_t *acc,
					  uint16_t *acc16, const uint16_t *m, const struct block *bl)
{
	if (R == 128)
		add16_zmm(C, acc, acc16, m, bl, 4);
	else if (R == 64)
		add16_zmm(C, acc, acc16, m, bl, 2);
	else
		add16_zmm(C, acc, acc16, m, bl, 1);
}

/* The largest of n 16-bit counts (n a multiple of 32). */
AVX512BW static uint32_t largest16(const uint16_t *m, size_t n)
{
	__m512i top = _mm512_setzero_si512();
	for (size_t i = 0; i < n; i += 32)
		top = _mm512_max_epu16(top, _mm512_loadu_si512(m + i));
	__m256i half = _mm256_max_epu16(_mm512_castsi512_si256(top), _mm512_extracti64x4_epi64(top, 1));
	__m128i quarter = _mm_max_epu16(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
	uint16_t lanes[8], most = 0;
	_mm_storeu_si128((__m128i *)(void *)lanes, quarter);
	for (int i = 0; i < 8; i++)
		most = lanes[i] > most ? lanes[i] : most;
	return most;
}

/* acc += acc16, and acc16 = 0 (codes x R sums, R a multiple of 32). */
AVX512BW static void widen_sums(uint32_t *acc, uint16_t *acc16, size_t n)
{
	for (size_t i = 0; i < n; i += 32) {
		__m512i h = _mm512_loadu_si512(acc16 + i);
		if (_mm512_test_epi16_mask(h, h) == 0)
			continue;
		__m512i lo = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(h));
		__m512i hi = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1));
		_mm512_storeu_si512(acc + i, _mm512_add_epi32(_mm512_loadu_si512(acc + i), lo));
		_mm512_storeu_si512(acc + i + 16, _mm512_add_epi32(_mm512_loadu_si512(acc + i + 16), hi));
		_mm512_storeu_si512(acc16 + i, _mm512_setzero_si512());
	}
}

/* The same 16-bit sums in 256-bit registers, R = 16 n (n = 1, 2, 4 or 8):
 * a register holds a class's counts of 16 replicates (two lane groups).
 * Without AVX-512 this halves the instructions an entry counted once
 * costs in add32's 32-bit sums. */
AVX2 static inline __m256i two_groups(const char *first, size_t row)
{
	__m256i x = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)first));
	return _mm256_inserti128_si256(x, _mm_loadu_si128((const __m128i *)(const void *)(first + row)), 1);
}

/* a[0..16) += h * mult in 32 bits (h: 16 replicates' 16-bit counts). */
AVX2 static inline void add32_of16_ymm(uint32_t *a, __m256i h, uint32_t mult)
{
	__m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(h));
	__m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(h, 1));
	if (mult != 1) {
		lo = _mm256_mullo_epi32(lo, _mm256_set1_epi32((int)mult));
		hi = _mm256_mullo_epi32(hi, _mm256_set1_epi32((int)mult));
	}
	_mm256_storeu_si256((__m256i *)(void *)a, _mm256_add_epi32(_mm256_loadu_si256((__m256i *)(void *)a), lo));
	_mm256_storeu_si256((__m256i *)(void *)(a + 8),
			    _mm256_add_epi32(_mm256_loadu_si256((__m256i *)(void *)(a + 8)), hi));
}

AVX2 static inline __attribute__((always_inline)) void
add16_ymm(const struct votes_classes *C, uint32_t *restrict acc, uint16_t *restrict acc16,
	  const uint16_t *restrict m, const struct block *bl, const int n)
{
	size_t row = pitch_of(bl) * 16, R = 16 * (size_t)n;
	const uint32_t *restrict size = C->size, *restrict code = C->code, *restrict mults = C->mult;
	const size_t *restrict first = C->first;
	for (size_t c = bl->c0, u = 0; c < bl->c1; u += size[c++]) {
		__m256i h[8], any = _mm256_setzero_si256();
#pragma GCC unroll 8
		for (int q = 0; q < 8; q++) /* only h[0..n) is used: this quiets gcc */
			h[q] = any;
#pragma GCC unroll 8
		for (int q = 0; q < n; q++)
			any = _mm256_or_si256(any, h[q] = two_groups((const char *)(m + u * 8) + 2 * (size_t)q * row, row));
		if (_mm256_testz_si256(any, any))
			continue;
		for (size_t e = first[c]; e < first[c + 1]; e++) {
			uint32_t mult = mults[e];
			if (mult != 1) {
				uint32_t *a = acc + (size_t)code[e] * R;
#pragma GCC unroll 8
				for (int q = 0; q < n; q++)
					add32_of16_ymm(a + 16 * q, h[q], mult);
				continue;
			}
			uint16_t *a = acc16 + (size_t)code[e] * R;
#pragma GCC unroll 8
			for (int q = 0; q < n; q++) {
				__m256i *at = (__m256i *)(void *)(a + 16 * q);
				_mm256_storeu_si256(at, _mm256_add_epi16(_mm256_loadu_si256(at), h[q]));
			}
		}
	}
}

AVX2 static void add_entries16_avx2(const struct votes_classes *C, size_t R, uint32_t *acc, uint16_t *acc16,
				    const uint16_t *m, const struct block *bl)
{
	if (R == 128)
		add16_ymm(C, acc, acc16, m, bl, 8);
	else if (R == 64)
		add16_ymm(C, acc, acc16, m, bl, 4);
	else if (R == 32)
		add16_ymm(C, acc, acc16, m, bl, 2);
	else
		add16_ymm(C, acc, acc16, m, bl, 1);
}

/* largest16 and widen_sums, 16 at a time. */
AVX2 static uint32_t largest16_avx2(const uint16_t *m, size_t n)
{
	__m256i top = _mm256_setzero_si256();
	for (size_t i = 0; i < n; i += 16)
		top = _mm256_max_epu16(top, _mm256_loadu_si256((const __m256i *)(const void *)(m + i)));
	__m128i half = _mm_max_epu16(_mm256_castsi256_si128(top), _mm256_extracti128_si256(top, 1));
	uint16_t lanes[8], most = 0;
	_mm_storeu_si128((__m128i *)(void *)lanes, half);
	for (int i = 0; i < 8; i++)
		most = lanes[i] > most ? lanes[i] : most;
	return most;
}

AVX2 static void widen_sums_avx2(uint32_t *acc, uint16_t *acc16, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		__m256i *at16 = (__m256i *)(void *)(acc16 + i), h = _mm256_loadu_si256(at16);
		if (_mm256_testz_si256(h, h))
			continue;
		add32_of16_ymm(acc + i, h, 1);
		_mm256_storeu_si256(at16, _mm256_setzero_si256());
	}
}
#endif

static void add_entries32(const struct plan *P, uint32_t *acc, const uint32_t *m, const struct block *bl)
{
#if defined(__GNUC__) && defined(__x86_64__)
	if (P->avx512 && P->R >= 16) {
		add_entries32_avx512(P->B->C, P->R, acc, m, bl);
		return;
	}
	if (P->avx2) {
		add_entries32_avx2(P->B->C, P->R, acc, m, bl);
		return;
	}
#endif
	ADD_ENTRIES32(P->B->C, P->R, acc, m, bl)
}

/* The 16-bit sums (R a multiple of 32) added into the 32-bit ones. */
static void widen(const struct plan *P, uint32_t *acc, uint16_t *acc16)
{
#if defined(__GNUC__) && defined(__x86_64__)
	if (P->narrow == NARROW_ZMM)
		widen_sums(acc, acc16, P->codes * P->R);
	else if (P->narrow == NARROW_YMM)
		widen_sums_avx2(acc, acc16, P->codes * P->R);
#else
	(void)P, (void)acc, (void)acc16;
#endif
}

/* Whether block b may be summed in 16 bits (add_entries16), the
 * 16-bit sums first widened when they might not hold it; *most gets its
 * most draws in one replicate.  *pending bounds every 16-bit sum, and
 * a block adds at most *most to one (added16). */
static int narrow_room(const struct plan *P, const struct block *bl, const uint64_t *nb, size_t b, size_t reps,
		       uint32_t *acc, uint16_t *acc16, uint64_t *pending, uint64_t *most)
{
	if (P->narrow == WIDE_ONLY || bl->single || !bl->distinct)
		return 0;
	*most = 0;
	for (size_t r = 0; r < reps; r++)
		*most = nb[b * P->R + r] > *most ? nb[b * P->R + r] : *most;
	if (*most > UINT16_MAX)
		return 0;
	if (*pending + *most > UINT16_MAX) {
		widen(P, acc, acc16);
		*pending = 0;
	}
	return 1;
}

static void add_entries16(const struct plan *P, uint32_t *acc, uint16_t *acc16, const uint16_t *m,
			  const struct block *bl)
{
#if defined(__GNUC__) && defined(__x86_64__)
	if (P->narrow == NARROW_ZMM)
		add_entries16_avx512(P->B->C, P->R, acc, acc16, m, bl);
	else
		add_entries16_avx2(P->B->C, P->R, acc, acc16, m, bl);
#else
	(void)P, (void)acc, (void)acc16, (void)m, (void)bl;
#endif
}

/* How much block bl, whose 16-bit counts are m16, added to one 16-bit sum
 * at most: in a replicate a class adds its count to a sum once at most
 * (its entries' codes are distinct; those counted more than once go to the
 * 32-bit sums), so at most the block's most draws in a replicate, `most`,
 * and at most its largest count times the classes sharing a code.  The
 * second, far less with many models, is worth finding only where widening
 * (all the codes' sums) costs more than the block's own entries. */
static uint64_t added16(const struct plan *P, const struct block *bl, const uint16_t *m16, uint64_t most)
{
#if defined(__GNUC__) && defined(__x86_64__)
	if (!bl->sharing)
		return most;
	size_t n = pitch_of(bl) * padded(P->R, 8);
	uint64_t bound = (P->narrow == NARROW_ZMM ? largest16(m16, n) : largest16_avx2(m16, n)) * (uint64_t)bl->sharing;
	return bound < most ? bound : most;
#else
	(void)P, (void)bl, (void)m16;
	return most;
#endif
}

static void add_entries64(const struct plan *P, uint64_t *acc, const uint32_t *m, const struct block *bl)
{
	const struct votes_classes *C = P->B->C;
	size_t R = P->R;
	for (size_t c = bl->c0, u = 0; c < bl->c1; u += C->size[c++])
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++)
			for (size_t r = 0; r < R; r++)
				acc[(size_t)C->code[e] * R + r] += (uint64_t)m[at(pitch_of(bl), u, r)] * C->mult[e];
}

/* rows[r * codes + x] = acc[x * R + r]: the fits read a replicate's sums
 * in order, where reading them R apart took a cache line per code (a
 * line from the third-level cache, with 200 models). */
static void transpose(const uint32_t *acc, size_t codes, size_t R, uint32_t *rows)
{
	for (size_t x0 = 0; x0 < codes; x0 += 64) { /* 64 codes' sums: 256 R bytes, in the first-level cache */
		size_t x1 = codes - x0 < 64 ? codes : x0 + 64;
		for (size_t r = 0; r < R; r++)
			for (size_t x = x0; x < x1; x++)
				rows[r * codes + x] = acc[x * R + r];
	}
}

/* Replicate r's doubled win table (2 per win, 1 per tie each way, and the
 * prior's ties), from its row of 32-bit sums or from the 64-bit ones. */
static void table_of(const struct plan *P, const uint32_t *row, const uint64_t *acc64, size_t r, double *w)
{
	size_t k = P->B->k, R = P->R, x = 0;
	for (size_t lo = 0; lo < k; lo++) {
		w[lo * k + lo] = 0;
		for (size_t hi = lo + 1; hi < k; hi++, x += 3) {
			double sum[3];
			for (int i = 0; i < 3; i++)
				sum[i] = acc64 ? (double)acc64[(x + i) * R + r] : (double)row[x + i];
			w[lo * k + hi] = 2 * sum[VOTES_LO_WON] + sum[VOTES_TIED] + P->B->prior;
			w[hi * k + lo] = 2 * sum[VOTES_HI_WON] + sum[VOTES_TIED] + P->B->prior;
		}
	}
}

static void fit(const struct plan *P, unsigned t, const uint32_t *row, const uint64_t *acc64, size_t r,
		size_t b)
{
	const struct votes_boot *B = P->B;
	size_t k = B->k;
	double *w = P->w + t * k * k, *g = P->g + t * k, *wr = P->wr + t * k, *elo = P->elo + t * k;
	table_of(P, row, acc64, r, w);
	B->ok[b] = votes_bt_refit(w, k, B->g0, P->factor, g) >= 0;
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
	uint64_t *nb = P->nb + t * P->nblocks * R, *acc64 = P->acc64 + t * P->codes * R;
	uint32_t *m = P->m + t * P->widest * padded(R, 4), *acc32 = P->acc32 + t * P->codes * R;
	uint32_t *rows = P->rows + t * P->codes * R;
	uint16_t *acc16 = P->acc16 ? P->acc16 + t * P->codes * R : NULL; /* zero between groups */
	uint16_t *m16 = P->m16 ? P->m16 + t * P->widest * padded(R, 8) : NULL;
	uint64_t pending = 0;
	memset(nb, 0, P->nblocks * R * sizeof *nb);
	int wide = split(P, B->streams + first, nb, reps);
	if (wide)
		memset(acc64, 0, P->codes * R * sizeof *acc64);
	else
		memset(acc32, 0, P->codes * R * sizeof *acc32);
	for (size_t b = 0; b < P->nblocks; b++) {
		const struct block *bl = &P->blocks[b];
		uint64_t most = 0;
		int half = !wide && narrow_room(P, bl, nb, b, reps, acc32, acc16, &pending, &most);
		draw_block(P, bl, nb, b, B->streams + first, reps, m, m16, half);
		if (wide) {
			add_entries64(P, acc64, m, bl);
		} else if (half) {
			add_entries16(P, acc32, acc16, m16, bl);
			pending += added16(P, bl, m16, most);
		} else {
			add_entries32(P, acc32, m, bl);
		}
	}
	if (pending)
		widen(P, acc32, acc16);
	if (!wide)
		transpose(acc32, P->codes, R, rows);
	for (size_t r = 0; r < reps; r++)
		fit(P, t, rows + r * P->codes, wide ? acc64 : NULL, r, first + r);
}

static void plan_free(struct plan *P)
{
	free(P->factor);
	free(P->blocks);
	free(P->nb);
	free(P->acc32);
	free(P->acc64);
	free(P->rows);
	free(P->acc16);
	free(P->m16);
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
	struct plan P = {.B = B, .codes = votes_codes(k)};
	P.R = group_size(P.codes, threads);
	P.avx2 = kv_simd_detect() >= KV_SIMD_AVX2;
	P.avx512 = kv_simd_detect() >= KV_SIMD_AVX512;
	P.binomial8 = P.avx512 && votes_binomial8_usable();
	P.binomial4 = P.avx2 && votes_binomial4_usable();
	if (B->rounds == 0)
		return 0;
	int rc = B->C->units == 0 || B->C->units > UINT32_MAX || make_blocks(&P) ? -1 : 0;
	if (rc == 0) {
		P.nb = malloc(threads * P.nblocks * P.R * sizeof *P.nb);
		P.acc32 = malloc(threads * P.codes * P.R * sizeof *P.acc32);
		P.acc64 = malloc(threads * P.codes * P.R * sizeof *P.acc64);
		P.rows = malloc(threads * P.codes * P.R * sizeof *P.rows);
		P.m = malloc(threads * P.widest * padded(P.R, 4) * sizeof *P.m);
		P.w = malloc(threads * k * k * sizeof *P.w);
		P.g = malloc(threads * k * sizeof *P.g);
		P.wr = malloc(threads * k * sizeof *P.wr);
		P.elo = malloc(threads * k * sizeof *P.elo);
		rc = P.nb && P.acc32 && P.acc64 && P.rows && P.m && P.w && P.g && P.wr && P.elo ? 0 : -1;
	}
	/* 16-bit sums: 32 replicates a 512-bit register, or 16 a 256-bit one
	 * without AVX-512 (where R = 16, AVX-512's 32-bit sums take the same
	 * one register an entry) */
	if (rc == 0 && (P.avx512 ? P.R % 32 == 0 : P.avx2 && P.R % 16 == 0)) {
		P.acc16 = calloc(threads * P.codes * P.R, sizeof *P.acc16);
		P.m16 = malloc(threads * P.widest * padded(P.R, 8) * sizeof *P.m16);
		if (P.acc16 && P.m16) /* without them, the 32-bit sums alone */
			P.narrow = P.avx512 ? NARROW_ZMM : NARROW_YMM;
	}
	if (rc == 0) {
		P.factor = votes_bt_factor(B->w0, k, B->g0); /* NULL: Newton's method alone */
		votes_parallel((B->rounds + P.R - 1) / P.R, threads, group, &P);
	}
	plan_free(&P);
	return rc;
}

/* The bootstrap's inner loops: drawing units with replacement, and summing
 * the drawn units' count tables.
 *
 * Everything here is integer arithmetic, exact in any order, so the vector
 * versions (AVX-512 VNNI or AVX2, chosen at run time, see lib/simd/simd.h) and
 * the plain one give the same numbers. */
#include "votes.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define VOTES_AVX2 1
#endif

/* High 64 bits of a 64 x 64-bit product: exact either way, so every
 * platform draws the same numbers (one instruction where the compiler has
 * 128-bit integers). */
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

/* n draws from [0, n) by Lemire's multiply-shift rejection method (unbiased;
 * one division per replicate instead of two per draw). */
void votes_resample(struct kv_rng *rng, uint32_t *mult, size_t n)
{
	if (n == 0)
		return;
	uint64_t threshold = (0 - (uint64_t)n) % n; /* (2^64 - n) mod n */
	memset(mult, 0, n * sizeof *mult);
	for (size_t i = 0; i < n; i++) {
		uint64_t x;
		do
			x = kv_rng_next(rng);
		while (x * (uint64_t)n < threshold); /* the low half of x * n */
		mult[mulhi64(x, n)]++;
	}
}

/* acc32[r][x] += sum over units j of mult[r][j] * rows[j][x], for r in
 * [r0, r1) and x in [x0, x1); units drawn zero times are skipped. */
static void sum_plain(uint32_t *acc32, const uint32_t *rows, size_t units, size_t width, const uint32_t *mult,
		      size_t r0, size_t r1, size_t x0, size_t x1)
{
	if (r0 >= r1 || x0 >= x1)
		return;
	for (size_t j = 0; j < units; j++)
		for (size_t r = r0; r < r1; r++) {
			uint32_t m = mult[r * units + j];
			for (size_t x = x0; m && x < x1; x++)
				acc32[r * width + x] += m * rows[j * width + x];
		}
}

#ifdef VOTES_AVX2
#define TILE_UNITS 1024   /* units whose rows (256 KB at k = 8) stay in cache for all tiles */

/* One tile, 4 replicates x 16 cells from x, over units [j0, j1): the 8 sums
 * stay in registers (written out, so the compiler keeps them there); each
 * unit costs 2 loads, 4 broadcasts, 8 multiplies. */
#define LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
#define MADD(a, v, m) a = _mm256_add_epi32(a, _mm256_mullo_epi32(v, m))
__attribute__((target("avx2")))
static void tile_avx2(uint32_t *acc32, const uint32_t *rows, size_t units, size_t width, const uint32_t *mult,
		      size_t r, size_t x, size_t j0, size_t j1)
{
	uint32_t *c0 = acc32 + r * width + x, *c1 = c0 + width, *c2 = c1 + width, *c3 = c2 + width;
	const uint32_t *m0 = mult + r * units, *m1 = m0 + units, *m2 = m1 + units, *m3 = m2 + units;
	__m256i a0 = LOAD(c0), b0 = LOAD(c0 + 8), a1 = LOAD(c1), b1 = LOAD(c1 + 8);
	__m256i a2 = LOAD(c2), b2 = LOAD(c2 + 8), a3 = LOAD(c3), b3 = LOAD(c3 + 8);
	for (size_t j = j0; j < j1; j++) {
		const uint32_t *row = rows + j * width + x;
		__m256i v = LOAD(row), w = LOAD(row + 8), m;
		m = _mm256_set1_epi32((int)m0[j]);
		MADD(a0, v, m);
		MADD(b0, w, m);
		m = _mm256_set1_epi32((int)m1[j]);
		MADD(a1, v, m);
		MADD(b1, w, m);
		m = _mm256_set1_epi32((int)m2[j]);
		MADD(a2, v, m);
		MADD(b2, w, m);
		m = _mm256_set1_epi32((int)m3[j]);
		MADD(a3, v, m);
		MADD(b3, w, m);
	}
	STORE(c0, a0), STORE(c0 + 8, b0), STORE(c1, a1), STORE(c1 + 8, b1);
	STORE(c2, a2), STORE(c2 + 8, b2), STORE(c3, a3), STORE(c3 + 8, b3);
}
#undef LOAD
#undef STORE
#undef MADD

/* Replicates [0, reps4) x cells [0, width16) in tiles, a block of units at a time. */
__attribute__((target("avx2")))
static void sum_tiles_avx2(uint32_t *acc32, const uint32_t *rows, size_t units, size_t width,
			   const uint32_t *mult, size_t reps4, size_t width16)
{
	for (size_t j0 = 0; j0 < units; j0 += TILE_UNITS) {
		size_t j1 = units - j0 < TILE_UNITS ? units : j0 + TILE_UNITS;
		for (size_t x = 0; x < width16; x += 16) /* the rows' cells for x stay in cache over r */
			for (size_t r = 0; r < reps4; r += 4)
				tile_avx2(acc32, rows, units, width, mult, r, x, j0, j1);
	}
}

/* AVX-512 VNNI: one vpdpwssd multiplies 16 cells of two units by their two
 * multiplicities and adds both products to 16 sums -- 32 products where
 * AVX2 does 8.  Its operands are signed 16-bit, so the tables are packed
 * once (T->pairs: unit 2p's and 2p+1's cell x side by side) when every
 * cell is below 2^15, and each block's multiplicities likewise when they
 * are.  Sums wrap modulo 2^32 like the AVX2 ones, so with narrow they are
 * exact. */
#define VNNI_REPS 8       /* replicates per tile (tile_vnni is written for 8) */
#define TILE_PAIRS 512    /* pairs of units whose rows (32 KB per 16 cells) stay in cache */

/* Two neighbouring 16-bit numbers as one 32-bit lane, in memory order
 * like the rows' pairs. */
static inline int pair_at(const uint16_t *m16, size_t p)
{
	int32_t w;
	memcpy(&w, m16 + 2 * p, sizeof w);
	return w;
}

#define LOAD(p) _mm512_loadu_si512((const void *)(p))
#define STORE(p, v) _mm512_storeu_si512((void *)(p), v)
#define DP(i) a##i = _mm512_dpwssd_epi32(a##i, v, _mm512_set1_epi32(pair_at(m16, i * npairs + p)))
/* One tile, 8 replicates x 16 cells from x, over pairs [p0, p1): the sums
 * are written out one by one so that they stay in registers. */
__attribute__((target("avx512f,avx512vnni")))
static void tile_vnni(uint32_t *acc32, const int16_t *pairs, size_t width16, const uint16_t *mult16,
		      size_t npairs, size_t r, size_t x, size_t p0, size_t p1)
{
	uint32_t *c = acc32 + r * width16 + x;
	const uint16_t *m16 = mult16 + 2 * r * npairs;
	__m512i a0 = LOAD(c), a1 = LOAD(c + width16), a2 = LOAD(c + 2 * width16), a3 = LOAD(c + 3 * width16);
	__m512i a4 = LOAD(c + 4 * width16), a5 = LOAD(c + 5 * width16), a6 = LOAD(c + 6 * width16);
	__m512i a7 = LOAD(c + 7 * width16);
	for (size_t p = p0; p < p1; p++) {
		__m512i v = LOAD(pairs + 2 * (p * width16 + x));
		DP(0), DP(1), DP(2), DP(3), DP(4), DP(5), DP(6), DP(7);
	}
	STORE(c, a0), STORE(c + width16, a1), STORE(c + 2 * width16, a2), STORE(c + 3 * width16, a3);
	STORE(c + 4 * width16, a4), STORE(c + 5 * width16, a5), STORE(c + 6 * width16, a6);
	STORE(c + 7 * width16, a7);
}
#undef LOAD
#undef STORE
#undef DP

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* The multiplicities as 16-bit numbers, each replicate's padded to an even
 * count (so units 2p and 2p+1 share a 32-bit word), replicates past reps
 * zero; 0 when one is 2^15 or more (then the AVX2 tiles do this block). */
__attribute__((target("avx512f,avx512vnni")))
static int pack_mult(const uint32_t *mult, size_t units, size_t reps, size_t reps8, uint16_t *m16)
{
	size_t npairs = (units + 1) / 2, j;
	__m512i any = _mm512_setzero_si512();
	for (size_t r = 0; r < reps; r++) {
		const uint32_t *from = mult + r * units;
		uint16_t *to = m16 + 2 * r * npairs;
		for (j = 0; j + 16 <= units; j += 16) {
			__m512i v = _mm512_loadu_si512((const void *)(from + j));
			any = _mm512_or_si512(any, v);
			_mm256_storeu_si256((__m256i *)(void *)(to + j), _mm512_cvtepi32_epi16(v));
		}
		__mmask16 rest = (__mmask16)((1u << (units - j)) - 1);
		__m512i v = _mm512_maskz_loadu_epi32(rest, from + j);
		any = _mm512_or_si512(any, v);
		_mm512_mask_cvtepi32_storeu_epi16(to + j, rest, v);
		to[2 * npairs - 1] = units & 1 ? 0 : to[2 * npairs - 1];
	}
	memset(m16 + 2 * reps * npairs, 0, (reps8 - reps) * 2 * npairs * sizeof *m16);
	return (uint32_t)_mm512_reduce_or_epi32(any) < 0x8000;
}

__attribute__((target("avx512f,avx512vnni")))
static int sum_vnni(const struct votes_tables *T, const uint32_t *mult, size_t reps, uint32_t *scratch,
		    uint64_t *acc)
{
	size_t npairs = (T->units + 1) / 2, reps8 = round_up(reps, VNNI_REPS), w16 = T->width16;
	uint32_t *acc32 = scratch;
	uint16_t *m16 = (uint16_t *)(void *)(scratch + reps8 * w16);
	if (!pack_mult(mult, T->units, reps, reps8, m16))
		return 0;
	memset(acc32, 0, reps8 * w16 * sizeof *acc32);
	for (size_t p0 = 0; p0 < npairs; p0 += TILE_PAIRS) {
		size_t p1 = npairs - p0 < TILE_PAIRS ? npairs : p0 + TILE_PAIRS;
		for (size_t x = 0; x < w16; x += 16)
			for (size_t r = 0; r < reps8; r += VNNI_REPS)
				tile_vnni(acc32, T->pairs, w16, m16, npairs, r, x, p0, p1);
	}
	for (size_t r = 0; r < reps; r++)
		for (size_t x = 0; x < T->width; x++)
			acc[r * T->width + x] = acc32[r * w16 + x];
	return 1;
}

static int has_vnni(void)
{
	__builtin_cpu_init();
	return kv_simd_detect() == KV_SIMD_AVX512 && __builtin_cpu_supports("avx512vnni");
}

static int fits_16_bits(const uint32_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i] >= 0x8000)
			return 0;
	return 1;
}

/* The layout sum_vnni reads: unit 2p's and 2p+1's cell x side by side. */
static int16_t *pack_rows(const uint32_t *rows, size_t units, size_t width, size_t width16)
{
	int16_t *pairs = calloc((units + 1) / 2 * width16 * 2, sizeof *pairs);
	if (!pairs)
		return NULL;
	for (size_t j = 0; j < units; j++)
		for (size_t x = 0; x < width; x++)
			pairs[2 * ((j / 2) * width16 + x) + (j & 1)] = (int16_t)rows[j * width + x];
	return pairs;
}
#endif

/* A replicate's cell is at most (draws = units) x (the largest cell). */
static int fits_32_bits(const uint32_t *rows, size_t units, size_t width)
{
	uint32_t largest = 0;
	for (size_t i = 0; i < units * width; i++)
		largest = rows[i] > largest ? rows[i] : largest;
	return (uint64_t)largest * units <= UINT32_MAX;
}

int votes_tables_init(struct votes_tables *T, const uint32_t *rows, size_t units, size_t width)
{
	*T = (struct votes_tables){.rows = rows, .units = units, .width = width,
				   .width16 = (width + 15) / 16 * 16};
	T->narrow = fits_32_bits(rows, units, width);
#ifdef VOTES_AVX2
	T->avx2 = T->narrow && kv_simd_detect() >= KV_SIMD_AVX2;
	if (T->narrow && units > 0 && has_vnni() && fits_16_bits(rows, units * width) &&
	    !(T->pairs = pack_rows(rows, units, width, T->width16)))
		return -1;
#endif
	return 0;
}

void votes_tables_free(struct votes_tables *T)
{
	free(T->pairs);
	T->pairs = NULL;
}

size_t votes_sum_scratch(const struct votes_tables *T, size_t reps)
{
	size_t plain = reps * T->width, vnni = 0;
#ifdef VOTES_AVX2
	size_t reps8 = round_up(reps, VNNI_REPS);
	vnni = reps8 * T->width16 + reps8 * ((T->units + 1) / 2);
#endif
	return plain > vnni ? plain : vnni;
}

/* acc[r] = sum over units j of mult[r][j] * rows[j], for r < reps. */
void votes_sum_tables(const struct votes_tables *T, const uint32_t *mult, size_t reps, uint32_t *scratch,
		      uint64_t *acc)
{
	const uint32_t *rows = T->rows;
	size_t units = T->units, width = T->width, reps4 = 0, width16 = 0; /* the part in AVX2 tiles */
	uint32_t *acc32 = scratch;
	if (!T->narrow) { /* sums that may pass 2^32: 64-bit, plainly */
		memset(acc, 0, reps * width * sizeof *acc);
		for (size_t j = 0; j < units; j++)
			for (size_t r = 0; r < reps; r++)
				for (size_t x = 0; mult[r * units + j] && x < width; x++)
					acc[r * width + x] += (uint64_t)mult[r * units + j] * rows[j * width + x];
		return;
	}
#ifdef VOTES_AVX2
	if (T->pairs && sum_vnni(T, mult, reps, scratch, acc))
		return;
#endif
	memset(acc32, 0, reps * width * sizeof *acc32);
#ifdef VOTES_AVX2
	if (T->avx2) {
		reps4 = reps & ~(size_t)3;
		width16 = width & ~(size_t)15;
		sum_tiles_avx2(acc32, rows, units, width, mult, reps4, width16);
	}
#endif
	sum_plain(acc32, rows, units, width, mult, 0, reps4, width16, width); /* the cells right of the tiles */
	sum_plain(acc32, rows, units, width, mult, reps4, reps, 0, width);    /* the replicates below them */
	for (size_t i = 0; i < reps * width; i++)
		acc[i] = acc32[i];
}

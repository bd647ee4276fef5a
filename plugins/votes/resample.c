/* The bootstrap's inner loops: drawing units with replacement, and summing
 * the drawn units' count tables.
 *
 * Everything here is integer arithmetic, exact in any order, so the vector
 * version (AVX2, chosen at run time where the processor has it) and the
 * plain one give the same numbers. */
#include "votes.h"

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
#endif

/* acc[r] = sum over units j of mult[r][j] * rows[j], for r < reps; acc32
 * is scratch of reps * width.  narrow: every sum fits in 32 bits. */
void votes_sum_tables(const uint32_t *rows, size_t units, size_t width, const uint32_t *mult,
		      size_t reps, int narrow, uint32_t *acc32, uint64_t *acc)
{
	size_t reps4 = 0, width16 = 0; /* the part summed in vector tiles */
	memset(acc, 0, reps * width * sizeof *acc);
	if (!narrow) { /* sums that may pass 2^32: 64-bit, plainly */
		for (size_t j = 0; j < units; j++)
			for (size_t r = 0; r < reps; r++)
				for (size_t x = 0; mult[r * units + j] && x < width; x++)
					acc[r * width + x] += (uint64_t)mult[r * units + j] * rows[j * width + x];
		return;
	}
	memset(acc32, 0, reps * width * sizeof *acc32);
#ifdef VOTES_AVX2
	if (__builtin_cpu_supports("avx2")) {
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

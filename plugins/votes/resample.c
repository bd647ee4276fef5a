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

/* High 64 bits of a 64 x 64-bit product, in portable C (so every platform
 * draws the same numbers). */
static uint64_t mulhi64(uint64_t a, uint64_t b)
{
	uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
	uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
	uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
	return hi_hi + (hi_lo >> 32) + (cross >> 32);
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

static void add_scaled_plain(uint32_t *acc, const uint32_t *row, uint32_t m, size_t width)
{
	for (size_t x = 0; x < width; x++)
		acc[x] += m * row[x];
}

#ifdef VOTES_AVX2
__attribute__((target("avx2")))
static void add_scaled_avx2(uint32_t *acc, const uint32_t *row, uint32_t m, size_t width)
{
	__m256i mm = _mm256_set1_epi32((int)m);
	size_t x = 0;
	for (; x + 8 <= width; x += 8) {
		__m256i r = _mm256_loadu_si256((const __m256i *)(const void *)(row + x));
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(acc + x));
		a = _mm256_add_epi32(a, _mm256_mullo_epi32(r, mm));
		_mm256_storeu_si256((__m256i *)(void *)(acc + x), a);
	}
	add_scaled_plain(acc + x, row + x, m, width - x);
}
#endif

/* acc[r] = sum over units j of mult[r][j] * rows[j], for r < reps; acc32
 * is scratch of reps * width.  narrow: every sum fits in 32 bits. */
void votes_sum_tables(const uint32_t *rows, size_t units, size_t width, const uint32_t *mult,
		      size_t reps, int narrow, uint32_t *acc32, uint64_t *acc)
{
	void (*add)(uint32_t *, const uint32_t *, uint32_t, size_t) = add_scaled_plain;
#ifdef VOTES_AVX2
	if (__builtin_cpu_supports("avx2"))
		add = add_scaled_avx2;
#endif
	memset(acc, 0, reps * width * sizeof *acc);
	if (!narrow) { /* sums that may pass 2^32: 64-bit, plainly */
		for (size_t j = 0; j < units; j++)
			for (size_t r = 0; r < reps; r++)
				for (size_t x = 0; mult[r * units + j] && x < width; x++)
					acc[r * width + x] += (uint64_t)mult[r * units + j] * rows[j * width + x];
		return;
	}
	memset(acc32, 0, reps * width * sizeof *acc32);
	/* Each unit's row is read once for all reps replicates. */
	for (size_t j = 0; j < units; j++)
		for (size_t r = 0; r < reps; r++)
			if (mult[r * units + j])
				add(acc32 + r * width, rows + j * width, mult[r * units + j], width);
	for (size_t i = 0; i < reps * width; i++)
		acc[i] = acc32[i];
}

/* Drawing units with replacement (the rating bootstrap), in integer
 * arithmetic only, so every platform draws the same. */
#include "votes.h"

#include <string.h>

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

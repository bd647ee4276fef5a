/*
 * xxh128_kernel.h -- the body of one XXH3-128 kernel (see xxh128.h).
 *
 * Included once by each kernel file, after that file has set the code it is
 * compiled for, with KV_XX_KERNEL naming the function to define.  xxhash.h
 * picks its AVX-512, AVX2, SSE2 or portable code from the target's macros
 * (or from XXH_VECTOR), so each file gets its own copy.
 */
#include <string.h>

#include "xxh128.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

void KV_XX_KERNEL(const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
	memcpy(out, c.digest, KV_XX_DIGEST);
}

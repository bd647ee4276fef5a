/* The XXH3-128 tree of fingerprint versions 3 and 4 (see xxh128.h): the portable
 * kernel, the choice of kernel, and the root. */
#include "xxh128.h"

#include <stdlib.h>
#include <string.h>

/* xxHash's own portable code (no vector instructions) for the scalar level. */
#define XXH_VECTOR XXH_SCALAR
#define KV_XX_KERNEL unit_scalar
static void unit_scalar(const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST]);
#include "xxh128_kernel.h"

#define ROOT_TAG "kaieval/xxh128-tree/v1"

void kv_xx_unit(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST])
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (level >= KV_SIMD_AVX512)
		kv_xx_unit_avx512(p, n, out);
	else if (level == KV_SIMD_AVX2)
		kv_xx_unit_avx2(p, n, out);
	else
		unit_scalar(p, n, out);
#else
	(void)level;
	unit_scalar(p, n, out);
#endif
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int kv_xx_root(uint64_t bytes, const uint8_t *digests, size_t count, uint8_t out[KV_XX_DIGEST])
{
	size_t tag = sizeof ROOT_TAG - 1, n = tag + 16 + count * KV_XX_DIGEST;
	uint8_t *in = malloc(n);
	if (!in)
		return -1;
	memcpy(in, ROOT_TAG, tag);
	put_le64(in + tag, bytes);
	put_le64(in + tag + 8, KV_XX_UNIT);
	memcpy(in + tag + 16, digests, count * KV_XX_DIGEST);
	/* The root is under 0.01 % of the bytes hashed: the portable code will do. */
	unit_scalar(in, n, out);
	free(in);
	return 0;
}

int kv_xx_hash(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST])
{
	size_t count = n / KV_XX_UNIT + (n % KV_XX_UNIT != 0);
	if (count <= 1) {
		kv_xx_unit(level, p, n, out);
		return 0;
	}
	uint8_t *d = malloc(count * KV_XX_DIGEST);
	if (!d)
		return -1;
	for (size_t i = 0; i < count; i++) {
		size_t len = i + 1 < count ? KV_XX_UNIT : n - i * KV_XX_UNIT;
		kv_xx_unit(level, p + i * KV_XX_UNIT, len, d + i * KV_XX_DIGEST);
	}
	int rc = kv_xx_root(n, d, count, out);
	free(d);
	return rc;
}

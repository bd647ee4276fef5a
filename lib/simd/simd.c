/* Run-time choice of vector kernels (see simd.h). */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

/* F16C (CPUID leaf 1, ECX bit 29): not every compiler's
 * __builtin_cpu_supports knows it. */
static int has_f16c(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#endif

static enum kv_simd cpu_level(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl"))
		return KV_SIMD_AVX512;
	if (__builtin_cpu_supports("avx2") && has_f16c())
		return KV_SIMD_AVX2;
#endif
	return KV_SIMD_SCALAR;
}

enum kv_simd kv_simd_detect(void)
{
	enum kv_simd level = cpu_level();
	const char *want = getenv("KAIEVAL_SIMD");
	if (!want)
		return level;
	enum kv_simd cap = strcmp(want, "scalar") == 0 ? KV_SIMD_SCALAR
		: strcmp(want, "avx2") == 0 ? KV_SIMD_AVX2 : KV_SIMD_AVX512;
	return cap < level ? cap : level;
}

const char *kv_simd_name(enum kv_simd level)
{
	return level == KV_SIMD_AVX512 ? "avx512" : level == KV_SIMD_AVX2 ? "avx2" : "scalar";
}

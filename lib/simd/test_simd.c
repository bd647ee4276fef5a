/* The run-time choice of vector kernels (simd.c): KAIEVAL_SIMD only lowers
 * the level the CPU gives, and every level has its name. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "simd.h"

/* The level with KAIEVAL_SIMD set to want (NULL: unset). */
static enum kv_simd detect_with(const char *want)
{
	if (want)
		setenv("KAIEVAL_SIMD", want, 1);
	else
		unsetenv("KAIEVAL_SIMD");
	return kv_simd_detect();
}

Test(simd, the_environment_lowers_never_raises)
{
	enum kv_simd cpu = detect_with(NULL);
	cr_assert(cpu >= KV_SIMD_SCALAR && cpu <= KV_SIMD_AVX512);
	cr_assert_eq(detect_with("scalar"), KV_SIMD_SCALAR);
	cr_assert_eq(detect_with("avx2"), cpu < KV_SIMD_AVX2 ? cpu : KV_SIMD_AVX2);
	cr_assert_eq(detect_with("avx512"), cpu);
	unsetenv("KAIEVAL_SIMD");
}

Test(simd, names)
{
	cr_assert_str_eq(kv_simd_name(KV_SIMD_SCALAR), "scalar");
	cr_assert_str_eq(kv_simd_name(KV_SIMD_AVX2), "avx2");
	cr_assert_str_eq(kv_simd_name(KV_SIMD_AVX512), "avx512");
}

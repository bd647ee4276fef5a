/* XXH3-128 with xxHash's AVX-512 code (see xxh128.h).  The whole file is
 * compiled for AVX-512, so it holds this one kernel and nothing else: it runs
 * only when the CPU has been seen to support it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* GCC also defines the target's macros here, which is how xxhash.h picks
 * its code; clang (the fuzz builds) compiles baseline code: same digests. */
#pragma GCC target("avx512f,avx512bw,avx512vl")
#endif

#define KV_XX_KERNEL kv_xx_unit_avx512
#include "xxh128_kernel.h"

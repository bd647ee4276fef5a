/*
 * simd.h -- which vector kernels the fingerprint scan and the votes plugin
 * may use.
 *
 * Kernels are compiled with __attribute__((target(...))) and chosen at run
 * time, so the build needs no special flags and runs on any x86-64 (or other)
 * machine.  Every level gives the same bytes: the vector kernels follow the
 * scalar code's exact order of operations (see moments.h, treehash.h).
 */
#ifndef KV_SIMD_H
#define KV_SIMD_H

enum kv_simd {
	KV_SIMD_SCALAR = 0,
	KV_SIMD_AVX2 = 1,     /* AVX2 + F16C */
	KV_SIMD_AVX512 = 2    /* AVX-512 F, BW, VL */
};

/* The best level this CPU supports, lowered (never raised) by the
 * environment variable KAIEVAL_SIMD=scalar|avx2|avx512 (tests, benchmarks). */
enum kv_simd kv_simd_detect(void);
const char *kv_simd_name(enum kv_simd level);

#endif

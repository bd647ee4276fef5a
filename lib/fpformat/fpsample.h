/*
 * fpsample.h -- where a fingerprint samples a tensor (header only).
 *
 * Shared by `kaieval fingerprint` (which stores the sampled values) and the
 * license plugin (which pairs the samples of two fingerprints), so it holds
 * static inline code and no core symbol.
 *
 * Why a sample, and why keyed by shape.  Pearson r between two tensors needs
 * the cross sum  sum_i a_i b_i, i.e. both tensors at once; a fingerprint is
 * made from one model.  So each fingerprint keeps the values at positions
 * chosen by a fixed rule from the tensor's SHAPE and a fixed seed only (not
 * its name, not its values): any two same-shaped tensors, in any two
 * fingerprints, are sampled at the same positions, and their samples are
 * paired values.  Keying by shape also lets a tensor be compared with a
 * differently named one (another layer, another naming scheme).
 *
 * The rule: a tensor of n <= K elements keeps all n values in order (its r is
 * then exact).  Otherwise position j (j = 0, 1, ..., K-1) is
 *     p_j = floor(mix(key + (j + 1) * G) * n / 2^64)
 * where key = shape_key(rank, shape), mix is the splitmix64 finalizer and G
 * its increment: K positions drawn uniformly and independently (with
 * replacement).  The first K' positions of a K-sample are the K'-sample, so
 * fingerprints made with different K still pair on the shorter prefix.
 *
 * Error of the sampled r (stated, and checked in tests/test_forensics.c).
 * The K pairs are i.i.d. draws from the n pairs of the two tensors, so the
 * sample correlation r^ estimates the full-tensor r.  By the delta method on
 * the five sample moments, sqrt(K) (r^ - r) -> N(0, V) with
 *     V = (1 + r^2/2) m22 - r (m31 + m13) + (r^2/4) (m40 + m04),
 * m_ab = E[x^a y^b] of the standardized pair.  For Gaussian-like weights
 * V = (1 - r^2)^2, so the standard error is (1 - r^2) / sqrt(K): with the
 * default K = 4096, 0.016 at r = 0, 0.012 at r = 0.5, 0.0003 at r = 0.99.
 * The decision levels (pearson_flag 0.1, pearson_fail 0.5) are then 6 and
 * 32 standard errors above an independent pair's r = 0.  Heavy tails raise
 * V (through m22 and m40); the plugin prints (1 - r^2) / sqrt(K) beside each
 * r as the nominal error.  A bias of order 1/K is negligible here.
 */
#ifndef KV_FPSAMPLE_H
#define KV_FPSAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* The default sample size K and the fixed seed ("kaieval1" in ASCII). */
#define KV_FP_SAMPLE_DEFAULT 4096u
#define KV_FP_SAMPLE_MAX 1048576u
#define KV_FP_SAMPLE_SEED 0x6b61696576616c31ull
#define KV_FP_SAMPLE_SCHEME "shape-splitmix64-v1"
#define KV_FP_GOLDEN 0x9e3779b97f4a7c15ull

/* The splitmix64 output function (Steele, Lea, Flood 2014). */
static inline uint64_t kv_fp_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The sampling key of a shape: the seed, the rank, then each dimension. */
static inline uint64_t kv_fp_shape_key(size_t rank, const uint64_t *shape)
{
	uint64_t k = kv_fp_mix(KV_FP_SAMPLE_SEED + (uint64_t)rank * KV_FP_GOLDEN);
	for (size_t i = 0; i < rank; i++)
		k = kv_fp_mix(k ^ (shape[i] + KV_FP_GOLDEN));
	return k;
}

/* How many values a tensor of n elements keeps with sample size k. */
static inline uint64_t kv_fp_sample_count(uint64_t n, uint64_t k)
{
	return n <= k ? n : k;
}

/* The element index of sample j for a tensor of n elements, n > 0. */
static inline uint64_t kv_fp_position(uint64_t key, uint64_t j, uint64_t n, uint64_t k)
{
	if (n <= k)
		return j;
	uint64_t z = kv_fp_mix(key + (j + 1) * KV_FP_GOLDEN);
	return (uint64_t)(((unsigned __int128)z * n) >> 64);
}

#endif

/* Four xoshiro256** generators side by side, one per 64-bit lane of
 * 256-bit registers (AVX2), as gen8.h has eight: each lane steps exactly
 * as kv_rng_next steps its stream alone, so a lane's outputs, and its
 * state after, are the same bits.  The unit draws (boot.c) and the
 * binomial draws (binomial.c) of four replicates share it where AVX-512
 * is not there.  Include only where x86-64 and GNU C are given. */
#ifndef KV_VOTES_GEN4_H
#define KV_VOTES_GEN4_H

#include "votes.h"

#include <immintrin.h>

#define GEN4 __attribute__((target("avx2")))

/* The state word by word: four variables, not an array, so that gcc keeps
 * them in registers across steps. */
struct gen4 { __m256i s0, s1, s2, s3; };

GEN4 static inline __m256i gen4_word(const struct kv_rng *rng, int w)
{
	return _mm256_set_epi64x((long long)rng[3].s[w], (long long)rng[2].s[w], (long long)rng[1].s[w],
				 (long long)rng[0].s[w]);
}

GEN4 static inline struct gen4 gen4_load(const struct kv_rng *rng)
{
	return (struct gen4){gen4_word(rng, 0), gen4_word(rng, 1), gen4_word(rng, 2), gen4_word(rng, 3)};
}

GEN4 static inline void gen4_store(const struct gen4 *g, struct kv_rng *rng)
{
	uint64_t w[4][4];
	_mm256_storeu_si256((__m256i *)(void *)w[0], g->s0);
	_mm256_storeu_si256((__m256i *)(void *)w[1], g->s1);
	_mm256_storeu_si256((__m256i *)(void *)w[2], g->s2);
	_mm256_storeu_si256((__m256i *)(void *)w[3], g->s3);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			rng[i].s[k] = w[k][i];
}

GEN4 static inline __m256i gen4_rotl(__m256i x, int k)
{
	return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

/* The next output of each generator whose lane of `live` is all ones; the
 * others keep their state. */
GEN4 static inline __m256i next4(struct gen4 *g, __m256i live)
{
	__m256i s0 = g->s0, s1 = g->s1, s2 = g->s2, s3 = g->s3;
	__m256i x5 = _mm256_add_epi64(_mm256_slli_epi64(s1, 2), s1), r = gen4_rotl(x5, 7);
	__m256i out = _mm256_add_epi64(_mm256_slli_epi64(r, 3), r), t = _mm256_slli_epi64(s1, 17);
	__m256i n2 = _mm256_xor_si256(s2, s0), n3 = _mm256_xor_si256(s3, s1);
	__m256i n1 = _mm256_xor_si256(s1, n2), n0 = _mm256_xor_si256(s0, n3);
	n2 = _mm256_xor_si256(n2, t);
	n3 = gen4_rotl(n3, 45);
	g->s0 = _mm256_blendv_epi8(s0, n0, live);
	g->s1 = _mm256_blendv_epi8(s1, n1, live);
	g->s2 = _mm256_blendv_epi8(s2, n2, live);
	g->s3 = _mm256_blendv_epi8(s3, n3, live);
	return out;
}

#endif

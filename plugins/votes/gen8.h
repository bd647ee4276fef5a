/* Eight xoshiro256** generators side by side, one per 64-bit lane of
 * 512-bit registers (AVX-512F): each lane steps exactly as kv_rng_next
 * steps its stream alone, so a lane's outputs, and its state after, are
 * the same bits.  The binomial draws (binomial.c) and the unit draws
 * (boot.c) of eight replicates share it.  Include only where x86-64 and
 * GNU C are given. */
#ifndef KV_VOTES_GEN8_H
#define KV_VOTES_GEN8_H

#include "votes.h"

#include <immintrin.h>

#define GEN8 __attribute__((target("avx512f")))

/* The state word by word: four variables, not an array, so that gcc keeps
 * them in registers across steps. */
struct gen8 { __m512i s0, s1, s2, s3; };

GEN8 static inline struct gen8 gen8_load(const struct kv_rng *rng)
{
	uint64_t w[4][8];
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 4; k++)
			w[k][i] = rng[i].s[k];
	return (struct gen8){_mm512_loadu_si512(w[0]), _mm512_loadu_si512(w[1]), _mm512_loadu_si512(w[2]),
			     _mm512_loadu_si512(w[3])};
}

GEN8 static inline void gen8_store(const struct gen8 *g, struct kv_rng *rng)
{
	uint64_t w[4][8];
	_mm512_storeu_si512(w[0], g->s0);
	_mm512_storeu_si512(w[1], g->s1);
	_mm512_storeu_si512(w[2], g->s2);
	_mm512_storeu_si512(w[3], g->s3);
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 4; k++)
			rng[i].s[k] = w[k][i];
}

/* The next output of each generator in `live`; the others keep their
 * state.  A rotation or a three-way exclusive or is one instruction. */
GEN8 static inline __m512i next8(struct gen8 *g, __mmask8 live)
{
	__m512i s0 = g->s0, s1 = g->s1, s2 = g->s2, s3 = g->s3;
	__m512i x5 = _mm512_add_epi64(_mm512_slli_epi64(s1, 2), s1), r = _mm512_rol_epi64(x5, 7);
	__m512i out = _mm512_add_epi64(_mm512_slli_epi64(r, 3), r), t = _mm512_slli_epi64(s1, 17);
	g->s0 = _mm512_mask_ternarylogic_epi64(s0, live, s3, s1, 0x96); /* s0 ^ s3 ^ s1 */
	g->s1 = _mm512_mask_ternarylogic_epi64(s1, live, s2, s0, 0x96); /* s1 ^ s2 ^ s0 */
	g->s2 = _mm512_mask_ternarylogic_epi64(s2, live, s0, t, 0x96);  /* s2 ^ s0 ^ t */
	g->s3 = _mm512_mask_rol_epi64(s3, live, _mm512_xor_si512(s3, s1), 45);
	return out;
}

#endif

/*
 * xxh128.h -- the content hash of fingerprint versions 3 and 4 (the default):
 * a two-level tree of XXH3-128, "xxh128-tree-v1".
 *
 * Definition (unit U = 262144 bytes).  A tensor's B data bytes are cut into
 * m = ceil(B / U) units, unit i being bytes [i U, min((i + 1) U, B)), and
 * D_i = XXH3-128(unit i) in xxHash's canonical (big-endian) 16-byte form.
 * With m <= 1 the content hash is XXH3-128 of the bytes, what `xxh128sum`
 * prints for them; otherwise it is
 *     XXH3-128( "kaieval/xxh128-tree/v1" (22 ASCII bytes)
 *               || B as 8 bytes little-endian || U as 8 bytes little-endian
 *               || D_0 || D_1 || ... || D_(m-1) ).
 *
 * Why not a cryptographic hash: the tensor identity test (T1) asks whether
 * two tensors have the same bytes, and chance collisions of 128 bits do not
 * happen.  A crafted reference gains nothing from a collision either: every
 * fingerprint publishes its sampled values, so a reference that repeats them
 * at the sampled positions already looks like a copy to T2.  What protects a
 * team is a reference library of pinned, dated public models.
 *
 * XXH3 runs at memory speed (10 GB/s per core here, BLAKE3 3.8),
 * which is what lets the scan reach 4 GB/s per core with the moments.
 * Versions 2 (BLAKE3) and 1 (SHA-256 tree) stay available with --hash.
 *
 * xxHash is Debian's libxxhash-dev, used header-only: its AVX-512, AVX2 and
 * portable code are each compiled in a file of their own and chosen by the
 * vector level like every other kernel.  All give the same digest.
 */
#ifndef KV_XXH128_H
#define KV_XXH128_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define KV_XX_NAME "xxh128-tree-v1"
#define KV_XX_UNIT 262144u
#define KV_XX_DIGEST 16u

/* XXH3-128 of n bytes at p, canonical form. */
void kv_xx_unit(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST]);

/* The content hash of a tensor of `bytes` bytes from its count >= 2 unit
 * digests, KV_XX_DIGEST bytes each, in order.  Returns 0, or -1 out of memory. */
int kv_xx_root(uint64_t bytes, const uint8_t *digests, size_t count, uint8_t out[KV_XX_DIGEST]);

/* The whole definition on bytes in memory (tests, small tensors). */
int kv_xx_hash(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST]);

/* The per-level kernels behind kv_xx_unit (xxh128_avx512.c, xxh128_avx2.c). */
void kv_xx_unit_avx512(const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST]);
void kv_xx_unit_avx2(const uint8_t *p, size_t n, uint8_t out[KV_XX_DIGEST]);

#endif

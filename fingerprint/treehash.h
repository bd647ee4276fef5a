/*
 * treehash.h -- the exact content hash of a tensor: a two-level SHA-256 tree.
 *
 * Definition ("sha256-tree-v1", leaf L = 16384 bytes).  A tensor's B data
 * bytes are cut into m = ceil(B / L) leaves, leaf i being bytes
 * [i L, min((i + 1) L, B)); D_i = SHA-256(leaf i).  The content hash is
 *     SHA-256( "kaieval/sha256-tree/v1" (22 ASCII bytes)
 *              || B as 8 bytes little-endian || L as 8 bytes little-endian
 *              || D_0 || D_1 || ... || D_(m-1) ).
 * Two tensors have the same hash exactly when they have the same bytes
 * (barring a SHA-256 collision): this is as exact as SHA-256 of the bytes,
 * only computed differently.  It is not `sha256sum` of the tensor's bytes.
 *
 * Why a tree: one SHA-256 stream is sequential and runs at ~1 GB/s even with
 * the SHA extensions.  Leaves are independent, so they are hashed 16 at a
 * time in the 16 lanes of AVX-512 registers (and spread over threads); the
 * root adds 32 bytes per 16 KiB, 0.2 % more hashing.  Without AVX-512 each
 * leaf goes through OpenSSL (SHA-NI where the CPU has it): same digests.
 */
#ifndef KV_TREEHASH_H
#define KV_TREEHASH_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define KV_TH_LEAF 16384u
#define KV_TH_LANES 16u
#define KV_TH_NAME "sha256-tree-v1"

/* Each function returns 0, or -1 when OpenSSL fails (out of memory). */

/* SHA-256 of n bytes (OpenSSL). */
int kv_sha256(const void *data, size_t n, uint8_t out[32]);

/* Leaf digests of `count` whole leaves of KV_TH_LEAF bytes laid out one after
 * the other from p: digest i goes to out + 32 i. */
int kv_th_leaves(enum kv_simd level, const uint8_t *p, size_t count, uint8_t *out);

/* The content hash from the tensor's byte count and its leaf digests. */
int kv_th_root(uint64_t bytes, const uint8_t *digests, size_t count, uint8_t out[32]);

/* The whole definition on bytes in memory (tests, small tensors). */
int kv_th_hash(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[32]);

#endif

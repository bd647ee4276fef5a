/*
 * blake3.h -- BLAKE3, the hash of tensor contents in fingerprints version 2
 * (`kaieval fingerprint --hash blake3`; versions 3 and 4 use xxh128.h).
 *
 * This is BLAKE3 as published (https://github.com/BLAKE3-team/BLAKE3-specs):
 * the default hash mode with a 32-byte output, so a tensor's content hash is
 * what `b3sum` prints for its bytes.  Why BLAKE3: it is a cryptographic hash
 * (for those who want a cryptographic digest of each tensor), and
 * its input is a tree of 1 KiB chunks by definition, so 16 chunks are hashed
 * at once in the lanes of AVX-512 registers (8 with AVX2) and whole pieces
 * of a tensor on separate threads; on one core here it runs about 1.5 times
 * (AVX-512) or twice (AVX2 against SHA-NI) as fast as the
 * SHA-256 tree of fingerprint version 1 (treehash.h), which stays readable.
 *
 * A tensor is hashed in pieces of KV_B3_PIECE bytes (256 chunks, a power of
 * two): in BLAKE3's tree every such piece that starts at a multiple of
 * KV_B3_PIECE, and the shorter last one, is a whole subtree, so the tensor's
 * hash is the root over the pieces' chaining values (kv_b3_root).  Every
 * vector level gives the same bytes.
 */
#ifndef KV_BLAKE3_H
#define KV_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define KV_B3_NAME "blake3"
#define KV_B3_CHUNK 1024u
#define KV_B3_PIECE (256u * KV_B3_CHUNK)

/* The chaining value of piece number `piece` of an input: its n bytes at p,
 * 0 < n <= KV_B3_PIECE, n < KV_B3_PIECE only for the input's last piece.
 * With `root` set the input is this piece alone (piece 0, n may be 0) and
 * out is the input's hash. */
void kv_b3_piece(enum kv_simd level, const uint8_t *p, size_t n, uint64_t piece, int root, uint8_t out[32]);

/* The hash of an input of count >= 2 pieces from their chaining values,
 * 32 bytes each, in order; cvs is overwritten (it is the working space). */
void kv_b3_root(uint8_t *cvs, size_t count, uint8_t out[32]);

/* BLAKE3 of n bytes (tests, small inputs).  Returns 0, or -1 out of memory. */
int kv_blake3(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[32]);

#endif

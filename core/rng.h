/* Random streams: xoshiro256** states derived from the round seed. */
#ifndef KV_RNG_H
#define KV_RNG_H

#include <stdint.h>
#include "kaieval/plugin.h"

uint64_t kv_splitmix64(uint64_t *state);

/* The stream for (seed, criterion, purpose, replicate):
 *   key  = SHA-256("kaieval-rng-v1" NUL seed(8 bytes LE) criterion NUL purpose NUL replicate(8 LE))
 *   x    = first 8 bytes of key, little-endian
 *   s[i] = splitmix64(&x) for i = 0..3
 * so any replicate can be drawn on any thread, in any order. */
void kv_rng_derive(uint64_t seed, const char *criterion, const char *purpose, uint64_t replicate,
		   struct kv_rng *out);

#endif

/* Synthetic safetensors models for the forensics tests, written by the test
 * code itself, and independent re-implementations of what the fingerprint
 * computes (the tree hash, bf16 rounding) to check it against. */
#ifndef KVT_FORENSICS_UTIL_H
#define KVT_FORENSICS_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct syn_tensor {
	const char *name;
	const char *dtype;      /* "BF16", "F32", "I64", ... */
	size_t rank;
	uint64_t shape[4];
	const uint8_t *data;
	size_t bytes;
};

/* Write a safetensors file: the tensors in the order given, offsets
 * contiguous, the header padded with spaces to a multiple of 8 bytes. */
void syn_write(const char *path, const struct syn_tensor *t, size_t n);

/* The raw bytes of a file: 8-byte length, header text, data. */
void syn_write_raw(const char *path, uint64_t declared, const char *header, const void *data, size_t len);

/* float -> bfloat16 with round-to-nearest-even (independent of the core). */
uint16_t syn_bf16(float x);
float syn_from_bf16(uint16_t h);
/* n floats as a newly allocated little-endian BF16 buffer. */
uint8_t *syn_bf16_bytes(const float *v, size_t n);

/* A seeded generator: xorshift64* and Box-Muller. */
struct syn_rng { uint64_t s; int has_spare; double spare; };
double syn_uniform(struct syn_rng *r);
double syn_gauss(struct syn_rng *r);

/* The tree hash of kaieval-fingerprint(1), recomputed with one-shot
 * SHA-256 calls from its written definition. */
void syn_tree_hash(const uint8_t *p, size_t n, char hex[65]);
/* BLAKE3 of n bytes (reference algorithm, apart from fingerprint/blake3.c), as hex. */
void syn_blake3(const uint8_t *p, size_t n, char hex[65]);/* The XXH3-128 tree of kaieval-fingerprint(1) version 3, recomputed from its
 * written definition with xxHash's one-shot and streaming calls, as hex. */
void syn_xxh128_tree(const uint8_t *p, size_t n, char hex[33]);

/* Pearson r of two float vectors, two-pass in long double. */
double syn_pearson(const float *a, const float *b, size_t n);

/* `kaieval fingerprint args...` (NULL-terminated); returns the exit status,
 * *err gets stderr (caller frees) when err is not NULL. */
int syn_kaieval(char **err, ...);

/* The license gate "lic" judging fingerprints: dir/r.cfg, a round of the
 * teams (space-separated) with a manifest each under d/m, references in d/fp,
 * extra params; then a team's verdict (asserted present), its first finding
 * starting with prefix ("rule | component |") or NULL, and an evidence number. */
struct kv_run;
void syn_lic_round(const char *dir, const char *teams, const char *extra);
int syn_lic_passes(const struct kv_run *run, const char *team);
const char *syn_lic_finding(const struct kv_run *run, const char *team, const char *prefix);
double syn_lic_num(const struct kv_run *run, const char *team, const char *key);

#endif

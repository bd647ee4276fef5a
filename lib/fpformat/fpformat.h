/*
 * fpformat.h -- the fingerprint file format (kaieval-fingerprint(1)) in
 * memory, and its one reader: JSON text in, every field checked, no I/O.
 *
 * `kaieval fingerprint` reads its parts with it (--merge) and the license
 * plugin its reference and team fingerprints, so both accept exactly the
 * same files and name a bad field with the same message.
 */
#ifndef KV_FPFORMAT_H
#define KV_FPFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "fphash.h"

#define KV_FP_FORMAT "kaieval-fingerprint"

struct kv_fp_tensor {
	char *name, *shard, *dtype;
	size_t rank;
	uint64_t *shape;
	uint64_t numel;
	char hash[65];             /* 32 hex digits (version 3) or 64 */
	int constant;
	int has_moments;           /* F32, F16, BF16 */
	uint64_t finite;
	double sum, sumsq;
	int has_range;             /* finite > 0 */
	double min, max;
	uint64_t sample_count;
	char *sample;              /* base64 */
};

struct kv_fp_shard {
	char *file;
	uint64_t bytes;
	uint64_t tensors;
};

struct kv_fp {
	int version;               /* KV_FP_VERSION_*: which content hash */
	uint64_t sample_size;
	int complete;
	int has_index;
	char *index_file;
	char index_sha256[65];
	size_t index_shard_count;
	char **index_shards;
	size_t shard_count;
	struct kv_fp_shard *shards;
	size_t count;
	struct kv_fp_tensor *tensors;
};

/* Bytes of one sampled element of dtype: 4 (F32), 2 (F16, BF16), else 0
 * (the dtype has no moments and no sample). */
unsigned kv_fp_sample_bytes(const char *dtype);

/* Parse len bytes of text (named file in messages) into fp, tensors sorted
 * by name.  Returns 0, or -1 with "FILE: [WHERE: ]'KEY' WHAT" in msg; fp must
 * be freed either way. */
int kv_fp_parse(const char *text, size_t len, const char *file, struct kv_fp *fp, char *msg, size_t msglen);

void kv_fp_free(struct kv_fp *fp);

#endif

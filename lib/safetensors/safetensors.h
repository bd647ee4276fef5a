/*
 * safetensors.h -- a strict reader of safetensors headers and shard indexes.
 *
 * It trusts nothing in the file and does no I/O: the caller hands it bytes
 * (the cost plugin reads through the host, `kaieval fingerprint` reads files
 * itself).  It depends on libc and cJSON only.
 *
 * File layout (huggingface/safetensors README, "Format"):
 *   bytes 0..7     N, the header length, unsigned 64-bit little-endian
 *   next N bytes   a UTF-8 JSON object: "name": {"dtype", "shape", "data_offsets"},
 *                  plus an optional "__metadata__" string -> string map
 *   the rest       the data buffer; offsets are relative to its first byte
 *
 * Checks, after the reference implementation (safetensors/src/tensor.rs):
 *   - N <= KV_ST_HEADER_MAX (100 MB) and 8 + N <= file size;
 *   - the header is UTF-8 with no raw control bytes, a JSON object (leading
 *     and trailing JSON whitespace allowed: writers pad it), no duplicate
 *     names, `__metadata__` only string values;
 *   - each tensor has exactly dtype, shape, data_offsets; dtype is in the
 *     table below; shape and offsets are whole numbers in [0, 2^53];
 *   - numel = product of shape, numel x bits a multiple of 8, and
 *     end - begin = numel x bits / 8, every product overflow-checked;
 *   - sorted by offsets, the tensors cover the buffer from 0 without gap or
 *     overlap, and 8 + N + last end = file size.
 * Every message names the file and, where there is one, the tensor.
 *
 * Sharded models: model.safetensors.index.json holds {"weight_map": {tensor:
 * shard}} (and an informational "metadata"); kv_st_index_check_shard checks
 * that each shard holds exactly the tensors the map gives it.
 */
#ifndef KV_SAFETENSORS_H
#define KV_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

/* The reference implementation's MAX_HEADER_SIZE. */
#define KV_ST_HEADER_MAX 100000000u
/* A message buffer of this size never truncates the fixed text of a message
 * (a very long file or tensor name may still be cut). */
#define KV_ST_ERRLEN 1024

enum kv_st_status {
	KV_ST_OK = 0,
	KV_ST_BAD = 1,     /* the bytes break the format: err says where */
	KV_ST_NOMEM = 2    /* out of memory */
};

struct kv_st_tensor {
	char *name;
	const char *dtype;    /* "BF16", "F32", ... (static storage) */
	unsigned bits;        /* bits per element: 4, 6, 8, 16, 32 or 64 */
	size_t rank;          /* 0 for a scalar */
	uint64_t *shape;      /* rank dimensions (NULL when rank is 0) */
	uint64_t numel;       /* product of shape (1 for a scalar) */
	uint64_t begin, end;  /* byte offsets in the data buffer, end exclusive */
};

struct kv_st_header {
	uint64_t header_len;  /* N */
	uint64_t data_len;    /* bytes of the data buffer (the last end) */
	size_t count;
	struct kv_st_tensor *tensors;  /* sorted by (begin, end, name) */
	size_t meta_count;
	char **meta_keys;     /* __metadata__, in file order */
	char **meta_values;
};

/* The bits per element of a dtype name, or 0 when the name is unknown. */
unsigned kv_st_dtype_bits(const char *dtype);

/* 1 and *out when j is a JSON number that is a whole number in [0, 2^53]
 * (exact as a double), else 0.  Also the fingerprint format's rule. */
struct cJSON;
int kv_st_json_uint(const struct cJSON *j, uint64_t *out);

/* Step 1: N from the file's first 8 bytes.  KV_ST_BAD when N exceeds
 * KV_ST_HEADER_MAX.  file names the file in messages. */
int kv_st_header_len(const char *file, const unsigned char first8[8], uint64_t *n,
		     char *err, size_t errlen);

/* Step 2: parse and check the N header bytes (json need not end in NUL).
 * On KV_ST_OK *out holds the header (free with kv_st_free); otherwise *out
 * is NULL and err holds one message. */
int kv_st_parse_header(const char *file, const char *json, size_t n,
		       struct kv_st_header **out, char *err, size_t errlen);

/* Step 3: the file must be exactly 8 + N + data_len bytes long. */
int kv_st_check_size(const char *file, const struct kv_st_header *h, uint64_t file_size,
		     char *err, size_t errlen);

/* Steps 1-3 on a whole file held in memory (or mapped). */
int kv_st_parse_file(const char *file, const void *bytes, size_t len,
		     struct kv_st_header **out, char *err, size_t errlen);

void kv_st_free(struct kv_st_header *h);

/* --- sharded models ---------------------------------------------------- */

struct kv_st_index {
	size_t count;
	char **tensors;       /* sorted bytewise */
	const char **shard_of;  /* shard_of[i] is the shard of tensors[i] */
	size_t shard_count;
	char **shards;        /* distinct shard file names, sorted bytewise */
	size_t *shard_tensors;  /* how many tensors the map gives each shard */
};

/* Parse model.safetensors.index.json.  Every shard must be a plain file name
 * (no '/', not "." or ".."); a tensor may be listed once; the map must not
 * be empty.  metadata.total_size is not used (writers disagree on it). */
int kv_st_parse_index(const char *file, const char *json, size_t n,
		      struct kv_st_index **out, char *err, size_t errlen);

/* The shard the map gives a tensor, or NULL. */
const char *kv_st_index_shard(const struct kv_st_index *idx, const char *tensor);

/* Check shard `shard` (header h, read from the file named `file`) against the
 * map: each of its tensors is mapped to it, and it holds all that are. */
int kv_st_index_check_shard(const struct kv_st_index *idx, const char *shard, const char *file,
			    const struct kv_st_header *h, char *err, size_t errlen);

void kv_st_free_index(struct kv_st_index *idx);

#endif

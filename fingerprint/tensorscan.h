/*
 * tensorscan.h -- read every byte of a checked safetensors data buffer once:
 * per tensor the content hash (xxh128.h, blake3.h or treehash.h), the moments of F32/F16/BF16 data
 * (moments.h), whether it is constant, and its sampled values (fpsample.h).
 *
 * The header must have passed kv_st_parse_file (offsets contiguous, sizes =
 * numel x dtype size, total = file size), so every tensor lies inside `data`;
 * the scan still computes each range with overflow-checked arithmetic.
 *
 * Work is cut into items of whole 256 KiB units of one tensor and shared by
 * threads; hashes (per unit for XXH3-128 and BLAKE3, per leaf for the SHA-256 tree) and
 * moments (per unit) are combined in order, so results do not depend on the
 * thread count or on which kernels run.
 */
#ifndef KV_TENSORSCAN_H
#define KV_TENSORSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "moments.h"
#include "safetensors.h"
#include "simd.h"

struct kv_ts_result {
	uint8_t hash[32];            /* 16 bytes used by the XXH3-128 tree */
	enum kv_float_kind kind;     /* KV_FK_NONE: hashed only, no moments or sample */
	struct kv_moments moments;
	/* Every element the same: for floats, no finite value or all finite and
	 * min == max; for other dtypes, every element has the same bytes (for
	 * sub-byte dtypes, every byte the same). */
	int constant;
	uint64_t sample_count;
	uint8_t *sample;             /* sample_count raw little-endian elements */
};

/* The content hash: the XXH3-128 tree (fingerprint versions 4 and 3, the
 * default), BLAKE3 (version 2) or the SHA-256 tree (version 1). */
enum kv_ts_hash { KV_TS_XXH128_TREE = 0, KV_TS_BLAKE3, KV_TS_SHA256_TREE };
#define KV_TS_HASHES 3

struct kv_ts_options {
	unsigned threads;            /* 0: one per online CPU */
	enum kv_ts_hash hash;
	enum kv_simd simd;
	uint64_t sample_size;        /* K, at least 1 */
	/* Called now and then from the calling thread with bytes scanned so far. */
	void (*progress)(void *arg, uint64_t done);
	void *progress_arg;
};

/* Scan h's tensors in data (h->data_len bytes); out[i] is h->tensors[i].
 * Returns 0, -1 with a message in err (out of memory, OpenSSL failure), or
 * -2 with a message naming the tensor when data is a file mapping whose
 * pages went away (the file shrank during the scan: SIGBUS, caught). */
int kv_ts_scan(const struct kv_st_header *h, const uint8_t *data, const struct kv_ts_options *o,
	       struct kv_ts_result **out, char *err, size_t errlen);

void kv_ts_free(struct kv_ts_result *r, size_t count);

#endif

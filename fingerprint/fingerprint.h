/*
 * fingerprint.h -- `kaieval fingerprint`: what a model's weights look like,
 * in a small file that stands in for the weights in forensic comparisons.
 * The file format itself, and its reader, are lib/fpformat's.
 *
 * A fingerprint lists every tensor of a model (or of some of its shards) with
 * its name, shard, dtype, shape, element count, exact content hash
 * (the XXH3-128 tree of xxh128.h; version 2 files have BLAKE3 of blake3.h,
 * version 1 files the SHA-256 tree of treehash.h), whether it is constant,
 * and for F32/F16/BF16 the count of
 * finite values, their sum, sum of squares, min and max (moments.h) and the
 * values at the sample positions of its shape (fpsample.h), base64 of the raw
 * little-endian elements.  Tensors are sorted by name, shards by file name;
 * numbers are written in their shortest exact form: the same weights give
 * the same bytes on every machine, with any thread count.
 *
 * Per-shard fingerprints (made one shard at a time, on any machine) merge
 * into the fingerprint of the whole model, byte for byte, when they were made
 * against the model's model.safetensors.index.json (recorded with its
 * SHA-256 so that parts of different models do not merge).  See
 * kaieval-fingerprint(1) for the file format.
 */
#ifndef KV_FINGERPRINT_H
#define KV_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "fpformat.h"
#include "safetensors.h"
#include "tensorscan.h"
#include "util.h"

struct kv_fp_options {
	unsigned threads;          /* 0: one per online CPU */
	enum kv_ts_hash hash;
	uint64_t sample_size;
	int progress;              /* show progress on stderr */
	int invariants;            /* also the token-product invariants (invariants.c) */
};

/* The whole model in dir: the shards of model.safetensors.index.json when
 * there is one, otherwise every *.safetensors file in it. */
int kv_fp_scan_dir(const char *dir, const struct kv_fp_options *o, struct kv_fp *out, struct kv_error *err);

/* The opt-in second pass over the model in dir, already scanned into fp
 * (version 4): fp's invariants (fpformat.h) on threads threads (0: one per
 * online CPU), or exit 2 naming what is missing or changed. */
int kv_fp_invariants(const char *dir, struct kv_fp *fp, unsigned threads, struct kv_error *err);

/* One shard file; with index (may be NULL) it is checked against the map. */
int kv_fp_scan_shard(const char *file, const char *index, const struct kv_fp_options *o, struct kv_fp *out,
		     struct kv_error *err);

/* The shards of the model in dir, in the order kv_fp_scan_dir scans them:
 * those of its index (then out gets the index block and *idx the map),
 * else its *.safetensors files (*idx NULL).  The caller frees names. */
int kv_fp_model_shards(const char *dir, struct kv_fp *out, struct kv_st_index **idx, char ***names, size_t *n,
		       struct kv_error *err);

/* Without an index, a tensor name in two files is an error (sorts fp). */
int kv_fp_check_unique(const char *dir, struct kv_fp *fp, struct kv_error *err);

/* The checked header of the shard at path (named shard in the index idx,
 * which may be NULL), its file size and the SHA-256 of its header bytes. */
int kv_fp_shard_header(const char *path, const char *shard, const struct kv_st_index *idx,
		       struct kv_st_header **h, uint64_t *bytes, char sha256[65], struct kv_error *err);

/* Tensors [first, first + count) of one shard (in header order: by offset),
 * as a plan recorded it, with the shard's size and header hash. */
struct kv_fp_planned {
	const char *shard;
	uint64_t bytes;
	const char *header_sha256;
	size_t first, count;
};

/* Fingerprint the planned tensors of the shard at path into fp (tensors
 * only, no shard entry); exit 2 when the shard is not the planned one. */
int kv_fp_scan_range(const char *path, const struct kv_fp_planned *want, const struct kv_fp_options *o,
		     struct kv_fp *fp, struct kv_error *err);

/* `kaieval fingerprint plan|run|merge` (fpplan.c): argv[0] is the word. */
int kv_fp_plan_main(int argc, char **argv);
int kv_fp_run_main(int argc, char **argv);
int kv_fp_merge_main(int argc, char **argv);

/* The fingerprint as JSON text (sorts tensors and shards in place). */
void kv_fp_json(struct kv_fp *fp, struct kv_buf *out);

/* Read a fingerprint file, checking every field (kv_fp_parse). */
int kv_fp_read(const char *file, struct kv_fp *fp, struct kv_error *err);

/* Merge parts (each is emptied) into out. */
int kv_fp_merge(struct kv_fp *parts, const char *const *names, size_t n, struct kv_fp *out,
		struct kv_error *err);

/* "xxh128-tree-v1", "blake3" or "sha256-tree-v1", as in the file's content_hash. */
const char *kv_fp_hash_name(enum kv_ts_hash hash);

/* The file format version that goes with the hash (3, 2 or 1), the hash
 * of a version, and what that version writes of it. */
int kv_fp_version(enum kv_ts_hash hash);
enum kv_ts_hash kv_fp_hash_of(int version);
const struct kv_fp_hash_kind *kv_fp_hash_kind(enum kv_ts_hash hash);

/* A whole file, NUL-terminated (NULL and err set on failure). */
char *kv_fp_load_text(const char *file, size_t *len, struct kv_error *err);

/* Open file for reading, following symbolic links (a model folder may be a
 * cache of links to blobs), without waiting on a FIFO: *fd is a regular
 * file, whose bytes are then read through it alone, else err names what the
 * file is (exit 2). */
int kv_fp_open_regular(const char *file, int *fd, off_t *size, struct kv_error *err);

/* The kaieval-fingerprint program: argv[1] on are the arguments of
 * `kaieval fingerprint`; returns the exit status. */
int kv_fingerprint_main(int argc, char **argv);

#endif

/* Fingerprint files: writing, reading (lib/fpformat checks every field) and
 * merging per-shard parts (see fingerprint.h; scanning is in fpscan.c). */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpsample.h"
#include "jsonw.h"
#include "treehash.h"
#include "xxh128.h"

/* The format's table (fphash.h) is the hash code's own numbers. */
_Static_assert(KV_TH_LEAF == 16384u && KV_XX_UNIT == 262144u && KV_XX_DIGEST == 16u,
	       "fphash.h matches treehash.h and xxh128.h");

int kv_fp_version(enum kv_ts_hash hash)
{
	return hash == KV_TS_XXH128_TREE ? KV_FP_VERSION_INVARIANTS
		: hash == KV_TS_BLAKE3 ? KV_FP_VERSION_BLAKE3 : KV_FP_VERSION_SHA256_TREE;
}

enum kv_ts_hash kv_fp_hash_of(int version)
{
	return version >= KV_FP_VERSION_XXH128_TREE ? KV_TS_XXH128_TREE
		: version == KV_FP_VERSION_BLAKE3 ? KV_TS_BLAKE3 : KV_TS_SHA256_TREE;
}

const struct kv_fp_hash_kind *kv_fp_hash_kind(enum kv_ts_hash hash)
{
	return &kv_fp_hash_kinds[kv_fp_version(hash) - 1];
}

const char *kv_fp_hash_name(enum kv_ts_hash hash)
{
	return kv_fp_hash_kind(hash)->name;
}

/* ---- writing ----------------------------------------------------------------- */

static int cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const struct kv_fp_tensor *)a)->name, ((const struct kv_fp_tensor *)b)->name);
}

static int cmp_shard(const void *a, const void *b)
{
	return strcmp(((const struct kv_fp_shard *)a)->file, ((const struct kv_fp_shard *)b)->file);
}

static void put_key(struct kv_buf *b, const char *key)
{
	kv_json_quote(b, key);
	kv_buf_puts(b, ": ");
}

static void put_string(struct kv_buf *b, const char *key, const char *value)
{
	put_key(b, key);
	kv_json_quote(b, value);
}

static void put_u64(struct kv_buf *b, const char *key, uint64_t value)
{
	put_key(b, key);
	kv_buf_printf(b, "%" PRIu64, value);
}

static void put_double(struct kv_buf *b, const char *key, double value)
{
	char num[32];
	kv_format_double(value, num);
	put_key(b, key);
	kv_buf_puts(b, num);
}

static void put_index(struct kv_buf *b, const struct kv_fp *fp)
{
	kv_buf_puts(b, "  ");
	put_key(b, "index");
	if (!fp->has_index) {
		kv_buf_puts(b, "null,\n");
		return;
	}
	kv_buf_puts(b, "{");
	put_string(b, "file", fp->index_file);
	kv_buf_puts(b, ", ");
	put_string(b, "sha256", fp->index_sha256);
	kv_buf_puts(b, ", ");
	put_key(b, "shards");
	kv_buf_puts(b, "[");
	for (size_t i = 0; i < fp->index_shard_count; i++) {
		kv_buf_puts(b, i ? ", " : "");
		kv_json_quote(b, fp->index_shards[i]);
	}
	kv_buf_puts(b, "]},\n");
}

static void put_shards(struct kv_buf *b, const struct kv_fp *fp)
{
	kv_buf_puts(b, "  \"shards\": [");
	for (size_t i = 0; i < fp->shard_count; i++) {
		kv_buf_puts(b, i ? ",\n    {" : "\n    {");
		put_string(b, "file", fp->shards[i].file);
		kv_buf_puts(b, ", ");
		put_u64(b, "bytes", fp->shards[i].bytes);
		kv_buf_puts(b, ", ");
		put_u64(b, "tensors", fp->shards[i].tensors);
		kv_buf_puts(b, "}");
	}
	kv_buf_puts(b, fp->shard_count ? "\n  ],\n" : "],\n");
}

static void put_moments(struct kv_buf *b, const struct kv_fp_tensor *t)
{
	kv_buf_puts(b, ", ");
	put_u64(b, "finite", t->finite);
	kv_buf_puts(b, ", ");
	put_double(b, "sum", t->sum);
	kv_buf_puts(b, ", ");
	put_double(b, "sumsq", t->sumsq);
	kv_buf_puts(b, ", ");
	if (t->has_range) {
		put_double(b, "min", t->min);
		kv_buf_puts(b, ", ");
		put_double(b, "max", t->max);
	} else {
		kv_buf_puts(b, "\"min\": null, \"max\": null");
	}
	kv_buf_puts(b, ", ");
	put_string(b, "sample", t->sample);
}

/* One tensor per line, keys in a fixed order. */
static void put_tensor(struct kv_buf *b, const struct kv_fp_tensor *t)
{
	kv_buf_puts(b, "{");
	put_string(b, "name", t->name);
	kv_buf_puts(b, ", ");
	put_string(b, "shard", t->shard);
	kv_buf_puts(b, ", ");
	put_string(b, "dtype", t->dtype);
	kv_buf_puts(b, ", \"shape\": [");
	for (size_t d = 0; d < t->rank; d++)
		kv_buf_printf(b, "%s%" PRIu64, d ? ", " : "", t->shape[d]);
	kv_buf_puts(b, "], ");
	put_u64(b, "numel", t->numel);
	kv_buf_puts(b, ", ");
	put_string(b, "hash", t->hash);
	kv_buf_printf(b, ", \"constant\": %s", t->constant ? "true" : "false");
	if (t->has_moments)
		put_moments(b, t);
	kv_buf_puts(b, "}");
}

/* F32 little-endian values as base64 (the format's products). */
static void put_floats(struct kv_buf *b, const float *v, size_t n)
{
	uint8_t *raw = kv_xmalloc(4 * n);
	for (size_t i = 0; i < n; i++) {
		uint32_t bits;
		memcpy(&bits, &v[i], sizeof bits);
		for (unsigned k = 0; k < 4; k++)
			raw[4 * i + k] = (uint8_t)(bits >> (8 * k));
	}
	char *text = kv_xmalloc(4 * ((4 * n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)text, raw, (int)(4 * n));
	kv_buf_printf(b, "\"%s\"", text);
	free(text);
	free(raw);
}

/* ",\n  "invariants": null" or the object, one layer per line. */
static void put_invariants(struct kv_buf *b, const struct kv_fp *fp)
{
	const struct kv_fp_invariants *v = &fp->inv;
	kv_buf_puts(b, ",\n  \"invariants\": ");
	if (!fp->has_invariants) {
		kv_buf_puts(b, "null");
		return;
	}
	kv_buf_puts(b, "{");
	put_string(b, "scheme", KV_FP_INV_SCHEME);
	kv_buf_puts(b, ", ");
	put_string(b, "embedding", v->embedding);
	kv_buf_puts(b, ", ");
	put_u64(b, "vocab", v->vocab);
	kv_buf_puts(b, ", ");
	put_u64(b, "tokens", v->tokens);
	kv_buf_puts(b, ", \"layers\": [");
	for (size_t i = 0; i < v->layer_count; i++) {
		kv_buf_puts(b, i ? ",\n    {" : "\n    {");
		put_u64(b, "layer", v->layers[i].layer);
		for (int p = 0; p < KV_FP_PRODUCTS; p++) {
			kv_buf_puts(b, ", ");
			put_key(b, kv_fp_product_names[p]);
			if (v->layers[i].p[p])
				put_floats(b, v->layers[i].p[p], (size_t)(v->tokens * v->tokens));
			else
				kv_buf_puts(b, "null");
		}
		kv_buf_puts(b, "}");
	}
	kv_buf_puts(b, v->layer_count ? "\n  ]}" : "]}");
}

void kv_fp_json(struct kv_fp *fp, struct kv_buf *b)
{
	if (fp->count)          /* a part of a plan may hold no tensor, and no shard */
		qsort(fp->tensors, fp->count, sizeof *fp->tensors, cmp_tensor);
	if (fp->shard_count)
		qsort(fp->shards, fp->shard_count, sizeof *fp->shards, cmp_shard);
	kv_buf_printf(b, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"content_hash\": \"%s\",\n", KV_FP_FORMAT,
		      fp->version, kv_fp_hash_kinds[fp->version - 1].name);
	if (kv_fp_hash_kinds[fp->version - 1].leaf_bytes)
		kv_buf_printf(b, "  \"leaf_bytes\": %u,\n", kv_fp_hash_kinds[fp->version - 1].leaf_bytes);
	kv_buf_printf(b, "  \"sample_scheme\": \"%s\",\n  \"sample_size\": %" PRIu64 ",\n",
		      KV_FP_SAMPLE_SCHEME, fp->sample_size);
	kv_buf_printf(b, "  \"complete\": %s,\n", fp->complete ? "true" : "false");
	put_index(b, fp);
	put_shards(b, fp);
	kv_buf_puts(b, "  \"tensors\": [");
	for (size_t i = 0; i < fp->count; i++) {
		kv_buf_puts(b, i ? ",\n    " : "\n    ");
		put_tensor(b, &fp->tensors[i]);
	}
	kv_buf_puts(b, fp->count ? "\n  ]" : "]");
	if (fp->version >= KV_FP_VERSION_INVARIANTS)
		put_invariants(b, fp);
	kv_buf_puts(b, "\n}\n");
}

/* ---- reading ------------------------------------------------------------------ */

int kv_fp_open_regular(const char *file, int *fd, off_t *size, struct kv_error *err)
{
	struct stat st;
	*fd = kv_open_regular(file, &st);
	if (*fd >= 0) {
		*size = st.st_size;
		return 0;
	}
	if (st.st_mode && !S_ISREG(st.st_mode))
		return kv_fail(err, KV_EXIT_INPUT, "%s: is %s, not a regular file", file, kv_file_kind(st.st_mode));
	return kv_fail(err, KV_EXIT_INPUT, "%s: cannot open: %s", file, strerror(errno));
}

char *kv_fp_load_text(const char *file, size_t *len, struct kv_error *err)
{
	int fd;
	off_t size;
	FILE *f = kv_fp_open_regular(file, &fd, &size, err) ? NULL : fdopen(fd, "rb");
	if (!f) {
		if (fd >= 0) {
			kv_fail(err, KV_EXIT_INPUT, "%s: cannot open: %s", file, strerror(errno));
			close(fd);
		}
		return NULL;
	}
	struct kv_buf b = {0};
	char chunk[65536];
	size_t n;
	kv_buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		kv_buf_add(&b, chunk, n);
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		kv_fail(err, KV_EXIT_INPUT, "%s: read error", file);
		kv_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

int kv_fp_read(const char *file, struct kv_fp *fp, struct kv_error *err)
{
	memset(fp, 0, sizeof *fp);
	size_t len;
	char *text = kv_fp_load_text(file, &len, err);
	if (!text)
		return KV_EXIT_INPUT;
	char msg[KV_MSG_MAX];
	int rc = kv_fp_parse(text, len, file, fp, msg, sizeof msg);
	free(text);
	return rc ? kv_fail(err, KV_EXIT_INPUT, "%s", msg) : 0;
}

/* ---- merging ---------------------------------------------------------------- */

static int same_index(const struct kv_fp *a, const struct kv_fp *b)
{
	if (a->has_index != b->has_index)
		return 0;
	if (!a->has_index)
		return 1;
	if (strcmp(a->index_sha256, b->index_sha256) != 0 || a->index_shard_count != b->index_shard_count)
		return 0;
	return 1;
}

static int check_parts(struct kv_fp *parts, const char *const *names, size_t n, struct kv_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i].has_invariants)
			return kv_fail(err, KV_EXIT_INPUT, "%s: holds invariants, which are made on a whole model: "
				       "merge parts made without --invariants", names[i]);
	for (size_t i = 1; i < n; i++) {
		if (parts[i].version != parts[0].version)
			return kv_fail(err, KV_EXIT_INPUT, "%s: content hash %s differs from %s's %s (format "
				       "versions %d and %d)", names[i], kv_fp_hash_kinds[parts[i].version - 1].name,
				       names[0], kv_fp_hash_kinds[parts[0].version - 1].name, parts[i].version,
				       parts[0].version);
		if (parts[i].sample_size != parts[0].sample_size)
			return kv_fail(err, KV_EXIT_INPUT, "%s: sample_size %" PRIu64 " differs from %s's %" PRIu64,
				       names[i], parts[i].sample_size, names[0], parts[0].sample_size);
		if (!same_index(&parts[i], &parts[0]))
			return kv_fail(err, KV_EXIT_INPUT, "%s: made against a different index than %s "
				       "(or one with an index and one without)", names[i], names[0]);
	}
	return 0;
}

/* Move every part's shards and tensors into out; from[i] is tensor i's part. */
static size_t *gather(struct kv_fp *parts, size_t n, struct kv_fp *out)
{
	size_t shards = 0, tensors = 0;
	for (size_t i = 0; i < n; i++) {
		shards += parts[i].shard_count;
		tensors += parts[i].count;
	}
	out->shards = kv_xcalloc(shards, sizeof *out->shards);
	out->tensors = kv_xcalloc(tensors, sizeof *out->tensors);
	size_t *from = kv_xcalloc(tensors, sizeof *from);
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < parts[i].shard_count; s++)
			out->shards[out->shard_count++] = parts[i].shards[s];
		for (size_t t = 0; t < parts[i].count; t++) {
			from[out->count] = i;
			out->tensors[out->count++] = parts[i].tensors[t];
		}
		parts[i].shard_count = parts[i].count = 0;
	}
	return from;
}

struct tagged { const struct kv_fp_tensor *t; size_t part; };

static int cmp_tagged(const void *a, const void *b)
{
	return strcmp(((const struct tagged *)a)->t->name, ((const struct tagged *)b)->t->name);
}

static int check_duplicates(const struct kv_fp *out, const size_t *from, const char *const *names,
			    struct kv_error *err)
{
	for (size_t i = 1; i < out->shard_count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->shards[i].file, out->shards[j].file) == 0)
				return kv_fail(err, KV_EXIT_INPUT, "shard '%s' appears in two parts",
					       out->shards[i].file);
	struct tagged *v = kv_xcalloc(out->count, sizeof *v);
	for (size_t i = 0; i < out->count; i++)
		v[i] = (struct tagged){&out->tensors[i], from[i]};
	qsort(v, out->count, sizeof *v, cmp_tagged);
	int rc = 0;
	for (size_t i = 1; i < out->count && !rc; i++)
		if (strcmp(v[i - 1].t->name, v[i].t->name) == 0)
			rc = kv_fail(err, KV_EXIT_INPUT, "%s: tensor '%s' is also in %s", names[v[i].part],
				     v[i].t->name, names[v[i - 1].part]);
	free(v);
	return rc;
}

static int in_index(const struct kv_fp *fp, const char *shard)
{
	for (size_t i = 0; i < fp->index_shard_count; i++)
		if (strcmp(fp->index_shards[i], shard) == 0)
			return 1;
	return 0;
}

/* Every shard is one of the index's, and (for `complete`) the reverse. */
static int check_against_index(struct kv_fp *out, struct kv_error *err)
{
	if (!out->has_index)
		return 0;
	for (size_t s = 0; s < out->shard_count; s++)
		if (!in_index(out, out->shards[s].file))
			return kv_fail(err, KV_EXIT_INPUT, "shard '%s' is not in the index '%s'",
				       out->shards[s].file, out->index_file);
	out->complete = out->shard_count == out->index_shard_count;
	return 0;
}

/* The index block moves from the first part to out. */
static void take_index(struct kv_fp *first, struct kv_fp *out)
{
	out->has_index = first->has_index;
	memcpy(out->index_sha256, first->index_sha256, sizeof out->index_sha256);
	out->index_file = first->index_file;
	out->index_shards = first->index_shards;
	out->index_shard_count = first->index_shard_count;
	first->index_file = NULL;
	first->index_shards = NULL;
	first->index_shard_count = 0;
}

int kv_fp_merge(struct kv_fp *parts, const char *const *names, size_t n, struct kv_fp *out,
		struct kv_error *err)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return kv_fail(err, KV_EXIT_INPUT, "nothing to merge");
	int rc = check_parts(parts, names, n, err);
	if (rc)
		return rc;
	out->version = parts[0].version;
	out->sample_size = parts[0].sample_size;
	out->complete = n == 1 && parts[0].complete;
	take_index(&parts[0], out);
	size_t *from = gather(parts, n, out);
	rc = check_duplicates(out, from, names, err);
	free(from);
	return rc ? rc : check_against_index(out, err);
}

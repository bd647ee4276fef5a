/* Fingerprint files: writing, reading (every field checked) and merging
 * per-shard parts (see fingerprint.h; scanning is in fpscan.c). */
#include "fingerprint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpsample.h"
#include "jsonw.h"
#include "moments.h"
#include "safetensors.h"

/* JSON numbers are doubles: whole numbers are exact up to 2^53. */
#define MAX_EXACT 9007199254740992.0

int kv_fp_version(enum kv_ts_hash hash)
{
	return hash == KV_TS_XXH128_TREE ? KV_FP_VERSION_XXH128_TREE
		: hash == KV_TS_BLAKE3 ? KV_FP_VERSION_BLAKE3 : KV_FP_VERSION_SHA256_TREE;
}

const struct kv_fp_hash_kind *kv_fp_hash_kind(enum kv_ts_hash hash)
{
	return &kv_fp_hash_kinds[kv_fp_version(hash) - 1];
}

const char *kv_fp_hash_name(enum kv_ts_hash hash)
{
	return kv_fp_hash_kind(hash)->name;
}

void kv_fp_free(struct kv_fp *fp)
{
	for (size_t i = 0; i < fp->count; i++) {
		struct kv_fp_tensor *t = &fp->tensors[i];
		free(t->name);
		free(t->shard);
		free(t->dtype);
		free(t->shape);
		free(t->sample);
	}
	free(fp->tensors);
	for (size_t i = 0; i < fp->shard_count; i++)
		free(fp->shards[i].file);
	free(fp->shards);
	for (size_t i = 0; i < fp->index_shard_count; i++)
		free(fp->index_shards[i]);
	free(fp->index_shards);
	free(fp->index_file);
	memset(fp, 0, sizeof *fp);
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

void kv_fp_json(struct kv_fp *fp, struct kv_buf *b)
{
	qsort(fp->tensors, fp->count, sizeof *fp->tensors, cmp_tensor);
	qsort(fp->shards, fp->shard_count, sizeof *fp->shards, cmp_shard);
	kv_buf_printf(b, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"content_hash\": \"%s\",\n", KV_FP_FORMAT,
		      kv_fp_version(fp->hash), kv_fp_hash_name(fp->hash));
	if (kv_fp_hash_kind(fp->hash)->leaf_bytes)
		kv_buf_printf(b, "  \"leaf_bytes\": %u,\n", kv_fp_hash_kind(fp->hash)->leaf_bytes);
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
	kv_buf_puts(b, fp->count ? "\n  ]\n}\n" : "]\n}\n");
}

/* ---- reading ------------------------------------------------------------------ */

struct reader {
	const char *file;
	struct kv_error *err;
	char where[600];             /* "tensors[3] ('name')" for messages */
	size_t hash_hex;             /* hex digits of a tensor's content hash */
};

static int bad(struct reader *r, const char *key, const char *what)
{
	return kv_fail(r->err, KV_EXIT_INPUT, "%s: %s%s'%s' %s", r->file, r->where, *r->where ? ": " : "",
		       key, what);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int get_string(struct reader *r, const cJSON *obj, const char *key, const char **out)
{
	const cJSON *v = member(obj, key);
	if (!cJSON_IsString(v))
		return bad(r, key, "is missing or not a string");
	*out = v->valuestring;
	return 0;
}

static int read_whole(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return 0;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= MAX_EXACT) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

static int get_u64(struct reader *r, const cJSON *obj, const char *key, uint64_t *out)
{
	if (!read_whole(member(obj, key), out))
		return bad(r, key, "is missing or not a whole number in [0, 2^53]");
	return 0;
}

static int get_bool(struct reader *r, const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = member(obj, key);
	if (!cJSON_IsBool(v))
		return bad(r, key, "is missing or not true/false");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_double(struct reader *r, const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = member(obj, key);
	if (!cJSON_IsNumber(v))
		return bad(r, key, "is missing or not a number");
	*out = v->valuedouble;
	return 0;
}

static int is_hex(const char *s, size_t digits)
{
	size_t n = 0;
	while (s[n] && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
		n++;
	return n == digits && !s[n];
}

/* Bytes a base64 text decodes to, or -1 when it is not canonical base64. */
static long long base64_size(const char *s)
{
	size_t n = strlen(s), pad = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '+' || c == '/';
		if (c == '=' && i + 2 >= n && (i + 1 == n || s[i + 1] == '='))
			pad++;
		else if (!ok)
			return -1;
	}
	return (long long)(n / 4 * 3 - pad);
}

static int get_hash(struct reader *r, const cJSON *obj, const char *key, size_t digits, char out[65])
{
	const char *s = NULL;
	if (get_string(r, obj, key, &s))
		return KV_EXIT_INPUT;
	if (!is_hex(s, digits)) {
		char what[40];
		snprintf(what, sizeof what, "is not %zu lowercase hex digits", digits);
		return bad(r, key, what);
	}
	memcpy(out, s, digits + 1);
	return 0;
}

static int read_shape(struct reader *r, const cJSON *obj, struct kv_fp_tensor *t)
{
	const cJSON *shape = member(obj, "shape");
	if (!cJSON_IsArray(shape))
		return bad(r, "shape", "is missing or not an array");
	t->rank = (size_t)cJSON_GetArraySize(shape);
	t->shape = kv_xcalloc(t->rank, sizeof *t->shape);
	uint64_t numel = 1;
	size_t i = 0;
	for (const cJSON *d = shape->child; d; d = d->next, i++)
		if (!read_whole(d, &t->shape[i]) || __builtin_mul_overflow(numel, t->shape[i], &numel))
			return bad(r, "shape", "holds a dimension that is not a whole number, or "
				   "their product overflows");
	if (get_u64(r, obj, "numel", &t->numel))
		return KV_EXIT_INPUT;
	if (t->numel != numel)
		return bad(r, "numel", "is not the product of the shape");
	return 0;
}

static int read_range(struct reader *r, const cJSON *obj, struct kv_fp_tensor *t)
{
	t->has_range = t->finite > 0;
	if (!t->has_range)
		return cJSON_IsNull(member(obj, "min")) && cJSON_IsNull(member(obj, "max")) ? 0
			: bad(r, "min", "and 'max' must be null when no value is finite");
	if (get_double(r, obj, "min", &t->min) || get_double(r, obj, "max", &t->max))
		return KV_EXIT_INPUT;
	return t->min <= t->max ? 0 : bad(r, "min", "is above 'max'");
}

static int read_moments(struct reader *r, const cJSON *obj, struct kv_fp_tensor *t, uint64_t k)
{
	const char *sample = NULL;
	if (get_u64(r, obj, "finite", &t->finite) || get_double(r, obj, "sum", &t->sum) ||
	    get_double(r, obj, "sumsq", &t->sumsq) || read_range(r, obj, t) ||
	    get_string(r, obj, "sample", &sample))
		return KV_EXIT_INPUT;
	if (t->finite > t->numel)
		return bad(r, "finite", "exceeds numel");
	t->sample_count = kv_fp_sample_count(t->numel, k);
	long long size = base64_size(sample);
	if (size < 0 || (uint64_t)size != t->sample_count * kv_float_size(kv_float_kind(t->dtype)))
		return bad(r, "sample", "is not base64 of the sampled elements");
	t->sample = kv_xstrdup(sample);
	return 0;
}

static int read_tensor(struct reader *r, const cJSON *obj, size_t i, uint64_t k, struct kv_fp_tensor *t)
{
	const char *name = NULL, *shard = NULL, *dtype = NULL;
	const cJSON *n = member(obj, "name");
	snprintf(r->where, sizeof r->where, "tensors[%zu] ('%.500s')", i,
		 cJSON_IsString(n) ? n->valuestring : "?");
	if (!cJSON_IsObject(obj))
		return bad(r, "entry", "is not a JSON object");
	if (get_string(r, obj, "name", &name) || get_string(r, obj, "shard", &shard) ||
	    get_string(r, obj, "dtype", &dtype))
		return KV_EXIT_INPUT;
	t->name = kv_xstrdup(name);
	t->shard = kv_xstrdup(shard);
	t->dtype = kv_xstrdup(dtype);
	if (!kv_st_dtype_bits(dtype))
		return bad(r, "dtype", "is not a safetensors dtype");
	if (read_shape(r, obj, t) || get_hash(r, obj, "hash", r->hash_hex, t->hash) || get_bool(r, obj, "constant", &t->constant))
		return KV_EXIT_INPUT;
	t->has_moments = kv_float_kind(dtype) != KV_FK_NONE;
	if (t->has_moments)
		return read_moments(r, obj, t, k);
	return member(obj, "sample") ? bad(r, "sample", "is present for a dtype that is not sampled") : 0;
}

static int read_index(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *idx = member(root, "index");
	if (cJSON_IsNull(idx))
		return 0;
	const char *file = NULL;
	const cJSON *shards = member(idx, "shards");
	if (!cJSON_IsObject(idx) || get_string(r, idx, "file", &file) || get_hash(r, idx, "sha256", 64, fp->index_sha256))
		return bad(r, "index", "must be null or {file, sha256, shards}");
	if (!cJSON_IsArray(shards))
		return bad(r, "index", "has no 'shards' array");
	fp->has_index = 1;
	fp->index_file = kv_xstrdup(file);
	fp->index_shards = kv_xcalloc((size_t)cJSON_GetArraySize(shards), sizeof *fp->index_shards);
	for (const cJSON *s = shards->child; s; s = s->next) {
		if (!cJSON_IsString(s))
			return bad(r, "index", "lists a shard that is not a string");
		fp->index_shards[fp->index_shard_count++] = kv_xstrdup(s->valuestring);
	}
	return 0;
}

static int read_shards(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *shards = member(root, "shards");
	if (!cJSON_IsArray(shards))
		return bad(r, "shards", "is missing or not an array");
	fp->shards = kv_xcalloc((size_t)cJSON_GetArraySize(shards), sizeof *fp->shards);
	for (const cJSON *s = shards->child; s; s = s->next) {
		struct kv_fp_shard *sh = &fp->shards[fp->shard_count++];
		const char *file = NULL;
		snprintf(r->where, sizeof r->where, "shards[%zu]", fp->shard_count - 1);
		if (!cJSON_IsObject(s) || get_string(r, s, "file", &file))
			return bad(r, "file", "is missing");
		sh->file = kv_xstrdup(file);
		if (get_u64(r, s, "bytes", &sh->bytes) || get_u64(r, s, "tensors", &sh->tensors))
			return KV_EXIT_INPUT;
	}
	*r->where = '\0';
	return 0;
}

static int read_tensors(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *tensors = member(root, "tensors");
	if (!cJSON_IsArray(tensors))
		return bad(r, "tensors", "is missing or not an array");
	fp->tensors = kv_xcalloc((size_t)cJSON_GetArraySize(tensors), sizeof *fp->tensors);
	for (const cJSON *t = tensors->child; t; t = t->next) {
		size_t i = fp->count++;
		if (read_tensor(r, t, i, fp->sample_size, &fp->tensors[i]))
			return KV_EXIT_INPUT;
	}
	*r->where = '\0';
	return 0;
}

/* content_hash and leaf_bytes as `version` writes them (fphash.h). */
static int read_content_hash(struct reader *r, const cJSON *root, uint64_t version, enum kv_ts_hash *out)
{
	const struct kv_fp_hash_kind *k = &kv_fp_hash_kinds[version - 1];
	const char *hash = NULL;
	uint64_t leaf = 0;
	int leaf_ok = k->leaf_bytes ? !get_u64(r, root, "leaf_bytes", &leaf) && leaf == k->leaf_bytes
				    : !member(root, "leaf_bytes");
	if (get_string(r, root, "content_hash", &hash) || strcmp(hash, k->name) != 0 || !leaf_ok) {
		char what[120];
		if (k->leaf_bytes)
			snprintf(what, sizeof what, "is not \"%s\" with leaf_bytes %u (version %d)", k->name,
				 k->leaf_bytes, (int)version);
		else
			snprintf(what, sizeof what, "is not \"%s\" (version %d, no leaf_bytes)", k->name, (int)version);
		return bad(r, "content_hash", what);
	}
	for (int h = 0; h < KV_TS_HASHES; h++)
		if (kv_fp_version((enum kv_ts_hash)h) == (int)version)
			*out = (enum kv_ts_hash)h;
	r->hash_hex = 2 * k->digest_bytes;
	return 0;
}

/* The fixed header fields: this program reads only what it writes. */
static int read_head(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const char *format = NULL, *scheme = NULL;
	uint64_t version;
	if (get_string(r, root, "format", &format) || strcmp(format, KV_FP_FORMAT) != 0)
		return bad(r, "format", "is not \"" KV_FP_FORMAT "\"");
	if (get_u64(r, root, "version", &version) || version < 1 || version > KV_FP_VERSION_MAX)
		return bad(r, "version", "is not 1, 2 or 3 (this kaieval reads versions 1 to 3)");
	if (read_content_hash(r, root, version, &fp->hash))
		return KV_EXIT_INPUT;
	if (get_string(r, root, "sample_scheme", &scheme) || strcmp(scheme, KV_FP_SAMPLE_SCHEME) != 0)
		return bad(r, "sample_scheme", "is not \"" KV_FP_SAMPLE_SCHEME "\"");
	if (get_u64(r, root, "sample_size", &fp->sample_size) || fp->sample_size < 1 ||
	    fp->sample_size > KV_FP_SAMPLE_MAX)
		return bad(r, "sample_size", "is not a whole number in [1, 1048576]");
	return get_bool(r, root, "complete", &fp->complete);
}

char *kv_fp_load_text(const char *file, size_t *len, struct kv_error *err)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		kv_fail(err, KV_EXIT_INPUT, "%s: cannot open: %s", file, strerror(errno));
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
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return kv_fail(err, KV_EXIT_INPUT, "%s: not a fingerprint (not a JSON object)", file);
	}
	struct reader r = {.file = file, .err = err};
	int rc = read_head(&r, root, fp);
	if (!rc)
		rc = read_index(&r, root, fp);
	if (!rc)
		rc = read_shards(&r, root, fp);
	if (!rc)
		rc = read_tensors(&r, root, fp);
	cJSON_Delete(root);
	return rc;
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
	for (size_t i = 1; i < n; i++) {
		if (parts[i].hash != parts[0].hash)
			return kv_fail(err, KV_EXIT_INPUT, "%s: content hash %s differs from %s's %s", names[i],
				       kv_fp_hash_name(parts[i].hash), names[0], kv_fp_hash_name(parts[0].hash));
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
	out->hash = parts[0].hash;
	out->sample_size = parts[0].sample_size;
	out->complete = n == 1 && parts[0].complete;
	take_index(&parts[0], out);
	size_t *from = gather(parts, n, out);
	rc = check_duplicates(out, from, names, err);
	free(from);
	return rc ? rc : check_against_index(out, err);
}

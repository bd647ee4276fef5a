/* The fingerprint reader (see fpformat.h): every field is checked against
 * what `kaieval fingerprint` writes, and a bad one is named with its file,
 * its tensor and its key. */
#include "fpformat.h"

_Static_assert(KV_FP_INV_TOKENS == 32u, "the reader's message says 32");

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpsample.h"
#include "safetensors.h"

const char *const kv_fp_product_names[KV_FP_PRODUCTS] = {"qk", "ov", "ud"};

struct reader {
	const char *file;
	char *msg;
	size_t msglen;
	char where[600];             /* "tensors[3] ('name')" for messages */
	size_t hash_hex;             /* hex digits of a tensor's content hash */
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, r->msglen, fmt, ap);
	va_end(ap);
	return -1;
}

static int bad(struct reader *r, const char *key, const char *what)
{
	return fail(r, "%s: %s%s'%s' %s", r->file, r->where, *r->where ? ": " : "", key, what);
}

/* A copy of s, or NULL (with the message set) when memory is out. */
static char *dup(struct reader *r, const char *s)
{
	char *d = strdup(s);
	if (!d)
		fail(r, "%s: out of memory", r->file);
	return d;
}

static void *alloc(struct reader *r, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		fail(r, "%s: out of memory", r->file);
	return p;
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

static int get_u64(struct reader *r, const cJSON *obj, const char *key, uint64_t *out)
{
	if (!kv_st_json_uint(member(obj, key), out))
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

unsigned kv_fp_sample_bytes(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? 4 : strcmp(dtype, "F16") == 0 || strcmp(dtype, "BF16") == 0 ? 2 : 0;
}

static int get_hash(struct reader *r, const cJSON *obj, const char *key, size_t digits, char out[65])
{
	const char *s = NULL;
	if (get_string(r, obj, key, &s))
		return -1;
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
	size_t rank = (size_t)cJSON_GetArraySize(shape);
	if (!(t->shape = alloc(r, rank, sizeof *t->shape)))
		return -1;
	t->rank = rank;
	uint64_t numel = 1;
	size_t i = 0;
	for (const cJSON *d = shape->child; d; d = d->next, i++)
		if (!kv_st_json_uint(d, &t->shape[i]) || __builtin_mul_overflow(numel, t->shape[i], &numel))
			return bad(r, "shape", "holds a dimension that is not a whole number, or "
				   "their product overflows");
	if (get_u64(r, obj, "numel", &t->numel))
		return -1;
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
		return -1;
	return t->min <= t->max ? 0 : bad(r, "min", "is above 'max'");
}

static int read_moments(struct reader *r, const cJSON *obj, struct kv_fp_tensor *t, uint64_t k)
{
	const char *sample = NULL;
	if (get_u64(r, obj, "finite", &t->finite) || get_double(r, obj, "sum", &t->sum) ||
	    get_double(r, obj, "sumsq", &t->sumsq) || read_range(r, obj, t) ||
	    get_string(r, obj, "sample", &sample))
		return -1;
	if (t->finite > t->numel)
		return bad(r, "finite", "exceeds numel");
	if (t->sumsq < 0)
		return bad(r, "sumsq", "is negative");
	t->sample_count = kv_fp_sample_count(t->numel, k);
	long long size = base64_size(sample);
	if (size < 0 || (uint64_t)size != t->sample_count * kv_fp_sample_bytes(t->dtype))
		return bad(r, "sample", "is not base64 of the sampled elements");
	return (t->sample = dup(r, sample)) ? 0 : -1;
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
		return -1;
	if (!(t->name = dup(r, name)) || !(t->shard = dup(r, shard)) || !(t->dtype = dup(r, dtype)))
		return -1;
	if (!kv_st_dtype_bits(dtype))
		return bad(r, "dtype", "is not a safetensors dtype");
	if (read_shape(r, obj, t) || get_hash(r, obj, "hash", r->hash_hex, t->hash) ||
	    get_bool(r, obj, "constant", &t->constant))
		return -1;
	t->has_moments = kv_fp_sample_bytes(dtype) != 0;
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
	if (!(fp->index_file = dup(r, file)) ||
	    !(fp->index_shards = alloc(r, (size_t)cJSON_GetArraySize(shards), sizeof *fp->index_shards)))
		return -1;
	for (const cJSON *s = shards->child; s; s = s->next) {
		if (!cJSON_IsString(s))
			return bad(r, "index", "lists a shard that is not a string");
		if (!(fp->index_shards[fp->index_shard_count] = dup(r, s->valuestring)))
			return -1;
		fp->index_shard_count++;
	}
	return 0;
}

static int read_shards(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *shards = member(root, "shards");
	if (!cJSON_IsArray(shards))
		return bad(r, "shards", "is missing or not an array");
	if (!(fp->shards = alloc(r, (size_t)cJSON_GetArraySize(shards), sizeof *fp->shards)))
		return -1;
	for (const cJSON *s = shards->child; s; s = s->next) {
		struct kv_fp_shard *sh = &fp->shards[fp->shard_count++];
		const char *file = NULL;
		snprintf(r->where, sizeof r->where, "shards[%zu]", fp->shard_count - 1);
		if (!cJSON_IsObject(s) || get_string(r, s, "file", &file))
			return bad(r, "file", "is missing");
		if (!(sh->file = dup(r, file)))
			return -1;
		if (get_u64(r, s, "bytes", &sh->bytes) || get_u64(r, s, "tensors", &sh->tensors))
			return -1;
	}
	*r->where = '\0';
	return 0;
}

static int cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const struct kv_fp_tensor *)a)->name, ((const struct kv_fp_tensor *)b)->name);
}

/* Sorted by name, so that a tensor is found by bsearch and listed once. */
static int sort_unique(struct reader *r, struct kv_fp *fp)
{
	qsort(fp->tensors, fp->count, sizeof *fp->tensors, cmp_tensor);
	for (size_t i = 1; i < fp->count; i++)
		if (strcmp(fp->tensors[i - 1].name, fp->tensors[i].name) == 0)
			return fail(r, "%s: tensor '%s' is listed twice", r->file, fp->tensors[i].name);
	return 0;
}

static int read_tensors(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *tensors = member(root, "tensors");
	if (!cJSON_IsArray(tensors))
		return bad(r, "tensors", "is missing or not an array");
	if (!(fp->tensors = alloc(r, (size_t)cJSON_GetArraySize(tensors), sizeof *fp->tensors)))
		return -1;
	for (const cJSON *t = tensors->child; t; t = t->next) {
		size_t i = fp->count++;
		if (read_tensor(r, t, i, fp->sample_size, &fp->tensors[i]))
			return -1;
	}
	*r->where = '\0';
	return sort_unique(r, fp);
}

/* content_hash and leaf_bytes as `version` writes them (fphash.h). */
static int read_content_hash(struct reader *r, const cJSON *root, uint64_t version)
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
	r->hash_hex = 2 * k->digest_bytes;
	return 0;
}

/* The fixed header fields: only what `kaieval fingerprint` writes. */
static int read_head(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const char *format = NULL, *scheme = NULL;
	uint64_t version;
	if (get_string(r, root, "format", &format) || strcmp(format, KV_FP_FORMAT) != 0)
		return bad(r, "format", "is not \"" KV_FP_FORMAT "\"");
	if (get_u64(r, root, "version", &version) || version < 1 || version > KV_FP_VERSION_MAX)
		return bad(r, "version", "is not 1, 2, 3 or 4 (this kaieval reads versions 1 to 4)");
	if (read_content_hash(r, root, version))
		return -1;
	fp->version = (int)version;
	if (get_string(r, root, "sample_scheme", &scheme) || strcmp(scheme, KV_FP_SAMPLE_SCHEME) != 0)
		return bad(r, "sample_scheme", "is not \"" KV_FP_SAMPLE_SCHEME "\"");
	if (get_u64(r, root, "sample_size", &fp->sample_size) || fp->sample_size < 1 ||
	    fp->sample_size > KV_FP_SAMPLE_MAX)
		return bad(r, "sample_size", "is not a whole number in [1, 1048576]");
	return get_bool(r, root, "complete", &fp->complete);
}

/* ---- the invariants (version 4) ---------------------------------------------- */

static unsigned b64_digit(char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A') : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 26)
		: c >= '0' && c <= '9' ? (unsigned)(c - '0' + 52) : c == '+' ? 62u : c == '/' ? 63u : 0u;
}

/* n little-endian F32 values from checked base64 s. */
static void decode_floats(const char *s, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t bits = 0;
		for (unsigned b = 0; b < 4; b++) {
			size_t at = 4 * i + b;
			const char *q = s + at / 3 * 4;
			uint32_t v = b64_digit(q[0]) << 18 | b64_digit(q[1]) << 12 | b64_digit(q[2]) << 6 |
				     b64_digit(q[3]);
			bits |= ((v >> (16 - 8 * (unsigned)(at % 3))) & 0xffu) << (8 * b);
		}
		memcpy(&out[i], &bits, sizeof bits);
	}
}

/* One product: null, or base64 of tokens^2 finite F32 values. */
static int read_product(struct reader *r, const cJSON *obj, const char *key, uint64_t k, float **out)
{
	const cJSON *v = member(obj, key);
	if (cJSON_IsNull(v))
		return 0;
	long long size = cJSON_IsString(v) ? base64_size(v->valuestring) : -1;
	if (size < 0 || (uint64_t)size != 4 * k * k)
		return bad(r, key, "is neither null nor base64 of tokens x tokens F32 values");
	if (!(*out = alloc(r, (size_t)(k * k), sizeof **out)))
		return -1;
	decode_floats(v->valuestring, *out, (size_t)(k * k));
	for (size_t i = 0; i < k * k; i++)
		if (!((*out)[i] - (*out)[i] == 0))
			return bad(r, key, "holds a value that is not finite");
	return 0;
}

static int read_layer(struct reader *r, const cJSON *obj, size_t i, uint64_t k, struct kv_fp_layer *l)
{
	snprintf(r->where, sizeof r->where, "invariants.layers[%zu]", i);
	if (!cJSON_IsObject(obj))
		return bad(r, "entry", "is not a JSON object");
	if (get_u64(r, obj, "layer", &l->layer))
		return -1;
	for (int p = 0; p < KV_FP_PRODUCTS; p++)
		if (read_product(r, obj, kv_fp_product_names[p], k, &l->p[p]))
			return -1;
	return 0;
}

static int read_layers(struct reader *r, const cJSON *inv, struct kv_fp_invariants *v)
{
	const cJSON *layers = member(inv, "layers");
	if (!cJSON_IsArray(layers))
		return bad(r, "layers", "is missing or not an array");
	if (!(v->layers = alloc(r, (size_t)cJSON_GetArraySize(layers), sizeof *v->layers)))
		return -1;
	for (const cJSON *l = layers->child; l; l = l->next) {
		size_t i = v->layer_count++;
		if (read_layer(r, l, i, v->tokens, &v->layers[i]))
			return -1;
		if (i && v->layers[i].layer <= v->layers[i - 1].layer)
			return bad(r, "layer", "is not above the previous layer's");
	}
	*r->where = '\0';
	return 0;
}

/* "invariants": required in version 4 (null or the object), absent before. */
static int read_invariants(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *inv = member(root, "invariants");
	if (fp->version < KV_FP_VERSION_INVARIANTS)
		return inv ? bad(r, "invariants", "is present in a version 1 to 3 file") : 0;
	if (cJSON_IsNull(inv))
		return 0;
	const char *scheme = NULL, *embedding = NULL;
	struct kv_fp_invariants *v = &fp->inv;
	if (!cJSON_IsObject(inv))
		return bad(r, "invariants", "is missing or neither null nor an object");
	snprintf(r->where, sizeof r->where, "invariants");
	if (get_string(r, inv, "scheme", &scheme) || strcmp(scheme, KV_FP_INV_SCHEME) != 0)
		return bad(r, "scheme", "is not \"" KV_FP_INV_SCHEME "\"");
	if (get_string(r, inv, "embedding", &embedding) || get_u64(r, inv, "vocab", &v->vocab) ||
	    get_u64(r, inv, "tokens", &v->tokens))
		return -1;
	if (v->tokens != KV_FP_INV_TOKENS || v->vocab < v->tokens)
		return bad(r, "tokens", "is not 32, or exceeds 'vocab'");
	if (!(v->embedding = dup(r, embedding)))
		return -1;
	fp->has_invariants = 1;
	return read_layers(r, inv, v);
}

int kv_fp_parse(const char *text, size_t len, const char *file, struct kv_fp *fp, char *msg, size_t msglen)
{
	memset(fp, 0, sizeof *fp);
	struct reader r = {.file = file, .msg = msg, .msglen = msglen};
	cJSON *root = cJSON_ParseWithLength(text, len);
	int rc;
	if (!cJSON_IsObject(root))
		rc = fail(&r, "%s: not a fingerprint (not a JSON object)", file);
	else
		rc = read_head(&r, root, fp) || read_index(&r, root, fp) || read_shards(&r, root, fp) ||
		     read_tensors(&r, root, fp) || read_invariants(&r, root, fp) ? -1 : 0;
	cJSON_Delete(root);
	return rc;
}

void kv_fp_invariants_free(struct kv_fp_invariants *inv)
{
	for (size_t i = 0; i < inv->layer_count; i++)
		for (int p = 0; p < KV_FP_PRODUCTS; p++)
			free(inv->layers[i].p[p]);
	free(inv->layers);
	free(inv->embedding);
	memset(inv, 0, sizeof *inv);
}

void kv_fp_free(struct kv_fp *fp)
{
	kv_fp_invariants_free(&fp->inv);
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

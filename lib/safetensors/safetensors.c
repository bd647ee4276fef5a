/* A strict safetensors header reader: see safetensors.h for what it checks
 * and why.  No I/O, no core symbols: libc and cJSON only. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON numbers arrive as doubles: above 2^53 they are no longer exact. */
#define MAX_EXACT 9007199254740992.0

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return KV_ST_BAD;
}

static int nomem(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
	return KV_ST_NOMEM;
}

/* Dtypes and bit sizes of the reference implementation (Dtype::bitsize). */
static const struct { const char *name; unsigned bits; } dtypes[] = {
	{"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6},
	{"BOOL", 8}, {"U8", 8}, {"I8", 8}, {"F8_E5M2", 8}, {"F8_E4M3", 8},
	{"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8},
	{"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16},
	{"I32", 32}, {"U32", 32}, {"F32", 32},
	{"C64", 64}, {"F64", 64}, {"I64", 64}, {"U64", 64},
};

static int dtype_index(const char *name)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (strcmp(dtypes[i].name, name) == 0)
			return (int)i;
	return -1;
}

unsigned kv_st_dtype_bits(const char *dtype)
{
	int i = dtype ? dtype_index(dtype) : -1;
	return i < 0 ? 0 : dtypes[i].bits;
}

/* ---- the length prefix -------------------------------------------------- */

int kv_st_header_len(const char *file, const unsigned char first8[8], uint64_t *n,
		     char *err, size_t errlen)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | first8[i];
	*n = v;
	if (v > KV_ST_HEADER_MAX)
		return fail(err, errlen, "%s: header length %" PRIu64 " bytes exceeds the limit of %u "
			    "bytes (not a safetensors file?)", file, v, KV_ST_HEADER_MAX);
	return KV_ST_OK;
}

/* ---- the header text ---------------------------------------------------- */

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are refused. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		: (s[0] & 0xf0) == 0xe0 ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return len;
}

/* JSON allows no raw control byte but its four whitespace characters; cJSON
 * would skip any byte <= 0x20 as whitespace, so they are refused here. */
static int check_text(const char *file, const char *what, const char *text, size_t n,
		      char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < n;) {
		if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return fail(err, errlen, "%s: %s byte %zu is the control byte 0x%02x",
				    file, what, i, s[i]);
		size_t len = utf8_len(s + i, n - i);
		if (!len)
			return fail(err, errlen, "%s: %s is not valid UTF-8 (byte %zu)", file, what, i);
		i += len;
	}
	return KV_ST_OK;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse text[0..n) as one JSON value followed only by whitespace. */
static int parse_json(const char *file, const char *what, const char *text, size_t n,
		      cJSON **root, char *err, size_t errlen)
{
	char *copy = malloc(n + 1);
	if (!copy)
		return nomem(err, errlen);
	memcpy(copy, text, n);
	copy[n] = '\0';
	const char *end = NULL;
	*root = cJSON_ParseWithLengthOpts(copy, n, &end, 0);
	size_t at = end && end >= copy ? (size_t)(end - copy) : 0;
	if (*root)
		while (at < n && is_json_space(copy[at]))
			at++;
	free(copy);
	if (!*root)
		return fail(err, errlen, "%s: %s is not valid JSON (near byte %zu)", file, what, at);
	if (at < n) {
		cJSON_Delete(*root);
		*root = NULL;
		return fail(err, errlen, "%s: %s has bytes after its JSON value (byte %zu)", file, what, at);
	}
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return fail(err, errlen, "%s: %s is not a JSON object", file, what);
	}
	return KV_ST_OK;
}

/* ---- one tensor entry --------------------------------------------------- */

int kv_st_json_uint(const struct cJSON *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j))
		return 0;
	double d = j->valuedouble;
	if (!(d >= 0 && d <= MAX_EXACT) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

/* "[4096, 11008]" for messages. */
static const char *shape_text(const struct kv_st_tensor *t, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "[");
	for (size_t i = 0; i < t->rank && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%" PRIu64, i ? ", " : "", t->shape[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

static int parse_shape(const char *file, const cJSON *j, struct kv_st_tensor *t,
		       char *err, size_t errlen)
{
	if (!cJSON_IsArray(j))
		return fail(err, errlen, "%s: tensor '%s': 'shape' is not an array", file, t->name);
	t->rank = (size_t)cJSON_GetArraySize(j);
	t->shape = t->rank ? calloc(t->rank, sizeof *t->shape) : NULL;
	if (t->rank && !t->shape)
		return nomem(err, errlen);
	t->numel = 1;
	size_t i = 0;
	for (const cJSON *d = j->child; d; d = d->next, i++) {
		if (!kv_st_json_uint(d, &t->shape[i]))
			return fail(err, errlen, "%s: tensor '%s': shape[%zu] is not a whole number "
				    "in [0, 2^53]", file, t->name, i);
		if (__builtin_mul_overflow(t->numel, t->shape[i], &t->numel))
			return fail(err, errlen, "%s: tensor '%s': the number of elements of its shape "
				    "overflows 64 bits", file, t->name);
	}
	return KV_ST_OK;
}

static int parse_offsets(const char *file, const cJSON *j, struct kv_st_tensor *t,
			 char *err, size_t errlen)
{
	if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2 || !kv_st_json_uint(j->child, &t->begin) ||
	    !kv_st_json_uint(j->child->next, &t->end))
		return fail(err, errlen, "%s: tensor '%s': 'data_offsets' is not [BEGIN, END] of "
			    "whole numbers in [0, 2^53]", file, t->name);
	if (t->end < t->begin)
		return fail(err, errlen, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] "
			    "end before they begin", file, t->name, t->begin, t->end);
	return KV_ST_OK;
}

static int parse_dtype(const char *file, const cJSON *j, struct kv_st_tensor *t,
		       char *err, size_t errlen)
{
	int i = cJSON_IsString(j) ? dtype_index(j->valuestring) : -1;
	if (i < 0)
		return fail(err, errlen, "%s: tensor '%s': unknown dtype '%s'", file, t->name,
			    cJSON_IsString(j) ? j->valuestring : "(not a string)");
	t->dtype = dtypes[i].name;
	t->bits = dtypes[i].bits;
	return KV_ST_OK;
}

/* The byte size the shape and dtype call for must be the offsets' span. */
static int check_size_of(const char *file, const struct kv_st_tensor *t, char *err, size_t errlen)
{
	uint64_t bits;
	char shape[256];
	if (__builtin_mul_overflow(t->numel, (uint64_t)t->bits, &bits))
		return fail(err, errlen, "%s: tensor '%s': %" PRIu64 " elements of %s overflow 64 bits",
			    file, t->name, t->numel, t->dtype);
	if (bits % 8)
		return fail(err, errlen, "%s: tensor '%s': %" PRIu64 " elements of %s are not a whole "
			    "number of bytes", file, t->name, t->numel, t->dtype);
	if (t->end - t->begin != bits / 8)
		return fail(err, errlen, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold "
			    "%" PRIu64 " bytes but shape %s of %s needs %" PRIu64, file, t->name, t->begin,
			    t->end, t->end - t->begin, shape_text(t, shape, sizeof shape), t->dtype, bits / 8);
	return KV_ST_OK;
}

static const char *const tensor_keys[] = {"dtype", "shape", "data_offsets"};

/* The entry's three members, each exactly once and nothing else. */
static int tensor_members(const char *file, const cJSON *entry, const char *name,
			  const cJSON *member[3], char *err, size_t errlen)
{
	for (const cJSON *m = entry->child; m; m = m->next) {
		int k = 0;
		while (k < 3 && strcmp(m->string, tensor_keys[k]) != 0)
			k++;
		if (k == 3)
			return fail(err, errlen, "%s: tensor '%s': unexpected key '%s'", file, name, m->string);
		if (member[k])
			return fail(err, errlen, "%s: tensor '%s': key '%s' appears twice", file, name, m->string);
		member[k] = m;
	}
	for (int k = 0; k < 3; k++)
		if (!member[k])
			return fail(err, errlen, "%s: tensor '%s': missing '%s'", file, name, tensor_keys[k]);
	return KV_ST_OK;
}

static int parse_tensor(const char *file, const cJSON *entry, struct kv_st_tensor *t,
			char *err, size_t errlen)
{
	if (!(t->name = strdup(entry->string)))
		return nomem(err, errlen);
	if (!cJSON_IsObject(entry))
		return fail(err, errlen, "%s: tensor '%s': entry is not a JSON object", file, t->name);
	const cJSON *member[3] = {NULL, NULL, NULL};
	int rc = tensor_members(file, entry, t->name, member, err, errlen);
	if (!rc)
		rc = parse_dtype(file, member[0], t, err, errlen);
	if (!rc)
		rc = parse_shape(file, member[1], t, err, errlen);
	if (!rc)
		rc = parse_offsets(file, member[2], t, err, errlen);
	return rc ? rc : check_size_of(file, t, err, errlen);
}

/* ---- the whole header --------------------------------------------------- */

static int parse_metadata(const char *file, const cJSON *j, struct kv_st_header *h,
			  char *err, size_t errlen)
{
	if (!cJSON_IsObject(j))
		return fail(err, errlen, "%s: '__metadata__' is not a JSON object", file);
	size_t n = (size_t)cJSON_GetArraySize(j);
	h->meta_keys = calloc(n ? n : 1, sizeof *h->meta_keys);
	h->meta_values = calloc(n ? n : 1, sizeof *h->meta_values);
	if (!h->meta_keys || !h->meta_values)
		return nomem(err, errlen);
	for (const cJSON *m = j->child; m; m = m->next) {
		if (!cJSON_IsString(m))
			return fail(err, errlen, "%s: '__metadata__': '%s' is not a string (only "
				    "strings are allowed)", file, m->string);
		size_t i = h->meta_count++;
		h->meta_keys[i] = strdup(m->string);
		h->meta_values[i] = strdup(m->valuestring);
		if (!h->meta_keys[i] || !h->meta_values[i])
			return nomem(err, errlen);
	}
	return KV_ST_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Members of one JSON object named twice (cJSON keeps both). */
static int check_unique(const char *file, const char *what, const cJSON *obj,
			char *err, size_t errlen)
{
	size_t n = (size_t)cJSON_GetArraySize(obj), i = 0;
	const char **names = malloc((n ? n : 1) * sizeof *names);
	if (!names)
		return nomem(err, errlen);
	for (const cJSON *m = obj->child; m; m = m->next)
		names[i++] = m->string;
	qsort(names, n, sizeof *names, cmp_str);
	int rc = KV_ST_OK;
	for (i = 1; i < n && !rc; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = fail(err, errlen, "%s: %s '%s' appears twice", file, what, names[i]);
	free(names);
	return rc;
}

/* A total order, so that the sort (qsort is not stable) is deterministic. */
static int cmp_offsets(const void *pa, const void *pb)
{
	const struct kv_st_tensor *a = pa, *b = pb;
	if (a->begin != b->begin)
		return a->begin < b->begin ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Sorted by offsets, tensors must tile the buffer from 0: no hole (a hole
 * could hide a second file format), no overlap. */
static int check_layout(const char *file, struct kv_st_header *h, char *err, size_t errlen)
{
	qsort(h->tensors, h->count, sizeof *h->tensors, cmp_offsets);
	uint64_t at = 0;
	for (size_t i = 0; i < h->count; i++) {
		const struct kv_st_tensor *t = &h->tensors[i];
		const char *prev = i ? h->tensors[i - 1].name : NULL;
		if (t->begin > at && !prev)
			return fail(err, errlen, "%s: tensor '%s' starts at data byte %" PRIu64 ", leaving "
				    "bytes 0..%" PRIu64 " unindexed", file, t->name, t->begin, t->begin);
		if (t->begin > at)
			return fail(err, errlen, "%s: tensor '%s' starts at data byte %" PRIu64 " but tensor "
				    "'%s' ends at %" PRIu64 ": a gap of unindexed bytes", file, t->name,
				    t->begin, prev, at);
		if (t->begin < at)
			return fail(err, errlen, "%s: tensor '%s' starts at data byte %" PRIu64 ", inside "
				    "tensor '%s' (which ends at %" PRIu64 "): overlapping offsets", file,
				    t->name, t->begin, prev, at);
		at = t->end;
	}
	h->data_len = at;
	return KV_ST_OK;
}

static int fill_header(const char *file, const cJSON *root, struct kv_st_header *h,
		       char *err, size_t errlen)
{
	int rc = check_unique(file, "tensor", root, err, errlen);
	size_t n = (size_t)cJSON_GetArraySize(root);
	if (!rc && !(h->tensors = calloc(n ? n : 1, sizeof *h->tensors)))
		rc = nomem(err, errlen);
	for (const cJSON *m = root->child; m && !rc; m = m->next) {
		if (strcmp(m->string, "__metadata__") == 0)
			rc = parse_metadata(file, m, h, err, errlen);
		else
			rc = parse_tensor(file, m, &h->tensors[h->count++], err, errlen);
	}
	return rc ? rc : check_layout(file, h, err, errlen);
}

int kv_st_parse_header(const char *file, const char *json, size_t n,
		       struct kv_st_header **out, char *err, size_t errlen)
{
	*out = NULL;
	if (n > KV_ST_HEADER_MAX)
		return fail(err, errlen, "%s: header length %zu bytes exceeds the limit of %u bytes",
			    file, n, KV_ST_HEADER_MAX);
	cJSON *root = NULL;
	int rc = check_text(file, "header", json, n, err, errlen);
	if (!rc)
		rc = parse_json(file, "header", json, n, &root, err, errlen);
	if (rc)
		return rc;
	struct kv_st_header *h = calloc(1, sizeof *h);
	if (!h) {
		cJSON_Delete(root);
		return nomem(err, errlen);
	}
	h->header_len = n;
	rc = fill_header(file, root, h, err, errlen);
	cJSON_Delete(root);
	if (rc)
		kv_st_free(h);
	else
		*out = h;
	return rc;
}

int kv_st_check_size(const char *file, const struct kv_st_header *h, uint64_t file_size,
		     char *err, size_t errlen)
{
	uint64_t want;
	if (__builtin_add_overflow(h->header_len + 8, h->data_len, &want))
		return fail(err, errlen, "%s: header and data sizes overflow 64 bits", file);
	if (file_size < want)
		return fail(err, errlen, "%s: truncated: the header indexes %" PRIu64 " data bytes, so "
			    "the file should have %" PRIu64 " bytes, but it has %" PRIu64, file,
			    h->data_len, want, file_size);
	if (file_size > want)
		return fail(err, errlen, "%s: %" PRIu64 " bytes after the last tensor's data are not "
			    "indexed by the header (file of %" PRIu64 " bytes, %" PRIu64 " expected)",
			    file, file_size - want, file_size, want);
	return KV_ST_OK;
}

int kv_st_parse_file(const char *file, const void *bytes, size_t len,
		     struct kv_st_header **out, char *err, size_t errlen)
{
	*out = NULL;
	uint64_t n;
	if (len < 8)
		return fail(err, errlen, "%s: %zu bytes: too short for the 8-byte header length", file, len);
	int rc = kv_st_header_len(file, bytes, &n, err, errlen);
	if (rc)
		return rc;
	if (n > len - 8)
		return fail(err, errlen, "%s: header length %" PRIu64 " runs past the end of the file "
			    "(%zu bytes)", file, n, len);
	rc = kv_st_parse_header(file, (const char *)bytes + 8, (size_t)n, out, err, errlen);
	if (!rc && (rc = kv_st_check_size(file, *out, len, err, errlen)) != 0) {
		kv_st_free(*out);
		*out = NULL;
	}
	return rc;
}

void kv_st_free(struct kv_st_header *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->count; i++) {
		free(h->tensors[i].name);
		free(h->tensors[i].shape);
	}
	free(h->tensors);
	for (size_t i = 0; i < h->meta_count; i++) {
		free(h->meta_keys[i]);
		free(h->meta_values[i]);
	}
	free(h->meta_keys);
	free(h->meta_values);
	free(h);
}

/* ---- model.safetensors.index.json --------------------------------------- */

struct map_entry { const char *tensor, *shard; };

static int cmp_entry(const void *pa, const void *pb)
{
	const struct map_entry *a = pa, *b = pb;
	return strcmp(a->tensor, b->tensor);
}

/* A shard is a file beside the index, never a path elsewhere. */
static int plain_name(const char *s)
{
	return *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int read_map(const char *file, const cJSON *map, struct map_entry *e, char *err, size_t errlen)
{
	size_t i = 0;
	for (const cJSON *m = map->child; m; m = m->next, i++) {
		if (!cJSON_IsString(m) || !plain_name(m->valuestring))
			return fail(err, errlen, "%s: weight_map: tensor '%s': the shard is not a plain file "
				    "name", file, m->string);
		e[i].tensor = m->string;
		e[i].shard = m->valuestring;
	}
	return KV_ST_OK;
}

/* Distinct shard names, sorted, and how many tensors each holds. */
static int collect_shards(struct kv_st_index *idx, const struct map_entry *e, char *err, size_t errlen)
{
	const char **names = malloc(idx->count * sizeof *names);
	if (!names)
		return nomem(err, errlen);
	for (size_t i = 0; i < idx->count; i++)
		names[i] = e[i].shard;
	qsort(names, idx->count, sizeof *names, cmp_str);
	idx->shards = calloc(idx->count, sizeof *idx->shards);
	idx->shard_tensors = calloc(idx->count, sizeof *idx->shard_tensors);
	int rc = idx->shards && idx->shard_tensors ? KV_ST_OK : nomem(err, errlen);
	for (size_t i = 0; i < idx->count && !rc; i++) {
		if (i && strcmp(names[i - 1], names[i]) == 0)
			continue;
		if (!(idx->shards[idx->shard_count++] = strdup(names[i])))
			rc = nomem(err, errlen);
	}
	free(names);
	return rc;
}

static long shard_number(const struct kv_st_index *idx, const char *shard)
{
	char *const *hit = bsearch(&shard, idx->shards, idx->shard_count, sizeof *idx->shards, cmp_str);
	return hit ? (long)(hit - idx->shards) : -1;
}

static int fill_index(struct kv_st_index *idx, struct map_entry *e, char *err, size_t errlen)
{
	qsort(e, idx->count, sizeof *e, cmp_entry);
	int rc = collect_shards(idx, e, err, errlen);
	idx->tensors = calloc(idx->count, sizeof *idx->tensors);
	idx->shard_of = calloc(idx->count, sizeof *idx->shard_of);
	if (!rc && (!idx->tensors || !idx->shard_of))
		rc = nomem(err, errlen);
	for (size_t i = 0; i < idx->count && !rc; i++) {
		long s = shard_number(idx, e[i].shard);
		idx->shard_of[i] = idx->shards[s];
		idx->shard_tensors[s]++;
		if (!(idx->tensors[i] = strdup(e[i].tensor)))
			rc = nomem(err, errlen);
	}
	return rc;
}

static int read_index(const char *file, const cJSON *root, struct kv_st_index *idx,
		      char *err, size_t errlen)
{
	const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
	if (!cJSON_IsObject(map))
		return fail(err, errlen, "%s: 'weight_map' is missing or not a JSON object", file);
	int rc = check_unique(file, "weight_map: tensor", map, err, errlen);
	if (rc)
		return rc;
	idx->count = (size_t)cJSON_GetArraySize(map);
	if (!idx->count)
		return fail(err, errlen, "%s: 'weight_map' is empty", file);
	struct map_entry *e = calloc(idx->count, sizeof *e);
	if (!e)
		return nomem(err, errlen);
	rc = read_map(file, map, e, err, errlen);
	if (!rc)
		rc = fill_index(idx, e, err, errlen);
	free(e);
	return rc;
}

int kv_st_parse_index(const char *file, const char *json, size_t n,
		      struct kv_st_index **out, char *err, size_t errlen)
{
	*out = NULL;
	cJSON *root = NULL;
	int rc = check_text(file, "index", json, n, err, errlen);
	if (!rc)
		rc = parse_json(file, "index", json, n, &root, err, errlen);
	if (rc)
		return rc;
	rc = check_unique(file, "key", root, err, errlen);
	struct kv_st_index *idx = rc ? NULL : calloc(1, sizeof *idx);
	if (!rc && !idx)
		rc = nomem(err, errlen);
	if (!rc)
		rc = read_index(file, root, idx, err, errlen);
	cJSON_Delete(root);
	if (rc)
		kv_st_free_index(idx);
	else
		*out = idx;
	return rc;
}

const char *kv_st_index_shard(const struct kv_st_index *idx, const char *tensor)
{
	char *const *hit = bsearch(&tensor, idx->tensors, idx->count, sizeof *idx->tensors, cmp_str);
	return hit ? idx->shard_of[hit - idx->tensors] : NULL;
}

/* Which tensor the map gives this shard that its header lacks (error path). */
static int report_missing(const struct kv_st_index *idx, const char *shard, const char *file,
			  const struct kv_st_header *h, char *err, size_t errlen)
{
	const char **names = malloc((h->count ? h->count : 1) * sizeof *names);
	if (!names)
		return nomem(err, errlen);
	for (size_t i = 0; i < h->count; i++)
		names[i] = h->tensors[i].name;
	qsort(names, h->count, sizeof *names, cmp_str);
	int rc = KV_ST_OK;
	for (size_t i = 0; i < idx->count && !rc; i++)
		if (strcmp(idx->shard_of[i], shard) == 0 &&
		    !bsearch(&idx->tensors[i], names, h->count, sizeof *names, cmp_str))
			rc = fail(err, errlen, "%s: tensor '%s' is missing: the index's weight_map puts it "
				  "in this shard", file, idx->tensors[i]);
	free(names);
	return rc;
}

int kv_st_index_check_shard(const struct kv_st_index *idx, const char *shard, const char *file,
			    const struct kv_st_header *h, char *err, size_t errlen)
{
	long s = shard_number(idx, shard);
	if (s < 0)
		return fail(err, errlen, "%s: shard '%s' is not in the index's weight_map", file, shard);
	for (size_t i = 0; i < h->count; i++) {
		const char *mapped = kv_st_index_shard(idx, h->tensors[i].name);
		if (!mapped)
			return fail(err, errlen, "%s: tensor '%s' is not in the index's weight_map", file,
				    h->tensors[i].name);
		if (strcmp(mapped, shard) != 0)
			return fail(err, errlen, "%s: tensor '%s' is here but the index's weight_map puts "
				    "it in '%s'", file, h->tensors[i].name, mapped);
	}
	/* Every tensor here is mapped here and names are unique, so a shortfall
	 * means the map lists one this header lacks. */
	if (h->count != idx->shard_tensors[s])
		return report_missing(idx, shard, file, h, err, errlen);
	return KV_ST_OK;
}

void kv_st_free_index(struct kv_st_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->count; i++)
		free(idx->tensors ? idx->tensors[i] : NULL);
	for (size_t i = 0; i < idx->shard_count; i++)
		free(idx->shards[i]);
	free(idx->tensors);
	free(idx->shard_of);
	free(idx->shards);
	free(idx->shard_tensors);
	free(idx);
}

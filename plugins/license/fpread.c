/* Fingerprint files read through the host (see fpread.h); the format is
 * written by `kaieval fingerprint` (core/fingerprint.c). */
#include "fpread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fphash.h"
#include "fpsample.h"

const char *const component_names[COMP_COUNT] = {"vision", "audio", "embeddings", "backbone"};

/* ---- components and alignment keys, by name ------------------------------ */

static int starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && strncmp(s, prefix, n) == 0;
}

static int segment_in(const char *s, size_t len, const char *const *prefixes, int whole)
{
	for (size_t i = 0; prefixes[i]; i++)
		if (whole ? len == strlen(prefixes[i]) && strncmp(s, prefixes[i], len) == 0
			  : starts_with(s, len, prefixes[i]))
			return 1;
	return 0;
}

/* A dot-separated segment of the name decides: a vision or audio tower
 * anywhere in the path wins over everything else (so "vision_model.embeddings"
 * is vision), then the token embeddings and the output head, then backbone. */
static enum component component_of(const char *name)
{
	static const char *const vision[] = {"vision", "visual", "vit", "image", "img", "siglip", "clip",
					     "patch_embed", "mm_projector", "multi_modal_projector", NULL};
	static const char *const audio[] = {"audio", "whisper", "speech", "acoustic", NULL};
	static const char *const embed[] = {"embed_tokens", "word_embeddings", "tok_embeddings", "wte",
					    "lm_head", "embed_out", NULL};
	enum component c = COMP_BACKBONE;
	for (const char *s = name; *s;) {
		size_t len = strcspn(s, ".");
		if (segment_in(s, len, vision, 0))
			return COMP_VISION;
		if (segment_in(s, len, audio, 0))
			return COMP_AUDIO;
		if (segment_in(s, len, embed, 1))
			c = COMP_EMBEDDINGS;
		s += len + (s[len] == '.');
	}
	return c;
}

static int numeric(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/* The alignment key when names differ in their prefix: from the segment
 * before the first layer number on ("visual.blocks.3.attn.qkv.weight" and
 * "model.vision_tower.blocks.3.attn.qkv.weight" both give
 * "blocks.3.attn.qkv.weight"), or else the last three segments. */
static char *tail_of(const char *name)
{
	const char *seg[256];
	size_t n = 0;
	for (const char *s = name; *s && n < 256;) {
		seg[n++] = s;
		s += strcspn(s, ".");
		s += *s == '.';
	}
	size_t from = n > 3 ? n - 3 : 0;
	for (size_t i = 1; i < n; i++)
		if (numeric(seg[i], strcspn(seg[i], "."))) {
			from = i - 1;
			break;
		}
	return strdup(n ? seg[from] : name);
}

/* ---- reading -------------------------------------------------------------- */

struct rd {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *file;
	size_t index;
	const char *tensor;
	size_t hash_hex;             /* hex digits of a tensor's hash, by version */
};

static int bad(const struct rd *r, const char *key, const char *what)
{
	if (r->tensor)
		return r->h->error(r->ctx, "%s: tensors[%zu] ('%s'): '%s' %s", r->file, r->index, r->tensor,
				   key, what);
	return r->h->error(r->ctx, "%s: '%s' %s (not a fingerprint from `kaieval fingerprint`?)", r->file,
			   key, what);
}

static int oom(const struct rd *r)
{
	r->h->error(r->ctx, "%s: out of memory", r->file);
	return KV_ERR_INTERNAL;
}

static const char *str(const struct rd *r, const struct kv_value *obj, const char *key)
{
	return r->h->value_string(r->h->value_member(obj, key));
}

/* A whole number in [0, 2^53]. */
static int whole(const struct rd *r, const struct kv_value *v, uint64_t *out)
{
	double d;
	if (!r->h->value_double(v, &d) || !(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

static int is_hex(const char *s, size_t digits)
{
	size_t n = 0;
	while (s && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
		n++;
	return s && n == digits && !s[n];
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

/* Decoded size of canonical base64, or -1. */
static long long b64_size(const char *s)
{
	size_t n = strlen(s), pad = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 >= n && (i + 1 == n || s[i + 1] == '='))
			pad++;
		else if (!b64_char(s[i]))
			return -1;
	}
	return (long long)(n / 4 * 3 - pad);
}

static enum fp_kind kind_of(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? FP_F32 : strcmp(dtype, "F16") == 0 ? FP_F16
		: strcmp(dtype, "BF16") == 0 ? FP_BF16 : FP_NONE;
}

static int read_shape(const struct rd *r, const struct kv_value *obj, struct fp_tensor *t)
{
	const struct kv_host *h = r->h;
	const struct kv_value *shape = h->value_member(obj, "shape");
	if (h->value_type(shape) != KV_T_LIST)
		return bad(r, "shape", "is missing or not a list");
	t->rank = h->value_count(shape);
	t->shape = calloc(t->rank ? t->rank : 1, sizeof *t->shape);
	if (!t->shape)
		return oom(r);
	uint64_t numel = 1;
	for (size_t i = 0; i < t->rank; i++)
		if (!whole(r, h->value_at(shape, i), &t->shape[i]) || __builtin_mul_overflow(numel, t->shape[i], &numel))
			return bad(r, "shape", "holds a dimension that is not a whole number, or they overflow");
	if (!whole(r, h->value_member(obj, "numel"), &t->numel) || t->numel != numel)
		return bad(r, "numel", "is not the product of the shape");
	return 0;
}

static int read_float(const struct rd *r, const struct kv_value *obj, struct fp_tensor *t, uint64_t k)
{
	const struct kv_host *h = r->h;
	if (!whole(r, h->value_member(obj, "finite"), &t->finite) || t->finite > t->numel)
		return bad(r, "finite", "is not a whole number up to numel");
	if (!h->value_double(h->value_member(obj, "sum"), &t->sum) ||
	    !h->value_double(h->value_member(obj, "sumsq"), &t->sumsq) || t->sumsq < 0)
		return bad(r, "sum", "and 'sumsq' must be numbers (sumsq not negative)");
	if (t->finite && (!h->value_double(h->value_member(obj, "min"), &t->min) ||
			  !h->value_double(h->value_member(obj, "max"), &t->max) || t->min > t->max))
		return bad(r, "min", "and 'max' must be numbers, min <= max");
	t->sample = str(r, obj, "sample");
	t->sample_count = kv_fp_sample_count(t->numel, k);
	long long size = t->sample ? b64_size(t->sample) : -1;
	if (size < 0 || (uint64_t)size != t->sample_count * (t->kind == FP_F32 ? 4u : 2u))
		return bad(r, "sample", "is not base64 of the sampled elements");
	return 0;
}

static int read_tensor(struct rd *r, const struct kv_value *obj, uint64_t k, struct fp_tensor *t)
{
	const struct kv_host *h = r->h;
	t->name = str(r, obj, "name");
	r->tensor = t->name ? t->name : "?";
	t->dtype = str(r, obj, "dtype");
	t->hash = str(r, obj, "hash");
	if (!t->name || !t->dtype || !str(r, obj, "shard"))
		return bad(r, "name", "'shard' and 'dtype' must be strings");
	if (!is_hex(t->hash, r->hash_hex)) {
		char what[40];
		snprintf(what, sizeof what, "is not %zu lowercase hex digits", r->hash_hex);
		return bad(r, "hash", what);
	}
	int rc = read_shape(r, obj, t);
	if (rc)
		return rc;
	if (!h->value_bool(h->value_member(obj, "constant"), &t->constant))
		return bad(r, "constant", "is not true or false");
	t->kind = kind_of(t->dtype);
	t->component = component_of(t->name);
	if (!(t->tail = tail_of(t->name)))
		return oom(r);
	return t->kind == FP_NONE ? 0 : read_float(r, obj, t, k);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct fp_tensor *)a)->name, ((const struct fp_tensor *)b)->name);
}

static int read_head(struct rd *r, const struct kv_value *root, struct fp_model *m)
{
	const struct kv_host *h = r->h;
	const char *format = str(r, root, "format"), *hash = str(r, root, "content_hash");
	const char *scheme = str(r, root, "sample_scheme");
	uint64_t version = 0;
	if (h->value_type(root) != KV_T_GROUP || !format || strcmp(format, "kaieval-fingerprint") != 0)
		return bad(r, "format", "is not \"kaieval-fingerprint\"");
	if (!whole(r, h->value_member(root, "version"), &version) || version < 1 || version > KV_FP_VERSION_MAX)
		return bad(r, "version", "is not 1, 2 or 3");
	const struct kv_fp_hash_kind *kind = &kv_fp_hash_kinds[version - 1];
	m->content_hash = kind->name;
	r->hash_hex = 2 * kind->digest_bytes;
	if (!hash || strcmp(hash, kind->name) != 0) {
		char what[80];
		snprintf(what, sizeof what, "is not \"%s\" (version %d)", kind->name, (int)version);
		return bad(r, "content_hash", what);
	}
	if (!scheme || strcmp(scheme, KV_FP_SAMPLE_SCHEME) != 0)
		return bad(r, "sample_scheme", "is not \"" KV_FP_SAMPLE_SCHEME "\"");
	if (!whole(r, h->value_member(root, "sample_size"), &m->sample_size) || m->sample_size < 1 ||
	    m->sample_size > KV_FP_SAMPLE_MAX)
		return bad(r, "sample_size", "is not a whole number in [1, 1048576]");
	if (!h->value_bool(h->value_member(root, "complete"), &m->complete))
		return bad(r, "complete", "is not true or false");
	return 0;
}

static int check_unique(struct rd *r, const struct fp_model *m)
{
	for (size_t i = 1; i < m->count; i++)
		if (strcmp(m->t[i - 1].name, m->t[i].name) == 0)
			return r->h->error(r->ctx, "%s: tensor '%s' is listed twice", r->file, m->t[i].name);
	return 0;
}

static char *stem(const char *file)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		n -= 5;
	return strndup(base, n);
}

int fp_read(const struct kv_host *h, struct kv_ctx *ctx, const char *file, struct fp_model *m)
{
	memset(m, 0, sizeof *m);
	struct rd r = {h, ctx, file, 0, NULL, 64};
	const struct kv_value *root;
	m->file = file;
	if (!(m->name = stem(file)))
		return oom(&r);
	if (h->json_load(ctx, file, &root))
		return KV_ERR_INPUT;
	int rc = read_head(&r, root, m);
	const struct kv_value *tensors = h->value_member(root, "tensors");
	if (!rc && h->value_type(tensors) != KV_T_LIST)
		rc = bad(&r, "tensors", "is missing or not a list");
	size_t n = rc ? 0 : h->value_count(tensors);
	if (!rc && !(m->t = calloc(n ? n : 1, sizeof *m->t)))
		rc = oom(&r);
	for (size_t i = 0; !rc && i < n; i++, m->count++) {
		r.index = i;
		rc = read_tensor(&r, h->value_at(tensors, i), m->sample_size, &m->t[i]);
	}
	if (!rc) {
		qsort(m->t, m->count, sizeof *m->t, cmp_name);
		rc = check_unique(&r, m);
	}
	return rc;
}

void fp_free(struct fp_model *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->t[i].shape);
		free(m->t[i].tail);
	}
	free(m->t);
	free(m->name);
	memset(m, 0, sizeof *m);
}

const struct fp_tensor *fp_find(const struct fp_model *m, const char *name)
{
	struct fp_tensor key = {.name = name};
	return bsearch(&key, m->t, m->count, sizeof *m->t, cmp_name);
}

/* ---- sample values -------------------------------------------------------- */

static unsigned b64_value(char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A') : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 26)
		: c >= '0' && c <= '9' ? (unsigned)(c - '0' + 52) : c == '+' ? 62u : c == '/' ? 63u : 0u;
}

/* Byte i of the decoded sample (fp_read checked the text). */
static unsigned b64_byte(const char *s, uint64_t i)
{
	const char *q = s + i / 3 * 4;
	uint32_t v = b64_value(q[0]) << 18 | b64_value(q[1]) << 12 | b64_value(q[2]) << 6 | b64_value(q[3]);
	return (v >> (16 - 8 * (unsigned)(i % 3))) & 0xff;
}

/* IEEE half to double, exactly. */
static double half(uint16_t x)
{
	int exp = (x >> 10) & 0x1f, man = x & 0x3ff;
	double v = exp == 0 ? man * 0x1p-24 : exp == 31 ? (man ? NAN : INFINITY)
		: (1024 + man) * (double)(1u << exp) * 0x1p-25;
	return x & 0x8000 ? -v : v;
}

static double element(const struct fp_tensor *t, uint64_t j)
{
	if (t->kind == FP_F32) {
		uint32_t bits = 0;
		for (unsigned b = 0; b < 4; b++)
			bits |= (uint32_t)b64_byte(t->sample, 4 * j + b) << (8 * b);
		float f;
		memcpy(&f, &bits, sizeof f);
		return f;
	}
	uint16_t x = (uint16_t)(b64_byte(t->sample, 2 * j) | b64_byte(t->sample, 2 * j + 1) << 8);
	if (t->kind == FP_F16)
		return half(x);
	uint32_t bits = (uint32_t)x << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

void fp_values(const struct fp_tensor *t, double *out)
{
	for (uint64_t j = 0; j < t->sample_count; j++)
		out[j] = element(t, j);
}

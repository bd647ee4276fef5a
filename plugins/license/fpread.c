/* Fingerprint files read through the host (see fpread.h) and checked by the
 * format's one reader, lib/fpformat (the same rules as `kaieval fingerprint`). */
#include "fpread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpformat.h"

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

/* The name with its first all-digit segment (the layer number) as '#':
 * tensors of the same role in other layers share it. */
static char *generic_of(const char *name)
{
	char *g = strdup(name);
	for (char *s = g; g && *s;) {
		size_t len = strcspn(s, ".");
		if (numeric(s, len)) {
			s[0] = '#';
			memmove(s + 1, s + len, strlen(s + len) + 1);
			break;
		}
		s += len + (s[len] == '.');
	}
	return g;
}

/* ---- reading ------------------------------------------------------------- */

static int oom(const struct kv_host *h, struct kv_ctx *ctx, const char *file)
{
	h->error(ctx, "%s: out of memory", file);
	return KV_ERR_INTERNAL;
}

static enum fp_kind kind_of(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? FP_F32 : strcmp(dtype, "F16") == 0 ? FP_F16
		: strcmp(dtype, "BF16") == 0 ? FP_BF16 : FP_NONE;
}

/* The comparison's view of a parsed tensor: its fields, its component and
 * its alignment key (NULL when memory is out). */
static char *view(const struct kv_fp_tensor *s, struct fp_tensor *t)
{
	*t = (struct fp_tensor){
		.name = s->name, .dtype = s->dtype, .hash = s->hash, .rank = s->rank, .shape = s->shape,
		.numel = s->numel, .constant = s->constant, .kind = kind_of(s->dtype), .finite = s->finite,
		.sum = s->sum, .sumsq = s->sumsq, .min = s->min, .max = s->max,
		.sample_count = s->sample_count, .sample = s->sample, .component = component_of(s->name),
	};
	t->tail = tail_of(s->name);
	t->generic = generic_of(s->name);
	if (t->tail && t->generic)
		return t->tail;
	free(t->tail);
	free(t->generic);
	return t->tail = t->generic = NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct fp_tensor *)a)->name, ((const struct fp_tensor *)b)->name);
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
	m->file = file;
	if (!(m->name = stem(file)))
		return oom(h, ctx, file);
	const char *text;
	size_t len;
	if (h->input_load(ctx, file, &text, &len))
		return KV_ERR_INPUT;
	char msg[1024];
	if (kv_fp_parse(text, len, file, &m->fp, msg, sizeof msg))
		return h->error(ctx, "%s", msg);
	m->content_hash = kv_fp_hash_kinds[m->fp.version - 1].name;
	m->sample_size = m->fp.sample_size;
	m->complete = m->fp.complete;
	if (!(m->t = calloc(m->fp.count ? m->fp.count : 1, sizeof *m->t)))
		return oom(h, ctx, file);
	for (; m->count < m->fp.count; m->count++)
		if (!view(&m->fp.tensors[m->count], &m->t[m->count]))
			return oom(h, ctx, file);
	return 0;
}

void fp_free(struct fp_model *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->t[i].tail);
		free(m->t[i].generic);
	}
	free(m->t);
	free(m->name);
	kv_fp_free(&m->fp);
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

/* Helpers of the forensics tests (see test_forensics_util.h). */
#include "test_forensics_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

void syn_write_raw(const char *path, uint64_t declared, const char *header, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(declared >> (8 * i));
	fwrite(le, 1, 8, f);
	fwrite(header, 1, strlen(header), f);
	if (len)
		fwrite(data, 1, len, f);
	fclose(f);
}

void syn_write(const char *path, const struct syn_tensor *t, size_t n)
{
	struct kv_buf h = {0};
	size_t off = 0, total = 0;
	kv_buf_puts(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (size_t i = 0; i < n; i++) {
		kv_buf_printf(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name, t[i].dtype);
		for (size_t d = 0; d < t[i].rank; d++)
			kv_buf_printf(&h, "%s%llu", d ? "," : "", (unsigned long long)t[i].shape[d]);
		kv_buf_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + t[i].bytes);
		off += t[i].bytes;
	}
	kv_buf_puts(&h, "}");
	while (h.len % 8)
		kv_buf_puts(&h, " ");
	uint8_t *data = kv_xmalloc(off);
	for (size_t i = 0; i < n; i++) {
		if (t[i].bytes)
			memcpy(data + total, t[i].data, t[i].bytes);
		total += t[i].bytes;
	}
	syn_write_raw(path, h.len, h.data, data, off);
	free(data);
	kv_buf_free(&h);
}

uint16_t syn_bf16(float x)
{
	uint32_t b;
	memcpy(&b, &x, sizeof b);
	if ((b & 0x7f800000u) == 0x7f800000u)
		return (uint16_t)(b >> 16 | ((b & 0xffff) ? 0x40 : 0));
	b += 0x7fffu + ((b >> 16) & 1u);
	return (uint16_t)(b >> 16);
}

float syn_from_bf16(uint16_t h)
{
	uint32_t b = (uint32_t)h << 16;
	float x;
	memcpy(&x, &b, sizeof x);
	return x;
}

uint8_t *syn_bf16_bytes(const float *v, size_t n)
{
	uint8_t *out = kv_xmalloc(2 * n);
	for (size_t i = 0; i < n; i++) {
		uint16_t h = syn_bf16(v[i]);
		out[2 * i] = (uint8_t)h;
		out[2 * i + 1] = (uint8_t)(h >> 8);
	}
	return out;
}

double syn_uniform(struct syn_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (double)((r->s * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}

double syn_gauss(struct syn_rng *r)
{
	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	double u = syn_uniform(r), v = syn_uniform(r);
	double m = sqrt(-2 * log(u > 0 ? u : 1e-300));
	r->spare = m * sin(2 * M_PI * v);
	r->has_spare = 1;
	return m * cos(2 * M_PI * v);
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void syn_tree_hash(const uint8_t *p, size_t n, char hex[65])
{
	const size_t leaf = 16384;
	size_t leaves = (n + leaf - 1) / leaf, head = 22 + 16;
	uint8_t *buf = kv_xmalloc(head + 32 * leaves), d[32];
	memcpy(buf, "kaieval/sha256-tree/v1", 22);
	for (int i = 0; i < 8; i++) {
		buf[22 + i] = (uint8_t)((uint64_t)n >> (8 * i));
		buf[30 + i] = (uint8_t)((uint64_t)leaf >> (8 * i));
	}
	for (size_t i = 0; i < leaves; i++)
		sha256(p + i * leaf, i + 1 < leaves || n % leaf == 0 ? leaf : n % leaf, buf + head + 32 * i);
	sha256(buf, head + 32 * leaves, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	free(buf);
}

static void xxh128_hex(XXH128_hash_t h, char *hex)
{
	/* xxHash's canonical form: the high half first, each half big-endian. */
	snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

void syn_xxh128_tree(const uint8_t *p, size_t n, char hex[33])
{
	const size_t unit = 262144;
	if (n <= unit) {
		xxh128_hex(XXH3_128bits(p, n), hex);
		return;
	}
	XXH3_state_t st;
	uint8_t le[16];
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, "kaieval/xxh128-tree/v1", 22);
	for (int i = 0; i < 8; i++) {
		le[i] = (uint8_t)((uint64_t)n >> (8 * i));
		le[8 + i] = (uint8_t)((uint64_t)unit >> (8 * i));
	}
	XXH3_128bits_update(&st, le, 16);
	for (size_t at = 0; at < n; at += unit) {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits(p + at, n - at < unit ? n - at : unit));
		XXH3_128bits_update(&st, c.digest, sizeof c.digest);
	}
	xxh128_hex(XXH3_128bits_digest(&st), hex);
}

/* BLAKE3 as its specification's reference code computes it, written apart
 * from fingerprint/blake3.c (a different tree algorithm: chunks one after another
 * and a stack of subtree values merged by the chunk count's trailing zeros;
 * the message permuted after each round).  Checked against the published
 * vectors in test_forensics.c before it is used as an oracle. */
static const uint32_t b3_iv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
				  0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
static const int b3_perm[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};

static uint32_t b3_rot(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void b3_g(uint32_t *s, int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	s[a] = s[a] + s[b] + x;
	s[d] = b3_rot(s[d] ^ s[a], 16);
	s[c] = s[c] + s[d];
	s[b] = b3_rot(s[b] ^ s[c], 12);
	s[a] = s[a] + s[b] + y;
	s[d] = b3_rot(s[d] ^ s[a], 8);
	s[c] = s[c] + s[d];
	s[b] = b3_rot(s[b] ^ s[c], 7);
}

static void b3_compress(uint32_t cv[8], const uint32_t block[16], uint64_t counter, uint32_t len, uint32_t flags)
{
	uint32_t s[16], m[16], t[16];
	memcpy(m, block, sizeof m);
	for (int i = 0; i < 8; i++)
		s[i] = cv[i];
	for (int i = 0; i < 4; i++)
		s[8 + i] = b3_iv[i];
	s[12] = (uint32_t)counter, s[13] = (uint32_t)(counter >> 32), s[14] = len, s[15] = flags;
	for (int r = 0; r < 7; r++) {
		b3_g(s, 0, 4, 8, 12, m[0], m[1]);
		b3_g(s, 1, 5, 9, 13, m[2], m[3]);
		b3_g(s, 2, 6, 10, 14, m[4], m[5]);
		b3_g(s, 3, 7, 11, 15, m[6], m[7]);
		b3_g(s, 0, 5, 10, 15, m[8], m[9]);
		b3_g(s, 1, 6, 11, 12, m[10], m[11]);
		b3_g(s, 2, 7, 8, 13, m[12], m[13]);
		b3_g(s, 3, 4, 9, 14, m[14], m[15]);
		for (int i = 0; i < 16; i++)
			t[i] = m[b3_perm[i]];
		memcpy(m, t, sizeof m);
	}
	for (int i = 0; i < 8; i++)
		cv[i] = s[i] ^ s[i + 8];
}

static void b3_words(const uint8_t *p, size_t n, uint32_t w[16])
{
	uint8_t b[64] = {0};
	if (n)
		memcpy(b, p, n);
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
}

/* Chunk `index` (n <= 1024 bytes): its value, the last block's flags | last. */
static void b3_chunk(const uint8_t *p, size_t n, uint64_t index, uint32_t last, uint32_t cv[8])
{
	uint32_t w[16];
	memcpy(cv, b3_iv, 32);
	size_t at = 0;
	do {
		size_t len = n - at > 64 ? 64 : n - at;
		b3_words(p + at, len, w);
		uint32_t flags = (at == 0 ? 1u : 0u) | (at + len == n ? 2u | last : 0u);
		b3_compress(cv, w, index, (uint32_t)len, flags);
		at += len;
	} while (at < n);
}

static void b3_parent(const uint32_t l[8], const uint32_t r[8], uint32_t flags, uint32_t out[8])
{
	uint32_t w[16];
	memcpy(w, l, 32);
	memcpy(w + 8, r, 32);
	memcpy(out, b3_iv, 32);
	b3_compress(out, w, 0, 64, 4u | flags);
}

void syn_blake3(const uint8_t *p, size_t n, char hex[65])
{
	uint32_t stack[64][8], cv[8];
	size_t depth = 0, chunks = n ? (n + 1023) / 1024 : 1;
	for (uint64_t c = 0; c < chunks; c++) {
		size_t len = n - 1024 * c > 1024 ? 1024 : n - 1024 * c;
		if (c + 1 == chunks)
			break;
		b3_chunk(p + 1024 * c, len, c, 0, cv);
		/* a completed subtree for each trailing zero of the new count */
		for (uint64_t total = c + 1; (total & 1) == 0; total >>= 1)
			b3_parent(stack[--depth], cv, 0, cv);
		memcpy(stack[depth++], cv, 32);
	}
	uint64_t last = chunks - 1;
	b3_chunk(p + 1024 * last, n - 1024 * last, last, depth ? 0 : 8u, cv);
	while (depth)
		b3_parent(stack[depth - 1], cv, depth == 1 ? 8u : 0u, cv), depth--;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", (cv[i / 4] >> (8 * (i % 4))) & 0xff);
}

double syn_pearson(const float *a, const float *b, size_t n)
{
	long double ma = 0, mb = 0, xy = 0, xx = 0, yy = 0;
	for (size_t i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= n;
	mb /= n;
	for (size_t i = 0; i < n; i++) {
		xy += (a[i] - ma) * (b[i] - mb);
		xx += (a[i] - ma) * (a[i] - ma);
		yy += (b[i] - mb) * (b[i] - mb);
	}
	return (double)(xy / sqrtl(xx * yy));
}

int syn_kaieval(char **err, ...)
{
	const char *args[32] = {"fingerprint"};
	size_t n = 1;
	va_list ap;
	va_start(ap, err);
	for (const char *a; n < 31 && (a = va_arg(ap, const char *));)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return kvt_exec(args, NULL, err);
}

/* ---- the license gate's outcome, for the tests that judge fingerprints ---- */

#define LIC_MANIFEST "{\"model\": {\"name\": \"M\", \"license\": \"MIT\"}, \"components\": [{\"name\": " \
		     "\"backbone\", \"role\": \"text-backbone\", \"origin\": \"own\", \"init\": \"scratch\", " \
		     "\"frozen\": false, \"license\": \"MIT\"}], \"attributions\": []}\n"

void syn_lic_round(const char *dir, const char *teams, const char *extra)
{
	struct kv_buf b = {0};
	kv_buf_puts(&b, "round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 1L;\n teams = (");
	char *copy = kv_xstrdup(teams), *save = NULL;
	const char *sep = "";
	for (char *id = strtok_r(copy, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		kv_buf_printf(&b, "%s { id = \"%s\"; name = \"%s\"; model = \"m\"; }", sep, id, id);
		char *rel = kv_xasprintf("d/m/%s.json", id);
		kvt_write(dir, rel, LIC_MANIFEST);
		free(rel);
		sep = ",";
	}
	kv_buf_printf(&b, " );\n criteria = ( { id = \"lic\"; plugin = \"license\"; kind = \"gate\";\n"
		      "   params = { manifest = \"m/{team}.json\"; allowed_licenses = [\"MIT\"]; fingerprints = \"fp\"; %s }; } );\n"
		      " selection = { eliminate_lowest = 0; }; };\n", extra);
	kvt_write(dir, "r.cfg", b.data);
	kv_buf_free(&b);
	free(copy);
}

int syn_lic_passes(const struct kv_run *run, const char *team)
{
	const struct kv_team_outcome *o = kv_run_outcome(run, "lic", team);
	cr_assert(o && o->has_pass, "no verdict for %s", team);
	return o->pass;
}

const char *syn_lic_finding(const struct kv_run *run, const char *team, const char *prefix)
{
	for (int i = 1; i < 40; i++) {
		char key[32];
		snprintf(key, sizeof key, "finding.%d", i);
		const char *s = kvt_evidence_str(run, "lic", team, key);
		if (s && strncmp(s, prefix, strlen(prefix)) == 0)
			return s;
	}
	return NULL;
}

double syn_lic_num(const struct kv_run *run, const char *team, const char *key)
{
	return kvt_evidence_num(run, "lic", team, key);
}

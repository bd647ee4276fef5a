/* Helpers of the forensics tests (see test_forensics_util.h). */
#include "test_forensics_util.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

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

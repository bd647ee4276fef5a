/* The tensor content hash: a SHA-256 tree (definition in treehash.h), with a
 * 16-lane AVX-512 SHA-256 for whole leaves and OpenSSL for everything else. */
#include "treehash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "transpose16.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KV_TH_X86 1
#endif

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t sha_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* OpenSSL 3 looks an algorithm up on every implicit use: fetch it once.
 * Each thread keeps one digest context (freed when it ends), so hashing a
 * leaf allocates nothing: cheaper, and nothing is lost when a scan leaves
 * a hash midway (tensorscan.c, a file that shrank under its mapping). */
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void free_ctx(void *ctx) { EVP_MD_CTX_free(ctx); }

static void fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_key_create(&ctx_key, free_ctx);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}

static EVP_MD_CTX *thread_ctx(void)
{
	EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
	if (!ctx && (ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx) != 0) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int kv_sha256(const void *data, size_t n, uint8_t out[32])
{
	const EVP_MD *md = sha256();
	EVP_MD_CTX *ctx = thread_ctx();
	unsigned int len = 0;
	return ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, data, n) &&
	       EVP_DigestFinal_ex(ctx, out, &len) && len == 32 ? 0 : -1;
}

#ifdef KV_TH_X86
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/* The 16 message words of block b of each lane, big-endian, one register per word. */
TARGET_AVX512 static inline void load_words(__m512i w[16], const uint8_t *base, size_t stride, size_t b)
{
	const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
	for (int l = 0; l < 16; l++)
		w[l] = _mm512_loadu_si512((const void *)(base + l * stride + 64 * b));
	kv_transpose16(w);
	for (int l = 0; l < 16; l++)
		w[l] = _mm512_shuffle_epi8(w[l], bswap);
}

/* sigma0/sigma1 of the message schedule, Sigma0/Sigma1 of the rounds:
 * three rotations (or shifts) folded by one three-way XOR (ternlog 0x96). */
#define XOR3(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0x96)
#define SIG0(x) XOR3(_mm512_ror_epi32((x), 7), _mm512_ror_epi32((x), 18), _mm512_srli_epi32((x), 3))
#define SIG1(x) XOR3(_mm512_ror_epi32((x), 17), _mm512_ror_epi32((x), 19), _mm512_srli_epi32((x), 10))
#define BSIG0(x) XOR3(_mm512_ror_epi32((x), 2), _mm512_ror_epi32((x), 13), _mm512_ror_epi32((x), 22))
#define BSIG1(x) XOR3(_mm512_ror_epi32((x), 6), _mm512_ror_epi32((x), 11), _mm512_ror_epi32((x), 25))

/* FIPS 180-4 SHA-256 compression of nblocks blocks in 16 lanes: lane l reads
 * base + l * stride.  The loop is unrolled so the schedule stays in registers. */
TARGET_AVX512 static void mb16_blocks(__m512i s[8], const uint8_t *base, size_t stride, size_t nblocks)
{
	for (size_t b = 0; b < nblocks; b++) {
		__m512i w[16];
		load_words(w, base, stride, b);
		__m512i a = s[0], bb = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
		for (int t = 0; t < 64; t++) {
			if (t >= 16)
				w[t & 15] = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], SIG0(w[(t - 15) & 15])),
							     _mm512_add_epi32(w[(t - 7) & 15], SIG1(w[(t - 2) & 15])));
			__m512i kw = _mm512_add_epi32(w[t & 15], _mm512_set1_epi32((int)sha_k[t]));
			__m512i ch = _mm512_ternarylogic_epi32(e, f, g, 0xca);
			__m512i t1 = _mm512_add_epi32(_mm512_add_epi32(h, BSIG1(e)), _mm512_add_epi32(ch, kw));
			__m512i t2 = _mm512_add_epi32(BSIG0(a), _mm512_ternarylogic_epi32(a, bb, c, 0xe8));
			h = g;
			g = f;
			f = e;
			e = _mm512_add_epi32(d, t1);
			d = c;
			c = bb;
			bb = a;
			a = _mm512_add_epi32(t1, t2);
		}
		s[0] = _mm512_add_epi32(s[0], a);
		s[1] = _mm512_add_epi32(s[1], bb);
		s[2] = _mm512_add_epi32(s[2], c);
		s[3] = _mm512_add_epi32(s[3], d);
		s[4] = _mm512_add_epi32(s[4], e);
		s[5] = _mm512_add_epi32(s[5], f);
		s[6] = _mm512_add_epi32(s[6], g);
		s[7] = _mm512_add_epi32(s[7], h);
	}
}

/* SHA-256 of 16 whole leaves at p, p + L, ...: every lane has the same
 * length, so they share the final padding block. */
TARGET_AVX512 static void mb16_leaves(const uint8_t *p, uint8_t *out)
{
	static const uint64_t bits = (uint64_t)KV_TH_LEAF * 8;
	uint8_t pad[64] = {0x80};
	for (int i = 0; i < 8; i++)
		pad[63 - i] = (uint8_t)(bits >> (8 * i));
	__m512i s[8];
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_set1_epi32((int)sha_h0[i]);
	mb16_blocks(s, p, KV_TH_LEAF, KV_TH_LEAF / 64);
	mb16_blocks(s, pad, 0, 1);
	uint32_t words[8][16];
	for (int i = 0; i < 8; i++)
		_mm512_storeu_si512((void *)words[i], s[i]);
	for (int l = 0; l < 16; l++)
		for (int i = 0; i < 8; i++)
			for (int k = 0; k < 4; k++)
				out[32 * l + 4 * i + k] = (uint8_t)(words[i][l] >> (24 - 8 * k));
}
#endif

int kv_th_leaves(enum kv_simd level, const uint8_t *p, size_t count, uint8_t *out)
{
	size_t i = 0;
#ifdef KV_TH_X86
	if (level >= KV_SIMD_AVX512)
		for (; i + KV_TH_LANES <= count; i += KV_TH_LANES)
			mb16_leaves(p + i * KV_TH_LEAF, out + 32 * i);
#else
	(void)level;
#endif
	for (; i < count; i++)
		if (kv_sha256(p + i * KV_TH_LEAF, KV_TH_LEAF, out + 32 * i))
			return -1;
	return 0;
}

int kv_th_root(uint64_t bytes, const uint8_t *digests, size_t count, uint8_t out[32])
{
	static const char label[] = "kaieval/sha256-tree/v1";
	uint8_t sizes[16];
	for (int i = 0; i < 8; i++) {
		sizes[i] = (uint8_t)(bytes >> (8 * i));
		sizes[8 + i] = (uint8_t)((uint64_t)KV_TH_LEAF >> (8 * i));
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, sha256(), NULL) &&
		EVP_DigestUpdate(ctx, label, sizeof label - 1) && EVP_DigestUpdate(ctx, sizes, sizeof sizes) &&
		(!count || EVP_DigestUpdate(ctx, digests, 32 * count)) && EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	return ok && len == 32 ? 0 : -1;
}

int kv_th_hash(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[32])
{
	size_t whole = n / KV_TH_LEAF, count = whole + (n % KV_TH_LEAF != 0);
	uint8_t *d = malloc(32 * (count ? count : 1));
	int rc = d ? kv_th_leaves(level, p, whole, d) : -1;
	if (!rc && count > whole)
		rc = kv_sha256(p + whole * KV_TH_LEAF, n % KV_TH_LEAF, d + 32 * whole);
	if (!rc)
		rc = kv_th_root(n, d, count, out);
	free(d);
	return rc;
}

/* Ballot fingerprints: keyed SipHash-1-3 with 128-bit output.
 *
 * SipHash (Aumasson & Bernstein; the -1-3 variant is what Python and Rust
 * use for their hash tables) is a PRF, so for distinct keys a shared
 * fingerprint has probability about n^2/2^129 (below 1e-24 for 10^7
 * ballots) whatever the ids look like.  The key comes from the round's
 * generator; the judge id and the question id enter as text, the pair as
 * an index, so the fingerprint and the first-come rule depend on the file
 * alone.
 *
 * A ballot key is written once as the words SipHash reads (votes_key_write)
 * and fingerprinted a batch at a time: on AVX-512, eight keys at once, one
 * per 64-bit lane.  A scalar SipHash is bound by its chain of dependent
 * operations (about 130 cycles a key, 0.4 s at 10^7 battles); eight lanes
 * go through the same chain together.  Both give the same bits, since they
 * are the same function (tests/test_votes_bt.c checks it). */
#include "votes.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VOTES_AVX512 1
#endif

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
	} while (0)

#define SIP_C0 0x736f6d6570736575ULL
#define SIP_C1 0x646f72616e646f6dULL
#define SIP_C2 0x6c7967656e657261ULL
#define SIP_C3 0x7465646279746573ULL

/* A message of len bytes takes len / 8 + 1 words: its bytes, zero padding,
 * and the length in the top byte of the last word (SipHash's final block).
 * Words are little-endian numbers.  Clear the last word before the bytes
 * go in, then finish. */
static size_t layout_begin(uint64_t *words, size_t len)
{
	size_t n = len / 8 + 1;
	words[n - 1] = 0;
	return n;
}

static void layout_end(uint64_t *words, size_t len, size_t n)
{
	((unsigned char *)words)[8 * n - 1] = (unsigned char)len;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t i = 0; i < n; i++)
		words[i] = __builtin_bswap64(words[i]);
#endif
}

/* SipHash-c-d, 128-bit output, of a message laid out in n words. */
static void sip_words(uint64_t k0, uint64_t k1, int c, int d, const uint64_t *m, size_t n, uint64_t out[2])
{
	uint64_t v0 = k0 ^ SIP_C0, v1 = k1 ^ SIP_C1 ^ 0xee, v2 = k0 ^ SIP_C2, v3 = k1 ^ SIP_C3;
	for (size_t i = 0; i < n; i++) {
		v3 ^= m[i];
		for (int r = 0; r < c; r++)
			SIPROUND;
		v0 ^= m[i];
	}
	v2 ^= 0xee;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

void votes_siphash128(uint64_t k0, uint64_t k1, int c, int d, const void *msg, size_t len, uint64_t out[2])
{
	uint64_t small[33], *words = len / 8 + 1 <= 33 ? small : malloc((len / 8 + 1) * sizeof *words);
	if (!words) {
		out[0] = out[1] = 0;
		return;
	}
	size_t n = layout_begin(words, len);
	if (len)
		memcpy(words, msg, len);
	layout_end(words, len, n);
	sip_words(k0, k1, c, d, words, n, out);
	if (words != small)
		free(words);
}

size_t votes_key_words(size_t judge_len, size_t question_len)
{
	return (8 + judge_len + question_len) / 8 + 1;
}

/* The ballot key: (length of the judge id, pair) as 8 bytes, the judge id,
 * the question id; the length makes the split between the two ids exact. */
void votes_key_write(uint64_t *words, uint32_t pair, const char *judge, size_t judge_len, const char *question,
		     size_t question_len)
{
	size_t len = 8 + judge_len + question_len, n = layout_begin(words, len);
	unsigned char *b = (unsigned char *)words;
	uint64_t head = (uint64_t)pair << 32 | (uint32_t)judge_len;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(head >> (8 * i));
	memcpy(b + 8, judge, judge_len);
	if (question_len)
		memcpy(b + 8 + judge_len, question, question_len);
	layout_end(words, len, n);
}

static struct votes_fp fp_of(const uint64_t h[2])
{
	struct votes_fp fp = {h[0], h[1]};
	if (!fp.h0 && !fp.h1) /* all-zero marks an empty slot */
		fp.h1 = 1;
	return fp;
}

#ifdef VOTES_AVX512
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vl")))

#define SIPROUND8                                                                            \
	do {                                                                                 \
		a0 = _mm512_add_epi64(a0, a1); a1 = _mm512_rol_epi64(a1, 13);                \
		a1 = _mm512_xor_si512(a1, a0); a0 = _mm512_rol_epi64(a0, 32);                \
		a2 = _mm512_add_epi64(a2, a3); a3 = _mm512_rol_epi64(a3, 16);                \
		a3 = _mm512_xor_si512(a3, a2);                                               \
		a0 = _mm512_add_epi64(a0, a3); a3 = _mm512_rol_epi64(a3, 21);                \
		a3 = _mm512_xor_si512(a3, a0);                                               \
		a2 = _mm512_add_epi64(a2, a1); a1 = _mm512_rol_epi64(a1, 17);                \
		a1 = _mm512_xor_si512(a1, a2); a2 = _mm512_rol_epi64(a2, 32);                \
	} while (0)

/* Rows r[j] (8 words of key j) to columns r[w] (word w of keys 0..7). */
TARGET_AVX512 static void transpose8(__m512i r[8])
{
	__m512i a[8], b[8];
	for (int j = 0; j < 8; j += 2) {
		a[j] = _mm512_unpacklo_epi64(r[j], r[j + 1]);     /* words 0 2 4 6 of keys j, j+1 */
		a[j + 1] = _mm512_unpackhi_epi64(r[j], r[j + 1]); /* words 1 3 5 7 */
	}
	for (int h = 0; h < 8; h += 4)
		for (int o = 0; o < 2; o++) { /* 128-bit lanes of 4 keys: words (o, o+4) and (o+2, o+6) */
			b[h + 2 * o] = _mm512_shuffle_i64x2(a[h + o], a[h + o + 2], 0x88);
			b[h + 2 * o + 1] = _mm512_shuffle_i64x2(a[h + o], a[h + o + 2], 0xdd);
		}
	/* b[0]: words 0|4 of keys 0-3, b[1]: 2|6, b[2]: 1|5, b[3]: 3|7; b[4..7] keys 4-7 */
	static const int word_lo[4] = {0, 2, 1, 3};
	for (int q = 0; q < 4; q++) {
		r[word_lo[q]] = _mm512_shuffle_i64x2(b[q], b[q + 4], 0x88);
		r[word_lo[q] + 4] = _mm512_shuffle_i64x2(b[q], b[q + 4], 0xdd);
	}
}

/* Keys 0..7, one per lane, read 8 words at a time (masked loads, then a
 * transpose); a lane keeps its state once its key has no words left. */
TARGET_AVX512 static void sip13_x8(uint64_t k0, uint64_t k1, const uint64_t *words, const size_t *off,
				   const size_t *nwords, struct votes_fp *out)
{
	__m512i nw = _mm512_loadu_si512((const void *)nwords);
	__m512i a0 = _mm512_set1_epi64((long long)(k0 ^ SIP_C0));
	__m512i a1 = _mm512_set1_epi64((long long)(k1 ^ SIP_C1 ^ 0xee));
	__m512i a2 = _mm512_set1_epi64((long long)(k0 ^ SIP_C2));
	__m512i a3 = _mm512_set1_epi64((long long)(k1 ^ SIP_C3));
	size_t most = _mm512_reduce_max_epu64(nw);
	for (size_t base = 0; base < most; base += 8) {
		__m512i col[8];
		for (int j = 0; j < 8; j++) {
			size_t left = nwords[j] > base ? nwords[j] - base : 0;
			__mmask8 k = left >= 8 ? 0xff : (__mmask8)((1u << left) - 1);
			col[j] = _mm512_maskz_loadu_epi64(k, left ? words + off[j] + base : words);
		}
		transpose8(col);
		for (size_t w = 0; w < 8 && base + w < most; w++) {
			__mmask8 live = _mm512_cmplt_epu64_mask(_mm512_set1_epi64((long long)(base + w)), nw);
			__m512i m = col[w], v0 = a0, v1 = a1, v2 = a2, v3 = a3;
			a3 = _mm512_xor_si512(a3, m);
			SIPROUND8;
			a0 = _mm512_xor_si512(a0, m);
			a0 = _mm512_mask_mov_epi64(v0, live, a0);
			a1 = _mm512_mask_mov_epi64(v1, live, a1);
			a2 = _mm512_mask_mov_epi64(v2, live, a2);
			a3 = _mm512_mask_mov_epi64(v3, live, a3);
		}
	}
	uint64_t h0[8], h1[8];
	a2 = _mm512_xor_si512(a2, _mm512_set1_epi64(0xee));
	for (int r = 0; r < 3; r++)
		SIPROUND8;
	_mm512_storeu_si512((void *)h0, _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3)));
	a1 = _mm512_xor_si512(a1, _mm512_set1_epi64(0xdd));
	for (int r = 0; r < 3; r++)
		SIPROUND8;
	_mm512_storeu_si512((void *)h1, _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3)));
	for (int j = 0; j < 8; j++)
		out[j] = fp_of((const uint64_t[2]){h0[j], h1[j]});
}
#endif

void votes_fingerprint_keys(const uint64_t key[2], const uint64_t *words, const size_t *off, const size_t *nwords,
			    size_t n, struct votes_fp *out)
{
	size_t i = 0;
#ifdef VOTES_AVX512
	if (n >= 8 && kv_simd_detect() == KV_SIMD_AVX512)
		for (; i + 8 <= n; i += 8)
			sip13_x8(key[0], key[1], words, off + i, nwords + i, out + i);
#endif
	for (; i < n; i++) {
		uint64_t h[2];
		sip_words(key[0], key[1], 1, 3, words + off[i], nwords[i], h);
		out[i] = fp_of(h);
	}
}

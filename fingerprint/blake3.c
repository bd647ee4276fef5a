/* BLAKE3 (see blake3.h): a portable compression function, a 16-lane AVX-512
 * one and an 8-lane AVX2 one for many chunks or parents at once, and the
 * tree over them. */
#include "blake3.h"

#include <stdlib.h>
#include <string.h>

#include "transpose16.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KV_B3_X86 1
#endif

enum { CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };

#define CHUNKS_PER_PIECE (KV_B3_PIECE / KV_B3_CHUNK)

static const uint32_t iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* Message word order of each of the 7 rounds (the permutation applied 0..6 times). */
static const uint8_t schedule[7][16] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
	{3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
	{10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
	{12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
	{9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
	{11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32(uint8_t *p, uint32_t w)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(w >> (8 * i));
}

static uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }

/* The G function and a round on a state v[16] and message m[16] of any
 * element type: ADD(a, b) and ROR_XOR(a, b, n) = (a ^ b) rotated right by n.
 * Every index is spelled out as a constant so that v stays in registers. */
#define G(ADD, ROR_XOR, a, b, c, d, mx, my)                             \
	do {                                                            \
		v[a] = ADD(ADD(v[a], v[b]), mx);                        \
		v[d] = ROR_XOR(v[d], v[a], 16);                         \
		v[c] = ADD(v[c], v[d]);                                 \
		v[b] = ROR_XOR(v[b], v[c], 12);                         \
		v[a] = ADD(ADD(v[a], v[b]), my);                        \
		v[d] = ROR_XOR(v[d], v[a], 8);                          \
		v[c] = ADD(v[c], v[d]);                                 \
		v[b] = ROR_XOR(v[b], v[c], 7);                          \
	} while (0)
#define M(r, i) m[schedule[r][i]]
#define ROUND(ADD, ROR_XOR, r)                                          \
	do {                                                            \
		G(ADD, ROR_XOR, 0, 4, 8, 12, M(r, 0), M(r, 1));         \
		G(ADD, ROR_XOR, 1, 5, 9, 13, M(r, 2), M(r, 3));         \
		G(ADD, ROR_XOR, 2, 6, 10, 14, M(r, 4), M(r, 5));        \
		G(ADD, ROR_XOR, 3, 7, 11, 15, M(r, 6), M(r, 7));        \
		G(ADD, ROR_XOR, 0, 5, 10, 15, M(r, 8), M(r, 9));        \
		G(ADD, ROR_XOR, 1, 6, 11, 12, M(r, 10), M(r, 11));      \
		G(ADD, ROR_XOR, 2, 7, 8, 13, M(r, 12), M(r, 13));       \
		G(ADD, ROR_XOR, 3, 4, 9, 14, M(r, 14), M(r, 15));       \
	} while (0)
#define ROUNDS(ADD, ROR_XOR)                                            \
	do {                                                            \
		ROUND(ADD, ROR_XOR, 0);                                 \
		ROUND(ADD, ROR_XOR, 1);                                 \
		ROUND(ADD, ROR_XOR, 2);                                 \
		ROUND(ADD, ROR_XOR, 3);                                 \
		ROUND(ADD, ROR_XOR, 4);                                 \
		ROUND(ADD, ROR_XOR, 5);                                 \
		ROUND(ADD, ROR_XOR, 6);                                 \
	} while (0)

/* ---- portable ------------------------------------------------------------ */

#define ADD32(a, b) ((a) + (b))
#define ROR_XOR32(a, b, n) rotr((a) ^ (b), (n))

/* cv = the first half of compress(cv, block, counter, len, flags). */
static void compress(uint32_t cv[8], const uint8_t block[64], uint64_t counter, uint32_t len, uint32_t flags)
{
	uint32_t m[16], v[16];
	for (int i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	memcpy(v, cv, 32);
	memcpy(v + 8, iv, 16);
	v[12] = (uint32_t)counter;
	v[13] = (uint32_t)(counter >> 32);
	v[14] = len;
	v[15] = flags;
	ROUNDS(ADD32, ROR_XOR32);
	for (int i = 0; i < 8; i++)
		cv[i] = v[i] ^ v[i + 8];
}

static void cv_bytes(const uint32_t cv[8], uint8_t out[32])
{
	for (int i = 0; i < 8; i++)
		store32(out + 4 * i, cv[i]);
}

/* Chunk number `counter`: n <= 1024 bytes (0 only for an empty input). */
static void chunk_cv(const uint8_t *p, size_t n, uint64_t counter, uint32_t last_flags, uint8_t out[32])
{
	uint32_t cv[8];
	size_t blocks = n ? (n + 63) / 64 : 1;
	memcpy(cv, iv, sizeof cv);
	for (size_t b = 0; b < blocks; b++) {
		uint8_t block[64] = {0};
		size_t len = n - 64 * b < 64 ? n - 64 * b : 64;
		if (len)
			memcpy(block, p + 64 * b, len);
		uint32_t flags = (b == 0 ? CHUNK_START : 0) | (b + 1 == blocks ? CHUNK_END | last_flags : 0);
		compress(cv, block, counter, (uint32_t)len, flags);
	}
	cv_bytes(cv, out);
}

/* The parent of two chaining values, 64 bytes at p. */
static void parent_cv(const uint8_t *p, uint32_t extra, uint8_t out[32])
{
	uint32_t cv[8];
	memcpy(cv, iv, sizeof cv);
	compress(cv, p, 0, 64, PARENT | extra);
	cv_bytes(cv, out);
}

/* ---- 16 lanes (and what the 8-lane kernel shares) ------------------------ */

#ifdef KV_B3_X86
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline))

/* The block counters of `lanes` inputs: chunks counter, counter + 1, ...
 * (step 1) or all the same (step 0, parents). */
INLINE void lane_counters(uint64_t counter, int step, int lanes, uint32_t *lo, uint32_t *hi)
{
#pragma GCC unroll 16
	for (int l = 0; l < lanes; l++) {
		uint64_t c = counter + (step ? (uint64_t)l : 0);
		lo[l] = (uint32_t)c;
		hi[l] = (uint32_t)(c >> 32);
	}
}

/* (Inlined and unrolled: a loop here costs the AVX-512 kernel 10-15%.)
 * Lane l's chaining value from words[i * lanes + l], i < 8, to out + 32 * l. */
INLINE void store_lanes(const uint32_t *words, int lanes, uint8_t *out)
{
#pragma GCC unroll 16
	for (int l = 0; l < lanes; l++)
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			store32(out + 32 * l + 4 * i, words[i * lanes + l]);
}

#define ADD16(a, b) _mm512_add_epi32((a), (b))
#define ROR_XOR16(a, b, n) _mm512_ror_epi32(_mm512_xor_si512((a), (b)), (n))

/* One block in each of 16 lanes: h = first half of compress(h, m, ...). */
TARGET_AVX512 INLINE void compress16(__m512i h[8], const __m512i m[16], __m512i counter_lo, __m512i counter_hi,
				     uint32_t flags)
{
	__m512i v[16];
#pragma GCC unroll 16
	for (int i = 0; i < 8; i++)
		v[i] = h[i];
#pragma GCC unroll 16
	for (int i = 0; i < 4; i++)
		v[8 + i] = _mm512_set1_epi32((int)iv[i]);
	v[12] = counter_lo;
	v[13] = counter_hi;
	v[14] = _mm512_set1_epi32(64);
	v[15] = _mm512_set1_epi32((int)flags);
	ROUNDS(ADD16, ROR_XOR16);
#pragma GCC unroll 16
	for (int i = 0; i < 8; i++)
		h[i] = _mm512_xor_si512(v[i], v[i + 8]);
}

/* 16 inputs of `blocks` whole blocks each, lane l at base + l * stride: the
 * chunks counter, counter + 1, ... (step 1) or 16 parents (step 0, blocks 1).
 * flags go to every block, first/last besides to the first/last one. */
TARGET_AVX512 static void hash16(const uint8_t *base, size_t stride, size_t blocks, uint64_t counter, int step,
				 uint32_t flags, uint32_t first, uint32_t last, uint8_t *out)
{
	uint32_t lo[16], hi[16], words[8][16];
	lane_counters(counter, step, 16, lo, hi);
	__m512i h[8], clo = _mm512_loadu_si512((const void *)lo), chi = _mm512_loadu_si512((const void *)hi);
#pragma GCC unroll 16
	for (int i = 0; i < 8; i++)
		h[i] = _mm512_set1_epi32((int)iv[i]);
	for (size_t b = 0; b < blocks; b++) {
		__m512i m[16];
#pragma GCC unroll 16
		for (int l = 0; l < 16; l++)
			m[l] = _mm512_loadu_si512((const void *)(base + l * stride + 64 * b));
		/* 16 streams 1 KiB apart are more than the hardware prefetcher
		 * follows well from RAM: ask for each lane's block 8 ahead. */
		if (b + 8 < blocks)
#pragma GCC unroll 16
			for (int l = 0; l < 16; l++)
				_mm_prefetch((const char *)(base + l * stride + 64 * (b + 8)), _MM_HINT_T0);
		kv_transpose16(m);
		compress16(h, m, clo, chi, flags | (b == 0 ? first : 0) | (b + 1 == blocks ? last : 0));
	}
#pragma GCC unroll 16
	for (int i = 0; i < 8; i++)
		_mm512_storeu_si512((void *)words[i], h[i]);
	store_lanes(&words[0][0], 16, out);
}
#endif

/* ---- 8 lanes ------------------------------------------------------------- */

/* The same kernel for CPUs with AVX2 but not AVX-512: without those, the
 * portable code would run BLAKE3 several times slower than SHA-NI runs the
 * SHA-256 tree of version 1. */
#ifdef KV_B3_X86
#define TARGET_AVX2 __attribute__((target("avx2")))

/* x rotated right by n (16 and 8: a byte shuffle, cheaper than two shifts). */
TARGET_AVX2 INLINE __m256i ror8(__m256i x, int n)
{
	if (n == 16)
		return _mm256_shuffle_epi8(x, _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
							      13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
	if (n == 8)
		return _mm256_shuffle_epi8(x, _mm256_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1,
							      12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
	return _mm256_or_si256(_mm256_srli_epi32(x, n), _mm256_slli_epi32(x, 32 - n));
}

#define ADD8(a, b) _mm256_add_epi32((a), (b))
#define ROR_XOR8(a, b, n) ror8(_mm256_xor_si256((a), (b)), (n))

/* An 8 x 8 transpose of 32-bit words: row l holds 8 words of lane l;
 * afterwards row t holds word t of every lane. */
TARGET_AVX2 INLINE void transpose8(__m256i r[8])
{
	__m256i t[8], u[8];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
		t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
	}
#pragma GCC unroll 8
	for (int i = 0; i < 8; i += 4) {
		u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
		u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
		u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
		u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
#pragma GCC unroll 8
	for (int i = 0; i < 4; i++) {
		r[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
		r[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
	}
}

TARGET_AVX2 INLINE void compress8(__m256i h[8], const __m256i m[16], __m256i counter_lo, __m256i counter_hi,
				  uint32_t flags)
{
	__m256i v[16];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		v[i] = h[i];
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		v[8 + i] = _mm256_set1_epi32((int)iv[i]);
	v[12] = counter_lo;
	v[13] = counter_hi;
	v[14] = _mm256_set1_epi32(64);
	v[15] = _mm256_set1_epi32((int)flags);
	ROUNDS(ADD8, ROR_XOR8);
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		h[i] = _mm256_xor_si256(v[i], v[i + 8]);
}

/* hash16 with 8 lanes. */
TARGET_AVX2 static void hash8(const uint8_t *base, size_t stride, size_t blocks, uint64_t counter, int step,
			      uint32_t flags, uint32_t first, uint32_t last, uint8_t *out)
{
	uint32_t lo[8], hi[8], words[8][8];
	lane_counters(counter, step, 8, lo, hi);
	__m256i h[8], clo = _mm256_loadu_si256((const void *)lo), chi = _mm256_loadu_si256((const void *)hi);
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		h[i] = _mm256_set1_epi32((int)iv[i]);
	for (size_t b = 0; b < blocks; b++) {
		__m256i m[16];
#pragma GCC unroll 8
		for (int l = 0; l < 8; l++) {
			m[l] = _mm256_loadu_si256((const void *)(base + l * stride + 64 * b));
			m[8 + l] = _mm256_loadu_si256((const void *)(base + l * stride + 64 * b + 32));
		}
		if (b + 8 < blocks)
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				_mm_prefetch((const char *)(base + l * stride + 64 * (b + 8)), _MM_HINT_T0);
		transpose8(m);
		transpose8(m + 8);
		compress8(h, m, clo, chi, flags | (b == 0 ? first : 0) | (b + 1 == blocks ? last : 0));
	}
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		_mm256_storeu_si256((void *)words[i], h[i]);
	store_lanes(&words[0][0], 8, out);
}
#endif

/* ---- the tree ---------------------------------------------------------- */

/* Chaining values of the count whole chunks at p, numbered from counter. */
static void chunks_cv(enum kv_simd level, const uint8_t *p, size_t count, uint64_t counter, uint8_t *out)
{
	size_t i = 0;
#ifdef KV_B3_X86
	if (level >= KV_SIMD_AVX512)
		for (; i + 16 <= count; i += 16)
			hash16(p + i * KV_B3_CHUNK, KV_B3_CHUNK, KV_B3_CHUNK / 64, counter + i, 1, 0, CHUNK_START,
			       CHUNK_END, out + 32 * i);
	if (level >= KV_SIMD_AVX2)
		for (; i + 8 <= count; i += 8)
			hash8(p + i * KV_B3_CHUNK, KV_B3_CHUNK, KV_B3_CHUNK / 64, counter + i, 1, 0, CHUNK_START,
			      CHUNK_END, out + 32 * i);
#else
	(void)level;
#endif
	for (; i < count; i++)
		chunk_cv(p + i * KV_B3_CHUNK, KV_B3_CHUNK, counter + i, 0, out + 32 * i);
}

/* One level up: the parents of count / 2 pairs of chaining values, in place. */
static void parents_cv(enum kv_simd level, uint8_t *cvs, size_t pairs)
{
	size_t i = 0;
#ifdef KV_B3_X86
	/* hash16 and hash8 read all their pairs before writing, and parent i
	 * writes below pair i. */
	if (level >= KV_SIMD_AVX512)
		for (; i + 16 <= pairs; i += 16)
			hash16(cvs + 64 * i, 64, 1, 0, 0, PARENT, 0, 0, cvs + 32 * i);
	if (level >= KV_SIMD_AVX2)
		for (; i + 8 <= pairs; i += 8)
			hash8(cvs + 64 * i, 64, 1, 0, 0, PARENT, 0, 0, cvs + 32 * i);
#else
	(void)level;
#endif
	for (; i < pairs; i++)
		parent_cv(cvs + 64 * i, 0, cvs + 32 * i);
}

/* Pairing neighbours level by level, an odd one out carried up as it is,
 * builds BLAKE3's left-heavy tree; the last parent gets `extra` (ROOT). */
static void reduce(enum kv_simd level, uint8_t *cvs, size_t count, uint32_t extra, uint8_t out[32])
{
	while (count > 2) {
		size_t pairs = count / 2;
		parents_cv(level, cvs, pairs);
		if (count % 2)
			memmove(cvs + 32 * pairs, cvs + 32 * (count - 1), 32);
		count = pairs + count % 2;
	}
	parent_cv(cvs, extra, out);
}

void kv_b3_piece(enum kv_simd level, const uint8_t *p, size_t n, uint64_t piece, int root, uint8_t out[32])
{
	uint8_t cvs[CHUNKS_PER_PIECE * 32];
	uint64_t counter = piece * CHUNKS_PER_PIECE;
	uint32_t extra = root ? ROOT : 0;
	if (n <= KV_B3_CHUNK) {
		chunk_cv(p, n, counter, extra, out);
		return;
	}
	size_t whole = n / KV_B3_CHUNK, count = whole + (n % KV_B3_CHUNK != 0);
	chunks_cv(level, p, whole, counter, cvs);
	if (count > whole)
		chunk_cv(p + whole * KV_B3_CHUNK, n % KV_B3_CHUNK, counter + whole, 0, cvs + 32 * whole);
	reduce(level, cvs, count, extra, out);
}

void kv_b3_root(uint8_t *cvs, size_t count, uint8_t out[32])
{
	/* Few values (one per 256 KiB of tensor): the portable code will do. */
	reduce(KV_SIMD_SCALAR, cvs, count, ROOT, out);
}

int kv_blake3(enum kv_simd level, const uint8_t *p, size_t n, uint8_t out[32])
{
	if (n <= KV_B3_PIECE) {
		kv_b3_piece(level, p, n, 0, 1, out);
		return 0;
	}
	size_t count = n / KV_B3_PIECE + (n % KV_B3_PIECE != 0);
	uint8_t *cvs = malloc(32 * count);
	if (!cvs)
		return -1;
	for (size_t i = 0; i < count; i++) {
		size_t off = i * KV_B3_PIECE, len = n - off < KV_B3_PIECE ? n - off : KV_B3_PIECE;
		kv_b3_piece(level, p + off, len, i, 0, cvs + 32 * i);
	}
	kv_b3_root(cvs, count, out);
	free(cvs);
	return 0;
}

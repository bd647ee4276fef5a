/* Moments of float tensor data in a fixed order (see moments.h): a scalar
 * definition, and AVX2 / AVX-512 kernels that follow it lane for lane. */
#include "moments.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KV_MOM_X86 1
#endif

#define EXP_MASK 0x7f800000u

enum kv_float_kind kv_float_kind(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? KV_FK_F32 : strcmp(dtype, "F16") == 0 ? KV_FK_F16
		: strcmp(dtype, "BF16") == 0 ? KV_FK_BF16 : KV_FK_NONE;
}

unsigned kv_float_size(enum kv_float_kind kind)
{
	return kind == KV_FK_F32 ? 4 : kind == KV_FK_NONE ? 0 : 2;
}

/* IEEE half to single, exactly (subnormals normalized, Inf/NaN kept). */
static uint32_t f16_bits(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
	if (exp == 0x1f)
		return sign | EXP_MASK | (man << 13);
	if (exp == 0 && man == 0)
		return sign;
	if (exp == 0) {
		uint32_t shift = 0;
		while (!(man & 0x400u)) {
			man <<= 1;
			shift++;
		}
		return sign | ((113u - shift) << 23) | ((man & 0x3ffu) << 13);
	}
	return sign | ((exp + 112u) << 23) | (man << 13);
}

/* Element k's value as single-precision bits; little-endian data. */
static uint32_t bits_at(enum kv_float_kind kind, const uint8_t *p, uint64_t k)
{
	if (kind == KV_FK_F32) {
		const uint8_t *q = p + 4 * k;
		return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
	}
	uint16_t h = (uint16_t)(p[2 * k] | p[2 * k + 1] << 8);
	return kind == KV_FK_BF16 ? (uint32_t)h << 16 : f16_bits(h);
}

float kv_float_at(enum kv_float_kind kind, const uint8_t *p, uint64_t index)
{
	uint32_t b = bits_at(kind, p, index);
	float x;
	memcpy(&x, &b, sizeof x);
	return x;
}

/* ---- the 16 lanes ----------------------------------------------------- */

struct lanes {
	double sum[KV_MOM_LANES], sq[KV_MOM_LANES];
	float min, max;
	uint64_t nonfinite;
};

static void lanes_init(struct lanes *l)
{
	memset(l, 0, sizeof *l);
	l->min = INFINITY;
	l->max = -INFINITY;
}

/* The scalar definition for element k of a unit. */
static void lane_add(struct lanes *l, size_t k, uint32_t bits)
{
	if ((bits & EXP_MASK) == EXP_MASK) {
		l->nonfinite++;
		return;
	}
	float x;
	memcpy(&x, &bits, sizeof x);
	double d = x;
	l->sum[k % KV_MOM_LANES] += d;
	l->sq[k % KV_MOM_LANES] += d * d;
	if (x < l->min)
		l->min = x;
	if (x > l->max)
		l->max = x;
}

static void unit_scalar(enum kv_float_kind kind, const uint8_t *p, size_t n, size_t from, struct lanes *l)
{
	for (size_t k = from; k < n; k++)
		lane_add(l, k, bits_at(kind, p, k));
}

#ifdef KV_MOM_X86
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define TARGET_AVX2 __attribute__((target("avx2,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* 16 elements from k on, as single-precision bits. */
TARGET_AVX512 INLINE __m512i load16(enum kv_float_kind kind, const uint8_t *p, size_t k)
{
	if (kind == KV_FK_F32)
		return _mm512_loadu_si512((const void *)(p + 4 * k));
	__m256i h = _mm256_loadu_si256((const void *)(p + 2 * k));
	if (kind == KV_FK_BF16)
		return _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
	return _mm512_castps_si512(_mm512_cvtph_ps(h));
}

/* Lanes 0-7 of each 16 in the low register pair, 8-15 in the high one.
 * With `masked` clear, every value is taken as finite (the fast path);
 * *nonfinite_seen then tells whether that was wrong. */
TARGET_AVX512 INLINE size_t unit_avx512_kind(enum kv_float_kind kind, int masked, const uint8_t *p, size_t n,
					     struct lanes *l, int *nonfinite_seen)
{
	const __m512i exp = _mm512_set1_epi32((int)EXP_MASK), abs = _mm512_set1_epi32(0x7fffffff);
	__m512d s0 = _mm512_setzero_pd(), s1 = s0, q0 = s0, q1 = s0;
	__m512 mn = _mm512_set1_ps(INFINITY), mx = _mm512_set1_ps(-INFINITY);
	__m512i amax = _mm512_setzero_si512();
	uint64_t bad = 0;
	size_t k = 0;
	for (; k + 16 <= n; k += 16) {
		__m512i bits = load16(kind, p, k);
		__mmask16 fin = 0xffff;
		if (masked) {
			fin = _mm512_cmpneq_epi32_mask(_mm512_and_si512(bits, exp), exp);
			bad += 16 - (uint64_t)__builtin_popcount(fin);
		} else {
			amax = _mm512_max_epu32(amax, _mm512_and_si512(bits, abs));
		}
		__m512 x = _mm512_maskz_mov_ps(fin, _mm512_castsi512_ps(bits));
		__m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
		__m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
		s0 = _mm512_add_pd(s0, lo);
		s1 = _mm512_add_pd(s1, hi);
		/* x*x is exact (see moments.h), so the fused form rounds as the scalar code does. */
		q0 = _mm512_fmadd_pd(lo, lo, q0);
		q1 = _mm512_fmadd_pd(hi, hi, q1);
		mn = _mm512_mask_min_ps(mn, fin, mn, x);
		mx = _mm512_mask_max_ps(mx, fin, mx, x);
	}
	*nonfinite_seen = !masked && (uint32_t)_mm512_reduce_max_epu32(amax) >= EXP_MASK;
	_mm512_storeu_pd(l->sum, s0);
	_mm512_storeu_pd(l->sum + 8, s1);
	_mm512_storeu_pd(l->sq, q0);
	_mm512_storeu_pd(l->sq + 8, q1);
	l->min = _mm512_reduce_min_ps(mn);
	l->max = _mm512_reduce_max_ps(mx);
	l->nonfinite = bad;
	return k;
}

/* Weights are finite: run without masks, and again with them only when an
 * Inf or NaN turned up (both give the scalar definition's result then). */
TARGET_AVX512 INLINE size_t unit_avx512_any(enum kv_float_kind kind, const uint8_t *p, size_t n, struct lanes *l)
{
	int seen;
	size_t k = unit_avx512_kind(kind, 0, p, n, l, &seen);
	return seen ? unit_avx512_kind(kind, 1, p, n, l, &seen) : k;
}

TARGET_AVX512 static size_t unit_avx512(enum kv_float_kind kind, const uint8_t *p, size_t n, struct lanes *l)
{
	switch (kind) {
	case KV_FK_F32: return unit_avx512_any(KV_FK_F32, p, n, l);
	case KV_FK_F16: return unit_avx512_any(KV_FK_F16, p, n, l);
	default: return unit_avx512_any(KV_FK_BF16, p, n, l);
	}
}

TARGET_AVX2 INLINE __m256i load8(enum kv_float_kind kind, const uint8_t *p, size_t k)
{
	if (kind == KV_FK_F32)
		return _mm256_loadu_si256((const void *)(p + 4 * k));
	__m128i h = _mm_loadu_si128((const void *)(p + 2 * k));
	if (kind == KV_FK_BF16)
		return _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
	return _mm256_castps_si256(_mm256_cvtph_ps(h));
}

/* Four registers of 4 lanes each: s[0] lanes 0-3, ..., s[3] lanes 12-15. */
TARGET_AVX2 INLINE size_t unit_avx2_kind(enum kv_float_kind kind, const uint8_t *p, size_t n, struct lanes *l)
{
	const __m256i exp = _mm256_set1_epi32((int)EXP_MASK);
	__m256d s[4], q[4];
	for (int i = 0; i < 4; i++)
		s[i] = q[i] = _mm256_setzero_pd();
	__m256 mn = _mm256_set1_ps(INFINITY), mx = _mm256_set1_ps(-INFINITY);
	uint64_t bad = 0;
	size_t k = 0;
	for (; k + 16 <= n; k += 16)
#pragma GCC unroll 2
		for (int h = 0; h < 2; h++) {
			__m256i bits = load8(kind, p, k + 8 * (size_t)h);
			__m256 nf = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(bits, exp), exp));
			bad += (uint64_t)__builtin_popcount((unsigned)_mm256_movemask_ps(nf));
			__m256 x = _mm256_andnot_ps(nf, _mm256_castsi256_ps(bits));
			__m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
			__m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
			s[2 * h] = _mm256_add_pd(s[2 * h], lo);
			s[2 * h + 1] = _mm256_add_pd(s[2 * h + 1], hi);
			q[2 * h] = _mm256_add_pd(q[2 * h], _mm256_mul_pd(lo, lo));
			q[2 * h + 1] = _mm256_add_pd(q[2 * h + 1], _mm256_mul_pd(hi, hi));
			mn = _mm256_min_ps(mn, _mm256_blendv_ps(x, _mm256_set1_ps(INFINITY), nf));
			mx = _mm256_max_ps(mx, _mm256_blendv_ps(x, _mm256_set1_ps(-INFINITY), nf));
		}
	float lmn[8], lmx[8];
	for (int i = 0; i < 4; i++) {
		_mm256_storeu_pd(l->sum + 4 * i, s[i]);
		_mm256_storeu_pd(l->sq + 4 * i, q[i]);
	}
	_mm256_storeu_ps(lmn, mn);
	_mm256_storeu_ps(lmx, mx);
	for (int i = 0; i < 8; i++) {
		l->min = lmn[i] < l->min ? lmn[i] : l->min;
		l->max = lmx[i] > l->max ? lmx[i] : l->max;
	}
	l->nonfinite = bad;
	return k;
}

TARGET_AVX2 static size_t unit_avx2(enum kv_float_kind kind, const uint8_t *p, size_t n, struct lanes *l)
{
	switch (kind) {
	case KV_FK_F32: return unit_avx2_kind(KV_FK_F32, p, n, l);
	case KV_FK_F16: return unit_avx2_kind(KV_FK_F16, p, n, l);
	default: return unit_avx2_kind(KV_FK_BF16, p, n, l);
	}
}
#endif

/* ---- units and tensors -------------------------------------------------- */

/* The fixed pairwise order in which a unit's 16 lanes are added. */
static double add_lanes(const double v[KV_MOM_LANES])
{
	double a[8], b[4];
	for (int i = 0; i < 8; i++)
		a[i] = v[2 * i] + v[2 * i + 1];
	for (int i = 0; i < 4; i++)
		b[i] = a[2 * i] + a[2 * i + 1];
	return (b[0] + b[1]) + (b[2] + b[3]);
}

void kv_moments_init(struct kv_moments *m)
{
	memset(m, 0, sizeof *m);
	m->min = INFINITY;
	m->max = -INFINITY;
}

void kv_moments_unit(enum kv_simd level, enum kv_float_kind kind, const uint8_t *p, size_t n,
		     struct kv_moments *out)
{
	struct lanes l;
	size_t done = 0;
	lanes_init(&l);
#ifdef KV_MOM_X86
	if (level >= KV_SIMD_AVX512)
		done = unit_avx512(kind, p, n, &l);
	else if (level == KV_SIMD_AVX2)
		done = unit_avx2(kind, p, n, &l);
#else
	(void)level;
#endif
	unit_scalar(kind, p, n, done, &l);
	out->nonfinite = l.nonfinite;
	out->finite = n - l.nonfinite;
	out->sum = add_lanes(l.sum);
	out->sumsq = add_lanes(l.sq);
	/* -0 and +0 compare equal, so which one a lane kept depends on order. */
	out->min = l.min == 0 ? 0.0f : l.min;
	out->max = l.max == 0 ? 0.0f : l.max;
}

void kv_moments_add(struct kv_moments *acc, const struct kv_moments *part)
{
	acc->finite += part->finite;
	acc->nonfinite += part->nonfinite;
	acc->sum += part->sum;
	acc->sumsq += part->sumsq;
	if (part->min < acc->min)
		acc->min = part->min;
	if (part->max > acc->max)
		acc->max = part->max;
}

/* Exact, portable binomial draws for the bootstrap (boot.c), and the few
 * functions they need.
 *
 * A bootstrap interval is evidence that must read the same everywhere, so
 * nothing here calls libm: log and exp are written out with + - * / in a
 * fixed order (IEEE 754 rounds those the same on every machine), and the
 * compiler is told not to fuse a multiply and an add.  The binomial
 * sampler is Hoermann's BTRS (transformed rejection with squeeze, 1993)
 * for a mean of 10 or more, and inversion below. */
#include "votes.h"

#include <string.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include "gen4.h"
#include "gen8.h"
#endif

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif


/* log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(sqrt(2 pi)): Stirling's
 * tail, from a table for k <= 9. */
static const double tail_table[16] = {0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
				      0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
				      0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
				      0.00833056343336287}; /* 16: two 512-bit registers */

static double stirling_tail(double k)
{
	if (k <= 9)
		return tail_table[(int)k];
	double kp1sq = (k + 1) * (k + 1);
	return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}

/* The square root of v > 0 with + - * / only, quickly: a first guess
 * from the exponent's bits (within 4%), then five Newton steps (each
 * squares the relative error, so the last lands within an ulp).  Called
 * once per draw of Binomial(n, p) with n p >= 10, where lib/detmath's
 * general square root (up to 60 steps) was a third of the draw. */
static double root(double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	bits = (bits >> 1) + 0x1ff7a3bea91d9b1bULL;
	double x;
	memcpy(&x, &bits, sizeof x);
	for (int i = 0; i < 5; i++)
		x = 0.5 * (x + v / x);
	return x;
}

static double uniform(struct kv_rng *rng)
{
	return (double)(kv_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Inversion (mean n p < 10, p <= 1/2): walk up the probabilities from 0. */
static uint64_t inversion(struct kv_rng *rng, uint64_t n, double p)
{
	double q = 1 - p, s = p / q, a = ((double)n + 1) * s, q_n = 1, base = q;
	for (uint64_t e = n; e; e >>= 1) { /* q^n by squaring */
		if (e & 1)
			q_n *= base;
		base *= base;
	}
	for (;;) {
		double u = uniform(rng), r = q_n;
		uint64_t x = 0;
		while (u > r && x < n) {
			u -= r;
			x++;
			r *= a / (double)x - s;
		}
		if (u <= r || x < n)
			return x;
		/* rounding left some mass past n: draw again */
	}
}

/* BTRS (mean n p >= 10, p <= 1/2). */
static uint64_t btrs(struct kv_rng *rng, uint64_t count, double p)
{
	double n = (double)count, spq = root(n * p * (1 - p));
	double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = n * p + 0.5;
	double v_r = 0.92 - 4.2 / b, r = p / (1 - p), alpha = (2.83 + 5.1 / b) * spq;
	double m = (double)(uint64_t)((n + 1) * p);
	for (;;) {
		double u = uniform(rng) - 0.5, v = uniform(rng);
		double us = 0.5 - (u < 0 ? -u : u), kd = (2 * a / us + b) * u + c;
		if (kd < 0 || kd >= n + 1)
			continue;
		double k = (double)(uint64_t)kd;
		if (us >= 0.07 && v <= v_r)
			return (uint64_t)k;
		v = kv_det_log(v * alpha / (a / (us * us) + b));
		double bound = (m + 0.5) * kv_det_log((m + 1) / (r * (n - m + 1))) +
			       (n + 1) * kv_det_log((n - m + 1) / (n - k + 1)) +
			       (k + 0.5) * kv_det_log(r * (n - k + 1) / (k + 1)) + stirling_tail(m) +
			       stirling_tail(n - m) - stirling_tail(k) - stirling_tail(n - k);
		if (v <= bound)
			return (uint64_t)k;
	}
}

uint64_t votes_binomial(struct kv_rng *rng, uint64_t n, uint64_t part, uint64_t whole)
{
	if (n == 0 || part == 0)
		return 0;
	if (part >= whole)
		return n;
	if (2 * part > whole)
		return n - votes_binomial(rng, n, whole - part, whole);
	double p = (double)part / (double)whole;
	return (double)n * p < 10 ? inversion(rng, n, p) : btrs(rng, n, p);
}

/* --- eight draws at once ----------------------------------------------------- */

/* The bootstrap's split (boot.c) draws Binomial(left, part/whole) for every
 * replicate of a group, block by block: one part and whole for all, a left
 * each.  One draw is a chain of dependent operations: BTRS's square root
 * by Newton's method and its divisions, or inversion's q^n by squaring
 * (about 150 ns a draw; 10 million battles of 200 models by 8 million
 * judges drew 60 million, 40% of the run).  Here eight replicates' chains
 * run side by side, one per lane of 512-bit registers: each lane does the
 * operations of votes_binomial above in the same order (IEEE 754 rounds
 * them the same in a lane as alone), and draws from its own replicate's
 * stream exactly the numbers votes_binomial would, so the draws, and the
 * streams' states after, are the same bits.  A logarithm the lanes do not
 * compute (of 0, or of a number below 2^-1000) is taken by kv_det_log. */
#if defined(__GNUC__) && defined(__x86_64__)
#define AVX512DQ __attribute__((target("avx512f,avx512dq")))

int votes_binomial8_usable(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

/* uniform() of each output: its upper 53 bits, exact. */
AVX512DQ static inline __m512d uniform8(__m512i x)
{
	return _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(x, 11)), _mm512_set1_pd(0x1.0p-53));
}

AVX512DQ static inline __m512d set8(double x)
{
	return _mm512_set1_pd(x);
}

AVX512DQ static inline __m512d trunc8(__m512d x)
{
	return _mm512_roundscale_pd(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

/* root() of each lane. */
AVX512DQ static inline __m512d root8(__m512d v)
{
	__m512i bits = _mm512_add_epi64(_mm512_srli_epi64(_mm512_castpd_si512(v), 1),
					_mm512_set1_epi64(0x1ff7a3bea91d9b1bLL));
	__m512d x = _mm512_castsi512_pd(bits);
	for (int i = 0; i < 5; i++)
		x = _mm512_mul_pd(set8(0.5), _mm512_add_pd(x, _mm512_div_pd(v, x)));
	return x;
}

/* kv_det_log of the lanes in `use` (lib/detmath), step by step; those
 * of x not a number from 2^-1000 on, by kv_det_log itself. */
AVX512DQ static __m512d log8(__m512d x, __mmask8 use)
{
	__m512i bits = _mm512_castpd_si512(x);
	__m512d e = _mm512_cvtepi64_pd(_mm512_sub_epi64(_mm512_and_si512(_mm512_srli_epi64(bits, 52),
									  _mm512_set1_epi64(0x7ff)),
							 _mm512_set1_epi64(1023)));
	__m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0x000fffffffffffffLL)),
							_mm512_set1_epi64(0x3ff0000000000000LL)));
	__mmask8 big = _mm512_cmp_pd_mask(m, set8(1.4142135623730951), _CMP_GE_OQ);
	m = _mm512_mask_mul_pd(m, big, m, set8(0.5));
	e = _mm512_mask_add_pd(e, big, e, set8(1));
	__m512d s = _mm512_div_pd(_mm512_sub_pd(m, set8(1)), _mm512_add_pd(m, set8(1))), z = _mm512_mul_pd(s, s);
	static const double inverse_odd[11] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
					       1.0 / 9,  1.0 / 7,  1.0 / 5,  1.0 / 3,  1};
	__m512d p = set8(1.0 / 23);
	for (int i = 0; i < 11; i++)
		p = _mm512_add_pd(_mm512_mul_pd(p, z), set8(inverse_odd[i]));
	__m512d y = _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(set8(2), s), p), _mm512_mul_pd(e, set8(KV_DET_LN2)));
	__mmask8 odd = use & _mm512_cmp_pd_mask(x, set8(0x1p-1000), _CMP_NGE_UQ); /* below, or NaN */
	if (odd) {
		double lanes[8], ys[8];
		_mm512_storeu_pd(lanes, x);
		_mm512_storeu_pd(ys, y);
		for (int i = 0; i < 8; i++)
			if (odd >> i & 1)
				ys[i] = kv_det_log(lanes[i]);
		y = _mm512_loadu_pd(ys);
	}
	return y;
}

/* stirling_tail() of each lane (k >= 0 whole). */
AVX512DQ static __m512d tail8(__m512d k)
{
	__m512d k1 = _mm512_add_pd(k, set8(1)), k1sq = _mm512_mul_pd(k1, k1);
	__m512d series = _mm512_div_pd(
		_mm512_sub_pd(set8(1.0 / 12), _mm512_div_pd(_mm512_sub_pd(set8(1.0 / 360), _mm512_div_pd(set8(1.0 / 1260), k1sq)), k1sq)),
		k1);
	__mmask8 small = _mm512_cmp_pd_mask(k, set8(9), _CMP_LE_OQ);
	__m512i at = _mm512_cvttpd_epi64(_mm512_min_pd(k, set8(15)));
	__m512d table = _mm512_permutex2var_pd(_mm512_loadu_pd(tail_table), at, _mm512_loadu_pd(tail_table + 8));
	return _mm512_mask_mov_pd(series, small, table);
}

/* The parameters of BTRS that do not depend on the draws, per lane. */
struct btrs8 { __m512d n, a, b, c, v_r, alpha, m, r; };

AVX512DQ static struct btrs8 btrs8_setup(__m512d n, double p)
{
	struct btrs8 t = {.n = n, .r = set8(p / (1 - p))};
	__m512d spq = root8(_mm512_mul_pd(_mm512_mul_pd(n, set8(p)), set8(1 - p)));
	t.b = _mm512_add_pd(set8(1.15), _mm512_mul_pd(set8(2.53), spq));
	t.a = _mm512_add_pd(_mm512_add_pd(set8(-0.0873), _mm512_mul_pd(set8(0.0248), t.b)), set8(0.01 * p));
	t.c = _mm512_add_pd(_mm512_mul_pd(n, set8(p)), set8(0.5));
	t.v_r = _mm512_sub_pd(set8(0.92), _mm512_div_pd(set8(4.2), t.b));
	t.alpha = _mm512_mul_pd(_mm512_add_pd(set8(2.83), _mm512_div_pd(set8(5.1), t.b)), spq);
	t.m = trunc8(_mm512_mul_pd(_mm512_add_pd(n, set8(1)), set8(p)));
	return t;
}

/* Whether k is accepted, in the lanes of `use`, where BTRS's squeeze
 * failed at (v, us, k). */
AVX512DQ static __mmask8 btrs8_bound(const struct btrs8 *t, __m512d v, __m512d us, __m512d k, __mmask8 use)
{
	__m512d n = t->n, m = t->m, one = set8(1), half = set8(0.5);
	__m512d lv = log8(_mm512_div_pd(_mm512_mul_pd(v, t->alpha),
					_mm512_add_pd(_mm512_div_pd(t->a, _mm512_mul_pd(us, us)), t->b)), use);
	__m512d nm1 = _mm512_add_pd(_mm512_sub_pd(n, m), one), nk1 = _mm512_add_pd(_mm512_sub_pd(n, k), one);
	__m512d bound = _mm512_mul_pd(_mm512_add_pd(m, half),
				      log8(_mm512_div_pd(_mm512_add_pd(m, one), _mm512_mul_pd(t->r, nm1)), use));
	bound = _mm512_add_pd(bound, _mm512_mul_pd(_mm512_add_pd(n, one), log8(_mm512_div_pd(nm1, nk1), use)));
	bound = _mm512_add_pd(bound, _mm512_mul_pd(_mm512_add_pd(k, half),
						   log8(_mm512_div_pd(_mm512_mul_pd(t->r, nk1), _mm512_add_pd(k, one)), use)));
	bound = _mm512_add_pd(bound, tail8(m));
	bound = _mm512_add_pd(bound, tail8(_mm512_sub_pd(n, m)));
	bound = _mm512_sub_pd(bound, tail8(k));
	bound = _mm512_sub_pd(bound, tail8(_mm512_sub_pd(n, k)));
	return use & _mm512_cmp_pd_mask(lv, bound, _CMP_LE_OQ);
}

/* btrs() in the lanes of `live` (n p >= 10, p <= 1/2); their draws in *k. */
AVX512DQ static void btrs8(struct gen8 *g, __m512d n, double p, __mmask8 live, __m512d *k)
{
	struct btrs8 t = btrs8_setup(n, p);
	__m512d n1 = _mm512_add_pd(n, set8(1));
	while (live) {
		__m512d u = _mm512_sub_pd(uniform8(next8(g, live)), set8(0.5)), v = uniform8(next8(g, live));
		__m512d us = _mm512_sub_pd(set8(0.5), _mm512_abs_pd(u));
		__m512d kd = _mm512_add_pd(
			_mm512_mul_pd(_mm512_add_pd(_mm512_div_pd(_mm512_mul_pd(set8(2), t.a), us), t.b), u), t.c);
		__mmask8 in = live & ~_mm512_cmp_pd_mask(kd, set8(0), _CMP_LT_OQ) &
			      ~_mm512_cmp_pd_mask(kd, n1, _CMP_GE_OQ);
		__m512d kt = trunc8(kd);
		__mmask8 quick = in & _mm512_cmp_pd_mask(us, set8(0.07), _CMP_GE_OQ) &
				 _mm512_cmp_pd_mask(v, t.v_r, _CMP_LE_OQ);
		__mmask8 slow = in & ~quick, took = quick;
		if (slow)
			took |= btrs8_bound(&t, v, us, kt, slow);
		*k = _mm512_mask_mov_pd(*k, took, kt);
		live &= ~took;
	}
}

/* inversion() in the lanes of `live` (n p < 10, p <= 1/2); their draws in *x. */
AVX512DQ static void inversion8(struct gen8 *g, __m512i count, __m512d n, double p, __mmask8 live, __m512d *x)
{
	double q = 1 - p, s = p / q;
	__m512d a = _mm512_mul_pd(_mm512_add_pd(n, set8(1)), set8(s)), q_n = set8(1), base = set8(q);
	for (__m512i e = count; _mm512_test_epi64_mask(e, e); e = _mm512_srli_epi64(e, 1)) { /* q^n by squaring */
		__mmask8 odd = _mm512_test_epi64_mask(e, _mm512_set1_epi64(1));
		q_n = _mm512_mask_mul_pd(q_n, odd, q_n, base);
		base = _mm512_mul_pd(base, base);
	}
	while (live) {
		__m512d u = uniform8(next8(g, live)), r = q_n, at = set8(0);
		for (;;) {
			__mmask8 walk = live & _mm512_cmp_pd_mask(u, r, _CMP_GT_OQ) & _mm512_cmp_pd_mask(at, n, _CMP_LT_OQ);
			if (!walk)
				break;
			u = _mm512_mask_sub_pd(u, walk, u, r);
			at = _mm512_mask_add_pd(at, walk, at, set8(1));
			r = _mm512_mask_mul_pd(r, walk, r, _mm512_sub_pd(_mm512_div_pd(a, at), set8(s)));
		}
		__mmask8 took = live & (_mm512_cmp_pd_mask(u, r, _CMP_LE_OQ) | _mm512_cmp_pd_mask(at, n, _CMP_LT_OQ));
		*x = _mm512_mask_mov_pd(*x, took, at);
		live &= ~took;
	}
}

AVX512DQ static void binomial8(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	int flip = 2 * part > whole; /* votes_binomial's n - votes_binomial(n, whole - part, whole) */
	double p = (double)(flip ? whole - part : part) / (double)whole;
	struct gen8 g = gen8_load(rng);
	__m512i count = _mm512_loadu_si512(n);
	__m512d nd = _mm512_cvtepu64_pd(count), k = set8(0);
	__mmask8 some = _mm512_test_epi64_mask(count, count);
	__mmask8 few = some & _mm512_cmp_pd_mask(_mm512_mul_pd(nd, set8(p)), set8(10), _CMP_LT_OQ);
	if (few)
		inversion8(&g, count, nd, p, few, &k);
	if (some & ~few)
		btrs8(&g, nd, p, some & ~few, &k);
	__m512i drawn = _mm512_cvttpd_epu64(k);
	_mm512_storeu_si512(out, flip ? _mm512_sub_epi64(count, drawn) : drawn);
	gen8_store(&g, rng);
}

AVX512DQ static void parts8(const double *x, const double *k, double *lanes)
{
	__m512d vx = _mm512_loadu_pd(x);
	_mm512_storeu_pd(lanes, log8(vx, 0xff));
	_mm512_storeu_pd(lanes + 8, root8(vx));
	_mm512_storeu_pd(lanes + 16, tail8(_mm512_loadu_pd(k)));
}

void votes_binomial8_parts(const double *x, const double *k, double *lanes, double *alone)
{
	for (int i = 0; i < 8; i++) {
		alone[i] = kv_det_log(x[i]);
		alone[8 + i] = root(x[i]);
		alone[16 + i] = stirling_tail(k[i]);
	}
	if (votes_binomial8_usable())
		parts8(x, k, lanes);
	else
		memcpy(lanes, alone, 24 * sizeof *lanes);
}

void votes_binomial8(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	if (part == 0 || part >= whole || !votes_binomial8_usable()) {
		for (int i = 0; i < 8; i++)
			out[i] = votes_binomial(&rng[i], n[i], part, whole);
		return;
	}
	binomial8(rng, n, part, whole, out);
}

/* --- four draws at once ------------------------------------------------------ */

/* The same as binomial8 for four replicates, one per lane of 256-bit
 * registers (AVX2), where AVX-512 is not there: what AVX-512 does in one
 * instruction (a conversion between 64-bit integers and doubles, a masked
 * operation, a table of 16) takes two or three here, each exact, so every
 * lane still does votes_binomial's operations in its order.  Integers
 * meet doubles only below 2^53, where the two convert exactly by adding
 * and subtracting a power of two. */
#define AVX2D __attribute__((target("avx2")))

int votes_binomial4_usable(void)
{
	return __builtin_cpu_supports("avx2");
}

AVX2D static inline __m256d set4(double x)
{
	return _mm256_set1_pd(x);
}

/* x < 2^52, whole: as a double; and back. */
AVX2D static inline __m256d small_to_double(__m256i x)
{
	__m256i two52 = _mm256_set1_epi64x(0x4330000000000000LL);
	return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, two52)), set4(0x1p52));
}

AVX2D static inline __m256i small_to_int(__m256d x)
{
	return _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(x, set4(0x1p52))),
				_mm256_set1_epi64x(0x4330000000000000LL));
}

/* uniform() of each output: its upper 53 bits, exact (the upper 21 and
 * the lower 32 converted apart, then added: the sum is below 2^53). */
AVX2D static inline __m256d uniform4(__m256i x)
{
	__m256i top = _mm256_srli_epi64(x, 11);
	__m256d hi = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(top, 32),
									  _mm256_set1_epi64x(0x4530000000000000LL))),
				   set4(0x1p84));
	__m256d lo = small_to_double(_mm256_and_si256(top, _mm256_set1_epi64x(0xffffffffLL)));
	return _mm256_mul_pd(_mm256_add_pd(hi, lo), set4(0x1.0p-53));
}

AVX2D static inline __m256d trunc4(__m256d x)
{
	return _mm256_round_pd(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

/* Lanes of a comparison (all ones where it holds). */
AVX2D static inline __m256d lt4(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
AVX2D static inline __m256d le4(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
AVX2D static inline __m256d ge4(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
AVX2D static inline __m256d gt4(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
AVX2D static inline __m256d and4(__m256d a, __m256d b) { return _mm256_and_pd(a, b); }
AVX2D static inline __m256d andnot4(__m256d not_this, __m256d b) { return _mm256_andnot_pd(not_this, b); }
AVX2D static inline int any4(__m256d mask) { return _mm256_movemask_pd(mask) != 0; }

/* where mask: b, else a. */
AVX2D static inline __m256d pick4(__m256d a, __m256d b, __m256d mask)
{
	return _mm256_blendv_pd(a, b, mask);
}

AVX2D static inline __m256d root4(__m256d v)
{
	__m256i bits = _mm256_add_epi64(_mm256_srli_epi64(_mm256_castpd_si256(v), 1),
					_mm256_set1_epi64x(0x1ff7a3bea91d9b1bLL));
	__m256d x = _mm256_castsi256_pd(bits);
	for (int i = 0; i < 5; i++)
		x = _mm256_mul_pd(set4(0.5), _mm256_add_pd(x, _mm256_div_pd(v, x)));
	return x;
}

/* As log8, in the lanes of `use`. */
AVX2D static __m256d log4(__m256d x, __m256d use)
{
	__m256i bits = _mm256_castpd_si256(x);
	__m256d e = _mm256_sub_pd(small_to_double(_mm256_and_si256(_mm256_srli_epi64(bits, 52),
								   _mm256_set1_epi64x(0x7ff))),
				  set4(1023));
	__m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
							_mm256_set1_epi64x(0x3ff0000000000000LL)));
	__m256d big = ge4(m, set4(1.4142135623730951));
	m = pick4(m, _mm256_mul_pd(m, set4(0.5)), big);
	e = pick4(e, _mm256_add_pd(e, set4(1)), big);
	__m256d s = _mm256_div_pd(_mm256_sub_pd(m, set4(1)), _mm256_add_pd(m, set4(1))), z = _mm256_mul_pd(s, s);
	static const double inverse_odd[11] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
					       1.0 / 9,  1.0 / 7,  1.0 / 5,  1.0 / 3,  1};
	__m256d p = set4(1.0 / 23);
	for (int i = 0; i < 11; i++)
		p = _mm256_add_pd(_mm256_mul_pd(p, z), set4(inverse_odd[i]));
	__m256d y = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(set4(2), s), p), _mm256_mul_pd(e, set4(KV_DET_LN2)));
	int odd = _mm256_movemask_pd(and4(use, _mm256_cmp_pd(x, set4(0x1p-1000), _CMP_NGE_UQ))); /* below, or NaN */
	if (odd) {
		double lanes[4], ys[4];
		_mm256_storeu_pd(lanes, x);
		_mm256_storeu_pd(ys, y);
		for (int i = 0; i < 4; i++)
			if (odd >> i & 1)
				ys[i] = kv_det_log(lanes[i]);
		y = _mm256_loadu_pd(ys);
	}
	return y;
}

/* stirling_tail() of each lane (k >= 0 whole). */
AVX2D static __m256d tail4(__m256d k)
{
	__m256d k1 = _mm256_add_pd(k, set4(1)), k1sq = _mm256_mul_pd(k1, k1);
	__m256d series = _mm256_div_pd(
		_mm256_sub_pd(set4(1.0 / 12), _mm256_div_pd(_mm256_sub_pd(set4(1.0 / 360), _mm256_div_pd(set4(1.0 / 1260), k1sq)), k1sq)),
		k1);
	/* clamped: lanes not in use may hold any k (a NaN gives 0) */
	__m256i at = small_to_int(_mm256_min_pd(_mm256_max_pd(k, set4(0)), set4(15)));
	return pick4(series, _mm256_i64gather_pd(tail_table, at, 8), le4(k, set4(9)));
}

struct btrs4 { __m256d n, a, b, c, v_r, alpha, m, r; };

AVX2D static struct btrs4 btrs4_setup(__m256d n, double p)
{
	struct btrs4 t = {.n = n, .r = set4(p / (1 - p))};
	__m256d spq = root4(_mm256_mul_pd(_mm256_mul_pd(n, set4(p)), set4(1 - p)));
	t.b = _mm256_add_pd(set4(1.15), _mm256_mul_pd(set4(2.53), spq));
	t.a = _mm256_add_pd(_mm256_add_pd(set4(-0.0873), _mm256_mul_pd(set4(0.0248), t.b)), set4(0.01 * p));
	t.c = _mm256_add_pd(_mm256_mul_pd(n, set4(p)), set4(0.5));
	t.v_r = _mm256_sub_pd(set4(0.92), _mm256_div_pd(set4(4.2), t.b));
	t.alpha = _mm256_mul_pd(_mm256_add_pd(set4(2.83), _mm256_div_pd(set4(5.1), t.b)), spq);
	t.m = trunc4(_mm256_mul_pd(_mm256_add_pd(n, set4(1)), set4(p)));
	return t;
}

AVX2D static __m256d btrs4_bound(const struct btrs4 *t, __m256d v, __m256d us, __m256d k, __m256d use)
{
	__m256d n = t->n, m = t->m, one = set4(1), half = set4(0.5);
	__m256d lv = log4(_mm256_div_pd(_mm256_mul_pd(v, t->alpha),
					_mm256_add_pd(_mm256_div_pd(t->a, _mm256_mul_pd(us, us)), t->b)), use);
	__m256d nm1 = _mm256_add_pd(_mm256_sub_pd(n, m), one), nk1 = _mm256_add_pd(_mm256_sub_pd(n, k), one);
	__m256d bound = _mm256_mul_pd(_mm256_add_pd(m, half),
				      log4(_mm256_div_pd(_mm256_add_pd(m, one), _mm256_mul_pd(t->r, nm1)), use));
	bound = _mm256_add_pd(bound, _mm256_mul_pd(_mm256_add_pd(n, one), log4(_mm256_div_pd(nm1, nk1), use)));
	bound = _mm256_add_pd(bound, _mm256_mul_pd(_mm256_add_pd(k, half),
						   log4(_mm256_div_pd(_mm256_mul_pd(t->r, nk1), _mm256_add_pd(k, one)), use)));
	bound = _mm256_add_pd(bound, tail4(m));
	bound = _mm256_add_pd(bound, tail4(_mm256_sub_pd(n, m)));
	bound = _mm256_sub_pd(bound, tail4(k));
	bound = _mm256_sub_pd(bound, tail4(_mm256_sub_pd(n, k)));
	return and4(use, le4(lv, bound));
}

AVX2D static void btrs4(struct gen4 *g, __m256d n, double p, __m256d live, __m256d *k)
{
	struct btrs4 t = btrs4_setup(n, p);
	__m256d n1 = _mm256_add_pd(n, set4(1));
	__m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
	while (any4(live)) {
		__m256i lanes = _mm256_castpd_si256(live);
		__m256d u = _mm256_sub_pd(uniform4(next4(g, lanes)), set4(0.5)), v = uniform4(next4(g, lanes));
		__m256d us = _mm256_sub_pd(set4(0.5), _mm256_and_pd(u, magnitude));
		__m256d kd = _mm256_add_pd(
			_mm256_mul_pd(_mm256_add_pd(_mm256_div_pd(_mm256_mul_pd(set4(2), t.a), us), t.b), u), t.c);
		__m256d in = andnot4(lt4(kd, set4(0)), andnot4(ge4(kd, n1), live));
		__m256d kt = trunc4(kd);
		__m256d quick = and4(in, and4(ge4(us, set4(0.07)), le4(v, t.v_r)));
		__m256d slow = andnot4(quick, in), took = quick;
		if (any4(slow))
			took = _mm256_or_pd(took, btrs4_bound(&t, v, us, kt, slow));
		*k = pick4(*k, kt, took);
		live = andnot4(took, live);
	}
}

AVX2D static void inversion4(struct gen4 *g, __m256i count, __m256d n, double p, __m256d live, __m256d *x)
{
	double q = 1 - p, s = p / q;
	__m256d a = _mm256_mul_pd(_mm256_add_pd(n, set4(1)), set4(s)), q_n = set4(1), base = set4(q);
	for (__m256i e = count; !_mm256_testz_si256(e, e); e = _mm256_srli_epi64(e, 1)) { /* q^n by squaring */
		__m256d odd = _mm256_castsi256_pd(
			_mm256_cmpeq_epi64(_mm256_and_si256(e, _mm256_set1_epi64x(1)), _mm256_set1_epi64x(1)));
		q_n = pick4(q_n, _mm256_mul_pd(q_n, base), odd);
		base = _mm256_mul_pd(base, base);
	}
	while (any4(live)) {
		__m256d u = uniform4(next4(g, _mm256_castpd_si256(live))), r = q_n, at = set4(0);
		for (;;) {
			__m256d walk = and4(live, and4(gt4(u, r), lt4(at, n)));
			if (!any4(walk))
				break;
			u = pick4(u, _mm256_sub_pd(u, r), walk);
			at = pick4(at, _mm256_add_pd(at, set4(1)), walk);
			r = pick4(r, _mm256_mul_pd(r, _mm256_sub_pd(_mm256_div_pd(a, at), set4(s))), walk);
		}
		__m256d took = and4(live, _mm256_or_pd(le4(u, r), lt4(at, n)));
		*x = pick4(*x, at, took);
		live = andnot4(took, live);
	}
}

/* n[i] < 2^52 */
AVX2D static void binomial4(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	int flip = 2 * part > whole;
	double p = (double)(flip ? whole - part : part) / (double)whole;
	struct gen4 g = gen4_load(rng);
	__m256i count = _mm256_loadu_si256((const __m256i *)(const void *)n);
	__m256d nd = small_to_double(count), k = set4(0);
	__m256d some = _mm256_castsi256_pd(
		_mm256_xor_si256(_mm256_cmpeq_epi64(count, _mm256_setzero_si256()), _mm256_set1_epi64x(-1)));
	__m256d few = and4(some, lt4(_mm256_mul_pd(nd, set4(p)), set4(10)));
	if (any4(few))
		inversion4(&g, count, nd, p, few, &k);
	if (any4(andnot4(few, some)))
		btrs4(&g, nd, p, andnot4(few, some), &k);
	__m256i drawn = small_to_int(k);
	_mm256_storeu_si256((__m256i *)(void *)out, flip ? _mm256_sub_epi64(count, drawn) : drawn);
	gen4_store(&g, rng);
}

AVX2D static void parts4(const double *x, const double *k, double *lanes)
{
	__m256d vx = _mm256_loadu_pd(x);
	_mm256_storeu_pd(lanes, log4(vx, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))));
	_mm256_storeu_pd(lanes + 4, root4(vx));
	_mm256_storeu_pd(lanes + 8, tail4(_mm256_loadu_pd(k)));
}

void votes_binomial4_parts(const double *x, const double *k, double *lanes, double *alone)
{
	for (int i = 0; i < 4; i++) {
		alone[i] = kv_det_log(x[i]);
		alone[4 + i] = root(x[i]);
		alone[8 + i] = stirling_tail(k[i]);
	}
	if (votes_binomial4_usable())
		parts4(x, k, lanes);
	else
		memcpy(lanes, alone, 12 * sizeof *lanes);
}

void votes_binomial4(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	int small = 1;
	for (int i = 0; i < 4; i++)
		small &= n[i] < ((uint64_t)1 << 52);
	if (part == 0 || part >= whole || !small || !votes_binomial4_usable()) {
		for (int i = 0; i < 4; i++)
			out[i] = votes_binomial(&rng[i], n[i], part, whole);
		return;
	}
	binomial4(rng, n, part, whole, out);
}
#else
int votes_binomial8_usable(void)
{
	return 0;
}

void votes_binomial8_parts(const double *x, const double *k, double *lanes, double *alone)
{
	for (int i = 0; i < 8; i++) {
		alone[i] = lanes[i] = kv_det_log(x[i]);
		alone[8 + i] = lanes[8 + i] = root(x[i]);
		alone[16 + i] = lanes[16 + i] = stirling_tail(k[i]);
	}
}

void votes_binomial8(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	for (int i = 0; i < 8; i++)
		out[i] = votes_binomial(&rng[i], n[i], part, whole);
}

int votes_binomial4_usable(void)
{
	return 0;
}

void votes_binomial4_parts(const double *x, const double *k, double *lanes, double *alone)
{
	for (int i = 0; i < 4; i++) {
		alone[i] = lanes[i] = kv_det_log(x[i]);
		alone[4 + i] = lanes[4 + i] = root(x[i]);
		alone[8 + i] = lanes[8 + i] = stirling_tail(k[i]);
	}
}

void votes_binomial4(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	for (int i = 0; i < 4; i++)
		out[i] = votes_binomial(&rng[i], n[i], part, whole);
}
#endif

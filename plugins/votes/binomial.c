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

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define LN2 0.6931471805599453094
#define LN2_HI 0.693145751953125        /* LN2 in two parts, the first with few bits, */
#define LN2_LO 1.4286068203094172321e-6 /* so that n * LN2_HI is exact */

/* Natural logarithm for x > 0: x = m 2^e with m in [0.707, 1.414) (from
 * the bits of x), then
 * log m = 2 atanh s, s = (m - 1)/(m + 1), |s| < 0.172, by its series to
 * s^23 (the rest is below 1e-19), in Horner's form. */
double votes_log(double x)
{
	if (!(x > 0))
		return x == 0 ? -__builtin_inf() : __builtin_nan("");
	if (x < 0x1p-1000) /* subnormal or near: scale up exactly first */
		return votes_log(x * 0x1p200) - 200 * LN2;
	uint64_t bits;
	memcpy(&bits, &x, sizeof bits);
	int e = (int)((bits >> 52) & 0x7ff) - 1023; /* x = m 2^e, m in [1, 2): exact */
	bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&x, &bits, sizeof x);
	if (x >= 1.4142135623730951) {
		x *= 0.5;
		e++;
	}
	double s = (x - 1) / (x + 1), z = s * s;
	double p = 1.0 / 23;
	p = p * z + 1.0 / 21;
	p = p * z + 1.0 / 19;
	p = p * z + 1.0 / 17;
	p = p * z + 1.0 / 15;
	p = p * z + 1.0 / 13;
	p = p * z + 1.0 / 11;
	p = p * z + 1.0 / 9;
	p = p * z + 1.0 / 7;
	p = p * z + 1.0 / 5;
	p = p * z + 1.0 / 3;
	p = p * z + 1;
	return 2 * s * p + e * LN2;
}

/* e^x: x = n log 2 + r with |r| <= 0.35 (Cody and Waite's reduction), e^r by Taylor to r^18, times
 * 2^n (exact). */
double votes_exp(double x)
{
	if (x > 709)
		return __builtin_inf();
	if (x < -745)
		return 0;
	double n = (double)(long)(x / LN2 + (x < 0 ? -0.5 : 0.5)), r = x - n * LN2_HI - n * LN2_LO, term = 1, sum = 1;
	for (int i = 1; i <= 18; i++) {
		term = term * r / i;
		sum += term;
	}
	for (long i = 0; i < (long)n; i++)
		sum *= 2;
	for (long i = 0; i < -(long)n; i++)
		sum *= 0.5;
	return sum;
}

/* v = m 4^e with m in [1/4, 4] (exact), then Newton from above on m. */
double votes_sqrt(double v)
{
	double scale = 1, x = 2;
	if (!(v > 0))
		return 0;
	for (; v > 4; v *= 0.25)
		scale *= 2;
	for (; v < 0.25; v *= 4)
		scale *= 0.5;
	for (int i = 0; i < 60; i++) {
		double next = 0.5 * (x + v / x);
		if (next >= x)
			break;
		x = next;
	}
	return x * scale;
}

/* log(k!) - (k + 1/2) log(k + 1) + (k + 1) - log(sqrt(2 pi)): Stirling's tail. */
static double stirling_tail(double k)
{
	static const double table[10] = {0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
					 0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
					 0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
					 0.00833056343336287};
	if (k <= 9)
		return table[(int)k];
	double kp1sq = (k + 1) * (k + 1);
	return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
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
	double n = (double)count, spq = votes_sqrt(n * p * (1 - p));
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
		v = votes_log(v * alpha / (a / (us * us) + b));
		double bound = (m + 0.5) * votes_log((m + 1) / (r * (n - m + 1))) +
			       (n + 1) * votes_log((n - m + 1) / (n - k + 1)) +
			       (k + 0.5) * votes_log(r * (n - k + 1) / (k + 1)) + stirling_tail(m) +
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

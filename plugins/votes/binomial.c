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

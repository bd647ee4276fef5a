/* Logarithm, exponential and square root computed the same way on every
 * machine (see detmath.h). */
#include "detmath.h"

#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define LN2 KV_DET_LN2
#define LN2_HI 0.693145751953125        /* LN2 in two parts, the first with few bits, */
#define LN2_LO 1.4286068203094172321e-6 /* so that n * LN2_HI is exact */

/* Natural logarithm for x > 0: x = m 2^e with m in [0.707, 1.414) (from
 * the bits of x), then
 * log m = 2 atanh s, s = (m - 1)/(m + 1), |s| < 0.172, by its series to
 * s^23 (the rest is below 1e-19), in Horner's form. */
double kv_det_log(double x)
{
	if (!(x > 0))
		return x == 0 ? -__builtin_inf() : __builtin_nan("");
	if (x < 0x1p-1000) /* subnormal or near: scale up exactly first */
		return kv_det_log(x * 0x1p200) - 200 * LN2;
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
double kv_det_exp(double x)
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
double kv_det_sqrt(double v)
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

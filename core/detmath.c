#include "detmath.h"

#include <math.h>

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^11. */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define SQRT_HALF 0.70710678118654752440

double kv_det_log(double x)
{
	if (x != x || x < 0)
		return NAN;
	if (x == 0)
		return -INFINITY;
	if (x == INFINITY)
		return x;
	int e;
	double m = frexp(x, &e); /* x = m * 2^e, m in [0.5, 1) */
	if (m < SQRT_HALF) {
		m *= 2;
		e--;
	}
	/* ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172: the odd series
	 * has converged to double precision after 14 terms. */
	double t = (m - 1) / (m + 1), t2 = t * t, sum = 0;
	for (int k = 27; k >= 1; k -= 2)
		sum = sum * t2 + 1.0 / k;
	double ln_m = 2 * t * sum;
	return (double)e * LN2_HI + ((double)e * LN2_LO + ln_m);
}

double kv_det_exp(double x)
{
	if (x != x)
		return x;
	if (x > 709.8)
		return INFINITY;
	if (x < -745.2)
		return 0;
	/* x = k ln 2 + r with |r| <= ln 2 / 2; e^r by its Taylor series, whose
	 * 22 terms are enough for |r| < 0.35, then scaled by 2^k exactly. */
	double kd = x * 1.44269504088896340736;
	long k = (long)(kd < 0 ? kd - 0.5 : kd + 0.5);
	double r = (x - (double)k * LN2_HI) - (double)k * LN2_LO;
	double sum = 1;
	for (int n = 22; n >= 1; n--)
		sum = 1 + sum * r / n;
	return ldexp(sum, (int)k);
}

/* kv_det_log, kv_det_exp and kv_det_sqrt against the C library's log, exp
 * and sqrt (an independent implementation): agreement to a few units in
 * the last place over the whole range, and the exact edge values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "detmath.h"

Test(detmath, edges)
{
	cr_expect_eq(kv_det_log(1), 0);
	cr_expect_eq(kv_det_exp(0), 1);
	cr_expect(isinf(kv_det_log(0)) && kv_det_log(0) < 0);
	cr_expect(isnan(kv_det_log(-1)));
	cr_expect(isnan(kv_det_log(NAN)));
	cr_expect(isinf(kv_det_exp(710)));
	cr_expect_eq(kv_det_exp(-746), 0);
	cr_expect_eq(kv_det_sqrt(4), 2);
	cr_expect_eq(kv_det_sqrt(0), 0);
}

Test(detmath, agree_with_the_c_library_across_the_range)
{
	for (double x = 1e-300; x < 1e300; x *= 1.7) {
		cr_expect_float_eq(kv_det_log(x), log(x), 4e-16 * fmax(1, fabs(log(x))), "log %g", x);
		cr_expect_float_eq(kv_det_sqrt(x), sqrt(x), 4e-16 * sqrt(x), "sqrt %g", x);
	}
	for (double x = -700; x < 700; x += 0.93)
		cr_expect_float_eq(kv_det_exp(x), exp(x), 2e-15 * exp(x), "exp %g", x);
	/* Near 1 the logarithm is small: compare absolutely. */
	for (int i = -1000; i <= 1000; i++) {
		double x = 1 + i * 1e-6;
		cr_expect(fabs(kv_det_log(x) - log(x)) <= 1e-19 + 4e-16 * fabs(log(x)), "log(%.17g)", x);
	}
	/* Subnormal arguments are scaled up exactly first. */
	cr_expect_float_eq(kv_det_log(4.9406564584124654e-324), log(4.9406564584124654e-324), 1e-12);
}

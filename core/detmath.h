/* Logarithm and exponential computed the same way on every machine.
 *
 * The C library's log, exp, pow and cos may differ in the last bit between
 * libraries and versions; a number that decides anything in a result must
 * not.  These use only +, -, *, / (with -ffp-contract=off, each rounded as
 * IEEE 754 says) and frexp/ldexp, which are exact.  They agree with the C
 * library to within a few units in the last place. */
#ifndef KV_DETMATH_H
#define KV_DETMATH_H

/* Natural logarithm of x > 0 (x <= 0 gives -inf or NaN, as log does). */
double kv_det_log(double x);

/* e to the power x. */
double kv_det_exp(double x);

#endif

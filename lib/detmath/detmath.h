/* Logarithm, exponential and square root computed the same way on every
 * machine.
 *
 * The C library's log and exp may differ in the last bit between libraries
 * and versions; a number that decides anything, or that a record holds,
 * must not.  These use only +, -, *, / in a fixed order (with fused
 * multiply-add off, IEEE 754 rounds each the same everywhere) and exact
 * scalings by powers of two.  No I/O, no state: the core and the plugins
 * link them alike. */
#ifndef KV_DETMATH_H
#define KV_DETMATH_H

/* log 2, as kv_det_log uses it (for code that computes it the same way). */
#define KV_DET_LN2 0.6931471805599453094

/* Natural logarithm of x > 0 (0 gives -inf, a negative x or NaN gives NaN). */
double kv_det_log(double x);

/* e to the power x (0 below -745, +inf above 709). */
double kv_det_exp(double x);

/* Square root of v > 0 (0 for v <= 0). */
double kv_det_sqrt(double v);

#endif

/*
 * moments.h -- count, sum, sum of squares, min and max of F32, F16 and BF16
 * tensor data, at memory speed and with the same bytes on every machine.
 *
 * Fixed order of operations.  Data is taken in units of KV_MOM_UNIT bytes
 * from the tensor's start (the last unit may be shorter).  Inside a unit,
 * element k goes to lane k mod 16; each lane keeps a double sum of x and of
 * x*x in element order.  A unit's total adds its 16 lanes in a fixed pairwise
 * tree; a tensor's total adds its units in order, starting from 0.  Each
 * value is widened to double exactly and x*x of a widened F32/F16/BF16 value
 * is exact in double (at most 48 significant bits), so fused or separate
 * multiply-add give the same result.  The AVX2 and AVX-512 kernels follow
 * this order lane for lane; thread count does not enter (units are fixed).
 *
 * Non-finite values (Inf, NaN) are counted and left out of the sums.  min and
 * max are of the finite values, with -0 reported as +0.
 */
#ifndef KV_MOMENTS_H
#define KV_MOMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

#define KV_MOM_LANES 16
#define KV_MOM_UNIT (16u * 16384u)   /* 256 KiB: 16 hash leaves */

enum kv_float_kind { KV_FK_NONE = 0, KV_FK_F32, KV_FK_F16, KV_FK_BF16 };

/* F32, F16 and BF16 are read natively; every other dtype is KV_FK_NONE. */
enum kv_float_kind kv_float_kind(const char *dtype);
unsigned kv_float_size(enum kv_float_kind kind);

/* One element as a float (exact for all three kinds). */
float kv_float_at(enum kv_float_kind kind, const uint8_t *p, uint64_t index);

struct kv_moments {
	uint64_t finite, nonfinite;
	double sum, sumsq;
	float min, max;       /* +Inf / -Inf while finite == 0 */
};

void kv_moments_init(struct kv_moments *m);

/* The moments of one unit: n elements of `kind` at p (any alignment). */
void kv_moments_unit(enum kv_simd level, enum kv_float_kind kind, const uint8_t *p, size_t n,
		     struct kv_moments *out);

/* acc += part, the next unit in order. */
void kv_moments_add(struct kv_moments *acc, const struct kv_moments *part);

#endif

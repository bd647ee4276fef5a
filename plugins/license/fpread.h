/* fpread: fingerprint files (kaieval-fingerprint(1)) read through the host,
 * every field checked by lib/fpformat, for the weight forensics (forensics.h).
 *
 * Strings and shapes point into the model's parsed file: valid until fp_free. */
#ifndef KV_LICENSE_FPREAD_H
#define KV_LICENSE_FPREAD_H

#include <kaieval/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "fpformat.h"

/* Components, by tensor name (fpread.c, component_of, has the rules). */
enum component { COMP_VISION, COMP_AUDIO, COMP_EMBEDDINGS, COMP_BACKBONE, COMP_COUNT };
extern const char *const component_names[COMP_COUNT];

enum fp_kind { FP_NONE = 0, FP_F32, FP_F16, FP_BF16 };

struct fp_tensor {
	const char *name, *dtype, *hash;   /* hash: 32 or 64 lowercase hex digits */
	size_t rank;
	const uint64_t *shape;
	uint64_t numel;
	int constant;
	enum fp_kind kind;                 /* FP_NONE: no moments, no sample */
	uint64_t finite;
	double sum, sumsq, min, max;       /* min, max: only when finite > 0 */
	uint64_t sample_count;
	const char *sample;                /* base64 */
	enum component component;
	char *tail;                        /* alignment key (see fp_tail) */
	char *generic;                     /* the name with its layer number as '#' */
};

struct fp_model {
	char *name;                        /* the file name without ".json" */
	const char *file;
	const char *content_hash;          /* "xxh128-tree-v1" (4, 3), "blake3" (2) or "sha256-tree-v1" (1) */
	uint64_t sample_size;
	int complete;
	size_t count;
	struct fp_tensor *t;               /* sorted by name */
	struct kv_fp fp;                   /* the parsed file, which t points into */
};

/* Load and check one fingerprint; on bad input the error names the file and
 * the tensor, and KV_ERR_INPUT is returned (m must still be freed). */
int fp_read(const struct kv_host *h, struct kv_ctx *ctx, const char *file, struct fp_model *m);
void fp_free(struct fp_model *m);

/* The tensor named name in m, or NULL. */
const struct fp_tensor *fp_find(const struct fp_model *m, const char *name);

/* A tensor's sampled values as doubles into out (sample_count of them). */
void fp_values(const struct fp_tensor *t, double *out);

#endif

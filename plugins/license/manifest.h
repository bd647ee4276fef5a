/* manifest: a team's submission manifest (JSON), read and validated.
 *
 * Strings point into the host's JSON tree and stay valid until evaluate
 * returns; parsed licence expressions are owned here (manifest_free). */
#ifndef KV_LICENSE_MANIFEST_H
#define KV_LICENSE_MANIFEST_H

#include <kaieval/plugin.h>

#include "spdx.h"

enum origin { ORIGIN_OWN, ORIGIN_THIRD_PARTY };
enum init { INIT_SCRATCH, INIT_PRETRAINED };

struct weight_file {
	const char *path;       /* relative to the round's data directory */
	const char *sha256;     /* 64 hex digits, either case */
};

struct component {
	const char *name;
	const char *role;
	enum origin origin;
	const char *source;     /* "" when absent */
	enum init init;
	int frozen;
	const char *license;
	struct spdx_expr *expr;
	struct weight_file *weights;
	size_t weight_count;
};

struct attribution {
	const char *component;
	const char *license;
	const char *notice;
};

struct manifest {
	const char *file;
	const char *model_name;
	const char *model_license;
	struct spdx_expr *model_expr;
	int has_total, has_active;
	double parameters_total, parameters_active;
	struct component *components;
	size_t component_count;
	struct attribution *attributions;
	size_t attribution_count;
};

/* Load and validate `file`.  On bad input the error is recorded (naming the
 * file and the field) and KV_ERR_INPUT returned; m is then half-filled and
 * must still be freed. */
int manifest_read(const struct kv_host *h, struct kv_ctx *ctx, const char *file, struct manifest *m);
void manifest_free(struct manifest *m);

/* Parse a licence expression; on a syntax error record "what: 'text': at
 * column C (before '...'): why" and return KV_ERR_INPUT. */
int license_parse(const struct kv_host *h, struct kv_ctx *ctx, const char *what, const char *text,
		  struct spdx_expr **out);

/* 1 when the component has an attribution entry. */
int manifest_attributed(const struct manifest *m, const char *component);

#endif

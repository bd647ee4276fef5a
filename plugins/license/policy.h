/* policy: which licences a round allows (allowed_licenses) and which carry
 * terms that impose outside control (restricted_terms), and the verdict on
 * one licence expression. */
#ifndef KV_LICENSE_POLICY_H
#define KV_LICENSE_POLICY_H

#include <kaieval/plugin.h>

#include "spdx.h"
#include "text.h"

struct restricted_row {
	struct spdx_expr *expr;   /* a single licence id */
	char *term;               /* e.g. "naming" */
	char *clause;             /* where the licence says so ("" when not given) */
};

struct policy {
	struct spdx_expr **allowed;   /* single terms */
	size_t allowed_count;
	struct restricted_row *restricted;
	size_t restricted_count;
};

/* allowed_licenses: a list of strings, each one licence id, "id+", a
 * LicenseRef, or "id WITH exception". */
int policy_read_allowed(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *list,
			struct policy *p);
/* restricted_terms: a `license,term[,clause]` table. */
int policy_read_restricted(const struct kv_host *h, struct kv_ctx *ctx, const char *path,
			   struct policy *p);
void policy_free(struct policy *p);

/* The verdict on one expression.  An id reported as restricted is not
 * reported again as not allowed: when the expression cannot be satisfied
 * without a restricted licence, restricted ids count as allowed for the
 * allowed_licenses test (so each cause is reported once). */
struct verdict {
	int restricted;       /* no way to satisfy it without a restricted licence */
	int not_allowed;      /* no way to satisfy it with allowed licences */
};

void policy_judge(const struct policy *p, const struct spdx_expr *e, struct verdict *v);
/* "'A', 'B'": the ids behind v->not_allowed, each once, in source order. */
void policy_describe_not_allowed(const struct policy *p, const struct spdx_expr *e,
				 const struct verdict *v, struct text *out);
/* "'L' (term [clause]; term [clause])": the restricted ids and their terms. */
void policy_describe_restricted(const struct policy *p, const struct spdx_expr *e, struct text *out);

#endif

/* policy: see policy.h. */
#include "policy.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_entry(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *v, size_t i,
		      struct spdx_expr **out)
{
	char what[512];
	const char *s = h->value_string(v);
	snprintf(what, sizeof what, "%s: allowed_licenses[%zu]", h->value_where(v), i);
	if (!s)
		return h->error(ctx, "%s: expected a string", what);
	int rc = license_parse(h, ctx, what, s, out);
	if (rc)
		return rc;
	if (!spdx_is_single(*out))
		return h->error(ctx, "%s: '%s': list one licence per entry (no AND/OR)", what, s);
	return 0;
}

int policy_read_allowed(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *list,
			struct policy *p)
{
	if (h->value_type(list) != KV_T_LIST)
		return h->value_error(ctx, list, "expected a list of licence ids");
	size_t n = h->value_count(list);
	p->allowed = calloc(n ? n : 1, sizeof *p->allowed);
	if (!p->allowed)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		int rc = read_entry(h, ctx, h->value_at(list, i), i, &p->allowed[i]);
		if (p->allowed[i])
			p->allowed_count = i + 1;
		if (rc)
			return rc;
	}
	return 0;
}

struct columns { int license, term, clause; };

static int read_row(const struct kv_host *h, struct kv_table *t,
		    const struct columns *c, struct restricted_row *row)
{
	const char *id = h->table_field(t, c->license);
	const char *term = h->table_field(t, c->term);
	struct spdx_error e;
	enum spdx_status st = spdx_parse(id, strlen(id), &row->expr, &e);
	if (st == SPDX_NOMEM)
		return KV_ERR_INTERNAL;
	if (st == SPDX_SYNTAX)
		return h->table_error(t, c->license, "'%s' is not a licence id: at column %zu: %s", id,
				      e.offset + 1, e.message);
	if (!spdx_is_single(row->expr) || spdx_term_at(row->expr, 0)->exception.kind != SPDX_ID_NONE)
		return h->table_error(t, c->license, "'%s': give one licence id, without AND, OR or WITH", id);
	if (!*term)
		return h->table_error(t, c->term, "empty: name the restrictive term");
	row->term = strdup(term);
	row->clause = strdup(c->clause >= 0 ? h->table_field(t, c->clause) : "");
	return row->term && row->clause ? 0 : KV_ERR_INTERNAL;
}

static int find_columns(const struct kv_host *h, struct kv_ctx *ctx, struct kv_table *t,
			const char *path, struct columns *c)
{
	c->license = h->table_column(t, "license");
	c->term = h->table_column(t, "term");
	c->clause = h->table_column(t, "clause");
	if (c->license < 0 || c->term < 0)
		return h->error(ctx, "%s: missing column '%s' (the table is license,term[,clause])", path,
				c->license < 0 ? "license" : "term");
	return 0;
}

static int add_row(struct policy *p, struct restricted_row **row)
{
	struct restricted_row *v = realloc(p->restricted, (p->restricted_count + 1) * sizeof *v);
	if (!v)
		return KV_ERR_INTERNAL;
	p->restricted = v;
	*row = memset(&v[p->restricted_count++], 0, sizeof *v);
	return 0;
}

int policy_read_restricted(const struct kv_host *h, struct kv_ctx *ctx, const char *path,
			   struct policy *p)
{
	struct kv_table *t = h->table_open(ctx, path);
	if (!t)
		return KV_ERR_INPUT;
	struct columns c;
	int rc = find_columns(h, ctx, t, path, &c), more;
	while (rc == 0 && (more = h->table_next(t)) != 0) {
		struct restricted_row *row;
		if (more < 0)
			rc = KV_ERR_INPUT;
		else if (!(rc = add_row(p, &row)))
			rc = read_row(h, t, &c, row);
	}
	h->table_close(t);
	if (rc == KV_ERR_INTERNAL)
		h->error(ctx, "%s: out of memory", path);
	return rc;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->allowed_count; i++)
		spdx_free(p->allowed[i]);
	free(p->allowed);
	for (size_t i = 0; i < p->restricted_count; i++) {
		spdx_free(p->restricted[i].expr);
		free(p->restricted[i].term);
		free(p->restricted[i].clause);
	}
	free(p->restricted);
	memset(p, 0, sizeof *p);
}

static int allowed(const struct policy *p, const struct spdx_term *t)
{
	for (size_t i = 0; i < p->allowed_count; i++)
		if (spdx_term_covered(t, spdx_term_at(p->allowed[i], 0)))
			return 1;
	return 0;
}

static int restricted(const struct policy *p, const struct spdx_term *t)
{
	for (size_t i = 0; i < p->restricted_count; i++)
		if (spdx_id_equal(&t->license, &spdx_term_at(p->restricted[i].expr, 0)->license))
			return 1;
	return 0;
}

static int accept_allowed(const struct spdx_term *t, void *arg) { return allowed(arg, t); }
static int accept_free(const struct spdx_term *t, void *arg) { return !restricted(arg, t); }

static int accept_allowed_or_restricted(const struct spdx_term *t, void *arg)
{
	return allowed(arg, t) || restricted(arg, t);
}

void policy_judge(const struct policy *p, const struct spdx_expr *e, struct verdict *v)
{
	void *arg = (void *)p;
	v->restricted = !spdx_satisfied(e, accept_free, arg);
	v->not_allowed = !spdx_satisfied(e, v->restricted ? accept_allowed_or_restricted : accept_allowed, arg);
}

/* Has an earlier term of e the same licence id as term i? */
static int seen_before(const struct spdx_expr *e, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (spdx_id_equal(&spdx_term_at(e, j)->license, &spdx_term_at(e, i)->license))
			return 1;
	return 0;
}

static void add_id(struct text *out, const struct spdx_term *t, size_t *count)
{
	text_add(out, "%s'%.*s'", (*count)++ ? ", " : "", (int)t->license.len, t->license.text);
}

void policy_describe_not_allowed(const struct policy *p, const struct spdx_expr *e,
				 const struct verdict *v, struct text *out)
{
	size_t count = 0;
	for (size_t i = 0; i < spdx_term_count(e); i++) {
		const struct spdx_term *t = spdx_term_at(e, i);
		if (!allowed(p, t) && !(v->restricted && restricted(p, t)) && !seen_before(e, i))
			add_id(out, t, &count);
	}
}

static void describe_terms(const struct policy *p, const struct spdx_term *t, struct text *out)
{
	const char *sep = " (";
	for (size_t r = 0; r < p->restricted_count; r++) {
		const struct restricted_row *row = &p->restricted[r];
		if (!spdx_id_equal(&t->license, &spdx_term_at(row->expr, 0)->license))
			continue;
		text_add(out, "%s%s", sep, row->term);
		if (*row->clause)
			text_add(out, " [%s]", row->clause);
		sep = "; ";
	}
	text_add(out, ")");
}

void policy_describe_restricted(const struct policy *p, const struct spdx_expr *e, struct text *out)
{
	size_t count = 0;
	for (size_t i = 0; i < spdx_term_count(e); i++) {
		const struct spdx_term *t = spdx_term_at(e, i);
		if (restricted(p, t) && !seen_before(e, i)) {
			add_id(out, t, &count);
			describe_terms(p, t, out);
		}
	}
}

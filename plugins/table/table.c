/* table: a criterion recorded by hand (criteria.md, "table").
 *
 * The file holds team,value[,normalized][,pass][,note]: one row per team.
 * It is the smallest complete plugin and the model for plugin authors. */
#include <kaieval/plugin.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct kv_param_decl params[] = {
	{"file", KV_T_PATH, 1, NULL, NULL,
	 "CSV or JSONL with columns team,value[,normalized][,pass][,note]"},
	{"unit", KV_T_STRING, 0, "", NULL, "unit of the value column, shown in reports"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

struct columns {
	int team, value, normalized, pass, note;
};

static int need_column(const struct kv_host *h, struct kv_ctx *ctx, const char *file, int col,
		       const char *name, const char *why)
{
	if (col >= 0)
		return 0;
	return h->error(ctx, "%s: missing column '%s' (%s)", file, name, why);
}

static int find_columns(const struct kv_host *h, struct kv_ctx *ctx, struct kv_table *t,
			const char *file, struct columns *c)
{
	enum kv_kind kind = h->criterion_kind(ctx);
	c->team = h->table_column(t, "team");
	c->value = h->table_column(t, "value");
	c->normalized = h->table_column(t, "normalized");
	c->pass = h->table_column(t, "pass");
	c->note = h->table_column(t, "note");
	if (need_column(h, ctx, file, c->team, "team", "every row names a team") ||
	    need_column(h, ctx, file, c->value, "value", "the raw value"))
		return KV_ERR_INPUT;
	if (kind == KV_KIND_SCORE)
		return need_column(h, ctx, file, c->normalized, "normalized", "a score criterion needs it");
	if (kind == KV_KIND_GATE)
		return need_column(h, ctx, file, c->pass, "pass", "a gate needs it");
	return 0;
}

static int read_row(const struct kv_host *h, struct kv_ctx *ctx, struct kv_table *t,
		    const struct columns *c, const char *unit, char *seen)
{
	const char *team = h->table_field(t, c->team);
	long i = h->team_index(ctx, team);
	if (i < 0)
		return h->table_error(t, c->team, "team '%s' is not in this round", team);
	if (seen[i])
		return h->table_error(t, c->team, "team '%s' appears twice", team);
	seen[i] = 1;
	double value, normalized, pass;
	if (h->table_number(t, c->value, &value))
		return h->table_error(t, c->value, "'%s' is not a number", h->table_field(t, c->value));
	h->set_value(ctx, (size_t)i, value, unit);
	const char *nf = h->table_field(t, c->normalized);
	if (c->normalized >= 0 && (*nf || h->criterion_kind(ctx) == KV_KIND_SCORE)) {
		if (h->table_number(t, c->normalized, &normalized) || normalized < 0 || normalized > 1)
			return h->table_error(t, c->normalized, "'%s' is not a number in [0, 1]", nf);
		h->set_normalized(ctx, (size_t)i, normalized);
	}
	const char *pf = h->table_field(t, c->pass);
	if (c->pass >= 0 && (*pf || h->criterion_kind(ctx) == KV_KIND_GATE)) {
		if (strcmp(pf, "0") != 0 && strcmp(pf, "1") != 0)
			return h->table_error(t, c->pass, "'%s' is not 0 or 1", pf);
		pass = pf[0] == '1';
		h->set_pass(ctx, (size_t)i, (int)pass);
	}
	h->evidence_num(ctx, (size_t)i, "line", (double)h->table_line(t));
	if (c->note >= 0 && *h->table_field(t, c->note))
		h->evidence_str(ctx, (size_t)i, "note", "%s", h->table_field(t, c->note));
	return KV_OK;
}

static int table_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	if (KV_HOST_REQUIRE(h, ctx, table_number))
		return KV_ERR_INTERNAL;
	const char *file = h->value_string(h->param(ctx, "file"));
	const char *unit = h->value_string(h->param(ctx, "unit"));
	struct kv_table *t = h->table_open(ctx, file);
	if (!t)
		return KV_ERR_INPUT;
	size_t n = h->team_count(ctx);
	char *seen = calloc(n ? n : 1, 1);
	struct columns c = {-1, -1, -1, -1, -1};
	int rc = seen ? find_columns(h, ctx, t, file, &c) : KV_ERR_INTERNAL;
	int more;
	while (rc == KV_OK && (more = h->table_next(t)) != 0)
		rc = more < 0 ? KV_ERR_INPUT : read_row(h, ctx, t, &c, unit, seen);
	for (size_t i = 0; rc == KV_OK && i < n; i++)
		if (!seen[i])
			rc = h->error(ctx, "%s: no row for team '%s'", file, h->team_id(ctx, i));
	free(seen);
	h->table_close(t);
	return rc;
}

KAIEVAL_PLUGIN_DEFINE(table,
	.kinds = KV_KIND_SCORE | KV_KIND_GATE | KV_KIND_INFO,
	.version = "1.1.0",
	.summary = "a criterion recorded by hand: value, normalized score or pass per team",
	.params = params,
	.evaluate = table_evaluate);

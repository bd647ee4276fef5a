/* A plugin of ABI 1.0, compiled against the frozen 1.0 header
 * (tests/plugins/abi-1.0/kaieval/plugin.h), as plugins built before 1.1
 * were.  It uses only 1.0 members, with their 1.0 conventions: it parses
 * its table cells itself, and reads an earlier criterion with `outcome`. */
#include <kaieval/plugin.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(KV_ABI_MAJOR == 1 && KV_ABI_MINOR == 0, "must build against the frozen 1.0 header");

static const struct kv_param_decl params[] = {
	{"file", KV_T_PATH, 1, NULL, NULL, "CSV with columns team,score"},
	{"scale", KV_T_FLOAT, 0, "10", NULL, "the score that is worth 1"},
	{"previous", KV_T_STRING, 0, NULL, NULL, "an earlier criterion to copy into evidence"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static int read_row(const struct kv_host *h, struct kv_ctx *ctx, struct kv_table *t, double scale)
{
	const char *team = h->table_field(t, h->table_column(t, "team"));
	const char *cell = h->table_field(t, h->table_column(t, "score"));
	long i = h->team_index(ctx, team);
	char *end;
	double score = strtod(cell, &end);
	if (i < 0 || !*cell || *end)
		return h->table_error(t, -1, "bad row");
	h->set_value(ctx, (size_t)i, score, "pt");
	h->set_normalized(ctx, (size_t)i, score / scale);
	h->evidence_num(ctx, (size_t)i, "doubled", 2 * score);
	return KV_OK;
}

static int copy_previous(const struct kv_host *h, struct kv_ctx *ctx, const char *previous)
{
	for (size_t t = 0; previous && t < h->team_count(ctx); t++) {
		struct kv_outcome o;
		if (h->outcome(ctx, previous, t, &o))
			return KV_ERR_INPUT;
		h->evidence_num(ctx, t, "previous_normalized", o.normalized);
	}
	return KV_OK;
}

static int abi10_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	double scale = 0;
	int rc = KV_OK, more = 0;
	(void)state;
	if (!h->value_double(h->param(ctx, "scale"), &scale) || scale <= 0)
		return h->error(ctx, "scale must be positive");
	struct kv_table *t = h->table_open(ctx, h->value_string(h->param(ctx, "file")));
	if (!t)
		return KV_ERR_INPUT;
	while (rc == KV_OK && (more = h->table_next(t)) == 1)
		rc = read_row(h, ctx, t, scale);
	h->table_close(t);
	if (rc == KV_OK && more < 0)
		rc = KV_ERR_INPUT;
	return rc ? rc : copy_previous(h, ctx, h->value_string(h->param(ctx, "previous")));
}

KV_PLUGIN_EXPORT const struct kv_plugin kaieval_plugin_abi10 = {
	.abi_version = KV_ABI_VERSION,
	.size = sizeof(struct kv_plugin),
	.kinds = KV_KIND_SCORE,
	.name = "abi10",
	.version = "1.0.0",
	.summary = "a plugin built against the frozen ABI 1.0 header",
	.params = params,
	.evaluate = abi10_evaluate,
};

/* A plugin of ABI 1.1: the descriptor from KAIEVAL_PLUGIN_DEFINE, numbers
 * through table_number, an earlier criterion through outcome_get with a
 * size, a warning that reaches the record, and KV_HOST_HAS before each 1.1
 * member. */
#include <kaieval/plugin.h>

static const struct kv_param_decl params[] = {
	{"file", KV_T_PATH, 1, NULL, NULL, "CSV with columns team,score"},
	{"previous", KV_T_STRING, 0, NULL, NULL, "an earlier criterion to read"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static int read_row(const struct kv_host *h, struct kv_ctx *ctx, struct kv_table *t)
{
	int col = h->table_column(t, "score");
	long i = h->team_index(ctx, h->table_field(t, h->table_column(t, "team")));
	double score;
	if (i < 0)
		return h->table_error(t, -1, "unknown team");
	if (h->table_number(t, col, &score))
		return h->table_error(t, col, "'%s' is not a number", h->table_field(t, col));
	h->set_normalized(ctx, (size_t)i, score / 10);
	if (score == 0)
		h->warn(ctx, "team '%s' scored 0", h->team_id(ctx, (size_t)i));
	return KV_OK;
}

/* Asks for the first members only: what lies beyond out_size stays as it was. */
static int read_previous(const struct kv_host *h, struct kv_ctx *ctx, const char *previous)
{
	for (size_t t = 0; previous && t < h->team_count(ctx); t++) {
		struct kv_outcome o = {.normalized = -7, .pass = -7};
		if (h->outcome_get(ctx, previous, t, &o, offsetof(struct kv_outcome, normalized)))
			return KV_ERR_INPUT;
		h->evidence_num(ctx, t, "previous_value", o.value);
		h->evidence_num(ctx, t, "untouched", o.normalized == -7 && o.pass == -7);
	}
	return KV_OK;
}

static int abi11_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	int rc = KV_OK, more = 0;
	(void)state;
	if (KV_HOST_REQUIRE(h, ctx, table_number) || KV_HOST_REQUIRE(h, ctx, outcome_get))
		return KV_ERR_INTERNAL;
	struct kv_table *t = h->table_open(ctx, h->value_string(h->param(ctx, "file")));
	if (!t)
		return KV_ERR_INPUT;
	while (rc == KV_OK && (more = h->table_next(t)) == 1)
		rc = read_row(h, ctx, t);
	h->table_close(t);
	if (rc == KV_OK && more < 0)
		rc = KV_ERR_INPUT;
	return rc ? rc : read_previous(h, ctx, h->value_string(h->param(ctx, "previous")));
}

KAIEVAL_PLUGIN_DEFINE(abi11,
	.kinds = KV_KIND_SCORE,
	.version = "1.1.0",
	.summary = "a plugin built with KAIEVAL_PLUGIN_DEFINE and the 1.1 members",
	.params = params,
	.evaluate = abi11_evaluate);

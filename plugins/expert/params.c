/* Reading and checking the expert plugin's params into struct expert_config. */
#include "expert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A list of distinct non-empty strings, or NULL / 0 when the param is absent. */
static int read_string_list(const struct kv_host *h, struct kv_ctx *ctx, const char *name,
			    const char ***out, size_t *count)
{
	const struct kv_value *list = h->param(ctx, name);
	*out = NULL;
	*count = 0;
	if (!list)
		return KV_OK;
	size_t n = h->value_count(list);
	if (n == 0)
		return h->value_error(ctx, list, "an empty list; leave the param out instead");
	const char **v = calloc(n, sizeof *v);
	if (!v)
		return KV_ERR_INTERNAL;
	*out = v;
	for (size_t i = 0; i < n; i++) {
		const struct kv_value *s = h->value_at(list, i);
		v[i] = h->value_string(s);
		if (!v[i] || !*v[i])
			return h->value_error(ctx, s, "%s: entry %zu must be a non-empty string", name, i + 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				return h->value_error(ctx, s, "%s: '%s' is listed twice", name, v[i]);
	}
	*count = n;
	return KV_OK;
}

static const char *const item_members[] = {"id", "max", "category", NULL};

static int check_item_members(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *g)
{
	for (size_t j = 0; j < h->value_count(g); j++) {
		const struct kv_value *m = h->value_at(g, j);
		const char *const *known = item_members;
		while (*known && strcmp(*known, h->value_name(m)) != 0)
			known++;
		if (!*known)
			return h->value_error(ctx, m, "not a member of an item (an item has id, max, category)");
	}
	return KV_OK;
}

static int read_item(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *g,
		     struct expert_item *it)
{
	if (h->value_type(g) != KV_T_GROUP)
		return h->value_error(ctx, g, "an item must be a group { id; max; category; }");
	if (check_item_members(h, ctx, g))
		return KV_ERR_INPUT;
	it->id = h->value_string(h->value_member(g, "id"));
	it->category = h->value_string(h->value_member(g, "category"));
	if (!it->id || !*it->id)
		return h->value_error(ctx, g, "item needs 'id', a non-empty string");
	if (!it->category || !*it->category)
		return h->value_error(ctx, g, "item '%s' needs 'category', a non-empty string", it->id);
	const struct kv_value *max = h->value_member(g, "max");
	if (!max || !h->value_double(max, &it->max))
		return h->value_error(ctx, g, "item '%s' needs 'max', a number", it->id);
	if (!(it->max > 0 && it->max < 1e12))
		return h->value_error(ctx, max, "item '%s': max must be a positive number, not %g",
				      it->id, it->max);
	return KV_OK;
}

/* Categories in the order the items first name them. */
static int index_categories(struct expert_config *cfg)
{
	cfg->categories = calloc(cfg->item_count, sizeof *cfg->categories);
	if (!cfg->categories)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < cfg->item_count; i++) {
		size_t c = 0;
		while (c < cfg->category_count && strcmp(cfg->categories[c], cfg->items[i].category) != 0)
			c++;
		if (c == cfg->category_count)
			cfg->categories[cfg->category_count++] = cfg->items[i].category;
		cfg->items[i].category_index = c;
	}
	return KV_OK;
}

static int read_items(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *list = h->param(ctx, "items");
	size_t n = h->value_count(list);
	if (n == 0)
		return h->value_error(ctx, list, "the rubric needs at least one item");
	cfg->items = calloc(n, sizeof *cfg->items);
	if (!cfg->items)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		const struct kv_value *g = h->value_at(list, i);
		if (read_item(h, ctx, g, &cfg->items[i]))
			return KV_ERR_INPUT;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->items[i].id, cfg->items[j].id) == 0)
				return h->value_error(ctx, g, "item '%s' is listed twice", cfg->items[i].id);
		cfg->item_count++;
	}
	return index_categories(cfg);
}

/* checkbox and approval read one 0/1 item: a rubric of one item with max 1. */
static int read_gate_item(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *v = h->param(ctx, "item");
	const char *id = h->value_string(v);
	if (!id || !*id)
		return h->value_error(ctx, v, "must name the sheet's 0/1 item");
	cfg->items = calloc(1, sizeof *cfg->items);
	if (!cfg->items)
		return KV_ERR_INTERNAL;
	cfg->items[0] = (struct expert_item){.id = id, .category = id, .category_index = 0, .max = 1};
	cfg->item_count = 1;
	return index_categories(cfg);
}

static int read_mode(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *v = h->param(ctx, "mode");
	const char *mode = h->value_string(v);
	cfg->mode = strcmp(mode, "checkbox") == 0 ? EXPERT_CHECKBOX
		  : strcmp(mode, "approval") == 0 ? EXPERT_APPROVAL : EXPERT_RUBRIC;
	enum kv_kind want = cfg->mode == EXPERT_RUBRIC ? KV_KIND_SCORE : KV_KIND_GATE;
	/* mode may be the default, which has no place in the config: these
	 * errors name the criterion (the host's prefix) rather than a line. */
	if (h->criterion_kind(ctx) != want)
		return h->error(ctx, "mode \"%s\" needs kind = \"%s\"%s", mode,
				want == KV_KIND_SCORE ? "score" : "gate",
				want == KV_KIND_SCORE ? " (a gate uses mode \"checkbox\" or \"approval\")" : "");
	int rubric = cfg->mode == EXPERT_RUBRIC;
	if (rubric && h->param(ctx, "item"))
		return h->value_error(ctx, h->param(ctx, "item"), "is for checkbox/approval; a rubric uses items");
	if (!rubric && h->param(ctx, "items"))
		return h->value_error(ctx, h->param(ctx, "items"), "is for mode \"rubric\"; %s reads one item", mode);
	if (rubric && !h->param(ctx, "items"))
		return h->error(ctx, "mode \"rubric\" needs the param 'items'");
	if (!rubric && !h->param(ctx, "item"))
		return h->error(ctx, "mode \"%s\" needs the param 'item'", mode);
	return rubric ? read_items(h, ctx, cfg) : read_gate_item(h, ctx, cfg);
}

static int read_trim(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *trim = h->param(ctx, "trim"), *min = h->param(ctx, "trim_min");
	h->value_int(trim, &cfg->trim);
	h->value_int(min, &cfg->trim_min);
	if (cfg->trim < 0)
		return h->value_error(ctx, trim, "must be 0 or more, not %lld", cfg->trim);
	if (cfg->trim_min < 0)
		return h->value_error(ctx, min, "must be 0 or more, not %lld", cfg->trim_min);
	/* trim_min < 2*trim + 1 would let trimming remove every total. */
	if (cfg->trim > 0 && (cfg->trim_min < 1 || (cfg->trim_min - 1) / 2 < cfg->trim))
		return h->value_error(ctx, min, "must be at least 2 * trim + 1 so that a trimmed "
				      "mean keeps a total (trim = %lld, trim_min = %lld)",
				      cfg->trim, cfg->trim_min);
	return KV_OK;
}

static int read_fail_when(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *v = h->param(ctx, "fail_when");
	const char *s = h->value_string(v);
	if (strcmp(s, "any") == 0) {
		cfg->fail_rule = EXPERT_FAIL_ANY;
		return KV_OK;
	}
	if (strcmp(s, "majority") == 0) {
		cfg->fail_rule = EXPERT_FAIL_MAJORITY;
		return KV_OK;
	}
	const char *n = strncmp(s, "at_least:", 9) == 0 ? s + 9 : NULL;
	char *end = NULL;
	errno = 0;
	cfg->fail_at_least = n && *n >= '0' && *n <= '9' ? strtoll(n, &end, 10) : 0;
	if (!n || !end || *end || errno || cfg->fail_at_least < 1)
		return h->value_error(ctx, v, "must be \"any\", \"majority\" or \"at_least:N\" "
				      "with N a whole number from 1, not \"%s\"", s);
	cfg->fail_rule = EXPERT_FAIL_AT_LEAST;
	return KV_OK;
}

static int read_paths(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	const struct kv_value *sheet = h->param(ctx, "sheet"), *recuse = h->param(ctx, "recuse");
	cfg->sheet = h->value_string(sheet);
	cfg->recuse = recuse ? h->value_string(recuse) : NULL;
	if (!cfg->sheet || !*cfg->sheet)
		return h->value_error(ctx, sheet, "must name the score sheet");
	if (cfg->recuse && !*cfg->recuse)
		return h->value_error(ctx, recuse, "must name a file (or leave the param out)");
	return KV_OK;
}

/* An ignored item may not be one this criterion scores. */
static int check_ignored(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg)
{
	for (size_t k = 0; k < cfg->ignored_count; k++)
		for (size_t i = 0; i < cfg->item_count; i++)
			if (strcmp(cfg->ignored[k], cfg->items[i].id) == 0)
				return h->value_error(ctx, h->param(ctx, "ignore_items"),
						      "item '%s' is both scored and ignored", cfg->ignored[k]);
	return KV_OK;
}

int expert_read_config(const struct kv_host *h, struct kv_ctx *ctx, struct expert_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	int rc = read_paths(h, ctx, cfg);
	if (!rc)
		rc = read_mode(h, ctx, cfg);
	if (!rc)
		rc = read_trim(h, ctx, cfg);
	if (!rc)
		rc = read_fail_when(h, ctx, cfg);
	if (!rc)
		rc = read_string_list(h, ctx, "experts", &cfg->experts, &cfg->expert_count);
	if (!rc && cfg->experts)
		qsort(cfg->experts, cfg->expert_count, sizeof *cfg->experts, by_string);
	if (!rc)
		rc = read_string_list(h, ctx, "ignore_items", &cfg->ignored, &cfg->ignored_count);
	if (!rc)
		rc = check_ignored(h, ctx, cfg);
	cfg->skip_missing = strcmp(h->value_string(h->param(ctx, "missing")), "skip") == 0;
	return rc;
}

void expert_free_config(struct expert_config *cfg)
{
	free(cfg->items);
	free(cfg->categories);
	free(cfg->experts);
	free(cfg->ignored);
	memset(cfg, 0, sizeof *cfg);
}

/* cost: one team's facts file, stated numbers or a model folder to count. */
#include "cost.h"

#include <stdio.h>
#include <string.h>

static const char *const known_keys[] = {
	"model", "dense", "parameters_total", "parameters_active", "tokens_per_second",
	"gpu_hours", "note", NULL,
};

static int is_known(const char *name)
{
	for (size_t i = 0; known_keys[i]; i++)
		if (strcmp(known_keys[i], name) == 0)
			return 1;
	return 0;
}

/* A misspelt key would silently drop a number: refuse unknown and repeated keys. */
static int check_keys(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *root)
{
	size_t n = h->value_count(root);
	for (size_t i = 0; i < n; i++) {
		const struct kv_value *v = h->value_at(root, i);
		const char *name = h->value_name(v);
		if (!is_known(name))
			return h->value_error(ctx, v, "unknown key (known: model, dense, parameters_total, "
					      "parameters_active, tokens_per_second, gpu_hours, note)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(h->value_name(h->value_at(root, j)), name) == 0)
				return h->value_error(ctx, v, "appears twice");
	}
	return KV_OK;
}

static void set_from(struct cost_fact *f, const char *file, const char *key)
{
	snprintf(f->from, sizeof f->from, "%s: %s", file, key);
}

/* A positive whole number of parameters. */
static int read_count(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *v,
		      const char *file, struct cost_fact *out)
{
	double d;
	long long n;
	if (!h->value_double(v, &d))
		return h->value_error(ctx, v, "is not a number");
	if (!(d > 0))
		return h->value_error(ctx, v, "must be a positive number of parameters, not %.17g", d);
	if (!h->value_int(v, &n))
		return h->value_error(ctx, v, "must be a whole number of parameters below 9e15, not %.17g", d);
	out->present = 1;
	out->value = (double)n;
	set_from(out, file, h->value_name(v));
	return KV_OK;
}

/* An optional positive number (throughput, GPU-hours). */
static int read_positive(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *root,
			 const char *key, const char *file, struct cost_fact *out)
{
	const struct kv_value *v = h->value_member(root, key);
	double d;
	if (!v)
		return KV_OK;
	if (!h->value_double(v, &d))
		return h->value_error(ctx, v, "is not a number");
	if (!(d > 0))
		return h->value_error(ctx, v, "must be positive, not %.17g", d);
	out->present = 1;
	out->value = d;
	set_from(out, file, key);
	return KV_OK;
}

static int read_stated(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *root,
		       const char *file, struct cost_facts *f)
{
	const struct kv_value *tv = h->value_member(root, "parameters_total");
	const struct kv_value *av = h->value_member(root, "parameters_active");
	const struct kv_value *dense = h->value_member(root, "dense");
	if (dense)
		return h->value_error(ctx, dense, "applies only with 'model'; state parameters_active instead");
	if (!tv)
		return h->error(ctx, "%s: missing 'parameters_total' (or 'model', a folder to count)", file);
	if (!av)
		return h->error(ctx, "%s: missing 'parameters_active' (or 'model', a folder to count)", file);
	int rc = read_count(h, ctx, tv, file, &f->total);
	if (!rc)
		rc = read_count(h, ctx, av, file, &f->active);
	if (!rc && f->active.value > f->total.value)
		rc = h->value_error(ctx, av, "%.0f is more than parameters_total (%.0f)", f->active.value,
				    f->total.value);
	return rc;
}

static int read_model(const struct kv_host *h, struct kv_ctx *ctx, size_t team,
		      const struct kv_value *root, const char *file, const struct cost_options *opt,
		      struct cost_facts *f)
{
	const struct kv_value *mv = h->value_member(root, "model");
	const struct kv_value *dv = h->value_member(root, "dense");
	const char *dir = h->value_string(mv);
	int dense = 0;
	if (!dir || !*dir)
		return h->value_error(ctx, mv, "must name the model's folder (a string)");
	static const char *const stated[] = {"parameters_total", "parameters_active"};
	for (int i = 0; i < 2; i++) {
		const struct kv_value *v = h->value_member(root, stated[i]);
		if (v)
			return h->value_error(ctx, v, "cannot be stated together with 'model': the "
					      "count comes from the model's files");
	}
	if (dv && !h->value_bool(dv, &dense))
		return h->value_error(ctx, dv, "must be true or false");
	return cost_count_model(h, ctx, team, file, dir, dense, opt, f);
}

static void emit_all(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const struct cost_facts *f)
{
	static const char *const keys[] = {"parameters_total", "parameters_active", "tokens_per_second",
					   "gpu_hours"};
	const struct cost_fact *facts[] = {&f->total, &f->active, &f->tps, &f->gpu_hours};
	char from[64];
	for (int i = 0; i < 4; i++) {
		if (!facts[i]->present)
			continue;
		h->evidence_num(ctx, team, keys[i], facts[i]->value);
		snprintf(from, sizeof from, "%s_from", keys[i]);
		h->evidence_str(ctx, team, from, "%s", facts[i]->from);
	}
}

int cost_read_facts(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *path,
		    const struct cost_options *opt, struct cost_facts *f)
{
	memset(f, 0, sizeof *f);
	int kind = h->input_kind(ctx, path);
	if (kind != 1)
		return h->error(ctx, "%s: %s (the facts of team '%s', param 'facts')", path,
				kind == 2 ? "is a folder, not a facts file" : "no such file in the data directory",
				h->team_id(ctx, team));
	const struct kv_value *root;
	if (h->json_load(ctx, path, &root))
		return KV_ERR_INPUT;
	if (h->value_type(root) != KV_T_GROUP)
		return h->value_error(ctx, root, "a facts file holds one JSON object");
	int rc = check_keys(h, ctx, root);
	if (rc)
		return rc;
	h->evidence_str(ctx, team, "facts", "%s", path);
	if (h->value_member(root, "model"))
		rc = read_model(h, ctx, team, root, path, opt, f);
	else
		rc = read_stated(h, ctx, root, path, f);
	if (!rc)
		rc = read_positive(h, ctx, root, "tokens_per_second", path, &f->tps);
	if (!rc)
		rc = read_positive(h, ctx, root, "gpu_hours", path, &f->gpu_hours);
	if (!rc)
		emit_all(h, ctx, team, f);
	return rc;
}

/* benchmarks: the params, and the members of the `benchmarks` list.
 *
 * The core has already checked names and types of the top-level params; the
 * members of the list are ours to check, with the member's file:line. */
#include "benchmarks.h"

#include <math.h>
#include <string.h>

static const char *const member_names[] = {"name", "task", "metric", "weight", "higher_is_better", NULL};

static const char *param_str(struct bm *b, const char *name)
{
	return b->h->value_string(b->h->param(b->ctx, name));
}

static double param_num(struct bm *b, const char *name)
{
	double x = NAN;
	b->h->value_double(b->h->param(b->ctx, name), &x);
	return x;
}

static enum bm_normalize normalize_of(const char *s)
{
	if (strcmp(s, "target") == 0)
		return BM_TARGET;
	if (strcmp(s, "reference") == 0)
		return BM_REFERENCE;
	return strcmp(s, "best") == 0 ? BM_BEST : BM_SCALE;
}

/* A positive finite number, or an error naming the param. */
static int need_positive(struct bm *b, const char *name, double x, int zero_ok)
{
	if (isfinite(x) && (x > 0 || (zero_ok && x == 0)))
		return 0;
	return b->h->value_error(b->ctx, b->h->param(b->ctx, name), "must be a number %s 0, not %g",
				 zero_ok ? ">=" : ">", x);
}

/* A file param given for a normalization that ignores it is a config mistake. */
static int only_for(struct bm *b, const char *name, const char *path, enum bm_normalize norm,
		    const char *norm_name)
{
	if (path && b->norm != norm)
		return b->h->value_error(b->ctx, b->h->param(b->ctx, name),
					 "is only used with normalize = \"%s\"", norm_name);
	if (!path && b->norm == norm)
		return b->h->error(b->ctx, "normalize = \"%s\" needs the param '%s'", norm_name, name);
	return 0;
}

int bm_read_params(struct bm *b)
{
	b->scores = param_str(b, "scores");
	b->files = param_str(b, "files");
	b->targets_path = param_str(b, "targets");
	b->reference_path = param_str(b, "reference");
	b->verify_path = param_str(b, "verify");
	b->bench_param = b->h->param(b->ctx, "benchmarks");
	b->norm = normalize_of(param_str(b, "normalize"));
	b->scale_max = param_num(b, "scale_max");
	b->cap = param_num(b, "cap");
	b->tolerance = param_num(b, "verify_tolerance");
	b->target_share = param_num(b, "target_share");
	b->verify_fatal = strcmp(param_str(b, "verify_fail"), "error") == 0;
	b->nteams = b->h->team_count(b->ctx);
	if (need_positive(b, "scale_max", b->scale_max, 0) || need_positive(b, "cap", b->cap, 0) ||
	    need_positive(b, "verify_tolerance", b->tolerance, 1) ||
	    need_positive(b, "target_share", b->target_share, 0) ||
	    only_for(b, "targets", b->targets_path, BM_TARGET, "target") ||
	    only_for(b, "reference", b->reference_path, BM_REFERENCE, "reference"))
		return KV_ERR_INPUT;
	return bm_read_bench_list(b);
}

static int check_member_names(struct bm *b, const struct kv_value *g)
{
	const struct kv_host *h = b->h;
	for (size_t i = 0; i < h->value_count(g); i++) {
		const struct kv_value *m = h->value_at(g, i);
		size_t k = 0;
		while (member_names[k] && strcmp(member_names[k], h->value_name(m)) != 0)
			k++;
		if (!member_names[k])
			return h->value_error(b->ctx, m, "unknown key in a benchmarks entry "
					      "(expected name, task, metric, weight, higher_is_better)");
	}
	return 0;
}

/* An optional string member: def when absent, an error when not a string. */
static int member_str(struct bm *b, const struct kv_value *g, const char *key, const char *def,
		      const char **out)
{
	const struct kv_value *m = b->h->value_member(g, key);
	*out = m ? b->h->value_string(m) : def;
	if (m && (!*out || !**out))
		return b->h->value_error(b->ctx, m, "must be a non-empty string");
	return 0;
}

static int member_weight(struct bm *b, const struct kv_value *g, double *out)
{
	const struct kv_value *m = b->h->value_member(g, "weight");
	*out = 1.0;
	if (m && (!b->h->value_double(m, out) || !isfinite(*out) || *out < 0))
		return b->h->value_error(b->ctx, m, "must be a number >= 0");
	return 0;
}

static int member_direction(struct bm *b, const struct kv_value *g, int *out)
{
	const struct kv_value *m = b->h->value_member(g, "higher_is_better");
	*out = 1;
	if (m && !b->h->value_bool(m, out))
		return b->h->value_error(b->ctx, m, "must be true or false");
	if (!*out && b->norm == BM_SCALE)
		return b->h->value_error(b->ctx, m, "normalize = \"scale\" has no meaning for a "
					 "lower-is-better benchmark; use reference, target or best");
	return 0;
}

static int read_entry(struct bm *b, const struct kv_value *g)
{
	const struct kv_host *h = b->h;
	if (h->value_type(g) != KV_T_GROUP)
		return h->value_error(b->ctx, g, "each benchmarks entry must be a group "
				      "{ name; task; metric; weight; higher_is_better; }");
	struct bm_bench x = {.decl = g};
	int rc = check_member_names(b, g);
	if (!rc && !h->value_member(g, "name"))
		rc = h->value_error(b->ctx, g, "benchmarks entry without 'name'");
	rc = rc ? rc : member_str(b, g, "name", NULL, &x.name);
	rc = rc ? rc : member_str(b, g, "task", x.name, &x.task);
	rc = rc ? rc : member_str(b, g, "metric", NULL, &x.metric);
	rc = rc ? rc : member_weight(b, g, &x.weight);
	rc = rc ? rc : member_direction(b, g, &x.higher);
	if (!rc && bm_bench_index(b, x.name) >= 0)
		rc = h->value_error(b->ctx, h->value_member(g, "name"), "benchmark '%s' is listed twice", x.name);
	return rc ? rc : bm_add_bench(b, &x);
}

int bm_read_bench_list(struct bm *b)
{
	const struct kv_host *h = b->h;
	if (!b->bench_param)
		return 0;
	size_t n = h->value_count(b->bench_param);
	if (n == 0)
		return h->value_error(b->ctx, b->bench_param, "the list is empty (leave it out to "
				      "score every benchmark in the scores file)");
	for (size_t i = 0; i < n; i++) {
		int rc = read_entry(b, h->value_at(b->bench_param, i));
		if (rc)
			return rc;
	}
	return 0;
}

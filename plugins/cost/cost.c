/* cost: cost efficiency (criteria.md, "cost").
 *
 * Per team: ratio = performance / cost, where performance is an earlier score
 * criterion's normalized value (1 without one) and cost is total or active
 * parameters (in billions), 1 / tokens per second, or GPU-hours.
 * normalized = ratio / the best team's ratio.  The facts come from a JSON
 * file per team, stated or counted from the model's safetensors headers. */
#include "cost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct kv_param_decl params[] = {
	{"facts", KV_T_PATH, 1, NULL, NULL,
	 "per-team JSON, e.g. \"cost/{team}.json\": parameters_total, parameters_active, optional "
	 "tokens_per_second, gpu_hours; or \"model\": a folder whose safetensors headers are counted"},
	{"cost", KV_T_STRING, 0, "parameters_active",
	 "parameters_total|parameters_active|tokens_per_second|gpu_hours",
	 "the denominator; tokens_per_second is inverted (faster is cheaper)"},
	{"performance", KV_T_STRING, 0, NULL, NULL,
	 "id of an earlier score criterion whose normalized value is the numerator (default: 1)"},
	{"expert_pattern", KV_T_STRING, 0, ".experts.", NULL,
	 "when counting a model: tensors whose names contain this are routed experts"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const char *const measure_names[] = {"parameters_total", "parameters_active",
					    "tokens_per_second", "gpu_hours"};
static const char *const measure_units[] = {"performance per billion parameters",
					    "performance per billion active parameters",
					    "performance x tokens per second", "performance per GPU-hour"};

struct cost_conf {
	const char *facts;
	const char *performance;          /* NULL: 1 for every team */
	const struct kv_value *performance_param;
	struct cost_options opt;
};

static int read_conf(const struct kv_host *h, struct kv_ctx *ctx, struct cost_conf *conf)
{
	const struct kv_value *cv = h->param(ctx, "cost");
	const char *cost = h->value_string(cv);
	conf->facts = h->value_string(h->param(ctx, "facts"));
	conf->performance_param = h->param(ctx, "performance");
	conf->performance = h->value_string(conf->performance_param);
	conf->opt.expert_pattern = h->value_string(h->param(ctx, "expert_pattern"));
	int m = 0;
	while (m < 4 && strcmp(measure_names[m], cost ? cost : "") != 0)
		m++;
	if (m == 4)
		return h->value_error(ctx, cv, "'%s' is none of parameters_total, parameters_active, "
				      "tokens_per_second, gpu_hours", cost ? cost : "");
	conf->opt.measure = (enum cost_measure)m;
	if (conf->performance && !*conf->performance)
		return h->value_error(ctx, conf->performance_param, "must name a score criterion");
	if (!conf->opt.expert_pattern || !*conf->opt.expert_pattern)
		return h->value_error(ctx, h->param(ctx, "expert_pattern"), "must not be empty");
	return KV_OK;
}

static const char *kind_name(enum kv_kind k)
{
	return k == KV_KIND_GATE ? "a gate" : k == KV_KIND_INFO ? "an info" : "a score";
}

/* The numerator: the performance criterion's normalized value. */
static int performance_of(const struct kv_host *h, struct kv_ctx *ctx, const struct cost_conf *conf,
			  size_t team, double *perf)
{
	struct kv_outcome o;
	*perf = 1.0;
	if (!conf->performance)
		return KV_OK;
	if (h->outcome_get(ctx, conf->performance, team, &o, sizeof o))
		return KV_ERR_INPUT;
	if (o.kind != KV_KIND_SCORE)
		return h->value_error(ctx, conf->performance_param, "criterion '%s' is %s criterion; "
				      "performance needs a score criterion (its normalized value)",
				      conf->performance, kind_name(o.kind));
	if (!(o.normalized >= 0 && o.normalized <= 1))
		return h->error(ctx, "criterion '%s' gave team '%s' no normalized value in [0, 1]",
				conf->performance, h->team_id(ctx, team));
	*perf = o.normalized;
	return KV_OK;
}

static const struct cost_fact *chosen(const struct cost_facts *f, enum cost_measure m)
{
	const struct cost_fact *all[] = {&f->total, &f->active, &f->tps, &f->gpu_hours};
	return all[m];
}

/* ratio = performance / cost; parameters count in billions so that ratios
 * read well, throughput multiplies (its inverse is the cost). */
static double ratio_of(enum cost_measure m, double perf, double value, double *cost)
{
	if (m == COST_TPS) {
		*cost = 1.0 / value;  /* evidence only: the ratio avoids the extra rounding */
		return perf * value;
	}
	*cost = m == COST_GPU_HOURS ? value : value / 1e9;
	return perf / *cost;
}

static int team_ratio(const struct kv_host *h, struct kv_ctx *ctx, const struct cost_conf *conf,
		      size_t team, double *ratio)
{
	char path[COST_PATH_MAX];
	struct cost_facts f;
	double perf, cost;
	enum cost_measure m = conf->opt.measure;
	int rc = h->expand_team(ctx, conf->facts, team, path, sizeof path);
	if (!rc)
		rc = cost_read_facts(h, ctx, team, path, &conf->opt, &f);
	if (!rc)
		rc = performance_of(h, ctx, conf, team, &perf);
	if (rc)
		return rc;
	const struct cost_fact *c = chosen(&f, m);
	if (!c->present)
		return h->error(ctx, "%s: missing '%s' (param cost = \"%s\")", path, measure_names[m],
				measure_names[m]);
	*ratio = ratio_of(m, perf, c->value, &cost);
	h->evidence_num(ctx, team, "performance", perf);
	if (conf->performance)
		h->evidence_str(ctx, team, "performance_from", "criterion '%s', normalized", conf->performance);
	else
		h->evidence_str(ctx, team, "performance_from", "no performance param: 1 for every team");
	h->evidence_num(ctx, team, "cost", cost);
	h->evidence_str(ctx, team, "cost_from", "%s%s", c->from, m == COST_TPS ? ", inverted (seconds "
			"per token)" : m == COST_GPU_HOURS ? "" : ", in billions");
	h->evidence_num(ctx, team, "ratio", *ratio);
	return KV_OK;
}

/* normalized = ratio / best ratio; the first best team in round order is named. */
static void normalize(const struct kv_host *h, struct kv_ctx *ctx, const struct cost_conf *conf,
		      const double *ratio, size_t n)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (ratio[i] > ratio[best])
			best = i;
	for (size_t i = 0; i < n; i++) {
		h->set_value(ctx, i, ratio[i], measure_units[conf->opt.measure]);
		h->set_normalized(ctx, i, ratio[best] > 0 ? ratio[i] / ratio[best] : 0.0);
	}
	h->evidence_str(ctx, KV_ROUND, "cost", "%s", measure_names[conf->opt.measure]);
	h->evidence_str(ctx, KV_ROUND, "performance", "%s", conf->performance ? conf->performance : "1");
	h->evidence_str(ctx, KV_ROUND, "best_team", "%s", h->team_id(ctx, best));
	h->evidence_num(ctx, KV_ROUND, "best_ratio", ratio[best]);
}

static int cost_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	if (KV_HOST_REQUIRE(h, ctx, outcome_get))
		return KV_ERR_INTERNAL;
	struct cost_conf conf;
	size_t n = h->team_count(ctx);
	double perf;
	int rc = read_conf(h, ctx, &conf);
	/* A config error (a gate as performance) before any file is read. */
	if (!rc && n > 0)
		rc = performance_of(h, ctx, &conf, 0, &perf);
	if (rc || n == 0)
		return rc;
	double *ratio = calloc(n, sizeof *ratio);
	if (!ratio) {
		h->error(ctx, "out of memory");
		return KV_ERR_INTERNAL;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = team_ratio(h, ctx, &conf, i, &ratio[i]);
	if (!rc)
		normalize(h, ctx, &conf, ratio, n);
	free(ratio);
	return rc;
}

KAIEVAL_PLUGIN_DEFINE(cost,
	.kinds = KV_KIND_SCORE | KV_KIND_INFO,
	.version = "1.1.0",
	.summary = "cost efficiency: performance per parameter, per GPU-hour or times throughput",
	.params = params,
	.evaluate = cost_evaluate);

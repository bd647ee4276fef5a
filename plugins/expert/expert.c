/* expert: the expert panel (criteria.md, "expert"; methods.md §1).
 *
 * rubric    every expert's total for a team is the sum of his item scores;
 *           the team's value is the Korean trimmed mean of the totals (drop
 *           `trim` highest and lowest, even if tied), normalized by the
 *           rubric's maximum.
 * checkbox  a gate on one 0/1 item: `fail_when` ticks fail the team.
 * approval  a gate on one 0/1 item: pass with approvals from a strict
 *           majority of the experts who scored the team (the repechage).
 *
 * Panel statistics (Krippendorff's alpha, each expert against the rest) are
 * round-level evidence: flags for a reviewer, never inputs to a score. */
#include "expert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct kv_param_decl params[] = {
	{"sheet", KV_T_PATH, 1, NULL, NULL,
	 "CSV or JSONL expert,team,item,score[,comment]: one row per expert, team and item"},
	{"mode", KV_T_STRING, 0, "rubric", "rubric|checkbox|approval",
	 "rubric (kind score), checkbox or approval (kind gate)"},
	{"items", KV_T_LIST, 0, NULL, NULL, "rubric: the items, a list of { id; max; category; }"},
	{"item", KV_T_STRING, 0, NULL, NULL,
	 "checkbox/approval: the sheet's 0/1 item (1 = ticked / approves)"},
	{"trim", KV_T_INT, 0, "1", NULL,
	 "drop this many highest and lowest expert totals (only that many, even if tied)"},
	{"trim_min", KV_T_INT, 0, "5", NULL,
	 "no trimming when fewer than this many totals are available for the team"},
	{"recuse", KV_T_PATH, 0, NULL, NULL,
	 "CSV expert,team: that expert's scores for that team are not counted"},
	{"missing", KV_T_STRING, 0, "error", "error|skip",
	 "a missing cell is an error, or skip: that expert's total is not formed and drops out"},
	{"fail_when", KV_T_STRING, 0, "any", NULL,
	 "checkbox: any, majority or at_least:N ticks fail the team"},
	{"experts", KV_T_LIST, 0, NULL, NULL,
	 "the panel's expert ids; when given, another expert in a file is an error and every "
	 "listed expert must score (else the panel is whoever the sheet names)"},
	{"ignore_items", KV_T_LIST, 0, NULL, NULL,
	 "sheet items this criterion skips (e.g. a checkbox read by another criterion)"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

/* Scratch for one evaluation. */
struct eval {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const struct expert_config *cfg;
	const struct expert_panel *p;
	char *key;                    /* evidence key "prefix.id" */
	size_t key_cap;
	char *list;                   /* comma-separated expert ids */
	size_t list_cap;
	struct expert_scored *xs;     /* one per expert */
	double *value;                /* [team][expert]: total (rubric) or 0/1 */
	unsigned char *formed;        /* [team][expert]: value present */
};

static const char *key_of(struct eval *ev, const char *prefix, const char *name)
{
	snprintf(ev->key, ev->key_cap, "%s.%s", prefix, name);
	return ev->key;
}

static void list_clear(struct eval *ev) { ev->list[0] = '\0'; }

/* The buffer holds every expert id joined, so any subset fits. */
static void list_add(struct eval *ev, const char *id)
{
	if (ev->list[0])
		strcat(ev->list, ", ");
	strcat(ev->list, id);
}

static const char *list_text(struct eval *ev) { return ev->list[0] ? ev->list : "none"; }

static int eval_init(struct eval *ev)
{
	size_t longest = 0, all = 16;
	for (size_t e = 0; e < ev->p->expert_count; e++) {
		size_t n = strlen(ev->p->experts[e]);
		longest = n > longest ? n : longest;
		all += n + 2;
	}
	for (size_t c = 0; c < ev->cfg->category_count; c++) {
		size_t n = strlen(ev->cfg->categories[c]);
		longest = n > longest ? n : longest;
	}
	size_t cells = ev->p->team_count * ev->p->expert_count + 1;
	ev->key_cap = longest + 32;
	ev->key = malloc(ev->key_cap);
	ev->list_cap = all;
	ev->list = malloc(all);
	ev->xs = calloc(ev->p->expert_count + 1, sizeof *ev->xs);
	ev->value = calloc(cells, sizeof *ev->value);
	ev->formed = calloc(cells, 1);
	if (!ev->key || !ev->list || !ev->xs || !ev->value || !ev->formed)
		return KV_ERR_INTERNAL;
	list_clear(ev);
	return KV_OK;
}

static void eval_free(struct eval *ev)
{
	free(ev->key);
	free(ev->list);
	free(ev->xs);
	free(ev->value);
	free(ev->formed);
}

static int recused(const struct eval *ev, size_t t, size_t e)
{
	return ev->p->recused[t * ev->p->expert_count + e];
}

/* The expert's total for team t, when every item is scored. */
static int expert_total(const struct eval *ev, size_t t, size_t e, double *total)
{
	double sum = 0;
	for (size_t i = 0; i < ev->p->item_count; i++) {
		size_t c = expert_cell(ev->p, t, e, i);
		if (!ev->p->has[c])
			return 0;
		sum += ev->p->score[c]; /* item order: fixed summation order */
	}
	*total = sum;
	return 1;
}

/* The sum of the expert's items in category c (his total is formed). */
static double category_subtotal(const struct eval *ev, size_t t, size_t e, size_t c)
{
	double sum = 0;
	for (size_t i = 0; i < ev->p->item_count; i++)
		if (ev->cfg->items[i].category_index == c)
			sum += ev->p->score[expert_cell(ev->p, t, e, i)];
	return sum;
}

/* Evidence: which experts' totals the trimming dropped at each end. */
static void dropped_evidence(struct eval *ev, size_t t, size_t m, size_t k)
{
	list_clear(ev);
	for (size_t i = 0; i < k; i++)
		list_add(ev, ev->p->experts[ev->xs[i].expert]);
	ev->h->evidence_str(ev->ctx, t, "dropped_low", "%s", list_text(ev));
	list_clear(ev);
	for (size_t i = m - k; i < m; i++)
		list_add(ev, ev->p->experts[ev->xs[i].expert]);
	ev->h->evidence_str(ev->ctx, t, "dropped_high", "%s", list_text(ev));
}

/* Per-category trimmed means, each trimmed on its own (evidence only). */
static void category_evidence(struct eval *ev, size_t t)
{
	size_t n = ev->p->expert_count, dropped;
	for (size_t c = 0; c < ev->cfg->category_count; c++) {
		size_t m = 0;
		for (size_t e = 0; e < n; e++)
			if (ev->formed[t * n + e])
				ev->xs[m++] = (struct expert_scored){category_subtotal(ev, t, e, c), e};
		double mean = expert_trimmed_mean(ev->xs, m, ev->cfg->trim, ev->cfg->trim_min, &dropped);
		ev->h->evidence_num(ev->ctx, t, key_of(ev, "category", ev->cfg->categories[c]), mean);
	}
}

/* Evidence: experts recused from team t, and (missing = skip) experts whose
 * total was not formed. */
static void absent_evidence(struct eval *ev, size_t t)
{
	size_t n = ev->p->expert_count;
	for (int pass = 0; pass < 2; pass++) {
		list_clear(ev);
		for (size_t e = 0; e < n; e++)
			if (pass == 0 ? recused(ev, t, e) : !recused(ev, t, e) && !ev->formed[t * n + e])
				list_add(ev, ev->p->experts[e]);
		if (ev->list[0])
			ev->h->evidence_str(ev->ctx, t, pass == 0 ? "recused" : "incomplete", "%s", ev->list);
	}
}

static double rubric_max(const struct expert_config *cfg)
{
	double x = 0;
	for (size_t i = 0; i < cfg->item_count; i++)
		x += cfg->items[i].max;
	return x;
}

static int rubric_team(struct eval *ev, size_t t)
{
	const struct kv_host *h = ev->h;
	size_t n = ev->p->expert_count, m = 0, k;
	for (size_t e = 0; e < n; e++) {
		double total;
		if (recused(ev, t, e) || !expert_total(ev, t, e, &total))
			continue;
		ev->value[t * n + e] = total;
		ev->formed[t * n + e] = 1;
		ev->xs[m++] = (struct expert_scored){total, e};
	}
	if (m == 0)
		return h->error(ev->ctx, "%s: no expert has a complete set of scores for team '%s'",
				ev->cfg->sheet, h->team_id(ev->ctx, t));
	h->evidence_num(ev->ctx, t, "experts", (double)m);
	for (size_t e = 0; e < n; e++)
		if (ev->formed[t * n + e])
			h->evidence_num(ev->ctx, t, key_of(ev, "total", ev->p->experts[e]), ev->value[t * n + e]);
	double mean = expert_trimmed_mean(ev->xs, m, ev->cfg->trim, ev->cfg->trim_min, &k);
	dropped_evidence(ev, t, m, k);
	h->evidence_num(ev->ctx, t, "trimmed_mean", mean);
	double max = rubric_max(ev->cfg), normalized = mean / max;
	h->set_value(ev->ctx, t, mean, "points");
	/* A mean of totals within [0, max] can pass max by a rounding step. */
	h->set_normalized(ev->ctx, t, normalized > 1 ? 1 : normalized);
	category_evidence(ev, t);
	h->evidence_num(ev->ctx, t, "max", max);
	absent_evidence(ev, t);
	return KV_OK;
}

static int gate_fails(const struct expert_config *cfg, size_t scored, size_t ticks)
{
	if (cfg->mode == EXPERT_APPROVAL)
		return !(2 * ticks > scored); /* approval needs a strict majority */
	if (cfg->fail_rule == EXPERT_FAIL_ANY)
		return ticks >= 1;
	if (cfg->fail_rule == EXPERT_FAIL_MAJORITY)
		return 2 * ticks > scored;
	return (long long)ticks >= cfg->fail_at_least;
}

static int gate_team(struct eval *ev, size_t t)
{
	const struct kv_host *h = ev->h;
	size_t n = ev->p->expert_count, scored = 0, ticks = 0;
	int approval = ev->cfg->mode == EXPERT_APPROVAL;
	list_clear(ev);
	for (size_t e = 0; e < n; e++) {
		size_t c = expert_cell(ev->p, t, e, 0);
		if (recused(ev, t, e) || !ev->p->has[c])
			continue;
		ev->value[t * n + e] = ev->p->score[c];
		ev->formed[t * n + e] = 1;
		scored++;
		if (ev->p->score[c] == 1) {
			ticks++;
			list_add(ev, ev->p->experts[e]);
		}
	}
	if (scored == 0)
		return h->error(ev->ctx, "%s: no expert scored team '%s' on item '%s'", ev->cfg->sheet,
				h->team_id(ev->ctx, t), ev->cfg->items[0].id);
	int fails = gate_fails(ev->cfg, scored, ticks);
	h->set_value(ev->ctx, t, (double)ticks, approval ? "approvals" : "ticks");
	h->set_pass(ev->ctx, t, !fails);
	h->evidence_num(ev->ctx, t, "experts", (double)scored);
	h->evidence_num(ev->ctx, t, approval ? "approvals" : "ticks", (double)ticks);
	h->evidence_str(ev->ctx, t, approval ? "approved_by" : "ticked_by", "%s", list_text(ev));
	if (approval)
		h->evidence_num(ev->ctx, t, "needed", (double)(scored / 2 + 1));
	else
		h->evidence_str(ev->ctx, t, "fail_when", "%s",
				h->value_string(h->param(ev->ctx, "fail_when")));
	absent_evidence(ev, t);
	return KV_OK;
}

/* Alpha over units of values; "alpha<suffix>" or a note saying why not. */
static void alpha_evidence(struct eval *ev, const double *values, const size_t *sizes, size_t units,
			   const char *key)
{
	double alpha;
	size_t pairable;
	if (expert_alpha_interval(values, sizes, units, &alpha, &pairable)) {
		ev->h->evidence_num(ev->ctx, KV_ROUND, key, alpha);
	} else {
		ev->h->evidence_str(ev->ctx, KV_ROUND, key_of(ev, key, "note"), "undefined: %s",
				    pairable ? "all values are equal" : "no unit has two values");
	}
	ev->h->evidence_num(ev->ctx, KV_ROUND, key_of(ev, key, "values"), (double)pairable);
}

/* Units are team x item cells: the values of the experts who count there. */
static int cell_alpha(struct eval *ev)
{
	const struct expert_panel *p = ev->p;
	size_t units = p->team_count * p->item_count, at = 0;
	double *values = calloc(units * p->expert_count + 1, sizeof *values);
	size_t *sizes = calloc(units + 1, sizeof *sizes);
	if (!values || !sizes) {
		free(values);
		free(sizes);
		return KV_ERR_INTERNAL;
	}
	for (size_t t = 0; t < p->team_count; t++)
		for (size_t i = 0; i < p->item_count; i++)
			for (size_t e = 0; e < p->expert_count; e++)
				if (!recused(ev, t, e) && p->has[expert_cell(p, t, e, i)]) {
					values[at++] = p->score[expert_cell(p, t, e, i)];
					sizes[t * p->item_count + i]++;
				}
	alpha_evidence(ev, values, sizes, units, "alpha");
	free(values);
	free(sizes);
	return KV_OK;
}

/* Units are teams: the experts' totals. */
static int total_alpha(struct eval *ev)
{
	size_t n = ev->p->expert_count, teams = ev->p->team_count, at = 0;
	double *values = calloc(teams * n + 1, sizeof *values);
	size_t *sizes = calloc(teams + 1, sizeof *sizes);
	if (!values || !sizes) {
		free(values);
		free(sizes);
		return KV_ERR_INTERNAL;
	}
	for (size_t t = 0; t < teams; t++)
		for (size_t e = 0; e < n; e++)
			if (ev->formed[t * n + e]) {
				values[at++] = ev->value[t * n + e];
				sizes[t]++;
			}
	alpha_evidence(ev, values, sizes, teams, "alpha_totals");
	free(values);
	free(sizes);
	return KV_OK;
}

/* Each expert against the rest: leniency and agreement, flags only. */
static void rater_evidence(struct eval *ev)
{
	const struct kv_host *h = ev->h;
	for (size_t e = 0; e < ev->p->expert_count; e++) {
		struct expert_rater_stats s;
		const char *id = ev->p->experts[e];
		expert_rater_vs_rest(ev->value, ev->formed, ev->p->team_count, ev->p->expert_count, e, &s);
		if (s.teams == 0)
			continue;
		h->evidence_num(ev->ctx, KV_ROUND, key_of(ev, "deviation", id), s.mean_deviation);
		if (!s.has_correlation)
			continue;
		h->evidence_num(ev->ctx, KV_ROUND, key_of(ev, "correlation", id), s.correlation);
		if (s.correlation < 0)
			h->evidence_str(ev->ctx, KV_ROUND, key_of(ev, "flag", id),
					"negative correlation with the other experts: review, "
					"do not drop");
	}
}

static int panel_evidence(struct eval *ev)
{
	ev->h->evidence_num(ev->ctx, KV_ROUND, "panel", (double)ev->p->expert_count);
	int rc = cell_alpha(ev);
	if (!rc && ev->cfg->mode == EXPERT_RUBRIC)
		rc = total_alpha(ev);
	if (!rc)
		rater_evidence(ev);
	return rc;
}

static int score_teams(struct eval *ev)
{
	int rc = eval_init(ev);
	for (size_t t = 0; !rc && t < ev->p->team_count; t++)
		rc = ev->cfg->mode == EXPERT_RUBRIC ? rubric_team(ev, t) : gate_team(ev, t);
	if (!rc)
		rc = panel_evidence(ev);
	eval_free(ev);
	return rc;
}

/* The config, and the panel kept after evaluate for resampling. */
struct expert_state {
	struct expert_config cfg;
	struct expert_panel panel;
};

static int expert_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	if (KV_HOST_REQUIRE(h, ctx, table_number))
		return KV_ERR_INTERNAL;
	struct expert_state *st = calloc(1, sizeof *st);
	if (!st)
		return KV_ERR_INTERNAL;
	int rc = expert_read_config(h, ctx, &st->cfg);
	if (rc) {
		expert_free_config(&st->cfg);
		free(st);
		return rc;
	}
	*state = st;
	return KV_OK;
}

static int expert_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	struct expert_state *st = state;
	int rc = expert_read_panel(h, ctx, &st->cfg, &st->panel);
	if (!rc) {
		struct eval ev = {.h = h, .ctx = ctx, .cfg = &st->cfg, .p = &st->panel};
		rc = score_teams(&ev);
	}
	return rc;
}

/* Expert e's total for team t joins xs when it counts (formed, not recused). */
static void add_total(const struct eval *ev, size_t t, size_t e, struct expert_scored *xs, size_t *m)
{
	double total;
	if (!recused(ev, t, e) && expert_total(ev, t, e, &total))
		xs[(*m)++] = (struct expert_scored){total, e};
}

/* Team t's score from the m totals in xs, trimmed as the round trims; a
 * team with none keeps the round's score. */
static void set_redrawn(const struct eval *ev, size_t t, struct expert_scored *xs, size_t m)
{
	size_t k;
	if (m == 0)
		return;
	double mean = expert_trimmed_mean(xs, m, ev->cfg->trim, ev->cfg->trim_min, &k);
	double normalized = mean / rubric_max(ev->cfg);
	ev->h->set_value(ev->ctx, t, mean, "points");
	ev->h->set_normalized(ev->ctx, t, normalized > 1 ? 1 : normalized);
}

/* One replicate: as many experts as the panel has, drawn with replacement,
 * each drawn expert's totals counted once per draw, trimmed as the round
 * trims.  A team that no drawn expert scored keeps the round's score. */
static int expert_resample(void *state, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate)
{
	struct expert_state *st = state;
	const struct expert_panel *p = &st->panel;
	size_t n = p->expert_count, *drawn = calloc(n + 1, sizeof *drawn);
	struct expert_scored *xs = calloc(n + 1, sizeof *xs);
	struct kv_rng rng;
	if (!drawn || !xs) {
		free(drawn);
		free(xs);
		return KV_ERR_INTERNAL;
	}
	h->rng_stream(ctx, "resample", replicate, &rng);
	for (size_t j = 0; j < n; j++)
		drawn[j] = (size_t)kv_rng_below(&rng, n);
	struct eval ev = {.h = h, .ctx = ctx, .cfg = &st->cfg, .p = p};
	for (size_t t = 0; st->cfg.mode == EXPERT_RUBRIC && t < p->team_count; t++) {
		size_t m = 0;
		for (size_t j = 0; j < n; j++)
			add_total(&ev, t, drawn[j], xs, &m);
		set_redrawn(&ev, t, xs, m);
	}
	free(drawn);
	free(xs);
	return KV_OK;
}

/* The panel without expert `unit`, trimmed as the round trims. */
static int expert_leave_out(void *state, const struct kv_host *h, struct kv_ctx *ctx, size_t unit,
			    const char **unit_id)
{
	struct expert_state *st = state;
	const struct expert_panel *p = &st->panel;
	struct expert_scored *xs = calloc(p->expert_count + 1, sizeof *xs);
	struct eval ev = {.h = h, .ctx = ctx, .cfg = &st->cfg, .p = p};
	*unit_id = unit < p->expert_count ? p->experts[unit] : NULL;
	if (!xs)
		return KV_ERR_INTERNAL;
	for (size_t t = 0; *unit_id && st->cfg.mode == EXPERT_RUBRIC && t < p->team_count; t++) {
		size_t m = 0;
		for (size_t e = 0; e < p->expert_count; e++)
			if (e != unit)
				add_total(&ev, t, e, xs, &m);
		set_redrawn(&ev, t, xs, m);
	}
	free(xs);
	return KV_OK;
}

static void expert_close(void *state)
{
	struct expert_state *st = state;
	expert_free_panel(&st->panel);
	expert_free_config(&st->cfg);
	free(st);
}

KAIEVAL_PLUGIN_DEFINE(expert,
	.kinds = KV_KIND_SCORE | KV_KIND_GATE,
	.version = "1.1.0",
	.summary = "the expert panel: rubric with trimmed mean, checkbox gate, approval gate",
	.params = params,
	.open = expert_open,
	.evaluate = expert_evaluate,
	.close = expert_close,
	.resample_unit = "expert",
	.resample = expert_resample,
	.leave_out = expert_leave_out);

/* A round's life in three phases (see lifecycle.h): load and check the
 * whole stack, evaluate each criterion, combine. */
#include "lifecycle.h"
#include "host.h"
#include "isolate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The declaration of a param the plugin knows (NULL if it does not). */
static const struct kv_param_decl *decl_of(const struct kv_plugin *p, const char *name)
{
	for (const struct kv_param_decl *d = p->params; d->name; d = kv_param_next(p, d))
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void check_one_path(struct kv_run *run, const struct kv_criterion *cr, const struct kv_value *v,
			   const char *team, struct kv_error *err)
{
	char *path = kv_expand_team(v->str, team), *real = NULL;
	char *of_team = team ? kv_xasprintf(" (team '%s')", team) : kv_xstrdup("");
	char *missing = kv_xasprintf("%s: %s", path, strerror(ENOENT));
	struct kv_error why = {0}, e = {0};
	/* A path that is there passes: the plugin judges whether it is the file
	 * or folder it needs. */
	int there = kv_inputs_resolve(&run->inputs, path, &real, NULL, &why) == 0;
	if (!there && strcmp(why.msg, missing) == 0)
		kv_fail(&e, KV_EXIT_INPUT, "%s: criterion '%s': param '%s': '%s'%s is missing: no such file "
			"or folder in the data directory", v->where, cr->id, v->name, path, of_team);
	else if (!there)
		kv_fail(&e, KV_EXIT_INPUT, "%s: criterion '%s': param '%s': %s", v->where, cr->id, v->name,
			why.msg);
	kv_error_add(err, &e);
	free(missing);
	free(of_team);
	free(real);
	free(path);
}

/* Data paths are looked up (never opened), so that a missing file is
 * reported with the config's other errors, before any plugin reads. */
static void check_paths(struct kv_run *run, size_t index, struct kv_error *err)
{
	const struct kv_criterion *cr = &run->round->criteria[index];
	const struct kv_criterion_result *res = &run->results[index];
	for (size_t i = 0; i < res->params->count; i++) {
		const struct kv_value *v = res->params->items[i];
		const struct kv_param_decl *d = decl_of(res->plugin.desc, v->name);
		if (!d || d->type != KV_T_PATH || v->type != KV_T_STRING)
			continue;
		if (!strstr(v->str, "{team}"))
			check_one_path(run, cr, v, NULL, err);
		for (size_t t = 0; strstr(v->str, "{team}") && t < run->round->team_count; t++)
			check_one_path(run, cr, v, run->round->teams[t].id, err);
	}
}

static void load_criterion(struct kv_run *run, size_t index, struct kv_error *err)
{
	const struct kv_criterion *cr = &run->round->criteria[index];
	struct kv_criterion_result *res = &run->results[index];
	struct kv_error e = {0};
	res->crit = cr;
	res->teams = kv_xcalloc(run->round->team_count, sizeof *res->teams);
	if (kv_plugin_set_load(&run->plugins, cr->plugin, run->round->config_dir, cr->where,
			       &res->plugin, &e) == 0 &&
	    kv_params_check(res->plugin.desc, cr, &res->params, &e) == 0)
		check_paths(run, index, &e);
	kv_error_add(err, &e);
}

int kv_stack_load(struct kv_run *run, struct kv_error *err)
{
	run->results = kv_xcalloc(run->round->criterion_count, sizeof *run->results);
	for (size_t i = 0; i < run->round->criterion_count; i++) {
		run->evaluated = i + 1;
		load_criterion(run, i, err);
	}
	return err->status;
}

static void release(struct kv_ctx *c)
{
	for (size_t i = 0; i < c->buffer_count; i++)
		free(c->buffers[i]);
	free(c->buffers);
	for (size_t i = 0; i < c->tree_count; i++)
		kv_value_free(c->trees[i]);
	free(c->trees);
	for (size_t i = 0; i < c->list_count; i++) {
		for (size_t j = 0; j < c->list_lengths[i]; j++)
			free(c->lists[i][j]);
		free(c->lists[i]);
	}
	free(c->lists);
	free(c->list_lengths);
	if (c->progress_shown)
		fputs("\r\033[K", stderr);
}

/* The core validates what a plugin returned, as PAM validates return codes:
 * anything outside the contract is the plugin's fault (exit 3). */
static int check_outcomes(struct kv_run *run, size_t index, struct kv_error *err)
{
	const struct kv_criterion *cr = &run->round->criteria[index];
	struct kv_criterion_result *res = &run->results[index];
	for (size_t t = 0; t < run->round->team_count; t++) {
		const struct kv_team_outcome *o = &res->teams[t];
		const char *team = run->round->teams[t].id;
		const char *why = NULL;
		if (cr->kind == KV_KIND_SCORE && !o->has_normalized)
			why = "no normalized score";
		else if (o->has_normalized && !(o->normalized >= 0 && o->normalized <= 1))
			why = "a normalized score outside [0, 1] (or NaN)";
		else if (cr->kind == KV_KIND_GATE && !o->has_pass)
			why = "no pass/fail verdict";
		else if (o->has_value && !isfinite(o->value))
			why = "a value that is not a finite number";
		for (size_t e = 0; !why && e < o->evidence.count; e++)
			if (o->evidence.items[e].is_num && !isfinite(o->evidence.items[e].num))
				why = "evidence that is not a finite number";
		if (why)
			return kv_fail(err, KV_EXIT_INTERNAL,
				       "criterion '%s': plugin %s returned %s for team '%s' (plugin error)",
				       cr->id, res->plugin.desc->name, why, team);
	}
	for (size_t e = 0; e < res->evidence.count; e++)
		if (res->evidence.items[e].is_num && !isfinite(res->evidence.items[e].num))
			return kv_fail(err, KV_EXIT_INTERNAL, "criterion '%s': plugin %s returned evidence "
				       "'%s' that is not a finite number (plugin error)", cr->id,
				       res->plugin.desc->name, res->evidence.items[e].key);
	return 0;
}

static int status_of(int rc)
{
	return rc == KV_OK ? 0 : rc == KV_ERR_INPUT ? KV_EXIT_INPUT : KV_EXIT_INTERNAL;
}

int kv_plugin_run(struct kv_ctx *ctx, const struct kv_plugin *p)
{
	const struct kv_criterion *cr = &ctx->run->round->criteria[ctx->index];
	const struct kv_host *host_table = kv_host_table();
	struct kv_error *err = ctx->err;
	void *state = NULL;
	int rc = p->open ? status_of(p->open(host_table, ctx, &state)) : 0;
	if (rc == 0) {
		rc = status_of(p->evaluate(state, host_table, ctx));
		if (ctx->run->kept && rc == 0 && kv_can_resample(p))
			ctx->run->kept[ctx->index] = state; /* closed by kv_close_kept */
		else if (p->close)
			p->close(state);
	}
	release(ctx);
	if (rc == 0 && err->status)
		rc = err->status; /* an error recorded but not returned still stops the round */
	if (rc && err->status) {
		err->status = rc;
		return rc;
	}
	if (rc)
		return kv_fail(err, rc, "criterion '%s' (plugin %s) failed without saying why", cr->id, p->name);
	return 0;
}

int kv_evaluate_criterion(struct kv_run *run, size_t index, struct kv_error *err)
{
	struct kv_ctx ctx = {.run = run, .index = index, .err = err};
	int rc = kv_isolation_get() == KV_ISOLATE_OFF ? kv_plugin_run(&ctx, run->results[index].plugin.desc)
						       : kv_isolate_evaluate(run, index, err);
	return rc ? rc : check_outcomes(run, index, err);
}

int kv_can_resample(const struct kv_plugin *p)
{
	return KV_PLUGIN_HAS(p, resample) && p->resample && p->resample_unit;
}

/* After a kept plugin's resample or leave_out: the same checks as after
 * evaluate. */
static int after_redraw(struct kv_run *run, size_t index, struct kv_ctx *ctx, int rc, struct kv_error *err)
{
	const struct kv_plugin *p = run->results[index].plugin.desc;
	release(ctx);
	if (err->status)
		rc = err->status;
	if (rc && !err->status)
		return kv_fail(err, rc, "criterion '%s' (plugin %s) failed to resample without saying why",
			       run->round->criteria[index].id, p->name);
	return rc ? rc : check_outcomes(run, index, err);
}

int kv_resample_criterion(struct kv_run *run, size_t index, uint64_t replicate, struct kv_error *err)
{
	const struct kv_plugin *p = run->results[index].plugin.desc;
	if (!run->kept || !run->kept[index])
		return 0;
	struct kv_ctx ctx = {.run = run, .index = index, .err = err, .redraw = 1};
	int rc = status_of(p->resample(run->kept[index], kv_host_table(), &ctx, replicate));
	return after_redraw(run, index, &ctx, rc, err);
}

int kv_leave_out_criterion(struct kv_run *run, size_t index, size_t unit, const char **unit_id,
			   struct kv_error *err)
{
	const struct kv_plugin *p = run->results[index].plugin.desc;
	*unit_id = NULL;
	if (!run->kept || !run->kept[index] || !KV_PLUGIN_HAS(p, leave_out) || !p->leave_out)
		return 0;
	struct kv_ctx ctx = {.run = run, .index = index, .err = err, .redraw = 1};
	int rc = status_of(p->leave_out(run->kept[index], kv_host_table(), &ctx, unit, unit_id));
	return after_redraw(run, index, &ctx, rc, err);
}

void kv_close_kept(struct kv_run *run)
{
	for (size_t i = 0; run->kept && i < run->evaluated; i++)
		if (run->kept[i] && run->results[i].plugin.desc->close)
			run->results[i].plugin.desc->close(run->kept[i]);
	free(run->kept);
	run->kept = NULL;
}

static int run_round(const char *config_path, const char *const *overrides, size_t override_count,
		     int keep, struct kv_run **out, struct kv_error *err)
{
	*out = NULL;
	struct kv_run *run = kv_xcalloc(1, sizeof *run);
	int rc = kv_isolation_check(err);
	if (rc == 0)
		rc = kv_round_load(config_path, overrides, override_count, &run->round, err);
	if (rc == 0)
		rc = kv_inputs_init(&run->inputs, run->round->data_dir, err);
	if (rc == 0)
		rc = kv_stack_load(run, err);
	if (rc == 0 && keep)
		run->kept = kv_xcalloc(run->round->criterion_count, sizeof *run->kept);
	for (size_t i = 0; rc == 0 && i < run->round->criterion_count; i++)
		rc = kv_evaluate_criterion(run, i, err);
	if (rc == 0)
		rc = kv_combine(run, err);
	if (rc) {
		kv_close_kept(run);
		kv_run_free(run);
		return rc;
	}
	*out = run;
	return 0;
}

int kv_run_round(const char *config_path, const char *const *overrides, size_t override_count,
		 struct kv_run **out, struct kv_error *err)
{
	return run_round(config_path, overrides, override_count, 0, out, err);
}

/* A kept state lives in the process that evaluated: replicates need the
 * plugin in process, so resampling runs without isolation (and refuses
 * where isolation is required). */
int kv_run_round_kept(const char *config_path, const char *const *overrides, size_t override_count,
		      struct kv_run **out, struct kv_error *err)
{
	*out = NULL;
	if (kv_isolation_get() == KV_ISOLATE_REQUIRE)
		return kv_fail(err, KV_EXIT_INPUT, "resampling runs the plugins in process: "
			       "--require-isolation cannot be met");
	kv_isolation_set(KV_ISOLATE_OFF);
	return run_round(config_path, overrides, override_count, 1, out, err);
}

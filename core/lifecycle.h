/* The life of a round, as one stack (the way PAM runs a service's modules):
 *   1. load and check: every criterion's plugin is found and loaded (each file
 *      once), its descriptor validated, its kind and params checked and its
 *      declared data paths looked up; every error of this pass is reported
 *      together, before any plugin runs or any data file is read;
 *   2. evaluate: each criterion's plugin opens, evaluates and closes, in order;
 *   3. combine: gates, totals, ranks and selection. */
#ifndef KV_LIFECYCLE_H
#define KV_LIFECYCLE_H

#include "run.h"

/* Phase 1 for a run whose round and inputs are set up. */
int kv_stack_load(struct kv_run *run, struct kv_error *err);
/* Phase 2 for one criterion whose plugin phase 1 loaded. */
int kv_evaluate_criterion(struct kv_run *run, size_t index, struct kv_error *err);

/* Resampling (robust.c): kv_run_round_kept runs the round like
 * kv_run_round but keeps each resampling plugin's state open after
 * evaluate; kv_resample_criterion then redraws one replicate through the
 * plugin's resample entry (0 when the plugin has none), and
 * kv_close_kept closes what was kept.  Kept states live in this process,
 * so kv_run_round_kept turns isolation off (an error under
 * --require-isolation). */
int kv_run_round_kept(const char *config_path, const char *const *overrides, size_t override_count,
		      struct kv_run **out, struct kv_error *err);
int kv_can_resample(const struct kv_plugin *p);
int kv_resample_criterion(struct kv_run *run, size_t index, uint64_t replicate, struct kv_error *err);
/* The same for the plugin's leave_out entry: *unit_id NULL past the last
 * unit, or when the plugin has no such entry. */
int kv_leave_out_criterion(struct kv_run *run, size_t index, size_t unit, const char **unit_id,
			   struct kv_error *err);
void kv_close_kept(struct kv_run *run);

struct kv_ctx;
struct kv_plugin;
/* Open, evaluate and close plugin p for ctx's criterion, in this process:
 * 0, or the status of the error recorded in ctx->err. */
int kv_plugin_run(struct kv_ctx *ctx, const struct kv_plugin *p);

#endif

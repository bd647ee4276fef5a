/* cost: shared declarations of the cost plugin's three files (cost.c scores,
 * facts.c reads a team's facts file, model.c counts a model's parameters). */
#ifndef KV_COST_H
#define KV_COST_H

#include <kaieval/plugin.h>
#include <stdint.h>

/* Paths of input files; a fact's source text holds a path and a little more. */
#define COST_PATH_MAX 4096

/* The choices of the `cost` param, in the order of its `choices` text. */
enum cost_measure { COST_TOTAL, COST_ACTIVE, COST_TPS, COST_GPU_HOURS };

/* One number of a team and where it came from ("cost/lg.json: gpu_hours"). */
struct cost_fact {
	int present;
	double value;
	char from[2 * COST_PATH_MAX + 256];
};

struct cost_facts {
	struct cost_fact total, active, tps, gpu_hours;
};

/* What the plugin needs from its params while reading facts. */
struct cost_options {
	enum cost_measure measure;
	const char *expert_pattern;  /* names of routed-expert tensors contain it */
};

/* Read the facts of one team from `path` (the facts param with {team}
 * expanded), emitting evidence as it goes.  KV_OK or an error recorded. */
int cost_read_facts(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *path,
		    const struct cost_options *opt, struct cost_facts *f);

/* Count parameters from the safetensors headers under model_dir (total) and,
 * unless `dense`, config.json (active: only when MoE keys are there, and an
 * error without them when opt->measure asks for active parameters). */
int cost_count_model(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *facts,
		     const char *model_dir, int dense, const struct cost_options *opt,
		     struct cost_facts *f);

#endif

/* Evaluating a round: every criterion's plugin, then combine and select. */
#ifndef KV_RUN_H
#define KV_RUN_H

#include "input.h"
#include "loader.h"
#include "round.h"

struct kv_evidence_item {
	char *key;
	int is_num;
	double num;
	char *str;
};

/* Items in the order they were first set (the record's order), with a
 * hash index over the keys: a criterion of 200 teams sets 80,000 matrix
 * entries, and a search through the items for each was quadratic. */
struct kv_evidence {
	struct kv_evidence_item *items;
	size_t count, cap;
	uint32_t *slots;          /* item index + 1, 0 = empty; NULL: no index yet */
	size_t nslots;            /* a power of two, more than twice count */
};

struct kv_team_outcome {
	int has_value, has_normalized, has_pass;
	double value, normalized;
	int pass;
	char *unit;
	double points;            /* normalized x criterion points (score only) */
	struct kv_evidence evidence;
};

/* What a plugin said through host->warn, kept for the record. */
struct kv_warnings {
	char **items;
	size_t count;
};

struct kv_criterion_result {
	const struct kv_criterion *crit;
	struct kv_loaded_plugin plugin; /* a copy of the run's entry in plugins */
	struct kv_value *params;  /* with defaults applied */
	struct kv_team_outcome *teams;
	struct kv_evidence evidence; /* about the criterion as a whole */
	struct kv_warnings warnings;
};

enum kv_status_code { KV_ADVANCE, KV_ELIMINATED };

/* Why a team was eliminated (the record spells these out: record.c). */
enum kv_reason {
	KV_REASON_NONE,            /* not eliminated */
	KV_REASON_GATE,            /* failed the gate reason_gate (gate_failure = "eliminate") */
	KV_REASON_BELOW_MIN_TOTAL,
	KV_REASON_LOWEST_TOTAL,
};

/* Indices, not names: criteria and teams are those of the round (or of the
 * record the standing was read from). */
struct kv_standing {
	double total;
	long rank;                /* 0 = none (eliminated by a gate) */
	enum kv_status_code status;
	enum kv_reason reason;
	size_t reason_gate;       /* criterion index, when reason is KV_REASON_GATE */
	size_t *failed_gates;     /* criterion indices of every gate failed (flag mode reports them) */
	size_t failed_count;
	long tie_break_by;        /* selection.tie_break entry that separated the team from a tied one; -1 none */
	size_t *tied_with;        /* teams whose totals were within tie_precision */
	size_t tied_count;
};

void kv_standing_free(struct kv_standing *s);

struct kv_run {
	struct kv_round *round;
	struct kv_inputs inputs;
	struct kv_plugin_set plugins;         /* each plugin file loaded once */
	struct kv_criterion_result *results;  /* one per criterion */
	size_t evaluated;                     /* results set up (lifecycle.c) */
	struct kv_standing *standings;        /* one per team */
	size_t *order;                        /* team indices in record order */
	void **kept;                          /* states kept open for resampling, or NULL */
};

/* Load and check, evaluate, combine (lifecycle.c).  On failure *out is NULL
 * and err says why: every config and plugin error of the round, if the
 * failure came before evaluation. */
int kv_run_round(const char *config_path, const char *const *overrides, size_t override_count,
		 struct kv_run **out, struct kv_error *err);
void kv_run_free(struct kv_run *run);

/* Gates, totals, ranks, selection (combine.c). */
int kv_combine(struct kv_run *run, struct kv_error *err);

void kv_evidence_set(struct kv_evidence *ev, const char *key, int is_num, double num, const char *str);
/* The item of key, appended (unset: not a number, no string) when there
 * is none; *added says which. */
struct kv_evidence_item *kv_evidence_add(struct kv_evidence *ev, const char *key, int *added);
void kv_evidence_free(struct kv_evidence *ev);
void kv_warnings_free(struct kv_warnings *w);

/* Lookups for reports and tests: NULL / NaN when absent. */
const struct kv_team_outcome *kv_run_outcome(const struct kv_run *run, const char *criterion,
					     const char *team);
const struct kv_standing *kv_run_standing(const struct kv_run *run, const char *team);
double kv_run_group_points(const struct kv_run *run, size_t team, const char *group);
const struct kv_evidence_item *kv_evidence_get(const struct kv_evidence *ev, const char *key);
/* The index past the run of items from i whose keys start with prefix (a
 * chart's data: matrix.*, histogram.GROUP.*). */
size_t kv_evidence_run_end(const struct kv_evidence *ev, size_t i, const char *prefix);

#endif

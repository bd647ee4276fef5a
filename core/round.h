/* A round as the config file describes it (round-config.md). */
#ifndef KV_ROUND_H
#define KV_ROUND_H

#include "util.h"
#include "value.h"

struct kv_team {
	char *id, *name, *model;
};

struct kv_criterion {
	char *id;
	char *plugin;           /* name, or a path relative to the config file */
	char *group;            /* NULL when none */
	enum kv_kind kind;
	double points;          /* score criteria only */
	struct kv_value *params; /* a group, possibly empty */
	char *where;            /* "file:line" of the criterion */
	double timeout;         /* seconds of wall clock its plugin may take */
	unsigned long long memory_limit; /* bytes of address space; 0 unlimited */
};

#define KV_DEFAULT_TIMEOUT 3600.0
#define KV_DEFAULT_MEMORY_LIMIT (16ULL << 30)
#define KV_MIN_MEMORY_LIMIT (64ULL << 20)

enum kv_selection_rule { KV_SELECT_ELIMINATE_LOWEST, KV_SELECT_ADVANCE };

struct kv_selection {
	int gate_flag_only;     /* gate_failure = "flag" */
	enum kv_selection_rule rule;
	long n;
	int has_min_total;
	double min_total;
	char **tie_break;
	size_t tie_break_count;
	double tie_precision;
	int keep_ties;          /* unresolved_tie = "keep" */
};

struct kv_round {
	char *config_path;      /* as given on the command line */
	char *config_dir;       /* real path of the folder holding it */
	char *config_name;      /* basename, as recorded in the result */
	char config_sha256[65];
	char *id, *title, *date;
	char *data_dir;         /* real path of the data directory */
	long long seed;
	struct kv_team *teams;
	size_t team_count;
	struct kv_criterion *criteria;
	size_t criterion_count;
	struct kv_selection selection;
};

/* Read and check a round config.  overrides: "key.path=value" strings applied
 * after parsing (kaieval whatif), or NULL. */
int kv_round_load(const char *path, const char *const *overrides, size_t override_count,
		  struct kv_round **out, struct kv_error *err);
void kv_round_free(struct kv_round *r);

/* Apply one "key.path=value" to a parsed config (override.c); keys are
 * relative to `round`, criteria and teams are named by id. */
int kv_apply_override(config_t *cfg, const char *assignment, struct kv_error *err);

long kv_round_team_index(const struct kv_round *r, const char *id);
long kv_round_criterion_index(const struct kv_round *r, const char *id);
/* 1 when id names a group of score criteria. */
int kv_round_is_group(const struct kv_round *r, const char *id);

#endif

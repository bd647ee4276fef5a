/* The host function table handed to plugins, and the context it serves. */
#ifndef KV_HOST_H
#define KV_HOST_H

#include "run.h"

/* Everything a plugin borrowed lives until its evaluate returns. */
struct kv_ctx {
	struct kv_run *run;
	size_t index;                    /* criterion */
	struct kv_error *err;
	char **buffers;                  /* input_load texts */
	size_t buffer_count;
	struct kv_value **trees;         /* json_load results */
	size_t tree_count;
	char ***lists;                   /* input_list results */
	size_t *list_lengths;
	size_t list_count;
	int progress_shown;
};

const struct kv_host *kv_host_table(void);

/* tmpl with every "{team}" replaced by team_id (caller frees). */
char *kv_expand_team(const char *tmpl, const char *team_id);

#endif

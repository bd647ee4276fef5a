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
	int forward;                     /* isolated: send, do not record (isolate.c) */
	int progress_wanted;             /* isolated: the core shows progress */
	double progress_start, progress_last;  /* input_progress: first and last shown (seconds) */
	uint64_t progress_first;         /* its bytes at the first */
	int redraw;                      /* resample or leave_out: nothing may be read */
};

const struct kv_host *kv_host_table(void);

/* What the recording members do to the round's state; the core applies an
 * isolated plugin's messages with them (c->forward is 0 there). */
void kv_host_set_value(struct kv_ctx *c, size_t team, double value, const char *unit);
void kv_host_set_normalized(struct kv_ctx *c, size_t team, double x);
void kv_host_set_pass(struct kv_ctx *c, size_t team, int pass);
void kv_host_evidence(struct kv_ctx *c, size_t team, const char *key, int is_num, double num,
		      const char *str);
void kv_host_warning(struct kv_ctx *c, const char *msg);
void kv_host_progress(struct kv_ctx *c, uint64_t done, uint64_t total);
/* done of total bytes of an input, with the rate since the first call. */
void kv_host_progress_bytes(struct kv_ctx *c, uint64_t done, uint64_t total);

/* tmpl with every "{team}" replaced by team_id (caller frees). */
char *kv_expand_team(const char *tmpl, const char *team_id);

#endif

/* The result record of a run, and the terminal table. */
#ifndef KV_RESULT_H
#define KV_RESULT_H

#include <stdio.h>
#include "run.h"

/* The record as JSON text (caller frees with kv_buf_free). */
void kv_result_json(const struct kv_run *run, struct kv_buf *out);
/* Rank, team, model, points per criterion and group, total, status, reason. */
void kv_result_table(const struct kv_run *run, FILE *f);
/* A team column's width: least, or the widest team id where that is more. */
int kv_team_id_width(const struct kv_round *r, int least);

#endif

/* Record readers for data files: CSV (RFC 4180) and JSONL, one interface. */
#ifndef KV_TABLE_H
#define KV_TABLE_H

#include "util.h"

struct kv_table;

/* Takes ownership of text (NUL-terminated).  JSONL when path ends ".jsonl". */
struct kv_table *kv_table_new(const char *path, char *text, size_t len, struct kv_error *err);
int kv_table_column(struct kv_table *t, const char *name);
int kv_table_next(struct kv_table *t, struct kv_error *err);
const char *kv_table_field(struct kv_table *t, int column);
long kv_table_line(struct kv_table *t);
const char *kv_table_path(struct kv_table *t);
const char *kv_table_column_name(struct kv_table *t, int column);
void kv_table_free(struct kv_table *t);

/* A table cell as a finite number, in the one syntax of host->table_number:
 * [+-] digits [. digits] or [+-] . digits, then [eE [+-] digits]; nothing
 * else.  1 and *out set, or 0 (*out untouched). */
int kv_number_parse(const char *s, double *out);

#endif

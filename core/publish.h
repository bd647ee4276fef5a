/* Disclosure tables from a result record (kaieval publish). */
#ifndef KV_PUBLISH_H
#define KV_PUBLISH_H

#include <stdio.h>

/* level: "top", "gap" or "full"; csv: 1 for CSV; digits: decimals shown. */
int kv_publish(const char *record, const char *level, int csv, int digits, FILE *out);

struct kv_record;
/* The table of one level of a record already read (no heading line). */
void kv_publish_tables(const struct kv_record *rec, const char *level, int csv, int digits, FILE *out);

/* x with `digits` decimals, rounded half up on its shortest decimal form. */
void kv_format_half_up(double x, int digits, char *out, size_t len);

#endif

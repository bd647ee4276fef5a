/* Disclosure tables from a result record (kaieval publish). */
#ifndef KV_PUBLISH_H
#define KV_PUBLISH_H

#include <stdio.h>

struct kv_error;

/* Decimals per column of the tables and kind of row, as a ministry's
 * table mixes them (top scores to one decimal, averages to two). */
enum kv_pub_column { KV_PUB_MAX, KV_PUB_TOP, KV_PUB_AVERAGE, KV_PUB_GAP, KV_PUB_POINTS, KV_PUB_COLUMNS };
enum kv_pub_row { KV_PUB_CRITERION, KV_PUB_GROUP, KV_PUB_TOTAL, KV_PUB_ROWS };
struct kv_digits {
	int d[KV_PUB_COLUMNS][KV_PUB_ROWS];
};
/* Every cell with n decimals. */
void kv_digits_all(struct kv_digits *d, int n);
/* A precision spec (doc/kaieval.1, publish --digits): items separated by
 * commas, blanks or lines, each "N" (every cell), "COLUMN=N" or
 * "COLUMN.ROW=N" (COLUMN max, top, average, gap or points; ROW criterion,
 * group or total; N 0 to 9), later items over earlier ones; "@FILE" reads
 * the items from FILE, where '#' starts a comment.  Starts from 2 decimals.
 * 0, or KV_EXIT_INPUT (2) with a message naming the item (and FILE). */
int kv_digits_parse(const char *spec, struct kv_digits *d, struct kv_error *err);

/* level: "top", "gap" or "full"; csv: 1 for CSV; digits: decimals shown. */
int kv_publish(const char *record, const char *level, int csv, const struct kv_digits *digits, FILE *out);

struct kv_record;
/* The table of one level of a record already read (no heading line). */
void kv_publish_tables(const struct kv_record *rec, const char *level, int csv, const struct kv_digits *digits,
		       FILE *out);

/* x with `digits` decimals, rounded half up on its shortest decimal form. */
void kv_format_half_up(double x, int digits, char *out, size_t len);

#endif

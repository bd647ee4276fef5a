/* The report's charts, as inline SVG drawn from the record. */
#ifndef KV_REPORT_SVG_H
#define KV_REPORT_SVG_H

#include "record.h"

/* Points per criterion as stacked bars, one per team, with the cut line.
 * Each bar segment carries its exact value in data-value and a title. */
void kv_report_svg_points(struct kv_buf *b, const struct kv_record *rec);

/* A panel: team evidence "total.<rater>" with the raters trimmed named in
 * "dropped_low" / "dropped_high" and the "trimmed_mean" (plugin expert).
 * A strip plot per team, trimmed scores hollow. */
int kv_report_has_panel(const struct kv_record *rec, size_t c);
void kv_report_svg_panel(struct kv_buf *b, const struct kv_record *rec, size_t c);
/* 1 when rater is one of the comma-separated ids of the string at key. */
int kv_report_rater_in(const struct kv_evidence *ev, const char *key, const char *rater);

/* Intervals: team evidence "normalized_q025" and "normalized_q975" around
 * the normalized score (plugin votes).  A forest plot. */
int kv_report_has_interval(const struct kv_record *rec, size_t c);
void kv_report_svg_interval(struct kv_buf *b, const struct kv_record *rec, size_t c);

#endif

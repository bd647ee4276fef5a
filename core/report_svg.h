/* The report's charts, as inline SVG drawn from the record. */
#ifndef KV_REPORT_SVG_H
#define KV_REPORT_SVG_H

#include "record.h"

/* Points per criterion as stacked bars, one per team, with the cut line.
 * Each bar segment carries its exact value in data-value and a title. */
void kv_report_svg_points(struct kv_buf *b, const struct kv_record *rec);

#endif

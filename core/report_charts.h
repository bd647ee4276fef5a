/* The report's sections drawn from plugin evidence and the robustness file:
 * heatmaps, histograms and the tables that say the same in text. */
#ifndef KV_REPORT_CHARTS_H
#define KV_REPORT_CHARTS_H

#include "record.h"
#include "report.h"

/* A heatmap: rows x cols values (NaN: no cell), shaded from white (0) to
 * dark (max) in one hue, so that greyscale keeps the order; each cell
 * shows its value and carries it exactly in data-value. */
struct kv_heat {
	const char *id;                 /* the figure's caption id */
	const char *title;              /* caption text */
	size_t rows, cols;
	const char *const *row_label, *const *col_label;
	const double *value;
	double max;
	int percent;                    /* values are shares, shown as percent */
};
void kv_report_svg_heatmap(struct kv_buf *b, const struct kv_heat *h);
/* The heatmap's numbers as a table. */
void kv_report_heat_table(struct kv_buf *b, const struct kv_heat *h);

/* Votes: the battle and win-rate matrices (round evidence "matrix.*") and
 * the score histograms per team and rater group (team evidence
 * "histogram.<group>.<bin>"), where a criterion has them. */
void kv_report_votes_section(struct kv_buf *b, const struct kv_record *rec);

/* Forensic evidence of the gates: per team, reference and component
 * ("forensics.<ref>.<component>.identical|share|median_r") and per test and
 * reference ("forensics.<test>.<ref>.similarity|baseline_mean|baseline_sd|z"),
 * with the round's baselines. */
void kv_report_forensics_section(struct kv_buf *b, const struct kv_record *rec);

/* Rank probabilities (heatmap), elimination probabilities, leave-one-out
 * and weight-flip tables of a robustness file. */
void kv_report_robustness_section(struct kv_buf *b, const struct kv_record *rec, const struct kv_robustness *rob);

#endif

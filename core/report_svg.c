#include "report_svg.h"
#include "html.h"
#include "human.h"
#include "report.h"

#include <math.h>

/* Neighbouring colours differ in lightness, so segments stay apart when
 * printed in grey; a white edge separates them as well. */
static const char *const palette[] = {"#1f3b73", "#f0c05a", "#3f8fbf", "#e8875e", "#5b3f86",
				      "#a9d8a4", "#2e6b4f", "#f4a6c0", "#6b6b6b", "#c9c9f0"};
#define PALETTE_SIZE (sizeof palette / sizeof palette[0])

enum { WIDTH = 760, LABEL = 150, RIGHT = 90, ROW = 30, TOP = 34, LEGEND_ROW = 22 };

static double scale_max(const struct kv_record *rec)
{
	double sum = 0, top = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		if (rec->criteria[c].kind == KV_KIND_SCORE)
			sum += rec->criteria[c].points;
	for (size_t i = 0; i < rec->team_count; i++)
		if (rec->teams[i].standing.total > top)
			top = rec->teams[i].standing.total;
	return sum > top ? sum : top > 0 ? top : 1;
}

/* The total of the last team to advance, when a cut on score exists. */
static int cut_total(const struct kv_record *rec, double *cut)
{
	int found = 0;
	for (size_t i = 0; i < rec->team_count; i++) {
		double m;
		const struct kv_standing *s = &rec->teams[i].standing;
		if (s->status == KV_ADVANCE && kv_rec_margin(rec, &rec->teams[i], &m) && (!found || s->total < *cut)) {
			*cut = s->total;
			found = 1;
		}
	}
	return found;
}

static void axis(struct kv_buf *b, double max, int height)
{
	for (int k = 0; k <= 4; k++) {
		double x = LABEL + (WIDTH - LABEL - RIGHT) * k / 4.0;
		char v[32];
		kv_format_human(max * k / 4, v);
		kv_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>"
				 "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
			      x, TOP - 6, x, height, x, TOP - 12, v);
	}
}

static void team_bar(struct kv_buf *b, const struct kv_record *rec, size_t i, double unit)
{
	const struct kv_rec_team *t = &rec->teams[i];
	int y = TOP + (int)i * ROW;
	double x = LABEL;
	kv_buf_printf(b, "<g data-team=\"");
	kv_html_text(b, t->team.id);
	kv_buf_printf(b, "\"%s><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", t->standing.rank ? "" : " opacity=\"0.55\"",
		      LABEL - 8, y + ROW / 2 + 4);
	kv_html_text(b, t->team.id);
	kv_buf_puts(b, "</text>");
	size_t k = 0;
	for (size_t c = 0; c < rec->criterion_count; c++) {
		if (rec->criteria[c].kind != KV_KIND_SCORE)
			continue;
		double p = t->outcomes[c].points, w = p > 0 ? p * unit : 0;
		char exact[32], shown[32];
		kv_format_double(p, exact);
		kv_format_human(p, shown);
		kv_buf_printf(b, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" "
				 "data-criterion=\"", x, y + 4, w, ROW - 8, palette[k++ % PALETTE_SIZE]);
		kv_html_text(b, rec->criteria[c].id);
		kv_buf_printf(b, "\" data-value=\"%s\"><title>", exact);
		kv_html_printf(b, "%s, %s: %s points", t->team.id, rec->criteria[c].id, shown);
		kv_buf_puts(b, "</title></rect>");
		x += w;
	}
	/* Totals in a column of their own, clear of the cut line. */
	kv_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" data-total=\"", WIDTH - 4, y + ROW / 2 + 4);
	char exact[32];
	kv_format_double(t->standing.total, exact);
	kv_buf_printf(b, "%s\">%s%.2f</text></g>", exact, t->standing.rank ? "" : "(gate) ", t->standing.total);
}

static void legend(struct kv_buf *b, const struct kv_record *rec, int y)
{
	size_t k = 0;
	for (size_t c = 0; c < rec->criterion_count; c++) {
		if (rec->criteria[c].kind != KV_KIND_SCORE)
			continue;
		int col = (int)(k % 4), row = (int)(k / 4);
		int x = LABEL + col * 150, yy = y + row * LEGEND_ROW;
		kv_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>"
				 "<text x=\"%d\" y=\"%d\">", x, yy, palette[k % PALETTE_SIZE], x + 20, yy + 12);
		kv_html_text(b, rec->criteria[c].id);
		kv_buf_puts(b, "</text>");
		k++;
	}
}

void kv_report_svg_points(struct kv_buf *b, const struct kv_record *rec)
{
	size_t scores = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		scores += rec->criteria[c].kind == KV_KIND_SCORE;
	double max = scale_max(rec), unit = (WIDTH - LABEL - RIGHT) / max, cut = 0;
	int bars_end = TOP + (int)rec->team_count * ROW;
	int height = bars_end + 16 + (int)((scores + 3) / 4) * LEGEND_ROW;
	char top[32];
	kv_format_human(max, top);
	kv_buf_printf(b, "<figure><figcaption id=\"points-title\">Points by criterion, stacked, per team "
			 "(scale 0 to %s; a dashed line marks the cut; faded bars: not ranked)</figcaption>"
			 "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			 "role=\"img\" aria-labelledby=\"points-title\">", top, WIDTH, height, WIDTH, height);
	axis(b, max, bars_end);
	for (size_t i = 0; i < rec->team_count; i++)
		team_bar(b, rec, i, unit);
	if (cut_total(rec, &cut)) {
		double x = LABEL + cut * unit;
		kv_buf_printf(b, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#c00\" stroke-width=\"2\" "
				 "stroke-dasharray=\"6 4\" data-cut=\"", x, TOP - 4, x, bars_end);
		char exact[32];
		kv_format_double(cut, exact);
		kv_buf_printf(b, "%s\"><title>cut: %.2f points, the lowest total that advanced</title></line>", exact, cut);
	}
	legend(b, rec, bars_end + 12);
	kv_buf_puts(b, "</svg></figure>");
}

#include "report_svg.h"
#include "html.h"
#include "human.h"
#include "report.h"

#include <math.h>
#include <string.h>

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
		if (s->status == KV_ADVANCE && kv_rec_margin(rec, &rec->teams[i], &m, NULL) && (!found || s->total < *cut)) {
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

/* --- a panel's scores per team (strip plot) ------------------------------------- */

#define RATER_PREFIX "total."

/* 1 when the criterion's team evidence holds a panel: "total.<rater>" numbers. */
int kv_report_has_panel(const struct kv_record *rec, size_t c)
{
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		for (size_t k = 0; k < ev->count; k++)
			if (ev->items[k].is_num && strncmp(ev->items[k].key, RATER_PREFIX, strlen(RATER_PREFIX)) == 0)
				return 1;
	}
	return 0;
}

/* 1 when rater is one of the comma-separated ids of the evidence string key. */
int kv_report_rater_in(const struct kv_evidence *ev, const char *key, const char *rater)
{
	const struct kv_evidence_item *it = kv_evidence_get(ev, key);
	if (!it || it->is_num || !it->str)
		return 0;
	size_t n = strlen(rater);
	for (const char *p = it->str; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == n && strncmp(p, rater, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

static double panel_max(const struct kv_record *rec, size_t c)
{
	double top = 0;
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		const struct kv_evidence_item *m = kv_evidence_get(ev, "max");
		if (m && m->is_num && m->num > top)
			top = m->num;
		for (size_t k = 0; k < ev->count; k++)
			if (ev->items[k].is_num && strncmp(ev->items[k].key, RATER_PREFIX, strlen(RATER_PREFIX)) == 0 &&
			    ev->items[k].num > top)
				top = ev->items[k].num;
	}
	return top > 0 ? top : 1;
}

static void panel_row(struct kv_buf *b, const struct kv_record *rec, size_t c, size_t i, double lo, double unit)
{
	const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
	int y = TOP + (int)i * ROW + ROW / 2;
	kv_buf_puts(b, "<g data-team=\"");
	kv_html_text(b, rec->teams[i].team.id);
	kv_buf_printf(b, "\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL - 8, y + 4);
	kv_html_text(b, rec->teams[i].team.id);
	kv_buf_printf(b, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>", LABEL, y,
		      WIDTH - RIGHT, y);
	for (size_t k = 0; k < ev->count; k++) {
		const struct kv_evidence_item *it = &ev->items[k];
		if (!it->is_num || strncmp(it->key, RATER_PREFIX, strlen(RATER_PREFIX)) != 0)
			continue;
		const char *rater = it->key + strlen(RATER_PREFIX);
		int dropped = kv_report_rater_in(ev, "dropped_low", rater) || kv_report_rater_in(ev, "dropped_high", rater);
		char exact[32], shown[32];
		kv_format_double(it->num, exact);
		kv_format_human(it->num, shown);
		/* Kept scores filled, trimmed ones hollow: told apart without colour. */
		kv_buf_printf(b, "<circle cx=\"%.2f\" cy=\"%d\" r=\"5\" fill=\"%s\" stroke=\"#1f3b73\" stroke-width=\"1.5\" "
				 "data-value=\"%s\"><title>", LABEL + (it->num - lo) * unit, y, dropped ? "#fff" : "#1f3b73", exact);
		kv_html_printf(b, "%s, %s: %s%s", rec->teams[i].team.id, rater, shown, dropped ? " (trimmed)" : "");
		kv_buf_puts(b, "</title></circle>");
	}
	const struct kv_evidence_item *mean = kv_evidence_get(ev, "trimmed_mean");
	if (mean && mean->is_num)
		kv_buf_printf(b, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#c00\" stroke-width=\"2.5\">"
				 "<title>trimmed mean %.2f</title></line>",
			      LABEL + (mean->num - lo) * unit, y - 10, LABEL + (mean->num - lo) * unit, y + 10, mean->num);
	kv_buf_puts(b, "</g>");
}

/* Lowest score shown: the axis starts below the lowest panel score, so
 * that close scores stay apart. */
static double panel_min(const struct kv_record *rec, size_t c, double max)
{
	double low = max;
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		for (size_t k = 0; k < ev->count; k++)
			if (ev->items[k].is_num && strncmp(ev->items[k].key, RATER_PREFIX, strlen(RATER_PREFIX)) == 0 &&
			    ev->items[k].num < low)
				low = ev->items[k].num;
	}
	return floor(low * 0.9);
}

void kv_report_svg_panel(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	double hi = panel_max(rec, c), lo = panel_min(rec, c, hi), unit = (WIDTH - LABEL - RIGHT) / (hi - lo > 0 ? hi - lo : 1);
	int height = TOP + (int)rec->team_count * ROW + 8;
	char from[32], to[32];
	kv_format_human(lo, from);
	kv_format_human(hi, to);
	kv_buf_printf(b, "<figure><figcaption id=\"panel-%zu\">", c);
	kv_html_printf(b, "%s: each rater's score per team (%s to %s); hollow: trimmed, red tick: trimmed mean",
		       rec->criteria[c].id, from, to);
	kv_buf_printf(b, "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			 "aria-labelledby=\"panel-%zu\">", WIDTH, height, WIDTH, height, c);
	for (int k = 0; k <= 4; k++) {
		double x = LABEL + (WIDTH - LABEL - RIGHT) * k / 4.0;
		char v[32];
		kv_format_human(lo + (hi - lo) * k / 4, v);
		kv_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>"
				 "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
			      x, TOP - 6, x, height - 8, x, TOP - 12, v);
	}
	for (size_t i = 0; i < rec->team_count; i++)
		panel_row(b, rec, c, i, lo, unit);
	kv_buf_puts(b, "</svg></figure>");
}

/* --- intervals (forest plot) ------------------------------------------------------- */

int kv_report_has_interval(const struct kv_record *rec, size_t c)
{
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_team_outcome *o = &rec->teams[i].outcomes[c];
		const struct kv_evidence_item *lo = kv_evidence_get(&o->evidence, "normalized_q025");
		const struct kv_evidence_item *hi = kv_evidence_get(&o->evidence, "normalized_q975");
		if (!o->has_normalized || !lo || !hi || !lo->is_num || !hi->is_num)
			return 0;
	}
	return rec->team_count > 0;
}

void kv_report_svg_interval(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	double unit = WIDTH - LABEL - RIGHT;
	int height = TOP + (int)rec->team_count * ROW + 8;
	kv_buf_printf(b, "<figure><figcaption id=\"interval-%zu\">", c);
	kv_html_printf(b, "%s: normalized score per team with its 95 %% interval (0 to 1)", rec->criteria[c].id);
	kv_buf_printf(b, "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			 "aria-labelledby=\"interval-%zu\">", WIDTH, height, WIDTH, height, c);
	axis(b, 1, height - 8);
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_team_outcome *o = &rec->teams[i].outcomes[c];
		double lo = kv_evidence_get(&o->evidence, "normalized_q025")->num;
		double hi = kv_evidence_get(&o->evidence, "normalized_q975")->num;
		int y = TOP + (int)i * ROW + ROW / 2;
		char exact[32], s[3][32];
		kv_format_double(o->normalized, exact);
		kv_format_human(o->normalized, s[0]);
		kv_format_human(lo, s[1]);
		kv_format_human(hi, s[2]);
		kv_buf_puts(b, "<g data-team=\"");
		kv_html_text(b, rec->teams[i].team.id);
		kv_buf_printf(b, "\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL - 8, y + 4);
		kv_html_text(b, rec->teams[i].team.id);
		kv_buf_printf(b, "</text><line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>"
				 "<rect x=\"%.2f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#1f3b73\" data-value=\"%s\"><title>",
			      LABEL + lo * unit, y, LABEL + hi * unit, y, LABEL + o->normalized * unit - 5, y - 5, exact);
		kv_html_printf(b, "%s: %s (95 %% interval %s to %s)", rec->teams[i].team.id, s[0], s[1], s[2]);
		kv_buf_puts(b, "</title></rect></g>");
	}
	kv_buf_puts(b, "</svg></figure>");
}

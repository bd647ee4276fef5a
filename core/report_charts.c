/* Heatmaps, histograms and the evidence tables of report_charts.h. */
#include "report_charts.h"
#include "html.h"
#include "human.h"
#include "robust.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* HEAT_RIGHT: room for the last column's slanted label.  HEAT_MODELS: the
 * most models a pairwise heatmap shows, each cell still wider than its
 * number ("50.0%" is about 34 px). */
enum { WIDTH = 760, LABEL = 150, HEAT_TOP = 96, HEAT_ROW = 28, HEAT_RIGHT = 56, HEAT_MODELS = 15 };

static void num(struct kv_buf *b, double x)
{
	char s[32];
	kv_format_human(x, s);
	kv_buf_puts(b, s);
}

static void cell(struct kv_buf *b, const char *tag, const char *cls, const char *text)
{
	kv_buf_printf(b, "<%s%s%s%s>", tag, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	kv_html_text(b, text);
	kv_buf_printf(b, "</%s>", tag);
}

/* A value as the heatmap shows it: a share to one decimal of a percent,
 * a count as it is. */
static void heat_text(char out[32], double v, int percent)
{
	if (isnan(v))
		snprintf(out, 32, "–");
	else if (percent)
		snprintf(out, 32, "%.1f%%", 100 * v);
	else
		kv_format_human(v, out);
}

/* White to #08306b in one hue: lightness falls with the value. */
static void heat_colour(char out[8], double v, double max)
{
	double f = max > 0 ? v / max : 0;
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	int r = (int)(255 - f * (255 - 8)), g = (int)(255 - f * (255 - 48)), bl = (int)(255 - f * (255 - 107));
	snprintf(out, 8, "#%02x%02x%02x", r, g, bl);
}

static void heat_cell(struct kv_buf *b, const struct kv_heat *h, size_t r, size_t c, double x, double w)
{
	double v = h->value[r * h->cols + c];
	int y = HEAT_TOP + (int)r * HEAT_ROW;
	char shown[32], colour[8], exact[32];
	heat_text(shown, v, h->percent);
	if (isnan(v)) {
		kv_buf_printf(b, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#fff\" stroke=\"#ccc\"/>",
			      x, y, w, HEAT_ROW);
		return;
	}
	heat_colour(colour, v, h->max);
	kv_format_double(v, exact);
	int dark = h->max > 0 && v / h->max > 0.5;
	kv_buf_printf(b, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" "
			 "data-row=\"", x, y, w, HEAT_ROW, colour);
	kv_html_text(b, h->row_label[r]);
	kv_buf_puts(b, "\" data-col=\"");
	kv_html_text(b, h->col_label[c]);
	kv_buf_printf(b, "\" data-value=\"%s\"><title>", exact);
	kv_html_printf(b, "%s, %s: %s", h->row_label[r], h->col_label[c], shown);
	kv_buf_printf(b, "</title></rect><text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\"%s>%s</text>", x + w / 2,
		      y + HEAT_ROW / 2 + 4, dark ? " style=\"fill:#fff\"" : "", shown);
}

void kv_report_svg_heatmap(struct kv_buf *b, const struct kv_heat *h)
{
	double w = (double)(WIDTH - LABEL - HEAT_RIGHT) / (double)(h->cols ? h->cols : 1);
	w = w > 90 ? 90 : w;
	int height = HEAT_TOP + (int)h->rows * HEAT_ROW + 8;
	kv_buf_puts(b, "<figure><figcaption id=\"");
	kv_html_text(b, h->id);
	kv_buf_puts(b, "\">");
	kv_html_text(b, h->title);
	kv_buf_printf(b, "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			 "aria-labelledby=\"", WIDTH, height, WIDTH, height);
	kv_html_text(b, h->id);
	kv_buf_puts(b, "\">");
	for (size_t c = 0; c < h->cols; c++) {
		double x = LABEL + w * (double)c + w / 2;
		kv_buf_printf(b, "<text x=\"%.2f\" y=\"%d\" transform=\"rotate(-40 %.2f %d)\">", x, HEAT_TOP - 6, x,
			      HEAT_TOP - 6);
		kv_html_text(b, h->col_label[c]);
		kv_buf_puts(b, "</text>");
	}
	for (size_t r = 0; r < h->rows; r++) {
		kv_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL - 8,
			      HEAT_TOP + (int)r * HEAT_ROW + HEAT_ROW / 2 + 4);
		kv_html_text(b, h->row_label[r]);
		kv_buf_puts(b, "</text>");
		for (size_t c = 0; c < h->cols; c++)
			heat_cell(b, h, r, c, LABEL + w * (double)c, w);
	}
	kv_buf_puts(b, "</svg></figure>");
}

void kv_report_heat_table(struct kv_buf *b, const struct kv_heat *h)
{
	kv_buf_puts(b, "<div class=\"wrap\"><table><caption>");
	kv_html_printf(b, "%s (the chart's numbers)", h->title);
	kv_buf_puts(b, "</caption><tr><th></th>");
	for (size_t c = 0; c < h->cols; c++)
		cell(b, "th", "n", h->col_label[c]);
	kv_buf_puts(b, "</tr>");
	for (size_t r = 0; r < h->rows; r++) {
		kv_buf_puts(b, "<tr>");
		cell(b, "th", NULL, h->row_label[r]);
		for (size_t c = 0; c < h->cols; c++) {
			char shown[32];
			heat_text(shown, h->value[r * h->cols + c], h->percent);
			cell(b, "td", "n", shown);
		}
		kv_buf_puts(b, "</tr>");
	}
	kv_buf_puts(b, "</table></div>");
}

/* --- votes: pairwise matrices ------------------------------------------------------ */

static const struct kv_evidence_item *ev_printf(const struct kv_evidence *ev, const char *fmt, size_t a, size_t b)
{
	char key[96];
	snprintf(key, sizeof key, fmt, a, b);
	return kv_evidence_get(ev, key);
}

static double ev_num(const struct kv_evidence_item *it)
{
	return it && it->is_num ? it->num : NAN;
}

/* The models of the matrix: "matrix.team.<n>" (a team's id) or
 * "matrix.anchor.<n>" (an anchor's model) for n = 1, 2, ... until neither
 * exists; which are teams in *is_team. */
static size_t matrix_models(const struct kv_evidence *ev, const char ***labels, int **is_team)
{
	size_t n = 0;
	*labels = NULL;
	*is_team = NULL;
	for (;;) {
		const struct kv_evidence_item *t = ev_printf(ev, "matrix.team.%zu", n + 1, 0);
		const struct kv_evidence_item *a = t ? NULL : ev_printf(ev, "matrix.anchor.%zu", n + 1, 0);
		const struct kv_evidence_item *it = t ? t : a;
		if (!it || it->is_num || !it->str)
			return n;
		*labels = kv_xrealloc(*labels, (n + 1) * sizeof **labels);
		*is_team = kv_xrealloc(*is_team, (n + 1) * sizeof **is_team);
		(*labels)[n] = it->str;
		(*is_team)[n++] = t != NULL;
	}
}

static double largest(const double *v, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > m)
			m = v[i];
	return m;
}

/* A model's Elo rating in criterion c: a team's from its outcome, an
 * anchor's from the round evidence; NaN when the record has none. */
static double model_elo(const struct kv_record *rec, size_t c, const char *label, int is_team)
{
	if (is_team) {
		long t = kv_rec_team_index(rec, label);
		return t >= 0 ? ev_num(kv_evidence_get(&rec->teams[t].outcomes[c].evidence, "elo")) : NAN;
	}
	char *key = kv_xasprintf("anchor %s elo", label);
	double elo = ev_num(kv_evidence_get(&rec->plugins[c].evidence, key));
	free(key);
	return elo;
}

struct rated { int team; double elo; size_t at; };

/* Highest first; unrated last; then in the matrix's order. */
static int by_elo(const void *x, const void *y)
{
	const struct rated *a = x, *b = y;
	if (isnan(a->elo) != isnan(b->elo))
		return isnan(a->elo) ? 1 : -1;
	if (!isnan(a->elo) && a->elo != b->elo)
		return a->elo > b->elo ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

/* Teams before anchors, then by_elo. */
static int teams_then_elo(const void *x, const void *y)
{
	const struct rated *a = x, *b = y;
	return a->team != b->team ? b->team - a->team : by_elo(x, y);
}

/* The models the heatmaps show, as indices into the matrix (n of them),
 * and how they were chosen (empty: all, in the matrix's order).  Beyond
 * HEAT_MODELS a cell would be narrower than its number: the round's teams
 * come first, the highest-rated, then the highest-rated anchors fill the
 * rest; shown highest first. */
static size_t shown_models(const struct kv_record *rec, size_t c, const char **labels, const int *is_team,
			   size_t k, size_t *pick, char *why, size_t why_size)
{
	*why = '\0';
	if (k <= HEAT_MODELS) {
		for (size_t i = 0; i < k; i++)
			pick[i] = i;
		return k;
	}
	struct rated *r = kv_xcalloc(k, sizeof *r);
	size_t teams = 0;
	for (size_t i = 0; i < k; i++) {
		r[i] = (struct rated){is_team[i], model_elo(rec, c, labels[i], is_team[i]), i};
		teams += (size_t)r[i].team;
	}
	qsort(r, k, sizeof *r, teams_then_elo);
	size_t n = HEAT_MODELS;
	qsort(r, n, sizeof *r, by_elo);
	for (size_t i = 0; i < n; i++)
		pick[i] = r[i].at;
	free(r);
	if (teams >= n)
		snprintf(why, why_size, " (the %zu highest-rated of the %zu teams, highest first; every pair is in the "
			 "record)", n, teams);
	else
		snprintf(why, why_size, " (the %zu teams and the %zu highest-rated of %zu other models, highest "
			 "first; every pair is in the record)", teams, n - teams, k - teams);
	return n;
}

static void matrices(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	const struct kv_evidence *ev = &rec->plugins[c].evidence;
	const char **labels;
	int *is_team;
	size_t k = matrix_models(ev, &labels, &is_team);
	if (k < 2) {
		free(labels);
		free(is_team);
		return;
	}
	char id[2][64], title[2][640], which[200];
	size_t *pick = kv_xcalloc(k, sizeof *pick);
	size_t n = shown_models(rec, c, labels, is_team, k, pick, which, sizeof which);
	const char **shown = kv_xcalloc(n, sizeof *shown);
	double *battles = kv_xcalloc(n * n, sizeof *battles), *rate = kv_xcalloc(n * n, sizeof *rate);
	for (size_t i = 0; i < n; i++) {
		size_t a = pick[i];
		shown[i] = labels[a];
		for (size_t j = 0; j < n; j++) {
			size_t o = pick[j];
			double games = a == o ? NAN : ev_num(ev_printf(ev, "matrix.%zu.%zu.battles", a + 1, o + 1));
			double won = ev_num(ev_printf(ev, "matrix.%zu.%zu.wins", a + 1, o + 1));
			double lost = ev_num(ev_printf(ev, "matrix.%zu.%zu.wins", o + 1, a + 1));
			battles[i * n + j] = games;
			/* A tie is half a win each way, as the fit counts it. */
			rate[i * n + j] = games > 0 ? (won + (games - won - lost) / 2) / games : NAN;
		}
	}
	snprintf(id[0], sizeof id[0], "winrate-%zu", c);
	snprintf(id[1], sizeof id[1], "battles-%zu", c);
	snprintf(title[0], sizeof title[0], "%s: share of battles the row's model won against the column's "
		 "(a tie counts half)%s", rec->criteria[c].id, which);
	snprintf(title[1], sizeof title[1], "%s: battles counted between each two models%s", rec->criteria[c].id,
		 which);
	struct kv_heat h[2] = {
		{id[0], title[0], n, n, shown, shown, rate, 1, 1},
		{id[1], title[1], n, n, shown, shown, battles, largest(battles, n * n), 0},
	};
	for (int i = 0; i < 2; i++) {
		kv_report_svg_heatmap(b, &h[i]);
		kv_report_heat_table(b, &h[i]);
	}
	free(battles);
	free(rate);
	free(shown);
	free(pick);
	free(labels);
	free(is_team);
}

/* --- votes: rating histograms ------------------------------------------------------ */

struct hist {
	long long first, width, bins;
	char **group;    /* distinct groups, in order of first appearance */
	size_t groups;
};

/* The groups named by team evidence "histogram.<group>.<first bin>". */
static void hist_groups(const struct kv_record *rec, size_t c, struct hist *h)
{
	char first[32];
	snprintf(first, sizeof first, ".%lld", h->first);
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		for (size_t k = 0; k < ev->count; k++) {
			const char *key = ev->items[k].key;
			size_t len = strlen(key), fl = strlen(first);
			if (strncmp(key, "histogram.", 10) != 0 || len <= 10 + fl || strcmp(key + len - fl, first) != 0)
				continue;
			char *g = kv_xasprintf("%.*s", (int)(len - 10 - fl), key + 10);
			size_t j = 0;
			while (j < h->groups && strcmp(h->group[j], g) != 0)
				j++;
			if (j < h->groups) {
				free(g);
				continue;
			}
			h->group = kv_xrealloc(h->group, (h->groups + 1) * sizeof *h->group);
			h->group[h->groups++] = g;
		}
	}
}

static double hist_count(const struct kv_record *rec, size_t c, size_t i, const struct hist *h, size_t g, long long bin)
{
	char key[400];
	snprintf(key, sizeof key, "histogram.%s.%lld", h->group[g], h->first + bin * h->width);
	return ev_num(kv_evidence_get(&rec->teams[i].outcomes[c].evidence, key));
}

static char *bin_label(const struct hist *h, long long bin)
{
	long long lo = h->first + bin * h->width;
	return h->width == 1 ? kv_xasprintf("%lld", lo) : kv_xasprintf("%lld–%lld", lo, lo + h->width - 1);
}

enum { HIST_ROW = 56, HIST_TOP = 30, HIST_BAR = 40 };

static void hist_row(struct kv_buf *b, const struct kv_record *rec, size_t c, const struct hist *h, size_t i,
		     size_t g, int y, double top)
{
	double w = (double)(WIDTH - LABEL) / (double)h->bins;
	kv_buf_puts(b, "<g data-team=\"");
	kv_html_text(b, rec->teams[i].team.id);
	kv_buf_puts(b, "\" data-group=\"");
	kv_html_text(b, h->group[g]);
	kv_buf_printf(b, "\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL - 8, y + HIST_BAR / 2 + 4);
	kv_html_printf(b, "%s, %s", rec->teams[i].team.id, h->group[g]);
	kv_buf_printf(b, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", LABEL, y + HIST_BAR,
		      WIDTH, y + HIST_BAR);
	for (long long k = 0; k < h->bins; k++) {
		double n = hist_count(rec, c, i, h, g, k), bh = isnan(n) ? 0 : n / top * HIST_BAR;
		char *label = bin_label(h, k);
		kv_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#1f3b73\" "
				 "data-bin=\"%s\" data-value=\"%.0f\"><title>", LABEL + w * (double)k + 2,
			      y + HIST_BAR - bh, w - 4, bh, label, isnan(n) ? 0 : n);
		kv_html_printf(b, "%s, %s, score %s: %.0f ratings", rec->teams[i].team.id, h->group[g], label,
			       isnan(n) ? 0 : n);
		kv_buf_printf(b, "</title></rect><text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%s: %.0f</text>",
			      LABEL + w * ((double)k + 0.5), y + HIST_BAR + 13, label, isnan(n) ? 0 : n);
		free(label);
	}
	kv_buf_puts(b, "</g>");
}

static void hist_chart(struct kv_buf *b, const struct kv_record *rec, size_t c, const struct hist *h)
{
	double top = 1;
	for (size_t i = 0; i < rec->team_count; i++)
		for (size_t g = 0; g < h->groups; g++)
			for (long long k = 0; k < h->bins; k++)
				if (hist_count(rec, c, i, h, g, k) > top)
					top = hist_count(rec, c, i, h, g, k);
	int height = HIST_TOP + (int)(rec->team_count * h->groups) * HIST_ROW;
	kv_buf_printf(b, "<figure><figcaption id=\"histogram-%zu\">", c);
	kv_html_printf(b, "%s: counted ratings per score, per team and rater group (bar height: count, "
			    "tallest %.0f)", rec->criteria[c].id, top);
	kv_buf_printf(b, "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			 "aria-labelledby=\"histogram-%zu\">", WIDTH, height, WIDTH, height, c);
	int y = HIST_TOP - 16;
	for (size_t i = 0; i < rec->team_count; i++)
		for (size_t g = 0; g < h->groups; g++, y += HIST_ROW)
			hist_row(b, rec, c, h, i, g, y, top);
	kv_buf_puts(b, "</svg></figure>");
}

static void hist_table(struct kv_buf *b, const struct kv_record *rec, size_t c, const struct hist *h)
{
	kv_buf_puts(b, "<div class=\"wrap\"><table><caption>");
	kv_html_printf(b, "%s: counted ratings per score (the chart's numbers)", rec->criteria[c].id);
	kv_buf_puts(b, "</caption><tr><th>team</th><th>rater group</th>");
	for (long long k = 0; k < h->bins; k++) {
		char *label = bin_label(h, k);
		cell(b, "th", "n", label);
		free(label);
	}
	kv_buf_puts(b, "</tr>");
	for (size_t i = 0; i < rec->team_count; i++)
		for (size_t g = 0; g < h->groups; g++) {
			kv_buf_puts(b, "<tr>");
			cell(b, "td", NULL, rec->teams[i].team.id);
			cell(b, "td", NULL, h->group[g]);
			for (long long k = 0; k < h->bins; k++) {
				kv_buf_puts(b, "<td class=\"n\">");
				num(b, hist_count(rec, c, i, h, g, k));
				kv_buf_puts(b, "</td>");
			}
			kv_buf_puts(b, "</tr>");
		}
	kv_buf_puts(b, "</table></div>");
}

/* At most this many bins are drawn: the plugin writes ten at most. */
#define HIST_MAX_BINS 64

static void histograms(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	const struct kv_evidence *ev = &rec->plugins[c].evidence;
	double first = ev_num(kv_evidence_get(ev, "histogram.first_bin"));
	double width = ev_num(kv_evidence_get(ev, "histogram.bin_width"));
	double bins = ev_num(kv_evidence_get(ev, "histogram.bins"));
	if (!(fabs(first) < 1e15 && width >= 1 && width < 1e15 && bins >= 1 && bins <= HIST_MAX_BINS))
		return;
	struct hist h = {(long long)first, (long long)width, (long long)bins, NULL, 0};
	hist_groups(rec, c, &h);
	if (h.groups) {
		hist_chart(b, rec, c, &h);
		hist_table(b, rec, c, &h);
	}
	for (size_t g = 0; g < h.groups; g++)
		free(h.group[g]);
	free(h.group);
}

static int has_votes_charts(const struct kv_record *rec, size_t c)
{
	const struct kv_evidence *ev = &rec->plugins[c].evidence;
	return kv_evidence_get(ev, "matrix.team.1") || kv_evidence_get(ev, "histogram.bins");
}

void kv_report_votes_section(struct kv_buf *b, const struct kv_record *rec)
{
	int any = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		any |= has_votes_charts(rec, c);
	if (!any)
		return;
	kv_buf_puts(b, "<section id=\"votes\"><h2>Votes: rating distributions and battle matrices</h2>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		histograms(b, rec, c);
		matrices(b, rec, c);
	}
	kv_buf_puts(b, "</section>\n");
}

/* --- forensics ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* "forensics.t<digits>." */
static size_t test_prefix(const char *key)
{
	const char *p = key + 10;
	if (strncmp(key, "forensics.", 10) != 0 || *p != 't' || !(p[1] >= '0' && p[1] <= '9'))
		return 0;
	p++;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '.' ? (size_t)(p - key) : 0;
}

static void num_cell(struct kv_buf *b, const struct kv_evidence *ev, const char *key)
{
	kv_buf_puts(b, "<td class=\"n\">");
	const struct kv_evidence_item *it = kv_evidence_get(ev, key);
	if (it && it->is_num)
		num(b, it->num);
	kv_buf_puts(b, "</td>");
}

/* A row of a forensic table when key is the one it is built from (the
 * header first when header is not NULL); 0 when key is another. */
typedef int (*forensic_row)(struct kv_buf *b, const char *team, const struct kv_evidence *ev, const char *key,
			    const char *header);

/* Per test and reference: "forensics.<test>.<ref>.similarity" beside its baseline. */
static int test_row(struct kv_buf *b, const char *team, const struct kv_evidence *ev, const char *key,
		    const char *header)
{
	size_t t = test_prefix(key), len = strlen(key);
	if (!t || !ends_with(key, ".similarity") || len - 11 <= t + 1)
		return 0;
	char *base = kv_xasprintf("%.*s", (int)(len - 11), key);
	char *test = kv_xasprintf("%.*s", (int)(t - 10), key + 10);
	char *mean = kv_xasprintf("%s.baseline_mean", base), *sd = kv_xasprintf("%s.baseline_sd", base);
	char *z = kv_xasprintf("%s.z", base);
	const struct kv_evidence_item *m = kv_evidence_get(ev, mean), *s = kv_evidence_get(ev, sd);
	kv_buf_puts(b, header ? header : "");
	kv_buf_puts(b, "<tr>");
	cell(b, "td", NULL, team);
	cell(b, "td", NULL, test);
	cell(b, "td", NULL, base + t + 1);
	num_cell(b, ev, key);
	kv_buf_puts(b, "<td class=\"n\">");
	if (m && m->is_num) {
		num(b, m->num);
		if (s && s->is_num) {
			kv_buf_puts(b, " ± ");
			num(b, s->num);
		}
	}
	kv_buf_puts(b, "</td>");
	num_cell(b, ev, z);
	kv_buf_puts(b, "</tr>");
	free(base), free(test), free(mean), free(sd), free(z);
	return 1;
}

/* Per reference and component: "forensics.<ref>.<component>.median_r" and its neighbours. */
static int component_row(struct kv_buf *b, const char *team, const struct kv_evidence *ev, const char *key,
			 const char *header)
{
	if (strncmp(key, "forensics.", 10) != 0 || test_prefix(key) || !ends_with(key, ".median_r"))
		return 0;
	char *base = kv_xasprintf("%.*s", (int)(strlen(key) - 9), key);
	const char *dot = strrchr(base, '.');
	if (dot <= base + 10) {
		free(base);
		return 0;
	}
	char *ref = kv_xasprintf("%.*s", (int)(dot - base - 10), base + 10);
	char *ident = kv_xasprintf("%s.identical", base), *share = kv_xasprintf("%s.share", base);
	const struct kv_evidence_item *text = kv_evidence_get(ev, base);
	kv_buf_puts(b, header ? header : "");
	kv_buf_puts(b, "<tr>");
	cell(b, "td", NULL, team);
	cell(b, "td", NULL, ref);
	cell(b, "td", NULL, dot + 1);
	num_cell(b, ev, ident);
	num_cell(b, ev, share);
	num_cell(b, ev, key);
	cell(b, "td", NULL, text && !text->is_num && text->str ? text->str : "");
	kv_buf_puts(b, "</tr>");
	free(base), free(ref), free(ident), free(share);
	return 1;
}

/* One table of the criterion's team evidence, a row per key row() takes. */
static int forensic_table(struct kv_buf *b, const struct kv_record *rec, size_t c, forensic_row row,
			  const char *header)
{
	int rows = 0;
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		for (size_t k = 0; k < ev->count; k++)
			rows += row(b, rec->teams[i].team.id, ev, ev->items[k].key, rows ? NULL : header);
	}
	if (rows)
		kv_buf_puts(b, "</table>");
	return rows;
}

static const char test_header[] =
	"<table><caption>Similarity of each model to each reference, beside the baseline of unrelated pairs"
	"</caption><tr><th>team</th><th>test</th><th>reference</th><th class=\"n\">similarity</th>"
	"<th class=\"n\">baseline mean ± sd</th><th class=\"n\">z</th></tr>";
static const char component_header[] =
	"<table><caption>Weights compared with each reference, per component</caption><tr><th>team</th>"
	"<th>reference</th><th>component</th><th class=\"n\">identical tensors</th><th class=\"n\">share "
	"above the failing r</th><th class=\"n\">median r</th><th>in words</th></tr>";

/* The round's references, parameters and baselines, as the plugin words them. */
static void forensic_round_lines(struct kv_buf *b, const struct kv_evidence *ev)
{
	int open = 0;
	for (size_t k = 0; k < ev->count; k++) {
		const struct kv_evidence_item *it = &ev->items[k];
		if (strncmp(it->key, "forensics.", 10) != 0 || it->is_num || !it->str)
			continue;
		if (!open++)
			kv_buf_puts(b, "<table><caption>References and baselines</caption>");
		kv_buf_puts(b, "<tr>");
		cell(b, "th", NULL, it->key + 10);
		cell(b, "td", NULL, it->str);
		kv_buf_puts(b, "</tr>");
	}
	if (open)
		kv_buf_puts(b, "</table>");
}

void kv_report_forensics_section(struct kv_buf *b, const struct kv_record *rec)
{
	struct kv_buf body = {0};
	kv_buf_puts(&body, "");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		struct kv_buf one = {0};
		kv_buf_puts(&one, "");
		int rows = forensic_table(&one, rec, c, test_row, test_header) +
			   forensic_table(&one, rec, c, component_row, component_header);
		if (rows) {
			kv_buf_puts(&body, "<h3>");
			kv_html_printf(&body, "%s (plugin %s)", rec->criteria[c].id, rec->plugins[c].plugin);
			kv_buf_puts(&body, "</h3><div class=\"wrap\">");
			kv_buf_puts(&body, one.data);
			forensic_round_lines(&body, &rec->plugins[c].evidence);
			kv_buf_puts(&body, "</div>");
		}
		kv_buf_free(&one);
	}
	if (body.len)
		kv_buf_printf(b, "<section id=\"forensics\"><h2>Forensic findings of the gates</h2>%s</section>\n",
			      body.data);
	kv_buf_free(&body);
}

/* --- robustness ------------------------------------------------------------------------- */

static const char *id_of(const cJSON *o, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(s) ? s->valuestring : "";
}

static void rank_heatmap(struct kv_buf *b, const cJSON *teams)
{
	size_t n = (size_t)cJSON_GetArraySize(teams), ranks = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, teams) {
		size_t m = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "rank_probabilities"));
		ranks = m > ranks ? m : ranks;
	}
	if (!n || !ranks)
		return;
	if (n > HEAT_MODELS) { /* a cell per team and rank would be narrower than its number */
		kv_buf_printf(b, "<p>The probability of each rank of the %zu teams is in the robustness file "
				 "(<code>rank_probabilities</code>): a heatmap of it would not show its numbers.</p>", n);
		return;
	}
	const char **rows = kv_xcalloc(n, sizeof *rows), **cols = kv_xcalloc(ranks, sizeof *cols);
	char **names = kv_xcalloc(ranks, sizeof *names);
	double *v = kv_xcalloc(n * ranks, sizeof *v);
	for (size_t k = 0; k < ranks; k++)
		cols[k] = names[k] = kv_xasprintf("rank %zu", k + 1);
	size_t i = 0;
	cJSON_ArrayForEach(t, teams) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "rank_probabilities");
		rows[i] = id_of(t, "id");
		for (size_t k = 0; k < ranks; k++) {
			const cJSON *x = cJSON_GetArrayItem(p, (int)k);
			v[i * ranks + k] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
		}
		i++;
	}
	struct kv_heat h = {"rank-probabilities", "Probability of each rank over the resampled rounds (row: team)",
			    n, ranks, rows, cols, v, 1, 1};
	kv_report_svg_heatmap(b, &h);
	kv_report_heat_table(b, &h);
	for (size_t k = 0; k < ranks; k++)
		free(names[k]);
	free(names), free(cols), free(rows), free(v);
}

static void team_list(struct kv_buf *b, const cJSON *arr)
{
	const cJSON *x;
	struct kv_buf s = {0};
	kv_buf_puts(&s, "");
	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x))
			kv_buf_printf(&s, "%s%s", s.len ? ", " : "", x->valuestring);
	kv_html_text(b, s.len ? s.data : "none");
	kv_buf_free(&s);
}

/* A row's first cells: the string members of o named in keys. */
static void string_cells(struct kv_buf *b, const cJSON *o, const char *const *keys, size_t n)
{
	kv_buf_puts(b, "<tr>");
	for (size_t i = 0; i < n; i++)
		cell(b, "td", NULL, id_of(o, keys[i]));
}

static void leave_one_out(struct kv_buf *b, const cJSON *loo)
{
	if (!cJSON_GetArraySize(loo))
		return;
	kv_buf_puts(b, "<div class=\"wrap\"><table><caption>Leave one out: the round rescored without one "
		       "unit of a source; the teams whose decision changed</caption><tr><th>source</th>"
		       "<th>criterion</th><th>unit left out</th><th>decisions changed</th></tr>");
	static const char *const keys[] = {"source", "criterion", "unit"};
	const cJSON *d;
	cJSON_ArrayForEach(d, loo) {
		string_cells(b, d, keys, 3);
		kv_buf_puts(b, "<td>");
		team_list(b, cJSON_GetObjectItemCaseSensitive(d, "changed"));
		kv_buf_puts(b, "</td></tr>");
	}
	kv_buf_puts(b, "</table></div>");
}

static void json_num_cell(struct kv_buf *b, const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	kv_buf_puts(b, "<td class=\"n\">");
	if (cJSON_IsNumber(x))
		num(b, x->valuedouble);
	else
		kv_buf_puts(b, "–");
	kv_buf_puts(b, "</td>");
}

static void flip_row(struct kv_buf *b, const cJSON *f)
{
	static const char *const keys[] = {"team", "against"};
	string_cells(b, f, keys, 2);
	cell(b, "td", NULL, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "feasible")) ? "yes" : "no");
	json_num_cell(b, f, "l2");
	json_num_cell(b, f, "linf");
	kv_buf_puts(b, "<td>");
	const cJSON *p, *pts = cJSON_GetObjectItemCaseSensitive(f, "points");
	int first = 1;
	if (!cJSON_IsObject(pts))
		pts = NULL;
	cJSON_ArrayForEach(p, pts) {
		char v[32];
		if (!cJSON_IsNumber(p))
			continue;
		kv_format_human(p->valuedouble, v);
		kv_html_printf(b, "%s%s %s", first ? "" : ", ", p->string, v);
		first = 0;
	}
	kv_buf_puts(b, "</td>");
	cell(b, "td", NULL, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "changes_decision")) ? "yes" : "no");
	kv_buf_puts(b, "</tr>");
}

/* Every pair of a small round; of a large one (a pair per eliminated and
 * advancing team) the closest that a reweighting can level, as kaieval
 * robustness prints them (kv_flips_shown), and a count of the rest. */
static void weight_flips(struct kv_buf *b, const cJSON *flips)
{
	size_t n = (size_t)cJSON_GetArraySize(flips), i = 0, none = 0;
	if (!n)
		return;
	const cJSON **row = kv_xcalloc(n, sizeof *row), *f;
	double *l2 = kv_xcalloc(n, sizeof *l2);
	size_t *order = kv_xcalloc(n, sizeof *order);
	cJSON_ArrayForEach(f, flips) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(f, "l2");
		int feasible = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "feasible"));
		row[i] = f;
		l2[i] = feasible && cJSON_IsNumber(x) ? x->valuedouble : NAN;
		none += isnan(l2[i++]);
	}
	size_t shown = kv_flips_shown(l2, n, order);
	if (shown == 0) {
		kv_buf_printf(b, "<p>Weight flips: no reweighting of the points levels any of the %zu pairs of an "
				 "eliminated and an advancing team (each eliminated team is behind on every score "
				 "criterion); all are in the robustness file.</p>", n);
	} else {
		kv_buf_puts(b, "<div class=\"wrap\"><table><caption>Weight flips: the smallest change of the points "
			       "per criterion that puts a team level with another");
		if (shown < n)
			kv_buf_printf(b, " (the %zu closest of %zu pairs; all are in the robustness file, %zu of them "
					 "beyond any reweighting)", shown, n, none);
		kv_buf_puts(b, "</caption><tr><th>team</th><th>against</th><th>feasible</th><th class=\"n\">L2</th>"
			       "<th class=\"n\">L∞</th><th>points per criterion</th><th>changes a decision</th></tr>");
		for (i = 0; i < shown; i++)
			flip_row(b, row[order[i]]);
		kv_buf_puts(b, "</table></div>");
	}
	free(order);
	free(l2);
	free(row);
}

void kv_report_robustness_section(struct kv_buf *b, const struct kv_record *rec, const struct kv_robustness *rob)
{
	if (!rob)
		return;
	kv_buf_puts(b, "<section id=\"robustness\"><h2>Robustness</h2><table><caption>Probability of "
		       "elimination</caption><tr><th>team</th><th class=\"n\">probability</th></tr>");
	for (size_t i = 0; i < rec->team_count; i++) {
		if (isnan(rob->p_eliminated[i]))
			continue;
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, rec->teams[i].team.id);
		kv_buf_printf(b, "<td class=\"n\">%.1f %%</td></tr>", 100 * rob->p_eliminated[i]);
	}
	kv_buf_puts(b, "</table>");
	rank_heatmap(b, cJSON_GetObjectItemCaseSensitive(rob->doc, "teams"));
	leave_one_out(b, cJSON_GetObjectItemCaseSensitive(rob->doc, "leave_one_out"));
	weight_flips(b, cJSON_GetObjectItemCaseSensitive(rob->doc, "weight_flips"));
	kv_buf_puts(b, "</section>\n");
}

/* kaieval report: the page's sections, in reading order.  The charts are
 * drawn by report_svg.c; every string of the record passes through html.c. */
#include "report.h"
#include "audit.h"
#include "html.h"
#include "human.h"
#include "jsondoc.h"
#include "output.h"
#include "publish.h"
#include "report_charts.h"
#include "report_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Hangul needs a font that has it: the usual system fonts on each platform,
 * never a downloaded one.  Print: A4, no chart or row split across pages. */
static const char style[] =
	"body{font-family:system-ui,\"Noto Sans CJK KR\",\"Noto Sans KR\",\"Apple SD Gothic Neo\","
	"\"Malgun Gothic\",\"Segoe UI\",sans-serif;color:#111;background:#fff;margin:0 auto;"
	"max-width:60rem;padding:1rem;line-height:1.45;overflow-wrap:break-word}"
	"h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #111;"
	"margin-top:2rem}h3{font-size:1.05rem;margin-bottom:.3rem}"
	"table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}"
	"th,td{border:1px solid #999;padding:.2rem .45rem;text-align:left;vertical-align:top}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}"
	".wrap{overflow-x:auto}.fail{font-weight:bold}.muted{color:#555;font-size:.85rem}"
	"svg{max-width:100%;height:auto;display:block}svg text{font-size:12px;fill:#111}"
	"code{font-size:.85rem;word-break:break-all}pre{font-size:.8rem;line-height:1.3}"
	"@media print{@page{size:A4;margin:14mm}body{max-width:none;padding:0;font-size:10pt}"
	"h2,h3{break-after:avoid}tr,svg,figure{break-inside:avoid}.wrap{overflow:visible}"
	"details>summary{list-style:none}}"
	"figure{margin:1rem 0}figcaption{font-weight:bold;margin-bottom:.3rem}";

static void num(struct kv_buf *b, double x)
{
	char s[32];
	kv_format_human(x, s);
	kv_buf_puts(b, s);
}

static void points(struct kv_buf *b, double x)
{
	kv_buf_printf(b, "%.2f", x == 0 ? 0.0 : x);
}

static void cell(struct kv_buf *b, const char *tag, const char *cls, const char *text)
{
	kv_buf_printf(b, "<%s%s%s%s>", tag, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	kv_html_text(b, text);
	kv_buf_printf(b, "</%s>", tag);
}

int kv_rec_margin(const struct kv_record *rec, const struct kv_rec_team *team, double *margin,
		  const struct kv_rec_team **against)
{
	const struct kv_rec_team *best_out = NULL, *worst_in = NULL;
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *o = &rec->teams[i];
		if (o->standing.reason == KV_REASON_GATE)
			continue;
		if (o->standing.status == KV_ADVANCE && (!worst_in || o->standing.total < worst_in->standing.total))
			worst_in = o;
		if (o->standing.status != KV_ADVANCE && (!best_out || o->standing.total > best_out->standing.total))
			best_out = o;
	}
	if (team->standing.reason == KV_REASON_GATE || !best_out || !worst_in)
		return 0;
	const struct kv_rec_team *other = team->standing.status == KV_ADVANCE ? best_out : worst_in;
	*margin = team->standing.total - other->standing.total;
	if (against)
		*against = other;
	return 1;
}

/* Why a team stands where it does, in words. */
static void decision_words(struct kv_buf *b, const struct kv_record *rec, const struct kv_rec_team *t)
{
	const struct kv_standing *s = &t->standing;
	switch (s->reason) {
	case KV_REASON_GATE:
		kv_html_printf(b, "eliminated: failed the gate %s (not ranked)", rec->criteria[s->reason_gate].id);
		return;
	case KV_REASON_BELOW_MIN_TOTAL: {
		char m[32];
		kv_format_human(rec->selection.min_total, m);
		kv_html_printf(b, "eliminated: total below the minimum of %s points", m);
		return;
	}
	case KV_REASON_LOWEST_TOTAL:
		kv_html_printf(b, "eliminated on score (rank %ld)", s->rank);
		return;
	case KV_REASON_NONE:
		kv_html_printf(b, "%s (rank %ld)", kv_status_name(s->status), s->rank);
		for (size_t g = 0; g < s->failed_count; g++)
			kv_html_printf(b, "; flagged by the gate %s", rec->criteria[s->failed_gates[g]].id);
	}
}

static void rules_section(struct kv_buf *b, const struct kv_record *rec)
{
	const struct kv_selection *sel = &rec->selection;
	kv_buf_puts(b, "<section id=\"rules\"><h2>The round and its rules</h2><p>");
	kv_html_printf(b, "%zu team%s, %zu criteri%s. ", rec->team_count, rec->team_count == 1 ? "" : "s",
		       rec->criterion_count, rec->criterion_count == 1 ? "on" : "a");
	if (sel->n == 1)
		kv_buf_puts(b, sel->rule == KV_SELECT_ADVANCE ? "The ranked team with the highest total advances"
							      : "The ranked team with the lowest total is eliminated");
	else
		kv_buf_printf(b, sel->rule == KV_SELECT_ADVANCE ? "The %ld ranked teams with the highest totals advance"
								: "The %ld ranked teams with the lowest totals are eliminated",
			      sel->n);
	if (sel->has_min_total) {
		kv_buf_puts(b, "; a total below ");
		num(b, sel->min_total);
		kv_buf_puts(b, " points eliminates");
	}
	kv_html_printf(b, ". A failed gate %s. ", sel->gate_flag_only ? "is reported (flag only)" : "eliminates the team");
	if (sel->tie_break_count) {
		kv_buf_puts(b, "Totals within ");
		num(b, sel->tie_precision);
		kv_buf_puts(b, " points are tied and broken by the points of");
		for (size_t i = 0; i < sel->tie_break_count; i++)
			kv_html_printf(b, "%s %s", i ? "," : "", sel->tie_break[i]);
		kv_buf_puts(b, ".");
	}
	kv_buf_puts(b, "</p><div class=\"wrap\"><table><caption>Criteria</caption><tr><th>criterion</th>"
		       "<th>kind</th><th class=\"n\">points</th><th>group</th><th>plugin</th></tr>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_criterion *cr = &rec->criteria[c];
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, cr->id);
		cell(b, "td", NULL, kv_kind_name(cr->kind));
		kv_buf_puts(b, "<td class=\"n\">");
		if (cr->kind == KV_KIND_SCORE)
			num(b, cr->points);
		kv_buf_puts(b, "</td>");
		cell(b, "td", NULL, cr->group ? cr->group : "");
		cell(b, "td", NULL, cr->plugin);
		kv_buf_puts(b, "</tr>");
	}
	kv_buf_puts(b, "</table></div></section>\n");
}

static void ranking_section(struct kv_buf *b, const struct kv_record *rec)
{
	kv_buf_puts(b, "<section id=\"ranking\"><h2>Ranking and decisions</h2><div class=\"wrap\"><table>"
		       "<tr><th class=\"n\">rank</th><th>team</th><th>name</th><th>model</th>"
		       "<th class=\"n\">total</th><th>decision</th><th class=\"n\">margin to the cut</th></tr>");
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *t = &rec->teams[i];
		double margin;
		kv_buf_printf(b, "<tr data-team=\"");
		kv_html_text(b, t->team.id);
		kv_buf_puts(b, "\"><td class=\"n\">");
		if (t->standing.rank)
			kv_buf_printf(b, "%ld", t->standing.rank);
		else
			kv_buf_puts(b, "–");
		kv_buf_puts(b, "</td>");
		cell(b, "td", NULL, t->team.id);
		cell(b, "td", NULL, t->team.name);
		cell(b, "td", NULL, t->team.model);
		kv_buf_puts(b, "<td class=\"n\">");
		points(b, t->standing.total);
		kv_buf_printf(b, "</td><td%s>", t->standing.status == KV_ELIMINATED ? " class=\"fail\"" : "");
		decision_words(b, rec, t);
		kv_buf_puts(b, "</td><td class=\"n\">");
		if (kv_rec_margin(rec, t, &margin, NULL))
			kv_buf_printf(b, "%+.2f", margin);
		kv_buf_puts(b, "</td></tr>");
	}
	kv_buf_puts(b, "</table></div></section>\n");
}

/* The points chart, then the same numbers as a table. */
static void points_section(struct kv_buf *b, const struct kv_record *rec)
{
	kv_buf_puts(b, "<section id=\"points\"><h2>Points by criterion</h2>");
	kv_report_svg_points(b, rec);
	kv_buf_puts(b, "<div class=\"wrap\"><table><caption>Points per team and criterion (the chart's numbers)"
		       "</caption><tr><th>team</th>");
	for (size_t c = 0; c < rec->criterion_count; c++)
		if (rec->criteria[c].kind == KV_KIND_SCORE)
			cell(b, "th", "n", rec->criteria[c].id);
	for (size_t g = 0; g < rec->group_count; g++) {
		kv_buf_puts(b, "<th class=\"n\">group ");
		kv_html_text(b, rec->groups[g]);
		kv_buf_puts(b, "</th>");
	}
	kv_buf_puts(b, "<th class=\"n\">total</th></tr>");
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *t = &rec->teams[i];
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, t->team.id);
		for (size_t c = 0; c < rec->criterion_count; c++) {
			if (rec->criteria[c].kind != KV_KIND_SCORE)
				continue;
			kv_buf_puts(b, "<td class=\"n\">");
			points(b, t->outcomes[c].points);
			kv_buf_puts(b, "</td>");
		}
		for (size_t g = 0; g < rec->group_count; g++) {
			kv_buf_puts(b, "<td class=\"n\">");
			points(b, t->groups[g]);
			kv_buf_puts(b, "</td>");
		}
		kv_buf_puts(b, "<td class=\"n\">");
		points(b, t->standing.total);
		kv_buf_puts(b, "</td></tr>");
	}
	kv_buf_puts(b, "</table></div></section>\n");
}

static void value_text(struct kv_buf *b, const struct kv_team_outcome *o)
{
	if (!o->has_value)
		return;
	num(b, o->value);
	if (o->unit && *o->unit) {
		kv_buf_puts(b, " ");
		kv_html_text(b, o->unit);
	}
}

/* Gate and info criteria: one row per team, the verdict or value. */
static void gates_section(struct kv_buf *b, const struct kv_record *rec)
{
	int any = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		any |= rec->criteria[c].kind != KV_KIND_SCORE;
	if (!any)
		return;
	kv_buf_puts(b, "<section id=\"gates\"><h2>Gates and information</h2>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_criterion *cr = &rec->criteria[c];
		if (cr->kind == KV_KIND_SCORE)
			continue;
		kv_buf_puts(b, "<div class=\"wrap\"><table><caption>");
		kv_html_printf(b, "%s (%s, plugin %s)", cr->id, kv_kind_name(cr->kind), cr->plugin);
		kv_buf_printf(b, "</caption><tr><th>team</th>%s<th>value</th></tr>",
			      cr->kind == KV_KIND_GATE ? "<th>verdict</th>" : "");
		for (size_t i = 0; i < rec->team_count; i++) {
			const struct kv_team_outcome *o = &rec->teams[i].outcomes[c];
			kv_buf_puts(b, "<tr>");
			cell(b, "td", NULL, rec->teams[i].team.id);
			if (cr->kind == KV_KIND_GATE)
				kv_buf_printf(b, "<td%s>%s</td>", o->pass ? "" : " class=\"fail\"", o->pass ? "PASS" : "FAIL");
			kv_buf_puts(b, "<td>");
			value_text(b, o);
			kv_buf_puts(b, "</td></tr>");
		}
		kv_buf_puts(b, "</table></div>");
	}
	kv_buf_puts(b, "</section>\n");
}

/* The strip plot's numbers: each team's kept and trimmed scores. */
static void panel_table(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	kv_buf_puts(b, "<div class=\"wrap\"><table><tr><th>team</th><th>scores kept</th><th>trimmed</th>"
		       "<th class=\"n\">trimmed mean</th></tr>");
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_evidence *ev = &rec->teams[i].outcomes[c].evidence;
		struct kv_buf kept = {0}, cut = {0};
		kv_buf_puts(&kept, "");
		kv_buf_puts(&cut, "");
		for (size_t k = 0; k < ev->count; k++) {
			const struct kv_evidence_item *it = &ev->items[k];
			if (!it->is_num || strncmp(it->key, "total.", 6) != 0)
				continue;
			int dropped = kv_report_rater_in(ev, "dropped_low", it->key + 6) ||
				      kv_report_rater_in(ev, "dropped_high", it->key + 6);
			struct kv_buf *to = dropped ? &cut : &kept;
			char v[32];
			kv_format_human(it->num, v);
			kv_buf_printf(to, "%s%s %s", to->len ? ", " : "", it->key + 6, v);
		}
		const struct kv_evidence_item *mean = kv_evidence_get(ev, "trimmed_mean");
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, rec->teams[i].team.id);
		cell(b, "td", NULL, kept.data);
		cell(b, "td", NULL, cut.data);
		kv_buf_puts(b, "<td class=\"n\">");
		if (mean && mean->is_num)
			num(b, mean->num);
		kv_buf_puts(b, "</td></tr>");
		kv_buf_free(&kept);
		kv_buf_free(&cut);
	}
	kv_buf_puts(b, "</table></div>");
}

static void interval_table(struct kv_buf *b, const struct kv_record *rec, size_t c)
{
	kv_buf_puts(b, "<div class=\"wrap\"><table><tr><th>team</th><th class=\"n\">normalized</th>"
		       "<th class=\"n\">2.5 %</th><th class=\"n\">97.5 %</th></tr>");
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_team_outcome *o = &rec->teams[i].outcomes[c];
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, rec->teams[i].team.id);
		kv_buf_puts(b, "<td class=\"n\">");
		num(b, o->normalized);
		kv_buf_puts(b, "</td><td class=\"n\">");
		num(b, kv_evidence_get(&o->evidence, "normalized_q025")->num);
		kv_buf_puts(b, "</td><td class=\"n\">");
		num(b, kv_evidence_get(&o->evidence, "normalized_q975")->num);
		kv_buf_puts(b, "</td></tr>");
	}
	kv_buf_puts(b, "</table></div>");
}

/* Panels and rating intervals, where a plugin's evidence gives them. */
static void panels_section(struct kv_buf *b, const struct kv_record *rec)
{
	int any = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		any |= kv_report_has_panel(rec, c) || kv_report_has_interval(rec, c);
	if (!any)
		return;
	kv_buf_puts(b, "<section id=\"panels\"><h2>Panels and ratings</h2>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		if (kv_report_has_panel(rec, c)) {
			const struct kv_evidence_item *a = kv_evidence_get(&rec->plugins[c].evidence, "alpha");
			kv_report_svg_panel(b, rec, c);
			if (a && a->is_num) {
				kv_buf_puts(b, "<p>Agreement of the panel (alpha, as the plugin reports it): ");
				num(b, a->num);
				kv_buf_puts(b, ".</p>");
			}
			panel_table(b, rec, c);
		}
		if (kv_report_has_interval(rec, c)) {
			kv_report_svg_interval(b, rec, c);
			interval_table(b, rec, c);
		}
	}
	kv_buf_puts(b, "</section>\n");
}

/* A pairwise matrix (matrix.*) is a chart's data, k^2 entries: one row
 * counting them, as kaieval explain prints it.  The index past the run. */
static size_t matrix_row(struct kv_buf *b, const struct kv_evidence *ev, size_t i)
{
	size_t j = kv_evidence_run_end(ev, i, "matrix.");
	kv_buf_printf(b, "<tr><td>matrix</td><td>%zu entries: battles and wins per pair (the battle matrices "
			 "above; every one in the embedded record)</td></tr>", j - i);
	return j;
}

static void evidence_table(struct kv_buf *b, const struct kv_evidence *ev)
{
	kv_buf_puts(b, "<table>");
	for (size_t i = 0; i < ev->count; i++) {
		const struct kv_evidence_item *e = &ev->items[i];
		if (strncmp(e->key, "matrix.", 7) == 0) {
			i = matrix_row(b, ev, i) - 1;
			continue;
		}
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, e->key);
		if (e->is_num) {
			kv_buf_puts(b, "<td class=\"n\">");
			num(b, e->num);
			kv_buf_puts(b, "</td>");
		} else {
			cell(b, "td", NULL, e->str ? e->str : "");
		}
		kv_buf_puts(b, "</tr>");
	}
	kv_buf_puts(b, "</table>");
}

/* What each plugin said of the round as a whole. */
static void round_evidence_section(struct kv_buf *b, const struct kv_record *rec)
{
	int any = 0;
	for (size_t c = 0; c < rec->criterion_count; c++)
		any |= rec->plugins[c].evidence.count > 0;
	if (!any)
		return;
	kv_buf_puts(b, "<section id=\"round-evidence\"><h2>Findings for the whole round</h2>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		if (rec->plugins[c].evidence.count == 0)
			continue;
		kv_buf_puts(b, "<h3>");
		kv_html_printf(b, "%s (plugin %s)", rec->criteria[c].id, rec->plugins[c].plugin);
		kv_buf_puts(b, "</h3><div class=\"wrap\">");
		evidence_table(b, &rec->plugins[c].evidence);
		kv_buf_puts(b, "</div>");
	}
	kv_buf_puts(b, "</section>\n");
}

static void team_criterion_row(struct kv_buf *b, const struct kv_record *rec, size_t c, const struct kv_team_outcome *o)
{
	const struct kv_rec_criterion *cr = &rec->criteria[c];
	kv_buf_puts(b, "<tr>");
	cell(b, "td", NULL, cr->id);
	kv_buf_puts(b, "<td>");
	value_text(b, o);
	kv_buf_puts(b, "</td><td class=\"n\">");
	if (cr->kind == KV_KIND_GATE)
		kv_buf_puts(b, o->pass ? "PASS" : "<span class=\"fail\">FAIL</span>");
	else if (o->has_normalized)
		num(b, o->normalized);
	kv_buf_puts(b, "</td><td class=\"n\">");
	if (cr->kind == KV_KIND_SCORE) {
		points(b, o->points);
		kv_buf_puts(b, " / ");
		num(b, cr->points);
	}
	kv_buf_puts(b, "</td><td>");
	if (o->evidence.count) {
		kv_buf_printf(b, "<details><summary>%zu findings</summary>", o->evidence.count);
		evidence_table(b, &o->evidence);
		kv_buf_puts(b, "</details>");
	}
	kv_buf_puts(b, "</td></tr>");
}

static void team_sections(struct kv_buf *b, const struct kv_record *rec)
{
	kv_buf_puts(b, "<section id=\"teams\"><h2>Each team</h2>");
	for (size_t i = 0; i < rec->team_count; i++) {
		const struct kv_rec_team *t = &rec->teams[i];
		double margin;
		kv_buf_puts(b, "<h3>");
		kv_html_printf(b, "%s — %s (%s)", t->team.id, t->team.name, t->team.model);
		kv_buf_puts(b, "</h3><p>Total ");
		points(b, t->standing.total);
		kv_buf_puts(b, " points; ");
		decision_words(b, rec, t);
		if (kv_rec_margin(rec, t, &margin, NULL))
			kv_buf_printf(b, "; margin to the cut %+.2f points", margin);
		kv_buf_puts(b, ".</p><div class=\"wrap\"><table><tr><th>criterion</th><th>raw value</th>"
			       "<th class=\"n\">normalized / verdict</th><th class=\"n\">points</th><th>evidence</th></tr>");
		for (size_t c = 0; c < rec->criterion_count; c++)
			team_criterion_row(b, rec, c, &t->outcomes[c]);
		kv_buf_puts(b, "</table></div>");
	}
	kv_buf_puts(b, "</section>\n");
}

/* The tables `kaieval publish` gives at each level, as it prints them. */
static void disclosure_section(struct kv_buf *b, const struct kv_record *rec)
{
	static const char *const levels[] = {"top", "gap", "full"};
	kv_buf_puts(b, "<section id=\"disclosure\"><h2>Disclosure tables</h2><p>What <code>kaieval publish</code> "
		       "prints at each level of detail, two decimals.</p>");
	for (size_t l = 0; l < 3; l++) {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		if (!mem)
			continue;
		struct kv_digits two;
		kv_digits_all(&two, 2);
		kv_publish_tables(rec, levels[l], 0, &two, mem);
		fclose(mem);
		kv_buf_printf(b, "<h3>Level %s</h3><div class=\"wrap\"><pre>", levels[l]);
		kv_html_text(b, text);
		kv_buf_puts(b, "</pre></div>");
		free(text);
	}
	kv_buf_puts(b, "</section>\n");
}

static void provenance_section(struct kv_buf *b, const struct kv_record *rec)
{
	kv_buf_puts(b, "<section id=\"provenance\"><h2>Provenance</h2><p>");
	kv_html_printf(b, "Config %s, SHA-256 ", rec->config_path);
	kv_buf_puts(b, "<code>");
	kv_html_text(b, rec->config_sha256);
	kv_buf_puts(b, "</code>");
	kv_html_printf(b, "; seed %lld; kaieval %s.", rec->seed, rec->version ? rec->version : "(not recorded)");
	kv_buf_puts(b, "</p><div class=\"wrap\"><table><caption>Inputs</caption><tr><th>file</th>"
		       "<th class=\"n\">bytes</th><th>SHA-256</th></tr>");
	for (size_t i = 0; i < rec->input_count; i++) {
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, rec->inputs[i].path);
		kv_buf_printf(b, "<td class=\"n\">%lld</td><td><code>", rec->inputs[i].bytes);
		kv_html_text(b, rec->inputs[i].sha256);
		kv_buf_puts(b, "</code></td></tr>");
	}
	kv_buf_puts(b, "</table><table><caption>Plugins</caption><tr><th>criterion</th><th>plugin</th>"
		       "<th>version</th><th>ABI</th></tr>");
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_plugin *p = &rec->plugins[c];
		kv_buf_puts(b, "<tr>");
		cell(b, "td", NULL, p->criterion);
		cell(b, "td", NULL, p->plugin);
		cell(b, "td", NULL, p->version ? p->version : "");
		cell(b, "td", NULL, p->abi ? p->abi : "");
		kv_buf_puts(b, "</tr>");
	}
	kv_buf_puts(b, "</table></div></section>\n");
}

/* No script runs, nothing is fetched: only the inline style is allowed. */
static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
			  "font-src 'none'; script-src 'none'; connect-src 'none'; base-uri 'none'; "
			  "form-action 'none'";

void kv_report_html(const struct kv_record *rec, const struct kv_robustness *rob, struct kv_buf *out)
{
	kv_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			   "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">"
			   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>", csp);
	kv_html_printf(out, "%s — %s", rec->round_id, rec->title);
	kv_buf_printf(out, "</title><style>%s</style></head>\n<body><header><h1>", style);
	kv_html_text(out, rec->title);
	kv_buf_puts(out, "</h1><p class=\"muted\">");
	kv_html_printf(out, "Round %s, %s. Totals are shown to two decimals; the record (embedded at the end "
			    "of this page) keeps the exact values.", rec->round_id, rec->date);
	kv_buf_puts(out, "</p></header>\n");
	rules_section(out, rec);
	ranking_section(out, rec);
	points_section(out, rec);
	gates_section(out, rec);
	kv_report_forensics_section(out, rec);
	panels_section(out, rec);
	kv_report_votes_section(out, rec);
	kv_report_robustness_section(out, rec, rob);
	round_evidence_section(out, rec);
	team_sections(out, rec);
	disclosure_section(out, rec);
	provenance_section(out, rec);
	struct kv_buf json = {0};
	kv_record_write(rec, &json);
	kv_buf_puts(out, "<script type=\"application/json\" id=\"kaieval-record\">");
	kv_html_json(out, json.data, json.len);
	kv_buf_puts(out, "</script>\n</body></html>\n");
	kv_buf_free(&json);
}

/* --- robustness file ---------------------------------------------------------- */

static int robustness_fail(struct kv_error *err, const char *path, const char *what)
{
	return kv_fail(err, KV_EXIT_INPUT, "%s: %s", path, what);
}

/* One team of the robustness file: its id and p_eliminated, checked. */
static int robustness_team(const char *path, const cJSON *t, size_t i, const struct kv_record *rec,
			   struct kv_robustness *out, struct kv_error *err)
{
	const char *id = kv_json_str(t, "id");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "p_eliminated");
	long team = id ? kv_rec_team_index(rec, id) : -1;
	if (!id)
		return kv_fail(err, KV_EXIT_INPUT, "%s: teams[%zu].id: missing or not a string", path, i);
	if (team < 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: teams[%zu].id: '%s': no such team in the record",
			       path, i, id);
	if (!cJSON_IsNumber(p) || !(p->valuedouble >= 0 && p->valuedouble <= 1))
		return kv_fail(err, KV_EXIT_INPUT, "%s: teams[%zu].p_eliminated: must be a number in [0, 1]",
			       path, i);
	out->p_eliminated[team] = p->valuedouble;
	const cJSON *x, *probs = cJSON_GetObjectItemCaseSensitive(t, "rank_probabilities");
	if (probs && !cJSON_IsArray(probs))
		return kv_fail(err, KV_EXIT_INPUT, "%s: teams[%zu].rank_probabilities: must be an array", path, i);
	size_t k = 0;
	cJSON_ArrayForEach(x, probs) {
		if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 1))
			return kv_fail(err, KV_EXIT_INPUT, "%s: teams[%zu].rank_probabilities[%zu]: must be a "
				       "number in [0, 1]", path, i, k);
		k++;
	}
	return 0;
}

/* leave_one_out and weight_flips: absent, or arrays of objects. */
static int robustness_lists(const char *path, const cJSON *doc, struct kv_error *err)
{
	static const char *const lists[] = {"leave_one_out", "weight_flips"};
	for (size_t l = 0; l < 2; l++) {
		const cJSON *x, *a = cJSON_GetObjectItemCaseSensitive(doc, lists[l]);
		size_t i = 0;
		if (a && !cJSON_IsArray(a))
			return kv_fail(err, KV_EXIT_INPUT, "%s: member \"%s\" must be an array", path, lists[l]);
		cJSON_ArrayForEach(x, a) {
			if (!cJSON_IsObject(x))
				return kv_fail(err, KV_EXIT_INPUT, "%s: %s[%zu]: must be an object", path, lists[l], i);
			i++;
		}
	}
	return 0;
}

/* The file `kaieval robustness -o` writes: its round must be the record's;
 * the report shows each team's probability of elimination, all sources
 * resampled together. */
int kv_robustness_read(const char *path, const struct kv_record *rec, struct kv_robustness *out,
		       struct kv_error *err)
{
	cJSON *doc = kv_json_load(path, err);
	if (!doc)
		return err->status;
	const char *round = kv_json_str(doc, "round");
	const cJSON *teams = cJSON_GetObjectItemCaseSensitive(doc, "teams");
	int rc = 0;
	if (!round || strcmp(round, rec->round_id) != 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: member \"round\" must be the record's round \"%s\"", path,
			     rec->round_id);
	else if (!cJSON_IsArray(teams))
		rc = robustness_fail(err, path, "member \"teams\" must be an array (a file of kaieval robustness)");
	out->p_eliminated = kv_xcalloc(rec->team_count ? rec->team_count : 1, sizeof *out->p_eliminated);
	for (size_t i = 0; i < rec->team_count; i++)
		out->p_eliminated[i] = NAN;
	size_t i = 0;
	for (const cJSON *t = rc ? NULL : teams->child; t && rc == 0; t = t->next, i++)
		rc = robustness_team(path, t, i, rec, out, err);
	if (rc == 0)
		rc = robustness_lists(path, doc, err);
	out->doc = doc;
	if (rc)
		kv_robustness_free(out);
	return rc;
}

void kv_robustness_free(struct kv_robustness *r)
{
	free(r->p_eliminated);
	r->p_eliminated = NULL;
	cJSON_Delete(r->doc);
	r->doc = NULL;
}

/* --- the command ------------------------------------------------------------------ */

int kv_report(const char *input, const char *robustness, const char *output)
{
	struct kv_error err = {0};
	char *path = kv_record_arg(input);
	struct kv_record *rec = kv_record_read(path, &err);
	struct kv_robustness rob = {0};
	int rc = rec ? 0 : err.status;
	if (rc == 0 && robustness)
		rc = kv_robustness_read(robustness, rec, &rob, &err);
	const char *inputs[] = {path, robustness};
	if (rc == 0)
		rc = kv_output_not_one_of(output, "an input of the report", inputs, robustness ? 2 : 1, &err);
	if (rc == 0) {
		struct kv_buf html = {0};
		kv_report_html(rec, robustness ? &rob : NULL, &html);
		rc = kv_write_file_atomic(output, html.data, html.len, &err);
		kv_buf_free(&html);
	}
	if (rc)
		kv_error_print(&err, stderr);
	kv_robustness_free(&rob);
	kv_record_free(rec);
	free(path);
	return rc;
}

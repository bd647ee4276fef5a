/* kaieval report and the numbers printed for people.  Expected values are
 * derived by hand: examples/2026-01-stage1-table/README.md gives lg's nia
 * 9.5 points and total 90.2; in conf/rounds/2026-01-stage1.cfg nc scores
 * 8 + 11.2 + 8.6 + 27.2 + 25 x 163/224 = 73.19196..., shown as 73.192. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <string.h>
#include "html.h"
#include "human.h"
#include "record.h"
#include "report.h"
#include "support.h"

static char *human(double x)
{
	static char s[32];
	kv_format_human(x, s);
	return s;
}

Test(human, rounds_to_six_significant_digits)
{
	cr_expect_str_eq(human(73.19196428571428), "73.192");
	cr_expect_str_eq(human(27.799999999999997), "27.8");
	cr_expect_str_eq(human(72.00000000000001), "72");
	cr_expect_str_eq(human(0.9199999999999999), "0.92");
	cr_expect_str_eq(human(-6.690178571428571), "-6.69018");
	cr_expect_str_eq(human(236000000000.0), "236000000000");
	cr_expect_str_eq(human(-0.0), "0");
	cr_expect_str_eq(human(-0.0000001), "-1e-07");
	cr_expect_str_eq(human(0.00025), "0.00025");
}

Test(human, a_change_hidden_by_rounding_is_shown_as_a_difference)
{
	char a[32], b[KV_CHANGE_MAX];
	kv_format_change(66.2, 74.95, a, b);
	cr_expect_str_eq(a, "66.2");
	cr_expect_str_eq(b, "74.95");
	kv_format_change(1.0000001, 1.0000003, a, b);
	cr_expect_str_eq(a, "1");
	cr_expect_str_eq(b, "1 (+2e-07)");
}

Test(human, display_width_counts_hangul_twice)
{
	cr_expect_eq(kv_display_width("abc"), 3);
	cr_expect_eq(kv_display_width("한국어"), 6);
	cr_expect_eq(kv_display_width("LG 엑사원"), 9);
}

static char *escaped(const char *s)
{
	struct kv_buf b = {0};
	kv_buf_puts(&b, "");
	kv_html_text(&b, s);
	return b.data;
}

Test(html, hostile_text_is_escaped)
{
	char *s = escaped("<script>alert(\"x\")</script> & 'q'");
	cr_expect_str_eq(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
	free(s);
	s = escaped("한국 \u202Eabc\u202C");
	cr_expect_str_eq(s, "한국 \u202Eabc\u202C");
	free(s);
	/* A control character, a stray byte and an encoded surrogate become U+FFFD. */
	s = escaped("a\x01" "b\xff" "c\xed\xa0\x80");
	cr_expect_str_eq(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	free(s);
}

Test(html, embedded_json_cannot_close_its_script)
{
	struct kv_buf b = {0};
	const char *json = "{\"a\":\"</script><!--<x>\"}";
	kv_html_json(&b, json, strlen(json));
	cr_expect(strchr(b.data, '<') == NULL, "%s", b.data);
	cJSON *back = cJSON_Parse(b.data);
	cr_assert(back != NULL);
	cr_expect_str_eq(cJSON_GetObjectItem(back, "a")->valuestring, "</script><!--<x>");
	cJSON_Delete(back);
	kv_buf_free(&b);
}

static char *dir, *record;

static void setup(void)
{
	dir = kvt_tempdir();
	record = kvt_round_record("2026-01-stage1-table", dir);
	cr_assert(record != NULL);
	/* An archive folder's record is its result.json. */
	char *copy = kv_xasprintf("%s/result.json", dir);
	kvt_copy(record, copy);
	free(copy);
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
	free(record);
}

TestSuite(report, .init = setup, .fini = teardown);

static char *page(const struct kv_record *rec)
{
	struct kv_buf b = {0};
	kv_report_html(rec, NULL, &b);
	return b.data;
}

static struct kv_record *read_record(void)
{
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(record, &err);
	cr_assert(rec != NULL, "%s", err.msg);
	return rec;
}

Test(report, same_record_same_bytes_and_no_request)
{
	char *out = kv_xasprintf("%s/a.html", dir), *out2 = kv_xasprintf("%s/b.html", dir);
	const char *a1[] = {"report", record, "-o", out, NULL}, *a2[] = {"report", dir, "-o", out2, NULL};
	cr_assert_eq(kvt_exec(a1, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(a2, NULL, NULL), 0);  /* an archive folder: its result.json */
	char *x = kvt_read(out), *y = kvt_read(out2);
	cr_expect_str_eq(x, y);
	cr_expect(strstr(x, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';") != NULL);
	/* Nothing to fetch: no URL, no src or href attribute, no CSS url(). */
	cr_expect(strstr(x, "http:") == NULL && strstr(x, "https:") == NULL && strstr(x, "//") == NULL);
	cr_expect(strstr(x, " src=") == NULL && strstr(x, " href=") == NULL && strstr(x, "url(") == NULL);
	cr_expect(strstr(x, "@import") == NULL && strstr(x, "@font-face") == NULL);
	free(x);
	free(y);
	free(out);
	free(out2);
}

/* The JSON between the record's script tags, unescaped by the JSON parser. */
static cJSON *embedded(const char *html)
{
	const char *open = "<script type=\"application/json\" id=\"kaieval-record\">";
	const char *start = strstr(html, open);
	cr_assert(start != NULL);
	start += strlen(open);
	const char *end = strstr(start, "</script>");
	cr_assert(end != NULL);
	return cJSON_ParseWithLength(start, (size_t)(end - start));
}

Test(report, embedded_record_reads_back_as_the_record)
{
	struct kv_record *rec = read_record();
	char *html = page(rec);
	cJSON *doc = embedded(html);
	cr_assert(doc != NULL);
	struct kv_error err = {0};
	struct kv_record *back = kv_record_from_json(doc, "embedded", &err);
	cr_assert(back != NULL, "%s", err.msg);
	struct kv_buf a = {0}, b = {0};
	kv_record_write(back, &a);
	char *file = kvt_read(record);
	cr_expect_str_eq(a.data, file);
	kv_buf_free(&a);
	kv_buf_free(&b);
	free(file);
	kv_record_free(back);
	cJSON_Delete(doc);
	free(html);
	kv_record_free(rec);
}

/* The value of attribute attr after the first occurrence of anchor. */
static double attr_after(const char *html, const char *anchor, const char *attr)
{
	const char *p = strstr(html, anchor);
	cr_assert(p != NULL, "%s not found", anchor);
	p = strstr(p, attr);
	cr_assert(p != NULL);
	return strtod(p + strlen(attr), NULL);
}

/* The data-value of a heatmap cell of the figure whose caption id is given. */
static double cell_value(const char *html, const char *figure, const char *row, const char *col)
{
	const char *fig = strstr(html, figure);
	cr_assert(fig != NULL, "%s not in the page", figure);
	char *anchor = kv_xasprintf("data-row=\"%s\" data-col=\"%s\" data-value=\"", row, col);
	const char *end = strstr(fig, "</svg>"), *p = strstr(fig, anchor);
	double v = p && p < end ? strtod(p + strlen(anchor), NULL) : NAN;
	free(anchor);
	return v;
}

Test(report, chart_values_are_the_records)
{
	struct kv_record *rec = read_record();
	char *html = page(rec);
	cr_expect_eq(attr_after(html, "<g data-team=\"lg\"", "data-criterion=\"nia\" data-value=\""), 9.5);
	/* Totals are sums: exactly the record's, and 90.2 and 82.7 to the 9th digit. */
	double lg_total = attr_after(html, "<g data-team=\"lg\"", "data-total=\"");
	cr_expect_eq(lg_total, rec->teams[kv_rec_team_index(rec, "lg")].standing.total);
	cr_expect(fabs(lg_total - 90.2) < 1e-9);
	cr_expect_eq(attr_after(html, "<g data-team=\"nc\"", "data-criterion=\"experts\" data-value=\""), 25.2);
	/* The cut: the lowest total that advanced, upstage's 82.7. */
	double cut = attr_after(html, "<line", "data-cut=\"");
	cr_expect_eq(cut, rec->teams[kv_rec_team_index(rec, "upstage")].standing.total);
	cr_expect(fabs(cut - 82.7) < 1e-9);
	cr_expect(strstr(html, "eliminated: failed the gate independence") != NULL);
	cr_expect(strstr(html, "eliminated on score (rank 4)") != NULL);
	/* Margins: upstage 82.7 - 66.2 = +16.50; nc 66.2 - 82.7 = -16.50. */
	cr_expect(strstr(html, "; margin to the cut +16.50 points") != NULL);
	cr_expect(strstr(html, "; margin to the cut -16.50 points") != NULL);
	free(html);
	kv_record_free(rec);
}

Test(report, hostile_names_are_text)
{
	struct kv_record *rec = read_record();
	free(rec->teams[0].team.name);
	rec->teams[0].team.name = kv_xstrdup("<script>alert('x')</script>\"&엘지\u202E");
	free(rec->teams[1].team.id);
	rec->teams[1].team.id = kv_xstrdup("\"><img src=x onerror=alert(1)>");
	char *html = page(rec);
	cr_expect(strstr(html, "<script>alert") == NULL);
	cr_expect(strstr(html, "<img") == NULL);
	cr_expect(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;엘지\u202E") != NULL);
	cr_expect(strstr(html, "data-team=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\"") != NULL);
	/* Exactly one script element: the embedded record. */
	const char *p = html;
	int scripts = 0;
	while ((p = strstr(p, "<script")) != NULL) {
		scripts++;
		p++;
	}
	cr_expect_eq(scripts, 1);
	free(html);
	kv_record_free(rec);
}

static int report_with(const char *robustness_text, char **err)
{
	char *rob = kv_xasprintf("%s/rob.json", dir), *out = kv_xasprintf("%s/r.html", dir);
	kvt_write(dir, "rob.json", robustness_text);
	const char *args[] = {"report", record, "--robustness", rob, "-o", out, NULL};
	int rc = kvt_exec(args, NULL, err);
	free(rob);
	free(out);
	return rc;
}

Test(report, robustness_is_shown_when_valid)
{
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[{\"id\":\"nc\",\"p_eliminated\":0.875}]}",
				 NULL), 0);
	char *path = kv_xasprintf("%s/r.html", dir), *html = kvt_read(path);
	cr_expect(strstr(html, "<td>nc</td><td class=\"n\">87.5 %</td>") != NULL, "%s", html);
	free(html);
	free(path);
}

/* Rank probabilities as a heatmap, leave-one-out and weight flips as tables. */
Test(report, robustness_tables_and_rank_heatmap)
{
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[{\"id\":\"nc\",\"p_eliminated\":0.75,"
				 "\"rank_probabilities\":[0,0,0.25,0.75]}],\"leave_one_out\":[{\"source\":\"expert\","
				 "\"criterion\":\"experts\",\"unit\":\"e07\",\"changed\":[\"nc\",\"upstage\"]}],"
				 "\"weight_flips\":[{\"team\":\"nc\",\"against\":\"upstage\",\"feasible\":true,\"l2\":1.5,"
				 "\"linf\":1.25,\"points\":{\"experts\":26.2},\"changes_decision\":true}]}", NULL), 0);
	char *path = kv_xasprintf("%s/r.html", dir), *html = kvt_read(path);
	cr_expect_eq(cell_value(html, "id=\"rank-probabilities\"", "nc", "rank 3"), 0.25);
	cr_expect_eq(cell_value(html, "id=\"rank-probabilities\"", "nc", "rank 4"), 0.75);
	cr_expect(strstr(html, "<td>expert</td><td>experts</td><td>e07</td><td>nc, upstage</td>") != NULL);
	cr_expect(strstr(html, "<td>nc</td><td>upstage</td><td>yes</td><td class=\"n\">1.5</td><td class=\"n\">1.25"
			       "</td><td>experts 26.2</td><td>yes</td>") != NULL);
	free(html);
	free(path);
}

/* The file `kaieval robustness` writes is the one the report reads. */
Test(report, takes_the_file_of_kaieval_robustness)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	char *rob = kv_xasprintf("%s/rob.json", dir), *out = kv_xasprintf("%s/r.html", dir);
	const char *robust[] = {"robustness", cfg, "--replicates", "20", "-o", rob, NULL};
	cr_assert_eq(kvt_exec(robust, NULL, NULL), 0);
	char *record = kv_xasprintf("%s/stage1.json", dir);
	const char *run[] = {"run", cfg, "-o", record, NULL};
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	const char *report[] = {"report", record, "--robustness", rob, "-o", out, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(report, NULL, &err), 0, "%s", err);
	free(err);
	free(record);
	free(out);
	free(rob);
	free(cfg);
}

/* Sixteen teams (kvt_two_criteria_round), four advance (t13..t16): t2..t12
 * can be levelled with them (44 pairs), t1 cannot (4 pairs).  The page shows the 12 closest flips, closest first, and
 * no rank heatmap: 16 x 16 cells would not hold their numbers. */
Test(report, a_large_round_shows_the_closest_flips_and_no_rank_heatmap)
{
	char *path = kvt_two_criteria_round(dir, "big", 16), *rob = kv_xasprintf("%s/big/rob.json", dir);
	char *rec = kv_xasprintf("%s/big/rec.json", dir), *out = kv_xasprintf("%s/big/r.html", dir);
	const char *robust[] = {"robustness", path, "--replicates", "10", "-o", rob, NULL};
	const char *run[] = {"run", path, "-o", rec, NULL};
	const char *report[] = {"report", rec, "--robustness", rob, "-o", out, NULL};
	cr_assert_eq(kvt_exec(robust, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(report, NULL, NULL), 0);
	char *text = kvt_read(rob);
	cJSON *doc = cJSON_Parse(text);
	double least = INFINITY;
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(doc, "weight_flips"))
		if (cJSON_IsTrue(cJSON_GetObjectItem(f, "feasible")) && cJSON_GetObjectItem(f, "l2")->valuedouble < least)
			least = cJSON_GetObjectItem(f, "l2")->valuedouble;
	char *html = kvt_read(out);
	cr_expect(strstr(html, "id=\"rank-probabilities\"") == NULL);
	cr_expect(strstr(html, "The probability of each rank of the 16 teams is in the robustness file") != NULL);
	const char *p = strstr(html, "(the 12 closest of 48 pairs; all are in the robustness file, 4 of them beyond "
				     "any reweighting)");
	cr_assert(p != NULL);
	const char *end = strstr(p, "</table>");
	double last = -1;
	size_t rows = 0;
	while ((p = strstr(p, "<td>yes</td><td class=\"n\">")) && p < end) {
		p += strlen("<td>yes</td><td class=\"n\">");
		double l2 = strtod(p, NULL);
		cr_expect(l2 >= last, "row %zu: L2 %g after %g", rows + 1, l2, last);
		if (rows++ == 0)
			cr_expect(fabs(l2 - least) <= 1e-5 * least, "first row %g, least in the file %g", l2, least);
		last = l2;
	}
	cr_expect_eq(rows, 12);
	free(html);
	cJSON_Delete(doc);
	free(text), free(out), free(rec), free(rob), free(path);
}

Test(report, robustness_is_checked)
{
	char *err = NULL;
	cr_expect_eq(report_with("{\"round\":\"other\",\"teams\":[]}", &err), 2);
	cr_expect(strstr(err, "rob.json: member \"round\" must be the record's round") != NULL, "%s", err);
	free(err);
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[{\"id\":\"nc\",\"p_eliminated\":1.5}]}",
				 &err), 2);
	cr_expect(strstr(err, "teams[0].p_eliminated: must be a number in [0, 1]") != NULL, "%s", err);
	free(err);
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[{\"id\":\"zz\",\"p_eliminated\":0}]}",
				 &err), 2);
	cr_expect(strstr(err, "teams[0].id: 'zz': no such team") != NULL, "%s", err);
	free(err);
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[{\"id\":\"nc\",\"p_eliminated\":0,"
				 "\"rank_probabilities\":[0.5,2]}]}", &err), 2);
	cr_expect(strstr(err, "teams[0].rank_probabilities[1]: must be a number in [0, 1]") != NULL, "%s", err);
	free(err);
	cr_expect_eq(report_with("{\"round\":\"2026-01-stage1-table\",\"teams\":[],\"weight_flips\":[1]}", &err), 2);
	cr_expect(strstr(err, "weight_flips[0]: must be an object") != NULL, "%s", err);
	free(err);
}

Test(report, run_writes_the_same_report)
{
	char *a = kv_xasprintf("%s/run.html", dir), *b = kv_xasprintf("%s/rep.html", dir);
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	const char *run[] = {"run", cfg, "--report", a, NULL}, *rep[] = {"report", record, "-o", b, NULL};
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(rep, NULL, NULL), 0);
	char *x = kvt_read(a), *y = kvt_read(b);
	cr_expect_str_eq(x, y);
	free(x);
	free(y);
	free(a);
	free(b);
	free(cfg);
}

/* The archived stage 1's record, run into a fresh folder *tmp. */
static struct kv_record *stage1_record(char **tmp, char **path)
{
	*tmp = kvt_tempdir();
	*path = kvt_round_record("2026-01-stage1", *tmp);
	cr_assert(*path != NULL);
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(*path, &err);
	cr_assert(rec != NULL, "%s", err.msg);
	return rec;
}

Test(report, panel_and_intervals_are_the_records)
{
	char *tmp, *path;
	struct kv_record *rec = stage1_record(&tmp, &path);
	char *html = page(rec);
	long nc = kv_rec_team_index(rec, "nc"), experts = kv_rec_criterion_index(rec, "experts");
	long users = kv_rec_criterion_index(rec, "users");
	cr_assert(nc >= 0 && experts >= 0 && users >= 0);
	const struct kv_evidence *ev = &rec->teams[nc].outcomes[experts].evidence;
	/* nc's trimmed low rater: a hollow dot carrying that rater's score. */
	const struct kv_evidence_item *low = kv_evidence_get(ev, "dropped_low");
	cr_assert(low && low->str);
	char *key = kv_xasprintf("total.%s", low->str);
	const char *panel = strstr(html, "<figcaption id=\"panel-");
	cr_assert(panel != NULL);
	const char *row = strstr(panel, "<g data-team=\"nc\"");
	cr_assert(row != NULL);
	char *title = kv_xasprintf("<title>nc, %s: ", low->str);
	const char *dot = strstr(row, title);
	cr_assert(dot != NULL);
	const char *start = dot;
	while (start > row && strncmp(start, "<circle", 7) != 0)
		start--;
	const char *hollow = strstr(start, "fill=\"#fff\"");
	cr_expect(strncmp(start, "<circle", 7) == 0 && hollow && hollow < dot);
	cr_expect_eq(strtod(strstr(start, "data-value=\"") + 12, NULL), kv_evidence_get(ev, key)->num);
	/* The forest plot's square is nc's normalized users score. */
	const char *forest = strstr(html, "<figcaption id=\"interval-");
	cr_assert(forest != NULL);
	cr_expect_eq(attr_after(forest, "<g data-team=\"nc\"", "data-value=\""), rec->teams[nc].outcomes[users].normalized);
	free(title);
	free(key);
	free(html);
	kv_record_free(rec);
	free(path);
	kvt_rmtree(tmp);
	free(tmp);
}

/* --- numbers for people ----------------------------------------------------------- */

/* The most significant digits of any number in text: a run of digits and
 * points standing alone (not part of a word or a hex digest). */
static int most_digits(const char *text, char *worst, size_t len)
{
	int most = 0;
	for (const char *p = text; *p;) {
		if (!isdigit((unsigned char)*p) || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
			p++;
			continue;
		}
		const char *end = p;
		while (isdigit((unsigned char)*end) || (*end == '.' && isdigit((unsigned char)end[1])))
			end++;
		if (!isalpha((unsigned char)*end) && *end != '_') {
			const char *s = p;
			while (s < end && (*s == '0' || *s == '.'))
				s++;
			const char *e = end;
			if (!memchr(p, '.', (size_t)(end - p)))
				while (e > s && e[-1] == '0')
					e--;
			int n = 0;
			for (const char *q = s; q < e; q++)
				n += isdigit((unsigned char)*q) != 0;
			if (n > most) {
				most = n;
				snprintf(worst, len, "%.*s", (int)(end - p), p);
			}
		}
		p = end;
	}
	return most;
}

static char *output_of(const char *const *args)
{
	char *out = NULL;
	int rc = kvt_exec(args, &out, NULL);
	cr_assert(rc == 0 || rc == 1, "exit %d", rc);
	return out;
}

static void expect_human(const char *what, const char *text)
{
	char worst[64] = "";
	int n = most_digits(text, worst, sizeof worst);
	cr_expect(n <= KV_HUMAN_DIGITS, "%s prints %s (%d significant digits)", what, worst, n);
}

Test(human_output, archived_rounds_read_for_people)
{
	static const char *const rounds[] = {"2026-01-stage1", "2026-01-stage1-table", "2026-02-repechage",
					     "2026-08-stage2"};
	char *records[4];
	for (size_t i = 0; i < 4; i++) {
		char *tmp = kvt_tempdir(), *cfg = kv_xasprintf("%s/conf/rounds/%s.cfg", kvt_srcdir(), rounds[i]);
		records[i] = kv_xasprintf("%s/r.json", tmp);
		const char *run[] = {"run", cfg, "-o", records[i], NULL};
		char *table = output_of(run);
		expect_human("run", table);
		const char *explain[] = {"explain", records[i], NULL};
		char *text = output_of(explain);
		expect_human("explain", text);
		free(text);
		/* verify reruns an archive and prints what differs, rounded the same. */
		char *arc = kv_xasprintf("%s/arc", tmp);
		const char *archive[] = {"archive", cfg, "-o", arc, NULL}, *verify[] = {"verify", arc, NULL};
		cr_assert_eq(kvt_exec(archive, NULL, NULL), 0);
		text = output_of(verify);
		expect_human("verify", text);
		free(text);
		const char *whatif[] = {"whatif", cfg, "--set", "selection.eliminate_lowest=2", NULL};
		text = output_of(whatif);
		expect_human("whatif", text);
		free(text);
		free(arc);
		free(table);
		free(cfg);
		free(tmp);
	}
	const char *diff[] = {"diff", records[1], records[0], NULL};
	char *text = output_of(diff);
	expect_human("diff", text);
	cr_expect(strncmp(text, "no decision changed\n", 20) == 0 || strncmp(text, "decisions that changed:", 23) == 0,
		  "%s", text);
	free(text);
	for (size_t i = 0; i < 4; i++)
		free(records[i]);
}

Test(human_output, explain_shows_rounded_totals_and_margin)
{
	char *tmp = kvt_tempdir(), *rec = kvt_round_record("2026-01-stage1", tmp);
	cr_assert(rec != NULL);
	const char *explain[] = {"explain", rec, "nc", NULL};
	char *text = output_of(explain);
	cr_expect(strstr(text, "  total: 73.192 points, rank 4\n") != NULL, "%s", text);
	cr_expect(strstr(text, "  group benchmarks: 27.8 points\n") != NULL, "%s", text);
	/* 73.19196 - 79.88 (upstage, the last to advance) = -6.69018. */
	const char *margin = strstr(text, "  margin to the cut: -6.69018 points (against the last team to advance, upstage)\n");
	cr_expect(margin != NULL, "%s", text);
	cr_expect(margin && strstr(margin + 3, "margin to the cut") == NULL, "the margin twice: %s", text);
	cr_expect(margin && strstr(text, "margin to the cut") == margin + 2, "the margin twice: %s", text);
	free(text);
	free(rec);
	kvt_rmtree(tmp);
	free(tmp);
}

/* --- charts from plugin evidence ------------------------------------------------------ */

/* n battles of model a against b with the given winner, each its own question. */
static void battles(struct kv_buf *b, int n, const char *a, const char *o, const char *winner)
{
	static int q;
	for (int i = 0; i < n; i++, q++)
		kv_buf_printf(b, "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"%s\", \"judge\": \"j%d\", "
				 "\"question_id\": \"q%d\"}\n", a, o, winner, q % 3, q);
}

/* a-b: a wins 3, b 1, one tie; b-c: b 3, c 1; c-d: 2 each; anchor mz: one
 * win and one loss against a and against d.  So a's win rate against b is
 * (3 + 1/2) / 5 = 0.7 and b's against a 0.3; a and c never met. */
static char *pairwise_record(char *dir)
{
	struct kv_buf b = {0};
	battles(&b, 3, "ma", "mb", "model_a");
	battles(&b, 1, "ma", "mb", "model_b");
	battles(&b, 1, "mb", "ma", "tie");
	battles(&b, 3, "mb", "mc", "model_a");
	battles(&b, 1, "mc", "mb", "model_a");
	battles(&b, 2, "mc", "md", "model_a");
	battles(&b, 2, "md", "mc", "model_a");
	battles(&b, 1, "ma", "mz", "model_a");
	battles(&b, 1, "ma", "mz", "model_b");
	battles(&b, 1, "mz", "md", "model_a");
	battles(&b, 1, "mz", "md", "model_b");
	kvt_write(dir, "data/b.jsonl", b.data);
	kv_buf_free(&b);
	char *cfg = kvt_config("    { id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;\n"
			       "      params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 0;"
			       " anchors = [\"mz\"];\n"
			       "        models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; d = \"md\"; }; }; }", NULL);
	char *err = NULL;
	int rc = kvt_cli_run(dir, cfg, &err);
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	free(cfg);
	return kv_xasprintf("%s/out.json", dir);
}

Test(report_charts, battle_and_win_rate_matrices_are_the_battles)
{
	char *tmp = kvt_tempdir(), *path = pairwise_record(tmp);
	cJSON *doc = kvt_record(path);
	const cJSON *ev = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "plugins"), 0), "evidence");
	cr_expect_str_eq(cJSON_GetObjectItem(ev, "matrix.team.1")->valuestring, "a");
	cr_expect_str_eq(cJSON_GetObjectItem(ev, "matrix.anchor.5")->valuestring, "mz");
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.1.2.battles")->valuedouble, 5);
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.2.1.battles")->valuedouble, 5);
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.1.2.wins")->valuedouble, 3);
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.2.1.wins")->valuedouble, 1);
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.1.3.battles")->valuedouble, 0);
	cr_expect_eq(cJSON_GetObjectItem(ev, "matrix.5.4.wins")->valuedouble, 1);
	cr_expect(cJSON_GetObjectItem(ev, "matrix.1.1.battles") == NULL);
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	cr_assert(rec != NULL, "%s", err.msg);
	char *html = page(rec);
	cr_expect_eq(cell_value(html, "id=\"winrate-0\"", "a", "b"), 0.7);
	cr_expect_eq(cell_value(html, "id=\"winrate-0\"", "b", "a"), 0.3);
	cr_expect_eq(cell_value(html, "id=\"winrate-0\"", "c", "b"), 0.25);
	cr_expect(isnan(cell_value(html, "id=\"winrate-0\"", "a", "c")), "a and c never met");
	cr_expect_eq(cell_value(html, "id=\"battles-0\"", "a", "b"), 5);
	cr_expect_eq(cell_value(html, "id=\"battles-0\"", "mz", "d"), 2);
	cr_expect(strstr(html, "<title>a, b: 70.0%</title>") != NULL);
	free(html);
	/* explain folds the matrix into one line: 5 model names and 5 x 4
	 * ordered pairs of battles and wins are 45 entries. */
	const char *explain[] = {"explain", path, "a", NULL};
	char *text = output_of(explain);
	cr_expect(strstr(text, "| matrix: 45 entries") != NULL, "%s", text);
	cr_expect(strstr(text, "matrix.1.2") == NULL, "%s", text);
	free(text);
	kv_record_free(rec);
	cJSON_Delete(doc);
	free(path);
	kvt_rmtree(tmp);
	free(tmp);
}

/* 24 models m00..m23; in each pair the higher number wins 3 of 5.  Every
 * pair meets equally often, so the ratings rise with the number (a model's
 * wins are the Bradley-Terry fit's sufficient statistic).  Teams a, b, c
 * and d play m00, m05, m10 and m20; the other 20 are anchors. */
static char *ladder_record(char *dir)
{
	struct kv_buf b = {0};
	char lo[16], hi[16];
	for (int i = 0; i < 24; i++)
		for (int j = i + 1; j < 24; j++) {
			snprintf(lo, sizeof lo, "m%02d", i);
			snprintf(hi, sizeof hi, "m%02d", j);
			battles(&b, 3, hi, lo, "model_a");
			battles(&b, 2, hi, lo, "model_b");
		}
	kvt_write(dir, "data/b.jsonl", b.data);
	kv_buf_free(&b);
	struct kv_buf anchors = {0};
	for (int i = 0; i < 24; i++)
		if (i != 0 && i != 5 && i != 10 && i != 20)
			kv_buf_printf(&anchors, "%s\"m%02d\"", anchors.len ? ", " : "", i);
	char *criterion = kv_xasprintf("    { id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;\n"
				       "      params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 0;"
				       " anchors = [%s];\n        models = { a = \"m00\"; b = \"m05\"; c = \"m10\";"
				       " d = \"m20\"; }; }; }", anchors.data);
	char *cfg = kvt_config(criterion, NULL);
	char *err = NULL;
	int rc = kvt_cli_run(dir, cfg, &err);
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	free(cfg);
	free(criterion);
	kv_buf_free(&anchors);
	return kv_xasprintf("%s/out.json", dir);
}

/* With 24 models a cell would be narrower than its number: the heatmaps
 * show the 4 teams and the 11 highest-rated anchors, highest first, and
 * the round's findings count the matrix's entries in one row. */
Test(report_charts, a_large_matrix_shows_the_teams_and_the_best_anchors)
{
	char *tmp = kvt_tempdir(), *path = ladder_record(tmp);
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(path, &err);
	cr_assert(rec != NULL, "%s", err.msg);
	char *html = page(rec);
	const char *want[] = {"m23", "m22", "m21", "d", "m19", "m18", "m17", "m16",
			      "m15", "m14", "m13", "m12", "c", "b", "a"};
	const char *fig = strstr(html, "id=\"winrate-0\""), *end = strstr(fig, "</svg>"), *p = fig;
	size_t n = 0;
	while ((p = strstr(p, "transform=\"rotate(-40")) && p < end) {
		p = strchr(p, '>') + 1;
		cr_assert(n < 15, "more than 15 columns");
		cr_expect(strncmp(p, want[n], strlen(want[n])) == 0 && p[strlen(want[n])] == '<',
			  "column %zu: %.5s, not %s", n + 1, p, want[n]);
		n++;
	}
	cr_expect_eq(n, 15);
	cr_expect(strstr(html, "4 teams, 1 criterion. ") != NULL);
	cr_expect(strstr(html, "(the 4 teams and the 11 highest-rated of 20 other models, highest first;") != NULL);
	/* m23 against m00 (team a): 3 of 5. */
	cr_expect_eq(cell_value(html, "id=\"winrate-0\"", "m23", "a"), 0.6);
	cr_expect_eq(cell_value(html, "id=\"battles-0\"", "a", "d"), 5);
	/* 24 names and 24 x 23 ordered pairs of battles and of wins. */
	const char *found = strstr(html, "<section id=\"round-evidence\">");
	cr_assert(found != NULL);
	cr_expect(strstr(found, "<tr><td>matrix</td><td>1128 entries:") != NULL);
	cr_expect(strstr(found, "matrix.1.2") == NULL || strstr(found, "matrix.1.2") > strstr(found, "</section>"));
	free(html);
	kv_record_free(rec);
	free(path);
	kvt_rmtree(tmp);
	free(tmp);
}

/* lg's ratings in examples/2026-01-stage1/users.csv, counted by score
 * (no rater rates a team twice there, and the round has no minimum time). */
static void count_lg_ratings(double count[6])
{
	char *path = kvt_src("examples/2026-01-stage1/users.csv"), *text = kvt_read(path);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char rater[32], group[32], team[32];
		int score;
		if (sscanf(line, "%31[^,],%31[^,],%31[^,],%d", rater, group, team, &score) == 4 &&
		    strcmp(team, "lg") == 0 && score >= 1 && score <= 5)
			count[score]++;
	}
	free(text);
	free(path);
}

Test(report_charts, rating_histogram_counts_the_file)
{
	char *tmp, *path;
	struct kv_record *rec = stage1_record(&tmp, &path);
	double want[6] = {0};
	count_lg_ratings(want);
	cr_expect_eq(want[5], 32); /* the file as the expected values assume it */
	char *html = page(rec);
	const char *fig = strstr(html, "<figcaption id=\"histogram-");
	cr_assert(fig != NULL);
	const char *row = strstr(fig, "<g data-team=\"lg\" data-group=\"expert\"");
	cr_assert(row != NULL);
	for (int s = 1; s <= 5; s++) {
		char *bin = kv_xasprintf("data-bin=\"%d\" data-value=\"", s);
		const char *p = strstr(row, bin);
		cr_assert(p != NULL);
		cr_expect_eq(strtod(p + strlen(bin), NULL), want[s], "score %d", s);
		free(bin);
	}
	free(html);
	kv_record_free(rec);
	free(path);
	kvt_rmtree(tmp);
	free(tmp);
}

/* The record of the hand-recorded stage 1 with forensic evidence added to
 * lg's gate, as the license plugin words it. */
static struct kv_record *forensic_record(void)
{
	cJSON *doc = kvt_record(record);
	cJSON *lg = NULL, *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "teams"))
		if (strcmp(cJSON_GetObjectItem(t, "id")->valuestring, "lg") == 0)
			lg = t;
	cr_assert(lg != NULL);
	cJSON *gate = cJSON_GetObjectItem(cJSON_GetObjectItem(lg, "criteria"), "independence");
	cJSON *ev = cJSON_GetObjectItem(gate, "evidence");
	if (!ev)
		cJSON_AddItemToObject(gate, "evidence", ev = cJSON_CreateObject());
	cJSON_AddNumberToObject(ev, "forensics.t3.qwen2.5-7b.similarity", 0.125);
	cJSON_AddNumberToObject(ev, "forensics.t3.qwen2.5-7b.baseline_mean", 0.02);
	cJSON_AddNumberToObject(ev, "forensics.t3.qwen2.5-7b.baseline_sd", 0.035);
	cJSON_AddNumberToObject(ev, "forensics.t3.qwen2.5-7b.z", 3);
	cJSON_AddNumberToObject(ev, "forensics.t1.<b>x</b>.similarity", 0.5);
	cJSON_AddStringToObject(ev, "forensics.base.vision", "identical 2 of 2 tensors");
	cJSON_AddNumberToObject(ev, "forensics.base.vision.identical", 2);
	cJSON_AddNumberToObject(ev, "forensics.base.vision.share", 1);
	cJSON_AddNumberToObject(ev, "forensics.base.vision.median_r", 0.9898);
	cJSON *plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "plugins"), 0);
	cJSON *rev = cJSON_GetObjectItem(plugin, "evidence");
	if (!rev)
		cJSON_AddItemToObject(plugin, "evidence", rev = cJSON_CreateObject());
	cJSON_AddStringToObject(rev, "forensics.baseline.1", "unrelated base / other | backbone: median r 0.020");
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_from_json(doc, "hand-made", &err);
	cr_assert(rec != NULL, "%s", err.msg);
	cJSON_Delete(doc);
	return rec;
}

Test(report, forensic_similarities_beside_their_baselines)
{
	struct kv_record *rec = forensic_record();
	cr_assert_str_eq(rec->criteria[0].id, "independence");
	char *html = page(rec);
	const char *sec = strstr(html, "<section id=\"forensics\">");
	cr_assert(sec != NULL, "no forensic section");
	cr_expect(strstr(sec, "<td>lg</td><td>t3</td><td>qwen2.5-7b</td><td class=\"n\">0.125</td>"
			      "<td class=\"n\">0.02 ± 0.035</td><td class=\"n\">3</td>") != NULL);
	cr_expect(strstr(sec, "<td>lg</td><td>t1</td><td>&lt;b&gt;x&lt;/b&gt;</td><td class=\"n\">0.5</td>") != NULL);
	cr_expect(strstr(sec, "<td>lg</td><td>base</td><td>vision</td><td class=\"n\">2</td><td class=\"n\">1</td>"
			      "<td class=\"n\">0.9898</td><td>identical 2 of 2 tensors</td>") != NULL);
	cr_expect(strstr(sec, "<th>baseline.1</th><td>unrelated base / other | backbone: median r 0.020</td>") != NULL);
	cr_expect(strstr(html, "<b>x") == NULL);
	free(html);
	kv_record_free(rec);
}

/* A hostile team id reaches the histogram and the heatmaps as text only. */
Test(report_charts, hostile_names_in_charts_are_text)
{
	char *tmp, *path;
	struct kv_record *rec = stage1_record(&tmp, &path);
	free(rec->teams[0].team.id);
	rec->teams[0].team.id = kv_xstrdup("\"><img src=x onerror=alert(1)>엘지");
	struct kv_robustness rob = {0};
	struct kv_error err = {0};
	kvt_write(tmp, "rob.json", "{\"round\":\"2026-01-stage1\",\"teams\":[]}");
	char *robfile = kv_xasprintf("%s/rob.json", tmp);
	cr_assert_eq(kv_robustness_read(robfile, rec, &rob, &err), 0, "%s", err.msg);
	cJSON_Delete(rob.doc); /* the same checks passed; now names no round would have */
	rob.doc = cJSON_Parse("{\"teams\":[{\"id\":\"<script>x</script>\",\"rank_probabilities\":[1]}],"
			      "\"leave_one_out\":[{\"unit\":\"<i>u</i>\",\"changed\":[\"<b>t</b>\"]}]}");
	struct kv_buf b = {0};
	kv_report_html(rec, &rob, &b);
	cr_expect(strstr(b.data, "<img") == NULL && strstr(b.data, "<i>") == NULL && strstr(b.data, "<b>") == NULL);
	cr_expect(strstr(b.data, "<script>x") == NULL);
	cr_expect(strstr(b.data, "<g data-team=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;엘지\" data-group=\"expert\">")
		  != NULL);
	cr_expect(strstr(b.data, "data-row=\"&lt;script&gt;x&lt;/script&gt;\" data-col=\"rank 1\"") != NULL);
	kv_buf_free(&b);
	kv_robustness_free(&rob);
	free(robfile);
	kv_record_free(rec);
	free(path);
	kvt_rmtree(tmp);
	free(tmp);
}

/* One margin for the report, explain and robustness: a team out below
 * min_total is on the other side of the cut too.  By hand: a 9, b 8 and
 * c 3 points, min_total 5: c is out; a +9-3 = +6, b +8-3 = +5, c 3-8 = -5
 * (against b, the last to advance). */
Test(human_output, a_team_below_min_total_has_one_margin_everywhere)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,9,0.9\nb,8,0.8\nc,3,0.3\n");
	kvt_write(dir, "r.cfg", "round: { id = \"m\"; title = \"M\"; date = \"2026-01-15\"; data = \"data\"; seed = 1L;"
		  " teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; },"
		  " { id = \"c\"; name = \"C\"; model = \"mc\"; } ); criteria = ( { id = \"x\"; plugin = \"table\";"
		  " kind = \"score\"; points = 10.0; params = { file = \"x.csv\"; }; } ); selection = { min_total = 5.0; advance = 3; }; };\n");
	char *cfg = kv_xasprintf("%s/r.cfg", dir), *rec = kv_xasprintf("%s/r.json", dir);
	char *rob = kv_xasprintf("%s/rob.json", dir);
	const char *run[] = {"run", cfg, "-o", rec, NULL}, *explain[] = {"explain", rec, "c", NULL};
	const char *robustness[] = {"robustness", cfg, "--replicates", "10", "-o", rob, NULL};
	free(output_of(run));
	free(output_of(robustness));
	char *text = output_of(explain), *rob_text = kvt_read(rob);
	cr_expect(strstr(text, "  margin to the cut: -5 points (against the last team to advance, b)\n"), "%s", text);
	cr_expect(strstr(rob_text, "\"id\": \"c\"") && strstr(strstr(rob_text, "\"id\": \"c\""), "\"margin\": -5"),
		  "%s", rob_text);
	struct kv_error err = {0};
	struct kv_record *r = kv_record_read(rec, &err);
	cr_assert(r != NULL, "%s", err.msg);
	char *html = page(r);
	cr_expect(strstr(html, "; margin to the cut -5.00 points") != NULL);
	cr_expect(strstr(html, "; margin to the cut +5.00 points") != NULL);
	cr_expect(strstr(html, "; margin to the cut +6.00 points") != NULL);
	free(html);
	kv_record_free(r);
	free(text), free(rob_text), free(cfg), free(rec), free(rob);
	kvt_rmtree(dir);
	free(dir);
}

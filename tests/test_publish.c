/* kaieval publish on the bundled example round.  Expected cells derived by
 * hand from examples/2026-01-stage1-table/README.md: e.g. nia average
 * (9.5+9+8.5+8+7)/5 = 8.40; total average (90.2+85.9+82.7+78+66.2)/5 = 80.60;
 * total gap 90.2-66.2 = 24.00; benchmarks group = 10+20+10 = 40 points. */
#include <criterion/criterion.h>
#include <string.h>
#include "publish.h"
#include "support.h"

static char *dir, *record;

static void setup(void)
{
	dir = kvt_tempdir();
	record = kv_xasprintf("%s/result.json", dir);
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	const char *args[] = {"run", cfg, "-o", record, NULL};
	cr_assert_eq(kvt_exec(args, NULL, NULL), 0);
	free(cfg);
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
	free(record);
}

TestSuite(publish, .init = setup, .fini = teardown);

static char *publish(const char *level, int csv)
{
	const char *args[] = {"publish", record, "--level", level, csv ? "--csv" : NULL, NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	return out;
}

Test(publish, top_level_csv)
{
	char *out = publish("top", 1);
	cr_expect(strstr(out, "item,max,top,top_teams,average\n") == out, "%s", out);
	cr_expect(strstr(out, "\nnia,10.00,9.50,lg,8.40\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\ntarget,10.00,10.00,lg skt upstage,9.40\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\nbenchmarks,40.00,35.50,lg,31.40\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\ntotal,100.00,90.20,lg,80.60\n") != NULL, "%s", out);
	/* The group follows its last member. */
	cr_expect(strstr(out, "target,") < strstr(out, "benchmarks,"));
	free(out);
}

Test(publish, gap_level_csv)
{
	char *out = publish("gap", 1);
	cr_expect(strstr(out, "\nexperts,35.00,28.42,5.60\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\ntotal,100.00,80.60,24.00\n") != NULL, "%s", out);
	free(out);
}

Test(publish, full_level_text)
{
	char *out = publish("full", 0);
	cr_expect(strstr(out, "disclosure level full, 5 teams") != NULL, "%s", out);
	const char *naver = strstr(out, "\n-     naver");
	cr_expect(naver && strstr(naver, "78.00") && strstr(naver, "gate:independence"), "%s", out);
	free(out);
}

Test(publish, bad_level_exits_2)
{
	const char *args[] = {"publish", record, "--level", "everything", NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 2);
}

Test(publish, not_a_record_exits_2)
{
	kvt_write(dir, "bad.json", "{\"a\": 1}");
	char *bad = kv_xasprintf("%s/bad.json", dir);
	const char *args[] = {"publish", bad, "--level", "top", NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "not a kaieval result record") != NULL, "%s", err);
	free(err);
	free(bad);
}

/* --- the ministry's precision -------------------------------------------------------- */

/* Field n (0-based) of a CSV line without quotes, into out. */
static void field(const char *line, int n, char *out, size_t len)
{
	for (int i = 0; i < n && line; i++) {
		line = strpbrk(line, ",\n");
		line = line && *line == ',' ? line + 1 : NULL;
	}
	size_t k = line ? strcspn(line, ",\n") : 0;
	snprintf(out, len, "%.*s", (int)k, line ? line : "");
}

/* The cell of publish's CSV in the row of item, under the header column. */
static void csv_cell(const char *csv, const char *item, const char *column, char *out, size_t len)
{
	int col = -1;
	char name[64];
	for (int i = 0; col < 0 && i < 8; i++) {
		field(csv, i, name, sizeof name);
		if (strcmp(name, column) == 0)
			col = i;
	}
	cr_assert(col >= 0, "no column %s in %s", column, csv);
	char *row = kv_xasprintf("\n%s,", item);
	const char *at = strstr(csv, row);
	cr_assert(at != NULL, "no row %s in %s", item, csv);
	field(at + 1, col, out, len);
	free(row);
}

/* Every cell of tests/data/published/ROUND.csv, as publish prints it with
 * the precision recorded in examples/ROUND/published.digits. */
static void expect_published(const char *round)
{
	char *tmp = kvt_tempdir(), *rec = kvt_round_record(round, tmp);
	cr_assert(rec != NULL);
	char *spec = kv_xasprintf("@%s/examples/%s/published.digits", kvt_srcdir(), round);
	char *fixture = kv_xasprintf("%s/tests/data/published/%s.csv", kvt_srcdir(), round);
	char *cells = kvt_read(fixture), *out[2];
	const char *levels[] = {"top", "gap"};
	for (int l = 0; l < 2; l++) {
		const char *args[] = {"publish", rec, "--level", levels[l], "--csv", "--digits", spec, NULL};
		cr_assert_eq(kvt_exec(args, &out[l], NULL), 0);
	}
	int checked = 0;
	for (const char *line = strchr(cells, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char level[8], item[64], column[32], want[32], got[64];
		field(line, 0, level, sizeof level);
		field(line, 1, item, sizeof item);
		field(line, 2, column, sizeof column);
		field(line, 3, want, sizeof want);
		csv_cell(out[strcmp(level, "gap") == 0], item, column, got, sizeof got);
		cr_expect_str_eq(got, want, "%s: %s %s: published %s, publish gives %s", round, item, column, want, got);
		checked++;
	}
	cr_expect(checked >= 12, "%s: %d cells", round, checked);
	free(out[0]), free(out[1]), free(cells), free(fixture), free(spec), free(rec);
	kvt_rmtree(tmp);
	free(tmp);
}

Test(publish_precision, stage1_table_cell_for_cell)
{
	expect_published("2026-01-stage1");
}

Test(publish_precision, stage2_tables_cell_for_cell)
{
	expect_published("2026-08-stage2");
}

Test(publish_precision, spec_sets_columns_and_rows)
{
	struct kv_digits d;
	struct kv_error err = {0};
	cr_assert_eq(kv_digits_parse("3, top=1 average.group=0", &d, &err), 0);
	cr_expect_eq(d.d[KV_PUB_TOP][KV_PUB_CRITERION], 1);
	cr_expect_eq(d.d[KV_PUB_TOP][KV_PUB_TOTAL], 1);
	cr_expect_eq(d.d[KV_PUB_AVERAGE][KV_PUB_GROUP], 0);
	cr_expect_eq(d.d[KV_PUB_AVERAGE][KV_PUB_CRITERION], 3);
	cr_expect_eq(d.d[KV_PUB_POINTS][KV_PUB_TOTAL], 3);
	cr_expect_eq(kv_digits_parse("top.team=1", &d, &err), 2);
	cr_expect(strstr(err.msg, "--digits: 'top.team=1': expected N, COLUMN=N or COLUMN.ROW=N") != NULL, "%s", err.msg);
	cr_expect_eq(kv_digits_parse("12", &d, &err), 2);
}

Test(publish, bad_digits_exit_2_naming_the_item)
{
	char *err = NULL;
	const char *args[] = {"publish", record, "--level", "top", "--digits", "2,mean=1", NULL};
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "'mean=1'") != NULL, "%s", err);
	free(err);
	kvt_write(dir, "p.digits", "# comment\n2\ntop=x\n");
	char *spec = kv_xasprintf("@%s/p.digits", dir);
	const char *file[] = {"publish", record, "--level", "top", "--digits", spec, NULL};
	cr_expect_eq(kvt_exec(file, NULL, &err), 2);
	cr_expect(strstr(err, "p.digits: --digits: 'top=x'") != NULL, "%s", err);
	free(err);
	free(spec);
}

/* kaieval publish on the bundled example round.  Expected cells derived by
 * hand from examples/2026-01-stage1-table/README.md: e.g. nia average
 * (9.5+9+8.5+8+7)/5 = 8.40; total average (90.2+85.9+82.7+78+66.2)/5 = 80.60;
 * total gap 90.2-66.2 = 24.00; benchmarks group = 10+20+10 = 40 points. */
#include <criterion/criterion.h>
#include <string.h>
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

/* End to end: the kaieval binary with the real plugin .so files on the
 * bundled example round; determinism; the command line; the table plugin's
 * bad-input handling. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <string.h>
#include "support.h"

static char *run_example(const char *out_dir, char **stdout_text)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	char *out = kv_xasprintf("%s/result.json", out_dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, stdout_text, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	free(cfg);
	char *json = kvt_read(out);
	free(out);
	return json;
}

static const cJSON *team_at(const cJSON *root, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "teams"), i);
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Decisions as derived by hand in examples/2026-01-stage1-table/README.md. */
Test(e2e, example_round_decisions)
{
	char *dir = kvt_tempdir();
	char *table = NULL;
	char *json = run_example(dir, &table);
	cJSON *root = cJSON_Parse(json);
	cr_assert(root);
	const char *order[] = {"lg", "skt", "upstage", "nc", "naver"};
	const char *status[] = {"advance", "advance", "advance", "eliminated", "eliminated"};
	const char *reason[] = {NULL, NULL, NULL, "lowest_total", "gate:independence"};
	const double total[] = {90.2, 85.9, 82.7, 66.2, 78.0};
	for (int i = 0; i < 5; i++) {
		const cJSON *t = team_at(root, i);
		cr_expect_str_eq(str_of(t, "id"), order[i]);
		cr_expect_str_eq(str_of(t, "status"), status[i]);
		if (reason[i])
			cr_expect_str_eq(str_of(t, "reason"), reason[i]);
		else
			cr_expect(cJSON_IsNull(cJSON_GetObjectItem(t, "reason")));
		cr_expect_float_eq(cJSON_GetObjectItem(t, "total")->valuedouble, total[i], 1e-9);
	}
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(team_at(root, 4), "rank")), "gated team has no rank");
	const cJSON *elim = cJSON_GetObjectItem(root, "eliminated");
	cr_expect_eq(cJSON_GetArraySize(elim), 2);
	cr_expect_str_eq(cJSON_GetArrayItem(elim, 0)->valuestring, "nc");
	cr_expect_str_eq(cJSON_GetArrayItem(elim, 1)->valuestring, "naver");
	const cJSON *groups = cJSON_GetObjectItem(team_at(root, 0), "groups");
	cr_expect_float_eq(cJSON_GetObjectItem(groups, "benchmarks")->valuedouble, 35.5, 1e-9);
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "inputs")), 6);
	cr_expect(strstr(table, "lowest_total") && strstr(table, "gate:independence"), "%s", table);
	cJSON_Delete(root);
	free(json);
	free(table);
	kvt_rmtree(dir);
	free(dir);
}

Test(e2e, two_runs_give_identical_bytes)
{
	char *dir = kvt_tempdir();
	char *first = run_example(dir, NULL);
	char *second = run_example(dir, NULL);
	cr_assert(first && second);
	cr_expect_str_eq(first, second);
	cr_expect(strstr(first, "/tmp") == NULL && strstr(first, kvt_srcdir()) == NULL,
		  "the record must not hold absolute paths");
	free(first);
	free(second);
	kvt_rmtree(dir);
	free(dir);
}

Test(e2e, help_and_version)
{
	const char *help[] = {"--help", NULL}, *version[] = {"--version", NULL};
	char *out = NULL;
	cr_expect_eq(kvt_exec(help, &out, NULL), 0);
	cr_expect(strstr(out, "usage: kaieval run") != NULL);
	free(out);
	cr_expect_eq(kvt_exec(version, &out, NULL), 0);
	cr_expect(strstr(out, "kaieval 0.1.0") != NULL, "%s", out);
	free(out);
}

Test(e2e, usage_errors_exit_2)
{
	const char *none[] = {NULL}, *unknown[] = {"frobnicate", NULL}, *nofile[] = {"run", NULL},
		   *badopt[] = {"run", "x.cfg", "--bogus", NULL}, *noarg[] = {"run", "x.cfg", "-o", NULL};
	cr_expect_eq(kvt_exec(none, NULL, NULL), 2);
	cr_expect_eq(kvt_exec(unknown, NULL, NULL), 2);
	cr_expect_eq(kvt_exec(nofile, NULL, NULL), 2);
	cr_expect_eq(kvt_exec(badopt, NULL, NULL), 2);
	cr_expect_eq(kvt_exec(noarg, NULL, NULL), 2);
}

Test(e2e, unwritable_output_leaves_nothing)
{
	char *dir = kvt_tempdir();
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	char *out = kv_xasprintf("%s/no/such/dir/result.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "result.json") != NULL, "%s", err);
	free(err);
	free(out);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

/* The table plugin's bad input: a bad file next to the good one. */
static void expect_table_error(const char *csv, const char *needle)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", csv);
	char *cfg = kvt_config(NULL, NULL);
	char *err = NULL;
	int rc = kvt_cli_run(dir, cfg, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
	char *out = kv_xasprintf("%s/out.json", dir);
	cr_expect(!kvt_exists(out));
	free(out);
	free(err);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(e2e, table_good_file)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	char *cfg = kvt_config(NULL, NULL);
	cr_expect_eq(kvt_cli_run(dir, cfg, NULL), 0);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(e2e, table_unknown_team)
{
	expect_table_error("team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\nz,1,1\n",
			   "x.csv:6: column 'team': team 'z' is not in this round");
}

Test(e2e, table_duplicate_team)
{
	expect_table_error("team,value,normalized\na,1,0.1\nb,2,0.2\nb,3,0.3\nd,4,0.4\n",
			   "x.csv:4: column 'team': team 'b' appears twice");
}

Test(e2e, table_normalized_out_of_range)
{
	expect_table_error("team,value,normalized\na,1,0.1\nb,2,1.2\nc,3,0.3\nd,4,0.4\n",
			   "x.csv:3: column 'normalized': '1.2' is not a number in [0, 1]");
}

Test(e2e, table_value_not_a_number)
{
	expect_table_error("team,value,normalized\na,one,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n",
			   "x.csv:2: column 'value': 'one' is not a number");
}

Test(e2e, table_missing_column)
{
	expect_table_error("team,value\na,1\nb,2\nc,3\nd,4\n", "missing column 'normalized'");
}

Test(e2e, table_missing_team)
{
	expect_table_error("team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\n", "no row for team 'd'");
}

/* The column where `word` starts on the line of `text` that starts with
 * `line_start`; -1 when there is none. */
static long column_of(const char *text, const char *line_start, const char *word)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, line_start, strlen(line_start)) != 0)
			continue;
		const char *end = strchr(l, '\n'), *w = strstr(l, word);
		return w && (!end || w < end) ? (long)(w - l) : -1;
	}
	return -1;
}

/* Team ids and models longer than the tables' usual columns widen them:
 * the status (decision) column of every row stays under its heading in
 * the run's table, the robustness summary and publish's full table. */
Test(e2e, long_team_ids_widen_the_columns)
{
	static const char *const id[] = {"exaone-4-0-32b-instruct", "b", "solar-open-100b-preview"};
	char *dir = kvt_tempdir();
	struct kv_buf teams = {0}, x = {0};
	kv_buf_puts(&x, "team,value,normalized\n");
	for (int i = 0; i < 3; i++) {
		kv_buf_printf(&teams, "%s{ id = \"%s\"; name = \"T%d\"; model = \"%s\"; }", i ? ", " : "", id[i], i,
			      i ? "m" : "A model name that runs past thirty columns");
		kv_buf_printf(&x, "%s,%d,%.1f\n", id[i], i, 0.1 * (i + 1));
	}
	kvt_write(dir, "data/x.csv", x.data);
	char *cfg = kv_xasprintf("round: { id = \"wide\"; title = \"W\"; date = \"2026-01-15\"; data = \"data\"; seed = 1L;"
				 " teams = ( %s ); criteria = ( { id = \"x\"; plugin = \"table\"; kind = \"score\";"
				 " points = 10.0; params = { file = \"x.csv\"; }; } ); selection = { advance = 2; }; };\n",
				 teams.data);
	kvt_write(dir, "r.cfg", cfg);
	char *path = kv_xasprintf("%s/r.cfg", dir), *rec = kv_xasprintf("%s/r.json", dir);
	char *run = NULL, *rob = NULL, *pub = NULL;
	const char *run_args[] = {"run", path, "-o", rec, NULL};
	const char *rob_args[] = {"robustness", path, "--replicates", "10", NULL};
	const char *pub_args[] = {"publish", rec, "--level", "full", NULL};
	cr_assert_eq(kvt_exec(run_args, &run, NULL), 0, "%s", run);
	cr_assert_eq(kvt_exec(rob_args, &rob, NULL), 0, "%s", rob);
	cr_assert_eq(kvt_exec(pub_args, &pub, NULL), 0, "%s", pub);
	struct { const char *text, *heading, *head_word, *rows[3]; } tables[] = {
		{run, "rank", "status", {"1     solar", "2     b ", "3     exaone"}},
		{rob, "team", "decision", {"solar", "b ", "exaone"}},
		{pub, "rank", "status", {"1     solar", "2     b ", "3     exaone"}},
	};
	for (size_t t = 0; t < 3; t++) {
		long at = column_of(tables[t].text, tables[t].heading, tables[t].head_word);
		cr_assert(at > 0, "no heading '%s' in:\n%s", tables[t].head_word, tables[t].text);
		for (int i = 0; i < 3; i++) {
			long a = column_of(tables[t].text, tables[t].rows[i], "advance");
			long e = column_of(tables[t].text, tables[t].rows[i], "eliminated");
			cr_expect_eq(a >= 0 ? a : e, at, "table %zu, row '%s':\n%s", t, tables[t].rows[i], tables[t].text);
		}
	}
	free(run), free(rob), free(pub), free(path), free(rec), free(cfg);
	kv_buf_free(&teams), kv_buf_free(&x);
	kvt_rmtree(dir);
	free(dir);
}

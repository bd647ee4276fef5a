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

/* The line of `text` that starts with `start` (up to its newline, in
 * `line`); "" when there is none. */
static const char *line_of(const char *text, const char *start, char line[512])
{
	line[0] = '\0';
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, start, strlen(start)) == 0) {
			size_t n = strchr(l, '\n') ? (size_t)(strchr(l, '\n') - l) : strlen(l);
			snprintf(line, 512, "%.*s", (int)n, l);
			break;
		}
	return line;
}

/* The column where `word` starts (end: where it ends) on the line of
 * `text` that starts with `start`; -1 when there is none. */
static long column_of(const char *text, const char *start, const char *word, int end)
{
	char line[512];
	const char *w = strstr(line_of(text, start, line), word);
	return w ? (long)(w - line) + (end ? (long)strlen(word) : 0) : -1;
}

/* Team ids, models and criterion ids longer than the tables' usual
 * columns widen them: in every table a row's cells stay under their
 * headings. */
Test(e2e, long_ids_widen_the_columns)
{
	static const char *const id[] = {"exaone-4-0-32b-instruct", "b", "solar-open-100b-preview"};
	/* by team: its row of the run's and publish's tables, its points, its rank cell in whatif's */
	static const char *const row[] = {"3     exaone", "2     b ", "1     solar"}, *const value[] = {"1.00", "2.00", "3.00"};
	static const char *const rank_cell[] = {"3  ", "2  ", "1  "};
	static const char *const crit = "independence-forensics-check";
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
				 " teams = ( %s ); criteria = ( { id = \"%s\"; plugin = \"table\"; kind = \"score\";"
				 " points = 10.0; params = { file = \"x.csv\"; }; } ); selection = { advance = 2; }; };\n",
				 teams.data, crit);
	kvt_write(dir, "r.cfg", cfg);
	char *path = kv_xasprintf("%s/r.cfg", dir), *rec = kv_xasprintf("%s/r.json", dir);
	char *out[6] = {0};
	const char *args[6][8] = {{"run", path, "-o", rec, NULL},
				  {"robustness", path, "--replicates", "10", NULL},
				  {"publish", rec, "--level", "full", NULL},
				  {"publish", rec, "--level", "top", NULL},
				  {"publish", rec, "--level", "gap", NULL},
				  {"whatif", path, "--set", "selection.advance=1", NULL}};
	for (int i = 0; i < 6; i++)
		cr_assert_eq(kvt_exec(args[i], &out[i], NULL), 0, "%s: %s", args[i][0], out[i]);
	const char *const decisions[] = {"advance", "eliminated"};
	/* status under its heading (run, publish full), decision (robustness) */
	struct { const char *text, *heading, *word, *row_prefix[3]; } status[] = {
		{out[0], "rank", "status", {row[0], row[1], row[2]}},
		{out[1], "team", "decision", {"exaone", "b ", "solar"}},
		{out[2], "rank", "status", {row[0], row[1], row[2]}},
	};
	for (size_t t = 0; t < 3; t++)
		for (int i = 0; i < 3; i++) {
			long at = column_of(status[t].text, status[t].heading, status[t].word, 0);
			long a = column_of(status[t].text, status[t].row_prefix[i], decisions[0], 0);
			long e = column_of(status[t].text, status[t].row_prefix[i], decisions[1], 0);
			cr_expect(at > 0 && (a >= 0 ? a : e) == at, "table %zu, row %d:\n%s", t, i, status[t].text);
		}
	for (int i = 0; i < 3; i++) {
		/* the criterion's points end where its heading does (run, publish full) */
		for (int t = 0; t < 3; t += 2)
			cr_expect_eq(column_of(out[t], row[i], value[i], 1), column_of(out[t], "rank", crit, 1), "%s", out[t]);
		/* the whatif table: each row's configured rank under its heading */
		cr_expect_eq(column_of(out[5], id[i], rank_cell[i], 0), column_of(out[5], "team", "as configured", 0), "%s",
			     out[5]);
	}
	char line[512];
	/* publish top and gap: each row's last cell ends where the last heading does */
	cr_expect_eq(strlen(line_of(out[3], crit, line)), strlen(line_of(out[3], "item", line)), "%s", out[3]);
	cr_expect_eq(strlen(line_of(out[4], crit, line)), strlen(line_of(out[4], "item", line)), "%s", out[4]);
	cr_expect_eq(strlen(line_of(out[4], "total", line)), strlen(line_of(out[4], "item", line)), "%s", out[4]);
	for (int i = 0; i < 6; i++)
		free(out[i]);
	free(path), free(rec), free(cfg);
	kv_buf_free(&teams), kv_buf_free(&x);
	kvt_rmtree(dir);
	free(dir);
}

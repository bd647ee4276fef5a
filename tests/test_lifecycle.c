/* The round's lifecycle: every config and plugin error found before any
 * plugin runs, each plugin file loaded once, and where plugins are looked for. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "support.h"

extern const struct kv_plugin kaieval_plugin_table;

/* A plugin that counts its calls: none may happen when the stack is bad. */
static int spy_calls;
static const struct kv_param_decl spy_params[] = {{NULL, 0, 0, NULL, NULL, NULL}};

static int spy_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)h; (void)ctx; (void)state;
	spy_calls++;
	return KV_OK;
}

static int spy_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	spy_calls++;
	for (size_t t = 0; t < h->team_count(ctx); t++)
		h->set_pass(ctx, t, 1);
	return KV_OK;
}

static const struct kv_plugin spy = {
	.abi_version = KV_ABI_VERSION, .size = sizeof(struct kv_plugin), .kinds = KV_KIND_GATE,
	.name = "spy", .version = "1.0.0", .summary = "counts its calls", .params = spy_params,
	.open = spy_open, .evaluate = spy_evaluate,
};

static char *dir;

static void setup(void) { dir = kvt_table_dir(); }

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(lifecycle, .init = setup, .fini = teardown);

/* kvt_config puts the first criterion on line 15 of r.cfg; these are one a line. */
#define THREE_BAD                                                                                  \
	"    { id = \"s\"; plugin = \"spy\"; kind = \"gate\"; },\n"                                  \
	"    { id = \"c1\"; plugin = \"table\"; kind = \"score\"; points = 1.0; params = { file = \"gone.csv\"; }; },\n" \
	"    { id = \"c2\"; plugin = \"tabel\"; kind = \"score\"; points = 1.0; },\n"                \
	"    { id = \"c3\"; plugin = \"table\"; kind = \"score\"; points = 1.0; params = { file = \"x.csv\"; fiel = \"y\"; }; }"

static int run_config(const char *criteria, struct kv_run **run, struct kv_error *err)
{
	char *cfg = kvt_config(criteria, "    advance = 4;");
	kvt_write(dir, "r.cfg", cfg);
	char *path = kv_xasprintf("%s/r.cfg", dir);
	int rc = kvt_run(path, run, err);
	free(path);
	free(cfg);
	return rc;
}

static void expect_line(char **lines, size_t n, size_t i, const char *a, const char *b)
{
	cr_assert_lt(i, n);
	cr_expect(strstr(lines[i], a) && strstr(lines[i], b), "line %zu: '%s' lacks '%s' or '%s'", i,
		  lines[i], a, b);
}

Test(lifecycle, three_errors_in_three_criteria_are_reported_together)
{
	kv_register_builtin(&kaieval_plugin_table);
	kv_register_builtin(&spy);
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	cr_assert_eq(run_config(THREE_BAD, &run, &err), 2, "%s", err.msg);
	cr_expect_null(run);
	cr_expect_eq(spy_calls, 0, "a plugin ran before the stack was checked");
	cr_expect_eq(err.count, 2, "%zu further errors in:\n%s", err.count, err.msg);
	char *lines[8], *save = NULL;
	size_t n = 0;
	for (char *l = strtok_r(err.msg, "\n", &save); l && n < 8; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	cr_assert_eq(n, 3);
	expect_line(lines, n, 0, "r.cfg:16: criterion 'c1': param 'file': 'gone.csv'", "is missing");
	expect_line(lines, n, 1, "r.cfg:17: plugin 'tabel' not found", "(did you mean 'table'?)");
	expect_line(lines, n, 2, "r.cfg:18: criterion 'c3': plugin 'table' has no param 'fiel'",
		    "(did you mean 'file'?)");
}

Test(lifecycle, the_command_prints_each_error_on_its_own_line)
{
	char *cfg = kvt_config(THREE_BAD + strlen("    { id = \"s\"; plugin = \"spy\"; kind = \"gate\"; },\n"),
			       "    advance = 4;");
	char *err = NULL;
	cr_assert_eq(kvt_cli_run(dir, cfg, &err), 2, "%s", err);
	/* The spy is not in the binary: criteria start at line 15 here. */
	const char *want = "kaieval: %s/r.cfg:15: criterion 'c1': param 'file': 'gone.csv' is missing";
	char *first = kv_xasprintf(want, dir);
	cr_expect(strncmp(err, first, strlen(first)) == 0, "%s", err);
	size_t lines = 0;
	for (const char *p = err; (p = strstr(p, "kaieval: ")); p++)
		lines++;
	cr_expect_eq(lines, 3, "%s", err);
	cr_expect(strstr(err, "\nkaieval: ") && strstr(err, "r.cfg:16: plugin 'tabel' not found"), "%s", err);
	cr_expect(strstr(err, "\nkaieval: ") && strstr(err, "r.cfg:17: criterion 'c3'"), "%s", err);
	free(first);
	free(err);
	free(cfg);
}

Test(lifecycle, every_team_of_a_path_template_is_looked_up)
{
	kv_register_builtin(&kaieval_plugin_table);
	kvt_write(dir, "data/t/a.csv", "team,value\n");
	kvt_write(dir, "data/t/c.csv", "team,value\n");
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	const char *crit = "    { id = \"t\"; plugin = \"table\"; kind = \"score\"; points = 1.0; "
			   "params = { file = \"t/{team}.csv\"; }; }";
	cr_assert_eq(run_config(crit, &run, &err), 2);
	cr_expect_eq(err.count, 1, "%s", err.msg);
	cr_expect(strstr(err.msg, "'t/b.csv' (team 'b') is missing"), "%s", err.msg);
	cr_expect(strstr(err.msg, "'t/d.csv' (team 'd') is missing"), "%s", err.msg);
	cr_expect_null(strstr(err.msg, "t/a.csv"), "%s", err.msg);
}

Test(lifecycle, a_plugin_file_used_twice_is_loaded_once)
{
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	const char *crit = "    { id = \"f1\"; plugin = \"fine\"; kind = \"score\"; points = 1.0; },\n"
			   "    { id = \"f2\"; plugin = \"fine\"; kind = \"info\"; },\n"
			   "    { id = \"t\"; plugin = \"table\"; kind = \"info\"; params = { file = \"x.csv\"; }; }";
	cr_assert_eq(run_config(crit, &run, &err), 0, "%s", err.msg);
	cr_expect_eq(run->plugins.count, 2);
	cr_expect_not_null(run->results[0].plugin.path);
	cr_expect_eq(run->results[0].plugin.desc, run->results[1].plugin.desc);
	cr_expect_neq(run->results[0].plugin.desc, run->results[2].plugin.desc);
	cr_expect_eq(strlen(run->results[1].plugin.sha256), 64);
	cr_expect_str_eq(run->results[0].plugin.sha256, run->results[1].plugin.sha256);
	kv_run_free(run);
}

Test(lifecycle, a_kind_the_plugin_cannot_serve_names_those_it_can)
{
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	/* tests/plugins/fixture.c declares KV_KIND_SCORE | KV_KIND_INFO. */
	const char *crit = "    { id = \"g\"; plugin = \"fine\"; kind = \"gate\"; }";
	cr_assert_eq(run_config(crit, &run, &err), 2);
	cr_expect_str_eq(strstr(err.msg, "r.cfg:15:"),
			 "r.cfg:15: criterion 'g': plugin 'fine' cannot serve this kind "
			 "(it serves score and info only)");
}

/* A copy of the binary outside the build tree, as an installed one is. */
static char *copy_binary(void)
{
	char *src = getenv("KAIEVAL_BIN"), *dst = kv_xasprintf("%s/kaieval", dir);
	cr_assert_not_null(src);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	return dst;
}

static const char *const table_round =
	"    { id = \"t\"; plugin = \"table\"; kind = \"score\"; points = 1.0; params = { file = \"x.csv\"; }; }";

Test(lifecycle, the_build_tree_binary_finds_its_own_plugins)
{
	unsetenv("KAIEVAL_PLUGIN_PATH");
	char *cfg = kvt_config(table_round, "    advance = 4;");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	free(err);
	char *out = NULL;
	const char *args[] = {"plugins", NULL};
	cr_expect_eq(kvt_exec(args, &out, &err), 0, "%s", err);
	cr_expect(strstr(out, "\ntable ") && strstr(out, "\nvotes "), "%s", out);
	free(out);
	free(err);
	free(cfg);
}

Test(lifecycle, an_installed_binary_does_not_search_the_build_tree)
{
	unsetenv("KAIEVAL_PLUGIN_PATH");
	char *copy = copy_binary();
	setenv("KAIEVAL_BIN", copy, 1);
	free(copy);
	const char *tree = getenv("KAIEVAL_BUILDDIR");
	cr_assert_not_null(tree);
	char *cfg = kvt_config(table_round, "    advance = 4;");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 2, "%s", err);
	cr_expect(strstr(err, "plugin 'table' not found (searched KAIEVAL_PLUGIN_PATH and "), "%s", err);
	cr_expect_null(strstr(err, tree), "%s", err);
	free(err);
	free(cfg);
}

Test(lifecycle, an_empty_plugin_search_says_where_it_looked)
{
	char *empty = kv_xasprintf("%s/empty", dir), *copy = copy_binary();
	cr_assert_eq(mkdir(empty, 0755), 0);
	setenv("KAIEVAL_PLUGIN_PATH", empty, 1);
	setenv("KAIEVAL_BIN", copy, 1);
	free(empty);
	free(copy);
	char *out = NULL, *err = NULL;
	const char *args[] = {"plugins", NULL};
	cr_expect_eq(kvt_exec(args, &out, &err), 2);
	cr_expect_str_eq(out, "");
	const char *want = "kaieval: no plugin found (searched KAIEVAL_PLUGIN_PATH and /";
	cr_expect(strncmp(err, want, strlen(want)) == 0, "%s", err);
	free(out);
	free(err);
}

Test(lifecycle, a_plugin_name_typo_gets_a_hint)
{
	char *cfg = kvt_config("    { id = \"t\"; plugin = \"tabel\"; kind = \"score\"; points = 1.0; }",
			       "    advance = 4;");
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 2, "%s", err);
	cr_expect(strstr(err, "plugin 'tabel' not found (searched KAIEVAL_PLUGIN_PATH") &&
		  strstr(err, ") (did you mean 'table'?)\n"), "%s", err);
	free(err);
	free(cfg);
}

/* A FIFO blocks whoever opens it for reading: the run returns only if no
 * file is read once the stack has failed its check. */
Test(lifecycle, no_data_file_is_read_when_the_check_fails, .timeout = 20)
{
	kv_register_builtin(&kaieval_plugin_table);
	char *fifo = kv_xasprintf("%s/data/pipe.csv", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	const char *crit = "    { id = \"p\"; plugin = \"table\"; kind = \"score\"; points = 1.0; "
			   "params = { file = \"pipe.csv\"; }; },\n"
			   "    { id = \"q\"; plugin = \"table\"; kind = \"score\"; points = 1.0; "
			   "params = { file = \"x.csv\"; colour = \"red\"; }; }";
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	cr_assert_eq(run_config(crit, &run, &err), 2);
	cr_expect_eq(err.count, 0, "%s", err.msg);
	cr_expect(strstr(err.msg, "r.cfg:16: criterion 'q': plugin 'table' has no param 'colour'"), "%s",
		  err.msg);
	free(fifo);
}

/* 100 messages of 200 characters: 40 lines of 201 bytes fill 8192 bytes
 * (the 41st would need 8241), the other 60 are counted. */
Test(lifecycle, errors_beyond_the_room_are_counted_and_said)
{
	struct kv_error all = {0};
	char text[201];
	memset(text, 'x', 200);
	text[200] = '\0';
	for (int i = 0; i < 100; i++) {
		struct kv_error one = {0};
		kv_fail(&one, KV_EXIT_INPUT, "%s", text);
		cr_assert_eq(kv_error_add(&all, &one), 2);
	}
	cr_expect_eq(all.status, 2);
	cr_expect_eq(all.count, 99);
	cr_expect_eq(all.dropped, 60);
	cr_expect_eq(strlen(all.msg), 40 * 201 - 1);
	char *printed = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&printed, &len);
	kv_error_print(&all, f);
	fclose(f);
	const char *tail = "\nkaieval: ... and 60 more errors\n";
	cr_expect_str_eq(printed + len - strlen(tail), tail);
	cr_expect_eq(len, 40 * (strlen("kaieval: ") + 201) + strlen(tail) - 1);
	free(printed);
}

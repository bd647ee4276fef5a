/* Path confinement: nothing a plugin reads may resolve outside the data
 * directory (absolute paths, '..' escapes, symbolic links out). */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>
#include "support.h"

static char *dir;

static void setup(void)
{
	dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	kvt_write(dir, "outside.csv", "team,value,normalized\na,1,1\nb,1,1\nc,1,1\nd,1,1\n");
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(paths, .init = setup, .fini = teardown);

static void expect_refused(const char *file, const char *needle)
{
	char *crit = kv_xasprintf("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;"
				  " params = { file = \"%s\"; }; }", file);
	char *cfg = kvt_config(crit, NULL);
	char *err = NULL;
	int rc = kvt_cli_run(dir, cfg, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
	char *out = kv_xasprintf("%s/out.json", dir);
	cr_expect(!kvt_exists(out));
	free(out);
	free(err);
	free(cfg);
	free(crit);
}

Test(paths, absolute_path_refused)
{
	char *abs = kv_xasprintf("%s/outside.csv", dir);
	expect_refused(abs, "absolute paths are refused");
	free(abs);
}

Test(paths, dotdot_escape_refused)
{
	expect_refused("../outside.csv", "leaves the data directory");
}

Test(paths, dotdot_escape_through_a_subfolder_refused)
{
	expect_refused("sub/../../outside.csv", "leaves the data directory");
}

Test(paths, symlink_out_refused)
{
	char *target = kv_xasprintf("%s/outside.csv", dir);
	char *link = kv_xasprintf("%s/data/link.csv", dir);
	cr_assert_eq(symlink(target, link), 0);
	expect_refused("link.csv", "symbolic link");
	free(target);
	free(link);
}

Test(paths, dotdot_that_stays_inside_is_fine)
{
	kvt_write(dir, "data/sub/.keep", "");
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;"
			       " params = { file = \"sub/../x.csv\"; }; }", NULL);
	char *err = NULL;
	cr_expect_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	char *out = kv_xasprintf("%s/out.json", dir);
	char *json = kvt_read(out);
	/* The record names the file by its normalized path. */
	cr_expect(json && strstr(json, "\"path\": \"x.csv\"") != NULL);
	free(json);
	free(out);
	free(err);
	free(cfg);
}

Test(paths, missing_file_names_the_path)
{
	expect_refused("nope.csv", "nope.csv");
}

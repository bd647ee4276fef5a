/* The loader against broken plugins built only for the tests (tests/plugins/),
 * loaded for real with dlopen by the kaieval binary. */
#include <criterion/criterion.h>
#include <string.h>
#include "support.h"

static char *dir;

static void setup(void)
{
	dir = kvt_tempdir();
	kvt_write(dir, "data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(loader, .init = setup, .fini = teardown);

static int run_plugin(const char *plugin, char **err)
{
	char *crit = kv_xasprintf("    { id = \"x\"; plugin = \"%s\"; kind = \"score\"; points = 10.0; }", plugin);
	char *cfg = kvt_config(crit, "    advance = 4;");
	int rc = kvt_cli_run(dir, cfg, err);
	free(crit);
	free(cfg);
	char *out = kv_xasprintf("%s/out.json", dir);
	if (rc != 0)
		cr_expect(!kvt_exists(out), "a failed run wrote %s", out);
	free(out);
	return rc;
}

static void expect_failure(const char *plugin, int status, const char *needle)
{
	char *err = NULL;
	int rc = run_plugin(plugin, &err);
	cr_expect_eq(rc, status, "%s: exit %d: %s", plugin, rc, err);
	cr_expect(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
	free(err);
}

Test(loader, a_sound_fixture_loads)
{
	char *err = NULL;
	cr_expect_eq(run_plugin("fine", &err), 0, "%s", err);
	free(err);
}

Test(loader, wrong_abi_is_refused_before_any_call)
{
	char *msg = kv_xasprintf("built for plugin ABI %d.0, this kaieval has ABI %d.%d", KV_ABI_MAJOR + 1,
				 KV_ABI_MAJOR, KV_ABI_MINOR);
	expect_failure("badabi", 2, msg);
	free(msg);
}

Test(loader, short_descriptor_is_refused)
{
	expect_failure("shortsize", 2, "descriptor size 8 is smaller");
}

Test(loader, missing_symbol)
{
	expect_failure("nosymbol", 2, "has no symbol kaieval_plugin_nosymbol");
}

Test(loader, name_must_match_the_file)
{
	expect_failure("wrongname", 2, "descriptor name 'not_my_file_name' does not match the file name 'wrongname'");
}

Test(loader, open_failure_stops_the_round)
{
	expect_failure("openfails", 2, "open refuses on purpose");
}

Test(loader, nan_is_a_plugin_error)
{
	expect_failure("returnsnan", 3, "outside [0, 1] (or NaN) for team 'a' (plugin error)");
}

Test(loader, out_of_range_is_a_plugin_error)
{
	expect_failure("returnsbig", 3, "outside [0, 1] (or NaN) for team 'a' (plugin error)");
}

Test(loader, plugin_shipped_beside_the_config)
{
	/* A round may ship its own plugin: a path relative to the config file. */
	char *src = kv_xasprintf("%s/tests/plugins/.libs/fine.so", getenv("KAIEVAL_BUILDDIR"));
	char *dst = kv_xasprintf("%s/plugins/fine.so", dir);
	kvt_copy(src, dst);
	char *err = NULL;
	cr_expect_eq(run_plugin("plugins/fine.so", &err), 0, "%s", err);
	free(err);
	free(dst);
	free(src);
}

Test(loader, plugins_command_documents_params)
{
	const char *args[] = {"plugins", "table", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "table 1.1.0") != NULL, "%s", out);
	cr_expect(strstr(out, "file") != NULL && strstr(out, "required") != NULL, "%s", out);
	cr_expect(strstr(out, "unit") != NULL && strstr(out, "default") != NULL, "%s", out);
	free(out);
}

Test(loader, plugins_command_unknown_name)
{
	const char *args[] = {"plugins", "nosuchplugin", NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "not found") != NULL, "%s", err);
	free(err);
}

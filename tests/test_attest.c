/* Portable, signed results: the record is the same on every build, diff and
 * verify tell build identity from scoring, archives carry every plugin, and
 * attestations verify with an implementation that is not kaieval's. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "util.h"

static char *dir;

static void setup(void) { dir = kvt_tempdir(); }

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(portable, .init = setup, .fini = teardown);

/* A round scored by the fixture plugin `fine`, which only the test
 * plugins' folder holds (found through KAIEVAL_PLUGIN_PATH). */
static char *fine_round(void)
{
	kvt_write(dir, "round/data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"fine\"; kind = \"score\"; points = 10.0; }",
			       "    advance = 4;");
	kvt_write(dir, "round/r.cfg", cfg);
	free(cfg);
	return kv_xasprintf("%s/round/r.cfg", dir);
}

static void archive(const char *cfg, const char *arc)
{
	const char *args[] = {"archive", cfg, "-o", arc, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	free(err);
}

static int run_cmd(const char *const *args, char **out)
{
	char *err = NULL;
	int rc = kvt_exec(args, out, &err);
	if (out && *out && err) {
		char *both = kv_xasprintf("%s%s", *out, err);
		free(*out);
		*out = both;
	}
	free(err);
	return rc;
}

Test(portable, a_plugin_from_the_search_path_is_archived_and_used)
{
	char *cfg = fine_round(), *arc = kv_xasprintf("%s/arc", dir);
	archive(cfg, arc);
	char *so = kv_xasprintf("%s/plugins/fine.so", arc);
	cr_expect(kvt_exists(so), "the plugin was not archived");
	/* Without the test plugins' folder, only the archive has it. */
	char *saved = kv_xstrdup(getenv("KAIEVAL_PLUGIN_PATH"));
	unsetenv("KAIEVAL_PLUGIN_PATH");
	const char *args[] = {"verify", arc, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(args, &out), 0, "%s", out);
	setenv("KAIEVAL_PLUGIN_PATH", saved, 1);
	free(out);
	free(saved);
	free(so);
	free(arc);
	free(cfg);
}

/* An archive without the plugin file (as archives were before plugins on
 * the search path travelled with them) and no plugin installed: the rerun
 * cannot be made, which is not a difference. */
Test(portable, a_plugin_nowhere_to_be_found_is_could_not_rerun)
{
	char *cfg = fine_round(), *arc = kv_xasprintf("%s/arc", dir);
	archive(cfg, arc);
	char *so = kv_xasprintf("%s/plugins/fine.so", arc), *man = kv_xasprintf("%s/manifest.json", arc);
	cr_assert_eq(remove(so), 0);
	char *text = kvt_read(man);
	char *at = strstr(text, "\"path\": \"plugins/fine.so\"");
	cr_assert(at, "%s", text);
	memset(at, ' ', strlen("\"path\": \"plugins/fine.so\""));
	memcpy(at, "\"path\": null", strlen("\"path\": null"));
	kvt_write(arc, "manifest.json", text);
	char *saved = kv_xstrdup(getenv("KAIEVAL_PLUGIN_PATH"));
	unsetenv("KAIEVAL_PLUGIN_PATH");
	const char *args[] = {"verify", arc, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(args, &out), 2, "%s", out);
	cr_expect(strstr(out, "could not rerun") && strstr(out, "plugin 'fine' not found"), "%s", out);
	setenv("KAIEVAL_PLUGIN_PATH", saved, 1);
	free(out);
	free(saved);
	free(text);
	free(man);
	free(so);
	free(arc);
	free(cfg);
}

Test(portable, a_changed_archived_plugin_is_named)
{
	char *cfg = fine_round(), *arc = kv_xasprintf("%s/arc", dir);
	archive(cfg, arc);
	char *so = kv_xasprintf("%s/plugins/fine.so", arc);
	FILE *f = fopen(so, "ab");
	cr_assert(f);
	fputc(0, f);
	fclose(f);
	const char *args[] = {"verify", arc, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(args, &out), 1, "%s", out);
	cr_expect(strstr(out, "plugins/fine.so: SHA-256 differs from the manifest"), "%s", out);
	free(out);
	free(so);
	free(arc);
	free(cfg);
}

/* Two records of one scoring from two installations (another kaieval and
 * plugin version): diff says the scoring is identical and exits 0. */
Test(portable, diff_of_records_differing_in_build_identity_only)
{
	char *cfg = fine_round(), *a = kv_xasprintf("%s/a.json", dir), *b = kv_xasprintf("%s/b.json", dir);
	const char *args[] = {"run", cfg, "-o", a, NULL};
	cr_assert_eq(run_cmd(args, NULL), 0);
	char *text = kvt_read(a);
	char *at = strstr(text, "\"version\": \"0.0.1\"");
	cr_assert(at, "%s", text);
	at[strlen("\"version\": \"0.0.")] = '9';
	kvt_write(dir, "b.json", text);
	const char *diff[] = {"diff", a, b, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(diff, &out), 0, "%s", out);
	cr_expect(strstr(out, "the scoring is identical; only build identities differ"), "%s", out);
	cr_expect(strstr(out, "plugins[x].version"), "the difference is still listed: %s", out);
	free(out);
	free(text);
	free(b);
	free(a);
	free(cfg);
}

/* The loader against broken plugins built only for the tests (tests/plugins/),
 * loaded for real with dlopen by the kaieval binary. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "input.h"
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

/* --- a plugin file swapped while it loads ---------------------------------- */

static char *test_plugin(const char *rel)
{
	return kv_xasprintf("%s/tests/plugins/%s", getenv("KAIEVAL_BUILDDIR"), rel);
}

/* Until killed: dir/plugins/swap.so is build a, then b, then a again, each
 * put in place whole (a hard link renamed over the name). */
static pid_t start_swapping(const char *a, const char *b)
{
	char *target = kv_xasprintf("%s/plugins/swap.so", dir), *next = kv_xasprintf("%s/plugins/next.so", dir);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (unsigned long i = 0;; i++) {
			unlink(next);
			if (link(i % 2 ? b : a, next) == 0)
				rename(next, target);
		}
	}
	cr_assert(pid > 0);
	free(target);
	free(next);
	return pid;
}

/* The archive's record and manifest agree on the build: its scores (0.25
 * for build a, 0.75 for b) and the SHA-256 of its file. */
static void expect_one_build(const char *arch, const char *sha_a, const char *sha_b)
{
	char *rec_path = kv_xasprintf("%s/result.json", arch), *man_path = kv_xasprintf("%s/manifest.json", arch);
	cJSON *rec = kvt_record(rec_path), *man = kvt_record(man_path);
	cr_assert(rec && man, "%s", arch);
	const cJSON *team = kvt_record_team(rec, "a");
	const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(team, "criteria"), "x");
	double score = cJSON_GetNumberValue(cJSON_GetObjectItem(x, "normalized"));
	const cJSON *plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "plugins"), 0);
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(plugin, "sha256"));
	cr_assert(sha && (score == 0.25 || score == 0.75), "%s: score %g, sha256 %s", arch, score, sha);
	cr_expect_str_eq(sha, score == 0.25 ? sha_a : sha_b, "%s: the scores of build %s, the SHA-256 of the other",
			 arch, score == 0.25 ? "a" : "b");
	cJSON_Delete(rec);
	cJSON_Delete(man);
	free(rec_path);
	free(man_path);
}

static void archive_while_swapped(const char *isolation, int runs)
{
	char *a = kv_xasprintf("%s/a.so", dir), *b = kv_xasprintf("%s/b.so", dir);
	char *build_a = test_plugin("swap_a/.libs/swap.so"), *build_b = test_plugin("swap_b/.libs/swap.so");
	char *target = kv_xasprintf("%s/plugins/swap.so", dir), *cfg_path = kv_xasprintf("%s/r.cfg", dir);
	kvt_copy(build_a, a);
	kvt_copy(build_b, b);
	kvt_copy(build_a, target);
	char sha_a[65], sha_b[65];
	cr_assert(kv_sha256_file(a, sha_a, NULL) == 0 && kv_sha256_file(b, sha_b, NULL) == 0);
	cr_assert_str_neq(sha_a, sha_b);
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"plugins/swap.so\"; kind = \"score\"; points = 10.0; }",
			       "    advance = 4;");
	kvt_write(dir, "r.cfg", cfg);
	pid_t swapper = start_swapping(a, b);
	int archived = 0;
	for (int i = 0; i < runs; i++) {
		char *arch = kv_xasprintf("%s/arch", dir), *err = NULL;
		const char *args[] = {"archive", cfg_path, "-o", arch, isolation, NULL};
		int rc = kvt_exec(args, NULL, &err);
		if (rc == 0) {
			expect_one_build(arch, sha_a, sha_b);
			archived++;
		} else {
			cr_expect(rc == 2 && strstr(err, "swap.so"), "run %d: exit %d: %s", i, rc, err);
		}
		kvt_rmtree(arch);
		free(arch);
		free(err);
	}
	kill(swapper, SIGKILL);
	waitpid(swapper, NULL, 0);
	cr_expect(archived > 0, "no run got through the swapping: nothing was checked");
	free(cfg);
	free(a); free(b); free(build_a); free(build_b); free(target); free(cfg_path);
}

Test(loader, a_swapped_plugin_file_is_recorded_as_the_build_that_scored_isolated, .timeout = 240)
{
	archive_while_swapped(NULL, 150);
}

Test(loader, a_swapped_plugin_file_is_recorded_as_the_build_that_scored_in_process, .timeout = 240)
{
	archive_while_swapped("--no-isolation", 150);
}

/* --- verify checks the archive before it loads anything -------------------- */

/* Archive r.cfg (cfg_text), put the marked build of `fine` (same name,
 * same scores, a constructor that leaves a mark) at rel inside the archive,
 * and verify in process, where nothing would stop the constructor from
 * writing: exit 1, needle in the output, and no mark. */
static void verify_with_marked_plugin(const char *cfg_text, const char *rel, const char *needle)
{
	char *marked = test_plugin("marked/.libs/fine.so"), *cfg_path = kv_xasprintf("%s/r.cfg", dir);
	char *arch = kv_xasprintf("%s/arch", dir), *in_arch = kv_xasprintf("%s/arch/%s", dir, rel);
	char *mark = kv_xasprintf("%s/mark", dir), *out = kv_xasprintf("%s/out.txt", dir);
	kvt_write(dir, "r.cfg", cfg_text);
	const char *bin = getenv("KAIEVAL_BIN");
	const char *archive[] = {bin, "archive", cfg_path, "-o", arch, NULL};
	cr_assert_eq(kvt_spawn(archive, NULL, NULL, out), 0, "%s", kvt_read(out));
	kvt_copy(marked, in_arch);
	char *env_mark = kv_xasprintf("KVT_MARKER=%s", mark);
	const char *env[] = {env_mark, NULL};
	const char *verify[] = {bin, "verify", arch, "--no-isolation", NULL};
	int rc = kvt_spawn(verify, env, NULL, out);
	char *text = kvt_read(out);
	cr_expect_eq(rc, 1, "exit %d: %s", rc, text);
	cr_expect(strstr(text, needle), "'%s' not in: %s", needle, text);
	cr_expect(!kvt_exists(mark), "a plugin file of a changed archive was loaded during verify");
	free(text); free(env_mark); free(marked); free(cfg_path); free(arch); free(in_arch);
	free(mark); free(out);
}

/* The round's own plugin, beside its config, replaced inside the archive. */
Test(loader, verify_refuses_a_replaced_plugin_before_loading_it, .timeout = 60)
{
	char *fine = test_plugin(".libs/fine.so"), *own = kv_xasprintf("%s/plugins/fine.so", dir);
	kvt_copy(fine, own);
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"plugins/fine.so\"; kind = \"score\"; points = 10.0; }",
			       "    advance = 4;");
	verify_with_marked_plugin(cfg, "config/plugins/fine.so",
				  "config/plugins/fine.so: SHA-256 differs from the manifest");
	free(cfg); free(fine); free(own);
}

/* DIR/plugins is first on the rerun's search path: a file there that the
 * manifest does not list would be loaded unchecked. */
Test(loader, verify_refuses_a_plugin_added_to_the_archive, .timeout = 60)
{
	char *cfg = kvt_config(NULL, "    advance = 4;");
	verify_with_marked_plugin(cfg, "plugins/extra.so", "plugins/extra.so: not in the manifest");
	free(cfg);
}

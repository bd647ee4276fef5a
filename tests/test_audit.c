/* Audit and replay: archive -> verify, tampering detected, explain, diff,
 * whatif.  Expected decisions are those derived by hand in
 * examples/2026-01-stage1-table/README.md. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "audit.h"
#include "support.h"

extern const struct kv_plugin kaieval_plugin_table;

static char *dir;
static char *example;

static void setup(void)
{
	dir = kvt_tempdir();
	example = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
	free(example);
}

TestSuite(audit, .init = setup, .fini = teardown);

static char *archive_example(const char *name)
{
	char *out = kv_xasprintf("%s/%s", dir, name);
	const char *args[] = {"archive", example, "-o", out, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	free(err);
	return out;
}

static int verify(const char *archive, char **out)
{
	const char *args[] = {"verify", archive, NULL};
	return kvt_exec(args, out, NULL);
}

static void expect_same_file(const char *a, const char *b, const char *rel)
{
	char *pa = kv_xasprintf("%s/%s", a, rel), *pb = kv_xasprintf("%s/%s", b, rel);
	char *ta = kvt_read(pa), *tb = kvt_read(pb);
	cr_assert(ta && tb, "%s missing", rel);
	cr_expect_str_eq(ta, tb, "%s differs between two archives", rel);
	free(ta); free(tb); free(pa); free(pb);
}

Test(audit, archive_then_verify_passes)
{
	char *arc = archive_example("a");
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 0, "%s", out);
	cr_expect(strstr(out, "verified: the rerun gives the archived record byte for byte") != NULL, "%s", out);
	free(out);
	free(arc);
}

Test(audit, archiving_twice_gives_identical_bytes)
{
	char *a = archive_example("a"), *b = archive_example("b");
	const char *files[] = {"manifest.json", "result.json", "config/2026-01-stage1-table.cfg",
			       "data/experts.csv", "data/independence.csv"};
	for (size_t i = 0; i < 5; i++)
		expect_same_file(a, b, files[i]);
	free(a);
	free(b);
}

Test(audit, archive_refuses_an_existing_folder)
{
	char *arc = archive_example("a");
	const char *args[] = {"archive", example, "-o", arc, NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 2);
	free(arc);
}

Test(audit, flipped_input_byte_fails_naming_the_file)
{
	char *arc = archive_example("a");
	char *path = kv_xasprintf("%s/data/users.csv", arc);
	FILE *f = fopen(path, "r+b");
	cr_assert(f);
	fseek(f, -3, SEEK_END); /* inside nc's normalized "0.64" */
	int c = fgetc(f);
	fseek(f, -3, SEEK_END);
	fputc(c == '6' ? '5' : '6', f);
	fclose(f);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "data/users.csv: SHA-256 differs from the manifest") != NULL, "%s", out);
	cr_expect(strstr(out, "teams[nc].criteria.users.points") != NULL, "%s", out);
	free(out);
	free(path);
	free(arc);
}

Test(audit, changed_param_fails_naming_the_numbers_that_moved)
{
	/* Score the expert criterion from the users file instead: every team's
	 * expert points move, e.g. lg from 0.88 x 35 = 30.8 to 0.956 x 35 = 33.46. */
	char *arc = archive_example("a");
	char *cfg = kv_xasprintf("%s/config/2026-01-stage1-table.cfg", arc);
	char *text = kvt_read(cfg);
	char *at = strstr(text, "file = \"experts.csv\"");
	cr_assert(at);
	char *edited = kv_xasprintf("%.*sfile = \"users.csv\"%s", (int)(at - text), text, at + strlen("file = \"experts.csv\""));
	FILE *f = fopen(cfg, "wb");
	fputs(edited, f);
	fclose(f);
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 1, "%s", out);
	cr_expect(strstr(out, "config/2026-01-stage1-table.cfg: SHA-256 differs") != NULL, "%s", out);
	cr_expect(strstr(out, "teams[lg].criteria.experts.points: 30.8 -> 33.46") != NULL, "%s", out);
	free(out);
	free(edited);
	free(text);
	free(cfg);
	free(arc);
}

Test(audit, another_plugin_version_with_the_same_result_is_a_warning)
{
	char *arc = archive_example("a");
	struct kv_plugin newer = kaieval_plugin_table;
	newer.version = "1.0.1";
	kv_register_builtin(&newer);
	char *report = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&report, &len);
	int rc = kv_verify(arc, out);
	fclose(out);
	cr_expect_eq(rc, 0, "%s", report);
	cr_expect(strstr(report, "warning: plugin table (criterion nia): version 1.0.0 in the archive, 1.0.1 installed") != NULL, "%s", report);
	free(report);
	free(arc);
}

Test(audit, explain_names_the_gate_finding)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc);
	const char *args[] = {"explain", rec, "naver", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "verdict: FAIL") != NULL, "%s", out);
	cr_expect(strstr(out, "vision encoder taken from a third-party model (frozen)") != NULL, "%s", out);
	cr_expect(strstr(out, "failed the gate 'independence'") != NULL, "%s", out);
	cr_expect(strstr(out, "normalized: 0.8 x 35 points = 28") != NULL, "%s", out);
	cr_expect(strstr(out, "lg —") == NULL, "only the asked team");
	free(out);
	free(rec);
	free(arc);
}

Test(audit, explain_unknown_team)
{
	char *arc = archive_example("a");
	char *rec = kv_xasprintf("%s/result.json", arc);
	const char *args[] = {"explain", rec, "nobody", NULL};
	cr_expect_eq(kvt_exec(args, NULL, NULL), 2);
	free(rec);
	free(arc);
}

Test(audit, diff_of_identical_and_of_changed_records)
{
	char *a = archive_example("a");
	char *ra = kv_xasprintf("%s/result.json", a);
	const char *same[] = {"diff", ra, ra, NULL};
	char *out = NULL;
	cr_expect_eq(kvt_exec(same, &out, NULL), 0);
	cr_expect(strstr(out, "no differences") != NULL);
	free(out);
	/* A corrected rerun in which nc's user score is higher: 0.64 -> 0.99, so
	 * nc's total becomes 66.2 + 0.35 x 25 = 74.95: still last of the ranked. */
	kvt_write(dir, "fixed/data/users.csv", "team,value,normalized\nlg,23.9,0.956\nskt,22.5,0.90\n"
						"upstage,21.5,0.86\nnaver,20.0,0.80\nnc,16.0,0.99\n");
	char *text = kvt_read(example);
	const char *examples_dir = "../../examples/2026-01-stage1-table";
	char *at = strstr(text, examples_dir);
	cr_assert(at);
	char *cfg = kv_xasprintf("%.*sdata%s", (int)(at - text), text, at + strlen(examples_dir));
	char *rel[] = {"independence.csv", "nia.csv", "global.csv", "target.csv", "experts.csv"};
	for (size_t i = 0; i < 5; i++) {
		char *src = kv_xasprintf("%s/examples/2026-01-stage1-table/%s", kvt_srcdir(), rel[i]);
		char *dst = kv_xasprintf("fixed/data/%s", rel[i]);
		char *body = kvt_read(src);
		kvt_write(dir, dst, body);
		free(body); free(src); free(dst);
	}
	kvt_write(dir, "fixed/r.cfg", cfg);
	char *fixed_cfg = kv_xasprintf("%s/fixed/r.cfg", dir), *rb = kv_xasprintf("%s/fixed/out.json", dir);
	const char *run[] = {"run", fixed_cfg, "-o", rb, NULL};
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	const char *changed[] = {"diff", ra, rb, NULL};
	cr_expect_eq(kvt_exec(changed, &out, NULL), 1);
	cr_expect(strstr(out, "teams[nc].total: 66.2 -> 74.95") != NULL, "%s", out);
	cr_expect(strstr(out, "decisions that changed") == NULL, "no decision changed: %s", out);
	free(out);
	free(fixed_cfg); free(rb); free(cfg); free(text); free(ra); free(a);
}

Test(audit, whatif_eliminate_two)
{
	/* Ranked without naver: lg 90.2, skt 85.9, upstage 82.7, nc 66.2; eliminating
	 * the two lowest removes upstage and nc. */
	const char *args[] = {"whatif", example, "--set", "selection.eliminate_lowest=2", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	cr_expect(strstr(out, "upstage") != NULL);
	const char *line = strstr(out, "\nupstage");
	cr_assert(line, "%s", out);
	cr_expect(strstr(line, "3   advance") && strstr(line, "eliminated lowest_total") && strstr(line, "<- changed"),
		  "%s", out);
	free(out);
}

Test(audit, whatif_without_the_gate)
{
	/* The gate as info: naver (78.0) ranks 4th ahead of nc (66.2), so under the
	 * one-team rule nc alone is eliminated and naver advances. */
	const char *args[] = {"whatif", example, "--set", "criteria.independence.kind=info", NULL};
	char *out = NULL;
	cr_assert_eq(kvt_exec(args, &out, NULL), 0);
	const char *naver = strstr(out, "\nnaver");
	cr_assert(naver, "%s", out);
	cr_expect(strstr(naver, "4   advance") != NULL, "%s", out);
	const char *nc = strstr(out, "\nnc ");
	cr_expect(nc && strstr(nc, "5   eliminated lowest_total") != NULL, "%s", out);
	free(out);
}

Test(audit, whatif_bad_key_exits_2)
{
	const char *args[] = {"whatif", example, "--set", "criteria.nosuch.points=3", NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2);
	cr_expect(strstr(err, "no such place in the config") != NULL, "%s", err);
	free(err);
}

Test(audit, verify_of_a_missing_folder_exits_2)
{
	char *missing = kv_xasprintf("%s/none", dir);
	cr_expect_eq(verify(missing, NULL), 2);
	free(missing);
}

/* A folder name with a quote, a space and a newline, and shell syntax that
 * would create INJECTED in the working folder (the test's folder: kaieval
 * inherits it) if the name ever reached a shell. */
static char *awkward_name(void)
{
	cr_assert_eq(chdir(dir), 0);
	return kv_xasprintf("%s/it's a\nfolder';touch INJECTED;'", dir);
}

Test(audit, archive_into_an_awkward_folder_name)
{
	char *arc = awkward_name();
	const char *args[] = {"archive", example, "-o", arc, NULL};
	char *err = NULL;
	cr_assert_eq(kvt_exec(args, NULL, &err), 0, "%s", err);
	char *rec = kv_xasprintf("%s/result.json", arc);
	cr_expect(kvt_exists(rec), "no record in the archive");
	char *out = NULL;
	cr_expect_eq(verify(arc, &out), 0, "%s", out);
	char *injected = kv_xasprintf("%s/INJECTED", dir);
	cr_expect(!kvt_exists(injected), "the folder name reached a shell");
	free(injected);
	free(out);
	free(rec);
	free(err);
	free(arc);
}

/* An archive that fails half-way (a plugin outside the config's folder) is
 * removed, whatever its name; nothing is left beside it. */
Test(audit, failed_archive_with_an_awkward_name_is_removed)
{
	char *src = kv_xasprintf("%s/tests/plugins/.libs/fine.so", getenv("KAIEVAL_BUILDDIR"));
	char *so = kv_xasprintf("%s/plug/fine.so", dir);
	kvt_copy(src, so);
	kvt_write(dir, "round/data/x.csv", "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n");
	char *cfg = kvt_config("    { id = \"x\"; plugin = \"../plug/fine.so\"; kind = \"score\"; points = 10.0; }",
			       "    advance = 4;");
	kvt_write(dir, "round/r.cfg", cfg);
	char *cfg_path = kv_xasprintf("%s/round/r.cfg", dir), *arc = awkward_name();
	const char *args[] = {"archive", cfg_path, "-o", arc, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 2, "%s", err);
	cr_expect(strstr(err, "a plugin outside the config's folder cannot be archived") != NULL, "%s", err);
	DIR *d = opendir(dir);
	cr_assert(d);
	size_t entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.') {
			entries++;
			cr_expect(strcmp(e->d_name, "plug") == 0 || strcmp(e->d_name, "round") == 0,
				  "left behind: %s", e->d_name);
		}
	closedir(d);
	cr_expect_eq(entries, 2, "INJECTED or a temporary folder left behind");
	free(err);
	free(arc);
	free(cfg_path);
	free(cfg);
	free(so);
	free(src);
}

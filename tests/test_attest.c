/* Portable, signed results: the record is the same on every build, diff and
 * verify tell build identity from scoring, archives carry every plugin, and
 * attestations verify with an implementation that is not kaieval's. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "support.h"
#include "input.h"
#include "jsondoc.h"
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
	const char *scoring[] = {"diff", "--scoring", a, b, NULL};
	cr_expect_eq(run_cmd(scoring, &out), 0, "%s", out);
	cr_expect(strncmp(out, "no decision changed\nthe scoring is identical\n", 45) == 0, "%s", out);
	free(out);
	free(text);
	free(b);
	free(a);
	free(cfg);
}

/* --- attestations ------------------------------------------------------------ */

/* Run a program (not kaieval) with argv; its exit status. */
static int spawn(const char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* KEY.pem and KEY.pub in dir, made with openssl as kaieval(1) shows. */
static void make_key(const char *name, int ec)
{
	char *pem = kv_xasprintf("%s/%s.pem", dir, name), *pub = kv_xasprintf("%s/%s.pub", dir, name);
	const char *ed[] = {"openssl", "genpkey", "-algorithm", "ed25519", "-out", pem, NULL};
	const char *p256[] = {"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
			      "-out", pem, NULL};
	cr_assert_eq(spawn(ec ? p256 : ed), 0, "openssl genpkey failed");
	cr_assert_eq(chmod(pem, 0600), 0);
	const char *pubout[] = {"openssl", "pkey", "-in", pem, "-pubout", "-out", pub, NULL};
	cr_assert_eq(spawn(pubout), 0, "openssl pkey failed");
	free(pem);
	free(pub);
}

static char *in_dir(const char *rel) { return kv_xasprintf("%s/%s", dir, rel); }

/* The table round archived and signed by an Ed25519 and a P-256 key. */
static char *signed_archive(int both)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg"), *arc = in_dir("arc");
	archive(cfg, arc);
	make_key("operator", 0);
	make_key("auditor", 1);
	char *op = in_dir("operator.pem"), *au = in_dir("auditor.pem");
	const char *args[] = {"attest", arc, "--key", op, both ? "--key" : NULL, au, NULL};
	char *out = NULL;
	cr_assert_eq(run_cmd(args, &out), 0, "%s", out);
	free(out);
	free(op);
	free(au);
	free(cfg);
	return arc;
}

static int verify_with(const char *arc, const char *threshold, char **out)
{
	char *op = in_dir("operator.pub"), *au = in_dir("auditor.pub");
	const char *args[] = {"verify", arc, "--pubkey", op, "--pubkey", au,
			      threshold ? "--threshold" : NULL, threshold, NULL};
	int rc = run_cmd(args, out);
	free(op);
	free(au);
	return rc;
}

/* The envelope checked by tests/data/attest/check.py: Python's standard
 * library and python3-cryptography, nothing of kaieval. */
Test(portable, an_attestation_verifies_without_kaieval)
{
	char *arc = signed_archive(1);
	char *script = kvt_src("tests/data/attest/check.py"), *env = kv_xasprintf("%s/attestation.intoto.json", arc);
	char *op = in_dir("operator.pub"), *au = in_dir("auditor.pub");
	const char *args[] = {"python3", script, env, arc, op, au, NULL};
	cr_expect_eq(spawn(args), 0, "check.py refused kaieval's attestation (python3-cryptography installed? tools/setup)");
	char *out = NULL;
	cr_expect_eq(verify_with(arc, NULL, &out), 0, "%s", out);
	cr_expect(strstr(out, "attestation: 2 signatures, 2 by the keys given"), "%s", out);
	free(out);
	free(op);
	free(au);
	free(env);
	free(script);
	free(arc);
}

/* Flip one byte of the file at rel inside the archive. */
static void flip(const char *arc, const char *rel, long from_end)
{
	char *path = kv_xasprintf("%s/%s", arc, rel);
	FILE *f = fopen(path, "r+b");
	cr_assert(f, "%s", path);
	fseek(f, -from_end, SEEK_END);
	int c = fgetc(f);
	fseek(f, -from_end, SEEK_END);
	fputc(c == 'A' ? 'B' : 'A', f);
	fclose(f);
	free(path);
}

static void expect_refused(const char *arc, int status, const char *needle)
{
	char *out = NULL;
	cr_expect_eq(verify_with(arc, NULL, &out), status, "%s", out);
	cr_expect(strstr(out, needle), "'%s' not in: %s", needle, out);
	free(out);
}

Test(portable, a_changed_input_is_named)
{
	char *arc = signed_archive(1);
	flip(arc, "data/users.csv", 3);
	expect_refused(arc, 1, "attestation: subject data/users.csv: SHA-256 differs from the attested digest");
	free(arc);
}

Test(portable, a_changed_record_is_named)
{
	char *arc = signed_archive(1);
	flip(arc, "result.json", 5);
	expect_refused(arc, 1, "attestation: subject result.json: SHA-256 differs");
	free(arc);
}

/* Change the character at offset past the nth occurrence of needle in
 * the archive's envelope. */
static void edit_envelope(const char *arc, const char *needle, int nth, size_t offset, char to)
{
	char *path = kv_xasprintf("%s/attestation.intoto.json", arc), *text = kvt_read(path);
	char *at = strstr(text, needle);
	for (int i = 0; at && i < nth; i++)
		at = strstr(at + 1, needle);
	cr_assert(at, "%s not in the envelope", needle);
	at[offset] = at[offset] == to ? to + 1 : to;
	kvt_write(arc, "attestation.intoto.json", text);
	free(text);
	free(path);
}

/* The second signature's base64, one character changed. */
Test(portable, a_changed_signature_is_named)
{
	char *arc = signed_archive(1);
	edit_envelope(arc, "\"sig\": \"", 1, strlen("\"sig\": \""), 'A');
	expect_refused(arc, 1, "attestation: no valid signature by the key in");
	expect_refused(arc, 1, "auditor.pub");
	free(arc);
}

Test(portable, a_changed_payload_type_is_named)
{
	char *arc = signed_archive(1);
	edit_envelope(arc, "vnd.in-toto", 0, 4, 'X');
	expect_refused(arc, 1, "attestation: payloadType is 'application/vnd.Xn-toto+json'");
	expect_refused(arc, 1, "no valid signature by the key in");
	free(arc);
}

/* The payload with one byte of the statement changed: "{\n " (base64
 * "ewog") becomes "{\n!" ("ewoh"). */
Test(portable, a_changed_payload_fails_every_signature)
{
	char *arc = signed_archive(0);
	edit_envelope(arc, "\"payload\": \"ewog", 0, strlen("\"payload\": \"ewo"), 'h');
	char *op = in_dir("operator.pub");
	const char *args[] = {"verify", arc, "--pubkey", op, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(args, &out), 1, "%s", out);
	cr_expect(strstr(out, "no valid signature by the key in"), "%s", out);
	free(out);
	free(op);
	free(arc);
}

Test(portable, below_the_threshold_and_a_wrong_key)
{
	char *arc = signed_archive(0);
	expect_refused(arc, 1, "1 of the keys given signed; the threshold is 2");
	char *out = NULL;
	cr_expect_eq(verify_with(arc, "1", &out), 0, "one signer of two suffices at threshold 1: %s", out);
	free(out);
	make_key("stranger", 0);
	char *stranger = in_dir("stranger.pub");
	const char *args[] = {"verify", arc, "--pubkey", stranger, NULL};
	cr_expect_eq(run_cmd(args, &out), 1, "%s", out);
	cr_expect(strstr(out, "no valid signature by the key in") && strstr(out, "stranger.pub"), "%s", out);
	free(out);
	free(stranger);
	free(arc);
}

Test(portable, a_malformed_envelope_is_bad_input)
{
	char *arc = signed_archive(0);
	kvt_write(arc, "attestation.intoto.json", "{\"payloadType\": \"application/vnd.in-toto+json\"}");
	expect_refused(arc, 2, "");
	kvt_write(arc, "attestation.intoto.json", "{\"payloadType\": \"x\", \"payload\": \"%%%\", \"signatures\": []}");
	expect_refused(arc, 2, "");
	free(arc);
}

/* A second signer adds a signature to the same statement. */
Test(portable, a_second_signer_adds_to_the_envelope)
{
	char *arc = signed_archive(0);
	char *path = kv_xasprintf("%s/attestation.intoto.json", arc), *before = kvt_read(path);
	char *au = in_dir("auditor.pem");
	const char *args[] = {"attest", arc, "--key", au, NULL};
	cr_assert_eq(run_cmd(args, NULL), 0);
	char *after = kvt_read(path);
	const char *payload = strstr(before, "\"payload\"");
	cr_expect(strncmp(payload, strstr(after, "\"payload\""), strlen(payload) - strlen(strstr(payload, "\"signatures\""))) == 0,
		  "the statement changed");
	char *out = NULL;
	cr_expect_eq(verify_with(arc, NULL, &out), 0, "%s", out);
	free(out);
	free(after);
	free(au);
	free(before);
	free(path);
	free(arc);
}

Test(portable, a_private_key_readable_by_others_is_warned_of)
{
	char *arc = signed_archive(0);
	char *op = in_dir("operator.pem");
	cr_assert_eq(chmod(op, 0644), 0);
	const char *args[] = {"attest", arc, "--key", op, NULL};
	char *err = NULL;
	cr_expect_eq(kvt_exec(args, NULL, &err), 0);
	cr_expect(strstr(err, "the private key is readable by others"), "%s", err);
	free(err);
	free(op);
	free(arc);
}

/* --- run and whatif on an archive folder ---------------------------------------- */

/* The archive's config, data and plugin alone: the test plugins' folder is
 * off the search path, and the data beside the original config is gone. */
Test(portable, run_and_whatif_work_on_an_archive_folder)
{
	char *cfg = fine_round(), *arc = in_dir("arc"), *data = in_dir("round/data/x.csv");
	archive(cfg, arc);
	cr_assert_eq(remove(data), 0);
	char *saved = kv_xstrdup(getenv("KAIEVAL_PLUGIN_PATH"));
	unsetenv("KAIEVAL_PLUGIN_PATH");
	char *rec = in_dir("rerun.json"), *what = in_dir("whatif.json"), *archived = kv_xasprintf("%s/result.json", arc);
	const char *run[] = {"run", arc, "-o", rec, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(run, &out), 0, "%s", out);
	free(out);
	char *a = kvt_read(archived), *b = kvt_read(rec);
	cr_expect(a && b && strcmp(a, b) == 0, "run DIR does not give the archived record");
	/* A minimum total above the 10 points a team can get: every team goes. */
	const char *whatif[] = {"whatif", arc, "--set", "selection.min_total=11", "-o", what, NULL};
	out = NULL;
	cr_expect_eq(run_cmd(whatif, &out), 0, "%s", out);
	cr_expect(strstr(out, "<- changed"), "%s", out);
	free(out);
	const char *explain[] = {"explain", arc, "a", NULL};
	out = NULL;
	cr_expect_eq(run_cmd(explain, &out), 0, "explain DIR: %s", out);
	free(out);
	const char *diff[] = {"diff", arc, what, NULL};
	out = NULL;
	cr_expect_eq(run_cmd(diff, &out), 1, "diff DIR: %s", out);
	cr_expect(strstr(out, "team a: advance"), "%s", out);
	free(out);
	const char *scoring[] = {"diff", "--scoring", arc, what, NULL};
	out = NULL;
	cr_expect_eq(run_cmd(scoring, &out), 1, "%s", out);
	cr_expect(strstr(out, "decisions that changed:") == out, "decisions come first: %s", out);
	cr_expect(strstr(out, "selection.min_total: null -> 11"), "%s", out);
	free(out);
	cJSON *doc = kvt_record(what);
	cr_assert(doc, "whatif -o wrote no record");
	const char *status = kv_json_str(kvt_record_team(doc, "b"), "status");
	cr_expect_str_eq(status ? status : "", "eliminated");
	setenv("KAIEVAL_PLUGIN_PATH", saved, 1);
	cJSON_Delete(doc);
	free(a);
	free(b);
	free(archived);
	free(what);
	free(rec);
	free(saved);
	free(data);
	free(arc);
	free(cfg);
}

/* --- the same record from another build ----------------------------------------- */

static char *record_with(const char *cfg, const char *plugin_path, const char *name)
{
	char *src = kvt_src(cfg), *out = in_dir(name);
	char *saved = kv_xstrdup(getenv("KAIEVAL_PLUGIN_PATH"));
	setenv("KAIEVAL_PLUGIN_PATH", plugin_path, 1);
	const char *args[] = {"run", src, "-o", out, NULL};
	char *err = NULL;
	cr_expect_eq(run_cmd(args, &err), 0, "%s: %s", cfg, err);
	setenv("KAIEVAL_PLUGIN_PATH", saved, 1);
	char *text = kvt_read(out);
	cr_assert(text, "%s: no record", cfg);
	free(err);
	free(saved);
	free(out);
	free(src);
	return text;
}

/* Every plugin built twice (tests/local.am, OTHER_BUILD_CFLAGS): other
 * files, the same record bytes for every archived round and example. */
Test(portable, another_build_of_the_plugins_gives_the_same_records)
{
	static const char *const plugins[] = {"table", "benchmarks", "expert", "votes", "license", "cost"};
	static const char *const rounds[] = {
		"conf/rounds/2026-01-stage1.cfg", "conf/rounds/2026-01-stage1-table.cfg",
		"conf/rounds/2026-02-repechage.cfg", "conf/rounds/2026-08-stage2.cfg",
		"examples/cost-facts/stage2-cost.cfg", "examples/license-cases/round.cfg"};
	const char *build = getenv("KAIEVAL_BUILDDIR");
	char *usual = kv_xasprintf("%s/.libs", build), *other = kv_xasprintf("%s/tests/otherbuild/.libs", build);
	for (size_t i = 0; i < sizeof plugins / sizeof *plugins; i++) {
		char *a = kv_xasprintf("%s/%s.so", usual, plugins[i]), *b = kv_xasprintf("%s/%s.so", other, plugins[i]);
		char sa[65], sb[65];
		cr_assert(kv_sha256_file(a, sa, NULL) == 0 && kv_sha256_file(b, sb, NULL) == 0, "%s", plugins[i]);
		cr_expect_str_neq(sa, sb, "the two builds of %s are the same file", plugins[i]);
		free(a);
		free(b);
	}
	for (size_t i = 0; i < sizeof rounds / sizeof *rounds; i++) {
		char *a = record_with(rounds[i], usual, "usual.json"), *b = record_with(rounds[i], other, "other.json");
		cr_expect(strcmp(a, b) == 0, "%s: the records of the two builds differ", rounds[i]);
		free(a);
		free(b);
	}
	free(usual);
	free(other);
}

/* A record alone: one subject, written where -o says, checked by check.py. */
Test(portable, a_record_alone_is_attested_with_o)
{
	char *arc = signed_archive(0);
	char *rec = kv_xasprintf("%s/result.json", arc), *env = in_dir("result.intoto.json");
	char *op = in_dir("operator.pem"), *pub = in_dir("operator.pub");
	const char *no_o[] = {"attest", rec, "--key", op, NULL};
	char *out = NULL;
	cr_expect_eq(run_cmd(no_o, &out), 2, "%s", out);
	cr_expect(strstr(out, "a record's attestation needs -o FILE"), "%s", out);
	free(out);
	const char *with_o[] = {"attest", rec, "--key", op, "-o", env, NULL};
	cr_assert_eq(run_cmd(with_o, NULL), 0);
	char *script = kvt_src("tests/data/attest/check.py");
	const char *check[] = {"python3", script, env, arc, pub, NULL};
	cr_expect_eq(spawn(check), 0, "check.py refused the record's attestation");
	free(script);
	free(pub);
	free(op);
	free(env);
	free(rec);
	free(arc);
}

/* --set with a list: the what-if record holds it as given, in order. */
Test(portable, set_takes_a_list)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg"), *what = in_dir("tb.json");
	const char *args[] = {"whatif", cfg, "--set", "selection.tie_break=[users, \"experts\"]", "-o", what, NULL};
	char *out = NULL;
	cr_assert_eq(run_cmd(args, &out), 0, "%s", out);
	cJSON *doc = kvt_record(what);
	cr_assert(doc);
	const cJSON *tb = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "selection"), "tie_break");
	cr_expect_eq(cJSON_GetArraySize(tb), 2);
	cr_expect_str_eq(cJSON_GetArrayItem(tb, 0)->valuestring, "users");
	cr_expect_str_eq(cJSON_GetArrayItem(tb, 1)->valuestring, "experts");
	const char *mixed[] = {"whatif", cfg, "--set", "selection.tie_break=[users, 3]", NULL};
	free(out);
	out = NULL;
	cr_expect_eq(run_cmd(mixed, &out), 2, "%s", out);
	cr_expect(strstr(out, "tie_break[1]: must be a string"), "%s", out);
	cJSON_Delete(doc);
	free(out);
	free(what);
	free(cfg);
}

/* A report and a robustness file an auditor adds to the archive are
 * attested too: subjects by digest, the robustness summary in the
 * predicate; a changed report is named. */
Test(portable, the_report_and_robustness_in_an_archive_are_attested)
{
	char *cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg"), *arc = in_dir("arc");
	archive(cfg, arc);
	char *report = kv_xasprintf("%s/report.html", arc), *rob = kv_xasprintf("%s/robustness.json", arc);
	const char *rep[] = {"report", arc, "-o", report, NULL};
	const char *robust[] = {"robustness", arc, "--replicates", "20", "-o", rob, NULL};
	cr_assert_eq(run_cmd(rep, NULL), 0);
	cr_assert_eq(run_cmd(robust, NULL), 0);
	make_key("operator", 0);
	make_key("auditor", 1);
	char *op = in_dir("operator.pem"), *env = kv_xasprintf("%s/attestation.intoto.json", arc);
	const char *sign[] = {"attest", arc, "--key", op, NULL};
	cr_assert_eq(run_cmd(sign, NULL), 0);
	char *script = kvt_src("tests/data/attest/check.py"), *pub = in_dir("operator.pub");
	const char *check[] = {"python3", script, env, arc, pub, NULL};
	cr_expect_eq(spawn(check), 0, "check.py refused the attestation");
	char *text = kvt_read(env);
	cJSON *e = cJSON_Parse(text);
	const char *payload = cJSON_GetObjectItem(e, "payload")->valuestring;
	unsigned char decoded[1 << 16];
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)payload, (int)strlen(payload));
	cr_assert_gt(n, 0);
	decoded[n] = '\0';
	cJSON *st = cJSON_Parse((const char *)decoded);
	cr_assert(st);
	char *names = cJSON_PrintUnformatted(cJSON_GetObjectItem(st, "subject"));
	cr_expect(strstr(names, "\"report.html\"") && strstr(names, "\"robustness.json\""), "%s", names);
	const cJSON *r = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "predicate"), "robustness");
	cr_expect_eq(cJSON_GetObjectItem(r, "replicates")->valueint, 20);
	cr_expect(cJSON_IsObject(cJSON_GetObjectItem(r, "p_same_decision")));
	FILE *f = fopen(report, "a");
	fputs("<!-- changed -->\n", f);
	fclose(f);
	char *out = NULL;
	const char *verify[] = {"verify", arc, "--pubkey", pub, NULL};
	cr_expect_eq(run_cmd(verify, &out), 1, "%s", out);
	cr_expect(strstr(out, "subject report.html: SHA-256 differs"), "%s", out);
	free(out);
	free(names);
	cJSON_Delete(st);
	cJSON_Delete(e);
	free(text);
	free(pub);
	free(script);
	free(env);
	free(op);
	free(report);
	free(rob);
	free(arc);
	free(cfg);
}

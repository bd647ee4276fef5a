/* Tests of the license gate plugin (plugins/license): the example round of
 * five stage-1-like teams, each rule, the params, bad input, and the real
 * plugin through the kaieval binary.  Expected outcomes are derived by hand
 * from the manifests and the rules in kaieval-license(7). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

extern const struct kv_plugin kaieval_plugin_license;

/* --- helpers -------------------------------------------------------------- */

/* A component that passes every rule under the default allowed list. */
#define OWN "{\"name\": \"backbone\", \"role\": \"text-backbone\", \"origin\": \"own\", " \
	    "\"init\": \"scratch\", \"frozen\": false, \"license\": \"MIT\"}"

#define TERMS "license,term,clause\n" \
	      "LicenseRef-Llama-3.1-Community,naming,Llama 3.1 licence 1.b.i\n" \
	      "LicenseRef-Llama-3.1-Community,usage-cap,Llama 3.1 licence 2\n"

#define PARAMS "manifest = \"m/{team}.json\"; allowed_licenses = [\"MIT\", \"Apache-2.0\"]; " \
	       "restricted_terms = \"terms.csv\";"

/* Write r.cfg for the given teams (space-separated ids) and params body. */
static void write_round(const char *dir, const char *teams, const char *params)
{
	struct kv_buf b = {0};
	kv_buf_printf(&b, "round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 1L;\n"
		      " teams = (");
	char *copy = kv_xstrdup(teams), *save = NULL;
	const char *sep = "";
	for (char *id = strtok_r(copy, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		kv_buf_printf(&b, "%s { id = \"%s\"; name = \"%s\"; model = \"m\"; }", sep, id, id);
		sep = ",";
	}
	kv_buf_printf(&b, " );\n criteria = ( { id = \"lic\"; plugin = \"license\"; kind = \"gate\";\n"
		      "   params = { %s }; } );\n selection = { eliminate_lowest = 0; }; };\n", params);
	kvt_write(dir, "r.cfg", b.data);
	kvt_write(dir, "d/terms.csv", TERMS);
	kv_buf_free(&b);
	free(copy);
}

/* A manifest for team `team` with the model licence and the lists given. */
static void write_manifest(const char *dir, const char *team, const char *license, const char *components,
			   const char *attributions)
{
	char *rel = kv_xasprintf("d/m/%s.json", team);
	char *text = kv_xasprintf("{\n  \"model\": {\"name\": \"M-%s\", \"license\": \"%s\"},\n"
				  "  \"components\": [%s],\n  \"attributions\": [%s]\n}\n",
				  team, license, components, attributions ? attributions : "");
	kvt_write(dir, rel, text);
	free(rel);
	free(text);
}

static int run_in(const char *dir, struct kv_run **run, struct kv_error *err)
{
	kv_register_builtin(&kaieval_plugin_license);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	int rc = kvt_run(cfg, run, err);
	free(cfg);
	return rc;
}

static int passes(const struct kv_run *run, const char *team)
{
	const struct kv_team_outcome *o = kv_run_outcome(run, "lic", team);
	cr_assert(o && o->has_pass, "no verdict for %s", team);
	return o->pass;
}

static double findings(const struct kv_run *run, const char *team)
{
	return kvt_evidence_num(run, "lic", team, "findings");
}

/* Finding n of a team, which must start with "rule | component | ". */
static const char *finding(const struct kv_run *run, const char *team, int n, const char *rule,
			   const char *component)
{
	char key[32], prefix[256];
	snprintf(key, sizeof key, "finding.%d", n);
	snprintf(prefix, sizeof prefix, "%s | %s | ", rule, component);
	const char *s = kvt_evidence_str(run, "lic", team, key);
	cr_assert(s, "team %s has no %s", team, key);
	cr_assert_eq(strncmp(s, prefix, strlen(prefix)), 0, "team %s %s: '%s' does not start with '%s'",
		     team, key, s, prefix);
	return s;
}

static void no_finding(const struct kv_run *run, const char *team, int n)
{
	char key[32];
	snprintf(key, sizeof key, "finding.%d", n);
	cr_assert_null(kvt_evidence_str(run, "lic", team, key), "team %s has an unexpected %s", team, key);
}

/* Run a round that must stop with status 2 and a message holding every
 * string in want[] (NULL-terminated). */
static void expect_input_error(const char *dir, const char *const *want)
{
	struct kv_run *run = NULL;
	struct kv_error err;
	int rc = run_in(dir, &run, &err);
	cr_assert_eq(rc, 2, "status %d, message: %s", rc, err.msg);
	cr_assert_null(run);
	for (const char *const *w = want; *w; w++)
		cr_assert(strstr(err.msg, *w), "message '%s' lacks '%s'", err.msg, *w);
}

/* --- the example round: five stage-1-like teams ---------------------------- */

/* Expected, from examples/license-cases/README.md (derived by hand):
 *   alpha, beta    own weights from scratch, permissive licences: pass, 0 findings
 *   naverlike      frozen third-party vision encoder, Apache-2.0, attributed:
 *                  fail, exactly 1 finding (third-party-weights)
 *   upstagelike    reused Apache-2.0 inference code with attribution: pass
 *   llamaft        Llama 3.1 fine-tune: fail, 2 findings (weights; naming clause) */
Test(license, example_round)
{
	kv_register_builtin(&kaieval_plugin_license);
	char *cfg = kvt_src("examples/license-cases/round.cfg");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(kvt_run(cfg, &run, &err), 0, "%s", err.msg);
	const char *crit = "independence";
	const struct { const char *team; int pass; double findings, verified, third; } want[] = {
		{"alpha", 1, 0, 2, 0}, {"beta", 1, 0, 2, 0}, {"naverlike", 0, 1, 2, 1},
		{"upstagelike", 1, 0, 1, 1}, {"llamaft", 0, 2, 1, 1},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct kv_team_outcome *o = kv_run_outcome(run, crit, want[i].team);
		cr_assert_eq(o->pass, want[i].pass, "%s", want[i].team);
		cr_assert_float_eq(o->value, want[i].findings, 0, "%s", want[i].team);
		cr_assert_float_eq(kvt_evidence_num(run, crit, want[i].team, "findings"), want[i].findings, 0);
		cr_assert_float_eq(kvt_evidence_num(run, crit, want[i].team, "weight_files_verified"),
				   want[i].verified, 0, "%s", want[i].team);
		cr_assert_float_eq(kvt_evidence_num(run, crit, want[i].team, "third_party_components"),
				   want[i].third, 0, "%s", want[i].team);
		cr_assert_eq(kv_run_standing(run, want[i].team)->status, want[i].pass ? KV_ADVANCE : KV_ELIMINATED);
	}
	const char *nav = kvt_evidence_str(run, crit, "naverlike", "finding.1");
	cr_assert(nav && strstr(nav, "third-party-weights | vision-encoder | ") == nav, "%s", nav);
	cr_assert(strstr(nav, "frozen"), "%s", nav);
	cr_assert_null(kvt_evidence_str(run, crit, "naverlike", "finding.2"));
	const char *l1 = kvt_evidence_str(run, crit, "llamaft", "finding.1");
	const char *l2 = kvt_evidence_str(run, crit, "llamaft", "finding.2");
	cr_assert(l1 && strstr(l1, "third-party-weights | text-backbone | ") == l1, "%s", l1);
	cr_assert(l2 && strstr(l2, "restricted-terms | text-backbone | ") == l2, "%s", l2);
	cr_assert(strstr(l2, "naming ["), "%s", l2);
	cr_assert_null(kvt_evidence_str(run, crit, "llamaft", "finding.3"));
	cr_assert_str_eq(kvt_gate_failed(run, "naverlike"), "independence");
	kv_run_free(run);
	free(cfg);
}

/* The example round carries its own copy of the shipped table (an archived
 * round keeps the table it used); the two must not drift apart. */
Test(license, shipped_table_matches_example_copy)
{
	char *a = kvt_src("conf/restricted-terms.csv"), *b = kvt_src("examples/license-cases/restricted-terms.csv");
	char *ta = kvt_read(a), *tb = kvt_read(b);
	cr_assert(ta && tb);
	cr_assert_str_eq(ta, tb);
	free(a);
	free(b);
	free(ta);
	free(tb);
}

/* Every shipped row names a clause and a source, and the three licence
 * families the anchors name (Llama, Qwen, Gemma) are covered. */
Test(license, shipped_table_cites_clauses)
{
	char *path = kvt_src("conf/restricted-terms.csv");
	char *text = kvt_read(path);
	cr_assert(text);
	cr_assert_eq(strncmp(text, "license,term,clause,source\n", 27), 0);
	int rows = 0;
	for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char *end = strchr(line, '\n');
		*end = '\0';
		cr_assert(strcasestr(line, "license agreement") || strcasestr(line, "terms of use"),
			  "row citing no licence document: %s", line);
		cr_assert(strstr(line, ",https://"), "row without a source: %s", line);
		*end = '\n';
		rows++;
	}
	cr_assert_geq(rows, 9);
	cr_assert(strstr(text, "LicenseRef-Llama-3.1-Community,naming,"));
	cr_assert(strstr(text, "LicenseRef-Qwen,usage-cap,"));
	cr_assert(strstr(text, "LicenseRef-Gemma,remote-restriction,"));
	free(path);
	free(text);
}

/* --- licence expressions against allowed_licenses -------------------------- */

/* allowed = MIT, Apache-2.0, GPL-2.0-only, LicenseRef-Own.  Each team's model
 * licence is one case; pass/fail by the SPDX rules (OR needs one allowed
 * side, AND every side; AND binds tighter than OR). */
Test(license, allowed_expressions)
{
	static const struct { const char *team, *license; int pass; const char *named; } cases[] = {
		{"t1", "MIT", 1, NULL},
		{"t2", "mit", 1, NULL},                                   /* ids ignore case */
		{"t3", "MIT AND GPL-3.0-only", 0, "'GPL-3.0-only'"},
		{"t4", "MIT OR GPL-3.0-only", 1, NULL},
		{"t5", "GPL-3.0-only OR BSD-3-Clause AND MIT", 0, "'GPL-3.0-only', 'BSD-3-Clause'"},
		{"t6", "GPL-3.0-only OR Apache-2.0 AND MIT", 1, NULL},   /* = GPL-3 OR (Apache AND MIT) */
		{"t7", "(GPL-3.0-only OR Apache-2.0) AND BSD-3-Clause", 0, "'GPL-3.0-only', 'BSD-3-Clause'"},
		{"t8", "GPL-2.0-only WITH Classpath-exception-2.0", 1, NULL}, /* exceptions add rights */
		{"t9", "LicenseRef-OWN", 1, NULL},
		{"t10", "licenseref-Own", 0, "'licenseref-Own'"},       /* prefix is case-sensitive */
		{"t11", "MIT and (apache-2.0 or ISC)", 1, NULL},          /* lower-case operators */
	};
	char *dir = kvt_tempdir();
	struct kv_buf teams = {0};
	kv_buf_puts(&teams, "");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		kv_buf_printf(&teams, "%s ", cases[i].team);
		write_manifest(dir, cases[i].team, cases[i].license, OWN, NULL);
	}
	write_round(dir, teams.data, "manifest = \"m/{team}.json\"; allowed_licenses = [\"MIT\", "
		    "\"Apache-2.0\", \"GPL-2.0-only\", \"LicenseRef-Own\"];");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(passes(run, cases[i].team), cases[i].pass, "%s: %s", cases[i].team, cases[i].license);
		if (cases[i].pass) {
			no_finding(run, cases[i].team, 1);
			continue;
		}
		const char *s = finding(run, cases[i].team, 1, "license-not-allowed", "model");
		char *want = kv_xasprintf("not allowed: %s", cases[i].named);
		const char *tail = strstr(s, "not allowed: ");
		cr_assert(tail, "%s", s);
		cr_assert_str_eq(tail, want, "%s", cases[i].team);
		free(want);
		no_finding(run, cases[i].team, 2);
	}
	kv_run_free(run);
	kv_buf_free(&teams);
	kvt_rmtree(dir);
	free(dir);
}

/* --- restricted terms ------------------------------------------------------- */

Test(license, restricted_terms)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "r1", "LicenseRef-Llama-3.1-Community", OWN, NULL);
	write_manifest(dir, "r2", "MIT OR LicenseRef-Llama-3.1-Community", OWN, NULL);
	write_manifest(dir, "r3", "GPL-3.0-only AND LicenseRef-llama-3.1-community", OWN, NULL);
	write_round(dir, "r1 r2 r3", PARAMS);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	/* r1: restricted, and reported once (not again as "not allowed"). */
	cr_assert_not(passes(run, "r1"));
	const char *s = finding(run, "r1", 1, "restricted-terms", "model");
	cr_assert(strstr(s, "'LicenseRef-Llama-3.1-Community' (naming [Llama 3.1 licence 1.b.i]; "
			 "usage-cap [Llama 3.1 licence 2])"), "%s", s);
	no_finding(run, "r1", 2);
	cr_assert_float_eq(findings(run, "r1"), 1, 0);
	/* r2: MIT is a choice free of the restricted terms. */
	cr_assert(passes(run, "r2"));
	no_finding(run, "r2", 1);
	/* r3: GPL-3.0-only is not allowed, the Llama licence is restricted. */
	s = finding(run, "r3", 1, "license-not-allowed", "model");
	cr_assert(strstr(s, "not allowed: "), "%s", s);
	cr_assert_str_eq(strstr(s, "not allowed: "), "not allowed: 'GPL-3.0-only'");
	finding(run, "r3", 2, "restricted-terms", "model");
	cr_assert_float_eq(findings(run, "r3"), 2, 0);
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

/* Allowing a licence does not lift its restricted terms. */
Test(license, restricted_even_when_allowed)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "LicenseRef-Llama-3.1-Community", OWN, NULL);
	write_round(dir, "a", "manifest = \"m/{team}.json\"; restricted_terms = \"terms.csv\"; "
		    "allowed_licenses = [\"MIT\", \"LicenseRef-Llama-3.1-Community\"];");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert_not(passes(run, "a"));
	finding(run, "a", 1, "restricted-terms", "model");
	no_finding(run, "a", 2);
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

/* --- third-party weights, attribution ------------------------------------- */

#define ENCODER(frozen) "{\"name\": \"vision\", \"role\": \"vision-encoder\", \"origin\": \"third-party\", " \
	"\"source\": \"org/encoder\", \"init\": \"pretrained\", \"frozen\": " frozen ", \"license\": \"Apache-2.0\"}"
#define ENCODER_NOTE "{\"component\": \"vision\", \"license\": \"Apache-2.0\", \"notice\": \"from org/encoder\"}"

static struct kv_run *run_encoder_round(const char *dir, const char *mode)
{
	write_manifest(dir, "frozen", "MIT", OWN "," ENCODER("true"), ENCODER_NOTE);
	write_manifest(dir, "tuned", "MIT", OWN "," ENCODER("false"), ENCODER_NOTE);
	char *params = kv_xasprintf(PARAMS " third_party_weights = \"%s\";", mode);
	write_round(dir, "frozen tuned", params);
	free(params);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	return run;
}

/* The licence (Apache-2.0) is allowed, the encoder attributed: the weights
 * alone fail the gate, frozen or fine-tuned. */
Test(license, third_party_weights_fail)
{
	char *dir = kvt_tempdir();
	struct kv_run *run = run_encoder_round(dir, "fail");
	const char *teams[] = {"frozen", "tuned"};
	for (int i = 0; i < 2; i++) {
		cr_assert_not(passes(run, teams[i]));
		const char *s = finding(run, teams[i], 1, "third-party-weights", "vision");
		cr_assert(strstr(s, i == 0 ? "used frozen" : "with further training"), "%s", s);
		no_finding(run, teams[i], 2);
	}
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

Test(license, third_party_weights_report)
{
	char *dir = kvt_tempdir();
	struct kv_run *run = run_encoder_round(dir, "report");
	cr_assert(passes(run, "frozen"));
	cr_assert_float_eq(findings(run, "frozen"), 0, 0);
	cr_assert_float_eq(kvt_evidence_num(run, "lic", "frozen", "findings_reported_only"), 1, 0);
	const char *s = finding(run, "frozen", 1, "third-party-weights", "vision");
	cr_assert(strstr(s, "reported only"), "%s", s);
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

/* Code or architecture from a third party needs an attribution entry; the
 * team's own earlier weights (origin own, init pretrained) are no finding. */
Test(license, attribution)
{
	const char *code = "{\"name\": \"infer\", \"role\": \"inference-code\", \"origin\": \"third-party\", "
			   "\"source\": \"org/model\", \"init\": \"scratch\", \"license\": \"Apache-2.0\"}";
	const char *own_pretrained = "{\"name\": \"backbone\", \"role\": \"text-backbone\", \"origin\": \"own\", "
				     "\"init\": \"pretrained\", \"license\": \"MIT\"}";
	char *dir = kvt_tempdir();
	char *with = kv_xasprintf("%s,%s", own_pretrained, code);
	write_manifest(dir, "noted", "MIT", with, "{\"component\": \"infer\", \"license\": \"Apache-2.0\", "
		       "\"notice\": \"Copyright org\"}");
	write_manifest(dir, "silent", "MIT", with, NULL);
	write_round(dir, "noted silent", PARAMS);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert(passes(run, "noted"));
	no_finding(run, "noted", 1);
	cr_assert_not(passes(run, "silent"));
	const char *s = finding(run, "silent", 1, "missing-attribution", "infer");
	cr_assert(strstr(s, "org/model"), "%s", s);
	no_finding(run, "silent", 2);
	kv_run_free(run);
	free(with);
	kvt_rmtree(dir);
	free(dir);
}

/* --- weight hashes ------------------------------------------------------------ */

/* SHA-256("abc") from FIPS 180-2, appendix B.1. */
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABC_UPPER "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
#define SHA_OTHER "0000000000000000000000000000000000000000000000000000000000000001"

static char *weighted(const char *sha)
{
	return kv_xasprintf("{\"name\": \"backbone\", \"role\": \"text-backbone\", \"origin\": \"own\", "
			    "\"init\": \"scratch\", \"license\": \"MIT\", \"weights\": "
			    "[{\"path\": \"w/abc.bin\", \"sha256\": \"%s\"}]}", sha);
}

Test(license, weight_hashes)
{
	char *dir = kvt_tempdir();
	kvt_write(dir, "d/w/abc.bin", "abc");
	const char *shas[] = {SHA_ABC, SHA_ABC_UPPER, SHA_OTHER};
	const char *teams[] = {"good", "upper", "bad"};
	for (int i = 0; i < 3; i++) {
		char *c = weighted(shas[i]);
		write_manifest(dir, teams[i], "MIT", c, NULL);
		free(c);
	}
	write_round(dir, "good upper bad", PARAMS);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert(passes(run, "good"));
	cr_assert(passes(run, "upper"));
	cr_assert_float_eq(kvt_evidence_num(run, "lic", "good", "weight_files_verified"), 1, 0);
	cr_assert_not(passes(run, "bad"));
	cr_assert_float_eq(kvt_evidence_num(run, "lic", "bad", "weight_files_verified"), 0, 0);
	const char *s = finding(run, "bad", 1, "weight-hash-mismatch", "backbone");
	cr_assert(strstr(s, "'w/abc.bin' has SHA-256 " SHA_ABC ", but the manifest says " SHA_OTHER), "%s", s);
	/* The core recorded the weight file it hashed. */
	int recorded = 0;
	for (size_t i = 0; i < run->inputs.count; i++)
		if (strcmp(run->inputs.records[i].path, "w/abc.bin") == 0)
			recorded = strcmp(run->inputs.records[i].sha256, SHA_ABC) == 0;
	cr_assert(recorded);
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

/* --- forensics params ---------------------------------------------------------- */

static const char *round_evidence_str(const struct kv_run *run, const char *key)
{
	long c = kv_round_criterion_index(run->round, "lic");
	const struct kv_evidence_item *it = kv_evidence_get(&run->results[c].evidence, key);
	return it && !it->is_num ? it->str : NULL;
}

/* The forensics themselves are tested in tests/test_forensics.c; here only
 * that a fingerprints folder without reference fingerprints is refused and
 * that without the param nothing is said about forensics. */
Test(license, fingerprints_need_references)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "MIT", OWN, NULL);
	kvt_write(dir, "d/fp/reference.fp", "x");
	write_round(dir, "a", PARAMS " fingerprints = \"fp\";");
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "'fp'") && strstr(err.msg, "no reference fingerprint"), "%s", err.msg);
	write_round(dir, "a", PARAMS);
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert_null(round_evidence_str(run, "forensics.references"));
	cr_assert(passes(run, "a"));
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

/* --- bad params ------------------------------------------------------------------ */

Test(license, bad_params)
{
	static const struct { const char *params; const char *want[3]; } cases[] = {
		{PARAMS " pearson_flag = 0.6;", {"r.cfg:", "pearson_flag", "above pearson_fail"}},
		{PARAMS " fail_share = 0.0;", {"r.cfg:", "fail_share", "(0, 1]"}},
		{PARAMS " fingerprints = \"nothere\";", {"fingerprints", "'nothere' is missing", NULL}},
		{"manifest = \"m/{team}.json\"; allowed_licenses = [\"MIT\", \"MIT OR ISC\"];",
		 {"allowed_licenses[1]", "one licence per entry", NULL}},
		{"manifest = \"m/{team}.json\"; allowed_licenses = [\"MIT\", \"MIT AND\"];",
		 {"allowed_licenses[1]", "column 8 (the end)", NULL}},
		{"manifest = \"m/{team}.json\"; allowed_licenses = (\"MIT\", 3);",
		 {"allowed_licenses[1]", "expected a string", NULL}},
		{PARAMS " third_party_weights = \"warn\";", {"third_party_weights", "fail|report", NULL}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = kvt_tempdir();
		write_manifest(dir, "a", "MIT", OWN, NULL);
		write_round(dir, "a", cases[i].params);
		const char *want[4] = {cases[i].want[0], cases[i].want[1], cases[i].want[2], NULL};
		expect_input_error(dir, want);
		kvt_rmtree(dir);
		free(dir);
	}
}

/* A bad restricted_terms row names the file, the line and the column. */
Test(license, bad_restricted_table)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "MIT", OWN, NULL);
	write_round(dir, "a", PARAMS);
	kvt_write(dir, "d/terms.csv", "license,term\nLicenseRef-X,naming\nMIT AND ISC,usage-cap\n");
	expect_input_error(dir, (const char *[]){"terms.csv:3", "column 'license'", "one licence id", NULL});
	kvt_write(dir, "d/terms.csv", "license,term\nLicenseRef-X,\n");
	expect_input_error(dir, (const char *[]){"terms.csv:2", "column 'term'", "empty", NULL});
	kvt_write(dir, "d/terms.csv", "licence,term\nLicenseRef-X,naming\n");
	expect_input_error(dir, (const char *[]){"terms.csv", "missing column 'license'", NULL});
	kvt_rmtree(dir);
	free(dir);
}

/* --- bad manifests: a good team "a" beside a bad team "b" -------------------- */

static void bad_manifest_case(const char *manifest_b, const char *const *want)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "MIT", OWN, NULL);
	kvt_write(dir, "d/m/b.json", manifest_b);
	kvt_write(dir, "d/w/abc.bin", "abc");
	write_round(dir, "a b", PARAMS);
	expect_input_error(dir, want);
	kvt_rmtree(dir);
	free(dir);
}

#define MODEL "\"model\": {\"name\": \"M\", \"license\": \"MIT\"}"
#define WITH_COMPONENT(c) "{" MODEL ", \"components\": [" c "]}"

Test(license, bad_manifest_syntax)
{
	/* The second ',' on line 3 is the error. */
	bad_manifest_case("{\n  \"model\": {\n    \"name\": \"M\",,\n  }\n}\n",
			  (const char *[]){"m/b.json:3:", "JSON syntax error", NULL});
	bad_manifest_case("{\"model\": {\"name\": \"M\", \"license\": \"MIT\"},\n \"components\": [",
			  (const char *[]){"m/b.json:2:", "JSON ends too early", NULL});
	bad_manifest_case("[1, 2]", (const char *[]){"m/b.json: (top level): expected a JSON object", NULL});
}

Test(license, bad_manifest_enum)
{
	bad_manifest_case(WITH_COMPONENT("{\"name\": \"x\", \"role\": \"r\", \"origin\": \"borrowed\", "
					 "\"init\": \"scratch\", \"license\": \"MIT\"}"),
			  (const char *[]){"m/b.json: components[0].origin: unknown value 'borrowed' "
					   "(expected own or third-party)", NULL});
	bad_manifest_case(WITH_COMPONENT(OWN ", {\"name\": \"x\", \"role\": \"r\", \"origin\": \"own\", "
					 "\"init\": \"finetuned\", \"license\": \"MIT\"}"),
			  (const char *[]){"m/b.json: components[1].init: unknown value 'finetuned'", NULL});
	bad_manifest_case(WITH_COMPONENT("{\"name\": \"x\", \"role\": \"r\", \"origin\": \"own\", "
					 "\"init\": \"scratch\", \"frozen\": \"yes\", \"license\": \"MIT\"}"),
			  (const char *[]){"m/b.json: components[0].frozen: expected true or false, found a string",
					   NULL});
}

Test(license, bad_manifest_missing_field)
{
	bad_manifest_case(WITH_COMPONENT("{\"name\": \"x\", \"role\": \"r\", \"origin\": \"own\", \"license\": \"MIT\"}"),
			  (const char *[]){"m/b.json: components[0].init: missing required field", NULL});
	bad_manifest_case("{\"components\": [" OWN "]}",
			  (const char *[]){"m/b.json: model: missing required field", NULL});
	bad_manifest_case("{\"model\": {\"name\": \"M\"}, \"components\": [" OWN "]}",
			  (const char *[]){"m/b.json: model.license: missing required field", NULL});
	bad_manifest_case("{" MODEL ", \"components\": []}",
			  (const char *[]){"m/b.json: components: empty", NULL});
	bad_manifest_case(WITH_COMPONENT(OWN "," OWN),
			  (const char *[]){"m/b.json: components[1].name: 'backbone' is also the name of components[0]",
					   NULL});
	bad_manifest_case("{" MODEL ", \"components\": [" OWN "], \"attributions\": [{\"component\": "
			  "\"ghost\", \"license\": \"MIT\", \"notice\": \"n\"}]}",
			  (const char *[]){"m/b.json: attributions[0].component: 'ghost' names no entry", NULL});
	bad_manifest_case("{" MODEL ", \"components\": [" OWN "], \"attributions\": [{\"component\": "
			  "\"backbone\", \"license\": \"MIT\"}]}",
			  (const char *[]){"m/b.json: attributions[0].notice: missing required field", NULL});
}

/* Column counted by hand: "MIT AND (Apache-2.0" is 19 characters, so the
 * missing ')' is reported at the end, column 20. */
Test(license, bad_manifest_spdx)
{
	bad_manifest_case(WITH_COMPONENT("{\"name\": \"x\", \"role\": \"r\", \"origin\": \"own\", "
					 "\"init\": \"scratch\", \"license\": \"MIT AND (Apache-2.0\"}"),
			  (const char *[]){"m/b.json: components[0].license: 'MIT AND (Apache-2.0' is not an SPDX "
					   "licence expression: at column 20 (the end): expected ')'", NULL});
	bad_manifest_case("{\"model\": {\"name\": \"M\", \"license\": \"MIT And Apache-2.0\"}, "
			  "\"components\": [" OWN "]}",
			  (const char *[]){"m/b.json: model.license:", "at column 5 (before 'And Apache-2.0')",
					   "AND or in lower case", NULL});
}

static char *weight_at(const char *path, const char *sha)
{
	return kv_xasprintf("{" MODEL ", \"components\": [{\"name\": \"x\", \"role\": \"r\", \"origin\": \"own\", "
			    "\"init\": \"scratch\", \"license\": \"MIT\", \"weights\": [{\"path\": \"%s\", "
			    "\"sha256\": \"%s\"}]}]}", path, sha);
}

Test(license, bad_manifest_weight_path)
{
	const char *field = "m/b.json: components[0].weights[0].path: ";
	struct { const char *path; const char *why; } cases[] = {
		{"../abc.bin", "'../abc.bin' is outside the data directory"},
		{"w/../../abc.bin", "'w/../../abc.bin' is outside the data directory"},
		{"/etc/passwd", "'/etc/passwd' is outside the data directory"},
		{"w/none.bin", "'w/none.bin' is not a file in the data directory"},
		{"w", "'w' is a folder, not a file"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *m = weight_at(cases[i].path, SHA_ABC);
		bad_manifest_case(m, (const char *[]){field, cases[i].why, NULL});
		free(m);
	}
	char *m = weight_at("w/abc.bin", "abc");
	bad_manifest_case(m, (const char *[]){"components[0].weights[0].sha256: 'abc' is not 64 hexadecimal", NULL});
	free(m);
}

/* A symbolic link inside the data directory that leads out of it. */
Test(license, bad_manifest_weight_symlink)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "MIT", OWN, NULL);
	char *m = weight_at("w/link.bin", SHA_ABC);
	kvt_write(dir, "d/m/b.json", m);
	kvt_write(dir, "outside.bin", "abc");
	kvt_write(dir, "d/w/placeholder", "");
	char *target = kv_xasprintf("%s/outside.bin", dir), *link = kv_xasprintf("%s/d/w/link.bin", dir);
	cr_assert_eq(symlink(target, link), 0);
	write_round(dir, "a b", PARAMS);
	expect_input_error(dir, (const char *[]){"components[0].weights[0].path: 'w/link.bin' is not a file in "
						 "the data directory", NULL});
	free(m);
	free(target);
	free(link);
	kvt_rmtree(dir);
	free(dir);
}

/* --- end to end: the kaieval binary and the real license.so ------------------- */

Test(license, e2e_example_round)
{
	char *dir = kvt_tempdir();
	char *cfg = kvt_src("examples/license-cases/round.cfg");
	char *out1 = kv_xasprintf("%s/1.json", dir), *out2 = kv_xasprintf("%s/2.json", dir);
	char *err = NULL;
	int rc = kvt_exec((const char *[]){"run", cfg, "-o", out1, NULL}, NULL, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	cr_assert_eq(kvt_exec((const char *[]){"run", cfg, "-o", out2, NULL}, NULL, NULL), 0);
	char *a = kvt_read(out1), *b = kvt_read(out2);
	cr_assert(a && b);
	cr_assert_str_eq(a, b, "two runs differ");
	cr_assert(strstr(a, "\"plugin\": \"license\""), "%.400s", a);
	cr_assert(strstr(a, "restricted-terms | text-backbone | "));
	cr_assert(strstr(a, "third-party-weights | vision-encoder | "));
	cr_assert(strstr(a, "\"weights/naverlike/vision-encoder.safetensors\""), "weight file not recorded");
	free(a);
	free(b);
	free(out1);
	free(out2);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(license, e2e_bad_input_writes_nothing)
{
	char *dir = kvt_tempdir();
	write_manifest(dir, "a", "MIT", OWN, NULL);
	kvt_write(dir, "d/m/b.json", WITH_COMPONENT("{\"name\": \"x\", \"role\": \"r\", \"origin\": \"elsewhere\", "
						   "\"init\": \"scratch\", \"license\": \"MIT\"}"));
	write_round(dir, "a b", PARAMS);
	char *cfg = kv_xasprintf("%s/r.cfg", dir), *out = kv_xasprintf("%s/out.json", dir);
	char *err = NULL;
	int rc = kvt_exec((const char *[]){"run", cfg, "-o", out, NULL}, NULL, &err);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "m/b.json: components[0].origin: unknown value 'elsewhere'"), "%s", err);
	cr_assert_not(kvt_exists(out));
	free(err);
	free(cfg);
	free(out);
	kvt_rmtree(dir);
	free(dir);
}

/* kaieval robustness against an independent computation (tests/data/
 * robustness/check.py, standard library only), its determinism and its
 * refusal of bad command lines. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "support.h"

#define REPLICATES "10000"

/* Run kaieval robustness on tests/data/robustness/NAME.cfg with extra args;
 * returns the JSON written (caller frees) and the exit status in *rc. */
static char *robustness(const char *name, const char *const *extra, int *rc, char **err)
{
	char *dir = kvt_tempdir(), *out = kv_xasprintf("%s/r.json", dir);
	char *rel = kv_xasprintf("tests/data/robustness/%s.cfg", name), *cfg = kvt_src(rel);
	const char *args[16] = {"robustness", cfg, "-o", out};
	size_t n = 4;
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	*rc = kvt_exec(args, NULL, err);
	char *json = kvt_exists(out) ? kvt_read(out) : NULL;
	kvt_rmtree(dir);
	free(dir);
	free(out);
	free(rel);
	free(cfg);
	return json;
}

/* The parsed document of a run that must succeed. */
static cJSON *doc_of(const char *name, const char *const *extra)
{
	int rc;
	char *json = robustness(name, extra, &rc, NULL);
	cr_assert_eq(rc, 0, "robustness %s: exit %d", name, rc);
	cJSON *root = cJSON_Parse(json);
	cr_assert(root);
	free(json);
	return root;
}

/* The script's output lines; args are separated by single spaces. */
static char *script(const char *args)
{
	char *py = kvt_src("tests/data/robustness/check.py"), *words = kv_xstrdup(args);
	const char *argv[16] = {"python3", py};
	size_t n = 2;
	for (char *w = strtok(words, " "); w && n < 15; w = strtok(NULL, " "))
		argv[n++] = w;
	argv[n] = NULL;
	char *dir = kvt_tempdir(), *out = kv_xasprintf("%s/out", dir);
	cr_assert_eq(kvt_spawn(argv, NULL, NULL, out), 0, "check.py %s failed", args);
	char *text = kvt_read(out);
	kvt_rmtree(dir);
	free(dir);
	free(out);
	free(words);
	free(py);
	return text;
}

static double script_value(const char *text, const char *key)
{
	const char *at = strstr(text, key);
	cr_assert(at, "no '%s' in the script's output", key);
	return strtod(at + strlen(key), NULL);
}

static const cJSON *team(const cJSON *root, const char *id)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "teams"))
		if (strcmp(cJSON_GetObjectItem(t, "id")->valuestring, id) == 0)
			return t;
	cr_assert_fail("no team %s", id);
	return NULL;
}

static double p_advance(const cJSON *root, const char *id, const char *source)
{
	const cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(team(root, id), "by_source"), source);
	cr_assert(s, "team %s has no source %s", id, source);
	return cJSON_GetObjectItem(s, "p_advance")->valuedouble;
}

/* Two Monte Carlo estimates of one probability, 10000 draws each, agree
 * within five standard errors of their difference, plus five draws for the
 * rare events where the normal approximation is poor. */
static void agree(double a, double b, const char *what)
{
	double p = (a + b) / 2, se = sqrt(2 * p * (1 - p) / 10000);
	cr_expect(fabs(a - b) <= 5 * se + 5.0 / 10000, "%s: kaieval %g, script %g", what, a, b);
}

Test(robustness, probabilities_agree_with_the_script, .timeout = 300)
{
	const char *box[] = {"--replicates", REPLICATES, "--weights", "box:10", "--sources", "expert", NULL};
	const char *dir[] = {"--replicates", REPLICATES, "--weights", "dirichlet:40", "--sources", "expert",
			     NULL};
	cJSON *root = doc_of("near", box), *droot = doc_of("near", dir);
	char *py = script("near " REPLICATES " 10 40");
	const char *teams[] = {"a", "b", "c", "d"};
	for (size_t i = 0; i < 4; i++) {
		char key[32];
		snprintf(key, sizeof key, "p_box %s ", teams[i]);
		agree(p_advance(root, teams[i], "weights"), script_value(py, key), key);
		snprintf(key, sizeof key, "p_dirichlet %s ", teams[i]);
		agree(p_advance(droot, teams[i], "weights"), script_value(py, key), key);
		snprintf(key, sizeof key, "p_expert %s ", teams[i]);
		agree(p_advance(root, teams[i], "expert"), script_value(py, key), key);
	}
	free(py);
	cJSON_Delete(root);
	cJSON_Delete(droot);
}

static const cJSON *flip(const cJSON *root, const char *against)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(root, "weight_flips"))
		if (strcmp(cJSON_GetObjectItem(f, "against")->valuestring, against) == 0)
			return f;
	cr_assert_fail("no flip against %s", against);
	return NULL;
}

/* A grid answer is never below the optimum, and on a grid of step 0.25
 * points some grid point lies within 0.5 of it. */
static void grid_agrees(double got, double grid, const char *what)
{
	cr_expect(got <= grid + 1e-9 && got >= grid - 0.5, "%s: grid %g, kaieval %g", what, grid, got);
}

/* L2 closed forms to 1e-6 (no bound active); grid answers as above. */
static void flips_agree(const char *round, const char *script_args)
{
	const char *extra[] = {"--replicates", "10", NULL};
	cJSON *root = doc_of(round, extra);
	char *py = script(script_args);
	const char *against[] = {"a", "b", "d"};
	for (size_t i = 0; i < 3; i++) {
		const cJSON *f = flip(root, against[i]);
		char key[64];
		snprintf(key, sizeof key, "flip c %s none", against[i]);
		if (strstr(py, key)) {
			cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(f, "feasible")), "%s", key);
			continue;
		}
		cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(f, "feasible")));
		snprintf(key, sizeof key, "flip c %s l2 ", against[i]);
		const char *line = strstr(py, key), *eol = line ? strchr(line, '\n') : NULL;
		int closed = eol && eol - line >= 6 && strncmp(eol - 6, "closed", 6) == 0;
		double l2 = script_value(py, key), got = cJSON_GetObjectItem(f, "l2")->valuedouble;
		if (closed)
			cr_expect(fabs(got - l2) <= 1e-6, "%s%g, kaieval %g", key, l2, got);
		else
			grid_agrees(got, l2, key);
		snprintf(key, sizeof key, "flip c %s linf ", against[i]);
		grid_agrees(cJSON_GetObjectItem(f, "linf")->valuedouble, script_value(py, key), key);
		cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(f, "changes_decision")));
	}
	free(py);
	cJSON_Delete(root);
}

Test(robustness, weight_flips_agree_with_the_script, .timeout = 300)
{
	flips_agree("near", "near flips");
	flips_agree("sure", "sure flips");
	/* Points 70, 5, 25: c against d needs bench2's points below 0 without
	 * the bound, so the grid decides. */
	flips_agree("bound", "near flips 70 5 25");
}

/* Nine teams (kvt_two_criteria_round), four advance (t6..t9): 5 x 4 = 20
 * pairs.  A reweighting can level t2..t5 with them (16 pairs), not t1 (4).  The terminal shows the 12 that
 * need the least change, closest first, and counts the rest; the file has
 * all 20. */
Test(robustness, a_large_round_prints_the_closest_flips)
{
	char *dir = kvt_tempdir();
	char *path = kvt_two_criteria_round(dir, "big", 9), *json = kv_xasprintf("%s/r.json", dir), *out = NULL;
	const char *args[] = {"robustness", path, "-o", json, "--replicates", "10", NULL};
	cr_assert_eq(kvt_exec(args, &out, NULL), 0, "%s", out);
	char *text = kvt_read(json);
	cJSON *root = cJSON_Parse(text);
	free(text);
	const cJSON *flips = cJSON_GetObjectItem(root, "weight_flips"), *f;
	cr_assert_eq(cJSON_GetArraySize(flips), 20);
	double l2[20];
	size_t feasible = 0;
	cJSON_ArrayForEach(f, flips)
		if (cJSON_IsTrue(cJSON_GetObjectItem(f, "feasible")))
			l2[feasible++] = cJSON_GetObjectItem(f, "l2")->valuedouble;
	cr_assert_eq(feasible, 16);
	for (size_t i = 0; i < feasible; i++) /* the file's feasible L2s, smallest first */
		for (size_t j = i + 1; j < feasible; j++)
			if (l2[j] < l2[i]) {
				double t = l2[i];
				l2[i] = l2[j];
				l2[j] = t;
			}
	const char *p = strstr(out, "the closest pairs:\n");
	cr_assert(p != NULL, "%s", out);
	for (size_t i = 0; i < 12; i++) {
		p = strstr(p, " points moved (L2)");
		cr_assert(p != NULL, "pair %zu missing: %s", i + 1, out);
		const char *num = p;
		while (num[-1] != ' ')
			num--;
		char want[32];
		snprintf(want, sizeof want, "%.2f", l2[i]);
		cr_expect(strncmp(num, want, strlen(want)) == 0, "pair %zu: %.8s, not %s", i + 1, num, want);
		p++;
	}
	cr_expect(strstr(p, " points moved") == NULL, "more than 12 pairs shown: %s", out);
	cr_expect(strstr(out, "  ... and 8 more pairs (weight_flips in the file of -o): 4 of them beyond any "
			      "reweighting") != NULL, "%s", out);
	cJSON_Delete(root);
	free(out), free(json), free(path);
	kvt_rmtree(dir);
	free(dir);
}

Test(robustness, same_bytes_twice_other_seed_differs)
{
	const char *extra[] = {"--replicates", "500", NULL};
	const char *seeded[] = {"--replicates", "500", "--seed", "8", NULL};
	int rc1, rc2, rc3;
	char *one = robustness("near", extra, &rc1, NULL), *two = robustness("near", extra, &rc2, NULL);
	char *other = robustness("near", seeded, &rc3, NULL);
	cr_assert(rc1 == 0 && rc2 == 0 && rc3 == 0);
	cr_expect_str_eq(one, two);
	cr_expect_str_neq(one, other);
	cr_expect(strstr(other, "\"seed\": 8,") != NULL);
	free(one);
	free(two);
	free(other);
}

Test(robustness, a_certain_decision_has_probabilities_one_and_zero)
{
	const char *extra[] = {"--replicates", "300", "--weights", "dirichlet:50", NULL};
	cJSON *root = doc_of("sure", extra);
	const char *sources[] = {"expert", "all", "weights"};
	for (size_t s = 0; s < 3; s++) {
		cr_expect_eq(p_advance(root, "c", sources[s]), 0.0, "%s", sources[s]);
		cr_expect_eq(p_advance(root, "a", sources[s]), 1.0, "%s", sources[s]);
		cr_expect_eq(p_advance(root, "d", sources[s]), 1.0, "%s", sources[s]);
	}
	cr_expect(fabs(cJSON_GetObjectItem(team(root, "c"), "margin")->valuedouble - (42.0 - 67.5)) < 1e-9);
	cJSON_Delete(root);
}

Test(robustness, a_near_tie_is_uncertain)
{
	const char *extra[] = {"--replicates", "400", NULL};
	cJSON *root = doc_of("near", extra);
	double p = p_advance(root, "c", "expert");
	cr_expect(p > 0 && p < 1, "P(c advances) = %g", p);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(team(root, "c"), "by_source"), "rater"), "held_fixed")));
	cr_expect(fabs(cJSON_GetObjectItem(team(root, "d"), "margin")->valuedouble - 0.5) < 1e-9);
	cJSON_Delete(root);
}

static void refused(const char *const *extra, const char *option)
{
	int rc;
	char *err = NULL, *json = robustness("near", extra, &rc, &err);
	cr_expect_eq(rc, 2, "%s: exit %d", option, rc);
	cr_expect(json == NULL, "%s: an output was written", option);
	cr_expect(err && strstr(err, option), "%s: message '%s'", option, err ? err : "");
	free(err);
	free(json);
}

Test(robustness, bad_command_lines_exit_2)
{
	const char *zero[] = {"--replicates", "0", NULL}, *big[] = {"--replicates", "10000001", NULL};
	const char *word[] = {"--replicates", "many", NULL}, *src[] = {"--sources", "expert,crowd", NULL};
	const char *conc[] = {"--weights", "dirichlet:0", NULL}, *box[] = {"--weights", "box:-5", NULL};
	const char *kind[] = {"--weights", "cube:3", NULL}, *seed[] = {"--seed", "x", NULL};
	const char *opt[] = {"--frobnicate", "1", NULL}, *bare[] = {"--seed", NULL};
	refused(zero, "--replicates");
	refused(big, "--replicates");
	refused(word, "--replicates");
	refused(src, "--sources");
	refused(conc, "--weights");
	refused(box, "--weights");
	refused(kind, "--weights");
	refused(seed, "--seed");
	refused(opt, "--frobnicate");
	refused(bare, "--seed");
	const char *none[] = {"robustness", NULL};
	cr_expect_eq(kvt_exec(none, NULL, NULL), 2);
}

/* Without expert e2 the panel of team c has four totals, too few to trim:
 * (5 + 7 + 8 + 9) / 4 = 7.25 of 10, 36.25 points and a total of 68.25,
 * above d's 67.5; every other expert left out keeps the decision. */
Test(robustness, leaving_one_expert_out)
{
	const char *extra[] = {"--replicates", "10", NULL};
	cJSON *root = doc_of("near", extra);
	const cJSON *d;
	int seen = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(root, "leave_one_out")) {
		if (strcmp(cJSON_GetObjectItem(d, "criterion")->valuestring, "panel") != 0)
			continue;
		const cJSON *changed = cJSON_GetObjectItem(d, "changed");
		seen++;
		if (strcmp(cJSON_GetObjectItem(d, "unit")->valuestring, "e2") != 0) {
			cr_expect_eq(cJSON_GetArraySize(changed), 0);
			continue;
		}
		cr_assert_eq(cJSON_GetArraySize(changed), 2);
		cr_expect_str_eq(cJSON_GetArrayItem(changed, 0)->valuestring, "d");
		cr_expect_str_eq(cJSON_GetArrayItem(changed, 1)->valuestring, "c");
	}
	cr_expect_eq(seen, 5);
	cJSON_Delete(root);
}

/* An archive folder gives what its config gives. */
Test(robustness, an_archive_folder_reads_its_own_config_and_data)
{
	char *dir = kvt_tempdir(), *arch = kv_xasprintf("%s/arch", dir);
	char *cfg = kvt_src("tests/data/robustness/near.cfg");
	char *a = kv_xasprintf("%s/a.json", dir), *b = kv_xasprintf("%s/b.json", dir);
	const char *archive[] = {"archive", cfg, "-o", arch, NULL};
	const char *on_cfg[] = {"robustness", cfg, "--replicates", "200", "-o", a, NULL};
	const char *on_dir[] = {"robustness", arch, "--replicates", "200", "-o", b, NULL};
	cr_assert_eq(kvt_exec(archive, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(on_cfg, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(on_dir, NULL, NULL), 0);
	char *ja = kvt_read(a), *jb = kvt_read(b);
	cr_expect_str_eq(ja, jb);
	free(ja);
	free(jb);
	kvt_rmtree(dir);
	free(dir);
	free(arch);
	free(cfg);
	free(a);
	free(b);
}

/* Under two teams out, d (67.5) goes with c (67); a key the config does
 * not know is refused, naming the option, before anything is written. */
Test(robustness, scenarios_side_by_side)
{
	const char *extra[] = {"--replicates", "50", "--scenario", "selection.eliminate_lowest=2", NULL};
	cJSON *root = doc_of("near", extra);
	const cJSON *scen = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 0);
	cr_assert(scen);
	cr_expect_str_eq(cJSON_GetObjectItem(team(root, "d"), "decision")->valuestring, "advance");
	cr_expect_str_eq(cJSON_GetObjectItem(team(scen, "d"), "decision")->valuestring, "eliminated");
	cr_expect_str_eq(cJSON_GetObjectItem(team(scen, "c"), "decision")->valuestring, "eliminated");
	cJSON_Delete(root);
	const char *bad[] = {"--scenario", "selection.no_such_key=1", NULL};
	refused(bad, "--scenario");
}

/* explain gives the margin robustness gives: d 67.5 - c 67 = 0.5. */
Test(robustness, explain_shows_the_margin_to_the_cut)
{
	char *dir = kvt_tempdir(), *out = kv_xasprintf("%s/r.json", dir);
	char *cfg = kvt_src("tests/data/robustness/near.cfg"), *text = NULL;
	const char *run[] = {"run", cfg, "-o", out, NULL}, *explain[] = {"explain", out, "d", NULL};
	const char *explain_c[] = {"explain", out, "c", NULL};
	cr_assert_eq(kvt_exec(run, NULL, NULL), 0);
	cr_assert_eq(kvt_exec(explain, &text, NULL), 0);
	cr_expect(strstr(text, "margin to the cut: 0.5 points (ahead of the best team eliminated on score, c)"),
		  "%s", text);
	free(text);
	cr_assert_eq(kvt_exec(explain_c, &text, NULL), 0);
	cr_expect(strstr(text, "margin to the cut: -0.5 points (against the last team to advance, d)"), "%s", text);
	free(text);
	kvt_rmtree(dir);
	free(dir);
	free(out);
	free(cfg);
}

/* The "loo CRITERION UNIT changed T..." lines of the script, in order,
 * against the table's entries for that criterion: the same units in the
 * same order, the same teams changed (the table lists them in record
 * order, the script by name); the entries name the source and the plugin. */
static void loo_agrees(const cJSON *root, const char *criterion, const char *source, const char *py)
{
	const cJSON *d;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "loo %s ", criterion);
	const char *line = strstr(py, prefix);
	size_t seen = 0;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(root, "leave_one_out")) {
		if (strcmp(cJSON_GetObjectItem(d, "criterion")->valuestring, criterion) != 0)
			continue;
		cr_assert(line, "%s: the script has fewer units than kaieval", criterion);
		char unit[64], teams[64] = "";
		const char *eol = strchr(line, '\n');
		cr_assert(sscanf(line + strlen(prefix), "%63s changed", unit) == 1);
		const char *after = strstr(line, " changed") + 8;
		if (after < eol && *after == ' ')
			snprintf(teams, sizeof teams, "%.*s", (int)(eol - after - 1), after + 1);
		cr_expect_str_eq(cJSON_GetObjectItem(d, "unit")->valuestring, unit, "unit %zu of %s", seen, criterion);
		cr_expect_str_eq(cJSON_GetObjectItem(d, "source")->valuestring, source);
		cr_expect_str_eq(cJSON_GetObjectItem(d, "plugin")->valuestring, "votes");
		const cJSON *changed = cJSON_GetObjectItem(d, "changed");
		int n = 0;
		for (char *save = NULL, *tok = strtok_r(teams, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			int found = 0;
			for (int i = 0; i < cJSON_GetArraySize(changed); i++)
				found |= strcmp(cJSON_GetArrayItem(changed, i)->valuestring, tok) == 0;
			cr_expect(found, "without %s: %s should change", unit, tok);
			n++;
		}
		cr_expect_eq(cJSON_GetArraySize(changed), n, "without %s in %s", unit, criterion);
		seen++;
		line = strstr(eol, prefix);
	}
	cr_expect(seen > 0 && line == NULL, "%s: %zu units, the script has more", criterion, seen);
}

/* Each team's P(advance) under `source` against the script's "KEY TEAM P" lines. */
static void source_agrees(const cJSON *root, const char *py, const char *key, const char *source)
{
	const char *teams[] = {"a", "b", "c", "d"};
	for (size_t i = 0; i < 4; i++) {
		char line[32];
		snprintf(line, sizeof line, "%s %s ", key, teams[i]);
		agree(p_advance(root, teams[i], source), script_value(py, line), line);
	}
}

/* Raters drawn again within their group (eight in crowd, two in panel, who
 * rate c far above d), alone and with the experts: kaieval and the
 * script's own Monte Carlo agree.  Drawing the ten raters from one pool
 * instead would give P(c advances) about 0.51, not 0.63: the test tells
 * the two apart. */
Test(robustness, raters_within_groups_agree_with_the_script, .timeout = 300)
{
	const char *extra[] = {"--replicates", REPLICATES, "--sources", "expert,rater", NULL};
	cJSON *root = doc_of("rated", extra);
	char *py = script("rated " REPLICATES);
	source_agrees(root, py, "p_rater", "rater");
	source_agrees(root, py, "p_all", "all");
	double p = p_advance(root, "c", "rater");
	cr_expect(p > 0.2 && p < 0.8, "P(c advances | raters) = %g: the round should be uncertain", p);
	free(py);
	cJSON_Delete(root);
}

/* Round NAME's leave-one-out table for criterion against "check.py NAME
 * loo", whose output must hold `expect`. */
static void leave_one_out_of(const char *name, const char *criterion, const char *source, const char *expect)
{
	const char *extra[] = {"--replicates", "10", NULL};
	char *args = kv_xasprintf("%s loo", name);
	cJSON *root = doc_of(name, extra);
	char *py = script(args);
	cr_expect(strstr(py, expect), "'%s' not in %s", expect, py);
	loo_agrees(root, criterion, source, py);
	free(py);
	free(args);
	cJSON_Delete(root);
}

Test(robustness, leaving_one_rater_out_agrees_with_the_script)
{
	leave_one_out_of("rated", "users", "rater", "loo users p2 changed c d\n");
}

/* Judges drawn again (all of a drawn judge's ballots), Bradley-Terry
 * refitted: kaieval's class draw against the script's judge by judge
 * draw and its own Newton fit. */
Test(robustness, judges_agree_with_the_script, .timeout = 300)
{
	const char *extra[] = {"--replicates", REPLICATES, "--sources", "judge", NULL};
	cJSON *root = doc_of("judged", extra);
	char *py = script("judged " REPLICATES);
	const char *teams[] = {"a", "b", "c", "d"};
	source_agrees(root, py, "p_judge", "judge");
	for (size_t i = 0; i < 4; i++) {
		char key[32];
		snprintf(key, sizeof key, "total %s ", teams[i]);
		cr_expect(fabs(cJSON_GetObjectItem(team(root, teams[i]), "total")->valuedouble -
			       script_value(py, key)) < 1e-6, "%s", key);
	}
	free(py);
	cJSON_Delete(root);
}

/* The judges with the most ballots first, a tie (u10 and u11, three each)
 * in order of first appearance in the file (u11 votes first). */
Test(robustness, leaving_one_judge_out_agrees_with_the_script)
{
	leave_one_out_of("judged", "duel", "judge", "loo duel u11 changed \nloo duel u10 ");
}

/* The bytes of a run with the environment variable NAME set to VALUE. */
static char *bytes_with(const char *round, const char *name, const char *value)
{
	const char *extra[] = {"--replicates", "3000", NULL};
	char *saved = getenv(name) ? kv_xstrdup(getenv(name)) : NULL;
	int rc;
	setenv(name, value, 1);
	char *json = robustness(round, extra, &rc, NULL);
	if (saved)
		setenv(name, saved, 1);
	else
		unsetenv(name);
	free(saved);
	cr_assert_eq(rc, 0, "%s with %s=%s", round, name, value);
	return json;
}

/* The votes plugin fits pairwise replicates on its threads and the rating
 * ones on one: the same bytes for 1, 2 and 5 threads, and with the second
 * build of every plugin (-O0, no inlining or vectorizing: tests/local.am). */
Test(robustness, same_bytes_for_any_thread_count_and_build, .timeout = 300)
{
	const char *rounds[] = {"judged", "rated"};
	char *other = kv_xasprintf("%s/tests/otherbuild/.libs", getenv("KAIEVAL_BUILDDIR"));
	for (size_t i = 0; i < 2; i++) {
		char *one = bytes_with(rounds[i], "KAIEVAL_THREADS", "1");
		char *two = bytes_with(rounds[i], "KAIEVAL_THREADS", "2");
		char *five = bytes_with(rounds[i], "KAIEVAL_THREADS", "5");
		char *built = bytes_with(rounds[i], "KAIEVAL_PLUGIN_PATH", other);
		cr_expect_str_eq(one, two, "%s: 1 and 2 threads differ", rounds[i]);
		cr_expect_str_eq(one, five, "%s: 1 and 5 threads differ", rounds[i]);
		cr_expect_str_eq(one, built, "%s: the two builds differ", rounds[i]);
		free(one);
		free(two);
		free(five);
		free(built);
	}
	free(other);
}

/* A plugin that asks for its file again in a replicate: the core refuses
 * it (exit 3, naming criterion, plugin and file), so no replicate can cost
 * a parse or read other bytes than the evaluation recorded. */
static int peek_all(const struct kv_host *h, struct kv_ctx *ctx)
{
	const char *text;
	size_t len;
	if (h->input_load(ctx, "x.csv", &text, &len))
		return KV_ERR_INPUT;
	for (size_t t = 0; t < h->team_count(ctx); t++)
		h->set_normalized(ctx, t, (double)(t + 1) / 10);
	return KV_OK;
}

static int peek_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)h;
	(void)ctx;
	*state = state; /* anything not NULL */
	return KV_OK;
}

static int peek_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	return peek_all(h, ctx);
}

static int peek_resample(void *state, const struct kv_host *h, struct kv_ctx *ctx, uint64_t replicate)
{
	(void)state;
	(void)replicate;
	return peek_all(h, ctx);
}

static const struct kv_param_decl no_params[] = {{NULL, 0, 0, NULL, NULL, NULL}};

KAIEVAL_PLUGIN_DEFINE(peeker,
	.kinds = KV_KIND_SCORE,
	.params = no_params,
	.version = "1.1.0",
	.summary = "reads its file again in each replicate",
	.open = peek_open,
	.evaluate = peek_evaluate,
	.resample_unit = "run",
	.resample = peek_resample);

Test(robustness, a_replicate_that_reads_a_file_is_refused)
{
	struct kvt_round r;
	kvt_round_init(&r, &kaieval_plugin_peeker);
	kvt_write(r.dir, "data/x.csv", "team,value\n");
	char *cfg = kvt_config("    { id = \"p\"; plugin = \"peeker\"; kind = \"score\"; points = 10.0; }", NULL);
	kvt_write(r.dir, "r.cfg", cfg);
	char *path = kv_xasprintf("%s/r.cfg", r.dir);
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	cr_assert_eq(kv_run_round_kept(path, NULL, 0, &run, &err), 0, "%s", err.msg);
	cr_expect_eq(kv_resample_criterion(run, 0, 1, &err), 3);
	cr_expect(strstr(err.msg, "criterion 'p' (plugin peeker) asked for the file x.csv in a replicate"), "%s",
		  err.msg);
	kv_close_kept(run);
	kv_run_free(run);
	free(path);
	free(cfg);
	kvt_round_done(&r);
	kv_clear_builtins();
}

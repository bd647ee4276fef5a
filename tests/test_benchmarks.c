/* Tests of the benchmarks plugin.  Expected numbers are worked out by hand in
 * the comments from the input files; the real lm-eval files come from
 * tests/data/benchmarks/lm-eval (see the README there). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "support.h"

extern const struct kv_plugin kaieval_plugin_benchmarks;

#define OLOT "results_2025-04-30T18-24-41.082644.json"
#define SAMPLES "samples_gsm8k_2025-04-30T18-24-41.082644.jsonl"
#define LEGACY "legacy-v0.3_mpt-7b_common_sense_reasoning_0-shot.json"
#define EPS 1e-12

/* One round in a temporary folder: three teams a, b, c, one criterion "bm".
 * The params sit on line 5 of r.cfg, so config errors there read "r.cfg:5". */
static char *config_text(const char *params)
{
	return kv_xasprintf(
		"round: {\n"
		" id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 1L;\n"
		" teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; }, { id = \"c\"; name = \"C\"; model = \"mc\"; } );\n"
		" criteria = ( { id = \"bm\"; plugin = \"benchmarks\"; kind = \"score\"; points = 10.0;\n"
		"   params = { %s }; } );\n"
		" selection = { eliminate_lowest = 1; unresolved_tie = \"keep\"; }; };\n",
		params);
}

static void setup_round(struct kvt_round *r)
{
	kvt_round_init(r, &kaieval_plugin_benchmarks);
}

/* Copy a file of tests/data/benchmarks/lm-eval unchanged into the data folder. */
static void put_fixture(struct kvt_round *r, const char *name, const char *rel)
{
	char *src = kv_xasprintf("tests/data/benchmarks/lm-eval/%s", name);
	char *path = kvt_src(src);
	char *text = kvt_read(path);
	cr_assert_not_null(text, "cannot read %s", path);
	kvt_round_put(r, rel, text);
	free(text);
	free(path);
	free(src);
}

static int run_params(struct kvt_round *r, const char *params)
{
	char *text = config_text(params);
	kvt_round_run(r, text);
	free(text);
	return r->rc;
}

static double value_of(const struct kvt_round *r, const char *team)
{
	const struct kv_team_outcome *o = kv_run_outcome(r->run, "bm", team);
	return o && o->has_value ? o->value : NAN;
}

static double ev(const struct kvt_round *r, const char *team, const char *key)
{
	return kvt_evidence_num(r->run, "bm", team, key);
}

static void expect_ok(struct kvt_round *r, const char *params)
{
	run_params(r, params);
	cr_assert_eq(r->rc, 0, "%s", r->err.msg);
}

/* A bad input: exit status 2, no run, and every fragment in the message. */
static void expect_input_error(struct kvt_round *r, const char *params, const char *const *fragments)
{
	run_params(r, params);
	cr_assert_eq(r->rc, 2, "rc %d: %s", r->rc, r->err.msg);
	cr_assert_null(r->run);
	for (size_t i = 0; fragments[i]; i++)
		cr_assert_not_null(strstr(r->err.msg, fragments[i]), "'%s' not in: %s", fragments[i], r->err.msg);
}

/* --- normalizations ------------------------------------------------------ */

static const char *const nia_scores =
	"team,benchmark,run,score\n"
	"a,math,3,62\n"
	"a,math,1,60\n"
	"a,math,2,64\n"
	"a,safety,1,80\n"
	"b,math,1,50\n"
	"b,safety,1,90\n"
	"c,math,1,100\n"
	"c,safety,1,70\n";

Test(benchmarks, scale_averages_runs)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", nia_scores);
	expect_ok(&r, "scores = \"nia.csv\";");
	/* a: math runs 60, 64, 62 -> mean 62, deviations -2, 2, 0 -> sd sqrt(8/2) = 2;
	 * ratios 62/100 and 80/100 -> value (0.62 + 0.8)/2 = 0.71. */
	cr_assert_float_eq(ev(&r, "a", "math.runs"), 3, EPS);
	cr_assert_float_eq(ev(&r, "a", "math.mean"), 62, EPS);
	cr_assert_float_eq(ev(&r, "a", "math.sd"), 2, EPS);
	cr_assert_float_eq(ev(&r, "a", "math.ratio"), 0.62, EPS);
	cr_assert_float_eq(ev(&r, "a", "safety.scale_max"), 100, EPS);
	cr_assert_float_eq(value_of(&r, "a"), 0.71, EPS);
	cr_assert_float_eq(kvt_normalized(r.run, "bm", "a"), 0.71, EPS);
	/* b: (0.5 + 0.9)/2 = 0.7; c: (1.0 + 0.7)/2 = 0.85. */
	cr_assert_float_eq(value_of(&r, "b"), 0.7, EPS);
	cr_assert_float_eq(value_of(&r, "c"), 0.85, EPS);
	cr_assert_float_eq(ev(&r, "b", "math.sd"), 0, EPS);
	/* target_share 0.95: only c's math (1.0) reaches it: 1 of 2. */
	cr_assert_float_eq(ev(&r, "a", "target_share.met"), 0, EPS);
	cr_assert_float_eq(ev(&r, "c", "target_share.met"), 1, EPS);
	cr_assert_float_eq(ev(&r, "c", "target_share.share"), 0.5, EPS);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "bm", "target_share"), 0.95, EPS);
	cr_assert_str_eq(kv_run_outcome(r.run, "bm", "a")->unit, "share of scale_max");
	kvt_round_done(&r);
}

Test(benchmarks, scale_list_selects_and_weighs)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", nia_scores);
	expect_ok(&r, "scores = \"nia.csv\"; scale_max = 200.0;"
		      " benchmarks = ( { name = \"safety\"; weight = 3.0; }, { name = \"math\"; weight = 1; } );");
	/* b: safety 90/200 = 0.45 (weight 3), math 50/200 = 0.25 -> (1.35 + 0.25)/4 = 0.4. */
	cr_assert_float_eq(value_of(&r, "b"), 0.4, EPS);
	cr_assert_float_eq(ev(&r, "b", "safety.weight"), 3, EPS);
	kvt_round_done(&r);
}

Test(benchmarks, runs_are_summed_in_run_order)
{
	/* 0.1 + 0.2 + 0.3 depends on the order in floating point; the mean must
	 * not depend on the order of the rows. */
	struct kvt_round r1, r2;
	setup_round(&r1);
	kvt_round_put(&r1, "s.csv", "team,benchmark,run,score\na,x,1,0.1\na,x,2,0.2\na,x,3,0.3\nb,x,1,1\nc,x,1,1\n");
	expect_ok(&r1, "scores = \"s.csv\"; scale_max = 1.0;");
	setup_round(&r2);
	kvt_round_put(&r2, "s.csv", "team,benchmark,run,score\nc,x,1,1\na,x,3,0.3\nb,x,1,1\na,x,2,0.2\na,x,1,0.1\n");
	expect_ok(&r2, "scores = \"s.csv\"; scale_max = 1.0;");
	double m1 = ev(&r1, "a", "x.mean"), m2 = ev(&r2, "a", "x.mean");
	cr_assert(memcmp(&m1, &m2, sizeof m1) == 0, "%.17g vs %.17g", m1, m2);
	cr_assert_float_eq(m1, 0.2, 1e-15);
	kvt_round_done(&r1);
	kvt_round_done(&r2);
}

Test(benchmarks, jsonl_scores)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.jsonl",
	    "{\"team\": \"a\", \"benchmark\": \"x\", \"run\": 1, \"score\": 40}\n"
	    "{\"team\": \"b\", \"benchmark\": \"x\", \"run\": 1, \"score\": 80}\n"
	    "{\"team\": \"c\", \"benchmark\": \"x\", \"score\": 20}\n");
	expect_ok(&r, "scores = \"s.jsonl\";");
	cr_assert_float_eq(value_of(&r, "a"), 0.4, EPS);
	cr_assert_float_eq(value_of(&r, "c"), 0.2, EPS);
	kvt_round_done(&r);
}

static const char *const individual_scores =
	"team,benchmark,run,score\n"
	"a,aime,1,72\n"
	"a,lcb,1,50\n"
	"b,aime,1,90\n"
	"b,ifeval,1,40\n"
	"c,lcb,1,30\n"
	"c,aime,1,99\n";

static const char *const individual_targets =
	"team,benchmark,target_model,score\n"
	"a,aime,gpt-x,80\n"
	"a,lcb,gpt-x,50\n"
	"b,aime,qwen-y,85\n"
	"b,ifeval,qwen-y,80\n"
	"c,lcb,ds-z,60\n";

Test(benchmarks, target_is_b_over_a_capped)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "ind.csv", individual_scores);
	kvt_round_put(&r, "targets.csv", individual_targets);
	expect_ok(&r, "scores = \"ind.csv\"; normalize = \"target\"; targets = \"targets.csv\";");
	/* a: aime 72/80 = 0.9 (the official example), lcb 50/50 = 1 -> 0.95. */
	cr_assert_float_eq(ev(&r, "a", "aime.ratio"), 0.9, EPS);
	cr_assert_float_eq(ev(&r, "a", "aime.target"), 80, EPS);
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "a", "aime.target_model"), "gpt-x");
	cr_assert_float_eq(value_of(&r, "a"), 0.95, EPS);
	/* b: aime 90/85 > 1, capped to 1; ifeval 40/80 = 0.5 -> 0.75. */
	cr_assert_float_eq(ev(&r, "b", "aime.ratio"), 90.0 / 85.0, EPS);
	cr_assert_float_eq(ev(&r, "b", "aime.ratio_capped"), 1, EPS);
	cr_assert_float_eq(value_of(&r, "b"), 0.75, EPS);
	/* c chose only lcb: 30/60 = 0.5; its aime row is not scored. */
	cr_assert_float_eq(value_of(&r, "c"), 0.5, EPS);
	cr_assert_float_eq(ev(&r, "c", "benchmarks"), 1, EPS);
	cr_assert(isnan(ev(&r, "c", "aime.runs")));
	cr_assert_str_eq(kv_run_outcome(r.run, "bm", "a")->unit, "ratio to target");
	kvt_round_done(&r);
}

static const char *const reference_scores =
	"team,benchmark,run,score\n"
	"a,mmlu,1,0.625\n"
	"a,err,1,0.25\n"
	"b,mmlu,1,0.1\n"
	"b,err,1,0.1\n"
	"c,mmlu,1,0.85\n"
	"c,err,1,0\n";

#define REFERENCE_PARAMS \
	"scores = \"s.csv\"; normalize = \"reference\"; reference = \"ref.csv\";" \
	" benchmarks = ( { name = \"mmlu\"; }, { name = \"err\"; higher_is_better = false; weight = 3.0; } );"

Test(benchmarks, reference_with_baseline_and_lower_is_better)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", reference_scores);
	kvt_round_put(&r, "ref.csv", "benchmark,score,baseline\nmmlu,0.85,0.25\nerr,0.2,\nother,1,\n");
	expect_ok(&r, REFERENCE_PARAMS);
	/* a: mmlu (0.625 - 0.25)/(0.85 - 0.25) = 0.625; err (lower is better) 0.2/0.25 = 0.8;
	 * weights 1 and 3 -> (0.625 + 2.4)/4 = 0.75625. */
	cr_assert_float_eq(ev(&r, "a", "mmlu.ratio"), 0.625, EPS);
	cr_assert_float_eq(ev(&r, "a", "err.ratio"), 0.8, EPS);
	cr_assert_float_eq(value_of(&r, "a"), 0.75625, EPS);
	cr_assert_float_eq(ev(&r, "a", "mmlu.baseline"), 0.25, EPS);
	/* b: mmlu below the baseline -> (0.1 - 0.25)/0.6 = -0.25, clipped to 0;
	 * err 0.2/0.1 = 2, capped to 1 -> (0 + 3)/4 = 0.75. */
	cr_assert_float_eq(ev(&r, "b", "mmlu.ratio"), -0.25, EPS);
	cr_assert_float_eq(ev(&r, "b", "mmlu.ratio_capped"), 0, EPS);
	cr_assert_float_eq(value_of(&r, "b"), 0.75, EPS);
	/* c: err 0 is perfect (ratio unbounded, capped to 1) -> 1. */
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "c", "err.ratio"), "inf");
	cr_assert_float_eq(value_of(&r, "c"), 1, EPS);
	kvt_round_done(&r);
}

Test(benchmarks, best_team_gets_one)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", "team,benchmark,score\na,x,50\nb,x,80\nc,x,40\na,y,2\nb,y,4\nc,y,8\n");
	expect_ok(&r, "scores = \"s.csv\"; normalize = \"best\";"
		      " benchmarks = ( { name = \"x\"; }, { name = \"y\"; higher_is_better = false; } );");
	/* x: best 80 -> a 0.625, b 1, c 0.5; y (lower is better): best 2 -> a 1, b 0.5, c 0.25. */
	cr_assert_float_eq(ev(&r, "a", "x.best"), 80, EPS);
	cr_assert_float_eq(ev(&r, "a", "y.best"), 2, EPS);
	cr_assert_float_eq(value_of(&r, "a"), (0.625 + 1) / 2, EPS);
	cr_assert_float_eq(value_of(&r, "b"), (1 + 0.5) / 2, EPS);
	cr_assert_float_eq(value_of(&r, "c"), (0.5 + 0.25) / 2, EPS);
	kvt_round_done(&r);
}

Test(benchmarks, cap_above_one_clips_normalized)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", "team,benchmark,score\na,x,75\na,y,55\nb,x,25\nb,y,25\nc,x,50\nc,y,50\n");
	expect_ok(&r, "scores = \"s.csv\"; scale_max = 50.0; cap = 1.2;");
	/* a: x 75/50 = 1.5 -> capped 1.2; y 55/50 = 1.1 -> value 1.15, normalized 1. */
	cr_assert_float_eq(ev(&r, "a", "x.ratio_capped"), 1.2, EPS);
	cr_assert_float_eq(value_of(&r, "a"), 1.15, EPS);
	cr_assert_float_eq(kvt_normalized(r.run, "bm", "a"), 1, EPS);
	cr_assert_float_eq(ev(&r, "a", "clipped_to_1"), 1.15, EPS);
	cr_assert_float_eq(kvt_normalized(r.run, "bm", "b"), 0.5, EPS);
	cr_assert(isnan(ev(&r, "b", "clipped_to_1")));
	kvt_round_done(&r);
}

/* --- verify ------------------------------------------------------------------ */

static const char *const verify_scores =
	"team,benchmark,run,score\n"
	"a,x,1,0.50\n"
	"a,x,2,0.52\n"
	"b,x,1,0.60\n"
	"c,x,1,0.70\n";

static const char *const verify_rows =
	"team,benchmark,score\n"
	"a,x,0.52\n"
	"b,x,0.65\n"
	"b,other,0.1\n";

Test(benchmarks, verify_reports)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", verify_scores);
	kvt_round_put(&r, "tta.csv", verify_rows);
	expect_ok(&r, "scores = \"s.csv\"; scale_max = 1.0; verify = \"tta.csv\";");
	/* a: mean 0.51, verifier 0.52: |diff| 0.01 = the tolerance -> pass.
	 * b: mean 0.60, verifier 0.65: 0.05 > 0.01 -> fail.  c: not re-run. */
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "a", "x.verify"), "pass");
	cr_assert_float_eq(ev(&r, "a", "x.verify_diff"), 0.01, 1e-12);
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "b", "x.verify"), "fail");
	cr_assert_float_eq(ev(&r, "b", "verify.failed"), 1, EPS);
	cr_assert_null(kvt_evidence_str(r.run, "bm", "c", "x.verify"));
	/* report only: the score stands. */
	cr_assert_float_eq(value_of(&r, "b"), 0.6, EPS);
	kvt_round_done(&r);
}

Test(benchmarks, verify_fail_error_stops)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", verify_scores);
	kvt_round_put(&r, "tta.csv", verify_rows);
	const char *const want[] = {"tta.csv:3: column 'score'", "team 'b'", "benchmark 'x'", NULL};
	expect_input_error(&r, "scores = \"s.csv\"; scale_max = 1.0; verify = \"tta.csv\"; verify_fail = \"error\";",
			   want);
	kvt_round_done(&r);
}

/* --- lm-evaluation-harness files ---------------------------------------------- */

#define GSM8K_PARAMS \
	"scores = \"runs\"; scale_max = 1.0;" \
	" benchmarks = ( { name = \"gsm8k\"; metric = \"exact_match,strict-match\"; } );"

/* Each team folder holds the real results file and its samples file, unchanged. */
static void put_olot_teams(struct kvt_round *r)
{
	const char *teams[] = {"a", "b", "c"};
	for (size_t i = 0; i < 3; i++) {
		char *res = kv_xasprintf("runs/%s/%s", teams[i], OLOT);
		char *smp = kv_xasprintf("runs/%s/%s", teams[i], SAMPLES);
		put_fixture(r, OLOT, res);
		put_fixture(r, SAMPLES, smp);
		free(res);
		free(smp);
	}
	kvt_round_put(r, "runs/README.md", "a plain file among the team folders is left alone\n");
}

Test(benchmarks, lmeval_real_file)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	/* A second run for team a, written the way the harness writes it, with --limit 100. */
	kvt_round_put(&r, "runs/a/results_2025-05-01T00-00-00.000000.json",
	    "{\n  \"results\": {\n    \"gsm8k\": {\n      \"alias\": \"gsm8k\",\n"
	    "      \"exact_match,strict-match\": 0.5,\n      \"exact_match_stderr,strict-match\": \"N/A\"\n    }\n  },\n"
	    "  \"higher_is_better\": {\"gsm8k\": {\"exact_match\": true}},\n"
	    "  \"n-samples\": {\"gsm8k\": {\"original\": 1319, \"effective\": 100}},\n"
	    "  \"versions\": {\"gsm8k\": 3.0}\n}\n");
	expect_ok(&r, GSM8K_PARAMS);
	/* The real file: results.gsm8k."exact_match,strict-match" = 0.0, n-samples 1319,
	 * version 3.0.  a: runs 0.0 and 0.5 -> mean 0.25, sd sqrt(2 * 0.25^2 / 1). */
	cr_assert_float_eq(ev(&r, "b", "gsm8k.runs"), 1, EPS);
	cr_assert_float_eq(ev(&r, "b", "gsm8k.mean"), 0, EPS);
	cr_assert_float_eq(ev(&r, "b", "gsm8k.n_samples"), 1319, EPS);
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "b", "gsm8k.version"), "3");
	cr_assert(isnan(ev(&r, "b", "gsm8k.limited")));
	cr_assert_float_eq(ev(&r, "a", "gsm8k.runs"), 2, EPS);
	cr_assert_float_eq(ev(&r, "a", "gsm8k.mean"), 0.25, EPS);
	cr_assert_float_eq(ev(&r, "a", "gsm8k.sd"), sqrt(0.125), EPS);
	cr_assert_float_eq(ev(&r, "a", "gsm8k.n_samples"), 100, EPS);
	cr_assert_float_eq(ev(&r, "a", "gsm8k.limited"), 1, EPS);
	cr_assert_float_eq(value_of(&r, "a"), 0.25, EPS);
	kvt_round_done(&r);
}

Test(benchmarks, lmeval_legacy_file)
{
	struct kvt_round r;
	setup_round(&r);
	put_fixture(&r, LEGACY, "runs/a/" LEGACY);
	put_fixture(&r, LEGACY, "runs/b/" LEGACY);
	put_fixture(&r, LEGACY, "runs/c/" LEGACY);
	expect_ok(&r, "scores = \"runs\"; files = \"*.json\"; scale_max = 1.0;"
		      " benchmarks = ( { name = \"arc_easy\"; metric = \"acc\"; },"
		      " { name = \"hs\"; task = \"hellaswag\"; metric = \"acc_norm\"; } );");
	/* From the file: arc_easy.acc 0.7487373737373737, hellaswag.acc_norm 0.761202947619996. */
	cr_assert_float_eq(ev(&r, "a", "arc_easy.mean"), 0.7487373737373737, EPS);
	cr_assert_float_eq(ev(&r, "a", "hs.mean"), 0.761202947619996, EPS);
	cr_assert_float_eq(value_of(&r, "c"), (0.7487373737373737 + 0.761202947619996) / 2, EPS);
	cr_assert_str_eq(kvt_evidence_str(r.run, "bm", "a", "hs.version"), "0");
	cr_assert(isnan(ev(&r, "a", "hs.n_samples")));
	kvt_round_done(&r);
}

Test(benchmarks, lmeval_group_and_team_template)
{
	struct kvt_round r;
	setup_round(&r);
	/* A group score kept only under "groups"; folders named by a {team} path. */
	const char *fmt = "{\"results\": {\"mmlu_stem\": {\"acc,none\": 0.1}},"
			  " \"groups\": {\"mmlu\": {\"acc,none\": %s, \"sample_count\": {\"acc,none\": 14042}}},"
			  " \"group_subtasks\": {\"mmlu\": [\"mmlu_stem\"]}}\n";
	const char *scores[] = {"0.6", "0.3", "0.9"};
	const char *teams[] = {"a", "b", "c"};
	for (size_t i = 0; i < 3; i++) {
		char *text = kv_xasprintf(fmt, scores[i]);
		char *rel = kv_xasprintf("lm/%s-results/results_1.json", teams[i]);
		kvt_round_put(&r, rel, text);
		free(text);
		free(rel);
	}
	expect_ok(&r, "scores = \"lm/{team}-results\"; normalize = \"best\";"
		      " benchmarks = ( { name = \"mmlu\"; metric = \"acc,none\"; } );");
	/* best 0.9: a 0.6/0.9, b 0.3/0.9, c 1. */
	cr_assert_float_eq(value_of(&r, "a"), 0.6 / 0.9, EPS);
	cr_assert_float_eq(value_of(&r, "b"), 0.3 / 0.9, EPS);
	cr_assert_float_eq(value_of(&r, "c"), 1, EPS);
	kvt_round_done(&r);
}

/* --- bad input: each exits 2 and names the file, line and field --------------- */

Test(benchmarks, bad_missing_benchmark_for_team)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\na,safety,1,80\nb,math,1,50\n"
			   "c,math,1,100\nc,safety,1,70\n");
	const char *const want[] = {"nia.csv", "team 'b'", "benchmark 'safety'", NULL};
	expect_input_error(&r, "scores = \"nia.csv\"; benchmarks = ( { name = \"math\"; }, { name = \"safety\"; } );",
			   want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_metric_absent_from_lmeval_file)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	const char *const want[] = {"runs/a/" OLOT, "results.gsm8k", "'acc,none'",
				    "exact_match,strict-match", NULL};
	expect_input_error(&r, "scores = \"runs\"; scale_max = 1.0;"
			       " benchmarks = ( { name = \"gsm8k\"; metric = \"acc,none\"; } );", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_direction_disagrees_with_lmeval_file)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	const char *const want[] = {"runs/a/" OLOT, "higher_is_better.gsm8k.exact_match", "r.cfg:5", NULL};
	expect_input_error(&r, "scores = \"runs\"; normalize = \"best\"; benchmarks = ( { name = \"gsm8k\";"
			       " metric = \"exact_match,strict-match\"; higher_is_better = false; } );", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_non_numeric_score)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\na,math,2,abc\nb,math,1,1\nc,math,1,1\n");
	const char *const want[] = {"nia.csv:3: column 'score'", "'abc' is not a number", NULL};
	expect_input_error(&r, "scores = \"nia.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_negative_score)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\na,math,2,-5\nb,math,1,1\nc,math,1,1\n");
	const char *const want[] = {"nia.csv:3: column 'score'", "negative score -5", NULL};
	expect_input_error(&r, "scores = \"nia.csv\";", want);
	kvt_round_done(&r);
}

/* A finite but huge score would overflow the mean or the ratio later,
 * where no file or line is known: refused where it is read. */
Test(benchmarks, bad_huge_score)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\na,math,2,1e300\nb,math,1,1\nc,math,1,1\n");
	const char *const want[] = {"nia.csv:3: column 'score'", "score 1e300 is beyond 1e+15", NULL};
	expect_input_error(&r, "scores = \"nia.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_zero_target)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "ind.csv", individual_scores);
	kvt_round_put(&r, "targets.csv", "team,benchmark,target_model,score\na,aime,gpt-x,80\na,lcb,gpt-x,0\n"
			       "b,aime,qwen-y,85\nc,lcb,ds-z,60\n");
	const char *const want[] = {"targets.csv:3: column 'score'", "score 0", NULL};
	expect_input_error(&r, "scores = \"ind.csv\"; normalize = \"target\"; targets = \"targets.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_missing_target)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "ind.csv", individual_scores);
	kvt_round_put(&r, "targets.csv", "team,benchmark,target_model,score\na,aime,gpt-x,80\nb,aime,qwen-y,\n"
			       "c,lcb,ds-z,60\n");
	const char *const want[] = {"targets.csv:3: column 'score'", "missing score", NULL};
	expect_input_error(&r, "scores = \"ind.csv\"; normalize = \"target\"; targets = \"targets.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_team_without_target)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "ind.csv", individual_scores);
	kvt_round_put(&r, "targets.csv", "team,benchmark,target_model,score\na,aime,gpt-x,80\nb,aime,qwen-y,85\n");
	const char *const want[] = {"targets.csv", "no target for team 'c'", NULL};
	expect_input_error(&r, "scores = \"ind.csv\"; normalize = \"target\"; targets = \"targets.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_zero_reference)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", reference_scores);
	kvt_round_put(&r, "ref.csv", "benchmark,score,baseline\nmmlu,0.85,0.25\nerr,0,\n");
	const char *const want[] = {"ref.csv:3: column 'score'", "score 0", NULL};
	expect_input_error(&r, REFERENCE_PARAMS, want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_missing_reference)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "s.csv", reference_scores);
	kvt_round_put(&r, "ref.csv", "benchmark,score,baseline\nmmlu,0.85,0.25\n");
	const char *const want[] = {"ref.csv", "no reference score for benchmark 'err'", NULL};
	expect_input_error(&r, REFERENCE_PARAMS, want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_duplicate_run)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\na,math,2,61\na,math,1,62\nb,math,1,1\nc,math,1,1\n");
	const char *const want[] = {"nia.csv:4: column 'run'", "team 'a'", "benchmark 'math'", "run '1'",
				    "first at nia.csv:2", NULL};
	expect_input_error(&r, "scores = \"nia.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_malformed_json)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	/* The second comma on line 3 (column 16) is the error; cJSON reports the
	 * column after it, so only the line is asserted. */
	kvt_round_put(&r, "runs/b/results_2025-05-02T00-00-00.000000.json",
	    "{\n  \"results\": {\n    \"gsm8k\": 1,, \"x\": 2\n  }\n}\n");
	const char *const want[] = {"runs/b/results_2025-05-02T00-00-00.000000.json:3:", "JSON syntax error", NULL};
	expect_input_error(&r, GSM8K_PARAMS, want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_truncated_json)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	/* The real file cut after 1000 bytes: the error is at its end. */
	char *path = kvt_src("tests/data/benchmarks/lm-eval/" OLOT);
	char *text = kvt_read(path);
	text[1000] = '\0';
	long lines = 1, col = 1;
	for (size_t i = 0; i < 1000; i++) {
		col = text[i] == '\n' ? 1 : col + 1;
		lines += text[i] == '\n';
	}
	kvt_round_put(&r, "runs/c/" OLOT, text);
	char *at = kv_xasprintf("runs/c/" OLOT ":%ld:%ld", lines, col);
	const char *const want[] = {at, "ends too early", NULL};
	expect_input_error(&r, GSM8K_PARAMS, want);
	free(at);
	free(text);
	free(path);
	kvt_round_done(&r);
}

Test(benchmarks, bad_team_not_in_round)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", "team,benchmark,run,score\na,math,1,60\nzz,math,1,70\nb,math,1,1\nc,math,1,1\n");
	const char *const want[] = {"nia.csv:3: column 'team'", "team 'zz' is not in this round", NULL};
	expect_input_error(&r, "scores = \"nia.csv\";", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_team_folder_not_in_round)
{
	struct kvt_round r;
	setup_round(&r);
	put_olot_teams(&r);
	put_fixture(&r, OLOT, "runs/zz/" OLOT);
	const char *const want[] = {"runs/zz", "folder 'zz' is not a team", NULL};
	expect_input_error(&r, GSM8K_PARAMS, want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_unknown_benchmarks_member)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", nia_scores);
	const char *const want[] = {"r.cfg:5", "'wieght'", "unknown key", NULL};
	expect_input_error(&r, "scores = \"nia.csv\"; benchmarks = ( { name = \"math\"; wieght = 2.0; } );", want);
	kvt_round_done(&r);
}

Test(benchmarks, bad_targets_without_target_normalize)
{
	struct kvt_round r;
	setup_round(&r);
	kvt_round_put(&r, "nia.csv", nia_scores);
	kvt_round_put(&r, "targets.csv", individual_targets);
	const char *const want[] = {"r.cfg:5", "'targets'", "normalize = \"target\"", NULL};
	expect_input_error(&r, "scores = \"nia.csv\"; targets = \"targets.csv\";", want);
	kvt_round_done(&r);
}

/* --- the real binary and the built .so ------------------------------------------ */

static char *e2e_round(const char *dir, const char *scores)
{
	kvt_write(dir, "d/ind.csv", scores);
	kvt_write(dir, "d/targets.csv", "team,benchmark,target_model,score\na,aime,gpt-x,80\n"
					"b,aime,gpt-x,80\nc,aime,gpt-x,80\n");
	char *text = config_text("scores = \"ind.csv\"; normalize = \"target\"; targets = \"targets.csv\";");
	kvt_write(dir, "r.cfg", text);
	free(text);
	return kv_xasprintf("%s/r.cfg", dir);
}

Test(benchmarks, e2e_binary_writes_result)
{
	char *dir = kvt_tempdir();
	char *cfg = e2e_round(dir, "team,benchmark,run,score\na,aime,1,72\nb,aime,1,80\nc,aime,1,40\n");
	char *out = kv_xasprintf("%s/out.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	char *json = kvt_read(out);
	cr_assert_not_null(json);
	/* 72/80 = 0.9, the official example. */
	cr_assert_not_null(strstr(json, "\"value\": 0.9,"), "%s", json);
	cr_assert_not_null(strstr(json, "\"unit\": \"ratio to target\""));
	cr_assert_not_null(strstr(json, "\"aime.target_model\": \"gpt-x\""));
	free(json);
	free(err);
	free(out);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(benchmarks, e2e_bad_file_exits_2_and_writes_nothing)
{
	char *dir = kvt_tempdir();
	char *cfg = e2e_round(dir, "team,benchmark,run,score\na,aime,1,72\nb,aime,1,eighty\nc,aime,1,40\n");
	char *out = kv_xasprintf("%s/out.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err);
	cr_assert_not_null(strstr(err, "ind.csv:3: column 'score'"), "%s", err);
	cr_assert(!kvt_exists(out));
	free(err);
	free(out);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(benchmarks, e2e_plugins_describes_params)
{
	const char *args[] = {"plugins", "benchmarks", NULL};
	char *out = NULL;
	int rc = kvt_exec(args, &out, NULL);
	cr_assert_eq(rc, 0);
	const char *names[] = {"scores", "benchmarks", "normalize", "scale_max", "targets", "reference", "cap",
			       "verify", "verify_tolerance", "verify_fail", "target_share", "files", NULL};
	for (size_t i = 0; names[i]; i++) {
		char *line = kv_xasprintf("\n  %s ", names[i]);
		cr_assert_not_null(strstr(out, line), "param %s missing in:\n%s", names[i], out);
		free(line);
	}
	cr_assert_not_null(strstr(out, "scale|target|reference|best"));
	free(out);
}

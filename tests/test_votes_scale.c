/* Tests of the votes plugin's pairwise method at scale: the bootstrap over
 * classes of judges against a naive one (tests/data/votes/
 * naive_bootstrap.py, stdlib Python), the battle bootstrap against Chatbot
 * Arena's published numbers, the exact draws, anchors, reference_model,
 * unknown_models, prior and the judges' classes.
 *
 * Expected values are worked out by hand in the comments next to them, or
 * come from the independent programs named. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "support.h"
#include "../plugins/votes/votes.h"

extern const struct kv_plugin kaieval_plugin_votes;

#define TEAMS_AB "teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, " \
	"{ id = \"b\"; name = \"B\"; model = \"mb\"; } );\n"

static int run_round(struct kvt_round *r, const char *teams, const char *criteria)
{
	char *cfg = kv_xasprintf("round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\";"
				 " seed = 7L;\n%s criteria = ( %s );\n selection = { advance = 1; }; };\n",
				 teams, criteria);
	kvt_round_run(r, cfg);
	free(cfg);
	return r->rc;
}

static void expect_error(struct kvt_round *r, const char *a, const char *b)
{
	cr_assert_eq(r->rc, 2, "status %d (%s)", r->rc, r->err.msg);
	cr_expect(strstr(r->err.msg, a), "'%s' not in: %s", a, r->err.msg);
	cr_expect(strstr(r->err.msg, b), "'%s' not in: %s", b, r->err.msg);
}

static void add(struct kv_buf *buf, int n, const char *a, const char *b, const char *winner, const char *judge)
{
	static int question;
	for (int i = 0; i < n; i++)
		kv_buf_printf(buf, "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"%s\", \"judge\": \"%s\","
			      " \"question_id\": \"q%d\"}\n", a, b, winner, judge, ++question);
}

/* The data test_votes.c fits by hand: g = (9, 3, 1)/13 for ma, mb, mc. */
static void three_models(struct kv_buf *buf)
{
	add(buf, 3, "ma", "mb", "model_a", "j1");
	add(buf, 1, "mb", "ma", "model_a", "j2");
	add(buf, 2, "mb", "mc", "model_a", "j1");
	add(buf, 1, "mc", "mb", "model_b", "j3");
	add(buf, 1, "mb", "mc", "model_b", "j2");
	add(buf, 9, "mc", "ma", "model_b", "j3");
	add(buf, 1, "ma", "mc", "model_b", "j1");
}

#define ARENA(extra) "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;" \
	" params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 20;" \
	" models = { a = \"ma\"; b = \"mb\"; };" extra " }; }"

static void run_three(struct kvt_round *r, const char *extra, const char *more)
{
	struct kv_buf buf = {0};
	kvt_round_init(r, &kaieval_plugin_votes);
	three_models(&buf);
	if (more)
		kv_buf_puts(&buf, more);
	kvt_round_put(r, "b.jsonl", buf.data);
	char *crit = kv_xasprintf(ARENA("%s"), extra);
	run_round(r, TEAMS_AB, crit);
	free(crit);
	kv_buf_free(&buf);
}

/* --- anchors, reference_model, unknown_models, prior ---------------------------- */

/* mc as an anchor: the fit is the same, so a's mean win probability over
 * the others is (3/4 + 9/10)/2 = 0.825 and b's (1/4 + 3/4)/2 = 0.5; the
 * anchor is in the round's evidence (Elo 1000 - 400 log10 3). */
Test(votes_scale, an_anchor_takes_part_in_the_fit)
{
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\" ];", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "a"), 0.825, 1e-10);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "b"), 0.5, 1e-10);
	cr_expect_float_eq(kvt_round_evidence_num(r.run, "arena", "anchor mc elo"), 1000 - 190.848501887865, 1e-8);
	kvt_round_done(&r);
}

/* Against the anchor: a 9/(9+1) = 0.9, b 3/(3+1) = 0.75. */
Test(votes_scale, reference_model_may_be_an_anchor)
{
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\" ]; reference_model = \"mc\";", NULL);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "a"), 0.9, 1e-10);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "b"), 0.75, 1e-10);
	kvt_round_done(&r);
}

Test(votes_scale, a_team_model_is_no_anchor)
{
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\", \"mb\" ];", NULL);
	expect_error(&r, "anchors", "'mb' is team 'b''s model");
	kvt_round_done(&r);
}

Test(votes_scale, unknown_reference_model)
{
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\" ]; reference_model = \"zz\";", NULL);
	expect_error(&r, "reference_model", "'zz' is neither");
	kvt_round_done(&r);
}

Test(votes_scale, an_anchor_in_no_battle)
{
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\", \"md\" ];", NULL);
	expect_error(&r, "anchors", "'md' is in no counted battle");
	kvt_round_done(&r);
}

/* Battles of a model that is neither a team's nor an anchor: an error by
 * default, counted and left out with unknown_models = "ignore". */
Test(votes_scale, unknown_models_ignored_and_counted)
{
	static const char more[] =
		"{\"model_a\": \"ma\", \"model_b\": \"mz\", \"winner\": \"model_b\", \"judge\": \"j9\"}\n"
		"{\"model_a\": \"my\", \"model_b\": \"mz\", \"winner\": \"tie\", \"judge\": \"j9\"}\n";
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\" ]; unknown_models = \"ignore\";", more);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "a"), 0.825, 1e-10);
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "excluded_unknown_model"), 2);
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "ballots_counted"), 18);
	kvt_round_done(&r);
	run_three(&r, " anchors = [ \"mc\" ];", more);
	expect_error(&r, "unknown model 'mz'", "unknown_models");
	kvt_round_done(&r);
}

/* a only wins (2 over b): no estimate without a prior; with prior = 1 (a
 * tie, 1 each way in doubled counts) the table is a: 2*2 + 1 = 5 over b's
 * 1, so g_a/g_b = 5 and P(a beats b) = 5/6. */
Test(votes_scale, a_model_that_only_wins_needs_the_prior)
{
	struct kv_buf buf = {0};
	struct kvt_round r;
	add(&buf, 2, "ma", "mb", "model_a", "j1");
	kvt_round_init(&r, &kaieval_plugin_votes);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_AB, ARENA(""));
	expect_error(&r, "does not exist", "param 'prior'");
	kvt_round_done(&r);
	kvt_round_init(&r, &kaieval_plugin_votes);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_AB, ARENA(" prior = 1.0;"));
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(kvt_normalized(r.run, "arena", "a"), 5.0 / 6.0, 1e-10);
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "prior_ties"), 1);
	kvt_round_done(&r);
	kv_buf_free(&buf);
}

/* Judges with the same ballots form one class: j4 and j5 each cast one
 * "ma beats mb", j6 casts one "mb beats ma" (different questions, so no
 * duplicates); with j1..j3 (all different) that is 5 classes of 6 judges.
 * b's judges: j1, j2, j3 (three_models) and j4, j5, j6. */
Test(votes_scale, judges_with_equal_ballots_share_a_class)
{
	struct kv_buf more = {0};
	struct kvt_round r;
	add(&more, 1, "ma", "mb", "model_a", "j4");
	add(&more, 1, "mb", "ma", "model_b", "j5");
	add(&more, 1, "ma", "mb", "model_b", "j6");
	run_three(&r, " anchors = [ \"mc\" ];", more.data);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "judges"), 6);
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "judge_classes"), 5);
	cr_expect_eq(kvt_evidence_num(r.run, "arena", "b", "judges"), 6);
	cr_expect_eq(kvt_evidence_num(r.run, "arena", "a", "judges"), 6);
	kvt_round_done(&r);
	kv_buf_free(&more);
}

/* --- the Arena sample -------------------------------------------------------------- */

static const char *const models[] = {"model-alpha", "model-bravo", "model-charlie", "mixtral-8x7b-instruct-v0.1",
				     "model-echo", "model-foxtrot", "model-golf", "model-hotel"};
#define K 8

static cJSON *load_json(const char *rel)
{
	char *path = kvt_src(rel), *text = kvt_read(path);
	cr_assert_not_null(text, "%s", path);
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j, "%s does not parse", path);
	free(text);
	free(path);
	return j;
}

/* The eight Arena models as teams t0..t7 over battles_3k.json. */
static void run_sample(struct kvt_round *r, const char *extra)
{
	struct kv_buf cfg = {0};
	char *path = kvt_src("tests/data/votes/battles_3k.json"), *text = kvt_read(path);
	kvt_round_init(r, &kaieval_plugin_votes);
	kvt_round_put(r, "b.json", text);
	kv_buf_puts(&cfg, "teams = (");
	for (int i = 0; i < K; i++)
		kv_buf_printf(&cfg, "%s{ id = \"t%d\"; name = \"T\"; model = \"m\"; }", i ? ", " : "", i);
	kv_buf_puts(&cfg, ");\n");
	char *crit = kv_xasprintf("{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0; params = {"
				  " method = \"pairwise\"; battles = \"b.json\"; %s models = { t0 = \"%s\"; t1 = \"%s\";"
				  " t2 = \"%s\"; t3 = \"%s\"; t4 = \"%s\"; t5 = \"%s\"; t6 = \"%s\"; t7 = \"%s\"; }; }; }",
				  extra, models[0], models[1], models[2], models[3], models[4], models[5], models[6],
				  models[7]);
	run_round(r, cfg.data, crit);
	cr_assert_eq(r->rc, 0, "%s", r->err.msg);
	free(crit);
	free(path);
	free(text);
	kv_buf_free(&cfg);
}

static const char *team(int i)
{
	static const char *const ids[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"};
	return ids[i];
}

/* The judge bootstrap over classes against the naive one (each replicate
 * draws 200 judges and refits), both 2000 replicates from different
 * streams: a 2.5% point's Monte Carlo error is about 0.06 sd for each, so
 * they agree within 0.1 of the interval's width (about 0.4 sd). */
Test(votes_scale, judge_bootstrap_agrees_with_a_naive_one, .timeout = 60)
{
	cJSON *naive = load_json("tests/data/votes/naive_bootstrap.json");
	const cJSON *elo = cJSON_GetObjectItem(naive, "elo");
	struct kvt_round r;
	run_sample(&r, "bootstrap = 2000;");
	for (int i = 0; i < K; i++) {
		const cJSON *m = cJSON_GetObjectItem(elo, models[i]);
		double lo = kvt_evidence_num(r.run, "arena", team(i), "elo_q025");
		double hi = kvt_evidence_num(r.run, "arena", team(i), "elo_q975"), tol = 0.1 * (hi - lo);
		cr_expect_float_eq(lo, cJSON_GetObjectItem(m, "elo_q025")->valuedouble, tol, "%s", models[i]);
		cr_expect_float_eq(hi, cJSON_GetObjectItem(m, "elo_q975")->valuedouble, tol, "%s", models[i]);
	}
	cr_expect_eq(kvt_round_evidence_num(r.run, "arena", "bootstrap_undetermined"), 0);
	kvt_round_done(&r);
	cJSON_Delete(naive);
}

/* The battle bootstrap against FastChat's (a multinomial over the unique
 * outcome rows, 100 rounds, ratings anchored at mixtral = 1114): with
 * reference_model = mixtral, elo - reference + 1114 is its scale.  Its 100
 * rounds make each of its 2.5% points uncertain by about 0.27 sd, so they
 * agree within one sd (the width / 3.92). */
Test(votes_scale, battle_bootstrap_agrees_with_chatbot_arena, .timeout = 60)
{
	cJSON *expected = load_json("tests/data/votes/expected_fastchat.json");
	const cJSON *boot = cJSON_GetObjectItem(expected, "bootstrap_bt");
	const cJSON *q025 = cJSON_GetObjectItem(boot, "q025"), *q975 = cJSON_GetObjectItem(boot, "q975");
	struct kvt_round r;
	char *extra = kv_xasprintf("bootstrap = 1000; bootstrap_unit = \"battle\"; reference_model = \"%s\";", models[3]);
	run_sample(&r, extra);
	for (int i = 0; i < K; i++) {
		if (i == 3)
			continue; /* the anchor: 1114 in every replicate on both sides */
		double lo = kvt_evidence_num(r.run, "arena", team(i), "elo_minus_reference_q025") + 1114;
		double hi = kvt_evidence_num(r.run, "arena", team(i), "elo_minus_reference_q975") + 1114;
		double sd = (hi - lo) / 3.92;
		cr_expect_float_eq(lo, cJSON_GetObjectItem(q025, models[i])->valuedouble, sd, "%s", models[i]);
		cr_expect_float_eq(hi, cJSON_GetObjectItem(q975, models[i])->valuedouble, sd, "%s", models[i]);
	}
	kvt_round_done(&r);
	free(extra);
	cJSON_Delete(expected);
}

/* Every interval, bootstrap or sandwich, holds the estimate. */
Test(votes_scale, intervals_hold_the_estimate)
{
	struct kvt_round r;
	run_sample(&r, "bootstrap = 200;");
	for (int i = 0; i < K; i++) {
		double elo = kvt_evidence_num(r.run, "arena", team(i), "elo");
		cr_expect_lt(kvt_evidence_num(r.run, "arena", team(i), "elo_q025"), elo);
		cr_expect_gt(kvt_evidence_num(r.run, "arena", team(i), "elo_q975"), elo);
		cr_expect_lt(kvt_evidence_num(r.run, "arena", team(i), "elo_sandwich_lo"), elo);
		cr_expect_gt(kvt_evidence_num(r.run, "arena", team(i), "elo_sandwich_hi"), elo);
	}
	kvt_round_done(&r);
}

/* --- exact draws ---------------------------------------------------------------- */

/* log, exp and sqrt written with + - * / agree with libm to a few ulps. */
Test(votes_scale, own_log_exp_sqrt)
{
	for (double x = 1e-300; x < 1e300; x *= 1.7) {
		cr_expect_float_eq(votes_log(x), log(x), 4e-16 * fmax(1, fabs(log(x))), "log %g", x);
		cr_expect_float_eq(votes_sqrt(x), sqrt(x), 4e-16 * sqrt(x), "sqrt %g", x);
	}
	for (double x = -700; x < 700; x += 0.93)
		cr_expect_float_eq(votes_exp(x), exp(x), 2e-15 * exp(x), "exp %g", x);
}

/* Binomial(20, 3/10) by inversion and Binomial(400, 1/4) by BTRS: 10^5
 * draws each, chi-square against the exact probabilities (cells with an
 * expected count below 5 pooled) below its 99.9% point (Wilson-Hilferty:
 * df (1 - 2/(9 df) + 3.09 sqrt(2/(9 df)))^3).  The seed is fixed: the
 * test is deterministic. */
static void expect_binomial(uint64_t n, uint64_t part, uint64_t whole)
{
	struct kv_rng rng = {{5, 6, 7, 8}};
	double p = (double)part / (double)whole, *pmf = calloc(n + 1, sizeof *pmf);
	uint64_t *seen = calloc(n + 1, sizeof *seen), draws = 100000;
	pmf[0] = pow(1 - p, (double)n);
	for (uint64_t x = 1; x <= n; x++)
		pmf[x] = pmf[x - 1] * (double)(n - x + 1) / (double)x * p / (1 - p);
	for (uint64_t i = 0; i < draws; i++) {
		uint64_t x = votes_binomial(&rng, n, part, whole);
		cr_assert_leq(x, n);
		seen[x]++;
	}
	double chi2 = 0, e = 0, o = 0;
	int cells = 0;
	for (uint64_t x = 0; x <= n; x++) {
		e += pmf[x] * (double)draws;
		o += (double)seen[x];
		if (e >= 5 || x == n) {
			chi2 += (o - e) * (o - e) / e;
			cells++;
			e = o = 0;
		}
	}
	double df = cells - 1, limit = df * pow(1 - 2 / (9 * df) + 3.09 * sqrt(2 / (9 * df)), 3);
	cr_expect_lt(chi2, limit, "n %llu p %g: chi2 %g over %d cells", (unsigned long long)n, p, chi2, cells);
	free(pmf);
	free(seen);
}

Test(votes_scale, binomial_draws_follow_the_binomial)
{
	expect_binomial(20, 3, 10);
	expect_binomial(400, 1, 4);
	expect_binomial(400, 3, 4); /* by symmetry: n - Binomial(n, 1/4) */
}

/* Large n: mean and variance within 5 standard errors (10^4 draws). */
Test(votes_scale, binomial_large_n)
{
	struct kv_rng rng = {{9, 10, 11, 12}};
	double n = 10000000, p = 7.0 / 1000, s = 0, s2 = 0, draws = 10000;
	for (int i = 0; i < (int)draws; i++) {
		double x = (double)votes_binomial(&rng, (uint64_t)n, 7, 1000);
		s += x;
		s2 += x * x;
	}
	double mean = s / draws, var = s2 / draws - mean * mean, v = n * p * (1 - p);
	cr_expect_lt(fabs(mean - n * p), 5 * sqrt(v / draws), "mean %g", mean);
	cr_expect_lt(fabs(var - v), 5 * v * sqrt(2 / draws), "var %g", var);
	cr_expect_eq(votes_binomial(&rng, 5, 0, 9), 0);
	cr_expect_eq(votes_binomial(&rng, 5, 9, 9), 5);
}

/* Two judges, one class each: j1 cast `many` ballots "a beats b", j2
 * many/3 "b beats a".  A replicate draws two judges: both (probability
 * 1/2; the table is 3:1, so P(a beats b) = 3/4) or one of them twice (no
 * estimate).  With many = 3 * 10^9 the sums pass 32 bits and take the
 * 64-bit path; with many = 3 the 32-bit one: the same values. */
static void two_judges(uint32_t many, double *share_ok)
{
	uint32_t size[2] = {1, 1}, code[2] = {votes_code(2, 0, 1, VOTES_LO_WON), votes_code(2, 0, 1, VOTES_HI_WON)};
	uint32_t mult[2] = {many, many / 3};
	size_t first[3] = {0, 1, 2};
	struct votes_classes C = {.count = 2, .units = 2, .size = size, .first = first, .code = code, .mult = mult};
	double g0[2] = {0.75, 0.25}, w0[4] = {0, 2.0 * many, 2.0 * (many / 3), 0}, elo[2 * 64], norm[2 * 64];
	unsigned char ok[64];
	struct kv_rng streams[64];
	struct kv_rng seeder = {{1, 2, 3, 4}};
	for (int r = 0; r < 64; r++) /* distinct, well-mixed states */
		for (int i = 0; i < 4; i++)
			streams[r].s[i] = kv_rng_next(&seeder);
	struct votes_boot B = {.k = 2, .ref = 2, .rounds = 64, .C = &C, .g0 = g0, .w0 = w0, .streams = streams,
			       .elo = elo, .norm = norm, .ok = ok};
	cr_assert_eq(votes_boot_run(&B), 0);
	int n = 0;
	for (int r = 0; r < 64; r++) {
		n += ok[r];
		if (ok[r])
			cr_expect_float_eq(norm[2 * r], 0.75, 1e-12, "replicate %d", r);
	}
	*share_ok = n / 64.0;
}

Test(votes_scale, sums_past_32_bits_are_exact)
{
	double wide, narrow;
	two_judges(3000000000u, &wide);
	two_judges(3, &narrow);
	cr_expect_eq(wide, narrow, "the same draws either way");
	cr_expect_gt(wide, 0.3);
	cr_expect_lt(wide, 0.7);
}

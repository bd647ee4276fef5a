/* Selection (round-config.md, "Selection"): gates, ranks with ties and
 * tie-breaks, min_total, eliminate_lowest / advance, unresolved ties.
 * Every expected number below is worked out by hand in the comments. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "record.h"
#include "support.h"

extern const struct kv_plugin kaieval_plugin_table;

static char *dir;

static void setup(void)
{
	dir = kvt_tempdir();
	kv_register_builtin(&kaieval_plugin_table);
}

static void teardown(void)
{
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(selection, .init = setup, .fini = teardown);

/* Two score criteria p (60 points, group g) and q (40 points), and a gate k. */
#define CRITERIA \
	"    { id = \"k\"; plugin = \"table\"; kind = \"gate\"; params = { file = \"k.csv\"; }; },\n" \
	"    { id = \"p\"; plugin = \"table\"; kind = \"score\"; points = 60.0; group = \"g\"; params = { file = \"p.csv\"; }; },\n" \
	"    { id = \"q\"; plugin = \"table\"; kind = \"score\"; points = 40.0; params = { file = \"q.csv\"; }; }"

static void write_scores(const char *p, const char *q, const char *k)
{
	char *text = kv_xasprintf("team,value,normalized\n%s", p);
	kvt_write(dir, "data/p.csv", text);
	free(text);
	text = kv_xasprintf("team,value,normalized\n%s", q);
	kvt_write(dir, "data/q.csv", text);
	free(text);
	text = kv_xasprintf("team,value,pass\n%s", k ? k : "a,1,1\nb,1,1\nc,1,1\nd,1,1\n");
	kvt_write(dir, "data/k.csv", text);
	free(text);
}

static int run_with(const char *selection, struct kv_run **run, struct kv_error *err)
{
	char *cfg = kvt_config(CRITERIA, selection);
	kvt_write(dir, "r.cfg", cfg);
	free(cfg);
	char *path = kv_xasprintf("%s/r.cfg", dir);
	int rc = kvt_run(path, run, err);
	free(path);
	return rc;
}

static const struct kv_standing *st(struct kv_run *run, const char *team)
{
	const struct kv_standing *s = kv_run_standing(run, team);
	cr_assert(s, "no standing for %s", team);
	return s;
}

/* reason: the record's words ("lowest_total", "gate:k"), or NULL for none. */
static void expect(struct kv_run *run, const char *team, long rank, const char *reason)
{
	const struct kv_standing *s = st(run, team);
	char *got = kv_run_reason(run, (size_t)kv_round_team_index(run->round, team));
	cr_expect_eq(s->rank, rank, "%s: rank %ld, expected %ld", team, s->rank, rank);
	if (reason)
		cr_expect(got && strcmp(got, reason) == 0, "%s: reason %s, expected %s",
			  team, got ? got : "null", reason);
	else
		cr_expect(got == NULL && s->reason == KV_REASON_NONE, "%s: unexpected reason %s", team, got);
	cr_expect_eq(s->status, reason ? KV_ELIMINATED : KV_ADVANCE, "%s: status", team);
	free(got);
}

/* The id of a criterion of the run (for typed standings, which hold indices). */
static const char *criterion_id(struct kv_run *run, size_t c)
{
	cr_assert_lt(c, run->round->criterion_count);
	return run->round->criteria[c].id;
}

Test(selection, totals_are_weighted_sums)
{
	/* a: 0.5*60 + 0.25*40 = 40; b: 1*60 + 0*40 = 60; c: 0*60 + 0.75*40 = 30;
	 * d: 0.1*60 + 0.1*40 = 10. Group g holds p only: a has 30 there. */
	write_scores("a,0,0.5\nb,0,1\nc,0,0\nd,0,0.1\n", "a,0,0.25\nb,0,0\nc,0,0.75\nd,0,0.1\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 0, "%s", err.msg);
	cr_expect_float_eq(st(run, "a")->total, 40.0, 1e-12);
	cr_expect_float_eq(st(run, "b")->total, 60.0, 1e-12);
	cr_expect_float_eq(st(run, "c")->total, 30.0, 1e-12);
	cr_expect_float_eq(st(run, "d")->total, 10.0, 1e-12);
	cr_expect_float_eq(kv_run_group_points(run, 0, "g"), 30.0, 1e-12);
	expect(run, "b", 1, NULL);
	expect(run, "a", 2, NULL);
	expect(run, "c", 3, NULL);
	expect(run, "d", 4, "lowest_total");
	kv_run_free(run);
}

Test(selection, tie_inside_the_boundary_shares_a_rank)
{
	/* a = 0.5*60 + 0.5*40 = 50 and b = 0.75*60 + 0.125*40 = 45 + 5 = 50 tie;
	 * c = 0.5*60 = 30, d = 0.1*60 + 0.1*40 = 10; eliminate 1: d goes, ranks 1, 1, 3, 4. */
	write_scores("a,0,0.5\nb,0,0.75\nc,0,0.5\nd,0,0.1\n", "a,0,0.5\nb,0,0.125\nc,0,0\nd,0,0.1\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 0, "%s", err.msg);
	expect(run, "a", 1, NULL);
	expect(run, "b", 1, NULL);
	expect(run, "c", 3, NULL);
	expect(run, "d", 4, "lowest_total");
	cr_expect_eq(st(run, "a")->tied_count, 1);
	kv_run_free(run);
}

Test(selection, tie_at_the_boundary_is_an_error_by_default)
{
	/* c and d both 10 (c: 0.1*60+0.1*40; d: 0*60+0.25*40), and one team must go. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.25\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 2);
	cr_expect(strstr(err.msg, "teams c, d share rank 3") != NULL, "%s", err.msg);
}

Test(selection, tie_at_the_boundary_kept)
{
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.25\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1; unresolved_tie = \"keep\";", &run, &err), 0, "%s", err.msg);
	expect(run, "c", 3, NULL);
	expect(run, "d", 3, NULL);
	cr_expect_eq(kv_run_standing(run, "c")->status, KV_ADVANCE);
	kv_run_free(run);
}

Test(selection, tie_break_by_group)
{
	/* Same tie as above; tie_break = ["g"]: c has 6 points in g, d has 0, so c is 3rd
	 * and d 4th and eliminated. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.25\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1; tie_break = [ \"g\" ];", &run, &err), 0, "%s", err.msg);
	expect(run, "c", 3, NULL);
	expect(run, "d", 4, "lowest_total");
	cr_assert_eq(st(run, "d")->tie_break_by, 0, "separated by tie_break[0], \"g\"");
	kv_run_free(run);
}

Test(selection, tie_break_by_criterion_then_next_entry)
{
	/* tie_break = ["q", "p"]: q is 4 for c and 10 for d, so d wins the tie on q. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.25\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1; tie_break = [ \"q\", \"p\" ];", &run, &err), 0, "%s", err.msg);
	expect(run, "d", 3, NULL);
	expect(run, "c", 4, "lowest_total");
	kv_run_free(run);
}

Test(selection, tie_precision_makes_close_totals_equal)
{
	/* c = 0.1*60 + 0.1*40 = 10; d = 0.25*40 + 0.0001*60 = 10.006.
	 * With tie_precision 0.01 they tie (boundary error); with the default 1e-9
	 * d is ahead and c goes. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.0001\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.25\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_expect_eq(run_with("eliminate_lowest = 1; tie_precision = 0.01;", &run, &err), 2);
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 0, "%s", err.msg);
	expect(run, "d", 3, NULL);
	expect(run, "c", 4, "lowest_total");
	kv_run_free(run);
}

Test(selection, min_total_eliminates_before_the_rule)
{
	/* Totals: a 100, b 50, c 10, d 4 (0.1*40). min_total 20 removes c and d;
	 * advance 3 then keeps a and b (only two remain). */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.1\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("advance = 3; min_total = 20.0;", &run, &err), 0, "%s", err.msg);
	expect(run, "a", 1, NULL);
	expect(run, "b", 2, NULL);
	expect(run, "c", 3, "below_min_total");
	expect(run, "d", 4, "below_min_total");
	kv_run_free(run);
}

Test(selection, advance_keeps_the_n_highest)
{
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.1\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("advance = 2;", &run, &err), 0, "%s", err.msg);
	expect(run, "a", 1, NULL);
	expect(run, "b", 2, NULL);
	expect(run, "c", 3, "lowest_total");
	expect(run, "d", 4, "lowest_total");
	kv_run_free(run);
}

Test(selection, gate_failure_eliminates_and_leaves_the_ranking)
{
	/* b fails the gate although 2nd on points: rank null, reason gate:k; of a, c, d
	 * the lowest (d) is eliminated on score. Record order: a, c, d, then b. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.1\n",
		     "a,1,1\nb,0,0\nc,1,1\nd,1,1\n");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 0, "%s", err.msg);
	expect(run, "a", 1, NULL);
	expect(run, "c", 2, NULL);
	expect(run, "d", 3, "lowest_total");
	expect(run, "b", 0, "gate:k");
	cr_expect_float_eq(st(run, "b")->total, 50.0, 1e-12);
	cr_expect_str_eq(run->round->teams[run->order[3]].id, "b");
	kv_run_free(run);
}

Test(selection, gate_failure_flag_keeps_the_team_ranked)
{
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.1\n",
		     "a,1,1\nb,0,0\nc,1,1\nd,1,1\n");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1; gate_failure = \"flag\";", &run, &err), 0, "%s", err.msg);
	expect(run, "b", 2, NULL);
	cr_assert_eq(st(run, "b")->failed_count, 1);
	cr_expect_str_eq(criterion_id(run, st(run, "b")->failed_gates[0]), "k");
	cr_expect_eq(st(run, "b")->reason, KV_REASON_NONE, "flagged, not eliminated by the gate");
	expect(run, "d", 4, "lowest_total");
	kv_run_free(run);
}

Test(selection, a_gate_that_no_one_passes)
{
	/* Everyone is gated: nobody is ranked, nobody advances, no error.
	 * Record order by total: a (100), b (50), c (10), d (4). */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.1\nd,0,0.1\n",
		     "a,0,0\nb,0,0\nc,0,0\nd,0,0\n");
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("advance = 1;", &run, &err), 0, "%s", err.msg);
	const char *order[] = {"a", "b", "c", "d"};
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(run->round->teams[run->order[i]].id, order[i]);
		expect(run, order[i], 0, "gate:k");
	}
	kv_run_free(run);
}

Test(selection, sports_ranking_1_2_2_4)
{
	/* a = 100; b = 0.5*60 + 0.5*40 = 50; c = 0.25*60 + 0.875*40 = 15 + 35 = 50; d = 4. */
	write_scores("a,0,1\nb,0,0.5\nc,0,0.25\nd,0,0\n", "a,0,1\nb,0,0.5\nc,0,0.875\nd,0,0.1\n", NULL);
	struct kv_run *run;
	struct kv_error err;
	cr_assert_eq(run_with("eliminate_lowest = 1;", &run, &err), 0, "%s", err.msg);
	expect(run, "a", 1, NULL);
	expect(run, "b", 2, NULL);
	expect(run, "c", 2, NULL);
	expect(run, "d", 4, "lowest_total");
	kv_run_free(run);
}

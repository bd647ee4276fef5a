/* Tests of the votes plugin (criteria.md "votes", issue 5): the rating
 * method, the pairwise method on small hand-checked battles, exclusions,
 * bad input, and one end-to-end run of the real binary with votes.so.
 *
 * Expected values are worked out by hand in the comments next to them.
 * test_votes_bt.c checks the Bradley-Terry estimate against an independent
 * Newton solver and Chatbot Arena's own numbers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <pty.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

extern const struct kv_plugin kaieval_plugin_votes;

#define TEAMS_AB "teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, " \
	"{ id = \"b\"; name = \"B\"; model = \"mb\"; } );\n"
#define TEAMS_ABC "teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, " \
	"{ id = \"b\"; name = \"B\"; model = \"mb\"; }, { id = \"c\"; name = \"C\"; model = \"mc\"; } );\n"

static void round_init(struct kvt_round *r)
{
	kvt_round_init(r, &kaieval_plugin_votes);
}

static int run_round(struct kvt_round *r, const char *teams, const char *criteria)
{
	char *cfg = kv_xasprintf("round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\";"
				 " seed = 7L;\n%s criteria = ( %s );\n selection = { eliminate_lowest = 1; unresolved_tie = \"keep\"; }; };\n",
				 teams, criteria);
	kvt_round_run(r, cfg);
	free(cfg);
	return r->rc;
}

static double norm(struct kvt_round *r, const char *crit, const char *team)
{
	return kvt_normalized(r->run, crit, team);
}

static double ev(struct kvt_round *r, const char *crit, const char *team, const char *key)
{
	return kvt_evidence_num(r->run, crit, team, key);
}

static double rev(struct kvt_round *r, const char *crit, const char *key)
{
	return kvt_round_evidence_num(r->run, crit, key);
}

/* The run failed with status 2 and its message holds every one of the
 * NULL-terminated fragments (file, line or record, field). */
static void expect_error(struct kvt_round *r, ...)
{
	va_list ap;
	cr_assert_eq(r->rc, 2, "status %d (%s)", r->rc, r->err.msg);
	va_start(ap, r);
	for (const char *s; (s = va_arg(ap, const char *));)
		cr_expect(strstr(r->err.msg, s), "'%s' not in: %s", s, r->err.msg);
	va_end(ap);
}

/* --- rating ------------------------------------------------------------------ */

/* r3's rating of a is too short (100 s < 180), r1's second rating of a is a
 * repeat, r4 is outside the groups.  Counted: a 5+4 = 9 (2 ratings),
 * b 4+4+5 = 13, c 3+2+1 = 6.  best: a 9/13, b 1, c 6/13. */
static const char stage1[] =
	"rater,group,team,score,seconds\n"
	"r1,expert,a,5,300\nr1,expert,b,4,300\nr1,expert,c,3,300\n"
	"r2,expert,a,4,200\nr2,expert,b,4,200\nr2,expert,c,2,200\n"
	"r3,expert,a,5,100\nr3,expert,b,5,400\nr3,expert,c,1,400\n"
	"r1,expert,a,1,500\n"
	"r4,public,a,1,500\n";

Test(votes_rating, stage1_best_gives_the_top_team_full_points)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", stage1);
	run_round(&r, TEAMS_ABC, "{ id = \"users\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;"
		  " params = { ratings = \"ratings.csv\"; groups = [\"expert\"]; normalize = \"best\"; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "users", "a"), 9.0 / 13.0, 1e-15);
	cr_expect_float_eq(norm(&r, "users", "b"), 1.0, 1e-15);
	cr_expect_float_eq(norm(&r, "users", "c"), 6.0 / 13.0, 1e-15);
	cr_expect_float_eq(kv_run_outcome(r.run, "users", "b")->points, 25.0, 1e-12);
	cr_expect_float_eq(kv_run_outcome(r.run, "users", "a")->value, 9.0, 0); /* the sum */
	cr_expect_eq(ev(&r, "users", "a", "ratings"), 2);
	cr_expect_eq(ev(&r, "users", "a", "excluded_too_short"), 1);
	cr_expect_eq(ev(&r, "users", "a", "excluded_repeat"), 1);
	cr_expect_eq(ev(&r, "users", "a", "excluded_group"), 1);
	cr_expect_eq(ev(&r, "users", "b", "excluded_too_short"), 0);
	cr_expect_eq(rev(&r, "users", "rows"), 11);
	cr_expect_eq(rev(&r, "users", "ratings_counted"), 8);
	cr_expect_eq(rev(&r, "users", "raters"), 3);          /* r4 counts nowhere */
	cr_expect_eq(rev(&r, "users", "excluded_group"), 1);
	cr_expect_eq(rev(&r, "users", "bootstrap_rounds"), 1000);
	kvt_round_done(&r);
}

/* A repeat stays excluded even when the first rating was too short: r1's
 * quick look at b (10 s) is their rating of b, so the retry does not count. */
Test(votes_rating, first_rating_counts_even_when_too_short)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", "rater,group,team,score,seconds\n"
	    "r1,x,a,3,300\nr1,x,b,1,10\nr1,x,b,5,300\nr2,x,b,2,300\nr2,x,a,4,300\n");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 10.0;"
		  " params = { ratings = \"ratings.csv\"; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	/* b: only r2's 2 counts, mean 2, scale: 2/5. a: (3+4)/2 = 3.5 -> 0.7 */
	cr_expect_float_eq(norm(&r, "u", "b"), 0.4, 1e-15);
	cr_expect_float_eq(norm(&r, "u", "a"), 0.7, 1e-15);
	cr_expect_eq(ev(&r, "u", "b", "excluded_too_short"), 1);
	cr_expect_eq(ev(&r, "u", "b", "excluded_repeat"), 1);
	kvt_round_done(&r);
}

/* Stage 2: one file, two criteria.  Experts: a (5+4)/2 = 4.5 -> 0.9 x 15 =
 * 13.5, b (3+4)/2 = 3.5 -> 0.7 x 15 = 10.5.  Public: p2's b is too short
 * (170 s): a (2+3)/2 = 2.5 -> 0.5 x 10 = 5, b 5 -> 1.0 x 10 = 10.
 * Totals a 18.5, b 20.5. */
static const char stage2[] =
	"rater,group,team,score,seconds,timestamp\n"
	"e1,expert,a,5,600,2026-01-02T10:00\ne1,expert,b,3,600,2026-01-02T10:20\n"
	"e2,expert,a,4,600,2026-01-02T11:00\ne2,expert,b,4,600,2026-01-02T11:30\n"
	"p1,public,a,2,300,2026-01-03T09:00\np1,public,b,5,300,2026-01-03T09:10\n"
	"p2,public,a,3,190,2026-01-03T12:00\np2,public,b,4,170,2026-01-03T12:05\n";

Test(votes_rating, stage2_two_criteria_over_one_file)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", stage2);
	run_round(&r, TEAMS_AB,
		  "{ id = \"experts\"; plugin = \"votes\"; kind = \"score\"; points = 15.0;"
		  "  params = { ratings = \"ratings.csv\"; groups = [\"expert\"]; normalize = \"scale\"; }; },"
		  "{ id = \"public\"; plugin = \"votes\"; kind = \"score\"; points = 10.0;"
		  "  params = { ratings = \"ratings.csv\"; groups = [\"public\"]; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(kv_run_outcome(r.run, "experts", "a")->points, 13.5, 1e-12);
	cr_expect_float_eq(kv_run_outcome(r.run, "experts", "b")->points, 10.5, 1e-12);
	cr_expect_float_eq(kv_run_outcome(r.run, "public", "a")->points, 5.0, 1e-12);
	cr_expect_float_eq(kv_run_outcome(r.run, "public", "b")->points, 10.0, 1e-12);
	cr_expect_float_eq(kv_run_standing(r.run, "a")->total, 18.5, 1e-12);
	cr_expect_float_eq(kv_run_standing(r.run, "b")->total, 20.5, 1e-12);
	cr_expect_eq(ev(&r, "public", "b", "excluded_too_short"), 1);
	cr_expect_eq(ev(&r, "experts", "a", "excluded_group"), 2); /* p1's and p2's */
	kvt_round_done(&r);
}

/* range on a 0..10 scale: a mean (7+9)/2 = 8 -> 0.8; b mean 2 -> 0.2. */
Test(votes_rating, range_on_another_scale)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.jsonl",
	    "{\"rater\": \"x\", \"group\": \"g\", \"team\": \"a\", \"score\": 7, \"seconds\": 400}\n"
	    "{\"rater\": \"y\", \"group\": \"g\", \"team\": \"a\", \"score\": 9, \"seconds\": 400}\n"
	    "{\"rater\": \"x\", \"group\": \"g\", \"team\": \"b\", \"score\": 2, \"seconds\": 30}\n");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 10.0;"
		  " params = { ratings = \"ratings.jsonl\"; normalize = \"range\"; scale_min = 0;"
		  " scale_max = 10; min_seconds = 20.0; bootstrap = 200; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "u", "a"), 0.8, 1e-15);
	cr_expect_float_eq(norm(&r, "u", "b"), 0.2, 1e-15);
	kvt_round_done(&r);
}

/* The bootstrap over raters: each replicate draws raters with replacement,
 * so every replicate's team mean is a mean of the raters' scores and the
 * interval lies within their range; the same seed gives the same bytes. */
Test(votes_rating, bootstrap_interval_is_seeded_and_bracketed)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", "rater,group,team,score,seconds\n"
	    "r1,g,a,5,300\nr2,g,a,4,300\nr3,g,a,2,300\nr4,g,a,3,300\nr5,g,a,5,300\n"
	    "r1,g,b,1,300\nr2,g,b,2,300\nr3,g,b,3,300\nr4,g,b,2,300\nr5,g,b,1,300\n");
	const char *crit = "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 10.0;"
			   " params = { ratings = \"ratings.csv\"; bootstrap = 500; }; }";
	run_round(&r, TEAMS_AB, crit);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	double lo = ev(&r, "u", "a", "mean_q025"), hi = ev(&r, "u", "a", "mean_q975");
	cr_expect(lo >= 2 && lo <= 3.8 && hi >= 3.8 && hi <= 5, "a: [%g, %g] around 3.8", lo, hi);
	cr_expect_float_eq(ev(&r, "u", "a", "normalized_q025"), lo / 5, 1e-12);
	run_round(&r, TEAMS_AB, crit);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(ev(&r, "u", "a", "mean_q025"), lo); /* bitwise: same seed, same draws */
	cr_expect_eq(ev(&r, "u", "a", "mean_q975"), hi);
	kvt_round_done(&r);
}

Test(votes_rating, bad_input_names_file_line_and_column)
{
	static const struct { const char *row, *fragment; } cases[] = {
		{"r2,g,zz,4,300\n", "unknown"},          /* unknown team */
		{"r2,g,a,7,300\n", "off the scale"},      /* score off the scale */
		{"r2,g,a,4,long\n", "not a number of seconds"},
		{"r2,g,a,four,300\n", "not a number"},
	};
	static const char *const columns[] = {"team", "score", "seconds", "score"};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kvt_round r;
		round_init(&r);
		char *text = kv_xasprintf("rater,group,team,score,seconds\nr1,g,a,3,300\nr1,g,b,3,300\n%s",
					  cases[i].row);
		kvt_round_put(&r, "ratings.csv", text);
		free(text);
		run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
			  " params = { ratings = \"ratings.csv\"; }; }");
		char *col = kv_xasprintf("column '%s'", columns[i]);
		expect_error(&r, "ratings.csv:4", col, i == 0 ? "zz" : cases[i].fragment, NULL);
		free(col);
		kvt_round_done(&r);
	}
}

Test(votes_rating, only_excluded_ratings_is_an_error)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", "rater,group,team,score,seconds\nr1,g,a,3,300\nr1,g,b,3,20\nr2,g,b,4,30\n");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; }; }");
	expect_error(&r, "ratings.csv", "no usable votes for team 'b'", "2 too short", NULL);
	kvt_round_done(&r);
}

Test(votes_rating, empty_file_is_an_error)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", "");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; }; }");
	expect_error(&r, "ratings.csv", NULL);
	kvt_round_put(&r, "ratings.csv", "rater,group,team,score,seconds\n");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; }; }");
	expect_error(&r, "ratings.csv", "no ratings", NULL);
	kvt_round_done(&r);
}

Test(votes_rating, a_rater_keeps_one_group)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", "rater,group,team,score,seconds\nr1,expert,a,3,300\nr1,public,b,3,300\n");
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; }; }");
	expect_error(&r, "ratings.csv:3", "column 'group'", "r1", "expert", NULL);
	kvt_round_done(&r);
}

Test(votes_params, params_of_the_other_method_are_refused)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "ratings.csv", stage2);
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; reference_team = \"a\"; }; }");
	expect_error(&r, "reference_team", "pairwise", NULL);
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { ratings = \"ratings.csv\"; normalize = \"winrate\"; }; }");
	expect_error(&r, "normalize", "winrate", NULL);
	run_round(&r, TEAMS_AB, "{ id = \"u\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { method = \"pairwise\"; }; }");
	expect_error(&r, "battles", NULL);
	kvt_round_done(&r);
}

/* --- pairwise: small hand-checked cases ---------------------------------------- */

static char *battle(const char *a, const char *b, const char *winner, const char *judge, const char *q)
{
	return kv_xasprintf("{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"%s\", \"judge\": \"%s\", "
			    "\"question_id\": \"%s\", \"tstamp\": 1714525806.5}\n", a, b, winner, judge, q);
}

/* Append n copies of a battle (each its own question) to buf. */
static void add(struct kv_buf *buf, int n, const char *a, const char *b, const char *winner, const char *judge)
{
	static int question;
	for (int i = 0; i < n; i++) {
		char q[32];
		snprintf(q, sizeof q, "q%d", ++question);
		char *line = battle(a, b, winner, judge, q);
		kv_buf_puts(buf, line);
		free(line);
	}
}

#define PAIRWISE(extra) "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;" \
	" params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 50;" \
	" models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; };" extra " }; }"

/* Data that a Bradley-Terry model fits exactly: a:b = 3:1, b:c = 3:1 and
 * a:c = 9:1, so the MLE has g = (9, 3, 1)/13 (each pair's expected wins
 * equal the observed ones).  Mean win probability: a (3/4 + 9/10)/2 =
 * 0.825, b (1/4 + 3/4)/2 = 0.5, c (1/10 + 1/4)/2 = 0.175.  Elo differences:
 * 400 log10 3 = 190.848501887865 between neighbours, mean 1000. */
static void three_teams(struct kv_buf *buf)
{
	add(buf, 3, "ma", "mb", "model_a", "j1");
	add(buf, 1, "mb", "ma", "model_a", "j2");
	add(buf, 2, "mb", "mc", "model_a", "j1");
	add(buf, 1, "mc", "mb", "model_b", "j3");
	add(buf, 1, "mb", "mc", "model_b", "j2");
	add(buf, 9, "mc", "ma", "model_b", "j3");
	add(buf, 1, "ma", "mc", "model_b", "j1");
}

Test(votes_pairwise, exact_bradley_terry_fit_by_hand)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	three_teams(&buf);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_ABC, PAIRWISE(""));
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 0.825, 1e-10);
	cr_expect_float_eq(norm(&r, "arena", "b"), 0.5, 1e-10);
	cr_expect_float_eq(norm(&r, "arena", "c"), 0.175, 1e-10);
	cr_expect_float_eq(ev(&r, "arena", "a", "strength"), 9.0 / 13.0, 1e-10);
	cr_expect_float_eq(ev(&r, "arena", "a", "elo"), 1000 + 190.848501887865, 1e-8);
	cr_expect_float_eq(ev(&r, "arena", "b", "elo"), 1000.0, 1e-8);
	cr_expect_float_eq(ev(&r, "arena", "c", "elo"), 1000 - 190.848501887865, 1e-8);
	cr_expect_eq(ev(&r, "arena", "a", "wins"), 12);    /* 3 over b, 9 over c */
	cr_expect_eq(ev(&r, "arena", "a", "losses"), 2);
	cr_expect_eq(ev(&r, "arena", "c", "battles"), 14); /* 4 with b, 10 with a */
	cr_expect_eq(rev(&r, "arena", "battles_read"), 18);
	cr_expect_eq(rev(&r, "arena", "judges"), 3);
	cr_expect_eq(rev(&r, "arena", "excluded_duplicate"), 0);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* Against a reference: a 9/(9+3) = 0.75, b 0.5, c 1/(1+3) = 0.25. */
Test(votes_pairwise, reference_team)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	three_teams(&buf);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_ABC, PAIRWISE("reference_team = \"b\";"));
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 0.75, 1e-10);
	cr_expect_eq(norm(&r, "arena", "b"), 0.5);
	cr_expect_float_eq(norm(&r, "arena", "c"), 0.25, 1e-10);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* Ties are half a win each way: a beats b twice, b beats a once, two ties
 * (one "tie (bothbad)"): a has 3 of 5, so P(a beats b) = 0.6. */
Test(votes_pairwise, ties_count_half_each_way)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	add(&buf, 2, "ma", "mb", "model_a", "j1");
	add(&buf, 1, "ma", "mb", "model_b", "j1");
	add(&buf, 1, "mb", "ma", "tie", "j2");
	add(&buf, 1, "ma", "mb", "tie (bothbad)", "j2");
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;"
		  " params = { method = \"pairwise\"; battles = \"b.jsonl\"; models = { a = \"ma\"; b = \"mb\"; }; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 0.6, 1e-12);
	cr_expect_float_eq(norm(&r, "arena", "b"), 0.4, 1e-12);
	cr_expect_eq(ev(&r, "arena", "a", "ties"), 2);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* One ballot per (judge, question, unordered pair): j1's second ballot on
 * q1 (sides swapped, other winner) is excluded; j2 on q1 counts; a battle
 * marked "anony": false is excluded.  What remains is three_teams(). */
/* The counts of three_teams with a repeated ballot key, a battle that is
 * not anonymous and two ballots of question "dup" around them: 1 + 18 + 3
 * read; counted: three_teams' 18, j1's first "dup" (a beats b) and j2's
 * "dup" (b beats a).  a wins 12 + 1, b wins 4 + 1, b plays 4 + 2 battles
 * with a and 4 with c. */
static void expect_duplicates_counted(struct kvt_round *r)
{
	cr_assert_eq(r->rc, 0, "%s", r->err.msg);
	cr_expect_eq(rev(r, "arena", "battles_read"), 22);
	cr_expect_eq(rev(r, "arena", "excluded_duplicate"), 1);
	cr_expect_eq(rev(r, "arena", "excluded_not_anonymous"), 1);
	cr_expect_eq(rev(r, "arena", "ballots_counted"), 20);
	cr_expect_eq(ev(r, "arena", "a", "wins"), 13);
	cr_expect_eq(ev(r, "arena", "b", "wins"), 5);
	cr_expect_eq(ev(r, "arena", "b", "battles"), 10);
	cr_expect_eq(rev(r, "arena", "without_question_id"), 0); /* the open battle was excluded first */
}

Test(votes_pairwise, duplicates_and_open_battles_are_excluded)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	kv_buf_puts(&buf, "{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"model_a\", \"judge\": \"j1\", \"question_id\": \"dup\"}\n");
	three_teams(&buf);
	kv_buf_puts(&buf, "{\"model_a\": \"mb\", \"model_b\": \"ma\", \"winner\": \"model_a\", \"judge\": \"j1\", \"question_id\": \"dup\"}\n");
	kv_buf_puts(&buf, "{\"model_a\": \"mc\", \"model_b\": \"ma\", \"winner\": \"model_a\", \"judge\": \"j9\", \"anony\": false}\n");
	kv_buf_puts(&buf, "{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"model_b\", \"judge\": \"j2\", \"question_id\": \"dup\"}\n");
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_ABC, PAIRWISE(""));
	expect_duplicates_counted(&r);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* The same battles as a pretty-printed JSON array (FastChat writes
 * clean_battle files with indent=2) give the same bytes as JSONL. */
Test(votes_pairwise, json_array_equals_jsonl)
{
	struct kvt_round r;
	struct kv_buf buf = {0}, arr = {0};
	round_init(&r);
	three_teams(&buf);
	kv_buf_puts(&arr, "[\n");
	for (char *line = strtok(buf.data, "\n"); line; line = strtok(NULL, "\n")) {
		if (arr.len > 2)
			kv_buf_puts(&arr, ",\n");
		for (const char *p = line; *p; p++) { /* break it over lines */
			kv_buf_add(&arr, p, 1);
			if (*p == ',')
				kv_buf_puts(&arr, "\n    ");
		}
	}
	kv_buf_puts(&arr, "\n]\n");
	kvt_round_put(&r, "b.json", arr.data);
	run_round(&r, TEAMS_ABC, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;"
		  " params = { method = \"pairwise\"; battles = \"b.json\"; bootstrap = 50;"
		  " models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; }; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 0.825, 1e-10);
	cr_expect_eq(rev(&r, "arena", "battles_read"), 18);
	kv_buf_free(&buf);
	kv_buf_free(&arr);
	kvt_round_done(&r);
}

struct bad_case { const char *line, *fragments[3]; };

/* A round of teams a and b on battle file `name` holding `text`: it must
 * stop with status 2 and a message holding the fragments. */
static void expect_battles_refused(const char *name, const char *text, const char *const *fragments)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, name, text);
	char *criterion = kv_xasprintf("{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
				       " params = { method = \"pairwise\"; battles = \"%s\";"
				       " models = { a = \"ma\"; b = \"mb\"; }; }; }", name);
	run_round(&r, TEAMS_AB, criterion);
	free(criterion);
	expect_error(&r, fragments[0], fragments[1], fragments[2], NULL);
	kvt_round_done(&r);
}

/* The duplicates case above as a CSV table: columns in another order, a
 * byte-order mark, CRLF, a blank line, quoted fields (a comma, doubled
 * quotes, a line break) in a column the plugin skips, anony as pandas
 * writes it, and an empty question_id for the open battle.  The same
 * counts by the same hand count. */
Test(votes_pairwise, a_csv_table_reads_as_the_json_does)
{
	struct kvt_round r;
	struct kv_buf buf = {0}, csv = {0};
	round_init(&r);
	kv_buf_puts(&csv, "\xef\xbb\xbfquestion_id,judge,winner,conversation,model_b,anony,model_a,tstamp\r\n");
	kv_buf_puts(&csv, "dup,j1,model_a,\"hi, \"\"there\"\"\",mb,True,ma,1714525806.5\r\n\r\n");
	three_teams(&buf);
	for (char *line = strtok(buf.data, "\n"); line; line = strtok(NULL, "\n")) {
		char a[8], b[8], w[16], j[8], q[16];
		cr_assert_eq(sscanf(line, "{\"model_a\": \"%7[^\"]\", \"model_b\": \"%7[^\"]\", \"winner\": \"%15[^\"]\", "
				    "\"judge\": \"%7[^\"]\", \"question_id\": \"%15[^\"]\"", a, b, w, j, q), 5, "%s", line);
		kv_buf_printf(&csv, "%s,%s,%s,\"line one\nline two\",%s,true,%s,\r\n", q, j, w, b, a);
	}
	kv_buf_puts(&csv, "dup,j1,model_a,,ma,True,mb,\r\n");
	kv_buf_puts(&csv, ",j9,model_a,,ma,False,mc,1e9\r\n");
	kv_buf_puts(&csv, "dup,j2,model_b,,mb,,ma,");
	kvt_round_put(&r, "b.CSV", csv.data);
	run_round(&r, TEAMS_ABC, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;"
		  " params = { method = \"pairwise\"; battles = \"b.CSV\"; bootstrap = 50;"
		  " models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; }; }; }");
	expect_duplicates_counted(&r);
	kv_buf_free(&buf);
	kv_buf_free(&csv);
	kvt_round_done(&r);
}

/* A bad CSV battle file: file, line, record and field named.  Lines 1-4
 * are the header and two good battles; the second's note spans two
 * lines, so a bad record 3 is on line 5 (errors name the line where a
 * record starts, or where the bad field does). */
Test(votes_pairwise, bad_csv_battles_name_file_line_record_and_field)
{
	static const struct bad_case cases[] = {
		{"ma,m\"b,tie,j,", {"b.csv:5: record 3", "field 'model_b'", "a quote inside an unquoted field"}},
		{"ma,\"mb\"x,tie,j,", {"b.csv:5: record 3", "field 'model_b'", "text after a closing quote ('x')"}},
		{"ma,mb,tie,j,\"no end", {"b.csv:5: record 3", "runs to the end of the file", NULL}},
		{"ma,mb,tie,j", {"b.csv:5: record 3", "4 fields, where the header has 5 columns", NULL}},
		{"ma,mb,tie,j,,x", {"b.csv:5: record 3", "more fields than the header's 5 columns", NULL}},
		{"ma,mb,tie,,", {"b.csv:5: record 3", "field 'judge'", "empty"}},
		{"gpt,mb,tie,j,", {"b.csv:5: record 3", "field 'model_a'", "unknown model 'gpt'"}},
		{"ma,mb,draw,j,", {"b.csv:5: record 3", "field 'winner'", "'draw'"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = kv_xasprintf("model_a,model_b,winner,judge,note\nma,mb,model_a,j,\n"
					  "\"mb\",ma,model_a,j,\"two\nlines\"\n%s\n", cases[i].line);
		expect_battles_refused("b.csv", text, cases[i].fragments);
		free(text);
	}
}

Test(votes_pairwise, a_nul_byte_in_a_csv_battle_file_is_refused)
{
	static const char bytes[] = "model_a,model_b,winner,judge\nma,mb,model_a,j\0x\n";
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "b.csv", "");
	char *path = kv_xasprintf("%s/d/b.csv", r.dir);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(bytes, 1, sizeof bytes - 1, f), sizeof bytes - 1);
	fclose(f);
	free(path);
	run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
		  " params = { method = \"pairwise\"; battles = \"b.csv\"; models = { a = \"ma\"; b = \"mb\"; }; }; }");
	expect_error(&r, "b.csv:2: record 1", "field 'judge'", "a NUL byte", NULL);
	kvt_round_done(&r);
}

Test(votes_pairwise, a_csv_header_without_the_columns_is_refused)
{
	static const struct bad_case cases[] = {
		{"model_a,model_b,winner,user\nma,mb,tie,j\n", {"b.csv:1:", "the header has no column 'judge'", NULL}},
		{"model_a,judge,model_b,winner,judge\n",
		 {"b.csv:1:", "column 'judge' named twice in the header (fields 2 and 5)", NULL}},
		{"", {"b.csv:1:", "empty file", NULL}},
		{"{\"model_a\": \"ma\"}\n", {"b.csv:1:", "starts with '{', as JSON does", NULL}},
		{"model_a;model_b;winner;judge\nma;mb;tie;j\n",
		 {"b.csv:1:", "the header is one column holding semicolons: fields are separated by commas", NULL}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_battles_refused("b.csv", cases[i].line, cases[i].fragments);
}

/* A CSV table under a JSON name is told how it would be read. */
Test(votes_pairwise, a_csv_table_named_as_json_is_pointed_out)
{
	static const char *const fragments[] = {"b.jsonl:1:", "expected '[' or '{' at the start",
						"read as a CSV table when its name ends in .csv"};
	expect_battles_refused("b.jsonl", "model_a,model_b,winner,judge\nma,mb,model_a,j\n", fragments);
}

Test(votes_pairwise, bad_battles_name_file_record_and_field)
{
	static const struct bad_case cases[] = {
		{"{\"model_a\": \"ma\", \"model_b\" \"mb\", \"winner\": \"tie\", \"judge\": \"j\"}",
		 {"b.jsonl:3: record 3", "field 'model_b'", "expected ':'"}},
		{"{\"model_a\": \"gpt\", \"model_b\": \"mb\", \"winner\": \"tie\", \"judge\": \"j\"}",
		 {"b.jsonl:3: record 3", "field 'model_a'", "unknown model 'gpt'"}},
		{"{\"model_a\": \"ma\", \"model_b\": \"ma\", \"winner\": \"tie\", \"judge\": \"j\"}",
		 {"b.jsonl:3: record 3", "field 'model_b'", "same model"}},
		{"{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"draw\", \"judge\": \"j\"}",
		 {"b.jsonl:3: record 3", "field 'winner'", "'draw'"}},
		{"{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"tie\"}",
		 {"b.jsonl:3: record 3", "field 'judge'", "missing"}},
		{"{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"tie\", \"judge\": \"j\"} {}",
		 {"b.jsonl:3", "one object per line", NULL}},
		{"{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"tie\", \"judge\": \"j\", \"tstamp\": \"noon\"}",
		 {"b.jsonl:3: record 3", "field 'tstamp'", "must be a number"}},
		{"{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"tie\", \"judge\": \"j\"",
		 {"b.jsonl", "ends inside a record", NULL}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = kv_xasprintf("{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
					  "{\"model_a\": \"mb\", \"model_b\": \"ma\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
					  "%s\n", cases[i].line);
		expect_battles_refused("b.jsonl", text, cases[i].fragments);
		free(text);
	}
}

/* Names of 8 to 16 bytes are looked up by their first and last 8 bytes:
 * lines 1-2 (both teams' names) are read, and a name that differs only in
 * a middle byte, or only in length, is unknown. */
Test(votes_pairwise, model_names_of_8_to_16_bytes)
{
	static const char *const unknown[] = {"model-alXha", "model-alph", "model-alphaa", "model-bravo-1234"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		struct kvt_round r;
		round_init(&r);
		char *text = kv_xasprintf(
			"{\"model_a\": \"model-alpha\", \"model_b\": \"model-bravo-123\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
			"{\"model_a\": \"model-bravo-123\", \"model_b\": \"model-alpha\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
			"{\"model_a\": \"%s\", \"model_b\": \"model-alpha\", \"winner\": \"tie\", \"judge\": \"j\"}\n",
			unknown[i]);
		kvt_round_put(&r, "b.jsonl", text);
		free(text);
		run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
			  " params = { method = \"pairwise\"; battles = \"b.jsonl\";"
			  " models = { a = \"model-alpha\"; b = \"model-bravo-123\"; }; }; }");
		char *what = kv_xasprintf("unknown model '%s'", unknown[i]);
		expect_error(&r, "b.jsonl:3: record 3", "field 'model_a'", what, NULL);
		free(what);
		kvt_round_done(&r);
	}
}

/* The teams' config models are ma, mb and mc, but without param 'models' a
 * team plays under its id: the messages say so where a name is a team's
 * config model. */
Test(votes_pairwise, a_config_model_that_is_not_the_battle_name_is_pointed_out)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"ma\", \"model_b\": \"b\", \"winner\": \"model_a\", \"judge\": \"j\"}\n");
	run_round(&r, TEAMS_ABC, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
				 " params = { method = \"pairwise\"; battles = \"b.jsonl\"; }; }");
	expect_error(&r, "b.jsonl:1: record 1", "unknown model 'ma'",
		     "team 'a' has model 'ma' in the config but plays under 'a' in the battle file", NULL);
	run_round(&r, TEAMS_ABC, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
				 " params = { method = \"pairwise\"; battles = \"b.jsonl\"; reference_model = \"mc\"; }; }");
	expect_error(&r, "reference_model: 'mc' is neither a team's model nor an anchor",
		     "team 'c' has model 'mc' in the config but plays under 'c'", NULL);
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"a\", \"model_b\": \"b\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
		      "{\"model_a\": \"b\", \"model_b\": \"a\", \"winner\": \"model_a\", \"judge\": \"j\"}\n");
	run_round(&r, TEAMS_ABC, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
				 " params = { method = \"pairwise\"; battles = \"b.jsonl\"; }; }");
	expect_error(&r, "no usable votes for team 'c' (model 'c'); team 'c' has model 'mc' in the config but plays "
		     "under 'c' in the battle file (its id, unless param 'models' maps it)", NULL);
	kvt_round_done(&r);
}

Test(votes_pairwise, empty_and_unusable_files_are_errors)
{
	struct kvt_round r;
	round_init(&r);
	const char *crit = "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 1.0;"
			   " params = { method = \"pairwise\"; battles = \"b.jsonl\"; models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; }; }; }";
	kvt_round_put(&r, "b.jsonl", "");
	run_round(&r, TEAMS_ABC, crit);
	expect_error(&r, "b.jsonl", "no battles", NULL);
	kvt_round_put(&r, "b.jsonl", "[]");
	run_round(&r, TEAMS_ABC, crit);
	expect_error(&r, "b.jsonl", "no battles", NULL);
	/* c only ever plays in a battle that is not anonymous: excluded. */
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
	    "{\"model_a\": \"mb\", \"model_b\": \"ma\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
	    "{\"model_a\": \"mc\", \"model_b\": \"ma\", \"winner\": \"model_a\", \"judge\": \"j\", \"anony\": false}\n");
	run_round(&r, TEAMS_ABC, crit);
	expect_error(&r, "b.jsonl", "no usable votes for team 'c'", NULL);
	/* b never wins: no finite estimate. */
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
	    "{\"model_a\": \"mc\", \"model_b\": \"mb\", \"winner\": \"model_a\", \"judge\": \"j\"}\n"
	    "{\"model_a\": \"mc\", \"model_b\": \"ma\", \"winner\": \"tie\", \"judge\": \"j\"}\n");
	run_round(&r, TEAMS_ABC, crit);
	expect_error(&r, "b.jsonl", "does not exist", "'b'", NULL);
	kvt_round_done(&r);
}

Test(votes_pairwise, model_names_and_teams_are_checked)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"a\", \"model_b\": \"b\", \"winner\": \"tie\", \"judge\": \"j\"}\n");
	run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"info\";"
		  " params = { method = \"pairwise\"; battles = \"b.jsonl\"; models = { zz = \"m\"; }; }; }");
	expect_error(&r, "'zz'", "no team", NULL);
	run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"info\";"
		  " params = { method = \"pairwise\"; battles = \"b.jsonl\"; reference_team = \"zz\"; }; }");
	expect_error(&r, "reference_team", "zz", NULL);
	/* By default a team plays under its id. */
	run_round(&r, TEAMS_AB, "{ id = \"arena\"; plugin = \"votes\"; kind = \"info\";"
		  " params = { method = \"pairwise\"; battles = \"b.jsonl\"; }; }");
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(kv_run_outcome(r.run, "arena", "a")->value, 0.5);
	kvt_round_done(&r);
}

/* --- pairwise: anchors, reference_model, unknown_models, prior, classes --------- */

/* Teams a and b over three_teams() (and `more`), mc not a team. */
#define PAIRWISE_AB(extra) "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;" \
	" params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 20;" \
	" models = { a = \"ma\"; b = \"mb\"; };" extra " }; }"

static void run_three(struct kvt_round *r, const char *extra, const char *more)
{
	struct kv_buf buf = {0};
	round_init(r);
	three_teams(&buf);
	if (more)
		kv_buf_puts(&buf, more);
	kvt_round_put(r, "b.jsonl", buf.data);
	char *crit = kv_xasprintf(PAIRWISE_AB("%s"), extra);
	run_round(r, TEAMS_AB, crit);
	free(crit);
	kv_buf_free(&buf);
}

/* mc as an anchor: the fit is the same, so a's mean win probability over
 * the others is (3/4 + 9/10)/2 = 0.825 and b's (1/4 + 3/4)/2 = 0.5; the
 * anchor is in the round's evidence (Elo 1000 - 400 log10 3).  Against the
 * anchor as reference_model: a 9/(9+1) = 0.9, b 3/(3+1) = 0.75. */
Test(votes_pairwise, an_anchor_takes_part_in_the_fit_and_may_be_the_reference)
{
	static const char *const extra[2] = {" anchors = [ \"mc\" ];",
					     " anchors = [ \"mc\" ]; reference_model = \"mc\";"};
	static const double a[2] = {0.825, 0.9}, b[2] = {0.5, 0.75};
	for (int i = 0; i < 2; i++) {
		struct kvt_round r;
		run_three(&r, extra[i], NULL);
		cr_assert_eq(r.rc, 0, "%s", r.err.msg);
		cr_expect_float_eq(norm(&r, "arena", "a"), a[i], 1e-10);
		cr_expect_float_eq(norm(&r, "arena", "b"), b[i], 1e-10);
		cr_expect_float_eq(rev(&r, "arena", "anchor mc elo"), 1000 - 190.848501887865, 1e-8);
		kvt_round_done(&r);
	}
}

/* Bad anchors and references stop the run naming the param. */
Test(votes_pairwise, anchors_and_reference_model_are_checked)
{
	static const struct { const char *params, *param, *what; } cases[] = {
		{" anchors = [ \"mc\", \"mb\" ];", "anchors", "'mb' is team 'b''s model"},
		{" anchors = [ \"mc\", \"mc\" ];", "anchors", "'mc' is listed twice"},
		{" anchors = [ \"mc\", \"md\" ];", "anchors", "'md' is in no counted battle"},
		{" anchors = [ \"mc\" ]; reference_model = \"zz\";", "reference_model", "'zz' is neither"},
		{" reference_team = \"a\"; reference_model = \"ma\";", "reference_model", "not both"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kvt_round r;
		run_three(&r, cases[i].params, NULL);
		expect_error(&r, cases[i].param, cases[i].what, NULL);
		kvt_round_done(&r);
	}
}

/* Battles of a model that is neither a team's nor an anchor: an error by
 * default, counted and left out with unknown_models = "ignore". */
Test(votes_pairwise, unknown_models_ignored_and_counted)
{
	static const char more[] =
		"{\"model_a\": \"ma\", \"model_b\": \"mz\", \"winner\": \"model_b\", \"judge\": \"j9\"}\n"
		"{\"model_a\": \"my\", \"model_b\": \"mz\", \"winner\": \"tie\", \"judge\": \"j9\"}\n";
	struct kvt_round r;
	run_three(&r, " anchors = [ \"mc\" ]; unknown_models = \"ignore\";", more);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 0.825, 1e-10);
	cr_expect_eq(rev(&r, "arena", "excluded_unknown_model"), 2);
	cr_expect_eq(rev(&r, "arena", "ballots_counted"), 18);
	kvt_round_done(&r);
	run_three(&r, " anchors = [ \"mc\" ];", more);
	expect_error(&r, "unknown model 'mz'", "unknown_models", NULL);
	kvt_round_done(&r);
}

/* A round of teams t0, t1, ... whose models are names[0..n) over the
 * battles, unknown models ignored; every team's wins are checked. */
static void run_named(char (*names)[48], size_t n, const char *battles, const long *wins, long unknown)
{
	struct kv_buf teams = {0}, crit = {0};
	kv_buf_puts(&teams, "teams = ( ");
	kv_buf_puts(&crit, "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0; params = {"
		    " method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 0; unknown_models = \"ignore\"; models = {");
	for (size_t i = 0; i < n; i++) {
		kv_buf_printf(&teams, "%s{ id = \"t%zu\"; name = \"T%zu\"; model = \"%s\"; }", i ? ", " : "", i, i, names[i]);
		kv_buf_printf(&crit, " t%zu = \"%s\";", i, names[i]);
	}
	kv_buf_puts(&teams, " );\n");
	kv_buf_puts(&crit, " }; }; }");
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "b.jsonl", battles);
	run_round(&r, teams.data, crit.data);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(rev(&r, "arena", "excluded_unknown_model"), unknown);
	for (size_t i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof id, "t%zu", i);
		cr_expect_eq(ev(&r, "arena", id, "wins"), wins[i], "team %zu ('%s')", i, names[i]);
	}
	kvt_round_done(&r);
	kv_buf_free(&teams);
	kv_buf_free(&crit);
}

/* Model names of 1 to 40 bytes, in pairs that differ in one byte only, at
 * the start, in the middle or at the end: every battle goes to its own two
 * models, and a name one byte off a team's is unknown. */
Test(votes_pairwise, model_names_of_every_length_are_told_apart)
{
	static const size_t lengths[] = {1, 5, 8, 9, 15, 16, 17, 24, 29, 40};
	enum { N = 2 * sizeof lengths / sizeof lengths[0] };
	char names[N][48];
	long wins[N];
	struct kv_buf battles = {0};
	for (size_t i = 0; i < N; i++) {
		size_t n = lengths[i / 2], at = i / 2 % 3 == 0 ? 0 : i / 2 % 3 == 1 ? n / 2 : n - 1;
		memset(names[i], 'm', n);
		names[i][n] = '\0';
		names[i][at] = i % 2 ? 'x' : 'y';
		wins[i] = (long)i + 1;
	}
	for (size_t i = 0; i < N; i++) /* team i beats team i + 1 (i + 1 times), ties with i + 2 */
		for (size_t r = 0; r <= i; r++)
			kv_buf_printf(&battles,
				      "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"model_a\", \"judge\": \"j%zu-%zu\"}\n"
				      "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"tie\", \"judge\": \"j%zu-%zu\"}\n",
				      names[i], names[(i + 1) % N], i, r, names[i], names[(i + 2) % N], i, r);
	for (size_t i = 0; i < N; i++) { /* one byte off a team's name, at its other end */
		char off[48];
		size_t n = strlen(names[i]);
		memcpy(off, names[i], n + 1);
		off[i / 2 % 3 == 2 ? 0 : n - 1] = 'z'; /* names are of m, x and y */
		kv_buf_printf(&battles, "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"model_b\", \"judge\": \"u\"}\n",
			      off, names[(i + 3) % N]);
	}
	run_named(names, N, battles.data, wins, N);
	kv_buf_free(&battles);
}

/* 200 teams whose model names share their first and last 8 bytes (and
 * length) and differ between, as "vendor-model-...-2024" do, and 800
 * unknown names of the same form: found by hash, a name is still checked
 * byte by byte. */
Test(votes_pairwise, long_model_names_that_share_their_ends)
{
	enum { N = 200 };
	static char names[N][48];
	long wins[N];
	struct kv_buf battles = {0};
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "vendor-model-%03zu-instruct-2024", i);
		wins[i] = 1;
	}
	for (size_t i = 0; i < N; i++)
		kv_buf_printf(&battles, "{\"model_a\": \"%s\", \"model_b\": \"%s\", \"winner\": \"model_a\", \"judge\": \"j%zu\"}\n",
			      names[i], names[(i + 1) % N], i);
	for (size_t u = N; u < 1000; u++)
		kv_buf_printf(&battles, "{\"model_a\": \"vendor-model-%03zu-instruct-2024\", \"model_b\": \"%s\","
			      " \"winner\": \"model_a\", \"judge\": \"u%zu\"}\n", u, names[u % N], u);
	run_named(names, N, battles.data, wins, 1000 - N);
	kv_buf_free(&battles);
}

/* a only wins (2 over b): no estimate without a prior; with prior = 1 (a
 * tie, 1 each way in doubled counts) the table is a: 2*2 + 1 = 5 over b's
 * 1, so g_a/g_b = 5 and P(a beats b) = 5/6. */
Test(votes_pairwise, a_model_that_only_wins_needs_the_prior)
{
	struct kv_buf buf = {0};
	struct kvt_round r;
	add(&buf, 2, "ma", "mb", "model_a", "j1");
	round_init(&r);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_AB, PAIRWISE_AB(""));
	expect_error(&r, "does not exist", "param 'prior'", NULL);
	kvt_round_done(&r);
	round_init(&r);
	kvt_round_put(&r, "b.jsonl", buf.data);
	run_round(&r, TEAMS_AB, PAIRWISE_AB(" prior = 1.0;"));
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_float_eq(norm(&r, "arena", "a"), 5.0 / 6.0, 1e-10);
	cr_expect_eq(rev(&r, "arena", "prior_ties"), 1);
	kvt_round_done(&r);
	kv_buf_free(&buf);
}

/* Judges with the same ballots form one class: j4 and j5 each cast one
 * "ma beats mb", j6 casts one "mb beats ma" (different questions, so no
 * duplicates); with j1..j3 (all different) that is 5 classes of 6 judges.
 * a's judges: j1, j2, j3 (three_teams) and j4, j5, j6; b's likewise. */
Test(votes_pairwise, judges_with_equal_ballots_share_a_class)
{
	struct kv_buf more = {0};
	struct kvt_round r;
	add(&more, 1, "ma", "mb", "model_a", "j4");
	add(&more, 1, "mb", "ma", "model_b", "j5");
	add(&more, 1, "ma", "mb", "model_b", "j6");
	run_three(&r, " anchors = [ \"mc\" ];", more.data);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(rev(&r, "arena", "judges"), 6);
	cr_expect_eq(rev(&r, "arena", "judge_classes"), 5);
	cr_expect_eq(ev(&r, "arena", "a", "judges"), 6);
	cr_expect_eq(ev(&r, "arena", "b", "judges"), 6);
	kvt_round_done(&r);
	kv_buf_free(&more);
}

/* The sandwich interval by hand, two models, a beats b 4 times of 5
 * (p = 0.8, theta_a - theta_b = log 4, each Elo 1000 +- half of that).
 * Five judges, one ballot each: H = n p (1 - p) = 0.8 and M = sum (y -
 * p)^2 = 0.8, so var(theta_a - theta_b) = M / H^2 = 1.25 and a's centred
 * log-strength has a quarter of it; half-width 1.96 * 400/ln 10 *
 * sqrt(0.3125) = 190.34.  One judge casting all five: M = (sum (y - p))^2
 * = 0, so the interval is the estimate alone. */
Test(votes_pairwise, sandwich_interval_by_hand)
{
	static const char *const judges[2][5] = {{"j1", "j2", "j3", "j4", "j5"}, {"j1", "j1", "j1", "j1", "j1"}};
	double half[2] = {1.959963984540054 * 400 / log(10) * sqrt(0.3125), 0};
	for (int c = 0; c < 2; c++) {
		struct kvt_round r;
		struct kv_buf buf = {0};
		round_init(&r);
		for (int i = 0; i < 5; i++)
			add(&buf, 1, "ma", "mb", i < 4 ? "model_a" : "model_b", judges[c][i]);
		kvt_round_put(&r, "b.jsonl", buf.data);
		run_round(&r, TEAMS_AB, PAIRWISE_AB(""));
		cr_assert_eq(r.rc, 0, "%s", r.err.msg);
		double elo = ev(&r, "arena", "a", "elo");
		cr_expect_float_eq(elo, 1000 + 200 * log10(4.0), 1e-9);
		cr_expect_float_eq(ev(&r, "arena", "a", "elo_sandwich_hi") - elo, half[c], 1e-6, "case %d", c);
		cr_expect_float_eq(elo - ev(&r, "arena", "a", "elo_sandwich_lo"), half[c], 1e-6, "case %d", c);
		kv_buf_free(&buf);
		kvt_round_done(&r);
	}
}

/* --- end to end: the real binary loads votes.so ------------------------------ */

/* Run the binary on a round of teams a, b, c with `criteria` (r.cfg in
 * r's folder, the record in result.json there); its exit status, *err
 * its standard error. */
static int run_binary(struct kvt_round *r, const char *criteria, char **err)
{
	char *text = kv_xasprintf("round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 7L;\n"
				  TEAMS_ABC " criteria = ( %s );\n selection = { eliminate_lowest = 1; }; };\n", criteria);
	kvt_write(r->dir, "r.cfg", text);
	char *cfg = kv_xasprintf("%s/r.cfg", r->dir), *out = kv_xasprintf("%s/result.json", r->dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	int rc = kvt_exec(args, NULL, err);
	free(text);
	free(cfg);
	free(out);
	return rc;
}

#define ARENA_100 "{ id = \"arena\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;%s\n" \
	"   params = { method = \"pairwise\"; battles = \"b.jsonl\"; bootstrap = 100;\n" \
	"              models = { a = \"ma\"; b = \"mb\"; c = \"mc\"; }; }; }"

Test(votes_e2e, binary_with_the_shared_object)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	three_teams(&buf);
	kvt_round_put(&r, "b.jsonl", buf.data);
	kvt_round_put(&r, "ratings.csv", stage1);
	char *criteria = kv_xasprintf(ARENA_100 ",\n  { id = \"users\"; plugin = \"votes\"; kind = \"score\"; "
				      "points = 25.0;\n   params = { ratings = \"ratings.csv\"; groups = [\"expert\"]; "
				      "normalize = \"best\"; }; }", "");
	char *err = NULL, *out = kv_xasprintf("%s/result.json", r.dir);
	int rc = run_binary(&r, criteria, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	char *json = kvt_read(out);
	cr_assert_not_null(json);
	cr_expect(strstr(json, "\"elo\""), "evidence 'elo' in the record");
	cr_expect(strstr(json, "\"excluded_too_short\""), "rating evidence in the record");
	free(json);
	free(err);
	/* A bad battle file: exit 2, the message names file, record and field. */
	kvt_round_put(&r, "b.jsonl", "{\"model_a\": \"ma\", \"model_b\": \"mb\", \"winner\": \"nobody\", \"judge\": \"j\"}\n");
	rc = run_binary(&r, criteria, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(err && strstr(err, "b.jsonl:1: record 1: field 'winner'"), "%s", err);
	free(err);
	free(criteria);
	free(out);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* Out of memory is said as such, naming the criterion: 300,000 battles
 * (about 60 MB of file) under the least memory_limit the core accepts. */
Test(votes_e2e, out_of_memory_is_said_as_such, .timeout = 60)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("a sanitizer's build runs plugins without a memory limit");
#endif
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	static const char *const models[] = {"ma", "mb", "mc"};
	for (int i = 0; i < 300000; i++) {
		char judge[32];
		snprintf(judge, sizeof judge, "judge-%d", i % 30000);
		add(&buf, 1, models[i % 3], models[(i + 1) % 3], i % 5 ? "model_a" : "tie", judge);
	}
	kvt_round_put(&r, "b.jsonl", buf.data);
	char *criteria = kv_xasprintf(ARENA_100, " memory_limit = \"64M\";"), *err = NULL;
	int rc = run_binary(&r, criteria, &err);
	cr_expect_eq(rc, 3, "exit %d: %s", rc, err);
	cr_expect(err && strstr(err, "criterion 'arena' (plugin votes): out of memory"), "%s", err);
	free(err);
	free(criteria);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* Run kaieval with its standard error on a pseudo-terminal (progress is
 * shown only there); returns what the terminal received. */
static char *terminal_text(const char *const *args)
{
	const char *bin = getenv("KAIEVAL_BIN");
	char *argv[8] = {(char *)(bin ? bin : "./kaieval")};
	for (size_t i = 0; args[i] && i < 6; i++)
		argv[i + 1] = (char *)args[i];
	int master = -1;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	cr_assert(pid >= 0, "forkpty: %s", strerror(errno));
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	struct kv_buf text = {0};
	char chunk[4096];
	ssize_t n;
	while ((n = read(master, chunk, sizeof chunk)) > 0) /* EIO once the child is gone */
		kv_buf_add(&text, chunk, (size_t)n);
	int status = 0;
	waitpid(pid, &status, 0);
	close(master);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, text.data);
	return text.data ? text.data : kv_xstrdup("");
}

/* Progress names the bytes read of the file's size, isolated (the plugin
 * reads a pipe, so the core tells it the size) and in process alike. */
Test(votes_e2e, progress_shows_bytes_of_the_total_on_a_terminal, .timeout = 120)
{
	struct kvt_round r;
	struct kv_buf buf = {0};
	round_init(&r);
	static const char *const models[] = {"ma", "mb", "mc"};
	for (int i = 0; i < 200000; i++) {
		char judge[32];
		snprintf(judge, sizeof judge, "judge-%d", i % 20000);
		add(&buf, 1, models[i % 3], models[(i + 1) % 3], i % 5 ? "model_a" : "tie", judge);
	}
	kvt_round_put(&r, "b.jsonl", buf.data);
	char *criteria = kv_xasprintf(ARENA_100, ""), *err = NULL;
	cr_assert_eq(run_binary(&r, criteria, &err), 0, "%s", err); /* writes r.cfg */
	char *cfg = kv_xasprintf("%s/r.cfg", r.dir), *out = kv_xasprintf("%s/o.json", r.dir);
	char *want = kv_xasprintf("arena: read %.0f of %.0f MB (100%%)", buf.len * 1e-6, buf.len * 1e-6);
	const char *isolated[] = {"run", cfg, "-o", out, NULL};
	const char *in_process[] = {"run", cfg, "-o", out, "--no-isolation", NULL};
	const char *const *runs[] = {isolated, in_process};
	for (size_t i = 0; i < 2; i++) {
		char *text = terminal_text(runs[i]);
		cr_expect(strstr(text, want) != NULL, "want '%s' in: %s", want, text);
		free(text);
	}
	free(want);
	free(out);
	free(cfg);
	free(err);
	free(criteria);
	kv_buf_free(&buf);
	kvt_round_done(&r);
}

/* A team's judges counted over many models (both ways of counting: up to
 * 64 models a class's models are bits of a word).  Beside three_teams
 * (a's judges j1..j3, b's likewise), judge k<i> casts "ma beats x<i>" and,
 * for i a multiple of 3, "mb beats x<i+1>": a has 3 + n judges, b 3 +
 * ceil(n/3). */
static void expect_judges_over_models(int n)
{
	struct kv_buf more = {0}, anchors = {0};
	kv_buf_puts(&anchors, " anchors = [ \"mc\"");
	for (int i = 0; i < n; i++) {
		char x[16], next[16], judge[16];
		snprintf(x, sizeof x, "x%d", i);
		snprintf(next, sizeof next, "x%d", (i + 1) % n);
		snprintf(judge, sizeof judge, "k%d", i);
		add(&more, 1, "ma", x, "model_a", judge);
		if (i % 3 == 0)
			add(&more, 1, "mb", next, "model_a", judge);
		char *name = kv_xasprintf(", \"%s\"", x);
		kv_buf_puts(&anchors, name);
		free(name);
	}
	kv_buf_puts(&anchors, " ]; prior = 1.0;"); /* the x models only lose */
	struct kvt_round r;
	run_three(&r, anchors.data, more.data);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_expect_eq(ev(&r, "arena", "a", "judges"), 3 + n, "%d models", n + 3);
	cr_expect_eq(ev(&r, "arena", "b", "judges"), 3 + (n + 2) / 3, "%d models", n + 3);
	kvt_round_done(&r);
	kv_buf_free(&more);
	kv_buf_free(&anchors);
}

Test(votes_pairwise, a_teams_judges_are_counted_over_many_models)
{
	expect_judges_over_models(40);
	expect_judges_over_models(70);
}

/* Tests of the expert plugin (criteria.md "expert", issue 4).
 *
 * Expected values are worked out by hand in the comments next to them. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support.h"
#include "../plugins/expert/expert.h"

extern const struct kv_plugin kaieval_plugin_expert;

#define TEAMS_AB \
	"teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; } );\n"
#define ITEMS_ST_RP \
	"items = ( { id = \"st\"; max = 10; category = \"strategy\"; }, " \
	"{ id = \"rp\"; max = 15; category = \"results\"; } );"

static void round_init(struct kvt_round *r)
{
	kvt_round_init(r, &kaieval_plugin_expert);
}

static int run_round(struct kvt_round *r, const char *teams, const char *criteria, const char *selection)
{
	char *cfg = kv_xasprintf("round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\";"
				 " seed = 1L;\n%s criteria = ( %s );\n selection = { %s }; };\n",
				 teams, criteria, selection);
	kvt_round_run(r, cfg);
	free(cfg);
	return r->rc;
}

static const struct kv_team_outcome *outcome(struct kvt_round *r, const char *crit, const char *team)
{
	const struct kv_team_outcome *o = kv_run_outcome(r->run, crit, team);
	cr_assert_not_null(o, "no outcome for %s/%s", crit, team);
	return o;
}

static double ev(struct kvt_round *r, const char *crit, const char *team, const char *key)
{
	return kvt_evidence_num(r->run, crit, team, key);
}

static const char *ev_str(struct kvt_round *r, const char *crit, const char *team, const char *key)
{
	const char *s = kvt_evidence_str(r->run, crit, team, key);
	return s ? s : "(absent)";
}

/* text with each line that starts with prefix replaced by line (NULL: removed). */
static char *replace_line(const char *text, const char *prefix, const char *line)
{
	struct kv_buf b = {0};
	kv_buf_puts(&b, "");
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) != 0)
			kv_buf_add(&b, p, n);
		else if (line)
			kv_buf_printf(&b, "%s\n", line);
		p += n;
	}
	return b.data;
}

/* ------------------------------------------------------------------------ */
/* rubric                                                                     */

/* Stage 1 rubric 10/15/10, six experts, default trim 1 / trim_min 5.
 *   team a: e1 8+12+7=27, e2 9+13+8=30, e3 7+11+6=24, e4 10+15+10=35,
 *           e5 6+10+5=21, e6 8+14+8=30.  Sorted 21 24 27 30 30 35: drop e5
 *           (21) and e4 (35); (24+27+30+30)/4 = 27.75; normalized 27.75/35.
 *           strategy 6 7 8 8 9 10 -> (7+8+8+9)/4 = 8; results 10..15 ->
 *           (11+12+13+14)/4 = 12.5; ripple 5 6 7 8 8 10 -> (6+7+8+8)/4 = 7.25.
 *   team b: e1 20, e2 20, e3 20, e4 25, e5 25, e6 30.  Three lowest tie at
 *           20: exactly one is dropped (e1, the smallest id), not all three;
 *           e6 (30) is the highest.  (20+20+25+25)/4 = 22.5. */
static const char STAGE1_SHEET[] =
	"expert,team,item,score\n"
	"e1,a,st,8\ne1,a,rp,12\ne1,a,re,7\n"
	"e2,a,st,9\ne2,a,rp,13\ne2,a,re,8\n"
	"e3,a,st,7\ne3,a,rp,11\ne3,a,re,6\n"
	"e4,a,st,10\ne4,a,rp,15\ne4,a,re,10\n"
	"e5,a,st,6\ne5,a,rp,10\ne5,a,re,5\n"
	"e6,a,st,8\ne6,a,rp,14\ne6,a,re,8\n"
	"e1,b,st,5\ne1,b,rp,10\ne1,b,re,5\n"
	"e2,b,st,6\ne2,b,rp,9\ne2,b,re,5\n"
	"e3,b,st,4\ne3,b,rp,11\ne3,b,re,5\n"
	"e4,b,st,7\ne4,b,rp,12\ne4,b,re,6\n"
	"e5,b,st,8\ne5,b,rp,11\ne5,b,re,6\n"
	"e6,b,st,9\ne6,b,rp,13\ne6,b,re,8\n";

#define STAGE1_ITEMS \
	"items = ( { id = \"st\"; max = 10; category = \"strategy\"; }, " \
	"{ id = \"rp\"; max = 15; category = \"results\"; }, " \
	"{ id = \"re\"; max = 10; category = \"ripple\"; } );"

static int run_stage1(struct kvt_round *r, const char *extra)
{
	char *crit = kv_xasprintf("{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0;"
				  " params = { sheet = \"sheet.csv\"; " STAGE1_ITEMS " %s }; }", extra);
	int rc = run_round(r, TEAMS_AB, crit, "eliminate_lowest = 1;");
	free(crit);
	return rc;
}

Test(expert_rubric, trimmed_mean_drops_one_highest_and_one_lowest)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", STAGE1_SHEET);
	cr_assert_eq(run_stage1(&r, ""), 0, "%s", r.err.msg);
	const struct kv_team_outcome *a = outcome(&r, "experts", "a");
	cr_assert_float_eq(a->value, 27.75, 1e-12);
	cr_assert_float_eq(a->normalized, 27.75 / 35, 1e-12);
	cr_assert_str_eq(a->unit, "points");
	cr_assert_float_eq(ev(&r, "experts", "a", "total.e4"), 35, 0);
	cr_assert_float_eq(ev(&r, "experts", "a", "total.e5"), 21, 0);
	cr_assert_float_eq(ev(&r, "experts", "a", "experts"), 6, 0);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_low"), "e5");
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_high"), "e4");
	cr_assert_float_eq(ev(&r, "experts", "a", "trimmed_mean"), 27.75, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "category.strategy"), 8.0, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "category.results"), 12.5, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "category.ripple"), 7.25, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "max"), 35, 0);
	/* points = normalized x 35 */
	cr_assert_float_eq(kv_run_standing(r.run, "a")->total, 27.75, 1e-9);
	kvt_round_done(&r);
}

Test(expert_rubric, tied_extremes_drop_only_one)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", STAGE1_SHEET);
	cr_assert_eq(run_stage1(&r, ""), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "b")->value, 22.5, 1e-12);
	cr_assert_str_eq(ev_str(&r, "experts", "b", "dropped_low"), "e1");
	cr_assert_str_eq(ev_str(&r, "experts", "b", "dropped_high"), "e6");
	kvt_round_done(&r);
}

/* trim = 2 with six totals: team a 21 24 | 27 30 | 30 35 -> (27+30)/2 = 28.5. */
Test(expert_rubric, trim_two)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", STAGE1_SHEET);
	cr_assert_eq(run_stage1(&r, "trim = 2;"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 28.5, 1e-12);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_low"), "e5, e3");
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_high"), "e6, e4");
	kvt_round_done(&r);
}

/* trim_min = 7 > six totals: no trimming, team a (21+24+27+30+30+35)/6 = 27.833.. */
Test(expert_rubric, no_trimming_below_trim_min)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", STAGE1_SHEET);
	cr_assert_eq(run_stage1(&r, "trim_min = 7;"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 167.0 / 6, 1e-12);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_low"), "none");
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_high"), "none");
	kvt_round_done(&r);
}

/* e4 recused from team a: totals 21 24 27 30 30 (five = trim_min) -> drop 21
 * and one 30 -> (24+27+30)/3 = 27.  With e5 recused too, four totals remain:
 * no trimming, (24+27+30+30)/4 = 27.75.  Team b keeps all six: 22.5. */
Test(expert_rubric, recused_scores_do_not_count)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", STAGE1_SHEET);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne4,a\n");
	cr_assert_eq(run_stage1(&r, "recuse = \"recuse.csv\";"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 27.0, 1e-12);
	cr_assert(isnan(ev(&r, "experts", "a", "total.e4")));
	cr_assert_str_eq(ev_str(&r, "experts", "a", "recused"), "e4");
	cr_assert_float_eq(outcome(&r, "experts", "b")->value, 22.5, 1e-12);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne4,a\ne5,a\n");
	cr_assert_eq(run_stage1(&r, "recuse = \"recuse.csv\";"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 27.75, 1e-12);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_low"), "none");
	kvt_round_done(&r);
}

/* A sheet that leaves e6's ripple cell for team a out (no row) and blanks
 * e2's: under missing = "skip" both totals drop out.  Totals 21 24 27 35 (e5
 * e3 e1 e4): four < trim_min, so (21+24+27+35)/4 = 26.75. */
Test(expert_rubric, missing_skip_drops_the_total)
{
	struct kvt_round r;
	round_init(&r);
	char *dropped = replace_line(STAGE1_SHEET, "e6,a,re,", NULL);
	char *sheet = replace_line(dropped, "e2,a,re,", "e2,a,re,");
	kvt_round_put(&r, "sheet.csv", sheet);
	free(dropped);
	free(sheet);
	cr_assert_eq(run_stage1(&r, "missing = \"skip\";"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 26.75, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "experts"), 4, 0);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "incomplete"), "e2, e6");
	cr_assert(isnan(ev(&r, "experts", "a", "total.e6")));
	/* The same sheet under the default missing = "error" stops the round. */
	cr_assert_eq(run_stage1(&r, ""), 2);
	cr_assert(strstr(r.err.msg, "sheet.csv:"), "%s", r.err.msg);
	kvt_round_done(&r);
}

/* ------------------------------------------------------------------------ */
/* sheets as spreadsheets export them                                         */

/* UTF-8 BOM, CRLF, Korean expert names, a quoted comment holding a comma, a
 * doubled quote and a line break.  One item st (max 10):
 *   김민수 8, 이서연 9, 박지훈 7, 최유진 10, 정하늘 6 (team a)
 *   sorted 6 7 8 9 10: drop 정하늘 and 최유진, (7+8+9)/3 = 8, normalized 0.8.
 * Team b: everyone 5 -> 5.  The comment spans lines 2-3, so 이서연's row for
 * team a starts on line 4. */
static const char KOREAN_SHEET[] =
	"\xEF\xBB\xBF"
	"expert,team,item,score,comment\r\n"
	"김민수,a,st,8,\"좋음, 특히 \"\"데이터\"\" 정제\r\n둘째 줄\"\r\n"
	"이서연,a,st,9,\r\n"
	"박지훈,a,st,7,\"짧은 평\"\r\n"
	"최유진,a,st,10,\r\n"
	"정하늘,a,st,6,\r\n"
	"김민수,b,st,5,\r\n이서연,b,st,5,\r\n박지훈,b,st,5,\r\n최유진,b,st,5,\r\n정하늘,b,st,5,\r\n";

#define ONE_ITEM_CRITERION(sheet, extra) \
	"{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0; params = { sheet = \"" \
	sheet "\"; items = ( { id = \"st\"; max = 10; category = \"strategy\"; } ); " extra " }; }"

Test(expert_sheet, bom_crlf_quotes_and_korean_names)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", KOREAN_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_AB, ONE_ITEM_CRITERION("sheet.csv", ""), "eliminate_lowest = 1;"), 0,
		     "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 8.0, 1e-12);
	cr_assert_float_eq(outcome(&r, "experts", "a")->normalized, 0.8, 1e-12);
	cr_assert_float_eq(ev(&r, "experts", "a", "total.김민수"), 8, 0);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_low"), "정하늘");
	cr_assert_str_eq(ev_str(&r, "experts", "a", "dropped_high"), "최유진");
	cr_assert_float_eq(outcome(&r, "experts", "b")->value, 5.0, 1e-12);
	kvt_round_done(&r);
}

Test(expert_sheet, error_line_counts_the_quoted_line_break)
{
	struct kvt_round r;
	round_init(&r);
	char *bad = replace_line(KOREAN_SHEET, "이서연,a,st,9,", "이서연,a,st,11,\r");
	kvt_round_put(&r, "sheet.csv", bad);
	free(bad);
	cr_assert_eq(run_round(&r, TEAMS_AB, ONE_ITEM_CRITERION("sheet.csv", ""), "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "sheet.csv:4: column 'score'"), "%s", r.err.msg);
	cr_assert(strstr(r.err.msg, "outside [0, 10]"), "%s", r.err.msg);
	kvt_round_done(&r);
}

/* The same sheet as JSONL: one object per line, same fields. */
Test(expert_sheet, jsonl)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.jsonl",
	    "{\"expert\": \"e1\", \"team\": \"a\", \"item\": \"st\", \"score\": 4}\n"
	    "{\"expert\": \"e2\", \"team\": \"a\", \"item\": \"st\", \"score\": 6.5}\n"
	    "{\"expert\": \"e1\", \"team\": \"b\", \"item\": \"st\", \"score\": 10}\n"
	    "{\"expert\": \"e2\", \"team\": \"b\", \"item\": \"st\", \"score\": 9}\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, ONE_ITEM_CRITERION("sheet.jsonl", ""), "eliminate_lowest = 1;"), 0,
		     "%s", r.err.msg);
	/* two totals < trim_min: plain means (4+6.5)/2 and (10+9)/2 */
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 5.25, 1e-12);
	cr_assert_float_eq(outcome(&r, "experts", "b")->value, 9.5, 1e-12);
	kvt_round_done(&r);
}

/* ------------------------------------------------------------------------ */
/* gates                                                                      */

#define TEAMS_ABC \
	"teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; }," \
	" { id = \"c\"; name = \"C\"; model = \"mc\"; } );\n"

#define CHECKBOX(id, rule) \
	"{ id = \"" id "\"; plugin = \"expert\"; kind = \"gate\"; params = { sheet = \"box.csv\"; " \
	"mode = \"checkbox\"; item = \"indep\"; fail_when = \"" rule "\"; }; }"

/* Five experts tick "independence minimum standard not met": a 0, b 2, c 3.
 *   any:        a pass, b fail (2 >= 1), c fail
 *   majority:   a pass, b pass (2 of 5 is no majority), c fail (3 > 5/2)
 *   at_least:2: a pass, b fail, c fail
 *   at_least:3: a pass, b pass, c fail */
static const char BOX_SHEET[] =
	"expert,team,item,score\n"
	"e1,a,indep,0\ne2,a,indep,0\ne3,a,indep,0\ne4,a,indep,0\ne5,a,indep,0\n"
	"e1,b,indep,1\ne2,b,indep,0\ne3,b,indep,1\ne4,b,indep,0\ne5,b,indep,0\n"
	"e1,c,indep,1\ne2,c,indep,1\ne3,c,indep,0\ne4,c,indep,1\ne5,c,indep,0\n";

Test(expert_gate, checkbox_fail_when_rules)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "box.csv", BOX_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_ABC,
			       CHECKBOX("any", "any") "," CHECKBOX("maj", "majority") ","
			       CHECKBOX("two", "at_least:2") "," CHECKBOX("three", "at_least:3"),
			       "gate_failure = \"flag\"; eliminate_lowest = 1; unresolved_tie = \"keep\";"),
		     0, "%s", r.err.msg);
	static const struct { const char *crit; int a, b, c; } want[] = {
		{"any", 1, 0, 0}, {"maj", 1, 1, 0}, {"two", 1, 0, 0}, {"three", 1, 1, 0},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		cr_assert_eq(outcome(&r, want[i].crit, "a")->pass, want[i].a, "%s a", want[i].crit);
		cr_assert_eq(outcome(&r, want[i].crit, "b")->pass, want[i].b, "%s b", want[i].crit);
		cr_assert_eq(outcome(&r, want[i].crit, "c")->pass, want[i].c, "%s c", want[i].crit);
	}
	cr_assert_float_eq(outcome(&r, "any", "c")->value, 3, 0);
	cr_assert_float_eq(ev(&r, "any", "b", "ticks"), 2, 0);
	cr_assert_float_eq(ev(&r, "any", "b", "experts"), 5, 0);
	cr_assert_str_eq(ev_str(&r, "any", "b", "ticked_by"), "e1, e3");
	kvt_round_done(&r);
}

/* Stage 2: one form carries the rubric (10/10/15) and the independence tick.
 * The rubric criterion ignores the tick, the gate ignores the rubric.
 *   team a: totals e1 8+7+12=27, e2 9+8+13=30, e3 7+7+11=25, e4 10+9+14=33,
 *           e5 6+6+10=22 -> drop 22 and 33 -> (25+27+30)/3 = 82/3; no tick.
 *   team b: totals 5+5+10=20 for all five -> 20; e2 ticks -> fails (any). */
static const char STAGE2_SHEET[] =
	"expert,team,item,score\n"
	"e1,a,st,8\ne1,a,rp,7\ne1,a,re,12\ne1,a,independence,0\n"
	"e2,a,st,9\ne2,a,rp,8\ne2,a,re,13\ne2,a,independence,0\n"
	"e3,a,st,7\ne3,a,rp,7\ne3,a,re,11\ne3,a,independence,0\n"
	"e4,a,st,10\ne4,a,rp,9\ne4,a,re,14\ne4,a,independence,0\n"
	"e5,a,st,6\ne5,a,rp,6\ne5,a,re,10\ne5,a,independence,0\n"
	"e1,b,st,5\ne1,b,rp,5\ne1,b,re,10\ne1,b,independence,0\n"
	"e2,b,st,5\ne2,b,rp,5\ne2,b,re,10\ne2,b,independence,1\n"
	"e3,b,st,5\ne3,b,rp,5\ne3,b,re,10\ne3,b,independence,0\n"
	"e4,b,st,5\ne4,b,rp,5\ne4,b,re,10\ne4,b,independence,0\n"
	"e5,b,st,5\ne5,b,rp,5\ne5,b,re,10\ne5,b,independence,0\n";

Test(expert_gate, stage2_rubric_and_checkbox_share_a_sheet)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "form.csv", STAGE2_SHEET);
	const char *crit =
		"{ id = \"indep\"; plugin = \"expert\"; kind = \"gate\"; params = { sheet = \"form.csv\";"
		" mode = \"checkbox\"; item = \"independence\"; ignore_items = [\"st\", \"rp\", \"re\"]; }; },"
		"{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0; params = {"
		" sheet = \"form.csv\"; ignore_items = [\"independence\"];"
		" items = ( { id = \"st\"; max = 10; category = \"strategy\"; },"
		" { id = \"rp\"; max = 10; category = \"results\"; },"
		" { id = \"re\"; max = 15; category = \"ripple\"; } ); }; }";
	cr_assert_eq(run_round(&r, TEAMS_AB, crit, "advance = 2;"), 0, "%s", r.err.msg);
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 82.0 / 3, 1e-12);
	cr_assert_float_eq(outcome(&r, "experts", "b")->value, 20.0, 1e-12);
	cr_assert_eq(outcome(&r, "indep", "a")->pass, 1);
	cr_assert_eq(outcome(&r, "indep", "b")->pass, 0);
	cr_assert_eq(kv_run_standing(r.run, "b")->status, KV_ELIMINATED);
	cr_assert_str_eq(kvt_gate_failed(r.run, "b"), "indep");
	/* Without ignore_items the rubric refuses the tick item as unknown. */
	kvt_round_put(&r, "form.csv", STAGE2_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_AB,
			       "{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0;"
			       " params = { sheet = \"form.csv\"; items = ( { id = \"st\"; max = 10;"
			       " category = \"s\"; }, { id = \"rp\"; max = 10; category = \"r\"; },"
			       " { id = \"re\"; max = 15; category = \"e\"; } ); }; }",
			       "advance = 2;"), 2);
	cr_assert(strstr(r.err.msg, "form.csv:5: column 'item'"), "%s", r.err.msg);
	kvt_round_done(&r);
}

#define TEAMS_REPECHAGE \
	"teams = ( { id = \"motif\"; name = \"Motif Technologies\"; model = \"m\"; }," \
	" { id = \"trillion\"; name = \"Trillion Labs\"; model = \"t\"; } );\n"
#define APPROVAL(extra) \
	"{ id = \"repechage\"; plugin = \"expert\"; kind = \"gate\"; params = { sheet = \"vote.csv\";" \
	" mode = \"approval\"; item = \"approve\"; " extra " }; }"

/* Five experts: motif 3 approvals of 5 (3 > 5/2: pass), trillion 2 (fail).
 * With advance = 1 motif advances alone. */
static const char VOTE_SHEET[] =
	"expert,team,item,score\n"
	"e1,motif,approve,1\ne2,motif,approve,1\ne3,motif,approve,1\ne4,motif,approve,0\ne5,motif,approve,0\n"
	"e1,trillion,approve,0\ne2,trillion,approve,0\ne3,trillion,approve,0\ne4,trillion,approve,1\n"
	"e5,trillion,approve,1\n";

Test(expert_gate, approval_needs_a_strict_majority)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "vote.csv", VOTE_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_REPECHAGE, APPROVAL(""), "advance = 1;"), 0, "%s", r.err.msg);
	cr_assert_eq(outcome(&r, "repechage", "motif")->pass, 1);
	cr_assert_eq(outcome(&r, "repechage", "trillion")->pass, 0);
	cr_assert_float_eq(ev(&r, "repechage", "motif", "approvals"), 3, 0);
	cr_assert_float_eq(ev(&r, "repechage", "motif", "needed"), 3, 0);
	cr_assert_str_eq(ev_str(&r, "repechage", "motif", "approved_by"), "e1, e2, e3");
	cr_assert_eq(kv_run_standing(r.run, "motif")->status, KV_ADVANCE);
	cr_assert_eq(kv_run_standing(r.run, "trillion")->status, KV_ELIMINATED);
	kvt_round_done(&r);
}

/* e1 recused from motif: 2 approvals of the 4 who scored it -- a tie, not a
 * strict majority -- so motif fails too; with advance = 1 nobody advances
 * (the ministry "may pick nobody"). */
Test(expert_gate, approval_tie_fails_and_nobody_advances)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "vote.csv", VOTE_SHEET);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne1,motif\n");
	cr_assert_eq(run_round(&r, TEAMS_REPECHAGE, APPROVAL("recuse = \"recuse.csv\";"), "advance = 1;"), 0,
		     "%s", r.err.msg);
	cr_assert_eq(outcome(&r, "repechage", "motif")->pass, 0);
	cr_assert_float_eq(ev(&r, "repechage", "motif", "experts"), 4, 0);
	cr_assert_float_eq(ev(&r, "repechage", "motif", "approvals"), 2, 0);
	cr_assert_float_eq(ev(&r, "repechage", "motif", "needed"), 3, 0);
	cr_assert_str_eq(ev_str(&r, "repechage", "motif", "recused"), "e1");
	cr_assert_eq(kv_run_standing(r.run, "motif")->status, KV_ELIMINATED);
	cr_assert_eq(kv_run_standing(r.run, "trillion")->status, KV_ELIMINATED);
	cr_assert_str_eq(kvt_gate_failed(r.run, "motif"), "repechage");
	kvt_round_done(&r);
}

/* ------------------------------------------------------------------------ */
/* panel statistics: round-level evidence, never a change of score            */

static const char *round_ev_str(struct kvt_round *r, const char *crit, const char *key)
{
	long c = kv_round_criterion_index(r->run->round, crit);
	const struct kv_evidence_item *it = kv_evidence_get(&r->run->results[c].evidence, key);
	return it && !it->is_num ? it->str : "(absent)";
}

/* Krippendorff's own worked example: K. Krippendorff, "Computing
 * Krippendorff's Alpha-Reliability" (2011, Annenberg School for Communication
 * Departmental Papers 43, repository.upenn.edu/asc_papers/43), section C, the
 * 4-observer x 12-unit reliability data with missing values; he reports
 * alpha_interval = 0.849 (also in Content Analysis, 4th ed., 2019, ch. 12).
 *
 *   unit  1 2 3 4 5 6 7 8 9 10 11 12
 *   A     1 2 3 3 2 1 4 1 2 .  .  .
 *   B     1 2 3 3 2 2 4 1 2 5  .  3
 *   C     . 3 3 3 2 3 4 2 2 5  1  .
 *   D     1 2 3 3 2 4 4 1 2 5  1  .
 *
 * Derived here from the coincidence matrix, independently of the plugin's
 * sum-of-squares form.  Unit 12 has one value and is not pairable; n = 40
 * pairable values: n_1 = 9, n_2 = 13, n_3 = 10, n_4 = 5, n_5 = 3.
 * Observed: only units 2 (2,2,3,2), 6 (1,2,3,4) and 8 (1,1,2,1) disagree.
 *   Σ_u Σ_{ordered pairs} δ²/(m_u − 1) = 6/3 + 2·(1+4+9+1+4+1)/3 + 6/3 = 52/3
 *   D_o = (52/3)/40 = 13/30.
 * Expected: Σ_{c<k} n_c n_k (c−k)² = 117+360+405+432+130+260+351+50+120+15
 *   = 2240, so D_e = 2·2240/(40·39) = 4480/1560.
 * α = 1 − (13/30)/(4480/1560) = 1 − 20280/134400 = 1 − 169/1120 = 951/1120
 *   = 0.849107..., Krippendorff's 0.849. */
static const int KRIPP[4][12] = {
	{1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0},
	{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3},
	{0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0},
	{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0},
};
#define KRIPP_ALPHA (951.0 / 1120.0)

Test(expert_stats, krippendorff_worked_example_through_the_plugin)
{
	struct kvt_round r;
	round_init(&r);
	struct kv_buf sheet = {0}, teams = {0};
	kv_buf_puts(&sheet, "expert,team,item,score\n");
	kv_buf_puts(&teams, "teams = (");
	for (int u = 0; u < 12; u++) {
		kv_buf_printf(&teams, "%s { id = \"u%02d\"; name = \"U\"; model = \"m\"; }", u ? "," : "", u + 1);
		for (int o = 0; o < 4; o++)
			if (KRIPP[o][u])
				kv_buf_printf(&sheet, "%c,u%02d,v,%d\n", 'A' + o, u + 1, KRIPP[o][u]);
	}
	kv_buf_puts(&teams, " );\n");
	kvt_round_put(&r, "k.csv", sheet.data);
	cr_assert_eq(run_round(&r, teams.data,
			       "{ id = \"k\"; plugin = \"expert\"; kind = \"score\"; points = 1.0; params = {"
			       " sheet = \"k.csv\"; missing = \"skip\"; trim = 0;"
			       " items = ( { id = \"v\"; max = 5; category = \"v\"; } ); }; }",
			       "eliminate_lowest = 1; unresolved_tie = \"keep\";"),
		     0, "%s", r.err.msg);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "k", "alpha"), KRIPP_ALPHA, 1e-12);
	cr_assert_float_eq(round(kvt_round_evidence_num(r.run, "k", "alpha") * 1000) / 1000, 0.849, 1e-12);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "k", "alpha.values"), 40, 0);
	/* one item: the totals are the cells */
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "k", "alpha_totals"), KRIPP_ALPHA, 1e-12);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "k", "panel"), 4, 0);
	kv_buf_free(&sheet);
	kv_buf_free(&teams);
	kvt_round_done(&r);
}

Test(expert_stats, krippendorff_worked_example_direct)
{
	double values[48];
	size_t sizes[12], n = 0, pairable;
	for (int u = 0; u < 12; u++) {
		sizes[u] = 0;
		for (int o = 0; o < 4; o++)
			if (KRIPP[o][u]) {
				values[n++] = KRIPP[o][u];
				sizes[u]++;
			}
	}
	double alpha;
	cr_assert(expert_alpha_interval(values, sizes, 12, &alpha, &pairable));
	cr_assert_float_eq(alpha, KRIPP_ALPHA, 1e-12);
	cr_assert_eq(pairable, 40);
	/* Perfect agreement gives 1; all values equal leaves alpha undefined. */
	double same[] = {1, 1, 4, 4};
	size_t two[] = {2, 2};
	cr_assert(expert_alpha_interval(same, two, 2, &alpha, &pairable));
	cr_assert_float_eq(alpha, 1.0, 1e-15);
	double flat[] = {3, 3, 3, 3};
	cr_assert_not(expert_alpha_interval(flat, two, 2, &alpha, &pairable));
}

/* Korean rule through the function itself: five values with the lowest and
 * highest both tied -- 5 5 5 9 9 -> drop one 5 and one 9 -> (5+5+9)/3. */
Test(expert_stats, trimmed_mean_with_ties)
{
	struct expert_scored xs[] = {{9, 0}, {5, 1}, {9, 2}, {5, 3}, {5, 4}};
	size_t dropped;
	cr_assert_float_eq(expert_trimmed_mean(xs, 5, 1, 5, &dropped), 19.0 / 3, 1e-12);
	cr_assert_eq(dropped, 1);
	cr_assert_eq(xs[0].expert, 1); /* smallest id among the lowest */
	cr_assert_eq(xs[4].expert, 2); /* largest id among the highest */
	cr_assert_float_eq(expert_trimmed_mean(xs, 4, 1, 5, &dropped), 24.0 / 4, 1e-12);
	cr_assert_eq(dropped, 0);
}

/* Each expert against the mean of the others.
 * Panel p1 (one item, max 40):  a: e1 10 e2 12 e3 14;  b: 20 18 16;  c: 30 33 36.
 *   e1: rest 13, 17, 34.5; deviations -3, 3, -4.5 -> mean -1.5.
 *       x - 20 = -10, 0, 10; rest - 21.5 = -8.5, -4.5, 13;
 *       r = 215 / sqrt(200 * 261.5) = 215 / sqrt(52300).
 * Panel p2: a: 10 10 30;  b: 20 20 20;  c: 30 30 10.
 *   e3: rest 10, 20, 30 against 30, 20, 10: r = -1, mean deviation 0: flagged.
 *   e1: rest 20, 20, 20 is constant: no correlation, no flag.
 *   Team a still counts e3: trim 0 -> (10+10+30)/3 = 50/3. */
Test(expert_stats, rater_against_the_rest)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "p1.csv", "expert,team,item,score\ne1,a,v,10\ne2,a,v,12\ne3,a,v,14\n"
	    "e1,b,v,20\ne2,b,v,18\ne3,b,v,16\ne1,c,v,30\ne2,c,v,33\ne3,c,v,36\n");
	kvt_round_put(&r, "p2.csv", "expert,team,item,score\ne1,a,v,10\ne2,a,v,10\ne3,a,v,30\n"
	    "e1,b,v,20\ne2,b,v,20\ne3,b,v,20\ne1,c,v,30\ne2,c,v,30\ne3,c,v,10\n");
	const char *crit =
		"{ id = \"p1\"; plugin = \"expert\"; kind = \"score\"; points = 1.0; params = { sheet = \"p1.csv\";"
		" trim = 0; items = ( { id = \"v\"; max = 40; category = \"v\"; } ); }; },"
		"{ id = \"p2\"; plugin = \"expert\"; kind = \"score\"; points = 1.0; params = { sheet = \"p2.csv\";"
		" trim = 0; items = ( { id = \"v\"; max = 40; category = \"v\"; } ); }; }";
	cr_assert_eq(run_round(&r, TEAMS_ABC, crit, "eliminate_lowest = 1;"), 0, "%s", r.err.msg);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "p1", "deviation.e1"), -1.5, 1e-12);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "p1", "correlation.e1"), 215 / sqrt(52300), 1e-12);
	cr_assert_str_eq(round_ev_str(&r, "p1", "flag.e1"), "(absent)");
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "p2", "correlation.e3"), -1, 1e-12);
	cr_assert_float_eq(kvt_round_evidence_num(r.run, "p2", "deviation.e3"), 0, 1e-12);
	cr_assert(strstr(round_ev_str(&r, "p2", "flag.e3"), "negative correlation"));
	cr_assert(isnan(kvt_round_evidence_num(r.run, "p2", "correlation.e1")));
	cr_assert_float_eq(outcome(&r, "p2", "a")->value, 50.0 / 3, 1e-12);
	kvt_round_done(&r);
}

/* Everyone gives every team the same score: alpha has no expected
 * disagreement to compare with and is reported as undefined, not NaN. */
Test(expert_stats, alpha_undefined_is_a_note)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "s.csv", "expert,team,item,score\ne1,a,st,5\ne2,a,st,5\ne1,b,st,5\ne2,b,st,5\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, ONE_ITEM_CRITERION("s.csv", ""),
			       "eliminate_lowest = 1; unresolved_tie = \"keep\";"), 0, "%s", r.err.msg);
	cr_assert(isnan(kvt_round_evidence_num(r.run, "experts", "alpha")));
	cr_assert_str_eq(round_ev_str(&r, "experts", "alpha.note"), "undefined: all values are equal");
	kvt_round_done(&r);
}

/* ------------------------------------------------------------------------ */
/* bad input: exit status 2, the message names file, line and column          */

/* Three experts, teams a and b, items st (max 10) and rp (max 15). */
static const char BASE_SHEET[] =
	"expert,team,item,score,comment\n" /* line 1 */
	"e1,a,st,8,\n"                     /* 2 */
	"e1,a,rp,12,\n"                    /* 3 */
	"e2,a,st,7,\n"                     /* 4 */
	"e2,a,rp,11,\n"                    /* 5 */
	"e3,a,st,9,\n"                     /* 6 */
	"e3,a,rp,14,\n"                    /* 7 */
	"e1,b,st,5,\n"                     /* 8 */
	"e1,b,rp,10,\n"                    /* 9 */
	"e2,b,st,6,\n"                     /* 10 */
	"e2,b,rp,9,\n"                     /* 11 */
	"e3,b,st,4,\n"                     /* 12 */
	"e3,b,rp,13,\n";                   /* 13 */

#define BASE_CRITERION(extra) \
	"{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0;" \
	" params = { sheet = \"sheet.csv\"; " ITEMS_ST_RP " " extra " }; }"

/* The good sheet runs; the bad one, written in its place, stops the round
 * with status 2 and a message holding every needle. */
static void expect_bad(const char *good, const char *bad, const char *criterion,
		       const char *const *needles)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", good);
	cr_assert_eq(run_round(&r, TEAMS_AB, criterion, "eliminate_lowest = 1; unresolved_tie = \"keep\";"),
		     0, "good sheet: %s", r.err.msg);
	kvt_round_put(&r, "sheet.csv", bad);
	cr_assert_eq(run_round(&r, TEAMS_AB, criterion, "eliminate_lowest = 1; unresolved_tie = \"keep\";"),
		     2, "bad sheet ran: rc %d", r.rc);
	cr_assert_null(r.run, "a failed round hands back no result");
	for (size_t i = 0; needles[i]; i++)
		cr_assert(strstr(r.err.msg, needles[i]), "'%s' not in: %s", needles[i], r.err.msg);
	kvt_round_done(&r);
}

static void expect_bad_row(const char *prefix, const char *row, const char *criterion,
			   const char *const *needles)
{
	char *bad = replace_line(BASE_SHEET, prefix, row);
	expect_bad(BASE_SHEET, bad, criterion, needles);
	free(bad);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(expert_bad, score_above_item_max)
{
	expect_bad_row("e1,a,rp,", "e1,a,rp,16,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:3: column 'score'", "16 is outside [0, 15]", "item 'rp'"));
}

Test(expert_bad, negative_score)
{
	expect_bad_row("e1,a,st,", "e1,a,st,-1,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:2: column 'score'", "outside [0, 10]"));
}

Test(expert_bad, non_numeric_score)
{
	static const char *const bad[] = {"seven", "7점", "0x8", "nan", "inf", " 7", "7 ", "1e400"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *row = kv_xasprintf("e2,a,st,%s,", bad[i]);
		char *quote = kv_xasprintf("'%s' is not a number", bad[i]);
		expect_bad_row("e2,a,st,", row, BASE_CRITERION(""),
			       NEEDLES("sheet.csv:4: column 'score'", quote));
		free(row);
		free(quote);
	}
}

Test(expert_bad, unknown_team)
{
	expect_bad_row("e1,b,st,", "e1,zz,st,5,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:8: column 'team'", "team 'zz' is not in this round"));
}

Test(expert_bad, unknown_item)
{
	expect_bad_row("e1,b,rp,", "e1,b,impact,10,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:9: column 'item'", "item 'impact'"));
}

/* With the param experts the panel is declared: another name is an error. */
Test(expert_bad, unknown_expert)
{
	expect_bad_row("e2,b,st,", "e9,b,st,6,", BASE_CRITERION("experts = [\"e1\", \"e2\", \"e3\"];"),
		       NEEDLES("sheet.csv:10: column 'expert'", "expert 'e9'"));
}

/* A declared expert without rows has missing cells; under missing = "skip"
 * he simply has no total. */
Test(expert_bad, declared_expert_without_scores)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", BASE_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("experts = [\"e1\", \"e2\", \"e3\", \"e4\"];"),
			       "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "sheet.csv: no row for expert 'e4', team 'a', item 'st'"), "%s", r.err.msg);
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("experts = [\"e1\", \"e2\", \"e3\", \"e4\"];"
							    " missing = \"skip\";"),
			       "eliminate_lowest = 1;"), 0, "%s", r.err.msg);
	/* a: 20, 18, 23 (three totals < trim_min) -> 61/3 */
	cr_assert_float_eq(outcome(&r, "experts", "a")->value, 61.0 / 3, 1e-12);
	cr_assert_str_eq(ev_str(&r, "experts", "a", "incomplete"), "e4");
	kvt_round_done(&r);
}

Test(expert_bad, duplicate_cell)
{
	expect_bad_row("e2,b,rp,", "e2,b,st,6,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:11: column 'score'", "already scored on line 10"));
}

Test(expert_bad, missing_cell_without_row)
{
	expect_bad_row("e3,b,rp,", NULL, BASE_CRITERION(""),
		       NEEDLES("sheet.csv", "no row for expert 'e3', team 'b', item 'rp'"));
}

Test(expert_bad, missing_cell_blank_score)
{
	expect_bad_row("e3,b,rp,", "e3,b,rp,,", BASE_CRITERION(""),
		       NEEDLES("sheet.csv:13: column 'score'", "missing = \"error\""));
}

Test(expert_bad, empty_sheet)
{
	expect_bad(BASE_SHEET, "expert,team,item,score,comment\n", BASE_CRITERION(""),
		   NEEDLES("sheet.csv", "no scores"));
	expect_bad(BASE_SHEET, "", BASE_CRITERION(""), NEEDLES("sheet.csv", "empty"));
}

Test(expert_bad, missing_column)
{
	char *bad = replace_line(BASE_SHEET, "expert,", "expert,team,item,points,comment");
	expect_bad(BASE_SHEET, bad, BASE_CRITERION(""), NEEDLES("sheet.csv:1", "no column 'score'"));
	free(bad);
}

Test(expert_bad, checkbox_value_not_0_or_1)
{
	static const char *const bad[] = {"2", "yes", "1.0", "-1", " 1"};
	const char *crit = "{ id = \"box\"; plugin = \"expert\"; kind = \"gate\"; params = {"
			   " sheet = \"sheet.csv\"; mode = \"checkbox\"; item = \"indep\"; }; }";
	const char *good = "expert,team,item,score\ne1,a,indep,0\ne2,a,indep,1\ne1,b,indep,0\ne2,b,indep,0\n";
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *row = kv_xasprintf("e2,a,indep,%s", bad[i]);
		char *sheet = replace_line(good, "e2,a,", row);
		char *quote = kv_xasprintf("'%s' is not 0 or 1", bad[i]);
		expect_bad(good, sheet, crit, NEEDLES("sheet.csv:3: column 'score'", quote));
		free(row);
		free(sheet);
		free(quote);
	}
}

Test(expert_bad, recusal_file)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", BASE_SHEET);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne1,a\ne2,zz\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("recuse = \"recuse.csv\";"), "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "recuse.csv:3: column 'team'"), "%s", r.err.msg);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne7,a\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("recuse = \"recuse.csv\";"), "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "recuse.csv:2: column 'expert'"), "%s", r.err.msg);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne1,a\ne1,a\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("recuse = \"recuse.csv\";"), "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "recuse.csv:3:"), "%s", r.err.msg);
	kvt_round_done(&r);
}

/* Every expert recused from a team leaves no total to average. */
Test(expert_bad, team_without_any_total)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", BASE_SHEET);
	kvt_round_put(&r, "recuse.csv", "expert,team\ne1,b\ne2,b\ne3,b\n");
	cr_assert_eq(run_round(&r, TEAMS_AB, BASE_CRITERION("recuse = \"recuse.csv\";"), "eliminate_lowest = 1;"), 2);
	cr_assert(strstr(r.err.msg, "team 'b'"), "%s", r.err.msg);
	kvt_round_done(&r);
}

/* ------------------------------------------------------------------------ */
/* bad params                                                                 */

/* The message names the config line of the offending param (place "r.cfg:"),
 * or, for a missing param or a defaulted mode, which have no line, the
 * criterion (place "criterion '"). */
static void expect_bad_params_at(const char *criterion, const char *needle, const char *place)
{
	struct kvt_round r;
	round_init(&r);
	kvt_round_put(&r, "sheet.csv", BASE_SHEET);
	cr_assert_eq(run_round(&r, TEAMS_AB, criterion, "eliminate_lowest = 1;"), 2, "ran: %s", criterion);
	cr_assert(strstr(r.err.msg, needle), "'%s' not in: %s", needle, r.err.msg);
	cr_assert(strstr(r.err.msg, place), "'%s' not in: %s", place, r.err.msg);
	kvt_round_done(&r);
}

static void expect_bad_params(const char *criterion, const char *needle)
{
	expect_bad_params_at(criterion, needle, "r.cfg:");
}

#define RUBRIC(params) \
	"{ id = \"experts\"; plugin = \"expert\"; kind = \"score\"; points = 35.0;" \
	" params = { sheet = \"sheet.csv\"; " params " }; }"

Test(expert_params, items_are_checked)
{
	expect_bad_params(RUBRIC("items = ( { id = \"st\"; maximum = 10; category = \"s\"; } );"), "'maximum'");
	expect_bad_params(RUBRIC("items = ( { id = \"st\"; category = \"s\"; } );"), "needs 'max'");
	expect_bad_params(RUBRIC("items = ( { id = \"st\"; max = 0; category = \"s\"; } );"), "positive");
	expect_bad_params(RUBRIC("items = ( { id = \"st\"; max = 10; } );"), "needs 'category'");
	expect_bad_params(RUBRIC("items = ( { max = 10; category = \"s\"; } );"), "needs 'id'");
	expect_bad_params(RUBRIC("items = ( { id = \"st\"; max = 10; category = \"s\"; },"
				 " { id = \"st\"; max = 5; category = \"s\"; } );"), "listed twice");
	expect_bad_params(RUBRIC("items = ( \"st\" );"), "must be a group");
	expect_bad_params_at(RUBRIC(""), "needs the param 'items'", "criterion 'experts'");
}

Test(expert_params, trim_and_rules)
{
	expect_bad_params(RUBRIC(ITEMS_ST_RP " trim = 2; trim_min = 4;"), "at least 2 * trim + 1");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " trim = -1;"), "0 or more");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " fail_when = \"at_least:0\";"), "at_least:N");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " fail_when = \"most\";"), "at_least:N");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " missing = \"zero\";"), "error|skip");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " experts = [\"e1\", \"e1\"];"), "listed twice");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " ignore_items = [\"st\"];"), "both scored and ignored");
}

Test(expert_params, mode_and_kind_agree)
{
	expect_bad_params_at(RUBRIC(ITEMS_ST_RP " mode = \"approval\";"), "needs kind = \"gate\"",
			     "criterion 'experts'");
	expect_bad_params_at("{ id = \"g\"; plugin = \"expert\"; kind = \"gate\"; params = {"
			     " sheet = \"sheet.csv\"; }; }", "needs kind = \"score\"", "criterion 'g'");
	expect_bad_params_at("{ id = \"g\"; plugin = \"expert\"; kind = \"gate\"; params = {"
			     " sheet = \"sheet.csv\"; mode = \"checkbox\"; }; }", "needs the param 'item'",
			     "criterion 'g'");
	expect_bad_params("{ id = \"g\"; plugin = \"expert\"; kind = \"gate\"; params = {"
			  " sheet = \"sheet.csv\"; mode = \"checkbox\"; item = \"x\"; " ITEMS_ST_RP " }; }",
			  "is for mode \"rubric\"");
	expect_bad_params(RUBRIC(ITEMS_ST_RP " item = \"x\";"), "is for checkbox/approval");
}

/* ------------------------------------------------------------------------ */
/* end to end: the kaieval binary loading expert.so                           */

static const struct kv_value *team_record(const struct kv_value *root, const char *id)
{
	const struct kv_value *teams = kv_value_member(root, "teams");
	for (size_t i = 0; teams && i < teams->count; i++) {
		const struct kv_value *id_v = kv_value_member(teams->items[i], "id");
		if (id_v && id_v->str && strcmp(id_v->str, id) == 0)
			return teams->items[i];
	}
	return NULL;
}

/* tests/data/expert/stage1: lg's totals are 30 31 32 33 34 29 28 35 27 31
 * (e01..e10); drop 27 (e09) and 35 (e08): 248/8 = 31 points of 35. */
Test(expert_e2e, stage1_round_through_the_binary)
{
	char *cfg = kvt_src("tests/data/expert/stage1/round.cfg");
	char *dir = kvt_tempdir();
	char *out1 = kv_xasprintf("%s/one.json", dir), *out2 = kv_xasprintf("%s/two.json", dir);
	char *err = NULL;
	cr_assert_eq(kvt_exec((const char *[]){"run", cfg, "-o", out1, NULL}, NULL, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(kvt_exec((const char *[]){"run", cfg, "-o", out2, NULL}, NULL, NULL), 0);
	char *json = kvt_read(out1), *again = kvt_read(out2);
	cr_assert_not_null(json);
	cr_assert_str_eq(json, again, "two runs gave different bytes");
	struct kv_error perr = {0};
	struct kv_value *root = kv_value_parse_json(json, strlen(json), "one.json", &perr);
	cr_assert_not_null(root, "%s", perr.msg);
	const struct kv_value *lg = team_record(root, "lg");
	cr_assert_not_null(lg);
	const struct kv_value *crit = kv_value_member(kv_value_member(lg, "criteria"), "experts");
	double value, normalized;
	cr_assert(kv_value_as_double(kv_value_member(crit, "value"), &value));
	cr_assert(kv_value_as_double(kv_value_member(crit, "normalized"), &normalized));
	cr_assert_float_eq(value, 31.0, 1e-12);
	cr_assert_float_eq(normalized, 31.0 / 35, 1e-12);
	const struct kv_value *evid = kv_value_member(crit, "evidence");
	cr_assert_str_eq(kv_value_member(evid, "dropped_low")->str, "e09");
	cr_assert_str_eq(kv_value_member(evid, "dropped_high")->str, "e08");
	kv_value_free(root);
	free(json);
	free(again);
	kvt_rmtree(dir);
	free(dir);
	free(out1);
	free(out2);
	free(cfg);
}

/* tests/data/expert/bad: e01's "results" for lg is 16 > 15 on line 3. */
Test(expert_e2e, bad_sheet_exits_2_and_writes_nothing)
{
	char *cfg = kvt_src("tests/data/expert/bad/round.cfg");
	char *dir = kvt_tempdir();
	char *out = kv_xasprintf("%s/result.json", dir);
	char *err = NULL;
	cr_assert_eq(kvt_exec((const char *[]){"run", cfg, "-o", out, NULL}, NULL, &err), 2);
	cr_assert(strstr(err, "experts.csv:3: column 'score'"), "%s", err);
	cr_assert_not(kvt_exists(out), "a failed run wrote %s", out);
	free(err);
	kvt_rmtree(dir);
	free(dir);
	free(out);
	free(cfg);
}

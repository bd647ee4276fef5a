/* kaieval explain / diff / whatif: reading records for a person. */
#include "audit.h"
#include "human.h"
#include "jsondoc.h"
#include "record.h"
#include "report.h"
#include "result.h"
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void print_num(FILE *out, double x)
{
	char s[32];
	kv_format_human(x, s);
	fputs(s, out);
}

static void print_value(const struct kv_evidence_item *e, FILE *out)
{
	if (e->is_num)
		print_num(out, e->num);
	else
		kv_fput_text(e->str ? e->str : "null", e->str ? strlen(e->str) : 4, 0, out);
}

/* Length of the prefix up to and including the last '.' of a chart key
 * (histogram.GROUP.BIN, matrix.A.B.wins), 0 for any other key. */
static size_t chart_prefix(const char *key)
{
	if (strncmp(key, "histogram.", 10) != 0 && strncmp(key, "matrix.", 7) != 0)
		return 0;
	const char *dot = strrchr(key, '.');
	return (size_t)(dot - key) + 1;
}

/* Chart data (histogram bins, a pairwise matrix) would be a screenful of
 * lines: a histogram is one line of BIN=COUNT, a matrix one line counting
 * its cells; the record and the report keep them whole. */
static size_t print_chart_run(const struct kv_evidence *ev, size_t i, const char *indent, FILE *out)
{
	const char *key = ev->items[i].key;
	size_t n = chart_prefix(key), j = i;
	if (strncmp(key, "matrix.", 7) == 0) {
		j = kv_evidence_run_end(ev, i, "matrix.");
		fprintf(out, "%smatrix: %zu entries (battles and wins per pair; see kaieval report)\n", indent, j - i);
		return j;
	}
	fprintf(out, "%s%.*s:", indent, (int)(n - 1), key);
	for (; j < ev->count && strncmp(ev->items[j].key, key, n) == 0 && !strchr(ev->items[j].key + n, '.'); j++) {
		fprintf(out, " %s=", ev->items[j].key + n);
		print_value(&ev->items[j], out);
	}
	fputc('\n', out);
	return j;
}

static void print_evidence(const struct kv_evidence *ev, const char *indent, FILE *out)
{
	for (size_t i = 0; i < ev->count;) {
		const struct kv_evidence_item *e = &ev->items[i];
		if (chart_prefix(e->key) > 0) {
			i = print_chart_run(ev, i, indent, out);
			continue;
		}
		fprintf(out, "%s%s: ", indent, e->key);
		print_value(e, out);
		fputc('\n', out);
		i++;
	}
}

static void explain_criterion(const struct kv_record *rec, size_t c, const struct kv_team_outcome *o, FILE *out)
{
	const struct kv_rec_criterion *rule = &rec->criteria[c];
	fprintf(out, "  %s (%s, plugin %s", rule->id, kv_kind_name(rule->kind), rule->plugin);
	if (rule->group)
		fprintf(out, ", group %s", rule->group);
	fputs(")\n", out);
	if (o->has_value) {
		fputs("    raw value: ", out);
		print_num(out, o->value);
		fprintf(out, "%s%s\n", *o->unit ? " " : "", o->unit);
	}
	if (rule->kind == KV_KIND_GATE) {
		fprintf(out, "    verdict: %s\n", o->pass ? "pass" : "FAIL");
	} else if (o->has_normalized) {
		fputs("    normalized: ", out);
		print_num(out, o->normalized);
		if (rule->kind == KV_KIND_SCORE) {
			fputs(" x ", out);
			print_num(out, rule->points);
			fputs(" points = ", out);
			print_num(out, o->points);
		}
		fputc('\n', out);
	}
	print_evidence(&o->evidence, "    | ", out);
}

static int count_ranked(const struct kv_record *rec)
{
	int n = 0;
	for (size_t i = 0; i < rec->team_count; i++)
		n += rec->teams[i].standing.rank != 0;
	return n;
}

static void explain_tie(const struct kv_record *rec, const struct kv_standing *s, FILE *out)
{
	if (s->tied_count == 0)
		return;
	fputs("  tie: total within tie_precision of", out);
	for (size_t i = 0; i < s->tied_count; i++)
		fprintf(out, " %s", rec->teams[s->tied_with[i]].team.id);
	const char *by = s->tie_break_by >= 0 ? rec->selection.tie_break[s->tie_break_by] : NULL;
	fprintf(out, "; %s\n", by ? by : "not separated by tie_break (shared rank)");
	if (by)
		fprintf(out, "  tie broken by the points of '%s'\n", by);
}

/* Why the team advanced or not, in words, from the rules in the record. */
static void explain_decision(const struct kv_record *rec, const struct kv_rec_team *team, FILE *out)
{
	const struct kv_selection *sel = &rec->selection;
	const struct kv_standing *s = &team->standing;
	int ranked = count_ranked(rec);
	char rule[96];
	if (sel->rule == KV_SELECT_ADVANCE)
		snprintf(rule, sizeof rule, "the %d highest of the ranked teams advance", (int)sel->n);
	else
		snprintf(rule, sizeof rule, "the %d lowest of the ranked teams are eliminated", (int)sel->n);
	fputs("  decision: ", out);
	switch (s->reason) {
	case KV_REASON_GATE:
		fprintf(out, "eliminated because it failed the gate '%s' (its findings are listed under that criterion); "
			     "a team failing a gate is not ranked\n", rec->criteria[s->reason_gate].id);
		break;
	case KV_REASON_BELOW_MIN_TOTAL:
		fputs("eliminated because its total is below min_total = ", out);
		print_num(out, sel->has_min_total ? sel->min_total : NAN);
		fputc('\n', out);
		break;
	case KV_REASON_LOWEST_TOTAL:
		fprintf(out, "eliminated on score: rank %d of %d ranked teams, and %s\n", (int)s->rank, ranked, rule);
		break;
	case KV_REASON_NONE:
		fprintf(out, "%s: rank %d of %d ranked teams, and %s\n",
			kv_status_name(s->status), (int)s->rank, ranked, rule);
		break;
	}
	explain_tie(rec, s, out);
}

/* What each plugin said of the round as a whole (panel agreement, counts). */
static void explain_round_evidence(const struct kv_record *rec, FILE *out)
{
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_evidence *ev = &rec->plugins[c].evidence;
		if (ev->count == 0)
			continue;
		fprintf(out, "criterion %s (plugin %s), for the whole round:\n", rec->criteria[c].id,
			rec->plugins[c].plugin);
		print_evidence(ev, "  | ", out);
	}
	fputc('\n', out);
}

/* Points to the score cut, as kaieval robustness reports it (kv_rec_margin). */
static void explain_margin(const struct kv_record *rec, const struct kv_rec_team *team, FILE *out)
{
	const struct kv_rec_team *other;
	double margin;
	if (!kv_rec_margin(rec, team, &margin, &other))
		return;
	fputs("  margin to the cut: ", out);
	print_num(out, margin);
	fprintf(out, " points (%s %s)\n", team->standing.status == KV_ADVANCE ?
		"ahead of the best team eliminated on score," : "against the last team to advance,", other->team.id);
}

static void explain_team(const struct kv_record *rec, const struct kv_rec_team *team, FILE *out)
{
	fprintf(out, "%s — %s (%s)\n", team->team.id, team->team.name, team->team.model);
	fputs("  total: ", out);
	print_num(out, team->standing.total);
	if (team->standing.rank)
		fprintf(out, " points, rank %d\n", (int)team->standing.rank);
	else
		fputs(" points, not ranked\n", out);
	for (size_t g = 0; g < rec->group_count; g++) {
		fprintf(out, "  group %s: ", rec->groups[g]);
		print_num(out, team->groups[g]);
		fputs(" points\n", out);
	}
	for (size_t c = 0; c < rec->criterion_count; c++)
		explain_criterion(rec, c, &team->outcomes[c], out);
	explain_decision(rec, team, out);
	explain_margin(rec, team, out);
}

int kv_explain(const char *record, const char *team, FILE *out)
{
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(record, &err);
	if (!rec) {
		kv_error_print(&err, stderr);
		return err.status;
	}
	fprintf(out, "round %s — %s (%s)\n\n", rec->round_id, rec->title, rec->date);
	explain_round_evidence(rec, out);
	int found = 0;
	for (size_t i = 0; i < rec->team_count; i++) {
		if (team && strcmp(rec->teams[i].team.id, team) != 0)
			continue;
		explain_team(rec, &rec->teams[i], out);
		fputc('\n', out);
		found = 1;
	}
	kv_record_free(rec);
	if (!found) {
		fprintf(stderr, "kaieval: %s: no team '%s' in the record\n", record, team);
		return KV_EXIT_INPUT;
	}
	return 0;
}

/* The differences left once the versions of kaieval and the plugins, and
 * plugin file digests an older record holds, are set aside. */
static size_t scoring_differences(struct kv_record *ra, struct kv_record *rb)
{
	struct kv_buf a = {0}, b = {0}, lines = {0};
	struct kv_error err = {0};
	kv_record_blank_build(ra);
	kv_record_blank_build(rb);
	kv_record_write(ra, &a);
	kv_record_write(rb, &b);
	cJSON *ja = kv_json_parse(a.data, a.len, "old", &err), *jb = kv_json_parse(b.data, b.len, "new", &err);
	size_t n = ja && jb ? kv_json_diff(ja, jb, "", &lines) : 1;
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	kv_buf_free(&a);
	kv_buf_free(&b);
	kv_buf_free(&lines);
	return n;
}

/* The members of a record that score: the rules applied and the standings. */
static size_t scoring_diff(const cJSON *a, const cJSON *b, struct kv_buf *out)
{
	static const char *const members[] = {"criteria", "selection", "teams", "eliminated"};
	size_t n = 0;
	for (size_t i = 0; i < sizeof members / sizeof *members; i++)
		n += kv_json_diff(cJSON_GetObjectItemCaseSensitive(a, members[i]),
				  cJSON_GetObjectItemCaseSensitive(b, members[i]), members[i], out);
	return n;
}

/* diff --scoring: decisions first, then only what scores. */
static int diff_scoring(const cJSON *a, const cJSON *b, size_t nd, const struct kv_buf *decisions, FILE *out)
{
	struct kv_buf details = {0};
	size_t n = scoring_diff(a, b, &details);
	if (nd)
		kv_print_text(out, "decisions that changed:\n", decisions->data, "\n");
	else
		fputs("no decision changed\n", out);
	if (n)
		kv_print_text(out, "scoring differences (old -> new):\n", details.data, "");
	else
		fputs("the scoring is identical\n", out);
	kv_buf_free(&details);
	return n ? KV_EXIT_DIFF : 0;
}

int kv_diff(const char *old_record, const char *new_record, int scoring_only, FILE *out)
{
	struct kv_error err = {0};
	cJSON *a = kv_json_load(old_record, &err);
	cJSON *b = a ? kv_json_load(new_record, &err) : NULL;
	struct kv_record *ra = b ? kv_record_from_json(a, old_record, &err) : NULL;
	struct kv_record *rb = ra ? kv_record_from_json(b, new_record, &err) : NULL;
	if (!rb) {
		kv_error_print(&err, stderr);
		kv_record_free(ra);
		cJSON_Delete(a);
		cJSON_Delete(b);
		return err.status;
	}
	struct kv_buf decisions = {0}, details = {0};
	/* Decisions from the typed records; every difference member by member. */
	size_t nd = kv_decision_diff(ra, rb, &decisions);
	if (scoring_only) {
		int rc = diff_scoring(a, b, nd, &decisions, out);
		kv_buf_free(&decisions);
		kv_record_free(ra);
		kv_record_free(rb);
		cJSON_Delete(a);
		cJSON_Delete(b);
		return rc;
	}
	size_t n = kv_json_diff(a, b, "", &details);
	int same_scoring = n == 0 || scoring_differences(ra, rb) == 0;
	if (n == 0)
		fputs("no differences\n", out);
	else if (same_scoring)
		fputs("the scoring is identical; only build identities differ\n", out);
	else if (nd == 0)
		fputs("no decision changed\n\n", out);
	if (nd)
		kv_print_text(out, "decisions that changed:\n", decisions.data, "\n");
	if (n)
		kv_print_text(out, "every difference (old -> new):\n", details.data, "");
	kv_buf_free(&decisions);
	kv_buf_free(&details);
	kv_record_free(ra);
	kv_record_free(rb);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return same_scoring ? 0 : KV_EXIT_DIFF;
}

static void decision_cell(const struct kv_run *run, size_t t, const char *reason, char *buf, size_t len)
{
	const struct kv_standing *s = &run->standings[t];
	char rank[16];
	snprintf(rank, sizeof rank, s->rank ? "%ld" : "-", s->rank);
	snprintf(buf, len, "%-3s %-10s %-18s %6.2f", rank, kv_status_name(s->status), reason ? reason : "",
		 s->total == 0 ? 0.0 : s->total);
}

/* Both runs of a what-if: as configured and with the keys set. */
static int whatif_runs(const char *arg, const char *const *sets, size_t count, struct kv_run **base,
		       struct kv_run **alt, struct kv_error *err)
{
	struct kv_round_arg ra;
	int rc = kv_round_arg_open(arg, &ra, err);
	const char **all = kv_xcalloc(count + 1, sizeof *all);
	for (size_t i = 0; i < ra.override_count; i++)
		all[i] = ra.overrides[i];
	for (size_t i = 0; i < count; i++)
		all[ra.override_count + i] = sets[i];
	if (rc == 0)
		rc = kv_run_round(ra.config, ra.overrides, ra.override_count, base, err);
	if (rc == 0 && (rc = kv_run_round(ra.config, all, ra.override_count + count, alt, err)) != 0)
		kv_run_free(*base);
	kv_round_arg_close(&ra);
	free(all);
	return rc;
}

/* The decisions as configured beside the decisions under the changes. */
static void whatif_table(const struct kv_run *base, const struct kv_run *alt, const char *const *sets,
			 size_t count, FILE *out)
{
	fputs("what if", out);
	for (size_t i = 0; i < count; i++)
		fprintf(out, " %s", sets[i]);
	int width = kv_team_id_width(base->round, 14);
	fprintf(out, "\n\n%-*s  %-44s  %s\n", width, "team", "as configured (rank status reason total)", "what if");
	for (size_t i = 0; i < base->round->team_count; i++) {
		size_t t = base->order[i];
		char a[96], b[96];
		char *r1 = kv_run_reason(base, t), *r2 = kv_run_reason(alt, t);
		decision_cell(base, t, r1, a, sizeof a);
		decision_cell(alt, t, r2, b, sizeof b);
		int changed = base->standings[t].status != alt->standings[t].status ||
			      strcmp(r1 ? r1 : "", r2 ? r2 : "") != 0;
		fprintf(out, "%-*s  %-44s  %s%s\n", width, base->round->teams[t].id, a, b, changed ? "  <- changed" : "");
		free(r1);
		free(r2);
	}
}

int kv_whatif(const char *config, const char *const *sets, size_t count, const char *output, FILE *out)
{
	struct kv_error err = {0};
	struct kv_run *base, *alt;
	int rc = whatif_runs(config, sets, count, &base, &alt, &err);
	if (rc == 0 && output) {
		struct kv_buf json = {0};
		kv_result_json(alt, &json);
		if ((rc = kv_write_file_atomic(output, json.data, json.len, &err)) != 0) {
			kv_run_free(base);
			kv_run_free(alt);
		}
		kv_buf_free(&json);
	}
	if (rc) {
		kv_error_print(&err, stderr);
		return rc;
	}
	whatif_table(base, alt, sets, count, out);
	kv_run_free(base);
	kv_run_free(alt);
	return 0;
}

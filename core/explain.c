/* kaieval explain / diff / whatif: reading records for a person. */
#include "audit.h"
#include "record.h"
#include "result.h"
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void print_num(FILE *out, double x)
{
	char s[32];
	kv_format_double(x, s);
	fputs(s, out);
}

static void print_evidence(const cJSON *evidence, const char *indent, FILE *out)
{
	for (const cJSON *e = evidence ? evidence->child : NULL; e; e = e->next) {
		fprintf(out, "%s%s: ", indent, e->string);
		if (cJSON_IsNumber(e))
			print_num(out, e->valuedouble);
		else if (cJSON_IsString(e))
			fputs(e->valuestring, out);
		else
			fputs(cJSON_IsTrue(e) ? "true" : cJSON_IsFalse(e) ? "false" : "null", out);
		fputc('\n', out);
	}
}

static const cJSON *criterion_rule(const cJSON *rec, const char *id)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(rec, "criteria");
	for (const cJSON *c = list ? list->child : NULL; c; c = c->next)
		if (kv_json_str(c, "id") && strcmp(kv_json_str(c, "id"), id) == 0)
			return c;
	return NULL;
}

static void explain_criterion(const cJSON *rec, const cJSON *outcome, FILE *out)
{
	const char *id = outcome->string, *kind = kv_json_str(outcome, "kind");
	const cJSON *rule = criterion_rule(rec, id);
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(outcome, "value");
	const char *unit = kv_json_str(outcome, "unit");
	fprintf(out, "  %s (%s, plugin %s", id, kind ? kind : "?", rule ? kv_json_str(rule, "plugin") : "?");
	if (rule && kv_json_str(rule, "group"))
		fprintf(out, ", group %s", kv_json_str(rule, "group"));
	fputs(")\n", out);
	if (cJSON_IsNumber(value)) {
		fputs("    raw value: ", out);
		print_num(out, value->valuedouble);
		fprintf(out, "%s%s\n", unit && *unit ? " " : "", unit ? unit : "");
	}
	if (kind && strcmp(kind, "gate") == 0) {
		fprintf(out, "    verdict: %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(outcome, "pass")) ? "pass" : "FAIL");
	} else if (cJSON_GetObjectItemCaseSensitive(outcome, "normalized")) {
		fputs("    normalized: ", out);
		print_num(out, kv_json_num(outcome, "normalized", NAN));
		if (kind && strcmp(kind, "score") == 0) {
			fputs(" x ", out);
			print_num(out, kv_json_num(rule, "points", NAN));
			fputs(" points = ", out);
			print_num(out, kv_json_num(outcome, "points", NAN));
		}
		fputc('\n', out);
	}
	print_evidence(cJSON_GetObjectItemCaseSensitive(outcome, "evidence"), "    | ", out);
}

static int count_ranked(const cJSON *teams)
{
	int n = 0;
	for (const cJSON *t = teams ? teams->child : NULL; t; t = t->next)
		n += cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, "rank"));
	return n;
}

/* Why the team advanced or not, in words, from the rules in the record. */
static void explain_decision(const cJSON *rec, const cJSON *team, FILE *out)
{
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(rec, "selection");
	const char *reason = kv_json_str(team, "reason"), *status = kv_json_str(team, "status");
	int ranked = count_ranked(cJSON_GetObjectItemCaseSensitive(rec, "teams"));
	const cJSON *adv = cJSON_GetObjectItemCaseSensitive(sel, "advance");
	const cJSON *elim = cJSON_GetObjectItemCaseSensitive(sel, "eliminate_lowest");
	char rule[96];
	if (cJSON_IsNumber(adv))
		snprintf(rule, sizeof rule, "the %d highest of the ranked teams advance", adv->valueint);
	else
		snprintf(rule, sizeof rule, "the %d lowest of the ranked teams are eliminated",
			 cJSON_IsNumber(elim) ? elim->valueint : 0);
	fputs("  decision: ", out);
	if (reason && strncmp(reason, "gate:", 5) == 0)
		fprintf(out, "eliminated because it failed the gate '%s' (its findings are listed under that criterion); "
			     "a team failing a gate is not ranked\n", reason + 5);
	else if (reason && strcmp(reason, "below_min_total") == 0)
		fprintf(out, "eliminated because its total is below min_total = %g\n", kv_json_num(sel, "min_total", NAN));
	else if (reason && strcmp(reason, "lowest_total") == 0)
		fprintf(out, "eliminated on score: rank %d of %d ranked teams, and %s\n",
			(int)kv_json_num(team, "rank", 0), ranked, rule);
	else
		fprintf(out, "%s: rank %d of %d ranked teams, and %s\n", status ? status : "?",
			(int)kv_json_num(team, "rank", 0), ranked, rule);
	const cJSON *tied = cJSON_GetObjectItemCaseSensitive(team, "tied_with");
	if (cJSON_GetArraySize(tied) > 0) {
		fputs("  tie: total within tie_precision of", out);
		for (const cJSON *t = tied->child; t; t = t->next)
			fprintf(out, " %s", t->valuestring);
		const char *by = kv_json_str(team, "tie_break_by");
		fprintf(out, "; %s\n", by ? by : "not separated by tie_break (shared rank)");
		if (by)
			fprintf(out, "  tie broken by the points of '%s'\n", by);
	}
}

static void explain_team(const cJSON *rec, const cJSON *team, FILE *out)
{
	const cJSON *rank = cJSON_GetObjectItemCaseSensitive(team, "rank");
	fprintf(out, "%s — %s (%s)\n", kv_json_str(team, "id"), kv_json_str(team, "name"), kv_json_str(team, "model"));
	fputs("  total: ", out);
	print_num(out, kv_json_num(team, "total", NAN));
	if (cJSON_IsNumber(rank))
		fprintf(out, " points, rank %d\n", rank->valueint);
	else
		fputs(" points, not ranked\n", out);
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(team, "groups");
	for (const cJSON *g = groups ? groups->child : NULL; g; g = g->next) {
		fprintf(out, "  group %s: ", g->string);
		print_num(out, g->valuedouble);
		fputs(" points\n", out);
	}
	const cJSON *crit = cJSON_GetObjectItemCaseSensitive(team, "criteria");
	for (const cJSON *c = crit ? crit->child : NULL; c; c = c->next)
		explain_criterion(rec, c, out);
	explain_decision(rec, team, out);
}

int kv_explain(const char *record, const char *team, FILE *out)
{
	struct kv_error err = {0};
	cJSON *rec = kv_record_load(record, &err);
	if (!rec) {
		fprintf(stderr, "kaieval: %s\n", err.msg);
		return err.status;
	}
	const cJSON *round = cJSON_GetObjectItemCaseSensitive(rec, "round");
	const cJSON *teams = cJSON_GetObjectItemCaseSensitive(rec, "teams");
	if (!round || !cJSON_IsArray(teams)) {
		fprintf(stderr, "kaieval: %s: not a kaieval result record\n", record);
		cJSON_Delete(rec);
		return KV_EXIT_INPUT;
	}
	fprintf(out, "round %s — %s (%s)\n\n", kv_json_str(round, "id"), kv_json_str(round, "title"),
		kv_json_str(round, "date"));
	int found = 0;
	for (const cJSON *t = teams->child; t; t = t->next) {
		if (team && (!kv_json_str(t, "id") || strcmp(kv_json_str(t, "id"), team) != 0))
			continue;
		explain_team(rec, t, out);
		fputc('\n', out);
		found = 1;
	}
	cJSON_Delete(rec);
	if (!found) {
		fprintf(stderr, "kaieval: %s: no team '%s' in the record\n", record, team);
		return KV_EXIT_INPUT;
	}
	return 0;
}

int kv_diff(const char *old_record, const char *new_record, FILE *out)
{
	struct kv_error err = {0};
	cJSON *a = kv_record_load(old_record, &err);
	cJSON *b = a ? kv_record_load(new_record, &err) : NULL;
	if (!b) {
		fprintf(stderr, "kaieval: %s\n", err.msg);
		cJSON_Delete(a);
		return err.status;
	}
	struct kv_buf decisions = {0}, details = {0};
	size_t nd = kv_decision_diff(a, b, &decisions);
	size_t n = kv_json_diff(a, b, "", &details);
	if (n == 0)
		fputs("no differences\n", out);
	if (nd)
		fprintf(out, "decisions that changed:\n%s\n", decisions.data);
	if (n)
		fprintf(out, "every difference (old -> new):\n%s", details.data);
	kv_buf_free(&decisions);
	kv_buf_free(&details);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return n ? KV_EXIT_DIFF : 0;
}

static void decision_cell(const struct kv_run *run, size_t t, char *buf, size_t len)
{
	const struct kv_standing *s = &run->standings[t];
	char rank[16];
	snprintf(rank, sizeof rank, s->rank ? "%ld" : "-", s->rank);
	snprintf(buf, len, "%-3s %-10s %-18s %6.2f", rank, s->status == KV_ADVANCE ? "advance" : "eliminated",
		 s->reason ? s->reason : "", s->total);
}

int kv_whatif(const char *config, const char *const *sets, size_t count, FILE *out)
{
	struct kv_error err = {0};
	struct kv_run *base, *alt;
	int rc = kv_run_round(config, NULL, 0, &base, &err);
	if (rc == 0 && (rc = kv_run_round(config, sets, count, &alt, &err)) != 0)
		kv_run_free(base);
	if (rc) {
		fprintf(stderr, "kaieval: %s\n", err.msg);
		return rc;
	}
	fputs("what if", out);
	for (size_t i = 0; i < count; i++)
		fprintf(out, " %s", sets[i]);
	fprintf(out, "\n\n%-14s  %-44s  %s\n", "team", "as configured (rank status reason total)", "what if");
	for (size_t i = 0; i < base->round->team_count; i++) {
		size_t t = base->order[i];
		char a[96], b[96];
		decision_cell(base, t, a, sizeof a);
		decision_cell(alt, t, b, sizeof b);
		const char *r1 = base->standings[t].reason, *r2 = alt->standings[t].reason;
		int changed = base->standings[t].status != alt->standings[t].status ||
			      strcmp(r1 ? r1 : "", r2 ? r2 : "") != 0;
		fprintf(out, "%-14s  %-44s  %s%s\n", base->round->teams[t].id, a, b, changed ? "  <- changed" : "");
	}
	kv_run_free(base);
	kv_run_free(alt);
	return 0;
}

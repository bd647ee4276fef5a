/* The record is written by record.c; this is the terminal table of a run. */
#include "result.h"
#include "human.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

void kv_result_json(const struct kv_run *run, struct kv_buf *out)
{
	struct kv_record *rec = kv_record_from_run(run);
	kv_record_write(rec, out);
	kv_record_free(rec);
}

/* The group criterion c opens, or NULL: each group is listed once, at its
 * first member, in config order. */
static const char *group_opened_by(const struct kv_round *r, size_t c)
{
	const char *g = r->criteria[c].group;
	for (size_t d = 0; g && d < c; d++)
		if (r->criteria[d].group && strcmp(r->criteria[d].group, g) == 0)
			return NULL;
	return g;
}

/* Columns: each score criterion, then each group's subtotal. */
struct column {
	const char *id;
	int is_group;
};

static size_t table_columns(const struct kv_round *r, struct column *cols)
{
	size_t n = 0;
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind == KV_KIND_SCORE)
			cols[n++] = (struct column){r->criteria[c].id, 0};
	for (size_t c = 0; c < r->criterion_count; c++)
		if (group_opened_by(r, c))
			cols[n++] = (struct column){group_opened_by(r, c), 1};
	return n;
}

/* Gate and info criteria after the reason: PASS/FAIL, or the value. */
static int has_gate_info(const struct kv_round *r)
{
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind != KV_KIND_SCORE)
			return 1;
	return 0;
}

/* The width of a gate or info column; the last one is not padded. */
static int gate_info_width(const struct kv_round *r, size_t c)
{
	for (size_t d = c + 1; d < r->criterion_count; d++)
		if (r->criteria[d].kind != KV_KIND_SCORE)
			return 12;
	return 0;
}

static void gate_info_header(const struct kv_round *r, FILE *f)
{
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind != KV_KIND_SCORE) {
			fputs("  ", f);
			kv_print_padded(f, r->criteria[c].id, gate_info_width(r, c));
		}
}

static void gate_info_cells(const struct kv_run *run, size_t t, FILE *f)
{
	const struct kv_round *r = run->round;
	for (size_t c = 0; c < r->criterion_count; c++) {
		const struct kv_team_outcome *o = &run->results[c].teams[t];
		char v[32] = "";
		if (r->criteria[c].kind == KV_KIND_SCORE)
			continue;
		if (r->criteria[c].kind == KV_KIND_GATE)
			strcpy(v, o->pass ? "PASS" : "FAIL");
		else if (o->has_value)
			kv_format_human(o->value, v);
		fputs("  ", f);
		kv_print_padded(f, v, gate_info_width(r, c));
	}
}

/* The team and model columns: 14 and 28, or wider where a team's id or
 * model is. */
static void name_widths(const struct kv_round *r, int *team, int *model)
{
	*team = 14;
	*model = 28;
	for (size_t t = 0; t < r->team_count; t++) {
		*team = kv_wider(*team, r->teams[t].id);
		*model = kv_wider(*model, r->teams[t].model);
	}
}

void kv_result_table(const struct kv_run *run, FILE *f)
{
	const struct kv_round *r = run->round;
	struct column *cols = kv_xcalloc(2 * r->criterion_count, sizeof *cols);
	size_t ncols = table_columns(r, cols);
	int team_width, model_width;
	name_widths(r, &team_width, &model_width);
	fprintf(f, "%s — %s (%s)\n\n", r->id, r->title, r->date);
	fprintf(f, "%-4s  %-*s  %-*s", "rank", team_width, "team", model_width, "model");
	for (size_t i = 0; i < ncols; i++) {
		fputs("  ", f);
		kv_print_padded(f, cols[i].id, cols[i].is_group ? -9 : -10);
		fputs(cols[i].is_group ? "*" : "", f);
	}
	fprintf(f, "  %8s  %-10s  ", "total", "status");
	kv_print_padded(f, "reason", has_gate_info(r) ? 18 : 0);
	gate_info_header(r, f);
	fputc('\n', f);
	for (size_t i = 0; i < r->team_count; i++) {
		size_t t = run->order[i];
		const struct kv_standing *s = &run->standings[t];
		char rank[16];
		snprintf(rank, sizeof rank, s->rank ? "%ld" : "-", s->rank);
		fprintf(f, "%-4s  ", rank);
		kv_print_padded(f, r->teams[t].id, team_width);
		fputs("  ", f);
		kv_print_padded(f, r->teams[t].model, model_width);
		for (size_t c = 0; c < ncols; c++)
			fprintf(f, "  %10.2f", kv_run_group_points(run, t, cols[c].id));
		char *reason = kv_run_reason(run, t);
		fprintf(f, "  %8.2f  %-10s  ", s->total, kv_status_name(s->status));
		kv_print_padded(f, reason ? reason : "", has_gate_info(r) ? 18 : 0);
		gate_info_cells(run, t, f);
		fputc('\n', f);
		free(reason);
	}
	int any_group = 0;
	for (size_t i = 0; i < ncols; i++)
		any_group |= cols[i].is_group;
	if (any_group)
		fputs("\n* group subtotal\n", f);
	free(cols);
}

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
	int width;            /* 10, or the heading's (a group's with its '*') */
};

static size_t table_columns(const struct kv_round *r, struct column *cols)
{
	size_t n = 0;
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind == KV_KIND_SCORE)
			cols[n++] = (struct column){r->criteria[c].id, 0, kv_wider(10, r->criteria[c].id)};
	for (size_t c = 0; c < r->criterion_count; c++)
		if (group_opened_by(r, c))
			cols[n++] = (struct column){group_opened_by(r, c), 1, kv_wider(9, group_opened_by(r, c)) + 1};
	return n;
}

/* The widths of the table's columns: each as wide as its widest cell. */
struct layout {
	struct column *cols;
	size_t ncols;
	int team, model, reason; /* reason: 0 when nothing follows it */
	int *gate_info;          /* [criterion]: a gate or info column's; 0 for the last */
};

int kv_team_id_width(const struct kv_round *r, int least)
{
	for (size_t t = 0; t < r->team_count; t++)
		least = kv_wider(least, r->teams[t].id);
	return least;
}

static void layout_of(const struct kv_run *run, struct layout *L)
{
	const struct kv_round *r = run->round;
	L->cols = kv_xcalloc(2 * r->criterion_count + 1, sizeof *L->cols);
	L->ncols = table_columns(r, L->cols);
	L->gate_info = kv_xcalloc(r->criterion_count + 1, sizeof *L->gate_info);
	L->team = kv_team_id_width(r, 14);
	L->model = 28;
	size_t last = r->criterion_count; /* the last gate or info criterion */
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind != KV_KIND_SCORE)
			last = c;
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind != KV_KIND_SCORE)
			L->gate_info[c] = c == last ? 0 : kv_wider(12, r->criteria[c].id);
	L->reason = last < r->criterion_count ? 18 : 0;
	for (size_t t = 0; t < r->team_count; t++) {
		L->model = kv_wider(L->model, r->teams[t].model);
		char *reason = L->reason ? kv_run_reason(run, t) : NULL;
		L->reason = reason ? kv_wider(L->reason, reason) : L->reason;
		free(reason);
	}
}

static void print_heading(const struct kv_round *r, const struct layout *L, FILE *f)
{
	fprintf(f, "%s — %s (%s)\n\n", r->id, r->title, r->date);
	fprintf(f, "%-4s  %-*s  %-*s", "rank", L->team, "team", L->model, "model");
	for (size_t i = 0; i < L->ncols; i++) {
		fputs("  ", f);
		kv_print_padded(f, L->cols[i].id, -(L->cols[i].width - L->cols[i].is_group));
		fputs(L->cols[i].is_group ? "*" : "", f);
	}
	fprintf(f, "  %8s  %-10s  ", "total", "status");
	kv_print_padded(f, "reason", L->reason);
	for (size_t c = 0; c < r->criterion_count; c++)
		if (r->criteria[c].kind != KV_KIND_SCORE) {
			fputs("  ", f);
			kv_print_padded(f, r->criteria[c].id, L->gate_info[c]);
		}
	fputc('\n', f);
}

/* Gate and info criteria after the reason: PASS/FAIL, or the value. */
static void gate_info_cells(const struct kv_run *run, const struct layout *L, size_t t, FILE *f)
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
		kv_print_padded(f, v, L->gate_info[c]);
	}
}

static void print_row(const struct kv_run *run, const struct layout *L, size_t t, FILE *f)
{
	const struct kv_round *r = run->round;
	const struct kv_standing *s = &run->standings[t];
	char rank[16];
	snprintf(rank, sizeof rank, s->rank ? "%ld" : "-", s->rank);
	fprintf(f, "%-4s  ", rank);
	kv_print_padded(f, r->teams[t].id, L->team);
	fputs("  ", f);
	kv_print_padded(f, r->teams[t].model, L->model);
	for (size_t c = 0; c < L->ncols; c++)
		fprintf(f, "  %*.2f", L->cols[c].width, kv_run_group_points(run, t, L->cols[c].id));
	char *reason = kv_run_reason(run, t);
	fprintf(f, "  %8.2f  %-10s  ", s->total, kv_status_name(s->status));
	kv_print_padded(f, reason ? reason : "", L->reason);
	gate_info_cells(run, L, t, f);
	fputc('\n', f);
	free(reason);
}

void kv_result_table(const struct kv_run *run, FILE *f)
{
	struct layout L;
	layout_of(run, &L);
	print_heading(run->round, &L, f);
	for (size_t i = 0; i < run->round->team_count; i++)
		print_row(run, &L, run->order[i], f);
	int any_group = 0;
	for (size_t i = 0; i < L.ncols; i++)
		any_group |= L.cols[i].is_group;
	if (any_group)
		fputs("\n* group subtotal\n", f);
	free(L.cols);
	free(L.gate_info);
}

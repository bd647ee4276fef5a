#include "result.h"
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

static int cmp_inputs(const void *a, const void *b)
{
	return strcmp(((const struct kv_input_record *)a)->path, ((const struct kv_input_record *)b)->path);
}

static void write_evidence(struct kv_jw *w, const struct kv_evidence *ev)
{
	kv_jw_key(w, "evidence");
	kv_jw_begin_object(w);
	for (size_t i = 0; i < ev->count; i++) {
		kv_jw_key(w, ev->items[i].key);
		if (ev->items[i].is_num)
			kv_jw_number(w, ev->items[i].num);
		else
			kv_jw_string(w, ev->items[i].str);
	}
	kv_jw_end_object(w);
}

/* Only when the plugin warned, so that a record without warnings keeps the
 * bytes it had before warnings were recorded. */
static void write_warnings(struct kv_jw *w, const struct kv_warnings *warnings)
{
	if (!warnings->count)
		return;
	kv_jw_key(w, "warnings");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < warnings->count; i++)
		kv_jw_string(w, warnings->items[i]);
	kv_jw_end_array(w);
}

static void write_header(struct kv_jw *w, const struct kv_run *run)
{
	const struct kv_round *r = run->round;
	kv_jw_key(w, "kaieval");
	kv_jw_string(w, PACKAGE_VERSION);
	kv_jw_key(w, "round");
	kv_jw_begin_object(w);
	kv_jw_key(w, "id"); kv_jw_string(w, r->id);
	kv_jw_key(w, "title"); kv_jw_string(w, r->title);
	kv_jw_key(w, "date"); kv_jw_string(w, r->date);
	kv_jw_key(w, "seed"); kv_jw_integer(w, r->seed);
	kv_jw_end_object(w);
	kv_jw_key(w, "config");
	kv_jw_begin_object(w);
	kv_jw_key(w, "path"); kv_jw_string(w, r->config_name);
	kv_jw_key(w, "sha256"); kv_jw_string(w, r->config_sha256);
	kv_jw_end_object(w);
}

static void write_inputs(struct kv_jw *w, const struct kv_run *run)
{
	size_t n = run->inputs.count;
	struct kv_input_record *sorted = kv_xcalloc(n, sizeof *sorted);
	if (n)
		memcpy(sorted, run->inputs.records, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_inputs);
	kv_jw_key(w, "inputs");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		kv_jw_begin_object(w);
		kv_jw_key(w, "path"); kv_jw_string(w, sorted[i].path);
		kv_jw_key(w, "bytes"); kv_jw_integer(w, (long long)sorted[i].bytes);
		kv_jw_key(w, "sha256"); kv_jw_string(w, sorted[i].sha256);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
	free(sorted);
}

static const char *kind_name(enum kv_kind k)
{
	return k == KV_KIND_SCORE ? "score" : k == KV_KIND_GATE ? "gate" : "info";
}

static void write_plugins(struct kv_jw *w, const struct kv_run *run)
{
	char abi[32];
	kv_jw_key(w, "plugins");
	kv_jw_begin_array(w);
	for (size_t c = 0; c < run->round->criterion_count; c++) {
		const struct kv_criterion_result *res = &run->results[c];
		const struct kv_plugin *p = res->plugin.desc;
		snprintf(abi, sizeof abi, "%u.%u", p->abi_version >> 16, p->abi_version & 0xffff);
		kv_jw_begin_object(w);
		kv_jw_key(w, "criterion"); kv_jw_string(w, res->crit->id);
		kv_jw_key(w, "plugin"); kv_jw_string(w, p->name);
		kv_jw_key(w, "version"); kv_jw_string(w, p->version);
		kv_jw_key(w, "abi"); kv_jw_string(w, abi);
		kv_jw_key(w, "sha256"); kv_jw_string(w, res->plugin.sha256[0] ? res->plugin.sha256 : NULL);
		write_evidence(w, &res->evidence);
		write_warnings(w, &res->warnings);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
}

/* The rules applied, so that a reader of the record needs nothing else. */
static void write_rules(struct kv_jw *w, const struct kv_run *run)
{
	const struct kv_round *r = run->round;
	kv_jw_key(w, "criteria");
	kv_jw_begin_array(w);
	for (size_t c = 0; c < r->criterion_count; c++) {
		const struct kv_criterion *cr = &r->criteria[c];
		kv_jw_begin_object(w);
		kv_jw_key(w, "id"); kv_jw_string(w, cr->id);
		kv_jw_key(w, "plugin"); kv_jw_string(w, run->results[c].plugin.desc->name);
		kv_jw_key(w, "kind"); kv_jw_string(w, kind_name(cr->kind));
		kv_jw_key(w, "points");
		if (cr->kind == KV_KIND_SCORE) kv_jw_number(w, cr->points); else kv_jw_null(w);
		kv_jw_key(w, "group"); kv_jw_string(w, cr->group);
		kv_jw_end_object(w);
	}
	kv_jw_end_array(w);
	const struct kv_selection *s = &r->selection;
	kv_jw_key(w, "selection");
	kv_jw_begin_object(w);
	kv_jw_key(w, "gate_failure"); kv_jw_string(w, s->gate_flag_only ? "flag" : "eliminate");
	kv_jw_key(w, s->rule == KV_SELECT_ADVANCE ? "advance" : "eliminate_lowest");
	kv_jw_integer(w, s->n);
	kv_jw_key(w, "min_total");
	if (s->has_min_total) kv_jw_number(w, s->min_total); else kv_jw_null(w);
	kv_jw_key(w, "tie_break");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < s->tie_break_count; i++)
		kv_jw_string(w, s->tie_break[i]);
	kv_jw_end_array(w);
	kv_jw_key(w, "tie_precision"); kv_jw_number(w, s->tie_precision);
	kv_jw_key(w, "unresolved_tie"); kv_jw_string(w, s->keep_ties ? "keep" : "error");
	kv_jw_end_object(w);
}

static void write_outcome(struct kv_jw *w, const struct kv_criterion *cr, const struct kv_team_outcome *o)
{
	kv_jw_key(w, cr->id);
	kv_jw_begin_object(w);
	kv_jw_key(w, "kind"); kv_jw_string(w, kind_name(cr->kind));
	if (cr->kind == KV_KIND_GATE) {
		kv_jw_key(w, "pass"); kv_jw_bool(w, o->pass);
	}
	kv_jw_key(w, "value");
	if (o->has_value) kv_jw_number(w, o->value); else kv_jw_null(w);
	kv_jw_key(w, "unit"); kv_jw_string(w, o->unit ? o->unit : "");
	if (cr->kind == KV_KIND_SCORE || o->has_normalized) {
		kv_jw_key(w, "normalized"); kv_jw_number(w, o->normalized);
	}
	if (cr->kind == KV_KIND_SCORE) {
		kv_jw_key(w, "points"); kv_jw_number(w, o->points);
	}
	write_evidence(w, &o->evidence);
	kv_jw_end_object(w);
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

static void write_groups(struct kv_jw *w, const struct kv_run *run, size_t t)
{
	const struct kv_round *r = run->round;
	kv_jw_key(w, "groups");
	kv_jw_begin_object(w);
	for (size_t c = 0; c < r->criterion_count; c++) {
		const char *g = group_opened_by(r, c);
		if (g) {
			kv_jw_key(w, g);
			kv_jw_number(w, kv_run_group_points(run, t, g));
		}
	}
	kv_jw_end_object(w);
}

static void write_tie(struct kv_jw *w, const struct kv_standing *s)
{
	kv_jw_key(w, "tied_with");
	kv_jw_begin_array(w);
	for (size_t i = 0; i < s->tied_count; i++)
		kv_jw_string(w, s->tied_with[i]);
	kv_jw_end_array(w);
	kv_jw_key(w, "tie_break_by"); kv_jw_string(w, s->tie_break_by);
}

static void write_team(struct kv_jw *w, const struct kv_run *run, size_t t)
{
	const struct kv_team *team = &run->round->teams[t];
	const struct kv_standing *s = &run->standings[t];
	kv_jw_begin_object(w);
	kv_jw_key(w, "id"); kv_jw_string(w, team->id);
	kv_jw_key(w, "name"); kv_jw_string(w, team->name);
	kv_jw_key(w, "model"); kv_jw_string(w, team->model);
	kv_jw_key(w, "rank");
	if (s->rank) kv_jw_integer(w, s->rank); else kv_jw_null(w);
	kv_jw_key(w, "total"); kv_jw_number(w, s->total);
	kv_jw_key(w, "status"); kv_jw_string(w, s->status == KV_ADVANCE ? "advance" : "eliminated");
	kv_jw_key(w, "reason"); kv_jw_string(w, s->reason);
	kv_jw_key(w, "failed_gates");
	kv_jw_begin_array(w);
	for (const char *p = s->failed_gates; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *id = strndup(p, n);
		kv_jw_string(w, id);
		free(id);
		p += n + (comma != NULL);
	}
	kv_jw_end_array(w);
	write_tie(w, s);
	write_groups(w, run, t);
	kv_jw_key(w, "criteria");
	kv_jw_begin_object(w);
	for (size_t c = 0; c < run->round->criterion_count; c++)
		write_outcome(w, &run->round->criteria[c], &run->results[c].teams[t]);
	kv_jw_end_object(w);
	kv_jw_end_object(w);
}

void kv_result_json(const struct kv_run *run, struct kv_buf *out)
{
	struct kv_jw w = {0};
	size_t n = run->round->team_count;
	kv_jw_begin_object(&w);
	write_header(&w, run);
	write_inputs(&w, run);
	write_plugins(&w, run);
	write_rules(&w, run);
	kv_jw_key(&w, "teams");
	kv_jw_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		write_team(&w, run, run->order[i]);
	kv_jw_end_array(&w);
	kv_jw_key(&w, "eliminated");
	kv_jw_begin_array(&w);
	for (size_t i = 0; i < n; i++)
		if (run->standings[run->order[i]].status == KV_ELIMINATED)
			kv_jw_string(&w, run->round->teams[run->order[i]].id);
	kv_jw_end_array(&w);
	kv_jw_end_object(&w);
	*out = w.out;
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

void kv_result_table(const struct kv_run *run, FILE *f)
{
	const struct kv_round *r = run->round;
	struct column *cols = kv_xcalloc(2 * r->criterion_count, sizeof *cols);
	size_t ncols = table_columns(r, cols);
	fprintf(f, "%s — %s (%s)\n\n", r->id, r->title, r->date);
	fprintf(f, "%-4s  %-14s  %-28s", "rank", "team", "model");
	for (size_t i = 0; i < ncols; i++)
		fprintf(f, "  %*s%s", cols[i].is_group ? 9 : 10, cols[i].id, cols[i].is_group ? "*" : "");
	fprintf(f, "  %8s  %-10s  %s\n", "total", "status", "reason");
	for (size_t i = 0; i < r->team_count; i++) {
		size_t t = run->order[i];
		const struct kv_standing *s = &run->standings[t];
		char rank[16];
		snprintf(rank, sizeof rank, s->rank ? "%ld" : "-", s->rank);
		fprintf(f, "%-4s  %-14s  %-28s", rank, r->teams[t].id, r->teams[t].model);
		for (size_t c = 0; c < ncols; c++)
			fprintf(f, "  %10.2f", kv_run_group_points(run, t, cols[c].id));
		fprintf(f, "  %8.2f  %-10s  %s\n", s->total,
			s->status == KV_ADVANCE ? "advance" : "eliminated", s->reason ? s->reason : "");
	}
	int any_group = 0;
	for (size_t i = 0; i < ncols; i++)
		any_group |= cols[i].is_group;
	if (any_group)
		fputs("\n* group subtotal\n", f);
	free(cols);
}

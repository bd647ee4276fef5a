/* Combining outcomes by the round's rules (round-config.md, "Selection"):
 * gates, points, totals, ranks with tie-breaks, then elimination. */
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ranking {
	struct kv_run *run;
	size_t *teams;    /* the ranked teams, best first */
	size_t count;
	size_t *cluster;  /* cluster number of each position: totals within tie_precision */
};

static void add_points(struct kv_run *run)
{
	const struct kv_round *r = run->round;
	for (size_t t = 0; t < r->team_count; t++) {
		double total = 0;
		for (size_t c = 0; c < r->criterion_count; c++) {
			struct kv_team_outcome *o = &run->results[c].teams[t];
			if (r->criteria[c].kind != KV_KIND_SCORE)
				continue;
			o->points = o->normalized * r->criteria[c].points;
			total += o->points;
		}
		run->standings[t].total = total;
	}
}

/* Record failed gates; returns 1 when the team leaves the ranking. */
static int apply_gates(struct kv_run *run, size_t t)
{
	const struct kv_round *r = run->round;
	struct kv_standing *s = &run->standings[t];
	s->failed_gates = kv_xcalloc(r->criterion_count, sizeof *s->failed_gates);
	for (size_t c = 0; c < r->criterion_count; c++) {
		if (r->criteria[c].kind != KV_KIND_GATE || run->results[c].teams[t].pass)
			continue;
		s->failed_gates[s->failed_count++] = c;
		if (s->reason == KV_REASON_NONE && !r->selection.gate_flag_only) {
			s->reason = KV_REASON_GATE;
			s->reason_gate = c;
		}
	}
	if (s->reason != KV_REASON_NONE)
		s->status = KV_ELIMINATED;
	return s->reason != KV_REASON_NONE;
}

static struct kv_run *sort_run; /* qsort has no context argument */

static int by_total_then_id(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double tx = sort_run->standings[x].total, ty = sort_run->standings[y].total;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	return strcmp(sort_run->round->teams[x].id, sort_run->round->teams[y].id);
}

/* Compare two teams by the tie_break keys; returns the deciding key index
 * through *key (or -1 when all keys are equal within tie_precision). */
static int tie_compare(const struct kv_run *run, size_t x, size_t y, long *key)
{
	const struct kv_selection *sel = &run->round->selection;
	for (size_t k = 0; k < sel->tie_break_count; k++) {
		double px = kv_run_group_points(run, x, sel->tie_break[k]);
		double py = kv_run_group_points(run, y, sel->tie_break[k]);
		if (fabs(px - py) > sel->tie_precision) {
			*key = (long)k;
			return px > py ? -1 : 1;
		}
	}
	*key = -1;
	return 0;
}

static int by_tie_break_then_id(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	long key;
	int c = tie_compare(sort_run, x, y, &key);
	return c ? c : strcmp(sort_run->round->teams[x].id, sort_run->round->teams[y].id);
}

static void note_tie(struct kv_run *run, struct ranking *rk, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct kv_standing *s = &run->standings[rk->teams[i]];
		s->tied_with = kv_xcalloc(to - from, sizeof *s->tied_with);
		for (size_t j = from; j < to; j++)
			if (j != i)
				s->tied_with[s->tied_count++] = rk->teams[j];
		size_t other = i > from ? i - 1 : i + 1;
		tie_compare(run, rk->teams[other], rk->teams[i], &s->tie_break_by);
	}
}

/* Rank: sort by total, group totals within tie_precision (chained), order
 * each group by tie_break, share ranks that stay equal (1, 2, 2, 4). */
static void rank_teams(struct kv_run *run, struct ranking *rk)
{
	const double prec = run->round->selection.tie_precision;
	sort_run = run;
	qsort(rk->teams, rk->count, sizeof *rk->teams, by_total_then_id);
	rk->cluster = kv_xcalloc(rk->count, sizeof *rk->cluster);
	for (size_t i = 0; i < rk->count;) {
		size_t j = i + 1;
		while (j < rk->count && run->standings[rk->teams[j - 1]].total -
						run->standings[rk->teams[j]].total <= prec)
			j++;
		for (size_t k = i; k < j; k++)
			rk->cluster[k] = i;
		if (j - i > 1) {
			qsort(rk->teams + i, j - i, sizeof *rk->teams, by_tie_break_then_id);
			note_tie(run, rk, i, j);
		}
		i = j;
	}
	for (size_t i = 0; i < rk->count; i++) {
		long key;
		int same = i > 0 && rk->cluster[i] == rk->cluster[i - 1] &&
			   tie_compare(run, rk->teams[i - 1], rk->teams[i], &key) == 0;
		run->standings[rk->teams[i]].rank =
			same ? run->standings[rk->teams[i - 1]].rank : (long)i + 1;
	}
}

static void eliminate(struct kv_standing *s, enum kv_reason reason)
{
	s->status = KV_ELIMINATED;
	s->reason = reason;
}

static int boundary_error(struct kv_run *run, size_t *teams, size_t count, long rank,
			  struct kv_error *err)
{
	struct kv_buf names = {0};
	for (size_t i = 0; i < count; i++) {
		if (run->standings[teams[i]].rank != rank)
			continue;
		kv_buf_printf(&names, "%s%s", names.len ? ", " : "", run->round->teams[teams[i]].id);
	}
	kv_fail(err, KV_EXIT_INPUT,
		"%s: selection: teams %s share rank %ld at the selection boundary; add a "
		"round.selection.tie_break entry that separates them, or set unresolved_tie = \"keep\"",
		run->round->config_path, names.data, rank);
	kv_buf_free(&names);
	return KV_EXIT_INPUT;
}

static int select_teams(struct kv_run *run, struct ranking *rk, struct kv_error *err)
{
	const struct kv_selection *sel = &run->round->selection;
	size_t *alive = kv_xcalloc(rk->count, sizeof *alive);
	size_t n = 0;
	for (size_t i = 0; i < rk->count; i++) {
		struct kv_standing *s = &run->standings[rk->teams[i]];
		if (sel->has_min_total && s->total < sel->min_total - sel->tie_precision)
			eliminate(s, KV_REASON_BELOW_MIN_TOTAL);
		else
			alive[n++] = rk->teams[i];
	}
	size_t keep = sel->rule == KV_SELECT_ADVANCE ? ((size_t)sel->n < n ? (size_t)sel->n : n)
						      : ((size_t)sel->n < n ? n - (size_t)sel->n : 0);
	if (keep > 0 && keep < n &&
	    run->standings[alive[keep - 1]].rank == run->standings[alive[keep]].rank) {
		long rank = run->standings[alive[keep]].rank;
		if (!sel->keep_ties) {
			int rc = boundary_error(run, alive, n, rank, err);
			free(alive);
			return rc;
		}
		while (keep < n && run->standings[alive[keep]].rank == rank)
			keep++;
	}
	for (size_t i = keep; i < n; i++)
		eliminate(&run->standings[alive[i]], KV_REASON_LOWEST_TOTAL);
	free(alive);
	return 0;
}

/* Record order: ranked teams by rank (then id), then gated teams by total. */
static void record_order(struct kv_run *run, struct ranking *rk, size_t *gated, size_t ngated)
{
	size_t n = 0;
	for (size_t i = 0; i < rk->count; i++)
		run->order[n++] = rk->teams[i];
	sort_run = run;
	qsort(gated, ngated, sizeof *gated, by_total_then_id);
	for (size_t i = 0; i < ngated; i++)
		run->order[n++] = gated[i];
}

void kv_standing_free(struct kv_standing *s)
{
	free(s->failed_gates);
	free(s->tied_with);
}

int kv_combine(struct kv_run *run, struct kv_error *err)
{
	size_t n = run->round->team_count;
	run->standings = kv_xcalloc(n, sizeof *run->standings);
	for (size_t t = 0; t < n; t++)
		run->standings[t].tie_break_by = -1;
	run->order = kv_xcalloc(n, sizeof *run->order);
	add_points(run);
	struct ranking rk = {.run = run, .teams = kv_xcalloc(n, sizeof(size_t))};
	size_t *gated = kv_xcalloc(n, sizeof *gated);
	size_t ngated = 0;
	for (size_t t = 0; t < n; t++) {
		if (apply_gates(run, t))
			gated[ngated++] = t;
		else
			rk.teams[rk.count++] = t;
	}
	rank_teams(run, &rk);
	int rc = select_teams(run, &rk, err);
	if (rc == 0)
		record_order(run, &rk, gated, ngated);
	free(rk.teams);
	free(rk.cluster);
	free(gated);
	return rc;
}

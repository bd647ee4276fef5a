/* Reading the score sheet (expert,team,item,score[,comment]) and the recusal
 * file (expert,team) into a panel, with every check criteria.md asks for. */
#include "expert.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NO_ITEM SIZE_MAX

/* One sheet row as read; the panel is laid out once all experts are known. */
struct row {
	char *expert;
	size_t team, item;   /* item NO_ITEM: an ignored item (the row only names an expert) */
	double score;
	int blank;           /* the score field was empty: a missing cell */
	long line;
};

struct rows {
	struct row *v;
	size_t count, cap;
};

struct reader {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const struct expert_config *cfg;
	struct kv_table *t;
	const char *file;
	int expert, team, item, score;   /* column indexes */
};

static void free_rows(struct rows *rows)
{
	for (size_t i = 0; i < rows->count; i++)
		free(rows->v[i].expert);
	free(rows->v);
}

static int push_row(struct rows *rows, const struct row *r, const char *expert)
{
	if (rows->count == rows->cap) {
		size_t cap = rows->cap ? 2 * rows->cap : 64;
		struct row *v = realloc(rows->v, cap * sizeof *v);
		if (!v)
			return KV_ERR_INTERNAL;
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->count] = *r;
	rows->v[rows->count].expert = strdup(expert); /* the field dies with the record */
	if (!rows->v[rows->count].expert)
		return KV_ERR_INTERNAL;
	rows->count++;
	return KV_OK;
}

static int need_column(struct reader *rd, const char *name, int *col)
{
	*col = rd->h->table_column(rd->t, name);
	if (*col >= 0)
		return KV_OK;
	return rd->h->error(rd->ctx, "%s:1: no column '%s' in the header", rd->file, name);
}

static int is_declared_expert(const struct expert_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->expert_count; i++)
		if (strcmp(cfg->experts[i], id) == 0)
			return 1;
	return 0;
}

static size_t find_item(const struct expert_config *cfg, const char *id, int *ignored)
{
	*ignored = 0;
	for (size_t i = 0; i < cfg->item_count; i++)
		if (strcmp(cfg->items[i].id, id) == 0)
			return i;
	for (size_t i = 0; i < cfg->ignored_count; i++)
		if (strcmp(cfg->ignored[i], id) == 0)
			*ignored = 1;
	return NO_ITEM;
}

static int check_score(struct reader *rd, const char *text, size_t item, double *score)
{
	const struct kv_host *h = rd->h;
	const struct expert_item *it = &rd->cfg->items[item];
	if (rd->cfg->mode != EXPERT_RUBRIC) {
		if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0)
			return h->table_error(rd->t, rd->score, "'%s' is not 0 or 1 (item '%s' is a tick box)",
					      text, it->id);
		*score = text[0] == '1';
		return KV_OK;
	}
	if (h->table_number(rd->t, rd->score, score))
		return h->table_error(rd->t, rd->score, "'%s' is not a number", text);
	if (!(*score >= 0 && *score <= it->max))
		return h->table_error(rd->t, rd->score, "%s is outside [0, %g], the range of item '%s'",
				      text, it->max, it->id);
	return KV_OK;
}

static int read_row(struct reader *rd, struct row *r, const char **expert)
{
	const struct kv_host *h = rd->h;
	const struct expert_config *cfg = rd->cfg;
	*expert = h->table_field(rd->t, rd->expert);
	r->line = h->table_line(rd->t);
	if (!**expert)
		return h->table_error(rd->t, rd->expert, "empty expert id");
	if (cfg->experts && !is_declared_expert(cfg, *expert))
		return h->table_error(rd->t, rd->expert, "expert '%s' is not in the param 'experts'", *expert);
	const char *team = h->table_field(rd->t, rd->team);
	long t = h->team_index(rd->ctx, team);
	if (t < 0)
		return h->table_error(rd->t, rd->team, "team '%s' is not in this round", team);
	r->team = (size_t)t;
	const char *item = h->table_field(rd->t, rd->item);
	int ignored;
	r->item = find_item(cfg, item, &ignored);
	if (r->item == NO_ITEM && !ignored)
		return h->table_error(rd->t, rd->item, "item '%s' is not %s", item,
				      cfg->mode == EXPERT_RUBRIC ? "in the rubric (param 'items')"
				      : "the item this criterion reads (param 'item')");
	const char *score = h->table_field(rd->t, rd->score);
	r->blank = !*score;
	if (r->item == NO_ITEM || r->blank)
		return KV_OK;
	return check_score(rd, score, r->item, &r->score);
}

static int read_rows(struct reader *rd, struct rows *rows)
{
	rd->t = rd->h->table_open(rd->ctx, rd->file);
	if (!rd->t)
		return KV_ERR_INPUT;
	int rc = need_column(rd, "expert", &rd->expert);
	if (!rc)
		rc = need_column(rd, "team", &rd->team);
	if (!rc)
		rc = need_column(rd, "item", &rd->item);
	if (!rc)
		rc = need_column(rd, "score", &rd->score);
	int more;
	while (!rc && (more = rd->h->table_next(rd->t)) != 0) {
		struct row r = {0};
		const char *expert = "";
		rc = more < 0 ? KV_ERR_INPUT : read_row(rd, &r, &expert);
		if (!rc)
			rc = push_row(rows, &r, expert);
	}
	rd->h->table_close(rd->t);
	rd->t = NULL;
	if (!rc && rows->count == 0)
		rc = rd->h->error(rd->ctx, "%s: the sheet has no scores (a header and no rows)", rd->file);
	return rc;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The panel: the declared experts, or else everyone the sheet names; sorted,
 * each once. */
static int list_experts(const struct expert_config *cfg, const struct rows *rows, struct expert_panel *p)
{
	size_t n = cfg->experts ? cfg->expert_count : rows->count, k = 0;
	const char **names = calloc(n + 1, sizeof *names);
	p->experts = calloc(n + 1, sizeof *p->experts);
	if (!names || !p->experts) {
		free(names);
		return KV_ERR_INTERNAL;
	}
	for (size_t i = 0; i < n; i++)
		names[i] = cfg->experts ? cfg->experts[i] : rows->v[i].expert;
	qsort(names, n, sizeof *names, by_string);
	int rc = KV_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		if (k > 0 && strcmp(p->experts[k - 1], names[i]) == 0)
			continue;
		if (!(p->experts[k] = strdup(names[i])))
			rc = KV_ERR_INTERNAL;
		else
			k++;
	}
	p->expert_count = k;
	free(names);
	return rc;
}

static long expert_index(const struct expert_panel *p, const char *id)
{
	char *const *hit = bsearch(&id, p->experts, p->expert_count, sizeof *p->experts, by_string);
	return hit ? (long)(hit - p->experts) : -1;
}

static int allocate_panel(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg,
			  struct expert_panel *p)
{
	p->team_count = h->team_count(ctx);
	p->item_count = cfg->item_count;
	size_t cells = p->team_count * p->expert_count * p->item_count;
	p->score = calloc(cells ? cells : 1, sizeof *p->score);
	p->has = calloc(cells ? cells : 1, 1);
	p->recused = calloc(p->team_count * p->expert_count + 1, 1);
	return p->score && p->has && p->recused ? KV_OK : KV_ERR_INTERNAL;
}

/* recuse: expert,team -- that expert's scores for that team do not count. */
static int read_recusals(const struct kv_host *h, struct kv_ctx *ctx, const char *file,
			 struct expert_panel *p)
{
	struct kv_table *t = h->table_open(ctx, file);
	if (!t)
		return KV_ERR_INPUT;
	int ce = h->table_column(t, "expert"), ct = h->table_column(t, "team"), more, rc = KV_OK;
	if (ce < 0 || ct < 0)
		rc = h->error(ctx, "%s:1: no column '%s' in the header", file, ce < 0 ? "expert" : "team");
	while (!rc && (more = h->table_next(t)) != 0) {
		if (more < 0) {
			rc = KV_ERR_INPUT;
			break;
		}
		long e = expert_index(p, h->table_field(t, ce));
		long team = h->team_index(ctx, h->table_field(t, ct));
		if (e < 0)
			rc = h->table_error(t, ce, "expert '%s' is not on the panel", h->table_field(t, ce));
		else if (team < 0)
			rc = h->table_error(t, ct, "team '%s' is not in this round", h->table_field(t, ct));
		else if (p->recused[(size_t)team * p->expert_count + (size_t)e])
			rc = h->table_error(t, ce, "expert '%s' is already recused for team '%s'",
					    h->table_field(t, ce), h->table_field(t, ct));
		else
			p->recused[(size_t)team * p->expert_count + (size_t)e] = 1;
	}
	h->table_close(t);
	return rc;
}

/* Put the rows into their cells: a cell named twice, or left blank where
 * missing cells are errors, is reported at its line. */
static int place_rows(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg,
		      const struct rows *rows, struct expert_panel *p)
{
	size_t cells = p->team_count * p->expert_count * p->item_count;
	long *seen = calloc(cells ? cells : 1, sizeof *seen);
	if (!seen)
		return KV_ERR_INTERNAL;
	int rc = KV_OK;
	for (size_t i = 0; !rc && i < rows->count; i++) {
		const struct row *r = &rows->v[i];
		if (r->item == NO_ITEM)
			continue;
		size_t e = (size_t)expert_index(p, r->expert), c = expert_cell(p, r->team, e, r->item);
		const char *team = h->team_id(ctx, r->team), *item = cfg->items[r->item].id;
		if (seen[c])
			rc = h->error(ctx, "%s:%ld: column 'score': expert '%s', team '%s', item '%s' "
				      "is already scored on line %ld", cfg->sheet, r->line, r->expert,
				      team, item, seen[c]);
		else if (r->blank && !cfg->skip_missing && !p->recused[r->team * p->expert_count + e])
			rc = h->error(ctx, "%s:%ld: column 'score': empty for expert '%s', team '%s', "
				      "item '%s' (missing = \"error\")", cfg->sheet, r->line, r->expert,
				      team, item);
		seen[c] = r->line;
		p->score[c] = r->score;
		p->has[c] = !r->blank;
	}
	free(seen);
	return rc;
}

/* missing = "error": every expert scores every item of every team he is not
 * recused from. */
static int check_complete(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg,
			  const struct expert_panel *p)
{
	for (size_t t = 0; t < p->team_count; t++)
		for (size_t e = 0; e < p->expert_count; e++)
			for (size_t i = 0; i < p->item_count; i++)
				if (!p->recused[t * p->expert_count + e] && !p->has[expert_cell(p, t, e, i)])
					return h->error(ctx, "%s: no row for expert '%s', team '%s', item "
							"'%s' (missing = \"error\"; with missing = \"skip\" "
							"the expert's total would drop out)",
							cfg->sheet, p->experts[e], h->team_id(ctx, t),
							cfg->items[i].id);
	return KV_OK;
}

int expert_read_panel(const struct kv_host *h, struct kv_ctx *ctx, const struct expert_config *cfg,
		      struct expert_panel *panel)
{
	memset(panel, 0, sizeof *panel);
	struct rows rows = {0};
	struct reader rd = {.h = h, .ctx = ctx, .cfg = cfg, .file = cfg->sheet};
	int rc = read_rows(&rd, &rows);
	if (!rc)
		rc = list_experts(cfg, &rows, panel);
	if (!rc)
		rc = allocate_panel(h, ctx, cfg, panel);
	if (!rc && cfg->recuse)
		rc = read_recusals(h, ctx, cfg->recuse, panel);
	if (!rc)
		rc = place_rows(h, ctx, cfg, &rows, panel);
	if (!rc && !cfg->skip_missing)
		rc = check_complete(h, ctx, cfg, panel);
	free_rows(&rows);
	return rc;
}

void expert_free_panel(struct expert_panel *p)
{
	for (size_t i = 0; i < p->expert_count; i++)
		free(p->experts[i]);
	free(p->experts);
	free(p->score);
	free(p->has);
	free(p->recused);
	memset(p, 0, sizeof *p);
}

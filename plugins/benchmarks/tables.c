/* benchmarks: the CSV/JSONL tables (scores, targets, reference, verify).
 *
 * Every bad field is reported by host->table_error, which names the file,
 * the line and the column. */
#include "benchmarks.h"

#include <string.h>

/* Which values a score-like field may take. */
enum bm_sign { BM_NONNEGATIVE, BM_POSITIVE };

/* A required column, or -1 with an error naming the file. */
static int need_column(struct bm *b, struct kv_table *t, const char *file, const char *name)
{
	int c = b->h->table_column(t, name);
	if (c < 0)
		b->h->error(b->ctx, "%s: missing column '%s'", file, name);
	return c;
}

/* Open a table and find its columns (names end with NULL; optional ones start with '?'). */
static struct kv_table *open_table(struct bm *b, const char *file, const char *const *names, int *cols)
{
	struct kv_table *t = b->h->table_open(b->ctx, file);
	for (size_t i = 0; t && names[i]; i++) {
		if (names[i][0] == '?')
			cols[i] = b->h->table_column(t, names[i] + 1);
		else if ((cols[i] = need_column(b, t, file, names[i])) < 0) {
			b->h->table_close(t);
			return NULL;
		}
	}
	return t;
}

static int row_team(struct bm *b, struct kv_table *t, int col, size_t *team)
{
	const char *id = b->h->table_field(t, col);
	long i = b->h->team_index(b->ctx, id);
	if (i < 0)
		return b->h->table_error(t, col, "team '%s' is not in this round", id);
	*team = (size_t)i;
	return 0;
}

static int row_name(struct bm *b, struct kv_table *t, int col, const char **name)
{
	*name = b->h->table_field(t, col);
	if (!**name)
		return b->h->table_error(t, col, "empty benchmark name");
	return 0;
}

static int row_score(struct bm *b, struct kv_table *t, int col, enum bm_sign sign, double *x)
{
	const char *text = b->h->table_field(t, col);
	if (!*text)
		return b->h->table_error(t, col, "missing score");
	if (b->h->table_number(t, col, x))
		return b->h->table_error(t, col, "'%s' is not a number", text);
	if (*x < 0)
		return b->h->table_error(t, col, "negative score %s", text);
	if (*x > BM_SCORE_MAX)
		return b->h->table_error(t, col, "score %s is beyond %g", text, BM_SCORE_MAX);
	if (sign == BM_POSITIVE && *x == 0)
		return b->h->table_error(t, col, "score 0: a ratio needs a positive denominator");
	return 0;
}

/* Read every record with `row`; closes the table. */
static int each_row(struct bm *b, struct kv_table *t, const int *cols,
		    int (*row)(struct bm *, struct kv_table *, const int *))
{
	int rc = 0, more;
	while (!rc && (more = b->h->table_next(t)) != 0)
		rc = more < 0 ? KV_ERR_INPUT : row(b, t, cols);
	b->h->table_close(t);
	return rc;
}

/* --- scores: team,benchmark,run,score (run optional) --------------------- */

static int score_row(struct bm *b, struct kv_table *t, const int *c)
{
	struct bm_obs o = {.bench = -1, .file = b->scores, .line = b->h->table_line(t),
			   .n_eff = -1, .n_orig = -1};
	int rc = row_team(b, t, c[0], &o.team);
	rc = rc ? rc : row_name(b, t, c[1], &o.bench_name);
	rc = rc ? rc : row_score(b, t, c[3], BM_NONNEGATIVE, &o.score);
	if (rc)
		return rc;
	o.bench_name = bm_keep(b, o.bench_name);
	o.run = bm_keep(b, b->h->table_field(t, c[2]));
	return o.bench_name && o.run ? bm_add_obs(b, &o) : bm_oom(b);
}

int bm_read_score_table(struct bm *b)
{
	static const char *const names[] = {"team", "benchmark", "?run", "score", NULL};
	int cols[4];
	struct kv_table *t = open_table(b, b->scores, names, cols);
	return t ? each_row(b, t, cols, score_row) : KV_ERR_INPUT;
}

/* --- targets: team,benchmark,target_model,score ---------------------------- */

static int target_row(struct bm *b, struct kv_table *t, const int *c)
{
	struct bm_target x = {.line = b->h->table_line(t)};
	int rc = row_team(b, t, c[0], &x.team);
	rc = rc ? rc : row_name(b, t, c[1], &x.bench_name);
	rc = rc ? rc : row_score(b, t, c[3], BM_POSITIVE, &x.score);
	for (size_t i = 0; !rc && i < b->ntargets; i++)
		if (b->targets[i].team == x.team && strcmp(b->targets[i].bench_name, x.bench_name) == 0)
			rc = b->h->table_error(t, c[1], "second target for team '%s', benchmark '%s' "
					       "(first at line %ld)", b->h->team_id(b->ctx, x.team),
					       x.bench_name, b->targets[i].line);
	if (rc)
		return rc;
	x.bench_name = bm_keep(b, x.bench_name);
	x.model = bm_keep(b, b->h->table_field(t, c[2]));
	return x.bench_name && x.model ? bm_add_target(b, &x) : bm_oom(b);
}

int bm_read_targets(struct bm *b)
{
	static const char *const names[] = {"team", "benchmark", "target_model", "score", NULL};
	int cols[4];
	struct kv_table *t = open_table(b, b->targets_path, names, cols);
	int rc = t ? each_row(b, t, cols, target_row) : KV_ERR_INPUT;
	for (size_t team = 0; !rc && team < b->nteams; team++) {
		size_t i = 0;
		while (i < b->ntargets && b->targets[i].team != team)
			i++;
		if (i == b->ntargets)
			rc = b->h->error(b->ctx, "%s: no target for team '%s'", b->targets_path,
					 b->h->team_id(b->ctx, team));
	}
	return rc;
}

/* --- reference: benchmark,score[,baseline] ----------------------------------- */

static int read_baseline(struct bm *b, struct kv_table *t, int col, struct bm_bench *x)
{
	x->baseline = 0;
	if (col >= 0 && *b->h->table_field(t, col) &&
	    row_score(b, t, col, BM_NONNEGATIVE, &x->baseline))
		return KV_ERR_INPUT;
	if (!x->higher && x->baseline != 0)
		return b->h->table_error(t, col, "benchmark '%s' is lower-is-better: its ratio is "
					 "reference/score, which takes no baseline", x->name);
	if (x->baseline >= x->ref)
		return b->h->table_error(t, col, "baseline %g is not below the reference score %g",
					 x->baseline, x->ref);
	return 0;
}

static int reference_row(struct bm *b, struct kv_table *t, const int *c)
{
	const char *name;
	if (row_name(b, t, c[0], &name))
		return KV_ERR_INPUT;
	long i = bm_bench_index(b, name);
	if (i < 0)
		return 0; /* a benchmark this criterion does not score */
	struct bm_bench *x = &b->benches[i];
	if (x->has_ref)
		return b->h->table_error(t, c[0], "second reference for benchmark '%s' (first at line %ld)",
					 name, x->ref_line);
	if (row_score(b, t, c[1], BM_POSITIVE, &x->ref) || read_baseline(b, t, c[2], x))
		return KV_ERR_INPUT;
	x->has_ref = 1;
	x->ref_line = b->h->table_line(t);
	return 0;
}

int bm_read_reference(struct bm *b)
{
	static const char *const names[] = {"benchmark", "score", "?baseline", NULL};
	int cols[3];
	struct kv_table *t = open_table(b, b->reference_path, names, cols);
	int rc = t ? each_row(b, t, cols, reference_row) : KV_ERR_INPUT;
	for (size_t i = 0; !rc && i < b->nbench; i++)
		if (!b->benches[i].has_ref)
			rc = b->h->error(b->ctx, "%s: no reference score for benchmark '%s'",
					 b->reference_path, b->benches[i].name);
	return rc;
}

/* --- verify: team,benchmark,score ----------------------------------------------- */

static int verify_row(struct bm *b, struct kv_table *t, const int *c)
{
	size_t team;
	const char *name;
	double x;
	if (row_team(b, t, c[0], &team) || row_name(b, t, c[1], &name) ||
	    row_score(b, t, c[2], BM_NONNEGATIVE, &x))
		return KV_ERR_INPUT;
	long i = bm_bench_index(b, name);
	struct bm_cell *cell = i >= 0 ? bm_cell(b, team, (size_t)i) : NULL;
	if (!cell || !cell->scored)
		return 0; /* not scored by this criterion: nothing to compare */
	if (cell->verify_n++ == 0)
		cell->verify_line = b->h->table_line(t);
	cell->verify_sum += x;
	return 0;
}

int bm_read_verify(struct bm *b)
{
	static const char *const names[] = {"team", "benchmark", "score", NULL};
	int cols[3];
	struct kv_table *t = open_table(b, b->verify_path, names, cols);
	return t ? each_row(b, t, cols, verify_row) : KV_ERR_INPUT;
}

/* benchmarks: folders of lm-evaluation-harness results files (peers.md §1).
 *
 * Layout: scores/<team>/<file matching `files`>, or a `scores` path holding
 * "{team}".  Each file is one run.  A file is read as the harness writes it:
 * the score is results.<task>.<metric> (groups.<task> when the task is only a
 * group), the direction higher_is_better.<task>.<metric without ",filter">,
 * plus n-samples.<task> and versions.<task> as evidence.  Pre-0.4 files have
 * bare metric names ("acc") and neither higher_is_better nor n-samples; they
 * are read the same way, the direction then coming from the config alone. */
#include "benchmarks.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#define BM_PATH_MAX 4096

/* dir/name into buf, or an error when it does not fit. */
static int join(struct bm *b, const char *dir, const char *name, char *buf)
{
	int n = snprintf(buf, BM_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= BM_PATH_MAX)
		return b->h->error(b->ctx, "%s/%s: path too long", dir, name);
	return 0;
}

static const struct kv_value *member2(struct bm *b, const struct kv_value *root, const char *a,
				      const char *c)
{
	return b->h->value_member(b->h->value_member(root, a), c);
}

/* results.<task>, or groups.<task> for files that keep groups apart. */
static const struct kv_value *task_entry(struct bm *b, const struct kv_value *root, const char *task)
{
	const struct kv_value *e = member2(b, root, "results", task);
	return e ? e : member2(b, root, "groups", task);
}

/* "acc, exact_match,strict-match, ..." : the metrics an entry has, for messages. */
static void list_metrics(struct bm *b, const struct kv_value *entry, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < b->h->value_count(entry) && used + 1 < len; i++) {
		const struct kv_value *m = b->h->value_at(entry, i);
		double x;
		if (!b->h->value_double(m, &x) || strstr(b->h->value_name(m), "_stderr"))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", b->h->value_name(m));
		used += n > 0 ? (size_t)n : 0;
	}
}

static int read_metric(struct bm *b, const struct bm_bench *x, const struct kv_value *entry,
		       const char *file, double *score)
{
	const struct kv_value *m = b->h->value_member(entry, x->metric);
	if (!m) {
		char have[512];
		list_metrics(b, entry, have, sizeof have);
		return b->h->error(b->ctx, "%s: results.%s has no metric '%s' (benchmark '%s'; the file has: %s)",
				   file, x->task, x->metric, x->name, have[0] ? have : "none");
	}
	if (!b->h->value_double(m, score))
		return b->h->error(b->ctx, "%s: results.%s.\"%s\" is not a number", file, x->task, x->metric);
	if (*score < 0)
		return b->h->error(b->ctx, "%s: results.%s.\"%s\": negative score %g", file, x->task,
				   x->metric, *score);
	if (*score > BM_SCORE_MAX)
		return b->h->error(b->ctx, "%s: results.%s.\"%s\": score %g is beyond %g", file, x->task,
				   x->metric, *score, BM_SCORE_MAX);
	return 0;
}

/* The file's own higher_is_better must agree with the config's. */
static int check_direction(struct bm *b, const struct bm_bench *x, const struct kv_value *root,
			   const char *file)
{
	char base[256];
	snprintf(base, sizeof base, "%s", x->metric);
	char *comma = strrchr(base, ',');
	if (comma)
		*comma = '\0';
	int file_higher;
	const struct kv_value *v = b->h->value_member(member2(b, root, "higher_is_better", x->task), base);
	if (!b->h->value_bool(v, &file_higher) || file_higher == x->higher)
		return 0;
	return b->h->error(b->ctx, "%s: higher_is_better.%s.%s is %s, but benchmark '%s' (%s) has "
			   "higher_is_better = %s", file, x->task, base, file_higher ? "true" : "false",
			   x->name, b->h->value_where(x->decl), x->higher ? "true" : "false");
}

/* versions.<task> as text (numbers as the harness wrote them, near enough), or NULL. */
static const char *task_version(struct bm *b, const struct kv_value *root, const char *task)
{
	const struct kv_value *v = member2(b, root, "versions", task);
	const char *s = b->h->value_string(v);
	double x;
	char num[64];
	if (!s && b->h->value_double(v, &x)) {
		snprintf(num, sizeof num, "%g", x);
		s = num;
	}
	return s ? bm_keep(b, s) : NULL;
}

static void sample_counts(struct bm *b, const struct kv_value *root, const char *task, struct bm_obs *o)
{
	const struct kv_value *n = member2(b, root, "n-samples", task);
	long long eff, orig;
	o->n_eff = b->h->value_int(b->h->value_member(n, "effective"), &eff) ? (long)eff : -1;
	o->n_orig = b->h->value_int(b->h->value_member(n, "original"), &orig) ? (long)orig : -1;
}

static int read_run(struct bm *b, size_t team, const char *file, const char *run)
{
	const struct kv_value *root;
	if (b->h->json_load(b->ctx, file, &root))
		return KV_ERR_INPUT;
	if (b->h->value_type(b->h->value_member(root, "results")) != KV_T_GROUP)
		return b->h->error(b->ctx, "%s: no \"results\" object: not an lm-evaluation-harness "
				   "results file", file);
	for (size_t i = 0; i < b->nbench; i++) {
		const struct bm_bench *x = &b->benches[i];
		const struct kv_value *entry = task_entry(b, root, x->task);
		struct bm_obs o = {.team = team, .bench_name = x->name, .bench = -1, .run = run,
				   .file = file};
		if (!entry)
			continue; /* this run did not include the task */
		if (read_metric(b, x, entry, file, &o.score) || check_direction(b, x, root, file))
			return KV_ERR_INPUT;
		sample_counts(b, root, x->task, &o);
		o.version = task_version(b, root, x->task);
		if (bm_add_obs(b, &o))
			return KV_ERR_INTERNAL;
	}
	return 0;
}

static int read_team_folder(struct bm *b, size_t team, const char *dir)
{
	const char *id = b->h->team_id(b->ctx, team);
	if (b->h->input_kind(b->ctx, dir) != 2)
		return b->h->error(b->ctx, "%s: no results folder for team '%s'", dir, id);
	const char *const *names;
	size_t n, runs = 0;
	if (b->h->input_list(b->ctx, dir, &names, &n))
		return KV_ERR_INPUT;
	for (size_t i = 0; i < n; i++) {
		char path[BM_PATH_MAX];
		if (join(b, dir, names[i], path))
			return KV_ERR_INPUT;
		if (fnmatch(b->files, names[i], 0) != 0 || b->h->input_kind(b->ctx, path) != 1)
			continue;
		const char *file = bm_keep(b, path), *run = bm_keep(b, names[i]);
		if (!file || !run)
			return bm_oom(b);
		int rc = read_run(b, team, file, run);
		if (rc)
			return rc;
		runs++;
	}
	if (runs == 0)
		return b->h->error(b->ctx, "%s: no file matching '%s' (param 'files') for team '%s'",
				   dir, b->files, id);
	return 0;
}

/* Every sub-folder of `scores` must be a team of the round; plain files
 * (a README) are left alone. */
static int check_team_folders(struct bm *b)
{
	const char *const *names;
	size_t n;
	if (b->h->input_list(b->ctx, b->scores, &names, &n))
		return KV_ERR_INPUT;
	for (size_t i = 0; i < n; i++) {
		char path[BM_PATH_MAX];
		if (join(b, b->scores, names[i], path))
			return KV_ERR_INPUT;
		if (b->h->input_kind(b->ctx, path) == 2 && b->h->team_index(b->ctx, names[i]) < 0)
			return b->h->error(b->ctx, "%s: folder '%s' is not a team of this round", path, names[i]);
	}
	return 0;
}

static int check_bench_list(struct bm *b)
{
	if (b->nbench == 0)
		return b->h->error(b->ctx, "%s: lm-eval results folders need the param 'benchmarks' "
				   "(task and metric of each benchmark)", b->scores);
	for (size_t i = 0; i < b->nbench; i++)
		if (!b->benches[i].metric)
			return b->h->value_error(b->ctx, b->benches[i].decl, "benchmark '%s' needs 'metric' "
						 "to pick its score from lm-eval files (e.g. \"acc,none\")",
						 b->benches[i].name);
	return 0;
}

int bm_read_lmeval(struct bm *b)
{
	int per_team = strstr(b->scores, "{team}") != NULL;
	int rc = check_bench_list(b);
	if (!rc && !per_team)
		rc = check_team_folders(b);
	for (size_t team = 0; !rc && team < b->nteams; team++) {
		char dir[BM_PATH_MAX];
		if (per_team)
			rc = b->h->expand_team(b->ctx, b->scores, team, dir, sizeof dir);
		else
			rc = join(b, b->scores, b->h->team_id(b->ctx, team), dir);
		rc = rc ? rc : read_team_folder(b, team, dir);
	}
	return rc;
}

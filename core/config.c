/* Reading a round config: libconfig syntax, every key of round-config.md
 * checked, unknown keys refused with a hint. */
#include "round.h"
#include "input.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const char *file;       /* the config path, for messages */
	struct kv_error *err;
};

static int fail_at(struct reader *rd, const config_setting_t *s, const char *fmt, ...)
	KV_PRINTF(3, 4);

static int fail_at(struct reader *rd, const config_setting_t *s, const char *fmt, ...)
{
	char msg[KV_MSG_MAX - 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return kv_fail(rd->err, KV_EXIT_INPUT, "%s:%d: %s", rd->file,
		       s ? config_setting_source_line(s) : 0, msg);
}

static int check_keys(struct reader *rd, const config_setting_t *group, const char *where,
		      const char *const *allowed, size_t n)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		int known = 0;
		for (size_t k = 0; k < n && !known; k++)
			known = strcmp(name, allowed[k]) == 0;
		if (known)
			continue;
		const char *hint = kv_closest(name, allowed, n);
		return hint ? fail_at(rd, m, "%s: unknown key '%s' (did you mean '%s'?)", where, name, hint)
			    : fail_at(rd, m, "%s: unknown key '%s'", where, name);
	}
	return 0;
}

/* A required or optional string member; *out is a copy. */
static int get_string(struct reader *rd, const config_setting_t *g, const char *where,
		      const char *key, int required, char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	*out = NULL;
	if (!s)
		return required ? fail_at(rd, g, "%s: missing required key '%s'", where, key) : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_at(rd, s, "%s.%s: must be a string", where, key);
	*out = kv_xstrdup(config_setting_get_string(s));
	return 0;
}

static int get_number(struct reader *rd, const config_setting_t *g, const char *where,
		      const char *key, int *present, double *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	*present = s != NULL;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_FLOAT)
		*out = config_setting_get_float(s);
	else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		*out = (double)config_setting_get_int64(s);
	else
		return fail_at(rd, s, "%s.%s: must be a number", where, key);
	if (!isfinite(*out))
		return fail_at(rd, s, "%s.%s: must be a finite number", where, key);
	return 0;
}

static int get_integer(struct reader *rd, const config_setting_t *g, const char *where,
		       const char *key, int *present, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	*present = s != NULL;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail_at(rd, s, "%s.%s: must be an integer", where, key);
	*out = config_setting_get_int64(s);
	return 0;
}

static int valid_id(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr(extra, *s)))
			return 0;
	return 1;
}

static int valid_date(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;
	char tail;
	if (strlen(s) != 10)
		return 0;
	/* digits only: sscanf alone takes "+026" or " 026" for a year */
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	if (s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] - (m == 2 && !leap);
}

static int read_team(struct reader *rd, const config_setting_t *s, size_t i, struct kv_team *t)
{
	static const char *const keys[] = {"id", "name", "model"};
	char where[64];
	snprintf(where, sizeof where, "round.teams[%zu]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_at(rd, s, "%s: must be a group { id; name; model; }", where);
	if (check_keys(rd, s, where, keys, 3) || get_string(rd, s, where, "id", 1, &t->id) ||
	    get_string(rd, s, where, "name", 1, &t->name) ||
	    get_string(rd, s, where, "model", 1, &t->model))
		return KV_EXIT_INPUT;
	if (!valid_id(t->id, "_-"))
		return fail_at(rd, s, "%s.id: '%s' must match [a-z0-9_-]+", where, t->id);
	return 0;
}

static int read_teams(struct reader *rd, const config_setting_t *round, struct kv_round *r)
{
	const config_setting_t *list = config_setting_get_member(round, "teams");
	if (!list)
		return fail_at(rd, round, "round: missing required key 'teams'");
	if (!config_setting_is_aggregate(list) || config_setting_type(list) == CONFIG_TYPE_GROUP)
		return fail_at(rd, list, "round.teams: must be a list ( { id; name; model; }, ... )");
	size_t n = (size_t)config_setting_length(list);
	if (n == 0)
		return fail_at(rd, list, "round.teams: the round has no teams");
	r->teams = kv_xcalloc(n, sizeof *r->teams);
	r->team_count = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		if (read_team(rd, s, i, &r->teams[i]))
			return KV_EXIT_INPUT;
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->teams[j].id, r->teams[i].id) == 0)
				return fail_at(rd, s, "round.teams[%zu].id: duplicate team id '%s'", i,
					       r->teams[i].id);
	}
	return 0;
}

static int parse_kind(const char *s, enum kv_kind *k)
{
	if (strcmp(s, "score") == 0) *k = KV_KIND_SCORE;
	else if (strcmp(s, "gate") == 0) *k = KV_KIND_GATE;
	else if (strcmp(s, "info") == 0) *k = KV_KIND_INFO;
	else return -1;
	return 0;
}

/* At most this many points per criterion: a billion criteria of it still
 * sum to a finite double. */
#define KV_POINTS_MAX 1e9

static int read_points(struct reader *rd, const config_setting_t *s, const char *where,
		       struct kv_criterion *c)
{
	int has_points;
	if (get_number(rd, s, where, "points", &has_points, &c->points))
		return KV_EXIT_INPUT;
	const config_setting_t *p = config_setting_get_member(s, "points");
	if (c->kind == KV_KIND_SCORE && !has_points)
		return fail_at(rd, s, "%s: missing required key 'points' (a score criterion needs points)", where);
	if (c->kind != KV_KIND_SCORE && has_points)
		return fail_at(rd, p, "%s.points: only score criteria have points", where);
	if (has_points && !(c->points >= 0))
		return fail_at(rd, p, "%s.points: must not be negative", where);
	/* Bounded so that any sum of them stays finite: an infinite total would
	 * tie with nothing and be recorded as null. */
	if (has_points && c->points > KV_POINTS_MAX)
		return fail_at(rd, p, "%s.points: %g is more than the %g points a criterion may have",
			       where, c->points, KV_POINTS_MAX);
	if (c->group && c->kind != KV_KIND_SCORE)
		return fail_at(rd, config_setting_get_member(s, "group"),
			       "%s.group: only score criteria belong to a group", where);
	return 0;
}

/* "512M", "16G", a number of bytes, or "unlimited" (0). */
static int parse_size(const char *text, unsigned long long *out)
{
	if (strcmp(text, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	static const char units[] = "KMGT";
	const char *u = *end ? strchr(units, *end) : NULL;
	int shift = u ? 10 * (int)(u - units + 1) : 0;
	if (end == text || !isdigit((unsigned char)*text) || errno || (*end && (!u || end[1])) ||
	    n > (~0ULL >> shift))
		return -1;
	*out = n << shift;
	return 0;
}

/* The limits the isolated child of this criterion runs under (isolate.c). */
static int read_limits(struct reader *rd, const config_setting_t *s, const char *where,
		       struct kv_criterion *c)
{
	int has;
	c->timeout = KV_DEFAULT_TIMEOUT;
	c->memory_limit = KV_DEFAULT_MEMORY_LIMIT;
	if (get_number(rd, s, where, "timeout", &has, &c->timeout))
		return KV_EXIT_INPUT;
	if (has && !(c->timeout > 0 && c->timeout <= 1e7))
		return fail_at(rd, config_setting_get_member(s, "timeout"),
			       "%s.timeout: must be a number of seconds above 0 (at most 1e7)", where);
	const config_setting_t *m = config_setting_get_member(s, "memory_limit");
	int t = m ? config_setting_type(m) : CONFIG_TYPE_NONE;
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		long long n = config_setting_get_int64(m);
		c->memory_limit = n > 0 ? (unsigned long long)n : 1;
	} else if (t == CONFIG_TYPE_STRING && parse_size(config_setting_get_string(m), &c->memory_limit) == 0) {
	} else if (m) {
		return fail_at(rd, m, "%s.memory_limit: must be bytes, or a string like \"512M\", \"16G\" "
			       "or \"unlimited\"", where);
	}
	if (c->memory_limit && c->memory_limit < KV_MIN_MEMORY_LIMIT)
		return fail_at(rd, m, "%s.memory_limit: below the least a plugin can load in (%lluM)", where,
			       KV_MIN_MEMORY_LIMIT >> 20);
	return 0;
}

static int read_criterion(struct reader *rd, const config_setting_t *s, size_t i,
			  struct kv_criterion *c)
{
	static const char *const keys[] = {"id", "plugin", "kind", "points", "group", "params",
					   "timeout", "memory_limit"};
	char where[64];
	char *kind = NULL;
	snprintf(where, sizeof where, "round.criteria[%zu]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_at(rd, s, "%s: must be a group { id; plugin; kind; ... }", where);
	c->where = kv_xasprintf("%s:%d", rd->file, config_setting_source_line(s));
	if (check_keys(rd, s, where, keys, 8) || get_string(rd, s, where, "id", 1, &c->id) ||
	    get_string(rd, s, where, "plugin", 1, &c->plugin) ||
	    get_string(rd, s, where, "group", 0, &c->group) ||
	    get_string(rd, s, where, "kind", 1, &kind))
		return KV_EXIT_INPUT;
	int bad_kind = parse_kind(kind, &c->kind);
	free(kind);
	if (bad_kind)
		return fail_at(rd, config_setting_get_member(s, "kind"),
			       "%s.kind: must be \"score\", \"gate\" or \"info\"", where);
	if (!valid_id(c->id, "_-"))
		return fail_at(rd, s, "%s.id: '%s' must match [a-z0-9_-]+", where, c->id);
	if (read_points(rd, s, where, c) || read_limits(rd, s, where, c))
		return KV_EXIT_INPUT;
	const config_setting_t *params = config_setting_get_member(s, "params");
	if (params && config_setting_type(params) != CONFIG_TYPE_GROUP)
		return fail_at(rd, params, "%s.params: must be a group { ... }", where);
	c->params = params ? kv_value_from_config(params, rd->file)
			   : kv_value_new(KV_T_GROUP, "params", c->where);
	return 0;
}

static int check_groups(struct reader *rd, const config_setting_t *list, struct kv_round *r)
{
	for (size_t i = 0; i < r->criterion_count; i++) {
		const struct kv_criterion *c = &r->criteria[i];
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->criteria[j].id, c->id) == 0)
				return fail_at(rd, s, "round.criteria[%zu].id: duplicate criterion id '%s'",
					       i, c->id);
		if (c->group && kv_round_criterion_index(r, c->group) >= 0)
			return fail_at(rd, s, "round.criteria[%zu].group: '%s' is also a criterion id",
				       i, c->group);
	}
	return 0;
}

static int read_criteria(struct reader *rd, const config_setting_t *round, struct kv_round *r)
{
	const config_setting_t *list = config_setting_get_member(round, "criteria");
	if (!list)
		return fail_at(rd, round, "round: missing required key 'criteria'");
	if (!config_setting_is_aggregate(list) || config_setting_type(list) == CONFIG_TYPE_GROUP)
		return fail_at(rd, list, "round.criteria: must be a list ( { id; plugin; kind; }, ... )");
	size_t n = (size_t)config_setting_length(list);
	if (n == 0)
		return fail_at(rd, list, "round.criteria: the round has no criteria");
	r->criteria = kv_xcalloc(n, sizeof *r->criteria);
	r->criterion_count = n;
	for (size_t i = 0; i < n; i++)
		if (read_criterion(rd, config_setting_get_elem(list, (unsigned)i), i, &r->criteria[i]))
			return KV_EXIT_INPUT;
	return check_groups(rd, list, r);
}

static int read_choice(struct reader *rd, const config_setting_t *sel, const char *key,
		       const char *a, const char *b, int *is_b)
{
	char *v;
	*is_b = 0;
	if (get_string(rd, sel, "round.selection", key, 0, &v))
		return KV_EXIT_INPUT;
	if (!v)
		return 0;
	int ok = strcmp(v, a) == 0 || strcmp(v, b) == 0;
	*is_b = strcmp(v, b) == 0;
	free(v);
	if (!ok)
		return fail_at(rd, config_setting_get_member(sel, key),
			       "round.selection.%s: must be \"%s\" or \"%s\"", key, a, b);
	return 0;
}

static int read_rule(struct reader *rd, const config_setting_t *sel, struct kv_round *r)
{
	int has_elim, has_adv;
	long long elim = 0, adv = 0;
	if (get_integer(rd, sel, "round.selection", "eliminate_lowest", &has_elim, &elim) ||
	    get_integer(rd, sel, "round.selection", "advance", &has_adv, &adv))
		return KV_EXIT_INPUT;
	if (has_elim == has_adv)
		return fail_at(rd, sel, "round.selection: give exactly one of 'eliminate_lowest' and 'advance'");
	const char *key = has_elim ? "eliminate_lowest" : "advance";
	long long n = has_elim ? elim : adv;
	const config_setting_t *s = config_setting_get_member(sel, key);
	if (n < 0)
		return fail_at(rd, s, "round.selection.%s: must not be negative", key);
	if (n > (long long)r->team_count)
		return fail_at(rd, s, "round.selection.%s: %lld is more than the %zu teams", key, n,
			       r->team_count);
	r->selection.rule = has_elim ? KV_SELECT_ELIMINATE_LOWEST : KV_SELECT_ADVANCE;
	r->selection.n = (long)n;
	return 0;
}

static int read_tie_break(struct reader *rd, const config_setting_t *sel, struct kv_round *r)
{
	const config_setting_t *tb = config_setting_get_member(sel, "tie_break");
	if (!tb)
		return 0;
	if (!config_setting_is_aggregate(tb) || config_setting_type(tb) == CONFIG_TYPE_GROUP)
		return fail_at(rd, tb, "round.selection.tie_break: must be a list of criterion or group ids");
	size_t n = (size_t)config_setting_length(tb);
	r->selection.tie_break = kv_xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(tb, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail_at(rd, e, "round.selection.tie_break[%zu]: must be a string", i);
		const char *id = config_setting_get_string(e);
		long c = kv_round_criterion_index(r, id);
		int ok = (c >= 0 && r->criteria[c].kind == KV_KIND_SCORE) || kv_round_is_group(r, id);
		if (!ok)
			return fail_at(rd, e, "round.selection.tie_break[%zu]: '%s' is not a score criterion or group", i, id);
		r->selection.tie_break[r->selection.tie_break_count++] = kv_xstrdup(id);
	}
	return 0;
}

static int read_selection(struct reader *rd, const config_setting_t *round, struct kv_round *r)
{
	static const char *const keys[] = {"gate_failure", "eliminate_lowest", "advance", "min_total",
					   "tie_break", "tie_precision", "unresolved_tie"};
	const config_setting_t *sel = config_setting_get_member(round, "selection");
	if (!sel)
		return fail_at(rd, round, "round: missing required key 'selection'");
	if (config_setting_type(sel) != CONFIG_TYPE_GROUP)
		return fail_at(rd, sel, "round.selection: must be a group { ... }");
	int has_prec;
	r->selection.tie_precision = 1e-9;
	if (check_keys(rd, sel, "round.selection", keys, 7) ||
	    read_choice(rd, sel, "gate_failure", "eliminate", "flag", &r->selection.gate_flag_only) ||
	    read_choice(rd, sel, "unresolved_tie", "error", "keep", &r->selection.keep_ties) ||
	    read_rule(rd, sel, r) ||
	    get_number(rd, sel, "round.selection", "min_total", &r->selection.has_min_total,
		       &r->selection.min_total) ||
	    get_number(rd, sel, "round.selection", "tie_precision", &has_prec,
		       &r->selection.tie_precision) ||
	    read_tie_break(rd, sel, r))
		return KV_EXIT_INPUT;
	if (r->selection.tie_precision < 0)
		return fail_at(rd, config_setting_get_member(sel, "tie_precision"),
			       "round.selection.tie_precision: must not be negative");
	return 0;
}

static int read_header(struct reader *rd, const config_setting_t *round, struct kv_round *r)
{
	char *data = NULL;
	int has_seed;
	if (get_string(rd, round, "round", "id", 1, &r->id) ||
	    get_string(rd, round, "round", "title", 1, &r->title) ||
	    get_string(rd, round, "round", "date", 1, &r->date) ||
	    get_string(rd, round, "round", "data", 1, &data) ||
	    get_integer(rd, round, "round", "seed", &has_seed, &r->seed))
		goto fail;
	if (!has_seed) {
		fail_at(rd, round, "round: missing required key 'seed'");
		goto fail;
	}
	if (!valid_id(r->id, "-")) {
		fail_at(rd, config_setting_get_member(round, "id"), "round.id: '%s' must match [a-z0-9-]+", r->id);
		goto fail;
	}
	if (!valid_date(r->date)) {
		fail_at(rd, config_setting_get_member(round, "date"), "round.date: '%s' is not an ISO date YYYY-MM-DD", r->date);
		goto fail;
	}
	if (data[0] == '/') {
		fail_at(rd, config_setting_get_member(round, "data"),
			"round.data: must be relative to the config file, not absolute");
		goto fail;
	}
	char *dir = kv_xasprintf("%s/%s", r->config_dir, data);
	r->data_dir = realpath(dir, NULL);
	free(dir);
	if (!r->data_dir) {
		fail_at(rd, config_setting_get_member(round, "data"), "round.data: '%s': %s", data, strerror(errno));
		goto fail;
	}
	free(data);
	return 0;
fail:
	free(data);
	return KV_EXIT_INPUT;
}

static int read_round(struct reader *rd, config_t *cfg, struct kv_round *r)
{
	static const char *const top[] = {"round"};
	static const char *const keys[] = {"id", "title", "date", "data", "seed", "teams", "criteria", "selection"};
	const config_setting_t *root = config_root_setting(cfg);
	if (check_keys(rd, root, "top level", top, 1))
		return KV_EXIT_INPUT;
	const config_setting_t *round = config_setting_get_member(root, "round");
	if (!round)
		return fail_at(rd, NULL, "missing required group 'round'");
	if (config_setting_type(round) != CONFIG_TYPE_GROUP)
		return fail_at(rd, round, "round: must be a group { ... }");
	if (check_keys(rd, round, "round", keys, 8) || read_header(rd, round, r) ||
	    read_teams(rd, round, r) || read_criteria(rd, round, r) || read_selection(rd, round, r))
		return KV_EXIT_INPUT;
	return 0;
}

/* Past a string's closing quote (libconfig strings take backslash escapes). */
static const char *skip_string(const char *p, int *line)
{
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		*line += *p == '\n';
	}
	return *p ? p + 1 : p;
}

/* Past the end of a block comment. */
static const char *skip_comment(const char *p, int *line)
{
	for (; *p && !(p[0] == '*' && p[1] == '/'); p++)
		*line += *p == '\n';
	return *p ? p + 2 : p;
}

/* The first @include directive outside comments and strings, or NULL.  No
 * other token of libconfig's syntax begins with '@', so nothing is missed. */
static const char *find_include(const char *text, int *line)
{
	*line = 1;
	for (const char *p = text; *p;) {
		if (*p == '"')
			p = skip_string(p + 1, line);
		else if (p[0] == '/' && p[1] == '*')
			p = skip_comment(p + 2, line);
		else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
			p += strcspn(p, "\n");
		else if (strncmp(p, "@include", 8) == 0)
			return p;
		else
			*line += *p++ == '\n';
	}
	return NULL;
}

/* libconfig would read an included file itself: outside the config's folder,
 * outside the config digest of the record and outside an archive, so the
 * record could not tell two rounds apart.  Every setting lives in one file. */
static int refuse_include(const struct kv_round *r, const char *text, struct kv_error *err)
{
	int line;
	const char *at = find_include(text, &line);
	if (!at)
		return 0;
	int len = (int)strcspn(at, "\n");
	while (len > 0 && strchr(" \t\r;", at[len - 1]))
		len--;
	return kv_fail(err, KV_EXIT_INPUT,
		       "%s:%d: '%.*s': @include is not supported: the record's config digest and an "
		       "archive cover the config file alone; write the included settings into it",
		       r->config_path, line, len > 200 ? 200 : len, at);
}

/* Every string of the config, \x escapes decoded, is UTF-8 (each may reach
 * the record, which is JSON) and text: a control character written as a \x
 * escape would reach a terminal in every table of names. */
static int strings_utf8(const char *path, const config_setting_t *s, struct kv_error *err)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);
		const char *key = config_setting_name(s) ? config_setting_name(s) : "a list element";
		long bad = kv_utf8_invalid(v, strlen(v)), control = bad < 0 ? kv_control_char(v) : -1;
		if (bad >= 0 || control >= 0)
			return kv_fail(err, KV_EXIT_INPUT, "%s:%d: %s: %s (byte 0x%02x at %ld)", path,
				       config_setting_source_line(s), key,
				       bad >= 0 ? "not valid UTF-8" : "a control character",
				       (unsigned char)v[bad >= 0 ? bad : control], (bad >= 0 ? bad : control) + 1);
		return 0;
	}
	int n = config_setting_is_aggregate(s) ? config_setting_length(s) : 0;
	for (int i = 0; i < n; i++)
		if (strings_utf8(path, config_setting_get_elem(s, (unsigned)i), err))
			return KV_EXIT_INPUT;
	return 0;
}

/* --- integers as written ----------------------------------------------------
 * libconfig may read an integer other than the one written, silently: a
 * decimal beyond 64 bits as a limit, one beyond 32 bits without L (or a
 * long hexadecimal number) as its low bits, depending on its version.  Each
 * integer setting's literal is read again from the text and must be the
 * value libconfig read. */

/* The value of the literal at lit (len bytes: [+-]digits, or 0x digits, then
 * L or LL); 0 when it is beyond 64 bits.  *wide: it ends in L. */
static int literal_value(const char *lit, size_t len, long long *v, int *wide)
{
	char buf[128];
	if (len >= sizeof buf)
		return 0;
	memcpy(buf, lit, len);
	buf[len] = '\0';
	*wide = 0;
	while (len && (buf[len - 1] == 'L' || buf[len - 1] == 'l')) {
		buf[--len] = '\0';
		*wide = 1;
	}
	const char *digits = buf + (buf[0] == '+' || buf[0] == '-');
	errno = 0;
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
		unsigned long long u = strtoull(digits + 2, NULL, 16);
		*v = (long long)u;
		return errno != ERANGE && u <= (unsigned long long)LLONG_MAX;
	}
	*v = strtoll(buf, NULL, 10);
	return errno != ERANGE;
}

/* The end of the number at p (an integer literal, or a float to skip). */
static const char *number_end(const char *p, int *is_float)
{
	p += *p == '+' || *p == '-';
	int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	p += hex ? 2 : 0;
	while (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))
		p++;
	*is_float = !hex && (*p == '.' || *p == 'e' || *p == 'E');
	if (*is_float) {
		while (isdigit((unsigned char)*p) || (*p && strchr(".eE", *p)) ||
		       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
			p++;
		return p;
	}
	while (*p == 'L' || *p == 'l')
		p++;
	return p;
}

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

struct literal_scan {
	long long want;          /* the value libconfig read */
	const char *name;        /* the setting's name, or NULL */
	const char *bad;         /* the literal found wrong, or NULL */
	int settled;             /* the value's literal was found */
	size_t len;
	int bits;                /* the integer it must fit: 32 or 64 */
};

/* One integer literal (after the setting's name, when it has one): 1 when
 * it is the value, which settles the check; else the first that cannot be
 * the value as libconfig read it is kept, for the message. */
static int literal_seen(struct literal_scan *sc, const char *lit, size_t len, int after_name)
{
	long long v;
	int wide, exact = literal_value(lit, len, &v, &wide);
	if (sc->name && !after_name)
		return 0;
	if (exact && v == sc->want)
		return sc->settled = 1;
	if (!sc->bad && (!exact || (!wide && (v < INT_MIN || v > INT_MAX)))) {
		sc->bad = lit;
		sc->len = len;
		sc->bits = exact ? 32 : 64;
	}
	return 0;
}

/* Scan the integer literals of the line at p; strings and comments skipped. */
static void scan_line(struct literal_scan *sc, const char *p)
{
	size_t nlen = sc->name ? strlen(sc->name) : 0;
	int after_name = 0;
	while (*p && *p != '\n') {
		if (*p == '"') {
			for (p++; *p && *p != '"' && *p != '\n'; p++)
				p += *p == '\\' && p[1] && p[1] != '\n';
			p += *p == '"';
			after_name = 0;
			continue;
		}
		if (*p == '#' || (p[0] == '/' && (p[1] == '/' || p[1] == '*')))
			return; /* a comment to the end of the line */
		if (isalpha((unsigned char)*p) || *p == '*') {
			const char *w = p;
			while (name_char(*p))
				p++;
			after_name = sc->name && (size_t)(p - w) == nlen && strncmp(w, sc->name, nlen) == 0;
			continue;
		}
		int is_float;
		if (isdigit((unsigned char)*p) || ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]))) {
			const char *end = number_end(p, &is_float);
			if (!is_float && literal_seen(sc, p, (size_t)(end - p), after_name))
				return;
			p = end;
			after_name = 0;
			continue;
		}
		if (*p == '.') {
			p = number_end(p + 1, &is_float); /* the fraction of ".5" */
			continue;
		}
		if (*p != ' ' && *p != '\t' && *p != '=' && *p != ':')
			after_name = 0;
		p++;
	}
}

/* "round.criteria[0].params.n" for messages. */
static void setting_path(const config_setting_t *s, char *out, size_t size)
{
	const config_setting_t *up = config_setting_parent(s);
	if (!up || !config_setting_parent(up)) {
		snprintf(out, size, "%s", config_setting_name(s) ? config_setting_name(s) : "");
		return;
	}
	setting_path(up, out, size);
	size_t n = strlen(out);
	if (config_setting_name(s))
		snprintf(out + n, size - n, ".%s", config_setting_name(s));
	else
		snprintf(out + n, size - n, "[%d]", config_setting_index(s));
}

static int integer_fits(const char *path, const char *text, const config_setting_t *s, struct kv_error *err)
{
	int line = config_setting_source_line(s);
	const char *p = text;
	for (int l = 1; l < line && p; l++)
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	struct literal_scan sc = {.want = config_setting_get_int64(s), .name = config_setting_name(s)};
	if (p)
		scan_line(&sc, p);
	if (p && !sc.bad && !sc.settled && sc.name) { /* the value may stand on a line apart from its name */
		sc.name = NULL;
		scan_line(&sc, p);
	}
	if (sc.settled || !sc.bad)
		return 0;
	char where[256];
	setting_path(s, where, sizeof where);
	return kv_fail(err, KV_EXIT_INPUT, "%s:%d: %s: %.*s does not fit in a %d-bit integer%s", path, line, where,
		       (int)sc.len, sc.bad, sc.bits, sc.bits == 32 ? " (write L after it for 64 bits)" : "");
}

static int integers_fit(const char *path, const char *text, const config_setting_t *s, struct kv_error *err)
{
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		return integer_fits(path, text, s, err);
	int n = config_setting_is_aggregate(s) ? config_setting_length(s) : 0;
	for (int i = 0; i < n; i++)
		if (integers_fit(path, text, config_setting_get_elem(s, (unsigned)i), err))
			return KV_EXIT_INPUT;
	return 0;
}

/* The raw text first: a byte that is not UTF-8 is named with its line. */
static int text_utf8(const char *path, const char *text, struct kv_error *err)
{
	long bad = kv_utf8_invalid(text, strlen(text));
	if (bad < 0)
		return 0;
	int line = 1;
	for (long i = 0; i < bad; i++)
		line += text[i] == '\n';
	return kv_fail(err, KV_EXIT_INPUT, "%s:%d: not valid UTF-8 (byte 0x%02x)", path, line,
		       (unsigned char)text[bad]);
}

static int parse_text(struct kv_round *r, const char *text, const char *const *overrides,
		      size_t override_count, struct kv_error *err)
{
	config_t cfg;
	config_init(&cfg);
	/* Should a directive ever get past refuse_include, no file opens below
	 * a regular file: libconfig then fails instead of reading one. */
	config_set_include_dir(&cfg, "/dev/null");
	int rc = text_utf8(r->config_path, text, err);
	if (rc == 0 && config_read_string(&cfg, text) != CONFIG_TRUE) {
		rc = kv_fail(err, KV_EXIT_INPUT, "%s:%d: syntax error: %s", r->config_path,
			     config_error_line(&cfg), config_error_text(&cfg));
	}
	if (rc == 0) /* before the overrides, while every line is the text's */
		rc = integers_fit(r->config_path, text, config_root_setting(&cfg), err);
	for (size_t i = 0; rc == 0 && i < override_count; i++)
		rc = kv_apply_override(&cfg, overrides[i], err);
	if (rc == 0)
		rc = strings_utf8(r->config_path, config_root_setting(&cfg), err);
	if (rc == 0) {
		struct reader rd = {r->config_path, err};
		rc = read_round(&rd, &cfg, r);
	}
	config_destroy(&cfg);
	return rc;
}

int kv_round_load(const char *path, const char *const *overrides, size_t override_count,
		  struct kv_round **out, struct kv_error *err)
{
	*out = NULL;
	char *real = realpath(path, NULL);
	if (!real)
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", path, strerror(errno));
	struct kv_round *r = kv_xcalloc(1, sizeof *r);
	r->config_path = kv_xstrdup(path);
	char *copy = kv_xstrdup(real);
	r->config_dir = kv_xstrdup(dirname(copy));
	strcpy(copy, real);
	r->config_name = kv_xstrdup(basename(copy));
	free(copy);
	free(real);
	struct kv_inputs files;
	char *text = NULL;
	size_t len = 0;
	int rc = kv_inputs_init(&files, r->config_dir, err);
	if (rc == 0)
		rc = kv_inputs_load(&files, r->config_name, &text, &len, err);
	if (rc == 0) {
		kv_sha256_hex(text, len, r->config_sha256);
		if (memchr(text, '\0', len))
			rc = kv_fail(err, KV_EXIT_INPUT, "%s: contains a NUL byte", path);
		else if ((rc = refuse_include(r, text, err)) == 0)
			rc = parse_text(r, text, overrides, override_count, err);
	}
	kv_inputs_free(&files);
	free(text);
	if (rc != 0) {
		kv_round_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void kv_round_free(struct kv_round *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->team_count; i++) {
		free(r->teams[i].id);
		free(r->teams[i].name);
		free(r->teams[i].model);
	}
	for (size_t i = 0; i < r->criterion_count; i++) {
		struct kv_criterion *c = &r->criteria[i];
		free(c->id);
		free(c->plugin);
		free(c->group);
		free(c->where);
		kv_value_free(c->params);
	}
	for (size_t i = 0; i < r->selection.tie_break_count; i++)
		free(r->selection.tie_break[i]);
	free(r->selection.tie_break);
	free(r->teams);
	free(r->criteria);
	free(r->config_path);
	free(r->config_dir);
	free(r->config_name);
	free(r->id);
	free(r->title);
	free(r->date);
	free(r->data_dir);
	free(r);
}

long kv_round_team_index(const struct kv_round *r, const char *id)
{
	for (size_t i = 0; i < r->team_count; i++)
		if (r->teams[i].id && strcmp(r->teams[i].id, id) == 0)
			return (long)i;
	return -1;
}

long kv_round_criterion_index(const struct kv_round *r, const char *id)
{
	for (size_t i = 0; i < r->criterion_count; i++)
		if (r->criteria[i].id && strcmp(r->criteria[i].id, id) == 0)
			return (long)i;
	return -1;
}

int kv_round_is_group(const struct kv_round *r, const char *id)
{
	for (size_t i = 0; i < r->criterion_count; i++)
		if (r->criteria[i].group && strcmp(r->criteria[i].group, id) == 0)
			return 1;
	return 0;
}

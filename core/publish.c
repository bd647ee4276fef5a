/* kaieval publish: the disclosure tables a ministry releases, from one
 * record — `top` (each item's top score and team, and the averages: what
 * stage 1 released), `gap` (averages and the 1st–last gap per item: what
 * stage 2 first released), `full` (every team's points).  Text or CSV. */
#include "human.h"
#include "publish.h"
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A row of the disclosure: a score criterion, a group, or the total. */
struct item {
	const char *id;
	double max;           /* points available */
	enum kv_pub_row kind;
};

struct tables {
	const struct kv_record *rec;
	struct item *items;
	size_t count;
	const struct kv_digits *digits;
	int csv;
};

static void add_item(struct tables *t, const char *id, double max, enum kv_pub_row kind)
{
	t->items = kv_xrealloc(t->items, (t->count + 1) * sizeof *t->items);
	t->items[t->count++] = (struct item){id, max, kind};
}

static int in_score_group(const struct kv_rec_criterion *c, const char *g)
{
	return c->kind == KV_KIND_SCORE && c->group && strcmp(c->group, g) == 0;
}

/* Criteria in config order, each group after its last member, total last. */
static void collect_items(struct tables *t)
{
	const struct kv_record *rec = t->rec;
	double total = 0;
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_criterion *cr = &rec->criteria[c];
		if (cr->kind != KV_KIND_SCORE)
			continue;
		add_item(t, cr->id, cr->points, KV_PUB_CRITERION);
		total += cr->points;
		const char *g = cr->group;
		int last = g != NULL;
		for (size_t d = c + 1; d < rec->criterion_count && last; d++)
			last = !in_score_group(&rec->criteria[d], g);
		if (!last)
			continue;
		double gpts = 0;
		for (size_t d = 0; d < rec->criterion_count; d++)
			if (in_score_group(&rec->criteria[d], g))
				gpts += rec->criteria[d].points;
		add_item(t, g, gpts, KV_PUB_GROUP);
	}
	add_item(t, "total", total, KV_PUB_TOTAL);
}

/* A team's points on an item. */
static double points_of(const struct kv_record *rec, const struct kv_rec_team *team, const struct item *it)
{
	if (it->kind == KV_PUB_TOTAL)
		return team->standing.total;
	if (it->kind == KV_PUB_GROUP) {
		for (size_t g = 0; g < rec->group_count; g++)
			if (strcmp(rec->groups[g], it->id) == 0)
				return team->groups[g];
		return NAN;
	}
	long c = kv_rec_criterion_index(rec, it->id);
	return c >= 0 ? team->outcomes[c].points : NAN;
}

struct stats {
	double top, bottom, mean;
	struct kv_buf top_teams;
};

/* Ties at the published precision share the top (9.2 for both SKT and LG). */
static void item_stats(const struct tables *t, const struct item *it, struct stats *s)
{
	double scale = pow(10, t->digits->d[KV_PUB_TOP][it->kind]);
	int n = 0;
	double sum = 0;
	s->top = -INFINITY;
	s->bottom = INFINITY;
	for (size_t i = 0; i < t->rec->team_count; i++) {
		double p = points_of(t->rec, &t->rec->teams[i], it);
		sum += p;
		n++;
		if (p > s->top) s->top = p;
		if (p < s->bottom) s->bottom = p;
	}
	s->mean = n ? sum / n : NAN;
	memset(&s->top_teams, 0, sizeof s->top_teams);
	kv_buf_puts(&s->top_teams, "");
	for (size_t i = 0; i < t->rec->team_count; i++)
		if (round(points_of(t->rec, &t->rec->teams[i], it) * scale) == round(s->top * scale))
			kv_buf_printf(&s->top_teams, "%s%s", s->top_teams.len ? " " : "", t->rec->teams[i].team.id);
}

/* Round half up in decimal, as published tables do (반올림): 11.85 -> 11.9,
 * working on the shortest decimal that reads back as x, not on its binary
 * value (which printf would round to 11.8). */
void kv_format_half_up(double x, int digits, char *out, size_t len)
{
	char s[32];
	kv_format_double(x, s);
	const char *dot = strchr(s, '.');
	if (strchr(s, 'e') || !dot || (int)strlen(dot + 1) <= digits) {
		snprintf(out, len, "%.*f", digits, x);
		return;
	}
	int neg = s[0] == '-';
	/* Digits without sign and point, cut after `digits` decimals. */
	char d[40];
	size_t n = 0, int_len = (size_t)(dot - s) - (size_t)neg;
	for (const char *p = s + neg; *p && n < int_len + (size_t)digits; p++)
		if (*p != '.')
			d[n++] = *p;
	int carry = dot[1 + digits] >= '5';
	for (size_t i = n; carry && i-- > 0;) {
		carry = d[i] == '9';
		d[i] = carry ? '0' : (char)(d[i] + 1);
	}
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	if (carry)
		out[o++] = '1';
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i == int_len)
			out[o++] = '.';
		out[o++] = d[i];
	}
	out[o] = '\0';
}

static void cell(const struct tables *t, double x, int digits, int width, FILE *out)
{
	char num[48];
	kv_format_half_up(x, digits, num, sizeof num);
	if (t->csv)
		fprintf(out, ",%s", num);
	else
		fprintf(out, " %*s", width, num);
}

/* One item's row of the top or gap table; item_w and teams_w: the widths
 * of the item and team(s) columns. */
static void print_item(const struct tables *t, size_t i, const struct stats *s, int gap, int item_w, int teams_w,
		       FILE *out)
{
	const int (*d)[KV_PUB_ROWS] = t->digits->d;
	enum kv_pub_row kind = t->items[i].kind;
	if (t->csv)
		fputs(t->items[i].id, out);
	else
		fprintf(out, "%-*s", item_w, t->items[i].id);
	cell(t, t->items[i].max, d[KV_PUB_MAX][kind], 6, out);
	if (gap) {
		cell(t, s->mean, d[KV_PUB_AVERAGE][kind], 8, out);
		if (!t->csv)
			fputs("  ", out);
		cell(t, s->top - s->bottom, d[KV_PUB_GAP][kind], teams_w + 7, out);
	} else {
		cell(t, s->top, d[KV_PUB_TOP][kind], 8, out);
		if (t->csv)
			fprintf(out, ",%s", s->top_teams.data);
		else
			fprintf(out, "  %-*s", teams_w, s->top_teams.data);
		cell(t, s->mean, d[KV_PUB_AVERAGE][kind], 7, out);
	}
	fputc('\n', out);
}

static void print_top_or_gap(const struct tables *t, int gap, FILE *out)
{
	struct stats *s = kv_xcalloc(t->count + 1, sizeof *s);
	int item_w = 14, teams_w = 20; /* each column as wide as its widest cell */
	for (size_t i = 0; i < t->count; i++) {
		item_stats(t, &t->items[i], &s[i]);
		item_w = kv_wider(item_w, t->items[i].id);
		teams_w = gap ? teams_w : kv_wider(teams_w, s[i].top_teams.data);
	}
	if (t->csv)
		fputs(gap ? "item,max,average,gap\n" : "item,max,top,top_teams,average\n", out);
	else
		fprintf(out, "%-*s %6s %8s  %-*s%8s\n", item_w, "item", "max", gap ? "average" : "top", teams_w,
			gap ? "" : "team(s)", gap ? "gap" : "average");
	for (size_t i = 0; i < t->count; i++) {
		print_item(t, i, &s[i], gap, item_w, teams_w, out);
		kv_buf_free(&s[i].top_teams);
	}
	free(s);
}

/* The full table's heading; team_w: the team column's width. */
static void print_full_heading(const struct tables *t, int team_w, FILE *out)
{
	if (t->csv)
		fputs("rank,team", out);
	else
		fprintf(out, "rank  %-*s", team_w, "team");
	for (size_t i = 0; i < t->count; i++)
		if (t->csv)
			fprintf(out, ",%s", t->items[i].id);
		else
			fprintf(out, " %*s", kv_wider(10, t->items[i].id), t->items[i].id);
	fputs(t->csv ? ",status,reason\n" : "  status      reason\n", out);
}

static void print_full(const struct tables *t, FILE *out)
{
	int team_w = 14; /* the team column, wider where a team's id is */
	for (size_t k = 0; k < t->rec->team_count; k++)
		team_w = kv_wider(team_w, t->rec->teams[k].team.id);
	print_full_heading(t, team_w, out);
	for (size_t k = 0; k < t->rec->team_count; k++) {
		const struct kv_rec_team *team = &t->rec->teams[k];
		char r[16];
		snprintf(r, sizeof r, team->standing.rank ? "%ld" : "-", team->standing.rank);
		if (t->csv)
			fprintf(out, "%s,%s", r, team->team.id);
		else
			fprintf(out, "%-4s  %-*s", r, team_w, team->team.id);
		for (size_t i = 0; i < t->count; i++)
			cell(t, points_of(t->rec, team, &t->items[i]), t->digits->d[KV_PUB_POINTS][t->items[i].kind],
			     kv_wider(10, t->items[i].id), out);
		char *reason = kv_rec_reason(t->rec, team);
		fprintf(out, t->csv ? ",%s,%s\n" : "  %-10s  %s\n",
			kv_status_name(team->standing.status), reason ? reason : "");
		free(reason);
	}
}

void kv_publish_tables(const struct kv_record *rec, const char *level, int csv, const struct kv_digits *digits,
		       FILE *out)
{
	struct tables t = {.rec = rec, .digits = digits, .csv = csv};
	collect_items(&t);
	if (strcmp(level, "full") == 0)
		print_full(&t, out);
	else
		print_top_or_gap(&t, strcmp(level, "gap") == 0, out);
	free(t.items);
}

int kv_publish(const char *record, const char *level, int csv, const struct kv_digits *digits, FILE *out)
{
	struct kv_error err = {0};
	struct kv_record *rec = kv_record_read(record, &err);
	if (!rec) {
		kv_error_print(&err, stderr);
		return err.status;
	}
	if (rec->team_count == 0) {
		fprintf(stderr, "kaieval: %s: not a kaieval result record: it has no teams\n", record);
		kv_record_free(rec);
		return KV_EXIT_INPUT;
	}
	if (!csv)
		fprintf(out, "%s — %s (%s): disclosure level %s, %zu teams\n\n", rec->round_id, rec->title,
			rec->date, level, rec->team_count);
	kv_publish_tables(rec, level, csv, digits, out);
	kv_record_free(rec);
	return 0;
}

/* --- the precision spec ----------------------------------------------------------------- */

void kv_digits_all(struct kv_digits *d, int n)
{
	for (int c = 0; c < KV_PUB_COLUMNS; c++)
		for (int r = 0; r < KV_PUB_ROWS; r++)
			d->d[c][r] = n;
}

static int name_index(const char *s, size_t n, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
			return i;
	return -1;
}

/* One item: "N", "COLUMN=N" or "COLUMN.ROW=N". */
static int digits_item(const char *item, size_t len, const char *from, struct kv_digits *d, struct kv_error *err)
{
	static const char *const columns[] = {"max", "top", "average", "gap", "points"};
	static const char *const rows[] = {"criterion", "group", "total"};
	const char *eq = memchr(item, '=', len), *n = eq ? eq + 1 : item;
	size_t name_len = eq ? (size_t)(eq - item) : 0;
	const char *dot = eq ? memchr(item, '.', name_len) : NULL;
	int col = eq ? name_index(item, dot ? (size_t)(dot - item) : name_len, columns, KV_PUB_COLUMNS) : -1;
	int row = dot ? name_index(dot + 1, (size_t)(eq - dot - 1), rows, KV_PUB_ROWS) : -1;
	if ((size_t)(item + len - n) != 1 || *n < '0' || *n > '9' || (eq && col < 0) || (dot && row < 0))
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s%s--digits: '%.*s': expected N, COLUMN=N or COLUMN.ROW=N (COLUMN max, top, average, "
			       "gap or points; ROW criterion, group or total; N 0 to 9)", from ? from : "",
			       from ? ": " : "", (int)len, item);
	for (int c = 0; c < KV_PUB_COLUMNS; c++)
		for (int r = 0; r < KV_PUB_ROWS; r++)
			if ((!eq || c == col) && (!dot || r == row))
				d->d[c][r] = *n - '0';
	return 0;
}

static int digits_items(const char *text, const char *from, struct kv_digits *d, struct kv_error *err)
{
	const char *p = text;
	while (*p) {
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		size_t skip = strspn(p, ", \t\r\n");
		if (skip) {
			p += skip;
			continue;
		}
		size_t len = strcspn(p, ", \t\r\n#");
		int rc = digits_item(p, len, from, d, err);
		if (rc)
			return rc;
		p += len;
	}
	return 0;
}

int kv_digits_parse(const char *spec, struct kv_digits *d, struct kv_error *err)
{
	kv_digits_all(d, 2);
	if (spec[0] != '@')
		return digits_items(spec, NULL, d, err);
	struct kv_buf text = {0};
	if (kv_read_file(spec + 1, &text) != 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: cannot read the precision of --digits: %s", spec + 1,
			       kv_open_error(errno));
	int rc = digits_items(text.data, spec + 1, d, err);
	kv_buf_free(&text);
	return rc;
}

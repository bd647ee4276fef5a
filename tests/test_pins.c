/* The scoring of every archived round and example, pinned to the bit.
 *
 * tests/data/pins/NAME.pin holds, per team, every number and decision the
 * scoring produced (rank, status, reason, total, group subtotals, each
 * criterion's value, normalized score, points and pass), written by
 * tests/data/pins/make_pins.py from the records of the build these pins were
 * taken with.  Each test reruns the round with the kaieval binary, walks its
 * record the same way in C, and compares line by line: the same keys in the
 * same order, and numbers equal to the last bit, with plugins isolated and
 * with --no-isolation. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

struct pin_line { char team[64], path[192], value[128]; };

/* One scoring field of the record as text: numbers keep their double. */
struct field { char path[192]; int is_num; double num; char text[128]; };

struct fields { struct field *items; size_t count; };

static void add(struct fields *f, const char *path, const cJSON *v)
{
	f->items = realloc(f->items, (f->count + 1) * sizeof *f->items);
	cr_assert(f->items);
	struct field *x = &f->items[f->count++];
	memset(x, 0, sizeof *x);
	snprintf(x->path, sizeof x->path, "%s", path);
	if (cJSON_IsNumber(v)) {
		x->is_num = 1;
		x->num = v->valuedouble;
	} else if (cJSON_IsString(v)) {
		snprintf(x->text, sizeof x->text, "%s", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		snprintf(x->text, sizeof x->text, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else {
		cr_assert(cJSON_IsNull(v) || !v, "%s: unexpected JSON type", path);
		snprintf(x->text, sizeof x->text, "null");
	}
}

static void team_fields(const cJSON *team, struct fields *f)
{
	static const char *const top[] = { "rank", "status", "reason", "total" };
	static const char *const per_crit[] = { "value", "normalized", "points", "pass" };
	char path[192];
	for (size_t i = 0; i < 4; i++)
		add(f, top[i], cJSON_GetObjectItemCaseSensitive(team, top[i]));
	const cJSON *g;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(team, "groups")) {
		snprintf(path, sizeof path, "groups.%s", g->string);
		add(f, path, g);
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(team, "criteria")) {
		for (size_t i = 0; i < 4; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, per_crit[i]);
			if (!v)
				continue;
			snprintf(path, sizeof path, "criteria.%s.%s", c->string, per_crit[i]);
			add(f, path, v);
		}
	}
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void check_line(const struct pin_line *p, const struct field *f, const char *pin)
{
	cr_assert_str_eq(f->path, p->path, "%s: team %s: field %s where the pin has %s", pin,
			 p->team, f->path, p->path);
	if (!f->is_num) {
		cr_assert_str_eq(f->text, p->value, "%s: %s %s: '%s', pinned '%s'", pin, p->team,
				 p->path, f->text, p->value);
		return;
	}
	char *end;
	double want = strtod(p->value, &end);
	cr_assert(*end == '\0', "%s: bad pinned number '%s'", pin, p->value);
	cr_assert(same_bits(f->num, want), "%s: %s %s: %.17g, pinned %.17g (%s)", pin, p->team,
		  p->path, f->num, want, p->value);
}

/* Rerun config (relative to the source tree) and compare with pins/NAME.pin;
 * flag is NULL (plugins isolated) or "--no-isolation" (in process). */
static void check_round_as(const char *config, const char *name, const char *flag)
{
	char *dir = kvt_tempdir();
	char out[4096], pin_rel[256];
	snprintf(out, sizeof out, "%s/result.json", dir);
	char *cfg = kvt_src(config);
	const char *args[] = { "run", cfg, "-o", out, flag, NULL };
	char *so = NULL, *se = NULL;
	int rc = kvt_exec(args, &so, &se);
	cr_assert_eq(rc, 0, "%s %s: exit %d: %s", config, flag ? flag : "", rc, se);
	char *text = kvt_read(out);
	cJSON *record = cJSON_Parse(text);
	cr_assert(record, "%s: record does not parse", config);

	snprintf(pin_rel, sizeof pin_rel, "tests/data/pins/%s.pin", name);
	char *pin_path = kvt_src(pin_rel);
	FILE *pf = fopen(pin_path, "r");
	cr_assert(pf, "cannot open %s", pin_path);
	const cJSON *team;
	struct pin_line p;
	size_t lines = 0;
	cJSON_ArrayForEach(team, cJSON_GetObjectItemCaseSensitive(record, "teams")) {
		struct fields f = { 0 };
		team_fields(team, &f);
		const char *id = cJSON_GetObjectItemCaseSensitive(team, "id")->valuestring;
		for (size_t i = 0; i < f.count; i++, lines++) {
			int n = fscanf(pf, "%63[^\t]\t%191[^\t]\t%127[^\n]\n", p.team, p.path, p.value);
			cr_assert_eq(n, 3, "%s: pin ends at line %zu, the record goes on (%s %s)",
				     name, lines + 1, id, f.items[i].path);
			cr_assert_str_eq(p.team, id, "%s:%zu: team %s, pinned %s", name, lines + 1, id, p.team);
			check_line(&p, &f.items[i], name);
		}
		free(f.items);
	}
	cr_assert(fscanf(pf, "%63[^\t]", p.team) != 1, "%s: the pin has more than the record's %zu lines",
		  name, lines);
	cr_assert_gt(lines, 0);
	fclose(pf);
	free(pin_path);
	cJSON_Delete(record);
	free(text);
	free(so);
	free(se);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

/* The same bits with plugins isolated and in process. */
static void check_round(const char *config, const char *name)
{
	check_round_as(config, name, NULL);
	check_round_as(config, name, "--no-isolation");
}

Test(pins, stage1) { check_round("conf/rounds/2026-01-stage1.cfg", "2026-01-stage1"); }
Test(pins, stage1_table) { check_round("conf/rounds/2026-01-stage1-table.cfg", "2026-01-stage1-table"); }
Test(pins, repechage) { check_round("conf/rounds/2026-02-repechage.cfg", "2026-02-repechage"); }
Test(pins, stage2) { check_round("conf/rounds/2026-08-stage2.cfg", "2026-08-stage2"); }
Test(pins, stage2_cost) { check_round("examples/cost-facts/stage2-cost.cfg", "stage2-cost"); }
Test(pins, license_cases) { check_round("examples/license-cases/round.cfg", "license-cases"); }

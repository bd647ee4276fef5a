/* The plugin ABI 1.1: a 1.0 plugin (built against the frozen 1.0 header)
 * loads and scores unchanged, a 1.1 plugin written with the macro uses the
 * new members, table_number's one syntax, KV_HOST_HAS, warnings in the
 * record, and params walked with the plugin's own stride. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include "support.h"
#include "table.h"

static char *dir;

static void setup(void) { dir = kvt_tempdir_x(); }
static void teardown(void) { kvt_rmtree(dir); free(dir); }
TestSuite(abi, .init = setup, .fini = teardown);

/* Run x (table, 10 points) then `second` (20 points); returns the record. */
static cJSON *run_after_x(const char *second, int expect_rc, char **err)
{
	char *crit = kv_xasprintf("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
				  "      params = { file = \"x.csv\"; }; },\n%s", second);
	char *cfg = kvt_config(crit, "    advance = 4;");
	int rc = kvt_cli_run(dir, cfg, err);
	free(crit);
	free(cfg);
	cr_assert_eq(rc, expect_rc, "exit %d: %s", rc, *err);
	if (rc)
		return NULL;
	char *path = kv_xasprintf("%s/out.json", dir);
	cJSON *record = kvt_record(path);
	cr_assert_not_null(record, "no record at %s", path);
	free(path);
	return record;
}

static const cJSON *team(const cJSON *record, const char *id)
{
	const cJSON *t = kvt_record_team(record, id);
	cr_assert_not_null(t, "no team %s", id);
	return t;
}

static double num(const cJSON *team, const char *criterion, const char *key)
{
	const cJSON *o = cJSON_GetObjectItem(cJSON_GetObjectItem(team, "criteria"), criterion);
	const cJSON *v = cJSON_GetObjectItem(o, key);
	if (!v)
		v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "evidence"), key);
	cr_assert(cJSON_IsNumber(v), "%s.%s is not a number", criterion, key);
	return v->valuedouble;
}

static const cJSON *plugin_entry(const cJSON *record, size_t i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(record, "plugins"), (int)i);
}

Test(abi, a_1_0_plugin_loads_and_scores_unchanged)
{
	kvt_write(dir, "data/y.csv", "team,score\na,7\nb,2.5\nc,10\nd,0\n");
	char *err = NULL;
	cJSON *r = run_after_x("    { id = \"y\"; plugin = \"abi10\"; kind = \"score\"; points = 20.0;\n"
			       "      params = { file = \"y.csv\"; previous = \"x\"; }; }", 0, &err);
	/* score / 10 (the default scale), times 20 points, plus x's 10 x normalized. */
	const char *ids[] = {"a", "b", "c", "d"};
	const double score[] = {7, 2.5, 10, 0}, x[] = {0.1, 0.2, 0.3, 0.4};
	const long rank[] = {2, 3, 1, 4};
	for (size_t i = 0; i < 4; i++) {
		const cJSON *t = team(r, ids[i]);
		cr_expect_float_eq(num(t, "y", "value"), score[i], 1e-12);
		cr_expect_float_eq(num(t, "y", "normalized"), score[i] / 10, 1e-12);
		cr_expect_float_eq(num(t, "y", "points"), score[i] * 2, 1e-12);
		cr_expect_float_eq(num(t, "y", "doubled"), score[i] * 2, 1e-12);
		cr_expect_float_eq(num(t, "y", "previous_normalized"), x[i], 1e-12);
		cr_expect_float_eq(cJSON_GetObjectItem(t, "total")->valuedouble, x[i] * 10 + score[i] * 2, 1e-12);
		cr_expect_eq((long)cJSON_GetObjectItem(t, "rank")->valuedouble, rank[i], "team %s", ids[i]);
	}
	cr_expect_str_eq(cJSON_GetObjectItem(plugin_entry(r, 1), "abi")->valuestring, "1.0");
	cr_expect_null(cJSON_GetObjectItem(plugin_entry(r, 1), "warnings"));
	cJSON_Delete(r);
	free(err);
}

Test(abi, a_1_1_plugin_uses_the_new_members_and_its_warning_is_recorded)
{
	kvt_write(dir, "data/z.csv", "team,score\na,5\nb,0\nc,2.5e0\nd,+1\n");
	char *err = NULL;
	cJSON *r = run_after_x("    { id = \"z\"; plugin = \"abi11\"; kind = \"score\"; points = 10.0;\n"
			       "      params = { file = \"z.csv\"; previous = \"x\"; }; }", 0, &err);
	const char *ids[] = {"a", "b", "c", "d"};
	const double normalized[] = {0.5, 0, 0.25, 0.1}, x_value[] = {1, 2, 3, 4};
	for (size_t i = 0; i < 4; i++) {
		const cJSON *t = team(r, ids[i]);
		cr_expect_float_eq(num(t, "z", "normalized"), normalized[i], 1e-12);
		cr_expect_eq(num(t, "z", "previous_value"), x_value[i]);
		cr_expect_eq(num(t, "z", "untouched"), 1, "outcome_get wrote past out_size");
	}
	const cJSON *z = plugin_entry(r, 1);
	cr_expect_str_eq(cJSON_GetObjectItem(z, "plugin")->valuestring, "abi11");
	cr_expect_str_eq(cJSON_GetObjectItem(z, "abi")->valuestring, "1.1");
	const cJSON *w = cJSON_GetObjectItem(z, "warnings");
	cr_assert(cJSON_IsArray(w) && cJSON_GetArraySize(w) == 1);
	cr_expect_str_eq(cJSON_GetArrayItem(w, 0)->valuestring, "team 'b' scored 0");
	cr_expect_null(cJSON_GetObjectItem(plugin_entry(r, 0), "warnings"), "x did not warn");
	cr_expect(strstr(err, "kaieval: warning: criterion 'z': team 'b' scored 0") != NULL, "%s", err);
	/* The record reader knows the member: explain and publish take the record. */
	char *out = kv_xasprintf("%s/out.json", dir);
	const char *explain[] = {"explain", out, NULL}, *publish[] = {"publish", out, "--level", "full", NULL};
	cr_expect_eq(kvt_exec(explain, NULL, NULL), 0);
	cr_expect_eq(kvt_exec(publish, NULL, NULL), 0);
	free(out);
	cJSON_Delete(r);
	free(err);
}

static void expect_refused_cell(const char *csv_cell, const char *shown)
{
	char *csv = kv_xasprintf("team,score\na,%s\nb,1\nc,1\nd,1\n", csv_cell);
	kvt_write(dir, "data/z.csv", csv);
	char *err = NULL;
	run_after_x("    { id = \"z\"; plugin = \"abi11\"; kind = \"score\"; points = 10.0;\n"
		    "      params = { file = \"z.csv\"; }; }", 2, &err);
	char *needle = kv_xasprintf("z.csv:2: column 'score': '%s' is not a number", shown);
	cr_expect(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);
	free(needle);
	free(err);
	free(csv);
}

Test(abi, table_number_refuses_blanks_hex_and_words)
{
	expect_refused_cell(" 5", " 5");
	expect_refused_cell("0x10", "0x10");
	expect_refused_cell("inf", "inf");
	expect_refused_cell("\"5,0\"", "5,0");
	expect_refused_cell("", "");
}

Test(abi, number_syntax)
{
	const char *good[] = {"5", "-5", "+5", "5.", ".5", "0.25", "007", "1e3", "1E+3", "2.5e-1", "-0"};
	const double want[] = {5, -5, 5, 5, 0.5, 0.25, 7, 1000, 1000, 0.25, 0};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		double x = NAN;
		cr_expect(kv_number_parse(good[i], &x), "'%s' refused", good[i]);
		cr_expect_eq(x, want[i], "'%s' read as %g", good[i], x);
	}
	const char *bad[] = {"", " 5", "5 ", "\t5", "0x10", "0x1p3", "inf", "-infinity", "nan", "1e",
			     "1e+", "e5", ".", "+", "-.", "1.2.3", "5,0", "1e400", "--5", "5e5.5"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		double x = 42;
		cr_expect(!kv_number_parse(bad[i], &x), "'%s' accepted", bad[i]);
		cr_expect_eq(x, 42, "'%s' changed *out", bad[i]);
	}
}

/* --- KV_HOST_HAS and KV_HOST_REQUIRE on a host table cut at 1.0 ---------- */

static int errors_seen;

static int count_error(struct kv_ctx *ctx, const char *fmt, ...)
{
	(void)ctx;
	cr_expect(strstr(fmt, "host->table_number") != NULL, "%s", fmt);
	errors_seen++;
	return KV_ERR_INPUT;
}

Test(abi, host_has_tells_1_0_hosts_from_1_1)
{
	struct kv_host h = {.size = offsetof(struct kv_host, outcome_get), .error = count_error};
	cr_expect(KV_HOST_HAS(&h, rng_stream));
	cr_expect(!KV_HOST_HAS(&h, outcome_get));
	cr_expect(!KV_HOST_HAS(&h, table_number));
	errors_seen = 0;
	cr_expect_eq(KV_HOST_REQUIRE(&h, NULL, table_number), KV_ERR_INTERNAL);
	cr_expect_eq(errors_seen, 1);
	h.size = sizeof h;
	cr_expect(KV_HOST_HAS(&h, outcome_get) && KV_HOST_HAS(&h, table_number));
	cr_expect_eq(KV_HOST_REQUIRE(&h, NULL, table_number), KV_OK);
	cr_expect_eq(errors_seen, 1);
}

/* --- a descriptor whose kv_param_decl is larger than the core's ---------- */

struct wide_decl {
	struct kv_param_decl d;
	const char *later;      /* a member a later ABI might add */
	double more;
};

static const struct wide_decl wide_params[] = {
	{{"file", KV_T_PATH, 0, NULL, NULL, "unused"}, "later-1", 1},
	{{"bonus", KV_T_FLOAT, 0, "0.25", NULL, "the normalized score of every team"}, "later-2", 2},
	{{"label", KV_T_STRING, 0, "w", "w|v", "a choice"}, "later-3", 3},
	{{NULL, 0, 0, NULL, NULL, NULL}, NULL, 0},
};

static int wide_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	double bonus = -1;
	(void)state;
	h->value_double(h->param(ctx, "bonus"), &bonus);
	for (size_t t = 0; t < h->team_count(ctx); t++)
		h->set_normalized(ctx, t, bonus);
	return KV_OK;
}

static const struct kv_plugin wide = {
	.abi_version = KV_ABI_VERSION,
	.size = sizeof(struct kv_plugin),
	.kinds = KV_KIND_SCORE,
	.name = "wide",
	.version = "1.0.0",
	.summary = "params with a stride larger than the core's",
	.params = &wide_params[0].d,
	.evaluate = wide_evaluate,
	.param_decl_size = sizeof(struct wide_decl),
};

static int run_wide(struct kvt_round *r, const char *params)
{
	char *crit = kv_xasprintf("    { id = \"w\"; plugin = \"wide\"; kind = \"score\"; points = 10.0;\n"
				  "      params = { %s }; }", params);
	char *cfg = kvt_config(crit, "    advance = 4;");
	int rc = kvt_round_run(r, cfg);
	free(crit);
	free(cfg);
	return rc;
}

Test(abi, params_are_walked_with_the_plugins_stride)
{
	struct kvt_round r;
	kvt_round_init(&r, &wide);
	kvt_write(r.dir, "data/.keep", "");   /* kvt_config's data folder */
	cr_assert_eq(run_wide(&r, ""), 0, "%s", r.err.msg);
	cr_expect_eq(kvt_normalized(r.run, "w", "c"), 0.25, "the default of the second declaration");
	cr_expect_neq(run_wide(&r, "bonsu = 0.5;"), 0);
	cr_expect(strstr(r.err.msg, "has no param 'bonsu' (did you mean 'bonus'?)"), "%s", r.err.msg);
	memset(&r.err, 0, sizeof r.err);
	cr_expect_neq(run_wide(&r, "label = \"q\";"), 0);
	cr_expect(strstr(r.err.msg, "param 'label' must be one of w|v"), "%s", r.err.msg);
	kvt_round_done(&r);
	kv_clear_builtins();
}

Test(abi, a_1_0_descriptor_uses_the_1_0_stride)
{
	static const struct kv_param_decl narrow[] = {
		{"bonus", KV_T_FLOAT, 0, "0.5", NULL, "doc"},
		{"label", KV_T_STRING, 0, "w", "w|v", "doc"},
		{NULL, 0, 0, NULL, NULL, NULL},
	};
	struct kv_plugin old = wide;
	old.params = narrow;
	old.size = offsetof(struct kv_plugin, param_decl_size);   /* ends where 1.0's ends */
	old.param_decl_size = 4096;                                /* beyond a 1.0 descriptor: unread */
	struct kv_error err = {0};
	cr_expect_eq(kv_plugin_validate(&old, "wide", "old.so", &err), 0, "%s", err.msg);
	old.size = sizeof old;
	old.param_decl_size = 0;                                   /* 0 also means 1.0's */
	cr_expect_eq(kv_plugin_validate(&old, "wide", "old.so", &err), 0, "%s", err.msg);
	old.param_decl_size = 8;
	cr_expect_eq(kv_plugin_validate(&old, "wide", "old.so", &err), KV_EXIT_INPUT);
	cr_expect(strstr(err.msg, "old.so: descriptor param_decl_size 8 is not a size of struct kv_param_decl"),
		  "%s", err.msg);
}

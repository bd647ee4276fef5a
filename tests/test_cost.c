/* The cost plugin: stated facts, counting a model folder's safetensors
 * headers, bad input (exit 2, message naming file and key), and the real
 * binary on the shipped example. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "support.h"

extern const struct kv_plugin kaieval_plugin_cost;
extern const struct kv_plugin kaieval_plugin_table;

static void register_plugins(void)
{
	kv_register_builtin(&kaieval_plugin_cost);
	kv_register_builtin(&kaieval_plugin_table);
}

TestSuite(cost, .init = register_plugins);

/* Performance of teams a and b, for criteria that need one. */
#define PERF_SCORE "{ id = \"perf\"; plugin = \"table\"; kind = \"score\"; points = 10.0; " \
	"params = { file = \"perf.csv\"; }; },"

/* A round of teams a and b: `before` criteria, then the cost criterion with
 * facts "f/{team}.json" and the extra params. */
static char *round_with(const char *before, const char *params)
{
	char *dir = kvt_tempdir();
	char *cfg = kv_xasprintf(
		"round: { id = \"t\"; title = \"T\"; date = \"2026-01-15\"; data = \"d\"; seed = 1L;\n"
		" teams = ( { id = \"a\"; name = \"A\"; model = \"ma\"; }, { id = \"b\"; name = \"B\"; model = \"mb\"; } );\n"
		" criteria = ( %s { id = \"cost\"; plugin = \"cost\"; kind = \"info\";\n"
		"   params = { facts = \"f/{team}.json\"; %s }; } );\n"
		" selection = { eliminate_lowest = 0; }; };\n", before, params);
	kvt_write(dir, "r.cfg", cfg);
	kvt_write(dir, "d/perf.csv", "team,value,normalized\na,0.8,0.8\nb,0.6,0.6\n");
	free(cfg);
	return dir;
}

static int run_round(const char *dir, struct kv_run **run, struct kv_error *err)
{
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	int rc = kvt_run(cfg, run, err);
	free(cfg);
	return rc;
}

/* Run and expect success; the caller frees the run. */
static struct kv_run *run_ok(const char *dir)
{
	struct kv_run *run;
	struct kv_error err;
	int rc = run_round(dir, &run, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	return run;
}

/* Run and expect exit 2 with a message holding each given word. */
static void run_fails(const char *dir, const char *w1, const char *w2, const char *w3)
{
	struct kv_run *run = NULL;
	struct kv_error err;
	int rc = run_round(dir, &run, &err);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err.msg);
	cr_assert_null(run);
	const char *words[] = {w1, w2, w3};
	for (int i = 0; i < 3; i++)
		cr_assert(!words[i] || strstr(err.msg, words[i]), "'%s' not in: %s", words[i], err.msg);
}

static void done(char *dir, struct kv_run *run)
{
	if (run)
		kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

static void facts(const char *dir, const char *team, const char *json)
{
	char *rel = kv_xasprintf("d/f/%s.json", team);
	kvt_write(dir, rel, json);
	free(rel);
}

#define EV(run, team, key) kvt_evidence_num(run, "cost", team, key)
#define EVS(run, team, key) kvt_evidence_str(run, "cost", team, key)

/* ---- stated facts ------------------------------------------------------- */

Test(cost, active_parameters_by_default)
{
	char *dir = round_with("", "");
	facts(dir, "a", "{\"parameters_total\": 100e9, \"parameters_active\": 10e9}");
	facts(dir, "b", "{\"parameters_total\": 50e9, \"parameters_active\": 20e9, \"note\": \"x\"}");
	struct kv_run *run = run_ok(dir);
	/* ratio = 1 / active in billions: a 1/10, b 1/20; b is half as efficient. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 1.0, 1e-15);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 0.5, 1e-15);
	cr_assert_float_eq(EV(run, "a", "ratio"), 0.1, 1e-15);
	cr_assert_float_eq(EV(run, "b", "cost"), 20.0, 1e-12);
	cr_assert_float_eq(EV(run, "b", "parameters_active"), 20e9, 0);
	cr_assert_str_eq(EVS(run, "b", "parameters_active_from"), "f/b.json: parameters_active");
	cr_assert_str_eq(EVS(run, "a", "facts"), "f/a.json");
	cr_assert_float_eq(EV(run, "a", "performance"), 1.0, 0);
	cr_assert_float_eq(kvt_round_evidence_num(run, "cost", "best_ratio"), 0.1, 1e-15);
	done(dir, run);
}

Test(cost, performance_over_total_parameters)
{
	char *dir = round_with(PERF_SCORE, "cost = \"parameters_total\"; performance = \"perf\";");
	facts(dir, "a", "{\"parameters_total\": 100e9, \"parameters_active\": 10e9}");
	facts(dir, "b", "{\"parameters_total\": 50e9, \"parameters_active\": 20e9}");
	struct kv_run *run = run_ok(dir);
	/* a: 0.8 / 100 = 0.008; b: 0.6 / 50 = 0.012 (best); a = 0.008 / 0.012 = 2/3. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 2.0 / 3.0, 1e-12);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 1.0, 1e-15);
	cr_assert_float_eq(EV(run, "a", "performance"), 0.8, 1e-15);
	cr_assert_str_eq(EVS(run, "a", "performance_from"), "criterion 'perf', normalized");
	cr_assert_str_eq(EVS(run, "a", "cost_from"), "f/a.json: parameters_total, in billions");
	done(dir, run);
}

Test(cost, tokens_per_second_is_inverted)
{
	char *dir = round_with("", "cost = \"tokens_per_second\";");
	facts(dir, "a", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"tokens_per_second\": 50}");
	facts(dir, "b", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"tokens_per_second\": 100}");
	struct kv_run *run = run_ok(dir);
	/* Faster is cheaper: b best, a at 50 / 100. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 0.5, 1e-15);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 1.0, 1e-15);
	cr_assert_float_eq(EV(run, "a", "cost"), 0.02, 1e-15);   /* 1 / 50 s per token */
	cr_assert_float_eq(EV(run, "b", "tokens_per_second"), 100.0, 0);
	done(dir, run);
}

Test(cost, gpu_hours)
{
	char *dir = round_with(PERF_SCORE, "cost = \"gpu_hours\"; performance = \"perf\";");
	facts(dir, "a", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"gpu_hours\": 1000}");
	facts(dir, "b", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"gpu_hours\": 4000}");
	struct kv_run *run = run_ok(dir);
	/* a: 0.8 / 1000 = 8e-4 (best); b: 0.6 / 4000 = 1.5e-4; b = 1.5 / 8 = 0.1875. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 1.0, 1e-15);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 0.1875, 1e-15);
	cr_assert_str_eq(EVS(run, "b", "gpu_hours_from"), "f/b.json: gpu_hours");
	done(dir, run);
}

Test(cost, zero_performance_everywhere_gives_zero)
{
	char *dir = round_with(PERF_SCORE, "performance = \"perf\";");
	kvt_write(dir, "d/perf.csv", "team,value,normalized\na,0,0\nb,0,0\n");
	facts(dir, "a", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9}");
	facts(dir, "b", "{\"parameters_total\": 2e9, \"parameters_active\": 2e9}");
	struct kv_run *run = run_ok(dir);
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 0.0, 0);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 0.0, 0);
	done(dir, run);
}

/* ---- bad input ------------------------------------------------------------ */

static char *good_pair(const char *before, const char *params)
{
	char *dir = round_with(before, params);
	facts(dir, "a", "{\"parameters_total\": 100e9, \"parameters_active\": 10e9}");
	facts(dir, "b", "{\"parameters_total\": 50e9, \"parameters_active\": 20e9}");
	return dir;
}

Test(cost, missing_facts_file)
{
	char *dir = good_pair("", "");
	char *path = kv_xasprintf("%s/d/f/b.json", dir);
	remove(path);
	free(path);
	run_fails(dir, "f/b.json", "no such file", "'facts'");
	done(dir, NULL);
}

Test(cost, negative_parameters)
{
	char *dir = good_pair("", "");
	facts(dir, "b", "{\"parameters_total\": -50e9, \"parameters_active\": 20e9}");
	run_fails(dir, "f/b.json", "'parameters_total'", "positive");
	done(dir, NULL);
}

Test(cost, zero_parameters)
{
	char *dir = good_pair("", "");
	facts(dir, "a", "{\"parameters_total\": 100e9, \"parameters_active\": 0}");
	run_fails(dir, "f/a.json", "'parameters_active'", "positive");
	done(dir, NULL);
}

Test(cost, fractional_or_textual_parameters)
{
	char *dir = good_pair("", "");
	facts(dir, "a", "{\"parameters_total\": 100.5, \"parameters_active\": 10}");
	run_fails(dir, "f/a.json", "'parameters_total'", "whole number");
	facts(dir, "a", "{\"parameters_total\": \"236B\", \"parameters_active\": 10}");
	run_fails(dir, "f/a.json", "'parameters_total'", "not a number");
	done(dir, NULL);
}

Test(cost, active_more_than_total)
{
	char *dir = good_pair("", "");
	facts(dir, "a", "{\"parameters_total\": 10e9, \"parameters_active\": 23e9}");
	run_fails(dir, "f/a.json", "'parameters_active'", "more than parameters_total");
	done(dir, NULL);
}

Test(cost, missing_or_unknown_keys)
{
	char *dir = good_pair("", "");
	facts(dir, "a", "{\"parameters_total\": 10e9}");
	run_fails(dir, "f/a.json", "missing 'parameters_active'", NULL);
	facts(dir, "a", "{\"parameter_total\": 10e9, \"parameters_active\": 1e9}");
	run_fails(dir, "f/a.json", "'parameter_total'", "unknown key");
	facts(dir, "a", "{\"parameters_total\": 10e9, \"parameters_total\": 10e9, \"parameters_active\": 1e9}");
	run_fails(dir, "f/a.json", "'parameters_total'", "twice");
	facts(dir, "a", "[10e9, 1e9]");
	run_fails(dir, "f/a.json", "JSON object", NULL);
	done(dir, NULL);
}

Test(cost, measure_missing_for_a_team)
{
	char *dir = good_pair("", "cost = \"tokens_per_second\";");
	facts(dir, "a", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"tokens_per_second\": 50}");
	run_fails(dir, "f/b.json", "'tokens_per_second'", NULL);
	facts(dir, "b", "{\"parameters_total\": 1e9, \"parameters_active\": 1e9, \"tokens_per_second\": 0}");
	run_fails(dir, "f/b.json", "'tokens_per_second'", "positive");
	done(dir, NULL);
}

Test(cost, performance_must_be_a_score_criterion)
{
	const char *gate = "{ id = \"indep\"; plugin = \"table\"; kind = \"gate\"; "
			   "params = { file = \"gate.csv\"; }; },";
	char *dir = good_pair(gate, "performance = \"indep\";");
	kvt_write(dir, "d/gate.csv", "team,value,pass\na,1,1\nb,1,1\n");
	run_fails(dir, "r.cfg", "'performance'", "is a gate criterion");
	done(dir, NULL);

	const char *info = "{ id = \"note\"; plugin = \"table\"; kind = \"info\"; "
			   "params = { file = \"info.csv\"; }; },";
	dir = good_pair(info, "performance = \"note\";");
	kvt_write(dir, "d/info.csv", "team,value\na,1\nb,2\n");
	run_fails(dir, "r.cfg", "'performance'", "is an info criterion");
	done(dir, NULL);
}

Test(cost, performance_unknown_or_later)
{
	char *dir = good_pair("", "performance = \"perf\";");
	run_fails(dir, "no criterion 'perf'", NULL, NULL);
	done(dir, NULL);
	/* Itself: not evaluated before this criterion. */
	dir = good_pair("", "performance = \"cost\";");
	run_fails(dir, "'cost'", "evaluated after", NULL);
	done(dir, NULL);
}

Test(cost, bad_params)
{
	char *dir = good_pair("", "cost = \"dollars\";");
	run_fails(dir, "dollars", NULL, NULL);
	done(dir, NULL);
	dir = good_pair("", "expert_pattern = \"\";");
	run_fails(dir, "'expert_pattern'", "empty", NULL);
	done(dir, NULL);
}

/* ---- counting a model folder ------------------------------------------------ */

static void write_bytes(const char *dir, const char *rel, const void *data, size_t len)
{
	char *path = kv_xasprintf("%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(path);
}

/* A safetensors file with header `hdr` (its true length unless `declared`
 * is nonzero) followed by data_len zero bytes. */
static void safetensors(const char *dir, const char *rel, const char *hdr, uint64_t declared, size_t data_len)
{
	size_t n = strlen(hdr), len = 8 + n + data_len;
	unsigned char *b = calloc(len, 1);
	uint64_t v = declared ? declared : n;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	memcpy(b + 8, hdr, n);
	write_bytes(dir, rel, b, len);
	free(b);
}

#define T(name, dtype, shape, b, e) \
	"\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

/* A small mixture of experts (numel by hand):
 *   embed [4,4] = 16, router gate [1,4] = 4, shared expert [2,3] = 6  -> other 26
 *   experts.0..3 each [2,3] = 6                                      -> routed 24
 * total 50; with 4 routed experts, 2 per token: active = 26 + 24 x 2 / 4 = 38.
 * F16 everywhere: bytes = 2 x numel. */
#define MOE_A T("model.embed.weight", "F16", "[4,4]", 0, 32) ","                       \
	T("model.layers.0.mlp.gate.weight", "F16", "[1,4]", 32, 40) ","                 \
	T("model.layers.0.mlp.shared_experts.up.weight", "F16", "[2,3]", 40, 52)
#define MOE_B T("model.layers.0.mlp.experts.0.up.weight", "F16", "[2,3]", 0, 12) ","   \
	T("model.layers.0.mlp.experts.1.up.weight", "F16", "[2,3]", 12, 24) ","         \
	T("model.layers.0.mlp.experts.2.up.weight", "F16", "[2,3]", 24, 36) ","         \
	T("model.layers.0.mlp.experts.3.up.weight", "F16", "[2,3]", 36, 48)
#define MOE_ONE T("model.embed.weight", "F16", "[4,4]", 0, 32) ","                     \
	T("model.layers.0.mlp.gate.weight", "F16", "[1,4]", 32, 40) ","                 \
	T("model.layers.0.mlp.shared_experts.up.weight", "F16", "[2,3]", 40, 52) ","    \
	T("model.layers.0.mlp.experts.0.up.weight", "F16", "[2,3]", 52, 64) ","         \
	T("model.layers.0.mlp.experts.1.up.weight", "F16", "[2,3]", 64, 76) ","         \
	T("model.layers.0.mlp.experts.2.up.weight", "F16", "[2,3]", 76, 88) ","         \
	T("model.layers.0.mlp.experts.3.up.weight", "F16", "[2,3]", 88, 100)

#define MOE_CONFIG "{\"model_type\": \"x\", \"n_routed_experts\": 4, \"num_experts_per_tok\": 2}"

/* Team a counted from d/m/a, team b stated (1000 total, 100 active). */
static char *model_round(const char *params, const char *a_facts)
{
	char *dir = round_with("", params);
	facts(dir, "a", a_facts);
	facts(dir, "b", "{\"parameters_total\": 1000, \"parameters_active\": 100}");
	return dir;
}

Test(cost, counts_a_single_file_moe)
{
	char *dir = model_round("", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	kvt_write(dir, "d/m/a/config.json", MOE_CONFIG);
	struct kv_run *run = run_ok(dir);
	cr_assert_float_eq(EV(run, "a", "parameters_total"), 50, 0);
	cr_assert_float_eq(EV(run, "a", "parameters_active"), 38, 0);
	cr_assert_float_eq(EV(run, "a", "routed_expert_parameters"), 24, 0);
	cr_assert_float_eq(EV(run, "a", "other_parameters"), 26, 0);
	cr_assert_float_eq(EV(run, "a", "routed_experts"), 4, 0);
	cr_assert_float_eq(EV(run, "a", "experts_per_token"), 2, 0);
	cr_assert_float_eq(EV(run, "a", "model_tensors"), 7, 0);
	cr_assert(strstr(EVS(run, "a", "parameters_active_from"), "m/a/config.json: n_routed_experts = 4"));
	cr_assert(strstr(EVS(run, "a", "parameters_total_from"), "7 tensors in 1 safetensors file"));
	/* Ratios 1 / (38e-9) and 1 / (100e-9): a is best, b = 38 / 100. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "a"), 1.0, 1e-15);
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 0.38, 1e-12);
	done(dir, run);
}

static void write_sharded(const char *dir)
{
	kvt_write(dir, "d/m/a/model.safetensors.index.json",
		  "{\"metadata\": {\"total_size\": 100}, \"weight_map\": {"
		  "\"model.embed.weight\": \"model-00001-of-00002.safetensors\","
		  "\"model.layers.0.mlp.gate.weight\": \"model-00001-of-00002.safetensors\","
		  "\"model.layers.0.mlp.shared_experts.up.weight\": \"model-00001-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.0.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.1.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.2.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.3.up.weight\": \"model-00002-of-00002.safetensors\"}}");
	safetensors(dir, "d/m/a/model-00001-of-00002.safetensors", "{" MOE_A "}", 0, 52);
	safetensors(dir, "d/m/a/model-00002-of-00002.safetensors", "{" MOE_B "}", 0, 48);
}

Test(cost, counts_a_sharded_moe_under_text_config)
{
	char *dir = model_round("cost = \"parameters_total\";", "{\"model\": \"m/a\", \"gpu_hours\": 12}");
	write_sharded(dir);
	kvt_write(dir, "d/m/a/config.json", "{\"text_config\": {\"num_local_experts\": 4, "
		  "\"num_experts\": 4, \"experts_per_token\": 2}}");
	struct kv_run *run = run_ok(dir);
	cr_assert_float_eq(EV(run, "a", "parameters_total"), 50, 0);
	cr_assert_float_eq(EV(run, "a", "parameters_active"), 38, 0);
	cr_assert_float_eq(EV(run, "a", "model_files"), 2, 0);
	cr_assert_float_eq(EV(run, "a", "gpu_hours"), 12, 0);
	/* cost = total: a 50 (best, 1/50e-9), b 1000: b = 50 / 1000. */
	cr_assert_float_eq(kvt_normalized(run, "cost", "b"), 0.05, 1e-12);
	done(dir, run);
}

Test(cost, dense_model)
{
	char *dir = model_round("", "{\"model\": \"m/a\", \"dense\": true}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_A "}", 0, 52);
	struct kv_run *run = run_ok(dir);
	/* 16 + 4 + 6 = 26, all active; no config.json needed. */
	cr_assert_float_eq(EV(run, "a", "parameters_total"), 26, 0);
	cr_assert_float_eq(EV(run, "a", "parameters_active"), 26, 0);
	cr_assert(strstr(EVS(run, "a", "parameters_active_from"), "dense = true"));
	done(dir, run);
}

Test(cost, total_needs_no_config)
{
	char *dir = model_round("cost = \"parameters_total\";", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	struct kv_run *run = run_ok(dir);
	cr_assert_float_eq(EV(run, "a", "parameters_total"), 50, 0);
	cr_assert(isnan(EV(run, "a", "parameters_active")), "no active count without config.json");
	done(dir, run);
}

Test(cost, config_without_moe_keys)
{
	char *dir = model_round("", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	kvt_write(dir, "d/m/a/config.json", "{\"model_type\": \"llama\", \"hidden_size\": 4}");
	run_fails(dir, "m/a/config.json", "n_routed_experts", "\"dense\": true");
	done(dir, NULL);
}

Test(cost, config_missing_when_active_asked)
{
	char *dir = model_round("", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	run_fails(dir, "m/a/config.json", "missing", "parameters_active");
	done(dir, NULL);
}

Test(cost, bad_moe_configs)
{
	char *dir = model_round("", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	kvt_write(dir, "d/m/a/config.json", "{\"n_routed_experts\": 4, \"num_experts\": 8, \"num_experts_per_tok\": 2}");
	run_fails(dir, "m/a/config.json", "'num_experts'", "disagrees with 'n_routed_experts'");
	kvt_write(dir, "d/m/a/config.json", "{\"n_routed_experts\": 4}");
	run_fails(dir, "m/a/config.json", "'n_routed_experts'", "num_experts_per_tok");
	kvt_write(dir, "d/m/a/config.json", "{\"n_routed_experts\": 4, \"num_experts_per_tok\": 5}");
	run_fails(dir, "'num_experts_per_tok'", "more than the 4 routed experts", NULL);
	kvt_write(dir, "d/m/a/config.json", "{\"n_routed_experts\": 0, \"num_experts_per_tok\": 1}");
	run_fails(dir, "'n_routed_experts'", ">= 1", NULL);
	/* 24 routed parameters do not split into 5 equal experts. */
	kvt_write(dir, "d/m/a/config.json", "{\"n_routed_experts\": 5, \"num_experts_per_tok\": 1}");
	run_fails(dir, "m/a/config.json", "not a multiple", NULL);
	done(dir, NULL);
}

Test(cost, expert_pattern_must_match)
{
	char *dir = model_round("expert_pattern = \".moe_experts.\";", "{\"model\": \"m/a\"}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	kvt_write(dir, "d/m/a/config.json", MOE_CONFIG);
	run_fails(dir, "m/a/config.json", "no tensor name contains '.moe_experts.'", NULL);
	done(dir, NULL);
}

Test(cost, dense_with_expert_tensors)
{
	char *dir = model_round("", "{\"model\": \"m/a\", \"dense\": true}");
	safetensors(dir, "d/m/a/model.safetensors", "{" MOE_ONE "}", 0, 100);
	run_fails(dir, "f/a.json", "'dense'", "4 tensor names contain '.experts.'");
	done(dir, NULL);
}

Test(cost, model_folder_problems)
{
	char *dir = model_round("", "{\"model\": \"m/a\", \"dense\": true}");
	run_fails(dir, "f/a.json", "'m/a' is not a folder", NULL);
	kvt_write(dir, "d/m/a/README", "weights elsewhere");
	run_fails(dir, "f/a.json", "neither model.safetensors.index.json nor model.safetensors", NULL);
	facts(dir, "a", "{\"model\": \"m/a\", \"parameters_total\": 50}");
	run_fails(dir, "f/a.json", "'parameters_total'", "cannot be stated together");
	facts(dir, "a", "{\"model\": 5}");
	run_fails(dir, "f/a.json", "'model'", "folder");
	facts(dir, "a", "{\"parameters_total\": 50, \"parameters_active\": 5, \"dense\": true}");
	run_fails(dir, "f/a.json", "'dense'", "only with 'model'");
	done(dir, NULL);
}

Test(cost, hostile_safetensors_through_the_host)
{
	char *dir = model_round("", "{\"model\": \"m/a\", \"dense\": true}");
	const char *path = "d/m/a/model.safetensors";
	/* Data cut short: 52 bytes indexed, 40 present. */
	safetensors(dir, path, "{" MOE_A "}", 0, 40);
	run_fails(dir, "m/a/model.safetensors", "truncated", NULL);
	/* Header length past the end of the file (the streaming reader's check). */
	safetensors(dir, path, "{" MOE_A "}", 5000, 52);
	run_fails(dir, "m/a/model.safetensors", "header length 5000 runs past the end", NULL);
	/* A header length over 100 MB. */
	safetensors(dir, path, "{" MOE_A "}", 200000000, 52);
	run_fails(dir, "m/a/model.safetensors", "exceeds the limit", NULL);
	/* Overlap: the gate claims bytes of the embedding. */
	safetensors(dir, path, "{" T("e", "F16", "[4,4]", 0, 32) "," T("g", "F16", "[1,4]", 24, 32) "}", 0, 32);
	run_fails(dir, "m/a/model.safetensors", "tensor 'g'", "overlapping");
	/* Too short for even the length. */
	write_bytes(dir, path, "abc", 3);
	run_fails(dir, "m/a/model.safetensors", "too short", NULL);
	done(dir, NULL);
}

Test(cost, shards_must_match_the_index)
{
	char *dir = model_round("", "{\"model\": \"m/a\", \"dense\": true}");
	write_sharded(dir);
	/* Shard 2 without experts.3 (its data shrinks to 36 bytes). */
	safetensors(dir, "d/m/a/model-00002-of-00002.safetensors",
		    "{" T("model.layers.0.mlp.experts.0.up.weight", "F16", "[2,3]", 0, 12) ","
		    T("model.layers.0.mlp.experts.1.up.weight", "F16", "[2,3]", 12, 24) ","
		    T("model.layers.0.mlp.experts.2.up.weight", "F16", "[2,3]", 24, 36) "}", 0, 36);
	run_fails(dir, "m/a/model-00002-of-00002.safetensors", "'model.layers.0.mlp.experts.3.up.weight' is missing", NULL);
	/* A shard the index names but nobody wrote. */
	char *gone = kv_xasprintf("%s/d/m/a/model-00002-of-00002.safetensors", dir);
	remove(gone);
	free(gone);
	run_fails(dir, "m/a/model-00002-of-00002.safetensors", "missing", "model.safetensors.index.json");
	/* A tensor in the wrong shard. */
	write_sharded(dir);
	kvt_write(dir, "d/m/a/model.safetensors.index.json",
		  "{\"weight_map\": {"
		  "\"model.embed.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.gate.weight\": \"model-00001-of-00002.safetensors\","
		  "\"model.layers.0.mlp.shared_experts.up.weight\": \"model-00001-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.0.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.1.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.2.up.weight\": \"model-00002-of-00002.safetensors\","
		  "\"model.layers.0.mlp.experts.3.up.weight\": \"model-00002-of-00002.safetensors\"}}");
	run_fails(dir, "m/a/model-00001-of-00002.safetensors", "'model.embed.weight'", "puts it in");
	/* A shard outside the folder. */
	kvt_write(dir, "d/m/a/model.safetensors.index.json", "{\"weight_map\": {\"x\": \"../b/model.safetensors\"}}");
	run_fails(dir, "m/a/model.safetensors.index.json", "'x'", "plain file name");
	done(dir, NULL);
}

/* ---- the real binary ---------------------------------------------------------- */

static const cJSON *cost_of(const cJSON *root, const char *team)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "teams"))
		if (strcmp(cJSON_GetObjectItem(t, "id")->valuestring, team) == 0)
			return cJSON_GetObjectItem(cJSON_GetObjectItem(t, "criteria"), "cost");
	return NULL;
}

/* examples/cost-facts/stage2-cost.cfg, whose outcome its README derives by hand. */
Test(cost_e2e, stage2_example)
{
	char *dir = kvt_tempdir();
	char *cfg = kvt_src("examples/cost-facts/stage2-cost.cfg");
	char *out = kv_xasprintf("%s/result.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	char *json = kvt_read(out);
	cJSON *root = cJSON_Parse(json);
	cr_assert(root);
	/* AAII / 100 over active parameters in billions (README's table). */
	const char *teams[] = {"motif", "upstage", "skt", "lg"};
	const double aaii[] = {0.474, 0.374, 0.350, 0.310}, active[] = {13, 15, 33, 37};
	for (int i = 0; i < 4; i++) {
		const cJSON *c = cost_of(root, teams[i]);
		cr_assert(c, "%s", teams[i]);
		double want = (aaii[i] / active[i]) / (aaii[0] / active[0]);
		cr_expect_float_eq(cJSON_GetObjectItem(c, "normalized")->valuedouble, want, 1e-12, "%s", teams[i]);
		const cJSON *ev = cJSON_GetObjectItem(c, "evidence");
		cr_expect_float_eq(cJSON_GetObjectItem(ev, "parameters_active")->valuedouble, active[i] * 1e9, 0);
	}
	cr_expect_float_eq(cJSON_GetObjectItem(cost_of(root, "upstage"), "normalized")->valuedouble,
			   0.683826, 1e-6);
	cJSON_Delete(root);
	free(json);
	free(err);
	free(out);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

Test(cost_e2e, bad_input_exits_2_and_writes_nothing)
{
	char *dir = good_pair(PERF_SCORE, "performance = \"perf\";");
	facts(dir, "a", "{\"parameters_total\": 10e9, \"parameters_active\": 23e9}");
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	char *out = kv_xasprintf("%s/result.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "f/a.json") && strstr(err, "'parameters_active'"), "%s", err);
	cr_assert(!kvt_exists(out), "a result was written");
	free(err);
	free(out);
	free(cfg);
	done(dir, NULL);
}

Test(cost_e2e, counts_a_model_with_the_real_plugin)
{
	char *dir = model_round("", "{\"model\": \"m/a\"}");
	write_sharded(dir);
	kvt_write(dir, "d/m/a/config.json", MOE_CONFIG);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	char *out = kv_xasprintf("%s/result.json", dir);
	const char *args[] = {"run", cfg, "-o", out, NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	char *json = kvt_read(out);
	cJSON *root = cJSON_Parse(json);
	const cJSON *ev = cJSON_GetObjectItem(cost_of(root, "a"), "evidence");
	cr_assert_float_eq(cJSON_GetObjectItem(ev, "parameters_total")->valuedouble, 50, 0);
	cr_assert_float_eq(cJSON_GetObjectItem(ev, "parameters_active")->valuedouble, 38, 0);
	/* Both shards and the index are recorded inputs. */
	cr_assert(strstr(json, "\"m/a/model-00002-of-00002.safetensors\""), "shard not recorded");
	cJSON_Delete(root);
	free(json);
	free(err);
	free(out);
	free(cfg);
	done(dir, NULL);
}

/* libFuzzer harness for the benchmarks plugin's reader of lm-evaluation-
 * harness results files (plugins/benchmarks/lmeval.c, through the host's
 * json_load): one run of the one team of a small round, next to a fixed
 * valid run, then the averaging and scaling of what it read.
 *
 * Each input is the run's results file; the round runs in this process
 * (fuzz_support.h says what must hold).  The sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README-plugins.md). */
#include <stdint.h>

#include "fuzz_support.h"

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-01-15\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A-8B\"; } );\n"
	"  criteria = ( { id = \"global\"; plugin = \"benchmarks\"; kind = \"score\"; points = 20.0;\n"
	"    params = { scores = \"lm-eval\"; normalize = \"scale\"; scale_max = 1.0;\n"
	"      benchmarks = (\n"
	"        { name = \"mmlu_pro\"; task = \"mmlu_pro\"; metric = \"exact_match,custom-extract\"; },\n"
	"        { name = \"hle\"; task = \"hle\"; metric = \"exact_match,none\"; },\n"
	"        { name = \"ifeval\"; task = \"ifeval\"; metric = \"prompt_level_strict_acc,none\"; } ); }; } );\n"
	"  selection = { eliminate_lowest = 0; }; };\n";

static const char *const fixed[] = {
	"lm-eval/a/results_2026-01-01T09-00-00.json",
	"{\"results\": {\"mmlu_pro\": {\"alias\": \"mmlu_pro\", \"exact_match,custom-extract\": 0.6874},\n"
	" \"hle\": {\"exact_match,none\": 0.0544}, \"ifeval\": {\"prompt_level_strict_acc,none\": 0.7575}},\n"
	" \"versions\": {\"mmlu_pro\": 2.0, \"hle\": \"1\"},\n"
	" \"n-samples\": {\"hle\": {\"original\": 2500, \"effective\": 2500}}}\n",
	NULL};

FUZZ_ROUND_HARNESS(.config = config, .fixed = fixed, .plugin = "benchmarks", .input_name = "lm-eval/a/results_2026-01-02T09-00-00.json")

/* libFuzzer harness for the cost plugin's facts reader
 * (plugins/cost/facts.c, through the host's json_load): the facts file of
 * the one team of a small round, then the cost evidence.
 *
 * Each input is the team's facts file; the round runs in this process
 * (fuzz_support.h says what must hold).  The sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README-plugins.md). */
#include <stdint.h>

#include "fuzz_support.h"

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-08-18\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A-8B\"; } );\n"
	"  criteria = ( { id = \"cost\"; plugin = \"cost\"; kind = \"info\";\n"
	"    params = { facts = \"facts/{team}.json\"; cost = \"parameters_active\"; }; } );\n"
	"  selection = { eliminate_lowest = 0; }; };\n";

static const char *const fixed[] = {
	"model/config.json", "{\"num_hidden_layers\": 2, \"hidden_size\": 8, \"num_experts\": 4}\n",
	NULL};

FUZZ_ROUND_HARNESS(.config = config, .fixed = fixed, .plugin = "cost", .input_name = "facts/a.json")

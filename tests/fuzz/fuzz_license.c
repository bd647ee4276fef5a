/* libFuzzer harness for the license plugin's manifest reader
 * (plugins/license/manifest.c, through the host's json_load): the
 * submission manifest of the one team of a small round, then the licence
 * verdicts and evidence on what it read.
 *
 * Each input is the team's manifest; the round runs in this process
 * (fuzz_support.h says what must hold).  The sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README-plugins.md). */
#include <stdint.h>

#include "fuzz_support.h"

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-01-15\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A-8B\"; } );\n"
	"  criteria = ( { id = \"independence\"; plugin = \"license\"; kind = \"gate\";\n"
	"    params = { manifest = \"manifests/{team}.json\";\n"
	"      allowed_licenses = [ \"Apache-2.0\", \"MIT\", \"LicenseRef-A-Model-License\" ];\n"
	"      restricted_terms = \"restricted-terms.csv\"; third_party_weights = \"fail\"; }; } );\n"
	"  selection = { gate_failure = \"eliminate\"; eliminate_lowest = 0; }; };\n";

static const char *const fixed[] = {
	"restricted-terms.csv",
	"license,term,clause\n"
	"LicenseRef-Llama-3.1-Community,naming,\"must put \"\"Llama\"\" first\"\n"
	"LicenseRef-Qwen,usage-cap,above 100 million users\n",
	"weights/a/model.safetensors", "weights",
	NULL};

FUZZ_ROUND_HARNESS(.config = config, .fixed = fixed, .plugin = "license", .input_name = "manifests/a.json")

/* libFuzzer harness for the expert plugin's reader of the panel's score
 * sheet (plugins/expert/sheet.c, through the host's table reader): the
 * sheet of a small round of two teams, read for a rubric score and an
 * approval gate, then the trimming, agreement and deviation statistics.
 *
 * Each input is the sheet (CSV); the round runs in this process
 * (fuzz_support.h says what must hold).  The sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README-plugins.md). */
#include <stdint.h>

#include "fuzz_support.h"

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-02-20\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A\"; }, { id = \"b\"; name = \"B\"; model = \"B\"; } );\n"
	"  criteria = (\n"
	"    { id = \"majority\"; plugin = \"expert\"; kind = \"gate\";\n"
	"      params = { sheet = \"sheet.csv\"; mode = \"approval\"; item = \"approve\";\n"
	"        ignore_items = [ \"capability\", \"target\" ]; }; },\n"
	"    { id = \"review\"; plugin = \"expert\"; kind = \"score\"; points = 100.0;\n"
	"      params = { sheet = \"sheet.csv\"; mode = \"rubric\"; trim = 1; ignore_items = [ \"approve\" ];\n"
	"        items = ( { id = \"capability\"; max = 60; category = \"capability\"; },\n"
	"                  { id = \"target\"; max = 40; category = \"plan\"; } ); }; } );\n"
	"  selection = { gate_failure = \"eliminate\"; eliminate_lowest = 0; }; };\n";

FUZZ_ROUND_HARNESS(.config = config, .fixed = NULL, .plugin = "expert", .input_name = "sheet.csv")

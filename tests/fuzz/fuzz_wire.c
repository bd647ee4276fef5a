/* libFuzzer harness for the decoder of the isolation protocol in the parent
 * (core/isolate.c and core/isolate_wire.c), where the child is hostile.
 *
 * The round's one criterion is served by tests/fuzz/wirefuzz.c, a plugin
 * that in its isolated child writes the input's bytes on the message pipe
 * as they are: headers, lengths, types, fields, paths of files it claims
 * to open, all the fuzzer's.  The parent must end the round with a record
 * or with exit status 2 or 3 and a message naming what went wrong
 * (fuzz_support.h).  The sanitizers catch bad memory access in the parent.
 * Built with clang -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README-wire.md). */
#include <stdint.h>

#include "fuzz_support.h"

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-01-15\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A\"; }, { id = \"b\"; name = \"B\"; model = \"B\"; } );\n"
	"  criteria = ( { id = \"wire\"; plugin = \"wirefuzz\"; kind = \"score\"; points = 10.0;\n"
	"    timeout = 10.0; } );\n"
	"  selection = { eliminate_lowest = 0; }; };\n";

static const char *const fixed[] = {"other.txt", "a file the child may claim to read\n", NULL};

FUZZ_ROUND_HARNESS(.config = config, .fixed = fixed, .plugin = "wirefuzz", .input_name = "wire.bin", .isolated = 1)

/* libFuzzer harness for `kaieval verify` (core/archive.c): the archive's
 * manifest.json as the reader of what was archived, and the comparison of
 * the archived record with the rerun's.
 *
 * An archive of a small round (two teams, the table plugin) is made once.
 * Each input replaces its manifest.json; when the input holds a NUL byte
 * (never JSON text), what follows the first one replaces its result.json.
 * The verification must end with exit status 0, 1 or 2 (3 only with a
 * message, for a plugin that cannot be loaded).  The sanitizers catch bad
 * memory access.  The plugin runs in this process; the libFuzzer build loads
 * the plugins of the build (KAIEVAL_PLUGIN_PATH=$PWD/.libs): the archive's
 * own copy is loaded and unloaded each time, so it carries no coverage.
 * Built with clang -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README-verify.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz_support.h"
#include "isolate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
	"round: { id = \"fuzz\"; title = \"fuzz\"; date = \"2026-01-15\"; data = \".\"; seed = 1L;\n"
	"  teams = ( { id = \"a\"; name = \"A\"; model = \"A\"; }, { id = \"b\"; name = \"B\"; model = \"B\"; } );\n"
	"  criteria = ( { id = \"bench\"; plugin = \"table\"; kind = \"score\"; points = 10.0;\n"
	"    params = { file = \"bench.csv\"; unit = \"points\"; }; } );\n"
	"  selection = { eliminate_lowest = 1; }; };\n";
static const char table[] = "team,value,normalized\na,0.9,0.9\nb,0.4,0.4\n";

/* The archive, made on the first call. */
static char *archive(void)
{
	static char *dir;
	if (dir)
		return dir;
	kv_isolation_set(KV_ISOLATE_OFF);
	fuzz_file("src/bench.csv", table, strlen(table));
	const char *cfg = fuzz_file("src/round.cfg", config, strlen(config));
	dir = kv_xasprintf("%s/archive", fuzz_dir());
	FILE *out = fopen("/dev/null", "w");
	if (!out || kv_archive(cfg, dir, out) != 0)
		abort();
	fclose(out);
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kv_buf result;
	const char *dir = archive();
	if (!result.data) {
		char *path = kv_xasprintf("%s/result.json", dir);
		if (kv_read_file(path, &result) != 0)
			abort();
		free(path);
	}
	const uint8_t *nul = memchr(data, 0, size);
	size_t head = nul ? (size_t)(nul - data) : size;
	fuzz_file("archive/manifest.json", data, head);
	if (nul)
		fuzz_file("archive/result.json", nul + 1, size - head - 1);
	else
		fuzz_file("archive/result.json", result.data, result.len);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc = kv_verify(dir, out);
	fclose(out);
	if (rc < 0 || rc > KV_EXIT_INTERNAL || (rc == KV_EXIT_INTERNAL && !len))
		abort();
	free(text);
	return 0;
}

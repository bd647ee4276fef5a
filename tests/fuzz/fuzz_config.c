/* libFuzzer harness for the round config reader (core/config.c and
 * core/override.c): libconfig text, then every check of round-config.md.
 *
 * The input is written as a config file and loaded.  Its leading lines
 * "//set KEY=VALUE" (comments to libconfig) are also applied as what-if
 * overrides, up to four.  A refusal must have exit status 2 and start with
 * the config's path, or with "--set " for an override; a round that loads must have its teams and criteria
 * findable by id.  The sanitizers catch bad memory access.  Built with
 * clang -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README-config.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "round.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SETS 4

/* The leading "//set " lines, copied (caller frees each). */
static size_t overrides(const uint8_t *data, size_t size, char **sets)
{
	static const char mark[] = "//set ";
	size_t n = 0, at = 0;
	while (n < MAX_SETS && size - at > sizeof mark - 1 && memcmp(data + at, mark, sizeof mark - 1) == 0) {
		at += sizeof mark - 1;
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
		sets[n] = kv_xmalloc(len + 1);
		memcpy(sets[n], data + at, len);
		sets[n++][len] = '\0';
		at += len + (nl != NULL);
	}
	return n;
}

static void check_round(const struct kv_round *r)
{
	for (size_t i = 0; i < r->team_count; i++)
		if (kv_round_team_index(r, r->teams[i].id) != (long)i)
			abort();
	for (size_t i = 0; i < r->criterion_count; i++)
		if (kv_round_criterion_index(r, r->criteria[i].id) != (long)i)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sets[MAX_SETS];
	size_t n = overrides(data, size, sets);
	const char *path = fuzz_file("round.cfg", data, size);
	struct kv_round *r = NULL;
	struct kv_error err = {0};
	if (kv_round_load(path, (const char *const *)sets, n, &r, &err) == 0)
		check_round(r);
	else if (err.status != KV_EXIT_INPUT || r ||
		 (strncmp(err.msg, path, strlen(path)) != 0 && strncmp(err.msg, "--set ", 6) != 0))
		abort();
	kv_round_free(r);
	for (size_t i = 0; i < n; i++)
		free(sets[i]);
	return 0;
}

/* libFuzzer harness for the precision spec of `kaieval publish --digits`
 * (core/publish.c, kv_digits_parse).
 *
 * An input that starts with '@' is the text of a FILE given as @FILE (the
 * rest of the input, written to a file); any other input is the spec
 * itself, up to its first NUL.  A spec that parses gives every cell 0 to 9
 * decimals; a refusal has exit status 2 and a message.  Built with clang
 * -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "publish.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec;
	if (size > 0 && data[0] == '@')
		spec = kv_xasprintf("@%s", fuzz_file("digits.txt", data + 1, size - 1));
	else {
		spec = kv_xcalloc(size + 1, 1);
		memcpy(spec, data, size);
	}
	struct kv_digits d;
	struct kv_error err = {0};
	int rc = kv_digits_parse(spec, &d, &err);
	if (rc != 0 && (rc != KV_EXIT_INPUT || err.status != KV_EXIT_INPUT || !err.msg[0]))
		abort();
	for (int c = 0; rc == 0 && c < KV_PUB_COLUMNS; c++)
		for (int r = 0; r < KV_PUB_ROWS; r++)
			if (d.d[c][r] < 0 || d.d[c][r] > 9)
				abort();
	free(spec);
	return 0;
}

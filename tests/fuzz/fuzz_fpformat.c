/* libFuzzer harness for the fingerprint file reader (lib/fpformat), which
 * `kaieval fingerprint --merge` and the license plugin share.
 *
 * Whatever the bytes: a refusal is a message starting with the file's name;
 * a fingerprint that reads has its tensors sorted by name, each once, with
 * numel the product of its shape, a hash of 32 or 64 hex digits and a
 * sample no larger than sample_size; it frees cleanly.  The sanitizers
 * catch bad memory access.  Built with clang -fsanitize=fuzzer, or with
 * replay.c as a plain program (tests/fuzz/README-fpformat.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fpformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "fp.json"

static void check_tensor(const struct kv_fp *fp, size_t i)
{
	const struct kv_fp_tensor *t = &fp->tensors[i];
	uint64_t numel = 1;
	for (size_t d = 0; d < t->rank; d++)
		numel *= t->shape[d];
	size_t hex = strlen(t->hash);
	if (!t->name || !t->dtype || numel != t->numel || (hex != 32 && hex != 64) ||
	    strspn(t->hash, "0123456789abcdef") != hex || t->sample_count > fp->sample_size)
		abort();
	if (i > 0 && strcmp(fp->tensors[i - 1].name, t->name) >= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_fp fp;
	char msg[512] = "";
	if (kv_fp_parse((const char *)data, size, FILE_NAME, &fp, msg, sizeof msg) != 0) {
		if (strncmp(msg, FILE_NAME ":", strlen(FILE_NAME ":")) != 0)
			abort();
	} else {
		for (size_t i = 0; i < fp.count; i++)
			check_tensor(&fp, i);
	}
	kv_fp_free(&fp);
	return 0;
}

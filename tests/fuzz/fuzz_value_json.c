/* libFuzzer harness for the JSON reader behind the plugins' json_load
 * (core/value.c, kv_value_parse_json): UTF-8 check, parse, and the value
 * tree plugins read with the host's accessors.
 *
 * Whatever the bytes: a refusal has exit status 2 and starts with
 * "FILE:LINE:COL: "; a document that reads gives a tree whose every node
 * answers the accessors, whose group members are found by name, and which
 * copies and frees cleanly.  The sanitizers catch bad memory access.  Built
 * with clang -fsanitize=fuzzer, or with replay.c as a plain program
 * (tests/fuzz/README-value-json.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "doc.json"

static void walk(const struct kv_value *v, int depth)
{
	double d;
	long long i;
	if (!v || !v->name || !v->where || depth > 100000)
		abort();
	kv_value_as_double(v, &d);
	kv_value_as_int(v, &i);
	kv_type_name(v->type);
	if (v->type == KV_T_STRING && !v->str)
		abort();
	for (size_t k = 0; k < v->count; k++) {
		const struct kv_value *c = v->items[k];
		walk(c, depth + 1);
		if (v->type == KV_T_GROUP && !kv_value_member(v, c->name))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = memcpy(kv_xcalloc(size + 1, 1), data, size); /* text[size]: the NUL it needs */
	struct kv_error err = {0};
	struct kv_value *v = kv_value_parse_json(text, size, FILE_NAME, &err);
	if (!v) {
		if (err.status != KV_EXIT_INPUT || strncmp(err.msg, FILE_NAME ":", strlen(FILE_NAME ":")) != 0)
			abort();
	} else {
		walk(v, 0);
		struct kv_value *copy = kv_value_copy(v);
		walk(copy, 0);
		kv_value_free(copy);
		kv_value_free(v);
	}
	free(text);
	return 0;
}

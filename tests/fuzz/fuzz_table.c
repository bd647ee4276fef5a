/* libFuzzer harness for the record reader behind host->table_open
 * (core/table.c): CSV (RFC 4180) and JSONL, one interface.
 *
 * Each input is read as both kinds.  Whatever the bytes: a refusal names the
 * file and a line and has exit status 2; records start on lines that never
 * go back; every column of every record reads as a string; the reader ends.
 * The sanitizers catch bad memory access.  Built two ways
 * (tests/fuzz/README-table.md): with clang -fsanitize=fuzzer, or with
 * replay.c as a plain program. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct kv_error *err, const char *path)
{
	if (err->status != KV_EXIT_INPUT || strncmp(err->msg, path, strlen(path)) != 0 ||
	    err->msg[strlen(path)] != ':')
		abort();
}

static void read_as(const char *path, const uint8_t *data, size_t size)
{
	char *text = kv_xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct kv_error err = {0};
	struct kv_table *t = kv_table_new(path, text, size, &err);
	if (!t) {
		check_error(&err, path);
		return;
	}
	long last = 0;
	int rc;
	size_t records = 0;
	while ((rc = kv_table_next(t, &err)) == 1) {
		long line = kv_table_line(t);
		if (line < 1 || line < last || ++records > size + 1)
			abort();
		last = line;
		for (int c = -1; c <= 64; c++) {
			const char *f = kv_table_field(t, c), *name = kv_table_column_name(t, c);
			if (!f || !name || (kv_table_column(t, name) < 0 && name[0]))
				abort();
		}
	}
	if (rc == -1)
		check_error(&err, path);
	else if (rc != 0)
		abort();
	kv_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_as("f.csv", data, size);
	read_as("f.jsonl", data, size);
	return 0;
}

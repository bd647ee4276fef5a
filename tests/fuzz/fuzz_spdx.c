/* libFuzzer harness for the SPDX expression parser (plugins/license/spdx.c).
 *
 * Parses the input and checks what must hold whatever the bytes: an error
 * points inside the text, a parse yields at least one term whose ids lie in
 * the parser's copy, a term is covered by itself, and evaluation agrees with
 * the constant predicates.  Built two ways (tests/fuzz/README.md): with clang
 * -fsanitize=fuzzer, or with replay.c as a plain program that replays files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/license/spdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int accept_all(const struct spdx_term *t, void *arg) { (void)t; (void)arg; return 1; }
static int accept_none(const struct spdx_term *t, void *arg) { (void)t; (void)arg; return 0; }

static void check_id(const struct spdx_id *id)
{
	if (id->kind == SPDX_ID_NONE)
		return;
	if (id->len == 0 || memchr(id->text, '\0', id->len) || !spdx_id_equal(id, id))
		abort();
}

static void check_parsed(const struct spdx_expr *e, size_t size)
{
	size_t n = spdx_term_count(e);
	if (n == 0 || spdx_term_at(e, n) != NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct spdx_term *t = spdx_term_at(e, i);
		if (t->offset >= size || t->license.kind == SPDX_ID_NONE ||
		    t->license.kind == SPDX_ID_ADDITION_REF || t->exception.kind == SPDX_ID_LICENSE_REF)
			abort();
		check_id(&t->license);
		check_id(&t->exception);
		if (!spdx_term_covered(t, t))
			abort();
	}
	if (spdx_satisfied(e, accept_all, NULL) != 1 || spdx_satisfied(e, accept_none, NULL) != 0)
		abort();
	if (spdx_is_single(e) != (n == 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spdx_expr *e = NULL;
	struct spdx_error err;
	enum spdx_status st = spdx_parse((const char *)data, size, &e, &err);
	if (st == SPDX_OK)
		check_parsed(e, size);
	else if (st == SPDX_SYNTAX && (e || err.offset > size || err.message[0] == '\0'))
		abort();
	spdx_free(e);
	return 0;
}

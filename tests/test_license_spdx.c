/* Unit tests of the SPDX expression parser (plugins/license/spdx.c).
 * Expected results come from the SPDX 3.0.1 Annex D grammar and examples. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../plugins/license/spdx.h"

static struct spdx_expr *parse_ok(const char *text)
{
	struct spdx_expr *e = NULL;
	struct spdx_error err = {0};
	enum spdx_status st = spdx_parse(text, strlen(text), &e, &err);
	cr_assert_eq(st, SPDX_OK, "'%s' should parse; got error at %zu: %s", text, err.offset, err.message);
	return e;
}

/* The offset a bad text is refused at, and its message. */
static size_t parse_bad(const char *text, char *message, size_t len)
{
	struct spdx_expr *e = NULL;
	struct spdx_error err = {0};
	enum spdx_status st = spdx_parse(text, strlen(text), &e, &err);
	cr_assert_eq(st, SPDX_SYNTAX, "'%s' should not parse", text);
	cr_assert_null(e);
	if (message)
		snprintf(message, len, "%s", err.message);
	return err.offset;
}

/* Accept the terms whose licence id is in a NULL-terminated list (any case). */
static int accept_in(const struct spdx_term *t, void *arg)
{
	for (const char *const *id = arg; *id; id++)
		if (t->license.len == strlen(*id) && strncasecmp(t->license.text, *id, t->license.len) == 0)
			return 1;
	return 0;
}

static int satisfied_by(const char *text, const char *const *ids)
{
	struct spdx_expr *e = parse_ok(text);
	int r = spdx_satisfied(e, accept_in, (void *)ids);
	spdx_free(e);
	return r;
}

static void assert_term(const struct spdx_term *t, const char *license, int or_later, const char *exception)
{
	cr_assert_eq(t->license.len, strlen(license));
	cr_assert_eq(strncmp(t->license.text, license, t->license.len), 0, "%.*s != %s",
		     (int)t->license.len, t->license.text, license);
	cr_assert_eq(t->or_later, or_later);
	if (!exception) {
		cr_assert_eq(t->exception.kind, SPDX_ID_NONE);
		return;
	}
	cr_assert_eq(t->exception.len, strlen(exception));
	cr_assert_eq(strncmp(t->exception.text, exception, t->exception.len), 0);
}

Test(spdx, simple_expressions)
{
	struct spdx_expr *e = parse_ok("GPL-2.0+");
	cr_assert_eq(spdx_term_count(e), 1);
	cr_assert(spdx_is_single(e));
	assert_term(spdx_term_at(e, 0), "GPL-2.0", 1, NULL);
	cr_assert_eq(spdx_term_at(e, 0)->license.kind, SPDX_ID_LIST);
	spdx_free(e);

	e = parse_ok("DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2");
	cr_assert_eq(spdx_term_at(e, 0)->license.kind, SPDX_ID_LICENSE_REF);
	assert_term(spdx_term_at(e, 0), "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", 0, NULL);
	spdx_free(e);

	e = parse_ok("GPL-2.0-or-later WITH Bison-exception-2.2");
	assert_term(spdx_term_at(e, 0), "GPL-2.0-or-later", 0, "Bison-exception-2.2");
	cr_assert_eq(spdx_term_at(e, 0)->exception.kind, SPDX_ID_LIST);
	spdx_free(e);

	e = parse_ok("GPL-2.0-only with DocumentRef-d:AdditionRef-x");
	cr_assert_eq(spdx_term_at(e, 0)->exception.kind, SPDX_ID_ADDITION_REF);
	spdx_free(e);
}

/* Annex D.4.5: "LGPL-2.1-only OR BSD-3-Clause AND MIT" is a choice between
 * LGPL-2.1-only and (BSD-3-Clause AND MIT). */
Test(spdx, and_binds_tighter_than_or)
{
	const char *text = "LGPL-2.1-only OR BSD-3-Clause AND MIT";
	cr_assert(satisfied_by(text, (const char *const[]){"LGPL-2.1-only", NULL}));
	cr_assert_not(satisfied_by(text, (const char *const[]){"BSD-3-Clause", NULL}));
	cr_assert(satisfied_by(text, (const char *const[]){"BSD-3-Clause", "MIT", NULL}));
	/* Parentheses change it: now MIT is always needed. */
	const char *paren = "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)";
	cr_assert_not(satisfied_by(paren, (const char *const[]){"BSD-3-Clause", NULL}));
	cr_assert(satisfied_by(paren, (const char *const[]){"BSD-3-Clause", "MIT", NULL}));
	cr_assert_not(satisfied_by("(LGPL-2.1-only OR BSD-3-Clause) AND MIT",
				   (const char *const[]){"LGPL-2.1-only", NULL}));
}

Test(spdx, with_binds_tighter_than_and)
{
	struct spdx_expr *e = parse_ok("GPL-2.0-only WITH Classpath-exception-2.0 AND MIT");
	cr_assert_eq(spdx_term_count(e), 2);
	assert_term(spdx_term_at(e, 0), "GPL-2.0-only", 0, "Classpath-exception-2.0");
	assert_term(spdx_term_at(e, 1), "MIT", 0, NULL);
	cr_assert_not(spdx_is_single(e));
	spdx_free(e);
}

Test(spdx, operators_case_sensitive_ids_not)
{
	cr_assert(satisfied_by("mit and apache-2.0", (const char *const[]){"MIT", "Apache-2.0", NULL}));
	cr_assert(satisfied_by("GPL-3.0-only or mIt", (const char *const[]){"MIT", NULL}));
	char msg[96];
	/* "MIT And X": And is at offset 4. */
	cr_assert_eq(parse_bad("MIT And Apache-2.0", msg, sizeof msg), 4);
	cr_assert(strstr(msg, "AND"), "%s", msg);
	cr_assert_eq(parse_bad("MIT oR ISC", NULL, 0), 4);
	cr_assert_eq(parse_bad("MIT With Bison-exception-2.2", NULL, 0), 4);
}

Test(spdx, id_equality)
{
	struct spdx_expr *a = parse_ok("LicenseRef-Llama-3.1-Community");
	struct spdx_expr *b = parse_ok("LicenseRef-LLAMA-3.1-community");
	struct spdx_expr *c = parse_ok("licenseref-llama-3.1-community"); /* not a ref: a list id */
	struct spdx_expr *d = parse_ok("Apache-2.0");
	struct spdx_expr *e = parse_ok("APACHE-2.0");
	const struct spdx_term *ta = spdx_term_at(a, 0), *tb = spdx_term_at(b, 0), *tc = spdx_term_at(c, 0);
	cr_assert(spdx_id_equal(&ta->license, &tb->license));
	cr_assert_eq(tc->license.kind, SPDX_ID_LIST);
	cr_assert_not(spdx_id_equal(&ta->license, &tc->license));
	cr_assert(spdx_id_equal(&spdx_term_at(d, 0)->license, &spdx_term_at(e, 0)->license));
	spdx_free(a);
	spdx_free(b);
	spdx_free(c);
	spdx_free(d);
	spdx_free(e);
}

static int covered(const char *term, const char *entry)
{
	struct spdx_expr *t = parse_ok(term), *e = parse_ok(entry);
	int r = spdx_term_covered(spdx_term_at(t, 0), spdx_term_at(e, 0));
	spdx_free(t);
	spdx_free(e);
	return r;
}

Test(spdx, term_covered_by_allow_entry)
{
	cr_assert(covered("GPL-2.0-only", "gpl-2.0-only"));
	cr_assert(covered("GPL-2.0+", "GPL-2.0"));             /* X+ may be used under X */
	cr_assert(covered("GPL-2.0", "GPL-2.0+"));
	cr_assert(covered("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only"));
	cr_assert(covered("GPL-2.0-only WITH Classpath-exception-2.0",
			  "GPL-2.0-only WITH classpath-exception-2.0"));
	cr_assert_not(covered("GPL-2.0-only", "GPL-2.0-only WITH Classpath-exception-2.0"));
	cr_assert_not(covered("GPL-2.0-only WITH Bison-exception-2.2",
			      "GPL-2.0-only WITH Classpath-exception-2.0"));
	cr_assert_not(covered("GPL-2.0-only", "GPL-2.0-or-later"));
}

Test(spdx, whitespace_and_parentheses)
{
	struct spdx_expr *e = parse_ok(" \t( MIT\nOR(ISC) )\r\n");
	cr_assert_eq(spdx_term_count(e), 2);
	spdx_free(e);
	e = parse_ok("MIT AND(ISC OR Zlib)");
	cr_assert_eq(spdx_term_count(e), 3);
	spdx_free(e);
}

/* Offsets counted by hand: "MIT AND" is 7 bytes long; its end is offset 7. */
Test(spdx, errors_point_at_the_problem)
{
	char msg[96];
	cr_assert_eq(parse_bad("", NULL, 0), 0);
	cr_assert_eq(parse_bad("MIT AND", NULL, 0), 7);
	cr_assert_eq(parse_bad("MIT AND OR ISC", NULL, 0), 8);
	cr_assert_eq(parse_bad("(MIT", msg, sizeof msg), 4);
	cr_assert(strstr(msg, "')'"), "%s", msg);
	cr_assert_eq(parse_bad("MIT)", msg, sizeof msg), 3);
	cr_assert(strstr(msg, "matching"), "%s", msg);
	cr_assert_eq(parse_bad("MIT ISC", NULL, 0), 4);
	cr_assert_eq(parse_bad("MIT, ISC", msg, sizeof msg), 3);
	cr_assert(strstr(msg, "','"), "%s", msg);
	cr_assert_eq(parse_bad("MIT/Apache-2.0", NULL, 0), 3);
	cr_assert_eq(parse_bad("(MIT) WITH Classpath-exception-2.0", msg, sizeof msg), 6);
	cr_assert(strstr(msg, "WITH"), "%s", msg);
	cr_assert_eq(parse_bad("MIT WITH LicenseRef-x", NULL, 0), 9);
	cr_assert_eq(parse_bad("MIT WITH", NULL, 0), 8);
	cr_assert_eq(parse_bad("MIT WITH X WITH Y", NULL, 0), 11);
	cr_assert_eq(parse_bad("GPL-2.0 WITH X+", NULL, 0), 14);
	cr_assert_eq(parse_bad("AdditionRef-x", NULL, 0), 0);
	cr_assert_eq(parse_bad("LicenseRef-x+", NULL, 0), 12);
	cr_assert_eq(parse_bad("LicenseRef-", NULL, 0), 11);
	cr_assert_eq(parse_bad("MIT++", NULL, 0), 3);
	cr_assert_eq(parse_bad("M:IT", NULL, 0), 1);
	cr_assert_eq(parse_bad("DocumentRef-:LicenseRef-x", NULL, 0), 12);
	cr_assert_eq(parse_bad("DocumentRef-d:MIT", NULL, 0), 14);
	cr_assert_eq(parse_bad("MIT\xc3\xa9", msg, sizeof msg), 3);
	cr_assert(strstr(msg, "0xc3"), "%s", msg);
}

/* A NUL inside the given length is a bad byte, not the end of the text. */
Test(spdx, embedded_nul)
{
	struct spdx_expr *e = NULL;
	struct spdx_error err;
	cr_assert_eq(spdx_parse("MIT\0 OR ISC", 11, &e, &err), SPDX_SYNTAX);
	cr_assert_eq(err.offset, 3);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 4);
	int n = 0;
	for (int i = 0; i < depth; i++)
		s[n++] = '(';
	memcpy(s + n, "MIT", 3);
	n += 3;
	for (int i = 0; i < depth; i++)
		s[n++] = ')';
	s[n] = '\0';
	return s;
}

Test(spdx, nesting_is_bounded)
{
	char *ok = nested(SPDX_MAX_DEPTH), *deep = nested(SPDX_MAX_DEPTH + 1);
	spdx_free(parse_ok(ok));
	/* The refused '(' is the (MAX+1)-th, at offset MAX. */
	cr_assert_eq(parse_bad(deep, NULL, 0), SPDX_MAX_DEPTH);
	free(ok);
	free(deep);
}

/* A long AND chain is one n-ary node: no deep recursion. */
Test(spdx, long_chains)
{
	size_t n = 20000;
	char *s = malloc(n * 8 + 1);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, i ? " AND MIT" : "MIT");
	struct spdx_expr *e = parse_ok(s);
	cr_assert_eq(spdx_term_count(e), n);
	cr_assert(spdx_satisfied(e, accept_in, (void *)(const char *const[]){"MIT", NULL}));
	spdx_free(e);
	free(s);
}

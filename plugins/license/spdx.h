/* spdx: a small parser and evaluator of SPDX license expressions.
 *
 * Grammar: SPDX 3.0.1 Annex D (license expressions).  Operators AND, OR and
 * WITH match case-sensitively (all upper or all lower case); identifiers match
 * case-insensitively, except the "LicenseRef-", "AdditionRef-" and
 * "DocumentRef-" prefixes, which are case-sensitive.  Precedence: + > WITH >
 * AND > OR; parentheses override it.
 *
 * Self-contained (libc only) so that the fuzz harness links it alone.  The
 * parser never reads past len, bounds parenthesis nesting, and stores AND/OR
 * chains as n-ary nodes, so evaluation recursion is bounded too. */
#ifndef KV_LICENSE_SPDX_H
#define KV_LICENSE_SPDX_H

#include <stddef.h>

/* Parentheses nested deeper than this are refused (bounds recursion). */
#define SPDX_MAX_DEPTH 32

enum spdx_id_kind {
	SPDX_ID_NONE = 0,   /* no exception on a term */
	SPDX_ID_LIST,       /* a licence or exception id from the SPDX list */
	SPDX_ID_LICENSE_REF,  /* [DocumentRef-x:]LicenseRef-y */
	SPDX_ID_ADDITION_REF  /* [DocumentRef-x:]AdditionRef-y */
};

/* An identifier: a slice of the expression's own copy of the text. */
struct spdx_id {
	enum spdx_id_kind kind;
	const char *text;
	size_t len;
};

/* One simple expression with its optional exception: "GPL-2.0-only+ WITH X". */
struct spdx_term {
	struct spdx_id license;
	int or_later;                 /* the "+" suffix */
	struct spdx_id exception;     /* kind SPDX_ID_NONE when absent */
	size_t offset;                /* where the term starts in the text */
};

struct spdx_expr;

/* Where and why a text did not parse. */
struct spdx_error {
	size_t offset;          /* byte offset of the offending token (len: at the end) */
	char message[96];
};

enum spdx_status { SPDX_OK = 0, SPDX_SYNTAX = 1, SPDX_NOMEM = 2 };

/* Parse text[0..len).  On SPDX_SYNTAX, err says where; *out is NULL unless OK. */
enum spdx_status spdx_parse(const char *text, size_t len, struct spdx_expr **out,
			    struct spdx_error *err);
void spdx_free(struct spdx_expr *e);

/* The terms in source order. */
size_t spdx_term_count(const struct spdx_expr *e);
const struct spdx_term *spdx_term_at(const struct spdx_expr *e, size_t i);
/* 1 when the expression is a single term (no AND/OR). */
int spdx_is_single(const struct spdx_expr *e);

/* Is the expression satisfied when each term is judged by accept()?  OR needs
 * one side, AND needs every side. */
typedef int (*spdx_accept_fn)(const struct spdx_term *t, void *arg);
int spdx_satisfied(const struct spdx_expr *e, spdx_accept_fn accept, void *arg);

/* Same identifier: same kind, same text ignoring ASCII case. */
int spdx_id_equal(const struct spdx_id *a, const struct spdx_id *b);

/* Does `term` fall under the single-term `entry` of an allow list?  The
 * licence ids must be equal; "+" on either side does not matter (X+ may be
 * used under X); an entry without exception covers the licence with any
 * exception (exceptions only add permissions), an entry with one covers only
 * that exception. */
int spdx_term_covered(const struct spdx_term *term, const struct spdx_term *entry);

#endif

/* spdx: SPDX license expressions (see spdx.h).  A recursive-descent parser
 * over a tiny lexer; AND/OR chains become n-ary nodes. */
#include "spdx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { N_TERM, N_AND, N_OR };

struct node {
	enum node_kind kind;
	long first;      /* AND/OR: first child node */
	long next;       /* next sibling, -1 at the end */
	size_t term;     /* N_TERM: index into terms */
};

struct spdx_expr {
	char *text;
	struct node *nodes;
	size_t node_count, node_cap;
	struct spdx_term *terms;
	size_t term_count, term_cap;
	long root;
};

enum tok_kind { T_END, T_LPAREN, T_RPAREN, T_AND, T_OR, T_WITH, T_WORD, T_BAD };

struct token {
	enum tok_kind kind;
	size_t start, len;
};

struct parser {
	struct spdx_expr *e;
	const char *s;
	size_t len, pos;
	struct token tok;
	int depth;
	int failed;      /* 0, SPDX_SYNTAX or SPDX_NOMEM */
	struct spdx_error *err;
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int is_id_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* Characters a word may hold; ':' and '+' are checked when the word is read. */
static int is_word_char(int c) { return is_id_char(c) || c == ':' || c == '+'; }

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Record the first syntax error only: later ones are its consequences. */
static int fail(struct parser *p, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = SPDX_SYNTAX;
	p->err->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
	va_end(ap);
	return -1;
}

static int out_of_memory(struct parser *p)
{
	if (!p->failed)
		p->failed = SPDX_NOMEM;
	return -1;
}

static int word_is(const struct parser *p, const char *op)
{
	size_t n = strlen(op);
	return p->tok.len == n && memcmp(p->s + p->tok.start, op, n) == 0;
}

/* Operators are case-sensitive: all upper or all lower case. */
static void classify_word(struct parser *p)
{
	static const struct { const char *upper, *lower; enum tok_kind kind; } ops[] = {
		{"AND", "and", T_AND}, {"OR", "or", T_OR}, {"WITH", "with", T_WITH},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i].upper);
		if (word_is(p, ops[i].upper) || word_is(p, ops[i].lower)) {
			p->tok.kind = ops[i].kind;
		} else if (p->tok.len == n && same_ci(p->s + p->tok.start, ops[i].upper, n)) {
			p->tok.kind = T_BAD;
			fail(p, p->tok.start, "operators are written %s or in lower case", ops[i].upper);
		}
	}
}

static void advance(struct parser *p)
{
	while (p->pos < p->len && is_space((unsigned char)p->s[p->pos]))
		p->pos++;
	p->tok.start = p->pos;
	p->tok.len = 0;
	if (p->pos >= p->len) {
		p->tok.kind = T_END;
		return;
	}
	int c = (unsigned char)p->s[p->pos];
	if (c == '(' || c == ')') {
		p->tok.kind = c == '(' ? T_LPAREN : T_RPAREN;
		p->tok.len = 1;
		p->pos++;
		return;
	}
	if (!is_word_char(c)) {
		p->tok.kind = T_BAD;
		fail(p, p->pos, c >= 0x21 && c < 0x7f ? "unexpected character '%c'" :
		     "unexpected byte 0x%02x", c);
		return;
	}
	while (p->pos < p->len && is_word_char((unsigned char)p->s[p->pos]))
		p->pos++;
	p->tok.kind = T_WORD;
	p->tok.len = p->pos - p->tok.start;
	classify_word(p);
}

/* Length of the idstring at s[0..n), or the offset of the first bad char. */
static size_t idstring_len(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_id_char((unsigned char)s[i]))
		i++;
	return i;
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/* A reference: [DocumentRef-x:]LicenseRef-y or ...AdditionRef-y; the
 * whole word, no '+'. */
static int read_ref(struct parser *p, size_t at, size_t n, struct spdx_id *id)
{
	const char *s = p->s + at;
	size_t i = 0;
	if (has_prefix(s, n, "DocumentRef-")) {
		i = strlen("DocumentRef-");
		size_t k = idstring_len(s + i, n - i);
		if (k == 0 || i + k >= n || s[i + k] != ':')
			return fail(p, at + i + k, "expected 'DocumentRef-<id>:LicenseRef-<id>'");
		i += k + 1;
	}
	const char *prefix = has_prefix(s + i, n - i, "LicenseRef-") ? "LicenseRef-" :
			     has_prefix(s + i, n - i, "AdditionRef-") ? "AdditionRef-" : NULL;
	if (!prefix)
		return fail(p, at + i, "expected 'LicenseRef-' or 'AdditionRef-' after ':'");
	i += strlen(prefix);
	size_t k = idstring_len(s + i, n - i);
	if (k == 0)
		return fail(p, at + i, "'%s' needs an id (letters, digits, '-', '.')", prefix);
	if (i + k < n)
		return fail(p, at + i + k, s[i + k] == '+' ? "'+' is allowed only after a licence id "
			    "from the SPDX list" : "unexpected character in an id");
	id->kind = prefix[0] == 'L' ? SPDX_ID_LICENSE_REF : SPDX_ID_ADDITION_REF;
	id->text = p->e->text + at;
	id->len = n;
	return 0;
}

/* The current word as an id; *plus receives a trailing '+' (NULL: refused). */
static int read_id(struct parser *p, struct spdx_id *id, int *plus)
{
	size_t at = p->tok.start, n = p->tok.len;
	const char *s = p->s + at;
	if (plus)
		*plus = 0;
	if (has_prefix(s, n, "DocumentRef-") || has_prefix(s, n, "LicenseRef-") ||
	    has_prefix(s, n, "AdditionRef-"))
		return read_ref(p, at, n, id);
	size_t k = idstring_len(s, n);
	if (k == 0)
		return fail(p, at, "expected a licence id");
	if (k < n && s[k] == '+' && k + 1 == n && plus)
		*plus = 1;
	else if (k < n)
		return fail(p, at + k, s[k] == '+' ? (plus ? "'+' must end the licence id" :
			    "an exception takes no '+'") : "':' is allowed only in 'DocumentRef-<id>:'");
	id->kind = SPDX_ID_LIST;
	id->text = p->e->text + at;
	id->len = k;
	return 0;
}

static long new_node(struct parser *p, enum node_kind kind)
{
	struct spdx_expr *e = p->e;
	if (e->node_count == e->node_cap) {
		size_t cap = e->node_cap ? 2 * e->node_cap : 8;
		struct node *v = realloc(e->nodes, cap * sizeof *v);
		if (!v)
			return out_of_memory(p);
		e->nodes = v;
		e->node_cap = cap;
	}
	struct node *nd = &e->nodes[e->node_count];
	nd->kind = kind;
	nd->first = nd->next = -1;
	nd->term = 0;
	return (long)e->node_count++;
}

static long new_term(struct parser *p, const struct spdx_term *t)
{
	struct spdx_expr *e = p->e;
	if (e->term_count == e->term_cap) {
		size_t cap = e->term_cap ? 2 * e->term_cap : 8;
		struct spdx_term *v = realloc(e->terms, cap * sizeof *v);
		if (!v)
			return out_of_memory(p);
		e->terms = v;
		e->term_cap = cap;
	}
	long n = new_node(p, N_TERM);
	if (n < 0)
		return -1;
	e->terms[e->term_count] = *t;
	e->nodes[n].term = e->term_count++;
	return n;
}

/* simple-expression [WITH addition-expression] */
static long parse_term(struct parser *p)
{
	struct spdx_term t = {.offset = p->tok.start};
	if (read_id(p, &t.license, &t.or_later))
		return -1;
	if (t.license.kind == SPDX_ID_ADDITION_REF)
		return fail(p, p->tok.start, "an AdditionRef may only follow WITH");
	advance(p);
	if (p->tok.kind == T_WITH) {
		advance(p);
		if (p->tok.kind != T_WORD)
			return fail(p, p->tok.start, "expected an exception id after WITH");
		if (read_id(p, &t.exception, NULL))
			return -1;
		if (t.exception.kind == SPDX_ID_LICENSE_REF)
			return fail(p, p->tok.start, "WITH takes an exception id or AdditionRef, "
				    "not a LicenseRef");
		advance(p);
	}
	return new_term(p, &t);
}

static long parse_or(struct parser *p);

/* '(' or-expression ')' | term */
static long parse_primary(struct parser *p)
{
	if (p->tok.kind == T_WORD)
		return parse_term(p);
	if (p->tok.kind != T_LPAREN)
		return fail(p, p->tok.start, "expected a licence id or '('");
	size_t open = p->tok.start;
	if (++p->depth > SPDX_MAX_DEPTH)
		return fail(p, open, "parentheses nested too deeply");
	advance(p);
	long inner = parse_or(p);
	if (inner < 0)
		return -1;
	if (p->tok.kind != T_RPAREN)
		return fail(p, p->tok.start, "expected ')' (or AND, OR) to close a '('");
	p->depth--;
	advance(p);
	if (p->tok.kind == T_WITH)
		return fail(p, p->tok.start, "WITH must follow a single licence id, "
			    "not a parenthesised expression");
	return inner;
}

/* A chain of `sub` joined by the operator `op`, as one n-ary node. */
static long parse_chain(struct parser *p, enum tok_kind op, enum node_kind kind,
			long (*sub)(struct parser *))
{
	long first = sub(p);
	if (first < 0 || p->tok.kind != op)
		return first;
	long n = new_node(p, kind);
	if (n < 0)
		return -1;
	p->e->nodes[n].first = first;
	long last = first;
	while (p->tok.kind == op) {
		advance(p);
		long next = sub(p);
		if (next < 0)
			return -1;
		p->e->nodes[last].next = next;
		last = next;
	}
	return n;
}

static long parse_and(struct parser *p) { return parse_chain(p, T_AND, N_AND, parse_primary); }
static long parse_or(struct parser *p) { return parse_chain(p, T_OR, N_OR, parse_and); }

static void parse_all(struct parser *p)
{
	advance(p);
	long root = parse_or(p);
	if (root < 0)
		return;
	if (p->tok.kind == T_RPAREN)
		fail(p, p->tok.start, "')' without a matching '('");
	else if (p->tok.kind == T_WORD || p->tok.kind == T_LPAREN)
		fail(p, p->tok.start, "expected AND, OR or WITH between licences");
	else if (p->tok.kind != T_END)
		fail(p, p->tok.start, "expected AND, OR or the end");
	p->e->root = root;
}

enum spdx_status spdx_parse(const char *text, size_t len, struct spdx_expr **out,
			    struct spdx_error *err)
{
	*out = NULL;
	struct spdx_expr *e = calloc(1, sizeof *e);
	if (!e || !(e->text = malloc(len + 1))) {
		free(e);
		return SPDX_NOMEM;
	}
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	struct parser p = {.e = e, .s = e->text, .len = len, .err = err};
	parse_all(&p);
	if (p.failed) {
		spdx_free(e);
		return (enum spdx_status)p.failed;
	}
	*out = e;
	return SPDX_OK;
}

void spdx_free(struct spdx_expr *e)
{
	if (!e)
		return;
	free(e->text);
	free(e->nodes);
	free(e->terms);
	free(e);
}

size_t spdx_term_count(const struct spdx_expr *e) { return e->term_count; }

const struct spdx_term *spdx_term_at(const struct spdx_expr *e, size_t i)
{
	return i < e->term_count ? &e->terms[i] : NULL;
}

int spdx_is_single(const struct spdx_expr *e) { return e->nodes[e->root].kind == N_TERM; }

static int eval(const struct spdx_expr *e, long n, spdx_accept_fn accept, void *arg)
{
	const struct node *nd = &e->nodes[n];
	if (nd->kind == N_TERM)
		return accept(&e->terms[nd->term], arg) != 0;
	int any = nd->kind == N_OR;
	for (long c = nd->first; c >= 0; c = e->nodes[c].next)
		if (eval(e, c, accept, arg) == any)
			return any;
	return !any;
}

int spdx_satisfied(const struct spdx_expr *e, spdx_accept_fn accept, void *arg)
{
	return eval(e, e->root, accept, arg);
}

int spdx_id_equal(const struct spdx_id *a, const struct spdx_id *b)
{
	return a->kind == b->kind && a->len == b->len && same_ci(a->text, b->text, a->len);
}

int spdx_term_covered(const struct spdx_term *term, const struct spdx_term *entry)
{
	if (!spdx_id_equal(&term->license, &entry->license))
		return 0;
	return entry->exception.kind == SPDX_ID_NONE || spdx_id_equal(&term->exception, &entry->exception);
}

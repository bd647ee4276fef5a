/* Battle files in CSV (RFC 4180), as a table of battles is exported: a
 * header row names the columns in any order; the plugin reads model_a,
 * model_b, winner and judge, and question_id, tstamp and anony where the
 * header has them, and skips every other column.  The contract is
 * votes_scan_next's (scan.h): a record cut by the end of the bytes is read
 * again from its start once more have arrived, so a field may span blocks
 * (a quoted one may span lines).  The rules of a field are the core's
 * tables' (a quoted field doubles its quotes; a quote inside an unquoted
 * field, text after a closing quote and a NUL byte are refused). */
#include "scan.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The columns read, in the order of scan.c's fields (their scratch). */
enum column { C_MODEL_A, C_MODEL_B, C_WINNER, C_JUDGE, C_QUESTION, C_TSTAMP, C_ANONY, C_READ, C_OTHER = 0xff };
static const char *const column_names[C_READ] = {"model_a", "model_b", "winner", "judge",
						 "question_id", "tstamp", "anony"};
#define REQUIRED 4 /* the first four */

enum st { OK = 0, BAD = -1, MORE = -2 };

struct cur {
	const char *p, *end;
	int eof;
	long line;
	struct votes_scan *s;
};

static int bad(struct cur *c, int column, const char *fmt, ...) KV_PRINTF(3, 4);
static int bad(struct cur *c, int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->s->msg, sizeof c->s->msg, fmt, ap);
	va_end(ap);
	c->s->field = column < C_READ ? column_names[column] : NULL;
	c->s->err_line = c->line;
	return BAD;
}

/* The first byte in [p, end) that ends an unquoted field (a comma or a
 * line end) or is refused in one (a quote or a NUL); end when none. */
static const char *unquoted_stop(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
	for (; end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, comma), _mm_cmpeq_epi8(x, quote)),
					   _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, lf), _mm_cmpeq_epi8(x, cr)),
							_mm_cmpeq_epi8(x, zero)));
		int mask = _mm_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
	}
#endif
	while (p < end && *p != ',' && *p != '"' && *p != '\n' && *p != '\r' && *p != '\0')
		p++;
	return p;
}

/* The first quote, line feed or NUL in [p, end) (inside a quoted field);
 * end when none. */
static const char *quoted_stop(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	for (; end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, quote),
					   _mm_or_si128(_mm_cmpeq_epi8(x, lf), _mm_cmpeq_epi8(x, zero)));
		int mask = _mm_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
	}
#endif
	while (p < end && *p != '"' && *p != '\n' && *p != '\0')
		p++;
	return p;
}

static inline int unquoted(struct cur *c, int column, struct votes_str *out)
{
	const char *q = unquoted_stop(c->p, c->end);
	if (q == c->end && !c->eof)
		return MORE;
	if (q < c->end && *q == '"')
		return bad(c, column, "a quote inside an unquoted field (quote the whole field)");
	if (q < c->end && *q == '\0')
		return bad(c, column, "a NUL byte (0x00) in the text");
	out->s = c->p;
	out->n = (size_t)(q - c->p);
	c->p = q;
	return OK;
}

/* [s, s + n) with each doubled quote made one, into b. */
static int undouble(struct cur *c, struct votes_scratch *b, const char *s, size_t n)
{
	if (n + 1 > b->cap) {
		char *t = realloc(b->s, n + 1);
		if (!t) {
			c->s->oom = 1;
			return bad(c, C_OTHER, "out of memory");
		}
		b->s = t;
		b->cap = n + 1;
	}
	b->n = 0;
	for (size_t i = 0; i < n; i++) {
		b->s[b->n++] = s[i];
		i += s[i] == '"'; /* the second of a pair */
	}
	b->s[b->n] = '\0';
	return OK;
}

/* A field that starts with a quote; its text unquoted in *out (in the
 * column's scratch when it held doubled quotes; NULL scratch: not read). */
static int quoted(struct cur *c, int column, struct votes_scratch *scratch, struct votes_str *out)
{
	const char *q = c->p + 1;
	long lines = 0;
	int doubled = 0;
	for (;; q++) {
		q = quoted_stop(q, c->end);
		if (q == c->end)
			return c->eof ? bad(c, column, "a quoted field runs to the end of the file") : MORE;
		if (*q == '\n')
			lines++;
		else if (*q == '\0')
			return bad(c, column, "a NUL byte (0x00) in the text");
		else if (*q == '"') {
			if (q + 1 == c->end && !c->eof)
				return MORE; /* a doubled quote or the end: the next byte tells */
			if (q + 1 == c->end || q[1] != '"')
				break;
			doubled = 1;
			q++;
		}
	}
	out->s = c->p + 1;
	out->n = (size_t)(q - c->p - 1);
	if (doubled && scratch) {
		if (undouble(c, scratch, out->s, out->n))
			return BAD;
		out->s = scratch->s;
		out->n = scratch->n;
	}
	c->line += lines;
	c->p = q + 1;
	return OK;
}

/* One field at c->p; scratch as for quoted(). */
static int field(struct cur *c, int column, struct votes_scratch *scratch, struct votes_str *out)
{
	if (c->p < c->end && *c->p == '"')
		return quoted(c, column, scratch, out);
	return unquoted(c, column, out);
}

/* After a field: 1 another field follows, 0 the record ended, or MORE/BAD. */
static int separator(struct cur *c, int column)
{
	if (c->p == c->end)
		return c->eof ? 0 : MORE;
	switch (*c->p) {
	case ',':
		c->p++;
		return 1;
	case '\r': /* CRLF, or a CR alone, as the core's tables take it */
		if (c->p + 1 == c->end && !c->eof)
			return MORE;
		c->p++;
		if (c->p == c->end || *c->p != '\n')
			return 0;
		/* fall through */
	case '\n':
		c->p++;
		c->line++;
		return 0;
	default:
		if (*c->p > ' ' && *c->p < 0x7f)
			return bad(c, column, "text after a closing quote ('%c')", *c->p);
		return bad(c, column, "text after a closing quote (byte 0x%02x)", (unsigned char)*c->p);
	}
}

/* Blank lines between records; MORE when the bytes end in them before
 * the file does. */
static int skip_blank_lines(struct cur *c)
{
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r'))
		c->line += *c->p++ == '\n';
	return c->p == c->end && !c->eof ? MORE : OK;
}

static int skip_bom(struct cur *c)
{
	int n = votes_bom(c->p, c->end, c->eof);
	c->p += n > 0 ? n : 0;
	return n < 0 ? MORE : OK;
}

static int name_column(struct cur *c, const struct votes_str *name, unsigned char *column, size_t i)
{
	column[i] = C_OTHER;
	for (int k = 0; k < C_READ; k++) {
		if (strlen(column_names[k]) != name->n || memcmp(column_names[k], name->s, name->n) != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (column[j] == k)
				return bad(c, C_OTHER, "column '%s' named twice in the header (fields %zu and %zu)",
					   column_names[k], j + 1, i + 1);
		column[i] = (unsigned char)k;
	}
	return OK;
}

/* sep: a semicolon or tab in the header, where one column was read. */
static int required_columns(struct cur *c, const unsigned char *column, size_t n, char sep)
{
	for (int k = 0; k < REQUIRED; k++) {
		size_t i = 0;
		while (i < n && column[i] != k)
			i++;
		if (i < n)
			continue;
		if (sep)
			return bad(c, C_OTHER, "the header is one column holding %s: fields are separated by commas "
				   "(a battle file in CSV needs model_a, model_b, winner and judge)",
				   sep == ';' ? "semicolons" : "tabs");
		return bad(c, C_OTHER, "the header has no column '%s' (a battle file in CSV needs model_a, "
			   "model_b, winner and judge)", column_names[k]);
	}
	return OK;
}

static char other_separator(const struct votes_str *name)
{
	return memchr(name->s, ';', name->n) ? ';' : memchr(name->s, '\t', name->n) ? '\t' : 0;
}

/* The header row: which column is which field. */
static int header(struct cur *c)
{
	struct votes_scan *s = c->s;
	size_t n = 0, cap = 0;
	unsigned char *column = NULL;
	int rc, more = 1;
	long first = c->line;
	char sep = 0;
	if (c->p == c->end && c->eof)
		return bad(c, C_OTHER, "empty file (a battle file in CSV starts with a header row)");
	if (c->p < c->end && (*c->p == '[' || *c->p == '{'))
		return bad(c, C_OTHER, "the file starts with '%c', as JSON does, but its name ends in .csv (a battle "
			   "file is read as a CSV table when its name ends in .csv, as JSON otherwise)", *c->p);
	while (more == 1) {
		struct votes_str name;
		if ((rc = field(c, C_OTHER, NULL, &name)) != OK)
			break;
		if (n == cap) {
			unsigned char *grown = realloc(column, cap = cap ? 2 * cap : 16);
			if (!grown) {
				s->oom = 1;
				rc = bad(c, C_OTHER, "out of memory");
				break;
			}
			column = grown;
		}
		if (n == 0)
			sep = other_separator(&name);
		if ((rc = name_column(c, &name, column, n++)) != OK || (more = separator(c, C_OTHER)) < 0)
			break;
	}
	long end_line = c->line;
	c->line = first; /* a column missing is the header's fault, on its first line */
	rc = rc != OK ? rc : more < 0 ? more : required_columns(c, column, n, n == 1 ? sep : 0);
	c->line = end_line;
	if (rc == OK) {
		s->csv_column = column;
		s->csv_columns = n;
	} else {
		free(column);
	}
	return rc;
}

static int truth(const struct votes_str *v)
{
	static const char *const yes[] = {"true", "True", "TRUE", "1"}, *const no[] = {"false", "False", "FALSE", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (v->n == strlen(yes[i]) && memcmp(v->s, yes[i], v->n) == 0)
			return 1;
		if (v->n == strlen(no[i]) && memcmp(v->s, no[i], v->n) == 0)
			return 0;
	}
	return -1;
}

/* A decimal number: an optional sign, digits with an optional point, an
 * optional exponent. */
static int is_number(const struct votes_str *v)
{
	const char *p = v->s, *end = v->s + v->n;
	size_t digits = 0;
	p += p < end && (*p == '-' || *p == '+');
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		digits++;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits && p < end && (*p == 'e' || *p == 'E')) {
		p++;
		p += p < end && (*p == '-' || *p == '+');
		if (p == end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return digits && p == end;
}

/* Where a read column's text goes in a battle; anony and tstamp are checked
 * where they are taken. */
static const size_t slot_of[C_TSTAMP] = {
	offsetof(struct votes_battle, model_a), offsetof(struct votes_battle, model_b),
	offsetof(struct votes_battle, winner), offsetof(struct votes_battle, judge),
	offsetof(struct votes_battle, question)};

/* Field `column`'s value v into b. */
static inline int take(struct cur *c, int column, const struct votes_str *v, struct votes_battle *b)
{
	if (column < C_TSTAMP) {
		if (column < REQUIRED && v->n == 0)
			return bad(c, column, "empty");
		struct votes_str *to = (struct votes_str *)(void *)((char *)b + slot_of[column]);
		to->s = v->s; /* word by word: a copy of the whole waited for v's two stores */
		to->n = v->n;
		return OK;
	}
	if (column == C_ANONY && v->n > 0 && (b->anony = truth(v)) < 0)
		return bad(c, column, "must be true or false, not '%.*s'", (int)(v->n > 64 ? 64 : v->n), v->s);
	if (column == C_TSTAMP && v->n > 0 && !is_number(v))
		return bad(c, column, "must be a number, not '%.*s'", (int)(v->n > 64 ? 64 : v->n), v->s);
	return OK;
}

static int record(struct cur *c, struct votes_battle *b)
{
	struct votes_scan *s = c->s;
	size_t i = 0;
	for (int more = 1; more == 1; i++) {
		int column = i < s->csv_columns ? s->csv_column[i] : C_OTHER, rc;
		struct votes_str v;
		if ((rc = field(c, column, column < C_READ ? &s->scratch[column] : NULL, &v)) != OK)
			return rc;
		if (i == s->csv_columns)
			return bad(c, C_OTHER, "more fields than the header's %zu columns", s->csv_columns);
		if ((rc = take(c, column, &v, b)) != OK)
			return rc;
		if (c->p < c->end && *c->p == ',') /* most fields */
			c->p++;
		else if ((more = separator(c, column)) < 0)
			return more;
	}
	if (i < s->csv_columns) {
		c->line = b->line; /* a record short of fields: where it starts */
		return bad(c, C_OTHER, "%zu fields, where the header has %zu columns", i, s->csv_columns);
	}
	b->has_question = b->question.n > 0; /* empty: none, as null in JSON */
	return OK;
}

int votes_scan_csv_next(struct votes_scan *s, const char **p, const char *end, int eof, struct votes_battle *b)
{
	struct cur c = {*p, end, eof, s->line, s};
	int rc = OK;
	s->err_record = 0;
	if (!s->csv_column) {
		rc = skip_bom(&c);
		rc = rc == OK ? header(&c) : rc;
		if (rc == OK) { /* read once: a record cut later is read again from after it */
			*p = c.p;
			s->line = c.line;
		}
	}
	rc = rc == OK ? skip_blank_lines(&c) : rc;
	if (rc == OK && c.p == c.end) {
		s->line = c.line;
		return VOTES_SCAN_END;
	}
	/* the required fields are set by every whole record (memset costs more) */
	b->question = (struct votes_str){0};
	b->anony = -1;
	b->line = c.line;
	if (rc == OK) {
		s->err_record = s->records + 1;
		rc = record(&c, b);
	}
	if (rc == MORE)
		return VOTES_SCAN_MORE; /* the step is read again from *p, at s->line */
	if (rc == BAD)
		return VOTES_SCAN_ERROR;
	b->record = ++s->records;
	s->line = c.line;
	*p = c.p;
	return VOTES_SCAN_RECORD;
}

/* The battle scanner (see scan.h). */
#include "scan.h"
#include "simd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 64

/* The fields read; everything else is skipped. */
enum field { F_MODEL_A, F_MODEL_B, F_WINNER, F_JUDGE, F_QUESTION, F_TSTAMP, F_ANONY, F_KEY, F_OTHER };
static const char *const field_names[] = {"model_a", "model_b", "winner", "judge",
					  "question_id", "tstamp", "anony", "key", NULL};

enum st { OK = 0, BAD = -1, MORE = -2, END = -3, BAIL = -4 };

struct cur {
	const char *p, *end;
	int eof;
	struct votes_scan *s;
};

void votes_scan_init(struct votes_scan *s)
{
	memset(s, 0, sizeof *s);
	s->line = 1;
	s->wide = kv_simd_detect(); /* KV_SIMD_SCALAR (0): no window */
}

void votes_scan_free(struct votes_scan *s)
{
	for (size_t i = 0; i < sizeof s->scratch / sizeof s->scratch[0]; i++)
		free(s->scratch[i].s);
	free(s->csv_column);
}

static int bad(struct cur *c, enum field f, const char *fmt, ...) KV_PRINTF(3, 4);
static int bad(struct cur *c, enum field f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->s->msg, sizeof c->s->msg, fmt, ap);
	va_end(ap);
	c->s->field = f < F_KEY ? field_names[f] : NULL;
	c->s->err_line = c->s->line;
	return BAD;
}

/* Whitespace between tokens; newlines can only occur here (a raw newline
 * inside a string is not JSON), so this is where lines are counted.  Most
 * calls find none; the indentation of pretty-printed files (a newline and
 * a few spaces before every member) is skipped 16 bytes at a time, with no
 * branch on the length of the run. */
static void skip_ws(struct cur *c)
{
	const char *p = c->p;
	if (p < c->end && (unsigned char)*p > ' ')
		return;
	if (c->end - p > 1 && (unsigned char)p[1] > ' ' && (*p == ' ' || *p == '\n')) { /* JSONL's one newline */
		c->s->line += *p == '\n';
		c->p = p + 1;
		return;
	}
#ifdef __SSE2__
	const __m128i space = _mm_set1_epi8(' '), newline = _mm_set1_epi8('\n');
	const __m128i tab = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
	for (; c->end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p), nl = _mm_cmpeq_epi8(x, newline);
		__m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, space), nl),
					  _mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, cr)));
		unsigned lines = (unsigned)_mm_movemask_epi8(nl), other = ~(unsigned)_mm_movemask_epi8(ws) & 0xffff;
		if (other)
			lines &= (1u << __builtin_ctz(other)) - 1;
		for (; lines; lines &= lines - 1) /* mostly one: no popcount instruction in the base ISA */
			c->s->line++;
		if (other) {
			c->p = p + __builtin_ctz(other);
			return;
		}
	}
#endif
	for (; p < c->end; p++) {
		if (*p == '\n')
			c->s->line++;
		else if (*p != ' ' && *p != '\t' && *p != '\r')
			break;
	}
	c->p = p;
}

/* First byte in [p, end) that ends the plain run of a string: '"', '\\'
 * or a control character; end when there is none. */
static const char *string_stop(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x1f);
	for (; end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(x, space), space); /* x <= 0x1f */
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
							_mm_cmpeq_epi8(x, slash)), ctl);
		int mask = _mm_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
	}
#endif
	for (; p < end; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			break;
	return p;
}

static int scratch_put(struct cur *c, struct votes_scratch *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *t = realloc(b->s, cap);
		if (!t) {
			c->s->oom = 1;
			return bad(c, F_OTHER, "out of memory");
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
	return OK;
}

/* A hex digit's value plus one; 0 for any other byte.  Four lookups and
 * one test instead of a branch per digit, which mispredicts on text made of
 * \u escapes. */
static const unsigned char hex_value[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex4(const char *p, unsigned *out)
{
	unsigned d0 = hex_value[(unsigned char)p[0]] - 1u, d1 = hex_value[(unsigned char)p[1]] - 1u;
	unsigned d2 = hex_value[(unsigned char)p[2]] - 1u, d3 = hex_value[(unsigned char)p[3]] - 1u;
	if ((d0 | d1 | d2 | d3) > 15) /* a 0 became UINT_MAX */
		return 0;
	*out = d0 << 12 | d1 << 8 | d2 << 4 | d3;
	return 1;
}

static size_t utf8(unsigned cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Whether the bytes of [p, end), fewer than the escape's form (x: a hex
 * digit), already depart from it: then the escape is wrong whatever
 * follows, and is said so even at the end of the file. */
static int broken_early(const char *p, const char *end, const char *form)
{
	for (; p < end && *form; p++, form++)
		if (*form == 'x' ? !hex_value[(unsigned char)*p] : *p != *form)
			return 1;
	return 0;
}

/* One escape at c->p (just after the backslash); appends its bytes to b
 * (NULL: validate only). */
static int escape(struct cur *c, enum field f, struct votes_scratch *b)
{
	/* The byte each one-letter escape stands for; 0: not one. */
	static const char unescaped[256] = {['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
					    ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t'};
	if (c->p >= c->end)
		return MORE;
	char one = unescaped[(unsigned char)*c->p];
	if (one) {
		c->p++;
		return b ? scratch_put(c, b, &one, 1) : OK;
	}
	if (*c->p != 'u')
		return bad(c, f, "malformed JSON: invalid escape '\\%c' in a string", *c->p);
	unsigned cp, lo;
	if (c->end - c->p < 5 && !broken_early(c->p, c->end, "uxxxx"))
		return MORE;
	if (c->end - c->p < 5 || !hex4(c->p + 1, &cp))
		return bad(c, f, "malformed JSON: invalid \\u escape in a string");
	c->p += 5;
	if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
		if (c->end - c->p < 6 && !broken_early(c->p, c->end, "\\uxxxx"))
			return MORE;
		if (c->end - c->p < 6)
			return bad(c, f, "malformed JSON: unpaired surrogate in a string");
		if (c->p[0] != '\\' || c->p[1] != 'u' || !hex4(c->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return bad(c, f, "malformed JSON: unpaired surrogate in a string");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		c->p += 6;
	} else if (cp >= 0xdc00 && cp < 0xe000) {
		return bad(c, f, "malformed JSON: unpaired surrogate in a string");
	}
	char u[4];
	return b ? scratch_put(c, b, u, utf8(cp, u)) : OK;
}

/* A string at c->p (at its opening quote).  out (may be NULL) gets its
 * text: borrowed when it holds no escape, else unescaped into b. */
static int string(struct cur *c, enum field f, struct votes_scratch *b, struct votes_str *out)
{
	const char *start = ++c->p;
	int escaped = 0, rc;
	if (b)
		b->n = 0;
	for (;;) {
		const char *stop = string_stop(c->p, c->end);
		if (escaped && b && scratch_put(c, b, c->p, (size_t)(stop - c->p)))
			return BAD;
		c->p = stop;
		if (stop == c->end)
			return MORE;
		if (*stop == '"')
			break;
		if (*stop != '\\')
			return bad(c, f, "malformed JSON: control character in a string");
		if (!escaped && b && scratch_put(c, b, start, (size_t)(stop - start)))
			return BAD;
		escaped = 1;
		c->p++;
		if ((rc = escape(c, f, out ? b : NULL)))
			return rc;
	}
	if (out) {
		out->s = escaped ? b->s : start;
		out->n = escaped ? b->n : (size_t)(c->p - start);
	}
	c->p++;
	return OK;
}

static int digits(struct cur *c)
{
	const char *p = c->p;
	while (p < c->end && *p >= '0' && *p <= '9')
		p++;
	int n = (int)(p - c->p);
	c->p = p;
	return n;
}

/* A JSON number; out (may be NULL) gets its text. */
static int number(struct cur *c, enum field f, struct votes_str *out)
{
	const char *start = c->p;
	if (*c->p == '-')
		c->p++;
	int lead_zero = c->p < c->end && *c->p == '0';
	int n = digits(c);
	if (c->p == c->end && !c->eof)
		return MORE;
	if (n == 0 || (lead_zero && n > 1))
		return bad(c, f, "malformed JSON: invalid number");
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		n = digits(c);
		if (c->p == c->end && !c->eof)
			return MORE;
		if (n == 0)
			return bad(c, f, "malformed JSON: invalid number");
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		n = digits(c);
		if (c->p == c->end && !c->eof)
			return MORE;
		if (n == 0)
			return bad(c, f, "malformed JSON: invalid number");
	}
	if (out) {
		out->s = start;
		out->n = (size_t)(c->p - start);
	}
	return OK;
}

/* true, false or null; *which gets 1, 0 or -1. */
static int literal(struct cur *c, enum field f, int *which)
{
	const char *word = *c->p == 't' ? "true" : *c->p == 'f' ? "false" : *c->p == 'n' ? "null" : NULL;
	size_t n = *c->p == 'f' ? 5 : 4, have = (size_t)(c->end - c->p), same = 1;
	while (word && same < n && same < have && c->p[same] == word[same]) /* no call: 10^7 of them */
		same++;
	if (word && have < n && same == have)
		return MORE;
	if (!word || same < n)
		return bad(c, f, "malformed JSON: unexpected character '%c'", *c->p);
	*which = *c->p == 't' ? 1 : *c->p == 'f' ? 0 : -1;
	c->p += n;
	return OK;
}

static int skip_value(struct cur *c, enum field f, int depth);
static int general_record(struct cur *c, struct votes_battle *b);

/* An object or array being skipped; c->p at its opening bracket. */
static int skip_container(struct cur *c, enum field f, int depth)
{
	char close = *c->p == '{' ? '}' : ']';
	int object = close == '}';
	if (depth > MAX_DEPTH)
		return bad(c, f, "malformed JSON: nesting deeper than %d", MAX_DEPTH);
	c->p++;
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (*c->p == close) {
		c->p++;
		return OK;
	}
	for (;;) {
		int rc;
		if (object) {
			if (*c->p != '"')
				return bad(c, f, "malformed JSON: expected a key");
			if ((rc = string(c, f, NULL, NULL)))
				return rc;
			skip_ws(c);
			if (c->p == c->end)
				return MORE;
			if (*c->p != ':')
				return bad(c, f, "malformed JSON: expected ':' after a key");
			c->p++;
			skip_ws(c);
		}
		if ((rc = skip_value(c, f, depth + 1)))
			return rc;
		skip_ws(c);
		if (c->p == c->end)
			return MORE;
		if (*c->p == close) {
			c->p++;
			return OK;
		}
		if (*c->p != ',')
			return bad(c, f, "malformed JSON: expected ',' or '%c'", close);
		c->p++;
		skip_ws(c);
		if (c->p == c->end)
			return MORE;
	}
}

static int skip_value(struct cur *c, enum field f, int depth)
{
	int which;
	if (c->p == c->end)
		return MORE;
	switch (*c->p) {
	case '"': return string(c, f, NULL, NULL);
	case '{':
	case '[': return skip_container(c, f, depth);
	case 't':
	case 'f':
	case 'n': return literal(c, f, &which);
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return number(c, f, NULL);
		return bad(c, f, "malformed JSON: unexpected character '%c'", *c->p);
	}
}

static enum field field_of(const char *k, size_t n)
{
	switch (n) {
	case 5:
		if (memcmp(k, "judge", 5) == 0) return F_JUDGE;
		if (memcmp(k, "anony", 5) == 0) return F_ANONY;
		break;
	case 6:
		if (memcmp(k, "winner", 6) == 0) return F_WINNER;
		if (memcmp(k, "tstamp", 6) == 0) return F_TSTAMP;
		break;
	case 7:
		if (memcmp(k, "model_a", 7) == 0) return F_MODEL_A;
		if (memcmp(k, "model_b", 7) == 0) return F_MODEL_B;
		break;
	case 11:
		if (memcmp(k, "question_id", 11) == 0) return F_QUESTION;
		break;
	}
	return F_OTHER;
}

static struct votes_str *slot_of(struct votes_battle *b, enum field f)
{
	switch (f) {
	case F_MODEL_A: return &b->model_a;
	case F_MODEL_B: return &b->model_b;
	case F_WINNER: return &b->winner;
	case F_JUDGE: return &b->judge;
	default: return &b->question;
	}
}

/* The value of a field the plugin reads, checked for its JSON type. */
static int wanted_value(struct cur *c, enum field f, struct votes_battle *b)
{
	struct votes_scratch *scr = &c->s->scratch[f];
	struct votes_str *slot = slot_of(b, f);
	int which, is_string = *c->p == '"';
	int is_number = *c->p == '-' || (*c->p >= '0' && *c->p <= '9');
	switch (f) {
	case F_MODEL_A:
	case F_MODEL_B:
	case F_WINNER:
		if (!is_string)
			return bad(c, f, "must be a string");
		return string(c, f, scr, slot);
	case F_JUDGE:
	case F_QUESTION:
		if (is_string)
			return string(c, f, scr, slot);
		if (is_number)
			return number(c, f, slot);
		if (f == F_QUESTION && *c->p == 'n') {
			int rc = literal(c, f, &which);
			if (rc == OK && which == -1)
				b->has_question = 0;
			return rc == OK && which != -1 ? bad(c, f, "must be a string or a number") : rc;
		}
		return bad(c, f, "must be a string or a number");
	case F_TSTAMP:
		if (is_number)
			return number(c, f, NULL);
		if (*c->p == 'n') {
			int rc = literal(c, f, &which);
			return rc == OK && which != -1 ? bad(c, f, "must be a number") : rc;
		}
		return bad(c, f, "must be a number");
	case F_ANONY:
		if (*c->p == 't' || *c->p == 'f') {
			int rc = literal(c, f, &which);
			if (rc == OK && which < 0)
				return bad(c, f, "must be true or false");
			b->anony = which;
			return rc;
		}
		return bad(c, f, "must be true or false");
	default:
		return skip_value(c, f, 2);
	}
}

/* One member "key": value of the record object. */
static int member(struct cur *c, struct votes_battle *b, unsigned *seen)
{
	struct votes_str key;
	if (*c->p != '"')
		return bad(c, F_OTHER, "malformed JSON: expected a key");
	int rc = string(c, F_KEY, &c->s->scratch[F_KEY], &key);
	if (rc)
		return rc;
	enum field f = field_of(key.s, key.n);
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (*c->p != ':')
		return bad(c, f, "malformed JSON: expected ':' after the key");
	c->p++;
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (f != F_OTHER) {
		if (*seen & (1u << f))
			return bad(c, f, "appears twice in the record");
		*seen |= 1u << f;
		if (f == F_QUESTION)
			b->has_question = 1;
	}
	return wanted_value(c, f, b);
}

static int check_required(struct cur *c, unsigned seen)
{
	static const enum field required[] = {F_MODEL_A, F_MODEL_B, F_WINNER, F_JUDGE};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!(seen & (1u << required[i])))
			return bad(c, required[i], "missing");
	return OK;
}

/* --- the fast path: one record as Arena writes it ----------------------------------
 * String values without escapes, scalar values, and values the plugin does
 * not read skipped whole (Arena's nested tags and metadata, through the
 * general skip_container): the common case, read without bookkeeping.
 * Anything else (and every error) BAILs to the general reader below, which
 * then says what is wrong; so the fast path can never accept what the
 * general one refuses.  Lines are counted where the general reader counts
 * them (skip_ws), and put back by record() when the fast path bails. */

/* p after an opening quote: the closing quote, or NULL (MORE or BAIL in *rc). */
static inline const char *plain_string(const char *p, const char *end, int *rc)
{
	const char *q = string_stop(p, end);
	*rc = q == end ? MORE : *q != '"' ? BAIL : OK;
	return *rc == OK ? q : NULL;
}

/* The literal `which` (1, 0, -1: true, false, null) as a value of field f. */
static inline int literal_field(enum field f, int which, struct votes_battle *b)
{
	if (f == F_ANONY && which >= 0)
		b->anony = which;
	else if (f == F_QUESTION && which < 0)
		b->has_question = 0;
	else if (f != F_OTHER && !(f == F_TSTAMP && which < 0))
		return BAIL;
	return OK;
}

/* The value at c->p of field f; a container (only where f is not read)
 * is skipped as skip_container would at `depth`. */
static int fast_value(struct cur *c, enum field f, struct votes_battle *b, int depth)
{
	int rc, which;
	char ch = *c->p;
	if (ch == '"') {
		const char *q = plain_string(c->p + 1, c->end, &rc);
		if (!q)
			return rc;
		if (f <= F_QUESTION) {
			struct votes_str *slot = slot_of(b, f);
			slot->s = c->p + 1;
			slot->n = (size_t)(q - c->p - 1);
		}
		c->p = q + 1;
		return f == F_TSTAMP || f == F_ANONY ? BAIL : OK;
	}
	if (ch == '-' || (ch >= '0' && ch <= '9')) {
		struct votes_str num;
		if ((rc = number(c, f, &num)) != OK)
			return rc == MORE ? MORE : BAIL;
		if (f == F_JUDGE || f == F_QUESTION)
			*slot_of(b, f) = num;
		return f == F_TSTAMP || f == F_JUDGE || f == F_QUESTION || f == F_OTHER ? OK : BAIL;
	}
	if (ch == '{' || ch == '[') { /* read as the general reader skips it */
		if (f != F_OTHER)
			return BAIL;
		rc = skip_container(c, f, depth);
		return rc == OK || rc == MORE ? rc : BAIL;
	}
	if (ch != 't' && ch != 'f' && ch != 'n')
		return BAIL;
	if ((rc = literal(c, f, &which)) != OK)
		return rc == MORE ? MORE : BAIL;
	return literal_field(f, which, b);
}

/* Where the values of a fast-path record lie, to learn its layout. */
struct spans {
	int n;                    /* > VOTES_SHAPE_VALUES: too many to learn */
	const char *start[VOTES_SHAPE_VALUES], *end[VOTES_SHAPE_VALUES];
	unsigned char field[VOTES_SHAPE_VALUES], depth[VOTES_SHAPE_VALUES];
};

static int fast_object(struct cur *c, struct votes_battle *b, struct spans *sp, int depth);

/* Past the token at c->p and the whitespace after it: MORE at the end of
 * the bytes, else OK. */
static int fast_past(struct cur *c)
{
	c->p++;
	skip_ws(c);
	return c->p == c->end ? MORE : OK;
}

/* A member's key (without escapes) and its colon; c->p then at the value. */
static int fast_key(struct cur *c, struct votes_str *key)
{
	int rc;
	const char *q = *c->p == '"' ? plain_string(c->p + 1, c->end, &rc) : NULL;
	if (!q)
		return *c->p == '"' ? rc : BAIL;
	*key = (struct votes_str){c->p + 1, (size_t)(q - c->p - 1)};
	c->p = q + 1;
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (*c->p != ':')
		return BAIL;
	return fast_past(c);
}

/* After a member of an object: past ',' to the next member (OK), past the
 * closing '}' (END), or MORE or BAIL. */
static int fast_next(struct cur *c)
{
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (*c->p == '}') {
		c->p++;
		return END;
	}
	if (*c->p != ',')
		return BAIL;
	return fast_past(c);
}

/* One value of the record, of field f at `depth`, put in sp as a value of
 * the layout; an object the plugin does not read puts its own values
 * instead (fast_object). */
static int fast_slot(struct cur *c, struct votes_battle *b, enum field f, struct spans *sp, int depth)
{
	const char *start = c->p;
	int n = sp->n;
	int rc = f == F_OTHER && *c->p == '{' ? fast_object(c, b, sp, depth) : fast_value(c, f, b, depth);
	if (rc == OK && sp->n == n) {
		if (n < VOTES_SHAPE_VALUES) {
			sp->start[n] = start;
			sp->end[n] = c->p;
			sp->field[n] = (unsigned char)f;
			sp->depth[n] = (unsigned char)depth;
		}
		sp->n++;
	}
	return rc;
}

/* An object nested in the record (Arena's tags and metadata: the same keys
 * in every record, only the values change).  Its keys become text of the
 * layout and its scalar values values of it, so that a record in the same
 * layout reads them as it reads its own members.  Arrays, and an object
 * with more values than the layout holds, stay one value, skipped whole. */
static int fast_object(struct cur *c, struct votes_battle *b, struct spans *sp, int depth)
{
	const char *open = c->p;
	int first = sp->n, rc;
	long line = c->s->line;
	if (depth > MAX_DEPTH)
		return BAIL;
	if (fast_past(c) == MORE)
		return MORE;
	if (*c->p == '}') {
		c->p++;
		return OK;
	}
	for (;;) {
		struct votes_str key;
		if ((rc = fast_key(c, &key)) != OK || (rc = fast_slot(c, b, F_OTHER, sp, depth + 1)) != OK)
			return rc;
		if ((rc = fast_next(c)) == END)
			break;
		if (rc != OK)
			return rc;
	}
	if (sp->n <= VOTES_SHAPE_VALUES)
		return OK;
	sp->n = first; /* too many: the whole object is one value */
	c->p = open;
	c->s->line = line;
	return fast_value(c, F_OTHER, b, depth);
}

static int fast_member(struct cur *c, struct votes_battle *b, unsigned *seen, struct spans *sp)
{
	struct votes_str key;
	int rc = fast_key(c, &key);
	if (rc != OK)
		return rc;
	enum field f = field_of(key.s, key.n);
	if (f != F_OTHER) {
		if (*seen & (1u << f))
			return BAIL;
		*seen |= 1u << f;
		b->has_question |= f == F_QUESTION;
	}
	return fast_slot(c, b, f, sp, 2); /* the depth the general reader skips members at */
}

static int fast_record(struct cur *c, struct votes_battle *b, struct spans *sp)
{
	unsigned seen = 0;
	const unsigned required = 1u << F_MODEL_A | 1u << F_MODEL_B | 1u << F_WINNER | 1u << F_JUDGE;
	c->p++;
	skip_ws(c);
	for (;;) {
		if (c->p == c->end)
			return MORE;
		int rc = fast_member(c, b, &seen, sp);
		if (rc == OK)
			rc = fast_next(c);
		if (rc == END)
			break;
		if (rc != OK)
			return rc;
	}
	return (seen & required) == required ? OK : BAIL;
}

/* --- the layout of the last record ------------------------------------------
 * A record whose text between values equals the learned layout's, byte for
 * byte, has the same keys in the same order with the same separators, so
 * the fast path would read it the same way; only its values are read (by
 * fast_value, as there).  Anything else BAILs to the fast path. */

/* Remember the layout of the fast-path record [start, end) with values sp. */
static void learn(struct votes_shape *sh, const char *start, const char *end, const struct spans *sp)
{
	size_t used = 0;
	sh->values = 0;
	if (sp->n > VOTES_SHAPE_VALUES)
		return;
	sh->has_question = 0;
	sh->newlines = 0;
	for (int i = 0; i <= sp->n; i++) {
		const char *from = i ? sp->end[i - 1] : start, *to = i < sp->n ? sp->start[i] : end;
		size_t n = (size_t)(to - from);
		if (n > VOTES_SHAPE_TEXT - used)
			return;
		memcpy(sh->text + used, from, n);
		sh->at[i] = (unsigned short)used;
		sh->len[i] = (unsigned short)n;
		used += n;
		for (const char *q = from; q < to; q++)
			sh->newlines += *q == '\n';
		if (i < sp->n) {
			sh->field[i] = sp->field[i];
			sh->depth[i] = sp->depth[i];
			sh->has_question |= sp->field[i] == F_QUESTION;
		}
	}
	sh->values = sp->n;
}

#ifdef __SSE2__
/* The first n <= 32 bytes at p and text are the same (32 readable at each):
 * two 16-byte compares, the bytes past n masked off. */
static inline int same32(const char *p, const char *text, size_t n)
{
	const __m128i *x = (const __m128i *)(const void *)p, *y = (const __m128i *)(const void *)text;
	unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(x), _mm_loadu_si128(y))) |
		      (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(x + 1), _mm_loadu_si128(y + 1)))
			      << 16;
	unsigned want = n >= 32 ? ~0u : (1u << n) - 1;
	return (eq & want) == want;
}
#endif

/* [p, p + n) lies before end and equals text (which has 32 readable bytes
 * past n). */
static inline int same_text(const char *p, const char *end, const char *text, size_t n)
{
	if ((size_t)(end - p) < n)
		return 0;
#ifdef __SSE2__
	for (; n > 32 && end - p >= 32; p += 32, text += 32, n -= 32) /* the long texts of nested objects */
		if (!same32(p, text, 32))
			return 0;
	if (end - p >= 32)
		return same32(p, text, n);
#endif
	return memcmp(p, text, n) == 0;
}

/* The text of the layout before value i (i == values: after the last). */
#define SHAPE_TEXT(sh, i) ((sh)->text + (sh)->at[i])

static int shape_record(struct cur *c, struct votes_battle *b, const struct votes_shape *sh)
{
	b->has_question = sh->has_question;
	for (int i = 0; i < sh->values; i++) {
		if (!same_text(c->p, c->end, SHAPE_TEXT(sh, i), sh->len[i]))
			return BAIL;
		c->p += sh->len[i];
		if (c->p == c->end || fast_value(c, sh->field[i], b, sh->depth[i]) != OK)
			return BAIL;
	}
	if (!same_text(c->p, c->end, SHAPE_TEXT(sh, sh->values), sh->len[sh->values]))
		return BAIL;
	c->p += sh->len[sh->values];
	c->s->line += sh->newlines;
	return OK;
}

/* With AVX2 or AVX-512 a record's first WINDOW bytes are classified (at
 * once with AVX-512, 64 at a time as the reading reaches them with AVX2):
 * one bit per byte that stops a plain string (quote, backslash, control).
 * A string value then ends at the next such bit, found by a bit scan
 * instead of a loop over 16-byte pieces.  The same record is read the same
 * way: a value the bits cannot settle goes through fast_value as before. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCAN_WINDOW 1
#define WINDOW 256
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,bmi")))
#define TARGET_AVX2 __attribute__((target("avx2,bmi")))

/* The window's bits: one per byte, of the words in `ready`. */
struct window {
	const char *base;
	unsigned ready;
	uint64_t stops[WINDOW / 64], others[WINDOW / 64];
};

TARGET_AVX512 static void string_stops_avx512(const char *p, uint64_t stops[WINDOW / 64], uint64_t others[WINDOW / 64])
{
	const __m512i quote = _mm512_set1_epi8('"'), slash = _mm512_set1_epi8('\\');
	const __m512i control = _mm512_set1_epi8(0x1f), zero = _mm512_set1_epi8('0'), ten = _mm512_set1_epi8(10);
	for (int i = 0; i < WINDOW / 64; i++) {
		__m512i x = _mm512_loadu_si512((const void *)(p + 64 * i));
		stops[i] = _mm512_cmpeq_epi8_mask(x, quote) | _mm512_cmpeq_epi8_mask(x, slash) |
			   _mm512_cmple_epu8_mask(x, control);
		others[i] = _mm512_cmpge_epu8_mask(_mm512_sub_epi8(x, zero), ten); /* not a digit */
	}
}

/* The same bits, 32 bytes at a time (x <= 0x1f: max(x, 0x1f) == 0x1f; a
 * digit's x - '0' < 10: not max(x - '0', 10) == x - '0'). */
TARGET_AVX2 static uint32_t stops32(__m256i x, uint32_t *others)
{
	const __m256i quote = _mm256_set1_epi8('"'), slash = _mm256_set1_epi8('\\');
	const __m256i control = _mm256_set1_epi8(0x1f), zero = _mm256_set1_epi8('0'), ten = _mm256_set1_epi8(10);
	__m256i stop = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, quote), _mm256_cmpeq_epi8(x, slash)),
				       _mm256_cmpeq_epi8(_mm256_max_epu8(x, control), control));
	__m256i from_zero = _mm256_sub_epi8(x, zero);
	*others = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(from_zero, ten), from_zero));
	return (uint32_t)_mm256_movemask_epi8(stop);
}

/* Word i of the window: with AVX2 a word costs four times the
 * instructions it does with AVX-512, so a word is classified when a scan
 * first reaches it, and a word no value's end falls in is never (a record
 * with nested members moves its window once or twice). */
TARGET_AVX2 static void classify_avx2(struct window *w, size_t i)
{
	uint32_t lo_others, hi_others;
	uint32_t lo = stops32(_mm256_loadu_si256((const __m256i *)(const void *)(w->base + 64 * i)), &lo_others);
	uint32_t hi = stops32(_mm256_loadu_si256((const __m256i *)(const void *)(w->base + 64 * i + 32)), &hi_others);
	w->stops[i] = (uint64_t)hi << 32 | lo;
	w->others[i] = (uint64_t)hi_others << 32 | lo_others;
	w->ready |= 1u << i;
}

/* The window at p: classified whole with AVX-512, word by word later with AVX2. */
static void window_at(struct window *w, int level, const char *p)
{
	w->base = p;
	w->ready = 0;
	if (level >= KV_SIMD_AVX512) {
		string_stops_avx512(p, w->stops, w->others);
		w->ready = (1u << WINDOW / 64) - 1;
	}
}

/* The first set bit at or after `from` (a stop, or a byte that is not a
 * digit); WINDOW when there is none. */
static inline size_t next_stop(struct window *win, const uint64_t stops[WINDOW / 64], size_t from)
{
	for (size_t w = from / 64; w < WINDOW / 64; w++) {
		if (!(win->ready >> w & 1))
			classify_avx2(win, w);
		uint64_t bits = stops[w] & (w == from / 64 ? ~0ULL << (from % 64) : ~0ULL);
		if (bits)
			return 64 * w + (size_t)__builtin_ctzll(bits);
	}
	return WINDOW;
}

/* A number at base + at read as number() reads it, by the bits of the
 * bytes that are not digits: -?(0|[1-9][0-9]*)(.[0-9]+)?; its end, or 0
 * for anything else (an exponent, a number reaching the window's end),
 * which fast_value reads. */
static inline size_t plain_number(struct window *win, size_t at)
{
	const char *base = win->base;
	size_t p = at + (base[at] == '-'), end = p < WINDOW ? next_stop(win, win->others, p) : WINDOW;
	if (end == p || end >= WINDOW - 1 || (base[p] == '0' && end > p + 1))
		return 0;
	if (base[end] == '.') {
		size_t frac = next_stop(win, win->others, end + 1);
		if (frac == end + 1 || frac >= WINDOW - 1)
			return 0;
		end = frac;
	}
	return base[end] == 'e' || base[end] == 'E' ? 0 : end;
}

/* true, false or null at p (8 bytes readable): its length, *which 1, 0
 * or -1; 0 for anything else.  One compare, not one a word: which of the
 * three comes next is as random as the data. */
static inline size_t plain_literal(const char *p, int *which)
{
	static const uint64_t words[3] = {0x6c6c756eULL, 0x65736c6166ULL, 0x65757274ULL}; /* "null" "false" "true" */
	uint64_t w;
	memcpy(&w, p, 8);
	int k = 2 * (p[0] == 't') + (p[0] == 'f');
	uint64_t mask = k == 1 ? 0xffffffffffULL : 0xffffffffULL;
	if (((w ^ words[k]) & mask) != 0)
		return 0;
	*which = k - 1;
	return k == 1 ? 5 : 4;
}

/* shape_record with the stops of the record's window (c->end - c->p >=
 * WINDOW).  With less than 64 bytes of it left, the window moves to the
 * next value where the bytes allow, so that a long record (Arena's nested
 * tags) is read by the bits to its end; a JSONL record of Arena's basic
 * fields never needs it. */
static int shape_record_wide(struct cur *c, struct votes_battle *b, const struct votes_shape *sh)
{
	const char *base = c->p;
	struct window win;
	window_at(&win, c->s->wide, base);
	b->has_question = sh->has_question;
	for (int i = 0; i < sh->values; i++) {
		if (!same_text(c->p, c->end, SHAPE_TEXT(sh, i), sh->len[i]))
			return BAIL;
		c->p += sh->len[i];
		if (c->p == c->end)
			return BAIL;
		if (c->p - base > WINDOW - 64 && c->end - c->p >= WINDOW) {
			base = c->p;
			window_at(&win, c->s->wide, base);
		}
		size_t at = (size_t)(c->p - base), stop = at + 1 < WINDOW ? next_stop(&win, win.stops, at + 1) : WINDOW, end;
		enum field f = (enum field)sh->field[i];
		int which;
		if (*c->p == '"' && stop < WINDOW) { /* as fast_value reads a string */
			if (base[stop] != '"' || f == F_TSTAMP || f == F_ANONY)
				return BAIL;
			if (f <= F_QUESTION) {
				struct votes_str *slot = slot_of(b, f);
				slot->s = c->p + 1;
				slot->n = stop - at - 1;
			}
			c->p = base + stop + 1;
		} else if ((*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) && at < WINDOW - 1 &&
			   (end = plain_number(&win, at)) != 0) { /* as fast_value reads a number */
			if (f != F_TSTAMP && f != F_JUDGE && f != F_QUESTION && f != F_OTHER)
				return BAIL;
			if (f == F_JUDGE || f == F_QUESTION)
				*slot_of(b, f) = (struct votes_str){c->p, end - at};
			c->p = base + end;
		} else if (at + 8 <= WINDOW && (end = plain_literal(c->p, &which)) != 0) { /* as fast_value reads one */
			if (literal_field(f, which, b) != OK)
				return BAIL;
			c->p += end;
		} else if (fast_value(c, f, b, sh->depth[i]) != OK) {
			return BAIL;
		}
	}
	if (!same_text(c->p, c->end, SHAPE_TEXT(sh, sh->values), sh->len[sh->values]))
		return BAIL;
	c->p += sh->len[sh->values];
	c->s->line += sh->newlines;
	return OK;
}
#endif

/* --- the general reader ---------------------------------------------------- */

/* What a record holds before its fields are read.  No memset: a string
 * instruction's start-up cost is felt at 10^7 records; the required fields
 * are set or the record is refused. */
static void fresh(struct votes_battle *b, long line)
{
	b->question.s = NULL;
	b->question.n = 0;
	b->has_question = 0;
	b->anony = -1;
	b->line = line;
}

/* The record at c->p by learned layout sh; c->p and the line put back when
 * it does not fit. */
static int by_layout(struct cur *c, struct votes_battle *b, const struct votes_shape *sh)
{
	const char *start = c->p;
	long line = c->s->line;
#ifdef SCAN_WINDOW
	int wide = c->s->wide && c->end - c->p >= WINDOW;
	int rc = wide ? shape_record_wide(c, b, sh) : shape_record(c, b, sh);
#else
	int rc = shape_record(c, b, sh);
#endif
	if (rc != OK) {
		c->p = start;
		c->s->line = line;
		fresh(b, line);
	}
	return rc;
}

/* Records read by the fast path for want of a layout, out of the last
 * MISS_WINDOW: past MOST_MISSES, the layouts change too often to pay for
 * learning them, and the next RESTING records go to the general reader. */
#define MISS_WINDOW 64
#define MOST_MISSES 32
#define RESTING 1024

static void count_miss(struct votes_scan *s, int missed)
{
	s->misses += missed;
	if (++s->tried < MISS_WINDOW)
		return;
	s->resting = s->misses > MOST_MISSES ? RESTING : 0;
	s->tried = s->misses = 0;
}

/* The record object at c->p: by one of the two learned layouts (the one
 * that read the last record first), the fast path, or the general reader,
 * the first that can read it.  Two layouts, so that files whose records
 * alternate between two (a field present in every other one) are read by
 * layout too. */
static int record(struct cur *c, struct votes_battle *b)
{
	struct votes_scan *s = c->s;
	const char *start = c->p;
	long line = s->line;
	fresh(b, line);
	if (*c->p != '{' || s->general_only)
		return general_record(c, b);
	if (s->resting > 0) {
		s->resting--;
		return general_record(c, b);
	}
	for (int k = 0; k < 2; k++) {
		int which = k ? !s->recent : s->recent;
		if (s->shape[which].values && by_layout(c, b, &s->shape[which]) == OK) {
			s->recent = which;
			count_miss(s, 0);
			return OK;
		}
	}
	struct spans sp = {0};
	int rc = fast_record(c, b, &sp);
	if (rc == OK) {
		s->recent = !s->recent; /* in place of the layout used less recently */
		learn(&s->shape[s->recent], start, c->p, &sp);
	}
	if (rc == OK || rc == BAIL)
		count_miss(s, 1);
	if (rc != BAIL && !(rc == MORE && c->eof)) /* at the end, the general reader says what is wrong */
		return rc;
	c->p = start;
	s->line = line;
	return general_record(c, b);
}

static int general_record(struct cur *c, struct votes_battle *b)
{
	unsigned seen = 0;
	memset(b, 0, sizeof *b);
	b->anony = -1;
	b->line = c->s->line;
	if (*c->p != '{')
		return bad(c, F_OTHER, "malformed JSON: expected a battle object ('{')");
	c->p++;
	skip_ws(c);
	if (c->p == c->end)
		return MORE;
	if (*c->p == '}') {
		c->p++;
		return check_required(c, seen);
	}
	for (;;) {
		int rc = member(c, b, &seen);
		if (rc)
			return rc;
		skip_ws(c);
		if (c->p == c->end)
			return MORE;
		if (*c->p == '}')
			break;
		if (*c->p != ',')
			return bad(c, F_OTHER, "malformed JSON: expected ',' or '}' in the record");
		c->p++;
		skip_ws(c);
		if (c->p == c->end)
			return MORE;
	}
	c->p++;
	return check_required(c, seen);
}

/* What may come before the next record: separators, or the end. */
static int before_record(struct cur *c, enum votes_phase *ph)
{
	for (;;) {
		skip_ws(c);
		if (c->p == c->end)
			return c->eof ? END : MORE;
		char ch = *c->p;
		switch (*ph) {
		case PH_START:
			if (ch == '[') {
				c->p++;
				*ph = PH_ARRAY_FIRST;
				continue;
			}
			if (ch != '{')
				return bad(c, F_OTHER, "malformed JSON: expected '[' or '{' at the start (a battle file "
					   "is read as a CSV table when its name ends in .csv)");
			*ph = PH_JSONL;
			return OK;
		case PH_ARRAY_FIRST:
			if (ch == ']') {
				c->p++;
				*ph = PH_ARRAY_DONE;
				continue;
			}
			return OK;
		case PH_ARRAY_NEXT:
			if (ch == ']') {
				c->p++;
				*ph = PH_ARRAY_DONE;
				continue;
			}
			if (ch != ',')
				return bad(c, F_OTHER, "malformed JSON: expected ',' or ']' after a record");
			c->p++;
			*ph = PH_ARRAY_FIRST;
			skip_ws(c);
			if (c->p == c->end)
				return c->eof ? bad(c, F_OTHER, "malformed JSON: the array is not closed") : MORE;
			if (*c->p == ']')
				return bad(c, F_OTHER, "malformed JSON: ',' before ']'");
			return OK;
		case PH_ARRAY_DONE:
			return bad(c, F_OTHER, "malformed JSON: text after the closing ']'");
		case PH_JSONL:
			if (c->s->line == c->s->last_end_line)
				return bad(c, F_OTHER, "malformed line: text after the record (JSONL: one object per line)");
			return OK;
		}
	}
}

int votes_bom(const char *p, const char *end, int eof)
{
	static const char bom[] = "\xef\xbb\xbf";
	size_t have = (size_t)(end - p);
	if (have < 3 && !eof && memcmp(p, bom, have) == 0)
		return -1;
	return have >= 3 && memcmp(p, bom, 3) == 0 ? 3 : 0;
}

static int skip_bom(struct cur *c)
{
	int n = votes_bom(c->p, c->end, c->eof);
	c->p += n > 0 ? n : 0;
	return n < 0 ? MORE : OK;
}

int votes_scan_next(struct votes_scan *s, const char **p, const char *end, int eof,
		    struct votes_battle *b)
{
	if (s->csv)
		return votes_scan_csv_next(s, p, end, eof, b);
	struct cur c = {*p, end, eof, s};
	long line = s->line;
	enum votes_phase ph = s->phase;
	int rc = ph == PH_START && s->records == 0 ? skip_bom(&c) : OK;
	s->err_record = 0;
	if (rc == OK)
		rc = before_record(&c, &ph);
	if (rc == OK) {
		s->err_record = s->records + 1;
		rc = record(&c, b);
	}
	if (rc == END) {
		if (ph == PH_ARRAY_FIRST || ph == PH_ARRAY_NEXT)
			return bad(&c, F_OTHER, "malformed JSON: the array is not closed"), VOTES_SCAN_ERROR;
		s->phase = ph;
		return VOTES_SCAN_END;
	}
	if (rc == MORE && eof)
		rc = bad(&c, F_OTHER, "malformed JSON: the file ends inside a record");
	if (rc == MORE) {
		s->line = line; /* the step is read again from its start */
		return VOTES_SCAN_MORE;
	}
	b->record = ++s->records;
	if (rc == BAD)
		return VOTES_SCAN_ERROR;
	s->phase = ph == PH_ARRAY_FIRST ? PH_ARRAY_NEXT : ph;
	s->last_end_line = s->line;
	*p = c.p;
	return VOTES_SCAN_RECORD;
}

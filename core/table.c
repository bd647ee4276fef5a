#include "table.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct kv_table {
	char *path;
	char *text;
	size_t len, pos;
	long line;            /* line of the next unread byte */
	long record_line;     /* line where the current record starts */
	int jsonl;
	char **columns;       /* header names */
	int ncolumns;
	char **fields;        /* current record, one per column */
	int nfields;
	struct kv_buf scratch;
	cJSON *object;        /* JSONL: the current record */
};

static void clear_fields(struct kv_table *t)
{
	for (int i = 0; i < t->nfields; i++)
		free(t->fields[i]);
	free(t->fields);
	t->fields = NULL;
	t->nfields = 0;
}

static void push_field(struct kv_table *t, const char *s, size_t n)
{
	t->fields = kv_xrealloc(t->fields, (size_t)(t->nfields + 1) * sizeof *t->fields);
	char *f = kv_xmalloc(n + 1);
	memcpy(f, s, n);
	f[n] = '\0';
	t->fields[t->nfields++] = f;
}

/* A NUL byte would end the field early for every reader of it. */
static int nul_in_field(const struct kv_table *t, struct kv_error *err)
{
	return kv_fail(err, KV_EXIT_INPUT, "%s:%ld: field %d: a NUL byte (0x00) in the text",
		       t->path, t->line, t->nfields + 1);
}

/* Parse one CSV record at t->pos into t->fields.  1 record, 0 end, -1 error. */
static int csv_record(struct kv_table *t, struct kv_error *err)
{
	clear_fields(t);
	/* Blank lines between records carry nothing. */
	while (t->pos < t->len && (t->text[t->pos] == '\n' || t->text[t->pos] == '\r')) {
		if (t->text[t->pos] == '\n')
			t->line++;
		t->pos++;
	}
	if (t->pos >= t->len)
		return 0;
	t->record_line = t->line;
	for (;;) {
		t->scratch.len = 0;
		kv_buf_add(&t->scratch, "", 0);
		const char *p = t->text;
		if (p[t->pos] == '"') {
			long start_line = t->line;
			t->pos++;
			for (;;) {
				if (t->pos >= t->len)
					return kv_fail(err, KV_EXIT_INPUT,
						       "%s:%ld: unterminated quoted field", t->path, start_line), -1;
				char c = p[t->pos++];
				if (c == '\0')
					return nul_in_field(t, err), -1;
				if (c == '"') {
					if (t->pos < t->len && p[t->pos] == '"') {
						kv_buf_add(&t->scratch, "\"", 1);
						t->pos++;
						continue;
					}
					break;
				}
				if (c == '\n')
					t->line++;
				kv_buf_add(&t->scratch, &c, 1);
			}
			if (t->pos < t->len && p[t->pos] != ',' && p[t->pos] != '\n' && p[t->pos] != '\r')
				return kv_fail(err, KV_EXIT_INPUT,
					       "%s:%ld: text after a closing quote in field %d", t->path,
					       t->line, t->nfields + 1), -1;
		} else {
			size_t start = t->pos;
			while (t->pos < t->len && p[t->pos] != ',' && p[t->pos] != '\n' && p[t->pos] != '\r') {
				if (p[t->pos] == '"')
					return kv_fail(err, KV_EXIT_INPUT,
						       "%s:%ld: stray quote in unquoted field %d", t->path,
						       t->line, t->nfields + 1), -1;
				if (p[t->pos] == '\0')
					return nul_in_field(t, err), -1;
				t->pos++;
			}
			kv_buf_add(&t->scratch, p + start, t->pos - start);
		}
		long bad = kv_utf8_invalid(t->scratch.data, t->scratch.len);
		if (bad >= 0)
			return kv_fail(err, KV_EXIT_INPUT, "%s:%ld: field %d: not valid UTF-8 (byte 0x%02x)",
				       t->path, t->line, t->nfields + 1,
				       (unsigned char)t->scratch.data[bad]), -1;
		push_field(t, t->scratch.data, t->scratch.len);
		if (t->pos < t->len && p[t->pos] == ',') {
			t->pos++;
			continue;
		}
		if (t->pos < t->len && p[t->pos] == '\r')
			t->pos++;
		if (t->pos < t->len && p[t->pos] == '\n') {
			t->pos++;
			t->line++;
		}
		return 1;
	}
}

static int read_header(struct kv_table *t, struct kv_error *err)
{
	int rc = csv_record(t, err);
	if (rc <= 0)
		return rc == 0 ? kv_fail(err, KV_EXIT_INPUT, "%s: empty file (no header row)", t->path) : -1;
	t->columns = t->fields;
	t->ncolumns = t->nfields;
	t->fields = NULL;
	t->nfields = 0;
	for (int i = 1; i < t->ncolumns; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(t->columns[i], t->columns[j]) == 0)
				return kv_fail(err, KV_EXIT_INPUT,
					       "%s:%ld: column '%s' named twice (fields %d and %d)",
					       t->path, t->record_line, t->columns[i], j + 1, i + 1);
	return 0;
}

static int find_column(struct kv_table *t, const char *name)
{
	for (int i = 0; i < t->ncolumns; i++)
		if (strcmp(t->columns[i], name) == 0)
			return i;
	return -1;
}

int kv_table_column(struct kv_table *t, const char *name)
{
	return find_column(t, name);
}

/* Blank, for JSONL: spaces, tabs and CRs only. */
static int only_spaces(const char *p, const char *end)
{
	for (; p && p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

/* A "\u0000" escape (after an odd run of backslashes): cJSON would cut the
 * string there.  Returns its offset in the line, or -1. */
static long nul_escape(const char *line, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		if (memcmp(line + i, "\\u0000", 6) != 0)
			continue;
		size_t run = 0;
		while (run < i && line[i - 1 - run] == '\\')
			run++;
		if (run % 2 == 0)
			return (long)i;
	}
	return -1;
}

/* Every key once: a second "team" would be read as the first one. */
static const char *duplicate_key(const cJSON *object)
{
	for (const cJSON *a = object->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return a->string;
	return NULL;
}

/* Parse the JSONL line [start, end) as one object; NULL with err set. */
static cJSON *jsonl_parse(const struct kv_table *t, size_t start, size_t end, long line,
			  struct kv_error *err)
{
	const char *text = t->text + start, *stop = NULL;
	size_t len = end - start;
	long bad = kv_utf8_invalid(text, len);
	if (bad >= 0) {
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: column %ld: not valid UTF-8 (byte 0x%02x)", t->path, line,
			bad + 1, (unsigned char)text[bad]);
		return NULL;
	}
	const char *nul = memchr(text, '\0', len);
	long esc = nul ? -1 : nul_escape(text, len);
	if (nul || esc >= 0) {
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: column %ld: a NUL character (%s)", t->path, line,
			(nul ? (long)(nul - text) : esc) + 1, nul ? "a 0x00 byte" : "\\u0000");
		return NULL;
	}
	cJSON *o = cJSON_ParseWithLengthOpts(text, len, &stop, 0);
	const char *dup = cJSON_IsObject(o) ? duplicate_key(o) : NULL;
	if (!o)
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: column %ld: not valid JSON (or nested too deeply)",
			t->path, line, (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0) + 1);
	else if (!cJSON_IsObject(o))
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: not a JSON object", t->path, line);
	else if (!only_spaces(stop, t->text + end))
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: text after the JSON object", t->path, line);
	else if (dup)
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld: key '%s' given twice", t->path, line, dup);
	else
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* JSONL has no header: the first record's keys are the columns, so a broken
 * first record is reported here, with its line and what is wrong. */
static int jsonl_columns(struct kv_table *t, struct kv_error *err)
{
	long line = t->line;
	for (size_t pos = t->pos; pos < t->len; line++) {
		char *nl = memchr(t->text + pos, '\n', t->len - pos);
		size_t end = nl ? (size_t)(nl - t->text) : t->len;
		if (only_spaces(t->text + pos, t->text + end)) {
			pos = nl ? end + 1 : end;
			continue;
		}
		cJSON *first = jsonl_parse(t, pos, end, line, err);
		if (!first)
			return -1;
		for (const cJSON *m = first->child; m; m = m->next) {
			t->columns = kv_xrealloc(t->columns, (size_t)(t->ncolumns + 1) * sizeof *t->columns);
			t->columns[t->ncolumns++] = kv_xstrdup(m->string);
		}
		cJSON_Delete(first);
		return 0;
	}
	return 0;
}

struct kv_table *kv_table_new(const char *path, char *text, size_t len, struct kv_error *err)
{
	struct kv_table *t = kv_xcalloc(1, sizeof *t);
	t->path = kv_xstrdup(path);
	t->text = text;
	t->len = len;
	t->line = 1;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		t->pos = 3;
	t->jsonl = kv_str_ends_with(path, ".jsonl");
	if (t->jsonl ? jsonl_columns(t, err) != 0 : read_header(t, err) != 0) {
		kv_table_free(t);
		return NULL;
	}
	return t;
}

static int jsonl_record(struct kv_table *t, struct kv_error *err)
{
	clear_fields(t);
	cJSON_Delete(t->object);
	t->object = NULL;
	for (;;) {
		if (t->pos >= t->len)
			return 0;
		char *nl = memchr(t->text + t->pos, '\n', t->len - t->pos);
		size_t end = nl ? (size_t)(nl - t->text) : t->len;
		size_t start = t->pos;
		t->record_line = t->line;
		t->pos = nl ? end + 1 : end;
		t->line++;
		if (only_spaces(t->text + start, t->text + end))
			continue;
		t->object = jsonl_parse(t, start, end, t->record_line, err);
		return t->object ? 1 : -1;
	}
}

int kv_table_next(struct kv_table *t, struct kv_error *err)
{
	if (t->jsonl)
		return jsonl_record(t, err);
	int rc = csv_record(t, err);
	if (rc == 1 && t->nfields > t->ncolumns)
		return kv_fail(err, KV_EXIT_INPUT, "%s:%ld: %d fields but the header has %d",
			       t->path, t->record_line, t->nfields, t->ncolumns), -1;
	return rc;
}

/* JSONL fields are formatted on first use and kept for the record, so that
 * pointers returned for several columns stay valid together. */
static const char *jsonl_field(struct kv_table *t, int column)
{
	if (column >= t->nfields) {
		t->fields = kv_xrealloc(t->fields, (size_t)t->ncolumns * sizeof *t->fields);
		for (int i = t->nfields; i < t->ncolumns; i++)
			t->fields[i] = NULL;
		t->nfields = t->ncolumns;
	}
	if (t->fields[column])
		return t->fields[column];
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->object, t->columns[column]);
	char num[32] = "";
	const char *text = num;
	if (cJSON_IsString(v))
		text = v->valuestring;
	else if (cJSON_IsNumber(v))
		kv_format_double(v->valuedouble, num);
	else if (cJSON_IsBool(v))
		text = cJSON_IsTrue(v) ? "1" : "0";
	t->fields[column] = kv_xstrdup(text);
	return t->fields[column];
}

const char *kv_table_field(struct kv_table *t, int column)
{
	if (column < 0 || column >= t->ncolumns)
		return "";
	if (t->jsonl)
		return t->object ? jsonl_field(t, column) : "";
	return column < t->nfields ? t->fields[column] : "";
}

long kv_table_line(struct kv_table *t) { return t->record_line; }
const char *kv_table_path(struct kv_table *t) { return t->path; }

const char *kv_table_column_name(struct kv_table *t, int column)
{
	return column >= 0 && column < t->ncolumns ? t->columns[column] : "";
}

void kv_table_free(struct kv_table *t)
{
	if (!t)
		return;
	clear_fields(t);
	for (int i = 0; i < t->ncolumns; i++)
		free(t->columns[i]);
	free(t->columns);
	cJSON_Delete(t->object);
	kv_buf_free(&t->scratch);
	free(t->text);
	free(t->path);
	free(t);
}

static const char *skip_digits(const char *p, size_t *n)
{
	*n = 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		(*n)++;
	}
	return p;
}

/* The grammar is checked by hand because strtod alone also takes leading
 * blanks, hex, "inf" and "nan"; strtod then gives the correctly rounded value. */
int kv_number_parse(const char *s, double *out)
{
	size_t whole, frac, exp = 1;
	const char *p = s + (*s == '+' || *s == '-');
	p = skip_digits(p, &whole);
	if (*p == '.')
		p = skip_digits(p + 1, &frac);
	else
		frac = 0;
	if (whole + frac == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		p = skip_digits(p, &exp);
	}
	if (*p || exp == 0)
		return 0;
	double x = strtod(s, NULL);
	if (!isfinite(x))
		return 0;
	*out = x;
	return 1;
}

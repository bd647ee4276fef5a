/* Extraction of the marked example commands of a document (doc_examples.h). */
#include "doc_examples.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* How far after its marker a command may be. */
#define DOC_REACH 12

static const char *const roff_escapes[][2] = {
	{"\\-", "-"}, {"\\e", "\\"}, {"\\(aq", "'"}, {"\\(dq", "\""}, {"\\&", ""},
	{"\\fB", ""}, {"\\fI", ""}, {"\\fR", ""}, {"\\fP", ""},
};

char *doc_unroff(const char *line)
{
	size_t count = sizeof roff_escapes / sizeof *roff_escapes;
	char *out = kv_xmalloc(strlen(line) + 1), *o = out;
	while (*line) {
		size_t k = 0, len = 0;
		for (; k < count; k++) {
			len = strlen(roff_escapes[k][0]);
			if (strncmp(line, roff_escapes[k][0], len) == 0)
				break;
		}
		if (k == count) {
			*o++ = *line++;
			continue;
		}
		size_t r = strlen(roff_escapes[k][1]); /* never longer than the escape */
		memcpy(o, roff_escapes[k][1], r);
		o += r;
		line += len;
	}
	*o = '\0';
	return out;
}

struct doc_lines {
	char **v;
	size_t n;
};

static void split_lines(const char *text, struct doc_lines *l)
{
	l->n = 0;
	l->v = NULL;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		l->v = kv_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
		l->v[l->n++] = kv_xasprintf("%.*s", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

static void free_lines(struct doc_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static const char *skip_blanks(const char *s)
{
	return s + strspn(s, " \t");
}

static void trim_right(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
}

/* The text after "example:" when line is a marker, else NULL. */
static const char *marker_body(const char *line, int is_roff)
{
	const char *prefix = is_roff ? ".\\\" example:" : "<!-- example:";
	size_t n = strlen(prefix);
	line = skip_blanks(line);
	return strncmp(line, prefix, n) == 0 ? line + n : NULL;
}

/* "exit N" and an optional ": COMMAND"; -1 when malformed. */
static int parse_marker(const char *body, int is_roff, int *status, char **command)
{
	char *copy = kv_xstrdup(skip_blanks(body)), *end;
	*command = NULL;
	trim_right(copy);
	size_t n = strlen(copy);
	if (!is_roff && n >= 3 && strcmp(copy + n - 3, "-->") == 0)
		copy[n - 3] = '\0';
	trim_right(copy);
	if (strncmp(copy, "not run:", 8) == 0 && *skip_blanks(copy + 8)) {
		*status = DOC_NOT_RUN;
		free(copy);
		return 0;
	}
	int ok = strncmp(copy, "exit ", 5) == 0;
	long v = ok ? strtol(copy + 5, &end, 10) : -1;
	ok = ok && end != copy + 5 && v >= 0 && v <= 255;
	if (ok && *end == ':' && *skip_blanks(end + 1))
		*command = kv_xstrdup(skip_blanks(end + 1));
	else
		ok = ok && *end == '\0';
	*status = (int)v;
	free(copy);
	return ok ? 0 : -1;
}

/* kaieval or ./kaieval, after any NAME=VALUE settings of the environment. */
static int is_command(const char *s)
{
	for (size_t name; (name = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")) > 0 && s[name] == '=';)
		s = skip_blanks(s + name + strcspn(s + name, " \t"));
	return strncmp(s, "kaieval ", 8) == 0 || strncmp(s, "./kaieval ", 10) == 0;
}

/* Where a command starts in s: at its beginning (after a "$ " prompt), or
 * just after a backtick or double quote; *close gets the character that
 * ends it ('\0': the end of the line). */
static const char *command_start(const char *s, char *close)
{
	s = skip_blanks(s);
	if (strncmp(s, "$ ", 2) == 0)
		s += 2;
	*close = '\0';
	if (is_command(s))
		return s;
	for (const char *p = s; *p; p++)
		if ((*p == '`' || *p == '"') && is_command(p + 1)) {
			*close = *p;
			return p + 1;
		}
	return NULL;
}

/* Line i as the reader sees it; a roff request keeps its arguments only. */
static char *visible(const struct doc_lines *l, size_t i, int is_roff)
{
	if (!is_roff)
		return kv_xstrdup(l->v[i]);
	const char *s = l->v[i];
	if (*s == '.')
		s += strcspn(s, " \t");
	return doc_unroff(s);
}

/* The command starting in line *i, continuation lines joined (*i advances
 * past them); NULL when the line holds none. */
static char *command_at(const struct doc_lines *l, size_t *i, int is_roff)
{
	char *text = visible(l, *i, is_roff), close;
	const char *start = command_start(text, &close);
	char *cmd = NULL;
	if (start && close) {
		const char *end = strchr(start, close);
		cmd = end ? kv_xasprintf("%.*s", (int)(end - start), start) : NULL;
	} else if (start) {
		cmd = kv_xstrdup(start);
		trim_right(cmd);
		for (size_t n; (n = strlen(cmd)) > 0 && cmd[n - 1] == '\\' && *i + 1 < l->n;) {
			cmd[n - 1] = '\0';
			trim_right(cmd);
			char *next = visible(l, ++*i, is_roff), *joined = kv_xasprintf("%s %s", cmd, skip_blanks(next));
			free(next);
			free(cmd);
			cmd = joined;
			trim_right(cmd);
		}
	}
	free(text);
	return cmd;
}

static void add(struct doc_example **v, size_t *n, int line, int status, char *command)
{
	*v = kv_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].line = line;
	(*v)[*n].status = status;
	(*v)[(*n)++].command = command;
}

/* The command that follows the marker at line m; NULL when none is near. */
static char *command_after(const struct doc_lines *l, size_t m, int is_roff, size_t *at)
{
	for (size_t i = m + 1; i < l->n && i <= m + DOC_REACH; i++) {
		if (marker_body(l->v[i], is_roff))
			return NULL;
		*at = i;
		char *cmd = command_at(l, &i, is_roff);
		if (cmd)
			return cmd;
	}
	return NULL;
}

long doc_examples(const char *text, int is_roff, struct doc_example **out, char **why)
{
	struct doc_lines l;
	size_t n = 0;
	*out = NULL;
	*why = NULL;
	split_lines(text, &l);
	for (size_t i = 0; i < l.n && !*why; i++) {
		const char *body = marker_body(l.v[i], is_roff);
		int status;
		char *cmd;
		size_t at = i;
		if (!body)
			continue;
		if (parse_marker(body, is_roff, &status, &cmd) != 0)
			*why = kv_xasprintf("line %zu: a marker reads 'example: exit N[: COMMAND]' "
					    "or 'example: not run: REASON'", i + 1);
		else if (!cmd && !(cmd = command_after(&l, i, is_roff, &at)))
			*why = kv_xasprintf("line %zu: no kaieval command within %d lines of the marker",
					    i + 1, DOC_REACH);
		else
			add(out, &n, (int)at + 1, status, cmd);
	}
	free_lines(&l);
	if (*why) {
		doc_examples_free(*out, n);
		*out = NULL;
		return -1;
	}
	return (long)n;
}

void doc_examples_free(struct doc_example *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].command);
	free(v);
}

void doc_words_free(char **words)
{
	for (size_t i = 0; words && words[i]; i++)
		free(words[i]);
	free(words);
}

static char **split_fail(char **words, char **redirect, char **why, char *msg)
{
	doc_words_free(words);
	free(*redirect);
	*redirect = NULL;
	*why = msg;
	return NULL;
}

char **doc_split(const char *command, char **redirect, char **why)
{
	static const char shell[] = "|&;<>()$`'\"*?[]{}~\\#";
	char **words = kv_xcalloc(strlen(command) / 2 + 2, sizeof *words);
	size_t n = 0;
	*redirect = NULL;
	*why = NULL;
	for (const char *p = skip_blanks(command); *p; p = skip_blanks(p)) {
		if (*redirect)
			return split_fail(words, redirect, why, kv_xasprintf("'%s': >FILE must come last", command));
		int to_file = *p == '>';
		p = to_file ? skip_blanks(p + 1) : p;
		size_t len = strcspn(p, " \t");
		char *w = kv_xasprintf("%.*s", (int)len, p);
		p += len;
		if (!*w || strpbrk(w, shell)) {
			free(w);
			return split_fail(words, redirect, why,
					  kv_xasprintf("'%s': shell syntax beyond plain words and >FILE", command));
		}
		if (to_file)
			*redirect = w;
		else
			words[n++] = w;
	}
	return words;
}

/* Whether line (1-based) holds one of the n examples. */
static int claimed(const struct doc_example *v, size_t n, size_t line)
{
	for (size_t i = 0; i < n; i++)
		if ((size_t)v[i].line == line)
			return 1;
	return 0;
}

/* The state of a man page line: in an EXAMPLE(S) section, in a display. */
static void track(const char *line, int *in_examples, int *in_display)
{
	if (strncmp(line, ".SH", 3) == 0)
		*in_examples = strstr(line, "EXAMPLE") != NULL;
	else if (strncmp(line, ".EX", 3) == 0 || strncmp(line, ".nf", 3) == 0)
		*in_display = 1;
	else if (strncmp(line, ".EE", 3) == 0 || strncmp(line, ".fi", 3) == 0)
		*in_display = 0;
}

long doc_unmarked(const char *page, const struct doc_example *v, size_t n)
{
	struct doc_lines l;
	int in_examples = 0, in_display = 0;
	long found = 0;
	split_lines(page, &l);
	for (size_t i = 0; i < l.n && !found; i++) {
		track(l.v[i], &in_examples, &in_display);
		if (!in_examples || !in_display || l.v[i][0] == '.')
			continue;
		char *text = doc_unroff(l.v[i]), close;
		const char *start = command_start(text, &close);
		if (start && !close && !claimed(v, n, i + 1))
			found = (long)i + 1;
		free(text);
	}
	free_lines(&l);
	return found;
}

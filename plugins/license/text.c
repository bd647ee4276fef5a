/* text: see text.h. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct text *t, size_t more)
{
	if (t->len + more + 1 <= t->cap)
		return 1;
	size_t cap = t->cap ? t->cap : 64;
	while (cap < t->len + more + 1)
		cap *= 2;
	char *s = realloc(t->s, cap);
	if (!s) {
		t->failed = 1;
		return 0;
	}
	t->s = s;
	t->cap = cap;
	return 1;
}

void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(t, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

char *text_take(struct text *t)
{
	char *s = t->s ? t->s : strdup("");
	memset(t, 0, sizeof *t);
	return s;
}

void text_free(struct text *t)
{
	free(t->s);
	memset(t, 0, sizeof *t);
}

/* text: a growing string for evidence sentences. */
#ifndef KV_LICENSE_TEXT_H
#define KV_LICENSE_TEXT_H

#include <stddef.h>

struct text {
	char *s;        /* NUL-terminated once anything was added; NULL before */
	size_t len, cap;
	int failed;     /* an allocation failed: the text is incomplete */
};

void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string ("" when empty); ownership passes to the caller (free it). */
char *text_take(struct text *t);
void text_free(struct text *t);

#endif

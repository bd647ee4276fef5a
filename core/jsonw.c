#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void kv_json_quote(struct kv_buf *b, const char *s)
{
	kv_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': kv_buf_puts(b, "\\\""); break;
		case '\\': kv_buf_puts(b, "\\\\"); break;
		case '\n': kv_buf_puts(b, "\\n"); break;
		case '\r': kv_buf_puts(b, "\\r"); break;
		case '\t': kv_buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20) {
				kv_buf_printf(b, "\\u%04x", *p);
			} else if (*p < 0x80) {
				kv_buf_add(b, (const char *)p, 1);
			} else {
				/* Inputs are checked where they are read; a byte that is
				 * still not UTF-8 here becomes U+FFFD, so the record is
				 * always JSON. */
				size_t len = kv_utf8_seq(p, strnlen((const char *)p, 4));
				kv_buf_add(b, len ? (const char *)p : "\xef\xbf\xbd", len ? len : 3);
				p += len ? len - 1 : 0;
			}
		}
	}
	kv_buf_puts(b, "\"");
}

/* Start a value: a comma and a new line unless it follows its key. */
static void value_start(struct kv_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		kv_buf_puts(&w->out, w->first ? "\n" : ",\n");
		for (int i = 0; i < w->depth; i++)
			kv_buf_puts(&w->out, "  ");
	}
	w->first = 0;
}

static void open_container(struct kv_jw *w, const char *c)
{
	value_start(w);
	kv_buf_puts(&w->out, c);
	w->depth++;
	w->first = 1;
}

static void close_container(struct kv_jw *w, const char *c)
{
	w->depth--;
	if (!w->first) {
		kv_buf_puts(&w->out, "\n");
		for (int i = 0; i < w->depth; i++)
			kv_buf_puts(&w->out, "  ");
	}
	kv_buf_puts(&w->out, c);
	w->first = 0;
	if (w->depth == 0)
		kv_buf_puts(&w->out, "\n");
}

void kv_jw_begin_object(struct kv_jw *w) { open_container(w, "{"); }
void kv_jw_end_object(struct kv_jw *w) { close_container(w, "}"); }
void kv_jw_begin_array(struct kv_jw *w) { open_container(w, "["); }
void kv_jw_end_array(struct kv_jw *w) { close_container(w, "]"); }

void kv_jw_key(struct kv_jw *w, const char *key)
{
	value_start(w);
	kv_json_quote(&w->out, key);
	kv_buf_puts(&w->out, ": ");
	w->after_key = 1;
}

void kv_jw_string(struct kv_jw *w, const char *s)
{
	value_start(w);
	if (s)
		kv_json_quote(&w->out, s);
	else
		kv_buf_puts(&w->out, "null");
}

void kv_jw_number(struct kv_jw *w, double x)
{
	value_start(w);
	char num[32];
	if (!isfinite(x)) {
		kv_buf_puts(&w->out, "null");
		return;
	}
	kv_format_double(x, num);
	kv_buf_puts(&w->out, num);
}

void kv_jw_integer(struct kv_jw *w, long long x)
{
	value_start(w);
	kv_buf_printf(&w->out, "%lld", x);
}

void kv_jw_bool(struct kv_jw *w, int b)
{
	value_start(w);
	kv_buf_puts(&w->out, b ? "true" : "false");
}

void kv_jw_null(struct kv_jw *w)
{
	value_start(w);
	kv_buf_puts(&w->out, "null");
}

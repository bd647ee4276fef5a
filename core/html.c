#include "html.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD"

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is not
 * one (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_valid(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
		   : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	/* C1 controls and noncharacters U+FDD0..FDEF, U+xFFFE/F: parse errors in HTML. */
	if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0)
		return 0;
	if (len == 3 && s[0] == 0xEF && ((s[1] == 0xB7 && s[2] >= 0x90 && s[2] <= 0xAF) ||
					 (s[1] == 0xBF && s[2] >= 0xBE)))
		return 0;
	if (len == 4 && (s[1] & 0x0F) == 0x0F && s[2] == 0xBF && s[3] >= 0xBE)
		return 0;
	return len;
}

void kv_html_text(struct kv_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		const char *ref = NULL;
		switch (*p) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\'': ref = "&#39;"; break;
		case '\t': case '\n': break;
		default:
			if (*p < 0x20 || *p == 0x7F)
				ref = REPLACEMENT;
		}
		if (ref) {
			kv_buf_puts(b, ref);
			p++;
			continue;
		}
		size_t n = utf8_valid(p);
		if (n == 0) {
			kv_buf_puts(b, REPLACEMENT);
			p++;
		} else {
			kv_buf_add(b, (const char *)p, n);
			p += n;
		}
	}
}

void kv_html_printf(struct kv_buf *b, const char *fmt, ...)
{
	struct kv_buf tmp = {0};
	va_list ap;
	va_start(ap, fmt);
	kv_buf_vprintf(&tmp, fmt, ap);
	va_end(ap);
	kv_html_text(b, tmp.data ? tmp.data : "");
	kv_buf_free(&tmp);
}

void kv_html_json(struct kv_buf *b, const char *json, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (json[i] != '<')
			continue;
		kv_buf_add(b, json + start, i - start);
		kv_buf_puts(b, "\\u003c");
		start = i + 1;
	}
	kv_buf_add(b, json + start, len - start);
}

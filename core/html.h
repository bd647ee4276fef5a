/* Writing HTML text that a hostile input string cannot break out of. */
#ifndef KV_HTML_H
#define KV_HTML_H

#include "util.h"

/* s as HTML text or attribute value: & < > " ' as references; control
 * characters and bytes that are not UTF-8 as U+FFFD, so the page parses
 * without error whatever the record holds. */
void kv_html_text(struct kv_buf *b, const char *s);
/* printf, then the result escaped as kv_html_text. */
void kv_html_printf(struct kv_buf *b, const char *fmt, ...) KV_PRINTF(2, 3);
/* JSON text made safe inside <script type="application/json">: every '<'
 * becomes \u003c (JSON allows '<' only inside strings, where the escape
 * reads back the same), so no "</script" or "<!--" can occur. */
void kv_html_json(struct kv_buf *b, const char *json, size_t len);

#endif

/* A small JSON writer with a fixed layout: the same calls give the same bytes. */
#ifndef KV_JSONW_H
#define KV_JSONW_H

#include "util.h"

struct kv_jw {
	struct kv_buf out;
	int depth;
	int first;      /* no member written yet at this depth */
	int after_key;  /* a key was written; the value follows on the same line */
};

void kv_jw_begin_object(struct kv_jw *w);
void kv_jw_end_object(struct kv_jw *w);
void kv_jw_begin_array(struct kv_jw *w);
void kv_jw_end_array(struct kv_jw *w);
void kv_jw_key(struct kv_jw *w, const char *key);
void kv_jw_string(struct kv_jw *w, const char *s);  /* NULL writes null */
void kv_jw_number(struct kv_jw *w, double x);       /* non-finite writes null */
void kv_jw_integer(struct kv_jw *w, long long x);
void kv_jw_bool(struct kv_jw *w, int b);
void kv_jw_null(struct kv_jw *w);
/* Append s as a JSON string literal to b. */
void kv_json_quote(struct kv_buf *b, const char *s);

#endif

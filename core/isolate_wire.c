#include "isolate_wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kv_wire_begin(struct kv_buf *b, enum kv_msg type)
{
	uint32_t head[2] = {(uint32_t)type, 0};
	memset(b, 0, sizeof *b);
	kv_buf_add(b, (const char *)head, sizeof head);
}

void kv_wire_u64(struct kv_buf *b, uint64_t v) { kv_buf_add(b, (const char *)&v, sizeof v); }
void kv_wire_f64(struct kv_buf *b, double v) { kv_buf_add(b, (const char *)&v, sizeof v); }

void kv_wire_str(struct kv_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint32_t len = !s ? KV_MSG_NULL_STR : n > KV_MSG_CAP / 2 ? KV_MSG_CAP / 2 : (uint32_t)n;
	kv_buf_add(b, (const char *)&len, sizeof len);
	if (s)
		kv_buf_add(b, s, len);
}

/* Plugin threads may record at once: one message at a time on the pipe. */
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

int kv_wire_send(int fd, struct kv_buf *b)
{
	uint32_t len = (uint32_t)(b->len - KV_MSG_HEADER);
	memcpy(b->data + 4, &len, sizeof len);
	int rc = 0;
	pthread_mutex_lock(&send_lock);
	for (size_t off = 0; rc == 0 && off < b->len;) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			rc = -1;
	}
	pthread_mutex_unlock(&send_lock);
	kv_buf_free(b);
	return rc;
}

static int take(struct kv_wire_in *in, void *out, size_t n)
{
	if (in->bad || in->left < n) {
		in->bad = 1;
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return 0;
}

uint64_t kv_wire_get_u64(struct kv_wire_in *in)
{
	uint64_t v;
	take(in, &v, sizeof v);
	return v;
}

double kv_wire_get_f64(struct kv_wire_in *in)
{
	double v;
	take(in, &v, sizeof v);
	return v;
}

char *kv_wire_get_str(struct kv_wire_in *in)
{
	uint32_t len;
	if (take(in, &len, sizeof len) || len == KV_MSG_NULL_STR)
		return NULL;
	if (len > in->left || memchr(in->p, '\0', len)) {
		in->bad = 1;
		return NULL;
	}
	char *s = kv_xmalloc((size_t)len + 1);
	take(in, s, len);
	s[len] = '\0';
	return s;
}

#include "isolate_wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Bytes on the socket without a SIGPIPE (the core's side: a child that
 * closed its end must not end the core), the descriptor riding on them
 * when pass >= 0. */
static ssize_t send_quiet(int fd, const char *data, size_t len, int pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {(void *)data, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass >= 0) {
		memset(control.buf, 0, sizeof control.buf);
		m.msg_control = control.buf;
		m.msg_controllen = sizeof control.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof pass);
	}
	return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* quiet: through send_quiet (the core); else write(2), the one way out of
 * the child (its seccomp filter refuses sendmsg; a SIGPIPE ends only it). */
static int send_all(int fd, struct kv_buf *b, int pass, int quiet)
{
	uint32_t len = (uint32_t)(b->len - KV_MSG_HEADER);
	memcpy(b->data + 4, &len, sizeof len);
	int rc = 0;
	pthread_mutex_lock(&send_lock);
	for (size_t off = 0; rc == 0 && off < b->len;) {
		ssize_t n = quiet ? send_quiet(fd, b->data + off, b->len - off, pass)
				  : write(fd, b->data + off, b->len - off);
		if (n > 0) {
			off += (size_t)n;
			pass = -1;
		} else if (n < 0 && errno != EINTR) {
			rc = -1;
		}
	}
	pthread_mutex_unlock(&send_lock);
	kv_buf_free(b);
	return rc;
}

int kv_wire_send(int fd, struct kv_buf *b) { return send_all(fd, b, -1, 0); }

int kv_wire_send_fd(int fd, struct kv_buf *b, int pass) { return send_all(fd, b, pass, 1); }

/* len bytes into p; the first read also takes a descriptor if one came. */
static int recv_all(int fd, unsigned char *p, size_t len, int *passed)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	for (size_t off = 0; off < len;) {
		struct iovec iov = {p + off, len - off};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				   .msg_controllen = sizeof control.buf};
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && passed && *passed < 0)
			memcpy(passed, CMSG_DATA(c), sizeof *passed);
		off += (size_t)n;
	}
	return 0;
}

int kv_wire_recv(int fd, uint32_t *type, unsigned char **payload, uint32_t *len, int *passed)
{
	uint32_t head[2];
	*passed = -1;
	*payload = NULL;
	if (recv_all(fd, (unsigned char *)head, sizeof head, passed))
		return -1;
	*type = head[0];
	*len = head[1];
	*payload = kv_xmalloc((size_t)head[1] + 1);
	return recv_all(fd, *payload, head[1], passed);
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

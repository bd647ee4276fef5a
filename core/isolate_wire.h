/* Messages from an isolated plugin's process to the core: a header (type,
 * payload length, both uint32) and a payload of fields: u64, f64 and
 * strings (u32 length, bytes, no NUL).  Both ends are the same program on
 * the same machine, so numbers travel in the machine's byte order.  The
 * requests about inputs (OPEN, CLOSE, KIND, LIST) get one answer each, in
 * the same form, back on the same socket; OPEN's carries a descriptor. */
#ifndef KV_ISOLATE_WIRE_H
#define KV_ISOLATE_WIRE_H

#include "util.h"
#include <stdint.h>

enum kv_msg {
	KV_MSG_VALUE = 1,    /* team, value, unit */
	KV_MSG_NORMALIZED,   /* team, normalized */
	KV_MSG_PASS,         /* team, pass */
	KV_MSG_EVIDENCE,     /* team, key, is_num, num, str */
	KV_MSG_WARNING,      /* text */
	KV_MSG_PROGRESS,     /* done, total */
	KV_MSG_CLAIM_READ,   /* never valid: only the core opens and records inputs */
	KV_MSG_ERROR,        /* status, text */
	KV_MSG_DONE,         /* status */
	KV_MSG_DESCRIPTOR,   /* see isolate.c */
	KV_MSG_FORBIDDEN,    /* name of a refused system call */
	KV_MSG_CLAIM_OPENED, /* never valid, as KV_MSG_CLAIM_READ */
	KV_MSG_OPEN,         /* path -> status, id, text (error) + the descriptor to read */
	KV_MSG_CLOSE,        /* id -> status, sha256 (of the whole file) */
	KV_MSG_KIND,         /* path -> kind (as kv_inputs_kind) */
	KV_MSG_LIST,         /* path -> status, text (error), names */
	KV_MSG_END
};

#define KV_MSG_HEADER 8u
#define KV_MSG_CAP (1u << 20)        /* the largest payload accepted */
#define KV_MSG_NULL_STR 0xffffffffu  /* a NULL string's length */
#define KV_ISOLATE_FD 3              /* the child's end of the socket */

void kv_wire_begin(struct kv_buf *b, enum kv_msg type);
void kv_wire_u64(struct kv_buf *b, uint64_t v);
void kv_wire_f64(struct kv_buf *b, double v);
void kv_wire_str(struct kv_buf *b, const char *s);
/* Fill in the length, write the message whole, free b.  0 or -1.  The
 * child's side: write(2), the call its seccomp filter allows. */
int kv_wire_send(int fd, struct kv_buf *b);
/* The core's side: the same on the socket with a descriptor attached
 * (SCM_RIGHTS) when pass >= 0, and a child that closed its end is an
 * error (-1, EPIPE), never a SIGPIPE. */
int kv_wire_send_fd(int fd, struct kv_buf *b, int pass);
/* One whole message: its type, payload (caller frees) and length, and the
 * descriptor that came with it (-1 if none).  0 or -1. */
int kv_wire_recv(int fd, uint32_t *type, unsigned char **payload, uint32_t *len, int *passed);

/* A payload being read; `bad` is set by any read past its end or any
 * string with a NUL or longer than the payload. */
struct kv_wire_in {
	const unsigned char *p;
	size_t left;
	int bad;
};

uint64_t kv_wire_get_u64(struct kv_wire_in *in);
double kv_wire_get_f64(struct kv_wire_in *in);
/* A copy (caller frees); NULL for a NULL string or when bad. */
char *kv_wire_get_str(struct kv_wire_in *in);

#endif

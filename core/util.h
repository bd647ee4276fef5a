/* Small helpers shared by the core: allocation that cannot fail silently,
 * a growable string, and the error record every core function fills. */
#ifndef KV_UTIL_H
#define KV_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "kaieval/plugin.h"

/* Exit statuses (design.md): the same numbers the command returns. */
enum kv_exit { KV_EXIT_OK = 0, KV_EXIT_DIFF = 1, KV_EXIT_INPUT = 2, KV_EXIT_INTERNAL = 3 };

#define KV_MSG_MAX 2048          /* one message */

/* The first error wins: later calls leave an earlier message in place.
 * kv_error_add collects several errors (a round's config and plugin errors
 * are all reported at once): msg then holds one message a line. */
struct kv_error {
	int status;
	char msg[KV_MSG_MAX * 4];  /* room for dozens of the usual one-line messages */
	size_t count;              /* messages added by kv_error_add after the first */
	size_t dropped;            /* of those, how many did not fit in msg */
};

int kv_fail(struct kv_error *err, int status, const char *fmt, ...) KV_PRINTF(3, 4);
int kv_vfail(struct kv_error *err, int status, const char *fmt, va_list ap);
/* Append one's message (if it failed) to all, on a line of its own; all
 * keeps its first status.  Returns one's status. */
int kv_error_add(struct kv_error *all, const struct kv_error *one);
/* Print every message, each on its own "kaieval: " line. */
void kv_error_print(const struct kv_error *err, FILE *out);

void *kv_xmalloc(size_t n);
void *kv_xcalloc(size_t n, size_t size);
void *kv_xrealloc(void *p, size_t n);
char *kv_xstrdup(const char *s);
char *kv_xasprintf(const char *fmt, ...) KV_PRINTF(1, 2);

struct kv_buf {
	char *data;
	size_t len, cap;
};

void kv_buf_add(struct kv_buf *b, const char *s, size_t n);
void kv_buf_puts(struct kv_buf *b, const char *s);
void kv_buf_printf(struct kv_buf *b, const char *fmt, ...) KV_PRINTF(2, 3);
void kv_buf_vprintf(struct kv_buf *b, const char *fmt, va_list ap);
void kv_buf_free(struct kv_buf *b);

/* Shortest decimal that parses back to the same double ("%.17g" at most). */
void kv_format_double(double x, char out[32]);

/* Edit distance, for "did you mean" hints. */
size_t kv_edit_distance(const char *a, const char *b);
/* A hash of a NUL-terminated string (FNV-1a, 64 bits), for hash tables. */
uint64_t kv_str_hash(const char *s);
/* The candidate closest to word, or NULL when none is close enough. */
const char *kv_closest(const char *word, const char *const *candidates, size_t n);

int kv_str_ends_with(const char *s, const char *suffix);

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 when
 * the bytes there are not one (a stray continuation byte, an overlong form,
 * a surrogate, a code point above U+10FFFF, a cut sequence). */
size_t kv_utf8_seq(const unsigned char *s, size_t n);
/* Offset of the first byte of s[0..n) that is not well-formed UTF-8, or -1. */
long kv_utf8_invalid(const char *s, size_t n);
/* Offset of the first control character of s other than tab and newline,
 * or -1: such a character in a name would garble or command a terminal. */
long kv_control_char(const char *s);
/* s[0..n) for a terminal: a byte that is not well-formed UTF-8 and a control
 * character (but tab, and newline where `newlines`) as \xNN, so that a value
 * quoted from a data file can neither garble nor command the terminal. */
void kv_fput_text(const char *s, size_t n, int newlines, FILE *out);
/* before, text as kv_fput_text prints it (newlines kept), then after. */
void kv_print_text(FILE *out, const char *before, const char *text, const char *after);
/* Each line of text (split at newlines) as prefix, the line as text, and a
 * newline. */
void kv_print_lines(FILE *out, const char *prefix, const char *text);

/* Read a whole file into b (NUL-terminated); -1 with errno on failure. */
/* A regular file opened for reading (O_CLOEXEC), never blocking on a FIFO:
 * the descriptor with *st filled, or -1 with errno set (EISDIR, ESPIPE for
 * a FIFO or socket, EINVAL for a device) and *st the file's when known. */
int kv_open_regular(const char *path, struct stat *st);
/* The same as a stream; NULL with errno set. */
FILE *kv_fopen_regular(const char *path);
/* What a file of this mode is, for a message: "a FIFO", "a directory"... */
const char *kv_file_kind(mode_t mode);
/* What a failed kv_fopen_regular says in a message. */
const char *kv_open_error(int errnum);
int kv_read_file(const char *path, struct kv_buf *b);

/* Write data to path: a regular file is replaced atomically, a device or
 * FIFO written through (output.c; output.h says how). */
int kv_write_file_atomic(const char *path, const char *data, size_t len, struct kv_error *err);

#endif

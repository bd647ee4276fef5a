#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kv_vfail(struct kv_error *err, int status, const char *fmt, va_list ap)
{
	if (err && err->status == 0) {
		err->status = status;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	}
	return status;
}

int kv_fail(struct kv_error *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kv_vfail(err, status, fmt, ap);
	va_end(ap);
	return status;
}

int kv_error_add(struct kv_error *all, const struct kv_error *one)
{
	if (!one->status)
		return 0;
	if (!all->status) {
		*all = *one;
		return one->status;
	}
	size_t len = strlen(all->msg), more = strlen(one->msg);
	all->count += 1 + one->count;
	all->dropped += one->dropped;
	if (len + 1 + more < sizeof all->msg) {
		all->msg[len] = '\n';
		memcpy(all->msg + len + 1, one->msg, more + 1);
	} else {
		all->dropped += 1 + one->count - one->dropped;
	}
	return one->status;
}

/* A control character but tab and newline. */
static int is_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f; }

long kv_control_char(const char *s)
{
	for (const char *p = s; *p; p++)
		if (is_control((unsigned char)*p))
			return (long)(p - s);
	return -1;
}

void kv_fput_text(const char *s, size_t n, int newlines, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] >= 0x80 ? kv_utf8_seq(p + i, n - i) : 1;
		int plain = p[i] >= 0x80 ? len > 0 : !is_control(p[i]) && (p[i] != '\n' || newlines);
		if (plain)
			fwrite(p + i, 1, len, out);
		else
			fprintf(out, "\\x%02X", p[i]);
		i += plain ? len : 1;
	}
}

void kv_print_text(FILE *out, const char *before, const char *text, const char *after)
{
	fputs(before, out);
	kv_fput_text(text, strlen(text), 1, out);
	fputs(after, out);
}

void kv_print_lines(FILE *out, const char *prefix, const char *text)
{
	for (const char *m = text; m && *m;) {
		size_t n = strcspn(m, "\n");
		fputs(prefix, out);
		kv_fput_text(m, n, 0, out);
		fputc('\n', out);
		m += n + (m[n] == '\n');
	}
}

void kv_error_print(const struct kv_error *err, FILE *out)
{
	/* Single messages print whole, as they always have (some hold a newline). */
	if (!err->count) {
		kv_print_text(out, "kaieval: ", err->msg, "\n");
		return;
	}
	kv_print_lines(out, "kaieval: ", err->msg);
	if (err->dropped)
		fprintf(out, "kaieval: ... and %zu more errors\n", err->dropped);
}

/* Out of memory is not a condition a scoring run can recover from. */
static void *oom(void *p)
{
	if (!p) {
		fputs("kaieval: out of memory\n", stderr);
		exit(KV_EXIT_INTERNAL);
	}
	return p;
}

void *kv_xmalloc(size_t n) { return oom(malloc(n ? n : 1)); }
void *kv_xcalloc(size_t n, size_t size) { return oom(calloc(n ? n : 1, size ? size : 1)); }
void *kv_xrealloc(void *p, size_t n) { return oom(realloc(p, n ? n : 1)); }
char *kv_xstrdup(const char *s) { return oom(strdup(s ? s : "")); }

char *kv_xasprintf(const char *fmt, ...)
{
	struct kv_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	kv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return b.data;
}

static void buf_reserve(struct kv_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = kv_xrealloc(b->data, cap);
	b->cap = cap;
}

void kv_buf_add(struct kv_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void kv_buf_puts(struct kv_buf *b, const char *s) { kv_buf_add(b, s, strlen(s)); }

void kv_buf_vprintf(struct kv_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	if (!fmt) /* also tells GCC's UBSan build that fmt is not NULL below */
		return;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void kv_buf_printf(struct kv_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kv_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void kv_buf_free(struct kv_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void kv_format_double(double x, char out[32])
{
	if (x == 0) { /* also folds -0 into 0: the record never shows "-0" */
		strcpy(out, "0");
		return;
	}
	/* Plain decimals where they stay short (10, not 1e+01); the fewest
	 * digits that read back as the same double. */
	double ax = fabs(x);
	if (ax >= 1e-6 && ax < 1e17) {
		for (int decimals = 0; decimals <= 24; decimals++) {
			snprintf(out, 32, "%.*f", decimals, x);
			if (strtod(out, NULL) == x)
				return;
		}
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			return;
	}
}

size_t kv_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = kv_xcalloc(lb + 1, sizeof *row);
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best) best = up + 1;
			if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

const char *kv_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t d = kv_edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	/* Close enough: at most a third of the word, and at least one edit allowed. */
	size_t limit = strlen(word) / 3 + 1;
	return best_d <= limit ? best : NULL;
}

int kv_str_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lf = strlen(suffix);
	return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

const char *kv_file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "of an unknown type";
}

int kv_open_regular(const char *path, struct stat *st)
{
	/* Non-blocking, so a FIFO put in a file's place cannot stop the
	 * program in open(); refused below on its type. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	memset(st, 0, sizeof *st);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || fcntl(fd, F_SETFL, 0) != 0) {
		int why = S_ISDIR(st->st_mode) ? EISDIR : S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode) ? ESPIPE : EINVAL;
		close(fd);
		errno = why;
		return -1;
	}
	return fd;
}

FILE *kv_fopen_regular(const char *path)
{
	struct stat st;
	int fd = kv_open_regular(path, &st);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "rb");
	if (!f)
		close(fd);
	return f;
}

const char *kv_open_error(int errnum)
{
	if (errnum == ESPIPE || errnum == EINVAL)
		return "not a regular file (a FIFO, socket or device)";
	return strerror(errnum);
}

int kv_read_file(const char *path, struct kv_buf *b)
{
	FILE *f = kv_fopen_regular(path);
	if (!f)
		return -1;
	char chunk[1 << 15];
	size_t n;
	kv_buf_puts(b, "");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		kv_buf_add(b, chunk, n);
	int rc = ferror(f) ? -1 : 0;
	fclose(f);
	return rc;
}

size_t kv_utf8_seq(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || s[0] > 0xf4 || n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three- and four-byte forms, surrogates, beyond U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

long kv_utf8_invalid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = kv_utf8_seq(p + i, n - i);
		if (!len)
			return (long)i;
		i += len;
	}
	return -1;
}

uint64_t kv_str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

#include "input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int kv_inputs_init(struct kv_inputs *in, const char *data_dir, struct kv_error *err)
{
	memset(in, 0, sizeof *in);
	in->dir = -1;
	char *real = realpath(data_dir, NULL);
	int dir = real ? open(real, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dir < 0) {
		free(real);
		return kv_fail(err, KV_EXIT_INPUT, "%s: data directory not found", data_dir);
	}
	in->data_dir = real;
	in->dir = dir;
	return 0;
}

void kv_inputs_free(struct kv_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		free(in->records[i].path);
	free(in->records);
	if (in->data_dir && in->dir >= 0)
		close(in->dir);
	free(in->data_dir);
	memset(in, 0, sizeof *in);
	in->dir = -1;
}

/* Lexical normalization: drop "" and ".", resolve "..", refuse escapes. */
static char *normalize(const char *rel)
{
	size_t n = strlen(rel);
	char *out = kv_xmalloc(n + 1);
	size_t len = 0;
	const char *p = rel;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t seg = slash ? (size_t)(slash - p) : strlen(p);
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			if (len == 0) {
				free(out);
				return NULL;
			}
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (seg > 0 && !(seg == 1 && p[0] == '.')) {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, seg);
			len += seg;
		}
		p += seg;
		if (*p == '/')
			p++;
	}
	out[len] = '\0';
	return out;
}

/* --- opening beneath the data directory ---------------------------------- */

static int walk_always;

void kv_inputs_walk_always(int on) { walk_always = on; }

/* O_NONBLOCK: a FIFO or device swapped in cannot block the open (a regular
 * file is read blocking afterwards); O_NOCTTY: nor become the terminal. */
static int open_flags(enum kv_open how)
{
	static const int flags[] = {
		[KV_OPEN_FILE] = O_RDONLY | O_NONBLOCK | O_NOCTTY,
		[KV_OPEN_DIR] = O_RDONLY | O_DIRECTORY | O_NONBLOCK,
		[KV_OPEN_ANY] = O_PATH};
	return flags[how] | O_CLOEXEC;
}

/* -1 with errno ENOSYS where the kernel (or a seccomp filter, with EPERM)
 * has no openat2. */
static int beneath_openat2(int dir, const char *norm, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	long fd;
	int tries = 0;
	/* EAGAIN: a rename raced a '..' of a link's target; the kernel asks to retry */
	do
		fd = syscall(SYS_openat2, dir, norm, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN && ++tries < 8);
	if (fd < 0 && errno == EPERM)
		errno = ENOSYS;
	return (int)fd;
}

#define WALK_DEPTH 256   /* directories deep */
#define WALK_LINKS 40    /* links followed in one path, the kernel's own limit */

struct walk {
	int stack[WALK_DEPTH];   /* stack[0]: the data directory (not ours to close) */
	size_t depth;
	char *rest;              /* what is left to walk */
	int links;
};

static void walk_prepend(struct walk *w, const char *head)
{
	char *rest = kv_xasprintf("%s/%s", head, w->rest);
	free(w->rest);
	w->rest = rest;
}

/* A link is read from its own descriptor (what was checked is what is
 * read) and its target walked in its place. */
static int walk_link(struct walk *w, int link)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(link, "", target, sizeof target - 1);
	if (n < 0)
		return errno;
	if (++w->links > WALK_LINKS)
		return ELOOP;
	target[n] = '\0';
	if (target[0] == '/')
		return EXDEV; /* absolute: refused, as RESOLVE_BENEATH refuses it */
	walk_prepend(w, target);
	return 0;
}

/* The next component of w->rest into name ("" when none is left). */
static int walk_next(struct walk *w, char name[NAME_MAX + 1], int *last)
{
	char *p = w->rest + strspn(w->rest, "/");
	size_t n = strcspn(p, "/");
	if (n > NAME_MAX)
		return ENAMETOOLONG;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	memmove(w->rest, p, strlen(p) + 1);
	*last = w->rest[strspn(w->rest, "/")] == '\0';
	return 0;
}

static int reopen(int dir, const char *name, int flags, int *fd)
{
	*fd = openat(dir, name, flags);
	return *fd < 0 ? errno : 0;
}

/* One component: 0 (with *fd set after the last), or an errno. */
static int walk_step(struct walk *w, const char *name, int last, int flags, int *fd)
{
	if (!*name || strcmp(name, ".") == 0)
		return last ? reopen(w->stack[w->depth - 1], ".", flags, fd) : 0;
	if (strcmp(name, "..") == 0) {
		if (w->depth == 1)
			return EXDEV;
		close(w->stack[--w->depth]);
		return last ? reopen(w->stack[w->depth - 1], ".", flags, fd) : 0;
	}
	int top = w->stack[w->depth - 1];
	int node = openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (node < 0)
		return errno;
	int rc = fstat(node, &st) ? errno : 0;
	if (rc == 0 && S_ISLNK(st.st_mode)) {
		rc = walk_link(w, node);
	} else if (rc == 0 && !last) {
		rc = !S_ISDIR(st.st_mode) ? ENOTDIR : w->depth == WALK_DEPTH ? ENAMETOOLONG : 0;
		if (rc == 0) {
			w->stack[w->depth++] = node;
			return 0;
		}
	} else if (rc == 0 && (flags & O_PATH)) {
		*fd = node;
		return 0;
	} else if (rc == 0) {
		rc = reopen(top, name, flags | O_NOFOLLOW, fd);
		if (rc == ELOOP && ++w->links <= WALK_LINKS) {
			walk_prepend(w, name); /* made a link since: walked again */
			rc = 0;
		}
	}
	close(node);
	return rc;
}

/* Where the kernel has no openat2: the same rule, by hand, one component
 * at a time relative to the directory before, never following a link. */
static int beneath_walk(int dir, const char *norm, int flags)
{
	struct walk w = {.stack = {dir}, .depth = 1, .rest = kv_xstrdup(norm)};
	int fd = -1, rc = 0, last = 0;
	char name[NAME_MAX + 1];
	while (rc == 0 && fd < 0) {
		rc = walk_next(&w, name, &last);
		if (rc == 0)
			rc = walk_step(&w, name, last, flags, &fd);
	}
	while (w.depth > 1)
		close(w.stack[--w.depth]);
	free(w.rest);
	errno = rc;
	return rc ? -1 : fd;
}

static int open_beneath(struct kv_inputs *in, const char *norm, int flags)
{
	static int no_openat2;
	const char *path = *norm ? norm : ".";
	if (!walk_always && !no_openat2) {
		int fd = beneath_openat2(in->dir, path, flags);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		no_openat2 = 1;
	}
	return beneath_walk(in->dir, path, flags);
}

/* A regular file, read blocking from now on. */
static int only_a_file(int fd, const char *rel, struct kv_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return kv_fail(err, KV_EXIT_INPUT, "%s: not a regular file but %s", rel, kv_file_kind(st.st_mode));
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
	return 0;
}

int kv_inputs_open(struct kv_inputs *in, const char *rel, enum kv_open how, char **norm,
		   struct kv_error *err)
{
	if (!rel || !*rel)
		return kv_fail(err, KV_EXIT_INPUT, "empty path"), -1;
	if (rel[0] == '/')
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: absolute paths are refused; give a path relative to the data directory",
			       rel), -1;
	char *n = normalize(rel);
	if (!n)
		return kv_fail(err, KV_EXIT_INPUT, "%s: path leaves the data directory ('..')", rel), -1;
	int fd = open_beneath(in, n, open_flags(how));
	if (fd < 0 && errno == EXDEV)
		kv_fail(err, KV_EXIT_INPUT, "%s: path leads out of the data directory (symbolic link)", rel);
	else if (fd < 0)
		kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
	else if (how == KV_OPEN_FILE && only_a_file(fd, rel, err)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && norm)
		*norm = n;
	else
		free(n);
	return fd;
}

int kv_inputs_resolve(struct kv_inputs *in, const char *rel, char **real, char **norm,
		      struct kv_error *err)
{
	char *n = NULL;
	int fd = kv_inputs_open(in, rel, KV_OPEN_ANY, &n, err);
	if (fd < 0)
		return KV_EXIT_INPUT;
	close(fd);
	if (real)
		*real = kv_xasprintf("%s/%s", in->data_dir, n);
	if (norm)
		*norm = n;
	else
		free(n);
	return 0;
}

int kv_inputs_kind(struct kv_inputs *in, const char *rel)
{
	if (in->remote)
		return in->remote->kind(rel);
	struct kv_error ignore = {0};
	struct stat st;
	int fd = kv_inputs_open(in, rel, KV_OPEN_ANY, NULL, &ignore);
	int kind = fd < 0 || fstat(fd, &st) != 0 ? 0 : S_ISREG(st.st_mode) ? 1 : S_ISDIR(st.st_mode) ? 2 : 0;
	if (fd >= 0)
		close(fd);
	return kind;
}

void kv_inputs_record(struct kv_inputs *in, const char *norm, uint64_t bytes, const char *hex)
{
	for (size_t i = 0; i < in->count; i++)
		if (strcmp(in->records[i].path, norm) == 0)
			return;
	in->records = kv_xrealloc(in->records, (in->count + 1) * sizeof *in->records);
	struct kv_input_record *r = &in->records[in->count++];
	r->path = kv_xstrdup(norm);
	r->bytes = bytes;
	memcpy(r->sha256, hex, 65);
}

void kv_sha256_to_hex(const unsigned char md[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

void kv_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	kv_sha256_to_hex(md, out);
}

struct kv_stream {
	struct kv_inputs *in;
	FILE *f;
	EVP_MD_CTX *md;      /* NULL when the core hashes the file (remote) */
	char *norm;
	uint64_t bytes;
	uint64_t id;         /* the core's, when remote */
	uint64_t size;       /* the file's, as the core saw it, when remote */
	int failed;
};

struct kv_stream *kv_stream_open(struct kv_inputs *in, const char *rel, struct kv_error *err)
{
	char *norm = NULL;
	uint64_t id = 0, size = 0;
	int fd = in->remote ? in->remote->open(rel, &id, &size, err) : kv_inputs_open(in, rel, KV_OPEN_FILE, &norm, err);
	if (fd < 0)
		return NULL;
	struct kv_stream *s = kv_xcalloc(1, sizeof *s);
	s->in = in;
	s->norm = norm;
	s->id = id;
	s->size = size;
	s->f = fdopen(fd, "rb");
	if (!s->f) {
		close(fd);
		s->failed = 1;
	}
	if (!in->remote && (!(s->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)))
		s->failed = 1;
	if (s->failed) {
		kv_fail(err, KV_EXIT_INTERNAL, "%s: cannot set up reading (SHA-256 or memory)", rel);
		kv_stream_close(s, NULL);
		return NULL;
	}
	return s;
}

long kv_stream_read(struct kv_stream *s, void *buf, size_t len)
{
	if (len > (size_t)LONG_MAX)
		len = (size_t)LONG_MAX;
	size_t got = fread(buf, 1, len, s->f);
	if (got == 0 && ferror(s->f)) {
		s->failed = 1;
		return -1;
	}
	if (s->md)
		EVP_DigestUpdate(s->md, buf, got);
	s->bytes += got;
	return (long)got;
}

/* The rest of the file through the digest, then the digest; 0 or -1. */
static int local_digest(struct kv_stream *s, char hex[65])
{
	char buf[1 << 16];
	while (!s->failed && kv_stream_read(s, buf, sizeof buf) > 0)
		;
	if (s->failed)
		return -1;
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(s->md, md, &mdlen);
	kv_sha256_to_hex(md, hex);
	kv_inputs_record(s->in, s->norm, s->bytes, hex);
	return 0;
}

int kv_stream_close(struct kv_stream *s, char sha256_hex[65])
{
	if (!s)
		return 0;
	char hex[65];
	int rc = -1;
	if (s->in->remote) {
		if (s->f)
			fclose(s->f); /* first: the core stops sending and hashes the rest itself */
		rc = s->in->remote->close(s->id, hex);
	} else {
		if (s->f && s->md)
			rc = local_digest(s, hex);
		if (s->f)
			fclose(s->f);
	}
	if (rc == 0 && sha256_hex)
		memcpy(sha256_hex, hex, 65);
	EVP_MD_CTX_free(s->md);
	free(s->norm);
	free(s);
	return rc;
}

int kv_inputs_load(struct kv_inputs *in, const char *rel, char **data, size_t *len,
		   struct kv_error *err)
{
	struct kv_stream *s = kv_stream_open(in, rel, err);
	if (!s)
		return err->status;
	size_t cap = 1 << 16, n = 0;
	char *buf = kv_xmalloc(cap);
	long got;
	while ((got = kv_stream_read(s, buf + n, cap - n - 1)) > 0) {
		n += (size_t)got;
		if (cap - n - 1 == 0)
			buf = kv_xrealloc(buf, cap *= 2);
	}
	if (got < 0 || kv_stream_close(s, NULL) != 0) {
		free(buf);
		return kv_fail(err, KV_EXIT_INPUT, "%s: read error", rel);
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kv_inputs_list(struct kv_inputs *in, const char *rel, char ***names, size_t *count,
		   struct kv_error *err)
{
	if (in->remote)
		return in->remote->list(rel, names, count, err);
	int fd = kv_inputs_open(in, rel, KV_OPEN_DIR, NULL, err);
	if (fd < 0)
		return KV_EXIT_INPUT;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
	}
	char **v = NULL;
	size_t n = 0;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* A listed name may reach the record: it must be UTF-8 like the rest. */
		if (kv_utf8_invalid(e->d_name, strlen(e->d_name)) >= 0) {
			rc = kv_fail(err, KV_EXIT_INPUT, "%s: a name in this folder is not valid UTF-8", rel);
			break;
		}
		v = kv_xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = kv_xstrdup(e->d_name);
	}
	closedir(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_names);
	*names = v;
	*count = n;
	return 0;
}

int kv_sha256_file(const char *path, char out[65], uint64_t *bytes)
{
	FILE *f = kv_fopen_regular(path);
	if (!f)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char buf[1 << 16];
	size_t got;
	uint64_t total = 0;
	while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
		EVP_DigestUpdate(md, buf, got);
		total += got;
	}
	int rc = ferror(f) ? -1 : 0;
	fclose(f);
	unsigned char m[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(md, m, &mdlen);
	EVP_MD_CTX_free(md);
	kv_sha256_to_hex(m, out);
	if (bytes)
		*bytes = total;
	return rc;
}

uint64_t kv_stream_size(const struct kv_stream *s)
{
	struct stat st;
	if (s && s->in->remote)
		return s->size;
	return s && fstat(fileno(s->f), &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

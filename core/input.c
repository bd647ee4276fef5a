#include "input.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int kv_inputs_init(struct kv_inputs *in, const char *data_dir, struct kv_error *err)
{
	memset(in, 0, sizeof *in);
	char *real = realpath(data_dir, NULL);
	struct stat st;
	if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return kv_fail(err, KV_EXIT_INPUT, "%s: data directory not found", data_dir);
	}
	in->data_dir = real;
	return 0;
}

void kv_inputs_free(struct kv_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		free(in->records[i].path);
	free(in->records);
	free(in->data_dir);
	memset(in, 0, sizeof *in);
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

static int inside(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	return strncmp(dir, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int kv_inputs_resolve(struct kv_inputs *in, const char *rel, char **real, char **norm,
		      struct kv_error *err)
{
	if (!rel || !*rel)
		return kv_fail(err, KV_EXIT_INPUT, "empty path");
	if (rel[0] == '/')
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: absolute paths are refused; give a path relative to the data directory",
			       rel);
	char *n = normalize(rel);
	if (!n)
		return kv_fail(err, KV_EXIT_INPUT, "%s: path leaves the data directory ('..')", rel);
	char *full = kv_xasprintf("%s/%s", in->data_dir, n);
	char *r = realpath(full, NULL);
	free(full);
	if (!r) {
		int e = errno;
		free(n);
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(e));
	}
	if (!inside(in->data_dir, r)) {
		free(r);
		free(n);
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: path leads out of the data directory (symbolic link)", rel);
	}
	if (real)
		*real = r;
	else
		free(r);
	if (norm)
		*norm = n;
	else
		free(n);
	return 0;
}

int kv_inputs_kind(struct kv_inputs *in, const char *rel)
{
	struct kv_error ignore = {0};
	char *real;
	struct stat st;
	if (kv_inputs_resolve(in, rel, &real, NULL, &ignore) != 0)
		return 0;
	int kind = stat(real, &st) != 0 ? 0 : S_ISREG(st.st_mode) ? 1 : S_ISDIR(st.st_mode) ? 2 : 0;
	free(real);
	return kind;
}

void kv_inputs_record(struct kv_inputs *in, const char *norm, uint64_t bytes, const char *hex)
{
	for (size_t i = 0; i < in->count; i++)
		if (strcmp(in->records[i].path, norm) == 0)
			return;
	if (in->observer)
		in->observer(norm, 1);
	in->records = kv_xrealloc(in->records, (in->count + 1) * sizeof *in->records);
	struct kv_input_record *r = &in->records[in->count++];
	r->path = kv_xstrdup(norm);
	r->bytes = bytes;
	memcpy(r->sha256, hex, 65);
}

static void to_hex(const unsigned char *md, char out[65])
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
	to_hex(md, out);
}

struct kv_stream {
	struct kv_inputs *in;
	FILE *f;
	EVP_MD_CTX *md;
	char *norm;
	uint64_t bytes;
	int failed;
	int observed;        /* the core hashes the file: no digest here */
};

struct kv_stream *kv_stream_open(struct kv_inputs *in, const char *rel, struct kv_error *err)
{
	char *real, *norm;
	if (kv_inputs_resolve(in, rel, &real, &norm, err) != 0)
		return NULL;
	struct stat st;
	FILE *f = NULL;
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
		kv_fail(err, KV_EXIT_INPUT, "%s: not a regular file", rel);
	else if (!(f = fopen(real, "rb")))
		kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
	free(real);
	if (!f) {
		free(norm);
		return NULL;
	}
	struct kv_stream *s = kv_xcalloc(1, sizeof *s);
	s->in = in;
	s->f = f;
	s->norm = norm;
	s->observed = in->observer != NULL;
	if (s->observed)
		in->observer(norm, 0);
	s->md = EVP_MD_CTX_new();
	if (!s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
		kv_fail(err, KV_EXIT_INTERNAL, "%s: SHA-256 unavailable", rel);
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
	if (!s->observed)
		EVP_DigestUpdate(s->md, buf, got);
	s->bytes += got;
	return (long)got;
}

int kv_stream_close(struct kv_stream *s, char sha256_hex[65])
{
	if (!s)
		return 0;
	char buf[1 << 16];
	long got;
	while (!s->failed && s->md && !s->observed && (got = kv_stream_read(s, buf, sizeof buf)) > 0)
		;
	int rc = s->failed ? -1 : 0;
	if (s->md && !s->failed) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		char hex[65];
		EVP_DigestFinal_ex(s->md, md, &mdlen);
		to_hex(md, hex);
		kv_inputs_record(s->in, s->norm, s->bytes, hex);
		if (sha256_hex)
			memcpy(sha256_hex, hex, 65);
	}
	EVP_MD_CTX_free(s->md);
	fclose(s->f);
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
	char *real;
	if (kv_inputs_resolve(in, rel, &real, NULL, err) != 0)
		return err->status;
	DIR *d = opendir(real);
	free(real);
	if (!d)
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s", rel, strerror(errno));
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
	FILE *f = fopen(path, "rb");
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
	to_hex(m, out);
	if (bytes)
		*bytes = total;
	return rc;
}

uint64_t kv_stream_size(const struct kv_stream *s)
{
	struct stat st;
	return s && fstat(fileno(s->f), &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

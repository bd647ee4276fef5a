/* From safetensors files to a fingerprint: map each shard, check its header
 * strictly (safetensors.h), check it against the index, scan its data
 * (tensorscan.h) and record what the comparison needs (fingerprint.h). */
#include "fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "input.h"
#include "safetensors.h"
#include "tensorscan.h"

#define INDEX_NAME "model.safetensors.index.json"

struct mapped {
	const uint8_t *bytes;
	size_t size;
};

struct progress {
	const char *shard;
	uint64_t total;
	struct timespec start, last;
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) * 1e-9;
}

/* "\r<shard>: 3.2 of 9.8 GB, 4.1 GB/s" at most five times a second. */
static void show_progress(void *arg, uint64_t done)
{
	struct progress *p = arg;
	if (done < p->total && seconds_since(&p->last) < 0.2)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	double s = seconds_since(&p->start);
	fprintf(stderr, "\rkaieval fingerprint: %s: %.2f of %.2f GB, %.2f GB/s   ", p->shard, (double)done / 1e9,
		(double)p->total / 1e9, s > 0 ? (double)done / 1e9 / s : 0.0);
	fflush(stderr);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- one shard -------------------------------------------------------------- */

static int map_file(const char *path, struct mapped *m, struct kv_error *err)
{
	int fd;
	off_t size;
	if (kv_fp_open_regular(path, &fd, &size, err))
		return err->status;
	m->size = (size_t)size;
	m->bytes = NULL;
	if (m->size) {
		void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
		m->bytes = p == MAP_FAILED ? NULL : p;
	}
	close(fd);
	if (m->size && !m->bytes)
		return kv_fail(err, KV_EXIT_INPUT, "%s: cannot map: %s", path, strerror(errno));
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->bytes)
		munmap((void *)m->bytes, m->size);
}

/* A short file names the first tensor whose data it lacks. */
static int check_truncation(const char *path, const struct kv_st_header *h, size_t size, struct kv_error *err)
{
	uint64_t start = 8 + h->header_len, have = size - start;
	for (size_t i = 0; i < h->count; i++)
		if (h->tensors[i].end > have)
			return kv_fail(err, KV_EXIT_INPUT, "%s: truncated: tensor '%s' needs data bytes [%" PRIu64
				       ", %" PRIu64 ") but the file holds %" PRIu64 " data bytes", path,
				       h->tensors[i].name, h->tensors[i].begin, h->tensors[i].end, have);
	return 0;
}

/* The reference implementation's checks, with messages naming file and tensor. */
static int parse_shard(const char *path, const struct mapped *m, struct kv_st_header **h, struct kv_error *err)
{
	char msg[KV_ST_ERRLEN];
	uint64_t n;
	*h = NULL;
	if (m->size < 8)
		return kv_fail(err, KV_EXIT_INPUT, "%s: %zu bytes: too short for the 8-byte header length",
			       path, m->size);
	if (kv_st_header_len(path, m->bytes, &n, msg, sizeof msg))
		return kv_fail(err, KV_EXIT_INPUT, "%s", msg);
	if (n > m->size - 8)
		return kv_fail(err, KV_EXIT_INPUT, "%s: header length %" PRIu64 " runs past the end of the "
			       "file (%zu bytes)", path, n, m->size);
	int rc = kv_st_parse_header(path, (const char *)m->bytes + 8, (size_t)n, h, msg, sizeof msg);
	if (rc)
		return kv_fail(err, rc == KV_ST_NOMEM ? KV_EXIT_INTERNAL : KV_EXIT_INPUT, "%s", msg);
	rc = check_truncation(path, *h, m->size, err);
	if (!rc && kv_st_check_size(path, *h, m->size, msg, sizeof msg))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s", msg);
	return rc;
}

static char *base64(const uint8_t *p, size_t n)
{
	char *out = kv_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static void to_hex(const uint8_t *d, unsigned bytes, char out[65])
{
	for (unsigned i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void record(struct kv_fp_tensor *t, const struct kv_st_tensor *st, const char *shard,
		   enum kv_ts_hash hash, const struct kv_ts_result *r)
{
	t->name = kv_xstrdup(st->name);
	t->shard = kv_xstrdup(shard);
	t->dtype = kv_xstrdup(st->dtype);
	t->rank = st->rank;
	t->shape = kv_xcalloc(st->rank, sizeof *t->shape);
	if (st->rank)
		memcpy(t->shape, st->shape, st->rank * sizeof *t->shape);
	t->numel = st->numel;
	to_hex(r->hash, kv_fp_hash_kind(hash)->digest_bytes, t->hash);
	t->constant = r->constant;
	t->has_moments = r->kind != KV_FK_NONE;
	if (!t->has_moments)
		return;
	t->finite = r->moments.finite;
	t->sum = r->moments.sum;
	t->sumsq = r->moments.sumsq;
	t->has_range = r->moments.finite > 0;
	t->min = r->moments.min;
	t->max = r->moments.max;
	t->sample_count = r->sample_count;
	t->sample = base64(r->sample, (size_t)r->sample_count * kv_float_size(r->kind));
}

static void add_tensors(struct kv_fp *fp, const struct kv_st_header *h, const char *shard,
			const struct kv_ts_result *r)
{
	fp->tensors = kv_xrealloc(fp->tensors, (fp->count + h->count) * sizeof *fp->tensors);
	for (size_t i = 0; i < h->count; i++) {
		memset(&fp->tensors[fp->count], 0, sizeof *fp->tensors);
		record(&fp->tensors[fp->count++], &h->tensors[i], shard, kv_fp_hash_of(fp->version), &r[i]);
	}
}

static void add_results(struct kv_fp *fp, const struct kv_st_header *h, const char *shard,
			const struct kv_ts_result *r, uint64_t bytes)
{
	add_tensors(fp, h, shard, r);
	fp->shards = kv_xrealloc(fp->shards, (fp->shard_count + 1) * sizeof *fp->shards);
	fp->shards[fp->shard_count++] = (struct kv_fp_shard){kv_xstrdup(shard), bytes, h->count};
}

static int scan_data(const char *path, const struct kv_st_header *h, const struct mapped *m,
		     const struct kv_fp_options *o, struct kv_ts_result **r, struct kv_error *err)
{
	uint64_t total = 0;
	for (size_t i = 0; i < h->count; i++)
		total += h->tensors[i].end - h->tensors[i].begin;
	struct progress p = {.shard = base_name(path), .total = total};
	struct kv_ts_options to = {.threads = o->threads, .hash = o->hash, .simd = kv_simd_detect(),
				   .sample_size = o->sample_size, .progress_arg = &p};
	if (o->progress) {
		to.progress = show_progress;
		clock_gettime(CLOCK_MONOTONIC, &p.start);
	}
	char msg[KV_ST_ERRLEN];
	int rc = kv_ts_scan(h, m->bytes + 8 + h->header_len, &to, r, msg, sizeof msg);
	if (rc) {
		if (o->progress)
			fputs("\n", stderr);
		return kv_fail(err, rc == -2 ? KV_EXIT_INPUT : KV_EXIT_INTERNAL, "%s: %s", path, msg);
	}
	if (o->progress) {
		p.last.tv_sec = 0;
		show_progress(&p, total);
		fputs("\n", stderr);
	}
	return 0;
}

/* Fingerprint the shard at path (named `shard` in the fingerprint). */
static int scan_one(const char *path, const char *shard, const struct kv_st_index *idx,
		    const struct kv_fp_options *o, struct kv_fp *fp, struct kv_error *err)
{
	struct mapped m = {0};
	struct kv_st_header *h = NULL;
	struct kv_ts_result *r = NULL;
	char msg[KV_ST_ERRLEN];
	int rc = map_file(path, &m, err);
	if (rc)
		return rc;
	rc = parse_shard(path, &m, &h, err);
	if (!rc && idx && kv_st_index_check_shard(idx, shard, path, h, msg, sizeof msg))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s", msg);
	if (!rc)
		rc = scan_data(path, h, &m, o, &r, err);
	if (!rc)
		add_results(fp, h, shard, r, m.size);
	kv_ts_free(r, h ? h->count : 0);
	kv_st_free(h);
	unmap_file(&m);
	return rc;
}

static void header_sha256(const struct mapped *m, const struct kv_st_header *h, char out[65])
{
	kv_sha256_hex(m->bytes + 8, (size_t)h->header_len, out);
}

int kv_fp_shard_header(const char *path, const char *shard, const struct kv_st_index *idx,
		       struct kv_st_header **h, uint64_t *bytes, char sha256[65], struct kv_error *err)
{
	struct mapped m = {0};
	char msg[KV_ST_ERRLEN];
	int rc = map_file(path, &m, err);
	if (rc)
		return rc;
	rc = parse_shard(path, &m, h, err);
	if (!rc && idx && kv_st_index_check_shard(idx, shard, path, *h, msg, sizeof msg))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s", msg);
	if (!rc) {
		*bytes = m.size;
		header_sha256(&m, *h, sha256);
	}
	unmap_file(&m);
	return rc;
}

/* The shard is still the one planned: same size, same header bytes. */
static int check_planned(const char *path, const struct mapped *m, const struct kv_st_header *h,
			 const struct kv_fp_planned *want, struct kv_error *err)
{
	char sha[65];
	header_sha256(m, h, sha);
	if (m->size != want->bytes || strcmp(sha, want->header_sha256) != 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: changed since the plan was made (%zu bytes, header "
			       "sha256 %s; the plan has %" PRIu64 " bytes, %s): make a new plan", path, m->size,
			       sha, want->bytes, want->header_sha256);
	if (want->first > h->count || want->count > h->count - want->first)
		return kv_fail(err, KV_EXIT_INPUT, "%s: the plan's tensors [%zu, %zu) are past its %zu tensors",
			       path, want->first, want->first + want->count, h->count);
	return 0;
}

int kv_fp_scan_range(const char *path, const struct kv_fp_planned *want, const struct kv_fp_options *o,
		     struct kv_fp *fp, struct kv_error *err)
{
	struct mapped m = {0};
	struct kv_st_header *h = NULL;
	struct kv_ts_result *r = NULL;
	int rc = map_file(path, &m, err);
	if (!rc)
		rc = parse_shard(path, &m, &h, err);
	if (!rc)
		rc = check_planned(path, &m, h, want, err);
	struct kv_st_header sub = h ? *h : (struct kv_st_header){0};
	if (!rc) {
		sub.tensors = h->tensors + want->first;
		sub.count = want->count;
		rc = scan_data(path, &sub, &m, o, &r, err);
	}
	if (!rc)
		add_tensors(fp, &sub, want->shard, r);
	kv_ts_free(r, sub.count);
	kv_st_free(h);
	unmap_file(&m);
	return rc;
}

/* ---- the index --------------------------------------------------------------- */

static int load_index(const char *path, struct kv_fp *fp, struct kv_st_index **idx, struct kv_error *err)
{
	size_t len;
	char msg[KV_ST_ERRLEN];
	char *text = kv_fp_load_text(path, &len, err);
	if (!text)
		return KV_EXIT_INPUT;
	int rc = len > KV_ST_HEADER_MAX ? kv_fail(err, KV_EXIT_INPUT, "%s: larger than %u bytes", path,
						  KV_ST_HEADER_MAX) : 0;
	if (!rc && kv_st_parse_index(path, text, len, idx, msg, sizeof msg))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s", msg);
	if (!rc) {
		fp->has_index = 1;
		fp->index_file = kv_xstrdup(base_name(path));
		kv_sha256_hex(text, len, fp->index_sha256);
		fp->index_shard_count = (*idx)->shard_count;
		fp->index_shards = kv_xcalloc((*idx)->shard_count, sizeof *fp->index_shards);
		for (size_t i = 0; i < (*idx)->shard_count; i++)
			fp->index_shards[i] = kv_xstrdup((*idx)->shards[i]);
	}
	free(text);
	return rc;
}

/* ---- a model folder ------------------------------------------------------------ */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *.safetensors files of dir, sorted. */
static int list_shards(const char *dir, char ***names, size_t *n, struct kv_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return kv_fail(err, KV_EXIT_INPUT, "%s: cannot open folder: %s", dir, strerror(errno));
	struct dirent *e;
	*names = NULL;
	*n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && kv_str_ends_with(e->d_name, ".safetensors")) {
			*names = kv_xrealloc(*names, (*n + 1) * sizeof **names);
			(*names)[(*n)++] = kv_xstrdup(e->d_name);
		}
	closedir(d);
	if (*n == 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: no %s and no .safetensors file", dir, INDEX_NAME);
	qsort(*names, *n, sizeof **names, cmp_name);
	return 0;
}

static int cmp_tensor_name(const void *a, const void *b)
{
	return strcmp(((const struct kv_fp_tensor *)a)->name, ((const struct kv_fp_tensor *)b)->name);
}

/* Without an index nothing ties a tensor to one file: refuse repeats. */
static int check_unique(const char *dir, struct kv_fp *fp, struct kv_error *err)
{
	if (fp->count)
		qsort(fp->tensors, fp->count, sizeof *fp->tensors, cmp_tensor_name);
	for (size_t i = 1; i < fp->count; i++)
		if (strcmp(fp->tensors[i - 1].name, fp->tensors[i].name) == 0)
			return kv_fail(err, KV_EXIT_INPUT, "%s: tensor '%s' is in both %s and %s", dir,
				       fp->tensors[i].name, fp->tensors[i - 1].shard, fp->tensors[i].shard);
	return 0;
}

static int scan_shards(const char *dir, char **names, size_t n, const struct kv_st_index *idx,
		       const struct kv_fp_options *o, struct kv_fp *out, struct kv_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char *path = kv_xasprintf("%s/%s", dir, names[i]);
		rc = scan_one(path, names[i], idx, o, out, err);
		free(path);
	}
	return rc;
}

int kv_fp_model_shards(const char *dir, struct kv_fp *out, struct kv_st_index **idx, char ***names, size_t *n,
		       struct kv_error *err)
{
	char *index = kv_xasprintf("%s/%s", dir, INDEX_NAME);
	struct stat st;
	int rc;
	*idx = NULL;
	*names = NULL;
	*n = 0;
	if (stat(index, &st) == 0) {
		rc = load_index(index, out, idx, err);
		for (size_t i = 0; !rc && i < (*idx)->shard_count; i++) {
			*names = kv_xrealloc(*names, (*n + 1) * sizeof **names);
			(*names)[(*n)++] = kv_xstrdup((*idx)->shards[i]);
		}
	} else {
		rc = list_shards(dir, names, n, err);
	}
	free(index);
	return rc;
}

int kv_fp_check_unique(const char *dir, struct kv_fp *fp, struct kv_error *err)
{
	return check_unique(dir, fp, err);
}

int kv_fp_scan_dir(const char *dir, const struct kv_fp_options *o, struct kv_fp *out, struct kv_error *err)
{
	memset(out, 0, sizeof *out);
	out->version = kv_fp_version(o->hash);
	out->sample_size = o->sample_size;
	struct kv_st_index *idx = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc = kv_fp_model_shards(dir, out, &idx, &names, &n, err);
	if (!rc)
		rc = scan_shards(dir, names, n, idx, o, out, err);
	if (!rc && !idx)
		rc = check_unique(dir, out, err);
	out->complete = rc == 0;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	kv_st_free_index(idx);
	return rc;
}

int kv_fp_scan_shard(const char *file, const char *index, const struct kv_fp_options *o, struct kv_fp *out,
		     struct kv_error *err)
{
	memset(out, 0, sizeof *out);
	out->version = kv_fp_version(o->hash);
	out->sample_size = o->sample_size;
	struct kv_st_index *idx = NULL;
	int rc = index ? load_index(index, out, &idx, err) : 0;
	if (!rc)
		rc = scan_one(file, base_name(file), idx, o, out, err);
	out->complete = rc == 0 && idx && idx->shard_count == 1;
	kv_st_free_index(idx);
	return rc;
}

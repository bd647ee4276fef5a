/* Streaming a battle file: a read-ahead thread feeds blocks to the scanner.
 *
 * The host SHA-256s every byte on the thread that calls input_read, which
 * costs about as much as scanning.  So one thread only reads (and hashes)
 * into a ring of blocks while the caller's thread scans the block before:
 * the two overlap on two cores.  Blocks are handed over strictly in file
 * order, so nothing the scanner sees depends on timing. */
#include "scan.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A block is exactly two 2 MB pages (votes_huge_alloc): a fault per 2 MB
 * instead of per 4 KB, and no page half used. */
#define BLOCK_DATA ((size_t)3 << 20)
#define BLOCK_PAD 64
#define BLOCK_HEAD (((size_t)1 << 20) - BLOCK_PAD) /* room for the unread tail of the block before */
/* 24 MB of data read ahead lets the read-ahead thread run ahead while the
 * two other threads wait on each other (three busy threads share two
 * cores).  With 2 MB pages, 32 blocks were no faster than 8 (bench, 8 runs
 * each) and cost 96 MB more.  Blocks are allocated at their first fill, so
 * a small file costs one or two. */
#define NBLOCKS 8
#define READ_SIZE ((size_t)256 << 10) /* per input_read: copied and hashed while in cache */

struct block {
	char *mem;          /* BLOCK_HEAD + BLOCK_DATA + BLOCK_PAD bytes, from the first fill */
	size_t len;         /* bytes read, at mem + BLOCK_HEAD */
	int last;           /* nothing follows (end of file, a read error, no memory) */
	int failed;         /* input_read reported an error */
	int nomem;          /* mem could not be allocated */
};

struct votes_reader {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *path;
	struct kv_input *in;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block blocks[NBLOCKS];
	uint64_t filled;        /* blocks the read-ahead thread has completed */
	uint64_t released;      /* blocks the scanner is done with */
	int stop;
	/* scanner side */
	uint64_t current;       /* index of the block being scanned */
	const char *p, *end;    /* its unscanned bytes */
	int eof;
	char *big;              /* a record longer than BLOCK_HEAD, joined here */
	size_t big_cap;
	int in_big;             /* p points into big */
	int open_failed;
	uint64_t bytes;         /* handed to the scanner (progress) */
	long line;              /* the last record returned */
	uint64_t record;
	struct votes_scan scan;
};

static void fill(struct votes_reader *r, struct block *b)
{
	b->len = 0;
	b->last = b->failed = b->nomem = 0;
	if (!b->mem && !(b->mem = votes_huge_alloc(BLOCK_HEAD + BLOCK_DATA + BLOCK_PAD))) {
		b->last = b->nomem = 1;
		return;
	}
	while (b->len < BLOCK_DATA) {
		size_t want = BLOCK_DATA - b->len < READ_SIZE ? BLOCK_DATA - b->len : READ_SIZE;
		long got = r->h->input_read(r->in, b->mem + BLOCK_HEAD + b->len, want);
		if (got <= 0) {
			b->last = 1;
			b->failed = got < 0;
			return;
		}
		b->len += (size_t)got;
	}
}

static void *read_ahead(void *arg)
{
	struct votes_reader *r = arg;
	pthread_mutex_lock(&r->mu);
	for (uint64_t i = 0;; i++) {
		while (!r->stop && i - r->released >= NBLOCKS)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		struct block *b = &r->blocks[i % NBLOCKS];
		pthread_mutex_unlock(&r->mu);
		fill(r, b);
		pthread_mutex_lock(&r->mu);
		r->filled = i + 1;
		pthread_cond_broadcast(&r->cv);
		if (b->last)
			break;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Wait for block i: 0, -1 after a read error (recorded), -2 out of memory. */
static int take(struct votes_reader *r, uint64_t i, struct block **out)
{
	struct block *b = &r->blocks[i % NBLOCKS];
	if (!r->started) {
		fill(r, b);
		r->filled = i + 1;
	}
	pthread_mutex_lock(&r->mu);
	while (r->filled <= i)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	if (b->nomem)
		return -2;
	if (b->failed) {
		r->h->error(r->ctx, "%s: read error", r->path);
		return -1;
	}
	*out = b;
	return 0;
}

static void release(struct votes_reader *r, uint64_t i)
{
	pthread_mutex_lock(&r->mu);
	r->released = i + 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void free_blocks(struct votes_reader *r)
{
	for (int i = 0; i < NBLOCKS; i++)
		free(r->blocks[i].mem);
}

/* A name ending in .csv (any case) is a table of battles; any other is JSON. */
static int named_csv(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

struct votes_reader *votes_reader_open(const struct kv_host *h, struct kv_ctx *ctx, const char *path)
{
	struct votes_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->h = h;
	r->ctx = ctx;
	r->path = path;
	votes_scan_init(&r->scan);
	r->scan.csv = named_csv(path);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (!(r->in = h->input_open(ctx, path))) {
		r->open_failed = 1;
		return r;
	}
	/* Without a thread the blocks are read on demand in take(): the same
	 * bytes in the same order, only slower. */
	r->started = pthread_create(&r->thread, NULL, read_ahead, r) == 0;
	return r;
}

int votes_reader_failed(const struct votes_reader *r) { return !r || r->open_failed; }

/* A record longer than the head room: join its start and the next block
 * in a buffer of its own. */
static int join_big(struct votes_reader *r, size_t tail, const char *data, size_t len)
{
	size_t need = tail + len + BLOCK_PAD;
	if (r->in_big)
		memmove(r->big, r->p, tail);
	if (need > r->big_cap) {
		char *b = malloc(need);
		if (!b)
			return -2;
		memcpy(b, r->in_big ? r->big : r->p, tail);
		free(r->big);
		r->big = b;
		r->big_cap = need;
	} else if (!r->in_big) {
		memcpy(r->big, r->p, tail);
	}
	memcpy(r->big + tail, data, len);
	r->p = r->big;
	r->end = r->big + tail + len;
	r->in_big = 1;
	return 0;
}

/* Bytes of the file the scanner has been given, on a terminal with the
 * rate (a host without input_progress shows records, ingest.c). */
static void progress(struct votes_reader *r, size_t len)
{
	r->bytes += len;
	if (KV_HOST_HAS(r->h, input_progress))
		r->h->input_progress(r->in, r->bytes);
}

int votes_reader_shows_bytes(const struct votes_reader *r) { return KV_HOST_HAS(r->h, input_progress); }

/* Move on to the next block, carrying the unscanned tail in front of it. */
static int advance(struct votes_reader *r)
{
	size_t tail = (size_t)(r->end - r->p);
	struct block *next;
	int rc = take(r, r->current + 1, &next);
	if (rc)
		return rc;
	char *data = next->mem + BLOCK_HEAD;
	if (tail <= BLOCK_HEAD) {
		memcpy(data - tail, r->p, tail);
		r->p = data - tail;
		r->end = data + next->len;
		r->in_big = 0;
	} else if (join_big(r, tail, data, next->len)) {
		return -2;
	}
	r->eof = next->last;
	release(r, r->current++);
	progress(r, next->len);
	return 0;
}

static int report(struct votes_reader *r)
{
	const struct votes_scan *s = &r->scan;
	if (s->oom)
		return -2;
	if (s->err_record)
		r->h->error(r->ctx, "%s:%ld: record %llu: %s%s%s%s", r->path, s->err_line,
			    (unsigned long long)s->err_record, s->field ? "field '" : "",
			    s->field ? s->field : "", s->field ? "': " : "", s->msg);
	else
		r->h->error(r->ctx, "%s:%ld: %s", r->path, s->err_line, s->msg);
	return -1;
}

int votes_reader_next(struct votes_reader *r, struct votes_battle *b)
{
	if (!r->p) {
		struct block *first;
		int rc = take(r, 0, &first);
		if (rc)
			return rc;
		r->p = first->mem + BLOCK_HEAD;
		r->end = r->p + first->len;
		r->eof = first->last;
		progress(r, first->len);
	}
	for (;;) {
		int rc = votes_scan_next(&r->scan, &r->p, r->end, r->eof, b);
		if (rc == VOTES_SCAN_RECORD) {
			r->line = b->line;
			r->record = b->record;
			return 1;
		}
		if (rc == VOTES_SCAN_END)
			return 0;
		if (rc == VOTES_SCAN_ERROR)
			return report(r);
		if ((rc = advance(r)) != 0)
			return rc;
	}
}

int votes_reader_error(struct votes_reader *r, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return r->h->error(r->ctx, "%s:%ld: record %llu: field '%s': %s", r->path, r->line,
			   (unsigned long long)r->record, field, msg);
}

void votes_reader_close(struct votes_reader *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	if (r->in)
		r->h->input_close(r->in);
	free_blocks(r);
	free(r->big);
	votes_scan_free(&r->scan);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

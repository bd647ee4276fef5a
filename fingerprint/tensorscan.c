/* The data scan behind `kaieval fingerprint` (see tensorscan.h). */
#include "tensorscan.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blake3.h"
#include "fpsample.h"
#include "treehash.h"
#include "xxh128.h"

/* A work item is up to this many units (8 MiB): large enough to keep the
 * queue short, small enough to balance two threads on a few big tensors. */
#define ITEM_UNITS 32u
#define LEAVES_PER_UNIT (KV_MOM_UNIT / KV_TH_LEAF)

_Static_assert(KV_B3_PIECE == KV_MOM_UNIT, "a unit is one BLAKE3 piece");
_Static_assert(KV_XX_UNIT == KV_MOM_UNIT, "a unit is one XXH3-128 tree unit");

struct tensor_work {
	const struct kv_st_tensor *t;
	const uint8_t *p;            /* the tensor's first byte */
	uint64_t bytes, leaves, units;
	enum kv_float_kind kind;
	uint8_t *digests;            /* per unit (XXH3-128, BLAKE3) or per leaf (SHA-256 tree) */
	struct kv_moments *unit_moments;
};

struct item {
	size_t tensor;
	uint64_t unit0, unit1;
};

struct scan {
	const struct kv_ts_options *o;
	struct tensor_work *tw;
	size_t tensors;
	struct item *items;
	size_t item_count;
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	size_t next_item;
	unsigned running;            /* workers not yet finished */
	uint64_t bytes_done;
	int failed;
	size_t lost_tensor;          /* failed by SIGBUS: the tensor whose pages were gone */
	int lost;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- one unit ------------------------------------------------------------ */

static int hash_leaves(const struct scan *s, const struct tensor_work *w, uint64_t u, const uint8_t *p, size_t len)
{
	uint8_t *d = w->digests + 32 * (u * LEAVES_PER_UNIT);
	size_t whole = len / KV_TH_LEAF;
	if (kv_th_leaves(s->o->simd, p, whole, d))
		return -1;
	return len % KV_TH_LEAF ? kv_sha256(p + whole * KV_TH_LEAF, len % KV_TH_LEAF, d + 32 * whole) : 0;
}

static int scan_unit(const struct scan *s, const struct tensor_work *w, uint64_t u)
{
	uint64_t off = u * KV_MOM_UNIT;
	size_t len = (size_t)(w->bytes - off < KV_MOM_UNIT ? w->bytes - off : KV_MOM_UNIT);
	const uint8_t *p = w->p + off;
	if (s->o->hash == KV_TS_XXH128_TREE)
		kv_xx_unit(s->o->simd, p, len, w->digests + KV_XX_DIGEST * u);
	else if (s->o->hash == KV_TS_BLAKE3)
		kv_b3_piece(s->o->simd, p, len, u, w->units == 1, w->digests + 32 * u);
	else if (hash_leaves(s, w, u, p, len))
		return -1;
	if (w->kind != KV_FK_NONE)
		kv_moments_unit(s->o->simd, w->kind, p, len / kv_float_size(w->kind), &w->unit_moments[u]);
	return 0;
}

static int scan_item(const struct scan *s, const struct item *it)
{
	for (uint64_t u = it->unit0; u < it->unit1; u++)
		if (scan_unit(s, &s->tw[it->tensor], u))
			return -1;
	return 0;
}

static uint64_t item_bytes(const struct scan *s, const struct item *it)
{
	uint64_t end = it->unit1 * KV_MOM_UNIT, bytes = s->tw[it->tensor].bytes;
	return (end < bytes ? end : bytes) - it->unit0 * KV_MOM_UNIT;
}

/* ---- a file that shrinks under its mapping ------------------------------------
 * Reading a page of a mapped file past its (new) end raises SIGBUS.  Every
 * read of tensor data runs under guard(): the handler jumps back there, and
 * the scan ends with an error naming the tensor instead of a crash.  A
 * SIGBUS outside a guard gets the default action. */

static __thread sigjmp_buf *bus_jump;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	if (bus_jump)
		siglongjmp(*bus_jump, 1);
	signal(sig, SIG_DFL); /* not ours: the fault repeats, with the default action */
}

/* fn(s, arg) with a SIGBUS in it turned into -2.  Nothing fn does
 * allocates (the leaf hashes reuse a per-thread digest context, the
 * sample buffer is owned by its result), so the jump loses nothing. */
static int guard(struct scan *s, int (*fn)(struct scan *s, const void *arg), const void *arg)
{
	sigjmp_buf here;
	if (sigsetjmp(here, 1)) { /* 1: the handler's blocked SIGBUS is unblocked again */
		bus_jump = NULL;
		return -2;
	}
	bus_jump = &here;
	int rc = fn(s, arg);
	bus_jump = NULL;
	return rc;
}

static int scan_item_fn(struct scan *s, const void *it) { return scan_item(s, it); }

/* The first tensor whose pages were found gone is the one reported. */
static void note_lost(struct scan *s, size_t tensor)
{
	if (!s->lost) {
		s->lost = 1;
		s->lost_tensor = tensor;
	}
}

/* Item i's outcome rc (0, -1, or -2: pages lost); called under s->lock
 * when threads run. */
static void account(struct scan *s, size_t i, int rc)
{
	s->failed |= rc != 0;
	if (rc == -2)
		note_lost(s, s->items[i].tensor);
	s->bytes_done += item_bytes(s, &s->items[i]);
}

/* ---- threads --------------------------------------------------------------- */

static void *worker(void *arg)
{
	struct scan *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		size_t i = s->next_item < s->item_count && !s->failed ? s->next_item++ : s->item_count;
		if (i == s->item_count) {
			s->running--;
			pthread_cond_signal(&s->done_cond);
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		pthread_mutex_unlock(&s->lock);
		int rc = guard(s, scan_item_fn, &s->items[i]);
		pthread_mutex_lock(&s->lock);
		account(s, i, rc);
		pthread_mutex_unlock(&s->lock);
	}
}

static unsigned thread_count(const struct kv_ts_options *o, size_t items)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = o->threads ? o->threads : cpus > 0 ? (unsigned)cpus : 1;
	if (n > 256)
		n = 256;
	return items < n ? (unsigned)(items ? items : 1) : n;
}

/* The calling thread waits and reports progress every quarter second. */
static void wait_for_workers(struct scan *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->done_cond, &s->lock, &ts);
		if (s->o->progress)
			s->o->progress(s->o->progress_arg, s->bytes_done);
	}
	pthread_mutex_unlock(&s->lock);
}

static int run_items(struct scan *s)
{
	unsigned n = thread_count(s->o, s->item_count);
	pthread_t *tid = n > 1 ? calloc(n, sizeof *tid) : NULL;
	size_t started = 0;
	for (unsigned i = 0; tid && i < n; i++) {
		pthread_mutex_lock(&s->lock);
		s->running++;
		pthread_mutex_unlock(&s->lock);
		if (pthread_create(&tid[started], NULL, worker, s) == 0) {
			started++;
			continue;
		}
		pthread_mutex_lock(&s->lock);
		s->running--;
		pthread_mutex_unlock(&s->lock);
	}
	if (started == 0) {
		/* One thread, or none could start: work here, with progress. */
		for (size_t i = 0; i < s->item_count && !s->failed; i++) {
			account(s, i, guard(s, scan_item_fn, &s->items[i]));
			if (s->o->progress)
				s->o->progress(s->o->progress_arg, s->bytes_done);
		}
	} else {
		wait_for_workers(s);
		for (size_t i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
	}
	free(tid);
	return s->failed ? -1 : 0;
}

/* ---- setup and results ------------------------------------------------------ */

static int plan_tensor(const struct kv_st_header *h, const uint8_t *data, size_t i, enum kv_ts_hash hash,
		       struct tensor_work *w, size_t *items)
{
	const struct kv_st_tensor *t = &h->tensors[i];
	w->t = t;
	if (t->end < t->begin || t->end > h->data_len)
		return -1;  /* impossible after kv_st_parse_file: refuse rather than read */
	w->p = data + t->begin;
	w->bytes = t->end - t->begin;
	w->kind = kv_float_kind(t->dtype);
	w->leaves = w->bytes / KV_TH_LEAF + (w->bytes % KV_TH_LEAF != 0);
	w->units = w->bytes / KV_MOM_UNIT + (w->bytes % KV_MOM_UNIT != 0);
	uint64_t digests = hash == KV_TS_SHA256_TREE ? w->leaves : w->units;
	w->digests = malloc(32 * (digests ? digests : 1));
	w->unit_moments = calloc(w->units ? w->units : 1, sizeof *w->unit_moments);
	if (!w->digests || !w->unit_moments)
		return -2;
	*items += (size_t)((w->units + ITEM_UNITS - 1) / ITEM_UNITS);
	return 0;
}

static void make_items(struct scan *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->tensors; i++)
		for (uint64_t u = 0; u < s->tw[i].units; u += ITEM_UNITS) {
			uint64_t end = u + ITEM_UNITS < s->tw[i].units ? u + ITEM_UNITS : s->tw[i].units;
			s->items[n++] = (struct item){i, u, end};
		}
	s->item_count = n;
}

/* Every element equal to the first: the bytes repeat with the element's period. */
static int constant_bytes(const struct tensor_work *w)
{
	uint64_t size = w->t->bits >= 8 ? w->t->bits / 8 : 1;
	return w->bytes <= size || memcmp(w->p, w->p + size, (size_t)(w->bytes - size)) == 0;
}

static int take_sample(const struct tensor_work *w, uint64_t k, struct kv_ts_result *r)
{
	const struct kv_st_tensor *t = w->t;
	unsigned size = kv_float_size(w->kind);
	r->sample_count = kv_fp_sample_count(t->numel, k);
	r->sample = malloc(r->sample_count ? (size_t)r->sample_count * size : 1);
	if (!r->sample)
		return -1;
	uint64_t key = kv_fp_shape_key(t->rank, t->shape);
	for (uint64_t j = 0; j < r->sample_count; j++) {
		uint64_t at = kv_fp_position(key, j, t->numel, k);
		memcpy(r->sample + j * size, w->p + at * size, size);
	}
	return 0;
}

/* Up to one unit the hash is that unit's digest (none for an empty tensor). */
static int xx_content_hash(const struct scan *s, const struct tensor_work *w, uint8_t out[32])
{
	if (w->units == 0)
		kv_xx_unit(s->o->simd, w->p, 0, out);
	else if (w->units == 1)
		memcpy(out, w->digests, KV_XX_DIGEST);
	else
		return kv_xx_root(w->bytes, w->digests, (size_t)w->units, out);
	return 0;
}

/* The tensor's hash from its units' (or leaves') digests; a one-unit
 * tensor's BLAKE3 piece was hashed as the root already. */
static int content_hash(const struct scan *s, const struct tensor_work *w, uint8_t out[32])
{
	if (s->o->hash == KV_TS_SHA256_TREE)
		return kv_th_root(w->bytes, w->digests, (size_t)w->leaves, out);
	if (s->o->hash == KV_TS_XXH128_TREE)
		return xx_content_hash(s, w, out);
	if (w->units == 0)
		kv_b3_piece(s->o->simd, w->p, 0, 0, 1, out);
	else if (w->units == 1)
		memcpy(out, w->digests, 32);
	else
		kv_b3_root(w->digests, (size_t)w->units, out);
	return 0;
}

static int finish_tensor(const struct scan *s, const struct tensor_work *w, struct kv_ts_result *r)
{
	r->kind = w->kind;
	if (content_hash(s, w, r->hash))
		return -1;
	if (w->kind == KV_FK_NONE) {
		r->constant = constant_bytes(w);
		return 0;
	}
	kv_moments_init(&r->moments);
	for (uint64_t u = 0; u < w->units; u++)
		kv_moments_add(&r->moments, &w->unit_moments[u]);
	const struct kv_moments *m = &r->moments;
	r->constant = m->finite == 0 || (m->nonfinite == 0 && m->min == m->max);
	return take_sample(w, s->o->sample_size, r);
}

static void free_work(struct scan *s)
{
	for (size_t i = 0; s->tw && i < s->tensors; i++) {
		free(s->tw[i].digests);
		free(s->tw[i].unit_moments);
	}
	free(s->tw);
	free(s->items);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->done_cond);
}

static int plan(struct scan *s, const struct kv_st_header *h, const uint8_t *data, char *err, size_t errlen)
{
	size_t items = 0;
	s->tw = calloc(h->count ? h->count : 1, sizeof *s->tw);
	if (!s->tw)
		return fail(err, errlen, "out of memory");
	for (size_t i = 0; i < h->count; i++) {
		int rc = plan_tensor(h, data, i, s->o->hash, &s->tw[i], &items);
		if (rc == -1)
			return fail(err, errlen, "tensor '%s': data offsets outside the data buffer",
				    h->tensors[i].name);
		if (rc)
			return fail(err, errlen, "out of memory");
	}
	s->items = calloc(items ? items : 1, sizeof *s->items);
	if (!s->items)
		return fail(err, errlen, "out of memory");
	make_items(s);
	return 0;
}

struct finish {
	size_t tensor;
	struct kv_ts_result *r;
};

static int finish_fn(struct scan *s, const void *arg)
{
	const struct finish *f = arg;
	return finish_tensor(s, &s->tw[f->tensor], f->r);
}

/* The results once every item is scanned; -2 with s->lost set when a
 * tensor's pages are gone. */
static int finish_all(struct scan *s, struct kv_ts_result *r, size_t *bad)
{
	for (size_t i = 0; i < s->tensors; i++) {
		struct finish f = {i, &r[i]};
		int rc = guard(s, finish_fn, &f);
		if (rc == -2)
			note_lost(s, i);
		if (rc) {
			*bad = i;
			return rc;
		}
	}
	return 0;
}

static int lost_pages(const struct kv_st_header *h, size_t tensor, char *err, size_t errlen)
{
	fail(err, errlen, "tensor '%s': its data could not be read: the file shrank while it was being "
	     "scanned", h->tensors[tensor].name);
	return -2;
}

int kv_ts_scan(const struct kv_st_header *h, const uint8_t *data, const struct kv_ts_options *o,
	       struct kv_ts_result **out, char *err, size_t errlen)
{
	struct scan s = {.o = o, .tensors = h->count};
	struct sigaction bus = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO}, old_bus;
	size_t bad = 0;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.done_cond, NULL);
	sigemptyset(&bus.sa_mask);
	sigaction(SIGBUS, &bus, &old_bus);
	*out = NULL;
	struct kv_ts_result *r = calloc(h->count ? h->count : 1, sizeof *r);
	int rc = r ? plan(&s, h, data, err, errlen) : fail(err, errlen, "out of memory");
	if (!rc && run_items(&s))
		rc = s.lost ? lost_pages(h, s.lost_tensor, err, errlen)
			    : fail(err, errlen, "hashing failed (out of memory in OpenSSL?)");
	if (!rc && finish_all(&s, r, &bad))
		rc = s.lost ? lost_pages(h, s.lost_tensor, err, errlen)
			    : fail(err, errlen, "tensor '%s': out of memory", h->tensors[bad].name);
	sigaction(SIGBUS, &old_bus, NULL);
	free_work(&s);
	if (rc)
		kv_ts_free(r, h->count);
	else
		*out = r;
	return rc;
}

void kv_ts_free(struct kv_ts_result *r, size_t count)
{
	for (size_t i = 0; r && i < count; i++)
		free(r[i].sample);
	free(r);
}

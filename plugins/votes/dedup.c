/* The ballot set: one ballot per (judge, question, unordered pair).
 *
 * Keeping every key's text would cost the question ids of all battles
 * (hundreds of MB for 10 million), so the set keeps each key's 128-bit
 * fingerprint (siphash.c).
 *
 * A single table of a few hundred MB would make every insert a cache and
 * TLB miss (about 100 ns each, 1 s at 10^7 ballots).  So ballots are only
 * appended, in file order, to one of PARTS lists chosen by the caller's
 * group (sequential writes), and decided in votes_dedup_finish(): part by
 * part (parts on several threads at once), against a table built afresh
 * for that part, small enough to stay in cache.  Equal keys fall in the
 * same part and are decided there in file order, so "the first counts"
 * holds exactly; only the moment a ballot is counted moves (counts are
 * integer sums, so that changes nothing).  The cost: 24 bytes per ballot
 * (duplicates included) until the end.  List chunks are cut from slabs of
 * one 2 MB page (votes_huge_alloc), all released by votes_dedup_free. */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#define PARTS 256
#define CHUNK 2730              /* ballots per list chunk: 64 KB */
#define BATCH 256               /* ballots handed to decide() at once */

struct entry { struct votes_fp fp; uint64_t payload; };

struct chunk {
	struct chunk *next;
	struct entry e[CHUNK];
};

#define SLAB_CHUNKS 32
struct slab {
	struct slab *next;
	struct chunk c[SLAB_CHUNKS];
};
_Static_assert(sizeof(struct slab) <= VOTES_HUGE_PAGE, "a slab is one 2 MB page");

/* An append touches only this (and the entry): the write cursor is here,
 * not in the chunk, to save a dependent load per ballot. */
struct part {
	struct chunk *head, *tail;  /* the part's ballots in file order */
	struct entry *next, *end;   /* the free room of the tail chunk */
	size_t ballots, distinct;
};

/* What one deciding thread works in. */
struct scratch {
	struct votes_fp *slots;    /* the table of the part being decided */
	size_t slots_cap;
	uint64_t payload[BATCH];
	unsigned char first[BATCH];
	int failed;                /* out of memory */
};

struct votes_dedup {
	votes_decide_fn *decide;
	void *arg;
	struct part parts[PARTS];
	struct scratch scratch[VOTES_DEDUP_THREADS];
	struct slab *slabs;         /* newest first */
	size_t slab_used;           /* chunks handed out of the newest */
};

struct votes_dedup *votes_dedup_new(votes_decide_fn *decide, void *arg)
{
	struct votes_dedup *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->decide = decide;
	d->arg = arg;
	return d;
}

/* The chunks stay in their slabs until votes_dedup_free. */
static void drop_chunks(struct part *p)
{
	p->head = p->tail = NULL;
	p->next = p->end = NULL;
}

void votes_dedup_free(struct votes_dedup *d)
{
	if (!d)
		return;
	while (d->slabs) {
		struct slab *next = d->slabs->next;
		free(d->slabs);
		d->slabs = next;
	}
	for (size_t i = 0; i < VOTES_DEDUP_THREADS; i++)
		free(d->scratch[i].slots);
	free(d);
}

static size_t place(const struct votes_fp *slots, size_t mask, struct votes_fp fp, int *found)
{
	size_t i = fp.h0 & mask;
	for (;; i = (i + 1) & mask) {
		if (slots[i].h0 == fp.h0 && slots[i].h1 == fp.h1) {
			*found = 1;
			return i;
		}
		if (!slots[i].h0 && !slots[i].h1) {
			*found = 0;
			return i;
		}
	}
}

/* An empty table for n keys (<= 3/4 full); its mask, or 0 out of memory. */
static size_t empty_table(struct scratch *w, size_t n)
{
	size_t capacity = 1024;
	while (n * 4 > capacity * 3)
		capacity *= 2;
	if (capacity > w->slots_cap) {
		free(w->slots);
		w->slots = malloc(capacity * sizeof *w->slots);
		w->slots_cap = w->slots ? capacity : 0;
		if (!w->slots)
			return 0;
	}
	memset(w->slots, 0, capacity * sizeof *w->slots);
	return capacity - 1;
}

/* Decide the ballots of part p in file order, on thread `thread`, then
 * drop its list. */
static int decide_part(struct votes_dedup *d, struct part *p, unsigned thread)
{
	struct scratch *w = &d->scratch[thread];
	size_t mask = empty_table(w, p->ballots), n = 0;
	if (!mask)
		return -1;
	for (const struct chunk *c = p->head; c; c = c->next) {
		size_t used = c == p->tail ? (size_t)(p->next - c->e) : CHUNK;
		for (size_t i = 0; i < used; i++) {
			int found;
			size_t s = place(w->slots, mask, c->e[i].fp, &found);
			w->slots[s] = c->e[i].fp;
			p->distinct += !found;
			w->payload[n] = c->e[i].payload;
			w->first[n] = !found;
			if (++n == BATCH) {
				d->decide(d->arg, thread, w->payload, w->first, n);
				n = 0;
			}
		}
	}
	if (n)
		d->decide(d->arg, thread, w->payload, w->first, n);
	drop_chunks(p);
	p->ballots = 0;
	return 0;
}

static void finish_part(void *arg, size_t i, unsigned thread)
{
	struct votes_dedup *d = arg;
	if (d->parts[i].ballots && decide_part(d, &d->parts[i], thread))
		d->scratch[thread].failed = 1;
}

static int new_chunk(struct votes_dedup *d, struct part *p)
{
	if (!d->slabs || d->slab_used == SLAB_CHUNKS) {
		struct slab *s = votes_huge_alloc(sizeof *s);
		if (!s)
			return -1;
		s->next = d->slabs;
		d->slabs = s;
		d->slab_used = 0;
	}
	struct chunk *c = &d->slabs->c[d->slab_used++];
	c->next = NULL;
	*(p->tail ? &p->tail->next : &p->head) = c;
	p->tail = c;
	p->next = c->e;
	p->end = c->e + CHUNK;
	return 0;
}

int votes_dedup_add(struct votes_dedup *d, struct votes_fp fp, uint32_t group, uint64_t payload)
{
	struct part *p = &d->parts[group % PARTS];
	if (p->next == p->end && new_chunk(d, p))
		return -1;
	p->next->fp = fp;
	p->next->payload = payload;
	p->next++;
	p->ballots++;
	return 0;
}

unsigned votes_dedup_threads(unsigned threads)
{
	return threads < 1 ? 1 : threads > VOTES_DEDUP_THREADS ? VOTES_DEDUP_THREADS : threads;
}

int votes_dedup_finish(struct votes_dedup *d, unsigned threads)
{
	int failed = 0;
	threads = votes_dedup_threads(threads);
	votes_parallel_fixed(PARTS, threads, finish_part, d);
	for (unsigned t = 0; t < threads; t++)
		failed |= d->scratch[t].failed;
	return failed ? -1 : 0;
}

size_t votes_dedup_ballots_of_thread(const struct votes_dedup *d, unsigned threads, unsigned t)
{
	size_t n = 0;
	threads = votes_dedup_threads(threads);
	for (size_t i = t; i < PARTS; i += threads) /* votes_parallel_fixed's split */
		n += d->parts[i].ballots;
	return n;
}

size_t votes_dedup_count(const struct votes_dedup *d)
{
	size_t n = 0;
	for (size_t i = 0; i < PARTS; i++)
		n += d->parts[i].distinct;
	return n;
}

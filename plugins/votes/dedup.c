/* The ballot set: one ballot per (judge, question, unordered pair).
 *
 * Keeping every key's text would cost the question ids of all battles
 * (hundreds of MB for 10 million), so the set keeps a 128-bit fingerprint:
 * SipHash-1-3 (Aumasson & Bernstein; the variant Python and Rust use for
 * their hash tables) keyed from the round's generator.  SipHash is a PRF,
 * so for distinct keys a shared fingerprint has probability about n^2/2^129
 * (below 1e-24 for 10^7 ballots) whatever the ids look like.  The judge
 * id and the question id enter as text, the pair as an index, so the
 * fingerprint and the first-come rule depend on the file alone.
 *
 * A single table of a few hundred MB would make every insert a cache and
 * TLB miss (about 100 ns each, 1 s at 10^7 ballots).  So ballots are only
 * appended, in file order, to one of PARTS lists chosen by the caller's
 * group (sequential writes), and decided in votes_dedup_finish(): part by part
 * (parts on several threads at once), against a table built afresh for
 * that part, small enough to stay in cache.  Equal keys fall in the same part and are decided there in file
 * order, so "the first counts" holds exactly; only the moment a ballot is
 * counted moves (counts are integer sums, so that changes nothing).  The
 * cost: 24 bytes per ballot (duplicates included) until the end. */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#define PARTS 256
#define CHUNK 2730              /* ballots per list chunk: 64 KB */
#define BATCH 256               /* ballots handed to decide() at once */

struct entry { struct votes_fp fp; uint64_t payload; };

struct chunk {
	struct chunk *next;
	size_t n;
	struct entry e[CHUNK];
};

struct part {
	struct chunk *head, *tail;  /* the part's ballots in file order */
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
};

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
	} while (0)

static inline uint64_t le64(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* SipHash, fed in pieces. */
struct sip {
	uint64_t v0, v1, v2, v3;
	int c;                  /* compression rounds */
	unsigned char tail[8];
	size_t tail_len, len;
};

static void sip_init(struct sip *h, uint64_t k0, uint64_t k1, int c)
{
	h->v0 = k0 ^ 0x736f6d6570736575ULL;
	h->v1 = (k1 ^ 0x646f72616e646f6dULL) ^ 0xee; /* 128-bit output */
	h->v2 = k0 ^ 0x6c7967656e657261ULL;
	h->v3 = k1 ^ 0x7465646279746573ULL;
	h->c = c;
	h->tail_len = h->len = 0;
}

static void sip_word(struct sip *h, uint64_t w)
{
	uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2, v3 = h->v3;
	v3 ^= w;
	for (int r = 0; r < h->c; r++)
		SIPROUND;
	v0 ^= w;
	h->v0 = v0, h->v1 = v1, h->v2 = v2, h->v3 = v3;
}

static void sip_update(struct sip *h, const void *data, size_t n)
{
	const unsigned char *m = data;
	h->len += n;
	while (h->tail_len && n) { /* complete a word begun by the last piece */
		h->tail[h->tail_len++] = *m++;
		n--;
		if (h->tail_len == 8) {
			sip_word(h, le64(h->tail));
			h->tail_len = 0;
		}
	}
	for (; n >= 8; m += 8, n -= 8)
		sip_word(h, le64(m));
	if (n)
		memcpy(h->tail + h->tail_len, m, n);
	h->tail_len += n;
}

static void sip_final(struct sip *h, int d, uint64_t out[2])
{
	uint64_t last = (uint64_t)h->len << 56;
	for (size_t i = 0; i < h->tail_len; i++)
		last |= (uint64_t)h->tail[i] << (8 * i);
	sip_word(h, last);
	uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2 ^ 0xee, v3 = h->v3;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash of msg[0..len) in one go: the common case, kept in registers. */
static void sip_oneshot(uint64_t k0, uint64_t k1, int c, int d, const unsigned char *m, size_t len,
			uint64_t out[2])
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = (k1 ^ 0x646f72616e646f6dULL) ^ 0xee;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	size_t whole = len & ~(size_t)7;
	uint64_t last = (uint64_t)len << 56;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t w = le64(m + i);
		v3 ^= w;
		for (int r = 0; r < c; r++)
			SIPROUND;
		v0 ^= w;
	}
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)m[whole + i] << (8 * i);
	v3 ^= last;
	for (int r = 0; r < c; r++)
		SIPROUND;
	v0 ^= last;
	v2 ^= 0xee;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	for (int r = 0; r < d; r++)
		SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* In pieces when split is nonzero (the tests check both ways agree). */
void votes_siphash128(uint64_t k0, uint64_t k1, int c, int d, const void *msg, size_t len, size_t split,
		      uint64_t out[2])
{
	struct sip h;
	if (!split || split > len) {
		sip_oneshot(k0, k1, c, d, msg, len, out);
		return;
	}
	sip_init(&h, k0, k1, c);
	for (size_t at = 0; at < len; at += split)
		sip_update(&h, (const char *)msg + at, len - at < split ? len - at : split);
	sip_final(&h, d, out);
}

/* The ballot key: (length of the judge id, pair) as 8 bytes, the judge id,
 * the question id; the length makes the split between the two ids exact. */
struct votes_fp votes_fingerprint(const uint64_t key[2], uint32_t pair, const char *judge, size_t judge_len,
				  const char *question, size_t question_len)
{
	unsigned char msg[256];
	uint64_t out[2], word = (uint64_t)pair << 32 | (uint32_t)judge_len;
	for (int i = 0; i < 8; i++)
		msg[i] = (unsigned char)(word >> (8 * i));
	if (8 + judge_len + question_len <= sizeof msg) { /* the same bytes, hashed in one go */
		memcpy(msg + 8, judge, judge_len);
		if (question_len)
			memcpy(msg + 8 + judge_len, question, question_len);
		sip_oneshot(key[0], key[1], 1, 3, msg, 8 + judge_len + question_len, out);
	} else {
		struct sip h;
		sip_init(&h, key[0], key[1], 1);
		sip_update(&h, msg, 8);
		sip_update(&h, judge, judge_len);
		sip_update(&h, question, question_len);
		sip_final(&h, 3, out);
	}
	struct votes_fp fp = {out[0], out[1]};
	if (!fp.h0 && !fp.h1) /* all-zero marks an empty slot */
		fp.h1 = 1;
	return fp;
}

struct votes_dedup *votes_dedup_new(votes_decide_fn *decide, void *arg)
{
	struct votes_dedup *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->decide = decide;
	d->arg = arg;
	return d;
}

static void free_chunks(struct part *p)
{
	while (p->head) {
		struct chunk *next = p->head->next;
		free(p->head);
		p->head = next;
	}
	p->tail = NULL;
}

void votes_dedup_free(struct votes_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < PARTS; i++)
		free_chunks(&d->parts[i]);
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
		for (size_t i = 0; i < c->n; i++) {
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
	free_chunks(p);
	p->ballots = 0;
	return 0;
}

static void finish_part(void *arg, size_t i, unsigned thread)
{
	struct votes_dedup *d = arg;
	if (d->parts[i].ballots && decide_part(d, &d->parts[i], thread))
		d->scratch[thread].failed = 1;
}

int votes_dedup_add(struct votes_dedup *d, struct votes_fp fp, uint32_t group, uint64_t payload)
{
	struct part *p = &d->parts[group % PARTS];
	struct chunk *c = p->tail;
	if (!c || c->n == CHUNK) {
		if (!(c = malloc(sizeof *c)))
			return -1;
		c->next = NULL;
		c->n = 0;
		*(p->tail ? &p->tail->next : &p->head) = c;
		p->tail = c;
	}
	c->e[c->n].fp = fp;
	c->e[c->n++].payload = payload;
	p->ballots++;
	return 0;
}

int votes_dedup_finish(struct votes_dedup *d, unsigned threads)
{
	int failed = 0;
	threads = threads < 1 ? 1 : threads > VOTES_DEDUP_THREADS ? VOTES_DEDUP_THREADS : threads;
	votes_parallel(PARTS, threads, finish_part, d);
	for (unsigned t = 0; t < threads; t++)
		failed |= d->scratch[t].failed;
	return failed ? -1 : 0;
}

size_t votes_dedup_count(const struct votes_dedup *d)
{
	size_t n = 0;
	for (size_t i = 0; i < PARTS; i++)
		n += d->parts[i].distinct;
	return n;
}

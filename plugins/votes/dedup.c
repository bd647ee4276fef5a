/* The ballot set: one ballot per (judge, question, unordered pair).
 *
 * Keeping every key's text would cost the question ids of all battles
 * (hundreds of MB for 10 million), so the set keeps a 128-bit fingerprint:
 * SipHash-1-3 (Aumasson & Bernstein; the variant Python and Rust use for
 * their hash tables) keyed from the round's generator.  SipHash is a PRF,
 * so for distinct keys a shared fingerprint has probability about n^2/2^129
 * (below 1e-24 for 10^7 ballots) whatever the ids look like.  The judge
 * enters as its index (first appearance order), the pair as an index, so
 * the fingerprint and the first-come rule depend on the file alone.
 *
 * A single table of a few hundred MB would make every insert a cache and
 * TLB miss.  So the set is split into PARTS tables by fingerprint bits, and
 * ballots wait in a small buffer per table; a full buffer is decided in one
 * go against a table that stays in cache.  Equal keys fall in the same table
 * and are decided there in file order, so "the first counts" holds exactly;
 * only the moment a ballot is counted moves (counts are integer sums, so
 * that changes nothing). */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#define PARTS 256
#define WAIT 64                 /* buffered ballots per table */

struct entry { struct votes_fp fp; uint64_t payload; };

struct part {
	struct votes_fp *slots; /* open addressing, linear probing, <= 3/4 full */
	size_t mask, count;
	struct entry wait[WAIT];
	size_t waiting;
};

struct votes_dedup {
	uint64_t k0, k1;
	void (*decide)(void *arg, const uint64_t *payload, const unsigned char *first, size_t n);
	void *arg;
	struct part parts[PARTS];
	uint64_t payload[WAIT];
	unsigned char first[WAIT];
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

/* SipHash of (prefix as 8 little-endian bytes, when given) followed by m. */
static void siphash(uint64_t k0, uint64_t k1, int c, int d, const uint64_t *prefix,
		    const unsigned char *m, size_t len, uint64_t out[2])
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	v1 ^= 0xee;
	if (prefix) {
		v3 ^= *prefix;
		for (int r = 0; r < c; r++)
			SIPROUND;
		v0 ^= *prefix;
	}
	size_t whole = len & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t w = le64(m + i);
		v3 ^= w;
		for (int r = 0; r < c; r++)
			SIPROUND;
		v0 ^= w;
	}
	uint64_t last = (uint64_t)(len + (prefix ? 8 : 0)) << 56;
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

void votes_siphash128(uint64_t k0, uint64_t k1, int c, int d, const void *msg, size_t len,
		      uint64_t out[2])
{
	siphash(k0, k1, c, d, NULL, msg, len, out);
}

struct votes_fp votes_dedup_fingerprint(const struct votes_dedup *d, uint32_t judge, uint32_t pair,
					const char *question, size_t len)
{
	uint64_t head = (uint64_t)pair << 32 | judge, out[2];
	siphash(d->k0, d->k1, 1, 3, &head, (const unsigned char *)question, len, out);
	struct votes_fp fp = {out[0], out[1]};
	if (!fp.h0 && !fp.h1) /* all-zero marks an empty slot */
		fp.h1 = 1;
	return fp;
}

struct votes_dedup *votes_dedup_new(uint64_t key0, uint64_t key1,
				    void (*decide)(void *arg, const uint64_t *payload, const unsigned char *first,
						   size_t n), void *arg)
{
	struct votes_dedup *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->k0 = key0;
	d->k1 = key1;
	d->decide = decide;
	d->arg = arg;
	return d;
}

void votes_dedup_free(struct votes_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < PARTS; i++)
		free(d->parts[i].slots);
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

/* Room for n more keys in table p. */
static int reserve(struct part *p, size_t n)
{
	size_t capacity = p->slots ? p->mask + 1 : 0;
	if ((p->count + n) * 4 <= capacity * 3)
		return 0;
	while ((p->count + n) * 4 > capacity * 3)
		capacity = capacity ? 2 * capacity : 1024;
	struct votes_fp *slots = calloc(capacity, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; p->slots && i <= p->mask; i++) {
		int found;
		if (p->slots[i].h0 || p->slots[i].h1)
			slots[place(slots, capacity - 1, p->slots[i], &found)] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->mask = capacity - 1;
	return 0;
}

/* Decide the waiting ballots of table p, in the order they came. */
static int decide(struct votes_dedup *d, struct part *p)
{
	if (reserve(p, p->waiting))
		return -1;
	for (size_t i = 0; i < p->waiting; i++) /* the probes are independent: overlap their misses */
		__builtin_prefetch(&p->slots[p->wait[i].fp.h0 & p->mask]);
	for (size_t i = 0; i < p->waiting; i++) {
		int found;
		size_t s = place(p->slots, p->mask, p->wait[i].fp, &found);
		if (!found) {
			p->slots[s] = p->wait[i].fp;
			p->count++;
		}
		d->payload[i] = p->wait[i].payload;
		d->first[i] = !found;
	}
	d->decide(d->arg, d->payload, d->first, p->waiting);
	p->waiting = 0;
	return 0;
}

int votes_dedup_add(struct votes_dedup *d, struct votes_fp fp, uint64_t payload)
{
	struct part *p = &d->parts[fp.h1 >> 56];
	p->wait[p->waiting].fp = fp;
	p->wait[p->waiting].payload = payload;
	return ++p->waiting == WAIT ? decide(d, p) : 0;
}

int votes_dedup_finish(struct votes_dedup *d)
{
	for (size_t i = 0; i < PARTS; i++)
		if (d->parts[i].waiting && decide(d, &d->parts[i]))
			return -1;
	return 0;
}

size_t votes_dedup_count(const struct votes_dedup *d)
{
	size_t n = 0;
	for (size_t i = 0; i < PARTS; i++)
		n += d->parts[i].count;
	return n;
}

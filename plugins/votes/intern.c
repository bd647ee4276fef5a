/* Interning ids (judges, raters): each distinct string gets the next index,
 * in order of first appearance, so indices depend on the file alone.
 *
 * A slot keeps 32 bits of the hash, the length and the first 20 bytes of
 * its id, so a lookup of an id of up to 20 bytes (Arena's judge ids, such
 * as arena_user_1715708) touches one cache line, a longer one also its
 * text; callers with many lookups hash first and prefetch the slot
 * (votes_intern_prefetch).  32 bits place up to 2^32 slots. */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#define HEAD 20

struct votes_slot {
	uint32_t hash;        /* its low bits */
	uint32_t index;       /* + 1; 0 = empty */
	uint32_t len;
	char head[HEAD];      /* the id's first bytes, zero-padded */
};
_Static_assert(sizeof(struct votes_slot) == 32, "a slot is half a cache line");

/* The last n < 8 bytes of an id of `whole` bytes, at s.  An id of 8 bytes
 * or more gives them by one load of its last 8 bytes, shifted (see
 * votes_word; on 10 million Arena judge ids, the stall of reading them
 * back byte by byte was most of this hash's 0.24 s). */
static uint64_t tail(const char *s, size_t n, size_t whole)
{
	return n && whole >= 8 ? votes_word(s + n - 8, 8) >> (8 * (8 - n)) : votes_word(s, n);
}

/* Only places ids in the table: an adversarial id can slow, never change, a result. */
uint64_t votes_intern_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	size_t whole = n;
	for (; n >= 8; s += 8, n -= 8) {
		h = (h ^ votes_word(s, 8)) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h = (h ^ tail(s, n, whole)) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL; /* the low bits pick the slot: mix the high ones down */
	return h ^ (h >> 32);
}

void votes_intern_prefetch(const struct votes_intern *t, uint64_t hash)
{
	if (t->slots)
		__builtin_prefetch(&t->slots[hash & t->mask]);
}

static int rehash(struct votes_intern *t, size_t capacity)
{
	/* Lookups land anywhere in the table (Arena's 2 million judges take
	 * 128 MB of slots): in 4 KB pages most of them also missed the TLB. */
	struct votes_slot *slots = votes_huge_calloc(capacity, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; t->slots && i <= t->mask; i++) {
		if (!t->slots[i].index)
			continue;
		size_t s = t->slots[i].hash & (capacity - 1);
		while (slots[s].index)
			s = (s + 1) & (capacity - 1);
		slots[s] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->mask = capacity - 1;
	return 0;
}

/* Room for one more id of n bytes. */
static int room(struct votes_intern *t, size_t n)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		size_t *off = cap <= SIZE_MAX / sizeof *off ? votes_huge_realloc(t->off, t->count * sizeof *off,
										  cap * sizeof *off) : NULL;
		if (!off || t->count >= UINT32_MAX - 1)
			return -1;
		t->off = off;
		t->cap = cap;
	}
	if (t->text_len + n + 1 > t->text_cap) {
		size_t cap = t->text_cap ? t->text_cap : 1 << 14;
		while (cap < t->text_len + n + 1)
			cap *= 2;
		char *text = votes_huge_realloc(t->text, t->text_len, cap);
		if (!text)
			return -1;
		t->text = text;
		t->text_cap = cap;
	}
	/* at most 3/4 full: at 1/2, 8.4 million judges took 1 GB of slots,
	 * and 1.6 GB while the table doubled */
	if ((t->count + 1) * 4 > (t->slots ? 3 * (t->mask + 1) : 0))
		return t->slots && t->mask >= UINT32_MAX ? -1 : rehash(t, t->slots ? 2 * (t->mask + 1) : 1024);
	return 0;
}

/* An id of n <= HEAD bytes against a slot's head (zero past its id), a
 * word at a time: called on every lookup, memcmp's call cost as much as
 * the rest of it. */
_Static_assert(HEAD > 16 && HEAD <= 24, "a head is three words, the last partial");
static int same_head(const char *head, const char *s, size_t n)
{
	size_t first = n < 8 ? n : 8, second = n < 8 ? 0 : n < 16 ? n - 8 : 8, third = n < 16 ? 0 : n - 16;
	return votes_word(head, 8) == votes_word(s, first) && votes_word(head + 8, 8) == votes_word(s + 8, second) &&
	       votes_word(head + 16, HEAD - 16) == votes_word(s + 16, third);
}

static int same(const struct votes_intern *t, const struct votes_slot *x, uint64_t hash,
		const char *s, size_t n)
{
	if (x->hash != (uint32_t)hash || x->len != n)
		return 0;
	if (n <= HEAD)
		return same_head(x->head, s, n);
	return memcmp(x->head, s, HEAD) == 0 &&
	       memcmp(t->text + t->off[x->index - 1] + HEAD, s + HEAD, n - HEAD) == 0;
}

long votes_intern_hashed(struct votes_intern *t, uint64_t hash, const char *s, size_t n, int *added)
{
	*added = 0;
	if (n > UINT32_MAX)
		return -1;
	for (size_t i = hash & t->mask; t->slots && t->slots[i].index; i = (i + 1) & t->mask)
		if (same(t, &t->slots[i], hash, s, n))
			return (long)t->slots[i].index - 1;
	if (room(t, n))
		return -1;
	size_t i = hash & t->mask;
	while (t->slots[i].index) /* the table may have been rebuilt by room() */
		i = (i + 1) & t->mask;
	size_t e = t->count++;
	struct votes_slot *x = &t->slots[i];
	x->hash = (uint32_t)hash;
	x->index = (uint32_t)e + 1;
	x->len = (uint32_t)n;
	memset(x->head, 0, sizeof x->head);
	memcpy(x->head, s, n < HEAD ? n : HEAD);
	t->off[e] = t->text_len;
	memcpy(t->text + t->text_len, s, n);
	t->text[t->text_len + n] = '\0';
	t->text_len += n + 1;
	*added = 1;
	return (long)e;
}

long votes_intern(struct votes_intern *t, const char *s, size_t n, int *added)
{
	return votes_intern_hashed(t, votes_intern_hash(s, n), s, n, added);
}

const char *votes_intern_name(const struct votes_intern *t, size_t i) { return t->text + t->off[i]; }

void votes_intern_free(struct votes_intern *t)
{
	free(t->slots);
	free(t->text);
	free(t->off);
	memset(t, 0, sizeof *t);
}

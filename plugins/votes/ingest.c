/* Reading a battle file into ballot counts and per-judge ballot lists
 * (method pairwise).
 *
 * Three threads share the work, so that it overlaps on two cores:
 *   - the read-ahead thread of reader.c reads blocks (the host hashes them);
 *   - a scanning thread parses records, checks them (models, winner, the
 *     anonymity filter), fingerprints the ballot key and fills batches;
 *   - the calling thread takes batches in order, numbers the judges, sends
 *     each ballot through the ballot set and counts the first of each key.
 * Batches pass strictly in file order through a small ring, so the result
 * does not depend on timing.  While the threads run, only the scanning
 * thread calls the host (errors, progress); it stops at the first error. */
#include "ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS 4096        /* battles per batch */
#define RING 32           /* batches in flight (deep for the reason in reader.c) */
#define PREFETCH 64       /* judges looked up together */

/* A battle in a batch.  Its ballot key (which holds the judge id) is
 * written to the batch's keys, since the read buffer moves on before the
 * batch is taken; the batch's keys are fingerprinted together. */
struct item {
	uint64_t judge_hash;
	uint32_t judge_len;
	uint32_t judge;
	uint16_t a, b;
	uint8_t outcome, has_question;
};

struct batch {
	struct item item[ITEMS];
	size_t key_off[ITEMS], key_words[ITEMS];  /* item i's key in keys */
	struct votes_fp fp[ITEMS];                /* of item i's key, when it has a question */
	size_t n;
	uint64_t *keys;
	size_t keys_len, keys_cap;                /* in words */
};

struct ingest {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *path;
	struct votes_tally *t;
	struct votes_reader *r;
	struct votes_dedup *dedup;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *ring;       /* RING batches */
	uint64_t produced, consumed;
	int finished;             /* the scanner published its last batch */
	int scan_rc;              /* KV_OK, or how the scanner stopped */
	int stop;                 /* the consumer failed: scanner, stop */
	uint64_t *sums;           /* per deciding thread: wins, ties (k*k each), repeats */
	int failed;               /* a deciding thread ran out of memory */
};

/* A name's first (up to) 8 bytes, and its last 8 (0 when shorter). */
static uint64_t name_head(const char *s, size_t n)
{
	return votes_word(s, n < 8 ? n : 8);
}

static uint64_t name_tail(const char *s, size_t n)
{
	return n >= 8 ? votes_word(s + n - 8, 8) : 0;
}

void votes_name_init(struct votes_team_name *nm, const char *s)
{
	nm->s = s;
	nm->n = strlen(s);
	nm->head = name_head(s, nm->n);
	nm->tail = name_tail(s, nm->n);
}

void votes_model_hint(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_team_name *names,
		      const char *s, size_t n, char *out, size_t size)
{
	*out = '\0';
	for (size_t j = 0; j < h->team_count(ctx); j++) {
		const char *model = h->team_model(ctx, j);
		if (model && strlen(model) == n && memcmp(model, s, n) == 0 && strcmp(names[j].s, model) != 0) {
			snprintf(out, size, "; team '%s' has model '%s' in the config but plays under '%.200s' in the "
				 "battle file (its id, unless param 'models' maps it)", h->team_id(ctx, j), model,
				 names[j].s);
			return;
		}
	}
}

#define NAME_SLOTS (2 * VOTES_MAX_TEAMS)

/* The slot a name starts at: by a hash of all its bytes (names often
 * share their first and last 8, "vendor-model-" and a date, and differ
 * between), the judges' id hash. */
static size_t name_hash(const char *s, size_t n)
{
	return (size_t)votes_intern_hash(s, n) % NAME_SLOTS;
}

/* Place the teams' names in t->name_slot (linear probing; at most half
 * full). */
static void name_slots(struct votes_tally *t)
{
	memset(t->name_slot, 0, sizeof t->name_slot);
	for (size_t i = 0; i < t->k; i++) {
		const struct votes_team_name *nm = &t->names[i];
		size_t s = name_hash(nm->s, nm->n);
		while (t->name_slot[s])
			s = (s + 1) % NAME_SLOTS;
		t->name_slot[s] = (uint16_t)(i + 1);
	}
}

/* A name is found by its hash, and checked by comparing its first and last
 * 8 bytes, and the bytes between when it is longer than 16, as most of
 * Arena's are (a loop over 200 teams for those took half a second a
 * million battles). */
static long model_index(const struct votes_tally *t, const struct votes_str *m)
{
	uint64_t head = name_head(m->s, m->n), tail = name_tail(m->s, m->n);
	for (size_t s = name_hash(m->s, m->n); t->name_slot[s]; s = (s + 1) % NAME_SLOTS) {
		const struct votes_team_name *nm = &t->names[t->name_slot[s] - 1];
		if (nm->head == head && nm->tail == tail && nm->n == m->n &&
		    (m->n <= 16 || memcmp(nm->s + 8, m->s + 8, m->n - 16) == 0))
			return t->name_slot[s] - 1;
	}
	return -1;
}

static int winner_of(const struct votes_str *w)
{
	if (w->n == 7 && memcmp(w->s, "model_a", 7) == 0)
		return VOTES_A;
	if (w->n == 7 && memcmp(w->s, "model_b", 7) == 0)
		return VOTES_B;
	if ((w->n == 3 && memcmp(w->s, "tie", 3) == 0) || (w->n == 13 && memcmp(w->s, "tie (bothbad)", 13) == 0))
		return VOTES_TIE;
	return -1;
}

/* --- the scanning thread ------------------------------------------------------- */

/* Write the ballot key of battle x (teams' pair index) as item i's; -1
 * out of memory. */
static int keep_key(struct batch *b, size_t i, uint32_t pair, const struct votes_battle *x)
{
	size_t n = votes_key_words(x->judge.n, x->question.n);
	if (b->keys_len + n > b->keys_cap) {
		size_t cap = b->keys_cap ? b->keys_cap : 1 << 15;
		while (cap < b->keys_len + n)
			cap *= 2;
		uint64_t *keys = realloc(b->keys, cap * sizeof *keys);
		if (!keys)
			return -1;
		b->keys = keys;
		b->keys_cap = cap;
	}
	votes_key_write(b->keys + b->keys_len, pair, x->judge.s, x->judge.n, x->question.s, x->question.n);
	b->key_off[i] = b->keys_len;
	b->key_words[i] = n;
	b->keys_len += n;
	return 0;
}

/* The judge id of item i, inside its key. */
static const char *judge_text(const struct batch *b, size_t i)
{
	return (const char *)(b->keys + b->key_off[i]) + 8;
}

static int unknown_model(struct ingest *in, const char *field, const struct votes_str *m)
{
	char hint[600];
	votes_model_hint(in->h, in->ctx, in->t->names, m->s, m->n, hint, sizeof hint);
	return votes_reader_error(in->r, field, "unknown model '%.*s' (no team plays it and it is no anchor; see "
				  "params 'models', 'anchors' and 'unknown_models')%s",
				  (int)(m->n > 200 ? 200 : m->n), m->s, hint);
}

/* Check one battle and add it to batch b (or count it as excluded). */
static int take(struct ingest *in, struct batch *b, const struct votes_battle *x)
{
	struct votes_tally *t = in->t;
	long a = model_index(t, &x->model_a), bb = model_index(t, &x->model_b);
	int outcome = winner_of(&x->winner);
	if ((a < 0 || bb < 0) && t->ignore_unknown) {
		t->unknown++;
		return KV_OK;
	}
	if (a < 0)
		return unknown_model(in, "model_a", &x->model_a);
	if (bb < 0)
		return unknown_model(in, "model_b", &x->model_b);
	if (a == bb)
		return votes_reader_error(in->r, "model_b", "same model as model_a ('%s')", t->names[a].s);
	if (outcome < 0)
		return votes_reader_error(in->r, "winner", "unknown value '%.*s' (model_a, model_b, tie or "
					  "tie (bothbad))", (int)(x->winner.n > 200 ? 200 : x->winner.n), x->winner.s);
	if (x->anony == 0 && t->anonymous_only) {
		t->not_anon++;
		return KV_OK;
	}
	if (!x->has_question && t->require_question)
		return votes_reader_error(in->r, "question_id", "missing (param require_question_id is true)");
	if (x->judge.n > UINT32_MAX || x->question.n > UINT32_MAX)
		return votes_reader_error(in->r, "judge", "id longer than 4 GB");
	struct item *it = &b->item[b->n];
	size_t lo = (size_t)(a < bb ? a : bb), hi = (size_t)(a < bb ? bb : a);
	if (keep_key(b, b->n++, (uint32_t)(lo * t->k + hi), x))
		return KV_ERR_INTERNAL;
	it->judge_len = (uint32_t)x->judge.n;
	it->judge_hash = votes_intern_hash(x->judge.s, x->judge.n);
	it->a = (uint16_t)a;
	it->b = (uint16_t)bb;
	it->outcome = (uint8_t)outcome;
	it->has_question = (uint8_t)x->has_question;
	return KV_OK;
}

/* Fill batch b until it is full or the file ends; 1 more to come, 0 the
 * end, or -(status) on an error (recorded). */
static int fill_items(struct ingest *in, struct batch *b)
{
	struct votes_battle x;
	b->n = 0;
	b->keys_len = 0;
	while (b->n < ITEMS) {
		int more = votes_reader_next(in->r, &x), rc;
		if (more <= 0)
			return more == 0 ? 0 : more == -1 ? -KV_ERR_INPUT : -KV_ERR_INTERNAL;
		if ((++in->t->read & ((1u << 20) - 1)) == 0 && !votes_reader_shows_bytes(in->r))
			in->h->progress(in->ctx, in->t->read, 0);
		if ((rc = take(in, b, &x)) != KV_OK)
			return -rc;
	}
	return 1;
}

/* A batch as fill_items() leaves it, its keys fingerprinted. */
static int fill(struct ingest *in, struct batch *b)
{
	int more = fill_items(in, b);
	votes_fingerprint_keys(in->t->dedup_key, b->keys, b->key_off, b->key_words, b->n, b->fp);
	return more;
}

static void *scan_thread(void *arg)
{
	struct ingest *in = arg;
	int more = 1;
	pthread_mutex_lock(&in->mu);
	for (uint64_t i = 0; more > 0; i++) {
		while (!in->stop && i - in->consumed >= RING)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop)
			break;
		pthread_mutex_unlock(&in->mu);
		more = fill(in, &in->ring[i % RING]);
		pthread_mutex_lock(&in->mu);
		in->produced = i + 1;
		if (more < 0)
			in->scan_rc = -more;
		pthread_cond_broadcast(&in->cv);
	}
	in->finished = 1;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/* --- the calling thread ---------------------------------------------------------- */

/* Count a ballot into wins and ties (k*k each: the tally's, or a deciding
 * thread's own) and, when the bootstrap needs them, into list (its
 * judge's ballots); -1 out of memory. */
static int count_ballot(struct votes_tally *t, uint64_t *wins, uint64_t *ties, struct votes_ballot_list *list,
			uint32_t judge, size_t a, size_t b, int outcome)
{
	size_t k = t->k, lo = a < b ? a : b, hi = a < b ? b : a;
	int what;
	if (outcome == VOTES_A) {
		wins[a * k + b]++;
		what = a == lo ? VOTES_LO_WON : VOTES_HI_WON;
	} else if (outcome == VOTES_B) {
		wins[b * k + a]++;
		what = b == lo ? VOTES_LO_WON : VOTES_HI_WON;
	} else {
		ties[lo * k + hi]++;
		what = VOTES_TIED;
	}
	return t->keep_ballots ? votes_list_add(list, judge, votes_code(k, lo, hi, what)) : 0;
}

/* A ballot travels through the ballot set as judge | a | b | outcome. */
static uint64_t pack(uint32_t judge, size_t a, size_t b, int outcome)
{
	return judge | (uint64_t)a << 32 | (uint64_t)b << 44 | (uint64_t)outcome << 56;
}

/* Count the first ballot of each key, on a deciding thread, into the
 * thread's own wins, ties, repeats (wins[k*k], ties[k*k], repeats) and
 * ballot list. */
static void on_ballots(void *arg, unsigned thread, const uint64_t *x, const unsigned char *first, size_t n)
{
	struct ingest *in = arg;
	struct votes_tally *t = in->t;
	size_t k = t->k;
	uint64_t *wins = in->sums + thread * (2 * k * k + 1), *ties = wins + k * k, *dup = ties + k * k;
	/* The threads' lists share cache lines in t->lists: each thread appends
	 * to its own copy here, written back once a batch. */
	struct votes_ballot_list list = t->lists[thread];
	for (size_t i = 0; i < n; i++) {
		if (!first[i])
			(*dup)++;
		else if (count_ballot(t, wins, ties, &list, (uint32_t)x[i], (size_t)(x[i] >> 32) & 0xfff,
				      (size_t)(x[i] >> 44) & 0xfff, (int)(x[i] >> 56)))
			in->failed = 1;
	}
	t->lists[thread] = list;
}

/* Decide the ballot set on every thread, then add the threads' sums. */
static int decide_all(struct ingest *in)
{
	struct votes_tally *t = in->t;
	size_t kk = t->k * t->k, width = 2 * kk + 1;
	unsigned threads = votes_dedup_threads(votes_threads());
	if (!(in->sums = calloc(threads * width, sizeof *in->sums)))
		return KV_ERR_INTERNAL;
	/* Each thread's list takes all its room at once: grown by doubling, a
	 * list's copy into 2 MB pages held both sizes for a moment. */
	for (unsigned th = 0; th < threads; th++)
		if (votes_list_reserve(&t->lists[th], votes_dedup_ballots_of_thread(in->dedup, threads, th)))
			return KV_ERR_INTERNAL;
	if (votes_dedup_finish(in->dedup, threads) || in->failed)
		return KV_ERR_INTERNAL;
	for (unsigned th = 0; th < threads; th++) {
		const uint64_t *s = in->sums + th * width;
		for (size_t x = 0; x < kk; x++) {
			t->wins[x] += s[x];
			t->ties[x] += s[kk + x];
		}
		t->dup += s[2 * kk];
	}
	return KV_OK;
}

/* The judge's index (first appearance order); -1 out of memory. */
static long judge_index(struct votes_tally *t, uint64_t hash, const char *id, size_t n)
{
	int added;
	long e = votes_intern_hashed(&t->judges, hash, id, n, &added);
	return e > (long)UINT32_MAX ? -1 : e;
}

/* Items [from, to) of batch b: judges, then the ballots. */
static int consume_part(struct ingest *in, struct batch *b, size_t from, size_t to)
{
	struct votes_tally *t = in->t;
	for (size_t i = from; i < to; i++) {
		struct item *it = &b->item[i];
		long judge = judge_index(t, it->judge_hash, judge_text(b, i), it->judge_len);
		if (judge < 0)
			return KV_ERR_INTERNAL;
		it->judge = (uint32_t)judge;
	}
	for (size_t i = from; i < to; i++) {
		const struct item *it = &b->item[i];
		if (!it->has_question) { /* a ballot of its own: nothing to compare it with */
			t->no_question++;
			if (count_ballot(t, t->wins, t->ties, &t->lists[0], it->judge, it->a, it->b, it->outcome))
				return KV_ERR_INTERNAL;
		} else if (votes_dedup_add(in->dedup, b->fp[i], it->judge, pack(it->judge, it->a, it->b, it->outcome))) {
			return KV_ERR_INTERNAL;
		}
	}
	return KV_OK;
}

static void prefetch_judges(struct ingest *in, const struct batch *b, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < b->n; i++)
		votes_intern_prefetch(&in->t->judges, b->item[i].judge_hash);
}

/* The judges' slots are fetched one part ahead, so that they have arrived
 * when the part is taken. */
static int consume(struct ingest *in, struct batch *b)
{
	int rc = KV_OK;
	prefetch_judges(in, b, 0, PREFETCH);
	for (size_t i = 0; rc == KV_OK && i < b->n; i += PREFETCH) {
		prefetch_judges(in, b, i + PREFETCH, i + 2 * PREFETCH);
		rc = consume_part(in, b, i, i + PREFETCH < b->n ? i + PREFETCH : b->n);
	}
	return rc;
}

/* Take batches in order until the scanner is done; KV_OK or a status. */
static int consume_all(struct ingest *in)
{
	int rc = KV_OK;
	pthread_mutex_lock(&in->mu);
	for (uint64_t i = 0;; i++) {
		while (in->produced <= i && !in->finished)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->produced <= i || rc != KV_OK)
			break;
		pthread_mutex_unlock(&in->mu);
		rc = consume(in, &in->ring[i % RING]);
		pthread_mutex_lock(&in->mu);
		in->consumed = i + 1;
		in->stop = rc != KV_OK;
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	return rc;
}

static int run(struct ingest *in)
{
	pthread_t scanner;
	int threaded = pthread_create(&scanner, NULL, scan_thread, in) == 0;
	if (!threaded) { /* one thread does both: the same batches in the same order */
		int more = 1, rc = KV_OK;
		while (more > 0 && rc == KV_OK) {
			more = fill(in, &in->ring[0]);
			rc = more < 0 ? -more : consume(in, &in->ring[0]);
		}
		return rc;
	}
	int rc = consume_all(in);
	pthread_join(scanner, NULL);
	return rc != KV_OK ? rc : in->scan_rc;
}

static void free_ring(struct ingest *in)
{
	for (int i = 0; in->ring && i < RING; i++)
		free(in->ring[i].keys);
	free(in->ring);
	in->ring = NULL;
}

int votes_ingest(const struct kv_host *h, struct kv_ctx *ctx, const char *path, struct votes_tally *t)
{
	struct ingest in = {.h = h, .ctx = ctx, .path = path, .t = t};
	size_t kk = t->k * t->k;
	int rc = KV_OK;
	name_slots(t);
	t->wins = calloc(kk, sizeof *t->wins);
	t->ties = calloc(kk, sizeof *t->ties);
	in.ring = calloc(RING, sizeof *in.ring);
	in.dedup = votes_dedup_new(on_ballots, &in);
	in.r = t->wins && t->ties && in.ring && in.dedup ? votes_reader_open(h, ctx, path) : NULL;
	if (!in.r)
		rc = KV_ERR_INTERNAL;
	else if (votes_reader_failed(in.r))
		rc = KV_ERR_INPUT;
	pthread_mutex_init(&in.mu, NULL);
	pthread_cond_init(&in.cv, NULL);
	if (rc == KV_OK)
		rc = run(&in);
	/* The judges are numbers from here on, and the batches are taken: their
	 * memory goes before the ballot lists grow. */
	t->judge_count = t->judges.count;
	t->judge_ids = t->judges.text; /* to name the judges with the most ballots (robust.c) */
	t->judge_off = t->judges.off;
	t->judges.text = NULL;
	t->judges.off = NULL;
	votes_intern_free(&t->judges);
	free_ring(&in);
	if (rc == KV_OK)
		rc = decide_all(&in);
	if (rc == KV_OK && t->read == 0)
		rc = h->error(ctx, "%s: no battles in the file", path);
	votes_reader_close(in.r); /* the file is read (and hashed) to its end here */
	votes_dedup_free(in.dedup);
	free(in.sums);
	pthread_mutex_destroy(&in.mu);
	pthread_cond_destroy(&in.cv);
	return rc;
}

void votes_tally_free(struct votes_tally *t)
{
	votes_intern_free(&t->judges);
	free(t->judge_ids);
	free(t->judge_off);
	for (size_t i = 0; i < VOTES_DEDUP_THREADS; i++)
		free(t->lists[i].x);
	free(t->wins);
	free(t->ties);
}

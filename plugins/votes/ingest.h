/* Reading a battle file into ballot counts and lists (ingest.c), for pairwise.c. */
#ifndef KV_VOTES_INGEST_H
#define KV_VOTES_INGEST_H

#include "votes.h"

#define VOTES_MAX_TEAMS 1024    /* a ballot packs a team index in 12 bits */

struct votes_team_name {
	const char *s;          /* the model name in the battle file */
	size_t n;
	uint64_t head, tail;    /* its first (up to) 8 bytes and its last 8 (0 when shorter) */
};
/* Set every field of *nm for the name s. */
void votes_name_init(struct votes_team_name *nm, const char *s);
/* When s (n bytes) is a team's model in the config but the team plays
 * under another name in the battle file (names[team]): a hint that says so,
 * to append to a message; else "". */
void votes_model_hint(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_team_name *names,
		      const char *s, size_t n, char *out, size_t size);

/* What a battle file adds up to.  The caller sets the inputs. */
struct votes_tally {
	/* inputs */
	size_t k;
	const struct votes_team_name *names;
	int anonymous_only, require_question;
	int keep_ballots;             /* fill lists (for the judge classes) */
	int ignore_unknown;           /* a battle of a model not in names is counted in unknown, not an error */
	uint64_t dedup_key[2];
	/* the names by a hash of their bytes: team index + 1, 0 = empty (set by votes_ingest) */
	uint16_t name_slot[2 * VOTES_MAX_TEAMS];
	/* results */
	struct votes_intern judges;   /* in order of first appearance (freed when the file is read) */
	char *judge_ids;              /* then their ids alone: judge j's at judge_off[j], NUL-terminated */
	size_t *judge_off;
	size_t judge_count;
	struct votes_ballot_list lists[VOTES_DEDUP_THREADS]; /* counted ballots, by deciding thread */
	uint64_t *wins, *ties;        /* k*k counted ballots: i beat j; ties at [lo*k + hi] */
	uint64_t read, dup, not_anon, no_question, unknown;
};

/* Read path (JSON array or JSONL of battles) into t; KV_OK or a status
 * with the error recorded. */
int votes_ingest(const struct kv_host *h, struct kv_ctx *ctx, const char *path, struct votes_tally *t);
void votes_tally_free(struct votes_tally *t);

#endif

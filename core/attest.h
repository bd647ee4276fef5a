/* Attestations: an in-toto Statement v1 over an archive's files in a DSSE
 * envelope, signed with Ed25519 or ECDSA P-256 keys (see kaieval(1),
 * ATTESTATIONS, for the predicate's fields). */
#ifndef KV_ATTEST_H
#define KV_ATTEST_H

#include <stdio.h>
#include "util.h"

/* kaieval's predicate: one evaluation of a round; v1 names the layout. */
#define KV_PREDICATE_TYPE "urn:kaieval:predicate:evaluation:v1"
/* Where an archive keeps its envelope. */
#define KV_ATTESTATION_FILE "attestation.intoto.json"

/* Sign the statement over the archive dir with each private key (PEM files)
 * into dir's envelope, or output when given; an envelope already there
 * gets the new signatures beside its own. */
int kv_attest(const char *dir, const char *const *keys, size_t key_count, const char *output, FILE *out);

struct kv_attest_check {
	const char *const *pubkeys;   /* PEM public keys */
	size_t pubkey_count;
	size_t threshold;             /* signers needed; 0: every key given */
};

/* Check dir's envelope: payload type, signatures by the keys given (up to
 * the threshold) and every subject's digest; what fails goes to problems.
 * A malformed envelope or an unreadable key is an error (its status). */
int kv_verify_attestation(const char *dir, const struct kv_attest_check *check, struct kv_buf *problems,
			  FILE *out, struct kv_error *err);

#endif

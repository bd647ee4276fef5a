/* Method pairwise's state, shared by pairwise.c (estimate, bootstrap,
 * evidence) and pwparams.c (its params). */
#ifndef KV_VOTES_PAIRWISE_H
#define KV_VOTES_PAIRWISE_H

#include "ingest.h"

struct pw {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *path;
	size_t k;             /* models in the fit: the teams' (index = team), then the anchors */
	size_t teams;
	size_t ref;           /* the reference model, or k: against every other model */
	struct votes_team_name *names;
	long long bootstrap;
	int by_battle;        /* bootstrap_unit = battle */
	double prior;         /* ties added between every two models (param prior) */
	struct votes_tally t;
	struct votes_classes judges;   /* judges with equal ballots merged */
	struct votes_classes outcomes; /* for bootstrap_unit = battle */
	struct votes_kept *keep;       /* the criterion's state, for kaieval robustness */
};

/* Read and check the params into pw (names allocated); KV_OK or a status
 * with the error recorded. */
int votes_pw_params(struct pw *pw, const struct votes_common *c);
/* "team 'id' (model 'name')" or "anchor 'name'", for messages. */
const char *votes_pw_label(const struct pw *pw, size_t i, char *buf, size_t len);
/* Record that `what` could not be allocated; returns KV_ERR_INTERNAL. */
int votes_pw_nomem(const struct pw *pw, const char *what);

#endif

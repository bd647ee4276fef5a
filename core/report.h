/* kaieval report: one self-contained HTML page of a record, for people. */
#ifndef KV_REPORT_H
#define KV_REPORT_H

#include "record.h"

struct cJSON;

/* What a robustness file says, once validated against the record:
 * elimination probability per team (NaN where the file gives none), and
 * the file itself for the rank probabilities, leave-one-out and weight
 * flips. */
struct kv_robustness {
	double *p_eliminated;     /* per kv_record.teams */
	struct cJSON *doc;
};

/* Read a robustness file (doc/kaieval.1, REPORT), as kaieval robustness
 * writes it: its round is the record's, its teams[].id the record's, each
 * p_eliminated and rank_probabilities[] in [0, 1]; leave_one_out and
 * weight_flips, when present, arrays of objects. */
int kv_robustness_read(const char *path, const struct kv_record *rec, struct kv_robustness *out,
		       struct kv_error *err);
void kv_robustness_free(struct kv_robustness *r);

/* The page's bytes: the same record (and robustness) gives the same bytes. */
void kv_report_html(const struct kv_record *rec, const struct kv_robustness *rob, struct kv_buf *out);

/* Points to the score cut, as kaieval robustness reckons it: an advancing
 * team's lead over the best team eliminated other than by a gate (positive),
 * an eliminated team's gap to the worst advancing one (negative); *against
 * (when not NULL) is that team.  0 for a team out on a gate, or when one
 * side of the cut is empty. */
int kv_rec_margin(const struct kv_record *rec, const struct kv_rec_team *team, double *margin,
		  const struct kv_rec_team **against);

/* The command: input is a record file or an archive folder (its
 * result.json); writes the page atomically to output. */
int kv_report(const char *input, const char *robustness, const char *output);

#endif

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

/* The team's distance in points to the other side of the cut between the
 * teams that advanced and those eliminated on score: positive for a team
 * that advanced, negative for one eliminated.  0 when there is no such cut
 * or the team is not ranked. */
int kv_rec_margin(const struct kv_record *rec, const struct kv_rec_team *team, double *margin);

/* The command: input is a record file or an archive folder (its
 * result.json); writes the page atomically to output. */
int kv_report(const char *input, const char *robustness, const char *output);

#endif

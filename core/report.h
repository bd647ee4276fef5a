/* kaieval report: one self-contained HTML page of a record, for people. */
#ifndef KV_REPORT_H
#define KV_REPORT_H

#include "record.h"

/* What a robustness file says, once validated against the record:
 * elimination probability per team (NaN where the file gives none). */
struct kv_robustness {
	double *p_eliminated;     /* per kv_record.teams */
};

/* Read a robustness file (doc/kaieval.1, REPORT): a JSON object
 * {"round": ID, "elimination_probability": {TEAM: P, ...}} whose round is
 * the record's and whose teams are the record's, each P in [0, 1]. */
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

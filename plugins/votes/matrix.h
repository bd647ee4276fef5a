/* Evidence for charts of the votes plugin (matrix.c): the battle and win
 * matrices of method pairwise, the score histograms of method rating. */
#ifndef KV_VOTES_MATRIX_H
#define KV_VOTES_MATRIX_H

#include "pairwise.h"

/* Round evidence: "matrix.team.<n>" / "matrix.anchor.<n>" name model n
 * (1-based, teams then anchors); for every ordered pair a != b,
 * "matrix.<a>.<b>.battles" (counted ballots between them, ties included)
 * and "matrix.<a>.<b>.wins" (ballots a won).  Only the fit's models, so the
 * evidence grows with teams and anchors, never with the file. */
void votes_matrix_evidence(const struct pw *pw);

/* What the rating histogram needs of method rating's tables. */
struct votes_histogram_in {
	size_t teams, raters;
	const double *score;          /* rater x team: the counted score */
	const uint32_t *count;        /* rater x team: 1 when counted */
	const uint32_t *rater_group;  /* per rater: index into groups */
	const struct votes_intern *groups;
	long long scale_min, scale_max;
};

/* Round evidence "histogram.first_bin", "histogram.bin_width",
 * "histogram.bins"; team evidence "histogram.<group>.<lower edge>": the
 * counted ratings of the group's raters in that bin, every bin written.
 * KV_OK, or KV_ERR_INTERNAL out of memory. */
int votes_histogram_evidence(const struct kv_host *h, struct kv_ctx *ctx, const struct votes_histogram_in *in);

#endif

/* forensics: do a team's weights come from a reference model?  Compares the
 * team's fingerprint (kaieval-fingerprint(1)) with every reference
 * fingerprint of a folder, per component (fpread.h), without the weights.
 *
 *   T1 identity: a non-trivial tensor byte-identical (same content hash,
 *      dtype and shape) to any tensor of a reference fails the component.
 *      Trivial: constant tensors, fewer than identity_min elements, and the
 *      buffers every model shares (names ending in inv_freq, position_ids,
 *      masked_bias, _float_tensor).
 *   T2 correlation: each F32/F16/BF16 tensor is aligned with the reference
 *      tensor of the same shape and the same name (or, failing that, the one
 *      tensor of that shape with the same name from its layer number on);
 *      Pearson r on their paired samples (fpsample.h).  A component fails
 *      when at least fail_share of its matrices (rank >= 2) have
 *      r > pearson_fail; a matrix with r > max(pearson_flag, 8 / sqrt(pairs))
 *      is flagged (reported).  Vectors (norm weights, biases) are reported,
 *      never counted: their raw cosine is near 1 between unrelated models.
 *      Raw cosine is reported beside r and never decides.
 *   Permutations: a tensor with the same count, sum, sum of squares (to
 *      1e-9), min and max as a reference tensor but other bytes and no
 *      correlation may be that tensor with rows or columns reordered, which
 *      T2 cannot see: reported, not deciding.
 *   T3 invariants: with fingerprints made with --invariants (format 4),
 *      per layer the token products of fpformat.h, which a permutation or
 *      rotation of the hidden units leaves unchanged; Pearson r of the same
 *      layer's products (off-diagonal entries).  The backbone fails when
 *      their median is INVARIANT_Z null sds above the null and at least
 *      INVARIANT_FAIL.
 * Standardized scores: for each test and reference, the similarity (T1 the
 *   share of identical tensors, T2 and T3 a median r) beside the mean and sd
 *   of its null (T2, T3: the same statistic against the reference's other
 *   layers; all three: the unrelated pairs of baselines.csv) and
 *   z = (similarity - mean) / sd, the sd at least a single pair's sampling
 *   spread.  Raw cosine is never one of them.
 * Baselines: the folder's baselines.csv (columns a, b, relation =
 * derivative | unrelated) names pairs of reference models; each finding is
 * printed beside the same statistics for those pairs. */
#ifndef KV_LICENSE_FORENSICS_H
#define KV_LICENSE_FORENSICS_H

#include <kaieval/plugin.h>

/* T3's decision levels (kaieval-license(7)): z of the invariants' median r
 * against its null, and the r itself. */
#define INVARIANT_Z 6.0
#define INVARIANT_FAIL 0.5

struct forensics_params {
	double pearson_flag, pearson_fail, fail_share;
	long long identity_min;
};

struct forensics;

/* A finding for the gate: rule, component, whether it fails, sentence. */
typedef void (*forensics_finding_fn)(void *arg, const char *rule, const char *component, int fails,
				     const char *sentence);

/* Load every *.json fingerprint of folder (the reference library) and its
 * baselines.csv, and compare the baseline pairs. */
int forensics_load(const struct kv_host *h, struct kv_ctx *ctx, const char *folder,
		   const struct forensics_params *p, struct forensics **out);

/* Round evidence: the references and the baseline statistics. */
void forensics_round_evidence(const struct kv_host *h, struct kv_ctx *ctx, const struct forensics *f);

/* Compare the team's fingerprint (path) with every reference: evidence for
 * the team, findings through fn. */
int forensics_judge(const struct kv_host *h, struct kv_ctx *ctx, struct forensics *f, size_t team,
		    const char *path, forensics_finding_fn fn, void *arg);

void forensics_free(struct forensics *f);

#endif

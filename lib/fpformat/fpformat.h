/*
 * fpformat.h -- the fingerprint file format (kaieval-fingerprint(1)) in
 * memory, and its one reader: JSON text in, every field checked, no I/O.
 *
 * `kaieval fingerprint` reads its parts with it (--merge) and the license
 * plugin its reference and team fingerprints, so both accept exactly the
 * same files and name a bad field with the same message.
 */
#ifndef KV_FPFORMAT_H
#define KV_FPFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "fphash.h"

#define KV_FP_FORMAT "kaieval-fingerprint"

struct kv_fp_tensor {
	char *name, *shard, *dtype;
	size_t rank;
	uint64_t *shape;
	uint64_t numel;
	char hash[65];             /* 32 hex digits (versions 4 and 3) or 64 */
	int constant;
	int has_moments;           /* F32, F16, BF16 */
	uint64_t finite;
	double sum, sumsq;
	int has_range;             /* finite > 0 */
	double min, max;
	uint64_t sample_count;
	char *sample;              /* base64 */
};

struct kv_fp_shard {
	char *file;
	uint64_t bytes;
	uint64_t tensors;
};

/* The invariants of `kaieval fingerprint --invariants` (format version 4):
 * per layer, products of its weight matrices seen from a fixed set of token
 * embeddings, which a permutation or an orthogonal rotation of the hidden
 * dimension leaves unchanged.  With E the rows t_i = floor((2i + 1) V / 2K),
 * i < K, of the token embedding (V x d) and W as stored (rows x columns):
 *   qk = (E W_q^T)(E W_k^T)^T      ov = (E W_v^T)(E W_o)^T
 *   ud = (E W_up^T)(E W_down)^T
 * each K x K, over the first min(...) columns of the two factors when
 * their widths differ (grouped-query attention); for q, k, v (up) E has its
 * columns times the gains of the layer's input (post-attention) norm.  If
 * the hidden units are rotated by an orthogonal R (E -> E R^T, readers
 * W -> W R^T, writers W -> R W, gains folded into the readers first), every
 * product is unchanged; a permutation is such an R. */
#define KV_FP_INV_SCHEME "token-products-v1"
#define KV_FP_INV_TOKENS 32u
enum kv_fp_product { KV_FP_QK, KV_FP_OV, KV_FP_UD, KV_FP_PRODUCTS };
extern const char *const kv_fp_product_names[KV_FP_PRODUCTS];

struct kv_fp_layer {
	uint64_t layer;            /* the layer number in the tensor names */
	float *p[KV_FP_PRODUCTS];  /* tokens x tokens, row-major; NULL: not made */
};

struct kv_fp_invariants {
	char *embedding;           /* the token embedding's tensor name */
	uint64_t vocab, tokens;    /* V and K */
	size_t layer_count;
	struct kv_fp_layer *layers; /* by layer number */
};

struct kv_fp {
	int version;               /* KV_FP_VERSION_*: which content hash */
	int has_invariants;        /* version 4 with a non-null "invariants" */
	struct kv_fp_invariants inv;
	uint64_t sample_size;
	int complete;
	int has_index;
	char *index_file;
	char index_sha256[65];
	size_t index_shard_count;
	char **index_shards;
	size_t shard_count;
	struct kv_fp_shard *shards;
	size_t count;
	struct kv_fp_tensor *tensors;
};

/* Bytes of one sampled element of dtype: 4 (F32), 2 (F16, BF16), else 0
 * (the dtype has no moments and no sample). */
unsigned kv_fp_sample_bytes(const char *dtype);

/* Parse len bytes of text (named file in messages) into fp, tensors sorted
 * by name.  Returns 0, or -1 with "FILE: [WHERE: ]'KEY' WHAT" in msg; fp must
 * be freed either way. */
int kv_fp_parse(const char *text, size_t len, const char *file, struct kv_fp *fp, char *msg, size_t msglen);

void kv_fp_free(struct kv_fp *fp);
void kv_fp_invariants_free(struct kv_fp_invariants *inv);

/* Token row i of K in a vocabulary of V (the rule above). */
static inline uint64_t kv_fp_inv_token(uint64_t i, uint64_t vocab, uint64_t k)
{
	return (uint64_t)(((unsigned __int128)(2 * i + 1) * vocab) / (2 * k));
}

#endif

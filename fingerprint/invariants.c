/* The opt-in invariants pass (`kaieval fingerprint --invariants`): per layer,
 * the token products of fpformat.h, which a permutation or an orthogonal
 * rotation of the hidden units leaves unchanged.  It reads the matrices a
 * second time, after the scan, and costs about tokens (32) multiply-adds per
 * parameter of the layers' matrices: it cannot run at memory speed, so it is
 * separate from the scan and off by default.  The work on each block of rows
 * read is shared by -j threads; each element of a result is made by one of
 * them, in one order.
 *
 * Numbers: every element is widened to double exactly; each dot product adds
 * in a fixed order (four interleaved partial sums, combined as (s0 + s1) +
 * (s2 + s3)), each column sum adds rows in order, whatever the threads, and
 * the build contracts no multiply-add (no FMA target); so the products, rounded
 * to F32, are the same bytes on every machine.  Non-finite elements count as
 * 0 (they would make every product non-finite). */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EMBED_SUFFIX "embed_tokens.weight"
#define MAX_THREADS 64
#define ROW_BLOCK (1u << 20)          /* bytes read per pread */

/* The matrices a layer's products use, by their Llama-style names. */
enum mat { M_Q, M_K, M_V, M_O, M_UP, M_DOWN, MATS };
static const char *const mat_names[MATS] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight",
					    "self_attn.v_proj.weight", "self_attn.o_proj.weight",
					    "mlp.up_proj.weight", "mlp.down_proj.weight"};
/* The norms before the attention's readers and before the MLP's. */
#define NORM_ATTN "input_layernorm.weight"
#define NORM_MLP "post_attention_layernorm.weight"
/* Readers take the hidden state (columns = d); writers produce it (rows = d). */
static const int is_writer[MATS] = {0, 0, 0, 1, 0, 1};
/* Product p multiplies the token view of mats pa[p] and pb[p]. */
static const enum mat pa[KV_FP_PRODUCTS] = {M_Q, M_V, M_UP}, pb[KV_FP_PRODUCTS] = {M_K, M_O, M_DOWN};

/* One open shard: its checked header and a descriptor for pread. */
struct shard {
	char *name;
	struct kv_st_header *h;
	int fd;
};

struct pass {
	const char *dir;
	struct kv_fp *fp;
	struct shard open;
	double *e;                    /* K x d: the token rows of the embedding */
	uint64_t d, k;
	uint8_t *buf;
	unsigned threads;
	struct kv_error *err;
};

static void close_shard(struct shard *s)
{
	if (s->fd >= 0)
		close(s->fd);
	kv_st_free(s->h);
	free(s->name);
	*s = (struct shard){.fd = -1};
}

static int open_shard(struct pass *ps, const char *shard)
{
	if (ps->open.name && strcmp(ps->open.name, shard) == 0)
		return 0;
	close_shard(&ps->open);
	char *path = kv_xasprintf("%s/%s", ps->dir, shard), sha[65];
	uint64_t bytes;
	struct stat st;
	int rc = kv_fp_shard_header(path, shard, NULL, &ps->open.h, &bytes, sha, ps->err);
	if (!rc) {
		ps->open.fd = kv_open_regular(path, &st);
		if (ps->open.fd < 0 || (uint64_t)st.st_size != bytes)
			rc = kv_fail(ps->err, KV_EXIT_INPUT, "%s: cannot reopen for the invariants, or it "
				     "changed since the scan", path);
	}
	ps->open.name = kv_xstrdup(shard);
	free(path);
	return rc;
}

/* The fingerprint's entry and the shard header's entry of tensor name. */
static const struct kv_fp_tensor *fp_tensor(const struct kv_fp *fp, const char *name)
{
	for (size_t i = 0; i < fp->count; i++)
		if (strcmp(fp->tensors[i].name, name) == 0)
			return &fp->tensors[i];
	return NULL;
}

static const struct kv_st_tensor *locate(struct pass *ps, const struct kv_fp_tensor *t)
{
	if (open_shard(ps, t->shard))
		return NULL;
	for (size_t i = 0; i < ps->open.h->count; i++)
		if (strcmp(ps->open.h->tensors[i].name, t->name) == 0)
			return &ps->open.h->tensors[i];
	kv_fail(ps->err, KV_EXIT_INPUT, "%s/%s: tensor '%s' is gone since the scan", ps->dir, t->shard, t->name);
	return NULL;
}

/* Rows [row, row + n) of a matrix of `cols` columns, as doubles into out. */
static int read_rows(struct pass *ps, const struct kv_st_tensor *t, uint64_t row, uint64_t n, uint64_t cols,
		     double *out)
{
	enum kv_float_kind kind = kv_float_kind(t->dtype);
	unsigned size = kv_float_size(kind);
	uint64_t at = 8 + ps->open.h->header_len + t->begin + row * cols * size, want = n * cols * size;
	for (uint64_t done = 0; done < want;) {
		ssize_t got = pread(ps->open.fd, ps->buf + done, (size_t)(want - done), (off_t)(at + done));
		if (got <= 0)
			return kv_fail(ps->err, KV_EXIT_INPUT, "%s/%s: tensor '%s': read error or the file shrank: %s",
				       ps->dir, ps->open.name, t->name, got < 0 ? strerror(errno) : "end of file");
		done += (uint64_t)got;
	}
	for (uint64_t i = 0; i < n * cols; i++) {
		double x;
		if (kind == KV_FK_BF16) {   /* the common case, without a call */
			uint32_t bits = (uint32_t)(ps->buf[2 * i] | ps->buf[2 * i + 1] << 8) << 16;
			float f;
			memcpy(&f, &bits, sizeof f);
			x = f;
		} else {
			x = kv_float_at(kind, ps->buf, i);
		}
		out[i] = x - x == 0 ? x : 0;
	}
	return 0;
}

/* Rows per read, so that one read holds at most ROW_BLOCK bytes (at least a row). */
static uint64_t rows_per_read(uint64_t cols, unsigned size)
{
	uint64_t n = ROW_BLOCK / (cols * size);
	return n ? n : 1;
}

/* The kernels, in GCC's generic vectors: lane l of a 4-wide sum adds the
 * products of elements l, l + 4, ... in order, exactly as four scalar sums
 * would (no fused multiply-add: -ffp-contract=off), so the AVX2 build and
 * the scalar one give the same bits.  dot4 runs four such dot products of
 * one row at once, so that no sum waits on the one before it. */
typedef double v4d __attribute__((vector_size(32)));

static double finish4(v4d s, const double *a, const double *b, uint64_t i, uint64_t n)
{
	double t[4];
	memcpy(t, &s, sizeof t);
	for (; i < n; i++)
		t[i % 4] += a[i] * b[i];
	return (t[0] + t[1]) + (t[2] + t[3]);
}

__attribute__((target("avx2"))) static void dot4_avx2(const double *row, const double *e, uint64_t stride,
						       uint64_t n, double out[4])
{
	v4d s[4] = {{0}, {0}, {0}, {0}};
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4d x;
		memcpy(&x, row + i, sizeof x);
		for (int k = 0; k < 4; k++) {
			v4d y;
			memcpy(&y, e + k * stride + i, sizeof y);
			s[k] += x * y;
		}
	}
	for (int k = 0; k < 4; k++)
		out[k] = finish4(s[k], row, e + k * stride, i, n);
}

static double dot_scalar(const double *a, const double *b, uint64_t n)
{
	double s[4] = {0, 0, 0, 0};
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		for (int l = 0; l < 4; l++)
			s[l] += a[i + l] * b[i + l];
	for (; i < n; i++)
		s[i % 4] += a[i] * b[i];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

__attribute__((target("avx2"))) static void axpy_avx2(double c, const double *x, double *y, uint64_t n)
{
	v4d cv = {c, c, c, c};
	uint64_t j = 0;
	for (; j + 4 <= n; j += 4) {
		v4d xv, yv;
		memcpy(&xv, x + j, sizeof xv);
		memcpy(&yv, y + j, sizeof yv);
		yv += cv * xv;
		memcpy(y + j, &yv, sizeof yv);
	}
	for (; j < n; j++)
		y[j] += c * x[j];
}

static int use_avx2;

static double dot(const double *a, const double *b, uint64_t n)
{
	return dot_scalar(a, b, n);
}

/* out[k] = dot(row, e + k * stride) for k < 4. */
static void dot4(const double *row, const double *e, uint64_t stride, uint64_t n, double out[4])
{
	if (use_avx2) {
		dot4_avx2(row, e, stride, n, out);
		return;
	}
	for (int k = 0; k < 4; k++)
		out[k] = dot_scalar(row, e + k * stride, n);
}

/* y[j] += c x[j], each element on its own. */
static void axpy(double c, const double *x, double *y, uint64_t n)
{
	if (use_avx2) {
		axpy_avx2(c, x, y, n);
		return;
	}
	for (uint64_t j = 0; j < n; j++)
		y[j] += c * x[j];
}

/* One thread's share of a block of rows: a writer's chunks of columns c with
 * (c / CHUNK) mod parts = part, or a reader's rows [n part / parts,
 * n (part + 1) / parts).  Every element of v is made by one thread, in the
 * one order, so the result does not depend on the thread count. */
struct job {
	const struct pass *ps;
	const double *e, *block;
	uint64_t r, n, cols, w;
	double *v;
	int writer;
	unsigned part, parts;
};

enum { CHUNK = 512 };

/* A writer's rows [r, r + n) into v (K x cols): v[k] += e[k][r + i] row i,
 * rows in order for every element; by chunks of columns, so that the
 * chunk of v being added to stays in the core's cache. */
static void accumulate(const struct job *j)
{
	const struct pass *ps = j->ps;
	for (uint64_t c = (uint64_t)j->part * CHUNK; c < j->cols; c += (uint64_t)j->parts * CHUNK) {
		uint64_t m = j->cols - c < CHUNK ? j->cols - c : CHUNK;
		for (uint64_t k = 0; k < ps->k; k++)
			for (uint64_t i = 0; i < j->n; i++)
				axpy(j->e[k * ps->d + j->r + i], j->block + i * j->cols + c, j->v + k * j->cols + c, m);
	}
}

/* A reader's rows: v[k][r + i] = e[k] . row i, four tokens at a time. */
static void dots(const struct job *j)
{
	const struct pass *ps = j->ps;
	for (uint64_t i = j->n * j->part / j->parts; i < j->n * (j->part + 1) / j->parts; i++)
		for (uint64_t k = 0; k < ps->k; k += 4) {
			double d[4];
			dot4(j->block + i * j->cols, j->e + k * ps->d, ps->d, j->cols, d);
			for (int t = 0; t < 4; t++)
				j->v[(k + (uint64_t)t) * j->w + j->r + i] = d[t];
		}
}

static void *run_job(void *arg)
{
	const struct job *j = arg;
	if (j->writer)
		accumulate(j);
	else
		dots(j);
	return NULL;
}

/* The block's work on ps->threads threads (a thread that cannot be started
 * leaves its share to this one). */
static void compute(const struct job *whole, unsigned threads)
{
	struct job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	int started[MAX_THREADS] = {0};
	for (unsigned t = 0; t < threads; t++) {
		jobs[t] = *whole;
		jobs[t].part = t;
		jobs[t].parts = threads;
		started[t] = t > 0 && pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0;
	}
	run_job(&jobs[0]);
	for (unsigned t = 1; t < threads; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			run_job(&jobs[t]);
}

/* The token view of a matrix: e W^T (reader, K x rows) or e W (writer, K x
 * cols), in *out with its width in *w.  Returns 1 when the shape does not fit
 * d (no view), 0 when made, else an error status. */
static int token_view(struct pass *ps, const double *e, const struct kv_fp_tensor *ft, int writer, double **out,
		      uint64_t *w)
{
	if (ft->rank != 2 || !kv_fp_sample_bytes(ft->dtype) || ft->shape[writer ? 0 : 1] != ps->d)
		return 1;
	const struct kv_st_tensor *t = locate(ps, ft);
	if (!t)
		return ps->err->status ? ps->err->status : KV_EXIT_INPUT;
	uint64_t rows = ft->shape[0], cols = ft->shape[1], step = rows_per_read(cols, kv_fp_sample_bytes(ft->dtype));
	*w = writer ? cols : rows;
	double *v = kv_xcalloc((size_t)(ps->k * *w), sizeof *v), *block = kv_xmalloc((size_t)(step * cols) * sizeof *block);
	int rc = 0;
	for (uint64_t r = 0; r < rows && !rc; r += step) {
		uint64_t n = rows - r < step ? rows - r : step;
		rc = read_rows(ps, t, r, n, cols, block);
		struct job whole = {.ps = ps, .e = e, .block = block, .r = r, .n = n, .cols = cols, .w = *w, .v = v,
				    .writer = writer};
		if (!rc)
			compute(&whole, ps->threads);
	}
	free(block);
	if (rc)
		free(v);
	else
		*out = v;
	return rc;
}

/* A = X Y^T over the first min(wx, wy) columns, rounded to F32. */
static float *product(const double *x, uint64_t wx, const double *y, uint64_t wy, uint64_t k)
{
	uint64_t m = wx < wy ? wx : wy;
	float *a = kv_xmalloc((size_t)(k * k) * sizeof *a);
	for (uint64_t i = 0; i < k; i++)
		for (uint64_t j = 0; j < k; j++)
			a[i * k + j] = (float)dot(x + i * wx, y + j * wy, m);
	return a;
}

static const struct kv_fp_tensor *layer_tensor(const struct kv_fp *fp, const char *prefix, uint64_t layer,
					       enum mat m)
{
	char *name = kv_xasprintf("%slayers.%" PRIu64 ".%s", prefix, layer, mat_names[m]);
	const struct kv_fp_tensor *t = fp_tensor(fp, name);
	free(name);
	return t;
}

/* E with column j times the gain g[j] of the layer's norm (NULL in *out
 * when there is no such norm of width d): the token rows as the matrices
 * after the norm see them, so that gains folded into those matrices, as a
 * rotation needs, change nothing. */
static int gained(struct pass *ps, const char *prefix, uint64_t layer, const char *norm, double **out)
{
	char *name = kv_xasprintf("%slayers.%" PRIu64 ".%s", prefix, layer, norm);
	const struct kv_fp_tensor *ft = fp_tensor(ps->fp, name);
	free(name);
	*out = NULL;
	if (!ft || ft->rank != 1 || ft->shape[0] != ps->d || !kv_fp_sample_bytes(ft->dtype))
		return 0;
	const struct kv_st_tensor *t = locate(ps, ft);
	if (!t)
		return ps->err->status ? ps->err->status : KV_EXIT_INPUT;
	double *g = kv_xmalloc((size_t)ps->d * sizeof *g);
	int rc = read_rows(ps, t, 0, 1, ps->d, g);
	if (!rc) {
		*out = kv_xmalloc((size_t)(ps->k * ps->d) * sizeof **out);
		for (uint64_t i = 0; i < ps->k * ps->d; i++)
			(*out)[i] = ps->e[i] * g[i % ps->d];
	}
	free(g);
	return rc;
}

static int make_layer(struct pass *ps, const char *prefix, struct kv_fp_layer *l)
{
	double *view[MATS] = {0}, *e_attn = NULL, *e_mlp = NULL;
	uint64_t w[MATS] = {0};
	int rc = gained(ps, prefix, l->layer, NORM_ATTN, &e_attn);
	if (!rc)
		rc = gained(ps, prefix, l->layer, NORM_MLP, &e_mlp);
	for (int m = 0; m < MATS && !rc; m++) {
		const struct kv_fp_tensor *t = layer_tensor(ps->fp, prefix, l->layer, (enum mat)m);
		const double *e = is_writer[m] ? ps->e : m == M_UP ? (e_mlp ? e_mlp : ps->e) : (e_attn ? e_attn : ps->e);
		if (t && (rc = token_view(ps, e, t, is_writer[m], &view[m], &w[m])) == 1)
			rc = 0;
	}
	for (int p = 0; p < KV_FP_PRODUCTS && !rc; p++)
		if (view[pa[p]] && view[pb[p]])
			l->p[p] = product(view[pa[p]], w[pa[p]], view[pb[p]], w[pb[p]], ps->k);
	for (int m = 0; m < MATS; m++)
		free(view[m]);
	free(e_attn);
	free(e_mlp);
	return rc;
}

/* The token embedding: the float matrix with the shortest name ending in
 * embed_tokens.weight (the text model's, not a tower's). */
static const struct kv_fp_tensor *embedding(const struct kv_fp *fp)
{
	const struct kv_fp_tensor *best = NULL;
	for (size_t i = 0; i < fp->count; i++) {
		const struct kv_fp_tensor *t = &fp->tensors[i];
		if (t->rank == 2 && kv_fp_sample_bytes(t->dtype) && kv_str_ends_with(t->name, EMBED_SUFFIX) &&
		    (!best || strlen(t->name) < strlen(best->name)))
			best = t;
	}
	return best;
}

static int load_tokens(struct pass *ps, const struct kv_fp_tensor *et)
{
	const struct kv_st_tensor *t = locate(ps, et);
	if (!t)
		return ps->err->status ? ps->err->status : KV_EXIT_INPUT;
	ps->e = kv_xcalloc((size_t)(ps->k * ps->d), sizeof *ps->e);
	int rc = 0;
	for (uint64_t i = 0; i < ps->k && !rc; i++)
		rc = read_rows(ps, t, kv_fp_inv_token(i, et->shape[0], ps->k), 1, ps->d, ps->e + i * ps->d);
	return rc;
}

/* Layer numbers N of tensors named PREFIX layers.N.<one of the matrices>, ascending. */
static uint64_t *layer_numbers(const struct kv_fp *fp, const char *prefix, size_t *n)
{
	uint64_t *v = NULL;
	size_t len = strlen(prefix);
	*n = 0;
	for (size_t i = 0; i < fp->count; i++) {
		const char *s = fp->tensors[i].name;
		char *end;
		if (strncmp(s, prefix, len) != 0 || strncmp(s + len, "layers.", 7) != 0 || s[len + 7] < '0' ||
		    s[len + 7] > '9')
			continue;
		uint64_t layer = strtoull(s + len + 7, &end, 10);
		int known = 0;
		for (int m = 0; m < MATS; m++)
			known |= *end == '.' && strcmp(end + 1, mat_names[m]) == 0;
		int seen = 0;
		for (size_t j = 0; j < *n; j++)
			seen |= v[j] == layer;
		if (!known || seen)
			continue;
		v = kv_xrealloc(v, (*n + 1) * sizeof *v);
		size_t at = (*n)++;
		for (; at > 0 && v[at - 1] > layer; at--)
			v[at] = v[at - 1];
		v[at] = layer;
	}
	return v;
}

static int make_layers(struct pass *ps, const char *prefix)
{
	size_t n;
	uint64_t *numbers = layer_numbers(ps->fp, prefix, &n);
	struct kv_fp_invariants *inv = &ps->fp->inv;
	inv->layers = kv_xcalloc(n ? n : 1, sizeof *inv->layers);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		inv->layers[inv->layer_count].layer = numbers[i];
		rc = make_layer(ps, prefix, &inv->layers[inv->layer_count++]);
	}
	free(numbers);
	return rc;
}

int kv_fp_invariants(const char *dir, struct kv_fp *fp, unsigned threads, struct kv_error *err)
{
	use_avx2 = kv_simd_detect() >= KV_SIMD_AVX2;
	const struct kv_fp_tensor *et = embedding(fp);
	if (!et || et->shape[0] < KV_FP_INV_TOKENS)
		return kv_fail(err, KV_EXIT_INPUT, "%s: --invariants: no token embedding (a float matrix named "
			       "'...%s' with at least %u rows); the invariants need the Llama-style tensor names "
			       "of kaieval-fingerprint(1)", dir, EMBED_SUFFIX, KV_FP_INV_TOKENS);
	/* A row wider than ROW_BLOCK is read alone: the buffer holds the widest row. */
	uint64_t widest = et->shape[1];
	for (size_t i = 0; i < fp->count; i++)
		if (fp->tensors[i].rank == 2 && fp->tensors[i].shape[1] > widest)
			widest = fp->tensors[i].shape[1];
	struct pass ps = {.dir = dir, .fp = fp, .open = {.fd = -1}, .d = et->shape[1], .k = KV_FP_INV_TOKENS,
			  .buf = kv_xmalloc((size_t)(ROW_BLOCK > 4 * widest ? ROW_BLOCK : 4 * widest)), .err = err,
			  .threads = threads};
	if (!ps.threads) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		ps.threads = online > 0 ? (unsigned)online : 1;
	}
	if (ps.threads > MAX_THREADS)
		ps.threads = MAX_THREADS;
	size_t plen = strlen(et->name) - strlen(EMBED_SUFFIX);
	char *prefix = kv_xstrdup(et->name);
	prefix[plen] = '\0';
	fp->inv = (struct kv_fp_invariants){.embedding = kv_xstrdup(et->name), .vocab = et->shape[0],
					    .tokens = ps.k};
	int rc = load_tokens(&ps, et);
	if (!rc)
		rc = make_layers(&ps, prefix);
	fp->has_invariants = rc == 0;
	if (rc)
		kv_fp_invariants_free(&fp->inv);
	close_shard(&ps.open);
	free(prefix);
	free(ps.e);
	free(ps.buf);
	return rc;
}

/* Weight forensics: a team's fingerprint against a reference library (see
 * forensics.h for the tests and their rules). */
#include "forensics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpread.h"
#include "fpsample.h"
#include "text.h"

/* Moments equal to this relative precision mean the same values. */
#define MOMENT_TOL 1e-9
/* Other-layer tensors each team matrix is paired with for T2's null. */
#define NULL_PARTNERS 4

struct reference {
	struct fp_model m;
	const struct fp_tensor **by_hash, **by_tail, **by_sumsq, **by_generic;
};

/* A growing list of similarities. */
struct vec {
	double *v;
	size_t n;
};

/* One test's similarity against its null (forensics.h). */
struct scored {
	int available;
	double similarity, mean, sd, z;
	size_t matched, null_n;
};

/* One model against one reference, one component. */
struct stats {
	size_t tensors, matrices, identical, aligned, above_fail, flagged, permuted, vectors;
	size_t min_pairs;
	double *r, *cos, *vr, *vcos;       /* aligned matrices; aligned vectors */
	double r_median, cos_median, vr_median, vcos_median, top_r;
	const struct fp_tensor *id_m, *id_r, *top_m, *perm_m, *perm_r;
};

struct comparison {
	struct stats c[COMP_COUNT];
};

struct baseline {
	size_t a, b;                       /* b compared with reference a */
	int derivative;
	struct comparison cmp;
};

struct forensics {
	struct forensics_params p;
	const char *folder;
	size_t ref_count, baseline_count;
	struct reference *refs;
	struct baseline *baselines;
	double *xa, *xb, *pa, *pb;         /* scratch for paired samples */
	size_t scratch;
	int nomem;
	struct vec unrelated[3];           /* T1, T2, T3 of the unrelated baseline pairs */
};

/* ---- indexes of a reference -------------------------------------------------- */

static int cmp_hash(const void *a, const void *b)
{
	const struct fp_tensor *x = *(const struct fp_tensor *const *)a, *y = *(const struct fp_tensor *const *)b;
	int c = strcmp(x->hash, y->hash);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_tail(const void *a, const void *b)
{
	const struct fp_tensor *x = *(const struct fp_tensor *const *)a, *y = *(const struct fp_tensor *const *)b;
	int c = strcmp(x->tail, y->tail);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_generic(const void *a, const void *b)
{
	const struct fp_tensor *x = *(const struct fp_tensor *const *)a, *y = *(const struct fp_tensor *const *)b;
	int c = strcmp(x->generic, y->generic);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_sumsq(const void *a, const void *b)
{
	const struct fp_tensor *x = *(const struct fp_tensor *const *)a, *y = *(const struct fp_tensor *const *)b;
	if (x->sumsq != y->sumsq)
		return x->sumsq < y->sumsq ? -1 : 1;
	return strcmp(x->name, y->name);
}

static const struct fp_tensor **sorted(const struct fp_model *m, int (*cmp)(const void *, const void *))
{
	const struct fp_tensor **v = malloc((m->count ? m->count : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < m->count; i++)
		v[i] = &m->t[i];
	qsort(v, m->count, sizeof *v, cmp);
	return v;
}

static int index_reference(struct reference *r)
{
	r->by_hash = sorted(&r->m, cmp_hash);
	r->by_tail = sorted(&r->m, cmp_tail);
	r->by_sumsq = sorted(&r->m, cmp_sumsq);
	r->by_generic = sorted(&r->m, cmp_generic);
	return r->by_hash && r->by_tail && r->by_sumsq && r->by_generic ? 0 : -1;
}

/* First index in v (sorted by key) whose key is not below want. */
static size_t lower_bound(const struct fp_tensor **v, size_t n, const void *want,
			  int (*below)(const struct fp_tensor *, const void *))
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (below(v[mid], want))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int hash_below(const struct fp_tensor *t, const void *want) { return strcmp(t->hash, want) < 0; }
static int tail_below(const struct fp_tensor *t, const void *want) { return strcmp(t->tail, want) < 0; }
static int generic_below(const struct fp_tensor *t, const void *want) { return strcmp(t->generic, want) < 0; }
static int sumsq_below(const struct fp_tensor *t, const void *want) { return t->sumsq < *(const double *)want; }

/* ---- the tests on one tensor --------------------------------------------------- */

static int same_shape(const struct fp_tensor *a, const struct fp_tensor *b)
{
	if (a->rank != b->rank || a->numel != b->numel)
		return 0;
	for (size_t i = 0; i < a->rank; i++)
		if (a->shape[i] != b->shape[i])
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Constant, small, or a buffer every model of a family shares. */
static int trivial(const struct forensics *f, const struct fp_tensor *t)
{
	static const char *const buffers[] = {"inv_freq", "position_ids", "masked_bias", "_float_tensor", NULL};
	if (t->constant || t->numel < (uint64_t)f->p.identity_min)
		return 1;
	for (size_t i = 0; buffers[i]; i++)
		if (ends_with(t->name, buffers[i]))
			return 1;
	return 0;
}

static const struct fp_tensor *identical(const struct reference *r, const struct fp_tensor *t)
{
	for (size_t i = lower_bound(r->by_hash, r->m.count, t->hash, hash_below);
	     i < r->m.count && strcmp(r->by_hash[i]->hash, t->hash) == 0; i++)
		if (strcmp(r->by_hash[i]->dtype, t->dtype) == 0 && same_shape(r->by_hash[i], t))
			return r->by_hash[i];
	return NULL;
}

/* The same name and shape, or else the single same-shaped tensor whose name
 * agrees from the layer number on. */
static const struct fp_tensor *aligned(const struct reference *r, const struct fp_tensor *t)
{
	const struct fp_tensor *a = fp_find(&r->m, t->name), *hit = NULL;
	if (a && a->kind != FP_NONE && same_shape(a, t))
		return a;
	for (size_t i = lower_bound(r->by_tail, r->m.count, t->tail, tail_below);
	     i < r->m.count && strcmp(r->by_tail[i]->tail, t->tail) == 0; i++)
		if (r->by_tail[i]->kind != FP_NONE && same_shape(r->by_tail[i], t)) {
			if (hit)
				return NULL;  /* ambiguous */
			hit = r->by_tail[i];
		}
	return hit;
}

static int close_to(double a, double b, double scale)
{
	return fabs(a - b) <= MOMENT_TOL * scale;
}

/* A tensor with the same value multiset (to the moments' precision). */
static const struct fp_tensor *same_moments(const struct reference *r, const struct fp_tensor *t)
{
	double from = t->sumsq * (1 - MOMENT_TOL), scale = sqrt((double)t->numel * t->sumsq);
	for (size_t i = lower_bound(r->by_sumsq, r->m.count, &from, sumsq_below);
	     i < r->m.count && r->by_sumsq[i]->sumsq <= t->sumsq * (1 + MOMENT_TOL); i++) {
		const struct fp_tensor *c = r->by_sumsq[i];
		if (c->kind == t->kind && c->numel == t->numel && c->finite == t->finite && c->finite &&
		    c->min == t->min && c->max == t->max && close_to(c->sum, t->sum, scale) &&
		    strcmp(c->hash, t->hash) != 0)
			return c;
	}
	return NULL;
}

/* ---- Pearson on paired samples ---------------------------------------------------- */

static int reserve(struct forensics *f, size_t n)
{
	if (n <= f->scratch)
		return 0;
	double *v[4];
	for (int i = 0; i < 4; i++)
		v[i] = malloc(n * sizeof *v[i]);
	free(f->xa);
	free(f->xb);
	free(f->pa);
	free(f->pb);
	f->xa = v[0], f->xb = v[1], f->pa = v[2], f->pb = v[3];
	f->scratch = v[0] && v[1] && v[2] && v[3] ? n : 0;
	f->nomem |= f->scratch == 0;
	return f->scratch ? 0 : -1;
}

/* Paired values of x (fingerprint sample size kx) and y (ky): the same
 * positions when both kept all values or both sampled (a common prefix),
 * else the sampled side's positions looked up in the full side. */
static size_t pair(struct forensics *f, const struct fp_tensor *x, uint64_t kx, const struct fp_tensor *y,
		   uint64_t ky)
{
	if (reserve(f, (size_t)(x->sample_count > y->sample_count ? x->sample_count : y->sample_count) + 1))
		return 0;
	fp_values(x, f->xa);
	fp_values(y, f->xb);
	int all_x = x->numel <= kx, all_y = y->numel <= ky;
	size_t n = (size_t)(x->sample_count < y->sample_count ? x->sample_count : y->sample_count);
	const struct fp_tensor *s = all_x ? y : x;
	uint64_t key = kv_fp_shape_key(x->rank, x->shape), k = all_x ? ky : kx;
	if (all_x != all_y)
		n = (size_t)s->sample_count;
	for (size_t j = 0; j < n; j++) {
		uint64_t at = all_x == all_y ? j : kv_fp_position(key, j, x->numel, k);
		f->pa[j] = all_x && !all_y ? f->xa[at] : f->xa[j];
		f->pb[j] = all_y && !all_x ? f->xb[at] : f->xb[j];
	}
	return n;
}

/* Pearson r and raw cosine over the finite pairs; 0 when r is undefined. */
static int pearson(const double *a, const double *b, size_t n, double *r, double *cos, size_t *pairs)
{
	double sa = 0, sb = 0, xx = 0, yy = 0, xy = 0, aa = 0, bb = 0, ab = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(a[i]) && isfinite(b[i])) {
			sa += a[i];
			sb += b[i];
			k++;
		}
	if (k < 2)
		return 0;
	double ma = sa / (double)k, mb = sb / (double)k;
	for (size_t i = 0; i < n; i++)
		if (isfinite(a[i]) && isfinite(b[i])) {
			double da = a[i] - ma, db = b[i] - mb;
			xx += da * da;
			yy += db * db;
			xy += da * db;
			aa += a[i] * a[i];
			bb += b[i] * b[i];
			ab += a[i] * b[i];
		}
	if (!(xx > 0 && yy > 0))
		return 0;
	*r = fmax(-1.0, fmin(1.0, xy / sqrt(xx * yy)));
	*cos = aa > 0 && bb > 0 ? fmax(-1.0, fmin(1.0, ab / sqrt(aa * bb))) : 0;
	*pairs = k;
	return 1;
}

/* ---- one model against one reference ----------------------------------------------- */

static int push(double **v, size_t n, double x)
{
	double *g = realloc(*v, (n + 1) * sizeof *g);
	if (!g)
		return -1;
	g[n] = x;
	*v = g;
	return 0;
}

static void record_r(struct forensics *f, struct stats *s, const struct fp_tensor *t, double r, double cos,
		     size_t pairs)
{
	int matrix = t->rank >= 2;
	size_t *count = matrix ? &s->aligned : &s->vectors;
	if (push(matrix ? &s->r : &s->vr, *count, r) || push(matrix ? &s->cos : &s->vcos, *count, cos)) {
		f->nomem = 1;
		return;
	}
	(*count)++;
	if (!matrix)
		return;
	s->above_fail += r > f->p.pearson_fail;
	s->flagged += r > fmax(f->p.pearson_flag, 8 / sqrt((double)pairs));
	s->min_pairs = s->min_pairs && s->min_pairs < pairs ? s->min_pairs : pairs;
	if (!s->top_m || r > s->top_r) {
		s->top_m = t;
		s->top_r = r;
	}
}

static void test_tensor(struct forensics *f, const struct fp_model *m, const struct reference *ref,
			const struct fp_tensor *t, struct stats *s)
{
	const struct fp_tensor *same = trivial(f, t) ? NULL : identical(ref, t), *a;
	s->tensors++;
	s->matrices += t->kind != FP_NONE && t->rank >= 2;
	if (same) {
		s->identical++;
		if (!s->id_m)
			s->id_m = t, s->id_r = same;
	}
	if (t->kind == FP_NONE)
		return;
	double r = 0, cos = 0;
	size_t pairs = 0, n = 0;
	if ((a = aligned(ref, t)))
		n = pair(f, t, m->sample_size, a, ref->m.sample_size);  /* may move f->pa, f->pb */
	int defined = a && pearson(f->pa, f->pb, n, &r, &cos, &pairs);
	if (defined)
		record_r(f, s, t, r, cos, pairs);
	const struct fp_tensor *perm = same || trivial(f, t) ? NULL : same_moments(ref, t);
	if (perm && (!defined || r < f->p.pearson_flag)) {
		if (!s->perm_m)
			s->perm_m = t, s->perm_r = perm;
		s->permuted++;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void finish(struct stats *s)
{
	s->r_median = median(s->r, s->aligned);
	s->cos_median = median(s->cos, s->aligned);
	s->vr_median = median(s->vr, s->vectors);
	s->vcos_median = median(s->vcos, s->vectors);
}

static void compare(struct forensics *f, const struct fp_model *m, const struct reference *ref,
		    struct comparison *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < m->count; i++)
		test_tensor(f, m, ref, &m->t[i], &out->c[m->t[i].component]);
	for (int c = 0; c < COMP_COUNT; c++)
		finish(&out->c[c]);
}

static void comparison_free(struct comparison *cmp)
{
	for (int c = 0; c < COMP_COUNT; c++) {
		free(cmp->c[c].r);
		free(cmp->c[c].cos);
		free(cmp->c[c].vr);
		free(cmp->c[c].vcos);
	}
}

static double share(const struct stats *s)
{
	return s->matrices ? (double)s->above_fail / (double)s->matrices : 0;
}

static int t2_fails(const struct forensics_params *p, const struct stats *s)
{
	return s->matrices && share(s) >= p->fail_share;
}

/* ---- standardized scores: T1, T2, T3 against their nulls ----------------------------- */

static void vpush(struct forensics *f, struct vec *v, double x)
{
	if (push(&v->v, v->n, x))
		f->nomem = 1;
	else
		v->n++;
}

/* The score of similarity sim against the null values (with fewer than two,
 * the null of an unrelated model: mean 0); the null's sd is at least floor,
 * the spread a single unrelated pair has by sampling alone. */
static struct scored score(double sim, size_t matched, const struct vec *null, double floor)
{
	struct scored s = {.available = 1, .similarity = sim, .matched = matched, .null_n = null->n};
	double sum = 0, ss = 0;
	for (size_t i = 0; i < null->n; i++)
		sum += null->v[i];
	if (null->n >= 2) {
		s.mean = sum / (double)null->n;
		for (size_t i = 0; i < null->n; i++)
			ss += (null->v[i] - s.mean) * (null->v[i] - s.mean);
		s.sd = sqrt(ss / (double)(null->n - 1));
	}
	s.sd = fmax(s.sd, floor);
	s.z = (sim - s.mean) / s.sd;
	return s;
}

static void vappend(struct forensics *f, struct vec *to, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vpush(f, to, v[i]);
}

/* T1: the share of the team's tensors byte-identical to the reference's. */
static double t1_share(const struct comparison *c, size_t *tensors)
{
	size_t same = 0;
	*tensors = 0;
	for (int k = 0; k < COMP_COUNT; k++) {
		same += c->c[k].identical;
		*tensors += c->c[k].tensors;
	}
	return *tensors ? (double)same / (double)*tensors : 0;
}

static struct scored t1_score(struct forensics *f, const struct comparison *c)
{
	size_t tensors;
	double sim = t1_share(c, &tensors);
	if (!tensors)
		return (struct scored){0};
	return score(sim, tensors, &f->unrelated[0], 1 / (double)tensors);
}

/* r of the team's matrix t with up to NULL_PARTNERS same-shaped tensors of
 * the same role in the reference's other layers (not a, its aligned one). */
static void t2_partners(struct forensics *f, const struct fp_model *m, const struct reference *ref,
			const struct fp_tensor *t, const struct fp_tensor *a, struct vec *null)
{
	size_t found = 0;
	for (size_t i = lower_bound(ref->by_generic, ref->m.count, t->generic, generic_below);
	     i < ref->m.count && found < NULL_PARTNERS && strcmp(ref->by_generic[i]->generic, t->generic) == 0; i++) {
		const struct fp_tensor *b = ref->by_generic[i];
		double r, cos;
		size_t pairs;
		if (b == a || b->kind == FP_NONE || !same_shape(b, t))
			continue;
		size_t n = pair(f, t, m->sample_size, b, ref->m.sample_size);
		if (pearson(f->pa, f->pb, n, &r, &cos, &pairs)) {
			vpush(f, null, r);
			found++;
		}
	}
}

/* T2: the median r of the aligned matrices, against r of the same
 * matrices with other layers of the reference and the unrelated pairs' r. */
static struct scored t2_score(struct forensics *f, const struct fp_model *m, const struct reference *ref,
			      const struct comparison *c)
{
	struct vec all = {0}, null = {0};
	size_t pairs = 0;
	for (int k = 0; k < COMP_COUNT; k++) {
		vappend(f, &all, c->c[k].r, c->c[k].aligned);
		if (c->c[k].aligned && (!pairs || c->c[k].min_pairs < pairs))
			pairs = c->c[k].min_pairs;
	}
	for (size_t i = 0; i < m->count; i++) {
		const struct fp_tensor *t = &m->t[i], *a;
		if (t->kind != FP_NONE && t->rank >= 2 && (a = aligned(ref, t)))
			t2_partners(f, m, ref, t, a, &null);
	}
	vappend(f, &null, f->unrelated[1].v, f->unrelated[1].n);
	struct scored s = {0};
	if (all.n)
		s = score(median(all.v, all.n), all.n, &null, 1 / sqrt((double)pairs));
	free(all.v);
	free(null.v);
	return s;
}

/* Pearson r of two invariant products over their off-diagonal entries
 * (the diagonal pairs a token with itself, alike in every model). */
static double offdiag_r(const float *a, const float *b, uint64_t k)
{
	double sa = 0, sb = 0, xx = 0, yy = 0, xy = 0, n = (double)(k * k - k);
	for (uint64_t i = 0; i < k * k; i++)
		if (i / k != i % k) {
			sa += a[i];
			sb += b[i];
		}
	for (uint64_t i = 0; i < k * k; i++)
		if (i / k != i % k) {
			double da = a[i] - sa / n, db = b[i] - sb / n;
			xx += da * da;
			yy += db * db;
			xy += da * db;
		}
	return xx > 0 && yy > 0 ? fmax(-1.0, fmin(1.0, xy / sqrt(xx * yy))) : 0;
}

/* T3 compares x with y: both have invariants made on the same token rows. */
static int t3_comparable(const struct kv_fp *x, const struct kv_fp *y)
{
	return x->has_invariants && y->has_invariants && x->inv.vocab == y->inv.vocab &&
	       x->inv.tokens == y->inv.tokens;
}

/* r of every product pair: same layer number into matched, other layers
 * into null (when null is not NULL). */
static void t3_pairs(struct forensics *f, const struct kv_fp_invariants *x, const struct kv_fp_invariants *y,
		     struct vec *matched, struct vec *null)
{
	for (size_t i = 0; i < x->layer_count; i++)
		for (size_t j = 0; j < y->layer_count; j++)
			for (int p = 0; p < KV_FP_PRODUCTS; p++) {
				const float *a = x->layers[i].p[p], *b = y->layers[j].p[p];
				int same = x->layers[i].layer == y->layers[j].layer;
				if (a && b && (same || null))
					vpush(f, same ? matched : null, offdiag_r(a, b, x->tokens));
			}
}

static struct scored t3_score(struct forensics *f, const struct fp_model *m, const struct reference *ref)
{
	struct vec matched = {0}, null = {0};
	struct scored s = {0};
	if (!t3_comparable(&m->fp, &ref->m.fp))
		return s;
	t3_pairs(f, &m->fp.inv, &ref->m.fp.inv, &matched, &null);
	vappend(f, &null, f->unrelated[2].v, f->unrelated[2].n);
	uint64_t k = m->fp.inv.tokens;
	if (matched.n)
		s = score(median(matched.v, matched.n), matched.n, &null, 1 / sqrt((double)(k * k - k)));
	free(matched.v);
	free(null.v);
	return s;
}

/* The unrelated pairs of baselines.csv: their T1 share, T2 r's and T3
 * matched r's join every null. */
static void unrelated_nulls(struct forensics *f)
{
	for (size_t i = 0; i < f->baseline_count; i++) {
		const struct baseline *b = &f->baselines[i];
		size_t tensors;
		if (b->derivative)
			continue;
		double share1 = t1_share(&b->cmp, &tensors);
		if (tensors)
			vpush(f, &f->unrelated[0], share1);
		for (int k = 0; k < COMP_COUNT; k++)
			vappend(f, &f->unrelated[1], b->cmp.c[k].r, b->cmp.c[k].aligned);
		const struct kv_fp *x = &f->refs[b->b].m.fp, *y = &f->refs[b->a].m.fp;
		if (t3_comparable(x, y))
			t3_pairs(f, &x->inv, &y->inv, &f->unrelated[2], NULL);
	}
}

/* ---- sentences ------------------------------------------------------------------------ */

static void shape_text(struct text *t, const struct fp_tensor *x)
{
	text_add(t, "%s [", x->dtype);
	for (size_t i = 0; i < x->rank; i++)
		text_add(t, "%s%llu", i ? ", " : "", (unsigned long long)x->shape[i]);
	text_add(t, "]");
}

/* The statistics of one comparison, one component. */
static void stats_text(struct text *t, const struct forensics_params *p, const struct stats *s)
{
	text_add(t, "identical %zu of %zu tensors; Pearson r > %g on %zu of %zu matrices (share %.2f), flagged %zu",
		 s->identical, s->tensors, p->pearson_fail, s->above_fail, s->matrices, share(s), s->flagged);
	if (s->aligned)
		text_add(t, ", median r %.3f, raw cosine %.3f", s->r_median, s->cos_median);
	if (s->vectors)
		text_add(t, "; vectors: median r %.3f, raw cosine %.3f", s->vr_median, s->vcos_median);
	if (s->permuted)
		text_add(t, "; same moments, other bytes: %zu", s->permuted);
}

static const char *ref_name(const struct forensics *f, size_t i)
{
	return f->refs[i].m.name;
}

static void baseline_label(struct text *t, const struct forensics *f, const struct baseline *b)
{
	text_add(t, "%s %s%s%s", b->derivative ? "derivative" : "unrelated", ref_name(f, b->a),
		 b->derivative ? " -> " : " / ", ref_name(f, b->b));
}

/* " | baselines: derivative a -> b: ...; unrelated c / d: ..." for component c. */
static void baselines_text(struct text *t, const struct forensics *f, enum component c)
{
	if (!f->baseline_count) {
		text_add(t, " | baselines: none in the reference set (no baselines.csv)");
		return;
	}
	text_add(t, " | baselines:");
	for (size_t i = 0; i < f->baseline_count; i++) {
		const struct stats *s = &f->baselines[i].cmp.c[c];
		text_add(t, "%s ", i ? ";" : "");
		baseline_label(t, f, &f->baselines[i]);
		if (!s->tensors) {
			text_add(t, ": no %s tensors", component_names[c]);
			continue;
		}
		text_add(t, ": identical %zu of %zu, r > %g on %zu of %zu matrices (share %.2f)", s->identical,
			 s->tensors, f->p.pearson_fail, s->above_fail, s->matrices, share(s));
		if (s->aligned)
			text_add(t, ", median r %.3f, raw cosine %.3f", s->r_median, s->cos_median);
	}
}

/* ---- findings ----------------------------------------------------------------------------- */

struct sink {
	forensics_finding_fn fn;
	void *arg;
	int nomem;
};

static void emit(struct sink *k, const char *rule, enum component c, int fails, struct text *t)
{
	if (t->failed)
		k->nomem = 1;
	else
		k->fn(k->arg, rule, component_names[c], fails, t->s ? t->s : "");
	text_free(t);
}

static void identity_finding(const struct forensics *f, const struct stats *s, const char *ref, enum component c,
			     struct sink *k)
{
	struct text t = {0};
	text_add(&t, "%zu of the %zu %s tensors are byte-identical to tensors of reference '%s' (e.g. '%s' = '%s', ",
		 s->identical, s->tensors, component_names[c], ref, s->id_m->name, s->id_r->name);
	shape_text(&t, s->id_m);
	text_add(&t, ")");
	baselines_text(&t, f, c);
	emit(k, "tensor-identity", c, 1, &t);
}

static void correlation_finding(const struct forensics *f, const struct stats *s, const char *ref, enum component c,
				struct sink *k)
{
	struct text t = {0};
	double r = s->r_median;
	text_add(&t, "Pearson r > %g against reference '%s' on %zu of the %zu %s matrices (share %.2f, fail_share %g); "
		 "median r %.3f (sampling error about %.4f at %zu pairs); raw cosine median %.3f (reported, "
		 "never deciding)", f->p.pearson_fail, ref, s->above_fail, s->matrices, component_names[c], share(s),
		 f->p.fail_share, r, (1 - r * r) / sqrt((double)s->min_pairs), s->min_pairs, s->cos_median);
	baselines_text(&t, f, c);
	emit(k, "tensor-correlation", c, 1, &t);
}

static void flag_finding(const struct forensics *f, const struct stats *s, const char *ref, enum component c,
			 struct sink *k)
{
	struct text t = {0};
	text_add(&t, "%zu of the %zu %s matrices have Pearson r above max(pearson_flag %g, 8/sqrt(pairs)) against "
		 "reference '%s' (highest %.3f at '%s'), short of the fail rule: reported, not failing",
		 s->flagged, s->matrices, component_names[c], f->p.pearson_flag, ref, s->top_r, s->top_m->name);
	baselines_text(&t, f, c);
	emit(k, "tensor-flag", c, 0, &t);
}

static void permuted_finding(const struct forensics *f, const struct stats *s, const char *ref, enum component c,
			     struct sink *k)
{
	struct text t = {0};
	text_add(&t, "%zu %s tensors have the count, sum, sum of squares, min and max of a tensor of reference '%s' "
		 "but other bytes and no correlation (e.g. '%s' and '%s'): possibly the same values reordered "
		 "(rows or columns permuted), which Pearson r cannot see; reported, not deciding",
		 s->permuted, component_names[c], ref, s->perm_m->name, s->perm_r->name);
	baselines_text(&t, f, c);
	emit(k, "possible-permuted-copy", c, 0, &t);
}

static void component_findings(const struct forensics *f, const struct stats *s, const char *ref, enum component c,
			       struct sink *k)
{
	if (s->identical)
		identity_finding(f, s, ref, c, k);
	if (t2_fails(&f->p, s))
		correlation_finding(f, s, ref, c, k);
	else if (s->flagged)
		flag_finding(f, s, ref, c, k);
	if (s->permuted)
		permuted_finding(f, s, ref, c, k);
}

/* ---- evidence ---------------------------------------------------------------------------- */

static void component_evidence(const struct kv_host *h, struct kv_ctx *ctx, const struct forensics *f, size_t team,
			       const char *ref, enum component c, const struct stats *s, struct sink *k)
{
	char key[512];
	struct text t = {0};
	stats_text(&t, &f->p, s);
	snprintf(key, sizeof key, "forensics.%s.%s", ref, component_names[c]);
	if (t.failed)
		k->nomem = 1;
	else
		h->evidence_str(ctx, team, key, "%s", t.s);
	text_free(&t);
	snprintf(key, sizeof key, "forensics.%s.%s.identical", ref, component_names[c]);
	h->evidence_num(ctx, team, key, (double)s->identical);
	snprintf(key, sizeof key, "forensics.%s.%s.share", ref, component_names[c]);
	h->evidence_num(ctx, team, key, share(s));
	snprintf(key, sizeof key, "forensics.%s.%s.median_r", ref, component_names[c]);
	h->evidence_num(ctx, team, key, s->r_median);
}

void forensics_round_evidence(const struct kv_host *h, struct kv_ctx *ctx, const struct forensics *f)
{
	struct text t = {0};
	for (size_t i = 0; i < f->ref_count; i++)
		text_add(&t, "%s%s%s", i ? ", " : "", ref_name(f, i), f->refs[i].m.complete ? "" : " (partial)");
	h->evidence_str(ctx, KV_ROUND, "forensics.references", "%s: %s", f->folder, t.failed ? "?" : t.s);
	text_free(&t);
	h->evidence_str(ctx, KV_ROUND, "forensics.params", "pearson_flag %g, pearson_fail %g, fail_share %g, "
			"identity_min_elements %lld; T3 fails at z >= %g with r >= %g", f->p.pearson_flag,
			f->p.pearson_fail, f->p.fail_share, f->p.identity_min, INVARIANT_Z, INVARIANT_FAIL);
	for (size_t i = 0; i < f->baseline_count; i++) {
		char key[64];
		struct text b = {0};
		baseline_label(&b, f, &f->baselines[i]);
		for (int c = 0; c < COMP_COUNT; c++)
			if (f->baselines[i].cmp.c[c].tensors) {
				text_add(&b, " | %s: ", component_names[c]);
				stats_text(&b, &f->p, &f->baselines[i].cmp.c[c]);
			}
		snprintf(key, sizeof key, "forensics.baseline.%zu", i + 1);
		h->evidence_str(ctx, KV_ROUND, key, "%s", b.failed ? "?" : b.s);
		text_free(&b);
	}
}

/* ---- the standardized scores' evidence and T3's finding ------------------------------------ */

static const char *const test_names[3] = {"t1", "t2", "t3"};

struct key { char s[512]; };

static struct key test_key(int test, const char *ref, const char *what)
{
	struct key k;
	snprintf(k.s, sizeof k.s, "forensics.%s.%s%s", test_names[test], ref, what);
	return k;
}

static struct key t3_key(const char *ref, const char *what)
{
	return test_key(2, ref, what);
}

static void scored_evidence(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *ref, int test,
			    const struct scored *s)
{
	if (!s->available)
		return;
	h->evidence_num(ctx, team, test_key(test, ref, ".similarity").s, s->similarity);
	h->evidence_num(ctx, team, test_key(test, ref, ".baseline_mean").s, s->mean);
	h->evidence_num(ctx, team, test_key(test, ref, ".baseline_sd").s, s->sd);
	h->evidence_num(ctx, team, test_key(test, ref, ".z").s, s->z);
}

/* Why T3 did not compare the team (x) with reference ref (y), and how to have it. */
static void t3_unavailable(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *ref,
			   const struct kv_fp *x, const struct kv_fp *y)
{
	struct key key = t3_key(ref, "");
	if (x->has_invariants && y->has_invariants) {
		h->evidence_str(ctx, team, key.s, "not available: the token embeddings have %llu and %llu rows "
				"(another vocabulary), so their token rows are not the same tokens",
				(unsigned long long)x->inv.vocab, (unsigned long long)y->inv.vocab);
		return;
	}
	const struct kv_fp *without = x->has_invariants ? y : x;
	h->evidence_str(ctx, team, key.s, "not available: %s fingerprint %s; remake it with `kaieval fingerprint "
			"MODEL_DIR -o FILE --invariants`", without == x ? "the team's" : "the reference's",
			without->version < KV_FP_VERSION_INVARIANTS
			? "is of format version 1 to 3, which holds no invariants" : "was made without --invariants");
}

/* T3 fails the backbone when the invariants stand out from their null by
 * INVARIANT_Z sds and are similar by at least INVARIANT_FAIL; standing out
 * alone is reported. */
static void invariant_finding(const struct forensics *f, const struct scored *s, const char *ref, struct sink *k)
{
	int fails = s->z >= INVARIANT_Z && s->similarity >= INVARIANT_FAIL;
	if (s->z < INVARIANT_Z)
		return;
	struct text t = {0};
	text_add(&t, "the token-product invariants (unchanged by a permutation or rotation of the hidden units) "
		 "of %zu layer products match reference '%s' with median r %.3f, against a null of %zu values "
		 "(other layers, unrelated references) with mean %.3f and sd %.3f: z %.1f (fails at z >= %g "
		 "with r >= %g)%s", s->matched, ref, s->similarity, s->null_n, s->mean, s->sd, s->z, INVARIANT_Z,
		 INVARIANT_FAIL, fails ? "" : "; reported, not failing");
	baselines_text(&t, f, COMP_BACKBONE);
	emit(k, fails ? "invariant-similarity" : "invariant-flag", COMP_BACKBONE, fails, &t);
}

/* ---- loading the reference library -------------------------------------------------------- */

static long find_ref(const struct forensics *f, const char *name)
{
	for (size_t i = 0; i < f->ref_count; i++)
		if (strcmp(ref_name(f, i), name) == 0)
			return (long)i;
	return -1;
}

static int load_refs(const struct kv_host *h, struct kv_ctx *ctx, struct forensics *f)
{
	const char *const *names;
	size_t n;
	if (h->input_list(ctx, f->folder, &names, &n))
		return KV_ERR_INPUT;
	if (!(f->refs = calloc(n ? n : 1, sizeof *f->refs))) {
		h->error(ctx, "fingerprints: out of memory");
		return KV_ERR_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", f->folder, names[i]);
		if (len <= 5 || strcmp(names[i] + len - 5, ".json") != 0 || h->input_kind(ctx, path) != 1)
			continue;
		struct reference *r = &f->refs[f->ref_count++];
		int rc = fp_read(h, ctx, path, &r->m);
		if (rc)
			return rc;
		if (strcmp(r->m.content_hash, f->refs[0].m.content_hash) != 0)
			return h->error(ctx, "%s: content_hash %s differs from %s's %s: a reference library is made "
					"with one hash", path, r->m.content_hash, f->refs[0].m.file,
					f->refs[0].m.content_hash);
		if (index_reference(r)) {
			h->error(ctx, "%s: out of memory", path);
			return KV_ERR_INTERNAL;
		}
	}
	if (!f->ref_count)
		return h->error(ctx, "fingerprints: '%s' holds no reference fingerprint (*.json)", f->folder);
	return 0;
}

static int baseline_row(const struct kv_host *h, struct kv_table *tb, const int col[3], struct forensics *f,
			struct baseline *b)
{
	const char *a = h->table_field(tb, col[0]), *d = h->table_field(tb, col[1]);
	const char *rel = h->table_field(tb, col[2]);
	long ia = find_ref(f, a), ib = find_ref(f, d);
	if (ia < 0)
		return h->table_error(tb, col[0], "'%s' is not a reference fingerprint in '%s'", a, f->folder);
	if (ib < 0 || ib == ia)
		return h->table_error(tb, col[1], "'%s' is not another reference fingerprint in '%s'", d, f->folder);
	if (strcmp(rel, "derivative") != 0 && strcmp(rel, "unrelated") != 0)
		return h->table_error(tb, col[2], "'%s' is neither 'derivative' nor 'unrelated'", rel);
	b->a = (size_t)ia;
	b->b = (size_t)ib;
	b->derivative = strcmp(rel, "derivative") == 0;
	compare(f, &f->refs[ib].m, &f->refs[ia], &b->cmp);
	return 0;
}

/* baselines.csv: a,b,relation -- b compared with a, as a team would be. */
static int load_baselines(const struct kv_host *h, struct kv_ctx *ctx, struct forensics *f)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/baselines.csv", f->folder);
	if (h->input_kind(ctx, path) != 1)
		return 0;
	struct kv_table *tb = h->table_open(ctx, path);
	if (!tb)
		return KV_ERR_INPUT;
	static const char *const names[3] = {"a", "b", "relation"};
	int col[3], rc = 0, more;
	for (int i = 0; i < 3 && !rc; i++)
		if ((col[i] = h->table_column(tb, names[i])) < 0)
			rc = h->error(ctx, "%s: no column '%s' (wanted: a, b, relation)", path, names[i]);
	while (!rc && (more = h->table_next(tb)) != 0) {
		struct baseline *v = more < 0 ? NULL : realloc(f->baselines, (f->baseline_count + 1) * sizeof *v);
		if (!v) {
			rc = more < 0 ? KV_ERR_INPUT : KV_ERR_INTERNAL;
			if (more > 0)
				h->error(ctx, "%s: out of memory", path);
			break;
		}
		f->baselines = v;
		memset(&v[f->baseline_count], 0, sizeof *v);
		rc = baseline_row(h, tb, col, f, &v[f->baseline_count]);
		f->baseline_count += rc == 0;
	}
	h->table_close(tb);
	return rc;
}

int forensics_load(const struct kv_host *h, struct kv_ctx *ctx, const char *folder,
		   const struct forensics_params *p, struct forensics **out)
{
	struct forensics *f = calloc(1, sizeof *f);
	*out = f;
	if (!f) {
		h->error(ctx, "fingerprints: out of memory");
		return KV_ERR_INTERNAL;
	}
	f->p = *p;
	f->folder = folder;
	int rc = load_refs(h, ctx, f);
	if (!rc)
		rc = load_baselines(h, ctx, f);
	if (!rc)
		unrelated_nulls(f);
	if (!rc && f->nomem) {
		h->error(ctx, "fingerprints: out of memory");
		rc = KV_ERR_INTERNAL;
	}
	return rc;
}

void forensics_free(struct forensics *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ref_count; i++) {
		fp_free(&f->refs[i].m);
		free(f->refs[i].by_hash);
		free(f->refs[i].by_tail);
		free(f->refs[i].by_sumsq);
		free(f->refs[i].by_generic);
	}
	for (int i = 0; i < 3; i++)
		free(f->unrelated[i].v);
	for (size_t i = 0; i < f->baseline_count; i++)
		comparison_free(&f->baselines[i].cmp);
	free(f->refs);
	free(f->baselines);
	free(f->xa);
	free(f->xb);
	free(f->pa);
	free(f->pb);
	free(f);
}

/* ---- a team -------------------------------------------------------------------------------- */

static void judge_reference(const struct kv_host *h, struct kv_ctx *ctx, struct forensics *f, size_t team,
			    const struct fp_model *m, size_t ri, struct sink *k)
{
	struct comparison cmp;
	compare(f, m, &f->refs[ri], &cmp);
	for (int c = 0; c < COMP_COUNT; c++) {
		const struct stats *s = &cmp.c[c];
		if (!s->tensors)
			continue;
		component_evidence(h, ctx, f, team, ref_name(f, ri), (enum component)c, s, k);
		component_findings(f, s, ref_name(f, ri), (enum component)c, k);
	}
	struct scored sc[3] = {t1_score(f, &cmp), t2_score(f, m, &f->refs[ri], &cmp), t3_score(f, m, &f->refs[ri])};
	for (int t = 0; t < 3; t++)
		scored_evidence(h, ctx, team, ref_name(f, ri), t, &sc[t]);
	if (!sc[2].available)
		t3_unavailable(h, ctx, team, ref_name(f, ri), &m->fp, &f->refs[ri].m.fp);
	else
		invariant_finding(f, &sc[2], ref_name(f, ri), k);
	comparison_free(&cmp);
}

/* Tensor identity is decided by equal hashes: both sides need the same one. */
static int same_hash(const struct kv_host *h, struct kv_ctx *ctx, const struct forensics *f,
		     const struct fp_model *m)
{
	const char *want = f->refs[0].m.content_hash;
	if (strcmp(m->content_hash, want) == 0)
		return 0;
	return h->error(ctx, "%s: content_hash %s differs from the reference fingerprints' %s: remake it with "
			"`kaieval fingerprint --hash %s`", m->file, m->content_hash, want, want);
}

int forensics_judge(const struct kv_host *h, struct kv_ctx *ctx, struct forensics *f, size_t team,
		    const char *path, forensics_finding_fn fn, void *arg)
{
	if (h->input_kind(ctx, path) != 1)
		return h->error(ctx, "%s: the team's fingerprint is missing (make it with `kaieval fingerprint "
				"MODEL_DIR -o %s`)", path, path);
	struct fp_model m;
	struct sink k = {fn, arg, 0};
	int rc = fp_read(h, ctx, path, &m);
	if (!rc)
		rc = same_hash(h, ctx, f, &m);
	if (!rc) {
		h->evidence_str(ctx, team, "forensics.fingerprint", "%s: %zu tensors%s", path, m.count,
				m.complete ? "" : ", partial (not every shard)");
		if (!m.complete)
			h->warn(ctx, "%s: partial fingerprint: tensors of missing shards are not compared", path);
		for (size_t i = 0; i < f->ref_count; i++)
			judge_reference(h, ctx, f, team, &m, i, &k);
	}
	fp_free(&m);
	if (!rc && (k.nomem || f->nomem)) {
		h->error(ctx, "%s: out of memory", path);
		rc = KV_ERR_INTERNAL;
	}
	return rc;
}

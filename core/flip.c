/* The smallest change of a points vector that lets one team catch another
 * (robust.h).  With d = x_a - x_e (normalized scores per criterion), points
 * w >= 0 with total W and margin m = w.d > 0, the change delta keeps the
 * total (sum delta = 0) and the points non-negative (delta >= -w), and
 * reaches (w + delta).d <= 0. */
#include "robust.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

static double dot(const double *a, const double *b, size_t k)
{
	double s = 0;
	for (size_t i = 0; i < k; i++)
		s += a[i] * b[i];
	return s;
}

static double points_total(const double *w, size_t k)
{
	double total = 0;
	for (size_t i = 0; i < k; i++)
		total += w[i];
	return total;
}

/* A reweighting can close the gap only through a criterion on which the
 * behind team is strictly ahead (otherwise it is dominated). */
int kv_flip_feasible(const double *d, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (d[i] < 0)
			return 1;
	return 0;
}

/* Projection of -lambda*d on {sum delta = 0, delta >= -w}: delta_i =
 * max(-w_i, -lambda*d_i - mu) with mu found by bisection (the sum falls
 * as mu grows). */
static void project(const double *w, const double *d, size_t k, double total, double lambda,
		    double *delta)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < k; i++) {
		lo = fmin(lo, -lambda * d[i] - total - 1);
		hi = fmax(hi, -lambda * d[i] + w[i]);
	}
	for (int it = 0; it < 200; it++) {
		double mu = 0.5 * (lo + hi), sum = 0;
		for (size_t i = 0; i < k; i++)
			sum += fmax(-w[i], -lambda * d[i] - mu);
		if (sum > 0)
			lo = mu;
		else
			hi = mu;
	}
	for (size_t i = 0; i < k; i++)
		delta[i] = fmax(-w[i], -lambda * d[i] - 0.5 * (lo + hi));
}

/* L2: the optimum is project(lambda) for the smallest lambda that reaches
 * the tie; (delta . d) does not grow with lambda, so bisect. */
double kv_flip_l2(const double *w, const double *d, size_t k, double *delta)
{
	double total = points_total(w, k), m = dot(w, d, k);
	if (!kv_flip_feasible(d, k))
		return INFINITY;
	double lo = 0, hi = 1;
	for (project(w, d, k, total, hi, delta); dot(delta, d, k) > -m && hi < 1e300; hi *= 2)
		project(w, d, k, total, hi * 2, delta);
	for (int it = 0; it < 200; it++) {
		double mid = 0.5 * (lo + hi);
		project(w, d, k, total, mid, delta);
		if (dot(delta, d, k) > -m)
			lo = mid;
		else
			hi = mid;
	}
	project(w, d, k, total, hi, delta);
	return sqrt(dot(delta, delta, k));
}

static int by_d(const void *a, const void *b, const double *d)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return d[x] < d[y] ? -1 : d[x] > d[y] ? 1 : (x > y) - (x < y);
}

/* The lowest (delta . d) with |delta_i| <= t: every criterion as low as it
 * may go, then the freed points to the criteria where the behind team does
 * best (lowest d) first. */
static double best_within(const double *w, const double *d, const size_t *order, size_t k, double t,
			  double *delta)
{
	double free_points = 0;
	for (size_t i = 0; i < k; i++) {
		delta[i] = -fmin(t, w[i]);
		free_points -= delta[i];
	}
	for (size_t j = 0; j < k && free_points > 0; j++) {
		size_t i = order[j];
		double add = fmin(free_points, t - delta[i]);
		delta[i] += add;
		free_points -= add;
	}
	return dot(delta, d, k);
}

static const double *sort_d;
static int cmp_sort_d(const void *a, const void *b) { return by_d(a, b, sort_d); }

double kv_flip_linf(const double *w, const double *d, size_t k, double *delta)
{
	double total = points_total(w, k), m = dot(w, d, k);
	if (!kv_flip_feasible(d, k))
		return INFINITY;
	size_t *order = malloc((k ? k : 1) * sizeof *order);
	for (size_t i = 0; i < k; i++)
		order[i] = i;
	sort_d = d;
	qsort(order, k, sizeof *order, cmp_sort_d);
	double lo = 0, hi = total;
	for (int it = 0; it < 200; it++) {
		double mid = 0.5 * (lo + hi);
		if (best_within(w, d, order, k, mid, delta) > -m)
			lo = mid;
		else
			hi = mid;
	}
	best_within(w, d, order, k, hi, delta);
	free(order);
	double worst = 0;
	for (size_t i = 0; i < k; i++)
		worst = fmax(worst, fabs(delta[i]));
	return worst;
}

struct pair_l2 { double l2; size_t at; };

/* Levelled first, the smallest L2 first, then in the given order. */
static int closest_first(const void *x, const void *y)
{
	const struct pair_l2 *a = x, *b = y;
	if (isnan(a->l2) != isnan(b->l2))
		return isnan(a->l2) ? 1 : -1;
	if (!isnan(a->l2) && a->l2 != b->l2)
		return a->l2 < b->l2 ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

size_t kv_flips_shown(const double *l2, size_t n, size_t *order)
{
	if (n <= KV_FLIPS_SHOWN) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		return n;
	}
	struct pair_l2 *p = kv_xmalloc(n * sizeof *p);
	size_t levelled = 0;
	for (size_t i = 0; i < n; i++) {
		p[i] = (struct pair_l2){l2[i], i};
		levelled += !isnan(l2[i]);
	}
	qsort(p, n, sizeof *p, closest_first);
	size_t shown = levelled < KV_FLIPS_SHOWN ? levelled : KV_FLIPS_SHOWN;
	for (size_t i = 0; i < shown; i++)
		order[i] = p[i].at;
	free(p);
	return shown;
}

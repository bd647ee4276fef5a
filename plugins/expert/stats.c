/* Statistics of the expert panel: the Korean trimmed mean that decides, and
 * the reliability figures that are only reported (methods.md §1.2-1.4). */
#include "expert.h"

#include <math.h>
#include <stdlib.h>

/* Total order: value, then expert index, so that qsort (not stable) gives one
 * answer and the expert named as dropped among equal values is the one with
 * the smallest (lowest end) or largest (highest end) id. */
static int by_value_then_expert(const void *a, const void *b)
{
	const struct expert_scored *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (x->expert > y->expert) - (x->expert < y->expert);
}

double expert_trimmed_mean(struct expert_scored *xs, size_t n, long long trim, long long trim_min,
			   size_t *dropped)
{
	qsort(xs, n, sizeof *xs, by_value_then_expert);
	size_t k = 0;
	if (trim > 0 && (long long)n >= trim_min && (unsigned long long)n > 2ULL * (unsigned long long)trim)
		k = (size_t)trim;
	*dropped = k;
	double sum = 0;
	for (size_t i = k; i + k < n; i++)
		sum += xs[i].value; /* ascending order: the same sum on every machine */
	return n > 2 * k ? sum / (double)(n - 2 * k) : 0;
}

static double mean_of(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static double squares_about(const double *v, size_t n, double mean)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (v[i] - mean) * (v[i] - mean);
	return s;
}

/* With δ²(c,k) = (c−k)², the sum of δ² over the ordered pairs of a set of m
 * values equals 2·m·SS (SS = squares about the set's mean).  Hence
 *   n·D_o = Σ_u 2·m_u·SS_u/(m_u − 1)   and   D_e = 2·SS_all/(n − 1),
 * so α = 1 − (n − 1)·Σ_u [m_u·SS_u/(m_u − 1)] / (n·SS_all), where SS_all is
 * taken over the pooled pairable values (Krippendorff 2011, section C). */
int expert_alpha_interval(const double *values, const size_t *sizes, size_t units,
			  double *alpha, size_t *pairable)
{
	size_t n = 0, at = 0;
	double within = 0, pooled_sum = 0, first = 0;
	int varies = 0;
	for (size_t u = 0; u < units; at += sizes[u], u++) {
		if (sizes[u] < 2)
			continue;
		const double *v = values + at;
		double m = (double)sizes[u];
		within += m * squares_about(v, sizes[u], mean_of(v, sizes[u])) / (m - 1);
		if (n == 0)
			first = v[0];
		n += sizes[u];
		for (size_t i = 0; i < sizes[u]; i++) {
			pooled_sum += v[i];
			varies |= v[i] != first;
		}
	}
	*pairable = n;
	if (!varies)
		return 0; /* no pairable values, or all equal: no expected disagreement */
	double grand = pooled_sum / (double)n, all = 0;
	at = 0;
	for (size_t u = 0; u < units; at += sizes[u], u++)
		if (sizes[u] >= 2)
			all += squares_about(values + at, sizes[u], grand);
	*alpha = 1 - ((double)n - 1) * within / ((double)n * all);
	return 1;
}

/* Mean of the other experts' values for team t, or 0 when nobody else has one. */
static size_t rest_mean(const double *x, const unsigned char *has, size_t experts, size_t t,
			size_t e, double *mean)
{
	size_t k = 0;
	double s = 0;
	for (size_t o = 0; o < experts; o++)
		if (o != e && has[t * experts + o]) {
			s += x[t * experts + o];
			k++;
		}
	*mean = k ? s / (double)k : 0;
	return k;
}

/* Two passes (means, then centred sums).  A series of equal values has no
 * correlation; that is tested on the values themselves, because a centred
 * sum of equal values can leave a rounding residue instead of zero. */
void expert_rater_vs_rest(const double *x, const unsigned char *has, size_t teams, size_t experts,
			  size_t e, struct expert_rater_stats *out)
{
	size_t n = 0;
	double sx = 0, sr = 0, r, x0 = 0, r0 = 0;
	int x_varies = 0, r_varies = 0;
	for (size_t t = 0; t < teams; t++)
		if (has[t * experts + e] && rest_mean(x, has, experts, t, e, &r)) {
			double v = x[t * experts + e];
			if (n == 0) {
				x0 = v;
				r0 = r;
			}
			x_varies |= v != x0;
			r_varies |= r != r0;
			n++;
			sx += v;
			sr += r;
		}
	out->teams = n;
	out->mean_deviation = n ? (sx - sr) / (double)n : 0;
	out->has_correlation = 0;
	out->correlation = 0;
	if (!x_varies || !r_varies)
		return;
	double mx = sx / (double)n, mr = sr / (double)n, cxx = 0, crr = 0, cxr = 0;
	for (size_t t = 0; t < teams; t++)
		if (has[t * experts + e] && rest_mean(x, has, experts, t, e, &r)) {
			double dx = x[t * experts + e] - mx, dr = r - mr;
			cxx += dx * dx;
			crr += dr * dr;
			cxr += dx * dr;
		}
	double c = cxr / sqrt(cxx * crr);
	out->correlation = c > 1 ? 1 : c < -1 ? -1 : c; /* rounding may step past ±1 */
	out->has_correlation = 1;
}

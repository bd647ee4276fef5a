/* Bradley-Terry by the MM iteration (Hunter 2004, "MM algorithms for
 * generalized Bradley-Terry models", Ann. Statist. 32(1), eq. 3).
 *
 * With ties counted as half a win each way the likelihood is exactly the
 * one Chatbot Arena maximizes by logistic regression, so the fixed point is
 * the same estimate.  The iteration uses + - * / only, in a fixed order, so
 * the strengths are the same bytes on every machine; so is the Elo
 * conversion, whose log is lib/detmath's (+ - * / only). */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

int votes_bt_unreachable(const double *w, size_t k, size_t *from, size_t *to)
{
	/* reach[i*k+j]: a chain of wins leads from i to j (Warshall's closure). */
	unsigned char *reach = malloc(k > 0 ? k * k : 1);
	if (!reach) { /* treat as unreachable: the caller reports it, never a wrong fit */
		*from = 0;
		*to = k > 1 ? 1 : 0;
		return 1;
	}
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++)
			reach[i * k + j] = i == j || w[i * k + j] > 0;
	for (size_t m = 0; m < k; m++)
		for (size_t i = 0; i < k; i++)
			if (reach[i * k + m])
				for (size_t j = 0; j < k; j++)
					reach[i * k + j] |= reach[m * k + j];
	int found = 0;
	for (size_t i = 0; i < k && !found; i++)
		for (size_t j = 0; j < k && !found; j++)
			if (!reach[i * k + j]) {
				*from = i;
				*to = j;
				found = 1;
			}
	free(reach);
	return found;
}

/* denom[i] = sum_j n_ij / (g_i + g_j), so that g_i denom[i] is team i's
 * expected wins at g (its score equation: the observed wins). */
static void denominators(const double *w, size_t k, const double *g, double *denom)
{
	/* Each pair's term divided once, for both teams: team i's terms are
	 * still added in the order of j (those of j < i by the rows before),
	 * so the sums are the same bits as one row at a time. */
	for (size_t i = 0; i < k; i++)
		denom[i] = 0;
	for (size_t i = 0; i < k; i++) {
		double d = denom[i];
		for (size_t j = i + 1; j < k; j++) {
			double n = w[i * k + j] + w[j * k + i];
			if (n > 0) {
				double q = n / (g[i] + g[j]);
				d += q;
				denom[j] += q;
			}
		}
		denom[i] = d;
	}
}

static int meets_rule(double residual, double games)
{
	return !(residual > VOTES_BT_TOLERANCE * games || -residual > VOTES_BT_TOLERANCE * games);
}

/* One MM step from g into next; returns 1 when g already meets the rule
 * (the score equations hold to the tolerance), so next is not needed. */
static int mm_step(const double *w, size_t k, const double *wins, const double *games,
		   const double *g, double *next)
{
	int converged = 1;
	double sum = 0;
	denominators(w, k, g, next);
	for (size_t i = 0; i < k; i++) {
		converged &= meets_rule(wins[i] - g[i] * next[i], games[i]);
		next[i] = wins[i] / next[i];
		sum += next[i];
	}
	for (size_t i = 0; i < k; i++)
		next[i] /= sum;
	return converged;
}

long votes_bt_fit(const double *w, size_t k, double *g)
{
	size_t from, to;
	if (k < 2 || votes_bt_unreachable(w, k, &from, &to))
		return VOTES_BT_UNDETERMINED;
	double *scratch = malloc(3 * k * sizeof *scratch);
	if (!scratch)
		return VOTES_BT_NOMEM;
	double *wins = scratch, *games = scratch + k, *next = scratch + 2 * k;
	for (size_t i = 0; i < k; i++) {
		wins[i] = games[i] = 0;
		for (size_t j = 0; j < k; j++) {
			wins[i] += w[i * k + j];
			games[i] += w[i * k + j] + w[j * k + i];
		}
		g[i] = 1.0 / (double)k;
	}
	long iter;
	for (iter = 0; iter <= VOTES_BT_MAX_ITER; iter++) {
		if (mm_step(w, k, wins, games, g, next))
			break;
		memcpy(g, next, k * sizeof *g);
	}
	free(scratch);
	return iter > VOTES_BT_MAX_ITER ? VOTES_BT_SLOW : iter;
}

void votes_bt_winrate(const double *g, size_t k, size_t ref, double *out)
{
	for (size_t i = 0; i < k; i++) {
		if (ref < k) {
			out[i] = g[i] / (g[i] + g[ref]);
			continue;
		}
		double sum = 0;
		for (size_t j = 0; j < k; j++)
			if (j != i)
				sum += g[i] / (g[i] + g[j]);
		out[i] = k > 1 ? sum / (double)(k - 1) : 0.5;
	}
}

void votes_bt_elo(const double *g, size_t k, double *elo)
{
	double mean = 0;
	for (size_t i = 0; i < k; i++)
		mean += kv_det_log(g[i]);
	mean /= (double)k;
	for (size_t i = 0; i < k; i++)
		elo[i] = 1000.0 + 400.0 * (kv_det_log(g[i]) - mean) / kv_det_log(10.0);
}

/* --- refits from a nearby start (bootstrap replicates) ---------------------- */

/* Strongly connected by wins: every team reaches team 0 and team 0 reaches
 * every team (two searches, k^2 each, instead of the closure's k^3). */
static int reaches_all(const double *w, size_t k, int forward, unsigned char *seen, size_t *stack)
{
	size_t top = 0, found = 1;
	memset(seen, 0, k);
	seen[0] = 1;
	stack[top++] = 0;
	while (top) {
		size_t i = stack[--top];
		for (size_t j = 0; j < k; j++)
			if (!seen[j] && (forward ? w[i * k + j] : w[j * k + i]) > 0) {
				seen[j] = 1;
				found++;
				stack[top++] = j;
			}
	}
	return found == k;
}

int votes_bt_connected(const double *w, size_t k)
{
	unsigned char *seen = malloc(k);
	size_t *stack = malloc(k * sizeof *stack);
	int ok = seen && stack && reaches_all(w, k, 1, seen, stack) && reaches_all(w, k, 0, seen, stack);
	free(seen);
	free(stack);
	return ok;
}

/* Factor the symmetric positive definite A (n x n, row-major) in place
 * into L (lower triangle, A = L L'); -1 when A is not positive definite. */
static int cholesky(double *A, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		double d = A[j * n + j];
		for (size_t m = 0; m < j; m++)
			d -= A[j * n + m] * A[j * n + m];
		if (!(d > 0))
			return -1;
		d = kv_det_sqrt(d);
		A[j * n + j] = d;
		for (size_t i = j + 1; i < n; i++) {
			double s = A[i * n + j];
			for (size_t m = 0; m < j; m++)
				s -= A[i * n + m] * A[j * n + m];
			A[i * n + j] = s / d;
		}
	}
	return 0;
}

/* b <- (L L')^-1 b.  Each b[i] is worked on in a local: written back
 * after every term, it waited on its own store (b may alias L). */
static void cholesky_apply(const double *L, size_t n, double *b)
{
	for (size_t i = 0; i < n; i++) { /* L y = b */
		double s = b[i];
		for (size_t m = 0; m < i; m++)
			s -= L[i * n + m] * b[m];
		b[i] = s / L[i * n + i];
	}
	for (size_t i = n; i-- > 0;) { /* L' x = y */
		double s = b[i];
		for (size_t m = i + 1; m < n; m++)
			s -= L[m * n + i] * b[m];
		b[i] = s / L[i * n + i];
	}
}

/* The information of the log-strengths at g, team k-1 held fixed: H
 * ((k-1) x (k-1)). */
static void information(const double *w, size_t k, const double *g, double *H)
{
	size_t n = k - 1;
	for (size_t i = 0; i < n; i++) {
		double diag = 0;
		for (size_t j = 0; j < k; j++) {
			double games = w[i * k + j] + w[j * k + i];
			double c = j != i && games > 0 ? games * g[i] * g[j] / ((g[i] + g[j]) * (g[i] + g[j])) : 0;
			diag += c;
			if (j < n)
				H[i * n + j] = -c;
		}
		H[i * n + i] = diag;
	}
}

double *votes_bt_factor(const double *w, size_t k, const double *g)
{
	double *L = k > 1 ? malloc((k - 1) * (k - 1) * sizeof *L) : NULL;
	if (L) {
		information(w, k, g, L);
		if (cholesky(L, k - 1)) {
			free(L);
			L = NULL;
		}
	}
	return L;
}

/* The score equations' residuals at g into grad; 1 when they meet the rule. */
static int residuals(const double *w, size_t k, const double *wins, const double *games, const double *g,
		     double *grad)
{
	int converged = 1;
	denominators(w, k, g, grad);
	for (size_t i = 0; i < k; i++) {
		grad[i] = wins[i] - g[i] * grad[i];
		converged &= meets_rule(grad[i], games[i]);
	}
	return converged;
}

/* One step in log-strength (team k-1 held fixed): Newton's, or with
 * `fixed` the chord method's (the information factored once, at a nearby
 * point); -1 when the information is not positive definite. */
static int newton_step(const double *w, size_t k, double *g, double *grad, double *H, const double *fixed)
{
	size_t n = k - 1;
	if (!fixed) {
		information(w, k, g, H);
		if (cholesky(H, n))
			return -1;
	}
	cholesky_apply(fixed ? fixed : H, n, grad);
	double largest = 0, sum = 0;
	for (size_t i = 0; i < n; i++)
		largest = grad[i] > largest ? grad[i] : -grad[i] > largest ? -grad[i] : largest;
	double scale = largest > 1 ? 1 / largest : 1; /* a step of at most e in any strength */
	for (size_t i = 0; i < n; i++)
		g[i] *= kv_det_exp(scale * grad[i]);
	for (size_t i = 0; i < k; i++)
		sum += g[i];
	for (size_t i = 0; i < k; i++)
		g[i] /= sum;
	return 0;
}

long votes_bt_refit(const double *w, size_t k, const double *start, const double *factor, double *g)
{
	if (k < 2 || !votes_bt_connected(w, k))
		return VOTES_BT_UNDETERMINED;
	double *scratch = malloc((4 * k + (k - 1) * (k - 1)) * sizeof *scratch);
	if (!scratch)
		return VOTES_BT_NOMEM;
	double *wins = scratch, *games = wins + k, *grad = games + k, *next = grad + k, *H = next + k;
	for (size_t i = 0; i < k; i++) {
		wins[i] = games[i] = 0;
		for (size_t j = 0; j < k; j++) {
			wins[i] += w[i * k + j];
			games[i] += w[i * k + j] + w[j * k + i];
		}
		g[i] = start[i];
	}
	long iter = 0;
	/* The chord method first (k^2 a step), then Newton's (k^3 a step). */
	for (long limit = factor ? VOTES_BT_NEWTON_STEPS : 0; iter < limit + VOTES_BT_NEWTON_STEPS; iter++) {
		if (residuals(w, k, wins, games, g, grad)) {
			free(scratch);
			return iter;
		}
		if (newton_step(w, k, g, grad, H, iter < limit ? factor : NULL))
			break;
	}
	/* Neither settled: the MM iteration, which always converges here. */
	for (; iter <= VOTES_BT_MAX_ITER; iter++) {
		if (mm_step(w, k, wins, games, g, next))
			break;
		memcpy(g, next, k * sizeof *g);
	}
	free(scratch);
	return iter > VOTES_BT_MAX_ITER ? VOTES_BT_SLOW : iter;
}

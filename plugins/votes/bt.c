/* Bradley-Terry by the MM iteration (Hunter 2004, "MM algorithms for
 * generalized Bradley-Terry models", Ann. Statist. 32(1), eq. 3).
 *
 * With ties counted as half a win each way the likelihood is exactly the
 * one Chatbot Arena maximizes by logistic regression, so the fixed point is
 * the same estimate.  The iteration uses + - * / only, in a fixed order, so
 * the strengths are the same bytes on every machine; the Elo conversion
 * needs log and is evidence only. */
#include "votes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* One MM step from g into next; returns 1 when g already meets the rule
 * (the score equations hold to the tolerance), so next is not needed. */
static int mm_step(const double *w, size_t k, const double *wins, const double *games,
		   const double *g, double *next)
{
	int converged = 1;
	double sum = 0;
	for (size_t i = 0; i < k; i++) {
		double denom = 0;
		for (size_t j = 0; j < k; j++) {
			double n = w[i * k + j] + w[j * k + i];
			if (j != i && n > 0)
				denom += n / (g[i] + g[j]);
		}
		/* g_i * denom is the expected number of wins at g: the score equation. */
		double residual = wins[i] - g[i] * denom;
		if (residual > VOTES_BT_TOLERANCE * games[i] || -residual > VOTES_BT_TOLERANCE * games[i])
			converged = 0;
		next[i] = wins[i] / denom;
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
		mean += log(g[i]);
	mean /= (double)k;
	for (size_t i = 0; i < k; i++)
		elo[i] = 1000.0 + 400.0 * (log(g[i]) - mean) / log(10.0);
}

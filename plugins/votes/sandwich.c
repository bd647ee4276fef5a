/* The sandwich (cluster-robust) variance of the Bradley-Terry estimate,
 * for evidence: V = H^-1 M H^-1, where H is the Fisher information of the
 * log-strengths and M sums, over the units (judges, by class), the outer
 * product of each unit's score.  A judge's ballots are correlated, so M
 * adds them before squaring; with one ballot per unit it is the ordinary
 * sandwich.  Log-strength k-1 is held at 0 (the scale is free), which
 * leaves the contrasts theta_i - mean(theta) the Elo scale uses unchanged. */
#include "votes.h"

#include <stdlib.h>
#include <string.h>

/* Pair index -> (lo, hi), for decoding ballot codes. */
static void pairs_of(size_t k, uint16_t *lo, uint16_t *hi)
{
	size_t p = 0;
	for (size_t a = 0; a < k; a++)
		for (size_t b = a + 1; b < k; b++, p++) {
			lo[p] = (uint16_t)a;
			hi[p] = (uint16_t)b;
		}
}

/* H (n = k-1 square) and M from the classes. */
static void information(const struct votes_classes *C, size_t k, const double *g, const uint16_t *lo,
			const uint16_t *hi, double *H, double *M, double *s, unsigned char *mark, size_t *touched)
{
	size_t n = k - 1;
	for (size_t c = 0; c < C->count; c++) {
		size_t nt = 0;
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			size_t p = C->code[e] / 3, what = C->code[e] % 3, a = lo[p], b = hi[p];
			double pa = g[a] / (g[a] + g[b]), y = what == VOTES_LO_WON ? 1 : what == VOTES_HI_WON ? 0 : 0.5;
			double m = C->mult[e], info = (double)C->size[c] * m * pa * (1 - pa);
			if (a < n && b < n) {
				H[a * n + b] -= info;
				H[b * n + a] -= info;
			}
			if (a < n)
				H[a * n + a] += info;
			if (b < n)
				H[b * n + b] += info;
			size_t ends[2] = {a, b};
			for (int i = 0; i < 2; i++)
				if (!mark[ends[i]] && ends[i] < n) {
					mark[ends[i]] = 1;
					touched[nt++] = ends[i];
				}
			s[a] += m * (y - pa);
			s[b] -= m * (y - pa);
		}
		for (size_t i = 0; i < nt; i++)
			for (size_t j = 0; j < nt; j++)
				M[touched[i] * n + touched[j]] += (double)C->size[c] * s[touched[i]] * s[touched[j]];
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			size_t p = C->code[e] / 3;
			s[lo[p]] = s[hi[p]] = 0;
			mark[lo[p]] = mark[hi[p]] = 0;
		}
	}
}

/* Invert the positive definite A (n x n) into Ainv by Gauss-Jordan; -1 if singular. */
static int invert(double *A, size_t n, double *Ainv)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			Ainv[i * n + j] = i == j;
	for (size_t col = 0; col < n; col++) {
		double pivot = A[col * n + col];
		if (!(pivot > 0))
			return -1;
		for (size_t j = 0; j < n; j++) {
			A[col * n + j] /= pivot;
			Ainv[col * n + j] /= pivot;
		}
		for (size_t i = 0; i < n; i++) {
			double f = A[i * n + col];
			if (i == col || f == 0)
				continue;
			for (size_t j = 0; j < n; j++) {
				A[i * n + j] -= f * A[col * n + j];
				Ainv[i * n + j] -= f * Ainv[col * n + j];
			}
		}
	}
	return 0;
}

/* var[i] = c_i' Hinv M Hinv c_i with c_i = e_i - 1/k (its part below k-1). */
static void contrasts(const double *Hinv, const double *M, size_t k, double *var, double *u, double *v)
{
	size_t n = k - 1;
	for (size_t i = 0; i < k; i++) {
		for (size_t a = 0; a < n; a++) { /* u = Hinv c_i */
			u[a] = 0;
			for (size_t b = 0; b < n; b++)
				u[a] += Hinv[a * n + b] * ((b == i) - 1.0 / (double)k);
		}
		for (size_t a = 0; a < n; a++) { /* v = M u */
			v[a] = 0;
			for (size_t b = 0; b < n; b++)
				v[a] += M[a * n + b] * u[b];
		}
		var[i] = 0;
		for (size_t a = 0; a < n; a++)
			var[i] += u[a] * v[a];
	}
}

/* The prior's ties (`prior` between every two models) add to H, not to M:
 * they are not data. */
static void prior_information(size_t k, const double *g, double prior, double *H)
{
	size_t n = k - 1;
	for (size_t a = 0; prior > 0 && a < k; a++)
		for (size_t b = a + 1; b < k; b++) {
			double pa = g[a] / (g[a] + g[b]), info = prior * pa * (1 - pa);
			if (b < n) {
				H[a * n + b] -= info;
				H[b * n + a] -= info;
				H[b * n + b] += info;
			}
			H[a * n + a] += info;
		}
}

int votes_sandwich(const struct votes_classes *C, size_t k, const double *g, double prior, double *var)
{
	size_t n = k - 1, pairs = k * (k - 1) / 2;
	double *H = calloc(3 * n * n + 3 * k, sizeof *H);
	uint16_t *lo = malloc(2 * (pairs ? pairs : 1) * sizeof *lo);
	size_t *touched = malloc(k * sizeof *touched);
	unsigned char *mark = calloc(k, 1);
	int rc = H && lo && touched && mark ? 0 : -1;
	if (rc == 0) {
		double *M = H + n * n, *Hinv = M + n * n, *s = Hinv + n * n, *u = s + k, *v = u + k;
		pairs_of(k, lo, lo + pairs);
		information(C, k, g, lo, lo + pairs, H, M, s, mark, touched);
		prior_information(k, g, prior, H);
		rc = invert(H, n, Hinv);
		if (rc == 0)
			contrasts(Hinv, M, k, var, u, v);
	}
	free(H);
	free(lo);
	free(touched);
	free(mark);
	return rc;
}

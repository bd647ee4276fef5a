/* boot_bench: the pairwise bootstrap alone (votes_boot_run), on synthetic
 * judge classes shaped like an Arena file's, to measure the draws and the
 * sparse sums without reading a file first.
 *
 *   boot_bench [-u units (2000000)] [-m models (8)] [-b rounds (1000)]
 *              [-s share of judges alone in their class, % (70)]
 *              [-e mean ballots per judge (5)] [-r seed]
 *
 * Classes: the given share of units are classes of one judge; the rest
 * share classes of geometric size (mean 4).  A class holds 1 + a geometric
 * number of ballots (mean -e) on random codes.  Prints the classes, the
 * entries and the wall and CPU time of votes_boot_run (threads as the
 * plugin takes them: KAIEVAL_THREADS caps them).  Run it several times,
 * and with other shapes: one figure means little on a shared machine. */
#include "../../plugins/votes/votes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 1 + a geometric count of mean `mean - 1` (mean >= 1). */
static uint32_t one_plus_geometric(uint64_t *x, double mean)
{
	uint32_t n = 1;
	double stay = 1 - 1 / mean;
	while ((double)(splitmix(x) >> 11) * 0x1.0p-53 < stay && n < 10000)
		n++;
	return n;
}

static int by_code(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

struct shape {
	uint64_t units;
	size_t k, rounds;
	double alone, ballots;
	uint64_t seed;
};

static int make_classes(const struct shape *S, struct votes_classes *C)
{
	size_t cap = (size_t)S->units + 1, ecap = 8 * cap;
	uint64_t x = S->seed, left = S->units, alone = (uint64_t)((double)S->units * S->alone);
	size_t codes = votes_codes(S->k);
	C->size = malloc(cap * sizeof *C->size);
	C->first = malloc((cap + 1) * sizeof *C->first);
	C->code = malloc(ecap * sizeof *C->code);
	C->mult = malloc(ecap * sizeof *C->mult);
	if (!C->size || !C->first || !C->code || !C->mult)
		return -1;
	C->first[0] = 0;
	size_t e = 0;
	while (left) {
		uint32_t size = alone ? 1 : one_plus_geometric(&x, 4);
		size = size > left ? (uint32_t)left : size;
		alone -= alone ? 1 : 0;
		uint32_t n = one_plus_geometric(&x, S->ballots);
		while (e + n > ecap) {
			ecap *= 2;
			uint32_t *code = realloc(C->code, ecap * sizeof *code);
			if (code)
				C->code = code;
			uint32_t *mult = realloc(C->mult, ecap * sizeof *mult);
			if (mult)
				C->mult = mult;
			if (!code || !mult)
				return -1;
		}
		uint32_t *code = C->code + e; /* n ballots' codes, sorted, run-length: as classes.c makes them */
		for (uint32_t i = 0; i < n; i++)
			code[i] = (uint32_t)(splitmix(&x) % codes);
		qsort(code, n, sizeof *code, by_code);
		size_t runs = 0;
		for (uint32_t i = 0; i < n; i++) {
			if (runs && code[runs - 1] == code[i]) {
				C->mult[e + runs - 1]++;
				continue;
			}
			code[runs] = code[i];
			C->mult[e + runs++] = 1;
		}
		e += runs;
		C->size[C->count] = size;
		C->units += size;
		C->first[++C->count] = e;
		left -= size;
	}
	return 0;
}

/* The doubled win table of all the ballots, and its fit. */
static int point_estimate(const struct votes_classes *C, size_t k, double *w, double *g)
{
	size_t codes = votes_codes(k);
	uint16_t *ends = malloc(2 * codes * sizeof *ends);
	if (!ends)
		return -1;
	votes_code_models(k, ends, ends + codes);
	memset(w, 0, k * k * sizeof *w);
	for (size_t c = 0; c < C->count; c++)
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			size_t lo = ends[C->code[e]], hi = ends[codes + C->code[e]], what = C->code[e] % 3;
			double n = (double)C->size[c] * C->mult[e];
			w[lo * k + hi] += what == VOTES_LO_WON ? 2 * n : what == VOTES_TIED ? n : 0;
			w[hi * k + lo] += what == VOTES_HI_WON ? 2 * n : what == VOTES_TIED ? n : 0;
		}
	free(ends);
	for (size_t i = 0; i < k * k; i++)
		w[i] += i / k != i % k; /* one tie each way: every model beaten and beating */
	return votes_bt_fit(w, k, g) < 0 ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
	       1e-6 * (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	struct shape S = {.units = 2000000, .k = 8, .rounds = 1000, .alone = 0.7, .ballots = 5, .seed = 1};
	int opt;
	while ((opt = getopt(argc, argv, "u:m:b:s:e:r:")) != -1) {
		switch (opt) {
		case 'u': S.units = strtoull(optarg, NULL, 10); break;
		case 'm': S.k = strtoul(optarg, NULL, 10); break;
		case 'b': S.rounds = strtoul(optarg, NULL, 10); break;
		case 's': S.alone = strtod(optarg, NULL) / 100; break;
		case 'e': S.ballots = strtod(optarg, NULL); break;
		case 'r': S.seed = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s [-u units] [-m models] [-b rounds] [-s alone%%] [-e ballots] [-r seed]\n",
				argv[0]);
			return 2;
		}
	}
	if (S.units == 0 || S.k < 2 || S.k > 4096 || S.ballots < 1 || S.alone < 0 || S.alone > 1) {
		fprintf(stderr, "%s: units > 0, 2 <= models <= 4096, ballots >= 1, 0 <= alone <= 100\n", argv[0]);
		return 2;
	}
	struct votes_classes C = {0};
	double *w = malloc(S.k * S.k * sizeof *w), *g = malloc(S.k * sizeof *g);
	struct votes_boot B = {.k = S.k, .ref = S.k, .rounds = S.rounds, .C = &C, .g0 = g, .w0 = w, .prior = 0};
	B.streams = calloc(S.rounds, sizeof *B.streams);
	B.elo = calloc(S.rounds * S.k, sizeof *B.elo);
	B.norm = calloc(S.rounds * S.k, sizeof *B.norm);
	B.ok = calloc(S.rounds, 1);
	if (!w || !g || !B.streams || !B.elo || !B.norm || !B.ok || make_classes(&S, &C) ||
	    point_estimate(&C, S.k, w, g)) {
		fprintf(stderr, "%s: out of memory, or the fit failed\n", argv[0]);
		return 1;
	}
	uint64_t x = S.seed ^ 0x5eed;
	for (size_t r = 0; r < S.rounds; r++)
		for (int i = 0; i < 4; i++)
			B.streams[r].s[i] = splitmix(&x);
	double t0 = now(), c0 = cpu();
	if (votes_boot_run(&B)) {
		fprintf(stderr, "%s: the bootstrap ran out of memory\n", argv[0]);
		return 1;
	}
	double wall = now() - t0, used = cpu() - c0, check = 0;
	size_t ok = 0;
	for (size_t r = 0; r < S.rounds; r++)
		if (B.ok[r]) {
			ok++;
			check += B.elo[r * S.k];
		}
	printf("units %llu classes %zu entries %zu models %zu rounds %zu: wall %.3f s cpu %.3f s "
	       "(usable %zu, check %.6f)\n",
	       (unsigned long long)C.units, C.count, C.first[C.count], S.k, S.rounds, wall, used, ok, check);
	votes_classes_free(&C);
	free(w);
	free(g);
	free(B.streams);
	free(B.elo);
	free(B.norm);
	free(B.ok);
	return 0;
}

/* Tests of the votes plugin's bootstrap parts: the exact draws and the
 * replicates' sums.  (test_votes_bt.c compares the bootstraps with a naive
 * one and with Chatbot Arena's numbers; test_votes.c has anchors,
 * reference_model, unknown_models, prior and the judges' classes.)
 *
 * Expected values are worked out by hand in the comments next to them, or
 * come from the independent programs named. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support.h"
#include "../plugins/votes/votes.h"

/* --- exact draws ---------------------------------------------------------------- */

/* Binomial(20, 3/10) by inversion and Binomial(400, 1/4) by BTRS: 10^5
 * draws each, chi-square against the exact probabilities (cells with an
 * expected count below 5 pooled) below its 99.9% point (Wilson-Hilferty:
 * df (1 - 2/(9 df) + 3.09 sqrt(2/(9 df)))^3).  The seed is fixed: the
 * test is deterministic. */
static void expect_binomial(uint64_t n, uint64_t part, uint64_t whole)
{
	struct kv_rng rng = {{5, 6, 7, 8}};
	double p = (double)part / (double)whole, *pmf = calloc(n + 1, sizeof *pmf);
	uint64_t *seen = calloc(n + 1, sizeof *seen), draws = 100000;
	pmf[0] = pow(1 - p, (double)n);
	for (uint64_t x = 1; x <= n; x++)
		pmf[x] = pmf[x - 1] * (double)(n - x + 1) / (double)x * p / (1 - p);
	for (uint64_t i = 0; i < draws; i++) {
		uint64_t x = votes_binomial(&rng, n, part, whole);
		cr_assert_leq(x, n);
		seen[x]++;
	}
	double chi2 = 0, e = 0, o = 0;
	int cells = 0;
	for (uint64_t x = 0; x <= n; x++) {
		e += pmf[x] * (double)draws;
		o += (double)seen[x];
		if (e >= 5 || x == n) {
			chi2 += (o - e) * (o - e) / e;
			cells++;
			e = o = 0;
		}
	}
	double df = cells - 1, limit = df * pow(1 - 2 / (9 * df) + 3.09 * sqrt(2 / (9 * df)), 3);
	cr_expect_lt(chi2, limit, "n %llu p %g: chi2 %g over %d cells", (unsigned long long)n, p, chi2, cells);
	free(pmf);
	free(seen);
}

Test(votes_scale, binomial_draws_follow_the_binomial)
{
	expect_binomial(20, 3, 10);
	expect_binomial(400, 1, 4);
	expect_binomial(400, 3, 4); /* by symmetry: n - Binomial(n, 1/4) */
}

/* Large n: mean and variance within 5 standard errors (10^4 draws). */
Test(votes_scale, binomial_large_n)
{
	struct kv_rng rng = {{9, 10, 11, 12}};
	double n = 10000000, p = 7.0 / 1000, s = 0, s2 = 0, draws = 10000;
	for (int i = 0; i < (int)draws; i++) {
		double x = (double)votes_binomial(&rng, (uint64_t)n, 7, 1000);
		s += x;
		s2 += x * x;
	}
	double mean = s / draws, var = s2 / draws - mean * mean, v = n * p * (1 - p);
	cr_expect_lt(fabs(mean - n * p), 5 * sqrt(v / draws), "mean %g", mean);
	cr_expect_lt(fabs(var - v), 5 * v * sqrt(2 / draws), "var %g", var);
	cr_expect_eq(votes_binomial(&rng, 5, 0, 9), 0);
	cr_expect_eq(votes_binomial(&rng, 5, 9, 9), 5);
}

/* Two judges, one class each: j1 cast `many` ballots "a beats b", j2
 * many/3 "b beats a".  A replicate draws two judges: both (probability
 * 1/2; the table is 3:1, so P(a beats b) = 3/4) or one of them twice (no
 * estimate).  With many = 3 * 10^9 the sums pass 32 bits and take the
 * 64-bit path; with many = 3 the 32-bit one: the same values. */
static void two_judges(uint32_t many, double *share_ok)
{
	uint32_t size[2] = {1, 1}, code[2] = {votes_code(2, 0, 1, VOTES_LO_WON), votes_code(2, 0, 1, VOTES_HI_WON)};
	uint32_t mult[2] = {many, many / 3};
	size_t first[3] = {0, 1, 2};
	struct votes_classes C = {.count = 2, .units = 2, .size = size, .first = first, .code = code, .mult = mult};
	double g0[2] = {0.75, 0.25}, w0[4] = {0, 2.0 * many, 2.0 * (many / 3), 0}, elo[2 * 64], norm[2 * 64];
	unsigned char ok[64];
	struct kv_rng streams[64];
	struct kv_rng seeder = {{1, 2, 3, 4}};
	for (int r = 0; r < 64; r++) /* distinct, well-mixed states */
		for (int i = 0; i < 4; i++)
			streams[r].s[i] = kv_rng_next(&seeder);
	struct votes_boot B = {.k = 2, .ref = 2, .rounds = 64, .C = &C, .g0 = g0, .w0 = w0, .streams = streams,
			       .elo = elo, .norm = norm, .ok = ok};
	cr_assert_eq(votes_boot_run(&B), 0);
	int n = 0;
	for (int r = 0; r < 64; r++) {
		n += ok[r];
		if (ok[r])
			cr_expect_float_eq(norm[2 * r], 0.75, 1e-12, "replicate %d", r);
	}
	*share_ok = n / 64.0;
}

Test(votes_scale, sums_past_32_bits_are_exact)
{
	double wide, narrow;
	two_judges(3000000000u, &wide);
	two_judges(3, &narrow);
	cr_expect_eq(wide, narrow, "the same draws either way");
	cr_expect_gt(wide, 0.3);
	cr_expect_lt(wide, 0.7);
}

/* The id hash reads an id's last bytes with one load; on a little-endian
 * machine that is the same value as copying them byte by byte (this test's
 * own few lines), for every length around the 8-byte words. */
static uint64_t hash_bytewise(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, x;
	for (; n >= 8; s += 8, n -= 8) {
		x = 0;
		for (size_t i = 0; i < 8; i++)
			x |= (uint64_t)(unsigned char)s[i] << (8 * i);
		h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	x = 0;
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)(unsigned char)s[i] << (8 * i);
	h = (h ^ x) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

Test(votes_scale, the_id_hash_reads_every_byte_of_the_id)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	char text[64];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)(0x80 + 37 * i);
	for (size_t n = 0; n <= 40; n++) {
		uint64_t h = votes_intern_hash(text + 3, n);
		cr_expect_eq(h, hash_bytewise(text + 3, n), "length %zu", n);
		text[2] ^= 1; /* the bytes around the id change nothing */
		text[3 + n] ^= 1;
		cr_expect_eq(votes_intern_hash(text + 3, n), h, "length %zu", n);
	}
#else
	cr_skip_test("the hash's value is pinned on little-endian machines only");
#endif
}

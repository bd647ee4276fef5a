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

static uint64_t next_case(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Eight draws at once: votes_binomial8, or votes_binomial4 twice. */
typedef void eight_draws_fn(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out);

static void four_and_four(struct kv_rng *rng, const uint64_t *n, uint64_t part, uint64_t whole, uint64_t *out)
{
	votes_binomial4(rng, n, part, whole, out);
	votes_binomial4(rng + 4, n + 4, part, whole, out + 4);
}

/* draw against votes_binomial lane by lane: the same draws and the same
 * eight streams' states after, for n p on both sides of 10 in one call
 * (inversion and BTRS side by side), n = 0 lanes, part past half of
 * whole, part 0 and whole, n up to 2^32 - 1, and 20,000 calls of random
 * parameters, each call's streams going on from the last. */
static void expect_eight(eight_draws_fn *draw, struct kv_rng *rng, const uint64_t *n, uint64_t part,
			 uint64_t whole)
{
	struct kv_rng alone[8];
	uint64_t out[8];
	memcpy(alone, rng, sizeof alone);
	draw(rng, n, part, whole, out);
	for (int i = 0; i < 8; i++) {
		uint64_t x = votes_binomial(&alone[i], n[i], part, whole);
		cr_assert_eq(out[i], x, "lane %d: n %llu part %llu whole %llu: %llu, alone %llu", i,
			     (unsigned long long)n[i], (unsigned long long)part, (unsigned long long)whole,
			     (unsigned long long)out[i], (unsigned long long)x);
		cr_assert_eq(memcmp(&rng[i], &alone[i], sizeof alone[i]), 0, "lane %d's stream", i);
	}
}

static void expect_scalar_draws(eight_draws_fn *draw)
{
	struct kv_rng rng[8];
	uint64_t x = 7;
	for (int i = 0; i < 8; i++)
		for (int w = 0; w < 4; w++)
			rng[i].s[w] = next_case(&x);
	const uint64_t judges = 8432955, most = UINT32_MAX;
	const uint64_t mixed[8] = {judges, 1000, 0, judges - 77, 9900, 10100, 1, most};
	const uint64_t around_ten[8] = {990, 995, 999, 1000, 1001, 1005, 1010, 0};
	const uint64_t few[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	for (int round = 0; round < 50; round++) {
		expect_eight(draw, rng, mixed, 64, judges);
		expect_eight(draw, rng, mixed, 2048, judges);
		expect_eight(draw, rng, around_ten, 1, 100);
		expect_eight(draw, rng, around_ten, 3, 4); /* n - Binomial(n, 1/4) */
		expect_eight(draw, rng, few, 2, 5);
		expect_eight(draw, rng, few, 1, 2);
		expect_eight(draw, rng, mixed, 0, judges);
		expect_eight(draw, rng, mixed, judges, judges);
	}
	for (int call = 0; call < 20000; call++) {
		uint64_t whole = 1 + next_case(&x) % (call % 2 ? 100000 : most), part = next_case(&x) % (whole + 1), n[8];
		for (int i = 0; i < 8; i++)
			n[i] = next_case(&x) % 4 == 0 ? next_case(&x) % 30 : next_case(&x) % (call % 3 ? most : 5000);
		expect_eight(draw, rng, n, part, whole);
	}
}

Test(votes_scale, eight_binomial_draws_at_once_are_the_scalar_draws)
{
	expect_scalar_draws(votes_binomial8);
}

/* The same with AVX2, four lanes at a time. */
Test(votes_scale, four_binomial_draws_at_once_are_the_scalar_draws)
{
	expect_scalar_draws(four_and_four);
}

/* Eight lanes' parts: votes_binomial8_parts, or votes_binomial4_parts
 * twice (laid out as the eight's). */
typedef void eight_parts_fn(const double *x, const double *k, double *lanes, double *alone);

static void four_parts_twice(const double *x, const double *k, double *lanes, double *alone)
{
	for (int half = 0; half < 2; half++) {
		double l[12], a[12];
		votes_binomial4_parts(x + 4 * half, k + 4 * half, l, a);
		for (int part = 0; part < 3; part++) {
			memcpy(lanes + 8 * part + 4 * half, l + 4 * part, 4 * sizeof *l);
			memcpy(alone + 8 * part + 4 * half, a + 4 * part, 4 * sizeof *a);
		}
	}
}

/* The lanes' logarithm, square root and Stirling's tail are the same
 * bits as the scalar ones, over the whole range of doubles > 0
 * (random bits), at 0, subnormals, the edges of the logarithm's cases
 * (2^-1000, sqrt 2), and k of 0 to 10^7. */
static void expect_parts(eight_parts_fn *parts)
{
	uint64_t seed = 99;
	double x[8], k[8], lanes[24], alone[24];
	const double edges[8] = {0, 0x1p-1074, 0x1p-1000, 0x1.fffffffffffffp-1001, 1.4142135623730951,
				 1.4142135623730949, 1, 0x1.fffffffffffffp1023};
	for (int call = 0; call < 200000; call++) {
		for (int i = 0; i < 8; i++) {
			uint64_t bits = next_case(&seed) >> 1; /* > 0 (or 0), finite unless all exponent bits */
			if ((bits >> 52) == 0x7ff)
				bits ^= 1ULL << 62;
			memcpy(&x[i], &bits, sizeof x[i]);
			if (call == 0)
				x[i] = edges[i];
			else if (call % 4 == 1)
				x[i] = (double)(next_case(&seed) % 100000) / 997 + 1e-9; /* BTRS's range */
			k[i] = (double)(call % 2 ? next_case(&seed) % 12 : next_case(&seed) % 10000000);
		}
		parts(x, k, lanes, alone);
		for (int i = 0; i < 8; i++) {
			cr_assert_eq(memcmp(&lanes[i], &alone[i], 8), 0, "log %a: %a, alone %a", x[i], lanes[i], alone[i]);
			if (x[i] > 0)
				cr_assert_eq(memcmp(&lanes[8 + i], &alone[8 + i], 8), 0, "root %a: %a, alone %a", x[i],
					     lanes[8 + i], alone[8 + i]);
			cr_assert_eq(memcmp(&lanes[16 + i], &alone[16 + i], 8), 0, "tail %g: %a, alone %a", k[i],
				     lanes[16 + i], alone[16 + i]);
		}
	}
}

Test(votes_scale, the_eight_lanes_compute_as_the_draws_one_at_a_time)
{
	expect_parts(votes_binomial8_parts);
}

Test(votes_scale, the_four_lanes_compute_as_the_draws_one_at_a_time)
{
	expect_parts(four_parts_twice);
}

/* --- judges' classes ------------------------------------------------------------- */

enum { CLASS_JUDGES = 3000, CLASS_LISTS = 3, MOST_BALLOTS = 200 };

struct judged {
	uint32_t codes[CLASS_JUDGES][MOST_BALLOTS]; /* each judge's, in the lists' order */
	size_t n[CLASS_JUDGES];
	int grouped_ok;
};

static int check_grouped(void *arg, const uint32_t *codes, const size_t *off)
{
	struct judged *J = arg;
	J->grouped_ok = 1;
	for (size_t j = 0; j < CLASS_JUDGES; j++)
		J->grouped_ok &= off[j + 1] - off[j] == J->n[j] &&
				 memcmp(codes + off[j], J->codes[j], J->n[j] * sizeof *codes) == 0;
	return 0;
}

static int by_code(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Judges' ballots spread over three lists (a judge's in several, some
 * judges with none): the ballots grouped by judge are in the lists' order,
 * and the classes are those of a naive count (equal sorted ballots, in
 * order of first judge, entries run-length), with one thread and with all.
 * The busiest judges cast over 64 ballots of codes up to 120,000. */
Test(votes_scale, judges_classes_match_a_naive_count_with_any_threads)
{
	static struct judged J;
	uint64_t x = 3;
	struct votes_ballot_list lists[CLASS_LISTS] = {{0}};
	memset(&J, 0, sizeof J);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t l = 0; l < CLASS_LISTS; l++)
			lists[l] = (struct votes_ballot_list){0};
		memset(J.n, 0, sizeof J.n);
		x = 3;
		for (size_t b = 0; b < 4 * CLASS_JUDGES; b++) {
			size_t j = next_case(&x) % (next_case(&x) % 2 ? 40 : CLASS_JUDGES - 10); /* the last 10 vote never */
			uint32_t code = (uint32_t)(next_case(&x) % 4); /* few codes: many equal judges */
			if (j < 40) /* the busiest: over 64 ballots, sorted by digits, and codes of two */
				code *= 40000;
			if (J.n[j] == MOST_BALLOTS)
				continue;
			J.codes[j][J.n[j]++] = code;
			cr_assert_eq(votes_list_add(&lists[next_case(&x) % CLASS_LISTS], (uint32_t)j, code), 0);
		}
		/* the lists' order is list by list: put each judge's codes so */
		size_t n[CLASS_JUDGES] = {0};
		for (size_t l = 0; l < CLASS_LISTS; l++)
			for (size_t i = 0; i < lists[l].n; i++) {
				size_t j = (size_t)(lists[l].x[i] >> 32);
				J.codes[j][n[j]++] = (uint32_t)lists[l].x[i];
			}
		if (pass == 0)
			setenv("KAIEVAL_THREADS", "1", 1);
		struct votes_classes C;
		int rc = votes_classes_of_judges(lists, CLASS_LISTS, CLASS_JUDGES, check_grouped, &J, &C);
		unsetenv("KAIEVAL_THREADS");
		cr_assert_eq(rc, 0);
		cr_expect(J.grouped_ok, "pass %d: the ballots grouped by judge are not in the lists' order", pass);
		/* the naive classes */
		static uint32_t sorted[CLASS_JUDGES][MOST_BALLOTS];
		size_t rep[CLASS_JUDGES], size[CLASS_JUDGES], classes = 0, entries = 0;
		for (size_t j = 0; j < CLASS_JUDGES; j++) {
			memcpy(sorted[j], J.codes[j], J.n[j] * sizeof **sorted);
			qsort(sorted[j], J.n[j], sizeof **sorted, by_code);
			size_t c = 0;
			while (c < classes && !(J.n[rep[c]] == J.n[j] && memcmp(sorted[rep[c]], sorted[j], J.n[j] * 4) == 0))
				c++;
			if (c == classes) {
				rep[classes] = j;
				size[classes++] = 0;
			}
			size[c]++;
		}
		cr_assert_eq(C.count, classes, "pass %d", pass);
		cr_expect_eq(C.units, CLASS_JUDGES);
		for (size_t c = 0; c < classes; c++) {
			cr_expect_eq(C.size[c], size[c], "pass %d class %zu", pass, c);
			cr_assert_eq(C.first[c], entries, "pass %d class %zu", pass, c);
			const uint32_t *k = sorted[rep[c]];
			for (size_t i = 0, run; i < J.n[rep[c]]; i += run, entries++) {
				for (run = 1; i + run < J.n[rep[c]] && k[i + run] == k[i]; run++)
					;
				cr_expect_eq(C.code[entries], k[i], "pass %d class %zu", pass, c);
				cr_expect_eq(C.mult[entries], run, "pass %d class %zu", pass, c);
			}
		}
		cr_expect_eq(C.first[classes], entries);
		votes_classes_free(&C);
	}
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

/* --- every replicate, whatever computes it ------------------------------------ */

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct hashed_id { uint32_t low; uint32_t i; };

static int by_low_bits(const void *a, const void *b)
{
	const struct hashed_id *x = a, *y = b;
	return x->low != y->low ? (x->low < y->low ? -1 : 1) : (x->i < y->i ? -1 : x->i > y->i);
}

/* Id number i < 95^3 of n >= 3 bytes: the same bytes for every i, then
 * i in base 95 (printable bytes) in the last three; ids of one length
 * differ there alone, in each of the words compared as the length grows. */
static void id_of(char *id, size_t n, uint32_t i)
{
	for (size_t b = 0; b + 3 < n; b++)
		id[b] = (char)('a' + b % 26);
	for (size_t d = 0; d < 3; d++, i /= 95)
		id[n - 3 + d] = (char)(' ' + i % 95);
}

/* The table keeps 32 bits of an id's hash; ids that share them are told
 * apart by their bytes.  For each length, two ids that share those bits
 * are found among 2^18, and each must keep its own index. */
Test(votes_scale, ids_whose_hashes_share_the_kept_bits_are_told_apart)
{
	enum { IDS = 1 << 18 };
	struct hashed_id *h = malloc(IDS * sizeof *h);
	cr_assert(h);
	for (size_t n = 3; n <= 28; n++) {
		char a[32], b[32];
		for (uint32_t i = 0; i < IDS; i++) {
			id_of(a, n, i);
			h[i] = (struct hashed_id){(uint32_t)votes_intern_hash(a, n), i};
		}
		qsort(h, IDS, sizeof *h, by_low_bits);
		size_t j = 1;
		while (j < IDS && h[j].low != h[j - 1].low)
			j++;
		cr_assert_lt(j, IDS, "no two ids of %zu bytes share 32 bits of their hash", n);
		id_of(a, n, h[j - 1].i);
		id_of(b, n, h[j].i);
		cr_assert_neq(memcmp(a, b, n), 0);
		struct votes_intern t = {0};
		int added;
		cr_expect_eq(votes_intern(&t, a, n, &added), 0, "length %zu", n);
		cr_expect_eq(votes_intern(&t, b, n, &added), 1, "length %zu", n);
		cr_expect_eq(votes_intern(&t, a, n, &added), 0, "length %zu", n);
		cr_expect_eq(votes_intern(&t, b, n, &added), 1, "length %zu", n);
		cr_expect_eq(t.count, 2, "length %zu", n);
		votes_intern_free(&t);
	}
	free(h);
}

/* Classes of 8 models' ballots shaped like judges': most alone in their
 * class, some in small classes, a few in classes of 64 or more (blocks of
 * their own); 1 to 12 distinct codes each, in increasing order as
 * classes.c makes them; most counted once, some 2 to 9 times, one in 50
 * thousands of times.  PAST_32: one class's sums pass 32 bits; PAST_16:
 * every class has code 0, whose sum passes 16 bits in every replicate. */
enum shape { PLAIN, PAST_32, PAST_16, SPREAD_16 };

static void judge_like_classes(struct votes_classes *C, size_t classes, enum shape shape)
{
	size_t k = 8, codes = votes_codes(k), e = 0;
	uint64_t x = 42;
	C->size = calloc(classes, sizeof *C->size);
	C->first = calloc(classes + 1, sizeof *C->first);
	C->code = calloc(classes * 12, sizeof *C->code);
	C->mult = calloc(classes * 12, sizeof *C->mult);
	cr_assert(C->size && C->first && C->code && C->mult);
	for (size_t c = 0; c < classes; c++) {
		uint64_t kind = mix(&x) % 100;
		C->size[c] = kind < 70 ? 1 : kind < 97 ? 2 + (uint32_t)(mix(&x) % 62) : 64 + (uint32_t)(mix(&x) % 3000);
		size_t n = 1 + mix(&x) % 12, code = 0;
		if (shape == PAST_16) {
			C->code[e] = 0;
			C->mult[e++] = 1;
			code = 1;
			n--;
		}
		for (; n && code < codes; code++) { /* n of the codes, each as likely */
			if (mix(&x) % (codes - code) >= n)
				continue;
			uint64_t m = mix(&x) % 50;
			C->code[e] = (uint32_t)code;
			C->mult[e++] = m < 40 ? 1 : m < 49 ? 2 + (uint32_t)(m - 40) : 1000 + (uint32_t)(mix(&x) % 5000);
			n--;
		}
		C->first[c + 1] = e;
	}
	if (shape == PAST_32) { /* 3000 units x 2e6 ballots: past 2^32 in every replicate */
		C->size[1] = 3000;
		C->mult[C->first[1]] = 2000000;
	}
	C->count = classes;
	C->units = 0;
	for (size_t c = 0; c < classes; c++)
		C->units += C->size[c];
}

/* 600,000 classes of one judge and one ballot among 40 models (2340
 * codes), so that a block of small classes (2048 units) has fewer entries
 * than there are codes, and its 16-bit sums are bound by its largest count
 * times the classes sharing a code.  One class in 8 has code 0: about 1500
 * of a block's draws in a replicate, and 75,000 of the replicate's, so
 * code 0's 16-bit sums pass 65535 unless widened in time. */
static void spread_classes(struct votes_classes *C)
{
	size_t classes = 600000, codes = votes_codes(40);
	uint64_t x = 7;
	C->size = calloc(classes, sizeof *C->size);
	C->first = calloc(classes + 1, sizeof *C->first);
	C->code = calloc(classes, sizeof *C->code);
	C->mult = calloc(classes, sizeof *C->mult);
	cr_assert(C->size && C->first && C->code && C->mult);
	for (size_t c = 0; c < classes; c++) {
		C->size[c] = 1;
		C->code[c] = c % 8 == 0 ? 0 : 1 + (uint32_t)(mix(&x) % (codes - 1));
		C->mult[c] = 1;
		C->first[c + 1] = c + 1;
	}
	C->count = classes;
	C->units = classes;
}

/* The point estimate g of C's k models and its table w (the doubled win
 * table, and one tie each way). */
static void point_estimate(const struct votes_classes *C, size_t k, double *w, double *g)
{
	uint16_t *lo_of = calloc(votes_codes(k), sizeof *lo_of), *hi_of = calloc(votes_codes(k), sizeof *hi_of);
	cr_assert(lo_of && hi_of);
	votes_code_models(k, lo_of, hi_of);
	for (size_t c = 0; c < C->count; c++) /* the doubled win table, and one tie each way */
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++) {
			size_t lo = lo_of[C->code[e]], hi = hi_of[C->code[e]], what = C->code[e] % 3;
			double n = (double)C->size[c] * C->mult[e];
			w[lo * k + hi] += what == VOTES_LO_WON ? 2 * n : what == VOTES_TIED ? n : 0;
			w[hi * k + lo] += what == VOTES_HI_WON ? 2 * n : what == VOTES_TIED ? n : 0;
		}
	for (size_t i = 0; i < k * k; i++)
		w[i] += i / k != i % k;
	cr_assert_geq(votes_bt_fit(w, k, g), 0);
	free(lo_of);
	free(hi_of);
}

/* Replicate r's stream, as all_replicates seeds them. */
static void seed_streams(struct kv_rng *streams, size_t rounds)
{
	struct kv_rng seeder = {{1, 2, 3, 4}};
	for (size_t r = 0; r < rounds; r++)
		for (int i = 0; i < 4; i++)
			streams[r].s[i] = kv_rng_next(&seeder);
}

/* All replicates' ratings (elo, then normalized, then ok) of C's k
 * models, with the environment variable var set to value. */
static void all_replicates(const struct votes_classes *C, size_t k, const char *var, const char *value,
			   double *out, unsigned char *ok, size_t rounds)
{
	double *w = calloc(k * k, sizeof *w), *g = calloc(k, sizeof *g);
	cr_assert(w && g);
	point_estimate(C, k, w, g);
	struct kv_rng *streams = calloc(rounds, sizeof *streams);
	cr_assert(streams);
	seed_streams(streams, rounds);
	struct votes_boot B = {.k = k, .ref = k, .rounds = rounds, .C = C, .g0 = g, .w0 = w, .prior = 1,
			       .streams = streams, .elo = out, .norm = out + rounds * k, .ok = ok};
	memset(out, 0, 2 * rounds * k * sizeof *out); /* replicates without an estimate leave theirs */
	setenv(var, value, 1);
	int rc = votes_boot_run(&B);
	unsetenv(var);
	cr_assert_eq(rc, 0);
	free(streams);
	free(w);
	free(g);
}

/* The draws and sums are the same bits at every SIMD level, group size
 * (1, 4, 16, 32, 64, 128 replicates: 84 codes take 336 bytes a replicate) and
 * number of threads, in every one of 203 replicates; with 40 models
 * (SPREAD_16), in 64 replicates, at every SIMD level. */
static void expect_same_replicates(enum shape shape)
{
	static const char *const runs[][2] = {
		{"KAIEVAL_SIMD", "scalar"},	   {"KAIEVAL_SIMD", "avx2"},	       {"KAIEVAL_CACHE_BYTES", "1"},
		{"KAIEVAL_CACHE_BYTES", "2048"},   {"KAIEVAL_CACHE_BYTES", "5376"},   {"KAIEVAL_CACHE_BYTES", "10752"},
		{"KAIEVAL_CACHE_BYTES", "21504"},  {"KAIEVAL_CACHE_BYTES", "1000000000"}, {"KAIEVAL_THREADS", "1"},
	};
	size_t k = shape == SPREAD_16 ? 40 : 8, rounds = shape == SPREAD_16 ? 64 : 203, n = 2 * rounds * k;
	size_t runs_n = shape == SPREAD_16 ? 2 : sizeof runs / sizeof runs[0]; /* there: scalar and avx2 */
	struct votes_classes C = {0};
	if (shape == SPREAD_16)
		spread_classes(&C);
	else
		judge_like_classes(&C, 12000, shape);
	double *first = malloc(n * sizeof *first), *other = malloc(n * sizeof *other);
	unsigned char ok0[203], ok[203];
	all_replicates(&C, k, "KAIEVAL_SIMD", "avx512", first, ok0, rounds);
	size_t usable = 0;
	for (size_t r = 0; r < rounds; r++)
		usable += ok0[r];
	cr_expect_gt(usable, rounds / 2, "most replicates have an estimate");
	for (size_t i = 0; i < runs_n; i++) {
		all_replicates(&C, k, runs[i][0], runs[i][1], other, ok, rounds);
		cr_expect_eq(memcmp(ok, ok0, rounds), 0, "%s=%s", runs[i][0], runs[i][1]);
		size_t differ = 0;
		for (size_t j = 0; j < n; j++)
			differ += memcmp(&first[j], &other[j], sizeof first[j]) != 0;
		cr_expect_eq(differ, 0, "%s=%s: %zu of %zu values differ", runs[i][0], runs[i][1], differ, n);
	}
	free(first);
	free(other);
	free(C.size);
	free(C.first);
	free(C.code);
	free(C.mult);
}

Test(votes_scale, every_replicate_is_the_same_whatever_computes_it, .timeout = 60)
{
	expect_same_replicates(PLAIN);
}

Test(votes_scale, every_replicate_is_the_same_when_sums_pass_32_bits, .timeout = 60)
{
	expect_same_replicates(PAST_32);
}

Test(votes_scale, every_replicate_is_the_same_when_a_sum_passes_16_bits, .timeout = 60)
{
	expect_same_replicates(PAST_16);
}

Test(votes_scale, every_replicate_is_the_same_when_many_models_pass_16_bits, .timeout = 60)
{
	expect_same_replicates(SPREAD_16);
}

/* votes_sandwich of C's k models is the same bits at every SIMD level,
 * and every variance positive. */
static void expect_same_sandwich(const struct votes_classes *C, size_t k, const double *g)
{
	static const char *const levels[] = {"avx512", "avx2", "scalar"};
	double var[3][8];
	cr_assert_leq(k, 8);
	for (int l = 0; l < 3; l++) {
		setenv("KAIEVAL_SIMD", levels[l], 1);
		cr_assert_eq(votes_sandwich(C, k, g, 1.0, var[l]), 0);
		unsetenv("KAIEVAL_SIMD");
	}
	for (int l = 1; l < 3; l++)
		for (size_t i = 0; i < k; i++)
			cr_expect_eq(memcmp(&var[l][i], &var[0][i], sizeof var[0][i]), 0,
				     "%zu models, %s, model %zu: %.17g vs %.17g", k, levels[l], i, var[l][i], var[0][i]);
	for (size_t i = 0; i < k; i++)
		cr_expect_gt(var[0][i], 0);
}

/* The sandwich variance is the same bits at every SIMD level (its outer
 * products take one masked instruction a row under AVX-512), with 8
 * models and with 4. */
Test(votes_scale, the_sandwich_is_the_same_at_every_simd_level)
{
	struct votes_classes C = {0};
	judge_like_classes(&C, 12000, PLAIN);
	const double g[8] = {1.0, 0.5, 2.0, 1.5, 0.75, 1.25, 3.0, 1.0};
	expect_same_sandwich(&C, 8, g);
	for (size_t e = 0; e < C.first[C.count]; e++) /* the same ballots among 4 models: rows of 3 */
		C.code[e] %= (uint32_t)votes_codes(4);
	expect_same_sandwich(&C, 4, g);
	free(C.size);
	free(C.first);
	free(C.code);
	free(C.mult);
}

/* --- the draws, written out plainly --------------------------------------- */

/* The bootstrap's scheme, which archived rounds' intervals rest on, one
 * replicate at a time and unit by unit: classes of 64 units or more are
 * blocks of their own, smaller ones share blocks of at most 2048 units;
 * the replicate's stream first splits its draws among the blocks
 * (conditional binomials in block order), then draws each shared block's
 * share unit by unit, four 16-bit draws an output, by Lemire's
 * multiply-shift with rejection.  Into sums[code]. */
enum { OWN_BLOCK = 64, SHARED_UNITS = 2048 };

struct plain_block { size_t c0, c1; uint64_t units; };

static size_t plain_blocks(const struct votes_classes *C, struct plain_block *b)
{
	size_t n = 0;
	int open = 0;
	for (size_t c = 0; c < C->count; c++) {
		int small = C->size[c] < OWN_BLOCK;
		if (open && (!small || b[n - 1].units + C->size[c] > SHARED_UNITS))
			open = 0;
		if (!open)
			b[n++] = (struct plain_block){c, c, 0};
		b[n - 1].c1 = c + 1;
		b[n - 1].units += C->size[c];
		open = small;
	}
	return n;
}

static void plain_unit_draws(struct kv_rng *s, uint64_t count, uint32_t units, uint64_t *per_unit)
{
	uint32_t threshold = (65536u - units) % units;
	for (uint64_t i = 0; i < count;) {
		uint64_t x = kv_rng_next(s);
		for (int q = 0; q < 4 && i < count; q++, x >>= 16) {
			uint32_t product = (uint32_t)(x & 0xffff) * units;
			if ((product & 0xffff) >= threshold) {
				per_unit[product >> 16]++;
				i++;
			}
		}
	}
}

static void plain_replicate(const struct votes_classes *C, const struct plain_block *b, size_t nb,
			    struct kv_rng *s, uint64_t *sums)
{
	uint64_t *take = calloc(nb, sizeof *take), *count = calloc(C->count, sizeof *count);
	uint64_t *per_unit = calloc(SHARED_UNITS, sizeof *per_unit), left = C->units, whole = C->units;
	cr_assert(take && count && per_unit);
	for (size_t i = 0; i < nb; i++) {
		take[i] = i + 1 == nb ? left : votes_binomial(s, left, b[i].units, whole);
		left -= take[i];
		whole -= b[i].units;
	}
	for (size_t i = 0; i < nb; i++) {
		int own = b[i].c1 - b[i].c0 == 1 && C->size[b[i].c0] >= OWN_BLOCK;
		if (own) {
			count[b[i].c0] = take[i];
			continue;
		}
		memset(per_unit, 0, SHARED_UNITS * sizeof *per_unit);
		plain_unit_draws(s, take[i], (uint32_t)b[i].units, per_unit);
		for (size_t c = b[i].c0, u = 0; c < b[i].c1; u += C->size[c++])
			for (uint32_t j = 0; j < C->size[c]; j++)
				count[c] += per_unit[u + j];
	}
	for (size_t c = 0; c < C->count; c++)
		for (size_t e = C->first[c]; e < C->first[c + 1]; e++)
			sums[C->code[e]] += count[c] * C->mult[e];
	free(take);
	free(count);
	free(per_unit);
}

/* Every replicate's ratings, at every SIMD level, are the fit of the sums
 * of that scheme, bit for bit (the fit itself the plugin's, from the same
 * start). */
Test(votes_scale, every_replicate_is_the_plain_scheme_at_every_simd_level, .timeout = 60)
{
	static const char *const levels[] = {"avx512", "avx2", "scalar"};
	enum { ROUNDS = 37 };
	size_t k = 8, codes = votes_codes(k), n = 2 * ROUNDS * k;
	struct votes_classes C = {0};
	judge_like_classes(&C, 12000, PLAIN);
	struct plain_block *b = calloc(C.count, sizeof *b);
	double *w0 = calloc(k * k, sizeof *w0), *g0 = calloc(k, sizeof *g0), *w = calloc(k * k, sizeof *w);
	double *g = calloc(k, sizeof *g), *elo = calloc(ROUNDS * k, sizeof *elo), *out = calloc(n, sizeof *out);
	uint64_t *sums = calloc(codes, sizeof *sums);
	struct kv_rng streams[ROUNDS];
	unsigned char plain_ok[ROUNDS], ok[ROUNDS];
	cr_assert(b && w0 && g0 && w && g && elo && out && sums);
	size_t nb = plain_blocks(&C, b);
	point_estimate(&C, k, w0, g0);
	double *factor = votes_bt_factor(w0, k, g0);
	seed_streams(streams, ROUNDS);
	for (size_t r = 0; r < ROUNDS; r++) {
		memset(sums, 0, codes * sizeof *sums);
		plain_replicate(&C, b, nb, &streams[r], sums);
		for (size_t lo = 0, x = 0; lo < k; lo++) /* the table as the plugin builds it, with prior 1 */
			for (size_t hi = lo + 1; hi < k; hi++, x += 3) {
				w[lo * k + hi] = 2 * (double)sums[x + VOTES_LO_WON] + (double)sums[x + VOTES_TIED] + 1;
				w[hi * k + lo] = 2 * (double)sums[x + VOTES_HI_WON] + (double)sums[x + VOTES_TIED] + 1;
			}
		plain_ok[r] = votes_bt_refit(w, k, g0, factor, g) >= 0;
		if (plain_ok[r])
			votes_bt_elo(g, k, elo + r * k);
	}
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		all_replicates(&C, k, "KAIEVAL_SIMD", levels[i], out, ok, ROUNDS);
		size_t differ = 0, usable = 0;
		for (size_t r = 0; r < ROUNDS; r++) {
			cr_expect_eq(ok[r], plain_ok[r], "%s: replicate %zu", levels[i], r);
			usable += ok[r];
			for (size_t j = 0; ok[r] && j < k; j++)
				differ += memcmp(&out[r * k + j], &elo[r * k + j], sizeof *elo) != 0;
		}
		cr_expect_gt(usable, ROUNDS / 2, "%s", levels[i]);
		cr_expect_eq(differ, 0, "%s: %zu ratings differ from the plain scheme's", levels[i], differ);
	}
	free(factor);
	free(b);
	free(w0);
	free(g0);
	free(w);
	free(g);
	free(elo);
	free(out);
	free(sums);
	free(C.size);
	free(C.first);
	free(C.code);
	free(C.mult);
}

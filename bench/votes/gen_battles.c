/* gen_battles: a seeded generator of Chatbot Arena battles as JSONL, for
 * bench/votes/votes_bench (never for tests: it writes gigabytes).
 *
 *   gen_battles -o /tmp/votes-bench/battles.jsonl [-n 10000000] [-m 8]
 *               [-j 50000] [-d 0.01] [-s 2026]
 *
 * Each line is one battle in FastChat's clean_battle layout: model_a,
 * model_b, winner, judge, question_id (32 hex digits), tstamp.  Models
 * "model-alpha", "model-bravo", ... have true Elo ratings spread evenly over
 * 950..1250; a battle picks an ordered pair and a judge uniformly, is a tie
 * with probability 0.2 (60% "tie", 40% "tie (bothbad)"), and otherwise A
 * wins with probability q, where 0.1 + 0.8 q = P_Elo(A beats B), as in the
 * fixture tests/data/votes/README.md describes.  A share d of the battles
 * repeat a recent (judge, question, pair) ballot, which the plugin must
 * exclude.  Same arguments, same bytes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const greek[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
				    "golf", "hotel", "india", "juliett", "kilo", "lima"};

static uint64_t state;

static uint64_t next64(void) /* splitmix64 (Steele, Lea, Flood 2014) */
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next64() >> 11) * 0x1.0p-53; }
static unsigned below(unsigned n) { return (unsigned)(uniform() * n); }

struct ballot { unsigned judge, a, b; uint64_t q0, q1; };

struct opts { unsigned long long n; unsigned models, judges; double dup; uint64_t seed; const char *out; };

static int usage(void)
{
	fprintf(stderr, "usage: gen_battles -o FILE [-n battles] [-m models<=12] [-j judges] [-d repeat share] [-s seed]\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;
	*o = (struct opts){10000000ULL, 8, 50000, 0.01, 2026, NULL};
	while ((c = getopt(argc, argv, "o:n:m:j:d:s:")) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'n': o->n = strtoull(optarg, NULL, 10); break;
		case 'm': o->models = (unsigned)atoi(optarg); break;
		case 'j': o->judges = (unsigned)atoi(optarg); break;
		case 'd': o->dup = atof(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	return o->out && o->models >= 2 && o->models <= 12 && o->judges >= 1 ? 0 : -1;
}

static const char *winner(const struct opts *o, unsigned a, unsigned b)
{
	double ra = 950.0 + 300.0 * a / (o->models - 1), rb = 950.0 + 300.0 * b / (o->models - 1);
	double p = 1.0 / (1.0 + pow(10.0, (rb - ra) / 400.0));
	if (uniform() < 0.2)
		return uniform() < 0.6 ? "tie" : "tie (bothbad)";
	return uniform() < (p - 0.1) / 0.8 ? "model_a" : "model_b";
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ballot recent[1024];
	size_t nrecent = 0;
	if (parse(argc, argv, &o))
		return usage();
	FILE *f = fopen(o.out, "wb");
	if (!f) {
		perror(o.out);
		return 1;
	}
	state = o.seed;
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof buf);
	for (unsigned long long i = 0; i < o.n; i++) {
		struct ballot x;
		if (nrecent > 0 && uniform() < o.dup) {
			x = recent[below((unsigned)nrecent)];
			if (uniform() < 0.5) { /* the same unordered pair, sides swapped */
				unsigned t = x.a;
				x.a = x.b;
				x.b = t;
			}
		} else {
			x.judge = below(o.judges);
			x.a = below(o.models);
			x.b = (x.a + 1 + below(o.models - 1)) % o.models;
			x.q0 = next64();
			x.q1 = next64();
			recent[nrecent < 1024 ? nrecent++ : below(1024)] = x;
		}
		fprintf(f, "{\"model_a\": \"model-%s\", \"model_b\": \"model-%s\", \"winner\": \"%s\", "
			"\"judge\": \"arena_user_%u\", \"question_id\": \"%016llx%016llx\", \"tstamp\": %.4f}\n",
			greek[x.a], greek[x.b], winner(&o, x.a, x.b), x.judge, (unsigned long long)x.q0,
			(unsigned long long)x.q1, 1714525806.0 + 0.25 * (double)i);
	}
	if (fclose(f)) {
		perror(o.out);
		return 1;
	}
	return 0;
}

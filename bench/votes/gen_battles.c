/* gen_battles: a seeded generator of Chatbot Arena battles as JSONL, for
 * bench/votes/votes_bench (never for tests: it writes gigabytes).
 *
 *   gen_battles -o FILE [-n 10000000] [-m 8] [-j 50000] [-d 0.01] [-s 2026]
 *               [-t tail] [-q questions] [-a anchors] [-u unknown share] [-x [-x]] [-p]
 *               [-c korean share] [-L] [-C]
 *
 * Each line is one battle in FastChat's clean_battle layout: model_a,
 * model_b, winner, judge, question_id (32 hex digits), tstamp.  The models
 * (bench/votes/names.h, up to 256) have true Elo ratings spread evenly over
 * 950..1250 (anchors, the first -a models, on top); a battle picks an
 * ordered pair uniformly, is a tie with probability 0.2 (60% "tie", 40%
 * "tie (bothbad)"), and otherwise A wins with probability q, where
 * 0.1 + 0.8 q = P_Elo(A beats B), as tests/data/votes/README.md describes.
 *   -j  judges; a judge is uniform over them, or with -t T > 1 heavy-tailed:
 *       judge = floor(j * u^T) for uniform u, so judge 0 votes a share
 *       j^(-1/T) of the battles and most judges once or twice;
 *   -q  question ids drawn from a pool of that many (0: every battle its own);
 *   -d  a share of battles repeat a recent (judge, question, pair) ballot,
 *       which the plugin must exclude;
 *   -u  a share of battles name a model outside the round ("model-unknown");
 *   -x  extra fields: anony, language, turn and a nested conv_metadata;
 *       twice, also the rest of what Arena's current files hold: is_code,
 *       is_refusal and the nested dedup_tag and category_tag objects;
 *   -p  one JSON array indented by 2, as FastChat writes its clean_battle
 *       files (json.dump(battles, f, indent=2)), instead of JSONL;
 *   -c  the conversations, as Arena's clean_battle_conv files hold them:
 *       one question and an answer on each side, of words of which the
 *       given share are Korean, written as json.dumps writes them by
 *       default (ensure_ascii: every Korean letter a \uXXXX escape, an
 *       emoji a surrogate pair);
 *   -L  model names shaped like Arena's, 15 to 35 bytes (names.h);
 *   -C  the same battles as a CSV table (a header row, then a row a
 *       battle; with -x, conv_metadata is a quoted JSON text, its quotes
 *       doubled); not with -x -x, -p or -c.
 * Same arguments, same bytes. */
#include "names.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

struct opts {
	unsigned long long n;
	unsigned models, judges, anchors, questions;
	double dup, tail, unknown, korean;
	int extra, pretty, conversations, arena_names, csv;
	uint64_t seed;
	const char *out;
};

static int usage(void)
{
	fprintf(stderr, "usage: gen_battles -o FILE [-n battles] [-m models<=256] [-j judges] [-d repeat share] "
		"[-s seed] [-t tail exponent] [-q question pool] [-a anchors] [-u unknown share] [-x [-x]] [-p] "
		"[-c korean share] [-L] [-C]\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;
	*o = (struct opts){.n = 10000000ULL, .models = 8, .judges = 50000, .dup = 0.01, .seed = 2026};
	while ((c = getopt(argc, argv, "o:n:m:j:d:s:t:q:a:u:xpc:LC")) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'n': o->n = strtoull(optarg, NULL, 10); break;
		case 'm': o->models = (unsigned)atoi(optarg); break;
		case 'j': o->judges = (unsigned)atoi(optarg); break;
		case 'd': o->dup = atof(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 10); break;
		case 't': o->tail = atof(optarg); break;
		case 'q': o->questions = (unsigned)atoi(optarg); break;
		case 'a': o->anchors = (unsigned)atoi(optarg); break;
		case 'u': o->unknown = atof(optarg); break;
		case 'x': o->extra++; break;
		case 'p': o->pretty = 1; break;
		case 'L': o->arena_names = 1; break;
		case 'C': o->csv = 1; break;
		case 'c':
			o->conversations = 1;
			o->korean = atof(optarg);
			break;
		default: return -1;
		}
	}
	if (o->csv && (o->extra > 1 || o->pretty || o->conversations))
		return -1;
	return o->out && o->models >= 2 && o->models <= BENCH_MAX_MODELS && o->judges >= 1 &&
	       o->anchors < o->models ? 0 : -1;
}

/* Anchors above the rest: the first anchors models rate 1300 and up. */
static double rating(const struct opts *o, unsigned i)
{
	if (i < o->anchors)
		return 1300.0 + 25.0 * (o->anchors - i);
	unsigned rest = o->models - o->anchors;
	return rest > 1 ? 950.0 + 300.0 * (i - o->anchors) / (rest - 1) : 1100.0;
}

static const char *winner(const struct opts *o, unsigned a, unsigned b)
{
	double p = 1.0 / (1.0 + pow(10.0, (rating(o, b) - rating(o, a)) / 400.0));
	if (uniform() < 0.2)
		return uniform() < 0.6 ? "tie" : "tie (bothbad)";
	return uniform() < (p - 0.1) / 0.8 ? "model_a" : "model_b";
}

static unsigned judge_of(const struct opts *o)
{
	if (o->tail <= 1)
		return below(o->judges);
	unsigned j = (unsigned)(o->judges * pow(uniform(), o->tail));
	return j < o->judges ? j : o->judges - 1;
}

/* A fresh ballot: judge, ordered pair, question. */
static void fresh(const struct opts *o, struct ballot *x)
{
	x->judge = judge_of(o);
	x->a = below(o->models);
	x->b = (x->a + 1 + below(o->models - 1)) % o->models;
	if (o->questions) { /* a question of the pool: its id from its number */
		uint64_t number = below(o->questions), saved = state;
		state = o->seed ^ (0x51ed270b27fULL * (1 + number));
		x->q0 = next64();
		x->q1 = next64();
		state = saved;
	} else {
		x->q0 = next64();
		x->q1 = next64();
	}
}

/* A JSON writer in Python's json.dumps layouts: ", " and ": " between
 * members, or with indent 2, one member a line. */
struct out {
	FILE *f;
	int pretty, depth;
	int first[8]; /* no member written yet at this depth */
};

static void newline(struct out *w)
{
	if (w->pretty)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
}

static void begin(struct out *w, char bracket)
{
	fputc(bracket, w->f);
	w->first[++w->depth] = 1;
}

static void end(struct out *w, char bracket)
{
	int empty = w->first[w->depth--];
	if (!empty)
		newline(w);
	fputc(bracket, w->f);
}

/* Before a member (key != NULL) or an array element. */
static void item(struct out *w, const char *key)
{
	if (!w->first[w->depth])
		fputs(w->pretty ? "," : ", ", w->f);
	w->first[w->depth] = 0;
	newline(w);
	if (key)
		fprintf(w->f, "\"%s\": ", key);
}

/* A member (key != NULL) or an element that is an object or array. */
static void open_item(struct out *w, const char *key, char bracket)
{
	item(w, key);
	begin(w, bracket);
}

static void text(struct out *w, const char *key, const char *value)
{
	item(w, key);
	fprintf(w->f, "\"%s\"", value);
}

static void word(struct out *w, const char *key, const char *value) /* a number or a literal */
{
	item(w, key);
	fputs(value, w->f);
}

static void count(struct out *w, const char *key, unsigned value)
{
	item(w, key);
	fprintf(w->f, "%u", value);
}

static const char *yes(unsigned percent) { return below(100) < percent ? "true" : "false"; }

/* What Arena's current files add (-x -x): flags, and the tags its
 * classifiers put on every battle. */
static void write_tags(struct out *w)
{
	static const char *const criteria[] = {"specificity", "domain_knowledge", "complexity", "problem_solving",
					       "creativity", "technical_accuracy", "real_world"};
	word(w, "is_code", yes(20));
	word(w, "is_refusal", yes(3));
	open_item(w, "dedup_tag", '{');
	word(w, "high_freq", yes(5));
	word(w, "sampled", yes(95));
	end(w, '}');
	open_item(w, "category_tag", '{');
	open_item(w, "criteria_v0.1", '{');
	for (size_t i = 0; i < sizeof criteria / sizeof criteria[0]; i++)
		word(w, criteria[i], yes(40));
	end(w, '}');
	open_item(w, "if_v0.1", '{');
	word(w, "if", yes(30));
	count(w, "score", below(6));
	end(w, '}');
	open_item(w, "math_v0.1", '{');
	word(w, "math", yes(10));
	end(w, '}');
	open_item(w, "creative_writing_v0.1", '{');
	word(w, "creative_writing", yes(15));
	text(w, "score", below(2) ? "yes" : "no");
	end(w, '}');
	end(w, '}');
}

/* Words of a conversation: English, or Korean (and one emoji) as
 * ensure_ascii escapes them. */
static void words(FILE *f, unsigned n, double korean)
{
	static const char *const english[] = {"the", "of", "and", "to", "in", "is", "that", "for", "it", "as",
					      "with", "model", "answer", "code", "python", "function", "return",
					      "value", "list", "data", "you", "can", "use", "\\\"quoted\\\""};
	static const char *const other[] = {
		"\\uc548\\ub155\\ud558\\uc138\\uc694", "\\ubaa8\\ub378", "\\ub2f5\\ubcc0",
		"\\uc9c8\\ubb38", "\\ub370\\uc774\\ud130", "\\ud55c\\uad6d\\uc5b4",
		"\\uc778\\uacf5\\uc9c0\\ub2a5", "\\ud3c9\\uac00", "\\uacb0\\uacfc",
		"\\ud83d\\ude00"};
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(below(20) ? " " : "\\n", f);
		if (uniform() < korean)
			fputs(other[below(sizeof other / sizeof other[0])], f);
		else
			fputs(english[below(sizeof english / sizeof english[0])], f);
	}
}

static void message(struct out *w, const char *role, unsigned n, double korean)
{
	open_item(w, NULL, '{');
	item(w, "content");
	fputc('"', w->f);
	words(w->f, n, korean);
	fputc('"', w->f);
	text(w, "role", role);
	end(w, '}');
}

/* Both sides' conversations: the same question (its draws replayed),
 * each model's own answer. */
static void write_conversations(struct out *w, double korean)
{
	uint64_t question = state;
	unsigned length = 5 + below(56);
	for (int side = 0; side < 2; side++) {
		uint64_t answer = state;
		open_item(w, side ? "conversation_b" : "conversation_a", '[');
		state = question;
		message(w, "user", length, korean);
		state = answer;
		message(w, "assistant", 50 + below(351), korean);
		end(w, ']');
	}
}

/* The battle write_battle writes, as a CSV row: the same draws in the
 * same order, so the same battles as the JSON of the same arguments. */
static void write_row(FILE *f, const struct opts *o, const struct ballot *x, const char *a, const char *b,
		      const char *judge, const char *question, const char *tstamp)
{
	fprintf(f, "%s,%s,%s,%s,%s,%s", a, b, winner(o, x->a, x->b), judge, question, tstamp);
	if (o->extra) {
		unsigned h2 = below(5), tokens = below(4000), turn = 1 + below(3);
		fprintf(f, ",true,English,%u,\"{\"\"sum_user_tokens\"\": %u, \"\"header_count_a\"\": {\"\"h1\"\": 0, "
			"\"\"h2\"\": %u}, \"\"tags\"\": [\"\"code\"\", null]}\"", turn, tokens, h2);
	}
	fputc('\n', f);
}

static void write_battle(struct out *w, const struct opts *o, const struct ballot *x, unsigned long long i)
{
	char a[BENCH_NAME_BYTES], b[BENCH_NAME_BYTES], judge[32], question[40], tstamp[32];
	bench_model_name(x->a, o->models, o->anchors, o->arena_names, a, sizeof a);
	bench_model_name(x->b, o->models, o->anchors, o->arena_names, b, sizeof b);
	if (o->unknown > 0 && uniform() < o->unknown)
		snprintf(b, sizeof b, "model-unknown");
	snprintf(judge, sizeof judge, "arena_user_%u", x->judge);
	snprintf(question, sizeof question, "%016llx%016llx", (unsigned long long)x->q0, (unsigned long long)x->q1);
	snprintf(tstamp, sizeof tstamp, "%.4f", 1714525806.0 + 0.25 * (double)i);
	if (o->csv) {
		write_row(w->f, o, x, a, b, judge, question, tstamp);
		return;
	}
	if (o->pretty)
		item(w, NULL);
	begin(w, '{');
	text(w, "model_a", a);
	text(w, "model_b", b);
	text(w, "winner", winner(o, x->a, x->b));
	text(w, "judge", judge);
	text(w, "question_id", question);
	word(w, "tstamp", tstamp);
	if (o->extra) {
		unsigned h2 = below(5), tokens = below(4000), turn = 1 + below(3); /* the files' order of draws */
		word(w, "anony", "true");
		text(w, "language", "English");
		count(w, "turn", turn);
		open_item(w, "conv_metadata", '{');
		count(w, "sum_user_tokens", tokens);
		open_item(w, "header_count_a", '{');
		count(w, "h1", 0);
		count(w, "h2", h2);
		end(w, '}');
		open_item(w, "tags", '[');
		text(w, NULL, "code");
		word(w, NULL, "null");
		end(w, ']');
		end(w, '}');
	}
	if (o->extra > 1)
		write_tags(w);
	if (o->conversations)
		write_conversations(w, o->korean);
	end(w, '}');
	if (!o->pretty)
		fputc('\n', w->f);
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
	struct out w = {.f = f, .pretty = o.pretty};
	if (o.csv)
		fprintf(f, "model_a,model_b,winner,judge,question_id,tstamp%s\n",
			o.extra ? ",anony,language,turn,conv_metadata" : "");
	if (o.pretty)
		begin(&w, '[');
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
			fresh(&o, &x);
			recent[nrecent < 1024 ? nrecent++ : below(1024)] = x;
		}
		write_battle(&w, &o, &x, i);
	}
	if (o.pretty) {
		end(&w, ']');
		fputc('\n', f);
	}
	if (fclose(f)) {
		perror(o.out);
		return 1;
	}
	return 0;
}

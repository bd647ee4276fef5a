/* votes_bench: the votes criterion (method pairwise) on a large battle file,
 * through the real core path: a round config beside the file, kv_run_round,
 * the host's streaming input (with its SHA-256 of every byte), the plugin.
 *
 *   gen_battles -o /tmp/votes-bench/battles.jsonl
 *   votes_bench /tmp/votes-bench/battles.jsonl [-m models (8)] [-b bootstrap rounds (1000)]
 *               [-a anchors (0)] [-u judge|battle] [-i] [-L]
 *
 * -m, -a, -L: as given to gen_battles (the first -a models are anchors,
 * not teams; -L Arena-like names); -u: bootstrap_unit; -i: unknown_models =
 * ignore.  The script
 * bench/votes/shapes runs it on every shape of file the issue names.
 *
 * Prints wall time, CPU time and peak RSS of the whole run, that CPU time
 * split between the core (this process, which reads and hashes the file)
 * and the criterion's child, the share of CPU time the hypervisor gave to
 * other guests meanwhile (on a shared virtual machine, a wall time means
 * little without it), then the time the host needs just to read and hash
 * the same file (the floor no plugin can go under on one thread).  Writes
 * round.cfg into the file's folder. */
#include "run.h"
#include "../hoststeal.h"
#include "names.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

extern const struct kv_plugin kaieval_plugin_votes;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The criterion runs in a child process of its own (isolation), while this
 * process hashes the file: both count. */
static double cpu_of(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double cpu_seconds(void) { return cpu_of(RUSAGE_SELF) + cpu_of(RUSAGE_CHILDREN); }

/* The larger peak: this process, or the criterion's child. */
static double peak_rss_mb(void)
{
	struct rusage self, child;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &child);
	return (double)(self.ru_maxrss > child.ru_maxrss ? self.ru_maxrss : child.ru_maxrss) / 1024.0;
}

struct bench {
	unsigned models, anchors;
	long bootstrap;
	const char *unit;
	int ignore_unknown, arena_names;
	char (*names)[BENCH_NAME_BYTES];
};

/* A round whose teams are the generator's models but the anchors (ids =
 * model names). */
static char *write_config(const char *dir, const char *file, const struct bench *o)
{
	char *path = kv_xasprintf("%s/round.cfg", dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "round: { id = \"bench\"; title = \"votes bench\"; date = \"2026-01-15\"; data = \".\";\n"
		   " seed = 20260115L;\n teams = (\n");
	for (unsigned i = o->anchors; i < o->models; i++)
		fprintf(f, "  { id = \"%s\"; name = \"%s\"; model = \"%s\"; }%s\n", o->names[i], o->names[i],
			o->names[i], i + 1 < o->models ? "," : "");
	fprintf(f, " );\n criteria = ( { id = \"users\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;\n"
		   "  params = { method = \"pairwise\"; battles = \"%s\"; bootstrap = %ld; bootstrap_unit = \"%s\";\n",
		file, o->bootstrap, o->unit);
	if (o->ignore_unknown)
		fprintf(f, "   unknown_models = \"ignore\";\n");
	if (o->anchors) {
		fprintf(f, "   anchors = [");
		for (unsigned i = 0; i < o->anchors; i++)
			fprintf(f, "%s\"%s\"", i ? ", " : " ", o->names[i]);
		fprintf(f, " ];\n");
	}
	fprintf(f, "  }; } );\n selection = { advance = %u; }; };\n", o->models - o->anchors);
	fclose(f);
	return path;
}

static double round_num(const struct kv_run *run, const char *key)
{
	const struct kv_evidence_item *it = kv_evidence_get(&run->results[0].evidence, key);
	return it && it->is_num ? it->num : -1;
}

static void print_round(const struct kv_run *run, const struct bench *o)
{
	static const char *const keys[] = {"battles_read", "ballots_counted", "excluded_duplicate",
					   "excluded_unknown_model", "judges", "bootstrap_classes", "iterations",
					   "bootstrap_rounds", "bootstrap_undetermined"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("  %-24s %.0f\n", keys[i], round_num(run, keys[i]));
	for (unsigned i = o->anchors; i < o->models; i++) {
		if (i >= o->anchors + 4 && i + 4 < o->models)
			continue; /* the first and last four */
		const struct kv_team_outcome *t = kv_run_outcome(run, "users", o->names[i]);
		const struct kv_evidence_item *e = kv_evidence_get(&t->evidence, "elo");
		const struct kv_evidence_item *lo = kv_evidence_get(&t->evidence, "elo_q025");
		const struct kv_evidence_item *hi = kv_evidence_get(&t->evidence, "elo_q975");
		printf("  %-14s normalized %.6f  elo %.3f [%.3f, %.3f]\n", o->names[i], t->normalized,
		       e ? e->num : 0, lo ? lo->num : 0, hi ? hi->num : 0);
	}
}

static int parse(int argc, char **argv, struct bench *o)
{
	int c;
	*o = (struct bench){.models = 8, .bootstrap = 1000, .unit = "judge"};
	while ((c = getopt(argc, argv, "m:b:a:u:iL")) != -1) {
		switch (c) {
		case 'm': o->models = (unsigned)atoi(optarg); break;
		case 'b': o->bootstrap = atol(optarg); break;
		case 'a': o->anchors = (unsigned)atoi(optarg); break;
		case 'u': o->unit = optarg; break;
		case 'i': o->ignore_unknown = 1; break;
		case 'L': o->arena_names = 1; break;
		default: return -1;
		}
	}
	if (optind + 1 != argc || o->models < 2 || o->models > BENCH_MAX_MODELS || o->anchors + 2 > o->models)
		return -1;
	o->names = calloc(o->models, sizeof *o->names);
	for (unsigned i = 0; i < o->models; i++)
		bench_model_name(i, o->models, o->anchors, o->arena_names, o->names[i], sizeof o->names[i]);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench o;
	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: votes_bench BATTLES.jsonl [-m models (8)] [-b bootstrap rounds (1000)] "
			"[-a anchors] [-u judge|battle] [-i] [-L]\n");
		return 2;
	}
	const char *file = argv[optind];
	char *copy = kv_xstrdup(file), *copy2 = kv_xstrdup(file);
	char *cfg = write_config(dirname(copy), basename(copy2), &o);
	kv_register_builtin(&kaieval_plugin_votes);
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	double t0 = now(), c0 = cpu_seconds(), core0 = cpu_of(RUSAGE_SELF), steal0 = host_steal_seconds();
	int rc = kv_run_round(cfg, NULL, 0, &run, &err);
	double wall = now() - t0, cpu = cpu_seconds() - c0, core = cpu_of(RUSAGE_SELF) - core0;
	if (rc) {
		fprintf(stderr, "votes_bench: %s\n", err.msg);
		free(cfg);
		free(copy);
		free(copy2);
		return rc;
	}
	printf("votes criterion (parse, dedup, fit, %ld bootstrap rounds by %s) on %s\n", o.bootstrap, o.unit, file);
	printf("  wall %.3f s   cpu %.3f s   peak RSS %.1f MB\n", wall, cpu, peak_rss_mb());
	printf("  cpu of the core (reading and hashing) %.3f s, of the criterion's process %.3f s\n", core, cpu - core);
	print_host_steal(steal0, wall);
	print_round(run, &o);
	kv_run_free(run);
	char hex[65];
	uint64_t bytes = 0;
	t0 = now();
	kv_sha256_file(file, hex, &bytes);
	printf("host floor: reading + SHA-256 of %.2f GB on one thread: %.3f s\n", (double)bytes / 1e9, now() - t0);
	free(cfg);
	free(copy);
	free(copy2);
	free(o.names);
	return 0;
}

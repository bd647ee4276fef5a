/* votes_bench: the votes criterion (method pairwise) on a large battle file,
 * through the real core path: a round config beside the file, kv_run_round,
 * the host's streaming input (with its SHA-256 of every byte), the plugin.
 *
 *   gen_battles -o /tmp/votes-bench/battles.jsonl
 *   votes_bench /tmp/votes-bench/battles.jsonl [models, default 8] [bootstrap rounds, default 1000]
 *
 * Prints wall time, CPU time and peak RSS of the whole run, the share of
 * CPU time the hypervisor gave to other guests meanwhile (on a shared
 * virtual machine, a wall time means little without it), then the time
 * the host needs just to read and hash the same file (the floor no plugin
 * can go under on one thread).  Writes round.cfg into the file's folder. */
#include "run.h"
#include "../hoststeal.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

extern const struct kv_plugin kaieval_plugin_votes;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static const char *const models[] = {"model-alpha", "model-bravo", "model-charlie", "model-delta",
				     "model-echo", "model-foxtrot", "model-golf", "model-hotel",
				     "model-india", "model-juliett", "model-kilo", "model-lima"};

/* A round whose teams are the generator's models (ids = model names). */
static char *write_config(const char *dir, const char *file, int teams, long bootstrap)
{
	char *path = kv_xasprintf("%s/round.cfg", dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "round: { id = \"bench\"; title = \"votes bench\"; date = \"2026-01-15\"; data = \".\";\n"
		   " seed = 20260115L;\n teams = (\n");
	for (int i = 0; i < teams; i++)
		fprintf(f, "  { id = \"%s\"; name = \"%s\"; model = \"%s\"; }%s\n", models[i], models[i],
			models[i], i + 1 < teams ? "," : "");
	fprintf(f, " );\n criteria = ( { id = \"users\"; plugin = \"votes\"; kind = \"score\"; points = 25.0;\n"
		   "  params = { method = \"pairwise\"; battles = \"%s\"; bootstrap = %ld; }; } );\n"
		   " selection = { advance = %d; }; };\n", file, bootstrap, teams);
	fclose(f);
	return path;
}

static double round_num(const struct kv_run *run, const char *key)
{
	const struct kv_evidence_item *it = kv_evidence_get(&run->results[0].evidence, key);
	return it && it->is_num ? it->num : -1;
}

static void print_round(const struct kv_run *run, int teams)
{
	static const char *const keys[] = {"battles_read", "ballots_counted", "excluded_duplicate",
					   "judges", "iterations", "bootstrap_rounds"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("  %-20s %.0f\n", keys[i], round_num(run, keys[i]));
	for (int i = 0; i < teams; i++) {
		const struct kv_team_outcome *o = kv_run_outcome(run, "users", models[i]);
		const struct kv_evidence_item *e = kv_evidence_get(&o->evidence, "elo");
		const struct kv_evidence_item *lo = kv_evidence_get(&o->evidence, "elo_q025");
		const struct kv_evidence_item *hi = kv_evidence_get(&o->evidence, "elo_q975");
		printf("  %-14s normalized %.6f  elo %.3f [%.3f, %.3f]\n", models[i], o->normalized,
		       e ? e->num : 0, lo ? lo->num : 0, hi ? hi->num : 0);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: votes_bench BATTLES.jsonl [models (8)] [bootstrap rounds (1000)]\n");
		return 2;
	}
	int teams = argc > 2 ? atoi(argv[2]) : 8;
	long bootstrap = argc > 3 ? atol(argv[3]) : 1000;
	if (teams < 2 || teams > 12) {
		fprintf(stderr, "votes_bench: models must be 2..12\n");
		return 2;
	}
	char *copy = kv_xstrdup(argv[1]), *copy2 = kv_xstrdup(argv[1]);
	char *cfg = write_config(dirname(copy), basename(copy2), teams, bootstrap);
	kv_register_builtin(&kaieval_plugin_votes);
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	double t0 = now(), c0 = cpu_seconds(), steal0 = host_steal_seconds();
	int rc = kv_run_round(cfg, NULL, 0, &run, &err);
	double wall = now() - t0, cpu = cpu_seconds() - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (rc) {
		fprintf(stderr, "votes_bench: %s\n", err.msg);
		free(cfg);
		free(copy);
		free(copy2);
		return rc;
	}
	printf("votes criterion (parse, dedup, fit, %ld bootstrap rounds) on %s\n", bootstrap, argv[1]);
	printf("  wall %.3f s   cpu %.3f s   peak RSS %.1f MB\n", wall, cpu, (double)ru.ru_maxrss / 1024.0);
	print_host_steal(steal0, wall);
	print_round(run, teams);
	kv_run_free(run);
	char hex[65];
	uint64_t bytes = 0;
	t0 = now();
	kv_sha256_file(argv[1], hex, &bytes);
	printf("host floor: reading + SHA-256 of %.2f GB on one thread: %.3f s\n", (double)bytes / 1e9, now() - t0);
	free(cfg);
	free(copy);
	free(copy2);
	return 0;
}

/* fp_bench: how fast `kaieval fingerprint` reads a model (not a test).
 *
 *   fp_bench MODEL_DIR [REPEATS]
 *
 * MODEL_DIR is a bf16 model from gen_model (under /tmp).  The files are read
 * once to put them in the page cache; then, best of REPEATS (default 3):
 *   - the kernels alone on the first shard's mapped data, per vector level:
 *     moments (bf16 -> f32 -> double sums), XXH3-128 units (the content
 *     hash of versions 3 and 4, the default), BLAKE3 pieces (version 2) and the
 *     SHA-256 tree leaves (version 1);
 *   - the whole fingerprint (kv_fp_scan_dir) with each hash, with 1 thread
 *     and with one per CPU: wall-clock GB/s, and GB/s per CPU-second (user +
 *     system).
 * GB = 10^9 bytes.  On a busy machine wall-clock figures drop; the per
 * CPU-second figures show what each core does.  Last, the share of CPU
 * time the hypervisor gave to other guests during the whole run. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blake3.h"
#include "xxh128.h"
#include "fingerprint.h"
#include "moments.h"
#include "simd.h"
#include "treehash.h"
#include "../hoststeal.h"

static double now(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
	       (double)u.ru_stime.tv_usec * 1e-6;
}

static const uint8_t *map_shard(const char *dir, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/model-00001-of-%05d.safetensors", dir, 1);
	int fd = open(path, O_RDONLY);
	for (int n = 2; fd < 0 && n < 100; n++) {
		snprintf(path, sizeof path, "%s/model-00001-of-%05d.safetensors", dir, n);
		fd = open(path, O_RDONLY);
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "fp_bench: no model-00001-of-N.safetensors in %s\n", dir);
		exit(2);
	}
	*len = (size_t)st.st_size;
	void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* Moments over the buffer in 256 KiB units, as the scan does. */
static double bench_moments(enum kv_simd level, const uint8_t *p, size_t len, int repeats)
{
	double best = 1e30;
	for (int r = 0; r < repeats; r++) {
		struct kv_moments acc, part;
		kv_moments_init(&acc);
		double t0 = now(CLOCK_THREAD_CPUTIME_ID);
		for (size_t off = 0; off + KV_MOM_UNIT <= len; off += KV_MOM_UNIT) {
			kv_moments_unit(level, KV_FK_BF16, p + off, KV_MOM_UNIT / 2, &part);
			kv_moments_add(&acc, &part);
		}
		double t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
		best = t < best ? t : best;
		if (acc.finite == 0)
			fputs("", stderr);
	}
	return (double)(len / KV_MOM_UNIT * KV_MOM_UNIT) / best / 1e9;
}

static double bench_leaves(enum kv_simd level, const uint8_t *p, size_t len, int repeats)
{
	size_t leaves = len / KV_TH_LEAF / 16 * 16;
	uint8_t *d = malloc(32 * leaves);
	double best = 1e30;
	for (int r = 0; r < repeats; r++) {
		double t0 = now(CLOCK_THREAD_CPUTIME_ID);
		if (kv_th_leaves(level, p, leaves, d))
			exit(3);
		double t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
		best = t < best ? t : best;
	}
	free(d);
	return (double)(leaves * KV_TH_LEAF) / best / 1e9;
}

static double bench_blake3(enum kv_simd level, const uint8_t *p, size_t len, int repeats)
{
	size_t pieces = len / KV_B3_PIECE;
	uint8_t cv[32];
	double best = 1e30;
	for (int r = 0; r < repeats; r++) {
		double t0 = now(CLOCK_THREAD_CPUTIME_ID);
		for (size_t i = 0; i < pieces; i++)
			kv_b3_piece(level, p + i * KV_B3_PIECE, KV_B3_PIECE, i, 0, cv);
		double t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
		best = t < best ? t : best;
	}
	return (double)(pieces * KV_B3_PIECE) / best / 1e9;
}

static double bench_xxh128(enum kv_simd level, const uint8_t *p, size_t len, int repeats)
{
	size_t units = len / KV_XX_UNIT;
	uint8_t d[KV_XX_DIGEST];
	double best = 1e30;
	for (int r = 0; r < repeats; r++) {
		double t0 = now(CLOCK_THREAD_CPUTIME_ID);
		for (size_t i = 0; i < units; i++)
			kv_xx_unit(level, p + i * KV_XX_UNIT, KV_XX_UNIT, d);
		double t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
		best = t < best ? t : best;
	}
	return (double)(units * KV_XX_UNIT) / best / 1e9;
}

static void bench_scan(const char *dir, enum kv_ts_hash hash, unsigned threads, int repeats, uint64_t *bytes)
{
	double best_wall = 1e30, best_cpu = 1e30;
	for (int r = 0; r < repeats; r++) {
		struct kv_fp_options o = {.threads = threads, .hash = hash, .sample_size = 4096};
		struct kv_fp fp;
		struct kv_error err = {0};
		double w0 = now(CLOCK_MONOTONIC), c0 = cpu_seconds();
		if (kv_fp_scan_dir(dir, &o, &fp, &err)) {
			fprintf(stderr, "fp_bench: %s\n", err.msg);
			exit(2);
		}
		double w = now(CLOCK_MONOTONIC) - w0, c = cpu_seconds() - c0;
		*bytes = 0;
		for (size_t i = 0; i < fp.shard_count; i++)
			*bytes += fp.shards[i].bytes;
		kv_fp_free(&fp);
		best_wall = w < best_wall ? w : best_wall;
		best_cpu = c < best_cpu ? c : best_cpu;
	}
	printf("fingerprint %-14s %u thread%s: %.2f GB/s wall, %.2f GB per CPU-second (%.2f s, %.2f CPU-s)\n",
	       kv_fp_hash_name(hash), threads, threads == 1 ? ", " : "s,", (double)*bytes / best_wall / 1e9, (double)*bytes / best_cpu / 1e9,
	       best_wall, best_cpu);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: fp_bench MODEL_DIR [REPEATS]\n", stderr);
		return 2;
	}
	int repeats = argc > 2 ? atoi(argv[2]) : 3;
	repeats = repeats < 1 ? 1 : repeats;
	double start = now(CLOCK_MONOTONIC), steal0 = host_steal_seconds();
	enum kv_simd top = kv_simd_detect();
	size_t len;
	const uint8_t *p = map_shard(argv[1], &len);
	printf("first shard: %.2f GB mapped; best vector level here: %s\n", (double)len / 1e9, kv_simd_name(top));
	for (int l = (int)top; l >= 0; l--)
		printf("moments %-6s: %6.2f GB/s per core\n", kv_simd_name((enum kv_simd)l),
		       bench_moments((enum kv_simd)l, p, len, repeats));
	for (int l = (int)top; l >= 0; l--)
		printf("xxh128 units %-6s: %6.2f GB/s per core\n", kv_simd_name((enum kv_simd)l),
		       bench_xxh128((enum kv_simd)l, p, len, repeats));
	for (int l = (int)top; l >= 0; l--)
		printf("blake3 pieces %-6s: %6.2f GB/s per core\n", kv_simd_name((enum kv_simd)l),
		       bench_blake3((enum kv_simd)l, p, len, repeats));
	for (int l = (int)top; l >= 0; l -= l == KV_SIMD_AVX512 ? 2 : 1)
		printf("sha256 tree leaves %-6s: %6.2f GB/s per core\n",
		       l == KV_SIMD_AVX512 ? "avx512" : "openssl", bench_leaves((enum kv_simd)l, p, len, repeats));
	munmap((void *)p, len);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t bytes = 0;
	for (int h = 0; h < KV_TS_HASHES; h++) {
		bench_scan(argv[1], (enum kv_ts_hash)h, 1, repeats, &bytes);
		if (cpus > 1)
			bench_scan(argv[1], (enum kv_ts_hash)h, (unsigned)cpus, repeats, &bytes);
	}
	printf("model: %.2f GB\n", (double)bytes / 1e9);
	print_host_steal(steal0, now(CLOCK_MONOTONIC) - start);
	return 0;
}

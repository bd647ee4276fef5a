/* `kaieval fingerprint` and its parts: BLAKE3 against its published vectors
 * and a reference algorithm, the SHA-256 tree against its written definition, the moments against independent sums, the same bytes at every
 * vector level and thread count, the sample positions, shards and merge,
 * and hostile files (each must exit 2 naming the file and the tensor).
 * Models are small safetensors files written here. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "blake3.h"
#include "xxh128.h"
#include "fpsample.h"
#include "moments.h"
#include "safetensors.h"
#include "support.h"
#include "tensorscan.h"
#include "test_forensics_util.h"
#include "treehash.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path_in(const char *dir, const char *rel)
{
	return kv_xasprintf("%s/%s", dir, rel);
}

/* The fingerprint file's JSON; the caller deletes it. */
static cJSON *load_json(const char *path)
{
	char *text = kvt_read(path);
	cr_assert_not_null(text, "no %s", path);
	cJSON *j = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(j, "%s is not JSON", path);
	return j;
}

static const cJSON *tensor_named(const cJSON *fp, const char *name)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(fp, "tensors"))
		if (strcmp(cJSON_GetObjectItem(t, "name")->valuestring, name) == 0)
			return t;
	return NULL;
}

/* --- the hash ------------------------------------------------------------------ */

Test(forensics, tree_hash_matches_its_definition_at_every_level)
{
	/* Sizes around the leaf (16384) and the 16-leaf group of the AVX-512 path. */
	static const size_t sizes[] = {0, 1, 100, 16383, 16384, 16385, 16 * 16384, 16 * 16384 + 7,
				       33 * 16384, 40 * 16384 + 1};
	size_t max = 40 * 16384 + 1;
	uint8_t *p = kv_xmalloc(max);
	struct syn_rng r = {.s = 0x1234567};
	for (size_t i = 0; i < max; i++)
		p[i] = (uint8_t)(syn_uniform(&r) * 256);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		char want[65], got[65];
		syn_tree_hash(p, sizes[s], want);
		for (int level = KV_SIMD_SCALAR; level <= KV_SIMD_AVX512; level++) {
			uint8_t d[32];
			if (level > (int)kv_simd_detect())
				continue;
			cr_assert_eq(kv_th_hash((enum kv_simd)level, p, sizes[s], d), 0);
			for (int i = 0; i < 32; i++)
				snprintf(got + 2 * i, 3, "%02x", d[i]);
			cr_assert_str_eq(got, want, "size %zu, level %s", sizes[s], kv_simd_name((enum kv_simd)level));
		}
	}
	/* One byte changed anywhere changes the hash. */
	char a[65], b[65];
	syn_tree_hash(p, 33 * 16384, a);
	p[20 * 16384 + 5] ^= 1;
	syn_tree_hash(p, 33 * 16384, b);
	cr_assert_str_neq(a, b);
	free(p);
}

/* BLAKE3's published test vectors (github.com/BLAKE3-team/BLAKE3,
 * test_vectors/test_vectors.json, CC0-1.0 / Apache-2.0): the input is bytes
 * 0, 1, ..., 250, 0, 1, ... of each length; the first 32 bytes of "hash". */
static const struct {
	size_t len;
	const char *hash;
} b3_vectors[] = {
	{0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
	{1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
	{1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
	{1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
	{1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
	{2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
	{2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
	{3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
	{3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
	{4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
	{4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
	{5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
	{5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
	{6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
	{6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
	{7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
	{7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
	{8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
	{8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
	{16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
	{31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
	{102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
};

static void kv_blake3_hex(enum kv_simd level, const uint8_t *p, size_t n, char hex[65])
{
	uint8_t d[32];
	cr_assert_eq(kv_blake3(level, p, n, d), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

Test(forensics, blake3_matches_the_published_vectors_at_every_level)
{
	uint8_t *p = kv_xmalloc(102400);
	for (size_t i = 0; i < 102400; i++)
		p[i] = (uint8_t)(i % 251);
	for (size_t v = 0; v < sizeof b3_vectors / sizeof b3_vectors[0]; v++) {
		char got[65];
		syn_blake3(p, b3_vectors[v].len, got);
		cr_assert_str_eq(got, b3_vectors[v].hash, "the test's reference, length %zu", b3_vectors[v].len);
		for (int level = KV_SIMD_SCALAR; level <= (int)kv_simd_detect(); level++) {
			kv_blake3_hex((enum kv_simd)level, p, b3_vectors[v].len, got);
			cr_assert_str_eq(got, b3_vectors[v].hash, "length %zu, level %s", b3_vectors[v].len,
					 kv_simd_name((enum kv_simd)level));
		}
	}
	free(p);
}

/* XXH3-128 as the xxHash project's own `xxh128sum` (Debian package xxhash
 * 0.8.1) prints it for bytes 0, 1, ..., 250, 0, 1, ... of each length, and
 * the version 3 tree of longer inputs, computed with xxh128sum from its
 * definition in kaieval-fingerprint(1): the units and the root input were
 * cut and assembled by a script, each hashed by xxh128sum. */
static const struct {
	size_t len;
	const char *hash;
} xxh128_vectors[] = {
	{0, "99aa06d3014798d86001c324468d497f"},
	{1, "a6cd5e9392000f6ac44bdff4074eecdb"},
	{3, "e3b55f57945a17cf5f4299fc161c9cbb"},
	{4, "eb70bf5fc779e9e6a6111d53e80a3db5"},
	{8, "e1e4432a62217fe4cfd50c61c8bb98c1"},
	{9, "16c769d83e4aebce907931979dca3746"},
	{16, "72950631827607e2842812cc870dcae2"},
	{17, "685bc458b37d057fc06e233df7729217"},
	{128, "14792fc3af88dc6c05321a0b64d67b41"},
	{129, "dd5e74ac6b45f54ebc30b63382b09a3b"},
	{240, "65b5be86da5540e7c92b68e16f83bbb6"},
	{241, "1da1cb61bcb8a2a102e8cd95421c6d02"},
	{1024, "d0ac1f7b93bf57b9e5d78bafa45b2aa5"},
	{1025, "2882ebca04ec915ce95c42288f28186e"},
	{102400, "ecd387d36185351b1428e17f1cac2837"},
	{262144, "31484f410b9d97b719e33139f5534930"},
	/* Trees: one unit and a byte, two units, three units and 4100 bytes. */
	{262145, "a8be7552e9206c45a000a8380439cdf6"},
	{524288, "7f8a7bc996f619df92485c3867cfcee2"},
	{790532, "785f36f221be6f022ac7097b3056f6ed"},
};

Test(forensics, xxh128_tree_matches_xxh128sum_at_every_level)
{
	size_t max = 790532;
	uint8_t *p = kv_xmalloc(max), d[KV_XX_DIGEST];
	for (size_t i = 0; i < max; i++)
		p[i] = (uint8_t)(i % 251);
	for (size_t v = 0; v < sizeof xxh128_vectors / sizeof xxh128_vectors[0]; v++) {
		char got[33];
		syn_xxh128_tree(p, xxh128_vectors[v].len, got);
		cr_assert_str_eq(got, xxh128_vectors[v].hash, "the test's reference, length %zu", xxh128_vectors[v].len);
		for (int level = KV_SIMD_SCALAR; level <= (int)kv_simd_detect(); level++) {
			cr_assert_eq(kv_xx_hash((enum kv_simd)level, p, xxh128_vectors[v].len, d), 0);
			for (unsigned i = 0; i < KV_XX_DIGEST; i++)
				snprintf(got + 2 * i, 3, "%02x", d[i]);
			cr_assert_str_eq(got, xxh128_vectors[v].hash, "length %zu, level %s", xxh128_vectors[v].len,
					 kv_simd_name((enum kv_simd)level));
		}
	}
	free(p);
}

Test(forensics, blake3_pieces_make_the_whole_tree)
{
	/* Around a piece (256 KiB) and the 16-chunk group of the AVX-512 path,
	 * and 2, 3, 5 and 8 pieces: the root over pieces must be BLAKE3's tree,
	 * which the reference computes chunk by chunk. */
	static const size_t sizes[] = {16 * 1024, 17 * 1024 - 1, 33 * 1024 + 5, KV_B3_PIECE - 1, KV_B3_PIECE,
				       KV_B3_PIECE + 1, 2 * KV_B3_PIECE, 3 * KV_B3_PIECE - 64,
				       5 * KV_B3_PIECE + 1023, 8 * KV_B3_PIECE};
	size_t max = 8 * KV_B3_PIECE;
	uint8_t *p = kv_xmalloc(max);
	struct syn_rng r = {.s = 0xb1a4e3};
	for (size_t i = 0; i < max; i++)
		p[i] = (uint8_t)(syn_uniform(&r) * 256);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		char want[65], got[65];
		syn_blake3(p, sizes[s], want);
		for (int level = KV_SIMD_SCALAR; level <= (int)kv_simd_detect(); level++) {
			kv_blake3_hex((enum kv_simd)level, p, sizes[s], got);
			cr_assert_str_eq(got, want, "size %zu, level %s", sizes[s], kv_simd_name((enum kv_simd)level));
		}
	}
	char a[65], b[65];
	kv_blake3_hex(kv_simd_detect(), p, 5 * KV_B3_PIECE, a);
	p[3 * KV_B3_PIECE + 77] ^= 0x10;
	kv_blake3_hex(kv_simd_detect(), p, 5 * KV_B3_PIECE, b);
	cr_assert_str_neq(a, b, "one bit changed must change the hash");
	free(p);
}

/* --- moments --------------------------------------------------------------------- */

static void moments_of(enum kv_simd level, enum kv_float_kind kind, const uint8_t *p, size_t n,
		       struct kv_moments *m)
{
	struct kv_moments part;
	size_t size = kv_float_size(kind), per = KV_MOM_UNIT / size;
	kv_moments_init(m);
	for (size_t at = 0; at < n; at += per) {
		kv_moments_unit(level, kind, p + at * size, n - at < per ? n - at : per, &part);
		kv_moments_add(m, &part);
	}
}

Test(forensics, moments_are_exact_on_exact_data)
{
	/* k/8 for k = -100..100 is exact in bf16 (at most 7 significant bits):
	 * sum 0; sum of squares 2 * (1^2 + ... + 100^2) / 64 = 2 * 338350 / 64. */
	float v[201];
	for (int k = -100; k <= 100; k++)
		v[k + 100] = (float)k / 8;
	uint8_t *b = syn_bf16_bytes(v, 201);
	for (int level = 0; level <= (int)kv_simd_detect(); level++) {
		struct kv_moments m;
		moments_of((enum kv_simd)level, KV_FK_BF16, b, 201, &m);
		cr_assert_eq(m.finite, 201);
		cr_assert_eq(m.sum, 0.0);
		cr_assert_eq(m.sumsq, 2.0 * 338350 / 64);
		cr_assert_eq(m.min, -12.5f);
		cr_assert_eq(m.max, 12.5f);
	}
	free(b);
}

Test(forensics, moments_same_bytes_at_every_level_and_close_to_long_double)
{
	/* 3 units and a ragged tail, with an Inf, a NaN and a -0 among them. */
	size_t n = 3 * KV_MOM_UNIT / 2 + 37;
	float *v = kv_xmalloc(n * sizeof *v);
	struct syn_rng r = {.s = 99};
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(syn_gauss(&r) * 0.02 + 0.001);
	v[5] = INFINITY;
	v[70000] = NAN;
	v[80000] = -0.0f;
	uint8_t *b = syn_bf16_bytes(v, n);
	long double sum = 0, sq = 0;
	for (size_t i = 0; i < n; i++) {
		float x = syn_from_bf16((uint16_t)(b[2 * i] | b[2 * i + 1] << 8));
		if (isfinite(x)) {
			sum += x;
			sq += (long double)x * x;
		}
	}
	struct kv_moments ref;
	moments_of(KV_SIMD_SCALAR, KV_FK_BF16, b, n, &ref);
	cr_assert_eq(ref.nonfinite, 2);
	cr_assert_eq(ref.finite, n - 2);
	cr_assert(fabsl(ref.sum - sum) < 1e-12L * sqrtl(sq * n), "%g vs %Lg", ref.sum, sum);
	cr_assert(fabsl(ref.sumsq - sq) < 1e-12L * sq);
	for (int level = 1; level <= (int)kv_simd_detect(); level++) {
		struct kv_moments m;
		moments_of((enum kv_simd)level, KV_FK_BF16, b, n, &m);
		cr_assert(memcmp(&m, &ref, sizeof m) == 0, "level %d differs from scalar", level);
	}
	free(b);
	free(v);
}

Test(forensics, f16_and_f32_read_exactly)
{
	/* 1.0 = 0x3c00, -2.5 = 0xc100, 2^-24 = 0x0001 (smallest subnormal),
	 * 65504 = 0x7bff (largest), 0x0200 = 2^-15 (subnormal). */
	const uint8_t h[] = {0x00, 0x3c, 0x00, 0xc1, 0x01, 0x00, 0xff, 0x7b, 0x00, 0x02};
	cr_assert_eq(kv_float_at(KV_FK_F16, h, 0), 1.0f);
	cr_assert_eq(kv_float_at(KV_FK_F16, h, 1), -2.5f);
	cr_assert_eq(kv_float_at(KV_FK_F16, h, 2), 0x1p-24f);
	cr_assert_eq(kv_float_at(KV_FK_F16, h, 3), 65504.0f);
	cr_assert_eq(kv_float_at(KV_FK_F16, h, 4), 0x1p-15f);
	/* F16 through every kernel: 1 - 2.5 + 2^-24 + 65504 + 2^-15, in lane order. */
	uint8_t many[64 * 2];
	for (int i = 0; i < 64; i++)
		memcpy(many + 2 * i, h + 2 * (i % 5), 2);
	struct kv_moments ref, m;
	moments_of(KV_SIMD_SCALAR, KV_FK_F16, many, 64, &ref);
	cr_assert_eq(ref.min, -2.5f);
	cr_assert_eq(ref.max, 65504.0f);
	for (int level = 1; level <= (int)kv_simd_detect(); level++) {
		moments_of((enum kv_simd)level, KV_FK_F16, many, 64, &m);
		cr_assert(memcmp(&m, &ref, sizeof m) == 0, "level %d", level);
	}
}

/* --- sample positions ------------------------------------------------------------- */

Test(forensics, sample_positions)
{
	const uint64_t a[2] = {256, 512}, b[2] = {512, 256};
	uint64_t ka = kv_fp_shape_key(2, a), kb = kv_fp_shape_key(2, b), n = 256 * 512;
	cr_assert_neq(ka, kb);
	cr_assert_eq(kv_fp_sample_count(100, 4096), 100);
	cr_assert_eq(kv_fp_sample_count(n, 4096), 4096);
	cr_assert_eq(kv_fp_position(ka, 7, 100, 4096), 7);  /* small tensors keep every value */
	double mean = 0;
	size_t differ = 0;
	for (uint64_t j = 0; j < 4096; j++) {
		uint64_t p = kv_fp_position(ka, j, n, 4096);
		cr_assert_lt(p, n);
		cr_assert_eq(p, kv_fp_position(ka, j, n, 4096));
		differ += p != kv_fp_position(kb, j, n, 4096);
		mean += (double)p / (double)n / 4096;
	}
	/* Uniform positions: mean 0.5 with sd 1/sqrt(12 * 4096) = 0.0045. */
	cr_assert(fabs(mean - 0.5) < 0.03, "mean %g", mean);
	cr_assert_gt(differ, 4000);
}

/* --- the command --------------------------------------------------------------------- */

#define ROWS 64
#define COLS 96

/* A model folder with a bf16 matrix, an f32 vector, an all-ones norm, an
 * int64 buffer and an empty tensor: its values are returned in *w. */
static void write_small_model(const char *dir, const char *file, float **w)
{
	size_t n = ROWS * COLS;
	struct syn_rng r = {.s = 42};
	*w = kv_xmalloc(n * sizeof **w);
	for (size_t i = 0; i < n; i++)
		(*w)[i] = (float)(syn_gauss(&r) * 0.05);
	uint8_t *bf = syn_bf16_bytes(*w, n);
	float vec[100], ones[64];
	for (int i = 0; i < 100; i++)
		vec[i] = (float)i / 4;
	for (int i = 0; i < 64; i++)
		ones[i] = 1;
	int64_t ids[10];
	for (int i = 0; i < 10; i++)
		ids[i] = i;
	struct syn_tensor t[] = {
		{"w", "BF16", 2, {ROWS, COLS}, bf, 2 * n},
		{"v", "F32", 1, {100}, (const uint8_t *)vec, sizeof vec},
		{"norm", "F32", 1, {64}, (const uint8_t *)ones, sizeof ones},
		{"ids", "I64", 1, {10}, (const uint8_t *)ids, sizeof ids},
		{"empty", "F16", 2, {0, 8}, NULL, 0},
	};
	char *p = path_in(dir, file);
	syn_write(p, t, 5);
	free(p);
	free(bf);
}

Test(forensics, fingerprint_records_hash_moments_and_sample)
{
	char *dir = kvt_tempdir(), *model = path_in(dir, "m"), *out = path_in(dir, "fp.json"), *err = NULL;
	float *w;
	kvt_write(dir, "m/.keep", "");
	write_small_model(model, "model.safetensors", &w);
	cr_assert_eq(syn_kaieval(&err, model, "-o", out, NULL), 0, "%s", err);
	cr_assert_str_eq(err, "", "stderr is not a terminal: no progress expected");
	cJSON *fp = load_json(out);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fp, "tensors")), 5);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fp, "complete")));
	cr_assert_eq(cJSON_GetObjectItem(fp, "version")->valueint, 4);
	cr_assert_str_eq(cJSON_GetObjectItem(fp, "content_hash")->valuestring, "xxh128-tree-v1");
	cr_assert_eq(cJSON_GetObjectItem(fp, "leaf_bytes")->valueint, 262144);
	/* The matrix: XXH3-128 of its bf16 bytes, sums of the rounded values. */
	const cJSON *t = tensor_named(fp, "w");
	uint8_t *bf = syn_bf16_bytes(w, ROWS * COLS);
	char hex[65];
	syn_xxh128_tree(bf, 2 * ROWS * COLS, hex);
	cr_assert_str_eq(cJSON_GetObjectItem(t, "hash")->valuestring, hex);
	double sum = 0, sq = 0;
	for (size_t i = 0; i < ROWS * COLS; i++) {
		double x = syn_from_bf16((uint16_t)(bf[2 * i] | bf[2 * i + 1] << 8));
		sum += x;
		sq += x * x;
	}
	cr_assert(fabs(cJSON_GetObjectItem(t, "sum")->valuedouble - sum) < 1e-9);
	cr_assert(fabs(cJSON_GetObjectItem(t, "sumsq")->valuedouble - sq) < 1e-9 * sq);
	cr_assert_eq(cJSON_GetObjectItem(t, "numel")->valuedouble, ROWS * COLS);
	/* 6144 elements > 4096: a sample of 4096 bf16 values = 8192 bytes of base64. */
	cr_assert_eq(strlen(cJSON_GetObjectItem(t, "sample")->valuestring), 4 * ((8192 + 2) / 3));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(t, "constant")));
	/* Vector 0, 0.25, ..., 24.75: sum 0.25 * 4950, sum of squares 0.0625 * 328350. */
	t = tensor_named(fp, "v");
	cr_assert_eq(cJSON_GetObjectItem(t, "sum")->valuedouble, 0.25 * 4950);
	cr_assert_eq(cJSON_GetObjectItem(t, "sumsq")->valuedouble, 0.0625 * 328350);
	cr_assert_eq(cJSON_GetObjectItem(t, "max")->valuedouble, 24.75);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(tensor_named(fp, "norm"), "constant")));
	/* The int64 buffer is hashed only; the empty tensor has no range. */
	t = tensor_named(fp, "ids");
	cr_assert_null(cJSON_GetObjectItem(t, "sum"));
	cr_assert_not_null(cJSON_GetObjectItem(t, "hash"));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(tensor_named(fp, "empty"), "min")));
	cJSON_Delete(fp);
	free(bf);
	free(w);
	free(err);
	kvt_rmtree(dir);
	free(dir);
	free(model);
	free(out);
}

/* A tensor of several 256 KiB units, the last one short, and an empty one:
 * the hash is the XXH3-128 tree of the bytes with any threads and vector
 * level; --hash blake3 makes a version 2 file with BLAKE3 of the bytes, and
 * --hash sha256-tree-v1 a version 1 file with the SHA-256 tree. */
Test(forensics, fingerprint_hashes_long_tensors_with_each_hash)
{
	char *dir = kvt_tempdir(), *model = path_in(dir, "m"), *p = path_in(dir, "m/model.safetensors");
	char *out = path_in(dir, "fp.json"), *err = NULL, hex[65];
	size_t n = (3 * KV_B3_PIECE + 4100) / 2;
	float *v = kv_xmalloc(n * sizeof *v);
	struct syn_rng r = {.s = 77};
	for (size_t i = 0; i < n; i++)
		v[i] = (float)syn_gauss(&r);
	uint8_t *bf = syn_bf16_bytes(v, n);
	struct syn_tensor t[] = {{"long", "BF16", 1, {n}, bf, 2 * n}, {"none", "F32", 1, {0}, NULL, 0}};
	kvt_write(dir, "m/.keep", "");
	syn_write(p, t, 2);
	static const char *const runs[][2] = {{"1", NULL}, {"2", NULL}, {"2", "scalar"}, {"1", "avx2"}};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if (runs[i][1])
			setenv("KAIEVAL_SIMD", runs[i][1], 1);
		cr_assert_eq(syn_kaieval(&err, model, "-o", out, "-j", runs[i][0], NULL), 0, "%s", err);
		unsetenv("KAIEVAL_SIMD");
		free(err);
		cJSON *fp = load_json(out);
		syn_xxh128_tree(bf, 2 * n, hex);
		cr_assert_str_eq(cJSON_GetObjectItem(tensor_named(fp, "long"), "hash")->valuestring, hex, "run %zu", i);
		syn_xxh128_tree(NULL, 0, hex);
		cr_assert_str_eq(cJSON_GetObjectItem(tensor_named(fp, "none"), "hash")->valuestring, hex);
		cJSON_Delete(fp);
	}
	cr_assert_eq(syn_kaieval(&err, model, "-o", out, "--hash", "blake3", "-j", "2", NULL), 0, "%s", err);
	free(err);
	cJSON *fp = load_json(out);
	cr_assert_eq(cJSON_GetObjectItem(fp, "version")->valueint, 2);
	cr_assert_str_eq(cJSON_GetObjectItem(fp, "content_hash")->valuestring, "blake3");
	cr_assert_null(cJSON_GetObjectItem(fp, "leaf_bytes"));
	syn_blake3(bf, 2 * n, hex);
	cr_assert_str_eq(cJSON_GetObjectItem(tensor_named(fp, "long"), "hash")->valuestring, hex);
	syn_blake3(NULL, 0, hex);
	cr_assert_str_eq(cJSON_GetObjectItem(tensor_named(fp, "none"), "hash")->valuestring, hex);
	cJSON_Delete(fp);
	cr_assert_eq(syn_kaieval(&err, model, "-o", out, "--hash", "sha256-tree-v1", NULL), 0, "%s", err);
	free(err);
	fp = load_json(out);
	cr_assert_eq(cJSON_GetObjectItem(fp, "version")->valueint, 1);
	cr_assert_str_eq(cJSON_GetObjectItem(fp, "content_hash")->valuestring, "sha256-tree-v1");
	cr_assert_eq(cJSON_GetObjectItem(fp, "leaf_bytes")->valueint, 16384);
	syn_tree_hash(bf, 2 * n, hex);
	cr_assert_str_eq(cJSON_GetObjectItem(tensor_named(fp, "long"), "hash")->valuestring, hex);
	cJSON_Delete(fp);
	cr_assert_eq(syn_kaieval(&err, model, "-o", out, "--hash", "md5", NULL), 2);
	cr_assert(strstr(err, "--hash wants xxh128-tree-v1, blake3 or sha256-tree-v1, not 'md5'"), "%s", err);
	free(err);
	free(bf);
	free(v);
	kvt_rmtree(dir);
	free(dir);
	free(model);
	free(p);
	free(out);
}

Test(forensics, same_bytes_whatever_threads_and_vector_level)
{
	char *dir = kvt_tempdir(), *model = path_in(dir, "m"), *a = path_in(dir, "a.json");
	char *b = path_in(dir, "b.json"), *c = path_in(dir, "c.json");
	float *w;
	kvt_write(dir, "m/.keep", "");
	write_small_model(model, "model.safetensors", &w);
	cr_assert_eq(syn_kaieval(NULL, model, "-o", a, "-j", "1", NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, model, "-o", b, "-j", "2", NULL), 0);
	setenv("KAIEVAL_SIMD", "scalar", 1);
	cr_assert_eq(syn_kaieval(NULL, model, "-o", c, "-j", "3", NULL), 0);
	unsetenv("KAIEVAL_SIMD");
	char *ta = kvt_read(a), *tb = kvt_read(b), *tc = kvt_read(c);
	cr_assert_str_eq(ta, tb);
	cr_assert_str_eq(ta, tc);
	free(ta);
	free(tb);
	free(tc);
	free(w);
	kvt_rmtree(dir);
	free(dir);
	free(model);
	free(a);
	free(b);
	free(c);
}

/* Two shards and their index. */
static void write_sharded(const char *model)
{
	float *w;
	write_small_model(model, "model-00001-of-00002.safetensors", &w);
	free(w);
	float x[300];
	for (int i = 0; i < 300; i++)
		x[i] = (float)(i % 17) - 8;
	struct syn_tensor t[] = {{"x", "F32", 2, {3, 100}, (const uint8_t *)x, sizeof x}};
	char *p = path_in(model, "model-00002-of-00002.safetensors");
	syn_write(p, t, 1);
	free(p);
	const char *index = "{\"metadata\": {\"total_size\": 1},\n \"weight_map\": {\"w\": \"model-00001-of-00002.safetensors\", "
			    "\"v\": \"model-00001-of-00002.safetensors\", \"norm\": \"model-00001-of-00002.safetensors\", "
			    "\"ids\": \"model-00001-of-00002.safetensors\", \"empty\": \"model-00001-of-00002.safetensors\", "
			    "\"x\": \"model-00002-of-00002.safetensors\"}}\n";
	p = path_in(model, "model.safetensors.index.json");
	FILE *f = fopen(p, "w");
	fputs(index, f);
	fclose(f);
	free(p);
}

Test(forensics, shards_fingerprinted_apart_merge_to_the_whole)
{
	char *dir = kvt_tempdir(), *m = path_in(dir, "m"), *whole = path_in(dir, "whole.json");
	char *s1 = path_in(m, "model-00001-of-00002.safetensors"), *s2 = path_in(m, "model-00002-of-00002.safetensors");
	char *idx = path_in(m, "model.safetensors.index.json"), *p1 = path_in(dir, "p1.json");
	char *p2 = path_in(dir, "p2.json"), *merged = path_in(dir, "merged.json"), *err = NULL;
	kvt_write(dir, "m/.keep", "");
	write_sharded(m);
	cr_assert_eq(syn_kaieval(NULL, m, "-o", whole, NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "--shard", s2, "--index", idx, "-o", p2, NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "--shard", s1, "--index", idx, "-o", p1, NULL), 0);
	cr_assert_eq(syn_kaieval(NULL, "--merge", p2, p1, "-o", merged, NULL), 0);
	char *a = kvt_read(whole), *b = kvt_read(merged), *c = kvt_read(p1);
	cr_assert_str_eq(a, b);
	cr_assert(strstr(a, "\"complete\": true") && strstr(c, "\"complete\": false"));
	/* One part alone merges, marked incomplete, with a note. */
	cr_assert_eq(syn_kaieval(&err, "--merge", p1, "-o", merged, NULL), 0);
	cr_assert(strstr(err, "1 of the index's 2 shards"), "%s", err);
	free(err);
	/* The same part twice is refused, naming the tensor. */
	cr_assert_eq(syn_kaieval(&err, "--merge", p1, p1, "-o", merged, NULL), 2);
	cr_assert(strstr(err, "appears in two parts") || strstr(err, "tensor"), "%s", err);
	free(err);
	free(a);
	free(b);
	free(c);
	char *list[] = {dir, m, whole, s1, s2, idx, p1, p2, merged};
	kvt_rmtree(dir);
	for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
		free(list[i]);
}

Test(forensics, index_must_match_the_shards)
{
	char *dir = kvt_tempdir(), *m = path_in(dir, "m"), *out = path_in(dir, "o.json"), *err = NULL;
	kvt_write(dir, "m/.keep", "");
	write_sharded(m);
	/* The index gives 'x' to shard 1, which does not hold it. */
	kvt_write(m, "model.safetensors.index.json",
		  "{\"weight_map\": {\"w\": \"model-00001-of-00002.safetensors\", \"v\": \"model-00001-of-00002.safetensors\", "
		  "\"norm\": \"model-00001-of-00002.safetensors\", \"ids\": \"model-00001-of-00002.safetensors\", "
		  "\"empty\": \"model-00001-of-00002.safetensors\", \"x\": \"model-00001-of-00002.safetensors\"}}");
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, NULL), 2);
	cr_assert(strstr(err, "model-00001-of-00002.safetensors") && strstr(err, "'x'"), "%s", err);
	free(err);
	/* A shard named by the index is missing. */
	kvt_write(m, "model.safetensors.index.json", "{\"weight_map\": {\"w\": \"model-00003-of-00003.safetensors\"}}");
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, NULL), 2);
	cr_assert(strstr(err, "model-00003-of-00003.safetensors"), "%s", err);
	cr_assert(!kvt_exists(out));
	free(err);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(out);
}

/* --- hostile files ------------------------------------------------------------------ */

/* good.safetensors beside bad.safetensors: exit 2, the message names the bad
 * file and holds the given words; nothing is written. */
static void expect_refused(uint64_t declared, const char *header, size_t data_len, const char *w1, const char *w2)
{
	char *dir = kvt_tempdir(), *m = path_in(dir, "m"), *out = path_in(dir, "o.json"), *err = NULL;
	float *w;
	kvt_write(dir, "m/.keep", "");
	write_small_model(m, "good.safetensors", &w);
	uint8_t *data = kv_xcalloc(data_len ? data_len : 1, 1);
	char *bad = path_in(m, "bad.safetensors");
	syn_write_raw(bad, declared, header, data, data_len);
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, NULL), 2, "accepted: %s", header);
	cr_assert(strstr(err, "bad.safetensors"), "no file name in: %s", err);
	cr_assert(strstr(err, w1), "'%s' not in: %s", w1, err);
	cr_assert(!w2 || strstr(err, w2), "'%s' not in: %s", w2, err);
	cr_assert(!kvt_exists(out));
	free(err);
	/* The same alone through --shard. */
	cr_assert_eq(syn_kaieval(&err, "--shard", bad, "-o", out, NULL), 2);
	cr_assert(strstr(err, "bad.safetensors") && strstr(err, w1), "%s", err);
	free(err);
	free(w);
	free(data);
	free(bad);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(out);
}

/* A model file cut short while its mapping is scanned: the lost pages raise
 * SIGBUS, which the scan must turn into an error naming the tensor, on the
 * threaded and on the one-thread path. */
static void expect_shrink_caught(unsigned threads)
{
	const char *h = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[1024,512],\"data_offsets\":[0,1048576]},"
			"\"b\":{\"dtype\":\"BF16\",\"shape\":[1024,512],\"data_offsets\":[1048576,2097152]}}";
	char *dir = kvt_tempdir(), *file = path_in(dir, "shrinking.safetensors");
	uint8_t *data = kv_xcalloc(2097152, 1);
	for (size_t i = 0; i < 2097152; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	syn_write_raw(file, strlen(h), h, data, 2097152);
	size_t size = 8 + strlen(h) + 2097152;
	int fd = open(file, O_RDWR);
	cr_assert_geq(fd, 0);
	const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	struct kv_st_header *hdr = NULL;
	char msg[512];
	cr_assert_eq(kv_st_parse_file(file, map, size, &hdr, msg, sizeof msg), 0, "%s", msg);
	cr_assert_eq(ftruncate(fd, (off_t)(8 + strlen(h) + 1048576 + 65536)), 0); /* b loses its pages */
	struct kv_ts_options o = {.threads = threads, .simd = kv_simd_detect(), .sample_size = 16};
	struct kv_ts_result *r = NULL;
	int rc = kv_ts_scan(hdr, map + 8 + hdr->header_len, &o, &r, msg, sizeof msg);
	cr_assert_eq(rc, -2, "threads %u: rc %d: %s", threads, rc, msg);
	cr_assert_null(r);
	cr_assert(strstr(msg, "tensor 'b'") && strstr(msg, "shrank"), "%s", msg);
	kv_st_free(hdr);
	munmap((void *)map, size);
	close(fd);
	free(data);
	kvt_rmtree(dir);
	free(dir);
	free(file);
}

Test(forensics, file_shrinking_during_the_scan_is_an_error_not_a_crash)
{
	expect_shrink_caught(2);
	expect_shrink_caught(1);
}

#define T_OK(name, dtype, shape, b, e) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" b "," e "]}"

Test(forensics, hostile_header_length_past_eof)
{
	const char *h = "{" T_OK("a", "U8", "[4]", "0", "4") "}";
	expect_refused(strlen(h) + 1000, h, 4, "runs past the end", NULL);
}

Test(forensics, hostile_huge_header_length)
{
	expect_refused(UINT64_MAX, "{}", 0, "exceeds the limit", NULL);
	expect_refused(100000001u, "{}", 0, "exceeds the limit", NULL);
}

Test(forensics, hostile_overlapping_offsets)
{
	const char *h = "{" T_OK("a", "F32", "[6]", "0", "24") "," T_OK("b", "F32", "[6]", "16", "40") "}";
	expect_refused(strlen(h), h, 40, "'b'", "overlapping");
}

Test(forensics, hostile_gapped_offsets)
{
	const char *h = "{" T_OK("a", "F32", "[6]", "0", "24") "," T_OK("b", "F32", "[6]", "28", "52") "}";
	expect_refused(strlen(h), h, 52, "'b'", "gap");
}

Test(forensics, hostile_numel_overflow)
{
	const char *h = "{" T_OK("w", "U8", "[4294967296,4294967296,16]", "0", "1") "}";
	expect_refused(strlen(h), h, 1, "'w'", "overflow");
	const char *h2 = "{" T_OK("w", "F32", "[1099511627776,4194304]", "0", "1") "}";
	expect_refused(strlen(h2), h2, 1, "'w'", "overflow");
}

Test(forensics, hostile_not_a_json_object)
{
	expect_refused(5, "[1,2]", 0, "not a JSON object", NULL);
	expect_refused(3, "{\"a", 0, "not valid JSON", NULL);
}

Test(forensics, hostile_duplicate_names)
{
	const char *h = "{" T_OK("a", "U8", "[4]", "0", "4") "," T_OK("a", "U8", "[4]", "4", "8") "}";
	expect_refused(strlen(h), h, 8, "'a'", "twice");
}

Test(forensics, hostile_unknown_dtype)
{
	const char *h = "{" T_OK("q", "F128", "[2]", "0", "32") "}";
	expect_refused(strlen(h), h, 32, "'q'", "unknown dtype");
}

Test(forensics, hostile_truncated_data)
{
	/* a holds [0, 24), b [24, 48): the file stops 10 bytes into b. */
	const char *h = "{" T_OK("a", "F32", "[6]", "0", "24") "," T_OK("b", "F32", "[6]", "24", "48") "}";
	expect_refused(strlen(h), h, 34, "truncated", "'b'");
}

Test(forensics, hostile_trailing_bytes)
{
	const char *h = "{" T_OK("a", "F32", "[6]", "0", "24") "}";
	expect_refused(strlen(h), h, 30, "not indexed", NULL);
}

Test(forensics, hostile_duplicate_across_files_and_short_file)
{
	char *dir = kvt_tempdir(), *m = path_in(dir, "m"), *out = path_in(dir, "o.json"), *err = NULL;
	float *w;
	kvt_write(dir, "m/.keep", "");
	write_small_model(m, "a.safetensors", &w);
	free(w);
	write_small_model(m, "b.safetensors", &w);
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, NULL), 2);
	cr_assert(strstr(err, "a.safetensors") && strstr(err, "b.safetensors") && strstr(err, "tensor '"), "%s", err);
	free(err);
	kvt_write(m, "b.safetensors", "abc");
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, NULL), 2);
	cr_assert(strstr(err, "b.safetensors") && strstr(err, "too short"), "%s", err);
	free(err);
	free(w);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(out);
}

/* --- bad fingerprints and bad usage ------------------------------------------------- */

Test(forensics, merge_refuses_bad_fingerprints)
{
	char *dir = kvt_tempdir(), *m = path_in(dir, "m"), *good = path_in(dir, "good.json");
	char *bad = path_in(dir, "bad.json"), *out = path_in(dir, "o.json"), *err = NULL;
	float *w;
	kvt_write(dir, "m/.keep", "");
	write_small_model(m, "model.safetensors", &w);
	cr_assert_eq(syn_kaieval(NULL, m, "-o", good, NULL), 0);
	char *text = kvt_read(good);
	static const char *const cases[][3] = {
		{"\"version\": 4", "\"version\": 5", "'version'"},
		{"\"version\": 4", "\"version\": 2", "'content_hash'"},
		{"\"version\": 4", "\"version\": 1", "'content_hash'"},
		{"\"invariants\": null", "\"invariants\": 1", "'invariants'"},
		{"\"content_hash\": \"xxh128-tree-v1\"", "\"content_hash\": \"blake3\"", "'content_hash'"},
		{"\"leaf_bytes\": 262144", "\"leaf_bytes\": 16384", "'content_hash'"},
		/* A 64-digit hash (versions 1 and 2) in a version 4 file. */
		{"\"hash\": \"", "\"hash\": \"00000000000000000000000000000000", "'hash'"},
		{"\"numel\": 6144", "\"numel\": 6145", "'numel'"},
		{"\"dtype\": \"BF16\"", "\"dtype\": \"BF17\"", "'dtype'"},
		{"\"sample\": \"", "\"sample\": \"!", "'sample'"},
		{"\"constant\": false", "\"constant\": 0", "'constant'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *at = strstr(text, cases[i][0]);
		cr_assert_not_null(at, "%s", cases[i][0]);
		char *edited = kv_xasprintf("%.*s%s%s", (int)(at - text), text, cases[i][1], at + strlen(cases[i][0]));
		kvt_write(dir, "bad.json", edited);
		cr_assert_eq(syn_kaieval(&err, "--merge", good, bad, "-o", out, NULL), 2, "%s", cases[i][1]);
		cr_assert(strstr(err, "bad.json") && strstr(err, cases[i][2]), "%s", err);
		free(err);
		free(edited);
	}
	kvt_write(dir, "bad.json", "[]");
	cr_assert_eq(syn_kaieval(&err, "--merge", bad, "-o", out, NULL), 2);
	cr_assert(strstr(err, "bad.json"), "%s", err);
	free(err);
	/* Parts made with different content hashes do not merge. */
	cr_assert_eq(syn_kaieval(NULL, m, "-o", bad, "--hash", "sha256-tree-v1", NULL), 0);
	cr_assert_eq(syn_kaieval(&err, "--merge", good, bad, "-o", out, NULL), 2);
	cr_assert(strstr(err, "bad.json: content hash sha256-tree-v1 differs from") && strstr(err, "xxh128-tree-v1"),
		  "%s", err);
	free(err);
	cr_assert_eq(syn_kaieval(&err, "--merge", bad, "-o", out, "--hash", "blake3", NULL), 2);
	free(err);
	cr_assert_eq(syn_kaieval(&err, m, NULL), 2);
	cr_assert(strstr(err, "-o"), "%s", err);
	free(err);
	cr_assert_eq(syn_kaieval(&err, m, "-o", out, "-j", "0", NULL), 2);
	free(err);
	free(text);
	free(w);
	kvt_rmtree(dir);
	free(dir);
	free(m);
	free(good);
	free(bad);
	free(out);
}

/* ---- the scanner is a program of its own ---------------------------------- */

/* 1 when the file at path holds the bytes of s (binaries hold NULs). */
static int file_holds(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	size_t cap = 1 << 20, len = 0, n;
	char *b = kv_xmalloc(cap);
	while ((n = fread(b + len, 1, cap - len, f)) > 0)
		if ((len += n) == cap)
			b = kv_xrealloc(b, cap *= 2);
	fclose(f);
	int found = memmem(b, len, s, strlen(s)) != NULL;
	free(b);
	return found;
}

/* The functions a program imports, as `nm -D --undefined-only` lists them. */
static char *imports_of(const char *path)
{
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execlp("nm", "nm", "-D", "--undefined-only", path, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	struct kv_buf b = {0};
	char chunk[4096];
	ssize_t n;
	kv_buf_puts(&b, "");
	while ((n = read(fd[0], chunk, sizeof chunk)) > 0)
		kv_buf_add(&b, chunk, (size_t)n);
	close(fd[0]);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nm failed on %s", path);
	return b.data;
}

/* Does nm's list name the function: "U mmap@GLIBC_2.2.5", or "U mmap"
 * where a sanitizer's runtime provides it unversioned? */
static int imports_name(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
		if (p > list && p[-1] == ' ' && (p[n] == '@' || p[n] == '\n'))
			return 1;
	return 0;
}

/* `kaieval` (run and every other command) imports none of the scanner's
 * functions (mapping files, its threads) and names none of its hashes;
 * kaieval-fingerprint, which it runs, has them all.  (kaieval does call
 * sigaction: a plugin's child process resets the crash signals.) */
Test(forensics, the_run_binary_holds_no_scanner)
{
	const char *bin = getenv("KAIEVAL_BIN"), *build = getenv("KAIEVAL_BUILDDIR");
	cr_assert(bin && build, "KAIEVAL_BIN and KAIEVAL_BUILDDIR are set by make check");
	char *scanner = kv_xasprintf("%s/kaieval-fingerprint", build);
	char *run_imports = imports_of(bin), *scan_imports = imports_of(scanner);
	static const char *const imports[] = {"mmap", "pthread_create"};
	for (size_t i = 0; i < sizeof imports / sizeof *imports; i++) {
		cr_expect_not(imports_name(run_imports, imports[i]), "%s imports '%s'", bin, imports[i]);
		cr_expect(imports_name(scan_imports, imports[i]), "%s lacks '%s'", scanner, imports[i]);
	}
	cr_expect_not(file_holds(bin, "xxh128-tree-v1"), "%s names the scanner's hash", bin);
	cr_expect(file_holds(scanner, "xxh128-tree-v1"));
	cr_expect(imports_name(scan_imports, "sigaction"), "the scanner guards against SIGBUS");
	free(run_imports);
	free(scan_imports);
	free(scanner);
}

/* A copy of the file at from, executable, at to. */
static void copy_program(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	cr_assert(in && out, "cannot copy %s to %s", from, to);
	char b[65536];
	size_t n;
	while ((n = fread(b, 1, sizeof b, in)) > 0)
		cr_assert_eq(fwrite(b, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(chmod(to, 0755), 0);
}

/* Away from the build tree, `kaieval fingerprint` runs the installed
 * scanner; when there is none it says which file it tried, exit status 3. */
Test(forensics, a_missing_scanner_is_named)
{
	char *dir = kvt_tempdir(), *copy = kv_xasprintf("%s/kaieval", dir);
	char *bin = kv_xstrdup(getenv("KAIEVAL_BIN"));
	copy_program(bin, copy);
	setenv("KAIEVAL_BIN", copy, 1);
	const char *args[] = {"fingerprint", NULL};
	char *err = NULL;
	int rc = kvt_exec(args, NULL, &err);
	setenv("KAIEVAL_BIN", bin, 1);
	if (rc == 2)
		cr_skip_test("a kaieval-fingerprint is installed: %s", err);
	cr_assert_eq(rc, 3, "%s", err);
	cr_assert(strstr(err, "kaieval: cannot run /") && strstr(err, "/kaieval-fingerprint: "), "%s", err);
	free(err);
	free(bin);
	free(copy);
	kvt_rmtree(dir);
	free(dir);
}

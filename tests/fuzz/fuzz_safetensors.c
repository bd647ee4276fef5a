/* libFuzzer harness for the safetensors reader behind `kaieval fingerprint`:
 * the strict header parser (lib/safetensors/safetensors.c) and the data scan
 * (fingerprint/tensorscan.c: tree hash, moments, samples).
 *
 * Each input is read three ways: as a whole safetensors file (header, size
 * check, then the scan of every tensor's data with one thread and a small
 * sample), as a model.safetensors.index.json, and, when both parse, the
 * header is checked against the index.  What must hold whatever the bytes:
 * a rejection has a message naming the file; an accepted header's tensors
 * lie inside the data; the scan's counts add up; the sanitizers see no bad
 * access.  Built with clang -fsanitize=fuzzer, or with safetensors_replay.c
 * as a plain program (see tests/fuzz/README-safetensors.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/fpformat/fpsample.h"
#include "../../lib/safetensors/safetensors.h"
#include "../../fingerprint/tensorscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "fuzz.safetensors"

static void check_scan(const struct kv_st_header *h, const uint8_t *bytes, enum kv_ts_hash hash)
{
	struct kv_ts_options o = {.threads = 1, .hash = hash, .simd = kv_simd_detect(), .sample_size = 64};
	struct kv_ts_result *r = NULL;
	char err[KV_ST_ERRLEN];
	if (kv_ts_scan(h, bytes + 8 + h->header_len, &o, &r, err, sizeof err) != 0)
		abort();  /* only out of memory could fail, and inputs are small */
	for (size_t i = 0; i < h->count; i++) {
		const struct kv_st_tensor *t = &h->tensors[i];
		if (r[i].kind == KV_FK_NONE)
			continue;
		if (r[i].moments.finite + r[i].moments.nonfinite != t->numel ||
		    r[i].sample_count != kv_fp_sample_count(t->numel, 64))
			abort();
		if (r[i].moments.finite && !(r[i].moments.min <= r[i].moments.max))
			abort();
	}
	kv_ts_free(r, h->count);
}

static void check_header(const struct kv_st_header *h, size_t size)
{
	uint64_t at = 0;
	for (size_t i = 0; i < h->count; i++) {
		const struct kv_st_tensor *t = &h->tensors[i];
		if (t->begin != at || t->end < t->begin || !t->name)
			abort();
		at = t->end;
	}
	if (at != h->data_len || 8 + h->header_len + h->data_len != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[KV_ST_ERRLEN] = "";
	struct kv_st_header *h = NULL;
	struct kv_st_index *idx = NULL;
	int rc = kv_st_parse_file(FILE_NAME, data, size, &h, err, sizeof err);
	if (rc == KV_ST_BAD && (h || !strstr(err, FILE_NAME)))
		abort();
	if (rc == KV_ST_OK) {
		check_header(h, size);
		check_scan(h, data, KV_TS_BLAKE3);
		check_scan(h, data, KV_TS_SHA256_TREE);
	}
	if (kv_st_parse_index("fuzz.index.json", (const char *)data, size, &idx, err, sizeof err) == KV_ST_OK) {
		if (!idx->count || !idx->shard_count)
			abort();
		if (h)
			kv_st_index_check_shard(idx, idx->shards[0], FILE_NAME, h, err, sizeof err);
	}
	kv_st_free_index(idx);
	kv_st_free(h);
	return 0;
}

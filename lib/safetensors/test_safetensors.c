/* The strict safetensors header reader (safetensors.c), fed hostile
 * bytes built here: every rejection must name the file and the tensor. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

#define FILE_NAME "m/model.safetensors"

/* A file: the 8-byte little-endian length `declared`, the header text, then
 * data_len bytes of data. */
static unsigned char *file_with(uint64_t declared, const char *header, size_t data_len, size_t *len)
{
	size_t n = strlen(header);
	*len = 8 + n + data_len;
	unsigned char *b = calloc(*len, 1);
	cr_assert_not_null(b);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(declared >> (8 * i));
	memcpy(b + 8, header, n);
	for (size_t i = 0; i < data_len; i++)
		b[8 + n + i] = (unsigned char)i;
	return b;
}

/* Parse a well-formed file: the true length, then data_len bytes. */
static int parse(const char *header, size_t data_len, struct kv_st_header **h, char *err)
{
	size_t len;
	unsigned char *b = file_with(strlen(header), header, data_len, &len);
	int rc = kv_st_parse_file(FILE_NAME, b, len, h, err, KV_ST_ERRLEN);
	free(b);
	return rc;
}

/* Expect a rejection whose message holds every one of the given words. */
static void rejects(const char *header, size_t data_len, const char *w1, const char *w2)
{
	struct kv_st_header *h = (void *)1;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse(header, data_len, &h, err), KV_ST_BAD, "accepted: %s", header);
	cr_assert_null(h);
	cr_assert(strstr(err, FILE_NAME), "no file name in: %s", err);
	cr_assert(strstr(err, w1), "'%s' not in: %s", w1, err);
	cr_assert(!w2 || strstr(err, w2), "'%s' not in: %s", w2, err);
}

Test(safetensors, reads_a_good_file)
{
	/* "b" is listed first but sits second: the reader sorts by offsets.
	 * a: F32 [2, 3] = 6 elements x 4 bytes = 24 bytes at [0, 24);
	 * b: BF16 [4] = 4 x 2 = 8 bytes at [24, 32); 32 data bytes in all. */
	const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},"
			  "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
			  "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse(hdr, 32, &h, err), KV_ST_OK, "%s", err);
	cr_assert_eq(h->count, 2);
	cr_assert_str_eq(h->tensors[0].name, "a");
	cr_assert_str_eq(h->tensors[0].dtype, "F32");
	cr_assert_eq(h->tensors[0].bits, 32);
	cr_assert_eq(h->tensors[0].rank, 2);
	cr_assert_eq(h->tensors[0].shape[0], 2);
	cr_assert_eq(h->tensors[0].shape[1], 3);
	cr_assert_eq(h->tensors[0].numel, 6);
	cr_assert_eq(h->tensors[0].end, 24);
	cr_assert_str_eq(h->tensors[1].name, "b");
	cr_assert_eq(h->tensors[1].numel, 4);
	cr_assert_eq(h->tensors[1].begin, 24);
	cr_assert_eq(h->data_len, 32);
	cr_assert_eq(h->header_len, strlen(hdr));
	cr_assert_eq(h->meta_count, 1);
	cr_assert_str_eq(h->meta_keys[0], "format");
	cr_assert_str_eq(h->meta_values[0], "pt");
	kv_st_free(h);
}

Test(safetensors, scalars_empty_tensors_and_padding)
{
	/* A scalar (shape []) has 1 element; a [0, 5] tensor has none and takes
	 * no bytes.  Leading newline and trailing spaces pad the header. */
	const char *hdr = "\n{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
			  "\"e\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[8,8]}}    ";
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse(hdr, 8, &h, err), KV_ST_OK, "%s", err);
	cr_assert_eq(h->count, 2);
	cr_assert_str_eq(h->tensors[0].name, "s");
	cr_assert_eq(h->tensors[0].rank, 0);
	cr_assert_eq(h->tensors[0].numel, 1);
	cr_assert_str_eq(h->tensors[1].name, "e");
	cr_assert_eq(h->tensors[1].numel, 0);
	cr_assert_eq(h->data_len, 8);
	kv_st_free(h);
}

Test(safetensors, empty_header_and_sub_byte_dtypes)
{
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse("{}", 0, &h, err), KV_ST_OK, "%s", err);
	cr_assert_eq(h->count, 0);
	cr_assert_eq(h->data_len, 0);
	kv_st_free(h);
	/* F4: 4 elements x 4 bits = 2 bytes. */
	cr_assert_eq(parse("{\"q\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2, &h, err),
		     KV_ST_OK, "%s", err);
	kv_st_free(h);
	/* 3 x 4 bits = 12 bits: not whole bytes. */
	rejects("{\"q\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, "'q'", "whole number of bytes");
}

Test(safetensors, dtype_table)
{
	cr_assert_eq(kv_st_dtype_bits("BF16"), 16);
	cr_assert_eq(kv_st_dtype_bits("F8_E4M3"), 8);
	cr_assert_eq(kv_st_dtype_bits("F6_E2M3"), 6);
	cr_assert_eq(kv_st_dtype_bits("C64"), 64);
	cr_assert_eq(kv_st_dtype_bits("F4"), 4);
	cr_assert_eq(kv_st_dtype_bits("bf16"), 0);
	cr_assert_eq(kv_st_dtype_bits("F128"), 0);
}

Test(safetensors, header_length_past_end_of_file)
{
	const char *hdr = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
	size_t len;
	unsigned char *b = file_with(strlen(hdr) + 100, hdr, 4, &len);
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(kv_st_parse_file(FILE_NAME, b, len, &h, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, FILE_NAME) && strstr(err, "runs past the end"), "%s", err);
	cr_assert_eq(kv_st_parse_file(FILE_NAME, b, 5, &h, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "too short"), "%s", err);
	free(b);
}

Test(safetensors, huge_header_length)
{
	const unsigned char over[8] = {0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0}; /* 100000001 */
	const unsigned char max[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const unsigned char limit[8] = {0x00, 0xe1, 0xf5, 0x05, 0, 0, 0, 0}; /* 100000000 */
	uint64_t n;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(kv_st_header_len(FILE_NAME, over, &n, err, sizeof err), KV_ST_BAD);
	cr_assert_eq(n, 100000001u);
	cr_assert(strstr(err, FILE_NAME) && strstr(err, "exceeds the limit"), "%s", err);
	cr_assert_eq(kv_st_header_len(FILE_NAME, max, &n, err, sizeof err), KV_ST_BAD);
	cr_assert_eq(n, UINT64_MAX);
	cr_assert_eq(kv_st_header_len(FILE_NAME, limit, &n, err, sizeof err), KV_ST_OK);
	/* The same through the whole-file entry point. */
	size_t len;
	unsigned char *b = file_with(UINT64_MAX, "{}", 0, &len);
	struct kv_st_header *h;
	cr_assert_eq(kv_st_parse_file(FILE_NAME, b, len, &h, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "exceeds the limit"), "%s", err);
	free(b);
}

Test(safetensors, overlapping_offsets)
{
	/* a [0, 24), b [16, 40): b starts inside a. */
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
		"\"b\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[16,40]}}", 40, "'b'", "overlapping");
}

Test(safetensors, gapped_offsets)
{
	/* a [0, 24), b [28, 52): bytes 24..28 belong to nobody. */
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
		"\"b\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[28,52]}}", 52, "'b'", "gap");
	/* The first tensor does not start at 0. */
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[4,28]}}", 28, "'a'", "unindexed");
}

Test(safetensors, numel_overflow)
{
	/* 2^32 x 2^32 x 16 = 2^68 elements. */
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,1]}}", 1,
		"'w'", "overflows");
	/* 2^40 x 2^22 = 2^62 elements fit, but x 32 bits = 2^67 does not. */
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,4194304],\"data_offsets\":[0,1]}}", 1,
		"'w'", "overflow");
	/* A dimension past 2^53 cannot be exact in JSON. */
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]}}", 1,
		"'w'", "shape[0]");
}

Test(safetensors, size_must_match_shape_and_dtype)
{
	/* F32 [2, 3] needs 24 bytes, the offsets give 20. */
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20, "'a'", "needs 24");
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "'a'", "end before");
}

Test(safetensors, not_a_json_object)
{
	rejects("[1, 2]", 0, "not a JSON object", NULL);
	rejects("\"text\"", 0, "not a JSON object", NULL);
	rejects("{\"a\":", 0, "not valid JSON", NULL);
	rejects("", 0, "not valid JSON", NULL);
	rejects("{} x", 0, "after its JSON value", NULL);
	rejects("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},}", 1, "not valid JSON", NULL);
}

Test(safetensors, control_bytes_and_bad_utf8)
{
	/* cJSON would skip a NUL or other control byte as whitespace; JSON does not. */
	size_t len;
	unsigned char *b = file_with(4, "{}  ", 0, &len);
	b[10] = 0x00;
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(kv_st_parse_file(FILE_NAME, b, len, &h, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "control byte 0x00"), "%s", err);
	b[10] = 0xc3; /* a lead byte without its continuation */
	cr_assert_eq(kv_st_parse_file(FILE_NAME, b, len, &h, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "UTF-8"), "%s", err);
	free(b);
	/* Overlong '/' (C0 AF) and a UTF-16 surrogate (ED A0 80). */
	rejects("{\"\xc0\xaf\":1}", 0, "UTF-8", NULL);
	rejects("{\"\xed\xa0\x80\":1}", 0, "UTF-8", NULL);
}

Test(safetensors, duplicate_names)
{
	rejects("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
		"\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "'a'", "twice");
	rejects("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
		"'dtype'", "twice");
}

Test(safetensors, unknown_dtype)
{
	rejects("{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16, "'w'", "'F128'");
	rejects("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "'w'", "unknown dtype");
}

Test(safetensors, malformed_entries)
{
	rejects("{\"w\":[1]}", 0, "'w'", "not a JSON object");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 0, "'w'", "missing 'data_offsets'");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1, "'w'", "'x'");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, "'w'", "shape[0]");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, "'w'", "shape[0]");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":4,\"data_offsets\":[0,1]}}", 1, "'w'", "not an array");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1, "'w'", "data_offsets");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",1]}}", 1, "'w'", "data_offsets");
}

Test(safetensors, metadata_must_map_strings_to_strings)
{
	rejects("{\"__metadata__\":{\"epoch\":3}}", 0, "'__metadata__'", "'epoch'");
	rejects("{\"__metadata__\":[\"pt\"]}", 0, "'__metadata__'", "not a JSON object");
	rejects("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "'__metadata__'", "twice");
}

Test(safetensors, truncated_or_trailing_data)
{
	const char *hdr = "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}";
	/* 32 data bytes indexed, 20 present: the file should be 8 + N + 32. */
	rejects(hdr, 20, "truncated", "32 data bytes");
	/* 40 present: 8 bytes nobody indexes (room for a second format). */
	rejects(hdr, 40, "8 bytes after the last tensor", NULL);
}

Test(safetensors, three_steps_agree_with_whole_file)
{
	const char *hdr = "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
	size_t len;
	unsigned char *b = file_with(strlen(hdr), hdr, 16, &len);
	uint64_t n;
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(kv_st_header_len(FILE_NAME, b, &n, err, sizeof err), KV_ST_OK);
	cr_assert_eq(n, strlen(hdr));
	cr_assert_eq(kv_st_parse_header(FILE_NAME, (char *)b + 8, n, &h, err, sizeof err), KV_ST_OK, "%s", err);
	cr_assert_eq(kv_st_check_size(FILE_NAME, h, len, err, sizeof err), KV_ST_OK, "%s", err);
	cr_assert_eq(kv_st_check_size(FILE_NAME, h, len - 1, err, sizeof err), KV_ST_BAD);
	cr_assert_eq(kv_st_check_size(FILE_NAME, h, len + 1, err, sizeof err), KV_ST_BAD);
	kv_st_free(h);
	free(b);
}

/* ---- model.safetensors.index.json ---------------------------------------- */

#define INDEX_NAME "m/model.safetensors.index.json"

static int parse_index(const char *json, struct kv_st_index **idx, char *err)
{
	return kv_st_parse_index(INDEX_NAME, json, strlen(json), idx, err, KV_ST_ERRLEN);
}

static void index_rejects(const char *json, const char *word)
{
	struct kv_st_index *idx = (void *)1;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse_index(json, &idx, err), KV_ST_BAD, "accepted: %s", json);
	cr_assert_null(idx);
	cr_assert(strstr(err, INDEX_NAME) && strstr(err, word), "'%s' not in: %s", word, err);
}

static struct kv_st_header *header_of(const char *hdr, size_t data_len)
{
	struct kv_st_header *h;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse(hdr, data_len, &h, err), KV_ST_OK, "%s", err);
	return h;
}

Test(safetensors_index, maps_tensors_to_shards)
{
	const char *json = "{\"metadata\":{\"total_size\":999},\"weight_map\":{"
			   "\"z\":\"model-00002-of-00002.safetensors\","
			   "\"a\":\"model-00001-of-00002.safetensors\","
			   "\"b\":\"model-00001-of-00002.safetensors\"}}";
	struct kv_st_index *idx;
	char err[KV_ST_ERRLEN] = "";
	cr_assert_eq(parse_index(json, &idx, err), KV_ST_OK, "%s", err);
	cr_assert_eq(idx->count, 3);
	cr_assert_str_eq(idx->tensors[0], "a");
	cr_assert_str_eq(idx->tensors[2], "z");
	cr_assert_eq(idx->shard_count, 2);
	cr_assert_str_eq(idx->shards[0], "model-00001-of-00002.safetensors");
	cr_assert_eq(idx->shard_tensors[0], 2);
	cr_assert_eq(idx->shard_tensors[1], 1);
	cr_assert_str_eq(kv_st_index_shard(idx, "z"), "model-00002-of-00002.safetensors");
	cr_assert_null(kv_st_index_shard(idx, "c"));

	struct kv_st_header *one = header_of("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
					     "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2);
	cr_assert_eq(kv_st_index_check_shard(idx, "model-00001-of-00002.safetensors", "m/s1", one, err,
					     sizeof err), KV_ST_OK, "%s", err);
	/* The same header claimed as the other shard: 'a' belongs elsewhere. */
	cr_assert_eq(kv_st_index_check_shard(idx, "model-00002-of-00002.safetensors", "m/s2", one, err,
					     sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "m/s2") && strstr(err, "'a'") && strstr(err, "model-00001"), "%s", err);
	cr_assert_eq(kv_st_index_check_shard(idx, "other.safetensors", "m/o", one, err, sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "'other.safetensors'"), "%s", err);
	kv_st_free(one);

	/* Shard 1 lacks 'b', which the map puts there. */
	struct kv_st_header *short1 = header_of("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
	cr_assert_eq(kv_st_index_check_shard(idx, "model-00001-of-00002.safetensors", "m/s1", short1, err,
					     sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "m/s1") && strstr(err, "'b' is missing"), "%s", err);
	kv_st_free(short1);

	/* Shard 2 holds a tensor the map never names. */
	struct kv_st_header *extra = header_of("{\"z\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
					       "\"y\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2);
	cr_assert_eq(kv_st_index_check_shard(idx, "model-00002-of-00002.safetensors", "m/s2", extra, err,
					     sizeof err), KV_ST_BAD);
	cr_assert(strstr(err, "'y' is not in"), "%s", err);
	kv_st_free(extra);
	kv_st_free_index(idx);
}

Test(safetensors_index, hostile_indexes)
{
	index_rejects("{\"metadata\":{}}", "'weight_map'");
	index_rejects("{\"weight_map\":{}}", "empty");
	index_rejects("{\"weight_map\":[]}", "'weight_map'");
	index_rejects("[]", "not a JSON object");
	index_rejects("{\"weight_map\":{\"a\":\"s1\",\"a\":\"s2\"}}", "'a' appears twice");
	index_rejects("{\"weight_map\":{\"a\":\"../x.safetensors\"}}", "'a'");
	index_rejects("{\"weight_map\":{\"a\":\"..\"}}", "plain file name");
	index_rejects("{\"weight_map\":{\"a\":7}}", "plain file name");
	index_rejects("{\"weight_map\":{\"a\":\"\"}}", "plain file name");
}

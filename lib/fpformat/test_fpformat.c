/* The fingerprint reader (fpformat.c), fed texts written here by hand from
 * kaieval-fingerprint(1): a good file is read field by field, and each
 * broken rule is refused with a message naming the file and the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpformat.h"

#define FILE_NAME "lib/m.json"

/* A version 3 fingerprint of two tensors: a 2 x 3 F16 matrix (6 elements,
 * all sampled: 12 bytes, 16 base64 digits) and a U8 vector of 4. */
#define HEAD "{\"format\": \"kaieval-fingerprint\", \"version\": 3, \"content_hash\": \"xxh128-tree-v1\", " \
	     "\"leaf_bytes\": 262144, \"sample_scheme\": \"shape-splitmix64-v1\", \"sample_size\": 4096, " \
	     "\"complete\": true, \"index\": null, " \
	     "\"shards\": [{\"file\": \"model.safetensors\", \"bytes\": 100, \"tensors\": 2}], "
#define HASH "00112233445566778899aabbccddeeff"
#define T_U8 "{\"name\": \"b.ids\", \"shard\": \"model.safetensors\", \"dtype\": \"U8\", \"shape\": [4], " \
	     "\"numel\": 4, \"hash\": \"" HASH "\", \"constant\": false}"
#define T_F16 "{\"name\": \"a.w\", \"shard\": \"model.safetensors\", \"dtype\": \"F16\", \"shape\": [2, 3], " \
	      "\"numel\": 6, \"hash\": \"" HASH "\", \"constant\": false, \"finite\": 6, \"sum\": 1.5, " \
	      "\"sumsq\": 2.25, \"min\": -1, \"max\": 2, \"sample\": \"AAAAAAAAAAAAAAAA\"}"
#define GOOD HEAD "\"tensors\": [" T_U8 ", " T_F16 "]}"

static int parse(const char *text, struct kv_fp *fp, char *msg)
{
	return kv_fp_parse(text, strlen(text), FILE_NAME, fp, msg, 512);
}

/* text with the first `from` replaced by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	cr_assert_not_null(at, "'%s' not in the text", from);
	size_t n = strlen(text) + strlen(to) + 1;
	char *out = malloc(n);
	cr_assert_not_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

/* The edited text is refused, and the message has file and every `want`. */
static void refused(const char *from, const char *to, const char *want1, const char *want2)
{
	char *text = edit(GOOD, from, to), msg[512] = "";
	struct kv_fp fp;
	cr_assert_eq(parse(text, &fp, msg), -1, "'%s' -> '%s' was read", from, to);
	cr_assert(strstr(msg, FILE_NAME) && strstr(msg, want1) && (!want2 || strstr(msg, want2)), "%s", msg);
	kv_fp_free(&fp);
	free(text);
}

Test(fpformat, a_good_file_is_read_and_sorted_by_name)
{
	struct kv_fp fp;
	char msg[512] = "";
	cr_assert_eq(parse(GOOD, &fp, msg), 0, "%s", msg);
	cr_assert_eq(fp.version, KV_FP_VERSION_XXH128_TREE);
	cr_assert_eq(fp.sample_size, 4096);
	cr_assert(fp.complete && !fp.has_index);
	cr_assert_eq(fp.shard_count, 1);
	cr_assert_eq(fp.count, 2);
	const struct kv_fp_tensor *a = &fp.tensors[0], *b = &fp.tensors[1];
	cr_assert_str_eq(a->name, "a.w");  /* listed second, sorted first */
	cr_assert_str_eq(b->name, "b.ids");
	cr_assert(a->has_moments && a->has_range && !b->has_moments);
	cr_assert_eq(a->rank, 2);
	cr_assert(a->shape[0] == 2 && a->shape[1] == 3);
	cr_assert_eq(a->sample_count, 6);
	cr_assert(a->sum == 1.5 && a->sumsq == 2.25 && a->min == -1 && a->max == 2);
	cr_assert_str_eq(a->hash, HASH);
	kv_fp_free(&fp);
}

Test(fpformat, sample_bytes_by_dtype)
{
	cr_assert_eq(kv_fp_sample_bytes("F32"), 4);
	cr_assert_eq(kv_fp_sample_bytes("F16"), 2);
	cr_assert_eq(kv_fp_sample_bytes("BF16"), 2);
	cr_assert_eq(kv_fp_sample_bytes("F64"), 0);
	cr_assert_eq(kv_fp_sample_bytes("I8"), 0);
}

Test(fpformat, the_header_is_checked)
{
	refused("kaieval-fingerprint", "other", "'format'", NULL);
	refused("\"version\": 3", "\"version\": 5", "'version'", NULL);
	refused("\"leaf_bytes\": 262144", "\"leaf_bytes\": 16384", "'content_hash'", "leaf_bytes 262144");
	refused("xxh128-tree-v1", "blake3", "'content_hash'", NULL);
	refused("shape-splitmix64-v1", "shape-other", "'sample_scheme'", NULL);
	refused("\"sample_size\": 4096", "\"sample_size\": 0", "'sample_size'", NULL);
	refused("\"complete\": true", "\"complete\": 1", "'complete'", NULL);
	refused("\"index\": null", "\"index\": 5", "'index'", NULL);
	refused("\"tensors\": 2}]", "\"tensors\": -2}]", "shards[0]", "'tensors'");
	refused("{\"format\"", "[{\"format\"", "not a JSON object", NULL);
}

/* Version 1 hashes have 64 digits: a 32-digit hash is refused there. */
Test(fpformat, the_hash_length_follows_the_version)
{
	char *v1 = edit(GOOD, "\"version\": 3, \"content_hash\": \"xxh128-tree-v1\", \"leaf_bytes\": 262144",
			"\"version\": 1, \"content_hash\": \"sha256-tree-v1\", \"leaf_bytes\": 16384");
	struct kv_fp fp;
	char msg[512] = "";
	cr_assert_eq(parse(v1, &fp, msg), -1);
	cr_assert(strstr(msg, "'hash'") && strstr(msg, "64 lowercase hex digits"), "%s", msg);
	kv_fp_free(&fp);
	free(v1);
}

Test(fpformat, each_tensor_field_is_checked)
{
	refused("\"numel\": 6", "\"numel\": 7", "tensors[1] ('a.w')", "'numel'");
	refused("\"dtype\": \"U8\"", "\"dtype\": \"U9\"", "tensors[0] ('b.ids')", "'dtype'");
	refused("\"hash\": \"0011", "\"hash\": \"0A11", "'hash'", "32 lowercase hex digits");
	refused("\"sumsq\": 2.25", "\"sumsq\": -2.25", "'sumsq'", NULL);
	refused("\"min\": -1", "\"min\": 3", "'min'", NULL);
	refused("\"finite\": 6", "\"finite\": 7", "'finite'", NULL);
	refused("AAAAAAAAAAAAAAAA", "AAAAAAAAAAAA", "'sample'", NULL);
	refused("\"constant\": false}", "\"constant\": false, \"sample\": \"AAAA\"}", "tensors[0]", "'sample'");
}

Test(fpformat, a_tensor_listed_twice_is_refused)
{
	refused("\"name\": \"b.ids\"", "\"name\": \"a.w\"", "'a.w'", "listed twice");
}

Test(fpformat, no_finite_value_means_null_range)
{
	char *text = edit(GOOD, "\"finite\": 6, \"sum\": 1.5, \"sumsq\": 2.25, \"min\": -1, \"max\": 2",
			  "\"finite\": 0, \"sum\": 0, \"sumsq\": 0, \"min\": null, \"max\": null");
	struct kv_fp fp;
	char msg[512] = "";
	cr_assert_eq(parse(text, &fp, msg), 0, "%s", msg);
	cr_assert_not(fp.tensors[0].has_range);
	kv_fp_free(&fp);
	free(text);
	refused("\"finite\": 6", "\"finite\": 0", "'min'", "null");
}

/* Version 4: the same file plus "invariants", null or the token products. */
static char *version4(const char *invariants)
{
	char *head = edit(GOOD, "\"version\": 3", "\"version\": 4");
	size_t n = strlen(head) + strlen(invariants) + 32;
	char *text = malloc(n);
	cr_assert_not_null(text);
	snprintf(text, n, "%.*s, \"invariants\": %s}", (int)(strlen(head) - 1), head, invariants);
	free(head);
	return text;
}

/* base64 of 32 x 32 F32 zeros: 4096 bytes, 1365 groups and "AA==". */
static char *zeros(void)
{
	char *s = malloc(5465);
	cr_assert_not_null(s);
	memset(s, 'A', 5462);
	strcpy(s + 5462, "==");
	return s;
}

static void v4_refused(const char *invariants, const char *want)
{
	char *text = version4(invariants), msg[512] = "";
	struct kv_fp fp;
	cr_assert_eq(parse(text, &fp, msg), -1, "%s was read", invariants);
	cr_assert(strstr(msg, FILE_NAME) && strstr(msg, want), "%s", msg);
	kv_fp_free(&fp);
	free(text);
}

Test(fpformat, version_four_reads_the_invariants)
{
	struct kv_fp fp;
	char msg[512] = "", *z = zeros();
	char *inv = malloc(2 * strlen(z) + 400);
	cr_assert_not_null(inv);
	sprintf(inv, "{\"scheme\": \"token-products-v1\", \"embedding\": \"e\", \"vocab\": 64, \"tokens\": 32, "
		"\"layers\": [{\"layer\": 0, \"qk\": \"%s\", \"ov\": null, \"ud\": null}, "
		"{\"layer\": 2, \"qk\": null, \"ov\": null, \"ud\": \"%s\"}]}", z, z);
	char *text = version4(inv);
	cr_assert_eq(parse(text, &fp, msg), 0, "%s", msg);
	cr_assert(fp.version == 4 && fp.has_invariants && fp.inv.vocab == 64 && fp.inv.tokens == 32);
	cr_assert(fp.inv.layer_count == 2 && fp.inv.layers[1].layer == 2);
	cr_assert(fp.inv.layers[0].p[KV_FP_QK] && !fp.inv.layers[0].p[KV_FP_OV] && fp.inv.layers[1].p[KV_FP_UD]);
	cr_assert(fp.inv.layers[0].p[KV_FP_QK][1023] == 0);
	kv_fp_free(&fp);
	free(text);
	text = version4("null");
	cr_assert_eq(parse(text, &fp, msg), 0, "%s", msg);
	cr_assert_not(fp.has_invariants);
	kv_fp_free(&fp);
	free(text);
	/* Each field checked, and version 3 has none. */
	v4_refused("5", "'invariants'");
	v4_refused("{\"scheme\": \"x\"}", "'scheme'");
	v4_refused("{\"scheme\": \"token-products-v1\", \"embedding\": \"e\", \"vocab\": 64, \"tokens\": 16, "
		   "\"layers\": []}", "'tokens'");
	v4_refused("{\"scheme\": \"token-products-v1\", \"embedding\": \"e\", \"vocab\": 64, \"tokens\": 32, "
		   "\"layers\": [{\"layer\": 0, \"qk\": \"AAAA\", \"ov\": null, \"ud\": null}]}", "'qk'");
	sprintf(inv, "{\"scheme\": \"token-products-v1\", \"embedding\": \"e\", \"vocab\": 64, \"tokens\": 32, "
		"\"layers\": [{\"layer\": 1, \"qk\": null, \"ov\": null, \"ud\": null}, "
		"{\"layer\": 1, \"qk\": null, \"ov\": null, \"ud\": null}]}");
	v4_refused(inv, "'layer'");
	memcpy(z, "AACA/wAA", 8);           /* the first value's bytes 00 00 80 ff: -Inf */
	sprintf(inv, "{\"scheme\": \"token-products-v1\", \"embedding\": \"e\", \"vocab\": 64, \"tokens\": 32, "
		"\"layers\": [{\"layer\": 0, \"qk\": \"%s\", \"ov\": null, \"ud\": null}]}", z);
	v4_refused(inv, "not finite");
	char *v3 = edit(GOOD, "\"tensors\": [", "\"invariants\": null, \"tensors\": [");
	cr_assert_eq(parse(v3, &fp, msg), -1);
	cr_assert(strstr(msg, "'invariants'") && strstr(msg, "version 1 to 3"), "%s", msg);
	kv_fp_free(&fp);
	free(v3);
	free(inv);
	free(z);
}

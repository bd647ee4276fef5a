/* `kaieval fingerprint`: a model folder, one shard, or a merge of parts. */
#include "fingerprint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpsample.h"

struct args {
	const char *output, *shard, *index;
	const char **inputs;        /* MODEL_DIR, or the parts of a merge */
	size_t input_count;
	int merge, hash_given;
	struct kv_fp_options o;
};

static int usage(const char *fmt, const char *arg)
{
	fputs("kaieval fingerprint: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nusage: kaieval fingerprint MODEL_DIR -o FILE [-j N] [--sample K] [--hash H]\n"
	      "       kaieval fingerprint --shard FILE [--index INDEX.json] -o FILE [-j N] [--sample K] [--hash H]\n"
	      "       kaieval fingerprint --merge PART... -o FILE\n"
	      "       kaieval fingerprint plan|run|merge ... (a cluster run; see kaieval-fingerprint(1))\n", stderr);
	return KV_EXIT_INPUT;
}

/* A whole number in [lo, hi], or 0 when text is not one. */
static uint64_t number(const char *text, uint64_t lo, uint64_t hi)
{
	char *end;
	if (!text || !*text || *text < '0' || *text > '9')
		return 0;
	unsigned long long v = strtoull(text, &end, 10);
	return *end || v < lo || v > hi ? 0 : (uint64_t)v;
}

/* 0 when name is a content hash a fingerprint can be made with. */
static int hash_named(const char *name, enum kv_ts_hash *out)
{
	for (int h = 0; h < KV_TS_HASHES; h++)
		if (strcmp(name, kv_fp_hash_name((enum kv_ts_hash)h)) == 0) {
			*out = (enum kv_ts_hash)h;
			return 0;
		}
	return -1;
}

/* Options that take a value; returns 1 when argv[*i] was one of them. */
static int take_value(struct args *a, int argc, char **argv, int *i, int *rc)
{
	const char *opt = argv[*i];
	const char **slot = strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0 ? &a->output
		: strcmp(opt, "--shard") == 0 ? &a->shard : strcmp(opt, "--index") == 0 ? &a->index : NULL;
	int is_j = strcmp(opt, "-j") == 0, is_k = strcmp(opt, "--sample") == 0;
	int is_hash = strcmp(opt, "--hash") == 0;
	if (!slot && !is_j && !is_k && !is_hash)
		return 0;
	if (++*i >= argc) {
		*rc = usage("%s needs a value", opt);
		return 1;
	}
	if (slot)
		*slot = argv[*i];
	else if (is_j && !(a->o.threads = (unsigned)number(argv[*i], 1, 256)))
		*rc = usage("-j wants a thread count in [1, 256], not '%s'", argv[*i]);
	else if (is_k && !(a->o.sample_size = number(argv[*i], 1, KV_FP_SAMPLE_MAX)))
		*rc = usage("--sample wants a sample size in [1, 1048576], not '%s'", argv[*i]);
	else if (is_hash && hash_named(argv[*i], &a->o.hash))
		*rc = usage("--hash wants xxh128-tree-v1, blake3 or sha256-tree-v1, not '%s'", argv[*i]);
	else if (is_hash)
		a->hash_given = 1;
	return 1;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int rc = 0;
	a->inputs = kv_xcalloc((size_t)argc, sizeof *a->inputs);
	a->o.sample_size = KV_FP_SAMPLE_DEFAULT;
	a->o.progress = isatty(2);
	for (int i = 1; i < argc && !rc; i++) {
		if (take_value(a, argc, argv, &i, &rc))
			continue;
		if (strcmp(argv[i], "--merge") == 0)
			a->merge = 1;
		else if (strcmp(argv[i], "--invariants") == 0)
			a->o.invariants = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			rc = usage("unknown option '%s'", argv[i]);
		else
			a->inputs[a->input_count++] = argv[i];
	}
	if (rc)
		return rc;
	if (!a->output)
		return usage("%s", "missing -o FILE");
	if (a->merge && (a->shard || a->index || a->hash_given || a->input_count == 0))
		return usage("%s", "--merge takes fingerprint files only (their content hash is kept)");
	if (a->shard && a->input_count)
		return usage("unexpected argument '%s' with --shard", a->inputs[0]);
	if (a->index && !a->shard)
		return usage("%s", "--index goes with --shard");
	if (!a->merge && !a->shard && a->input_count != 1)
		return usage("%s", "expected one MODEL_DIR");
	if (a->o.invariants && (a->merge || a->shard))
		return usage("%s", "--invariants goes with a whole MODEL_DIR (they need every layer)");
	if (a->o.invariants && kv_fp_version(a->o.hash) < KV_FP_VERSION_INVARIANTS)
		return usage("--invariants needs format version 4, made with --hash xxh128-tree-v1, not %s",
			     kv_fp_hash_name(a->o.hash));
	return 0;
}

static int merge(const struct args *a, struct kv_fp *out, struct kv_error *err)
{
	struct kv_fp *parts = kv_xcalloc(a->input_count, sizeof *parts);
	int rc = 0;
	for (size_t i = 0; i < a->input_count && !rc; i++)
		rc = kv_fp_read(a->inputs[i], &parts[i], err);
	if (!rc)
		rc = kv_fp_merge(parts, a->inputs, a->input_count, out, err);
	for (size_t i = 0; i < a->input_count; i++)
		kv_fp_free(&parts[i]);
	free(parts);
	if (!rc && out->has_index && !out->complete)
		fprintf(stderr, "kaieval fingerprint: %zu of the index's %zu shards present; the result is "
			"marked incomplete\n", out->shard_count, out->index_shard_count);
	return rc;
}

static int write_out(const struct args *a, struct kv_fp *fp, struct kv_error *err)
{
	struct kv_buf json = {0};
	kv_fp_json(fp, &json);
	int rc = kv_write_file_atomic(a->output, json.data, json.len, err);
	kv_buf_free(&json);
	if (!rc)
		printf("%s: %zu tensors from %zu shard%s%s\n", a->output, fp->count, fp->shard_count,
		       fp->shard_count == 1 ? "" : "s", fp->complete ? "" : " (partial)");
	return rc;
}

int kv_fingerprint_main(int argc, char **argv)
{
	struct args a = {0};
	struct kv_fp fp = {0};
	struct kv_error err = {0};
	/* A first word plan, run or merge is the cluster subcommand; a folder
	 * of that name is written ./plan. */
	static const struct { const char *word; int (*main)(int, char **); } sub[] = {
		{"plan", kv_fp_plan_main}, {"run", kv_fp_run_main}, {"merge", kv_fp_merge_main}};
	for (size_t i = 0; argc > 1 && i < sizeof sub / sizeof sub[0]; i++)
		if (strcmp(argv[1], sub[i].word) == 0)
			return sub[i].main(argc - 1, argv + 1);
	int rc = parse_args(argc, argv, &a);
	if (!rc) {
		if (a.merge)
			rc = merge(&a, &fp, &err);
		else if (a.shard)
			rc = kv_fp_scan_shard(a.shard, a.index, &a.o, &fp, &err);
		else
			rc = kv_fp_scan_dir(a.inputs[0], &a.o, &fp, &err);
		if (!rc && a.o.invariants)
			rc = kv_fp_invariants(a.inputs[0], &fp, a.o.threads, &err);
		if (!rc)
			rc = write_out(&a, &fp, &err);
		if (rc)
			fprintf(stderr, "kaieval: %s\n", err.msg);
	}
	kv_fp_free(&fp);
	free(a.inputs);
	return rc;
}

/* `kaieval fingerprint plan|run|merge`: one model fingerprinted by many
 * processes of a cluster's scheduler (a Slurm job array, a Kubernetes
 * Indexed Job), each doing one unit of a plan, the parts merged into the
 * very bytes `kaieval fingerprint MODEL_DIR` writes.
 *
 * A plan cuts the model's tensors (shards in scanning order, tensors in
 * offset order) into N contiguous runs of about equal bytes; a run may end
 * inside one shard and go on in the next.  A unit writes its part and then
 * its completion marker (the SHA-256 of the plan and of the part), each
 * atomically, in the parts folder the plan names: a finished unit is not
 * redone, a killed one left no marker and runs again. */
#include "fingerprint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpsample.h"
#include "input.h"
#include "jsonw.h"
#include "output.h"

#define PLAN_FORMAT "kaieval-fingerprint-plan"
#define PLAN_VERSION 1
#define UNITS_MAX 100000u

struct range { char *shard; size_t first, count; };
struct unit { size_t count; struct range *ranges; };
struct pshard { char *file; uint64_t bytes, tensors; char sha256[65]; };

struct plan {
	char *path, *model, *parts;  /* parts: as written in the plan */
	char sha256[65];             /* of the plan file's bytes */
	enum kv_ts_hash hash;
	uint64_t sample_size;
	struct kv_fp index;          /* only its index block is used */
	size_t shard_count;
	struct pshard *shards;
	size_t unit_count;
	struct unit *units;
};

static void plan_free(struct plan *p)
{
	free(p->path);
	free(p->model);
	free(p->parts);
	kv_fp_free(&p->index);
	for (size_t i = 0; i < p->shard_count; i++)
		free(p->shards[i].file);
	free(p->shards);
	for (size_t u = 0; p->units && u < p->unit_count; u++) {
		for (size_t r = 0; r < p->units[u].count; r++)
			free(p->units[u].ranges[r].shard);
		free(p->units[u].ranges);
	}
	free(p->units);
}

static int usage(const char *word, const char *fmt, const char *arg)
{
	fprintf(stderr, "kaieval fingerprint %s: ", word);
	fprintf(stderr, fmt, arg);
	struct stat st;
	if (stat(word, &st) == 0 && S_ISDIR(st.st_mode))
		fprintf(stderr, " (to fingerprint the folder '%s', write ./%s)", word, word);
	fputs("\nusage: kaieval fingerprint plan MODEL_DIR -o PLAN --units N [--parts DIR] [--sample K] [--hash H]\n"
	      "       kaieval fingerprint run PLAN [--unit I] [-j N]\n"
	      "       kaieval fingerprint merge PLAN -o FILE\n", stderr);
	return KV_EXIT_INPUT;
}

/* A whole number in [lo, hi] into *out; -1 when text is not one. */
static int whole(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (!text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The parts folder: relative names are relative to the plan's folder. */
static char *parts_dir(const struct plan *p)
{
	if (p->parts[0] == '/')
		return kv_xstrdup(p->parts);
	const char *slash = strrchr(p->path, '/');
	if (!slash)
		return kv_xstrdup(p->parts);
	return kv_xasprintf("%.*s/%s", (int)(slash - p->path), p->path, p->parts);
}

static char *unit_file(const struct plan *p, size_t u, const char *ext)
{
	char *dir = parts_dir(p), *f = kv_xasprintf("%s/unit-%zu.%s", dir, u, ext);
	free(dir);
	return f;
}

/* ---- writing a plan ------------------------------------------------------------ */

struct flat { size_t shard, index; uint64_t bytes; };

/* Tensor t of the flattened model goes to the unit holding its middle byte. */
static size_t unit_of(uint64_t before, uint64_t size, uint64_t total, size_t n)
{
	if (total == 0)
		return 0;
	unsigned __int128 mid2 = (unsigned __int128)before * 2 + size;
	size_t u = (size_t)(mid2 * n / ((unsigned __int128)total * 2));
	return u < n ? u : n - 1;
}

static void add_range(struct unit *u, const char *shard, size_t index)
{
	struct range *last = u->count ? &u->ranges[u->count - 1] : NULL;
	if (last && strcmp(last->shard, shard) == 0 && last->first + last->count == index) {
		last->count++;
		return;
	}
	u->ranges = kv_xrealloc(u->ranges, (u->count + 1) * sizeof *u->ranges);
	u->ranges[u->count++] = (struct range){kv_xstrdup(shard), index, 1};
}

static void cut_units(struct plan *p, const struct flat *f, size_t nf, uint64_t total)
{
	p->units = kv_xcalloc(p->unit_count, sizeof *p->units);
	uint64_t before = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t u = unit_of(before, f[i].bytes, total, p->unit_count);
		add_range(&p->units[u], p->shards[f[i].shard].file, f[i].index);
		before += f[i].bytes;
	}
}

/* Read every shard's header: sizes for the cut, names for the checks. */
static int read_layout(const char *dir, char **names, size_t n, const struct kv_st_index *idx, struct plan *p,
		       struct kv_error *err)
{
	struct kv_fp names_fp = {0};
	struct flat *f = NULL;
	size_t nf = 0;
	uint64_t total = 0;
	int rc = 0;
	p->shards = kv_xcalloc(n, sizeof *p->shards);
	for (size_t s = 0; s < n && !rc; s++) {
		struct kv_st_header *h = NULL;
		char *path = kv_xasprintf("%s/%s", dir, names[s]);
		struct pshard *ps = &p->shards[p->shard_count++];
		ps->file = kv_xstrdup(names[s]);
		rc = kv_fp_shard_header(path, names[s], idx, &h, &ps->bytes, ps->sha256, err);
		for (size_t t = 0; !rc && t < h->count; t++) {
			f = kv_xrealloc(f, (nf + 1) * sizeof *f);
			f[nf++] = (struct flat){s, t, h->tensors[t].end - h->tensors[t].begin};
			total += f[nf - 1].bytes;
			names_fp.tensors = kv_xrealloc(names_fp.tensors, nf * sizeof *names_fp.tensors);
			names_fp.tensors[nf - 1] = (struct kv_fp_tensor){.name = kv_xstrdup(h->tensors[t].name),
									 .shard = kv_xstrdup(names[s])};
			names_fp.count = nf;
		}
		if (!rc)
			ps->tensors = h->count;
		kv_st_free(h);
		free(path);
	}
	if (!rc && !idx)
		rc = kv_fp_check_unique(dir, &names_fp, err);
	if (!rc)
		cut_units(p, f, nf, total);
	kv_fp_free(&names_fp);
	free(f);
	return rc;
}

static void put_index(struct kv_buf *b, const struct kv_fp *fp)
{
	if (!fp->has_index) {
		kv_buf_puts(b, "  \"index\": null,\n");
		return;
	}
	kv_buf_puts(b, "  \"index\": {\"file\": ");
	kv_json_quote(b, fp->index_file);
	kv_buf_printf(b, ", \"sha256\": \"%s\", \"shards\": [", fp->index_sha256);
	for (size_t i = 0; i < fp->index_shard_count; i++) {
		kv_buf_puts(b, i ? ", " : "");
		kv_json_quote(b, fp->index_shards[i]);
	}
	kv_buf_puts(b, "]},\n");
}

static void plan_json(const struct plan *p, struct kv_buf *b)
{
	kv_buf_printf(b, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"model\": ", PLAN_FORMAT, PLAN_VERSION);
	kv_json_quote(b, p->model);
	kv_buf_puts(b, ",\n  \"parts\": ");
	kv_json_quote(b, p->parts);
	kv_buf_printf(b, ",\n  \"content_hash\": \"%s\",\n  \"sample_size\": %" PRIu64 ",\n",
		      kv_fp_hash_name(p->hash), p->sample_size);
	put_index(b, &p->index);
	kv_buf_puts(b, "  \"shards\": [");
	for (size_t s = 0; s < p->shard_count; s++) {
		kv_buf_puts(b, s ? ",\n    {\"file\": " : "\n    {\"file\": ");
		kv_json_quote(b, p->shards[s].file);
		kv_buf_printf(b, ", \"bytes\": %" PRIu64 ", \"tensors\": %" PRIu64 ", \"header_sha256\": \"%s\"}",
			      p->shards[s].bytes, p->shards[s].tensors, p->shards[s].sha256);
	}
	kv_buf_puts(b, p->shard_count ? "\n  ],\n  \"units\": [" : "],\n  \"units\": [");
	for (size_t u = 0; p->units && u < p->unit_count; u++) {
		kv_buf_puts(b, u ? ",\n    [" : "\n    [");
		for (size_t r = 0; r < p->units[u].count; r++) {
			const struct range *g = &p->units[u].ranges[r];
			kv_buf_puts(b, r ? ", {\"shard\": " : "{\"shard\": ");
			kv_json_quote(b, g->shard);
			kv_buf_printf(b, ", \"first\": %zu, \"count\": %zu}", g->first, g->count);
		}
		kv_buf_puts(b, "]");
	}
	kv_buf_puts(b, "\n  ]\n}\n");
}

/* The parts folder beside the plan: "PLAN.parts" unless --parts says. */
static char *default_parts(const char *plan)
{
	const char *slash = strrchr(plan, '/');
	return kv_xasprintf("%s.parts", slash ? slash + 1 : plan);
}

static int make_parts_dir(const struct plan *p, struct kv_error *err)
{
	char *dir = parts_dir(p);
	int rc = 0;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: cannot create the parts folder: %s", dir, strerror(errno));
	free(dir);
	return rc;
}

struct plan_args { const char *model, *output, *parts; struct kv_fp_options o; uint64_t units; };

static int hash_named(const char *name, enum kv_ts_hash *out)
{
	for (int h = 0; h < KV_TS_HASHES; h++)
		if (strcmp(name, kv_fp_hash_name((enum kv_ts_hash)h)) == 0) {
			*out = (enum kv_ts_hash)h;
			return 0;
		}
	return -1;
}

static int plan_option(struct plan_args *a, const char *opt, const char *val)
{
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0)
		a->output = val;
	else if (strcmp(opt, "--parts") == 0)
		a->parts = val;
	else if (strcmp(opt, "--units") == 0 && whole(val, 1, UNITS_MAX, &a->units))
		return usage("plan", "--units wants a count in [1, 100000], not '%s'", val);
	else if (strcmp(opt, "--sample") == 0 && whole(val, 1, KV_FP_SAMPLE_MAX, &a->o.sample_size))
		return usage("plan", "--sample wants a sample size in [1, 1048576], not '%s'", val);
	else if (strcmp(opt, "--hash") == 0 && hash_named(val, &a->o.hash))
		return usage("plan", "--hash wants xxh128-tree-v1, blake3 or sha256-tree-v1, not '%s'", val);
	else if (strcmp(opt, "-o") && strcmp(opt, "--output") && strcmp(opt, "--parts") && strcmp(opt, "--units")
		 && strcmp(opt, "--sample") && strcmp(opt, "--hash"))
		return usage("plan", "unknown option '%s'", opt);
	return 0;
}

static int parse_plan_args(int argc, char **argv, struct plan_args *a)
{
	a->o.sample_size = KV_FP_SAMPLE_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (i + 1 >= argc)
				return usage("plan", "%s needs a value", argv[i]);
			int rc = plan_option(a, argv[i], argv[i + 1]);
			if (rc)
				return rc;
			i++;
		} else if (a->model) {
			return usage("plan", "unexpected argument '%s'", argv[i]);
		} else {
			a->model = argv[i];
		}
	}
	if (!a->model)
		return usage("plan", "%s", "expected one MODEL_DIR");
	if (!a->output)
		return usage("plan", "%s", "missing -o PLAN");
	if (!a->units)
		return usage("plan", "%s", "missing --units N");
	return 0;
}

static char *absolute(const char *path)
{
	char buf[PATH_MAX];
	if (path[0] == '/' || !getcwd(buf, sizeof buf))
		return kv_xstrdup(path);
	return kv_xasprintf("%s/%s", buf, path);
}

int kv_fp_plan_main(int argc, char **argv)
{
	struct plan_args a = {0};
	int rc = parse_plan_args(argc, argv, &a);
	if (rc)
		return rc;
	struct plan p = {.path = kv_xstrdup(a.output), .hash = a.o.hash, .sample_size = a.o.sample_size,
			 .unit_count = (size_t)a.units};
	char resolved[PATH_MAX];
	p.model = realpath(a.model, resolved) ? kv_xstrdup(resolved) : kv_xstrdup(a.model);
	p.parts = a.parts ? absolute(a.parts) : default_parts(a.output);
	struct kv_error err = {0};
	struct kv_st_index *idx = NULL;
	char **names = NULL;
	size_t n = 0;
	rc = kv_fp_model_shards(p.model, &p.index, &idx, &names, &n, &err);
	if (!rc)
		rc = read_layout(p.model, names, n, idx, &p, &err);
	struct kv_buf json = {0};
	if (!rc) {
		plan_json(&p, &json);
		rc = kv_write_file_atomic(a.output, json.data, json.len, &err);
	}
	if (!rc && (rc = make_parts_dir(&p, &err)))
		unlink(a.output);    /* no plan without its parts folder */
	if (rc)
		fprintf(stderr, "kaieval: %s\n", err.msg);
	else
		printf("%s: %zu units over %zu shard%s; parts in %s\n", a.output, p.unit_count, p.shard_count,
		       p.shard_count == 1 ? "" : "s", p.parts);
	kv_buf_free(&json);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	kv_st_free_index(idx);
	plan_free(&p);
	return rc;
}

/* ---- reading a plan ------------------------------------------------------------- */

struct reader { const char *file; char *msg; size_t len; };

static int bad(struct reader *r, const char *where, const char *what)
{
	snprintf(r->msg, r->len, "%s: %s %s", r->file, where, what);
	return -1;
}

static int get_str(struct reader *r, const cJSON *o, const char *key, const char *where, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char w[160];
	snprintf(w, sizeof w, "%s'%s'", where, key);
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return bad(r, w, "is missing or not a non-empty string");
	*out = v->valuestring;
	return 0;
}

static int get_num(struct reader *r, const cJSON *o, const char *key, const char *where, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char w[160];
	snprintf(w, sizeof w, "%s'%s'", where, key);
	if (!v || !kv_st_json_uint(v, out))
		return bad(r, w, "is missing or not a whole number");
	return 0;
}

static int is_sha256(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int read_index(struct reader *r, const cJSON *root, struct kv_fp *fp)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(root, "index"), *s;
	if (cJSON_IsNull(idx))
		return 0;
	const char *file, *sha;
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(idx, "shards");
	if (!cJSON_IsObject(idx) || get_str(r, idx, "file", "'index' ", &file) ||
	    get_str(r, idx, "sha256", "'index' ", &sha) || !cJSON_IsArray(shards))
		return r->msg[0] ? -1 : bad(r, "'index'", "must be null or {file, sha256, shards}");
	if (!is_sha256(sha))
		return bad(r, "'index' 'sha256'", "is not 64 lowercase hex digits");
	fp->has_index = 1;
	fp->index_file = kv_xstrdup(file);
	memcpy(fp->index_sha256, sha, 65);
	fp->index_shards = kv_xcalloc((size_t)cJSON_GetArraySize(shards) + 1, sizeof *fp->index_shards);
	cJSON_ArrayForEach(s, shards) {
		if (!cJSON_IsString(s))
			return bad(r, "'index' 'shards'", "lists a shard that is not a string");
		fp->index_shards[fp->index_shard_count++] = kv_xstrdup(s->valuestring);
	}
	return 0;
}

static const struct pshard *shard_named(const struct plan *p, const char *file)
{
	for (size_t s = 0; s < p->shard_count; s++)
		if (strcmp(p->shards[s].file, file) == 0)
			return &p->shards[s];
	return NULL;
}

static int read_shards(struct reader *r, const cJSON *root, struct plan *p)
{
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(root, "shards"), *s;
	if (!cJSON_IsArray(shards))
		return bad(r, "'shards'", "is missing or not an array");
	p->shards = kv_xcalloc((size_t)cJSON_GetArraySize(shards) + 1, sizeof *p->shards);
	cJSON_ArrayForEach(s, shards) {
		char where[64];
		const char *file, *sha;
		snprintf(where, sizeof where, "shards[%zu] ", p->shard_count);
		struct pshard *ps = &p->shards[p->shard_count];
		if (get_str(r, s, "file", where, &file) || get_num(r, s, "bytes", where, &ps->bytes) ||
		    get_num(r, s, "tensors", where, &ps->tensors) || get_str(r, s, "header_sha256", where, &sha))
			return -1;
		if (!is_sha256(sha))
			return bad(r, where, "'header_sha256' is not 64 lowercase hex digits");
		if (strchr(file, '/'))
			return bad(r, where, "'file' must be a file name, without '/'");
		if (shard_named(p, file))
			return bad(r, where, "'file' is listed twice");
		ps->file = kv_xstrdup(file);
		memcpy(ps->sha256, sha, 65);
		p->shard_count++;
	}
	return 0;
}

static int read_range(struct reader *r, const cJSON *g, const char *where, const struct plan *p, struct range *out)
{
	const char *shard;
	uint64_t first, count;
	if (get_str(r, g, "shard", where, &shard) || get_num(r, g, "first", where, &first) ||
	    get_num(r, g, "count", where, &count))
		return -1;
	const struct pshard *ps = shard_named(p, shard);
	if (!ps)
		return bad(r, where, "names a shard that is not in 'shards'");
	if (count == 0 || first > ps->tensors || count > ps->tensors - first)
		return bad(r, where, "is not a range of the shard's tensors");
	*out = (struct range){kv_xstrdup(shard), (size_t)first, (size_t)count};
	return 0;
}

static int read_units(struct reader *r, const cJSON *root, struct plan *p)
{
	const cJSON *units = cJSON_GetObjectItemCaseSensitive(root, "units"), *u, *g;
	if (!cJSON_IsArray(units) || cJSON_GetArraySize(units) < 1 || (unsigned)cJSON_GetArraySize(units) > UNITS_MAX)
		return bad(r, "'units'", "is missing or not an array of 1 to 100000 units");
	p->units = kv_xcalloc((size_t)cJSON_GetArraySize(units), sizeof *p->units);
	cJSON_ArrayForEach(u, units) {
		struct unit *un = &p->units[p->unit_count++];
		if (!cJSON_IsArray(u))
			return bad(r, "'units'", "holds a unit that is not an array of ranges");
		un->ranges = kv_xcalloc((size_t)cJSON_GetArraySize(u) + 1, sizeof *un->ranges);
		cJSON_ArrayForEach(g, u) {
			char where[64];
			snprintf(where, sizeof where, "units[%zu][%zu]", p->unit_count - 1, un->count);
			if (read_range(r, g, where, p, &un->ranges[un->count]))
				return -1;
			un->count++;
		}
	}
	return 0;
}

struct cover { const char *shard; size_t first, count; };

static int cmp_cover(const void *a, const void *b)
{
	const struct cover *x = a, *y = b;
	int c = strcmp(x->shard, y->shard);
	return c ? c : x->first < y->first ? -1 : x->first > y->first;
}

/* The units' ranges tile every shard's tensors exactly once, so that a
 * merge of all the units is the whole model. */
static int check_cover(struct reader *r, const struct plan *p)
{
	size_t n = 0, k = 0;
	for (size_t u = 0; u < p->unit_count; u++)
		n += p->units[u].count;
	struct cover *v = kv_xcalloc(n + 1, sizeof *v);
	for (size_t u = 0; u < p->unit_count; u++)
		for (size_t g = 0; g < p->units[u].count; g++)
			v[k++] = (struct cover){p->units[u].ranges[g].shard, p->units[u].ranges[g].first,
						p->units[u].ranges[g].count};
	qsort(v, n, sizeof *v, cmp_cover);
	int rc = 0;
	for (size_t s = 0; s < p->shard_count && !rc; s++) {
		size_t next = 0;
		int gap = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i].shard, p->shards[s].file) == 0) {
				gap |= v[i].first != next;
				next += v[i].count;
			}
		if (gap || next != p->shards[s].tensors) {
			char where[600];
			snprintf(where, sizeof where, "'units' for shard '%.500s'", p->shards[s].file);
			rc = bad(r, where, "do not cover its tensors exactly once");
		}
	}
	free(v);
	return rc;
}

static int read_head(struct reader *r, const cJSON *root, struct plan *p)
{
	const char *format, *model, *parts, *hash;
	uint64_t version;
	if (!cJSON_IsObject(root))
		return bad(r, "the plan", "is not a JSON object");
	if (get_str(r, root, "format", "", &format) || get_num(r, root, "version", "", &version))
		return -1;
	if (strcmp(format, PLAN_FORMAT) != 0 || version != PLAN_VERSION)
		return bad(r, "'format'/'version'", "are not " PLAN_FORMAT " version 1 (not a plan, or from a "
			   "newer kaieval)");
	if (get_str(r, root, "model", "", &model) || get_str(r, root, "parts", "", &parts) ||
	    get_str(r, root, "content_hash", "", &hash) || get_num(r, root, "sample_size", "", &p->sample_size))
		return -1;
	if (hash_named(hash, &p->hash))
		return bad(r, "'content_hash'", "is not xxh128-tree-v1, blake3 or sha256-tree-v1");
	if (p->sample_size < 1 || p->sample_size > KV_FP_SAMPLE_MAX)
		return bad(r, "'sample_size'", "is not in [1, 1048576]");
	p->model = kv_xstrdup(model);
	p->parts = kv_xstrdup(parts);
	return 0;
}

static int plan_read(const char *file, struct plan *p, struct kv_error *err)
{
	memset(p, 0, sizeof *p);
	p->path = kv_xstrdup(file);
	size_t len;
	char *text = kv_fp_load_text(file, &len, err);
	if (!text)
		return KV_EXIT_INPUT;
	kv_sha256_hex(text, len, p->sha256);
	char msg[KV_MSG_MAX] = "";
	struct reader r = {file, msg, sizeof msg};
	cJSON *root = cJSON_ParseWithLength(text, len);
	int rc = !root ? bad(&r, "the plan", "is not JSON") : read_head(&r, root, p) || read_index(&r, root, &p->index)
		|| read_shards(&r, root, p) || read_units(&r, root, p) || check_cover(&r, p) ? -1 : 0;
	cJSON_Delete(root);
	free(text);
	return rc ? kv_fail(err, KV_EXIT_INPUT, "%s", msg) : 0;
}

/* ---- the completion marker ----------------------------------------------------- */

/* 0 when the marker of unit u is there and vouches for the part's bytes
 * under this plan; else why not in why. */
struct marker { char plan[65], part[65]; uint64_t unit; };

/* The marker file's fields; -1 when it is absent, -2 when it is not one. */
static int read_marker(const char *file, struct marker *m)
{
	struct kv_error err = {0};
	size_t n;
	char *text = kv_fp_load_text(file, &n, &err);
	if (!text)
		return -1;
	cJSON *j = cJSON_ParseWithLength(text, n);
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "plan_sha256");
	const cJSON *us = cJSON_GetObjectItemCaseSensitive(j, "unit");
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(j, "part_sha256");
	int rc = cJSON_IsString(ps) && is_sha256(ps->valuestring) && cJSON_IsString(hs) && is_sha256(hs->valuestring)
		&& us && kv_st_json_uint(us, &m->unit) ? 0 : -2;
	if (!rc) {
		memcpy(m->plan, ps->valuestring, 65);
		memcpy(m->part, hs->valuestring, 65);
	}
	cJSON_Delete(j);
	free(text);
	return rc;
}

/* 1 when the file's SHA-256 is sha, 0 when not, -1 when it is absent. */
static int file_has_sha256(const char *file, const char *sha)
{
	struct kv_error err = {0};
	size_t n;
	char *text = kv_fp_load_text(file, &n, &err), have[65];
	if (!text)
		return -1;
	kv_sha256_hex(text, n, have);
	free(text);
	return strcmp(have, sha) == 0;
}

/* 0 when the marker of unit u is there and vouches for the part's bytes
 * under this plan; else why not in why. */
static int marker_ok(const struct plan *p, size_t u, char *why, size_t len)
{
	char *mfile = unit_file(p, u, "done"), *pfile = unit_file(p, u, "json");
	struct marker m;
	int got = read_marker(mfile, &m), part = got ? 0 : file_has_sha256(pfile, m.part), rc = -1;
	if (got == -1)
		snprintf(why, len, "%s: missing: unit %zu has not finished", mfile, u);
	else if (got == -2)
		snprintf(why, len, "%s: not a completion marker", mfile);
	else if (strcmp(m.plan, p->sha256) != 0 || m.unit != u)
		snprintf(why, len, "%s: foreign: made for unit %" PRIu64 " of plan %.12s, not unit %zu of %s (%.12s)",
			 mfile, m.unit, m.plan, u, p->path, p->sha256);
	else if (part == -1)
		snprintf(why, len, "%s: missing, though %s says unit %zu finished", pfile, mfile, u);
	else if (part == 0)
		snprintf(why, len, "%s: foreign: its SHA-256 is not the one in %s", pfile, mfile);
	else
		rc = 0;
	free(mfile);
	free(pfile);
	return rc;
}

static int write_marker(const struct plan *p, size_t u, const struct kv_buf *part, struct kv_error *err)
{
	char sha[65];
	kv_sha256_hex(part->data, part->len, sha);
	char *text = kv_xasprintf("{\"plan_sha256\": \"%s\", \"unit\": %zu, \"part_sha256\": \"%s\"}\n",
				  p->sha256, u, sha);
	char *mfile = unit_file(p, u, "done");
	int rc = kv_write_file_atomic(mfile, text, strlen(text), err);
	free(mfile);
	free(text);
	return rc;
}

/* ---- running a unit ------------------------------------------------------------- */

/* The unit: --unit, else the scheduler's index.  Returns 0 or the exit status. */
static int pick_unit(const char *given, const struct plan *p, size_t *u)
{
	const char *from = "--unit", *text = given;
	if (!text && (text = getenv("SLURM_ARRAY_TASK_ID")))
		from = "SLURM_ARRAY_TASK_ID";
	else if (!text && (text = getenv("JOB_COMPLETION_INDEX")))
		from = "JOB_COMPLETION_INDEX";
	if (!text)
		return usage("run", "%s", "no --unit I, and neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set");
	uint64_t v;
	if (whole(text, 0, UINT64_MAX - 1, &v) || v >= p->unit_count) {
		fprintf(stderr, "kaieval fingerprint run: %s is '%s'; %s has units 0 to %zu\n", from, text, p->path,
			p->unit_count - 1);
		return KV_EXIT_INPUT;
	}
	*u = (size_t)v;
	return 0;
}

/* A test of the rerun after a crash: die between the part and the marker. */
static void test_hook(void)
{
	const char *die = getenv("KAIEVAL_FINGERPRINT_TEST_DIE");
	if (die && strcmp(die, "before-marker") == 0)
		raise(SIGKILL);
}

static int scan_unit(const struct plan *p, size_t u, const struct kv_fp_options *o, struct kv_fp *part,
		     struct kv_error *err)
{
	part->version = kv_fp_version(p->hash);
	part->sample_size = p->sample_size;
	int rc = 0;
	for (size_t r = 0; r < p->units[u].count && !rc; r++) {
		const struct range *g = &p->units[u].ranges[r];
		const struct pshard *ps = shard_named(p, g->shard);
		struct kv_fp_planned want = {g->shard, ps->bytes, ps->sha256, g->first, g->count};
		char *path = kv_xasprintf("%s/%s", p->model, g->shard);
		rc = kv_fp_scan_range(path, &want, o, part, err);
		free(path);
	}
	return rc;
}

static int run_unit(const struct plan *p, size_t u, const struct kv_fp_options *o, struct kv_error *err)
{
	struct kv_fp part = {0};
	struct kv_buf json = {0};
	char *pfile = unit_file(p, u, "json");
	int rc = make_parts_dir(p, err);
	if (!rc)
		rc = scan_unit(p, u, o, &part, err);
	if (!rc) {
		kv_fp_json(&part, &json);
		rc = kv_write_file_atomic(pfile, json.data, json.len, err);
	}
	if (!rc) {
		test_hook();
		rc = write_marker(p, u, &json, err);
	}
	if (!rc)
		printf("%s: unit %zu of %zu: %zu tensors\n", pfile, u, p->unit_count, part.count);
	kv_buf_free(&json);
	kv_fp_free(&part);
	free(pfile);
	return rc;
}

struct run_args { const char *plan, *unit; struct kv_fp_options o; };

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	uint64_t threads = 0;
	for (int i = 1; i < argc; i++) {
		int has = i + 1 < argc;
		if (strcmp(argv[i], "--unit") == 0 && has)
			a->unit = argv[++i];
		else if (strcmp(argv[i], "-j") == 0 && has) {
			if (whole(argv[++i], 1, 256, &threads))
				return usage("run", "-j wants a thread count in [1, 256], not '%s'", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1])
			return usage("run", "unknown option or missing value: '%s'", argv[i]);
		else if (a->plan)
			return usage("run", "unexpected argument '%s'", argv[i]);
		else
			a->plan = argv[i];
	}
	a->o.threads = (unsigned)threads;
	a->o.progress = isatty(2);
	return a->plan ? 0 : usage("run", "%s", "expected one PLAN");
}

int kv_fp_run_main(int argc, char **argv)
{
	struct run_args a = {0};
	int rc = parse_run_args(argc, argv, &a);
	if (rc)
		return rc;
	struct plan p;
	struct kv_error err = {0};
	size_t u = 0;
	char why[KV_MSG_MAX];
	rc = plan_read(a.plan, &p, &err);
	if (rc)
		fprintf(stderr, "kaieval: %s\n", err.msg);
	else if (!(rc = pick_unit(a.unit, &p, &u))) {
		a.o.hash = p.hash;
		a.o.sample_size = p.sample_size;
		if (marker_ok(&p, u, why, sizeof why) == 0)
			printf("unit %zu of %s: already done\n", u, a.plan);
		else if ((rc = run_unit(&p, u, &a.o, &err)))
			fprintf(stderr, "kaieval: %s\n", err.msg);
	}
	plan_free(&p);
	return rc;
}

/* ---- merging ------------------------------------------------------------------ */

/* The part holds exactly the tensors its unit's ranges give each shard. */
static int check_part(const struct plan *p, size_t u, const char *file, const struct kv_fp *part,
		      struct kv_error *err)
{
	if (part->version != kv_fp_version(p->hash) || part->sample_size != p->sample_size)
		return kv_fail(err, KV_EXIT_INPUT, "%s: foreign: content hash or sample size is not the plan's", file);
	const struct unit *un = &p->units[u];
	size_t want = 0;
	for (size_t r = 0; r < un->count; r++)
		want += un->ranges[r].count;
	for (size_t t = 0; t < part->count; t++) {
		size_t in = 0;
		for (size_t r = 0; r < un->count; r++)
			in |= strcmp(un->ranges[r].shard, part->tensors[t].shard) == 0;
		if (!in)
			return kv_fail(err, KV_EXIT_INPUT, "%s: foreign: tensor '%s' of shard '%s' is not in unit %zu",
				       file, part->tensors[t].name, part->tensors[t].shard, u);
	}
	if (part->count != want)
		return kv_fail(err, KV_EXIT_INPUT, "%s: foreign: %zu tensors, unit %zu has %zu", file, part->count, u,
			       want);
	return 0;
}

static void take_tensors(struct kv_fp *out, struct kv_fp *part)
{
	out->tensors = kv_xrealloc(out->tensors, (out->count + part->count + 1) * sizeof *out->tensors);
	memcpy(out->tensors + out->count, part->tensors, part->count * sizeof *part->tensors);
	out->count += part->count;
	part->count = 0;
}

static int gather_parts(const struct plan *p, struct kv_fp *out, struct kv_error *err)
{
	char why[KV_MSG_MAX];
	for (size_t u = 0; u < p->unit_count; u++)
		if (marker_ok(p, u, why, sizeof why))
			return kv_fail(err, KV_EXIT_INPUT, "%s (run `kaieval fingerprint run %s --unit %zu`)", why,
				       p->path, u);
	int rc = 0;
	for (size_t u = 0; u < p->unit_count && !rc; u++) {
		struct kv_fp part;
		char *file = unit_file(p, u, "json");
		rc = kv_fp_read(file, &part, err);
		if (!rc)
			rc = check_part(p, u, file, &part, err);
		if (!rc)
			take_tensors(out, &part);
		kv_fp_free(&part);
		free(file);
	}
	return rc;
}

/* The index block and the shard list come from the plan. */
static void take_plan(struct plan *p, struct kv_fp *out)
{
	out->version = kv_fp_version(p->hash);
	out->sample_size = p->sample_size;
	out->complete = 1;
	out->has_index = p->index.has_index;
	memcpy(out->index_sha256, p->index.index_sha256, sizeof out->index_sha256);
	out->index_file = p->index.index_file;
	out->index_shards = p->index.index_shards;
	out->index_shard_count = p->index.index_shard_count;
	p->index.index_file = NULL;
	p->index.index_shards = NULL;
	p->index.index_shard_count = 0;
	out->shards = kv_xcalloc(p->shard_count + 1, sizeof *out->shards);
	for (size_t s = 0; s < p->shard_count; s++)
		out->shards[out->shard_count++] = (struct kv_fp_shard){kv_xstrdup(p->shards[s].file),
									p->shards[s].bytes, p->shards[s].tensors};
}

int kv_fp_merge_main(int argc, char **argv)
{
	const char *plan_file = NULL, *output = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
			output = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return usage("merge", "unknown option or missing value: '%s'", argv[i]);
		else if (plan_file)
			return usage("merge", "unexpected argument '%s'", argv[i]);
		else
			plan_file = argv[i];
	}
	if (!plan_file || !output)
		return usage("merge", "%s", !plan_file ? "expected one PLAN" : "missing -o FILE");
	struct plan p;
	struct kv_fp out = {0};
	struct kv_error err = {0};
	struct kv_buf json = {0};
	int rc = plan_read(plan_file, &p, &err);
	if (!rc)
		rc = gather_parts(&p, &out, &err);
	if (!rc)    /* parts of one plan never overlap unless tampered with */
		rc = kv_fp_check_unique(plan_file, &out, &err);
	if (!rc) {
		take_plan(&p, &out);
		kv_fp_json(&out, &json);
		rc = kv_write_file_atomic(output, json.data, json.len, &err);
	}
	if (rc)
		fprintf(stderr, "kaieval: %s\n", err.msg);
	else
		printf("%s: %zu tensors from %zu shard%s, %zu units\n", output, out.count, out.shard_count,
		       out.shard_count == 1 ? "" : "s", p.unit_count);
	kv_buf_free(&json);
	kv_fp_free(&out);
	plan_free(&p);
	return rc;
}

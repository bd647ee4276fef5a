/* cost: exact parameter counts from a model folder.
 *
 * Total = sum of numel over every tensor in the safetensors headers (the
 * strict reader in lib/safetensors/safetensors.c).  Active, for a mixture of experts =
 * the other tensors + the routed-expert tensors x k / E, with E routed
 * experts and k of them per token, read from config.json. */
#include "cost.h"
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)1 << 20)

struct count {
	uint64_t total, routed;     /* parameters: all, routed-expert tensors */
	size_t files, tensors, routed_tensors;
};

static int st_fail(const struct kv_host *h, struct kv_ctx *ctx, int st, const char *msg)
{
	h->error(ctx, "%s", msg);
	return st == KV_ST_NOMEM ? KV_ERR_INTERNAL : KV_ERR_INPUT;
}

static int join(const struct kv_host *h, struct kv_ctx *ctx, char *out, const char *dir, const char *name)
{
	if (snprintf(out, COST_PATH_MAX, "%s/%s", dir, name) >= COST_PATH_MAX)
		return h->error(ctx, "%s/%s: path too long", dir, name);
	return KV_OK;
}

/* Up to len bytes; fewer only at the end of the file; -1 on a read error. */
static long read_full(const struct kv_host *h, struct kv_input *in, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		long r = h->input_read(in, (char *)buf + got, len - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

/* The n header bytes, in growing steps: a lying length must not make a small
 * file cost 100 MB of memory. */
static int read_header_bytes(const struct kv_host *h, struct kv_ctx *ctx, struct kv_input *in,
			     const char *path, size_t n, char **out)
{
	size_t cap = n < CHUNK ? n : CHUNK, got = 0;
	char *buf = malloc(cap ? cap : 1);
	while (buf && got < n) {
		if (got == cap) {
			cap = cap * 2 < n ? cap * 2 : n;
			char *bigger = realloc(buf, cap);
			if (!bigger)
				break;
			buf = bigger;
		}
		long r = read_full(h, in, buf + got, cap - got);
		if (r < 0 || (size_t)r < cap - got) {
			free(buf);
			return r < 0 ? h->error(ctx, "%s: read error", path)
				: h->error(ctx, "%s: header length %zu runs past the end of the file (%zu bytes)",
					   path, n, 8 + got + (size_t)r);
		}
		got += (size_t)r;
	}
	if (got < n || !buf) {
		free(buf);
		h->error(ctx, "%s: out of memory for a %zu-byte header", path, n);
		return KV_ERR_INTERNAL;
	}
	*out = buf;
	return KV_OK;
}

/* The data bytes are read and counted, never kept: the core hashes every
 * byte of an input anyway, so this costs no extra pass over the file. */
static int count_rest(const struct kv_host *h, struct kv_ctx *ctx, struct kv_input *in,
		      const char *path, uint64_t *rest)
{
	char *buf = malloc(CHUNK);
	if (!buf) {
		h->error(ctx, "%s: out of memory", path);
		return KV_ERR_INTERNAL;
	}
	long r;
	*rest = 0;
	while ((r = h->input_read(in, buf, CHUNK)) > 0) {
		*rest += (uint64_t)r;
		h->progress(ctx, *rest, 0);
	}
	free(buf);
	return r < 0 ? h->error(ctx, "%s: read error", path) : KV_OK;
}

static int parse_shard(const struct kv_host *h, struct kv_ctx *ctx, struct kv_input *in,
		       const char *path, struct kv_st_header **hdr)
{
	unsigned char first8[8];
	char msg[KV_ST_ERRLEN], *text = NULL;
	uint64_t n, rest;
	long got = read_full(h, in, first8, 8);
	if (got < 0)
		return h->error(ctx, "%s: read error", path);
	if (got < 8)
		return h->error(ctx, "%s: %ld bytes: too short for the 8-byte header length", path, got);
	int st = kv_st_header_len(path, first8, &n, msg, sizeof msg);
	if (st)
		return st_fail(h, ctx, st, msg);
	int rc = read_header_bytes(h, ctx, in, path, (size_t)n, &text);
	if (rc)
		return rc;
	st = kv_st_parse_header(path, text, (size_t)n, hdr, msg, sizeof msg);
	free(text);
	if (st)
		return st_fail(h, ctx, st, msg);
	rc = count_rest(h, ctx, in, path, &rest);
	if (!rc && (st = kv_st_check_size(path, *hdr, 8 + n + rest, msg, sizeof msg)) != 0)
		rc = st_fail(h, ctx, st, msg);
	if (rc) {
		kv_st_free(*hdr);
		*hdr = NULL;
	}
	return rc;
}

static int read_shard(const struct kv_host *h, struct kv_ctx *ctx, const char *path,
		      struct kv_st_header **hdr)
{
	*hdr = NULL;
	struct kv_input *in = h->input_open(ctx, path);
	if (!in)
		return KV_ERR_INPUT;
	int rc = parse_shard(h, ctx, in, path, hdr);
	h->input_close(in);
	return rc;
}

static int add_tensors(const struct kv_host *h, struct kv_ctx *ctx, const char *path,
		       const struct kv_st_header *hdr, const char *pattern, struct count *c)
{
	for (size_t i = 0; i < hdr->count; i++) {
		const struct kv_st_tensor *t = &hdr->tensors[i];
		if (__builtin_add_overflow(c->total, t->numel, &c->total))
			return h->error(ctx, "%s: tensor '%s': the parameter count overflows 64 bits", path, t->name);
		if (*pattern && strstr(t->name, pattern)) {
			c->routed += t->numel;
			c->routed_tensors++;
		}
	}
	c->tensors += hdr->count;
	c->files++;
	return KV_OK;
}

static int count_file(const struct kv_host *h, struct kv_ctx *ctx, const char *path,
		      const struct kv_st_index *idx, const char *shard, const char *pattern,
		      struct count *c)
{
	struct kv_st_header *hdr;
	char msg[KV_ST_ERRLEN];
	int rc = read_shard(h, ctx, path, &hdr);
	if (!rc && idx) {
		int st = kv_st_index_check_shard(idx, shard, path, hdr, msg, sizeof msg);
		if (st)
			rc = st_fail(h, ctx, st, msg);
	}
	if (!rc)
		rc = add_tensors(h, ctx, path, hdr, pattern, c);
	kv_st_free(hdr);
	return rc;
}

static int count_sharded(const struct kv_host *h, struct kv_ctx *ctx, const char *dir,
			 const char *index_path, const char *pattern, struct count *c)
{
	const char *text;
	size_t len;
	char msg[KV_ST_ERRLEN], path[COST_PATH_MAX];
	struct kv_st_index *idx;
	if (h->input_load(ctx, index_path, &text, &len))
		return KV_ERR_INPUT;
	int st = kv_st_parse_index(index_path, text, len, &idx, msg, sizeof msg);
	if (st)
		return st_fail(h, ctx, st, msg);
	int rc = KV_OK;
	for (size_t i = 0; i < idx->shard_count && !rc; i++) {
		rc = join(h, ctx, path, dir, idx->shards[i]);
		if (!rc && h->input_kind(ctx, path) != 1)
			rc = h->error(ctx, "%s: missing: %s names it as a shard", path, index_path);
		if (!rc)
			rc = count_file(h, ctx, path, idx, idx->shards[i], pattern, c);
	}
	kv_st_free_index(idx);
	return rc;
}

/* model.safetensors.index.json when there is one, else model.safetensors. */
static int count_tensors(const struct kv_host *h, struct kv_ctx *ctx, const char *facts,
			 const char *dir, const char *pattern, struct count *c)
{
	char index_path[COST_PATH_MAX], single[COST_PATH_MAX];
	if (h->input_kind(ctx, dir) != 2)
		return h->error(ctx, "%s: 'model': '%s' is not a folder in the data directory", facts, dir);
	if (join(h, ctx, index_path, dir, "model.safetensors.index.json") ||
	    join(h, ctx, single, dir, "model.safetensors"))
		return KV_ERR_INPUT;
	if (h->input_kind(ctx, index_path) == 1)
		return count_sharded(h, ctx, dir, index_path, pattern, c);
	if (h->input_kind(ctx, single) == 1)
		return count_file(h, ctx, single, NULL, NULL, pattern, c);
	return h->error(ctx, "%s: 'model': '%s' holds neither model.safetensors.index.json nor "
			"model.safetensors", facts, dir);
}

/* ---- active parameters from config.json ---------------------------------- */

static const char *const routed_keys[] = {"n_routed_experts", "num_local_experts", "num_experts", NULL};
static const char *const per_token_keys[] = {"num_experts_per_tok", "experts_per_token", NULL};

static const struct kv_value *first_of(const struct kv_host *h, const struct kv_value *scope,
				       const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		if (h->value_member(scope, keys[i]))
			return h->value_member(scope, keys[i]);
	return NULL;
}

/* Multimodal configs keep the language model's keys under text_config. */
static const struct kv_value *moe_scope(const struct kv_host *h, const struct kv_value *root)
{
	const struct kv_value *text = h->value_member(root, "text_config");
	if (first_of(h, root, routed_keys) || first_of(h, root, per_token_keys) ||
	    h->value_type(text) != KV_T_GROUP)
		return root;
	return text;
}

/* The first of keys in scope, a whole number >= 1; any other of keys there must agree. */
static int moe_number(const struct kv_host *h, struct kv_ctx *ctx, const struct kv_value *scope,
		      const char *const *keys, const struct kv_value **found, long long *out)
{
	*found = first_of(h, scope, keys);
	if (!*found)
		return KV_OK;
	if (!h->value_int(*found, out) || *out < 1)
		return h->value_error(ctx, *found, "must be a whole number >= 1");
	for (size_t i = 0; keys[i]; i++) {
		const struct kv_value *other = h->value_member(scope, keys[i]);
		long long v;
		if (other && other != *found && (!h->value_int(other, &v) || v != *out))
			return h->value_error(ctx, other, "disagrees with '%s' (%lld)", h->value_name(*found), *out);
	}
	return KV_OK;
}

static int no_moe_keys(const struct kv_host *h, struct kv_ctx *ctx, const char *path, const char *facts)
{
	return h->error(ctx, "%s: none of the MoE keys n_routed_experts, num_local_experts, num_experts "
			"(top level or text_config) with num_experts_per_tok or experts_per_token: "
			"active parameters (cost = \"parameters_active\") need them; for a dense model "
			"set \"dense\": true in %s", path, facts);
}

struct moe { long long experts, per_token; const char *experts_key, *per_token_key; };

static int read_moe(const struct kv_host *h, struct kv_ctx *ctx, const char *path, const char *facts,
		    int need, struct moe *m)
{
	const struct kv_value *root, *ev, *kv;
	m->experts = m->per_token = 0;
	if (h->json_load(ctx, path, &root))
		return KV_ERR_INPUT;
	if (h->value_type(root) != KV_T_GROUP)
		return h->value_error(ctx, root, "config.json holds one JSON object");
	const struct kv_value *scope = moe_scope(h, root);
	int rc = moe_number(h, ctx, scope, routed_keys, &ev, &m->experts);
	if (!rc)
		rc = moe_number(h, ctx, scope, per_token_keys, &kv, &m->per_token);
	if (rc || (!ev && !kv))
		return rc ? rc : need ? no_moe_keys(h, ctx, path, facts) : KV_OK;
	if (!ev || !kv)
		return h->value_error(ctx, ev ? ev : kv, "is set but %s is not", ev ?
				      "none of num_experts_per_tok, experts_per_token" :
				      "none of n_routed_experts, num_local_experts, num_experts");
	if (m->per_token > m->experts)
		return h->value_error(ctx, kv, "%lld experts per token is more than the %lld routed experts",
				      m->per_token, m->experts);
	m->experts_key = h->value_name(ev);
	m->per_token_key = h->value_name(kv);
	return KV_OK;
}

static int set_active(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *path,
		      const struct moe *m, const char *pattern, const struct count *c, struct cost_facts *f)
{
	if (c->routed_tensors == 0)
		return h->error(ctx, "%s: %s = %lld routed experts, but no tensor name contains '%s' "
				"(param expert_pattern)", path, m->experts_key, m->experts, pattern);
	if (c->routed % (uint64_t)m->experts)
		return h->error(ctx, "%s: the routed-expert tensors hold %llu parameters, not a multiple of "
				"%s = %lld (experts of unequal size, or a wrong expert_pattern?)", path,
				(unsigned long long)c->routed, m->experts_key, m->experts);
	uint64_t per_expert = c->routed / (uint64_t)m->experts;
	f->active.present = 1;
	f->active.value = (double)(c->total - c->routed + per_expert * (uint64_t)m->per_token);
	snprintf(f->active.from, sizeof f->active.from, "%s: %s = %lld, %s = %lld; active = other "
		 "parameters + routed-expert parameters x %lld / %lld", path, m->experts_key, m->experts,
		 m->per_token_key, m->per_token, m->per_token, m->experts);
	h->evidence_num(ctx, team, "routed_experts", (double)m->experts);
	h->evidence_num(ctx, team, "experts_per_token", (double)m->per_token);
	return KV_OK;
}

static int count_active(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *facts,
			const char *dir, const struct cost_options *opt, const struct count *c,
			struct cost_facts *f)
{
	char path[COST_PATH_MAX];
	struct moe m;
	int need = opt->measure == COST_ACTIVE;
	if (join(h, ctx, path, dir, "config.json"))
		return KV_ERR_INPUT;
	if (h->input_kind(ctx, path) != 1)
		return need ? h->error(ctx, "%s: missing: active parameters (cost = \"parameters_active\") "
				       "need its MoE keys; for a dense model set \"dense\": true in %s",
				       path, facts) : KV_OK;
	int rc = read_moe(h, ctx, path, facts, need, &m);
	if (rc || !m.experts)
		return rc;
	return set_active(h, ctx, team, path, &m, opt->expert_pattern, c, f);
}

static int dense_active(const struct kv_host *h, struct kv_ctx *ctx, const char *facts,
			const struct cost_options *opt, const struct count *c, struct cost_facts *f)
{
	if (c->routed_tensors)
		return h->error(ctx, "%s: 'dense' is true, but %zu tensor names contain '%s' (routed "
				"experts; param expert_pattern)", facts, c->routed_tensors, opt->expert_pattern);
	f->active.present = 1;
	f->active.value = (double)c->total;
	snprintf(f->active.from, sizeof f->active.from, "%s: dense = true, so active = total", facts);
	return KV_OK;
}

int cost_count_model(const struct kv_host *h, struct kv_ctx *ctx, size_t team, const char *facts,
		     const char *model_dir, int dense, const struct cost_options *opt,
		     struct cost_facts *f)
{
	struct count c = {0, 0, 0, 0, 0};
	int rc = count_tensors(h, ctx, facts, model_dir, opt->expert_pattern, &c);
	if (rc)
		return rc;
	h->evidence_str(ctx, team, "model", "%s", model_dir);
	h->evidence_num(ctx, team, "model_files", (double)c.files);
	h->evidence_num(ctx, team, "model_tensors", (double)c.tensors);
	h->evidence_num(ctx, team, "routed_expert_parameters", (double)c.routed);
	h->evidence_num(ctx, team, "other_parameters", (double)(c.total - c.routed));
	f->total.present = 1;
	f->total.value = (double)c.total;
	snprintf(f->total.from, sizeof f->total.from, "%s: sum of numel over %zu tensors in %zu "
		 "safetensors file%s", model_dir, c.tensors, c.files, c.files == 1 ? "" : "s");
	if (c.total == 0)
		return h->error(ctx, "%s: 'model': '%s' holds no parameters", facts, model_dir);
	return dense ? dense_active(h, ctx, facts, opt, &c, f)
		: count_active(h, ctx, team, facts, model_dir, opt, &c, f);
}

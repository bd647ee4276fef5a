/* T3, the invariants test, in the license gate: small Llama-style models
 * written here, fingerprinted with `kaieval fingerprint --invariants`,
 * judged by the plugin.
 *
 * Reference library (fp/): base (seed 1) and other (seed 2), unrelated
 * (baselines.csv).  Teams, each a disguise of base or a model of its own:
 *   permuted   base with its hidden units permuted (embedding columns,
 *              readers' columns, writers' rows, norms)           -> fail (T3)
 *   rotated    base with its norm gains folded into the matrices after the
 *              norms (gains then 1), then its hidden units rotated by a random
 *              orthogonal matrix: the same function                -> fail (T3)
 *   tunedperm  base + noise of 0.15 sd on every tensor, then permuted -> fail
 *   clean      independent (seed 17)                               -> pass
 *   upstage    independent (seed 13), norm weights near 1: the vectors' raw
 *              cosine with base's is 0.99 and r 0                  -> pass
 *   legacy     permuted, in format version 3 (no invariants): T3 is not
 *              available and the verdict is the earlier one        -> pass */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "test_forensics_util.h"

extern const struct kv_plugin kaieval_plugin_license;

#define V 256        /* vocabulary */
#define D 64         /* hidden units */
#define FF 128       /* MLP width */
#define L 6          /* layers */
#define K 32         /* the format's token rows */
#define PER 9        /* q k v o gate up down, two norms */
#define NT (1 + L * PER)

static const char *const roles[PER] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
				       "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
				       "input_layernorm", "post_attention_layernorm"};
static const size_t rows_of[PER] = {D, D, D, D, FF, FF, D, 1, 1};
static const size_t cols_of[PER] = {D, D, D, D, D, D, FF, D, D};
/* How the hidden dimension enters: 0 columns (reader), 1 rows (writer), 2 a norm. */
static const int side_of[PER] = {0, 0, 0, 1, 0, 0, 1, 2, 2};

struct model {
	float *v[NT];     /* 0: the embedding (V x D); then layer l, role r at 1 + l * PER + r */
};

static size_t rows(int i) { return i ? rows_of[(i - 1) % PER] : V; }
static size_t cols(int i) { return i ? cols_of[(i - 1) % PER] : D; }
static int side(int i) { return i ? side_of[(i - 1) % PER] : 0; }

static void name_of(int i, char *out, size_t n)
{
	if (!i)
		snprintf(out, n, "model.embed_tokens.weight");
	else
		snprintf(out, n, "model.layers.%d.%s.weight", (i - 1) / PER, roles[(i - 1) % PER]);
}

/* Matrices N(0, 0.02^2); norms 1 + N(0, 0.1^2). */
static void generate(struct model *m, uint64_t seed)
{
	struct syn_rng r = {.s = seed * 0x9e3779b97f4a7c15ull + 1};
	for (int i = 0; i < NT; i++) {
		m->v[i] = kv_xmalloc(rows(i) * cols(i) * sizeof(float));
		for (size_t k = 0; k < rows(i) * cols(i); k++)
			m->v[i][k] = (float)(side(i) == 2 ? 1 + 0.1 * syn_gauss(&r) : 0.02 * syn_gauss(&r));
	}
}

static void free_model(struct model *m)
{
	for (int i = 0; i < NT; i++)
		free(m->v[i]);
}

/* out = in with the hidden dimension mapped by the D x D matrix q (x -> q x):
 * readers and the embedding W q^T, writers q W, norms q g. */
static void transform(struct model *out, const struct model *in, const double *q)
{
	for (int i = 0; i < NT; i++) {
		size_t nr = rows(i), nc = cols(i);
		out->v[i] = kv_xcalloc(nr * nc, sizeof(float));
		for (size_t a = 0; a < nr; a++)
			for (size_t b = 0; b < nc; b++) {
				double s = 0;
				for (size_t j = 0; j < D; j++)
					s += side(i) == 1 ? q[a * D + j] * in->v[i][j * nc + b]
						: q[b * D + j] * in->v[i][a * nc + j];
				out->v[i][a * nc + b] = (float)s;
			}
	}
}

/* A permutation matrix (Fisher-Yates from seed). */
static void permutation(double *q, uint64_t seed)
{
	struct syn_rng r = {.s = seed};
	size_t p[D];
	for (size_t i = 0; i < D; i++)
		p[i] = i;
	for (size_t i = D - 1; i > 0; i--) {
		size_t j = (size_t)(syn_uniform(&r) * (double)(i + 1)) % (i + 1), t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	memset(q, 0, D * D * sizeof *q);
	for (size_t i = 0; i < D; i++)
		q[i * D + p[i]] = 1;
}

/* A random orthogonal matrix: Gram-Schmidt (twice) on Gaussian rows. */
static void rotation(double *q, uint64_t seed)
{
	struct syn_rng r = {.s = seed};
	for (size_t i = 0; i < D * D; i++)
		q[i] = syn_gauss(&r);
	for (size_t i = 0; i < D; i++) {
		for (int pass = 0; pass < 2; pass++)
			for (size_t j = 0; j < i; j++) {
				double d = 0;
				for (size_t k = 0; k < D; k++)
					d += q[i * D + k] * q[j * D + k];
				for (size_t k = 0; k < D; k++)
					q[i * D + k] -= d * q[j * D + k];
			}
		double n = 0;
		for (size_t k = 0; k < D; k++)
			n += q[i * D + k] * q[i * D + k];
		for (size_t k = 0; k < D; k++)
			q[i * D + k] /= sqrt(n);
	}
}

static void unit_gains(struct model *m)
{
	for (int l = 0; l < L; l++)
		for (int r = 7; r < 9; r++)
			for (size_t b = 0; b < D; b++)
				m->v[1 + l * PER + r][b] = 1;
}

/* Each norm's gains into the columns of the matrices that read its output
 * (q, k, v after the first, gate and up after the second); gains become 1. */
static void fold_gains(struct model *m)
{
	for (int l = 0; l < L; l++)
		for (int r = 0; r < 7; r++) {
			float *w = m->v[1 + l * PER + r];
			const float *g = m->v[1 + l * PER + (r < 3 ? 7 : 8)];
			if (side_of[r] != 0)
				continue;
			for (size_t a = 0; a < rows_of[r]; a++)
				for (size_t b = 0; b < D; b++)
					w[a * D + b] *= g[b];
		}
	unit_gains(m);
}

static void add_noise(struct model *m, double share, uint64_t seed)
{
	struct syn_rng r = {.s = seed};
	for (int i = 0; i < NT; i++)
		for (size_t k = 0; k < rows(i) * cols(i); k++)
			m->v[i][k] += (float)(share * (side(i) == 2 ? 0.1 : 0.02) * syn_gauss(&r));
}

/* Write the model as bf16 into dir/models/name and fingerprint it into
 * dir/d/fp (with the invariants). */
static void fingerprint(const char *dir, const char *name, const struct model *m, const char *fp)
{
	struct syn_tensor t[NT];
	uint8_t *bytes[NT];
	char names[NT][96];
	for (int i = 0; i < NT; i++) {
		name_of(i, names[i], sizeof names[i]);
		bytes[i] = syn_bf16_bytes(m->v[i], rows(i) * cols(i));
		t[i] = (struct syn_tensor){names[i], "BF16", side(i) == 2 ? 1 : 2,
					   {side(i) == 2 ? cols(i) : rows(i), cols(i)}, bytes[i], 2 * rows(i) * cols(i)};
	}
	char *keep = kv_xasprintf("models/%s/.keep", name), *mdir = kv_xasprintf("%s/models/%s", dir, name);
	kvt_write(dir, keep, "");
	char *file = kv_xasprintf("%s/model.safetensors", mdir), *out = kv_xasprintf("%s/d/%s", dir, fp);
	syn_write(file, t, NT);
	char *err = NULL;
	cr_assert_eq(syn_kaieval(&err, mdir, "-o", out, "--invariants", NULL), 0, "%s", err);
	free(err);
	for (int i = 0; i < NT; i++)
		free(bytes[i]);
	free(keep);
	free(mdir);
	free(file);
	free(out);
}

/* The fingerprint at path as version 3 wrote it: no invariants member. */
static void make_legacy(const char *dir, const char *from, const char *to)
{
	char *path = kv_xasprintf("%s/d/%s", dir, from), *text = kvt_read(path);
	char *v = strstr(text, "\"version\": 4"), *inv = strstr(text, ",\n  \"invariants\": ");
	cr_assert(v && inv);
	v[11] = '3';
	strcpy(inv, "\n}\n");
	char *rel = kv_xasprintf("d/%s", to);
	kvt_write(dir, rel, text);
	free(rel);
	free(path);
	free(text);
}

#define TEAMS "permuted rotated tunedperm clean upstage legacy"


static struct model base;

static void build(const char *dir)
{
	struct model other, t, u;
	double q[D * D];
	kvt_write(dir, "d/fp/teams/.keep", "");
	generate(&base, 1);
	generate(&other, 2);
	fingerprint(dir, "base", &base, "fp/base.json");
	fingerprint(dir, "other", &other, "fp/other.json");
	kvt_write(dir, "d/fp/baselines.csv", "a,b,relation\nbase,other,unrelated\n");
	permutation(q, 5);
	transform(&t, &base, q);
	fingerprint(dir, "permuted", &t, "fp/teams/permuted.json");
	make_legacy(dir, "fp/teams/permuted.json", "fp/teams/legacy.json");
	free_model(&t);
	generate(&u, 1);
	fold_gains(&u);
	rotation(q, 6);
	transform(&t, &u, q);
	unit_gains(&t);       /* unit gains, rotated, are unit gains */
	fingerprint(dir, "rotated", &t, "fp/teams/rotated.json");
	free_model(&t);
	free_model(&u);
	generate(&u, 1);
	add_noise(&u, 0.15, 7);
	permutation(q, 8);
	transform(&t, &u, q);
	fingerprint(dir, "tunedperm", &t, "fp/teams/tunedperm.json");
	free_model(&t);
	free_model(&u);
	generate(&t, 17);
	fingerprint(dir, "clean", &t, "fp/teams/clean.json");
	free_model(&t);
	generate(&t, 13);
	fingerprint(dir, "upstage", &t, "fp/teams/upstage.json");
	free_model(&t);
	free_model(&other);
}

static struct kv_run *judge(const char *dir)
{
	kv_register_builtin(&kaieval_plugin_license);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(kvt_run(cfg, &run, &err), 0, "%s", err.msg);
	free(cfg);
	return run;
}




/* A copy under any disguise of the hidden units fails by T3 alone. */
static void assert_caught(const struct kv_run *run, const char *team, double min_r)
{
	cr_assert_not(syn_lic_passes(run, team), "%s passes", team);
	const char *f = syn_lic_finding(run, team, "invariant-similarity | backbone |");
	cr_assert(f && strstr(f, "reference 'base'"), "%s: %s", team, f);
	cr_assert(syn_lic_num(run, team, "forensics.t3.base.similarity") > min_r, "%s: r %g", team,
		  syn_lic_num(run, team, "forensics.t3.base.similarity"));
	cr_assert(syn_lic_num(run, team, "forensics.t3.base.z") > 10, "%s: z %g", team, syn_lic_num(run, team, "forensics.t3.base.z"));
	/* T1 and T2 see nothing: the disguise works against them. */
	cr_assert_null(syn_lic_finding(run, team, "tensor-identity"));
	cr_assert_null(syn_lic_finding(run, team, "tensor-correlation"));
	cr_assert(fabs(syn_lic_num(run, team, "forensics.t2.base.similarity")) < 0.2);
	/* Against the unrelated reference T3 stays in its null. */
	cr_assert(fabs(syn_lic_num(run, team, "forensics.t3.other.z")) < 5, "%s: z %g against other", team,
		  syn_lic_num(run, team, "forensics.t3.other.z"));
}

static void assert_clean(const struct kv_run *run, const char *team)
{
	cr_assert(syn_lic_passes(run, team), "%s fails", team);
	cr_assert_eq(syn_lic_num(run, team, "findings"), 0);
	cr_assert_eq(syn_lic_num(run, team, "findings_reported_only"), 0);
	for (int r = 0; r < 2; r++) {
		char key[64];
		snprintf(key, sizeof key, "forensics.t3.%s.z", r ? "other" : "base");
		double z = syn_lic_num(run, team, key);
		snprintf(key, sizeof key, "forensics.t3.%s.similarity", r ? "other" : "base");
		cr_assert(fabs(z) < 5 && fabs(syn_lic_num(run, team, key)) < 0.2, "%s: %s %g, z %g", team, key,
			  syn_lic_num(run, team, key), z);
	}
}

Test(forensics_t3, disguised_copies_fail_independent_models_pass)
{
	char *dir = kvt_tempdir();
	build(dir);
	syn_lic_round(dir, TEAMS, "");
	struct kv_run *run = judge(dir);

	assert_caught(run, "permuted", 0.99);
	assert_caught(run, "rotated", 0.99);
	assert_caught(run, "tunedperm", 0.5);
	assert_clean(run, "clean");

	/* upstage: the norm vectors' raw cosine 0.99 (T2's sentence), r near 0, T3 near 0. */
	assert_clean(run, "upstage");
	const char *s = kvt_evidence_str(run, "lic", "upstage", "forensics.base.backbone");
	const char *v = s ? strstr(s, "vectors: median r ") : NULL;
	double vr, vcos;
	cr_assert(v && sscanf(v, "vectors: median r %lf, raw cosine %lf", &vr, &vcos) == 2, "%s", s);
	cr_assert(fabs(vr) < 0.15 && vcos > 0.98, "r %g cosine %g", vr, vcos);

	/* legacy: format 3 loads; T3 is not available and says why; the
	 * permutation is only reported, as before. */
	cr_assert(syn_lic_passes(run, "legacy"));
	s = kvt_evidence_str(run, "lic", "legacy", "forensics.t3.base");
	cr_assert(s && strstr(s, "not available") && strstr(s, "version 1 to 3"), "%s", s);
	cr_assert(syn_lic_finding(run, "legacy", "possible-permuted-copy | backbone |"));
	cr_assert_eq(syn_lic_num(run, "legacy", "findings"), 0);

	/* Every test is standardized against a null with a positive spread. */
	static const char *const tests[] = {"t1", "t2", "t3"};
	for (int i = 0; i < 3; i++) {
		char key[64];
		snprintf(key, sizeof key, "forensics.%s.base.baseline_sd", tests[i]);
		cr_assert(syn_lic_num(run, "clean", key) > 0, "%s", key);
	}
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
	free_model(&base);
}

/* Standard base64 decoding (RFC 4648), into at most cap bytes. */
static size_t unbase64(const char *s, unsigned char *out, size_t cap)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		const char *d = strchr(digits, *s);
		cr_assert(d && *d);
		acc = acc << 6 | (uint32_t)(d - digits);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			cr_assert(n < cap);
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* The stored qk product of layer 0 equals (E diag(g) W_q^T)(E diag(g) W_k^T)^T
 * computed here from the bf16 weights, with the token rows of the written
 * rule and g the gains of the layer's first norm. */
static double stored_vs_direct(const char *fp_path, const struct model *m)
{
	char *text = kvt_read(fp_path);
	cJSON *root = cJSON_Parse(text);
	const cJSON *inv = cJSON_GetObjectItem(root, "invariants");
	cr_assert(cJSON_IsObject(inv), "no invariants");
	cr_assert_eq(cJSON_GetObjectItem(inv, "tokens")->valueint, K);
	cr_assert_eq(cJSON_GetObjectItem(inv, "vocab")->valueint, V);
	const cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(inv, "layers"), 0);
	const char *b64 = cJSON_GetObjectItem(l0, "qk")->valuestring;
	unsigned char raw[4 * K * K + 4];
	cr_assert_eq(unbase64(b64, raw, sizeof raw), 4 * K * K);
	double worst = 0, scale = 0;
	for (size_t a = 0; a < K; a++)
		for (size_t b = 0; b < K; b++) {
			size_t ta = (2 * a + 1) * V / (2 * K), tb = (2 * b + 1) * V / (2 * K);
			double s = 0;
			for (size_t i = 0; i < D; i++) {
				double xa = 0, xb = 0;
				for (size_t j = 0; j < D; j++) {
					double g = syn_from_bf16(syn_bf16(m->v[1 + 7][j]));
					xa += syn_from_bf16(syn_bf16(m->v[0][ta * D + j])) * g *
					      syn_from_bf16(syn_bf16(m->v[1][i * D + j]));
					xb += syn_from_bf16(syn_bf16(m->v[0][tb * D + j])) * g *
					      syn_from_bf16(syn_bf16(m->v[2][i * D + j]));
				}
				s += xa * xb;
			}
			uint32_t bits = (uint32_t)raw[4 * (a * K + b)] | (uint32_t)raw[4 * (a * K + b) + 1] << 8 |
					(uint32_t)raw[4 * (a * K + b) + 2] << 16 | (uint32_t)raw[4 * (a * K + b) + 3] << 24;
			float got;
			memcpy(&got, &bits, sizeof got);
			worst = fmax(worst, fabs(got - s));
			scale = fmax(scale, fabs(s));
		}
	cJSON_Delete(root);
	free(text);
	return worst / scale;
}

Test(forensics_t3, invariants_are_the_written_products)
{
	char *dir = kvt_tempdir();
	struct model m;
	generate(&m, 3);
	kvt_write(dir, "d/.keep", "");
	fingerprint(dir, "m", &m, "m.json");
	char *path = kv_xasprintf("%s/d/m.json", dir);
	cr_assert(stored_vs_direct(path, &m) < 1e-6);
	/* The same bytes again, with any thread count. */
	char *again = kv_xasprintf("%s/d/again.json", dir), *mdir = kv_xasprintf("%s/models/m", dir);
	cr_assert_eq(syn_kaieval(NULL, mdir, "-o", again, "--invariants", "-j", "1", NULL), 0);
	char *a = kvt_read(path), *b = kvt_read(again);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(again);
	free(mdir);
	free(path);
	free_model(&m);
	kvt_rmtree(dir);
	free(dir);
}

Test(forensics_t3, invariants_option_is_checked)
{
	char *dir = kvt_tempdir(), *err = NULL;
	struct model m;
	generate(&m, 3);
	kvt_write(dir, "d/.keep", "");
	fingerprint(dir, "m", &m, "m.json");
	char *mdir = kv_xasprintf("%s/models/m", dir), *out = kv_xasprintf("%s/x.json", dir);
	cr_assert_eq(syn_kaieval(&err, mdir, "-o", out, "--invariants", "--hash", "blake3", NULL), 2);
	cr_assert(strstr(err, "--invariants needs format version 4"), "%s", err);
	free(err);
	char *shard = kv_xasprintf("%s/model.safetensors", mdir);
	cr_assert_eq(syn_kaieval(&err, "--shard", shard, "-o", out, "--invariants", NULL), 2);
	cr_assert(strstr(err, "--invariants goes with a whole MODEL_DIR"), "%s", err);
	free(err);
	/* A model without a token embedding: named, exit 2, nothing written. */
	struct syn_tensor t = {"w", "BF16", 2, {4, 4}, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32};
	kvt_write(dir, "plain/.keep", "");
	char *pfile = kv_xasprintf("%s/plain/model.safetensors", dir), *pdir = kv_xasprintf("%s/plain", dir);
	syn_write(pfile, &t, 1);
	cr_assert_eq(syn_kaieval(&err, pdir, "-o", out, "--invariants", NULL), 2);
	cr_assert(strstr(err, "no token embedding"), "%s", err);
	cr_assert_neq(access(out, F_OK), 0);
	free(err);
	free(pfile);
	free(pdir);
	free(shard);
	free(mdir);
	free(out);
	free_model(&m);
	kvt_rmtree(dir);
	free(dir);
}

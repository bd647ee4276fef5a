/* Weight forensics in the license gate: synthetic models written here,
 * fingerprinted with the real `kaieval fingerprint`, judged by the plugin.
 *
 * Reference library (fp/): base (seed 1), deriv = base + noise (a known
 * derivative), other (seed 2, unrelated), and baselines.csv naming the two
 * pairs.  Teams:
 *   frozen    vision tower copied byte for byte from base     -> fail (T1)
 *   tuned     base + noise of 0.15 sd, r = 1/sqrt(1.0225)      -> fail (T2)
 *   upstage   independent; norm weights all near 1 (sd 0.1), so their raw
 *             cosine with base's is 1/(1 + 0.1^2) = 0.99 yet r = 0 -> pass
 *   permuted  backbone = base's matrices with rows reordered   -> pass, reported
 *   clean     independent                                      -> pass, no finding
 *   rho0/5/9  embeddings = rho base + sqrt(1 - rho^2) noise: the sampled r
 *             against the full-tensor r computed here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_forensics_util.h"

extern const struct kv_plugin kaieval_plugin_license;

#define R 256
#define C 384
#define N (R * C)
#define NT 10

static const char *const names[NT] = {
	"visual.blocks.0.attn.qkv.weight", "visual.blocks.0.mlp.fc1.weight", "visual.blocks.0.norm1.weight",
	"model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.up_proj.weight",
	"model.layers.1.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight",
	"model.layers.0.input_layernorm.weight", "model.layers.1.input_layernorm.weight",
	"model.embed_tokens.weight",
};
static const int is_norm[NT] = {0, 0, 1, 0, 0, 0, 0, 1, 1, 0};
static const int is_vision[NT] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
static const int is_backbone_matrix[NT] = {0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
#define EMBED 9

struct model {
	float *v[NT];
};

static size_t count_of(int i)
{
	return is_norm[i] ? C : N;
}

/* Matrices N(0, 0.02^2); norms 1 + N(0, 0.1^2), all positive in practice. */
static void generate(struct model *m, uint64_t seed)
{
	struct syn_rng r = {.s = seed * 0x9e3779b97f4a7c15ull + 1};
	for (int i = 0; i < NT; i++) {
		m->v[i] = kv_xmalloc(count_of(i) * sizeof(float));
		for (size_t k = 0; k < count_of(i); k++)
			m->v[i][k] = (float)(is_norm[i] ? 1 + 0.1 * syn_gauss(&r) : 0.02 * syn_gauss(&r));
	}
}

/* m = rho * ref + sqrt(1 - rho^2) * fresh noise of the same scale, for tensor i. */
static void mix(struct model *m, const struct model *ref, int i, double rho, uint64_t seed)
{
	struct syn_rng r = {.s = seed};
	double sd = is_norm[i] ? 0.1 : 0.02, mean = is_norm[i] ? 1 : 0;
	for (size_t k = 0; k < count_of(i); k++)
		m->v[i][k] = (float)(mean + rho * (ref->v[i][k] - mean) + sqrt(1 - rho * rho) * sd * syn_gauss(&r));
}

static void copy_tensor(struct model *m, const struct model *ref, int i)
{
	memcpy(m->v[i], ref->v[i], count_of(i) * sizeof(float));
}

/* Rows in reverse order. */
static void reverse_rows(struct model *m, const struct model *ref, int i)
{
	for (size_t row = 0; row < R; row++)
		memcpy(m->v[i] + row * C, ref->v[i] + (R - 1 - row) * C, C * sizeof(float));
}

static void free_model(struct model *m)
{
	for (int i = 0; i < NT; i++)
		free(m->v[i]);
}

/* The content hash fingerprints are made with: NULL for the default. */
static const char *fp_hash;

/* Write the model as bf16 and fingerprint it into dir/d/<fp>. */
static void fingerprint(const char *dir, const char *name, const struct model *m, const char *fp)
{
	struct syn_tensor t[NT];
	uint8_t *bytes[NT];
	for (int i = 0; i < NT; i++) {
		bytes[i] = syn_bf16_bytes(m->v[i], count_of(i));
		t[i] = (struct syn_tensor){names[i], "BF16", is_norm[i] ? 1 : 2, {is_norm[i] ? C : R, C},
					   bytes[i], 2 * count_of(i)};
	}
	char *mdir = kv_xasprintf("%s/models/%s", dir, name), *keep = kv_xasprintf("models/%s/.keep", name);
	kvt_write(dir, keep, "");
	char *file = kv_xasprintf("%s/model.safetensors", mdir), *out = kv_xasprintf("%s/d/%s", dir, fp);
	syn_write(file, t, NT);
	char *err = NULL;
	cr_assert_eq(syn_kaieval(&err, mdir, "-o", out, fp_hash ? "--hash" : NULL, fp_hash, NULL), 0, "%s", err);
	free(err);
	for (int i = 0; i < NT; i++)
		free(bytes[i]);
	free(mdir);
	free(keep);
	free(file);
	free(out);
}

/* Pearson r of tensor i of a and b after rounding to bf16, as stored. */
static double stored_r(const struct model *a, const struct model *b, int i)
{
	float *x = kv_xmalloc(count_of(i) * sizeof(float)), *y = kv_xmalloc(count_of(i) * sizeof(float));
	for (size_t k = 0; k < count_of(i); k++) {
		x[k] = syn_from_bf16(syn_bf16(a->v[i][k]));
		y[k] = syn_from_bf16(syn_bf16(b->v[i][k]));
	}
	double r = syn_pearson(x, y, count_of(i));
	free(x);
	free(y);
	return r;
}

#define TEAMS "frozen tuned upstage permuted clean rho0 rho5 rho9"


static double full_r[3];    /* rho0, rho5, rho9 against base, embeddings */

static void build(const char *dir)
{
	struct model base, deriv, other, t;
	kvt_write(dir, "d/fp/teams/.keep", "");
	generate(&base, 1);
	generate(&deriv, 101);
	for (int i = 0; i < NT; i++)
		mix(&deriv, &base, i, 1 / sqrt(1.0225), 700 + (uint64_t)i);
	generate(&other, 2);
	fingerprint(dir, "base", &base, "fp/base.json");
	fingerprint(dir, "deriv", &deriv, "fp/deriv.json");
	fingerprint(dir, "other", &other, "fp/other.json");
	kvt_write(dir, "d/fp/baselines.csv", "a,b,relation\nbase,deriv,derivative\nbase,other,unrelated\n");
	generate(&t, 11);
	for (int i = 0; i < NT; i++)
		if (is_vision[i])
			copy_tensor(&t, &base, i);
	fingerprint(dir, "frozen", &t, "fp/teams/frozen.json");
	for (int i = 0; i < NT; i++)
		mix(&t, &base, i, 1 / sqrt(1.0225), 900 + (uint64_t)i);
	fingerprint(dir, "tuned", &t, "fp/teams/tuned.json");
	free_model(&t);
	generate(&t, 13);
	fingerprint(dir, "upstage", &t, "fp/teams/upstage.json");
	for (int i = 0; i < NT; i++)
		if (is_backbone_matrix[i])
			reverse_rows(&t, &base, i);
	fingerprint(dir, "permuted", &t, "fp/teams/permuted.json");
	free_model(&t);
	generate(&t, 17);
	fingerprint(dir, "clean", &t, "fp/teams/clean.json");
	static const double rho[3] = {0, 0.5, 0.9};
	static const char *const fps[3] = {"fp/teams/rho0.json", "fp/teams/rho5.json", "fp/teams/rho9.json"};
	for (int k = 0; k < 3; k++) {
		mix(&t, &base, EMBED, rho[k], 1000 + (uint64_t)k);
		full_r[k] = stored_r(&t, &base, EMBED);
		fingerprint(dir, fps[k] + 9, &t, fps[k]);
	}
	free_model(&t);
	free_model(&base);
	free_model(&deriv);
	free_model(&other);
}

static int run_in(const char *dir, struct kv_run **run, struct kv_error *err)
{
	kv_register_builtin(&kaieval_plugin_license);
	char *cfg = kv_xasprintf("%s/r.cfg", dir);
	int rc = kvt_run(cfg, run, err);
	free(cfg);
	return rc;
}




Test(forensics_gate, stage_one_cases, .timeout = 120)
{
	char *dir = kvt_tempdir();
	build(dir);
	syn_lic_round(dir, TEAMS, "");
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);

	/* frozen: 2 of the 3 vision tensors identical (the 384-value norm is
	 * below identity_min_elements), printed beside both baselines. */
	cr_assert_not(syn_lic_passes(run, "frozen"));
	const char *f = syn_lic_finding(run, "frozen", "tensor-identity | vision |");
	cr_assert(f && strstr(f, "2 of the 3 vision tensors") && strstr(f, "reference 'base'"), "%s", f);
	cr_assert(strstr(f, "derivative base -> deriv") && strstr(f, "unrelated base / other"), "%s", f);
	cr_assert_eq(syn_lic_num(run, "frozen", "forensics.base.vision.identical"), 2);
	cr_assert_eq(syn_lic_num(run, "frozen", "forensics.base.backbone.identical"), 0);
	cr_assert_null(syn_lic_finding(run, "frozen", "tensor-correlation | backbone"));

	/* tuned: r = 0.989 on every matrix, against base and against deriv. */
	cr_assert_not(syn_lic_passes(run, "tuned"));
	f = syn_lic_finding(run, "tuned", "tensor-correlation | backbone |");
	cr_assert(f && strstr(f, "on 4 of the 4 backbone matrices") && strstr(f, "raw cosine"), "%s", f);
	cr_assert_eq(syn_lic_num(run, "tuned", "forensics.base.backbone.share"), 1);
	cr_assert(fabs(syn_lic_num(run, "tuned", "forensics.base.backbone.median_r") - 1 / sqrt(1.0225)) < 0.003);
	cr_assert_eq(syn_lic_num(run, "tuned", "forensics.base.backbone.identical"), 0);

	/* upstage: vectors' raw cosine 0.99, Pearson near 0; nothing fails. */
	cr_assert(syn_lic_passes(run, "upstage"));
	const char *s = kvt_evidence_str(run, "lic", "upstage", "forensics.base.backbone");
	const char *v = s ? strstr(s, "vectors: median r ") : NULL;
	double vr, vcos;
	cr_assert(v && sscanf(v, "vectors: median r %lf, raw cosine %lf", &vr, &vcos) == 2, "%s", s);
	cr_assert(fabs(vr) < 0.15 && vcos > 0.98, "r %g cosine %g", vr, vcos);
	cr_assert(fabs(syn_lic_num(run, "upstage", "forensics.base.backbone.median_r")) < 0.1);
	cr_assert_eq(syn_lic_num(run, "upstage", "findings"), 0);

	/* permuted: no identity, no correlation, but reported. */
	cr_assert(syn_lic_passes(run, "permuted"));
	f = syn_lic_finding(run, "permuted", "possible-permuted-copy | backbone |");
	cr_assert(f && strstr(f, "4 backbone tensors") && strstr(f, "reference 'base'"), "%s", f);
	cr_assert_eq(syn_lic_num(run, "permuted", "findings_reported_only"), 1);

	cr_assert(syn_lic_passes(run, "clean"));
	cr_assert_eq(syn_lic_num(run, "clean", "findings"), 0);
	cr_assert_eq(syn_lic_num(run, "clean", "findings_reported_only"), 0);

	/* The standardized scores: a copied tower stands out in T1 (2 of 10
	 * tensors, against an unrelated pair's 0), the fine-tune in T2 (its
	 * median r of 0.989 against other layers' and the unrelated pair's r near
	 * 0, sd at least 1/sqrt(4096)); the clean model in neither.  T3 needs
	 * --invariants fingerprints, which these are not. */
	cr_assert(fabs(syn_lic_num(run, "frozen", "forensics.t1.base.similarity") - 0.2) < 1e-12);
	cr_assert(syn_lic_num(run, "frozen", "forensics.t1.base.z") >= 2);
	cr_assert(syn_lic_num(run, "tuned", "forensics.t2.base.z") > 20);
	cr_assert(fabs(syn_lic_num(run, "clean", "forensics.t2.base.z")) < 4);
	cr_assert_eq(syn_lic_num(run, "clean", "forensics.t1.base.similarity"), 0);
	const char *t3 = kvt_evidence_str(run, "lic", "clean", "forensics.t3.base");
	cr_assert(t3 && strstr(t3, "made without --invariants"), "%s", t3);

	/* The baselines themselves, in the round's evidence. */
	long c = kv_round_criterion_index(run->round, "lic");
	const struct kv_evidence_item *it = kv_evidence_get(&run->results[c].evidence, "forensics.baseline.1");
	cr_assert(it && strstr(it->str, "derivative base -> deriv") && strstr(it->str, "on 4 of 4 matrices"),
		  "%s", it ? it->str : "");
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

Test(forensics_gate, sampled_r_estimates_full_r, .timeout = 120)
{
	/* Standard error of the sampled r: (1 - r^2) / sqrt(4096) (fpsample.h);
	 * allow 4 of them, plus 0.002 for bf16 rounding differences. */
	char *dir = kvt_tempdir();
	build(dir);
	syn_lic_round(dir, TEAMS, "");
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	static const char *const teams[3] = {"rho0", "rho5", "rho9"};
	for (int k = 0; k < 3; k++) {
		double r = syn_lic_num(run, teams[k], "forensics.base.embeddings.median_r");
		double bound = 4 * (1 - full_r[k] * full_r[k]) / 64 + 0.002;
		cr_assert(fabs(r - full_r[k]) < bound, "%s: sampled %g, full %g", teams[k], r, full_r[k]);
	}
	/* rho9 fails on its embeddings alone: one matrix, r 0.9 > 0.5. */
	cr_assert_not(syn_lic_passes(run, "rho9"));
	cr_assert(syn_lic_passes(run, "rho0"));
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

Test(forensics_gate, params_move_the_decision, .timeout = 120)
{
	char *dir = kvt_tempdir();
	build(dir);
	/* With pearson_fail 0.95 the 0.989 copies still fail, the 0.9 one does not. */
	syn_lic_round(dir, TEAMS, "pearson_fail = 0.95;");
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert_not(syn_lic_passes(run, "tuned"));
	cr_assert(syn_lic_passes(run, "rho9"));
	cr_assert(syn_lic_finding(run, "rho9", "tensor-flag | embeddings |"));
	kv_run_free(run);
	/* identity_min_elements above the matrices' size: the copy is not identity. */
	syn_lic_round(dir, TEAMS, "identity_min_elements = 1000000;");
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert_null(syn_lic_finding(run, "frozen", "tensor-identity"));
	kv_run_free(run);
	kvt_rmtree(dir);
	free(dir);
}

Test(forensics_gate, bad_inputs_name_the_file, .timeout = 120)
{
	char *dir = kvt_tempdir();
	build(dir);
	struct kv_run *run;
	struct kv_error err = {0};
	/* A missing team fingerprint. */
	char *p = kv_xasprintf("%s/d/fp/teams/clean.json", dir);
	char *keep = kvt_read(p);
	remove(p);
	syn_lic_round(dir, TEAMS, "");
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "fp/teams/clean.json") && strstr(err.msg, "missing"), "%s", err.msg);
	kvt_write(dir, "d/fp/teams/clean.json", keep);
	/* A reference fingerprint with a broken tensor. */
	char *broken = kv_xstrdup(keep), *at = strstr(broken, "\"numel\": 98304");
	cr_assert_not_null(at);
	memcpy(at, "\"numel\": 98305", 14);
	kvt_write(dir, "d/fp/zzz.json", broken);
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "fp/zzz.json") && strstr(err.msg, "'numel'") && strstr(err.msg, "tensors["),
		  "%s", err.msg);
	/* A version 3 reference whose tensor hash has 64 digits (versions 1 and 2). */
	at = strstr(keep, "\"hash\": \"");
	cr_assert_not_null(at);
	char *long_hash = kv_xasprintf("%.*s00000000000000000000000000000000%s", (int)(at - keep + 9), keep, at + 9);
	kvt_write(dir, "d/fp/zzz.json", long_hash);
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "fp/zzz.json") && strstr(err.msg, "'hash'") &&
		  strstr(err.msg, "32 lowercase hex digits"), "%s", err.msg);
	free(long_hash);
	char *z = kv_xasprintf("%s/d/fp/zzz.json", dir);
	remove(z);
	free(z);
	/* baselines.csv naming a model that is not in the library. */
	kvt_write(dir, "d/fp/baselines.csv", "a,b,relation\nbase,nosuch,derivative\n");
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "baselines.csv") && strstr(err.msg, "'nosuch'"), "%s", err.msg);
	kvt_write(dir, "d/fp/baselines.csv", "a,b,relation\nbase,other,cousin\n");
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "'cousin'"), "%s", err.msg);
	free(p);
	free(keep);
	free(broken);
	kvt_rmtree(dir);
	free(dir);
}

/* A reference library made with an earlier version's hash (`older`: the
 * SHA-256 tree of version 1, BLAKE3 of version 2) still judges a team
 * fingerprinted the same way; a library or a team with another hash is
 * refused, since identity is decided by equal hashes. */
static void older_library_judges_and_never_mixes(const char *older)
{
	char *dir = kvt_tempdir();
	fp_hash = older;
	build(dir);
	fp_hash = NULL;
	syn_lic_round(dir, TEAMS, "");
	struct kv_run *run;
	struct kv_error err = {0};
	cr_assert_eq(run_in(dir, &run, &err), 0, "%s", err.msg);
	cr_assert_not(syn_lic_passes(run, "frozen"));
	cr_assert_eq(syn_lic_num(run, "frozen", "forensics.base.vision.identical"), 2);
	cr_assert_not(syn_lic_passes(run, "tuned"));
	cr_assert(syn_lic_passes(run, "clean"));
	kv_run_free(run);
	/* The team's fingerprint remade with the default hash (version 3). */
	char *p = kv_xasprintf("%s/d/fp/teams/clean.json", dir), *old = kvt_read(p);
	char *want = kv_xasprintf("fp/teams/clean.json: content_hash xxh128-tree-v1 differs from the reference "
				  "fingerprints' %s", older), *remake = kv_xasprintf("--hash %s", older);
	struct model t;
	generate(&t, 17);
	fingerprint(dir, "clean", &t, "fp/teams/clean.json");
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, want) && strstr(err.msg, remake), "%s", err.msg);
	/* A version 3 fingerprint in the reference library. */
	kvt_write(dir, "d/fp/teams/clean.json", old);
	fingerprint(dir, "clean", &t, "fp/zzz.json");
	memset(&err, 0, sizeof err);
	cr_assert_eq(run_in(dir, &run, &err), 2);
	cr_assert(strstr(err.msg, "fp/zzz.json: content_hash xxh128-tree-v1 differs from") &&
		  strstr(err.msg, "made with one hash"), "%s", err.msg);
	free_model(&t);
	free(want);
	free(remake);
	free(p);
	free(old);
	kvt_rmtree(dir);
	free(dir);
}

Test(forensics_gate, version_one_fingerprints_judge_and_never_mix, .timeout = 120)
{
	older_library_judges_and_never_mixes("sha256-tree-v1");
}

Test(forensics_gate, version_two_fingerprints_judge_and_never_mix, .timeout = 120)
{
	older_library_judges_and_never_mixes("blake3");
}

Test(forensics_gate, through_the_binary, .timeout = 120)
{
	char *dir = kvt_tempdir();
	build(dir);
	syn_lic_round(dir, TEAMS, "");
	char *path = kv_xasprintf("%s/r.cfg", dir), *cfg = kvt_read(path), *err = NULL;
	free(path);
	cr_assert_eq(kvt_cli_run(dir, cfg, &err), 0, "%s", err);
	char *out = kv_xasprintf("%s/out.json", dir), *text = kvt_read(out);
	cr_assert(text && strstr(text, "tensor-identity | vision"), "no identity finding in the record");
	free(text);
	free(out);
	free(err);
	free(cfg);
	kvt_rmtree(dir);
	free(dir);
}

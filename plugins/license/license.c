/* license: the independence and licence gate (criteria.md, "license").
 *
 * Reads each team's submission manifest and lists findings; any finding
 * fails the gate (third_party_weights = "report" turns that one rule into
 * evidence only).  The rules, in the order they are reported per component:
 *   third-party-weights   a third-party component with pretrained weights
 *   license-not-allowed   a licence expression outside allowed_licenses
 *   restricted-terms      a licence listed in restricted_terms
 *   missing-attribution   a third-party component with no attribution entry
 *   weight-hash-mismatch  a weight file whose SHA-256 differs from the manifest
 *   tensor-identity       (forensics) a tensor byte-identical to a reference's
 *   tensor-correlation    (forensics) Pearson r above pearson_fail on at least
 *                         fail_share of a component's matrices
 *   invariant-similarity  (forensics) the layers' token-product invariants match
 *                         a reference's far above their null (T3)
 *   tensor-flag, possible-permuted-copy, invariant-flag   (forensics) reported
 * Weight forensics run when `fingerprints` names a folder of reference
 * fingerprints: each team's fingerprint is compared with them (forensics.h). */
#include <kaieval/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forensics.h"
#include "manifest.h"
#include "policy.h"
#include "text.h"

static const struct kv_param_decl params[] = {
	{"manifest", KV_T_PATH, 1, NULL, NULL,
	 "per-team submission manifest (JSON), e.g. \"manifests/{team}.json\""},
	{"allowed_licenses", KV_T_LIST, 1, NULL, NULL,
	 "SPDX licence ids (and LicenseRef-... ids) allowed for the model and its components"},
	{"restricted_terms", KV_T_PATH, 0, NULL, NULL,
	 "license,term[,clause] table of licences whose terms impose outside control"},
	{"third_party_weights", KV_T_STRING, 0, "fail", "fail|report",
	 "a third-party component with pretrained weights fails the gate, or is only reported"},
	{"fingerprints", KV_T_PATH, 0, NULL, NULL,
	 "folder of reference fingerprints (`kaieval fingerprint` output, plus baselines.csv), all made with "
	 "one content hash (--hash); runs the forensics"},
	{"team_fingerprint", KV_T_PATH, 0, NULL, NULL,
	 "each team's fingerprint (default: FINGERPRINTS/teams/{team}.json)"},
	{"pearson_flag", KV_T_FLOAT, 0, "0.1", NULL,
	 "forensics: per-matrix Pearson r that flags a matrix (reported)"},
	{"pearson_fail", KV_T_FLOAT, 0, "0.5", NULL,
	 "forensics: per-matrix Pearson r that counts towards failing a component"},
	{"fail_share", KV_T_FLOAT, 0, "0.25", NULL,
	 "forensics: share of a component's matrices (rank >= 2) above pearson_fail that fails it"},
	{"identity_min_elements", KV_T_INT, 0, "1024", NULL,
	 "forensics: smaller tensors never count as identical to a reference's"},
	{NULL, 0, 0, NULL, NULL, NULL},
};

struct state {
	struct policy policy;
	const char *manifest;       /* path template with {team} */
	int report_weights;         /* third_party_weights = "report" */
	const char *fingerprints;   /* NULL when not given */
	char *team_fingerprint;     /* path template with {team} */
	struct forensics_params fp;
	struct forensics *forensics;  /* loaded in evaluate */
};

struct finding {
	const char *rule;
	const char *component;      /* a component name, or "model" */
	char *sentence;
	int fails;                  /* 0: reported only */
};

struct findings {
	struct finding *v;
	size_t count;
	int nomem;
};

/* Takes the sentence out of t. */
static void add_finding(struct findings *f, const char *rule, const char *component, int fails,
			struct text *t)
{
	char *sentence = t->failed ? NULL : text_take(t);
	text_free(t);
	struct finding *v = sentence ? realloc(f->v, (f->count + 1) * sizeof *v) : NULL;
	if (!v) {
		free(sentence);
		f->nomem = 1;
		return;
	}
	f->v = v;
	f->v[f->count++] = (struct finding){rule, component, sentence, fails};
}

static void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->v[i].sentence);
	free(f->v);
}

/* --- params ------------------------------------------------------------ */

static int read_share(const struct kv_host *h, struct kv_ctx *ctx, const char *name, double *out)
{
	const struct kv_value *v = h->param(ctx, name);
	if (!h->value_double(v, out) || !(*out > 0 && *out <= 1))
		return h->value_error(ctx, v, "must be a number in (0, 1]");
	return 0;
}

static int read_forensics(const struct kv_host *h, struct kv_ctx *ctx, struct state *s)
{
	if (read_share(h, ctx, "pearson_flag", &s->fp.pearson_flag) ||
	    read_share(h, ctx, "pearson_fail", &s->fp.pearson_fail) ||
	    read_share(h, ctx, "fail_share", &s->fp.fail_share))
		return KV_ERR_INPUT;
	if (s->fp.pearson_flag > s->fp.pearson_fail)
		return h->value_error(ctx, h->param(ctx, "pearson_flag"),
				      "%g is above pearson_fail (%g)", s->fp.pearson_flag, s->fp.pearson_fail);
	const struct kv_value *min = h->param(ctx, "identity_min_elements");
	if (!h->value_int(min, &s->fp.identity_min) || s->fp.identity_min < 1)
		return h->value_error(ctx, min, "must be a whole number of at least 1");
	const struct kv_value *fp = h->param(ctx, "fingerprints");
	s->fingerprints = h->value_string(fp);
	if (s->fingerprints && h->input_kind(ctx, s->fingerprints) != 2)
		return h->value_error(ctx, fp, "'%s' is not a folder in the data directory", s->fingerprints);
	const char *team = h->value_string(h->param(ctx, "team_fingerprint"));
	size_t len = s->fingerprints ? strlen(s->fingerprints) + 32 : 1;
	s->team_fingerprint = team ? strdup(team) : malloc(len);
	if (!s->team_fingerprint)
		return KV_ERR_INTERNAL;
	if (!team)
		snprintf(s->team_fingerprint, len, "%s/teams/{team}.json", s->fingerprints ? s->fingerprints : "");
	return 0;
}

static int read_params(const struct kv_host *h, struct kv_ctx *ctx, struct state *s)
{
	s->manifest = h->value_string(h->param(ctx, "manifest"));
	s->report_weights = strcmp(h->value_string(h->param(ctx, "third_party_weights")), "report") == 0;
	int rc = policy_read_allowed(h, ctx, h->param(ctx, "allowed_licenses"), &s->policy);
	const char *terms = h->value_string(h->param(ctx, "restricted_terms"));
	if (!rc && terms)
		rc = policy_read_restricted(h, ctx, terms, &s->policy);
	return rc ? rc : read_forensics(h, ctx, s);
}

static int license_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	struct state *s = calloc(1, sizeof *s);
	if (!s)
		return KV_ERR_INTERNAL;
	int rc = read_params(h, ctx, s);
	if (rc) {
		policy_free(&s->policy);
		free(s->team_fingerprint);
		free(s);
		return rc;
	}
	*state = s;
	return KV_OK;
}

static void license_close(void *state)
{
	struct state *s = state;
	policy_free(&s->policy);
	forensics_free(s->forensics);
	free(s->team_fingerprint);
	free(s);
}

/* --- the rules ----------------------------------------------------------- */

static void check_weights_origin(const struct state *s, const struct component *c, struct findings *f)
{
	if (c->origin != ORIGIN_THIRD_PARTY || c->init != INIT_PRETRAINED)
		return;
	struct text t = {0};
	text_add(&t, "The %s holds pretrained weights from '%s', used %s; every weight must be "
		 "initialized and trained by the team", c->role, *c->source ? c->source : "(source not given)",
		 c->frozen ? "frozen" : "with further training");
	if (s->report_weights)
		text_add(&t, " (reported only: third_party_weights = \"report\")");
	add_finding(f, "third-party-weights", c->name, !s->report_weights, &t);
}

static void check_license(const struct state *s, const char *component, const char *what,
			  const char *license, const struct spdx_expr *e, struct findings *f)
{
	struct verdict v;
	struct text t = {0};
	policy_judge(&s->policy, e, &v);
	if (v.not_allowed) {
		text_add(&t, "%s '%s' cannot be satisfied with allowed_licenses: not allowed: ", what, license);
		policy_describe_not_allowed(&s->policy, e, &v, &t);
		add_finding(f, "license-not-allowed", component, 1, &t);
	}
	if (v.restricted) {
		text_add(&t, "%s '%s' binds the team to terms that impose outside control: ", what, license);
		policy_describe_restricted(&s->policy, e, &t);
		add_finding(f, "restricted-terms", component, 1, &t);
	}
}

static void check_attribution(const struct manifest *m, const struct component *c, struct findings *f)
{
	if (c->origin != ORIGIN_THIRD_PARTY || manifest_attributed(m, c->name))
		return;
	struct text t = {0};
	text_add(&t, "The third-party %s from '%s' is reused without an entry in attributions "
		 "(component, license, notice)", c->role, *c->source ? c->source : "(source not given)");
	add_finding(f, "missing-attribution", c->name, 1, &t);
}

static int same_hex(const char *a, const char *b)
{
	for (size_t i = 0; i < 64; i++) {
		char x = a[i] >= 'A' && a[i] <= 'F' ? (char)(a[i] + 32) : a[i];
		if (x != b[i])
			return 0;
	}
	return 1;
}

/* Hash one weight file through the host (which records it); *ok = match. */
static int check_weight(const struct kv_host *h, struct kv_ctx *ctx, const struct manifest *m,
			size_t ci, size_t wi, struct findings *f, int *ok)
{
	const struct component *c = &m->components[ci];
	const struct weight_file *w = &c->weights[wi];
	int kind = h->input_kind(ctx, w->path);
	if (kind != 1)
		return h->error(ctx, "%s: components[%zu].weights[%zu].path: '%s' %s", m->file, ci, wi, w->path,
				kind == 2 ? "is a folder, not a file" :
				"is not a file in the data directory (missing, or it leads out of it)");
	char hex[65];
	if (h->input_sha256(ctx, w->path, hex))
		return KV_ERR_INPUT;
	*ok = same_hex(w->sha256, hex);
	if (!*ok) {
		struct text t = {0};
		text_add(&t, "Weight file '%s' has SHA-256 %s, but the manifest says %s", w->path, hex, w->sha256);
		add_finding(f, "weight-hash-mismatch", c->name, 1, &t);
	}
	return 0;
}

static int check_component(const struct kv_host *h, struct kv_ctx *ctx, const struct state *s,
			   const struct manifest *m, size_t ci, struct findings *f, size_t *verified)
{
	const struct component *c = &m->components[ci];
	check_weights_origin(s, c, f);
	check_license(s, c->name, "Its licence", c->license, c->expr, f);
	check_attribution(m, c, f);
	for (size_t wi = 0; wi < c->weight_count; wi++) {
		int ok = 0;
		if (check_weight(h, ctx, m, ci, wi, f, &ok))
			return KV_ERR_INPUT;
		*verified += (size_t)ok;
	}
	return 0;
}

/* --- evidence ------------------------------------------------------------ */

static void describe_components(const struct kv_host *h, struct kv_ctx *ctx, size_t team,
				const struct manifest *m)
{
	size_t third = 0;
	for (size_t i = 0; i < m->component_count; i++) {
		const struct component *c = &m->components[i];
		char key[300];
		snprintf(key, sizeof key, "component.%s", c->name);
		h->evidence_str(ctx, team, key, "role %s, origin %s, init %s%s, licence %s, %zu weight file%s",
				c->role, c->origin == ORIGIN_OWN ? "own" : "third-party",
				c->init == INIT_SCRATCH ? "scratch" : "pretrained", c->frozen ? ", frozen" : "",
				c->license, c->weight_count, c->weight_count == 1 ? "" : "s");
		third += c->origin == ORIGIN_THIRD_PARTY;
	}
	h->evidence_num(ctx, team, "components", (double)m->component_count);
	h->evidence_num(ctx, team, "third_party_components", (double)third);
}

static void report(const struct kv_host *h, struct kv_ctx *ctx, size_t team,
		   const struct manifest *m, const struct findings *f, size_t verified)
{
	size_t failing = 0;
	h->evidence_str(ctx, team, "manifest", "%s", m->file);
	h->evidence_str(ctx, team, "model", "%s", m->model_name);
	h->evidence_str(ctx, team, "model_license", "%s", m->model_license);
	if (m->has_total)
		h->evidence_num(ctx, team, "parameters_total", m->parameters_total);
	if (m->has_active)
		h->evidence_num(ctx, team, "parameters_active", m->parameters_active);
	describe_components(h, ctx, team, m);
	h->evidence_num(ctx, team, "weight_files_verified", (double)verified);
	for (size_t i = 0; i < f->count; i++) {
		char key[32];
		snprintf(key, sizeof key, "finding.%zu", i + 1);
		h->evidence_str(ctx, team, key, "%s | %s | %s", f->v[i].rule, f->v[i].component, f->v[i].sentence);
		failing += (size_t)f->v[i].fails;
	}
	h->evidence_num(ctx, team, "findings", (double)failing);
	h->evidence_num(ctx, team, "findings_reported_only", (double)(f->count - failing));
	h->set_value(ctx, team, (double)failing, "findings");
	h->set_pass(ctx, team, failing == 0);
}

/* A forensic finding joins the manifest's (component names are static). */
static void forensic_finding(void *arg, const char *rule, const char *component, int fails, const char *sentence)
{
	struct text t = {0};
	text_add(&t, "%s", sentence);
	add_finding(arg, rule, component, fails, &t);
}

static int judge_forensics(const struct kv_host *h, struct kv_ctx *ctx, const struct state *s, size_t team,
			   struct findings *f)
{
	char path[4096];
	if (h->expand_team(ctx, s->team_fingerprint, team, path, sizeof path))
		return KV_ERR_INPUT;
	return forensics_judge(h, ctx, s->forensics, team, path, forensic_finding, f);
}

static int judge_team(const struct kv_host *h, struct kv_ctx *ctx, const struct state *s, size_t team)
{
	char path[4096];
	if (h->expand_team(ctx, s->manifest, team, path, sizeof path))
		return KV_ERR_INPUT;
	struct manifest m;
	struct findings f = {0};
	size_t verified = 0;
	int rc = manifest_read(h, ctx, path, &m);
	if (!rc)
		check_license(s, "model", "The model licence", m.model_license, m.model_expr, &f);
	for (size_t i = 0; !rc && i < m.component_count; i++)
		rc = check_component(h, ctx, s, &m, i, &f, &verified);
	if (!rc && s->forensics)
		rc = judge_forensics(h, ctx, s, team, &f);
	if (!rc && f.nomem) {
		h->error(ctx, "%s: out of memory", path);
		rc = KV_ERR_INTERNAL;
	}
	if (!rc)
		report(h, ctx, team, &m, &f, verified);
	findings_free(&f);
	manifest_free(&m);
	return rc;
}

static void report_round(const struct kv_host *h, struct kv_ctx *ctx, const struct state *s)
{
	h->evidence_num(ctx, KV_ROUND, "allowed_licenses", (double)s->policy.allowed_count);
	h->evidence_num(ctx, KV_ROUND, "restricted_terms", (double)s->policy.restricted_count);
	if (s->forensics)
		forensics_round_evidence(h, ctx, s->forensics);
}

static int license_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	struct state *s = state;
	/* Fingerprints are JSON trees the host frees after evaluate: load here. */
	if (s->fingerprints && !s->forensics) {
		int fail = forensics_load(h, ctx, s->fingerprints, &s->fp, &s->forensics);
		if (fail)
			return fail;
	}
	report_round(h, ctx, s);
	int rc = KV_OK;
	for (size_t t = 0; rc == KV_OK && t < h->team_count(ctx); t++)
		rc = judge_team(h, ctx, s, t);
	return rc;
}

KAIEVAL_PLUGIN_DEFINE(license,
	.kinds = KV_KIND_GATE | KV_KIND_INFO,
	.version = "1.1.0",
	.summary = "independence and licence gate from each team's submission manifest",
	.params = params,
	.open = license_open,
	.evaluate = license_evaluate,
	.close = license_close);

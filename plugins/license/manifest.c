/* manifest: read and validate a submission manifest (see manifest.h and
 * kaieval-license(7) for the format).  Every message names the file and the
 * field, e.g. "manifests/a.json: components[2].origin: ...". */
#include "manifest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const struct kv_host *h;
	struct kv_ctx *ctx;
	const char *file;
};

#define FIELD_MAX 256

static int bad(struct reader *r, const char *field, const char *fmt, ...) KV_PRINTF(3, 4);

static int bad(struct reader *r, const char *field, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return r->h->error(r->ctx, "%s: %s: %s", r->file, field, msg);
}

static const char *type_desc(enum kv_type t)
{
	switch (t) {
	case KV_T_STRING: return "a string";
	case KV_T_INT:
	case KV_T_FLOAT: return "a number";
	case KV_T_BOOL: return "true or false";
	case KV_T_LIST: return "a list";
	case KV_T_GROUP: return "an object";
	default: return "null";
	}
}

/* "prefix.key" into buf[FIELD_MAX], cut short if it must be. */
static void field_name(char *buf, const char *prefix, const char *key)
{
	const char *parts[] = {prefix, *prefix ? "." : "", key};
	size_t n = 0;
	for (size_t i = 0; i < 3; i++)
		for (const char *c = parts[i]; *c && n + 1 < FIELD_MAX; c++)
			buf[n++] = *c;
	buf[n] = '\0';
}

/* The member, or NULL when absent or JSON null (both mean "not given"). */
static const struct kv_value *member(struct reader *r, const struct kv_value *obj, const char *key)
{
	const struct kv_value *v = r->h->value_member(obj, key);
	return r->h->value_type(v) == KV_T_NONE ? NULL : v;
}

static int expect(struct reader *r, const struct kv_value *v, const char *field, enum kv_type type)
{
	enum kv_type t = r->h->value_type(v);
	int ok = t == type || (type == KV_T_FLOAT && t == KV_T_INT);
	return ok ? 0 : bad(r, field, "expected %s, found %s", type_desc(type), type_desc(t));
}

static int get_string(struct reader *r, const struct kv_value *obj, const char *prefix,
		      const char *key, int required, const char **out)
{
	char field[FIELD_MAX];
	field_name(field, prefix, key);
	const struct kv_value *v = member(r, obj, key);
	*out = "";
	if (!v)
		return required ? bad(r, field, "missing required field") : 0;
	if (expect(r, v, field, KV_T_STRING))
		return KV_ERR_INPUT;
	*out = r->h->value_string(v);
	return required && !**out ? bad(r, field, "must not be empty") : 0;
}

/* One of choices[] (NULL-terminated); *out receives its index. */
static int get_enum(struct reader *r, const struct kv_value *obj, const char *prefix, const char *key,
		    const char *const *choices, const char *expected, int *out)
{
	char field[FIELD_MAX];
	const char *s;
	if (get_string(r, obj, prefix, key, 1, &s))
		return KV_ERR_INPUT;
	for (int i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	field_name(field, prefix, key);
	return bad(r, field, "unknown value '%s' (expected %s)", s, expected);
}

static int get_bool(struct reader *r, const struct kv_value *obj, const char *prefix, const char *key,
		    int *out)
{
	char field[FIELD_MAX];
	field_name(field, prefix, key);
	const struct kv_value *v = member(r, obj, key);
	*out = 0;
	return v && (expect(r, v, field, KV_T_BOOL) || !r->h->value_bool(v, out)) ? KV_ERR_INPUT : 0;
}

static int get_count(struct reader *r, const struct kv_value *obj, const char *prefix, const char *key,
		     int *has, double *out)
{
	char field[FIELD_MAX];
	field_name(field, prefix, key);
	const struct kv_value *v = member(r, obj, key);
	*has = 0;
	if (!v)
		return 0;
	if (expect(r, v, field, KV_T_FLOAT) || !r->h->value_double(v, out))
		return KV_ERR_INPUT;
	if (!isfinite(*out) || *out < 0)
		return bad(r, field, "must be a number >= 0");
	*has = 1;
	return 0;
}

/* init_seed is evidence for a later forensic test: a number or a string. */
static int check_seed(struct reader *r, const struct kv_value *obj, const char *prefix)
{
	char field[FIELD_MAX];
	field_name(field, prefix, "init_seed");
	const struct kv_value *v = member(r, obj, "init_seed");
	enum kv_type t = r->h->value_type(v);
	if (!v || t == KV_T_STRING || t == KV_T_FLOAT || t == KV_T_INT)
		return 0;
	return bad(r, field, "expected a number or a string, found %s", type_desc(t));
}

int license_parse(const struct kv_host *h, struct kv_ctx *ctx, const char *what, const char *text,
		  struct spdx_expr **out)
{
	struct spdx_error e;
	enum spdx_status st = spdx_parse(text, strlen(text), out, &e);
	if (st == SPDX_NOMEM) {
		h->error(ctx, "%s: out of memory", what);
		return KV_ERR_INTERNAL;
	}
	if (st == SPDX_OK)
		return 0;
	const char *rest = text + e.offset;
	if (!*rest)
		return h->error(ctx, "%s: '%.200s' is not an SPDX licence expression: at column %zu "
				"(the end): %s", what, text, e.offset + 1, e.message);
	return h->error(ctx, "%s: '%.200s' is not an SPDX licence expression: at column %zu "
			"(before '%.40s'): %s", what, text, e.offset + 1, rest, e.message);
}

static int get_license(struct reader *r, const struct kv_value *obj, const char *prefix,
		       const char **text, struct spdx_expr **expr)
{
	char what[FIELD_MAX + 512];
	if (get_string(r, obj, prefix, "license", 1, text))
		return KV_ERR_INPUT;
	snprintf(what, sizeof what, "%s: %s%slicense", r->file, prefix, *prefix ? "." : "");
	return license_parse(r->h, r->ctx, what, *text, expr);
}

/* A path that leaves the data directory lexically: absolute or too many "..". */
static int leaves_data_dir(const char *path)
{
	if (path[0] == '/')
		return 1;
	long depth = 0;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static int is_sha256(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");
	return n == 64 && s[64] == '\0';
}

static int read_weight(struct reader *r, const struct kv_value *v, const char *prefix,
		       struct weight_file *w)
{
	char field[FIELD_MAX];
	if (expect(r, v, prefix, KV_T_GROUP) || get_string(r, v, prefix, "path", 1, &w->path) ||
	    get_string(r, v, prefix, "sha256", 1, &w->sha256))
		return KV_ERR_INPUT;
	field_name(field, prefix, "path");
	if (leaves_data_dir(w->path))
		return bad(r, field, "'%s' is outside the data directory (weight paths are "
			   "relative to it and may not leave it)", w->path);
	field_name(field, prefix, "sha256");
	if (!is_sha256(w->sha256))
		return bad(r, field, "'%s' is not 64 hexadecimal digits", w->sha256);
	return 0;
}

static int read_weights(struct reader *r, const struct kv_value *obj, const char *prefix,
			struct component *c)
{
	char field[FIELD_MAX];
	field_name(field, prefix, "weights");
	const struct kv_value *list = member(r, obj, "weights");
	if (!list)
		return 0;
	if (expect(r, list, field, KV_T_LIST))
		return KV_ERR_INPUT;
	size_t n = r->h->value_count(list);
	c->weights = calloc(n ? n : 1, sizeof *c->weights);
	if (!c->weights)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		char at[FIELD_MAX + 24];
		snprintf(at, sizeof at, "%s[%zu]", field, i);
		if (read_weight(r, r->h->value_at(list, i), at, &c->weights[i]))
			return KV_ERR_INPUT;
		c->weight_count++;
	}
	return 0;
}

static int read_component(struct reader *r, const struct kv_value *v, const char *prefix,
			  struct component *c)
{
	static const char *const origins[] = {"own", "third-party", NULL};
	static const char *const inits[] = {"scratch", "pretrained", NULL};
	int origin = 0, init = 0;
	if (expect(r, v, prefix, KV_T_GROUP) || get_string(r, v, prefix, "name", 1, &c->name) ||
	    get_string(r, v, prefix, "role", 1, &c->role) ||
	    get_enum(r, v, prefix, "origin", origins, "own or third-party", &origin) ||
	    get_string(r, v, prefix, "source", 0, &c->source) ||
	    get_enum(r, v, prefix, "init", inits, "scratch or pretrained", &init) ||
	    get_bool(r, v, prefix, "frozen", &c->frozen) ||
	    get_license(r, v, prefix, &c->license, &c->expr) || check_seed(r, v, prefix))
		return KV_ERR_INPUT;
	c->origin = (enum origin)origin;
	c->init = (enum init)init;
	return read_weights(r, v, prefix, c);
}

static int check_unique(struct reader *r, const struct manifest *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(m->components[j].name, m->components[i].name) == 0) {
			char field[FIELD_MAX];
			snprintf(field, sizeof field, "components[%zu].name", i);
			return bad(r, field, "'%s' is also the name of components[%zu]",
				   m->components[i].name, j);
		}
	return 0;
}

static int read_components(struct reader *r, const struct kv_value *root, struct manifest *m)
{
	const struct kv_value *list = member(r, root, "components");
	if (!list)
		return bad(r, "components", "missing required field");
	if (expect(r, list, "components", KV_T_LIST))
		return KV_ERR_INPUT;
	size_t n = r->h->value_count(list);
	if (n == 0)
		return bad(r, "components", "empty: list every component, the team's own included");
	m->components = calloc(n, sizeof *m->components);
	if (!m->components)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		char at[FIELD_MAX];
		snprintf(at, sizeof at, "components[%zu]", i);
		m->component_count++;
		int rc = read_component(r, r->h->value_at(list, i), at, &m->components[i]);
		if (rc || (rc = check_unique(r, m, i)))
			return rc;
	}
	return 0;
}

static int known_component(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->component_count; i++)
		if (strcmp(m->components[i].name, name) == 0)
			return 1;
	return 0;
}

static int read_attribution(struct reader *r, const struct kv_value *v, const char *prefix,
			    const struct manifest *m, struct attribution *a)
{
	struct spdx_expr *expr = NULL;
	char field[FIELD_MAX];
	if (expect(r, v, prefix, KV_T_GROUP) ||
	    get_string(r, v, prefix, "component", 1, &a->component) ||
	    get_string(r, v, prefix, "notice", 1, &a->notice))
		return KV_ERR_INPUT;
	field_name(field, prefix, "component");
	if (!known_component(m, a->component))
		return bad(r, field, "'%s' names no entry in components", a->component);
	int rc = get_license(r, v, prefix, &a->license, &expr);
	spdx_free(expr);
	return rc;
}

static int read_attributions(struct reader *r, const struct kv_value *root, struct manifest *m)
{
	const struct kv_value *list = member(r, root, "attributions");
	if (!list)
		return 0;
	if (expect(r, list, "attributions", KV_T_LIST))
		return KV_ERR_INPUT;
	size_t n = r->h->value_count(list);
	m->attributions = calloc(n ? n : 1, sizeof *m->attributions);
	if (!m->attributions)
		return KV_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		char at[FIELD_MAX];
		snprintf(at, sizeof at, "attributions[%zu]", i);
		if (read_attribution(r, r->h->value_at(list, i), at, m, &m->attributions[i]))
			return KV_ERR_INPUT;
		m->attribution_count++;
	}
	return 0;
}

static int read_model(struct reader *r, const struct kv_value *root, struct manifest *m)
{
	const struct kv_value *model = member(r, root, "model");
	if (!model)
		return bad(r, "model", "missing required field");
	if (expect(r, model, "model", KV_T_GROUP) ||
	    get_string(r, model, "model", "name", 1, &m->model_name) ||
	    get_license(r, model, "model", &m->model_license, &m->model_expr) ||
	    get_count(r, model, "model", "parameters_total", &m->has_total, &m->parameters_total) ||
	    get_count(r, model, "model", "parameters_active", &m->has_active, &m->parameters_active))
		return KV_ERR_INPUT;
	return 0;
}

int manifest_read(const struct kv_host *h, struct kv_ctx *ctx, const char *file, struct manifest *m)
{
	struct reader r = {h, ctx, file};
	const struct kv_value *root;
	memset(m, 0, sizeof *m);
	m->file = file;
	if (h->json_load(ctx, file, &root))
		return KV_ERR_INPUT;
	if (h->value_type(root) != KV_T_GROUP)
		return bad(&r, "(top level)", "expected a JSON object, found %s", type_desc(h->value_type(root)));
	int rc = read_model(&r, root, m);
	if (!rc)
		rc = read_components(&r, root, m);
	if (!rc)
		rc = read_attributions(&r, root, m);
	if (rc == KV_ERR_INTERNAL)
		h->error(ctx, "%s: out of memory", file);
	return rc;
}

void manifest_free(struct manifest *m)
{
	spdx_free(m->model_expr);
	for (size_t i = 0; i < m->component_count; i++) {
		spdx_free(m->components[i].expr);
		free(m->components[i].weights);
	}
	free(m->components);
	free(m->attributions);
	memset(m, 0, sizeof *m);
}

int manifest_attributed(const struct manifest *m, const char *component)
{
	for (size_t i = 0; i < m->attribution_count; i++)
		if (strcmp(m->attributions[i].component, component) == 0)
			return 1;
	return 0;
}

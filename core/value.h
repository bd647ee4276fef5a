/* The value tree behind struct kv_value: params from the round config and
 * JSON documents share it, so plugins read both with one set of accessors. */
#ifndef KV_VALUE_H
#define KV_VALUE_H

#include <libconfig.h>
#include "kaieval/plugin.h"
#include "util.h"

struct kv_value {
	enum kv_type type;      /* never KV_T_PATH: paths are strings */
	char *name;             /* member name inside a group, else "" */
	char *where;            /* "file:line" or "file" */
	char *str;
	long long i;
	double f;
	int b;
	struct kv_value **items;
	size_t count;
};

struct kv_value *kv_value_new(enum kv_type type, const char *name, const char *where);
void kv_value_append(struct kv_value *parent, struct kv_value *child);
void kv_value_free(struct kv_value *v);
struct kv_value *kv_value_copy(const struct kv_value *v);

const struct kv_value *kv_value_member(const struct kv_value *group, const char *name);
int kv_value_as_double(const struct kv_value *v, double *out);
int kv_value_as_int(const struct kv_value *v, long long *out);
const char *kv_type_name(enum kv_type t);

/* Convert a libconfig setting (and its children). */
struct kv_value *kv_value_from_config(const config_setting_t *s, const char *file);

/* Parse JSON text (text[len] must be NUL); on a syntax error fill err with "path:line:col: ...". */
struct kv_value *kv_value_parse_json(const char *text, size_t len, const char *path,
				     struct kv_error *err);

#endif

#include "value.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct kv_value *kv_value_new(enum kv_type type, const char *name, const char *where)
{
	struct kv_value *v = kv_xcalloc(1, sizeof *v);
	v->type = type;
	v->name = kv_xstrdup(name ? name : "");
	v->where = kv_xstrdup(where ? where : "");
	return v;
}

void kv_value_append(struct kv_value *parent, struct kv_value *child)
{
	parent->items = kv_xrealloc(parent->items, (parent->count + 1) * sizeof *parent->items);
	parent->items[parent->count++] = child;
}

void kv_value_free(struct kv_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->count; i++)
		kv_value_free(v->items[i]);
	free(v->items);
	free(v->name);
	free(v->where);
	free(v->str);
	free(v);
}

struct kv_value *kv_value_copy(const struct kv_value *v)
{
	struct kv_value *c = kv_value_new(v->type, v->name, v->where);
	c->str = v->str ? kv_xstrdup(v->str) : NULL;
	c->i = v->i;
	c->f = v->f;
	c->b = v->b;
	for (size_t i = 0; i < v->count; i++)
		kv_value_append(c, kv_value_copy(v->items[i]));
	return c;
}

const struct kv_value *kv_value_member(const struct kv_value *group, const char *name)
{
	if (!group || group->type != KV_T_GROUP)
		return NULL;
	for (size_t i = 0; i < group->count; i++)
		if (strcmp(group->items[i]->name, name) == 0)
			return group->items[i];
	return NULL;
}

int kv_value_as_double(const struct kv_value *v, double *out)
{
	if (v && v->type == KV_T_FLOAT) { *out = v->f; return 1; }
	if (v && v->type == KV_T_INT) { *out = (double)v->i; return 1; }
	return 0;
}

int kv_value_as_int(const struct kv_value *v, long long *out)
{
	if (v && v->type == KV_T_INT) { *out = v->i; return 1; }
	if (v && v->type == KV_T_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9.0e15) {
		*out = (long long)v->f;
		return 1;
	}
	return 0;
}

const char *kv_type_name(enum kv_type t)
{
	switch (t) {
	case KV_T_STRING: return "string";
	case KV_T_INT: return "integer";
	case KV_T_FLOAT: return "float";
	case KV_T_BOOL: return "boolean";
	case KV_T_PATH: return "path";
	case KV_T_LIST: return "list";
	case KV_T_GROUP: return "group";
	default: return "null";
	}
}

struct kv_value *kv_value_from_config(const config_setting_t *s, const char *file)
{
	char where[1024];
	snprintf(where, sizeof where, "%s:%d", file, config_setting_source_line(s));
	const char *name = config_setting_name(s);
	struct kv_value *v;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = kv_value_new(KV_T_INT, name, where);
		v->i = config_setting_get_int64(s);
		return v;
	case CONFIG_TYPE_FLOAT:
		v = kv_value_new(KV_T_FLOAT, name, where);
		v->f = config_setting_get_float(s);
		return v;
	case CONFIG_TYPE_BOOL:
		v = kv_value_new(KV_T_BOOL, name, where);
		v->b = config_setting_get_bool(s);
		return v;
	case CONFIG_TYPE_STRING:
		v = kv_value_new(KV_T_STRING, name, where);
		v->str = kv_xstrdup(config_setting_get_string(s));
		return v;
	case CONFIG_TYPE_GROUP:
		v = kv_value_new(KV_T_GROUP, name, where);
		break;
	default: /* list and array */
		v = kv_value_new(KV_T_LIST, name, where);
		break;
	}
	for (int i = 0; i < config_setting_length(s); i++)
		kv_value_append(v, kv_value_from_config(config_setting_get_elem(s, (unsigned)i), file));
	return v;
}

static struct kv_value *from_cjson(const cJSON *j, const char *path)
{
	struct kv_value *v;
	const char *name = j->string;
	if (cJSON_IsString(j)) {
		v = kv_value_new(KV_T_STRING, name, path);
		v->str = kv_xstrdup(j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		v = kv_value_new(KV_T_FLOAT, name, path);
		v->f = j->valuedouble;
	} else if (cJSON_IsBool(j)) {
		v = kv_value_new(KV_T_BOOL, name, path);
		v->b = cJSON_IsTrue(j);
	} else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		v = kv_value_new(cJSON_IsArray(j) ? KV_T_LIST : KV_T_GROUP, name, path);
		for (const cJSON *c = j->child; c; c = c->next)
			kv_value_append(v, from_cjson(c, path));
	} else {
		v = kv_value_new(KV_T_NONE, name, path);
	}
	return v;
}

/* Line and column (1-based) of byte offset off in text. */
static void position(const char *text, size_t off, long *line, long *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

struct kv_value *kv_value_parse_json(const char *text, size_t len, const char *path,
				     struct kv_error *err)
{
	/* text[len] is the NUL that input_load adds: parsing it too lets cJSON
	 * refuse trailing garbage. */
	long bad = kv_utf8_invalid(text, len);
	if (bad >= 0) {
		long line, col;
		position(text, (size_t)bad, &line, &col);
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld:%ld: not valid UTF-8 (byte 0x%02x)", path, line, col,
			(unsigned char)text[bad]);
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;
		if (off > len)
			off = len;
		long line, col;
		position(text, off, &line, &col);
		kv_fail(err, KV_EXIT_INPUT, "%s:%ld:%ld: %s", path, line, col,
			off >= len ? "JSON ends too early (truncated file?)" : "JSON syntax error");
		return NULL;
	}
	struct kv_value *v = from_cjson(root, path);
	cJSON_Delete(root);
	return v;
}

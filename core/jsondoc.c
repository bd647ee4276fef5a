/* JSON documents read back: parsing with a position on error, and the
 * member-by-member comparison behind diff and verify. */
#include "jsondoc.h"
#include "human.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

cJSON *kv_json_parse(const char *text, size_t len, const char *path, struct kv_error *err)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root)
		return root;
	long line = 1, col = 1;
	for (const char *p = text; end && p < end && p < text + len; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	kv_fail(err, KV_EXIT_INPUT, "%s:%ld:%ld: not a valid JSON record", path, line, col);
	return NULL;
}

cJSON *kv_json_load(const char *path, struct kv_error *err)
{
	struct kv_buf b = {0};
	if (kv_read_file(path, &b) != 0) {
		kv_fail(err, KV_EXIT_INPUT, "%s: %s", path, kv_open_error(errno));
		kv_buf_free(&b);
		return NULL;
	}
	cJSON *root = kv_json_parse(b.data, b.len, path, err);
	kv_buf_free(&b);
	return root;
}

const char *kv_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void kv_json_brief(const cJSON *v, struct kv_buf *out)
{
	char num[32];
	if (!v) {
		kv_buf_puts(out, "(absent)");
	} else if (cJSON_IsNumber(v)) {
		kv_format_human(v->valuedouble, num);
		kv_buf_puts(out, num);
	} else if (cJSON_IsString(v)) {
		kv_buf_printf(out, "\"%s\"", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		kv_buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsArray(v)) {
		kv_buf_puts(out, "[...]");
	} else if (cJSON_IsObject(v)) {
		kv_buf_puts(out, "{...}");
	} else {
		kv_buf_puts(out, "null");
	}
}

static int scalar_equal(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	return 1; /* null, true, false: the type says it all */
}

/* The member that identifies elements of an array of objects, or NULL. */
static const char *array_key(const cJSON *arr)
{
	static const char *const keys[] = {"id", "criterion", "path"};
	for (size_t k = 0; k < 3; k++) {
		int all = cJSON_GetArraySize(arr) > 0;
		for (const cJSON *e = arr->child; e && all; e = e->next)
			all = kv_json_str(e, keys[k]) != NULL;
		if (all)
			return keys[k];
	}
	return NULL;
}

/* Children of an object by member name, or of an array of objects by the
 * value of their member `key`, in a hash table: a record of 200 teams has
 * 80,000 evidence entries in one object, and a search through the
 * members for each made diff (and verify) quadratic.  The first of two
 * children with one name is the one found, as cJSON finds it. */
struct children {
	const cJSON **slot;
	size_t mask;
	const char *key;   /* NULL: by member name */
};

static const char *name_of(const cJSON *e, const char *key) { return key ? kv_json_str(e, key) : e->string; }

/* The slot of name, or the empty slot where it would go. */
static size_t slot_of(const struct children *c, const char *name)
{
	size_t i = (size_t)kv_str_hash(name) & c->mask;
	while (c->slot[i] && strcmp(name_of(c->slot[i], c->key), name) != 0)
		i = (i + 1) & c->mask;
	return i;
}

static void children_index(struct children *c, const cJSON *container, const char *key)
{
	size_t n = 0, slots = 16;
	for (const cJSON *e = container ? container->child : NULL; e; e = e->next)
		n++;
	while (slots <= 2 * n)
		slots *= 2;
	c->slot = kv_xcalloc(slots, sizeof *c->slot);
	c->mask = slots - 1;
	c->key = key;
	for (const cJSON *e = container ? container->child : NULL; e; e = e->next) {
		const char *name = name_of(e, key);
		size_t i = name ? slot_of(c, name) : 0;
		if (name && !c->slot[i])
			c->slot[i] = e;
	}
}

static const cJSON *child_named(const struct children *c, const char *name)
{
	return name ? c->slot[slot_of(c, name)] : NULL;
}

static size_t report(const cJSON *a, const cJSON *b, const char *path, struct kv_buf *out)
{
	kv_buf_printf(out, "%s: ", path);
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		/* Rounded for the reader, exact where rounding would hide the change. */
		char sa[32], sb[KV_CHANGE_MAX];
		kv_format_change(a->valuedouble, b->valuedouble, sa, sb);
		kv_buf_printf(out, "%s -> %s\n", sa, sb);
		return 1;
	}
	kv_json_brief(a, out);
	kv_buf_puts(out, " -> ");
	kv_json_brief(b, out);
	kv_buf_puts(out, "\n");
	return 1;
}

/* Children matched by name (key NULL: object members; else the member
 * that identifies the elements of an array): a's in order, then those
 * only b has. */
static size_t diff_named(const cJSON *a, const cJSON *b, const char *key, const char *path, struct kv_buf *out)
{
	struct children in_a, in_b;
	size_t n = 0;
	children_index(&in_a, a, key);
	children_index(&in_b, b, key);
	for (const cJSON *e = a->child; e; e = e->next) {
		const char *name = name_of(e, key);
		char *sub = key ? kv_xasprintf("%s[%s]", path, name)
				: kv_xasprintf("%s%s%s", path, *path ? "." : "", name);
		n += kv_json_diff(e, child_named(&in_b, name), sub, out);
		free(sub);
	}
	for (const cJSON *e = b->child; e; e = e->next) {
		const char *name = name_of(e, key);
		if (!child_named(&in_a, name)) {
			char *sub = key ? kv_xasprintf("%s[%s]", path, name)
					: kv_xasprintf("%s%s%s", path, *path ? "." : "", name);
			n += report(NULL, e, sub, out);
			free(sub);
		}
	}
	free(in_a.slot);
	free(in_b.slot);
	return n;
}

static size_t diff_children(const cJSON *a, const cJSON *b, const char *path, struct kv_buf *out)
{
	if (cJSON_IsObject(a))
		return diff_named(a, b, NULL, path, out);
	const char *key = array_key(a);
	if (key && array_key(b) && strcmp(key, array_key(b)) == 0)
		return diff_named(a, b, key, path, out);
	size_t n = 0;
	const cJSON *x = a->child, *y = b->child;
	for (int i = 0; x || y; i++, x = x ? x->next : NULL, y = y ? y->next : NULL) {
		char *sub = kv_xasprintf("%s[%d]", path, i);
		n += kv_json_diff(x, y, sub, out);
		free(sub);
	}
	return n;
}

size_t kv_json_diff(const cJSON *a, const cJSON *b, const char *path, struct kv_buf *out)
{
	if (!a && !b)
		return 0;
	if (!a || !b)
		return report(a, b, path, out);
	int containers = (cJSON_IsObject(a) && cJSON_IsObject(b)) || (cJSON_IsArray(a) && cJSON_IsArray(b));
	if (containers)
		return diff_children(a, b, path, out);
	return scalar_equal(a, b) ? 0 : report(a, b, path, out);
}

/* `--set KEY=VALUE` for kaieval whatif: change a parsed config before it is
 * checked, so an override meets exactly the checks of a written key. */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "round.h"

/* The element of a list whose `id` is name, or the name-th element. */
static config_setting_t *find_child(config_setting_t *s, const char *name)
{
	if (config_setting_type(s) == CONFIG_TYPE_GROUP)
		return config_setting_get_member(s, name);
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *id = NULL;
		if (config_setting_type(e) == CONFIG_TYPE_GROUP && config_setting_lookup_string(e, "id", &id) &&
		    strcmp(id, name) == 0)
			return e;
	}
	char *end;
	long idx = strtol(name, &end, 10);
	if (*name && !*end && idx >= 0)
		return config_setting_get_elem(s, (unsigned)idx);
	return NULL;
}

static int is_integer(const char *v)
{
	if (*v == '-' || *v == '+')
		v++;
	if (!*v)
		return 0;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return 0;
	return 1;
}

/* Add one scalar under parent (key NULL: an element of an array), typed
 * as it reads: true/false, an integer, a decimal, or a string (quotes
 * around it dropped). */
static int add_scalar(config_setting_t *parent, const char *key, const char *value)
{
	char *end;
	config_setting_t *s;
	if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
		s = config_setting_add(parent, key, CONFIG_TYPE_BOOL);
		return s && config_setting_set_bool(s, value[0] == 't') ? 0 : -1;
	}
	if (is_integer(value)) {
		s = config_setting_add(parent, key, CONFIG_TYPE_INT64);
		errno = 0;
		long long n = strtoll(value, &end, 10);
		return s && errno == 0 && config_setting_set_int64(s, n) ? 0 : -1;
	}
	double d = strtod(value, &end);
	if (end != value && !*end) {
		s = config_setting_add(parent, key, CONFIG_TYPE_FLOAT);
		return s && config_setting_set_float(s, d) ? 0 : -1;
	}
	size_t n = strlen(value);
	char *text = (n >= 2 && value[0] == '"' && value[n - 1] == '"') ? strndup(value + 1, n - 2)
									 : kv_xstrdup(value);
	s = config_setting_add(parent, key, CONFIG_TYPE_STRING);
	int ok = s && config_setting_set_string(s, text);
	free(text);
	return ok ? 0 : -1;
}

/* "[a, b, c]": an array of scalars ("[]" an empty one); libconfig refuses
 * elements of mixed types. */
static int add_array(config_setting_t *parent, const char *key, const char *value)
{
	config_setting_t *arr = config_setting_add(parent, key, CONFIG_TYPE_ARRAY);
	char *items = strndup(value + 1, strlen(value) - 2), *save = NULL;
	int rc = arr && items ? 0 : -1;
	for (char *it = strtok_r(items, ",", &save); rc == 0 && it; it = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*it))
			it++;
		for (char *e = it + strlen(it); e > it && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		rc = *it ? add_scalar(arr, NULL, it) : -1;
	}
	free(items);
	return rc;
}

static int set_scalar(config_setting_t *parent, const char *key, const char *value)
{
	if (config_setting_get_member(parent, key))
		config_setting_remove(parent, key);
	if (!*value)
		return 0; /* KEY= removes the key */
	size_t n = strlen(value);
	if (n >= 2 && value[0] == '[' && value[n - 1] == ']')
		return add_array(parent, key, value);
	return add_scalar(parent, key, value);
}

int kv_apply_override(config_t *cfg, const char *assignment, struct kv_error *err)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return kv_fail(err, KV_EXIT_INPUT, "--set %s: expected KEY=VALUE", assignment);
	char *path = strndup(assignment, (size_t)(eq - assignment));
	config_setting_t *s = config_lookup(cfg, "round");
	char *save = NULL, *seg = strtok_r(path, ".", &save);
	int rc = 0;
	while (s && seg) {
		char *next = strtok_r(NULL, ".", &save);
		if (!next) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				break;
			/* The two selection rules exclude each other: setting one drops the other. */
			if (strcmp(config_setting_name(s) ? config_setting_name(s) : "", "selection") == 0) {
				if (strcmp(seg, "advance") == 0 && config_setting_get_member(s, "eliminate_lowest"))
					config_setting_remove(s, "eliminate_lowest");
				if (strcmp(seg, "eliminate_lowest") == 0 && config_setting_get_member(s, "advance"))
					config_setting_remove(s, "advance");
			}
			if (set_scalar(s, seg, eq + 1) != 0)
				rc = kv_fail(err, KV_EXIT_INPUT, "--set %s: cannot set this value", assignment);
			free(path);
			return rc;
		}
		s = find_child(s, seg);
		seg = next;
	}
	free(path);
	return kv_fail(err, KV_EXIT_INPUT, "--set %s: no such place in the config (keys are relative to 'round'; "
			"criteria and teams are named by id, e.g. criteria.experts.points)", assignment);
}

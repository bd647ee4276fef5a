/* Finding, loading and checking criterion plugins. */
#ifndef KV_LOADER_H
#define KV_LOADER_H

#include "round.h"

struct kv_loaded_plugin {
	const struct kv_plugin *desc;
	void *handle;            /* dlopen handle; NULL for a built-in plugin */
	char *path;              /* the file loaded, or NULL when built in */
	char sha256[65];         /* of the file; "" when built in */
	int fd;                  /* what handle was loaded from; open while handle is */
};

/* Make a plugin linked into this program findable by its name (tests). */
void kv_register_builtin(const struct kv_plugin *desc);
void kv_clear_builtins(void);

/* Find and load a plugin by name, or by a path relative to config_dir.
 * `where` prefixes error messages (e.g. "round.cfg:31"). */
int kv_plugin_load(const char *name_or_path, const char *config_dir, const char *where,
		   struct kv_loaded_plugin *out, struct kv_error *err);
void kv_plugin_unload(struct kv_loaded_plugin *p);

/* The plugins of one round: each file loaded (and hashed) once, whatever
 * the number of criteria that use it. */
struct kv_plugin_set {
	struct kv_loaded_plugin *items;
	char **real;             /* real path of each item's file */
	size_t count;
};

/* As kv_plugin_load, but a file already in the set is not loaded again:
 * *out is a copy of the set's entry, which the set owns (do not unload it). */
int kv_plugin_set_load(struct kv_plugin_set *set, const char *name_or_path, const char *config_dir,
		       const char *where, struct kv_loaded_plugin *out, struct kv_error *err);
void kv_plugin_set_free(struct kv_plugin_set *set);

/* The folders searched for a plugin given by name, colon-separated:
 * KAIEVAL_PLUGIN_PATH, then (for the uninstalled program of a build tree
 * only) the tree's .libs, then the configured plugindir.  Caller frees. */
char *kv_plugin_search_path(void);
/* The same, in words, for messages.  Caller frees. */
char *kv_plugin_search_text(void);

/* dlopen file here, find its descriptor and validate it.  The file is
 * opened once (a regular file) and loaded from that descriptor; when sha256
 * is not NULL, its bytes must have that SHA-256 (it was hashed when the
 * round was loaded), else the load is refused as a replaced file.  For a
 * process that loads one plugin and ends (an isolated child): the
 * descriptor stays open while it lives. */
int kv_plugin_open_file(const char *file, const char *sha256, const char *where, void **handle,
			const struct kv_plugin **out, struct kv_error *err);

/* The SHA-256 of a plugin file, read through one descriptor of a regular file. */
int kv_plugin_hash_file(const char *file, const char *where, char sha256[65], struct kv_error *err);

/* Check a descriptor as the loader does (ABI, size, flags, fields, params). */
int kv_plugin_validate(const struct kv_plugin *p, const char *expected_name, const char *file,
		       struct kv_error *err);

/* Check a criterion's params against the plugin's declared list and return
 * them with defaults applied (a new group the caller frees). */
int kv_params_check(const struct kv_plugin *p, const struct kv_criterion *c,
		    struct kv_value **effective, struct kv_error *err);

/* The declaration after d in p's params, by the plugin's own stride. */
const struct kv_param_decl *kv_param_next(const struct kv_plugin *p, const struct kv_param_decl *d);

/* Parse a declared default into a value of the declared type. */
struct kv_value *kv_param_default(const struct kv_param_decl *d);

/* Every plugin name found in the search path (sorted, deduplicated). */
int kv_plugin_list(char ***names, size_t *count);

#endif

#include "loader.h"
#include "input.h"
#include "isolate.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

/* The size of the descriptor as ABI major.0 defined it. */
#define KV_PLUGIN_MIN_SIZE (offsetof(struct kv_plugin, close) + sizeof(void (*)(void *)))
/* The size of a param declaration as ABI 1.0 defined it. */
#define KV_PARAM_DECL_MIN_SIZE (offsetof(struct kv_param_decl, doc) + sizeof(const char *))

/* A plugin's params are an array of its own struct kv_param_decl, which may
 * be larger than the core's: step by the size it declares (1.1), or by 1.0's. */
static size_t param_stride(const struct kv_plugin *p)
{
	if (KV_PLUGIN_HAS(p, param_decl_size) && p->param_decl_size)
		return p->param_decl_size;
	return KV_PARAM_DECL_MIN_SIZE;
}

const struct kv_param_decl *kv_param_next(const struct kv_plugin *p, const struct kv_param_decl *d)
{
	return (const struct kv_param_decl *)(const void *)((const char *)d + param_stride(p));
}

static int check_param_stride(const struct kv_plugin *p, const char *file, struct kv_error *err)
{
	size_t n = param_stride(p);
	if (n < KV_PARAM_DECL_MIN_SIZE || n % _Alignof(struct kv_param_decl))
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: descriptor param_decl_size %zu is not a size of struct kv_param_decl "
			       "(at least %zu, a multiple of %zu)", file, n, (size_t)KV_PARAM_DECL_MIN_SIZE,
			       (size_t)_Alignof(struct kv_param_decl));
	return 0;
}

#define MAX_BUILTINS 64
static const struct kv_plugin *builtins[MAX_BUILTINS];
static size_t builtin_count;

void kv_register_builtin(const struct kv_plugin *desc)
{
	for (size_t i = 0; i < builtin_count; i++)
		if (builtins[i] == desc)
			return;
	if (builtin_count < MAX_BUILTINS)
		builtins[builtin_count++] = desc;
}

void kv_clear_builtins(void) { builtin_count = 0; }

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int valid_version(const char *v)
{
	int dots = 0, digits = 0;
	for (; v && *v; v++) {
		if (*v == '.') {
			if (!digits) return 0;
			dots++;
			digits = 0;
		} else if (*v >= '0' && *v <= '9') {
			digits++;
		} else {
			return 0;
		}
	}
	return v && dots == 2 && digits;
}

static int check_param_decls(const struct kv_plugin *p, const char *file, struct kv_error *err)
{
	if (check_param_stride(p, file, err))
		return KV_EXIT_INPUT;
	for (const struct kv_param_decl *d = p->params; d->name; d = kv_param_next(p, d)) {
		int string_type = d->type == KV_T_STRING || d->type == KV_T_PATH;
		if (!valid_name(d->name) || d->type <= KV_T_NONE || d->type > KV_T_GROUP || !d->doc ||
		    (d->choices && !string_type))
			return kv_fail(err, KV_EXIT_INPUT, "%s: plugin '%s': bad declaration of param '%s'",
				       file, p->name, d->name ? d->name : "(null)");
		if (d->def) {
			struct kv_value *v = kv_param_default(d);
			if (!v)
				return kv_fail(err, KV_EXIT_INPUT,
					       "%s: plugin '%s': default '%s' of param '%s' is not a %s",
					       file, p->name, d->def, d->name, kv_type_name(d->type));
			kv_value_free(v);
		}
	}
	return 0;
}

int kv_plugin_validate(const struct kv_plugin *p, const char *expected_name, const char *file,
		       struct kv_error *err)
{
	uint32_t major = p->abi_version >> 16, minor = p->abi_version & 0xffff;
	if (major != KV_ABI_MAJOR || minor > KV_ABI_MINOR)
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: built for plugin ABI %u.%u, this kaieval has ABI %d.%d", file,
			       major, minor, KV_ABI_MAJOR, KV_ABI_MINOR);
	/* Minor versions only append: a descriptor must hold at least ABI x.0's fields. */
	if (p->size < KV_PLUGIN_MIN_SIZE)
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: descriptor size %u is smaller than ABI %d.0's %zu bytes", file,
			       p->size, KV_ABI_MAJOR, (size_t)KV_PLUGIN_MIN_SIZE);
	if (p->flags != 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: reserved descriptor flags are set", file);
	if (!valid_name(p->name) || (expected_name && strcmp(p->name, expected_name) != 0))
		return kv_fail(err, KV_EXIT_INPUT, "%s: descriptor name '%s' does not match the file name '%s'",
			       file, p->name ? p->name : "(null)", expected_name ? expected_name : "");
	if (!valid_version(p->version) || !p->summary || !p->evaluate || !p->params)
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: incomplete descriptor (version MAJOR.MINOR.PATCH, summary, params, evaluate)", file);
	if (p->kinds == 0 || (p->kinds & ~(uint32_t)(KV_KIND_SCORE | KV_KIND_GATE | KV_KIND_INFO)))
		return kv_fail(err, KV_EXIT_INPUT, "%s: descriptor kinds mask is invalid", file);
	return check_param_decls(p, file, err);
}

/* Is the running program the uninstalled one of this build tree (itself, or
 * the copy a libtool wrapper runs from .libs)?  Then the tree's own plugins
 * are found without KAIEVAL_PLUGIN_PATH, as uninstalled GStreamer does. */
static int in_build_tree(void)
{
	char exe[PATH_MAX], tree[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || !realpath(KV_BUILDDIR, tree))
		return 0;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	size_t len = strlen(tree);
	return strncmp(exe, tree, len) == 0 && (!exe[len] || strcmp(exe + len, "/.libs") == 0);
}

char *kv_plugin_search_path(void)
{
	const char *env = getenv("KAIEVAL_PLUGIN_PATH");
	if (in_build_tree())
		return kv_xasprintf("%s:%s/.libs:%s", env ? env : "", KV_BUILDDIR, KV_PLUGINDIR);
	return kv_xasprintf("%s:%s", env ? env : "", KV_PLUGINDIR);
}

/* "KAIEVAL_PLUGIN_PATH and DIR", or with the build tree's folder between. */
char *kv_plugin_search_text(void)
{
	if (in_build_tree())
		return kv_xasprintf("KAIEVAL_PLUGIN_PATH, %s/.libs and %s", KV_BUILDDIR, KV_PLUGINDIR);
	return kv_xasprintf("KAIEVAL_PLUGIN_PATH and %s", KV_PLUGINDIR);
}

/* A name holding '/' is a path relative to the config's folder; a bare name
 * is looked up in the plugin search path. */
static char *find_file(const char *name, const char *config_dir)
{
	struct stat st;
	if (strchr(name, '/')) {
		char *path = kv_xasprintf("%s/%s", config_dir, name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return path;
		free(path);
		return NULL;
	}
	char *dirs = kv_plugin_search_path();
	char *save = NULL, *found = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *path = kv_xasprintf("%s/%s.so", d, name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			found = path;
		else
			free(path);
	}
	free(dirs);
	return found;
}

/* "dir/votes.so" -> "votes" */
static char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	size_t n = strlen(b);
	if (n > 3 && strcmp(b + n - 3, ".so") == 0)
		n -= 3;
	return strndup(b, n);
}

/* The plugin file opened once, as a regular file: O_NONBLOCK so that a FIFO
 * in its place cannot hold the open, the type checked on the descriptor. */
static int open_regular(const char *file, const char *where, int *fd, struct stat *st, struct kv_error *err)
{
	*fd = kv_open_regular(file, st);
	if (*fd >= 0)
		return 0;
	if (st->st_mode && !S_ISREG(st->st_mode))
		return kv_fail(err, KV_EXIT_INPUT, "%s: plugin %s is not a regular file", where, file);
	return kv_fail(err, KV_EXIT_INPUT, "%s: cannot open plugin %s: %s", where, file, strerror(errno));
}

/* The SHA-256 of the bytes behind fd, read from its start. */
static int hash_fd(int fd, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char buf[1 << 16];
	ssize_t got;
	off_t at = 0;
	while ((got = pread(fd, buf, sizeof buf, at)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)got);
		at += got;
	}
	unsigned char m[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, m, &len);
	EVP_MD_CTX_free(md);
	kv_sha256_to_hex(m, out);
	return got < 0 ? -1 : 0;
}

int kv_plugin_hash_file(const char *file, const char *where, char sha256[65], struct kv_error *err)
{
	int fd;
	struct stat st;
	if (open_regular(file, where, &fd, &st, err))
		return err->status;
	int rc = hash_fd(fd, sha256) ? kv_fail(err, KV_EXIT_INPUT, "%s: cannot read plugin %s: %s", where,
					       file, strerror(errno)) : 0;
	close(fd);
	return rc;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* dlopen the file behind fd, the bytes that were hashed: through
 * /proc/self/fd where there is a /proc; else by name, refused when the
 * name's file is not fd's before and after. */
static void *dlopen_fd(int fd, const struct stat *st, const char *file, int *changed)
{
	char proc[64];
	struct stat now;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	*changed = 0;
	if (stat(proc, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		return dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	if (stat(file, &now) != 0 || !same_file(&now, st)) {
		*changed = 1;
		return NULL;
	}
	void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (h && (stat(file, &now) != 0 || !same_file(&now, st))) {
		dlclose(h);
		*changed = 1;
		return NULL;
	}
	return h;
}

/* The descriptor a handle was loaded through is closed after the handle:
 * while a library stays loaded under the name /proc/self/fd/N, N must not
 * name another plugin's file (the dynamic loader matches by name). */
static void release_fd(int fd)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	void *still = dlopen(proc, RTLD_NOW | RTLD_NOLOAD);
	if (still)
		dlclose(still);
	else
		close(fd);
}

static int changed_error(const char *file, const char *where, struct kv_error *err)
{
	return kv_fail(err, KV_EXIT_INPUT, "%s: plugin %s was replaced while it was loaded", where, file);
}

/* Open file once, hash the descriptor (checked against sha256 when it is
 * not NULL, else copied to it) and dlopen the same descriptor. */
static int open_hashed(const char *file, char *sha256, int expect, const char *where, void **handle,
		       int *fd, struct kv_error *err)
{
	struct stat st;
	char hex[65];
	int changed;
	*handle = NULL;
	if (open_regular(file, where, fd, &st, err))
		return err->status;
	if (hash_fd(*fd, hex))
		kv_fail(err, KV_EXIT_INPUT, "%s: cannot read plugin %s: %s", where, file, strerror(errno));
	else if (expect && strcmp(hex, sha256) != 0)
		changed_error(file, where, err);
	else if (!(*handle = dlopen_fd(*fd, &st, file, &changed)) && changed)
		changed_error(file, where, err);
	else if (!*handle) {
		const char *e = dlerror();
		kv_fail(err, KV_EXIT_INPUT, "%s: cannot load plugin %s: %s", where, file, e ? e : "unknown error");
	} else if (!expect)
		memcpy(sha256, hex, sizeof hex);
	if (*handle)
		return 0;
	close(*fd);
	*fd = -1;
	return err->status;
}

/* Find and validate the descriptor in a loaded handle. */
static int find_descriptor(void *h, const char *file, const char *where, const struct kv_plugin **out,
			   struct kv_error *err)
{
	char *name = base_name(file);
	char *symbol = kv_xasprintf("kaieval_plugin_%s", name);
	const struct kv_plugin *desc = dlsym(h, symbol);
	int rc;
	if (!desc) {
		const char *e = dlerror();
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: %s has no symbol %s: %s", where, file, symbol,
			     e ? e : "not found");
	} else {
		rc = kv_plugin_validate(desc, name, file, err);
	}
	*out = rc ? NULL : desc;
	free(name);
	free(symbol);
	return rc;
}

int kv_plugin_open_file(const char *file, const char *sha256, const char *where, void **handle,
			const struct kv_plugin **out, struct kv_error *err)
{
	char want[65] = "";
	int fd;
	if (sha256)
		snprintf(want, sizeof want, "%s", sha256);
	*out = NULL;
	if (open_hashed(file, want, sha256 != NULL, where, handle, &fd, err) == 0 &&
	    find_descriptor(*handle, file, where, out, err) != 0) {
		dlclose(*handle);
		*handle = NULL;
	}
	/* Loaded, fd stays open while the process lives, so that the name
	 * /proc/self/fd/N is this file's alone. */
	if (!*handle && fd >= 0)
		release_fd(fd);
	return err->status;
}

/* Isolated, the file is hashed here and loaded in a confined child, which
 * checks that it loads the same bytes; the core keeps a copy of its
 * descriptor (isolate.h).  Otherwise it is loaded here, from the
 * descriptor its bytes were hashed through. */
static int load_file(const char *file, const char *where, struct kv_loaded_plugin *out,
		     struct kv_error *err)
{
	struct kv_plugin *copy = NULL;
	int rc;
	if (kv_isolation_get() == KV_ISOLATE_OFF) {
		rc = open_hashed(file, out->sha256, 0, where, &out->handle, &out->fd, err);
		if (rc == 0 && (rc = find_descriptor(out->handle, file, where, &out->desc, err))) {
			dlclose(out->handle);
			out->handle = NULL;
			release_fd(out->fd);
		}
	} else {
		rc = kv_plugin_hash_file(file, where, out->sha256, err);
		if (rc == 0)
			rc = kv_isolate_describe(file, out->sha256, where, &copy, err);
		out->desc = copy;
	}
	if (rc == 0)
		out->path = kv_xstrdup(file);
	return rc;
}

/* " (did you mean 'X'?)" when an installed plugin's name is close, else "". */
static char *name_hint(const char *name)
{
	char **names;
	size_t n;
	kv_plugin_list(&names, &n);
	const char *close = kv_closest(name, (const char *const *)names, n);
	char *hint = close ? kv_xasprintf(" (did you mean '%s'?)", close) : kv_xstrdup("");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return hint;
}

static int not_found(const char *name, const char *where, struct kv_error *err)
{
	char *searched = kv_plugin_search_text(), *hint = name_hint(name);
	kv_fail(err, KV_EXIT_INPUT, "%s: plugin '%s' not found (searched %s)%s", where, name,
		searched, hint);
	free(searched);
	free(hint);
	return KV_EXIT_INPUT;
}

static const struct kv_plugin *builtin(const char *name)
{
	for (size_t i = 0; i < builtin_count; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

/* The file a plugin name or path names (caller frees), or an error. */
static int resolve(const char *name_or_path, const char *config_dir, const char *where, char **file,
		   struct kv_error *err)
{
	*file = NULL;
	if (!strchr(name_or_path, '/') && !valid_name(name_or_path))
		return kv_fail(err, KV_EXIT_INPUT, "%s: plugin name '%s' must match [a-z0-9_]+", where,
			       name_or_path);
	if (name_or_path[0] == '/')
		return kv_fail(err, KV_EXIT_INPUT,
			       "%s: plugin '%s': give a path relative to the config file, not an absolute one",
			       where, name_or_path);
	*file = find_file(name_or_path, config_dir);
	if (!*file && strchr(name_or_path, '/'))
		return kv_fail(err, KV_EXIT_INPUT, "%s: plugin '%s' not found beside the config file",
			       where, name_or_path);
	return *file ? 0 : not_found(name_or_path, where, err);
}

/* The set's plugin loaded from the same file (by real path), or NULL. */
static const struct kv_loaded_plugin *set_find(const struct kv_plugin_set *set, const char *file)
{
	char *real = realpath(file, NULL);
	const struct kv_loaded_plugin *hit = NULL;
	for (size_t i = 0; real && !hit && i < set->count; i++)
		if (set->items[i].path && strcmp(set->real[i], real) == 0)
			hit = &set->items[i];
	free(real);
	return hit;
}

int kv_plugin_set_load(struct kv_plugin_set *set, const char *name_or_path, const char *config_dir,
		       const char *where, struct kv_loaded_plugin *out, struct kv_error *err)
{
	memset(out, 0, sizeof *out);
	const struct kv_plugin *b = builtin(name_or_path);
	if (b) {
		out->desc = b;
		return kv_plugin_validate(b, name_or_path, "(built in)", err);
	}
	char *file;
	int rc = resolve(name_or_path, config_dir, where, &file, err);
	const struct kv_loaded_plugin *hit = rc ? NULL : set_find(set, file);
	if (rc == 0 && !hit) {
		struct kv_loaded_plugin lp = {0};
		rc = load_file(file, where, &lp, err);
		if (rc == 0) {
			set->items = kv_xrealloc(set->items, (set->count + 1) * sizeof *set->items);
			set->real = kv_xrealloc(set->real, (set->count + 1) * sizeof *set->real);
			set->real[set->count] = realpath(file, NULL);
			if (!set->real[set->count])
				set->real[set->count] = kv_xstrdup(file);
			set->items[set->count++] = lp;
			hit = &set->items[set->count - 1];
		} else {
			kv_plugin_unload(&lp);
		}
	}
	if (hit)
		*out = *hit;
	free(file);
	return rc;
}

int kv_plugin_load(const char *name_or_path, const char *config_dir, const char *where,
		   struct kv_loaded_plugin *out, struct kv_error *err)
{
	struct kv_plugin_set one = {0};
	int rc = kv_plugin_set_load(&one, name_or_path, config_dir, where, out, err);
	/* out takes over the set's only plugin: free the set, not the plugin. */
	if (one.count)
		free(one.real[0]);
	free(one.items);
	free(one.real);
	return rc;
}

void kv_plugin_set_free(struct kv_plugin_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		kv_plugin_unload(&set->items[i]);
		free(set->real[i]);
	}
	free(set->items);
	free(set->real);
	memset(set, 0, sizeof *set);
}

void kv_plugin_unload(struct kv_loaded_plugin *p)
{
	if (p->handle) {
		dlclose(p->handle); /* desc was in the plugin's memory */
		release_fd(p->fd);
	} else if (p->desc && kv_isolate_is_copy(p->desc))
		kv_isolate_desc_free((struct kv_plugin *)p->desc);
	free(p->path);
	memset(p, 0, sizeof *p);
}

struct kv_value *kv_param_default(const struct kv_param_decl *d)
{
	char *end;
	struct kv_value *v;
	switch (d->type) {
	case KV_T_STRING:
	case KV_T_PATH:
		v = kv_value_new(KV_T_STRING, d->name, "default");
		v->str = kv_xstrdup(d->def);
		return v;
	case KV_T_INT:
		v = kv_value_new(KV_T_INT, d->name, "default");
		v->i = strtoll(d->def, &end, 10);
		break;
	case KV_T_FLOAT:
		v = kv_value_new(KV_T_FLOAT, d->name, "default");
		v->f = strtod(d->def, &end);
		break;
	case KV_T_BOOL:
		v = kv_value_new(KV_T_BOOL, d->name, "default");
		v->b = strcmp(d->def, "true") == 0;
		end = (char *)d->def + ((v->b || strcmp(d->def, "false") == 0) ? strlen(d->def) : 0);
		break;
	default:
		return NULL; /* lists and groups have no textual default */
	}
	if (end == d->def || *end) {
		kv_value_free(v);
		return NULL;
	}
	return v;
}

static int in_choices(const char *choices, const char *s)
{
	size_t n = strlen(s);
	for (const char *c = choices; c && *c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, s, n) == 0)
			return 1;
		c = bar ? bar + 1 : c + len;
	}
	return 0;
}

static int type_ok(const struct kv_param_decl *d, const struct kv_value *v)
{
	switch (d->type) {
	case KV_T_PATH:
	case KV_T_STRING: return v->type == KV_T_STRING;
	case KV_T_FLOAT: return v->type == KV_T_FLOAT || v->type == KV_T_INT;
	default: return v->type == d->type;
	}
}

static int check_one(const struct kv_plugin *p, const struct kv_criterion *c,
		     const struct kv_value *v, struct kv_error *err)
{
	const char *names[128];
	size_t n = 0;
	const struct kv_param_decl *d = p->params;
	for (; d->name && strcmp(d->name, v->name) != 0; d = kv_param_next(p, d))
		if (n < 128)
			names[n++] = d->name;
	if (!d->name) {
		for (const struct kv_param_decl *e = d; e->name; e = kv_param_next(p, e))
			if (n < 128)
				names[n++] = e->name;
		const char *hint = kv_closest(v->name, names, n);
		return kv_fail(err, KV_EXIT_INPUT, "%s: criterion '%s': plugin '%s' has no param '%s'%s%s%s",
			       v->where, c->id, p->name, v->name, hint ? " (did you mean '" : "",
			       hint ? hint : "", hint ? "'?)" : "");
	}
	if (!type_ok(d, v))
		return kv_fail(err, KV_EXIT_INPUT, "%s: criterion '%s': param '%s' must be of type %s, not %s",
			       v->where, c->id, v->name, kv_type_name(d->type), kv_type_name(v->type));
	if (d->choices && v->str && !in_choices(d->choices, v->str))
		return kv_fail(err, KV_EXIT_INPUT, "%s: criterion '%s': param '%s' must be one of %s, not \"%s\"",
			       v->where, c->id, v->name, d->choices, v->str);
	return 0;
}

/* "gate", "score and gate", ... */
static void kinds_text(uint32_t kinds, char out[32])
{
	static const struct { uint32_t bit; const char *name; } all[] = {
		{KV_KIND_SCORE, "score"}, {KV_KIND_GATE, "gate"}, {KV_KIND_INFO, "info"}};
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < 3; i++)
		if (kinds & all[i].bit)
			n += (size_t)snprintf(out + n, 32 - n, "%s%s", n ? " and " : "", all[i].name);
}

static int check_kind(const struct kv_plugin *p, const struct kv_criterion *c, struct kv_error *err)
{
	if (p->kinds & (uint32_t)c->kind)
		return 0;
	char kinds[32];
	kinds_text(p->kinds, kinds);
	return kv_fail(err, KV_EXIT_INPUT, "%s: criterion '%s': plugin '%s' cannot serve this kind "
		       "(it serves %s only)", c->where, c->id, p->name, kinds);
}

/* Every error is collected, so that one run names them all. */
int kv_params_check(const struct kv_plugin *p, const struct kv_criterion *c,
		    struct kv_value **effective, struct kv_error *err)
{
	*effective = NULL;
	struct kv_error all = {0};
	struct kv_error one = {0};
	check_kind(p, c, &one);
	kv_error_add(&all, &one);
	for (size_t i = 0; i < c->params->count; i++) {
		struct kv_error e = {0};
		check_one(p, c, c->params->items[i], &e);
		kv_error_add(&all, &e);
	}
	struct kv_value *out = kv_value_copy(c->params);
	for (const struct kv_param_decl *d = p->params; d->name; d = kv_param_next(p, d)) {
		struct kv_error e = {0};
		if (kv_value_member(out, d->name))
			continue;
		if (d->required)
			kv_fail(&e, KV_EXIT_INPUT, "%s: criterion '%s': missing required param '%s' (%s)",
				c->where, c->id, d->name, d->doc);
		else if (d->def)
			kv_value_append(out, kv_param_default(d));
		kv_error_add(&all, &e);
	}
	if (all.status) {
		kv_value_free(out);
		return kv_error_add(err, &all);
	}
	*effective = out;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_unique(char ***names, size_t *count, const char *name)
{
	for (size_t i = 0; i < *count; i++)
		if (strcmp((*names)[i], name) == 0)
			return;
	*names = kv_xrealloc(*names, (*count + 1) * sizeof **names);
	(*names)[(*count)++] = kv_xstrdup(name);
}

int kv_plugin_list(char ***names, size_t *count)
{
	*names = NULL;
	*count = 0;
	for (size_t i = 0; i < builtin_count; i++)
		add_unique(names, count, builtins[i]->name);
	char *dirs = kv_plugin_search_path();
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		DIR *dir = opendir(d);
		struct dirent *e;
		while (dir && (e = readdir(dir))) {
			char *b = base_name(e->d_name);
			if (kv_str_ends_with(e->d_name, ".so") && valid_name(b))
				add_unique(names, count, b);
			free(b);
		}
		if (dir)
			closedir(dir);
	}
	free(dirs);
	if (*count > 1)
		qsort(*names, *count, sizeof **names, cmp_str);
	return 0;
}

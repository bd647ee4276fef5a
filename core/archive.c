/* kaieval archive / verify: a self-contained folder holding the config,
 * every input the plugins read, the record and a manifest of hashes; and the
 * rerun that checks it byte for byte. */
#include "attest.h"
#include "audit.h"
#include "jsondoc.h"
#include "record.h"
#include "isolate.h"
#include "jsonw.h"
#include "output.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KV_STR2(x) #x
#define KV_STR(x) KV_STR2(x)
#if defined(__clang__)
#define KV_COMPILER "clang " KV_STR(__clang_major__) "." KV_STR(__clang_minor__) "." KV_STR(__clang_patchlevel__)
#elif defined(__GNUC__)
#define KV_COMPILER "gcc " __VERSION__
#else
#define KV_COMPILER "unknown"
#endif

/* The archived config finds its data here (relative to the config file). */
#define ARCHIVE_DATA_OVERRIDE "data=../data"

static int make_parents(const char *path)
{
	char *p = kv_xstrdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				free(p);
				return -1;
			}
			*s = '/';
		}
	free(p);
	return 0;
}

/* Copy src to dir/rel and check the copy has the expected SHA-256. */
static int copy_checked(const char *src, const char *dir, const char *rel, const char *sha256,
			struct kv_error *err)
{
	struct kv_buf b = {0};
	char *dst = kv_xasprintf("%s/%s", dir, rel);
	char hex[65];
	int rc = 0;
	if (kv_read_file(src, &b) != 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: cannot read: %s", src, kv_open_error(errno));
	else if (kv_sha256_hex(b.data, b.len, hex), strcmp(hex, sha256) != 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: changed while the round ran", src);
	else if (make_parents(dst) != 0 || kv_write_file_atomic(dst, b.data, b.len, err) != 0)
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: cannot write", dst);
	kv_buf_free(&b);
	free(dst);
	return rc;
}

static char *plugin_rel(const struct kv_run *run, size_t c);

/* The program that ran the round: its file's digest and its compiler,
 * build identities that the record leaves out. */
static void write_engine(struct kv_jw *w)
{
	char sha[65];
	kv_jw_key(w, "engine");
	kv_jw_begin_object(w);
	kv_jw_key(w, "version"); kv_jw_string(w, PACKAGE_VERSION);
	kv_jw_key(w, "sha256");
	kv_jw_string(w, kv_sha256_file("/proc/self/exe", sha, NULL) == 0 ? sha : NULL);
	kv_jw_key(w, "compiler"); kv_jw_string(w, KV_COMPILER);
	kv_jw_end_object(w);
}

static void manifest_file(struct kv_jw *w, const char *path, uint64_t bytes, const char *sha)
{
	kv_jw_begin_object(w);
	kv_jw_key(w, "path"); kv_jw_string(w, path);
	kv_jw_key(w, "bytes"); kv_jw_integer(w, (long long)bytes);
	kv_jw_key(w, "sha256"); kv_jw_string(w, sha);
	kv_jw_end_object(w);
}

/* The manifest lists the record's inputs and plugins, with the archive's
 * folder layout, and what identifies the build: the plugins' file digests,
 * which the record leaves out so that it is the same on every build. */
static void write_manifest(const struct kv_run *run, const struct kv_record *rec, const struct kv_buf *record,
			   struct kv_buf *out)
{
	struct kv_jw w = {0};
	char sha[65];
	kv_jw_begin_object(&w);
	kv_jw_key(&w, "kaieval"); kv_jw_string(&w, rec->version);
	write_engine(&w);
	kv_jw_key(&w, "round"); kv_jw_string(&w, rec->round_id);
	kv_jw_key(&w, "config");
	char *cfg = kv_xasprintf("config/%s", rec->config_path);
	struct stat st;
	manifest_file(&w, cfg, stat(run->round->config_path, &st) == 0 ? (uint64_t)st.st_size : 0,
		      rec->config_sha256);
	free(cfg);
	kv_jw_key(&w, "result");
	kv_sha256_hex(record->data, record->len, sha);
	manifest_file(&w, "result.json", record->len, sha);
	kv_jw_key(&w, "inputs");
	kv_jw_begin_array(&w);
	for (size_t i = 0; i < rec->input_count; i++) {
		char *p = kv_xasprintf("data/%s", rec->inputs[i].path);
		manifest_file(&w, p, (uint64_t)rec->inputs[i].bytes, rec->inputs[i].sha256);
		free(p);
	}
	kv_jw_end_array(&w);
	kv_jw_key(&w, "plugins");
	kv_jw_begin_array(&w);
	for (size_t c = 0; c < rec->criterion_count; c++) {
		const struct kv_rec_plugin *p = &rec->plugins[c];
		kv_jw_begin_object(&w);
		kv_jw_key(&w, "criterion"); kv_jw_string(&w, p->criterion);
		kv_jw_key(&w, "plugin"); kv_jw_string(&w, p->plugin);
		kv_jw_key(&w, "version"); kv_jw_string(&w, p->version);
		kv_jw_key(&w, "abi"); kv_jw_string(&w, p->abi);
		char *rel = plugin_rel(run, c);
		const char *sha = run->results[c].plugin.sha256;
		kv_jw_key(&w, "path"); kv_jw_string(&w, rel);
		kv_jw_key(&w, "sha256"); kv_jw_string(&w, sha[0] ? sha : NULL);
		free(rel);
		kv_jw_end_object(&w);
	}
	kv_jw_end_array(&w);
	/* how the plugins were confined on this machine (kernels differ) */
	kv_jw_key(&w, "isolation"); kv_jw_string(&w, kv_isolation_text());
	kv_jw_end_object(&w);
	*out = w.out;
}

/* Where the archive keeps criterion c's plugin file: beside the config
 * when the config names it by path, else in plugins/; NULL when the plugin
 * is linked into the program.  Caller frees. */
static char *plugin_rel(const struct kv_run *run, size_t c)
{
	const char *name = run->round->criteria[c].plugin;
	if (!run->results[c].plugin.path)
		return NULL;
	if (strchr(name, '/'))
		return kv_xasprintf("config/%s", name);
	return kv_xasprintf("plugins/%s.so", name);
}

/* Every plugin file the round used travels with it, found on the search
 * path or beside the config, so that the archive reruns anywhere. */
static int copy_round_plugins(const struct kv_run *run, const char *tmp, struct kv_error *err)
{
	int rc = 0;
	for (size_t c = 0; rc == 0 && c < run->round->criterion_count; c++) {
		const char *name = run->round->criteria[c].plugin;
		const struct kv_loaded_plugin *p = &run->results[c].plugin;
		char *rel = plugin_rel(run, c);
		if (!rel)
			continue;
		if (name[0] == '/' || strstr(name, ".."))
			rc = kv_fail(err, KV_EXIT_INPUT, "%s: a plugin outside the config's folder cannot be archived", name);
		else
			rc = copy_checked(p->path, tmp, rel, p->sha256, err);
		free(rel);
	}
	return rc;
}

static int fill_archive(const struct kv_run *run, const char *tmp, struct kv_error *err)
{
	struct kv_buf record = {0}, manifest = {0};
	struct kv_record *rec = kv_record_from_run(run);
	kv_record_write(rec, &record);
	char *cfg = kv_xasprintf("config/%s", run->round->config_name);
	int rc = copy_checked(run->round->config_path, tmp, cfg, run->round->config_sha256, err);
	free(cfg);
	for (size_t i = 0; rc == 0 && i < run->inputs.count; i++) {
		const struct kv_input_record *in = &run->inputs.records[i];
		char *src = kv_xasprintf("%s/%s", run->round->data_dir, in->path);
		char *rel = kv_xasprintf("data/%s", in->path);
		rc = copy_checked(src, tmp, rel, in->sha256, err);
		free(src);
		free(rel);
	}
	if (rc == 0)
		rc = copy_round_plugins(run, tmp, err);
	char *path = kv_xasprintf("%s/data", tmp);
	mkdir(path, 0755); /* a round may read no file at all */
	free(path);
	if (rc == 0) {
		path = kv_xasprintf("%s/result.json", tmp);
		rc = kv_write_file_atomic(path, record.data, record.len, err);
		free(path);
	}
	if (rc == 0) {
		write_manifest(run, rec, &record, &manifest);
		path = kv_xasprintf("%s/manifest.json", tmp);
		rc = kv_write_file_atomic(path, manifest.data, manifest.len, err);
		free(path);
	}
	kv_buf_free(&record);
	kv_buf_free(&manifest);
	kv_record_free(rec);
	return rc;
}

int kv_archive(const char *config, const char *dir, FILE *out)
{
	struct kv_error err = {0};
	struct stat st;
	if (stat(dir, &st) == 0) {
		fprintf(stderr, "kaieval: %s: already exists; archive into a new folder\n", dir);
		return KV_EXIT_INPUT;
	}
	struct kv_run *run;
	int rc = kv_run_round(config, NULL, 0, &run, &err);
	if (rc) {
		kv_error_print(&err, stderr);
		return rc;
	}
	/* Built beside the target and renamed into place: never half an archive. */
	kv_output_sweep(dir);
	char *tmp = kv_output_temp_name(dir);
	if (!mkdtemp(tmp))
		rc = kv_fail(&err, KV_EXIT_INPUT, "%s: cannot create: %s", dir, strerror(errno));
	else if ((rc = fill_archive(run, tmp, &err)) == 0 && rename(tmp, dir) != 0)
		rc = kv_fail(&err, KV_EXIT_INPUT, "%s: cannot create: %s", dir, strerror(errno));
	if (rc) {
		kv_error_print(&err, stderr);
		if (kv_remove_tree(tmp) != 0)
			fprintf(stderr, "kaieval: could not remove %s: %s\n", tmp, strerror(errno));
	} else {
		char *man = kv_xasprintf("%s/manifest.json", dir), sha[65];
		fprintf(out, "archived round %s: %zu inputs, %zu plugins -> %s\n", run->round->id,
			run->inputs.count, run->round->criterion_count, dir);
		/* The one digest to publish: the manifest names every other file's. */
		if (kv_sha256_file(man, sha, NULL) == 0)
			fprintf(out, "manifest sha256 %s\n", sha);
		free(man);
	}
	free(tmp);
	kv_run_free(run);
	return rc;
}

int kv_round_arg_open(const char *arg, struct kv_round_arg *ra, struct kv_error *err)
{
	struct stat st;
	memset(ra, 0, sizeof *ra);
	if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ra->config = kv_xstrdup(arg);
		return 0;
	}
	char *path = kv_xasprintf("%s/manifest.json", arg);
	cJSON *manifest = kv_json_load(path, err);
	const char *cfg = manifest ? kv_json_str(cJSON_GetObjectItemCaseSensitive(manifest, "config"), "path") : NULL;
	int rc = err->status;
	if (manifest && (!cfg || cfg[0] == '/' || strstr(cfg, "..")))
		rc = kv_fail(err, KV_EXIT_INPUT, "%s: config.path is missing or leaves the archive", path);
	if (rc == 0) {
		ra->config = kv_xasprintf("%s/%s", arg, cfg);
		ra->overrides[0] = ARCHIVE_DATA_OVERRIDE;
		ra->override_count = 1;
		ra->saved_search_path = kv_archive_plugins_first(arg);
		ra->archive = 1;
	}
	cJSON_Delete(manifest);
	free(path);
	return rc;
}

char *kv_record_arg(const char *arg)
{
	struct stat st;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return kv_xasprintf("%s/result.json", arg);
	return kv_xstrdup(arg);
}

void kv_round_arg_close(struct kv_round_arg *ra)
{
	if (ra->archive)
		kv_archive_plugins_restore(ra->saved_search_path);
	free(ra->config);
	memset(ra, 0, sizeof *ra);
}

/* --- verify -------------------------------------------------------------- */

/* Check one manifest entry against the file in the archive. */
static int check_file(const char *dir, const cJSON *entry, struct kv_buf *problems)
{
	const char *path = kv_json_str(entry, "path"), *want = kv_json_str(entry, "sha256");
	if (!path || !want || strstr(path, "..") || path[0] == '/') {
		kv_buf_puts(problems, "manifest: an entry without a proper path and sha256\n");
		return 1;
	}
	char *full = kv_xasprintf("%s/%s", dir, path);
	char hex[65];
	uint64_t bytes;
	int bad = 0;
	if (kv_sha256_file(full, hex, &bytes) != 0) {
		kv_buf_printf(problems, "%s: missing from the archive\n", path);
		bad = 1;
	} else if (strcmp(hex, want) != 0) {
		kv_buf_printf(problems, "%s: SHA-256 differs from the manifest (the file was changed)\n", path);
		bad = 1;
	}
	free(full);
	return bad;
}

static int check_files(const char *dir, const cJSON *manifest, struct kv_buf *problems)
{
	int bad = check_file(dir, cJSON_GetObjectItemCaseSensitive(manifest, "config"), problems);
	bad += check_file(dir, cJSON_GetObjectItemCaseSensitive(manifest, "result"), problems);
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(manifest, "inputs");
	for (const cJSON *e = inputs ? inputs->child : NULL; e; e = e->next)
		bad += check_file(dir, e, problems);
	/* Plugins linked into the program, and those of an archive written
	 * before plugins were archived, have no file here. */
	const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(manifest, "plugins");
	for (const cJSON *e = plugins ? plugins->child : NULL; e; e = e->next)
		if (kv_json_str(e, "path"))
			bad += check_file(dir, e, problems);
	return bad;
}

/* A file in DIR/plugins, first on the rerun's search path, that the
 * manifest does not list would be loaded unchecked: each is named. */
static int check_unlisted_plugins(const char *dir, const cJSON *manifest, struct kv_buf *problems)
{
	char *folder = kv_xasprintf("%s/plugins", dir);
	DIR *d = opendir(folder);
	const struct dirent *e;
	const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(manifest, "plugins");
	int bad = 0;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *rel = kv_xasprintf("plugins/%s", e->d_name);
		int listed = 0;
		for (const cJSON *p = plugins ? plugins->child : NULL; p && !listed; p = p->next)
			listed = kv_json_str(p, "path") && strcmp(kv_json_str(p, "path"), rel) == 0;
		if (!listed) {
			kv_buf_printf(problems, "%s: not in the manifest (added to the archive)\n", rel);
			bad++;
		}
		free(rel);
	}
	if (d)
		closedir(d);
	free(folder);
	return bad;
}

/* Plugins as the manifest has them against the rerun's; version changes are
 * listed in `versions`, build (SHA-256) changes in `builds`, or in
 * `problems` for an archived plugin: its file was checked before the rerun. */
static void compare_plugins(const cJSON *manifest, const struct kv_record *rerun, const struct kv_run *run,
			    struct kv_buf *versions, struct kv_buf *builds, struct kv_buf *problems)
{
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(manifest, "plugins");
	for (const cJSON *p = old ? old->child : NULL; p; p = p->next) {
		const char *crit = kv_json_str(p, "criterion");
		long c = kv_rec_criterion_index(rerun, crit);
		const struct kv_rec_plugin *q = c >= 0 ? &rerun->plugins[c] : NULL;
		const char *v1 = kv_json_str(p, "version"), *v2 = q ? q->version : NULL;
		const char *s1 = kv_json_str(p, "sha256"), *s2 = q ? run->results[c].plugin.sha256 : NULL;
		if (v1 && v2 && strcmp(v1, v2) != 0)
			kv_buf_printf(versions, "plugin %s (criterion %s): version %s in the archive, %s installed\n",
				      kv_json_str(p, "plugin"), crit, v1, v2);
		else if (s1 && s2 && strcmp(s1, s2) != 0 && kv_json_str(p, "path"))
			kv_buf_printf(problems, "%s: SHA-256 of the plugin loaded differs from the manifest "
				      "(the file was changed during verify)\n", kv_json_str(p, "path"));
		else if (s1 && s2 && strcmp(s1, s2) != 0)
			kv_buf_printf(builds, "plugin %s (criterion %s): same version, another build (SHA-256 differs)\n",
				      kv_json_str(p, "plugin"), crit);
	}
}

struct verify_state {
	const char *dir;
	cJSON *manifest;
	struct kv_record *archived, *rerun;
	struct kv_run *run;
	struct kv_buf archived_bytes, rerun_bytes;
	struct kv_buf problems, versions, builds, changes;
};

char *kv_archive_plugins_first(const char *dir)
{
	const char *env = getenv("KAIEVAL_PLUGIN_PATH");
	char *saved = env ? kv_xstrdup(env) : NULL;
	char *plugins = kv_xasprintf("%s/plugins", dir), *real = realpath(plugins, NULL);
	if (real && !strchr(real, ':')) {
		char *path = kv_xasprintf("%s%s%s", real, env ? ":" : "", env ? env : "");
		setenv("KAIEVAL_PLUGIN_PATH", path, 1);
		free(path);
	}
	free(real);
	free(plugins);
	return saved;
}

void kv_archive_plugins_restore(char *saved)
{
	if (saved)
		setenv("KAIEVAL_PLUGIN_PATH", saved, 1);
	else
		unsetenv("KAIEVAL_PLUGIN_PATH");
	free(saved);
}

static int rerun(struct verify_state *v, struct kv_error *err)
{
	struct kv_round_arg ra;
	int rc = kv_round_arg_open(v->dir, &ra, err);
	if (rc == 0)
		rc = kv_run_round(ra.config, ra.overrides, ra.override_count, &v->run, err);
	kv_round_arg_close(&ra);
	if (rc)
		return rc;
	v->rerun = kv_record_from_run(v->run);
	kv_record_write(v->rerun, &v->rerun_bytes);
	return 0;
}

static int load_archive(struct verify_state *v, struct kv_error *err)
{
	char *path = kv_xasprintf("%s/manifest.json", v->dir);
	v->manifest = kv_json_load(path, err);
	free(path);
	if (!v->manifest)
		return err->status;
	path = kv_xasprintf("%s/result.json", v->dir);
	cJSON *doc = NULL;
	struct kv_error rec_err = {0};
	if (kv_read_file(path, &v->archived_bytes) == 0 &&
	    (doc = kv_json_parse(v->archived_bytes.data, v->archived_bytes.len, path, &rec_err)))
		v->archived = kv_record_from_json(doc, path, &rec_err);
	if (rec_err.status) /* a missing file is reported with the manifest's */
		kv_buf_printf(&v->problems, "%s\n", rec_err.msg);
	cJSON_Delete(doc);
	free(path);
	return 0;
}

/* The differences between the archived record and the rerun's, builds aside. */
static size_t compare_scoring(struct verify_state *v)
{
	struct kv_buf a = {0}, b = {0};
	struct kv_error err = {0};
	kv_record_blank_build(v->archived);
	kv_record_blank_build(v->rerun);
	kv_decision_diff(v->archived, v->rerun, &v->changes);
	kv_record_write(v->archived, &a);
	kv_record_write(v->rerun, &b);
	cJSON *ja = kv_json_parse(a.data, a.len, "archived", &err), *jb = kv_json_parse(b.data, b.len, "rerun", &err);
	size_t n = kv_json_diff(ja, jb, "", &v->changes);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	kv_buf_free(&a);
	kv_buf_free(&b);
	return n;
}

static int report_verify(struct verify_state *v, int rerun_rc, const char *rerun_msg, FILE *out)
{
	int identical = rerun_rc == 0 && v->archived &&
			v->archived_bytes.len == v->rerun_bytes.len &&
			memcmp(v->archived_bytes.data, v->rerun_bytes.data, v->rerun_bytes.len) == 0;
	int same_scoring = identical;
	if (rerun_rc == 0)
		compare_plugins(v->manifest, v->rerun, v->run, &v->versions, &v->builds, &v->problems);
	if (!identical && rerun_rc == 0 && v->archived)
		same_scoring = compare_scoring(v) == 0;
	int ok = same_scoring && v->problems.len == 0;
	/* Nothing tampered with, but no rerun: neither verified nor refuted. */
	if (rerun_rc && v->problems.len == 0) {
		kv_print_text(out, "NOT verified: could not rerun the archive: ", rerun_msg, "\n");
		return KV_EXIT_INPUT;
	}
	fprintf(out, "%s\n", ok ? (identical ? "verified: the rerun gives the archived record byte for byte"
					      : "verified: the rerun gives the archived scoring; only build identities differ")
				: v->problems.len ? "NOT verified: the archive was changed" : "NOT verified: the rerun differs from the archive");
	kv_print_lines(out, "", v->problems.data);
	if (rerun_rc)
		kv_print_text(out, "rerun failed: ", rerun_msg, "\n");
	if (v->archived && v->archived->had_plugin_digests)
		fprintf(out, "note: the archived record holds the plugins' file digests, as records written before they moved to the manifest did\n");
	kv_print_lines(out, ok ? "warning: " : "", v->versions.data);
	kv_print_lines(out, "note: ", v->builds.data);
	if (!same_scoring && v->changes.len) {
		fputs("changes (archived -> rerun):\n", out);
		kv_print_lines(out, "", v->changes.data);
	}
	return ok ? 0 : KV_EXIT_DIFF;
}

/* A changed archive is not rerun: its config, data and plugins were
 * checked first, and nothing of it is loaded (a plugin's code would run). */
static int report_changed(struct verify_state *v, FILE *out)
{
	fprintf(out, "NOT verified: the archive was changed; nothing in it was loaded or run\n");
	fputs(v->problems.data, out);
	return KV_EXIT_DIFF;
}

/* The attestation is checked before anything is rerun: a signature or a
 * subject that does not hold ends the verification. */
static int check_attestation(const char *dir, const struct kv_attest_check *check, FILE *out)
{
	struct kv_error err = {0};
	struct kv_buf problems = {0};
	int rc = kv_verify_attestation(dir, check, &problems, out, &err);
	if (rc)
		kv_error_print(&err, stderr);
	else if (problems.len) {
		fprintf(out, "NOT verified: the attestation does not hold\n%s", problems.data);
		rc = KV_EXIT_DIFF;
	}
	kv_buf_free(&problems);
	return rc;
}

int kv_verify(const char *dir, FILE *out)
{
	struct kv_attest_check none = {0};
	return kv_verify_signed(dir, &none, out);
}

int kv_verify_signed(const char *dir, const struct kv_attest_check *check, FILE *out)
{
	struct verify_state v = {.dir = dir};
	struct kv_error err = {0}, rerun_err = {0};
	int rc = load_archive(&v, &err);
	if (rc) {
		kv_error_print(&err, stderr);
		return rc;
	}
	if ((rc = check_attestation(dir, check, out)) == 0) {
		check_files(dir, v.manifest, &v.problems);
		check_unlisted_plugins(dir, v.manifest, &v.problems);
		if (v.problems.len)
			rc = report_changed(&v, out);
		else
			rc = report_verify(&v, rerun(&v, &rerun_err), rerun_err.msg, out);
	}
	cJSON_Delete(v.manifest);
	kv_record_free(v.archived);
	kv_record_free(v.rerun);
	if (v.run)
		kv_run_free(v.run);
	kv_buf_free(&v.archived_bytes);
	kv_buf_free(&v.rerun_bytes);
	kv_buf_free(&v.problems);
	kv_buf_free(&v.versions);
	kv_buf_free(&v.builds);
	kv_buf_free(&v.changes);
	return rc;
}

/* The harnesses' temporary folder and files (fuzz_support.h). */
#include "fuzz_support.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolate.h"
#include "jsondoc.h"
#include "record.h"
#include "run.h"

static char dir[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void remove_dir(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	if (dir[0])
		return dir;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/kaieval-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	return dir;
}

/* Paths handed out, one per name. */
static struct {
	char name[64];
	char path[4200];
} files[16];

static const char *path_of(const char *name)
{
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		if (strcmp(files[i].name, name) == 0)
			return files[i].path;
		if (!files[i].name[0]) {
			snprintf(files[i].name, sizeof files[i].name, "%s", name);
			snprintf(files[i].path, sizeof files[i].path, "%s/%s", fuzz_dir(), name);
			return files[i].path;
		}
	}
	abort();
}

/* The folders of path below fuzz_dir(). */
static void make_parents(const char *path)
{
	char buf[4200];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + strlen(fuzz_dir()) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			abort();
		*p = '/';
	}
}

const char *fuzz_file(const char *name, const void *data, size_t size)
{
	const char *path = path_of(name);
	make_parents(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	const char *p = data;
	while (size) {
		ssize_t n = write(fd, p, size);
		if (n <= 0)
			abort();
		p += n;
		size -= (size_t)n;
	}
	close(fd);
	return path;
}

struct kv_record *fuzz_read_back(const struct kv_record *rec, struct kv_buf *bytes)
{
	struct kv_error err = {0};
	kv_record_write(rec, bytes);
	cJSON *doc = kv_json_parse(bytes->data, bytes->len, "record", &err);
	struct kv_record *again = doc ? kv_record_from_json(doc, "record", &err) : NULL;
	if (!again)
		abort();
	cJSON_Delete(doc);
	return again;
}

/* The record of a run that ended well reads back. */
static void check_record(const struct kv_run *run)
{
	struct kv_record *rec = kv_record_from_run(run);
	struct kv_buf bytes = {0};
	kv_record_free(fuzz_read_back(rec, &bytes));
	kv_buf_free(&bytes);
	kv_record_free(rec);
}

/* The plugin stays loaded after each run's dlclose: libFuzzer keeps
 * reading the coverage counters of a library it saw loaded. */
static void keep_loaded(const char *plugin)
{
	const char *search = getenv("KAIEVAL_PLUGIN_PATH");
	char *copy = strdup(search ? search : "");
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s.so", dir, plugin);
		if (access(path, R_OK) == 0 && dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))
			break;
	}
	free(copy);
}

int fuzz_round(const struct fuzz_round *round, const uint8_t *data, size_t size)
{
	static const char *config_path;
	if (!config_path) {
		kv_isolation_set(round->isolated ? KV_ISOLATE_BEST : KV_ISOLATE_OFF);
		keep_loaded(round->plugin);
		for (const char *const *f = round->fixed; f && *f; f += 2)
			fuzz_file(f[0], f[1], strlen(f[1]));
		config_path = fuzz_file("round.cfg", round->config, strlen(round->config));
	}
	fuzz_file(round->input_name, data, size);
	struct kv_run *run = NULL;
	struct kv_error err = {0};
	int rc = kv_run_round(config_path, NULL, 0, &run, &err);
	if (getenv("KAIEVAL_FUZZ_VERBOSE")) /* what each input came to, when replaying */
		fprintf(stderr, "exit %d%s%s\n", rc, rc ? ": " : "", rc ? err.msg : "");
	if (rc == 0)
		check_record(run);
	else if ((rc != KV_EXIT_INPUT && rc != KV_EXIT_INTERNAL) || rc != err.status || !err.msg[0])
		abort();
	kv_run_free(run);
	return rc;
}

/* libconfig (1.5 here) leaks its string buffer when the text ends inside
 * a string (a config, or a file verify is pointed at as one); the leak is
 * libconfig's, so LeakSanitizer is told to pass it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

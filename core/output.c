/* Writing outputs: atomic replacement of regular files, write-through of
 * devices and FIFOs, recognizable temporaries (see output.h). */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_TAG ".kaieval-"
/* NAME_MAX less ".", TEMP_TAG, a pid of up to 10 digits and "-XXXXXX". */
#define TEMP_BASE_MAX (255 - 1 - 9 - 10 - 7)

/* The folder part of path ("." when none) and where its last name starts. */
static char *folder_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!slash)
		return kv_xstrdup(".");
	if (slash == path)
		return kv_xstrdup("/");
	return kv_xasprintf("%.*s", (int)(slash - path), path);
}

/* The leading part of a temporary's name: ".NAME.kaieval-", NAME cut to fit. */
static char *temp_prefix(const char *base)
{
	int n = (int)strnlen(base, TEMP_BASE_MAX);
	return kv_xasprintf(".%.*s" TEMP_TAG, n, base);
}

char *kv_output_temp_name(const char *path)
{
	const char *base;
	char *dir = folder_of(path, &base);
	char *prefix = temp_prefix(base);
	char *name = kv_xasprintf("%s/%s%ld-XXXXXX", dir, prefix, (long)getpid());
	free(prefix);
	free(dir);
	return name;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* A folder it could not read (FTW_DNR) may still be empty. */
	return (flag == FTW_DP || flag == FTW_DNR ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

int kv_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The writer's pid when name is "<prefix><pid>-XXXXXX", else 0. */
static long temp_owner(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);
	if (strncmp(name, prefix, plen) != 0)
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(name + plen, &end, 10);
	if (errno || pid <= 0 || end == name + plen || *end != '-' || strlen(end + 1) != 6)
		return 0;
	return pid;
}

void kv_output_sweep(const char *path)
{
	const char *base;
	char *dir = folder_of(path, &base);
	char *prefix = temp_prefix(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		long pid = temp_owner(e->d_name, prefix);
		if (pid && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			char *victim = kv_xasprintf("%s/%s", dir, e->d_name);
			kv_remove_tree(victim);
			free(victim);
		}
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
}

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* A device or FIFO that exists: write into it, never replace it.  A FIFO
 * is opened without blocking, so one nobody reads is an error, not a hang. */
static int write_through(const char *path, const struct stat *st, const char *data, size_t len,
			 struct kv_error *err)
{
	if (!S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode))
		return kv_fail(err, KV_EXIT_INPUT, "%s: %s, not a file: not replaced", path,
			       S_ISDIR(st->st_mode) ? "a directory" : "a special file");
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return kv_fail(err, KV_EXIT_INPUT, "%s: cannot open: %s", path,
			       errno == ENXIO ? "no process reads this FIFO" : strerror(errno));
	int ok = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0 && write_all(fd, data, len) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	if (!ok)
		return kv_fail(err, KV_EXIT_INPUT, "%s: cannot write: %s", path, strerror(saved ? saved : errno));
	return 0;
}

static int replace(const char *path, const char *data, size_t len, struct kv_error *err)
{
	kv_output_sweep(path);
	char *tmp = kv_output_temp_name(path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		kv_fail(err, KV_EXIT_INPUT, "%s: cannot create: %s", path, strerror(errno));
		free(tmp);
		return KV_EXIT_INPUT;
	}
	int ok = write_all(fd, data, len) == 0 && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) == 0) {
		free(tmp);
		return 0;
	}
	kv_fail(err, KV_EXIT_INPUT, "%s: cannot write: %s", path, strerror(ok ? errno : saved));
	unlink(tmp);
	free(tmp);
	return KV_EXIT_INPUT;
}

int kv_write_file_atomic(const char *path, const char *data, size_t len, struct kv_error *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_through(path, &st, data, len, err);
	return replace(path, data, len, err);
}

int kv_output_not_one_of(const char *path, const char *what, const char *const *files,
			 size_t count, struct kv_error *err)
{
	struct stat out, st;
	if (stat(path, &out) != 0 || !S_ISREG(out.st_mode))
		return 0;
	for (size_t i = 0; i < count; i++)
		if (stat(files[i], &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
			return kv_fail(err, KV_EXIT_INPUT,
				       "%s: is %s (%s); writing there would lose it: choose another output",
				       path, what, files[i]);
	return 0;
}

int kv_output_finish_stdout(void)
{
	errno = 0;
	int failed = fflush(stdout) != 0 || ferror(stdout);
	int saved = errno;
	failed = fclose(stdout) != 0 || failed;
	if (!failed)
		return 0;
	fprintf(stderr, "kaieval: standard output: %s\n",
		saved ? strerror(saved) : errno ? strerror(errno) : "write error");
	return KV_EXIT_INPUT;
}

void kv_output_guard_std_fds(void)
{
	/* Read-only /dev/null in a closed output slot: every write there fails. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
			open("/dev/null", O_RDONLY);
}

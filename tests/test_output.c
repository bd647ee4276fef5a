/* Outputs: what `-o` and standard output do with devices, FIFOs, long
 * names, the round's own files, write errors and leftovers of killed runs. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static const char *round_cfg(void)
{
	static char *cfg;
	if (!cfg)
		cfg = kvt_src("conf/rounds/2026-01-stage1-table.cfg");
	return cfg;
}

/* `kaieval run ROUND -o out`: exit status, stderr in *err. */
static int run_to(const char *out, char **err)
{
	const char *args[] = { "run", round_cfg(), "-o", out, NULL };
	return kvt_exec(args, NULL, err);
}

/* The kaieval binary with its standard output on fd (-1: closed). */
static int run_with_stdout(int fd, char **err)
{
	char *dir = kvt_tempdir();
	char *err_path = kv_xasprintf("%s/err", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(e, 2);
		if (fd < 0)
			close(1);
		else
			dup2(fd, 1);
		execl(getenv("KAIEVAL_BIN"), "kaieval", "run", round_cfg(), (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	*err = kvt_read(err_path);
	kvt_rmtree(dir);
	free(dir);
	free(err_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static mode_t type_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & S_IFMT;
}

Test(output, a_full_device_is_an_error_and_stays_a_device)
{
	char *err = NULL;
	cr_assert_eq(run_to("/dev/full", &err), 2);
	cr_assert(strstr(err, "/dev/full: cannot write: No space left on device"), "%s", err);
	cr_assert_eq(type_of("/dev/full"), S_IFCHR);
	free(err);
}

/* As root a device node can be made: /dev/null's twin is written through. */
Test(output, a_device_node_is_written_through_not_replaced)
{
	if (geteuid() != 0)
		cr_skip_test("making a device node needs root");
	char *dir = kvt_tempdir();
	char *node = kv_xasprintf("%s/null", dir);
	cr_assert_eq(mknod(node, S_IFCHR | 0666, makedev(1, 3)), 0, "%s", strerror(errno));
	char *err = NULL;
	cr_assert_eq(run_to(node, &err), 0, "%s", err);
	cr_assert_eq(type_of(node), S_IFCHR);
	free(err);
	free(node);
	kvt_rmtree(dir);
	free(dir);
}

Test(output, a_fifo_nobody_reads_is_refused_at_once, .timeout = 20)
{
	char *dir = kvt_tempdir();
	char *fifo = kv_xasprintf("%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	char *err = NULL;
	cr_assert_eq(run_to(fifo, &err), 2);
	cr_assert(strstr(err, "no process reads this FIFO"), "%s", err);
	cr_assert_eq(type_of(fifo), S_IFIFO);
	free(err);
	free(fifo);
	kvt_rmtree(dir);
	free(dir);
}

Test(output, a_fifo_with_a_reader_gets_the_record, .timeout = 20)
{
	char *dir = kvt_tempdir();
	char *fifo = kv_xasprintf("%s/fifo", dir), *got = kv_xasprintf("%s/got", dir);
	char *plain = kv_xasprintf("%s/plain.json", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	pid_t reader = fork();
	if (reader == 0) {
		int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char buf[4096];
		ssize_t n;
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	char *err = NULL;
	int rc;
	/* The reader may not have opened its end yet: retry briefly. */
	for (int i = 0; i < 100 && (rc = run_to(fifo, &err)) == 2; i++) {
		free(err);
		err = NULL;
		usleep(50000);
	}
	cr_assert_eq(rc, 0, "%s", err);
	int status;
	waitpid(reader, &status, 0);
	cr_assert_eq(type_of(fifo), S_IFIFO);
	cr_assert_eq(run_to(plain, NULL), 0);
	char *a = kvt_read(got), *b = kvt_read(plain);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(err);
	free(fifo);
	free(got);
	free(plain);
	kvt_rmtree(dir);
	free(dir);
}

Test(output, a_directory_is_refused)
{
	char *dir = kvt_tempdir();
	char *err = NULL;
	cr_assert_eq(run_to(dir, &err), 2);
	cr_assert(strstr(err, "a directory, not a file: not replaced"), "%s", err);
	cr_assert_eq(type_of(dir), S_IFDIR);
	free(err);
	kvt_rmtree(dir);
	free(dir);
}

/* A name of 250 bytes fits NAME_MAX; the temporary beside it must too. */
Test(output, a_long_name_that_fits_is_written)
{
	char *dir = kvt_tempdir();
	char name[251];
	memset(name, 'r', 245);
	strcpy(name + 245, ".json");
	char *out = kv_xasprintf("%s/%s", dir, name);
	char *err = NULL;
	cr_assert_eq(run_to(out, &err), 0, "%s", err);
	cr_assert(kvt_exists(out));
	free(err);
	free(out);
	kvt_rmtree(dir);
	free(dir);
}

/* The round's config or one of its inputs as -o: refused, left as it was. */
static void refused_over(const char *rel, const char *what)
{
	char *path = kvt_src(rel);
	char *before = kvt_read(path), *err = NULL;
	cr_assert_eq(run_to(path, &err), 2, "%s", err);
	cr_assert(strstr(err, what), "%s", err);
	char *after = kvt_read(path);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
	free(err);
	free(path);
}

Test(output, the_rounds_own_config_is_not_overwritten)
{
	refused_over("conf/rounds/2026-01-stage1-table.cfg", "is the round's config");
}

Test(output, an_input_of_the_round_is_not_overwritten)
{
	refused_over("examples/2026-01-stage1-table/nia.csv", "is an input of the round");
}

Test(output, a_full_standard_output_is_an_error)
{
	int full = open("/dev/full", O_WRONLY);
	cr_assert_geq(full, 0);
	char *err = NULL;
	cr_assert_eq(run_with_stdout(full, &err), 2);
	cr_assert(strstr(err, "standard output: No space left on device"), "%s", err);
	close(full);
	free(err);
}

Test(output, a_closed_standard_output_is_an_error)
{
	char *err = NULL;
	cr_assert_eq(run_with_stdout(-1, &err), 2);
	cr_assert(strstr(err, "standard output:"), "%s", err);
	free(err);
}

/* A pid that is certainly not running: a child that has been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* A killed run leaves ".NAME.kaieval-PID-XXXXXX"; the next write to NAME
 * removes it unless its writer is still running. */
Test(output, leftovers_of_dead_writers_are_swept)
{
	char *dir = kvt_tempdir();
	char *dead = kv_xasprintf("%s/.out.json.kaieval-%ld-abcdef", dir, (long)dead_pid());
	char *live = kv_xasprintf("%s/.out.json.kaieval-%ld-ghijkl", dir, (long)getpid());
	char *other = kv_xasprintf("%s/.other.json.kaieval-%ld-mnopqr", dir, (long)dead_pid());
	kvt_write(dir, strrchr(dead, '/') + 1, "half a record");
	kvt_write(dir, strrchr(live, '/') + 1, "a record being written");
	kvt_write(dir, strrchr(other, '/') + 1, "another target's");
	char *out = kv_xasprintf("%s/out.json", dir);
	cr_assert_eq(run_to(out, NULL), 0);
	cr_assert(!kvt_exists(dead), "%s was left", dead);
	cr_assert(kvt_exists(live), "a running writer's temporary was removed");
	cr_assert(kvt_exists(other), "another target's temporary was removed");
	free(dead);
	free(live);
	free(other);
	free(out);
	kvt_rmtree(dir);
	free(dir);
}

/* Inputs are opened beneath the data directory, on a descriptor: a helper
 * process that swaps a folder of the data directory for a symbolic link
 * out, or a data file for a FIFO, while rounds run can make a run fail
 * (exit 2, saying why) but never make it read the outside file, hang, or
 * record a digest of bytes it did not read.  Both ways of opening are
 * checked: openat2 and the walk used where the kernel lacks it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "input.h"
#include "support.h"

#define INSIDE "team,value,normalized\na,1,0.1\nb,2,0.2\nc,3,0.3\nd,4,0.4\n"
#define OUTSIDE "team,value,normalized\na,1,0.9\nb,2,0.9\nc,3,0.9\nd,4,0.9\n"
/* sha256sum of the two texts above */
#define INSIDE_SHA "90e7ecf01029496622e62785903ffcfc18fd044f5a23658fd696ed214aa87d51"
#define OUTSIDE_SHA "0775abe629773a112e77453f5d78d99c3a0bd9b6cab18ab31f15b5cf5472a590"
#define RUNS 300
#define RUN_SECONDS 10   /* a run that takes longer hangs: SIGALRM ends it */

static char *dir;

static char *at(const char *rel) { return kv_xasprintf("%s/%s", dir, rel); }

static void setup(void)
{
	dir = kvt_tempdir();
	kvt_write(dir, "data/sub/x.csv", INSIDE);
	kvt_write(dir, "data/x.csv", INSIDE);
	kvt_write(dir, "outside/x.csv", OUTSIDE);
	char *evil = at("data/evil"), *fifo = at("data/fifo");
	cr_assert_eq(symlink("../outside", evil), 0);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	free(evil);
	free(fifo);
}

static void teardown(void)
{
	kv_inputs_walk_always(0);
	kvt_rmtree(dir);
	free(dir);
}

TestSuite(races, .init = setup, .fini = teardown, .timeout = 120);

/* --- the helper that swaps ----------------------------------------------- */

/* Exchange a and b (both under dir) until killed. */
static pid_t swapper(const char *a, const char *b)
{
	char *pa = at(a), *pb = at(b);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Never outlive the test (a test killed at its timeout would
		 * leave a swapper spinning), nor run past the suite's timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(150);
		for (;;)
			if (renameat2(AT_FDCWD, pa, AT_FDCWD, pb, RENAME_EXCHANGE) != 0)
				_exit(1);
	}
	free(pa);
	free(pb);
	return pid;
}

/* Stop it, and put a back where it was (a regular file or folder). */
static void stop_swapper(pid_t pid, const char *a, const char *b)
{
	int status;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status), "the swapper failed: exit %d", WEXITSTATUS(status));
	char *pa = at(a), *pb = at(b);
	struct stat st;
	cr_assert_eq(lstat(pa, &st), 0);
	if (S_ISLNK(st.st_mode) || S_ISFIFO(st.st_mode))
		cr_assert_eq(renameat2(AT_FDCWD, pa, AT_FDCWD, pb, RENAME_EXCHANGE), 0);
	free(pa);
	free(pb);
}

/* --- what is under dir, to see that nothing but -o changed ---------------- */

static struct kv_buf *snap;

static int snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	const char *rel = path + strlen(dir);
	if (strcmp(rel, "/out.json") == 0)
		return 0;
	kv_buf_printf(snap, "%s %o %lld\n", rel, (unsigned)st->st_mode, (long long)st->st_size);
	if (type == FTW_F && S_ISREG(st->st_mode)) {
		char *text = kvt_read(path);
		kv_buf_puts(snap, text ? text : "(unreadable)");
		free(text);
	}
	return 0;
}

static char *snapshot(void)
{
	struct kv_buf b = {0};
	snap = &b;
	cr_assert_eq(nftw(dir, snap_one, 16, FTW_PHYS), 0);
	return b.data;
}

/* --- one run, with a deadline --------------------------------------------- */

/* kaieval run on r.cfg; stderr into *err.  An alarm set before exec
 * survives it: a run that blocks is ended by SIGALRM. */
static int run_once(int isolated, char **err)
{
	char *cfg = at("r.cfg"), *out = at("out.json");
	const char *args[] = {"run", cfg, "-o", out, isolated ? NULL : "--no-isolation", NULL};
	int rc = kvt_exec_within(RUN_SECONDS, args, NULL, err);
	free(cfg);
	free(out);
	return rc;
}

/* Exit 0 with the inside file's digest, or exit 2 with a message that says
 * one of `refusals`; counts the runs that succeeded. */
static int race(const char *file, const char *a, const char *b, const char *const *refusals)
{
	char *crit = kv_xasprintf("    { id = \"x\"; plugin = \"table\"; kind = \"score\"; points = 10.0;"
				  " params = { file = \"%s\"; }; }", file);
	char *cfg = kvt_config(crit, NULL);
	kvt_write(dir, "r.cfg", cfg);
	char *before = snapshot(), *out = at("out.json");
	pid_t helper = swapper(a, b);
	int ok = 0;
	for (int i = 0; i < RUNS; i++) {
		char *err = NULL;
		unlink(out);
		int rc = run_once(i % 2 == 0, &err);
		if (rc == 0) {
			char *record = kvt_read(out);
			cr_assert(record && strstr(record, INSIDE_SHA), "run %d: not the inside file's digest", i);
			cr_assert_null(strstr(record, OUTSIDE_SHA), "run %d read the outside file", i);
			cr_assert(strstr(record, "\"normalized\": 0.1"), "run %d: not the inside file's scores", i);
			free(record);
			ok++;
		} else {
			int said = 0;
			for (size_t k = 0; refusals[k]; k++)
				said |= strstr(err, refusals[k]) != NULL;
			cr_assert(rc == 2 && said && strstr(err, file), "run %d: exit %d: %s", i, rc, err);
			cr_assert_not(kvt_exists(out), "run %d failed but wrote its output", i);
		}
		free(err);
	}
	stop_swapper(helper, a, b);
	char *after = snapshot();
	cr_expect_str_eq(after, before, "something beside -o changed");
	free(before);
	free(after);
	free(out);
	free(cfg);
	free(crit);
	return ok;
}

Test(races, a_folder_swapped_for_a_link_out_is_never_read_through)
{
	static const char *const refusals[] = {"leads out of the data directory", NULL};
	int ok = race("sub/x.csv", "data/sub", "data/evil", refusals);
	cr_log_info("%d of %d runs read the inside file, the others were refused", ok, RUNS);
}

Test(races, a_file_swapped_for_a_fifo_never_blocks)
{
	static const char *const refusals[] = {"not a regular file but a FIFO", NULL};
	int ok = race("x.csv", "data/x.csv", "data/fifo", refusals);
	cr_log_info("%d of %d runs read the file, the others were refused", ok, RUNS);
}

/* --- the two ways of opening, in process ---------------------------------- */

static void open_inputs(struct kv_inputs *in, int walk)
{
	struct kv_error err = {0};
	char *data = at("data");
	cr_assert_eq(kv_inputs_init(in, data, &err), 0, "%s", err.msg);
	kv_inputs_walk_always(walk);
	free(data);
}

/* What open says of rel: "" when it opened a regular file holding INSIDE. */
static char *open_says(struct kv_inputs *in, const char *rel)
{
	struct kv_error err = {0};
	char buf[256] = "";
	int fd = kv_inputs_open(in, rel, KV_OPEN_FILE, NULL, &err);
	if (fd < 0)
		return kv_xstrdup(err.msg);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return kv_xstrdup(strcmp(buf, INSIDE) == 0 ? "" : "other content");
}

static void expect_says(struct kv_inputs *in, const char *rel, const char *needle, int walk)
{
	char *said = open_says(in, rel);
	if (*needle)
		cr_expect(strstr(said, needle), "%s (walk %d): '%s' not in '%s'", rel, walk, needle, said);
	else
		cr_expect_str_empty(said, "%s (walk %d): %s", rel, walk, said);
	free(said);
}

static void link_at(const char *target, const char *rel)
{
	char *p = at(rel);
	cr_assert_eq(symlink(target, p), 0, "%s", rel);
	free(p);
}

/* A relative link that stays inside is followed; any other is refused,
 * whichever way the file is opened.  Each case: the path, and what open
 * says ("": it read the inside file). */
static const char *const cases[][2] = {
	{"x.csv", ""},
	{"rel.csv", ""},
	{"relsub/x.csv", ""},
	{"sub/up.csv", ""},
	{"relsub/up.csv", ""},
	{"evil/x.csv", "evil/x.csv: path leads out of the data directory (symbolic link)"},
	{"abs.csv", "abs.csv: path leads out of the data directory (symbolic link)"},
	{"loop1", "loop1: Too many levels of symbolic links"},
	{"fifo", "fifo: not a regular file but a FIFO"},
	{"sub", "sub: not a regular file but a directory"},
	{"nope.csv", "nope.csv: No such file or directory"},
	{"x.csv/y", "x.csv/y: Not a directory"},
};

Test(races, links_inside_are_followed_and_others_refused)
{
	char *abs_inside = at("data/x.csv");
	link_at("sub/x.csv", "data/rel.csv");
	link_at("sub", "data/relsub");
	link_at("../sub/x.csv", "data/sub/up.csv");
	link_at(abs_inside, "data/abs.csv");
	link_at("loop2", "data/loop1");
	link_at("loop1", "data/loop2");
	for (int walk = 0; walk < 2; walk++) {
		struct kv_inputs in;
		open_inputs(&in, walk);
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
			expect_says(&in, cases[i][0], cases[i][1], walk);
		cr_expect_eq(kv_inputs_kind(&in, "sub"), 2);
		cr_expect_eq(kv_inputs_kind(&in, "relsub"), 2);
		cr_expect_eq(kv_inputs_kind(&in, "fifo"), 0);
		cr_expect_eq(kv_inputs_kind(&in, "evil"), 0, "the link out is not even looked at");
		char **names;
		size_t n;
		struct kv_error err = {0};
		cr_assert_eq(kv_inputs_list(&in, "relsub", &names, &n, &err), 0, "%s", err.msg);
		cr_expect(n == 2 && strcmp(names[0], "up.csv") == 0 && strcmp(names[1], "x.csv") == 0);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		cr_expect_neq(kv_inputs_list(&in, "evil", &names, &n, &err), 0);
		kv_inputs_free(&in);
	}
	free(abs_inside);
}

/* The walk under the same attack, in process: thousands of opens. */
Test(races, the_walk_holds_under_the_swap)
{
	for (int walk = 0; walk < 2; walk++) {
		struct kv_inputs in;
		open_inputs(&in, walk);
		pid_t helper = swapper("data/sub", "data/evil");
		for (int i = 0; i < 5000; i++) {
			char *said = open_says(&in, "sub/x.csv");
			cr_assert(!*said || strstr(said, "leads out of the data directory"), "walk %d, open %d: %s",
				  walk, i, said);
			free(said);
		}
		stop_swapper(helper, "data/sub", "data/evil");
		kv_inputs_free(&in);
	}
}

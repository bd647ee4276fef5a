/* The parent side of isolation: spawn the confined child, read its messages
 * against the criterion's limits, check every field, keep the state. */
#include "isolate.h"
#include "feed.h"
#include "host.h"
#include "isolate_child.h"
#include "isolate_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static enum kv_isolation mode = KV_ISOLATE_BEST;

void kv_isolation_set(enum kv_isolation m) { mode = m; }
enum kv_isolation kv_isolation_get(void) { return mode; }

static int have_seccomp(void)
{
#ifdef HAVE_SECCOMP
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
#else
	return 0;
#endif
}

/* What this kernel offers, probed once. */
static struct kv_confinement offered(void)
{
	static int probed;
	static struct kv_confinement c;
	if (!probed) {
		c.landlock_abi = kv_landlock_abi();
		c.seccomp = have_seccomp();
		probed = 1;
	}
	return c;
}

const char *kv_isolation_text(void)
{
	static char text[96];
	if (mode == KV_ISOLATE_OFF)
		return "none (--no-isolation)";
	struct kv_confinement c = offered();
	snprintf(text, sizeof text, "process%s%.0d%s%s", c.landlock_abi ? ", landlock ABI " : "",
		 c.landlock_abi, c.seccomp ? ", seccomp" : "",
#ifdef HAVE_SECCOMP
		 ""
#else
		 " (seccomp unavailable: built without libseccomp)"
#endif
		 );
	return text;
}

int kv_isolation_check(struct kv_error *err)
{
	struct kv_confinement c = offered();
	if (mode != KV_ISOLATE_REQUIRE || (c.landlock_abi && c.seccomp))
		return 0;
	return kv_fail(err, KV_EXIT_INTERNAL, "--require-isolation: this system gives plugins only %s "
		       "(%s%s%s missing)", kv_isolation_text(), c.landlock_abi ? "" : "Landlock",
		       !c.landlock_abi && !c.seccomp ? " and " : "", c.seccomp ? "" : "seccomp");
}

/* --- one child ----------------------------------------------------------- */

/* The descriptor copy's functions are markers: the core never calls them. */
static int copy_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state; (void)h; (void)ctx;
	return KV_ERR_INTERNAL;
}

static int copy_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)h; (void)ctx; (void)state;
	return KV_ERR_INTERNAL;
}

static void copy_close(void *state) { (void)state; }

int kv_isolate_is_copy(const struct kv_plugin *desc) { return desc->evaluate == copy_evaluate; }

struct child {
	pid_t pid;
	int msg, out;            /* the parent's ends; -1 once at end of file */
	struct kv_buf in;        /* bytes of messages not yet whole */
	double deadline;         /* CLOCK_MONOTONIC seconds */
	int done, timed_out;
	char *problem;           /* what went wrong, in words */
	char *forbidden;         /* a refused system call */
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef void (*child_job)(void *arg);

/* fd 3 carries messages both ways, 1 and 2 go to the parent's stderr (a plugin that
 * prints cannot reach the table or the record), nothing else stays open. */
static void child_fds(int msg, int out)
{
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	dup2(out, 1);
	dup2(out, 2);
	dup2(msg, KV_ISOLATE_FD);
	closefrom(KV_ISOLATE_FD + 1);
}

static int spawn(struct child *c, double timeout, child_job job, void *arg, struct kv_error *err)
{
	int msg[2], out[2];
	memset(c, 0, sizeof *c);
	/* a socket, not a pipe: the core answers requests and passes descriptors */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, msg))
		return kv_fail(err, KV_EXIT_INTERNAL, "cannot isolate a plugin: socketpair: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC)) {
		close(msg[0]);
		close(msg[1]);
		return kv_fail(err, KV_EXIT_INTERNAL, "cannot isolate a plugin: pipe: %s", strerror(errno));
	}
	fflush(NULL); /* nothing buffered is written twice */
	c->pid = fork();
	if (c->pid == 0) {
		child_fds(msg[1], out[1]);
		job(arg);
		_exit(126);
	}
	close(msg[1]);
	close(out[1]);
	c->msg = msg[0];
	c->out = out[0];
	c->deadline = now() + timeout;
	if (c->pid < 0) {
		close(c->msg);
		close(c->out);
		return kv_fail(err, KV_EXIT_INTERNAL, "cannot isolate a plugin: fork: %s", strerror(errno));
	}
	return 0;
}

static void stop(struct child *c, const char *problem)
{
	if (!c->problem)
		c->problem = kv_xstrdup(problem);
	kill(c->pid, SIGKILL);
}

typedef int (*on_message)(void *arg, enum kv_msg type, struct kv_wire_in *in, struct child *c);

/* Whole messages in c->in, handed on; 0, or -1 after stop(). */
static int take_messages(struct child *c, on_message handle, void *arg)
{
	size_t used = 0;
	while (c->in.len - used >= KV_MSG_HEADER) {
		uint32_t head[2];
		memcpy(head, c->in.data + used, sizeof head);
		if (head[0] == 0 || head[0] >= KV_MSG_END || head[1] > KV_MSG_CAP) {
			stop(c, "sent a malformed message (unknown type or too long)");
			return -1;
		}
		if (c->in.len - used - KV_MSG_HEADER < head[1])
			break;
		struct kv_wire_in in = {(const unsigned char *)c->in.data + used + KV_MSG_HEADER, head[1], 0};
		used += KV_MSG_HEADER + head[1];
		if (c->done) {
			stop(c, "sent a message after it was done");
			return -1;
		}
		if (handle(arg, (enum kv_msg)head[0], &in, c) || in.bad || in.left) {
			if (!c->problem)
				stop(c, "sent a malformed message (a field out of range, missing or extra)");
			return -1;
		}
	}
	memmove(c->in.data, c->in.data + used, c->in.len - used);
	c->in.len -= used;
	return 0;
}

static void pass_output(struct child *c)
{
	char buf[4096];
	ssize_t n = read(c->out, buf, sizeof buf);
	if (n > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	else if (n == 0 || errno != EINTR) {
		close(c->out);
		c->out = -1;
	}
}

static void read_messages(struct child *c, on_message handle, void *arg)
{
	char buf[1 << 16];
	ssize_t n = read(c->msg, buf, sizeof buf);
	if (n > 0) {
		kv_buf_add(&c->in, buf, (size_t)n);
		take_messages(c, handle, arg);
	} else if (n == 0 || errno != EINTR) {
		close(c->msg);
		c->msg = -1;
	}
}

/* What the parent serves while the child runs: its messages and the
 * descriptors of `extra` (the inputs it feeds the child), one thread. */
struct child_io {
	on_message handle;
	/* fill p (room entries at most) with descriptors to poll; how many */
	size_t (*extra)(void *arg, struct pollfd *p, size_t room);
	/* p as filled, with the events that came */
	void (*ready)(void *arg, const struct pollfd *p, size_t n);
	void *arg;
};

#define POLL_ROOM 258

/* Until both ends close or the deadline passes. */
static void pump(struct child *c, const struct child_io *io)
{
	on_message handle = io->handle;
	void *arg = io->arg;
	struct pollfd p[POLL_ROOM];
	while (c->msg >= 0 || c->out >= 0) {
		p[0] = (struct pollfd){c->msg, POLLIN, 0};
		p[1] = (struct pollfd){c->out, POLLIN, 0};
		size_t extra = io->extra ? io->extra(arg, p + 2, POLL_ROOM - 2) : 0;
		double left = c->deadline - now();
		if (left <= 0) {
			c->timed_out = 1;
			stop(c, "timed out");
			break;
		}
		int n = poll(p, 2 + extra, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && extra)
			io->ready(arg, p + 2, extra); /* first: a message may close a feed */
		if (c->msg >= 0 && p[0].revents)
			read_messages(c, handle, arg);
		if (c->out >= 0 && p[1].revents)
			pass_output(c);
	}
	if (c->msg >= 0)
		close(c->msg);
	if (c->out >= 0)
		close(c->out);
}

/* The child's end: reaped by the deadline, or killed then. */
static int reap(struct child *c)
{
	int status = 0;
	for (long wait_ns = 100000; waitpid(c->pid, &status, WNOHANG) == 0; wait_ns *= 2) {
		if (now() >= c->deadline) {
			if (!c->problem)
				c->timed_out = 1;
			stop(c, "timed out");
			waitpid(c->pid, &status, 0);
			break;
		}
		struct timespec ts = {0, wait_ns > 10000000 ? 10000000 : wait_ns};
		nanosleep(&ts, NULL);
	}
	return status;
}

static char *what_happened(const struct child *c, int status, double timeout)
{
	if (c->timed_out)
		return kv_xasprintf("did not finish within its timeout of %g s (killed)", timeout);
	if (c->forbidden)
		return kv_xasprintf("attempted the system call %s, which plugins may not make (stopped)",
				    c->forbidden);
	if (c->problem)
		return kv_xasprintf("%s (killed)", c->problem);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		return kv_xstrdup("reached its CPU time limit (killed by SIGXCPU)");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return kv_xstrdup("made a system call plugins may not make (killed by SIGSYS)");
	if (WIFSIGNALED(status))
		return kv_xasprintf("was killed by signal SIG%s (%s)", sigabbrev_np(WTERMSIG(status)),
				    strsignal(WTERMSIG(status)));
	if (!c->done)
		return kv_xasprintf("exited with status %d before it finished", WEXITSTATUS(status));
	if (WEXITSTATUS(status) != 0)
		return kv_xasprintf("exited with status %d after it finished", WEXITSTATUS(status));
	return NULL;
}

/* Run job in a child and hand its messages to handle; 0, or the one error
 * naming the criterion (when known), the plugin file and what happened. */
static int run_child(const char *who, const char *file, double timeout, child_job job, void *job_arg,
		     const struct child_io *io, struct kv_error *err)
{
	struct child c;
	if (spawn(&c, timeout, job, job_arg, err))
		return err->status;
	pump(&c, io);
	int status = reap(&c);
	char *what = what_happened(&c, status, timeout);
	if (what)
		kv_fail(err, KV_EXIT_INTERNAL, "%splugin %s %s", who, file ? file : "(built in)", what);
	free(what);
	free(c.problem);
	free(c.forbidden);
	kv_buf_free(&c.in);
	return what ? KV_EXIT_INTERNAL : 0;
}

/* Messages every child may send: its error, its end, a refused call. */
static int common_message(struct kv_error *err, enum kv_msg type, struct kv_wire_in *in, struct child *c)
{
	if (type == KV_MSG_FORBIDDEN) {
		free(c->forbidden);
		c->forbidden = kv_wire_get_str(in);
		return c->forbidden ? 0 : -1;
	}
	if (type == KV_MSG_DONE) {
		uint64_t status = kv_wire_get_u64(in);
		c->done = 1;
		return (status == 0) == (err->status == 0) && (status == 0 || status == (uint64_t)err->status)
			       ? 0 : -1;
	}
	if (type != KV_MSG_ERROR || err->status)
		return -1;
	uint64_t status = kv_wire_get_u64(in), count = kv_wire_get_u64(in), dropped = kv_wire_get_u64(in);
	char *msg = kv_wire_get_str(in);
	int ok = msg && *msg && strlen(msg) < sizeof err->msg && (status == KV_EXIT_INPUT ||
		 status == KV_EXIT_INTERNAL) && count < 10000 && dropped <= count;
	if (ok) {
		err->status = (int)status;
		memcpy(err->msg, msg, strlen(msg) + 1);
		err->count = count;
		err->dropped = dropped;
	}
	free(msg);
	return ok ? 0 : -1;
}

/* --- phase 1: the descriptor --------------------------------------------- */

struct describe {
	const char *file, *where;
	const char *sha256;
	struct kv_confinement how;
	struct kv_plugin *copy;
	struct kv_error *err;
};

static void describe_job(void *arg)
{
	struct describe *d = arg;
	kv_isolate_child_describe(d->file, d->sha256, d->where, &d->how);
}

void kv_isolate_desc_free(struct kv_plugin *p)
{
	if (!p)
		return;
	free((char *)p->name);
	free((char *)p->version);
	free((char *)p->summary);
	for (const struct kv_param_decl *d = p->params; d && d->name; d++) {
		free((char *)d->name);
		free((char *)d->def);
		free((char *)d->choices);
		free((char *)d->doc);
	}
	free((void *)p->params);
	free(p);
}

#define MAX_PARAMS 1024

static int read_params(struct kv_plugin *p, struct kv_wire_in *in)
{
	struct kv_param_decl *v = kv_xcalloc(1, sizeof *v);
	size_t n = 0;
	while (in->left && !in->bad && n < MAX_PARAMS) {
		v = kv_xrealloc(v, (n + 2) * sizeof *v);
		memset(&v[n + 1], 0, sizeof *v);
		struct kv_param_decl *d = &v[n++];
		d->name = kv_wire_get_str(in);
		d->type = (enum kv_type)kv_wire_get_u64(in);
		d->required = (int)kv_wire_get_u64(in);
		d->def = kv_wire_get_str(in);
		d->choices = kv_wire_get_str(in);
		d->doc = kv_wire_get_str(in);
		if (!d->name)
			in->bad = 1;
	}
	p->params = v;
	return in->bad || in->left ? -1 : 0;
}

static int descriptor(struct describe *d, struct kv_wire_in *in)
{
	if (d->copy)
		return -1;
	struct kv_plugin *p = kv_xcalloc(1, sizeof *p);
	d->copy = p;
	p->abi_version = (uint32_t)kv_wire_get_u64(in);
	p->size = (uint32_t)kv_wire_get_u64(in);
	p->flags = (uint32_t)kv_wire_get_u64(in);
	p->kinds = (uint32_t)kv_wire_get_u64(in);
	p->open = kv_wire_get_u64(in) ? copy_open : NULL;
	p->close = kv_wire_get_u64(in) ? copy_close : NULL;
	kv_wire_get_u64(in); /* the plugin's stride: the copy has the core's */
	p->param_decl_size = sizeof(struct kv_param_decl);
	p->evaluate = copy_evaluate;
	p->name = kv_wire_get_str(in);
	p->version = kv_wire_get_str(in);
	p->summary = kv_wire_get_str(in);
	if (p->size > sizeof *p)
		p->size = sizeof *p; /* the copy has the core's members only */
	return read_params(p, in);
}

static int describe_message(void *arg, enum kv_msg type, struct kv_wire_in *in, struct child *c)
{
	struct describe *d = arg;
	return type == KV_MSG_DESCRIPTOR ? descriptor(d, in) : common_message(d->err, type, in, c);
}

static char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	size_t n = strlen(b);
	return strndup(b, n > 3 && strcmp(b + n - 3, ".so") == 0 ? n - 3 : n);
}

/* Loading runs constructors and nothing else: a minute is plenty. */
#define DESCRIBE_TIMEOUT 60.0

int kv_isolate_describe(const char *file, const char *sha256, const char *where, struct kv_plugin **out,
			struct kv_error *err)
{
	struct kv_error child_err = {0};
	struct describe d = {.file = file, .where = where, .sha256 = sha256, .how = offered(), .err = &child_err};
	d.how.plugin = file;
	d.how.timeout = DESCRIBE_TIMEOUT;
	d.how.memory_limit = KV_DEFAULT_MEMORY_LIMIT;
	char *who = kv_xasprintf("%s: ", where);
	struct child_io io = {describe_message, NULL, NULL, &d};
	int rc = run_child(who, file, DESCRIBE_TIMEOUT, describe_job, &d, &io, err);
	free(who);
	if (rc == 0 && child_err.status)
		rc = kv_error_add(err, &child_err);
	char *name = base_name(file);
	/* the child validated its own; the copy is checked again here */
	if (rc == 0 && !d.copy)
		rc = kv_fail(err, KV_EXIT_INTERNAL, "%s: plugin %s sent no descriptor", where, file);
	if (rc == 0)
		rc = kv_plugin_validate(d.copy, name, file, err);
	free(name);
	if (rc) {
		kv_isolate_desc_free(d.copy);
		d.copy = NULL;
	}
	*out = d.copy;
	return rc;
}

/* --- phase 2: one criterion ---------------------------------------------- */

struct evaluation {
	struct kv_run *run;
	size_t index;
	struct kv_confinement how;
	int progress_wanted;
	struct kv_ctx ctx;           /* the parent's: applies what the child sends */
	struct kv_error child_err;
	struct input {
		struct kv_feed *feed;
		int closed;          /* the plugin said so */
	} *feeds;                    /* every input opened, by id */
	size_t feed_count, open_count;
};

static void evaluate_job(void *arg)
{
	struct evaluation *e = arg;
	kv_isolate_child_evaluate(e->run, e->index, &e->how, e->progress_wanted);
}

static int team_ok(const struct evaluation *e, uint64_t team, int round_too)
{
	return team < e->run->round->team_count || (round_too && team == (uint64_t)KV_ROUND);
}

/* --- inputs: the core opens, hashes and hands over (feed.h) ------------- */

#define FEEDS_OPEN_MAX (POLL_ROOM - 2)   /* inputs open at once */

static size_t feeds_to_poll(void *arg, struct pollfd *p, size_t room)
{
	struct evaluation *e = arg;
	size_t n = 0;
	for (size_t i = 0; i < e->feed_count && n < room; i++)
		if (kv_feed_pipe(e->feeds[i].feed) >= 0)
			p[n++] = (struct pollfd){kv_feed_pipe(e->feeds[i].feed), POLLOUT, 0};
	return n;
}

static void feeds_ready(void *arg, const struct pollfd *p, size_t n)
{
	struct evaluation *e = arg;
	size_t k = 0;
	for (size_t i = 0; i < e->feed_count && k < n; i++) {
		struct kv_feed *f = e->feeds[i].feed;
		if (kv_feed_pipe(f) < 0)
			continue;
		if (p[k].fd == kv_feed_pipe(f) && p[k].revents)
			kv_feed_step(f);
		k++;
	}
}

static void feeds_free(struct evaluation *e)
{
	for (size_t i = 0; i < e->feed_count; i++)
		kv_feed_free(e->feeds[i].feed);
	free(e->feeds);
}

/* The answer to a request; a child that does not take it is stopped. */
static int answer(struct child *c, struct kv_buf *m, int pass)
{
	double left = c->deadline - now();
	struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
	if (left > 0 && setsockopt(c->msg, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
	    kv_wire_send_fd(c->msg, m, pass) == 0)
		return 0;
	kv_buf_free(m);
	if (now() >= c->deadline)
		c->timed_out = 1;
	stop(c, "did not take the core's answer");
	return -1;
}

static void answer_status(struct kv_buf *m, enum kv_msg type, const struct kv_error *why)
{
	kv_wire_begin(m, type);
	kv_wire_u64(m, why->status ? (uint64_t)why->status : 0);
	kv_wire_str(m, why->status ? why->msg : NULL);
}

static int open_request(struct evaluation *e, struct kv_wire_in *in, struct child *c)
{
	if (e->open_count >= FEEDS_OPEN_MAX) {
		stop(c, "kept too many inputs open at once");
		return -1;
	}
	char *rel = kv_wire_get_str(in); /* NULL when the message is malformed */
	if (!rel)
		return -1;
	struct kv_error why = {0};
	int their_end = -1;
	struct kv_feed *f = kv_feed_start(&e->run->inputs, rel, &their_end, &why);
	free(rel);
	if (f) {
		e->feeds = kv_xrealloc(e->feeds, (e->feed_count + 1) * sizeof *e->feeds);
		e->feeds[e->feed_count++] = (struct input){f, 0};
		e->open_count++;
	}
	struct kv_buf m;
	answer_status(&m, KV_MSG_OPEN, &why);
	kv_wire_u64(&m, f ? e->feed_count - 1 : 0);
	kv_wire_u64(&m, f ? kv_feed_size(f) : 0); /* for the plugin's progress: its end is a pipe */
	int rc = answer(c, &m, their_end);
	if (their_end >= 0)
		close(their_end);
	return rc;
}

/* The plugin is done with an input: the core's digest is recorded, and
 * told to it (input_sha256). */
static int close_request(struct evaluation *e, struct kv_wire_in *in, struct child *c)
{
	uint64_t id = kv_wire_get_u64(in);
	if (in->bad || id >= e->feed_count || e->feeds[id].closed)
		return -1;
	struct kv_feed *f = e->feeds[id].feed;
	int failed = kv_feed_finish(f) != 0;
	e->feeds[id].closed = 1;
	e->open_count--;
	if (!failed)
		kv_inputs_record(&e->run->inputs, kv_feed_path(f), kv_feed_bytes(f), kv_feed_hex(f));
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_CLOSE);
	kv_wire_u64(&m, failed ? KV_EXIT_INPUT : 0);
	kv_wire_str(&m, failed ? NULL : kv_feed_hex(f));
	return answer(c, &m, -1);
}

static int kind_request(struct evaluation *e, struct kv_wire_in *in, struct child *c)
{
	char *rel = kv_wire_get_str(in); /* NULL when the message is malformed */
	if (!rel)
		return -1;
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_KIND);
	kv_wire_u64(&m, (uint64_t)kv_inputs_kind(&e->run->inputs, rel));
	free(rel);
	return answer(c, &m, -1);
}

static int list_request(struct evaluation *e, struct kv_wire_in *in, struct child *c)
{
	char *rel = kv_wire_get_str(in); /* NULL when the message is malformed */
	if (!rel)
		return -1;
	struct kv_error why = {0};
	char **names = NULL;
	size_t n = 0;
	kv_inputs_list(&e->run->inputs, rel, &names, &n, &why);
	free(rel);
	struct kv_buf m;
	answer_status(&m, KV_MSG_LIST, &why);
	for (size_t i = 0; i < n; i++) {
		kv_wire_str(&m, names[i]);
		free(names[i]);
	}
	free(names);
	return answer(c, &m, -1);
}

static int evidence(struct evaluation *e, struct kv_wire_in *in)
{
	uint64_t team = kv_wire_get_u64(in);
	char *key = kv_wire_get_str(in);
	int is_num = kv_wire_get_u64(in) != 0;
	double num = kv_wire_get_f64(in);
	char *str = kv_wire_get_str(in);
	int ok = key && team_ok(e, team, 1) && (is_num ? !str : str != NULL) && !in->bad;
	if (ok)
		kv_host_evidence(&e->ctx, (size_t)team, key, is_num, num, str);
	free(key);
	free(str);
	return ok ? 0 : -1;
}

static int outcome(struct evaluation *e, enum kv_msg type, struct kv_wire_in *in)
{
	uint64_t team = kv_wire_get_u64(in);
	double x = kv_wire_get_f64(in);
	char *unit = type == KV_MSG_VALUE ? kv_wire_get_str(in) : NULL;
	int ok = team_ok(e, team, 0) && !in->bad && (type != KV_MSG_VALUE || unit);
	if (ok && type == KV_MSG_VALUE)
		kv_host_set_value(&e->ctx, (size_t)team, x, unit);
	else if (ok && type == KV_MSG_NORMALIZED)
		kv_host_set_normalized(&e->ctx, (size_t)team, x);
	else if (ok)
		kv_host_set_pass(&e->ctx, (size_t)team, x != 0);
	free(unit);
	return ok ? 0 : -1;
}

static int evaluate_message(void *arg, enum kv_msg type, struct kv_wire_in *in, struct child *c)
{
	struct evaluation *e = arg;
	switch (type) {
	case KV_MSG_VALUE:
	case KV_MSG_NORMALIZED:
	case KV_MSG_PASS:
		return outcome(e, type, in);
	case KV_MSG_EVIDENCE:
		return evidence(e, in);
	case KV_MSG_WARNING: {
		char *text = kv_wire_get_str(in);
		if (text)
			kv_host_warning(&e->ctx, text);
		free(text);
		return text ? 0 : -1;
	}
	case KV_MSG_PROGRESS: {
		uint64_t done = kv_wire_get_u64(in), total = kv_wire_get_u64(in);
		if (in->left >= sizeof(uint64_t) && kv_wire_get_u64(in) == 1) /* bytes of an input */
			kv_host_progress_bytes(&e->ctx, done, total);
		else
			kv_host_progress(&e->ctx, done, total);
		return 0;
	}
	case KV_MSG_OPEN:
		return open_request(e, in, c);
	case KV_MSG_CLOSE:
		return close_request(e, in, c);
	case KV_MSG_KIND:
		return kind_request(e, in, c);
	case KV_MSG_LIST:
		return list_request(e, in, c);
	case KV_MSG_CLAIM_READ:
	case KV_MSG_CLAIM_OPENED:
		stop(c, "sent a malformed message (a claim to have read a file: only the core opens inputs)");
		return -1;
	default:
		return common_message(&e->child_err, type, in, c);
	}
}

int kv_isolate_evaluate(struct kv_run *run, size_t index, struct kv_error *err)
{
	const struct kv_criterion *cr = &run->round->criteria[index];
	struct kv_criterion_result *res = &run->results[index];
	struct evaluation e = {.run = run, .index = index, .how = offered(),
			       .progress_wanted = isatty(STDERR_FILENO)};
	e.how.plugin = res->plugin.path;
	e.how.timeout = cr->timeout;
	e.how.memory_limit = cr->memory_limit;
	e.ctx = (struct kv_ctx){.run = run, .index = index, .err = &e.child_err};
	char *who = kv_xasprintf("criterion '%s': ", cr->id);
	struct child_io io = {evaluate_message, feeds_to_poll, feeds_ready, &e};
	int rc = run_child(who, res->plugin.path, cr->timeout, evaluate_job, &e, &io, err);
	free(who);
	feeds_free(&e);
	if (e.ctx.progress_shown)
		fputs("\r\033[K", stderr);
	if (rc == 0 && e.child_err.status)
		rc = kv_error_add(err, &e.child_err);
	return rc;
}

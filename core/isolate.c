/* The parent side of isolation: spawn the confined child, read its messages
 * against the criterion's limits, check every field, keep the state. */
#include "isolate.h"
#include "host.h"
#include "isolate_child.h"
#include "isolate_wire.h"

#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

/* fd 3 carries messages, 1 and 2 go to the parent's stderr (a plugin that
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
	if (pipe2(msg, O_CLOEXEC))
		return kv_fail(err, KV_EXIT_INTERNAL, "cannot isolate a plugin: pipe: %s", strerror(errno));
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

/* Work the parent does while the child runs; 1 while some is left. */
typedef int (*idle_work)(void *arg);

/* Until both pipes close or the deadline passes. */
static void pump(struct child *c, on_message handle, idle_work idle, void *arg)
{
	int busy = 0;
	while (c->msg >= 0 || c->out >= 0) {
		struct pollfd p[2] = {{c->msg, POLLIN, 0}, {c->out, POLLIN, 0}};
		double left = c->deadline - now();
		if (left <= 0) {
			c->timed_out = 1;
			stop(c, "timed out");
			break;
		}
		int n = poll(p, 2, busy ? 0 : left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (c->msg >= 0 && p[0].revents) {
			read_messages(c, handle, arg);
			busy = idle != NULL; /* a message may have brought work */
		}
		if (c->out >= 0 && p[1].revents)
			pass_output(c);
		if (busy)
			busy = idle(arg);
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
		     on_message handle, idle_work idle, void *arg, struct kv_error *err)
{
	struct child c;
	if (spawn(&c, timeout, job, job_arg, err))
		return err->status;
	pump(&c, handle, idle, arg);
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
		/* a plugin's text reaches a terminal: no control characters */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p < 32 && *p != '\n')
				*p = '?';
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
	struct kv_confinement how;
	struct kv_plugin *copy;
	struct kv_error *err;
};

static void describe_job(void *arg)
{
	struct describe *d = arg;
	kv_isolate_child_describe(d->file, d->where, &d->how);
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

int kv_isolate_describe(const char *file, const char *where, struct kv_plugin **out, struct kv_error *err)
{
	struct kv_error child_err = {0};
	struct describe d = {.file = file, .where = where, .how = offered(), .err = &child_err};
	d.how.plugin = file;
	d.how.timeout = DESCRIBE_TIMEOUT;
	d.how.memory_limit = KV_DEFAULT_MEMORY_LIMIT;
	char *who = kv_xasprintf("%s: ", where);
	int rc = run_child(who, file, DESCRIBE_TIMEOUT, describe_job, &d, describe_message, NULL, &d, err);
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
	struct hash_job *jobs;
	size_t job_count;
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

/* The files the plugin reads are hashed here, not in the plugin's process
 * (input.h): from the moment it opens one, while it reads. */
struct hash_job {
	char *path;              /* normalized, relative to the data directory */
	FILE *f;                 /* NULL once hashed */
	EVP_MD_CTX *md;
	uint64_t bytes;
	char hex[65];
	int failed;
};

static void job_finish(struct hash_job *j)
{
	unsigned char md[32];
	unsigned int len = 0;
	static const char digits[] = "0123456789abcdef";
	j->failed |= ferror(j->f) != 0;
	EVP_DigestFinal_ex(j->md, md, &len);
	for (int i = 0; i < 32; i++) {
		j->hex[2 * i] = digits[md[i] >> 4];
		j->hex[2 * i + 1] = digits[md[i] & 15];
	}
	j->hex[64] = '\0';
	fclose(j->f);
	j->f = NULL;
}

/* One chunk; 1 while the file has more. */
static int job_step(struct hash_job *j)
{
	char buf[1 << 20];
	size_t got = j->f ? fread(buf, 1, sizeof buf, j->f) : 0;
	if (!j->f)
		return 0;
	EVP_DigestUpdate(j->md, buf, got);
	j->bytes += got;
	if (got == sizeof buf)
		return 1;
	job_finish(j);
	return 0;
}

static int hash_some(void *arg)
{
	struct evaluation *e = arg;
	for (size_t i = 0; i < e->job_count; i++)
		if (e->jobs[i].f)
			return job_step(&e->jobs[i]) || i + 1 < e->job_count;
	return 0;
}

static struct hash_job *job_of(struct evaluation *e, const char *path)
{
	for (size_t i = 0; i < e->job_count; i++)
		if (strcmp(e->jobs[i].path, path) == 0)
			return &e->jobs[i];
	return NULL;
}

/* A path the plugin may have read: normalized, a regular file inside the
 * data directory.  Anything else is a claim the core refuses. */
static struct hash_job *job_start(struct evaluation *e, const char *path)
{
	struct hash_job *j = job_of(e, path);
	if (j)
		return j;
	char *real = NULL, *norm = NULL;
	struct kv_error ignore = {0};
	FILE *f = NULL;
	if (kv_inputs_resolve(&e->run->inputs, path, &real, &norm, &ignore) == 0 &&
	    strcmp(norm, path) == 0 && kv_inputs_kind(&e->run->inputs, path) == 1)
		f = fopen(real, "rb");
	free(real);
	free(norm);
	if (!f)
		return NULL;
	e->jobs = kv_xrealloc(e->jobs, (e->job_count + 1) * sizeof *e->jobs);
	j = &e->jobs[e->job_count++];
	memset(j, 0, sizeof *j);
	j->path = kv_xstrdup(path);
	j->f = f;
	j->md = EVP_MD_CTX_new();
	if (!j->md || !EVP_DigestInit_ex(j->md, EVP_sha256(), NULL))
		j->failed = 1;
	return j;
}

static void jobs_free(struct evaluation *e)
{
	for (size_t i = 0; i < e->job_count; i++) {
		if (e->jobs[i].f)
			fclose(e->jobs[i].f);
		EVP_MD_CTX_free(e->jobs[i].md);
		free(e->jobs[i].path);
	}
	free(e->jobs);
}

static int recorded(const struct kv_inputs *in, const char *path)
{
	for (size_t i = 0; i < in->count; i++)
		if (strcmp(in->records[i].path, path) == 0)
			return 1;
	return 0;
}

static int input_message(struct evaluation *e, enum kv_msg type, struct kv_wire_in *in, struct child *c)
{
	char *path = kv_wire_get_str(in);
	if (path && type == KV_MSG_OPENED && recorded(&e->run->inputs, path)) {
		free(path); /* read by an earlier criterion: hashed then */
		return 0;
	}
	struct hash_job *j = path && !in->bad ? job_start(e, path) : NULL;
	if (j && type == KV_MSG_INPUT) {
		while (job_step(j))
			;
		if (!j->failed)
			kv_inputs_record(&e->run->inputs, j->path, j->bytes, j->hex);
	}
	if (!j || j->failed)
		stop(c, j ? "read an input the core cannot read" : "claimed to have read an input it cannot have read");
	free(path);
	return j && !j->failed ? 0 : -1;
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
	case KV_MSG_INPUT:
	case KV_MSG_OPENED:
		return input_message(e, type, in, c);
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
	e.how.data_dir = run->inputs.data_dir;
	e.how.timeout = cr->timeout;
	e.how.memory_limit = cr->memory_limit;
	e.ctx = (struct kv_ctx){.run = run, .index = index, .err = &e.child_err};
	char *who = kv_xasprintf("criterion '%s': ", cr->id);
	int rc = run_child(who, res->plugin.path, cr->timeout, evaluate_job, &e, evaluate_message, hash_some, &e, err);
	free(who);
	jobs_free(&e);
	if (e.ctx.progress_shown)
		fputs("\r\033[K", stderr);
	if (rc == 0 && e.child_err.status)
		rc = kv_error_add(err, &e.child_err);
	return rc;
}

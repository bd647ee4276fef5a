/* The isolated child: confinement, then the plugin, then its report.
 * Order matters: limits and no-new-privileges first, Landlock and seccomp
 * before dlopen, so that a plugin's constructor is confined too. */
#include "isolate_child.h"
#include "host.h"
#include "isolate_wire.h"
#include "lifecycle.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

/* --- Landlock (the kernel's own constants, for headers that predate them) */
#define LL_CREATE_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_NET_ALL 3ULL              /* bind and connect TCP (ABI 4) */
#define LL_SCOPE_ALL 3ULL            /* abstract UNIX sockets, signals (ABI 6) */

struct ll_ruleset_attr { uint64_t fs, net, scoped; };
struct ll_path_beneath { uint64_t allowed; int32_t parent_fd; } __attribute__((packed));

int kv_landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
	return v > 0 ? (int)v : 0;
#else
	return 0;
#endif
}

/* Every file right the kernel's ABI knows: all are handled, so none but the
 * read rights granted below is allowed. */
static uint64_t fs_rights(int abi)
{
	uint64_t all = (1ULL << 13) - 1;     /* ABI 1 */
	if (abi >= 2) all |= 1ULL << 13;     /* refer */
	if (abi >= 3) all |= 1ULL << 14;     /* truncate */
	if (abi >= 5) all |= 1ULL << 15;     /* ioctl on devices */
	return all;
}

static void allow_read(int ruleset, const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return; /* not on this machine */
	struct stat st;
	uint64_t rights = LL_FS_READ_FILE;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		rights |= LL_FS_READ_DIR;
	struct ll_path_beneath rule = {.allowed = rights, .parent_fd = fd};
	syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
	close(fd);
}

/* No data directory among the rules: the core opens every input and hands
 * the plugin a descriptor to read, so a plugin's own open() of a data
 * file is refused like any other. */
static int landlock(int abi, const char *plugin, struct kv_error *err)
{
	static const char *const system_dirs[] = {
		"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache",
		"/sys/devices/system/cpu", NULL};
	struct ll_ruleset_attr attr = {.fs = fs_rights(abi)};
	size_t size = sizeof attr.fs;
	if (abi >= 4) {
		attr.net = LL_NET_ALL;
		size += sizeof attr.net;
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ALL;
		size += sizeof attr.scoped;
	}
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return kv_fail(err, KV_EXIT_INTERNAL, "Landlock: %s", strerror(errno));
	for (size_t i = 0; system_dirs[i]; i++)
		allow_read(rs, system_dirs[i]);
	if (plugin)
		allow_read(rs, plugin);
	long rc = syscall(SYS_landlock_restrict_self, rs, 0);
	int e = errno;
	close(rs);
	return rc ? kv_fail(err, KV_EXIT_INTERNAL, "Landlock: %s", strerror(e)) : 0;
}

/* --- seccomp ------------------------------------------------------------- */
#ifdef HAVE_SECCOMP
/* What a plugin, the C library, the dynamic loader and threads need. */
static const char *const allowed[] = {
	"read", "pread64", "readv", "preadv", "write", "writev", "pwrite64", "lseek", "close",
	"open", "openat", "openat2", "stat", "fstat", "lstat", "newfstatat", "statx", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "fcntl",
	"dup", "dup2", "dup3", "fadvise64", "mmap", "munmap", "mprotect", "mremap", "madvise",
	"brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	"futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
	"exit", "exit_group", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
	"gettimeofday", "time", "getrandom", "sched_yield", "sched_getaffinity",
	"sched_getparam", "sched_getscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "getrusage", "sysinfo", "getrlimit", "prlimit64", "uname",
	"arch_prctl", "membarrier", "poll", "ppoll", "select", "pselect6", "pipe2", "getcpu",
	"recvmsg", NULL};
/* Refused with a report to the core: the network, other programs, other
 * processes, the kernel's own state. */
static const char *const forbidden[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
	"sendmsg", "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "mount", "umount2", "unshare", "setns", "chroot", "pivot_root",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "init_module",
	"finit_module", "delete_module", "kexec_load", "reboot", "swapon", "personality",
	"io_uring_setup", "userfaultfd", "kill", "tkill", "tgkill", NULL};

static int forbidden_nr[64];

/* Async-signal-safe: a prebuilt message, write(2) and _exit(2). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	const char *name = "(unknown)";
	for (size_t i = 0; forbidden[i]; i++)
		if (forbidden_nr[i] == si->si_syscall)
			name = forbidden[i];
	unsigned char msg[64];
	uint32_t len = (uint32_t)strlen(name), head[3] = {KV_MSG_FORBIDDEN, len + 4, len};
	memcpy(msg, head, sizeof head);
	memcpy(msg + sizeof head, name, len);
	ssize_t ignored = write(KV_ISOLATE_FD, msg, sizeof head + len);
	(void)ignored;
	_exit(125);
}

static int add_rules(scmp_filter_ctx ctx)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && allowed[i]; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	for (size_t i = 0; rc == 0 && forbidden[i]; i++) {
		int nr = forbidden_nr[i] = seccomp_syscall_resolve_name(forbidden[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		/* raise(3) and abort(3) signal the process itself: allowed */
		if (strcmp(forbidden[i], "kill") == 0 || strcmp(forbidden[i], "tgkill") == 0) {
			uint64_t self = (uint64_t)getpid();
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, self));
			if (rc == 0)
				rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 1, SCMP_A0(SCMP_CMP_NE, self));
		} else {
			rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
		}
	}
	/* threads, not processes; clone3 gets ENOSYS so that glibc uses clone */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	return rc;
}

static int seccomp(struct kv_error *err)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	/* unknown calls answer ENOSYS, so that the C library's fallbacks work */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	int rc = ctx ? add_rules(ctx) : -ENOMEM;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc ? kv_fail(err, KV_EXIT_INTERNAL, "seccomp: %s", strerror(-rc)) : 0;
}
#endif

static void limit(int resource, rlim_t n)
{
	struct rlimit r = {n, n};
	setrlimit(resource, &r);
}

/* A crash is reported by its signal, whatever handler the core had
 * (a sanitizer's, say). */
static void default_signals(void)
{
	static const int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU, SIGXFSZ};
	for (size_t i = 0; i < sizeof crashes / sizeof *crashes; i++)
		signal(crashes[i], SIG_DFL);
}

/* A plugin's exit(3) ends its process at once, with its status: the exit
 * handlers the core (or a sanitizer) registered do not run in the child. */
static void exit_now(int status, void *arg)
{
	(void)arg;
	fflush(NULL);
	_exit(status);
}

int kv_isolate_confine(const struct kv_confinement *how, struct kv_error *err)
{
	default_signals();
	on_exit(exit_now, NULL);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* CPU time backs up the parent's wall clock: every core may be busy */
	limit(RLIMIT_CPU, (rlim_t)(how->timeout * (double)(cpus > 0 ? cpus : 1)) + 2);
#if !defined(__SANITIZE_ADDRESS__)
	if (how->memory_limit)
		limit(RLIMIT_AS, (rlim_t)how->memory_limit);
#endif
	limit(RLIMIT_NOFILE, 64);
	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_FSIZE, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return kv_fail(err, KV_EXIT_INTERNAL, "no_new_privs: %s", strerror(errno));
	if (how->landlock_abi && landlock(how->landlock_abi, how->plugin, err))
		return err->status;
#ifdef HAVE_SECCOMP
	if (how->seccomp && seccomp(err))
		return err->status;
#endif
	return 0;
}

/* --- the child's two jobs ------------------------------------------------ */
static void send_error(const struct kv_error *err)
{
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_ERROR);
	kv_wire_u64(&m, (uint64_t)err->status);
	kv_wire_u64(&m, err->count);
	kv_wire_u64(&m, err->dropped);
	kv_wire_str(&m, err->msg);
	kv_wire_send(KV_ISOLATE_FD, &m);
}

static _Noreturn void finish(const struct kv_error *err)
{
	struct kv_buf m;
	if (err->status)
		send_error(err);
	kv_wire_begin(&m, KV_MSG_DONE);
	kv_wire_u64(&m, (uint64_t)err->status);
	kv_wire_send(KV_ISOLATE_FD, &m);
	_exit(0);
}

/* --- inputs: asked of the core (input.h) -------------------------------- */

/* One request and its answer; plugin threads ask one at a time. */
static pthread_mutex_t ask_lock = PTHREAD_MUTEX_INITIALIZER;

struct answer {
	unsigned char *payload;  /* freed by the asker */
	struct kv_wire_in in;
	int fd;                  /* the descriptor that came with it, or -1 */
};

static void ask(struct kv_buf *req, enum kv_msg type, struct answer *a)
{
	uint32_t got = 0, len = 0;
	pthread_mutex_lock(&ask_lock);
	int rc = kv_wire_send(KV_ISOLATE_FD, req);
	if (rc == 0)
		rc = kv_wire_recv(KV_ISOLATE_FD, &got, &a->payload, &len, &a->fd);
	pthread_mutex_unlock(&ask_lock);
	if (rc || got != (uint32_t)type)
		_exit(124); /* the core is gone or confused: nothing left to do */
	a->in = (struct kv_wire_in){a->payload, len, 0};
}

static void ask_path(enum kv_msg type, const char *rel, struct answer *a)
{
	struct kv_buf m;
	kv_wire_begin(&m, type);
	kv_wire_str(&m, rel);
	ask(&m, type, a);
}

/* The answer's status and error text into err; 0 when the status is 0. */
static int answered(struct kv_wire_in *a, const char *rel, struct kv_error *err)
{
	uint64_t status = kv_wire_get_u64(a);
	char *text = kv_wire_get_str(a);
	if (status)
		kv_fail(err, (int)status, "%s", text ? text : rel);
	free(text);
	return status ? -1 : 0;
}

static int remote_open(const char *rel, uint64_t *id, uint64_t *size, struct kv_error *err)
{
	struct answer a;
	ask_path(KV_MSG_OPEN, rel, &a);
	int rc = answered(&a.in, rel, err);
	*id = kv_wire_get_u64(&a.in);
	*size = kv_wire_get_u64(&a.in);
	free(a.payload);
	if (rc == 0 && a.fd < 0)
		rc = kv_fail(err, KV_EXIT_INTERNAL, "%s: the core sent no descriptor", rel);
	if (rc && a.fd >= 0)
		close(a.fd);
	return rc ? -1 : a.fd;
}

static int remote_close(uint64_t id, char hex[65])
{
	struct kv_buf m;
	struct answer a;
	kv_wire_begin(&m, KV_MSG_CLOSE);
	kv_wire_u64(&m, id);
	ask(&m, KV_MSG_CLOSE, &a);
	uint64_t status = kv_wire_get_u64(&a.in);
	char *sha = kv_wire_get_str(&a.in);
	int ok = status == 0 && sha && strlen(sha) == 64;
	if (ok)
		memcpy(hex, sha, 65);
	free(sha);
	free(a.payload);
	return ok ? 0 : -1;
}

static int remote_kind(const char *rel)
{
	struct answer a;
	ask_path(KV_MSG_KIND, rel, &a);
	int kind = (int)kv_wire_get_u64(&a.in);
	free(a.payload);
	return kind;
}

static int remote_list(const char *rel, char ***names, size_t *count, struct kv_error *err)
{
	struct answer a;
	ask_path(KV_MSG_LIST, rel, &a);
	int rc = answered(&a.in, rel, err);
	char **v = NULL;
	size_t n = 0;
	while (rc == 0 && a.in.left && !a.in.bad) {
		v = kv_xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = kv_wire_get_str(&a.in);
	}
	free(a.payload);
	if (rc == 0) {
		*names = v;
		*count = n;
	}
	return rc ? KV_EXIT_INPUT : 0;
}

static const struct kv_inputs_remote remote = {remote_open, remote_close, remote_kind, remote_list};

_Noreturn void kv_isolate_child_evaluate(struct kv_run *run, size_t index, const struct kv_confinement *how,
					 int progress_wanted)
{
	const struct kv_loaded_plugin *lp = &run->results[index].plugin;
	const struct kv_criterion *cr = &run->round->criteria[index];
	struct kv_error err = {0};
	const struct kv_plugin *desc = lp->path ? NULL : lp->desc; /* built in: already here */
	void *handle = NULL;
	if (kv_isolate_confine(how, &err) == 0 && lp->path)
		kv_plugin_open_file(lp->path, lp->sha256, cr->where, &handle, &desc, &err);
	run->inputs.remote = &remote;
	if (err.status == 0) {
		struct kv_ctx ctx = {.run = run, .index = index, .err = &err, .forward = 1,
				     .progress_wanted = progress_wanted};
		kv_plugin_run(&ctx, desc);
	}
	finish(&err);
}

static void send_descriptor(const struct kv_plugin *p)
{
	struct kv_buf m;
	kv_wire_begin(&m, KV_MSG_DESCRIPTOR);
	uint64_t head[] = {p->abi_version, p->size, p->flags, p->kinds, p->open != NULL, p->close != NULL,
			   KV_PLUGIN_HAS(p, param_decl_size) ? p->param_decl_size : 0};
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		kv_wire_u64(&m, head[i]);
	kv_wire_str(&m, p->name);
	kv_wire_str(&m, p->version);
	kv_wire_str(&m, p->summary);
	for (const struct kv_param_decl *d = p->params; d->name; d = kv_param_next(p, d)) {
		kv_wire_str(&m, d->name);
		kv_wire_u64(&m, (uint64_t)d->type);
		kv_wire_u64(&m, (uint64_t)d->required);
		kv_wire_str(&m, d->def);
		kv_wire_str(&m, d->choices);
		kv_wire_str(&m, d->doc);
	}
	kv_wire_send(KV_ISOLATE_FD, &m);
}

_Noreturn void kv_isolate_child_describe(const char *file, const char *sha256, const char *where,
					 const struct kv_confinement *how)
{
	struct kv_error err = {0};
	void *handle = NULL;
	const struct kv_plugin *desc = NULL;
	if (kv_isolate_confine(how, &err) == 0 &&
	    kv_plugin_open_file(file, sha256, where, &handle, &desc, &err) == 0)
		send_descriptor(desc);
	finish(&err);
}

/* Plugins run isolated: each criterion's plugin is loaded and run in a
 * child process confined by resource limits, no new privileges, Landlock
 * (read-only: the plugin file, the system libraries, the data directory)
 * and a seccomp allowlist.  The child sends what the core records over a
 * pipe; the parent checks every field and keeps the only copy of the
 * round's state.  kaieval-plugin(3) lists what a plugin may do. */
#ifndef KV_ISOLATE_H
#define KV_ISOLATE_H

#include "run.h"

enum kv_isolation {
	KV_ISOLATE_BEST,     /* what the kernel offers (the default) */
	KV_ISOLATE_REQUIRE,  /* refuse to run without Landlock and seccomp */
	KV_ISOLATE_OFF       /* in process, for a debugger */
};

void kv_isolation_set(enum kv_isolation mode);
enum kv_isolation kv_isolation_get(void);

/* What is in force, in words: "process, landlock ABI 7, seccomp", or
 * "none (--no-isolation)".  Static storage. */
const char *kv_isolation_text(void);
/* Under KV_ISOLATE_REQUIRE, an error when Landlock or seccomp is missing. */
int kv_isolation_check(struct kv_error *err);

/* Phase 1: load file in a confined child, which sends a copy of the
 * descriptor; the copy (kv_isolate_desc_free) has no callable
 * functions, only their presence.  The child loads the file only if its
 * bytes have the given SHA-256. */
int kv_isolate_describe(const char *file, const char *sha256, const char *where, struct kv_plugin **out,
			struct kv_error *err);
void kv_isolate_desc_free(struct kv_plugin *p);
/* Is desc such a copy? */
int kv_isolate_is_copy(const struct kv_plugin *desc);

/* Phase 2: open, evaluate and close criterion `index` in a confined child. */
int kv_isolate_evaluate(struct kv_run *run, size_t index, struct kv_error *err);

#endif

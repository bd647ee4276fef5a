/* The child side of isolation (isolate.h): confinement and the plugin's run. */
#ifndef KV_ISOLATE_CHILD_H
#define KV_ISOLATE_CHILD_H

#include "run.h"

struct kv_confinement {
	const char *plugin;        /* the file, read-only; NULL when built in */
	double timeout;            /* seconds: the CPU limit is derived from it */
	unsigned long long memory_limit; /* bytes of address space; 0 none */
	int landlock_abi;          /* 0: not applied */
	int seccomp;               /* 1: applied */
};

/* The Landlock ABI of this kernel, 0 when it has none. */
int kv_landlock_abi(void);
int kv_isolate_confine(const struct kv_confinement *how, struct kv_error *err);

/* Both report on KV_ISOLATE_FD and end the process. */
_Noreturn void kv_isolate_child_evaluate(struct kv_run *run, size_t index, const struct kv_confinement *how,
					 int progress_wanted);
_Noreturn void kv_isolate_child_describe(const char *file, const char *sha256, const char *where,
					 const struct kv_confinement *how);

#endif

/* Plugins that misbehave, for the isolation tests.  One source, built once
 * per misdeed: HOSTILE_NAME is the file's basename, one HOSTILE_* macro
 * picks what the plugin does in evaluate (or in its constructor). */
#include <kaieval/plugin.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define STR2(x) #x
#define STR(x) STR2(x)

static const struct kv_param_decl params[] = {
	{"path", KV_T_STRING, 0, "", NULL, "a file to open, outside the data directory"},
	{NULL, 0, 0, NULL, NULL, NULL}};

/* A message as the core's wire has it: type 7 (a claim to have read a
 * file, which the core never takes from a plugin), then the path: a file
 * this plugin never read and the data directory lacks. */
__attribute__((unused)) static void forge_input_claim(void)
{
	static const char path[] = "never-read.csv";
	unsigned char msg[64];
	uint32_t type = 7, plen = sizeof path - 1, len = 4 + plen;
	memcpy(msg, &type, 4);
	memcpy(msg + 4, &len, 4);
	memcpy(msg + 8, &plen, 4);
	memcpy(msg + 12, path, plen);
	if (write(3, msg, 12 + plen) < 0)
		perror("hostile: write");
}

/* type 1 (a value) for team 99 of a 4-team round; or a header that
 * announces 4 GB. */
__attribute__((unused)) static void forge_message(int garbage)
{
	unsigned char msg[64];
	uint32_t head[2] = {1, 8 + 8 + 4}, unit = 0;
	uint64_t team = 99;
	double value = 1;
	if (garbage)
		head[1] = 0xffffffffu;
	memcpy(msg, head, 8);
	memcpy(msg + 8, &team, 8);
	memcpy(msg + 16, &value, 8);
	memcpy(msg + 24, &unit, 4);
	if (write(3, msg, 28) < 0)
		perror("hostile: write");
}

__attribute__((unused)) static int try_open(const struct kv_host *h, struct kv_ctx *ctx, int flags)
{
	const char *path = h->value_string(h->param(ctx, "path"));
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return h->error(ctx, "hostile: open %s: %s", path, strerror(errno));
	close(fd);
	return KV_OK;
}

/* Not hostile, only slow: reads input `path` a few bytes at a time with
 * pauses, so that the core gets well ahead of it, and says the input's
 * FNV-1a hash and the core's SHA-256 of it as evidence of team 0. */
__attribute__((unused)) static int slow_read(const struct kv_host *h, struct kv_ctx *ctx)
{
	const char *path = h->value_string(h->param(ctx, "path"));
	struct kv_input *in = h->input_open(ctx, path);
	if (!in)
		return KV_ERR_INPUT;
	unsigned char buf[4093]; /* no divisor of a page */
	unsigned long long fnv = 0xcbf29ce484222325ULL, reads = 0;
	long n;
	while ((n = h->input_read(in, buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++)
			fnv = (fnv ^ buf[i]) * 0x100000001b3ULL;
		if (++reads % 64 == 0) {
			struct timespec pause = {0, 200000};
			nanosleep(&pause, NULL);
		}
	}
	h->input_close(in);
	char hex[65];
	if (n < 0 || h->input_sha256(ctx, path, hex) != 0)
		return h->error(ctx, "slow reader: %s: cannot read", path);
	h->evidence_str(ctx, 0, "fnv1a", "%016llx", fnv);
	h->evidence_str(ctx, 0, "sha256", "%s", hex);
	return KV_OK;
}

#ifdef HOSTILE_CONSTRUCTOR
__attribute__((constructor)) static void at_load(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s >= 0)
		close(s);
}
#endif

static int hostile_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	int rc = KV_OK;
#if defined(HOSTILE_SEGFAULT)
	volatile uintptr_t nowhere = 8; /* unmapped, and not NULL, which a sanitizer would catch */
	if (h->team_count(ctx))
		*(volatile int *)nowhere = 1;
#elif defined(HOSTILE_ABORT)
	abort();
#elif defined(HOSTILE_EXIT0)
	exit(0);
#elif defined(HOSTILE_EXIT3)
	_exit(3);
#elif defined(HOSTILE_SPIN)
	for (volatile unsigned long i = 0;; i++)
		;
#elif defined(HOSTILE_HOG)
	size_t n = (size_t)20 << 30;
	char *p = malloc(n);
	if (!p)
		return h->error(ctx, "hostile: cannot allocate 20 GB");
	memset(p, 1, n);
	free(p);
#elif defined(HOSTILE_PRINT)
	printf("HOSTILE PRINTS THIS\n");
	fflush(stdout);
	fputs("HOSTILE WRITES THIS\n", stderr);
#elif defined(HOSTILE_READ)
	rc = try_open(h, ctx, O_RDONLY);
#elif defined(HOSTILE_SLOWREAD)
	rc = slow_read(h, ctx);
#elif defined(HOSTILE_WRITE)
	rc = try_open(h, ctx, O_WRONLY | O_CREAT | O_TRUNC);
#elif defined(HOSTILE_SOCKET)
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return h->error(ctx, "hostile: socket: %s", strerror(errno));
	close(s);
#elif defined(HOSTILE_EXEC)
	char *argv[] = {"/bin/sh", "-c", "true", NULL};
	execv("/bin/sh", argv);
	return h->error(ctx, "hostile: execv /bin/sh: %s", strerror(errno));
#elif defined(HOSTILE_FORGE)
	forge_input_claim();
#elif defined(HOSTILE_BADTEAM)
	forge_message(0);
#elif defined(HOSTILE_GARBAGE)
	forge_message(1);
#endif
	for (size_t t = 0; t < h->team_count(ctx); t++)
		h->set_normalized(ctx, t, 0.5);
	return rc;
}

/* HOSTILE_NAME is expanded before the macro pastes it. */
#define DEFINE(id, ...) KAIEVAL_PLUGIN_DEFINE(id, __VA_ARGS__)
DEFINE(HOSTILE_NAME, .kinds = KV_KIND_SCORE, .version = "0.0.1",
       .summary = "a plugin that misbehaves, for tests", .params = params,
       .evaluate = hostile_evaluate);

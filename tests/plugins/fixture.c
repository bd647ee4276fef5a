/* Broken plugins for the loader tests.  One source, built once per defect:
 * FIXTURE_NAME is the file's basename, and one FIXTURE_* macro picks the defect. */
#include <kaieval/plugin.h>
#include <math.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define STR2(x) #x
#define STR(x) STR2(x)

static const struct kv_param_decl params[] = {{NULL, 0, 0, NULL, NULL, NULL}};

static int fixture_open(const struct kv_host *h, struct kv_ctx *ctx, void **state)
{
	(void)state;
#ifdef FIXTURE_OPEN_FAILS
	return h->error(ctx, "fixture: open refuses on purpose");
#else
	(void)h; (void)ctx;
	return KV_OK;
#endif
}

static int fixture_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	for (size_t t = 0; t < h->team_count(ctx); t++) {
#if defined(FIXTURE_NAN)
		h->set_normalized(ctx, t, NAN);
#elif defined(FIXTURE_TOO_BIG)
		h->set_normalized(ctx, t, 1.5);
#elif defined(FIXTURE_SCORE)
		h->set_normalized(ctx, t, FIXTURE_SCORE);
#else
		h->set_normalized(ctx, t, 0.5);
#endif
	}
	return KV_OK;
}

#ifdef FIXTURE_MARKER
#include <stdio.h>
#include <stdlib.h>
/* A replaced plugin's code runs as soon as it is loaded: it leaves a mark. */
__attribute__((constructor)) static void leave_mark(void)
{
	const char *path = getenv("KVT_MARKER");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (f)
		fclose(f);
}
#endif

#ifdef FIXTURE_OTHER_SYMBOL
#define SYMBOL kaieval_plugin_somebody_else
#else
#define SYMBOL CAT(kaieval_plugin_, FIXTURE_NAME)
#endif

KV_PLUGIN_EXPORT const struct kv_plugin SYMBOL = {
#ifdef FIXTURE_BAD_ABI
	.abi_version = (uint32_t)((KV_ABI_MAJOR + 1) << 16),
#else
	.abi_version = KV_ABI_VERSION,
#endif
#ifdef FIXTURE_SHORT_SIZE
	.size = 8,
#else
	.size = sizeof(struct kv_plugin),
#endif
	.kinds = KV_KIND_SCORE | KV_KIND_INFO,
#ifdef FIXTURE_WRONG_NAME
	.name = "not_my_file_name",
#else
	.name = STR(FIXTURE_NAME),
#endif
	.version = "0.0.1",
	.summary = "a deliberately broken plugin for tests",
	.params = params,
	.open = fixture_open,
	.evaluate = fixture_evaluate,
};

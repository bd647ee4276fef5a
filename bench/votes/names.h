/* The model names gen_battles writes and votes_bench expects: "model-alpha"
 * ... "model-lima" for up to 12 models, "model-000" ... otherwise; the
 * first `anchors` models are "frontier-00" ... instead. */
#ifndef KV_BENCH_VOTES_NAMES_H
#define KV_BENCH_VOTES_NAMES_H

#include <stdio.h>

#define BENCH_MAX_MODELS 256

static void bench_model_name(unsigned i, unsigned models, unsigned anchors, char *out, size_t len)
{
	static const char *const greek[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
					    "golf", "hotel", "india", "juliett", "kilo", "lima"};
	if (i < anchors)
		snprintf(out, len, "frontier-%02u", i);
	else if (models <= 12)
		snprintf(out, len, "model-%s", greek[i]);
	else
		snprintf(out, len, "model-%03u", i);
}

#endif

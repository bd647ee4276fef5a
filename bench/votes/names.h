/* The model names gen_battles writes and votes_bench expects: "model-alpha"
 * ... "model-lima" for up to 12 models, "model-000" ... otherwise; the
 * first `anchors` models are "frontier-00" ... instead.  With `arena`,
 * names shaped like Chatbot Arena's: a family, the model's number and a
 * variant, 15 to 35 bytes ("claude-3-5-sonnet-001-20240620"); families and
 * variants repeat, so many names share their first and last bytes.  Lower
 * case, digits and '-' only, so that they are team ids too. */
#ifndef KV_BENCH_VOTES_NAMES_H
#define KV_BENCH_VOTES_NAMES_H

#include <stdio.h>

#define BENCH_MAX_MODELS 256

#define BENCH_NAME_BYTES 48

static void bench_model_name(unsigned i, unsigned models, unsigned anchors, int arena, char *out, size_t len)
{
	static const char *const greek[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
					    "golf", "hotel", "india", "juliett", "kilo", "lima"};
	static const char *const family[] = {"gpt-4o", "claude-3-5-sonnet", "gemini-1-5-pro", "llama-3-1-405b",
					     "qwen2-5-72b", "mistral-large", "deepseek-v2-5", "exaone-3-5-32b"};
	static const char *const variant[] = {"instruct-2024", "20240620", "exp-0827", "chat"};
	if (arena)
		snprintf(out, len, "%s-%03u-%s", family[i % 8], i, variant[i / 8 % 4]);
	else if (i < anchors)
		snprintf(out, len, "frontier-%02u", i);
	else if (models <= 12)
		snprintf(out, len, "model-%s", greek[i]);
	else
		snprintf(out, len, "model-%03u", i);
}

#endif

/* A hostile plugin for the wire decoder's harness (fuzz_wire.c): in its
 * isolated child it sends the bytes of the data file wire.bin on the
 * message pipe as they are, then either ends at once (first byte odd) or
 * returns, so that the child's own report follows the bytes. */
#include <kaieval/plugin.h>
#include <unistd.h>

#define WIRE_FD 3 /* the child's end of the message pipe */

static int wire_evaluate(void *state, const struct kv_host *h, struct kv_ctx *ctx)
{
	(void)state;
	const char *data;
	size_t len;
	if (h->input_load(ctx, "wire.bin", &data, &len))
		return KV_ERR_INPUT;
	for (size_t at = 0; at < len;) {
		ssize_t n = write(WIRE_FD, data + at, len - at);
		if (n <= 0)
			break;
		at += (size_t)n;
	}
	if (len && (data[0] & 1))
		_exit(0);
	return KV_OK;
}

static const struct kv_param_decl params[] = {{.name = NULL}};

KAIEVAL_PLUGIN_DEFINE(wirefuzz,
	.kinds = KV_KIND_SCORE, .version = "1.0.0",
	.summary = "sends its data file on the message pipe (wire decoder fuzzing)",
	.params = params, .evaluate = wire_evaluate);

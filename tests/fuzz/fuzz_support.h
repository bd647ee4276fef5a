/* What the harnesses of readers that take a path share: the input bytes
 * written to a file of a private temporary folder, removed at exit. */
#ifndef KV_FUZZ_SUPPORT_H
#define KV_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The private folder (made on first use). */
const char *fuzz_dir(void);
/* Write size bytes to fuzz_dir()/name, making its folders; returns the
 * file's path (static storage per name).  Aborts when it cannot. */
const char *fuzz_file(const char *name, const void *data, size_t size);

/* A round around one data file.  config is a round config (data = ".")
 * whose criteria use one plugin, and fixed a list of name, text pairs
 * ending with NULL, both written once to fuzz_dir(); the input is written
 * to input_name and the round is run, its plugin in this process unless
 * isolated.  A refusal must have exit status 2 or 3 and a message; a run
 * that ends well is written as a record, which must read back.  Returns 0
 * for a run that ended well, else the exit status.  With KAIEVAL_FUZZ_VERBOSE
 * set, each round's exit status and message go to stderr. */
struct fuzz_round {
	const char *config;
	const char *const *fixed;
	const char *plugin;      /* its name: kept loaded, as libFuzzer needs */
	const char *input_name;
	int isolated;
};
int fuzz_round(const struct fuzz_round *round, const uint8_t *data, size_t size);

/* A harness that is one such round: its entry point. */
#define FUZZ_ROUND_HARNESS(...) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ \
		static const struct fuzz_round round_ = {__VA_ARGS__}; \
		fuzz_round(&round_, data, size); \
		return 0; \
	}

struct kv_record;
struct kv_buf;
/* rec written into bytes and read back: the record read (aborts when it
 * does not read). */
struct kv_record *fuzz_read_back(const struct kv_record *rec, struct kv_buf *bytes);

#endif

/* libFuzzer harness for the attestation reader of `kaieval verify --pubkey`
 * (core/attest.c, kv_verify_attestation): the DSSE envelope, its base64
 * payload and signatures, and the in-toto statement's subjects.
 *
 * The input is the archive's attestation.intoto.json; the archive around it
 * (manifest.json, result.json) and one Ed25519 public key are fixed.  The
 * reader must end with exit status 0 (problems, if any, listed) or 2 with
 * a message, whatever the envelope claims; the sanitizers catch bad memory
 * access.  Built with clang -fsanitize=fuzzer, or with replay.c as a plain
 * program (tests/fuzz/README.md).  Seeds: corpus-attest/, one of them an
 * envelope signed by the key's private half over the fixed archive. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "fuzz_support.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char public_key[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEAw+jsljEjgW2mWZqGdZNWVDTs0dGPujfwRYbcP8d5fwU=\n"
	"-----END PUBLIC KEY-----\n";
static const char manifest[] = "{\"files\":{\"result.json\":\"00\"}}\n";
static const char result[] = "{}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *archive;
	static const char *key;
	static FILE *devnull;
	if (!archive) {
		key = fuzz_file("key.pub", public_key, sizeof public_key - 1);
		fuzz_file("a/manifest.json", manifest, sizeof manifest - 1);
		fuzz_file("a/result.json", result, sizeof result - 1);
		archive = kv_xasprintf("%s/a", fuzz_dir());
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	fuzz_file("a/" KV_ATTESTATION_FILE, data, size);
	struct kv_attest_check check = {.pubkeys = &key, .pubkey_count = 1, .threshold = 1};
	struct kv_buf problems = {0};
	struct kv_error err = {0};
	int rc = kv_verify_attestation(archive, &check, &problems, devnull, &err);
	if (rc != err.status || (rc != 0 && (rc != KV_EXIT_INPUT || !err.msg[0])))
		abort();
	if (getenv("KAIEVAL_FUZZ_VERBOSE")) /* what each input came to, when replaying */
		fprintf(stderr, "exit %d %s| %s\n", rc, err.msg, problems.data ? problems.data : "no problem");
	kv_buf_free(&problems);
	return 0;
}

#include "rng.h"
#include "input.h"
#include "util.h"

#include <string.h>

uint64_t kv_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void put_le64(struct kv_buf *b, uint64_t x)
{
	char bytes[8];
	for (int i = 0; i < 8; i++)
		bytes[i] = (char)((x >> (8 * i)) & 0xff);
	kv_buf_add(b, bytes, 8);
}

void kv_rng_derive(uint64_t seed, const char *criterion, const char *purpose, uint64_t replicate,
		   struct kv_rng *out)
{
	struct kv_buf b = {0};
	kv_buf_add(&b, "kaieval-rng-v1", 15); /* with its NUL */
	put_le64(&b, seed);
	kv_buf_add(&b, criterion, strlen(criterion) + 1);
	kv_buf_add(&b, purpose, strlen(purpose) + 1);
	put_le64(&b, replicate);
	char hex[65];
	kv_sha256_hex(b.data, b.len, hex);
	kv_buf_free(&b);
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--) { /* first 8 digest bytes, little-endian */
		unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);
		x = (x << 8) | (hi << 4 | lo);
	}
	for (int i = 0; i < 4; i++)
		out->s[i] = kv_splitmix64(&x);
}

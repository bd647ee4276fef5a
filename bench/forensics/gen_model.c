/* gen_model: write a synthetic bf16 safetensors model for the fingerprint
 * benchmark (never into the source tree: give a folder under /tmp).
 *
 *   gen_model DIR GIGABYTES [SHARDS]
 *
 * A token embedding of 32000 x 4096, then layers of a 4096-wide decoder (q, k,
 * v, o of 4096 x 4096, gate/up/down of 4096 x 11008, two norms) until the
 * size is reached, split into SHARDS files
 * model-0000i-of-0000n.safetensors with a model.safetensors.index.json.
 * Values are roughly N(0, 0.02^2) from a fixed xorshift generator, so the
 * same arguments give the same files. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tensor {
	char name[96];
	uint64_t rows, cols;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Sum of four uniforms, centred: near-Gaussian with sd 0.02; bf16 by truncation. */
static uint16_t weight(uint64_t r)
{
	double s = 0;
	for (int i = 0; i < 4; i++)
		s += (double)((r >> (16 * i)) & 0xffff) / 65536.0 - 0.5;
	float f = (float)(s * 0.02 / 0.5773502691896258);
	uint32_t bits;
	memcpy(&bits, &f, sizeof bits);
	return (uint16_t)(bits >> 16);
}

static size_t plan(struct tensor *t, size_t max, uint64_t budget)
{
	static const char *const mats[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
					   "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
	static const uint64_t rows[] = {4096, 4096, 4096, 4096, 11008, 11008, 4096};
	static const uint64_t cols[] = {4096, 4096, 4096, 4096, 4096, 4096, 11008};
	size_t n = 0;
	uint64_t bytes = 0;
	/* The token embedding first: `kaieval fingerprint --invariants` needs it. */
	snprintf(t[n].name, sizeof t[n].name, "model.embed_tokens.weight");
	t[n].rows = 32000;
	t[n].cols = 4096;
	bytes += 2 * t[n].rows * t[n].cols;
	n++;
	for (int layer = 0; bytes < budget && n + 9 <= max; layer++) {
		for (int m = 0; m < 7; m++) {
			snprintf(t[n].name, sizeof t[n].name, "model.layers.%d.%s.weight", layer, mats[m]);
			t[n].rows = rows[m];
			t[n].cols = cols[m];
			bytes += 2 * rows[m] * cols[m];
			n++;
		}
		snprintf(t[n].name, sizeof t[n].name, "model.layers.%d.input_layernorm.weight", layer);
		t[n].rows = 1;
		t[n].cols = 4096;
		n++;
		snprintf(t[n].name, sizeof t[n].name, "model.layers.%d.post_attention_layernorm.weight", layer);
		t[n].rows = 1;
		t[n].cols = 4096;
		n++;
	}
	return n;
}

static int write_shard(const char *dir, int s, int shards, const struct tensor *t, size_t from, size_t to,
		       FILE *index, int *first)
{
	char path[4096], header[1 << 16];
	snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, s + 1, shards);
	size_t len = (size_t)snprintf(header, sizeof header, "{");
	uint64_t off = 0;
	for (size_t i = from; i < to; i++) {
		uint64_t bytes = 2 * t[i].rows * t[i].cols;
		char shape[64];
		if (t[i].rows > 1)
			snprintf(shape, sizeof shape, "%" PRIu64 ",%" PRIu64, t[i].rows, t[i].cols);
		else
			snprintf(shape, sizeof shape, "%" PRIu64, t[i].cols);
		len += (size_t)snprintf(header + len, sizeof header - len,
					"%s\"%s\":{\"dtype\":\"BF16\",\"shape\":[%s],\"data_offsets\":[%" PRIu64
					",%" PRIu64 "]}", i > from ? "," : "", t[i].name, shape, off, off + bytes);
		off += bytes;
		fprintf(index, "%s\n    \"%s\": \"model-%05d-of-%05d.safetensors\"", *first ? "" : ",", t[i].name,
			s + 1, shards);
		*first = 0;
	}
	len += (size_t)snprintf(header + len, sizeof header - len, "}");
	while (len % 8)
		header[len++] = ' ';
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return 1;
	}
	uint64_t n = len;
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(n >> (8 * i));
	fwrite(le, 1, 8, f);
	fwrite(header, 1, len, f);
	static uint16_t buf[1 << 20];
	for (size_t i = from; i < to; i++)
		for (uint64_t left = t[i].rows * t[i].cols; left;) {
			size_t k = left < (1 << 20) ? (size_t)left : (1 << 20);
			for (size_t j = 0; j < k; j++)
				buf[j] = t[i].rows == 1 ? (uint16_t)0x3f80 + (uint16_t)(next() & 0x3f) : weight(next());
			fwrite(buf, 2, k, f);
			left -= k;
		}
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gen_model DIR GIGABYTES [SHARDS]\n");
		return 2;
	}
	uint64_t budget = (uint64_t)(atof(argv[2]) * 1e9);
	int shards = argc > 3 ? atoi(argv[3]) : 1;
	static struct tensor t[20000];
	size_t n = plan(t, sizeof t / sizeof t[0], budget);
	if (shards < 1 || (size_t)shards > n)
		shards = 1;
	char path[4096];
	snprintf(path, sizeof path, "%s/model.safetensors.index.json", argv[1]);
	FILE *index = fopen(path, "w");
	if (!index) {
		perror(path);
		return 1;
	}
	fprintf(index, "{\n  \"metadata\": {},\n  \"weight_map\": {");
	int first = 1, rc = 0;
	for (int s = 0; s < shards && !rc; s++)
		rc = write_shard(argv[1], s, shards, t, n * (size_t)s / (size_t)shards,
				 n * (size_t)(s + 1) / (size_t)shards, index, &first);
	fprintf(index, "\n  }\n}\n");
	fclose(index);
	printf("%zu tensors in %d shard(s) under %s\n", n, shards, argv[1]);
	return rc;
}

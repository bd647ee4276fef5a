/*
 * fphash.h -- what each fingerprint format version says of its content hash:
 * the name in "content_hash", the "leaf_bytes" it writes (0: none) and the
 * digest's size.  One table for the writer (fingerprint/fingerprint.c, which
 * checks it against the hash code) and the reader (fpformat.c).
 */
#ifndef KV_FPHASH_H
#define KV_FPHASH_H

/* Version 3 hashes with the XXH3-128 tree (fingerprint/xxh128.h), version 2 with BLAKE3,
 * version 1 with the SHA-256 tree; otherwise the three are the same.  Version
 * 4 is version 3 plus an "invariants" member (null, or the token-product
 * invariants of `--invariants`, fpformat.h).  All are read; any can be made
 * (--hash; the XXH3-128 tree makes version 4), so a model can be compared
 * with a reference library made with an earlier version. */
#define KV_FP_VERSION_SHA256_TREE 1
#define KV_FP_VERSION_BLAKE3 2
#define KV_FP_VERSION_XXH128_TREE 3
#define KV_FP_VERSION_INVARIANTS 4
#define KV_FP_VERSION_MAX 4

struct kv_fp_hash_kind {
	const char *name;
	unsigned leaf_bytes;         /* 0: BLAKE3's tree is its own, no leaf_bytes written */
	unsigned digest_bytes;       /* hex digits in the file: twice this */
};

/* Entry v - 1 is format version v. */
static const struct kv_fp_hash_kind kv_fp_hash_kinds[KV_FP_VERSION_MAX] = {
	{"sha256-tree-v1", 16384, 32},
	{"blake3", 0, 32},
	{"xxh128-tree-v1", 262144, 16},
	{"xxh128-tree-v1", 262144, 16},
};

#endif

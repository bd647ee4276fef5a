/*
 * fphash.h -- what each fingerprint format version says of its content hash:
 * the name in "content_hash", the "leaf_bytes" it writes (0: none) and the
 * digest's size.  One table for the writer and reader in core/fingerprint.c
 * and the license plugin's reader (plugins/license/fpread.c).
 */
#ifndef KV_FPHASH_H
#define KV_FPHASH_H

#include "blake3.h"
#include "treehash.h"
#include "xxh128.h"

/* Version 3 hashes with the XXH3-128 tree (xxh128.h), version 2 with BLAKE3,
 * version 1 with the SHA-256 tree; otherwise the three are the same.  All are
 * read; any can be made (--hash), so a model can be compared with a reference
 * library made with an earlier version. */
#define KV_FP_VERSION_SHA256_TREE 1
#define KV_FP_VERSION_BLAKE3 2
#define KV_FP_VERSION_XXH128_TREE 3
#define KV_FP_VERSION_MAX 3

struct kv_fp_hash_kind {
	const char *name;
	unsigned leaf_bytes;         /* 0: BLAKE3's tree is its own, no leaf_bytes written */
	unsigned digest_bytes;       /* hex digits in the file: twice this */
};

/* Entry v - 1 is format version v. */
static const struct kv_fp_hash_kind kv_fp_hash_kinds[KV_FP_VERSION_MAX] = {
	{KV_TH_NAME, KV_TH_LEAF, 32},
	{KV_B3_NAME, 0, 32},
	{KV_XX_NAME, KV_XX_UNIT, KV_XX_DIGEST},
};

#endif

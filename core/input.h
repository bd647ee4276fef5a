/* Input files of a round: every path is confined to the data directory, and
 * every file read is recorded with its size and SHA-256.  Files are opened
 * relative to a descriptor of the data directory, never by a name checked
 * before: a folder swapped for a symbolic link, or a file for a FIFO, while
 * a round runs cannot redirect or block a read. */
#ifndef KV_INPUT_H
#define KV_INPUT_H

#include <stdint.h>
#include "util.h"

struct kv_input_record {
	char *path;          /* normalized, relative to the data directory */
	uint64_t bytes;
	char sha256[65];
};

/* In an isolated plugin's process nothing is opened: the core opens,
 * hashes and records each file and hands over what to read (isolate.c). */
struct kv_inputs_remote {
	/* A descriptor to read the file from, the core's id of it and the
	 * file's size; -1 with err set when the file cannot be read. */
	int (*open)(const char *rel, uint64_t *id, uint64_t *size, struct kv_error *err);
	/* The file's SHA-256 (of every byte, read or not); 0, or -1 on a read error. */
	int (*close)(uint64_t id, char sha256_hex[65]);
	int (*kind)(const char *rel);
	int (*list)(const char *rel, char ***names, size_t *count, struct kv_error *err);
};

struct kv_inputs {
	char *data_dir;      /* real path of the data directory */
	int dir;             /* an O_PATH descriptor of it, every open's anchor */
	struct kv_input_record *records;
	size_t count;
	const struct kv_inputs_remote *remote;
};

/* Record a file read (once per path, in the order first recorded). */
void kv_inputs_record(struct kv_inputs *in, const char *norm, uint64_t bytes, const char *sha256);

int kv_inputs_init(struct kv_inputs *in, const char *data_dir, struct kv_error *err);
void kv_inputs_free(struct kv_inputs *in);

/* Look rel up inside the data directory (nothing is opened for reading).
 * *real gets data_dir/norm, *norm the normalized relative path (either may
 * be NULL).  Refuses absolute paths, '..' escapes and symbolic links that
 * lead out of the directory. */
int kv_inputs_resolve(struct kv_inputs *in, const char *rel, char **real, char **norm,
		      struct kv_error *err);

enum kv_open {
	KV_OPEN_FILE,        /* a regular file, ready to read */
	KV_OPEN_DIR,         /* a directory, to list */
	KV_OPEN_ANY          /* O_PATH: whatever is there, to fstat */
};

/* The descriptor of rel, opened beneath the data directory: openat2 with
 * RESOLVE_BENEATH where the kernel has it, else a walk that opens one
 * component at a time without following links (both follow a relative
 * symbolic link that stays inside and refuse any other).  A FIFO or device
 * cannot block the open; KV_OPEN_FILE refuses anything but a regular file,
 * naming what it is.  *norm (may be NULL) gets the normalized path. */
int kv_inputs_open(struct kv_inputs *in, const char *rel, enum kv_open how, char **norm,
		   struct kv_error *err);
/* For tests: walk even where openat2 is there. */
void kv_inputs_walk_always(int on);

/* 0 absent (or refused), 1 regular file, 2 directory. */
int kv_inputs_kind(struct kv_inputs *in, const char *rel);

/* Read a whole file (NUL-terminated, caller frees) and record it. */
int kv_inputs_load(struct kv_inputs *in, const char *rel, char **data, size_t *len,
		   struct kv_error *err);

/* Sorted entry names of a directory (caller frees each and the array). */
int kv_inputs_list(struct kv_inputs *in, const char *rel, char ***names, size_t *count,
		   struct kv_error *err);

struct kv_stream;
struct kv_stream *kv_stream_open(struct kv_inputs *in, const char *rel, struct kv_error *err);
long kv_stream_read(struct kv_stream *s, void *buf, size_t len);
/* Hashes whatever the reader left unread, then records the file; the
 * digest is of the bytes read through this stream and nothing else. */
int kv_stream_close(struct kv_stream *s, char sha256_hex[65]);
/* The open file's size in bytes (0 when unknown). */
uint64_t kv_stream_size(const struct kv_stream *s);

/* A SHA-256 digest as lowercase hex. */
void kv_sha256_to_hex(const unsigned char md[32], char out[65]);
/* SHA-256 of a buffer, as lowercase hex. */
void kv_sha256_hex(const void *data, size_t len, char out[65]);
/* SHA-256 of a file given by a real path (not recorded). */
int kv_sha256_file(const char *path, char out[65], uint64_t *bytes);

#endif

/* Input files of a round: every path is confined to the data directory, and
 * every file read is recorded with its size and SHA-256. */
#ifndef KV_INPUT_H
#define KV_INPUT_H

#include <stdint.h>
#include "util.h"

struct kv_input_record {
	char *path;          /* normalized, relative to the data directory */
	uint64_t bytes;
	char sha256[65];
};

struct kv_inputs {
	char *data_dir;      /* real path of the data directory */
	struct kv_input_record *records;
	size_t count;
	/* Set in an isolated plugin's process: told of each file opened
	 * (recorded = 0) and of each new file recorded (1), which is then not
	 * hashed here: the core hashes it (isolate.c). */
	void (*observer)(const char *norm, int recorded);
};

/* Record a file read (once per path, in the order first recorded). */
void kv_inputs_record(struct kv_inputs *in, const char *norm, uint64_t bytes, const char *sha256);

int kv_inputs_init(struct kv_inputs *in, const char *data_dir, struct kv_error *err);
void kv_inputs_free(struct kv_inputs *in);

/* Resolve rel inside the data directory.  *real gets the file's real path,
 * *norm the normalized relative path (either may be NULL).  Refuses absolute
 * paths, '..' escapes and symlinks that lead out of the directory. */
int kv_inputs_resolve(struct kv_inputs *in, const char *rel, char **real, char **norm,
		      struct kv_error *err);

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
/* Hashes whatever the reader left unread, then records the file. */
int kv_stream_close(struct kv_stream *s, char sha256_hex[65]);
/* The open file's size in bytes (0 when unknown). */
uint64_t kv_stream_size(const struct kv_stream *s);

/* SHA-256 of a buffer, as lowercase hex. */
void kv_sha256_hex(const void *data, size_t len, char out[65]);
/* SHA-256 of a file given by a real path (not recorded). */
int kv_sha256_file(const char *path, char out[65], uint64_t *bytes);

#endif

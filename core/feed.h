/* An input handed to an isolated plugin: the core reads the file a chunk
 * at a time, hashes the chunk and hands it to a pipe whose other end the
 * plugin has, whenever the pipe has room.  The digest is of exactly the
 * bytes the plugin got; bytes it leaves unread are hashed at its close, as
 * in process (input.h). */
#ifndef KV_FEED_H
#define KV_FEED_H

#include "input.h"

#include <stdint.h>

struct kv_feed;

/* A feed of the input at rel (opened through `inputs`): *their_end is the
 * pipe's read end for the plugin.  NULL with why set. */
struct kv_feed *kv_feed_start(struct kv_inputs *inputs, const char *rel, int *their_end, struct kv_error *why);
/* The pipe to wait on for room; -1 once handed over (or closed). */
int kv_feed_pipe(const struct kv_feed *f);
/* The pipe has room (or the plugin closed its end): hand it more. */
void kv_feed_step(struct kv_feed *f);
/* The plugin closed the input: the rest is hashed, unsent.  0, or -1 when
 * the file could not be read. */
int kv_feed_finish(struct kv_feed *f);
/* After kv_feed_finish: the normalized path, bytes and digest (hex). */
const char *kv_feed_path(const struct kv_feed *f);
uint64_t kv_feed_bytes(const struct kv_feed *f);
const char *kv_feed_hex(const struct kv_feed *f);
/* The file's size where it says one, for the plugin's progress; else 0. */
uint64_t kv_feed_size(const struct kv_feed *f);
/* Only once the plugin's process is gone: its pipe may refer to the
 * feed's memory until then. */
void kv_feed_free(struct kv_feed *f);

#endif

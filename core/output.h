/* Writing what a command produces.
 *
 * A regular file (or a name that does not exist yet) is replaced atomically:
 * the bytes go to a temporary file beside it, which is renamed over it only
 * once every byte is written and synced, so the name never holds half a
 * record.  Anything else already at the name is never replaced: a character
 * device or a FIFO with a reader is written through (`-o /dev/stdout`), and
 * a directory, socket, block device or FIFO without a reader is refused.
 *
 * Temporary names are ".NAME.kaieval-PID-XXXXXX": short enough for any NAME
 * that fits NAME_MAX, and naming their writer, so that one left behind by a
 * killed run is recognized and removed by the next write to the same NAME. */
#ifndef KV_OUTPUT_H
#define KV_OUTPUT_H

#include <stddef.h>
#include "util.h"

/* The temporary name for path (caller frees); XXXXXX for mkstemp/mkdtemp. */
char *kv_output_temp_name(const char *path);

/* Remove temporaries of path whose writer is no longer running. */
void kv_output_sweep(const char *path);

/* 0 when path names none of files (compared by device and inode, so any
 * spelling of the same file counts); otherwise KV_EXIT_INPUT, err set. */
int kv_output_not_one_of(const char *path, const char *what, const char *const *files,
			 size_t count, struct kv_error *err);

/* Remove a file or a whole folder (no link is followed); 0 or -1 with errno. */
int kv_remove_tree(const char *path);

/* Flush standard output; a write error that lost output is KV_EXIT_INPUT
 * with a message on stderr.  Called once, as the program ends. */
int kv_output_finish_stdout(void);

/* Make sure descriptors 0, 1 and 2 are open before any file is: a closed
 * stdout must fail as stdout, not receive a file opened later. */
void kv_output_guard_std_fds(void);

#endif

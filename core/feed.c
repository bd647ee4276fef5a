/* Inputs handed to an isolated plugin (feed.h).
 *
 * A large file's chunks are spliced into the pipe (vmsplice(2)): the pipe
 * then refers to the core's pages, with no copy into pages of its own,
 * allocated and freed 4 KB at a time (on a 1.8 GB file that was most of
 * the cost of the handover).  So a chunk's buffer must not be read into
 * again before the plugin has read the whole chunk: the buffers form a
 * ring of more chunks than the pipe holds, and before one is reused the
 * bytes still in the pipe (FIONREAD) show that its chunk was read.  Where
 * that cannot be shown (the plugin enlarged the pipe), splicing is
 * refused, the plugin has closed the input, or the file is small, the rest
 * goes through one buffer of its own, copied by write(2).  Either way the
 * plugin gets the bytes that were hashed.
 *
 * The ring is freed once the pipe is empty, or else with the feed, after
 * the plugin's process is gone: freed memory the pipe still referred to
 * could be the core's next allocation, and the plugin would read it. */
#include "feed.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)256 << 10)
#define PIPE_BYTES (1 << 20)   /* fewer wake-ups; the default size where refused */
#define RING_PAGE ((size_t)2 << 20)
#define RING_FROM ((off_t)4 << 20)   /* smaller files take one buffer: a ring would cost more than it saves */

struct kv_feed {
	char *path;              /* normalized, relative to the data directory */
	int file, pipe;          /* -1 once closed */
	EVP_MD_CTX *md;
	char *ring;              /* `slots` chunks; NULL when there is none */
	uint64_t *ends;          /* per slot: where its chunk ends in the stream (0: unused) */
	size_t slots, slot;      /* slot: the chunk being handed over, when in the ring */
	char *copy;              /* the buffer of its own, once needed */
	char *buf;               /* the chunk read and hashed (in the ring or copy) ... */
	size_t len, off;         /* ... and how much of it the pipe took */
	uint64_t bytes, handed;  /* read and hashed; taken by the pipe */
	int splice;              /* vmsplice(2) works on this pipe */
	int copying;             /* through copy from now on */
	char hex[65];
	int done, failed;
};

/* The ring, for a file of `size` bytes handed to a pipe of `bytes`. */
static void make_ring(struct kv_feed *f, off_t size, long bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	if (size < RING_FROM || page <= 0 || bytes <= 0 || CHUNK % (size_t)page)
		return;
	/* the pipe holds bytes / page pieces of a page, so the chunks it
	 * refers to are its whole ones and a part at each end: +3 is free;
	 * in whole 2 MB pages, which the pipe takes and lets go of with less
	 * bookkeeping than 4 KB ones (where the system gives them) */
	f->slots = ((size_t)bytes / CHUNK + 3 + RING_PAGE / CHUNK - 1) / (RING_PAGE / CHUNK) * (RING_PAGE / CHUNK);
	void *ring = NULL;
	f->ends = calloc(f->slots, sizeof *f->ends);
	if (f->ends && posix_memalign(&ring, RING_PAGE, f->slots * CHUNK) == 0) {
		f->ring = ring;
		madvise(ring, f->slots * CHUNK, MADV_HUGEPAGE);
	}
	f->splice = f->ring != NULL;
}

/* The pipe's read end for the plugin's own, and a ring to splice from for
 * a large file. */
static int open_pipe(struct kv_feed *f, int *their_end)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
	struct stat st;
	if (fstat(f->file, &st) == 0)
		make_ring(f, st.st_size, fcntl(p[1], F_GETPIPE_SZ));
	f->pipe = p[1];
	*their_end = p[0];
	return 0;
}

struct kv_feed *kv_feed_start(struct kv_inputs *inputs, const char *rel, int *their_end, struct kv_error *why)
{
	char *norm = NULL;
	int file = kv_inputs_open(inputs, rel, KV_OPEN_FILE, &norm, why);
	if (file < 0)
		return NULL;
	struct kv_feed *f = kv_xcalloc(1, sizeof *f);
	f->path = norm;
	f->file = file;
	f->pipe = -1;
	f->md = EVP_MD_CTX_new();
	if (!f->md || !EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) || open_pipe(f, their_end) != 0) {
		kv_fail(why, KV_EXIT_INTERNAL, "%s: cannot hand the file over: %s", rel, strerror(errno));
		kv_feed_free(f);
		return NULL;
	}
	return f;
}

static void close_fds(struct kv_feed *f)
{
	if (f->pipe >= 0)
		close(f->pipe);
	if (f->file >= 0)
		close(f->file);
	f->pipe = f->file = -1;
}

/* Every piece of slot s's chunk has left the pipe (or it was never used). */
static int slot_read(const struct kv_feed *f, size_t s)
{
	int unread = 0;
	if (f->ends[s] == 0)
		return 1;
	if (ioctl(f->pipe, FIONREAD, &unread) != 0 || unread < 0 || (uint64_t)unread > f->handed)
		return 0;
	return f->handed - (uint64_t)unread >= f->ends[s];
}

/* Where the next chunk goes: the ring's next slot while it can be shown to
 * be free, else the buffer of its own. */
static char *next_buffer(struct kv_feed *f)
{
	if (f->ring && !f->copying && f->pipe >= 0) {
		size_t s = (f->slot + 1) % f->slots;
		if (slot_read(f, s)) {
			f->slot = s;
			return f->ring + s * CHUNK;
		}
	}
	f->copying = 1; /* never back to a ring the pipe may still refer to */
	if (!f->copy)
		f->copy = kv_xmalloc(CHUNK);
	return f->copy;
}

/* The buffers go, the ring only when `empty`: the pipe refers to none of it. */
static void release(struct kv_feed *f, int empty)
{
	if (empty) {
		free(f->ring);
		f->ring = NULL;
	}
	free(f->copy);
	f->copy = f->buf = NULL;
}

/* The whole file was hashed (or a read failed): the digest, and the end of
 * the file for the plugin. */
static void end(struct kv_feed *f, int failed)
{
	unsigned char d[32];
	unsigned int len = 0;
	f->failed |= failed;
	EVP_DigestFinal_ex(f->md, d, &len);
	kv_sha256_to_hex(d, f->hex);
	f->done = 1;
	int unread = -1;
	if (f->ring && f->pipe >= 0 && ioctl(f->pipe, FIONREAD, &unread) != 0)
		unread = -1;
	release(f, unread == 0);
	close_fds(f);
}

/* The next chunk, hashed; 0 at the end of the file (then ended). */
static size_t next_chunk(struct kv_feed *f)
{
	ssize_t n;
	f->buf = next_buffer(f);
	do
		n = read(f->file, f->buf, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		end(f, n < 0);
		return 0;
	}
	EVP_DigestUpdate(f->md, f->buf, (size_t)n);
	f->bytes += (uint64_t)n;
	if (f->buf != f->copy)
		f->ends[f->slot] = f->bytes;
	f->len = (size_t)n;
	f->off = 0;
	return f->len;
}

/* The rest of the chunk into the pipe, as much as it takes, answered with
 * EPIPE (not a SIGPIPE that would end the core) when the plugin closed its
 * end. */
static ssize_t hand(struct kv_feed *f)
{
	sigset_t pipe_sig, old;
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_sig, &old);
	struct iovec iov = {f->buf + f->off, f->len - f->off};
	int spliced = f->splice && f->buf != f->copy;
	ssize_t w = spliced ? vmsplice(f->pipe, &iov, 1, SPLICE_F_NONBLOCK) : write(f->pipe, iov.iov_base, iov.iov_len);
	int e = errno;
	if (w < 0 && spliced && (e == EINVAL || e == ENOSYS || e == EPERM)) {
		f->splice = 0; /* copied from now on: the ring stays safe to reuse */
		w = write(f->pipe, iov.iov_base, iov.iov_len);
		e = errno;
	}
	if (w < 0 && e == EPIPE) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_sig, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

int kv_feed_pipe(const struct kv_feed *f) { return f->pipe; }

void kv_feed_step(struct kv_feed *f)
{
	if (f->off == f->len && next_chunk(f) == 0)
		return;
	ssize_t w = hand(f);
	if (w > 0) {
		f->off += (size_t)w;
		f->handed += (uint64_t)w;
	} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
		close(f->pipe); /* the plugin closed its end: the rest is hashed at its close */
		f->pipe = -1;
	}
}

int kv_feed_finish(struct kv_feed *f)
{
	if (f->pipe >= 0)
		close(f->pipe);
	f->pipe = -1;
	while (!f->done && next_chunk(f) > 0)
		;
	return f->failed ? -1 : 0;
}

const char *kv_feed_path(const struct kv_feed *f) { return f->path; }
uint64_t kv_feed_bytes(const struct kv_feed *f) { return f->bytes; }
const char *kv_feed_hex(const struct kv_feed *f) { return f->hex; }

uint64_t kv_feed_size(const struct kv_feed *f)
{
	struct stat st;
	return f->file >= 0 && fstat(f->file, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

void kv_feed_free(struct kv_feed *f)
{
	if (!f)
		return;
	close_fds(f);
	EVP_MD_CTX_free(f->md);
	release(f, 1); /* the plugin's process is gone (feed.h) */
	free(f->ends);
	free(f->path);
	free(f);
}

/* Pull-style byte streams that compose: a layer is read as
 * http body -> digest check -> gunzip -> diff_id digest -> tar reader,
 * each stage a struct reader wrapping the one before.
 *
 * read() returns the number of bytes placed in p (0 only at end of stream,
 * never for n == 0 callers: do not call with n == 0), or a negative errno
 * with e filled.  A stream that ends early where more was promised returns
 * an error (-EPROTO or -EIO), not 0.  close() releases the stage (not the
 * stage it wraps, unless documented by its constructor); may be NULL. */
#ifndef LIB_STREAM_H
#define LIB_STREAM_H

#include <stddef.h>
#include <sys/types.h>

struct err;

struct reader {
	ssize_t (*read)(struct reader *r, void *p, size_t n, struct err *e);
	void (*close)(struct reader *r);
};

static inline ssize_t reader_read(struct reader *r, void *p, size_t n, struct err *e)
{
	return r->read(r, p, n, e);
}

/* Read exactly n bytes; -EPROTO ("unexpected end of <what>") on a short
 * stream. */
int reader_read_full(struct reader *r, void *p, size_t n, const char *what,
		     struct err *e);

/* Read and drop n bytes (same end-of-stream rule). */
int reader_skip(struct reader *r, unsigned long long n, const char *what,
		struct err *e);

/* A reader over a file descriptor (borrowed: close() does not close fd). */
struct fd_reader {
	struct reader r;
	int fd;
};
void fd_reader_init(struct fd_reader *fr, int fd);

/* A reader over memory (borrowed). */
struct mem_reader {
	struct reader r;
	const unsigned char *p;
	size_t len, off;
};
void mem_reader_init(struct mem_reader *mr, const void *p, size_t len);

#endif

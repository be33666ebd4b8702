/* Reader helpers and the fd/memory readers (see lib/stream.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"

int reader_read_full(struct reader *r, void *p, size_t n, const char *what,
		     struct err *e)
{
	unsigned char *q = p;

	while (n > 0) {
		ssize_t got = r->read(r, q, n, e);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return err_set(e, -EPROTO, "unexpected end of %s", what);
		q += got;
		n -= (size_t)got;
	}
	return 0;
}

int reader_skip(struct reader *r, unsigned long long n, const char *what,
		struct err *e)
{
	unsigned char tmp[16384];

	while (n > 0) {
		size_t want = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
		ssize_t got = r->read(r, tmp, want, e);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return err_set(e, -EPROTO, "unexpected end of %s", what);
		n -= (unsigned long long)got;
	}
	return 0;
}

static ssize_t fd_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct fd_reader *fr = (struct fd_reader *)r;

	for (;;) {
		ssize_t got = read(fr->fd, p, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return err_sys(e, "read");
	}
}

void fd_reader_init(struct fd_reader *fr, int fd)
{
	fr->r.read = fd_read;
	fr->r.close = NULL;
	fr->fd = fd;
}

static ssize_t mem_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct mem_reader *mr = (struct mem_reader *)r;
	size_t left = mr->len - mr->off;

	(void)e;
	if (n > left)
		n = left;
	memcpy(p, mr->p + mr->off, n);
	mr->off += n;
	return (ssize_t)n;
}

void mem_reader_init(struct mem_reader *mr, const void *p, size_t len)
{
	mr->r.read = mem_read;
	mr->r.close = NULL;
	mr->p = p;
	mr->len = len;
	mr->off = 0;
}

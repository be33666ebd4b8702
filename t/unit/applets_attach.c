/* Unit tests of Docker's stream demultiplexer (applets/attach.c,
 * attach_demux_feed), which our CLI runs on the API server's attach, exec
 * and logs streams: frames split at every byte, empty frames, large
 * lengths streamed through, and headers that are not Docker's refused. */
#include <errno.h>
#include <string.h>

#include "applets/attach.h"
#include "lib/buf.h"
#include "t/tap.h"

struct sink {
	struct buf out[3];
};

static int collect(void *ud, int fd, const char *p, size_t n)
{
	struct sink *s = ud;

	return buf_append(&s->out[fd], p, n) < 0 ? -ENOMEM : 0;
}

static void frame(struct buf *b, int fd, const char *p, size_t n)
{
	unsigned char h[8] = { (unsigned char)fd, 0, 0, 0, (unsigned char)(n >> 24),
			       (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };

	buf_append(b, h, 8);
	buf_append(b, p, n);
}

int main(void)
{
	struct buf in = BUF_INIT;
	int all_ok = 1;

	frame(&in, 1, "hello ", 6);
	frame(&in, 2, "warn\n", 5);
	frame(&in, 1, "", 0);
	frame(&in, 0, "in-as-out", 9);
	frame(&in, 1, "world\n", 6);
	/* every split point of the whole stream into two feeds */
	for (size_t cut = 0; cut <= in.len; cut++) {
		struct attach_demux d = { 0 };
		struct sink s = { { BUF_INIT, BUF_INIT, BUF_INIT } };
		int rc = attach_demux_feed(&d, in.data, cut, collect, &s);
		if (rc == 0)
			rc = attach_demux_feed(&d, in.data + cut, in.len - cut, collect, &s);
		if (rc != 0 || strcmp(buf_str(&s.out[1]), "hello in-as-outworld\n") != 0 ||
		    strcmp(buf_str(&s.out[2]), "warn\n") != 0 || d.have != 0 || d.left != 0)
			all_ok = 0;
		for (int i = 0; i < 3; i++)
			buf_free(&s.out[i]);
	}
	ok(all_ok, "frames split at any byte: stdout and stderr put back together");
	{
		/* one byte at a time */
		struct attach_demux d = { 0 };
		struct sink s = { { BUF_INIT, BUF_INIT, BUF_INIT } };
		int rc = 0;
		for (size_t i = 0; i < in.len && rc == 0; i++)
			rc = attach_demux_feed(&d, in.data + i, 1, collect, &s);
		ok(rc == 0 && !strcmp(buf_str(&s.out[1]), "hello in-as-outworld\n"), "one byte at a time");
		for (int i = 0; i < 3; i++)
			buf_free(&s.out[i]);
	}
	{
		/* a huge length is streamed, never buffered: the demux holds no payload */
		static const unsigned char h[8] = { 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
		struct attach_demux d = { 0 };
		struct sink s = { { BUF_INIT, BUF_INIT, BUF_INIT } };
		int rc = attach_demux_feed(&d, (const char *)h, 8, collect, &s);
		rc = rc ? rc : attach_demux_feed(&d, "abc", 3, collect, &s);
		ok(rc == 0 && d.left == 0xffffffffu - 3 && s.out[1].len == 3,
		   "a 4 GiB frame's bytes pass through as they come");
		for (int i = 0; i < 3; i++)
			buf_free(&s.out[i]);
	}
	{
		static const char *const bad[] = { "\x03\0\0\0\0\0\0\x01x", "\x01\x01\0\0\0\0\0\x01x",
						   "\x01\0\0\x7f\0\0\0\x01x", "HTTP/1.1" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct attach_demux d = { 0 };
			struct sink s = { { BUF_INIT, BUF_INIT, BUF_INIT } };
			is_int(attach_demux_feed(&d, bad[i], 9, collect, &s), -EPROTO,
			       "a header that is not Docker's is refused (%zu)", i);
			for (int k = 0; k < 3; k++)
				buf_free(&s.out[k]);
		}
	}
	buf_free(&in);
	return done_testing();
}

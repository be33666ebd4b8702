/* A blocking client of a runtime's socket; see applets/rtclient.h. */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "applets/rtclient.h"
#include "lib/err.h"

void rtc_init(struct rtc *c)
{
	c->fd = -1;
	buf_init(&c->in, AGENT_FRAME_MAX + AGENT_DATA_CHUNK);
}

uint64_t rtc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rtc_next(struct rtc *c, size_t *pending, struct agent_frame *f, int timeout_ms,
	     struct err *e)
{
	uint64_t end = rtc_now_ms() + (uint64_t)timeout_ms;

	buf_consume(&c->in, *pending);
	*pending = 0;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		uint64_t now = rtc_now_ms();
		ssize_t n;
		int rc = agent_decode(c->in.data, c->in.len, f, pending, e);

		if (rc > 0)
			return 1;
		if (rc < 0 && *pending == 0)
			return err_wrap(e, "from the runtime");
		if (rc < 0) {          /* a frame we cannot use: skip it */
			buf_consume(&c->in, *pending);
			*pending = 0;
			err_clear(e);
			continue;
		}
		if (now >= end)
			return 0;
		if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			return err_sys(e, "poll");
		if (!p.revents)
			continue;
		if (buf_reserve(&c->in, AGENT_DATA_CHUNK) < 0)
			return err_set(e, -EPROTO, "the runtime sent an oversized frame");
		n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
		if (n < 0 && errno != EINTR)
			return err_sys(e, "read from the runtime");
		if (n == 0)
			return err_set(e, -EPIPE, "the runtime closed the connection");
		if (n > 0)
			c->in.len += (size_t)n;
	}
}

void rtc_close(struct rtc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

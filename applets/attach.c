/* The client end of stdio over the API's hijacked connection
 * (applets/attach.h): a poll loop over the connection, our stdin and a
 * self-pipe that turns signals into bytes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "applets/api_client.h"
#include "applets/attach.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

#define CHUNK 65536

/* State a signal handler must reach; the one place this file keeps
 * globals, because handlers take no argument. */
static int sig_pipe_w = -1;
static struct termios saved_tio;
static int saved_tio_fd = -1;

static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (sig_pipe_w >= 0 && write(sig_pipe_w, &b, 1) < 0) {
		/* the pipe is full: the signal is dropped, as a coalesced one would be */
	}
	errno = saved;
}

static void tty_restore(void)
{
	if (saved_tio_fd >= 0) {
		tcsetattr(saved_tio_fd, TCSADRAIN, &saved_tio);
		saved_tio_fd = -1;
	}
}

static int tty_raw(int fd, struct err *e)
{
	struct termios t;

	if (tcgetattr(fd, &saved_tio) < 0)
		return err_sys(e, "tcgetattr");
	t = saved_tio;
	cfmakeraw(&t);
	/* keep output post-processing off too: the guest's pty already
	 * turned \n into \r\n */
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		return err_sys(e, "tcsetattr");
	saved_tio_fd = fd;
	atexit(tty_restore);
	return 0;
}

int attach_winsize(int fd, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return 0;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 1;
}

int attach_demux_feed(struct attach_demux *d, const char *p, size_t n,
		      int (*out)(void *ud, int fd, const char *p, size_t n), void *ud)
{
	int rc;

	while (n) {
		if (d->left) {
			size_t k = n < d->left ? n : d->left;
			if ((rc = out(ud, d->fd, p, k)) < 0)
				return rc;
			d->left -= k;
			p += k;
			n -= k;
			continue;
		}
		while (n && d->have < sizeof(d->hdr)) {
			d->hdr[d->have++] = (unsigned char)*p++;
			n--;
		}
		if (d->have < sizeof(d->hdr))
			break;
		if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
			return -EPROTO;
		d->fd = d->hdr[0] == 2 ? 2 : 1;
		d->left = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 | (size_t)d->hdr[6] << 8 |
			  d->hdr[7];
		d->have = 0;
	}
	return 0;
}

static int write_out(void *ud, int fd, const char *p, size_t n)
{
	(void)ud;
	return fs_write_full(fd, p, n, NULL) < 0 ? -EIO : 0;
}

struct relay {
	struct api_stream *s;
	const struct attach_opts *o;
	struct attach_demux dm;
	struct buf out;          /* stdin bytes not yet taken by the server */
	bool stdin_done, shut;
};

/* 1 when the server ended the stream, 0 to go on, <0 error. */
static int from_server(struct relay *r, const char *p, size_t n, struct err *e)
{
	if (r->o->tty)
		return fs_write_full(STDOUT_FILENO, p, n, e) < 0 ? -EIO : 0;
	if (attach_demux_feed(&r->dm, p, n, write_out, NULL) < 0)
		return err_set(e, -EPROTO, "a malformed stream from the API server");
	return 0;
}

static int on_sock_readable(struct relay *r, struct err *e)
{
	char b[CHUNK];
	ssize_t n = read(r->s->fd, b, sizeof(b));

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && errno == ECONNRESET)
		return 1;
	if (n < 0)
		return err_sys(e, "read from the API server");
	if (n == 0)
		return 1;
	return from_server(r, b, (size_t)n, e);
}

static void maybe_shut(struct relay *r)
{
	if (r->stdin_done && !r->out.len && !r->shut) {
		shutdown(r->s->fd, SHUT_WR);
		r->shut = true;
	}
}

static void on_stdin_readable(struct relay *r)
{
	char b[CHUNK];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		r->stdin_done = true;
	else
		buf_append(&r->out, b, (size_t)n);
	maybe_shut(r);
}

static int on_sock_writable(struct relay *r, struct err *e)
{
	ssize_t n = write(r->s->fd, r->out.data, r->out.len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0) {
		/* the server went away while we wrote: what it said last is
		 * still to be read; stdin is over */
		buf_reset(&r->out);
		r->stdin_done = r->shut = true;
		(void)e;
		return 0;
	}
	buf_consume(&r->out, (size_t)n);
	maybe_shut(r);
	return 0;
}

static void post(struct cliapi *api, const char *path, const char *query)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&p, "%s?%s", path, query);
	cliapi_call(api, "POST", buf_str(&p), NULL, NULL, &e); /* best effort, as docker */
}

static void on_signal_byte(struct relay *r, int sig_r)
{
	unsigned char sigs[64];
	ssize_t n = read(sig_r, sigs, sizeof(sigs));
	_cleanup_buf_ struct buf q = BUF_INIT;

	for (ssize_t i = 0; i < n; i++) {
		unsigned rows, cols;
		buf_reset(&q);
		if (sigs[i] == SIGWINCH) {
			if (r->o->resize_path && (attach_winsize(STDIN_FILENO, &rows, &cols) ||
						  attach_winsize(STDOUT_FILENO, &rows, &cols))) {
				buf_printf(&q, "h=%u&w=%u", rows, cols);
				post(r->o->api, r->o->resize_path, buf_str(&q));
			}
		} else if (r->o->kill_path) {
			buf_printf(&q, "signal=%d", sigs[i]);
			post(r->o->api, r->o->kill_path, buf_str(&q));
		}
	}
}

static int relay_loop(struct relay *r, int sig_r, struct err *e)
{
	int rc;

	/* bytes that came with the answer's head */
	if (r->s->in.len && (rc = from_server(r, r->s->in.data, r->s->in.len, e)) != 0)
		return rc < 0 ? rc : 0;
	buf_reset(&r->s->in);
	for (;;) {
		bool want_in = r->o->stdin_open && !r->stdin_done && !r->out.len;
		struct pollfd p[3] = {
			{ .fd = r->s->fd, .events = POLLIN | (r->out.len ? POLLOUT : 0) },
			{ .fd = sig_r, .events = POLLIN },
			{ .fd = want_in ? STDIN_FILENO : -1, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "poll");
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = on_sock_readable(r, e)) != 0)
			return rc < 0 ? rc : 0;
		if ((p[0].revents & POLLOUT) && (rc = on_sock_writable(r, e)) < 0)
			return rc;
		if (p[1].revents)
			on_signal_byte(r, sig_r);
		if (p[2].revents)
			on_stdin_readable(r);
	}
}

int attach_relay(struct api_stream *s, const struct attach_opts *o, struct err *e)
{
	struct relay r = { .s = s, .o = o };
	struct sigaction sa = { .sa_handler = on_signal }, old[8];
	int pipefd[2], rc = 0, nsig = 0;

	if (pipe(pipefd) < 0)
		return err_sys(e, "pipe");
	for (int i = 0; i < 2; i++) {
		fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
		fcntl(pipefd[i], F_SETFL, O_NONBLOCK);
	}
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	sig_pipe_w = pipefd[1];
	sigemptyset(&sa.sa_mask);
	if (o->sig_proxy)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaction(proxied[i], &sa, &old[nsig++]);
	sigaction(SIGWINCH, &sa, &old[nsig]);
	signal(SIGPIPE, SIG_IGN);
	buf_init(&r.out, 0);
	r.stdin_done = !o->stdin_open;   /* no half-close then: docker's neither */
	if (o->tty && o->stdin_open && isatty(STDIN_FILENO))
		rc = tty_raw(STDIN_FILENO, e);
	if (rc == 0)
		rc = relay_loop(&r, pipefd[0], e);
	tty_restore();

	nsig = 0;
	if (o->sig_proxy)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaction(proxied[i], &old[nsig++], NULL);
	sigaction(SIGWINCH, &old[nsig], NULL);
	sig_pipe_w = -1;
	close(pipefd[0]);
	close(pipefd[1]);
	buf_free(&r.out);
	return rc;
}

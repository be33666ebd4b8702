/* The client end of a container's stdio (applets/attach.h): a poll loop over
 * the attach socket, our stdin and a self-pipe that turns signals into
 * bytes.  Frames are built and decoded with the agent codec; the runtime is
 * our own process, but its bytes are still decoded with the bounded decoder
 * (it relays what an untrusted guest says). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "applets/attach.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

#define MAIN_STREAM 1u
#define ERRNO_MAX 4095

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

static int send_frame(int sock, struct buf *f, struct err *e)
{
	int rc = fs_write_full(sock, f->data, f->len, e);

	buf_reset(f);
	return rc;
}

/* Write all of p to fd; once fd is gone (EPIPE) output is dropped, but the
 * relay goes on so the workload's exit status still arrives. */
static void out_write(int fd, bool *dead, const void *p, size_t n)
{
	struct err e = ERR_INIT;

	if (!*dead && n && fs_write_full(fd, p, n, &e) < 0)
		*dead = true;
}

struct relay {
	int sock;
	const struct attach_opts *o;
	struct buf in, out;
	bool out_dead, err_dead, stdin_done, got_hello;
	uint32_t stream;
	unsigned oks;     /* OKs on our stream (exec: CREATE's, START's) */
	int status;
	bool have_status;
};

/* Handle one decoded frame; 1 when the relay is over. */
static int on_frame(struct relay *r, const struct agent_frame *f, struct err *e)
{
	switch (f->type) {
	case AGENT_HELLO:
		r->got_hello = true;
		return 0;
	case AGENT_STDOUT:
		if (f->stream == r->stream)
			out_write(STDOUT_FILENO, &r->out_dead, f->payload, f->len);
		return 0;
	case AGENT_STDERR:
		if (f->stream == r->stream)
			out_write(STDERR_FILENO, &r->err_dead, f->payload, f->len);
		return 0;
	case AGENT_EXIT:
		if (f->stream == r->stream) {
			r->status = f->u.exit.status;
			r->have_status = true;
			return 1;
		}
		if (f->stream == MAIN_STREAM)
			return err_set(e, -ECANCELED, "the container stopped (status %d)",
				       f->u.exit.status);
		return 0;
	case AGENT_ERROR:
		if (f->stream == 0 || f->stream == MAIN_STREAM)
			return err_set(e, -EIO, "%s", f->u.error.message);
		if (f->stream == r->stream)
			return err_set(e, f->u.error.code < 0 && f->u.error.code >= -ERRNO_MAX
						  ? (int)f->u.error.code : -EIO,
				       "%s", f->u.error.message);
		return 0;
	case AGENT_OK:
		/* exec -d: CREATE's OK, then START's: it runs */
		if (f->stream == r->stream && ++r->oks == 2 && r->o->detach) {
			r->status = 0;
			r->have_status = true;
			return 1;
		}
		return 0;
	default:
		return 0; /* what later versions add */
	}
}

static int on_sock_readable(struct relay *r, struct err *e)
{
	ssize_t n;
	int rc;

	if (buf_reserve(&r->in, AGENT_DATA_CHUNK) < 0)
		return err_set(e, -EPROTO, "the runtime sent an oversized frame");
	n = read(r->sock, r->in.data + r->in.len, r->in.cap - r->in.len - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : err_sys(e, "read from the runtime");
	if (n == 0)
		return err_set(e, -EPIPE, "the container's runtime ended without an exit status");
	r->in.len += (size_t)n;
	for (;;) {
		struct agent_frame f;
		size_t used = 0;

		rc = agent_decode(r->in.data, r->in.len, &f, &used, e);
		if (rc == 0)
			return 0;
		if (rc < 0 && used == 0)
			return err_wrap(e, "from the runtime");
		if (rc > 0 && (rc = on_frame(r, &f, e)) != 0)
			return rc;
		err_clear(e);
		buf_consume(&r->in, used);
	}
}

static int on_stdin_readable(struct relay *r, struct err *e)
{
	char b[AGENT_DATA_CHUNK];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));
	int rc;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		r->stdin_done = true;
		rc = agent_put_raw(&r->out, AGENT_STDIN, r->stream, AGENT_FLAG_EOF, NULL, 0, e);
	} else {
		rc = agent_put_raw(&r->out, AGENT_STDIN, r->stream, 0, b, (size_t)n, e);
	}
	return rc < 0 ? rc : send_frame(r->sock, &r->out, e);
}

static int on_signal_byte(struct relay *r, int sig_r, struct err *e)
{
	unsigned char sigs[64];
	ssize_t n = read(sig_r, sigs, sizeof(sigs));
	int rc = 0;

	for (ssize_t i = 0; i < n && rc == 0; i++) {
		if (sigs[i] == SIGWINCH) {
			unsigned rows, cols;
			if (attach_winsize(STDIN_FILENO, &rows, &cols) ||
			    attach_winsize(STDOUT_FILENO, &rows, &cols))
				rc = agent_put_resize(&r->out, r->stream, (uint16_t)rows,
						      (uint16_t)cols, e);
		} else {
			rc = agent_put_signal(&r->out, r->stream, sigs[i], e);
		}
		if (rc == 0 && r->out.len)
			rc = send_frame(r->sock, &r->out, e);
	}
	return rc;
}

static int relay_loop(struct relay *r, int sig_r, struct err *e)
{
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = r->sock, .events = POLLIN },
			{ .fd = sig_r, .events = POLLIN },
			{ .fd = r->o->stdin_open && !r->stdin_done ? STDIN_FILENO : -1,
			  .events = POLLIN },
		};
		int rc;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "poll");
		}
		if (p[0].revents && (rc = on_sock_readable(r, e)) != 0)
			return rc < 0 ? rc : 0;
		if (p[1].revents && (rc = on_signal_byte(r, sig_r, e)) < 0)
			return rc;
		if (p[2].revents && (rc = on_stdin_readable(r, e)) < 0) {
			/* the runtime went away while we wrote: its reason
			 * (or EOF) is what the socket says next */
			r->stdin_done = true;
			err_clear(e);
		}
	}
}

/* exec: our HELLO, then the process's CREATE and START in one write (the
 * runtime holds them until the workload runs). */
static int exec_begin(struct relay *r, struct err *e)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, "container-exec" };
	int rc;

	if ((rc = agent_put_hello(&r->out, &h, e)) < 0 ||
	    (rc = agent_put_create(&r->out, r->stream, r->o->create, e)) < 0 ||
	    (rc = agent_put_raw(&r->out, AGENT_START, r->stream, 0, NULL, 0, e)) < 0)
		return rc;
	return send_frame(r->sock, &r->out, e);
}

int attach_run(int sock, const struct attach_opts *o, int *status, struct err *e)
{
	struct relay r = { .sock = sock, .o = o, .status = -1,
			   .stream = o->stream ? o->stream : MAIN_STREAM };
	struct sigaction sa = { .sa_handler = on_signal }, old[8];
	int pipefd[2], rc, nsig = 0;

	if (pipe(pipefd) < 0)
		return err_sys(e, "pipe");
	for (int i = 0; i < 2; i++) {
		fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
		fcntl(pipefd[i], F_SETFL, O_NONBLOCK);
	}
	sig_pipe_w = pipefd[1];
	sigemptyset(&sa.sa_mask);
	if (o->sig_proxy)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaction(proxied[i], &sa, &old[nsig++]);
	sigaction(SIGWINCH, &sa, &old[nsig]);
	signal(SIGPIPE, SIG_IGN);

	buf_init(&r.in, AGENT_FRAME_MAX + AGENT_DATA_CHUNK);
	buf_init(&r.out, 0);
	rc = o->create ? exec_begin(&r, e) : 0;
	if (rc == 0 && o->tty && o->stdin_open && isatty(STDIN_FILENO) && !o->detach)
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
	buf_free(&r.in);
	buf_free(&r.out);
	if (rc < 0)
		return rc;
	*status = r.status;
	return 0;
}

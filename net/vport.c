/* net/vport.h: the VM ports of the vmnet switch, and their client. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "net/vport.h"

#define SUN_PATH_MAX 104 /* macOS's; Linux has 108: keep to the smaller */

struct vport_conn {
	struct vport_server *s;
	struct vport_conn *next;
	uv_pipe_t ctl;
	uv_poll_t poll;
	int fd;	       /* our end of the VM's socketpair, -1 before attach */
	unsigned port; /* 0 until attached */
	char rx[VPORT_HELLO_MAX];
	size_t rxn;
	int handles; /* open libuv handles; freed at 0 */
	bool closing;
};

struct vport_server {
	uv_loop_t *loop;
	uv_pipe_t lsn;
	char *path;
	struct vport_uplink up;
	pthread_mutex_t lock; /* sw and ports[], against the uplink's thread */
	struct vswitch sw;
	struct vport_conn *ports[VSWITCH_PORTS_MAX];
	struct vport_conn *conns; /* every connection, attached or not */
	uint8_t *rxbuf;		  /* frame_max + 1: a longer datagram shows */
	int refs;		  /* the listener + each connection */
	bool closing;
};

int vport_path(const char *bridge, struct buf *out, struct err *e)
{
	int rc;

	if ((rc = paths_run_dir(out, e)) < 0)
		return rc;
	buf_printf(out, "/vmnet-%s.sock", bridge);
	if (out->len >= SUN_PATH_MAX)
		return err_set(e, -ENAMETOOLONG, "socket path %s: longer than %d bytes",
			       buf_str(out), SUN_PATH_MAX - 1);
	return 0;
}

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static void server_unref(struct vport_server *s)
{
	if (--s->refs > 0)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->rxbuf);
	free(s->path);
	free(s);
}

/* Lock held: out to every port in mask.  A VM socket that is full drops
 * the frame (a datagram is all or nothing). */
static void deliver(struct vport_server *s, uint64_t mask, const uint8_t *f, size_t n)
{
	for (unsigned i = 0; mask; i++, mask >>= 1) {
		if (!(mask & 1))
			continue;
		if (i == VSWITCH_UPLINK) {
			if (s->up.send)
				s->up.send(s->up.ctx, f, n);
		} else if (s->ports[i]) {
			ssize_t w = send(s->ports[i]->fd, f, n, MSG_DONTWAIT);
			(void)w;
		}
	}
}

void vport_server_uplink_input(struct vport_server *s, const uint8_t *frame, size_t len)
{
	pthread_mutex_lock(&s->lock);
	deliver(s, vswitch_input(&s->sw, VSWITCH_UPLINK, frame, len, now_ms()), frame, len);
	pthread_mutex_unlock(&s->lock);
}

void vport_server_stats(struct vport_server *s, struct vswitch_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->sw.st;
	pthread_mutex_unlock(&s->lock);
}

static void conn_closed(uv_handle_t *h)
{
	struct vport_conn *c = h->data, **pp;
	struct vport_server *s = c->s;

	if (--c->handles > 0)
		return;
	if (c->fd >= 0)
		close(c->fd);
	for (pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
	server_unref(s);
}

static void conn_close(struct vport_conn *c)
{
	struct vport_server *s = c->s;

	if (c->closing)
		return;
	c->closing = true;
	if (c->port) {
		pthread_mutex_lock(&s->lock);
		vswitch_port_del(&s->sw, c->port);
		s->ports[c->port] = NULL;
		pthread_mutex_unlock(&s->lock);
	}
	uv_close((uv_handle_t *)&c->ctl, conn_closed);
	if (c->handles == 2)
		uv_close((uv_handle_t *)&c->poll, conn_closed);
}

/* The VM sent frames: switch each (at most VPORT_BATCH per wakeup, so one
 * chatty VM cannot starve the loop). */
static void on_frames(uv_poll_t *p, int status, int events)
{
	struct vport_conn *c = p->data;
	struct vport_server *s = c->s;

	(void)events;
	if (status < 0) {
		conn_close(c);
		return;
	}
	for (int i = 0; i < VPORT_BATCH && !c->closing; i++) {
		ssize_t n = recv(c->fd, s->rxbuf, s->sw.frame_max + 1, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				conn_close(c); /* the VM's end is gone */
			return;
		}
		pthread_mutex_lock(&s->lock);
		deliver(s, vswitch_input(&s->sw, c->port, s->rxbuf, (size_t)n, now_ms()), s->rxbuf,
			(size_t)n);
		pthread_mutex_unlock(&s->lock);
	}
}

/* "ok\n" with fd, or "error ...\n" without; 0 when sent whole. */
static int reply(int ctl, const char *text, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {(void *)text, strlen(text)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t w;

	memset(&cm, 0, sizeof(cm));
	if (fd >= 0) {
		m.msg_control = cm.b;
		m.msg_controllen = sizeof(cm.b);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	do
		w = sendmsg(ctl, &m, 0);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)iov.iov_len ? 0 : -1;
}

static void sock_opts(int fd)
{
	int v = VPORT_SOCK_BUF;

	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* The hello line is in: make the VM's socketpair and its port. */
static void attach(struct vport_conn *c, const char *line)
{
	struct vport_server *s = c->s;
	struct err e = ERR_INIT;
	_cleanup_buf_ struct buf msg = BUF_INIT;
	uint8_t mac[6];
	int sv[2] = {-1, -1}, ctl = -1, rc;
	uv_os_fd_t ofd;

	if (uv_fileno((uv_handle_t *)&c->ctl, &ofd) < 0) {
		conn_close(c);
		return;
	}
	ctl = (int)ofd;
	if (vswitch_mac_parse(line, mac, &e) < 0) {
		rc = -EINVAL;
	} else if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
		rc = err_sys(&e, "socketpair");
	} else {
		sock_opts(sv[0]);
		sock_opts(sv[1]);
		fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
		pthread_mutex_lock(&s->lock);
		rc = vswitch_port_add(&s->sw, mac, &c->port, &e);
		if (rc == 0)
			s->ports[c->port] = c;
		c->fd = sv[0]; /* before the lock drops: deliver() may use it */
		pthread_mutex_unlock(&s->lock);
	}
	if (rc < 0) {
		buf_printf(&msg, "error %s\n", e.msg);
		reply(ctl, buf_str(&msg), -1);
		if (sv[1] >= 0)
			close(sv[1]);
		conn_close(c);
		return;
	}
	rc = reply(ctl, "ok\n", sv[1]);
	close(sv[1]); /* the runtime has its copy, or the port is useless */
	if (rc < 0 || uv_poll_init(s->loop, &c->poll, c->fd) < 0) {
		conn_close(c);
		return;
	}
	c->handles++;
	c->poll.data = c;
	if (uv_poll_start(&c->poll, UV_READABLE, on_frames) < 0)
		conn_close(c);
}

static void ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct vport_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->rx + c->rxn, (unsigned)(sizeof(c->rx) - c->rxn));
}

static void ctl_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct vport_conn *c = st->data;
	char *nl;

	(void)b;
	if (n == 0)
		return;
	/* EOF or error: the runtime is gone; anything after the hello breaks
	 * the protocol: either way the port ends */
	if (n < 0 || c->port || c->fd >= 0) {
		conn_close(c);
		return;
	}
	c->rxn += (size_t)n;
	if (!(nl = memchr(c->rx, '\n', c->rxn))) {
		uv_os_fd_t ctl;
		if (c->rxn == sizeof(c->rx)) {
			if (uv_fileno((uv_handle_t *)&c->ctl, &ctl) == 0)
				reply((int)ctl, "error hello too long\n", -1);
			conn_close(c);
		}
		return;
	}
	if ((size_t)(nl - c->rx) + 1 != c->rxn) {
		conn_close(c); /* bytes after the line: not our client */
		return;
	}
	*nl = '\0';
	attach(c, c->rx);
}

static void on_conn(uv_stream_t *lsn, int status)
{
	struct vport_server *s = lsn->data;
	struct vport_conn *c;

	if (status < 0 || s->closing)
		return;
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->fd = -1;
	c->handles = 1;
	uv_pipe_init(s->loop, &c->ctl, 0);
	c->ctl.data = c;
	c->next = s->conns;
	s->conns = c;
	s->refs++;
	if (uv_accept(lsn, (uv_stream_t *)&c->ctl) < 0 ||
	    uv_read_start((uv_stream_t *)&c->ctl, ctl_alloc, ctl_read) < 0)
		conn_close(c);
}

static void lsn_closed(uv_handle_t *h)
{
	server_unref(h->data);
}

int vport_server_start(uv_loop_t *loop, const char *path, size_t frame_max,
		       const struct vport_uplink *up, struct vport_server **out, struct err *e)
{
	struct vport_server *s;
	int rc;

	if (strlen(path) >= SUN_PATH_MAX)
		return err_set(e, -ENAMETOOLONG, "socket path %s: too long", path);
	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->path = xstrdup(path);
	s->up = up ? *up : (struct vport_uplink){0};
	pthread_mutex_init(&s->lock, NULL);
	vswitch_init(&s->sw, frame_max);
	s->rxbuf = xmalloc(s->sw.frame_max + 1);
	s->refs = 1;
	uv_pipe_init(loop, &s->lsn, 0);
	s->lsn.data = s;
	unlink(path); /* a dead helper's: we hold the network's lock */
	if ((rc = uv_pipe_bind(&s->lsn, path)) < 0 ||
	    (rc = chmod(path, 0600) < 0 ? -errno : 0) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&s->lsn, 64, on_conn)) < 0) {
		err_set(e, rc, "listen on %s: %s", path, uv_strerror(rc));
		unlink(path);
		s->closing = true;
		uv_close((uv_handle_t *)&s->lsn, lsn_closed);
		return rc;
	}
	*out = s;
	return 0;
}

void vport_server_close(struct vport_server *s)
{
	struct vport_conn *c, *next;

	if (!s || s->closing)
		return;
	s->closing = true;
	unlink(s->path);
	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_close(c);
	}
	uv_close((uv_handle_t *)&s->lsn, lsn_closed);
}

/* --- the client --------------------------------------------------------------- */

static int connect_retry(const char *path, int timeout_ms, int *out, struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int fd;

	if (strlen(path) >= SUN_PATH_MAX || strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "socket path %s: too long", path);
	memcpy(sa.sun_path, path, strlen(path));
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			return err_sys(e, "socket");
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			*out = fd;
			return 0;
		}
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || now_ms() >= deadline)
			return err_sys(e, "connect to the network helper at %s", path);
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
}

/* The reply: the text (NUL-terminated, at most cap - 1 bytes) and any fd. */
static int recv_reply(int ctl, int timeout_ms, char *text, size_t cap, int *fd, struct err *e)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {text, cap - 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	struct pollfd p = {.fd = ctl, .events = POLLIN};
	ssize_t n;
	int r;

	*fd = -1;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return r < 0 ? err_sys(e, "wait for the network helper")
			     : err_set(e, -ETIMEDOUT, "the network helper did not answer");
	memset(&cm, 0, sizeof(cm));
	while ((n = recvmsg(ctl, &m, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return err_sys(e, "read from the network helper");
	text[n] = '\0';
	/* one header is all we ask for (musl's CMSG_NXTHDR trips
	 * -Wsign-compare); any extra fd in it is closed */
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len >= CMSG_LEN(sizeof(int))) {
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (i == 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (*fd >= 0)
		fcntl(*fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

int vport_open(const char *path, const char *mac, int timeout_ms, int *fd, int *ctl, struct err *e)
{
	_cleanup_buf_ struct buf hello = BUF_INIT;
	char text[256];
	uint8_t m[6];
	int c = -1, got = -1, rc;

	*fd = *ctl = -1;
	if ((rc = vswitch_mac_parse(mac, m, e)) < 0)
		return err_wrap(e, "MAC %s", mac);
	buf_printf(&hello, "%s\n", mac);
	if ((rc = connect_retry(path, timeout_ms, &c, e)) < 0)
		return rc;
	if ((rc = fs_write_full(c, hello.data, hello.len, e)) < 0 ||
	    (rc = recv_reply(c, timeout_ms > 0 ? timeout_ms : 1000, text, sizeof(text), &got, e)) <
		0) {
		close(c);
		return rc;
	}
	if (strcmp(text, "ok\n") != 0 || got < 0) {
		/* the helper's sentence, printable bytes only */
		size_t n = strcspn(text, "\n");
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
				text[i] = '?';
		text[n] = '\0';
		if (got >= 0)
			close(got);
		close(c);
		return err_set(e, -EIO, "the network helper refused the VM's port: %s",
			       strncmp(text, "error ", 6) == 0 ? text + 6 : text);
	}
	*fd = got;
	*ctl = c;
	return 0;
}

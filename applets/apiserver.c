/* The container-apiserver role (issue #6): one per user, serving the Docker
 * Engine API over HTTP/1.1 on $RUN/container.sock with a libuv loop.
 *
 * Started by `container system start` (applets/system.c), which runs this
 * role without --foreground: the socket is bound and the lock taken first,
 * so "already running" and bad paths are reported to the caller, then the
 * process daemonizes (double fork, setsid, stdio to $DATA/apiserver.log)
 * and writes $RUN/apiserver.pid.
 *
 * Every client is hostile until proven otherwise: only the server's own
 * user (and root) may connect (peer credentials), each connection holds at
 * most one request head (64 KiB) plus one body (8 MiB) of input and stops
 * being read while its answers are not taken (a PUT of an archive is the
 * exception: its body is streamed to the handler, api_streams_body in
 * api_router.h), a connection without a complete request for the idle
 * timeout is dropped, as is one whose request head is not complete within
 * the header timeout of its first byte (slowloris; also a head pipelined
 * behind an answered request), and past --max-connections new clients are
 * closed at once.  Requests are parsed
 * by applets/api_http.c and answered by applets/api_router.c.
 *
 * Most answers are complete when their handler returns.  The others (a
 * start waiting for the VM, /wait, followed logs, attach and exec streams)
 * keep the connection (api_call_take in api_router.h): parsing of further
 * requests on it pauses, its idle timer stops, and a hijacked one passes
 * every byte the client sends, and its half-close, to the handler's owner.
 * Containers' live state (runtime links) is applets/api_ctr.c's, made at
 * start with a reconcile pass over the bundles on disk. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_ctrcache.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/apiserver.h"
#include "applets/applets.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"

#define READ_CHUNK (64 * 1024)
/* Stop reading a client whose unread answers exceed this. */
#define WRITE_QUEUE_MAX ((size_t)1 << 20)
/* After an answer that ends the connection, what the client still sends
 * is read and dropped for this long, so that it sees the answer rather
 * than a reset. */
#define LINGER_MS 1000

struct server {
	uv_loop_t *loop;
	uv_pipe_t listener;
	uv_signal_t sigterm, sigint;
	uv_timer_t log_timer;    /* daemonized: the log's size bound */
	bool daemon;
	struct api_ctx ctx;
	struct buf data_dir, run_dir, sock_path, pid_path, lock_path;
	int listen_fd, lock_fd;
	unsigned max_conns;
	uint64_t idle_ms, head_ms;
	size_t log_max;   /* the log's rotation bound, read once */
	int stopping;
	struct conn *conns;
	char rbuf[READ_CHUNK];   /* every read lands here first, then is copied */
};

struct conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_shutdown_t shut;
	struct server *srv;
	struct conn *prev, *next;
	struct buf in;           /* bytes received and not yet answered */
	size_t scan;             /* head terminator searched up to here */
	int have_head;
	size_t head_len;
	struct api_req req;
	struct api_chunked ch;
	int reading, closing, open_handles;
	/* kept by a handler (api_call_take): its ops and their argument */
	int taken, hijacked, in_handler, done_pending, done_keepalive, paused;
	int streamed;            /* the handler reads this request's body (api_streams_body) */
	const struct api_stream_ops *ops;
	void *ud;
};

struct wreq {
	uv_write_t w;
	struct conn *c;
	char *data;
};

/* ---- per-OS: who is at the other end of a unix socket ---- */

static int peer_uid(int fd, uid_t *uid)
{
#ifdef __APPLE__
	gid_t gid;

	return getpeereid(fd, uid, &gid);
#else
	struct ucred cr;
	socklen_t n = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) < 0)
		return -1;
	*uid = cr.uid;
	return 0;
#endif
}

/* ---- connections ---- */

static void on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles > 0)
		return;
	buf_free(&c->in);
	free(c);
}

/* The owner of a kept connection forgets it (once). */
static void conn_orphan(struct conn *c)
{
	const struct api_stream_ops *ops = c->ops;

	c->ops = NULL;
	c->taken = 0;
	if (ops && ops->closed)
		ops->closed(c->ud);
}

static void conn_close(struct conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	conn_orphan(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->srv->ctx.connections--;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_timer(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (!c->closing)
		log_debug("dropping a client idle for %llu ms", (unsigned long long)c->srv->idle_ms);
	conn_close(c);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
	struct conn *c = s->data;

	/* The write side is done; linger briefly reading what is left. */
	if (status < 0 || uv_is_closing((uv_handle_t *)&c->pipe))
		conn_close(c);
	else
		uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
}

/* End the connection once the queued answers are written. */
static void conn_finish(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->shut.data = c;
	if (uv_shutdown(&c->shut, (uv_stream_t *)&c->pipe, on_shutdown) < 0)
		conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void process(struct conn *c);

static void resume_reading(struct conn *c)
{
	if (c->reading || c->closing)
		return;
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	c->reading = 1;
	if (!c->taken)
		process(c);
}

static void on_write(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct conn *c = r->c;

	free(r->data);
	free(r);
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->taken) {
		if (c->ops && c->ops->drain &&
		    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < API_CONN_QUEUE_MAX)
			c->ops->drain(c->ud);
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < WRITE_QUEUE_MAX)
		resume_reading(c);
}

static void send_out(struct conn *c, struct buf *out)
{
	struct wreq *r;
	size_t n = out->len;
	uv_buf_t b;

	if (n == 0 || uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->data = buf_steal(out);
	b = uv_buf_init(r->data, (unsigned)n);
	if (uv_write(&r->w, (uv_stream_t *)&c->pipe, &b, 1, on_write) < 0) {
		free(r->data);
		free(r);
		conn_close(c);
	}
}

/* Refuse the request with status and end the connection. */
static void conn_fail(struct conn *c, int status, const char *msg)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	log_debug("refused a request: %d %s", status, msg);
	api_write_error(&out, status, msg, 0, 0);
	send_out(c, &out);
	conn_finish(c);
}

/* Is a whole request (head and body) in c->in?  1 with *body, *body_len
 * and *used set; 0 for more; -1 after refusing it. */
static int request_ready(struct conn *c, const char **body, size_t *body_len, size_t *used)
{
	struct err e = ERR_INIT;
	int st, rc;

	if (!c->have_head) {
		if (!api_http_head_end(c->in.data, c->in.len, c->scan) && c->in.len < API_HEAD_MAX) {
			/* Cheap early refusal of what cannot be HTTP (a TLS hello). */
			rc = api_http_parse(c->in.data, c->in.len < 1 ? 0 : 1, &c->req, &st, &e);
			c->scan = c->in.len;
			if (rc < 0 && rc != -EAGAIN) {
				conn_fail(c, st, e.msg);
				return -1;
			}
			return 0;
		}
		rc = api_http_parse(c->in.data, c->in.len, &c->req, &st, &e);
		if (rc == -EAGAIN) {
			c->scan = c->in.len;
			return 0;
		}
		if (rc < 0) {
			conn_fail(c, st, e.msg);
			return -1;
		}
		c->have_head = 1;
		c->head_len = (size_t)rc;
		/* the body gets the idle timeout from here */
		uv_timer_start(&c->timer, on_timer, c->srv->idle_ms, 0);
		memset(&c->ch, 0, sizeof(c->ch));
		c->streamed = api_streams_body(&c->req);
	}
	*body = c->in.data + c->head_len;
	if (c->streamed) {
		*body_len = 0;
		*used = c->head_len;
		return 1;
	}
	switch (c->req.body) {
	case API_BODY_NONE:
		*body_len = 0;
		*used = c->head_len;
		return 1;
	case API_BODY_LENGTH:
		if (c->in.len - c->head_len < c->req.content_length)
			return 0;
		*body_len = (size_t)c->req.content_length;
		*used = c->head_len + *body_len;
		return 1;
	case API_BODY_CHUNKED:
		rc = api_chunked_step(&c->ch, c->in.data + c->head_len, c->in.len - c->head_len,
				      API_BODY_MAX, &e);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			conn_fail(c, rc == -EFBIG ? 413 : 400, e.msg);
			return -1;
		}
		*body_len = c->ch.out;
		*used = c->head_len + c->ch.raw;
		return 1;
	}
	return 0;
}

/* Answer every complete request buffered, in order. */
static void process(struct conn *c)
{
	const char *body;
	size_t body_len, used;
	int keepalive, st;

	while (!c->closing && !c->taken && c->reading && c->in.len > 0) {
		_cleanup_buf_ struct buf out = BUF_INIT;

		if (request_ready(c, &body, &body_len, &used) <= 0)
			return;
		/* Parsed again: growing c->in may have moved the bytes the first
		 * parse pointed into (same bytes, same result). */
		api_http_parse(c->in.data, c->head_len, &c->req, &st, NULL);
		keepalive = c->req.keepalive && !c->srv->stopping && !c->streamed;
		c->in_handler = 1;
		api_handle(&c->srv->ctx, (struct api_conn *)c, &c->req, body, body_len, &keepalive,
			   &out);
		log_debug("%s %.*s -> %.3s", c->req.method,
			  (int)(c->req.target_len > 200 ? 200 : c->req.target_len), c->req.target,
			  out.len > 12 ? out.data + 9 : "-");
		c->in_handler = 0;
		send_out(c, &out);
		buf_consume(&c->in, used);
		c->have_head = 0;
		c->scan = 0;
		if (c->closing)
			return;
		if (c->taken) {
			uv_timer_stop(&c->timer);
			/* stdin sent right behind the request head */
			if (c->hijacked && c->in.len && c->ops && c->ops->data) {
				_cleanup_buf_ struct buf early = BUF_INIT;
				buf_append(&early, c->in.data, c->in.len);
				buf_reset(&c->in);
				c->ops->data(c->ud, early.data, early.len);
			}
			return;
		}
		if (c->done_pending) {
			c->done_pending = 0;
			keepalive = keepalive && c->done_keepalive;
		}
		/* the start of a next head, pipelined behind this request, has
		 * the head's deadline from now (on_read arms it only on an empty
		 * buffer) */
		uv_timer_start(&c->timer, on_timer,
			       c->in.len && c->srv->head_ms < c->srv->idle_ms ? c->srv->head_ms
									: c->srv->idle_ms,
			       0);
		if (!keepalive) {
			conn_finish(c);
			return;
		}
		/* A client that pipelines without reading answers waits. */
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >= WRITE_QUEUE_MAX) {
			uv_read_stop((uv_stream_t *)&c->pipe);
			c->reading = 0;
		}
	}
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = s->data;

	if (nread == UV_EOF && c->taken && c->hijacked) {
		/* half-close: the client's input ended, our output goes on */
		uv_read_stop(s);
		c->reading = 0;
		if (c->ops && c->ops->eof)
			c->ops->eof(c->ud);
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->closing)
		return;
	if (c->taken && c->hijacked) {
		if (c->ops && c->ops->data)
			c->ops->data(c->ud, b->base, (size_t)nread);
		return;
	}
	/* The first byte of a request starts its head's deadline (slowloris:
	 * a head trickled in byte by byte is cut after head_ms). */
	if (!c->taken && !c->have_head && c->in.len == 0 && c->srv->head_ms < c->srv->idle_ms)
		uv_timer_start(&c->timer, on_timer, c->srv->head_ms, 0);
	if (buf_append(&c->in, b->base, (size_t)nread) < 0) {
		/* Only a body can get here: a head is refused at 64 KiB. */
		conn_fail(c, 413, "request too large");
		return;
	}
	process(c);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct server *srv = l->data;
	struct conn *c;
	uv_os_fd_t fd;
	uid_t uid;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	uv_pipe_init(srv->loop, &c->pipe, 0);
	uv_timer_init(srv->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->open_handles = 2;
	buf_init(&c->in, API_HEAD_MAX + API_BODY_MAX + READ_CHUNK);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->ctx.connections++;
	if (uv_accept(l, (uv_stream_t *)&c->pipe) < 0) {
		conn_close(c);
		return;
	}
	if (srv->ctx.connections > srv->max_conns) {
		log_warn("refusing a client: %u connections open", srv->max_conns);
		conn_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || peer_uid(fd, &uid) < 0 ||
	    (uid != geteuid() && uid != 0)) {
		log_warn("refusing a client of another user");
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timer, srv->idle_ms, 0);
	resume_reading(c);
}

/* ---- connections kept by handlers (api_router.h) ---- */

struct api_conn *api_call_take(struct api_call *call, const struct api_stream_ops *ops, void *ud,
			       int hijack)
{
	struct conn *c = (struct conn *)call->conn;

	c->taken = 1;
	c->hijacked = hijack;
	c->ops = ops;
	c->ud = ud;
	c->done_pending = 0;
	/* the head the handler wrote goes first */
	send_out(c, call->out);
	buf_reset(call->out);
	return call->conn;
}

void api_conn_write(struct api_conn *k, const void *p, size_t n)
{
	struct conn *c = (struct conn *)k;
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (!n || c->closing)
		return;
	buf_append(&b, p, n);
	send_out(c, &b);
}

size_t api_conn_queued(const struct api_conn *k)
{
	const struct conn *c = (const struct conn *)k;

	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

void api_conn_read(struct api_conn *k, int on)
{
	struct conn *c = (struct conn *)k;

	if (!c->taken || !c->hijacked || c->closing)
		return;
	if (!on && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
		c->paused = 1;
	} else if (on && c->paused) {
		c->paused = 0;
		if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
			c->reading = 1;
	}
}

void api_conn_end_chunked(struct api_conn *k, int keepalive)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	api_write_chunk(&b, NULL, 0);
	api_conn_write(k, b.data, b.len);
	api_conn_done(k, keepalive);
}

void api_conn_done(struct api_conn *k, int keepalive)
{
	struct conn *c = (struct conn *)k;

	c->ops = NULL;
	c->ud = NULL;
	if (c->in_handler) {
		/* process() is still on this request: it finishes it */
		c->taken = 0;
		c->done_pending = 1;
		c->done_keepalive = keepalive && !c->hijacked;
		return;
	}
	c->taken = 0;
	if (c->closing)
		return;
	if (!keepalive || c->hijacked || c->srv->stopping) {
		conn_finish(c);
		return;
	}
	uv_timer_start(&c->timer, on_timer, c->srv->idle_ms, 0);
	if (!c->reading)
		resume_reading(c);
	else
		process(c);
}

/* ---- start-up and shut-down ---- */

static void on_signal(uv_signal_t *s, int signum)
{
	struct server *srv = s->data;
	struct conn *c, *next;

	log_info("signal %d: shutting down", signum);
	srv->stopping = 1;
	uv_close((uv_handle_t *)&srv->listener, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	if (srv->daemon)
		uv_close((uv_handle_t *)&srv->log_timer, NULL);
	/* the runtimes run on: only our handles on them go */
	api_sup_shutdown(srv->ctx.sup);
	/* Answers are written synchronously into queues: end each connection
	 * once its queue is flushed. */
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->closing)
			conn_close(c);
		else
			conn_finish(c);
	}
}

/* Bind the listening socket, replacing a stale socket file but never a
 * live server's. */
static int listen_socket(const char *path, int *out, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1, probe = -1;
	struct stat st;
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "socket path %s is longer than %zu bytes", path,
			       sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return err_sys(e, "socket");
	if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return err_set(e, -EADDRINUSE, "another API server is listening on %s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(e, -EEXIST, "%s exists and is not a socket", path);
		if (unlink(path) < 0)
			return err_sys(e, "remove stale socket %s", path);
		log_info("removed stale socket %s", path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return err_sys(e, "socket");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* The socket is created 0600: no window where others may connect. */
	old = umask(077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0)
		return err_sys(e, "bind %s", path);
	if (chmod(path, 0600) < 0 || listen(fd, 128) < 0)
		return err_sys(e, "listen on %s", path);
	*out = fd;
	fd = -1;
	return 0;
}

static int prepare(struct server *srv, struct err *e)
{
	int rc;

	if (paths_data_dir(&srv->data_dir, e) < 0 || paths_run_dir(&srv->run_dir, e) < 0)
		return -EINVAL;
	if ((rc = fs_mkdir_p(buf_str(&srv->data_dir), 0700, e)) < 0 ||
	    (rc = fs_mkdir_p(buf_str(&srv->run_dir), 0700, e)) < 0)
		return rc;
	if (chmod(buf_str(&srv->run_dir), 0700) < 0)
		return err_sys(e, "chmod %s", buf_str(&srv->run_dir));
	buf_printf(&srv->sock_path, "%s/" APISERVER_SOCKET, buf_str(&srv->run_dir));
	buf_printf(&srv->pid_path, "%s/" APISERVER_PIDFILE, buf_str(&srv->run_dir));
	buf_printf(&srv->lock_path, "%s/apiserver.lock", buf_str(&srv->run_dir));
	rc = fs_lock(buf_str(&srv->lock_path), LOCK_EX | LOCK_NB, &srv->lock_fd, e);
	if (rc == -EBUSY)
		return err_set(e, -EALREADY, "the API server is already running (socket %s)",
			       buf_str(&srv->sock_path));
	if (rc < 0)
		return rc;
	fcntl(srv->lock_fd, F_SETFD, FD_CLOEXEC);
	return listen_socket(buf_str(&srv->sock_path), &srv->listen_fd, e);
}

/* The daemon's log, $DATA/apiserver.log, is kept under APISERVER_LOG_MAX
 * (or $CONTAINER_API_LOG_MAX, tests): past it, it becomes apiserver.log.1
 * (replacing the previous one) and a new file takes its place on stdout
 * and stderr.  Checked at start and every LOG_CHECK_MS, so the two files
 * hold at most twice the bound plus what one interval writes. */
#define LOG_CHECK_MS 1000

static size_t log_max(void)
{
	const char *env = getenv("CONTAINER_API_LOG_MAX");
	long long v = env ? atoll(env) : 0;

	return v >= 1024 ? (size_t)v : APISERVER_LOG_MAX;
}

static void log_rotate_check(uv_timer_t *t)
{
	struct server *srv = t->data;
	_cleanup_buf_ struct buf path = BUF_INIT, old = BUF_INIT;
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0 || (size_t)st.st_size < srv->log_max)
		return;
	buf_printf(&path, "%s/" APISERVER_LOG, buf_str(&srv->data_dir));
	buf_printf(&old, "%s.1", buf_str(&path));
	if (rename(buf_str(&path), buf_str(&old)) < 0 ||
	    (fd = open(buf_str(&path), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return;   /* keep writing where we were */
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_info("log rotated: the previous one is %s", buf_str(&old));
}

/* The log, $DATA/apiserver.log, and /dev/null, opened (errors reach the
 * caller of `system start`); then made stdout/stderr and stdin. */
struct log_fds {
	int log, null;
};

static int log_open(struct server *srv, struct log_fds *f, struct err *e)
{
	_cleanup_buf_ struct buf log = BUF_INIT;

	buf_printf(&log, "%s/" APISERVER_LOG, buf_str(&srv->data_dir));
	if ((f->log = open(buf_str(&log), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return err_sys(e, "open %s", buf_str(&log));
	if ((f->null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		close(f->log);
		return err_sys(e, "open /dev/null");
	}
	return 0;
}

static void log_redirect(struct server *srv, struct log_fds *f)
{
	dup2(f->null, STDIN_FILENO);
	dup2(f->log, STDOUT_FILENO);
	dup2(f->log, STDERR_FILENO);
	close(f->null);
	close(f->log);
	srv->daemon = true;
}

/* Detach: the caller (system start) gets its exit status once the socket
 * listens; the server lives on in a grandchild without a terminal.
 * foreground (--foreground --log-file, a service manager): the log only. */
static int log_to_file(struct server *srv, bool foreground, struct err *e)
{
	struct log_fds f = { -1, -1 };
	pid_t pid;

	if (log_open(srv, &f, e) < 0)
		return e->code;
	if (!foreground) {
		if ((pid = fork()) < 0) {
			close(f.log);
			close(f.null);
			return err_sys(e, "fork");
		}
		if (pid > 0)
			_exit(EXIT_OK);
		setsid();
		if ((pid = fork()) < 0)
			_exit(EXIT_FAIL);
		if (pid > 0)
			_exit(EXIT_OK);
		if (chdir("/") < 0)
			_exit(EXIT_FAIL);
	}
	log_redirect(srv, &f);
	return 0;
}

static int serve(struct server *srv, struct err *e)
{
	char pid[32];
	int rc;

	srv->loop = uv_default_loop();
	srv->ctx.pid = (long)getpid();
	srv->ctx.started = time(NULL);
	srv->ctx.data_dir = buf_str(&srv->data_dir);
	srv->ctx.run_dir = buf_str(&srv->run_dir);
	srv->ctx.socket_path = buf_str(&srv->sock_path);
	snprintf(pid, sizeof(pid), "%ld\n", srv->ctx.pid);
	if ((rc = fs_write_atomic(buf_str(&srv->pid_path), pid, strlen(pid), 0600, e)) < 0)
		return rc;
	uv_pipe_init(srv->loop, &srv->listener, 0);
	srv->listener.data = srv;
	if ((rc = uv_pipe_open(&srv->listener, srv->listen_fd)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection)) < 0)
		return err_set(e, rc, "listen on %s: %s", srv->ctx.socket_path, uv_strerror(rc));
	srv->listen_fd = -1;
	uv_signal_init(srv->loop, &srv->sigterm);
	uv_signal_init(srv->loop, &srv->sigint);
	srv->sigterm.data = srv->sigint.data = srv;
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	/* image save and load workers wait on their clients as long as those
	 * take (applets/api_imgio.c, at most API_IMAGE_XFER_MAX): room for them
	 * beside pulls and creates in libuv's pool (made at its first use) */
	setenv("UV_THREADPOOL_SIZE", "16", 0);
	if (srv->daemon) {
		uv_timer_init(srv->loop, &srv->log_timer);
		srv->log_timer.data = srv;
		srv->log_max = log_max();
		log_rotate_check(&srv->log_timer);
		uv_timer_start(&srv->log_timer, log_rotate_check, LOG_CHECK_MS, LOG_CHECK_MS);
	}
	srv->ctx.sup = api_sup_new(srv->loop);
	api_sup_reconcile(srv->ctx.sup);
	log_info("listening on %s (pid %ld, API %s)", srv->ctx.socket_path, srv->ctx.pid,
		 API_VERSION);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	/* Removed before the lock is released, so a successor never sees ours. */
	unlink(srv->ctx.socket_path);
	unlink(buf_str(&srv->pid_path));
	api_exec_free_all(srv->ctx.sup);
	api_events_free(srv->ctx.sup);
	api_ctrcache_free(srv->ctx.sup);
	api_sup_free(srv->ctx.sup);
	uv_loop_close(srv->loop);
	log_info("stopped after %lu requests", srv->ctx.requests);
	return 0;
}

struct apiserver_cli {
	int foreground, log_file;
	long idle_timeout, max_conns, head_timeout;
};

static const struct apiserver_cli apiserver_defaults = { 0, 0, -1, 256, -1 };

static const struct opt apiserver_optv[] = {
	OPT_FLAG(0, "foreground", struct apiserver_cli, foreground,
		 "Stay in the foreground and log to stderr"),
	OPT_FLAG(0, "log-file", struct apiserver_cli, log_file,
		 "With --foreground: log to <data>/apiserver.log (a service manager's way)"),
	OPT_INT(0, "idle-timeout", struct apiserver_cli, idle_timeout, "SECONDS",
		"Drop a client without a complete request for this long (default 60, or "
		"$CONTAINER_API_IDLE_TIMEOUT)"),
	OPT_INT(0, "header-timeout", struct apiserver_cli, head_timeout, "SECONDS",
		"Drop a client whose request head is not complete this long after its "
		"first byte (default 10, or $CONTAINER_API_HEADER_TIMEOUT)"),
	OPT_INT(0, "max-connections", struct apiserver_cli, max_conns, "N",
		"Clients served at once (default 256)"),
	OPT_END,
};

static int apiserver_run(const struct cmd *cmd, void *o, int argc, char **argv)
{
	const struct apiserver_cli *a = o;
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct err e = ERR_INIT;
	const char *env = getenv("CONTAINER_API_IDLE_TIMEOUT");
	long idle = a->idle_timeout >= 0 ? a->idle_timeout : env ? atol(env) : 60;
	const char *henv = getenv("CONTAINER_API_HEADER_TIMEOUT");
	long head = a->head_timeout >= 0 ? a->head_timeout : henv ? atol(henv) : 10;
	int rc;

	(void)cmd;
	(void)argc;
	(void)argv;
	if (idle <= 0 || idle > 86400 || head <= 0 || head > 86400 || a->max_conns < 1 ||
	    a->max_conns > 65536) {
		fprintf(stderr, "container apiserver: --idle-timeout and --header-timeout must be "
				"1..86400 and --max-connections 1..65536\n");
		free(srv);
		return EXIT_USAGE;
	}
	srv->idle_ms = (uint64_t)idle * 1000;
	srv->head_ms = (uint64_t)head * 1000;
	srv->max_conns = (unsigned)a->max_conns;
	srv->listen_fd = srv->lock_fd = -1;
	rc = prepare(srv, &e);
	if (rc == 0 && (!a->foreground || a->log_file)) {
		/* the daemon's log says at least what it does (info);
		 * --debug or CONTAINER_LOG=debug (lib/cmd.c) add every request */
		struct log_config lc = { "container-apiserver", log_level(), STDERR_FILENO, 1 };

		if (lc.level < LOG_INFO)
			lc.level = LOG_INFO;

		rc = log_to_file(srv, a->foreground, &e);
		log_init(&lc);
	}
	if (rc == 0)
		rc = serve(srv, &e);
	if (rc < 0)
		fprintf(stderr, "container apiserver: %s\n", e.msg);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->lock_fd >= 0)
		close(srv->lock_fd);
	buf_free(&srv->data_dir);
	buf_free(&srv->run_dir);
	buf_free(&srv->sock_path);
	buf_free(&srv->pid_path);
	buf_free(&srv->lock_path);
	free(srv);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

const struct cmd cmd_apiserver = {
	.name = "apiserver",
	.summary = "Role: the per-user API server (Docker Engine API on a unix socket)",
	.usage = "[--foreground] [--log-file] [--idle-timeout SECONDS] [--header-timeout SECONDS]\n"
		 "       [--max-connections N]",
	.help = "Serves the Docker Engine API (1.24-1.45) on <run>/container.sock.  Without\n"
		"--foreground it detaches once the socket listens, logs to\n"
		"<data>/apiserver.log and writes its pid to <run>/apiserver.pid.  Normally\n"
		"started by 'container system start'.",
	.opts = apiserver_optv,
	.opts_size = sizeof(struct apiserver_cli),
	.opts_defaults = &apiserver_defaults,
	.max_args = 0,
	.run = apiserver_run,
};

/* The runtime role's clients (protocol in applets/runtime.h): the
 * --attach-fd client (slot 0, the foreground `run`) and up to
 * RUNTIME_SOCKET_CLIENTS_MAX more on $RUN/runtime-<id12>.sock (exec, stop,
 * kill, stats; later the API server).  Every client past HELLO gets the
 * main process's output and exit; exec'd processes' frames go to the
 * client that created them only (applets/runtime_streams.c maps the ids).
 * Clients are untrusted too: every frame is decoded with the bounded codec
 * and only host-side requests are forwarded.  Called from
 * applets/runtime_io.c (guest frames) and applets/runtime.c (set-up,
 * finish). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/runtime.h"
#include "applets/runtime_int.h"
#include "initrd/agent.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"

#define READ_CHUNK (64u << 10)
#define CLIENT_DRAIN_MS 5000    /* at the end: a client making no progress */

static void client_flow(struct rt_client *c);

static size_t bound(const struct rt_client *c)
{
	return c->attach_fd ? RUNTIME_CLIENT_QUEUE_MAX : RUNTIME_SOCKET_QUEUE_MAX;
}

static void put_error(struct rt_client *c, uint32_t stream, int code, const char *msg)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (agent_put_error(&b, stream, code, msg, &e) == 0)
		runtime__to_client(c, &b);
}

/* The payload of f verbatim (already validated by the decoder) under a
 * new stream id. */
static void relay(struct buf *b, const struct agent_frame *f, uint32_t stream)
{
	struct err e = ERR_INIT;

	if (agent_put_raw(b, f->type, stream, f->flags, f->payload, f->len, &e) < 0)
		buf_reset(b);
}

/* --- lifetime ------------------------------------------------------------- */

static void client_freed(uv_handle_t *h)
{
	struct rt_client *c = h->data;

	/* two handles (pipe, timer): the second close frees */
	if (c->slot >= 0) {
		c->slot = -1;
		return;
	}
	buf_free(&c->rx);
	free(c);
}

static void on_stall(uv_timer_t *t)
{
	struct rt_client *c = t->data;

	log_warn("runtime: client %d does not read: detaching it", c->slot);
	runtime__client_close(c);
}

static struct rt_client *client_new(struct rt *rt, int slot)
{
	struct rt_client *c = xcalloc(1, sizeof(*c));

	c->rt = rt;
	c->slot = slot;
	buf_init(&c->rx, AGENT_FRAME_MAX);
	uv_pipe_init(&rt->loop, &c->pipe, 0);
	c->pipe.data = c;
	uv_timer_init(&rt->loop, &c->stall);
	c->stall.data = c;
	return c;
}

void runtime__client_close(struct rt_client *c)
{
	struct rt *rt = c->rt;
	int slot = c->slot;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (!c->open)
		return;
	c->open = false;
	c->reading = false;
	rt->clients[slot] = NULL;
	/* its exec'd processes run on, as docker exec's do when the client
	 * goes away; their stdin ends and their output is dropped */
	for (size_t i = 0; i < RT_EXEC_MAX; i++) {
		struct rt_exec *x = &rt->streams.v[i];
		if (!x->used || x->owner != slot)
			continue;
		if (x->start_sent && agent_put_raw(&b, AGENT_CLOSE_STDIN, x->guest, 0, NULL, 0, &e) == 0)
			runtime__to_guest(rt, &b);
		if (x->start_sent)
			x->owner = -1;
		else
			runtime__streams_del(&rt->streams, x);   /* never started */
	}
	for (unsigned i = 0; i < rt->stats_n; i++)
		if (rt->stats_fifo[i] == slot)
			rt->stats_fifo[i] = -1;
	uv_close((uv_handle_t *)&c->pipe, client_freed);
	uv_close((uv_handle_t *)&c->stall, client_freed);
	/* detaching the creator (run) ends the workload's stdin */
	if (c->attach_fd)
		runtime__close_stdin(rt);
	runtime__guest_flow(rt);
}

bool runtime__clients_full(const struct rt *rt)
{
	for (int i = 0; i < RT_CLIENTS_MAX; i++) {
		const struct rt_client *c = rt->clients[i];
		if (c && c->open && c->queued > bound(c))
			return true;
	}
	return false;
}

/* A socket client over its bound holds the guest back for at most
 * RUNTIME_CLIENT_STALL_MS, then is detached; the --attach-fd client (a
 * terminal) holds it back as long as it is connected, as before. */
void runtime__client_queued(struct rt_client *c)
{
	struct rt *rt = c->rt;

	if (c->attach_fd || c->stalled || rt->vm_ended || rt->finished || c->queued <= bound(c))
		return;
	c->stalled = true;
	uv_timer_start(&c->stall, on_stall, RUNTIME_CLIENT_STALL_MS, 0);
}

void runtime__client_wrote(struct rt_client *c)
{
	struct rt *rt = c->rt;

	if (!c->open)
		return;
	if (rt->vm_ended || rt->finished) {
		/* progress: the drain deadline starts over */
		uv_timer_again(&c->stall);
	} else if (c->stalled && c->queued <= bound(c)) {
		c->stalled = false;
		uv_timer_stop(&c->stall);
	}
}

/* --- frames from a client ------------------------------------------------- */

static void hello_reply(struct rt_client *c, const struct agent_frame *f)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, NULL };
	_cleanup_buf_ struct buf b = BUF_INIT, name = BUF_INIT;
	struct err e = ERR_INIT;

	if (f->type != AGENT_HELLO) {
		put_error(c, 0, -EPROTO, "HELLO first");
		runtime__client_close(c);
		return;
	}
	if (f->u.hello.min_version > AGENT_VERSION || f->u.hello.max_version < AGENT_VERSION) {
		put_error(c, 0, -EPROTONOSUPPORT, "unsupported protocol version");
		runtime__client_close(c);
		return;
	}
	c->hello = true;
	buf_printf(&name, "container-runtime %s", container_version);
	h.agent = buf_str(&name);
	if (agent_put_hello(&b, &h, &e) == 0 &&
	    (!c->rt->started || agent_put_raw(&b, AGENT_OK, 1, 0, NULL, 0, &e) == 0))
		runtime__to_client(c, &b);
}

static void stream0_frame(struct rt_client *c, const struct agent_frame *f)
{
	struct rt *rt = c->rt;
	_cleanup_buf_ struct buf b = BUF_INIT;

	switch (f->type) {
	case AGENT_SHUTDOWN:
		/* kill: SIGKILL to the workload (status 137), then the VM ends */
		runtime__stop(rt, SIGKILL, 0);
		break;
	case AGENT_STATS:
		if (c->stats_pending) {
			put_error(c, 0, -EBUSY, "a STATS request is already pending");
			break;
		}
		if (rt->stats_n >= RT_CLIENTS_MAX) {
			put_error(c, 0, -EAGAIN, "too many STATS requests");
			break;
		}
		c->stats_pending = true;
		rt->stats_fifo[rt->stats_n++] = c->slot;
		relay(&b, f, 0);
		runtime__to_guest(rt, &b);
		break;
	default:
		put_error(c, 0, -ENOTSUP, "the runtime does not take this frame on stream 0");
	}
}

static void main_frame(struct rt_client *c, const struct agent_frame *f)
{
	struct rt *rt = c->rt;
	_cleanup_buf_ struct buf b = BUF_INIT;

	switch (f->type) {
	case AGENT_STDIN:
		if (rt->stdin_closed)
			return;
		if (f->flags & AGENT_FLAG_EOF)
			rt->stdin_closed = true;
		break;
	case AGENT_CLOSE_STDIN:
		runtime__close_stdin(rt);
		return;
	case AGENT_RESIZE:
	case AGENT_SIGNAL:
		break;
	default:
		put_error(c, 1, -ENOTSUP, "the runtime does not take this frame on stream 1");
		return;
	}
	relay(&b, f, 1);
	runtime__to_guest(rt, &b);
}

static void exec_frame(struct rt_client *c, const struct agent_frame *f)
{
	struct rt *rt = c->rt;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct rt_exec *x;
	uint32_t guest;
	int rc;

	switch (f->type) {
	case AGENT_CREATE:
	case AGENT_COPY:   /* docker cp: a process that is the guest init itself */
		rc = runtime__streams_add(&rt->streams, c->slot, f->stream, &guest);
		if (rc < 0) {
			put_error(c, f->stream, rc,
				  rc == -EEXIST ? "stream id in use" : "too many exec'd processes");
			return;
		}
		relay(&b, f, guest);
		runtime__to_guest(rt, &b);
		return;
	case AGENT_START:
	case AGENT_STDIN:
	case AGENT_RESIZE:
	case AGENT_SIGNAL:
	case AGENT_CLOSE_STDIN:
	case AGENT_WAIT:
		break;
	default:
		put_error(c, f->stream, -ENOTSUP, "the runtime does not take this frame");
		return;
	}
	if (!(x = runtime__streams_by_local(&rt->streams, c->slot, f->stream))) {
		put_error(c, f->stream, -ESRCH, "no such process");
		return;
	}
	if (f->type == AGENT_START)
		x->start_sent = true;
	relay(&b, f, x->guest);
	runtime__to_guest(rt, &b);
}

/* 0 = go on, 1 = keep the rest for later (the workload does not run yet). */
static int client_frame(struct rt_client *c, const struct agent_frame *f)
{
	if (!c->hello) {
		hello_reply(c, f);
		return 0;
	}
	if (!c->rt->started)
		return 1;
	if (f->type == AGENT_HELLO || f->type == AGENT_ERROR)
		return 0;   /* a repeated HELLO, a client's complaint: nothing to do */
	if (f->stream == 0)
		stream0_frame(c, f);
	else if (f->stream == 1)
		main_frame(c, f);
	else
		exec_frame(c, f);
	return 0;
}

static void client_process(struct rt_client *c)
{
	struct rt *rt = c->rt;
	size_t off = 0;

	while (c->open && rt->guest_queued <= RT_GUEST_QUEUE_MAX && !rt->finished) {
		struct agent_frame f;
		struct err e = ERR_INIT;
		size_t used = 0;
		int rc = agent_decode(c->rx.data + off, c->rx.len - off, &f, &used, &e);
		if (rc == 0)
			break;
		if (rc < 0) {
			put_error(c, 0, rc, e.msg);
			if (used == 0) {
				runtime__client_close(c);
				return;
			}
		} else if (client_frame(c, &f)) {
			break;
		}
		off += used;
	}
	if (c->open)
		buf_consume(&c->rx, off);
}

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
	struct rt_client *c = h->data;
	size_t room = AGENT_FRAME_MAX - c->rx.len;

	(void)hint;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if (room == 0 || buf_reserve(&c->rx, room) < 0) {
		*out = uv_buf_init(NULL, 0);
		return;
	}
	*out = uv_buf_init(c->rx.data + c->rx.len, (unsigned)room);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct rt_client *c = s->data;

	(void)b;
	if (n > 0) {
		c->rx.len += (size_t)n;
		c->rx.data[c->rx.len] = '\0';
		client_process(c);
		if (c->open)
			client_flow(c);
	} else if (n < 0) {
		runtime__client_close(c);
	}
}

/* Read a client before its HELLO, and after it only once the workload
 * runs (the guest refuses stdin before) and while the guest keeps up. */
static void client_flow(struct rt_client *c)
{
	struct rt *rt = c->rt;
	bool want;

	if (!c->open || rt->finished)
		return;
	want = !c->hello || (rt->started && rt->guest_queued <= RT_GUEST_QUEUE_MAX);
	if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	} else if (want && !c->reading) {
		client_process(c);
		if (!c->open)
			return;
		want = !c->hello || (rt->started && rt->guest_queued <= RT_GUEST_QUEUE_MAX);
		if (want && uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read) == 0)
			c->reading = true;
	}
}

void runtime__clients_flow(struct rt *rt)
{
	for (int i = 0; i < RT_CLIENTS_MAX; i++)
		if (rt->clients[i])
			client_flow(rt->clients[i]);
}

/* --- frames from the guest ------------------------------------------------ */

void runtime__clients_started(struct rt *rt)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	for (int i = 0; i < RT_CLIENTS_MAX; i++) {
		struct rt_client *c = rt->clients[i];
		/* the workload runs (run -d waits for it, then detaches) */
		if (c && c->open && c->hello && agent_put_raw(&b, AGENT_OK, 1, 0, NULL, 0, &e) == 0)
			runtime__to_client(c, &b);
	}
	if (!rt->clients[0])
		runtime__close_stdin(rt);   /* nobody will ever write it */
	runtime__clients_flow(rt);
}

void runtime__clients_main_frame(struct rt *rt, const struct agent_frame *f)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	for (int i = 0; i < RT_CLIENTS_MAX; i++) {
		struct rt_client *c = rt->clients[i];
		if (!c || !c->open || !c->hello)
			continue;
		relay(&b, f, 1);
		runtime__to_client(c, &b);
	}
}

void runtime__clients_guest_frame(struct rt *rt, const struct agent_frame *f)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct rt_client *c = NULL;
	struct rt_exec *x;

	if (f->type == AGENT_STATS_REPLY) {
		int slot;
		if (!rt->stats_n)
			return;   /* nobody asked */
		slot = rt->stats_fifo[0];
		memmove(rt->stats_fifo, rt->stats_fifo + 1, --rt->stats_n * sizeof(int));
		if (slot < 0 || !(c = rt->clients[slot]))
			return;
		c->stats_pending = false;
		relay(&b, f, 0);
		runtime__to_client(c, &b);
		return;
	}
	if (!(x = runtime__streams_by_guest(&rt->streams, f->stream)))
		return;
	if (x->owner >= 0)
		c = rt->clients[x->owner];
	if (c && c->open) {
		relay(&b, f, x->local);
		runtime__to_client(c, &b);
	}
	if (f->type == AGENT_OK && x->start_sent)
		x->started = true;
	/* an ERROR before it ran (CREATE or START failed), or its EXIT:
	 * the entry is done; the guest id is never reused */
	if (f->type == AGENT_EXIT || (f->type == AGENT_ERROR && !x->started))
		runtime__streams_del(&rt->streams, x);
}

/* --- set-up and the end ------------------------------------------------- */

int runtime__clients_attach_fd(struct rt *rt, int fd, struct err *e)
{
	struct rt_client *c = client_new(rt, 0);
	int rc;

	c->attach_fd = true;
	c->hello = true;   /* the runtime greeted it before the loop ran */
	rt->clients[0] = c;
	c->open = true;
	if ((rc = uv_pipe_open(&c->pipe, fd)) < 0)
		return err_set(e, rc, "--attach-fd %d: %s", fd, uv_strerror(rc));
	return 0;
}

static void refused_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct rt *rt = server->data;
	struct rt_client *c;
	int slot = -1;

	if (status < 0)
		return;
	for (int i = 1; i < RT_CLIENTS_MAX && slot < 0; i++)
		if (!rt->clients[i])
			slot = i;
	if (slot < 0 || rt->finished) {
		/* full: tell it why, then hang up */
		_cleanup_buf_ struct buf b = BUF_INIT;
		struct err e = ERR_INIT;
		uv_pipe_t *p = xmalloc(sizeof(*p));
		uv_pipe_init(&rt->loop, p, 0);
		if (uv_accept(server, (uv_stream_t *)p) == 0 &&
		    agent_put_error(&b, 0, -EUSERS, "too many clients of this container", &e) == 0) {
			uv_buf_t ub = uv_buf_init(b.data, (unsigned)b.len);
			uv_try_write((uv_stream_t *)p, &ub, 1);
		}
		uv_close((uv_handle_t *)p, refused_closed);
		return;
	}
	c = client_new(rt, slot);
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		c->open = true;
		rt->clients[slot] = c;
		runtime__client_close(c);
		return;
	}
	c->open = true;
	rt->clients[slot] = c;
	client_flow(c);
}

int runtime__clients_listen(struct rt *rt, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct sockaddr_un sa;
	size_t max = sizeof(sa.sun_path) < 104 ? sizeof(sa.sun_path) : 104;
	int rc;

	buf_init(&rt->sock_path, 0);
	if ((rc = paths_run_dir(&dir, e)) < 0 || (rc = fs_mkdir_p(buf_str(&dir), 0700, e)) < 0 ||
	    (rc = runtime_socket_path(rt->cfg.id, &rt->sock_path, e)) < 0)
		return err_wrap(e, "the runtime's socket");
	/* macOS's sun_path is 104 bytes: keep every platform to that */
	if (rt->sock_path.len >= max) {
		rc = err_set(e, -ENAMETOOLONG,
			     "the runtime's socket path %s is %zu bytes, more than a unix socket "
			     "allows (%zu): set CONTAINER_RUN_DIR to a shorter directory",
			     buf_str(&rt->sock_path), rt->sock_path.len, max - 1);
		buf_reset(&rt->sock_path);
		return rc;
	}
	/* a socket left by a runtime of this container that died: this
	 * container is ours now (runtime_run checked no runtime holds it) */
	unlink(buf_str(&rt->sock_path));
	uv_pipe_init(&rt->loop, &rt->listener, 0);
	rt->listener.data = rt;
	rt->listening = true;
	if ((rc = uv_pipe_bind(&rt->listener, buf_str(&rt->sock_path))) < 0) {
		err_set(e, rc, "bind %s: %s", buf_str(&rt->sock_path), uv_strerror(rc));
		buf_reset(&rt->sock_path);
		return rc;
	}
	if (chmod(buf_str(&rt->sock_path), 0600) < 0)
		return err_sys(e, "chmod %s", buf_str(&rt->sock_path));
	if ((rc = uv_listen((uv_stream_t *)&rt->listener, RUNTIME_SOCKET_CLIENTS_MAX,
			    on_connection)) < 0)
		return err_set(e, rc, "listen %s: %s", buf_str(&rt->sock_path), uv_strerror(rc));
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	(void)h;
}

void runtime__clients_unlisten(struct rt *rt)
{
	if (rt->sock_path.len) {
		unlink(buf_str(&rt->sock_path));
		buf_reset(&rt->sock_path);
	}
	if (rt->listening && !uv_is_closing((uv_handle_t *)&rt->listener))
		uv_close((uv_handle_t *)&rt->listener, listener_closed);
	rt->listening = false;
}

static void client_shut(uv_shutdown_t *req, int status)
{
	struct rt_client *c = req->data;

	(void)status;
	free(req);
	runtime__client_close(c);
}

void runtime__clients_drain(struct rt *rt)
{
	for (int i = 0; i < RT_CLIENTS_MAX; i++) {
		struct rt_client *c = rt->clients[i];
		if (c && c->open)
			uv_timer_start(&c->stall, on_stall, CLIENT_DRAIN_MS, CLIENT_DRAIN_MS);
	}
}

void runtime__clients_finish(struct rt *rt)
{
	runtime__clients_unlisten(rt);
	for (int i = 0; i < RT_CLIENTS_MAX; i++) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		struct err e = ERR_INIT;
		struct rt_client *c = rt->clients[i];
		uv_shutdown_t *req;
		int rc;

		if (!c || !c->open)
			continue;
		if (!c->hello) {
			runtime__client_close(c);
			continue;
		}
		rc = rt->got_exit ? agent_put_exit(&b, 1, rt->exit_status, rt->exit_signal, &e)
				  : agent_put_error(&b, 0, -EIO, rt->error, &e);
		if (rc == 0)
			runtime__to_client(c, &b);
		/* the shutdown completes after the queued writes: then close */
		req = xmalloc(sizeof(*req));
		req->data = c;
		if (uv_shutdown(req, (uv_stream_t *)&c->pipe, client_shut) < 0) {
			free(req);
			runtime__client_close(c);
		} else {
			/* a client that stops reading does not keep us alive */
			uv_timer_start(&c->stall, on_stall, CLIENT_DRAIN_MS, CLIENT_DRAIN_MS);
		}
	}
}

/* --- for clients: where the socket is ------------------------------------- */

int runtime_socket_path(const char *id, struct buf *out, struct err *e)
{
	int rc;

	if ((rc = paths_run_dir(out, e)) < 0)
		return rc;
	buf_printf(out, "/runtime-%.12s.sock", id);
	return 0;
}

int runtime_connect(const char *id, int flags, int *out_fd, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if ((rc = runtime_socket_path(id, &p, e)) < 0)
		return rc;
	if (p.len >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "socket path too long: %s", buf_str(&p));
	memcpy(sa.sun_path, p.data, p.len);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return err_sys(e, "socket");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (flags & RUNTIME_CONNECT_NONBLOCK)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			return err_set(e, -ESRCH, "container %.12s is not running", id);
		if (rc == -EAGAIN || rc == -EINPROGRESS)
			return err_set(e, -EBUSY, "container %.12s: its runtime is not answering", id);
		return err_set(e, rc, "connect %s: %s", buf_str(&p), strerror(-rc));
	}
	*out_fd = fd;
	return 0;
}

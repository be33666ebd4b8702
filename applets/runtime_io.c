/* The runtime role's guest channel on its libuv loop (untrusted: every
 * frame is decoded with the fuzzed codec into a bounded buffer), and the
 * write plumbing all channels share.  Memory is bounded both ways: guest
 * reads stop while a client's backlog is over its bound
 * (runtime__clients_full), client reads stop while more than
 * RT_GUEST_QUEUE_MAX wait for the guest.  The clients are in
 * applets/runtime_clients.c; set up and torn down by applets/runtime.c. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "applets/runtime.h"
#include "applets/runtime_int.h"
#include "initrd/agent.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vm/vm.h"

#define READ_CHUNK (64u << 10)
#define SKIP_LOG_MAX 10

/* A pending write.  cost counts the request's own memory too, so a guest
 * sending one-byte frames cannot hide memory from the bound. */
struct wreq {
	uv_write_t req;
	struct rt *rt;
	struct rt_client *client;   /* NULL: the guest */
	size_t *queued;
	size_t cost;
	char data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct rt *rt = w->rt;
	struct rt_client *c = w->client;

	(void)status; /* a failed write shows up as a read error/EOF */
	*w->queued -= w->cost;
	free(w);
	/* a closing client's cancelled writes come before its close callback,
	 * so c is still valid here */
	if (c)
		runtime__client_wrote(c);
	runtime__guest_flow(rt);
	runtime__clients_flow(rt);
}

/* Try to write at once (no allocation in the common case); queue the rest. */
static void send_buf(struct rt *rt, struct rt_client *c, uv_pipe_t *p, bool open, size_t *queued,
		     struct buf *b)
{
	uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
	size_t off = 0;
	struct wreq *w;
	int rc;

	if (!open || !b->len) {
		buf_reset(b);
		return;
	}
	if (*queued == 0) {
		rc = uv_try_write((uv_stream_t *)p, &ub, 1);
		if (rc > 0)
			off = (size_t)rc;
	}
	if (off < b->len) {
		size_t n = b->len - off;
		w = xmalloc(sizeof(*w) + n);
		memcpy(w->data, b->data + off, n);
		w->rt = rt;
		w->client = c;
		w->queued = queued;
		w->cost = sizeof(*w) + n;
		ub = uv_buf_init(w->data, (unsigned)n);
		if (uv_write(&w->req, (uv_stream_t *)p, &ub, 1, on_written) < 0)
			free(w);
		else
			*queued += w->cost;
	}
	buf_reset(b);
}

void runtime__to_guest(struct rt *rt, struct buf *b)
{
	send_buf(rt, NULL, &rt->guest, rt->guest_open, &rt->guest_queued, b);
}

void runtime__to_client(struct rt_client *c, struct buf *b)
{
	send_buf(c->rt, c, &c->pipe, c->open, &c->queued, b);
	if (c->open)
		runtime__client_queued(c);
}

void runtime__close_stdin(struct rt *rt)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (rt->stdin_closed || !rt->started)
		return;
	rt->stdin_closed = true;
	if (agent_put_raw(&b, AGENT_CLOSE_STDIN, 1, 0, NULL, 0, &e) == 0)
		runtime__to_guest(rt, &b);
}

/* --- the guest ---------------------------------------------------------- */

static void skip_frame(struct rt *rt, const char *what)
{
	/* a hostile guest must not be able to fill the disk with our log */
	if (++rt->skipped <= SKIP_LOG_MAX)
		log_warn("runtime: guest: %s (frame skipped)", what);
	else if (rt->skipped == SKIP_LOG_MAX + 1)
		log_warn("runtime: guest: more bad frames; no longer logging them");
}

static void on_hello(struct rt *rt, const struct agent_frame *f)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, "container-runtime" };
	_cleanup_buf_ struct buf b = BUF_INIT, doc = BUF_INIT;
	struct err e = ERR_INIT;

	if (rt->m[RT_M_HELLO]) {
		skip_frame(rt, "a second HELLO");
		return;
	}
	rt->m[RT_M_HELLO] = runtime__now();
	if (f->u.hello.min_version > AGENT_VERSION || f->u.hello.max_version < AGENT_VERSION) {
		runtime__fatal(rt, "the guest speaks agent protocol %u..%u, this runtime %u",
			       f->u.hello.min_version, f->u.hello.max_version, AGENT_VERSION);
		return;
	}
	log_debug("runtime: guest: %s", f->u.hello.agent);
	if (runtime__config_doc(rt, &doc, &e) < 0 || agent_put_hello(&b, &h, &e) < 0 ||
	    agent_put_raw(&b, AGENT_CONFIG, 0, 0, doc.data, doc.len, &e) < 0) {
		runtime__fatal(rt, "boot configuration: %s", e.msg);
		return;
	}
	runtime__to_guest(rt, &b);
}

static void on_data(struct rt *rt, const struct agent_frame *f)
{
	if (f->len)
		runtime__log_output(rt, f->type == AGENT_STDOUT ? "stdout" : "stderr", f->payload,
				    f->len);
	runtime__clients_main_frame(rt, f);
}

static void guest_frame(struct rt *rt, const struct agent_frame *f)
{
	if (f->stream > 1) {
		/* an exec'd process: to the client that made it */
		if (!runtime__streams_by_guest(&rt->streams, f->stream))
			skip_frame(rt, "a frame for a process we never created");
		else if (f->type == AGENT_OK || f->type == AGENT_ERROR || f->type == AGENT_EXIT ||
			 f->type == AGENT_STDOUT || f->type == AGENT_STDERR)
			runtime__clients_guest_frame(rt, f);
		else
			skip_frame(rt, agent_type_name(f->type));
		return;
	}
	switch (f->type) {
	case AGENT_HELLO:
		on_hello(rt, f);
		break;
	case AGENT_OK:
		if (f->stream != 0 || rt->started) {
			skip_frame(rt, "an unexpected OK");
			break;
		}
		rt->started = true;
		rt->m[RT_M_OK] = runtime__now();
		if (!rt->stopping)
			uv_timer_stop(&rt->timer);   /* the boot deadline */
		runtime__clients_started(rt);
		break;
	case AGENT_ERROR:
		if (!rt->started && f->stream == 0) {
			/* the guest could not start the workload; it powers off */
			if (!rt->error[0])
				snprintf(rt->error, sizeof(rt->error), "%s", f->u.error.message);
		} else {
			log_warn("runtime: guest reports: %s", f->u.error.message);
		}
		break;
	case AGENT_STDOUT:
	case AGENT_STDERR:
		if (f->stream == 1)
			on_data(rt, f);
		else
			skip_frame(rt, "output on stream 0");
		break;
	case AGENT_EXIT:
		if (f->stream != 1 || rt->got_exit) {
			skip_frame(rt, "an unexpected EXIT");
			break;
		}
		rt->got_exit = true;
		rt->exit_status = f->u.exit.status;
		rt->exit_signal = f->u.exit.signal;
		rt->m[RT_M_EXIT] = runtime__now();
		runtime__teardown(rt);
		break;
	case AGENT_STATS_REPLY:
		runtime__clients_guest_frame(rt, f);
		break;
	default:
		skip_frame(rt, agent_type_name(f->type));
		break;
	}
}

/* Decode and handle what grx holds, until it is empty or the client's
 * queue is full. */
static void guest_process(struct rt *rt)
{
	size_t off = 0;

	while (rt->guest_open && !rt->finished && !runtime__clients_full(rt)) {
		struct agent_frame f;
		struct err e = ERR_INIT;
		size_t used = 0;
		int rc = agent_decode(rt->grx.data + off, rt->grx.len - off, &f, &used, &e);
		if (rc == 0)
			break;
		if (rc < 0 && used == 0) {
			runtime__fatal(rt, "the guest broke the agent protocol: %s", e.msg);
			off = rt->grx.len;
			break;
		}
		if (rc < 0)
			skip_frame(rt, e.msg);
		else if (agent_type_from_host(f.type) && f.type != AGENT_HELLO && f.type != AGENT_ERROR)
			skip_frame(rt, "a host-only frame type");
		else
			guest_frame(rt, &f);
		off += used;
	}
	buf_consume(&rt->grx, off);
}

static void guest_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
	struct rt *rt = h->data;
	size_t room = AGENT_FRAME_MAX - rt->grx.len;

	(void)hint;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if (room == 0 || buf_reserve(&rt->grx, room) < 0) {
		*out = uv_buf_init(NULL, 0);   /* read returns UV_ENOBUFS */
		return;
	}
	*out = uv_buf_init(rt->grx.data + rt->grx.len, (unsigned)room);
}

static void guest_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct rt *rt = s->data;

	(void)b;
	if (n > 0) {
		rt->grx.len += (size_t)n;
		rt->grx.data[rt->grx.len] = '\0';
		guest_process(rt);
		runtime__guest_flow(rt);
	} else if (n < 0) {
		/* QEMU closed the channel: the VM is ending; vm_poll reports it */
		uv_read_stop(s);
		rt->guest_open = false;
		if (n != UV_EOF)
			log_debug("runtime: guest channel: %s", uv_strerror((int)n));
		if (rt->vm_ended)
			runtime__finish(rt);
	}
}

/* Pause or resume reading the guest by the clients' backlogs. */
void runtime__guest_flow(struct rt *rt)
{
	if (!rt->guest_open || rt->finished)
		return;
	if (runtime__clients_full(rt)) {
		if (!rt->guest_paused)
			uv_read_stop((uv_stream_t *)&rt->guest);
		rt->guest_paused = true;
	} else if (rt->guest_paused) {
		rt->guest_paused = false;
		guest_process(rt);
		if (runtime__clients_full(rt)) {
			rt->guest_paused = true;
			return;
		}
		uv_read_start((uv_stream_t *)&rt->guest, guest_alloc, guest_read);
	}
}

int runtime__io_start(struct rt *rt, int guest_fd, struct err *e)
{
	int rc;

	buf_init(&rt->grx, AGENT_FRAME_MAX);
	if ((rc = uv_pipe_init(&rt->loop, &rt->guest, 0)) < 0 ||
	    (rc = uv_pipe_open(&rt->guest, guest_fd)) < 0)
		return err_set(e, rc, "agent channel: %s", uv_strerror(rc));
	rt->guest.data = rt;
	rt->guest_open = true;
	if ((rc = uv_read_start((uv_stream_t *)&rt->guest, guest_alloc, guest_read)) < 0)
		return err_set(e, rc, "agent channel: %s", uv_strerror(rc));
	return 0;
}

void runtime__fatal(struct rt *rt, const char *fmt, ...)
{
	struct err e = ERR_INIT;
	va_list ap;

	if (!rt->error[0]) {
		va_start(ap, fmt);
		vsnprintf(rt->error, sizeof(rt->error), fmt, ap);
		va_end(ap);
	}
	/* stop listening to a guest that broke the protocol */
	if (rt->guest_open && !rt->guest_paused) {
		uv_read_stop((uv_stream_t *)&rt->guest);
		rt->guest_paused = true;
	}
	rt->guest_open = false;
	if (rt->vm_ended)
		runtime__finish(rt);
	else if (rt->vm)
		vm_kill(rt->vm, &e);
}

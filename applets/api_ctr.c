/* The API server's links to container runtimes (see applets/api_ctr.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_restart.h"
#include "applets/api_router.h"
#include "applets/applets.h"
#include "applets/runtime.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"

struct api_sup {
	uv_loop_t *loop;
	struct api_ctr *ctrs;
	unsigned long serial;
	bool shutting_down;
	struct api_exec *execs;
	struct api_events *events;
	struct api_rrec *restarts;
	struct api_ctrcache *ctrcache;
	/* every link's reads land here first (consumed at once into its rx) */
	char rbuf[AGENT_DATA_CHUNK];
};

struct api_ctr {
	struct api_ctr *next;
	struct api_sup *sup;
	char id[BUNDLE_ID_LEN + 1];
	uv_pipe_t link;
	uv_process_t proc;
	uv_timer_t grace;          /* stop: SHUTDOWN when the signal did not do */
	bool link_open, proc_open, reading, paused;
	bool exited;               /* EXIT of stream 1 on the current link */
	bool stats_pending;        /* a STATS sent, its reply not yet here */
	int exit_status;           /* its status */
	int handles;               /* open libuv handles */
	bool forgotten;            /* out of the list: free once handles closed */
	struct buf rx;             /* bounded by one frame plus a read */
	uint32_t next_stream;
	struct api_sub *subs;
	/* for events after the bundle is gone (auto-remove, rm) */
	char *name, *image;
	json_t *labels;
};

struct wreq {
	uv_write_t w;
	struct api_ctr *c;
	char *data;
	size_t n;
};

/* Why a runtime link closes: it ended (the workload's end is certain,
 * the restart policy applies), or a new start replaces it (that start is
 * the user's or the policy's own). */
enum link_end { LINK_ENDED, LINK_REPLACED };
static void link_close(struct api_ctr *c, enum link_end how, const char *why);
static void mark_dead(const char *id, const char *why);
static void mark_dead_state(const char *id, struct bundle_state *st, const char *why);
static bool pid_alive(long pid);

struct api_sup *api_sup_new(uv_loop_t *loop)
{
	struct api_sup *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	return s;
}

const char *api_ctr_id(const struct api_ctr *c)
{
	return c->id;
}

static void handle_closed(uv_handle_t *h)
{
	struct api_ctr *c = h->data;

	if (--c->handles == 0 && c->forgotten) {
		buf_free(&c->rx);
		free(c->name);
		free(c->image);
		json_decref(c->labels);
		free(c);
	}
}

struct api_ctr *api_ctr_get(struct api_sup *s, const char *id)
{
	struct api_ctr *c;

	for (c = s->ctrs; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	c = xcalloc(1, sizeof(*c));
	c->sup = s;
	snprintf(c->id, sizeof(c->id), "%s", id);
	buf_init(&c->rx, AGENT_FRAME_MAX + AGENT_DATA_CHUNK);
	uv_timer_init(s->loop, &c->grace);
	c->grace.data = c;
	c->handles = 1;
	c->next_stream = 2;
	c->next = s->ctrs;
	s->ctrs = c;
	api_ctr_describe(c);
	return c;
}

void api_ctr_describe(struct api_ctr *c)
{
	struct bundle_config bc;

	if (bundle_config_load(c->id, &bc, NULL) < 0)
		return;
	free(c->name);
	free(c->image);
	json_decref(c->labels);
	c->name = bc.name ? xstrdup(bc.name) : NULL;
	c->image = bc.image_ref ? xstrdup(bc.image_ref) : NULL;
	c->labels = json_incref(bc.labels);
	bundle_config_free(&bc);
}

void api_ctr_event(struct api_ctr *c, const char *action, int exit_code)
{
	api_events_emit(c->sup, action, c->id, c->name, c->image, c->labels, exit_code);
}

/* Out of the list; freed when its handles are closed. */
static void ctr_forget(struct api_ctr *c)
{
	struct api_ctr **pp;

	for (pp = &c->sup->ctrs; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->forgotten = true;
	while (c->subs)
		api_ctr_unsubscribe(c->subs);
	if (c->link_open)
		link_close(c, LINK_ENDED, NULL);
	if (c->proc_open) {
		c->proc_open = false;
		uv_close((uv_handle_t *)&c->proc, handle_closed);
	}
	if (!uv_is_closing((uv_handle_t *)&c->grace))
		uv_close((uv_handle_t *)&c->grace, handle_closed);
}

void api_sup_shutdown(struct api_sup *s)
{
	s->shutting_down = true;
	api_restart_shutdown(s);
	while (s->ctrs)
		ctr_forget(s->ctrs);
}

uv_loop_t *api_sup_loop(struct api_sup *s)
{
	return s->loop;
}

struct api_rrec **api_sup_restarts(struct api_sup *s)
{
	return &s->restarts;
}

struct api_ctrcache **api_sup_ctrcache(struct api_sup *s)
{
	return &s->ctrcache;
}

struct api_events **api_sup_events(struct api_sup *s)
{
	return &s->events;
}

struct api_exec **api_sup_execs(struct api_sup *s)
{
	return &s->execs;
}

void api_sup_free(struct api_sup *s)
{
	free(s);
}

/* ---- subscribers ---- */

void api_ctr_subscribe(struct api_ctr *c, struct api_sub *s)
{
	s->ctr = c;
	s->serial = ++c->sup->serial;
	s->next = c->subs;
	c->subs = s;
}

void api_ctr_unsubscribe(struct api_sub *s)
{
	struct api_sub **pp;
	struct api_ctr *c = s->ctr;

	if (!c)
		return;
	for (pp = &c->subs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->ctr = NULL;
	s->next = NULL;
	/* a client gone while its queue was full must not keep the link
	 * stopped for every other stream (and for the SIGNAL that ends it) */
	api_ctr_flow(c);
}

/* Callbacks may unsubscribe anyone: walk a snapshot, and call only those
 * still subscribed (same pointer, same serial). */
struct snap {
	struct api_sub *s;
	unsigned long serial;
};

static size_t snapshot(struct api_ctr *c, uint32_t stream, bool any, struct snap **out)
{
	size_t n = 0, i = 0;
	struct api_sub *s;

	for (s = c->subs; s; s = s->next)
		n++;
	*out = n ? xcalloc(n, sizeof(**out)) : NULL;
	for (s = c->subs; s; s = s->next)
		if (any || s->stream == stream)
			(*out)[i++] = (struct snap){ s, s->serial };
	return i;
}

static bool still(struct api_ctr *c, const struct snap *p)
{
	for (struct api_sub *s = c->subs; s; s = s->next)
		if (s == p->s && s->serial == p->serial)
			return true;
	return false;
}

enum ev { EV_OUT, EV_OK, EV_ERROR, EV_EXIT, EV_REMOVED, EV_WRITABLE, EV_STATS };

static void dispatch(struct api_ctr *c, uint32_t stream, bool any, enum ev ev, int a,
		     const void *p, size_t n, const char *msg)
{
	struct snap *v;
	size_t k = snapshot(c, stream, any, &v);

	for (size_t i = 0; i < k; i++) {
		const struct api_sub_ops *o;
		if (!still(c, &v[i]))
			continue;
		o = v[i].s->ops;
		switch (ev) {
		case EV_OUT: if (o->output) o->output(v[i].s, a, p, n); break;
		case EV_OK: if (o->ok) o->ok(v[i].s); break;
		case EV_ERROR: if (o->error) o->error(v[i].s, a, msg); break;
		case EV_EXIT: if (o->exit) o->exit(v[i].s, a); break;
		case EV_REMOVED: if (o->removed) o->removed(v[i].s); break;
		case EV_WRITABLE: if (o->writable) o->writable(v[i].s); break;
		case EV_STATS: if (o->stats) o->stats(v[i].s, p); break;
		}
	}
	free(v);
}

/* ---- the link ---- */

static void on_link_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void on_link_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct api_ctr *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->sup->rbuf, sizeof(c->sup->rbuf));
}

static bool any_full(const struct api_ctr *c)
{
	for (const struct api_sub *s = c->subs; s; s = s->next)
		if (s->conn && api_conn_queued(s->conn) > API_CONN_QUEUE_MAX)
			return true;
	return false;
}

void api_ctr_flow(struct api_ctr *c)
{
	bool want = c->link_open && !any_full(c);

	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->link, on_link_alloc, on_link_read) == 0)
			c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->link);
		c->reading = false;
	}
}

static void on_grace(uv_timer_t *t)
{
	struct api_ctr *c = t->data;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (!c->link_open || c->exited)
		return;
	log_info("container %.12s: not stopped in time, killing it", c->id);
	if (agent_put_raw(&b, AGENT_SHUTDOWN, 0, 0, NULL, 0, &e) == 0)
		api_ctr_send(c, &b, &e);
}

/* The runtime's state after the link ended: its exit status, or -1. */
static int final_status(const char *id)
{
	struct bundle_state st;

	if (api_ctr_state(id, &st, NULL) < 0 || st.status == BUNDLE_RUNNING)
		return -1;
	return st.exit_code;
}

static void bundle_gone_check(struct api_ctr *c)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct stat sb;

	if (bundle_path(c->id, NULL, &dir, NULL) == 0 && stat(buf_str(&dir), &sb) < 0 &&
	    errno == ENOENT)
		api_ctr_removed(c);
}

static void link_close(struct api_ctr *c, enum link_end how, const char *why)
{
	bool had_exit = c->exited, loaded, alive;
	struct bundle_state st;
	int final;

	if (!c->link_open)
		return;
	c->link_open = false;
	c->reading = false;
	c->stats_pending = false;
	uv_close((uv_handle_t *)&c->link, handle_closed);
	buf_reset(&c->rx);
	uv_timer_stop(&c->grace);
	if (why)
		log_debug("container %.12s: runtime link closed: %s", c->id, why);
	if (c->sup->shutting_down || c->forgotten)
		return;
	/* the state once: the workload's end as final_status reads it (-1:
	 * still running, or unknown) */
	loaded = !had_exit && bundle_state_load(c->id, &st, NULL) == 0;
	alive = loaded && st.status == BUNDLE_RUNNING && pid_alive(st.runtime_pid);
	final = had_exit ? c->exit_status : loaded && !alive ? st.exit_code : -1;
	/* exec'd processes end with the link; the workload too unless it
	 * already reported */
	{
		struct snap *v;
		size_t k = snapshot(c, 0, true, &v);
		for (size_t i = 0; i < k; i++) {
			if (!still(c, &v[i]) || !v[i].s->ops->exit)
				continue;
			if (v[i].s->stream != 1)
				v[i].s->ops->exit(v[i].s, -1);
			else if (!had_exit)
				v[i].s->ops->exit(v[i].s, final);
		}
		free(v);
	}
	if (!had_exit)
		api_ctr_event(c, "die", final);
	c->exited = false;
	/* a runtime killed before it could record the end */
	if (loaded && !alive && st.status == BUNDLE_RUNNING)
		mark_dead_state(c->id, &st, "the container's runtime ended without an exit status");
	/* the restart policy, once the workload's end is certain */
	if (how == LINK_ENDED && (had_exit || (loaded && !alive)))
		api_restart_exited(c->sup, c->id, final);
	bundle_gone_check(c);
}

static void on_frame(struct api_ctr *c, const struct agent_frame *f)
{
	switch (f->type) {
	case AGENT_OK:
		dispatch(c, f->stream, false, EV_OK, 0, NULL, 0, NULL);
		break;
	case AGENT_STDOUT:
	case AGENT_STDERR:
		if (f->len)
			dispatch(c, f->stream, false, EV_OUT, f->type == AGENT_STDOUT ? 1 : 2,
				 f->payload, f->len, NULL);
		break;
	case AGENT_EXIT:
		if (f->stream == 1) {
			c->exited = true;
			c->exit_status = f->u.exit.status;
			uv_timer_stop(&c->grace);
			api_ctr_event(c, "die", f->u.exit.status);
		}
		dispatch(c, f->stream, false, EV_EXIT, f->u.exit.status, NULL, 0, NULL);
		break;
	case AGENT_ERROR:
		dispatch(c, f->stream == 0 ? 1 : f->stream, false, EV_ERROR,
			 (int)f->u.error.code, NULL, 0, f->u.error.message);
		break;
	case AGENT_STATS_REPLY:
		c->stats_pending = false;
		dispatch(c, 0, false, EV_STATS, 0, &f->u.stats, sizeof(f->u.stats), NULL);
		break;
	default:
		break;   /* HELLO, and what later versions add */
	}
}

static void on_link_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct api_ctr *c = st->data;
	struct agent_frame f;
	struct err e = ERR_INIT;
	size_t used = 0;
	int rc;

	if (n < 0) {
		link_close(c, LINK_ENDED, n == UV_EOF ? "end of stream" : uv_strerror((int)n));
		return;
	}
	if (buf_append(&c->rx, b->base, (size_t)n) < 0) {
		link_close(c, LINK_ENDED, "oversized frame");
		return;
	}
	for (;;) {
		rc = agent_decode(c->rx.data + used, c->rx.len - used, &f, &used, &e);
		if (rc == 0)
			break;
		if (rc < 0 && used == 0) {
			link_close(c, LINK_ENDED, e.msg);
			return;
		}
		if (rc > 0)
			on_frame(c, &f);
		buf_consume(&c->rx, used);
		used = 0;
		err_clear(&e);
		if (!c->link_open)
			return;
	}
	api_ctr_flow(c);
}

static int link_open(struct api_ctr *c, int fd, struct err *e)
{
	int rc;

	uv_pipe_init(c->sup->loop, &c->link, 0);
	c->link.data = c;
	c->handles++;
	if ((rc = uv_pipe_open(&c->link, fd)) < 0) {
		uv_close((uv_handle_t *)&c->link, handle_closed);
		close(fd);
		return err_set(e, rc, "runtime link: %s", uv_strerror(rc));
	}
	c->link_open = true;
	c->exited = false;
	c->next_stream = 2;
	buf_reset(&c->rx);
	api_ctr_flow(c);
	return 0;
}

static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct api_ctr *c = r->c;
	size_t before = api_ctr_queued(c) + r->n;

	(void)status;   /* a broken link shows up as a read error */
	free(r->data);
	free(r);
	/* crossing back under the bound: paused stdin relays go on */
	if (c->link_open && before > API_CTR_SEND_MAX && api_ctr_queued(c) <= API_CTR_SEND_MAX)
		dispatch(c, 0, true, EV_WRITABLE, 0, NULL, 0, NULL);
}

int api_ctr_send(struct api_ctr *c, struct buf *frames, struct err *e)
{
	struct wreq *r;
	uv_buf_t b;
	int rc;

	if (!c->link_open)
		return err_set(e, -ESRCH, "container %.12s is not running", c->id);
	if (!frames->len)
		return 0;
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->n = frames->len;
	r->data = buf_steal(frames);
	b = uv_buf_init(r->data, (unsigned)r->n);
	if ((rc = uv_write(&r->w, (uv_stream_t *)&c->link, &b, 1, on_written)) < 0) {
		free(r->data);
		free(r);
		return err_set(e, rc, "write to the runtime: %s", uv_strerror(rc));
	}
	return 0;
}

size_t api_ctr_queued(const struct api_ctr *c)
{
	return c->link_open ? uv_stream_get_write_queue_size((const uv_stream_t *)&c->link) : 0;
}

uint32_t api_ctr_new_stream(struct api_ctr *c)
{
	return c->next_stream++;
}

bool api_ctr_running(const struct api_ctr *c)
{
	return c->link_open && !c->exited;
}

int api_ctr_link(struct api_ctr *c, struct err *e)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, "container-apiserver" };
	_cleanup_buf_ struct buf b = BUF_INIT;
	int fd = -1, rc;

	if (c->link_open)
		return 0;
	if ((rc = runtime_connect(c->id, RUNTIME_CONNECT_NONBLOCK, &fd, e)) < 0)
		return rc;
	if ((rc = link_open(c, fd, e)) < 0)
		return rc;
	if ((rc = agent_put_hello(&b, &h, e)) < 0 || (rc = api_ctr_send(c, &b, e)) < 0) {
		link_close(c, LINK_ENDED, "hello");
		return rc;
	}
	return 0;
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig)
{
	struct api_ctr *c = p->data;

	if (status || sig)
		log_info("container %.12s: runtime exited with %lld (signal %d)", c->id,
			 (long long)status, sig);
	c->proc_open = false;
	uv_close((uv_handle_t *)p, handle_closed);
	/* reaped now: a state it left "running" is a dead runtime's */
	mark_dead(c->id, "the container's runtime ended without an exit status");
}

int api_ctr_start(struct api_ctr *c, struct err *e)
{
	_cleanup_buf_ struct buf exe = BUF_INIT, logp = BUF_INIT;
	struct bundle_state st;
	uv_process_options_t o;
	uv_stdio_container_t io[4];
	char *argv[5];
	int sv[2], logfd, rc;

	if (c->link_open && !c->exited)
		return err_set(e, -EALREADY, "container %.12s is already running", c->id);
	if ((rc = api_ctr_state(c->id, &st, e)) < 0)
		return rc;
	if (st.status == BUNDLE_RUNNING)
		return err_set(e, -EALREADY, "container %.12s is already running", c->id);
	if (c->link_open)
		link_close(c, LINK_REPLACED, "a new start");
	if ((rc = paths_self_spawn(&exe, e)) < 0 || (rc = bundle_path(c->id, "runtime.log", &logp, e)) < 0)
		return rc;
	if ((logfd = open(buf_str(&logp), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0)
		return err_sys(e, "open %s", buf_str(&logp));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		close(logfd);
		return err_sys(e, "socketpair");
	}
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	fcntl(sv[1], F_SETFD, FD_CLOEXEC);
	memset(&o, 0, sizeof(o));
	memset(io, 0, sizeof(io));
	io[0].flags = UV_IGNORE;
	io[1].flags = io[2].flags = UV_INHERIT_FD;
	io[1].data.fd = io[2].data.fd = logfd;
	io[3].flags = UV_INHERIT_FD;
	io[3].data.fd = sv[1];
	argv[0] = (char *)"container-runtime";   /* selects the role */
	argv[1] = (char *)"--attach-fd";
	argv[2] = (char *)"3";
	argv[3] = c->id;
	argv[4] = NULL;
	o.file = buf_str(&exe);
	o.args = argv;
	o.stdio = io;
	o.stdio_count = 4;
	/* its own session: a signal to our process group or our death
	 * leaves it running */
	o.flags = UV_PROCESS_DETACHED;
	o.exit_cb = on_proc_exit;
	c->proc.data = c;
	rc = uv_spawn(c->sup->loop, &c->proc, &o);
	close(logfd);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		uv_close((uv_handle_t *)&c->proc, NULL);
		return err_set(e, rc, "spawn the runtime: %s", uv_strerror(rc));
	}
	c->handles++;
	c->proc_open = true;
	log_info("container %.12s: runtime pid %d", c->id, c->proc.pid);
	api_ctr_event(c, "start", -1);
	/* the runtime greets the --attach-fd client itself */
	return link_open(c, sv[0], e);
}

int api_ctr_signal(struct api_ctr *c, int signo, long grace_ms, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc;

	if ((rc = api_ctr_link(c, e)) < 0)
		return rc;
	if (signo == SIGKILL)
		rc = agent_put_raw(&b, AGENT_SHUTDOWN, 0, 0, NULL, 0, e);
	else
		rc = agent_put_signal(&b, 1, signo, e);
	if (rc < 0 || (rc = api_ctr_send(c, &b, e)) < 0)
		return rc;
	if (grace_ms >= 0 && signo != SIGKILL)
		uv_timer_start(&c->grace, on_grace, (uint64_t)grace_ms, 0);
	return 0;
}

int api_ctr_stats(struct api_ctr *c, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc;

	if (c->stats_pending)
		return 0;
	if ((rc = agent_put_raw(&b, AGENT_STATS, 0, 0, NULL, 0, e)) < 0 ||
	    (rc = api_ctr_send(c, &b, e)) < 0)
		return rc;
	c->stats_pending = true;
	return 0;
}

void api_ctr_removed(struct api_ctr *c)
{
	api_restart_forget(c->sup, c->id);
	api_ctr_event(c, "destroy", -1);
	dispatch(c, 1, false, EV_REMOVED, 0, NULL, 0, NULL);
	/* subscribers left on a removed container hear nothing more */
	while (c->subs)
		api_ctr_unsubscribe(c->subs);
	ctr_forget(c);
}

/* ---- state on disk ---- */

static bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

bool api_ctr_liveness(struct bundle_state *st)
{
	if (st->status != BUNDLE_RUNNING || pid_alive(st->runtime_pid))
		return false;
	st->status = BUNDLE_EXITED;
	if (!st->error[0])
		snprintf(st->error, sizeof(st->error), "the container's runtime ended");
	return true;
}

int api_ctr_state(const char *id, struct bundle_state *st, struct err *e)
{
	int rc = bundle_state_load(id, st, e);

	if (rc < 0)
		return rc;
	api_ctr_liveness(st);
	return 0;
}

/* A state that says running whose runtime is gone becomes exited with
 * why, so that every reader agrees (written atomically, lib/fs.h). */
static void mark_dead(const char *id, const char *why)
{
	struct bundle_state st;

	if (bundle_state_load(id, &st, NULL) < 0 || st.status != BUNDLE_RUNNING ||
	    pid_alive(st.runtime_pid))
		return;   /* done, or booting: its runtime writes the state */
	mark_dead_state(id, &st, why);
}

/* mark_dead with the state its caller loaded (running, runtime gone). */
static void mark_dead_state(const char *id, struct bundle_state *st, const char *why)
{
	_cleanup_buf_ struct buf sock = BUF_INIT;
	struct err e = ERR_INIT;

	/* the socket it could not remove (a successor unlinks it too) */
	if (runtime_socket_path(id, &sock, NULL) == 0)
		unlink(buf_str(&sock));
	st->status = BUNDLE_EXITED;
	st->runtime_pid = st->vmm_pid = 0;
	if (!st->error[0])
		snprintf(st->error, sizeof(st->error), "%s", why);
	bundle_now(st->finished_at, sizeof(st->finished_at));
	if (bundle_state_save(id, st, &e) < 0)
		log_warn("container %.12s: %s", id, e.msg);
	else
		log_warn("container %.12s: %s", id, why);
}

void api_sup_reconcile(struct api_sup *s)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct bundle_state st;
	struct err e = ERR_INIT;
	struct dirent *d;
	DIR *dir;
	int swept;

	/* what a create or rm killed with us left half-way */
	if ((swept = bundle_sweep(&e)) < 0)
		log_warn("%s", e.msg);
	else if (swept > 0)
		log_info("removed %d container director%s left half-made or half-removed", swept,
			 swept == 1 ? "y" : "ies");
	err_clear(&e);
	if (bundle_root(&root, NULL) < 0 || !(dir = opendir(buf_str(&root))))
		return;
	while ((d = readdir(dir))) {
		if (strlen(d->d_name) != BUNDLE_ID_LEN ||
		    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		if (bundle_state_load(d->d_name, &st, &e) < 0) {
			log_warn("container %.12s: %s", d->d_name, e.msg);
			err_clear(&e);
			continue;
		}
		if (st.status != BUNDLE_RUNNING) {
			api_restart_resume(s, d->d_name);
			continue;
		}
		if (api_ctr_link(api_ctr_get(s, d->d_name), &e) == 0) {
			log_info("container %.12s: reattached to its runtime", d->d_name);
			continue;
		}
		err_clear(&e);
		mark_dead(d->d_name, "the container's runtime ended while the API server was down");
		api_restart_exited(s, d->d_name, final_status(d->d_name));
	}
	closedir(dir);
}

/* ---- signals ---- */

static const struct {
	const char *name;
	int no;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "SYS", SIGSYS },
};

int api_signal_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	if (*s >= '0' && *s <= '9') {
		v = strtol(s, &end, 10);
		return *end || v < 1 || v > 64 ? 0 : (int)v;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].no;
	return 0;
}

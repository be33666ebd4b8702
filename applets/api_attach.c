/* The two endpoints that follow a container's workload (see
 * applets/api_handlers.h): POST /containers/{id}/attach, a hijacked
 * stream of its stdio (Docker's 8-byte frames without a tty, raw bytes
 * with one; stdin relayed, its half-close closing the workload's stdin),
 * and POST /containers/{id}/wait, whose headers go out at once and whose
 * body comes when the condition (not-running, next-exit, removed) is met.
 * Both subscribe to stream 1 of the container (applets/api_ctr.h), so an
 * attach or a wait made before start hears everything from the first
 * byte: `docker run` attaches and waits, then starts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"

/* stdin taken from a client before the workload runs, at most */
#define ATTACH_PENDING_MAX ((size_t)1 << 20)

/* ---- attach ---- */

struct attach {
	struct api_sub sub;
	struct api_conn *k;
	bool tty, want_in, want_out, want_err;
	bool eof_pending, live;
	struct buf pending;        /* stdin before the link was up */
};

static void attach_free(struct attach *a)
{
	api_ctr_unsubscribe(&a->sub);
	buf_free(&a->pending);
	free(a);
}

static void attach_end(struct attach *a)
{
	struct api_conn *k = a->k;

	a->k = NULL;
	attach_free(a);
	if (k)
		api_conn_done(k, 0);
}

/* stdin bytes (or the EOF) to the workload, in frames the codec takes */
static void send_stdin(struct attach *a, const char *p, size_t n, bool eof)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	while (n) {
		size_t m = n > AGENT_DATA_CHUNK ? AGENT_DATA_CHUNK : n;
		agent_put_raw(&b, AGENT_STDIN, 1, 0, p, m, &e);
		p += m;
		n -= m;
	}
	if (eof)
		agent_put_raw(&b, AGENT_STDIN, 1, AGENT_FLAG_EOF, NULL, 0, &e);
	if (a->sub.ctr)
		api_ctr_send(a->sub.ctr, &b, &e);
}

static void on_in(void *ud, const char *p, size_t n)
{
	struct attach *a = ud;

	if (!a->want_in)
		return;
	if (a->live) {
		send_stdin(a, p, n, false);
		if (a->sub.ctr && api_ctr_queued(a->sub.ctr) > API_CTR_SEND_MAX)
			api_conn_read(a->k, 0);
		return;
	}
	if (buf_append(&a->pending, p, n) < 0 || a->pending.len >= ATTACH_PENDING_MAX)
		api_conn_read(a->k, 0);
}

static void on_in_eof(void *ud)
{
	struct attach *a = ud;

	if (!a->want_in)
		return;
	if (a->live)
		send_stdin(a, NULL, 0, true);
	else
		a->eof_pending = true;
}

static void on_drain(void *ud)
{
	struct attach *a = ud;

	if (a->sub.ctr)
		api_ctr_flow(a->sub.ctr);
}

static void on_gone(void *ud)
{
	struct attach *a = ud;

	a->k = NULL;
	attach_free(a);
}

static const struct api_stream_ops attach_conn_ops = {
	.data = on_in, .eof = on_in_eof, .drain = on_drain, .closed = on_gone,
};

static void on_main_out(struct api_sub *s, int fd, const void *p, size_t n)
{
	struct attach *a = s->ud;
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (!a->k || (fd == 1 && !a->want_out) || (fd == 2 && !a->want_err))
		return;
	api_frame(&b, a->tty, fd, p, n);
	api_conn_write(a->k, b.data, b.len);
}

/* the workload runs: stdin held so far goes */
static void on_main_ok(struct api_sub *s)
{
	struct attach *a = s->ud;

	a->live = true;
	if (a->pending.len || a->eof_pending)
		send_stdin(a, a->pending.data, a->pending.len, a->eof_pending);
	buf_reset(&a->pending);
	if (a->k)
		api_conn_read(a->k, 1);
}

static void on_main_error(struct api_sub *s, int code, const char *msg)
{
	struct attach *a = s->ud;
	_cleanup_buf_ struct buf b = BUF_INIT, m = BUF_INIT;

	(void)code;
	if (!a->k || !a->want_err)
		return;
	buf_printf(&m, "container: %s\n", msg);
	api_frame(&b, a->tty, 2, m.data, m.len);
	api_conn_write(a->k, b.data, b.len);
}

static void on_main_writable(struct api_sub *s)
{
	struct attach *a = s->ud;

	if (a->live && a->k)
		api_conn_read(a->k, 1);
}

static void on_main_exit(struct api_sub *s, int status)
{
	(void)status;
	attach_end(s->ud);
}

static const struct api_sub_ops attach_ops = {
	.output = on_main_out, .ok = on_main_ok, .error = on_main_error, .exit = on_main_exit, .removed = NULL,
	.writable = on_main_writable,
};

void api_ctr_attach_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct api_ctr *r;
	struct attach *a;
	struct err e = ERR_INIT;
	bool running;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	r = api_ctr_get(c->ctx->sup, id);
	/* a container started elsewhere (our CLI): link to its runtime now */
	running = api_ctr_link(r, &e) == 0 && api_ctr_running(r);
	a = xcalloc(1, sizeof(*a));
	buf_init(&a->pending, ATTACH_PENDING_MAX + AGENT_DATA_CHUNK);
	a->tty = api_ctr_tty(id);
	a->want_in = api_query_bool(c, "stdin", 0);
	a->want_out = api_query_bool(c, "stdout", 0);
	a->want_err = api_query_bool(c, "stderr", 0);
	/* linked to a runtime whose workload already runs: stdin goes now */
	a->live = running;
	a->sub.stream = 1;
	a->sub.ops = &attach_ops;
	a->sub.ud = a;
	api_hijack_head(c, a->tty, c->out);
	api_ctr_subscribe(r, &a->sub);
	a->k = api_call_take(c, &attach_conn_ops, a, 1);
	a->sub.conn = a->k;
}

/* ---- wait ---- */

enum cond { COND_NOT_RUNNING, COND_NEXT_EXIT, COND_REMOVED };

struct waiter {
	struct api_sub sub;
	struct api_conn *k;
	enum cond cond;
	int status;
	int keepalive;
};

static void wait_body(struct buf *out, int status)
{
	_cleanup_buf_ struct buf j = BUF_INIT;

	if (status < 0)
		buf_printf(&j, "{\"Error\":{\"Message\":\"the container ended without an exit "
			       "status\"},\"StatusCode\":255}\n");
	else
		buf_printf(&j, "{\"Error\":null,\"StatusCode\":%d}\n", status);
	api_write_chunk(out, j.data, j.len);
	api_write_chunk(out, NULL, 0);
}

static void waiter_answer(struct waiter *w, int status)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct api_conn *k = w->k;

	api_ctr_unsubscribe(&w->sub);
	if (k) {
		wait_body(&out, status);
		api_conn_write(k, out.data, out.len);
		api_conn_done(k, w->keepalive);
	}
	free(w);
}

static void w_exit(struct api_sub *s, int status)
{
	struct waiter *w = s->ud;

	if (w->cond == COND_REMOVED)
		w->status = status;
	else
		waiter_answer(w, status);
}

static void w_removed(struct api_sub *s)
{
	struct waiter *w = s->ud;

	waiter_answer(w, w->status);
}

static const struct api_sub_ops wait_ops = { .exit = w_exit, .removed = w_removed };

static void w_gone(void *ud)
{
	struct waiter *w = ud;

	api_ctr_unsubscribe(&w->sub);
	free(w);
}

static const struct api_stream_ops wait_conn_ops = { .closed = w_gone };

void api_ctr_wait_h(struct api_call *c)
{
	_cleanup_buf_ struct buf cond = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct bundle_state st;
	struct api_ctr *r;
	struct waiter *w;
	enum cond k = COND_NOT_RUNNING;
	bool running;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_get(c->query, c->query_len, "condition", &cond) > 0 && cond.len) {
		if (strcmp(buf_str(&cond), "next-exit") == 0)
			k = COND_NEXT_EXIT;
		else if (strcmp(buf_str(&cond), "removed") == 0)
			k = COND_REMOVED;
		else if (strcmp(buf_str(&cond), "not-running") != 0) {
			api_reply_error(c, 400, "invalid condition: %.64s", buf_str(&cond));
			return;
		}
	}
	r = api_ctr_get(c->ctx->sup, id);
	if (api_ctr_state(id, &st, NULL) < 0)
		memset(&st, 0, sizeof(st));
	running = api_ctr_running(r) || st.status == BUNDLE_RUNNING;
	/* one started elsewhere: its exit comes over a link */
	if (running && !api_ctr_running(r)) {
		struct err e = ERR_INIT;
		if (api_ctr_link(r, &e) < 0)
			running = false;
	}
	/* headers first, so that the client knows the wait is in place */
	api_write_head(c->out, 200, "application/json", NULL, -1, c->keepalive);
	if (k == COND_NOT_RUNNING && !running) {
		wait_body(c->out, st.status == BUNDLE_EXITED ? st.exit_code : 0);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->cond = k;
	w->keepalive = c->keepalive;
	w->status = st.status == BUNDLE_EXITED ? st.exit_code : 0;
	w->sub.stream = 1;
	w->sub.ops = &wait_ops;
	w->sub.ud = w;
	api_ctr_subscribe(r, &w->sub);
	w->k = api_call_take(c, &wait_conn_ops, w, 0);
}

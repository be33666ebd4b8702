/* GET /containers/{id}/logs (see applets/api_handlers.h): the container's
 * stdio.log (Docker json-file lines, written by its runtime whether or not
 * anyone is attached) streamed back as Docker's stream frames (raw bytes
 * with a tty), chunked so the connection can serve the next request.
 * Parameters: stdout, stderr, tail (N or "all"), timestamps, follow.
 *
 * The file is read in pieces of LOGS_READ bytes, never more while the
 * client's queue is over API_CONN_QUEUE_MAX (resumed by the drain op), so
 * a huge log costs bounded memory.  With follow the end of the file is
 * polled every LOGS_POLL_MS; the stream ends once the container is not
 * running and the file is read to its end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define LOGS_READ (64 * 1024)
#define LOGS_LINE_MAX ((size_t)2 << 20)
#define LOGS_POLL_MS 200

struct logs {
	uv_timer_t timer;
	struct api_conn *k;
	struct api_sup *sup;
	char id[BUNDLE_ID_LEN + 1];
	int fd;
	off_t off;
	bool tty, out, err, stamps, follow, skipping;
	int keepalive;
	struct buf line;          /* a partial line carried to the next read */
};

static void logs_closed_cb(uv_handle_t *h)
{
	struct logs *l = h->data;

	if (l->fd >= 0)
		close(l->fd);
	buf_free(&l->line);
	free(l);
}

static void logs_free(struct logs *l)
{
	uv_timer_stop(&l->timer);
	uv_close((uv_handle_t *)&l->timer, logs_closed_cb);
}

static void logs_end(struct logs *l)
{
	struct api_conn *k = l->k;

	l->k = NULL;
	if (k)
		api_conn_end_chunked(k, l->keepalive);
	logs_free(l);
}

/* One json-file line out as a frame (inside a chunk). */
static void emit(struct logs *l, const char *p, size_t n, struct buf *out)
{
	_cleanup_buf_ struct buf frame = BUF_INIT, text = BUF_INIT;
	json_t *j = jsonx_parse(p, n, LOGS_LINE_MAX, "log line", NULL);
	const char *stream, *log, *time;
	int fd;

	if (!j)
		return;
	stream = jsonx_str(j, "stream");
	log = jsonx_str(j, "log");
	time = jsonx_str(j, "time");
	fd = stream && strcmp(stream, "stderr") == 0 ? 2 : 1;
	if (log && ((fd == 1 && l->out) || (fd == 2 && l->err))) {
		if (l->stamps)
			buf_printf(&text, "%s ", time ? time : "");
		buf_append(&text, log, json_string_length(json_object_get(j, "log")));
		api_frame(&frame, l->tty, fd, text.data, text.len);
		api_write_chunk(out, frame.data, frame.len);
	}
	json_decref(j);
}

static bool still_running(struct logs *l)
{
	struct bundle_state st;

	if (api_ctr_running(api_ctr_get(l->sup, l->id)))
		return true;
	return api_ctr_state(l->id, &st, NULL) == 0 && st.status == BUNDLE_RUNNING;
}

static void on_poll(uv_timer_t *t);

static void reopen(struct logs *l)
{
	_cleanup_buf_ struct buf path = BUF_INIT;

	if (bundle_path(l->id, "stdio.log", &path, NULL) == 0)
		l->fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC);
}

/* Read and send what the file has, as far as the client takes it. */
static void pump(struct logs *l)
{
	char rb[LOGS_READ];

	while (l->k && api_conn_queued(l->k) <= API_CONN_QUEUE_MAX) {
		_cleanup_buf_ struct buf out = BUF_INIT;
		bool running = l->follow && still_running(l);
		ssize_t n;

		if (l->fd < 0)   /* not started yet when the request came */
			reopen(l);
		n = l->fd >= 0 ? pread(l->fd, rb, sizeof(rb), l->off) : 0;
		size_t i, start = 0;

		if (n <= 0) {
			/* read to the end: done unless following a live one (the
			 * state was read before this read, so nothing is lost) */
			if (!running) {
				logs_end(l);
				return;
			}
			uv_timer_start(&l->timer, on_poll, LOGS_POLL_MS, 0);
			return;
		}
		l->off += n;
		for (i = 0; i < (size_t)n; i++) {
			if (rb[i] != '\n')
				continue;
			if (!l->skipping && buf_append(&l->line, rb + start, i - start) == 0)
				emit(l, l->line.data, l->line.len, &out);
			buf_reset(&l->line);
			l->skipping = false;
			start = i + 1;
		}
		/* a line longer than we hold is dropped whole */
		if (!l->skipping && buf_append(&l->line, rb + start, (size_t)n - start) < 0) {
			buf_reset(&l->line);
			l->skipping = true;
		}
		if (out.len)
			api_conn_write(l->k, out.data, out.len);
	}
}

static void on_poll(uv_timer_t *t)
{
	pump(t->data);
}

static void on_drain(void *ud)
{
	struct logs *l = ud;

	if (!uv_is_active((uv_handle_t *)&l->timer))
		pump(l);
}

static void on_gone(void *ud)
{
	struct logs *l = ud;

	l->k = NULL;
	logs_free(l);
}

static const struct api_stream_ops logs_ops = { .drain = on_drain, .closed = on_gone };

/* The offset where the last n lines of fd begin. */
static off_t tail_offset(int fd, long n)
{
	char b[LOGS_READ];
	struct stat sb;
	off_t end, pos;
	long seen = 0;

	if (fstat(fd, &sb) < 0)
		return 0;
	end = pos = sb.st_size;
	while (pos > 0) {
		size_t m = pos > (off_t)sizeof(b) ? sizeof(b) : (size_t)pos;
		ssize_t r = pread(fd, b, m, pos - (off_t)m);
		if (r != (ssize_t)m)
			return 0;
		for (ssize_t i = r - 1; i >= 0; i--) {
			off_t at = pos - (off_t)m + i;
			/* the newline ending the file's last line does not count */
			if (b[i] == '\n' && at != end - 1 && ++seen == n)
				return at + 1;
		}
		pos -= (off_t)m;
	}
	return 0;
}

void api_ctr_logs_h(struct api_call *c)
{
	_cleanup_buf_ struct buf path = BUF_INIT, tail = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct logs *l;
	long n = -1;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_get(c->query, c->query_len, "tail", &tail) < 0) {
		api_reply_error(c, 400, "invalid tail");
		return;
	}
	if (tail.len && strcmp(buf_str(&tail), "all") != 0) {
		char *end;
		n = strtol(buf_str(&tail), &end, 10);
		if (*end || n < 0) {
			api_reply_error(c, 400, "invalid tail: %.32s", buf_str(&tail));
			return;
		}
	}
	l = xcalloc(1, sizeof(*l));
	buf_init(&l->line, LOGS_LINE_MAX);
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->sup = c->ctx->sup;
	l->tty = api_ctr_tty(id);
	l->out = api_query_bool(c, "stdout", 0);
	l->err = api_query_bool(c, "stderr", 0);
	l->stamps = api_query_bool(c, "timestamps", 0);
	l->follow = api_query_bool(c, "follow", 0);
	l->keepalive = c->keepalive;
	l->fd = -1;
	if (!l->out && !l->err) {
		buf_free(&l->line);
		free(l);
		api_reply_error(c, 400, "Bad parameters: you must choose at least one stream");
		return;
	}
	if (bundle_path(id, "stdio.log", &path, NULL) == 0)
		l->fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC);
	if (l->fd >= 0 && n >= 0)
		l->off = n == 0 ? lseek(l->fd, 0, SEEK_END) : tail_offset(l->fd, n);
	uv_timer_init(api_sup_loop(c->ctx->sup), &l->timer);
	l->timer.data = l;
	api_write_head(c->out, 200,
		       l->tty ? "application/vnd.docker.raw-stream"
			      : "application/vnd.docker.multiplexed-stream",
		       NULL, -1, c->keepalive);
	l->k = api_call_take(c, &logs_ops, l, 0);
	pump(l);
}

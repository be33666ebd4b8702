/* A small blocking QMP client (QEMU's JSON control protocol), used by
 * vm/qemu.c to negotiate the monitor, press the power button and learn why
 * QEMU ended (the SHUTDOWN event's reason).
 *
 * QEMU is semi-trusted: it runs the untrusted guest.  So every message is
 * bounded (QMP_MSG_MAX; one message per line), every wait has a deadline,
 * writes never raise SIGPIPE, and a message we do not understand is an
 * error, not a crash.  Parsing is split out (qmp_parse) for the fuzz target
 * t/fuzz/qmp_message.c. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "vm/qemu.h"

#define QMP_REASON_MAX 40

struct qmp {
	int fd;
	struct buf in; /* received bytes not yet consumed; bounded */
	long long next_id;
	char reason[QMP_REASON_MAX]; /* last SHUTDOWN reason, "" = none */
};

void qmp_msg_free(struct qmp_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

int qmp_parse(const char *data, size_t len, struct qmp_msg *out, struct err *e)
{
	struct qmp_msg m = {.id = -1};
	json_t *v;

	m.root = jsonx_parse(data, len, QMP_MSG_MAX, "QMP message", e);
	if (!m.root)
		return e ? e->code : -EBADMSG;
	if (!json_is_object(m.root)) {
		json_decref(m.root);
		return err_set(e, -EPROTO, "QMP message: not a JSON object");
	}
	v = json_object_get(m.root, "id");
	if (json_is_integer(v))
		m.id = json_integer_value(v);
	if (json_is_object(json_object_get(m.root, "QMP"))) {
		m.kind = QMP_MSG_GREETING;
		m.value = json_object_get(m.root, "QMP");
	} else if ((v = json_object_get(m.root, "event")) && json_is_string(v)) {
		m.kind = QMP_MSG_EVENT;
		m.name = json_string_value(v);
		m.value = json_object_get(m.root, "data");
	} else if ((v = json_object_get(m.root, "return"))) {
		m.kind = QMP_MSG_RETURN;
		m.value = v;
	} else if ((v = json_object_get(m.root, "error")) && json_is_object(v)) {
		m.kind = QMP_MSG_ERROR;
		m.value = v;
		m.name = jsonx_str(v, "class");
		m.desc = jsonx_str(v, "desc");
		if (!m.name)
			m.name = "GenericError";
		if (!m.desc)
			m.desc = "(no description)";
	} else {
		json_decref(m.root);
		return err_set(e, -EPROTO,
			       "QMP message: neither greeting, event, return nor error");
	}
	*out = m;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline from a timeout: -1 stays "forever". */
static long long deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int remaining(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

/* Record what we need from an event; everything else is ignored. */
static void on_event(struct qmp *q, const struct qmp_msg *m)
{
	const char *r;
	size_t n;

	if (strcmp(m->name, "SHUTDOWN") != 0)
		return;
	r = jsonx_str(m->value, "reason");
	if (!r)
		r = "unknown";
	n = strnlen(r, sizeof(q->reason) - 1);
	memcpy(q->reason, r, n);
	q->reason[n] = '\0';
	/* Only printable ASCII reaches messages and logs. */
	for (char *p = q->reason; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

/* The next complete message, reading until the deadline.  -ETIMEDOUT when
 * none arrived in time, -EPIPE at end of stream. */
static int read_msg(struct qmp *q, long long deadline, struct qmp_msg *m, struct err *e)
{
	char chunk[4096];

	for (;;) {
		char *nl = q->in.len ? memchr(q->in.data, '\n', q->in.len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - q->in.data);
			int r = 0, blank = 1;
			for (size_t i = 0; i < n; i++)
				if (q->in.data[i] != '\r' && q->in.data[i] != ' ')
					blank = 0;
			if (!blank)
				r = qmp_parse(q->in.data, n, m, e);
			buf_consume(&q->in, n + 1);
			if (blank)
				continue;
			return r;
		}
		if (q->in.len >= QMP_MSG_MAX)
			return err_set(e, -EPROTO, "QMP: message over %d bytes", QMP_MSG_MAX);

		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		int pr = poll(&p, 1, remaining(deadline));
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "QMP: poll");
		}
		if (pr == 0)
			return err_set(e, -ETIMEDOUT, "QMP: no answer in time");
		size_t want = sizeof(chunk);
		if (want > QMP_MSG_MAX - q->in.len)
			want = QMP_MSG_MAX - q->in.len;
		ssize_t got = read(q->fd, chunk, want);
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNRESET)
				return err_set(e, -EPIPE, "QMP: connection closed");
			return err_sys(e, "QMP: read");
		}
		if (got == 0)
			return err_set(e, -EPIPE, "QMP: connection closed");
		if (buf_append(&q->in, chunk, (size_t)got) < 0)
			return err_set(e, -EPROTO, "QMP: message over %d bytes", QMP_MSG_MAX);
	}
}

static int send_all(int fd, const char *p, size_t n, struct err *e)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return err_set(e, -EPIPE, "QMP: connection closed");
			return err_sys(e, "QMP: send");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
		struct err *e)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	_cleanup_json_ json_t *req = json_object();
	long long id = q->next_id++, deadline = deadline_of(timeout_ms);
	int r;

	json_object_set_new(req, "execute", json_string(cmd));
	if (args)
		json_object_set(req, "arguments", args);
	json_object_set_new(req, "id", json_integer(id));
	if ((r = jsonx_dump_buf(req, JSON_COMPACT, &out, e)) < 0)
		return r;
	buf_putc(&out, '\n');
	if ((r = send_all(q->fd, out.data, out.len, e)) < 0)
		return err_wrap(e, "%s", cmd);

	for (;;) {
		struct qmp_msg m;
		if ((r = read_msg(q, deadline, &m, e)) < 0)
			return err_wrap(e, "%s", cmd);
		if (m.kind == QMP_MSG_EVENT) {
			on_event(q, &m);
		} else if ((m.kind == QMP_MSG_RETURN || m.kind == QMP_MSG_ERROR) && m.id == id) {
			if (m.kind == QMP_MSG_ERROR) {
				r = err_set(e, -EIO, "%s: QEMU said %s: %s", cmd, m.name, m.desc);
				qmp_msg_free(&m);
				return r;
			}
			if (ret)
				*ret = json_incref(m.value);
			qmp_msg_free(&m);
			return 0;
		}
		/* An answer to an earlier, abandoned command: skip it. */
		qmp_msg_free(&m);
	}
}

int qmp_open(int fd, int timeout_ms, struct qmp **out, struct err *e)
{
	struct qmp *q = xcalloc(1, sizeof(*q));
	struct qmp_msg m;
	int r;

	q->fd = fd;
	q->next_id = 1;
	buf_init(&q->in, QMP_MSG_MAX);
	r = read_msg(q, deadline_of(timeout_ms), &m, e);
	if (r == 0 && m.kind != QMP_MSG_GREETING) {
		qmp_msg_free(&m);
		r = err_set(e, -EPROTO, "QMP: the first message is not a greeting");
	}
	if (r < 0) {
		err_wrap(e, "QMP greeting");
		goto fail;
	}
	qmp_msg_free(&m);
	if ((r = qmp_execute(q, "qmp_capabilities", NULL, timeout_ms, NULL, e)) < 0)
		goto fail;
	*out = q;
	return 0;
fail:
	buf_free(&q->in);
	free(q);
	return r;
}

int qmp_drain(struct qmp *q, int timeout_ms, struct err *e)
{
	long long deadline = deadline_of(timeout_ms);

	for (;;) {
		struct qmp_msg m;
		int r = read_msg(q, deadline, &m, e);
		if (r == -ETIMEDOUT) {
			err_clear(e);
			return 0;
		}
		if (r < 0)
			return r;
		if (m.kind == QMP_MSG_EVENT)
			on_event(q, &m);
		qmp_msg_free(&m);
	}
}

const char *qmp_shutdown_reason(const struct qmp *q)
{
	return q->reason[0] ? q->reason : NULL;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	close(q->fd);
	buf_free(&q->in);
	free(q);
}

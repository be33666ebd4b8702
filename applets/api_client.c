/* A minimal, bounded HTTP/1.1 client over the API server's unix socket
 * (see applets/api_client.h).  Blocking I/O with socket timeouts: the
 * callers are CLI commands doing one call at a time. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "applets/api_client.h"
#include "applets/api_http.h"
#include "applets/apiserver.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "oci/http_parse.h"
#include "lib/timex.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0   /* macOS: callers that send bodies ignore SIGPIPE */
#endif

int api_client_socket_path(struct buf *out, struct err *e)
{
	int rc = paths_run_dir(out, e);

	if (rc == 0)
		buf_puts(out, "/" APISERVER_SOCKET);
	return rc;
}

static int connect_unix(const char *path, int timeout_ms, int *out, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "socket path %s is too long", path);
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return err_sys(e, "socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return err_set(e, -ECONNREFUSED, "the API server is not running (no server on %s)",
				       path);
		return err_sys(e, "connect to %s", path);
	}
	*out = fd;
	fd = -1;
	return 0;
}

/* Read more into in; 0 at EOF, else bytes read. */
static ssize_t read_more(int fd, struct buf *in, struct err *e)
{
	ssize_t n;

	if (buf_reserve(in, 65536) < 0)
		return err_set(e, -EFBIG, "API response larger than %zu bytes", in->max);
	do
		n = read(fd, in->data + in->len, in->cap - in->len - 1 < 65536 ? in->cap - in->len - 1
									       : 65536);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK
			       ? err_set(e, -ETIMEDOUT, "the API server did not answer in time")
			       : err_sys(e, "read from the API server");
	in->len += (size_t)n;
	in->data[in->len] = '\0';
	return n;
}

/* Read the response head into s; the bytes past it stay in s->in. */
static int read_head(int fd, const char *method, struct api_stream *s, struct err *e)
{
	_cleanup_free_ struct http_head *h = xmalloc(sizeof(*h));
	enum http_framing fr;
	long long length;
	size_t head;
	ssize_t n;
	int rc;

	while ((rc = http_parse_response(s->in.data ? s->in.data : "", s->in.len, h, e)) == -EAGAIN) {
		if ((n = read_more(fd, &s->in, e)) < 0)
			return (int)n;
		if (n == 0)
			return err_set(e, -EPROTO, "the API server closed the connection early");
	}
	if (rc < 0)
		return err_wrap(e, "API response");
	head = (size_t)rc;
	/* h points into the bytes read: framing first, then drop the head */
	if ((rc = http_head_framing(h, strcmp(method, "HEAD") == 0, &fr, &length, e)) < 0)
		return rc;
	buf_reset(&s->head);
	buf_append(&s->head, s->in.data, head);
	buf_consume(&s->in, head);
	s->status = h->status;
	s->framing = (int)fr;
	s->left = length;
	s->done = fr == HTTP_BODY_NONE;
	return 0;
}

ssize_t api_stream_read(struct api_stream *s, struct buf *out, struct err *e)
{
	for (;;) {
		size_t have = s->in.len, take;
		ssize_t n;
		int rc;

		if (s->done)
			return 0;
		if (s->framing == HTTP_BODY_LENGTH && s->left == 0) {
			s->done = true;
			return 0;
		}
		if (have && s->framing == HTTP_BODY_CHUNKED) {
			rc = api_chunked_step(s->ch, s->in.data, have, API_CLIENT_BODY_MAX, e);
			if (rc < 0)
				return err_wrap(e, "API response");
			take = s->ch->out;
			if (take && buf_append(out, s->in.data, take) < 0)
				return err_set(e, -EFBIG, "API response larger than %zu bytes", out->max);
			/* decoded bytes sit before the raw ones used: drop both */
			buf_consume(&s->in, s->ch->raw);
			s->ch->raw = s->ch->out = 0;
			s->done = rc == 1;
			if (take)
				return (ssize_t)take;
			if (s->done)
				return 0;
		} else if (have) {
			take = s->framing == HTTP_BODY_LENGTH && (unsigned long long)s->left < have
				       ? (size_t)s->left : have;
			if (buf_append(out, s->in.data, take) < 0)
				return err_set(e, -EFBIG, "API response larger than %zu bytes", out->max);
			buf_consume(&s->in, take);
			if (s->framing == HTTP_BODY_LENGTH)
				s->left -= (long long)take;
			return (ssize_t)take;
		}
		if ((n = read_more(s->fd, &s->in, e)) < 0)
			return n;
		if (n == 0) {
			if (s->framing != HTTP_BODY_EOF)
				return err_set(e, -EPROTO, "the API server closed the connection early");
			s->done = true;
			return 0;
		}
	}
}

int api_client_open(const char *socket_path, const char *method, const char *path,
		    const void *body, size_t n, unsigned flags, int timeout_ms,
		    struct api_stream *s, struct err *e)
{
	return api_client_open_ex(socket_path, method, path, NULL, body, n, -1, flags, timeout_ms,
				  s, e);
}

/* The body from fd as chunks; the server may answer (and close) before
 * taking it all: then the answer counts, not the failed write. */
static int send_fd_body(int sock, int fd, struct err *e)
{
	enum { PIECE = 64 << 10 };
	_cleanup_free_ char *p = xmalloc(PIECE + 32);
	ssize_t n;

	for (;;) {
		char h[16];
		int hn;
		n = read(fd, p, PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "read the request body");
		hn = snprintf(h, sizeof(h), "%zx\r\n", (size_t)n);
		if (send(sock, h, (size_t)hn, MSG_NOSIGNAL) != hn)
			return -EPIPE;
		if (n == 0)
			return send(sock, "\r\n", 2, MSG_NOSIGNAL) == 2 ? 0 : -EPIPE;
		memcpy(p + n, "\r\n", 2);
		for (ssize_t off = 0, w; off < n + 2; off += w) {
			w = send(sock, p + off, (size_t)(n + 2 - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return -EPIPE;
		}
	}
}

int api_client_open_ex(const char *socket_path, const char *method, const char *path,
		       const char *headers, const void *body, size_t n, int body_fd,
		       unsigned flags, int timeout_ms, struct api_stream *s, struct err *e)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	buf_init(&s->in, HTTP_HEAD_MAX + 2 * 65536);
	buf_init(&s->head, HTTP_HEAD_MAX + 1);
	s->ch = xcalloc(1, sizeof(*s->ch));
	if ((rc = connect_unix(socket_path, timeout_ms, &s->fd, e)) < 0)
		return rc;
	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: container\r\nUser-Agent: container-cli\r\n",
		   method, path);
	buf_puts(&req, flags & API_CLIENT_HIJACK ? "Connection: Upgrade\r\nUpgrade: tcp\r\n"
						  : "Connection: close\r\n");
	if (headers)
		buf_puts(&req, headers);
	if (body)
		buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", n);
	else if ((flags & API_CLIENT_SEND_TAR) || body_fd >= 0)
		buf_puts(&req, "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n");
	buf_puts(&req, "\r\n");
	if (body)
		buf_append(&req, body, n);
	if ((rc = fs_write_full(s->fd, req.data, req.len, e)) < 0)
		return err_wrap(e, "send to the API server");
	if (flags & API_CLIENT_SEND_TAR)
		return 0;
	if (body_fd >= 0 && (rc = send_fd_body(s->fd, body_fd, e)) < 0 && rc != -EPIPE)
		return rc;
	return read_head(s->fd, method, s, e);
}

void api_stream_close(struct api_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buf_free(&s->in);
	buf_free(&s->head);
	free(s->ch);
	s->ch = NULL;
}

int api_stream_send(struct api_stream *s, const void *p, size_t n, struct err *e)
{
	char h[32];
	int len;

	if (!n)
		return 0;   /* an empty chunk would end the body */
	len = snprintf(h, sizeof(h), "%zx\r\n", n);
	if (fs_write_full(s->fd, h, (size_t)len, e) < 0 || fs_write_full(s->fd, p, n, e) < 0 ||
	    fs_write_full(s->fd, "\r\n", 2, e) < 0)
		return err_wrap(e, "send to the API server");
	return 0;
}

int api_stream_finish(struct api_stream *s, bool complete, struct err *e)
{
	if (complete && fs_write_full(s->fd, "0\r\n\r\n", 5, e) < 0)
		return err_wrap(e, "send to the API server");
	shutdown(s->fd, SHUT_WR);
	return read_head(s->fd, "PUT", s, e);
}

int api_stream_header(const struct api_stream *s, const char *name, struct buf *out)
{
	_cleanup_free_ struct http_head *h = xmalloc(sizeof(*h));
	struct err e = ERR_INIT;
	const char *v;
	size_t vn;

	if (!s->head.len || http_parse_response(s->head.data, s->head.len, h, &e) < 0 ||
	    !(v = http_head_get(h, name, &vn)))
		return -ENOENT;
	return buf_append(out, v, vn) < 0 ? -ENAMETOOLONG : 0;
}

int api_client_call(const char *socket_path, const char *method, const char *path,
		    const void *body, size_t n, int timeout_ms, struct api_response *out,
		    struct err *e)
{
	struct api_stream s;
	ssize_t got;
	int rc;

	out->status = 0;
	buf_init(&out->body, API_CLIENT_BODY_MAX);
	rc = api_client_open(socket_path, method, path, body, n, 0, timeout_ms, &s, e);
	out->status = s.status;
	while (rc == 0 && (got = api_stream_read(&s, &out->body, e)) != 0)
		if (got < 0)
			rc = (int)got;
	api_stream_close(&s);
	return rc;
}

int api_client_start_server(const char *socket_path, int wait_ms, struct err *e)
{
	_cleanup_buf_ struct buf self = BUF_INIT, said = BUF_INIT;
	struct api_response r;
	int status = 0, rc, pfd[2];
	char b[512];
	ssize_t n;
	pid_t pid;

	if ((rc = paths_self_spawn(&self, e)) < 0)
		return rc;
	if (pipe(pfd) < 0)
		return err_sys(e, "pipe");
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		/* `system start --debug` (or CONTAINER_LOG=debug) reaches the server */
		char *args[] = { (char *)"container", (char *)"apiserver",
				 log_level() >= LOG_DEBUG ? (char *)"--debug" : NULL, NULL };

		dup2(pfd[1], STDERR_FILENO);
		/* only its stderr may hold the pipe: the daemon replaces that */
		close(pfd[0]);
		close(pfd[1]);
		execv(buf_str(&self), args);
		_exit(127);
	}
	close(pfd[1]);
	/* what it says before it daemonizes (its stdio then goes to its log):
	 * kept for our error, since a loser of a race with another client's
	 * start only says "already running" */
	buf_init(&said, 2048);
	while ((n = read(pfd[0], b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && said.len + (size_t)n < 2000)
			buf_append(&said, b, (size_t)n);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (int waited = 0; waited <= wait_ms; waited += 50) {
		rc = api_client_call(socket_path, "GET", "/_ping", NULL, 0, 2000, &r, e);
		api_response_free(&r);
		if (rc == 0 && r.status == 200) {
			err_clear(e);
			return 0;
		}
		/* it failed, and not because another one runs: no use waiting */
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && !strstr(buf_str(&said), "already"))
			break;
		timex_sleep_ms(50);
	}
	while (said.len && (said.data[said.len - 1] == '\n' || said.data[said.len - 1] == '\r'))
		said.data[--said.len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, -ECONNREFUSED, "the API server did not start%s%s",
			       said.len ? ": " : "", buf_str(&said));
	return err_set(e, -ETIMEDOUT, "the API server did not answer within %d s", wait_ms / 1000);
}

void api_response_free(struct api_response *r)
{
	buf_free(&r->body);
}

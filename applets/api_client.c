/* A minimal, bounded HTTP/1.1 client over the API server's unix socket
 * (see applets/api_client.h).  Blocking I/O with socket timeouts: the
 * callers are CLI commands doing one call at a time. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "applets/api_client.h"
#include "applets/api_http.h"
#include "applets/apiserver.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "oci/http_parse.h"

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

static int read_response(int fd, const char *method, struct api_response *out, struct err *e)
{
	_cleanup_free_ struct http_head *hp = xmalloc(sizeof(*hp));
	struct http_head *h = hp;
	_cleanup_buf_ struct buf in = BUF_INIT;
	struct api_chunked ch = { 0 };
	enum http_framing fr;
	long long length;
	size_t head;
	ssize_t n;
	int rc;

	buf_init(&in, HTTP_HEAD_MAX + API_CLIENT_BODY_MAX + 65536);
	while ((rc = http_parse_response(in.data ? in.data : "", in.len, h, e)) == -EAGAIN) {
		if ((n = read_more(fd, &in, e)) < 0)
			return (int)n;
		if (n == 0)
			return err_set(e, -EPROTO, "the API server closed the connection early");
	}
	if (rc < 0)
		return err_wrap(e, "API response");
	head = (size_t)rc;
	if ((rc = http_head_framing(h, strcmp(method, "HEAD") == 0, &fr, &length, e)) < 0)
		return rc;
	out->status = h->status;
	for (;;) {
		size_t have = in.len - head;

		if (fr == HTTP_BODY_NONE)
			return 0;
		if (fr == HTTP_BODY_LENGTH && have >= (unsigned long long)length) {
			buf_append(&out->body, in.data + head, (size_t)length);
			return 0;
		}
		if (fr == HTTP_BODY_CHUNKED) {
			rc = api_chunked_step(&ch, in.data + head, have, API_CLIENT_BODY_MAX, e);
			if (rc < 0)
				return err_wrap(e, "API response");
			if (rc == 1) {
				buf_append(&out->body, in.data + head, ch.out);
				return 0;
			}
		}
		if ((n = read_more(fd, &in, e)) < 0)
			return (int)n;
		if (n == 0) {
			if (fr != HTTP_BODY_EOF)
				return err_set(e, -EPROTO, "the API server closed the connection early");
			buf_append(&out->body, in.data + head, in.len - head);
			return 0;
		}
	}
}

int api_client_call(const char *socket_path, const char *method, const char *path,
		    const void *body, size_t n, int timeout_ms, struct api_response *out,
		    struct err *e)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	_cleanup_close_ int fd = -1;
	int rc;

	out->status = 0;
	buf_init(&out->body, API_CLIENT_BODY_MAX);
	if ((rc = connect_unix(socket_path, timeout_ms, &fd, e)) < 0)
		return rc;
	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: container\r\nUser-Agent: container-cli\r\n"
			 "Connection: close\r\n", method, path);
	if (body)
		buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", n);
	buf_puts(&req, "\r\n");
	if (body)
		buf_append(&req, body, n);
	if ((rc = fs_write_full(fd, req.data, req.len, e)) < 0)
		return err_wrap(e, "send to the API server");
	return read_response(fd, method, out, e);
}

void api_response_free(struct api_response *r)
{
	buf_free(&r->body);
}

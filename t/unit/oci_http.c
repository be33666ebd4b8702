/* The HTTP client (oci/http.c) against an in-process fake server on
 * 127.0.0.1 serving canned and hostile byte sequences: framing, lies,
 * cuts, redirects (with the captured requests checked for credentials),
 * retries, timeouts, proxies, and TLS verification failures. */
#include <sys/stat.h>
#include <time.h>

#include "lib/err.h"
#include "oci/http.h"
#include "t/tap.h"
#include "t/unit/http_fake.h"

static struct fake srv, srv2;
static struct http_client *cl;
static char url[256], url2[256];

static struct http_client *client(int idle_ms, int retries)
{
	struct http_client_opts o = { 0 };
	struct err e = ERR_INIT;

	o.idle_timeout_ms = idle_ms;
	o.connect_timeout_ms = 2000;
	o.retries = retries;
	o.retry_base_ms = 20;
	o.retry_after_max_s = 5;
	return http_client_new(&o, &e);
}

static int get(const char *u, const char *auth, struct buf *body, int *status,
	       struct err *e)
{
	struct http_request rq = { .method = "GET", .url = u, .authorization = auth };
	struct http_response *r;
	int rc;

	buf_reset(body);
	rc = http_do(cl, &rq, &r, e);
	if (rc < 0)
		return rc;
	*status = r->status;
	rc = http_response_read_all(r, body, 1 << 20, e);
	http_response_free(r);
	return rc;
}

/* ---- handlers ---- */

static int h_hello(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello");
	return 1;
}

static int h_chunked(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5;name=\"x\"\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n");
	return 1;
}

static int h_longer(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA-BYTES");
	return 1;
}

static int h_endless(struct fconn *fc, const char *req, size_t len, int n)
{
	char junk[8192];
	(void)req; (void)len; (void)n;
	memset(junk, 'z', sizeof(junk));
	fc_puts(fc, strstr(req, "chunked") ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					 : "HTTP/1.1 200 OK\r\n\r\n");
	if (strstr(req, "chunked")) {
		while (fc_puts(fc, "2000\r\n") == 0 && fc_write(fc, junk, sizeof(junk)) == 0 &&
		       fc_puts(fc, "\r\n") == 0)
			;
	} else {
		while (fc_write(fc, junk, sizeof(junk)) == 0)
			;
	}
	return 0;
}

static int h_chunk_lie(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	if (strstr(req, "/longer"))
		fc_puts(fc, "5\r\nhelloworld\r\n0\r\n\r\n");
	else if (strstr(req, "/badsize"))
		fc_puts(fc, "zz\r\nhello\r\n0\r\n\r\n");
	else if (strstr(req, "/huge"))
		fc_puts(fc, "ffffffffffffffffff\r\nhello\r\n");
	else
		fc_puts(fc, "a\r\nhello");   /* cut inside the chunk */
	return 0;
}

static int h_bighead(struct fconn *fc, const char *req, size_t len, int n)
{
	char *v = xmalloc(1 << 20);
	(void)req; (void)len; (void)n;
	memset(v, 'a', 1 << 20);
	fc_puts(fc, "HTTP/1.1 200 OK\r\nX-Big: ");
	fc_write(fc, v, 1 << 20);
	free(v);
	return 0;
}

static int h_cut(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789");
	return 0;
}

static int h_redirect_away(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_printf(fc, "HTTP/1.1 307 Temporary Redirect\r\nLocation: %s/blob?sig=1\r\n"
		  "Content-Length: 0\r\n\r\n", url2);
	return 1;
}

static int h_loop(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len;
	fc_printf(fc, "HTTP/1.1 302 Found\r\nLocation: /loop%d\r\nContent-Length: 3\r\n\r\nabc", n);
	return 1;
}

static int h_relative(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)len; (void)n;
	if (strncmp(req, "GET /a/b/start", 14) == 0)
		fc_puts(fc, "HTTP/1.1 301 Moved\r\nLocation: next?x=1\r\nContent-Length: 0\r\n\r\n");
	else if (strncmp(req, "GET /a/b/next?x=1 ", 18) == 0)
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	else
		fc_puts(fc, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	return 1;
}

static int h_429(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)len;
	if (strstr(req, "/long"))
		fc_puts(fc, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n");
	else if (n == 0)
		fc_puts(fc, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
	else
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	return 1;
}

static int h_503(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len;
	if (n < 2)
		fc_puts(fc, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	else
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	return 1;
}

/* Answers without Connection: close, then closes: the pooled connection is
 * stale by the next request. */
static int h_close_silently(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	usleep(20000);
	return 0;
}

static int h_stall(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	usleep(600000);
	return 0;
}

static int h_echo(struct fconn *fc, const char *req, size_t len, int n)
{
	const char *body = strstr(req, "\r\n\r\n") + 4;
	(void)n;
	if (strncmp(req, "POST /307", 9) == 0) {
		fc_puts(fc, "HTTP/1.1 307 Again\r\nLocation: /echo\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strncmp(req, "POST /303", 9) == 0) {
		fc_puts(fc, "HTTP/1.1 303 See Other\r\nLocation: /echo\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%.*s",
		  (size_t)(len - (size_t)(body - req)) + 4, 4, req);
	fc_write(fc, body, len - (size_t)(body - req));
	return 1;
}

/* A forward proxy: CONNECT tunnels to 127.0.0.1:<port>; absolute-form
 * requests are answered directly. */
static int h_proxy(struct fconn *fc, const char *req, size_t len, int n)
{
	char buf[16384];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int port, up;
	(void)len; (void)n;

	if (strncmp(req, "GET http://", 11) == 0) {
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied");
		return 1;
	}
	if (sscanf(req, "CONNECT 127.0.0.1:%d ", &port) != 1) {
		fc_puts(fc, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
		return 0;
	}
	up = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(up, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fc_puts(fc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
		close(up);
		return 0;
	}
	fc_puts(fc, "HTTP/1.1 200 Connection established\r\n\r\n");
	for (;;) {
		struct pollfd p[2] = { { fc->fd, POLLIN, 0 }, { up, POLLIN, 0 } };
		ssize_t r;
		if (poll(p, 2, 5000) <= 0)
			break;
		if (p[0].revents) {
			if ((r = recv(fc->fd, buf, sizeof(buf), 0)) <= 0 || send(up, buf, (size_t)r, MSG_NOSIGNAL) < 0)
				break;
		}
		if (p[1].revents) {
			if ((r = recv(up, buf, sizeof(buf), 0)) <= 0 || send(fc->fd, buf, (size_t)r, MSG_NOSIGNAL) < 0)
				break;
		}
	}
	close(up);
	return 0;
}

/* ---- tests ---- */

static void test_basic(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT, rq = BUF_INIT;
	struct http_request req = { .method = "GET" };
	struct http_response *r;
	struct err e = ERR_INIT;
	int status = 0, rc;

	fake_start(&srv, h_hello, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", srv.port);
	rc = get(url, "Bearer secret", &b, &status, &e);
	ok(rc == 0 && status == 200, "GET 200 (%s)", e.msg);
	is_str(buf_str(&b), "hello", "Content-Length body");
	req.url = url;
	rc = http_do(cl, &req, &r, &e);
	ok(rc == 0, "second GET");
	is_str(http_response_header(r, "x-test"), "yes", "header value as C string");
	ok(http_response_header(r, "missing") == NULL, "missing header NULL");
	is_int(r->content_length, 5, "content_length");
	http_response_free(r);   /* unread body of 5 bytes: drained, reused */
	rc = get(url, NULL, &b, &status, &e);
	is_int(srv.nconn, 1, "three requests on one keep-alive connection");
	fake_request(&srv, 0, &rq);
	ok(strstr(buf_str(&rq), "GET /v2/ HTTP/1.1\r\n") != NULL, "request line");
	ok(strstr(buf_str(&rq), "\r\nHost: 127.0.0.1:") != NULL, "Host header with port");
	ok(strstr(buf_str(&rq), "\r\nAuthorization: Bearer secret\r\n") != NULL,
	   "Authorization sent to the original host");
	http_client_free(cl);
	fake_stop(&srv);
}

static void test_framing(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	int status, rc;

	fake_start(&srv, h_chunked, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/c", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0, "chunked body (%s)", e.msg);
	is_str(buf_str(&b), "hello world", "chunks with extensions and trailers joined");
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && srv.nconn == 1, "connection reused after a chunked body");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_longer, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/l", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0, "body longer than declared: read");
	is_str(buf_str(&b), "hello", "reading stopped exactly at Content-Length");
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && srv.nconn == 2, "connection with surplus bytes not reused");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_endless, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/e", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	is_int(rc, -EFBIG, "endless body bounded by the caller's limit");
	ok(strstr(e.msg, "larger than") != NULL, "message: %s", e.msg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/chunked", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	is_int(rc, -EFBIG, "endless chunked body bounded too");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_chunk_lie, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/longer", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -EPROTO, "chunk longer than its size: %s", e.msg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/badsize", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -EPROTO, "non-hex chunk size: %s", e.msg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/huge", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -EFBIG, "absurd chunk size: %s", e.msg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cut", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -ECONNRESET, "cut inside a chunk: %s", e.msg);
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_bighead, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -E2BIG, "1 MiB header refused: %s", e.msg);
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_cut, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -ECONNRESET, "connection cut mid-body");
	ok(strstr(e.msg, "closed after 10 of 100000 bytes") != NULL, "message: %s", e.msg);
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_stall, NULL);
	cl = client(200, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -ETIMEDOUT, "stalled body times out: %s", e.msg);
	http_client_free(cl);
	fake_stop(&srv);
}

static void test_redirects(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT, rq = BUF_INIT;
	struct http_request req = { .method = "GET", .authorization = "Bearer TOPSECRET" };
	struct http_response *r;
	struct err e = ERR_INIT;
	int status, rc;

	fake_start(&srv, h_redirect_away, NULL);
	fake_start(&srv2, h_hello, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/x/blobs/sha256:aa", srv.port);
	snprintf(url2, sizeof(url2), "http://localhost:%d", srv2.port);
	req.url = url;
	rc = http_do(cl, &req, &r, &e);
	ok(rc == 0 && r->status == 200 && r->redirected_cross_host, "redirect to another host followed");
	ok(rc == 0 && strstr(r->url, "/blob?sig=1") != NULL, "final URL recorded: %s", rc == 0 ? r->url : "");
	http_response_free(r);
	fake_request(&srv, 0, &rq);
	ok(strstr(buf_str(&rq), "Authorization: Bearer TOPSECRET") != NULL,
	   "registry got the Authorization header");
	fake_request(&srv2, 0, &rq);
	ok(strstr(buf_str(&rq), "GET /blob?sig=1 ") != NULL, "other host got the request");
	ok(strcasestr(buf_str(&rq), "authorization") == NULL && strstr(buf_str(&rq), "TOPSECRET") == NULL,
	   "other host got NO Authorization header");
	http_client_free(cl);
	fake_stop(&srv);
	fake_stop(&srv2);

	fake_start(&srv, h_loop, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/loop", srv.port);
	is_int(get(url, NULL, &b, &status, &e), -ELOOP, "redirect loop stops");
	ok(strstr(e.msg, "more than 10 redirects") != NULL, "message: %s", e.msg);
	is_int(srv.nreq, 11, "exactly 10 redirects followed");
	is_int(srv.nconn, 1, "redirect bodies drained and the connection reused");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_relative, NULL);
	cl = client(2000, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/a/b/start", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && status == 200 && strcmp(buf_str(&b), "ok") == 0, "relative Location resolved");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_echo, NULL);
	cl = client(2000, 0);
	{
		struct http_request p = { .method = "POST", .body = "payload", .body_len = 7 };
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/307", srv.port);
		p.url = url;
		rc = http_do(cl, &p, &r, &e);
		buf_reset(&b);
		if (rc == 0)
			http_response_read_all(r, &b, 1000, &e);
		is_str(buf_str(&b), "POSTpayload", "307 repeats method and body");
		http_response_free(r);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/303", srv.port);
		rc = http_do(cl, &p, &r, &e);
		buf_reset(&b);
		if (rc == 0)
			http_response_read_all(r, &b, 1000, &e);
		is_str(buf_str(&b), "GET ", "303 turns into GET without body");
		http_response_free(r);
	}
	http_client_free(cl);
	fake_stop(&srv);
}

static void test_retries(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct timespec t0, t1;
	int status = 0, rc;
	double el;

	fake_start(&srv, h_429, NULL);
	cl = client(3000, 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = get(url, NULL, &b, &status, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(rc == 0 && status == 200, "429 then 200: retried");
	ok(el >= 0.95 && el < 3, "Retry-After: 1 honoured (%.2f s)", el);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/long", srv.port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = get(url, NULL, &b, &status, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(rc == 0 && status == 429 && t1.tv_sec - t0.tv_sec < 2,
	   "Retry-After beyond the bound is not waited for: 429 returned");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_503, NULL);
	cl = client(3000, 3);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && status == 200 && srv.nreq == 3, "503 twice then 200 with backoff");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_503, NULL);
	cl = client(3000, -1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && status == 503 && srv.nreq == 1, "no retries when disabled");
	http_client_free(cl);
	fake_stop(&srv);

	fake_start(&srv, h_close_silently, NULL);
	cl = client(3000, -1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	usleep(50000);
	rc |= get(url, NULL, &b, &status, &e);
	ok(rc == 0 && status == 200 && srv.nconn == 2, "stale pooled connection replaced (%s)", e.msg);
	http_client_free(cl);
	fake_stop(&srv);

	cl = client(3000, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);   /* stopped */
	rc = get(url, NULL, &b, &status, &e);
	is_int(rc, -ECONNREFUSED, "connection refused: %s", e.msg);
	http_client_free(cl);
}

static void test_proxy(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT, rq = BUF_INIT;
	struct http_client_opts o = { 0 };
	char proxy[64];
	struct err e = ERR_INIT;
	int status = 0, rc;

	fake_start(&srv, h_proxy, NULL);
	fake_start(&srv2, h_hello, NULL);
	snprintf(proxy, sizeof(proxy), "http://user:pw@127.0.0.1:%d", srv.port);
	o.http_proxy = proxy;
	o.retries = -1;
	cl = http_client_new(&o, &e);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/direct", srv2.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && strcmp(buf_str(&b), "hello") == 0 && srv.nreq == 0,
	   "loopback destinations bypass the proxy");
	http_client_free(cl);
	o.proxy_loopback = 1;
	cl = http_client_new(&o, &e);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && strcmp(buf_str(&b), "proxied") == 0, "http:// through HTTP_PROXY");
	fake_request(&srv, 0, &rq);
	ok(strncmp(buf_str(&rq), "GET http://127.0.0.1:", 21) == 0, "absolute-form request target");
	ok(strstr(buf_str(&rq), "Proxy-Authorization: Basic dXNlcjpwdw==\r\n") != NULL,
	   "proxy credentials from the proxy URL");
	http_client_free(cl);
	o.no_proxy = "example.com, 127.0.0.1";
	cl = http_client_new(&o, &e);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && strcmp(buf_str(&b), "hello") == 0, "NO_PROXY entry bypasses the proxy");
	http_client_free(cl);
	fake_stop(&srv);
	fake_stop(&srv2);
}

static void write_file(const char *path, const unsigned char *s)
{
	FILE *f = fopen(path, "w");
	fputs((const char *)s, f);
	fclose(f);
}

static void test_tls(void)
{
	static unsigned char ca_pem[4096], ca2_pem[4096], good[4096], wrong[4096], other[4096];
	mbedtls_pk_context ca_key, ca2_key, leaf_key;
	mbedtls_ssl_config *sc_good, *sc_wrong, *sc_other;
	_cleanup_buf_ struct buf b = BUF_INIT, cafile = BUF_INIT;
	struct http_client_opts o = { 0 };
	struct fake_pki pki;
	struct err e = ERR_INIT;
	const char *tmp = getenv("TMPDIR");
	int status = 0, rc;

	fake_pki_init(&pki);
	fake_key(&pki, &ca_key);
	fake_key(&pki, &ca2_key);
	fake_key(&pki, &leaf_key);
	fake_cert(&pki, "Test CA", &ca_key, "Test CA", &ca_key, 1, ca_pem, sizeof(ca_pem));
	fake_cert(&pki, "Evil CA", &ca2_key, "Evil CA", &ca2_key, 1, ca2_pem, sizeof(ca2_pem));
	fake_cert(&pki, "127.0.0.1", &leaf_key, "Test CA", &ca_key, 0, good, sizeof(good));
	fake_cert(&pki, "wrong.example", &leaf_key, "Test CA", &ca_key, 0, wrong, sizeof(wrong));
	fake_cert(&pki, "127.0.0.1", &leaf_key, "Evil CA", &ca2_key, 0, other, sizeof(other));
	sc_good = fake_tls_server(&pki, good, &leaf_key);
	sc_wrong = fake_tls_server(&pki, wrong, &leaf_key);
	sc_other = fake_tls_server(&pki, other, &leaf_key);
	buf_printf(&cafile, "%s/oci_http_ca.%d.pem", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	write_file(buf_str(&cafile), ca_pem);
	o.ca_file = buf_str(&cafile);
	o.retries = -1;
	o.connect_timeout_ms = 3000;
	cl = http_client_new(&o, &e);
	ok(cl != NULL, "client with an extra CA file");

	fake_start(&srv, h_hello, sc_good);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && status == 200 && strcmp(buf_str(&b), "hello") == 0, "HTTPS with a trusted CA (%s)", e.msg);
	rc = get(url, NULL, &b, &status, &e);
	ok(rc == 0 && srv.nconn == 1, "TLS connection reused");
	fake_stop(&srv);
	http_client_free(cl);
	cl = http_client_new(&o, &e);

	fake_start(&srv, h_hello, sc_other);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	is_int(rc, -EPROTO, "untrusted certificate refused");
	is_str(e.msg, "TLS: certificate for 127.0.0.1 not trusted (unknown CA)", "untrusted message");
	fake_stop(&srv);

	fake_start(&srv, h_hello, sc_wrong);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/", srv.port);
	rc = get(url, NULL, &b, &status, &e);
	is_int(rc, -EPROTO, "wrong-hostname certificate refused");
	is_str(e.msg, "TLS: certificate is not valid for 127.0.0.1 (hostname mismatch)", "mismatch message");
	fake_stop(&srv);

	/* https -> http downgrade */
	fake_start(&srv2, h_hello, NULL);
	fake_start(&srv, h_redirect_away, sc_good);
	snprintf(url2, sizeof(url2), "http://127.0.0.1:%d", srv2.port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/", srv.port);
	rc = get(url, "Bearer x", &b, &status, &e);
	is_int(rc, -EPROTO, "https to http redirect refused");
	ok(strstr(e.msg, "refusing redirect from https") != NULL, "message: %s", e.msg);
	is_int(srv2.nreq, 0, "nothing reached the plain-http host");
	fake_stop(&srv);
	fake_stop(&srv2);
	http_client_free(cl);

	/* CONNECT tunnel through a proxy to the TLS server */
	{
		char proxy[64];
		struct fake px;
		fake_start(&px, h_proxy, NULL);
		fake_start(&srv, h_hello, sc_good);
		snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", px.port);
		o.https_proxy = proxy;
		o.proxy_loopback = 1;
		cl = http_client_new(&o, &e);
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/v2/", srv.port);
		rc = get(url, NULL, &b, &status, &e);
		ok(rc == 0 && strcmp(buf_str(&b), "hello") == 0 && px.nreq == 1,
		   "HTTPS through a CONNECT tunnel (%s)", e.msg);
		http_client_free(cl);
		fake_stop(&srv);
		fake_stop(&px);
		o.https_proxy = NULL;
	}
	unlink(buf_str(&cafile));
	fake_tls_free(sc_good);
	fake_tls_free(sc_wrong);
	fake_tls_free(sc_other);
	mbedtls_pk_free(&ca_key);
	mbedtls_pk_free(&ca2_key);
	mbedtls_pk_free(&leaf_key);
	fake_pki_free(&pki);
	o.ca_file = "/nonexistent/ca.pem";
	ok(http_client_new(&o, &e) == NULL && strstr(e.msg, "cannot load CA file"),
	   "missing CA file is an error: %s", e.msg);
}

static void test_urls(void)
{
	struct http_url u, v;
	struct err e = ERR_INIT;
	_cleanup_buf_ struct buf b = BUF_INIT;

	ok(http_url_parse("https://Registry.example:5000/v2/?x=1#frag", &u, &e) == 0 &&
	   u.tls && u.port == 5000 && strcmp(u.target, "/v2/?x=1") == 0, "URL with port, query, fragment");
	ok(http_url_resolve(&u, "//other.example/p", &v, &e) == 0 && v.tls && v.port == 443 &&
	   strcmp(v.host, "other.example") == 0, "scheme-relative Location");
	http_url_free(&v);
	ok(http_url_resolve(&u, "?y=2", &v, &e) == 0 && strcmp(v.target, "/v2/?y=2") == 0,
	   "query-only Location");
	http_url_free(&v);
	http_url_free(&u);
	ok(http_url_parse("http://[::1]:8080", &u, &e) == 0 && strcmp(u.host, "::1") == 0 &&
	   strcmp(u.target, "/") == 0, "IPv6 literal");
	http_url_format(&u, &b);
	is_str(buf_str(&b), "http://[::1]:8080/", "formatted back");
	http_url_free(&u);
	is_int(http_url_parse("https://user:pw@host/", &u, &e), -EINVAL, "user info refused");
	ok(strstr(e.msg, "pw") == NULL, "and not echoed");
	is_int(http_url_parse("ftp://host/", &u, &e), -EINVAL, "ftp refused");
	is_int(http_url_parse("http://host:99999/", &u, &e), -EINVAL, "port out of range");
	is_int(http_url_parse("http://ho st/", &u, &e), -EINVAL, "space in host");
	is_int(http_url_parse("http://host/a b", &u, &e), -EINVAL, "space in path");
	is_int(http_url_parse("http://host/a\r\nX: y", &u, &e), -EINVAL, "CRLF in path");
	ok(http_host_is_loopback("127.0.0.1") && http_host_is_loopback("LOCALHOST") &&
	   http_host_is_loopback("::1") && !http_host_is_loopback("128.0.0.1"), "loopback detection");
}

int main(void)
{
	test_urls();
	test_basic();
	test_framing();
	test_redirects();
	test_retries();
	test_proxy();
	test_tls();
	return done_testing();
}

/* Unit tests of the API server's HTTP/1.1 parser and writer
 * (applets/api_http.c) and the router's matching (applets/api_router.c):
 * valid requests, hostile ones, and every split point of a pipelined
 * stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_http.h"
#include "applets/api_router.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "t/tap.h"

static struct api_req req;

/* Parse a C string; returns the parser's result, *status the refusal. */
static int parse(const char *s, int *status)
{
	struct err e = ERR_INIT;
	size_t n = strlen(s);
	char *copy = malloc(n + 1);
	int rc;

	memcpy(copy, s, n);
	rc = api_http_parse(copy, n, &req, status, &e);
	/* The request points into copy: keep only what the tests read. */
	req.target = NULL;
	req.nheaders = rc > 0 ? req.nheaders : 0;
	free(copy);
	return rc;
}

static int status_of(const char *s)
{
	int st = 0;

	parse(s, &st);
	return st;
}

static void test_valid(void)
{
	int st, rc;
	size_t n;
	const char *v;
	static const char get[] = "GET /v1.45/info HTTP/1.1\r\nHost: docker\r\nUser-Agent: x\r\n\r\n";
	char copy[sizeof(get)];

	memcpy(copy, get, sizeof(get));
	rc = api_http_parse(copy, sizeof(get) - 1, &req, &st, NULL);
	is_int(rc, sizeof(get) - 1, "GET head length");
	is_str(req.method, "GET", "method");
	ok(req.target_len == 11 && memcmp(req.target, "/v1.45/info", 11) == 0, "target");
	is_int(req.minor, 1, "HTTP/1.1");
	ok(req.keepalive, "1.1 keeps alive");
	is_int(req.body, API_BODY_NONE, "no body");
	v = api_req_header(&req, "HOST", &n);
	ok(v && n == 6 && memcmp(v, "docker", 6) == 0, "header lookup ignores case");

	is_int(parse("HEAD /_ping HTTP/1.0\n\n", &st), 22, "bare LF, HTTP/1.0");
	ok(!req.keepalive, "1.0 closes by default");
	parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &st);
	ok(req.keepalive, "1.0 keep-alive");
	parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &st);
	ok(!req.keepalive, "Connection: close in a list");
	parse("POST /containers/x/attach HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", &st);
	ok(req.upgrade_tcp, "Upgrade: tcp detected");
	parse("POST /x HTTP/1.1\r\nUpgrade: tcp\r\n\r\n", &st);
	ok(!req.upgrade_tcp, "Upgrade without Connection: Upgrade is not a hijack");
	parse("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &st);
	ok(req.body == API_BODY_LENGTH && req.content_length == 5, "Content-Length body");
	parse("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &st);
	ok(req.body == API_BODY_LENGTH, "identical repeated Content-Length accepted");
	parse("POST /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &st);
	is_int(req.body, API_BODY_CHUNKED, "chunked body");
	is_int(parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &st), 22, "leading empty lines skipped");
	is_int(parse("GET / HTTP/1.1\r\nHost: x", &st), -EAGAIN, "incomplete head");
	is_int(parse("GET / HTTP/1.1\r\nX-A: a\tb \r\n\r\n", &st), 29, "tab in value");
}

static void test_hostile(void)
{
	struct buf big = BUF_INIT;
	int st;

	is_int(status_of("GET /\r\n\r\n"), 400, "HTTP/0.9 request line");
	is_int(status_of("GET  / HTTP/1.1\r\n\r\n"), 400, "double space");
	is_int(status_of("GET / HTTP/2.0\r\n\r\n"), 505, "HTTP/2.0");
	is_int(status_of("GET / HTTP/1.1 \r\n\r\n"), 400, "trailing space after version");
	is_int(status_of("\x01GET / HTTP/1.1\r\n\r\n"), 400, "control byte first");
	is_int(parse("\x16\x03\x01", &st), -EPROTO, "TLS hello refused before the head ends");
	is_int(status_of("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400, "obs-fold refused");
	is_int(status_of("GET / HTTP/1.1\r\nX : a\r\n\r\n"), 400, "space before colon");
	is_int(status_of("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400, "header without colon");
	{
		static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
		char copy[sizeof(nul)];

		memcpy(copy, nul, sizeof(nul));
		is_int(api_http_parse(copy, sizeof(nul) - 1, &req, &st, NULL), -EPROTO, "NUL in header");
		is_int(st, 400, "NUL -> 400");
	}
	is_int(status_of("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), 400, "bare CR in header");
	is_int(status_of("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n"), 400, "DEL in header");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400,
	       "conflicting Content-Length");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400, "negative length");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n"), 400, "length list");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
	       400, "overflowing length");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: 8388609\r\n\r\n"), 413,
	       "body over 8 MiB -> 413");
	is_int(status_of("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
	       400, "CL + TE refused");
	is_int(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501,
	       "TE other than chunked -> 501");
	is_int(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n"), 501, "repeated TE");
	is_int(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, "TE in 1.0");
	is_int(status_of("GETTTTTTTTTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\n\r\n"), 501, "long method");

	/* 1 MiB of header: refused at the 64 KiB bound, complete or not. */
	buf_puts(&big, "GET / HTTP/1.1\r\nX-Big: ");
	while (big.len < (1u << 20))
		buf_puts(&big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	is_int(api_http_parse(big.data, big.len, &req, &st, NULL), -E2BIG, "1 MiB unterminated head");
	is_int(st, 431, "-> 431");
	buf_puts(&big, "\r\n\r\n");
	is_int(api_http_parse(big.data, big.len, &req, &st, NULL), -E2BIG, "1 MiB complete head");
	is_int(st, 431, "-> 431");
	buf_reset(&big);
	buf_puts(&big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= API_HEADERS_MAX; i++)
		buf_printf(&big, "X-%d: v\r\n", i);
	buf_puts(&big, "\r\n");
	is_int(api_http_parse(big.data, big.len, &req, &st, NULL), -E2BIG, "101 headers");
	is_int(st, 431, "too many headers -> 431");
	buf_free(&big);
}

/* Decode a chunked body fed in pieces of `step` bytes. */
static int chunked(const char *raw, size_t step, struct buf *out, size_t *used)
{
	struct api_chunked c = { 0 };
	size_t n = strlen(raw), have = 0;
	char *p = malloc(n + 1);
	int rc = 0;

	while (have < n) {
		size_t take = n - have < step ? n - have : step;
		memcpy(p + have, raw + have, take);
		have += take;
		rc = api_chunked_step(&c, p, have, 1024, NULL);
		if (rc != 0)
			break;
	}
	buf_append(out, p, c.out);
	*used = c.raw;
	free(p);
	return rc;
}

static void test_chunked(void)
{
	static const char body[] = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
	struct buf out = BUF_INIT;
	size_t used, step;
	int all = 1;

	for (step = 1; step <= sizeof(body); step++) {
		buf_reset(&out);
		if (chunked(body, step, &out, &used) != 1 || strcmp(buf_str(&out), "hello world") != 0 ||
		    used != sizeof(body) - 1 - 4)
			all = 0;
	}
	ok(all, "chunked body decoded at every feed size, trailers consumed, next request kept");
	buf_reset(&out);
	is_int(chunked("5\nhello\n0\n\n", 100, &out, &used), 1, "LF-only chunked");
	is_int(chunked("zz\r\n", 100, &out, &used), -EPROTO, "bad chunk size");
	is_int(chunked("-5\r\n", 100, &out, &used), -EPROTO, "negative chunk size");
	is_int(chunked("ffffffffffffffffff\r\n", 100, &out, &used), -EFBIG, "huge chunk size");
	is_int(chunked("401\r\n", 100, &out, &used), -EFBIG, "chunk over the bound");
	is_int(chunked("200\r\n", 100, &out, &used), 0, "chunk within the bound waits");
	is_int(chunked("2\r\nabX\r\n", 100, &out, &used), -EPROTO, "chunk without CRLF");
	is_int(chunked("3\r\nabc\r\n0\r\n X\r\n\r\n", 100, &out, &used), -EPROTO, "folded trailer");
	buf_free(&out);
}

/* A pipelined stream split at every offset parses to the same requests. */
static void test_pipelined(void)
{
	static const char s[] = "GET /_ping HTTP/1.1\r\n\r\n"
				"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
				"HEAD /version HTTP/1.1\r\nConnection: close\r\n\r\n";
	size_t n = sizeof(s) - 1, split, all = 1;
	char *p = malloc(n);

	memcpy(p, s, n);
	for (split = 0; split <= n; split++) {
		size_t pos = 0, len = split, count = 0;
		int st, rc;
		const char *methods[] = { "GET", "POST", "HEAD" };

		/* First only the bytes before split, then all of them. */
		while (count < 3) {
			rc = api_http_parse(p + pos, len - pos, &req, &st, NULL);
			if (rc == -EAGAIN) {
				if (len == n)
					break;
				len = n;
				continue;
			}
			if (rc < 0 || strcmp(req.method, methods[count]) != 0)
				break;
			pos += (size_t)rc + (size_t)req.content_length;
			if (pos > len) {
				len = n;
			}
			count++;
		}
		if (count != 3 || pos != n || req.keepalive)
			all = 0;
	}
	ok(all, "3 pipelined requests parse identically split at each of %zu offsets", n + 1);
	free(p);
}

static void test_target(void)
{
	struct buf path = BUF_INIT, v = BUF_INIT;
	struct err e = ERR_INIT;
	const char *q, *rest;
	size_t qn;
	int minor;
	static const char t[] = "/v1.45/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=a+b&x";

	is_int(api_target_split(t, sizeof(t) - 1, &path, &q, &qn, &e), 0, "split");
	is_str(buf_str(&path), "/v1.45/images/create", "path");
	is_int(api_query_get(q, qn, "fromImage", &v), 1, "query param found");
	is_str(buf_str(&v), "docker.io/library/alpine", "%%2F decoded");
	buf_reset(&v);
	api_query_get(q, qn, "tag", &v);
	is_str(buf_str(&v), "a b", "+ is space");
	buf_reset(&v);
	is_int(api_query_get(q, qn, "x", &v), 1, "valueless param present");
	is_int(api_query_get(q, qn, "nope", &v), 0, "absent param");
	is_int(api_query_get("a=%4", 4, "a", &v), -EINVAL, "truncated escape");
	is_int(api_query_get("a=%00", 5, "a", &v), -EINVAL, "NUL escape");
	buf_reset(&v);
	is_int(api_query_get_nth("type=image&x=1&type=volume", 26, "type", 1, &v), 1,
	       "second occurrence found");
	is_str(buf_str(&v), "volume", "second occurrence's value");
	is_int(api_query_get_nth("type=image&x=1&type=volume", 26, "type", 2, &v), 0,
	       "no third occurrence");
	buf_reset(&path);
	is_int(api_target_split("/a%00b", 6, &path, &q, &qn, &e), -EINVAL, "NUL in path");
	buf_reset(&path);
	is_int(api_target_split("http://x/", 9, &path, &q, &qn, &e), -EINVAL, "absolute-form refused");
	buf_reset(&path);
	api_target_split("/containers/a%2Fb/json", 22, &path, &q, &qn, &e);
	is_str(buf_str(&path), "/containers/a/b/json", "percent-decoded path");

	is_int(api_version_strip("/v1.24/_ping", &rest, &minor, &e), 0, "v1.24");
	ok(minor == 24 && strcmp(rest, "/_ping") == 0, "stripped");
	is_int(api_version_strip("/v1.59/info", &rest, &minor, &e), 0, "v1.59");
	is_int(api_version_strip("/version", &rest, &minor, &e), 0, "/version is unversioned");
	ok(minor == 0 && strcmp(rest, "/version") == 0, "untouched");
	is_int(api_version_strip("/v1.45", &rest, &minor, &e), 0, "bare version");
	is_str(rest, "/", "-> /");
	is_int(api_version_strip("/v1.12/info", &rest, &minor, &e), -EINVAL, "v1.12 too old");
	ok(strstr(e.msg, "client version 1.12 is too old. Minimum supported API version is 1.24") != NULL,
	   "Docker's message: %s", e.msg);
	is_int(api_version_strip("/v1.60/info", &rest, &minor, &e), -EINVAL, "v1.60 too new");
	is_int(api_version_strip("/v2.0/info", &rest, &minor, &e), -EINVAL, "v2.0");
	is_int(api_version_strip("/v1.x/info", &rest, &minor, &e), -EINVAL, "malformed");
	is_int(api_version_strip("/v1.45x/info", &rest, &minor, &e), -EINVAL, "junk after minor");
	is_int(api_version_strip("/v1/info", &rest, &minor, &e), -EINVAL, "no minor");
	is_int(api_version_strip("/v99999999999.1/info", &rest, &minor, &e), -EINVAL, "long major");
	buf_free(&path);
	buf_free(&v);
}

static void test_router_and_writer(void)
{
	struct api_param pr[API_PARAMS_MAX];
	struct buf out = BUF_INIT;
	size_t n;

	ok(api_route_match("/_ping", "/_ping", pr, &n) && n == 0, "literal route");
	ok(api_route_match("/_ping", "/_ping/", pr, &n), "trailing slash tolerated");
	ok(!api_route_match("/_ping", "/_pingx", pr, &n), "prefix is not a match");
	ok(api_route_match("/containers/{id}/json", "/containers/abc/json", pr, &n) && n == 1 &&
	   pr[0].n == 3 && memcmp(pr[0].s, "abc", 3) == 0, "{id} captured");
	ok(!api_route_match("/containers/{id}/json", "/containers//json", pr, &n), "empty {id}");
	ok(!api_route_match("/containers/{id}/json", "/containers/a/b/json", pr, &n), "{id} is one segment");
	ok(api_route_match("/images/{name*}/json", "/images/docker.io/a/b:1/json", pr, &n) && n == 1 &&
	   pr[0].n == 15 && memcmp(pr[0].s, "docker.io/a/b:1", 15) == 0, "{name*} spans slashes");
	ok(api_route_match("/images/{name*}", "/images/a/b", pr, &n) && pr[0].n == 3,
	   "{name*} at the end: the rest");
	ok(!api_route_match("/images/{name*}/json", "/images/json", pr, &n), "{name*} is not empty");
	ok(!api_route_match("/images/{name*}/json", "/images/a/jsonx", pr, &n), "{name*}: the tail must match");

	api_write_error(&out, 404, "page not found", 1, 0);
	ok(strstr(buf_str(&out), "HTTP/1.1 404 Not Found\r\n") == buf_str(&out), "status line");
	ok(strstr(buf_str(&out), "\r\n\r\n{\"message\":\"page not found\"}\n") != NULL, "error body");
	ok(strstr(buf_str(&out), "Content-Length: 29\r\n") != NULL, "length");
	buf_reset(&out);
	api_write_error(&out, 400, "bad \xff byte", 0, 1);
	ok(strstr(buf_str(&out), "invalid request") == NULL, "HEAD: no body");
	ok(strstr(buf_str(&out), "Connection: close\r\n") != NULL, "close announced");
	buf_reset(&out);
	api_write_head(&out, 200, "text/plain", NULL, -1, 1);
	api_write_chunk(&out, "abc", 3);
	api_write_chunk(&out, NULL, 0);
	ok(strstr(buf_str(&out), "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n") != NULL,
	   "chunked writer");
	buf_free(&out);
}

/* Which requests hand their body raw to the handler (docker cp's PUT). */
static void test_streams_body(void)
{
	static const char *const yes[] = {
		"PUT /v1.45/containers/c1/archive?path=/tmp HTTP/1.1\r\nHost: d\r\n\r\n",
		"PUT /containers/abc/archive HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\n\r\n",
		"POST /v1.43/images/load?quiet=1 HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	static const char *const no[] = {
		"GET /v1.43/images/load HTTP/1.1\r\nHost: d\r\n\r\n",
		"POST /v1.43/images/loadx HTTP/1.1\r\nHost: d\r\n\r\n",
		"GET /v1.45/containers/c1/archive?path=/tmp HTTP/1.1\r\nHost: d\r\n\r\n",
		"PUT /v1.45/containers/c1/archive/x HTTP/1.1\r\nHost: d\r\n\r\n",
		"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n",
		"PUT /v9.99/containers/c1/archive HTTP/1.1\r\nHost: d\r\n\r\n",
	};
	struct api_req r;
	int st;

	for (size_t i = 0; i < 3 + 6; i++) {
		const char *s = i < 3 ? yes[i] : no[i - 3];
		ok(api_http_parse(s, strlen(s), &r, &st, NULL) > 0 && api_streams_body(&r) == (i < 3),
		   "streams its body: %d (request %zu)", i < 3, i);
	}
}

int main(void)
{
	test_valid();
	test_hostile();
	test_chunked();
	test_pipelined();
	test_target();
	test_router_and_writer();
	test_streams_body();
	return done_testing();
}

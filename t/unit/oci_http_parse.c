/* Unit tests for oci/http_parse.c: response heads, framing, keep-alive,
 * chunk lines and Retry-After, each on valid and hostile input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "oci/http_parse.h"
#include "t/tap.h"

static struct http_head h;

static int parse(const char *s)
{
	struct err e = ERR_INIT;
	return http_parse_response(s, strlen(s), &h, &e);
}

static int framing(const char *s, int head_req, enum http_framing *fr, long long *len)
{
	struct err e = ERR_INIT;
	int rc = parse(s);
	if (rc < 0)
		return rc;
	return http_head_framing(&h, head_req, fr, len, &e);
}

static void test_heads(void)
{
	static const char *bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTX/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
		"HTTP/1.1 200 O\x7fK\r\n\r\n",
		"<html>not http</html>\r\n\r\n",
	};
	struct err e = ERR_INIT;
	size_t i, len;
	const char *v;
	char *big;
	int rc;

	rc = parse("HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\nX-Empty:\r\n\r\nbody");
	is_int(rc, (int)strlen("HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\nX-Empty:\r\n\r\n"),
	       "complete head: length up to the empty line");
	is_int(h.status, 200, "status 200");
	is_int(h.nheaders, 2, "two headers");
	v = http_head_get(&h, "CONTENT-type", &len);
	ok(v && len == 16 && memcmp(v, "application/json", 16) == 0,
	   "header lookup is case-insensitive and trims OWS");
	v = http_head_get(&h, "x-empty", &len);
	ok(v && len == 0, "empty header value");
	ok(http_head_get(&h, "missing", &len) == NULL, "missing header is NULL");

	rc = parse("HTTP/1.0 404 Not Found\nLocation: /x\n\n");
	ok(rc > 0 && h.status == 404 && h.minor_version == 0, "bare LF line endings accepted");
	rc = parse("HTTP/1.1 204\r\n\r\n");
	ok(rc > 0 && h.status == 204 && h.reason_len == 0, "status line without reason");

	is_int(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), -EAGAIN, "incomplete head asks for more");
	is_int(parse("HTTP/1"), -EAGAIN, "partial status line asks for more");
	is_int(parse(""), -EAGAIN, "nothing yet asks for more");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(parse(bad[i]), -EPROTO, "malformed head %zu refused", i);

	/* 1 MiB of header: refused at 64 KiB, not buffered */
	big = xmalloc(1 << 20);
	memcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ", 25);
	memset(big + 25, 'a', (1 << 20) - 25);
	rc = http_parse_response(big, 1 << 20, &h, &e);
	is_int(rc, -E2BIG, "1 MiB header refused");
	ok(strstr(e.msg, "larger than") != NULL, "error says too large: %s", e.msg);
	rc = http_parse_response(big, HTTP_HEAD_MAX - 1, &h, &e);
	is_int(rc, -EAGAIN, "just under 64 KiB still incomplete");
	free(big);

	/* 101 headers */
	{
		struct buf_like { char *p; size_t n; } b = { xmalloc(8192), 0 };
		b.n = (size_t)snprintf(b.p, 8192, "HTTP/1.1 200 OK\r\n");
		for (i = 0; i < 101; i++)
			b.n += (size_t)snprintf(b.p + b.n, 8192 - b.n, "H%zu: v\r\n", i);
		b.n += (size_t)snprintf(b.p + b.n, 8192 - b.n, "\r\n");
		is_int(http_parse_response(b.p, b.n, &h, &e), -E2BIG, "101 headers refused");
		free(b.p);
	}
}

static void test_framing(void)
{
	enum http_framing fr;
	long long len;

	ok(framing("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", 0, &fr, &len) == 0 &&
	   fr == HTTP_BODY_LENGTH && len == 42, "Content-Length framing");
	ok(framing("HTTP/1.1 200 OK\r\nContent-Length: 42, 42\r\ncontent-length: 42\r\n\r\n", 0, &fr, &len) == 0 &&
	   fr == HTTP_BODY_LENGTH && len == 42, "repeated identical Content-Length accepted");
	is_int(framing("HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 43\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "conflicting Content-Length refused");
	is_int(framing("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "negative Content-Length refused");
	is_int(framing("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "overflowing Content-Length refused");
	is_int(framing("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "empty Content-Length refused");
	ok(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", 0, &fr, &len) == 0 &&
	   fr == HTTP_BODY_CHUNKED, "chunked framing");
	is_int(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "Transfer-Encoding with Content-Length refused");
	is_int(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "gzip transfer coding refused");
	is_int(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 0, &fr, &len),
	       -EPROTO, "chunked not last refused");
	ok(framing("HTTP/1.1 200 OK\r\n\r\n", 0, &fr, &len) == 0 && fr == HTTP_BODY_EOF,
	   "no length: read to EOF");
	ok(framing("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", 1, &fr, &len) == 0 &&
	   fr == HTTP_BODY_NONE && len == 7, "HEAD reply has no body but keeps the length");
	ok(framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", 0, &fr, &len) == 0 &&
	   fr == HTTP_BODY_NONE, "304 has no body");

	parse("HTTP/1.1 200 OK\r\n\r\n");
	ok(http_head_keepalive(&h), "1.1 keeps alive by default");
	parse("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\n\r\n");
	ok(!http_head_keepalive(&h), "Connection: close");
	parse("HTTP/1.0 200 OK\r\n\r\n");
	ok(!http_head_keepalive(&h), "1.0 closes by default");
	parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
	ok(http_head_keepalive(&h), "1.0 with keep-alive");
}

static void test_chunks(void)
{
	struct err e = ERR_INIT;
	unsigned long long sz;
	char *line;

	is_int(http_parse_chunk_line("1a\r\n", 4, &sz, &e), 4, "chunk line length");
	is_int(sz, 26, "hex chunk size");
	is_int(http_parse_chunk_line("A;name=\"v\";x\r\ndata", 18, &sz, &e), 14, "chunk extensions skipped");
	is_int(sz, 10, "size before extensions");
	is_int(http_parse_chunk_line("0 \n", 3, &sz, &e), 3, "bare LF and BWS");
	is_int(http_parse_chunk_line("1a", 2, &sz, &e), -EAGAIN, "incomplete chunk line");
	is_int(http_parse_chunk_line("\r\n", 2, &sz, &e), -EPROTO, "empty chunk size refused");
	is_int(http_parse_chunk_line("x1\r\n", 4, &sz, &e), -EPROTO, "non-hex refused");
	is_int(http_parse_chunk_line("-1\r\n", 4, &sz, &e), -EPROTO, "negative refused");
	is_int(http_parse_chunk_line("1 2\r\n", 5, &sz, &e), -EPROTO, "garbage after size refused");
	is_int(http_parse_chunk_line("1000000000000000\r\n", 18, &sz, &e), -EFBIG, "2^60 chunk refused");
	is_int(http_parse_chunk_line("fffffffffffffff\r\n", 17, &sz, &e), 17, "2^60-1 chunk size parses");
	line = xmalloc(HTTP_CHUNK_LINE_MAX + 10);
	memset(line, ';', HTTP_CHUNK_LINE_MAX + 10);
	line[0] = '1';
	is_int(http_parse_chunk_line(line, HTTP_CHUNK_LINE_MAX + 10, &sz, &e), -EPROTO,
	       "endless chunk extension refused");
	free(line);
}

static void test_retry_after(void)
{
	long long s;

	ok(http_parse_retry_after("120", 3, 0, &s) == 0 && s == 120, "delta seconds");
	ok(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 29, 784111770, &s) == 0 && s == 7,
	   "IMF-fixdate relative to now");
	ok(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 29, 784111790, &s) == 0 && s == 0,
	   "date in the past is 0");
	is_int(http_parse_retry_after("soon", 4, 0, &s), -EINVAL, "garbage refused");
	is_int(http_parse_retry_after("-5", 2, 0, &s), -EINVAL, "negative refused");
	is_int(http_parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 29, 0, &s), -EINVAL, "bad month refused");
}

int main(void)
{
	test_heads();
	test_framing();
	test_chunks();
	test_retry_after();
	return done_testing();
}

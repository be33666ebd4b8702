/* Pure parsers for HTTP/1.1 responses (RFC 9112): the status line and
 * header block, chunk-size lines, and the header values the client acts on.
 *
 * Nothing here allocates or does I/O: the parser is handed the bytes read
 * so far and either finds a complete head in them, asks for more, or
 * refuses.  The bounds are the parser's: a head is at most HTTP_HEAD_MAX
 * bytes with at most HTTP_HEADERS_MAX header fields, so a peer cannot make
 * us hold more by sending more.  Used by oci/http.c (responses, CONNECT
 * replies, chunk framing) and fuzzed by t/fuzz/http_response.c. */
#ifndef OCI_HTTP_PARSE_H
#define OCI_HTTP_PARSE_H

#include <stddef.h>

struct err;

#define HTTP_HEAD_MAX (64 * 1024)
#define HTTP_HEADERS_MAX 100
/* A chunk-size line with its extensions. */
#define HTTP_CHUNK_LINE_MAX 4096

/* A header field; both strings point into the parsed bytes and are not
 * NUL-terminated.  The value has its surrounding whitespace removed. */
struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct http_head {
	int minor_version;            /* HTTP/1.<minor> */
	int status;                   /* 100..999 */
	const char *reason;           /* not NUL-terminated */
	size_t reason_len;
	size_t nheaders;
	struct http_header headers[HTTP_HEADERS_MAX];
};

/* Parse a response head at the start of buf[0..len).  Returns the length of
 * the head including its terminating empty line when complete; -EAGAIN when
 * the bytes so far are a valid prefix (and shorter than HTTP_HEAD_MAX);
 * -EPROTO for malformed input and -E2BIG past the bounds, with e filled.
 * Lines may end in CRLF or a bare LF; obsolete line folding is refused. */
int http_parse_response(const char *buf, size_t len, struct http_head *h,
			struct err *e);

/* The first header named name (case-insensitive), or NULL; *len gets the
 * value's length. */
const char *http_head_get(const struct http_head *h, const char *name,
			  size_t *len);

/* How the body of a response is framed, from its head (RFC 9112 6.3). */
enum http_framing {
	HTTP_BODY_NONE,      /* 1xx, 204, 304, or a reply to HEAD */
	HTTP_BODY_LENGTH,    /* Content-Length */
	HTTP_BODY_CHUNKED,   /* Transfer-Encoding: chunked */
	HTTP_BODY_EOF,       /* until the connection closes */
};

/* Decide the framing.  Conflicting or malformed Content-Length values,
 * Transfer-Encoding other than a final "chunked", and both together are
 * refused with -EPROTO.  *length gets the Content-Length (or -1). */
int http_head_framing(const struct http_head *h, int head_request,
		      enum http_framing *framing, long long *length,
		      struct err *e);

/* Whether the connection may carry another request after this response
 * (HTTP/1.1 without "Connection: close", or 1.0 with keep-alive). */
int http_head_keepalive(const struct http_head *h);

/* Parse a chunk-size line (hex size, optional ";ext" extensions, CRLF or
 * LF) at the start of buf.  Returns the line length with *size set, -EAGAIN
 * when incomplete, -EPROTO when malformed or longer than
 * HTTP_CHUNK_LINE_MAX, or -EFBIG for sizes of 2^60 or more. */
int http_parse_chunk_line(const char *buf, size_t len,
			  unsigned long long *size, struct err *e);

/* Parse a decimal Content-Length style value: digits only, no sign, no
 * overflow past 2^62.  Returns 0 or -EINVAL (no err: callers add context). */
int http_parse_ull(const char *s, size_t len, unsigned long long *out);

/* Retry-After (RFC 9110 10.2.3): delta-seconds or an IMF-fixdate.  Returns
 * 0 with *seconds set (0 for a date in the past), -EINVAL otherwise.  now
 * is the current time in seconds since the epoch. */
int http_parse_retry_after(const char *s, size_t len, long long now,
			   long long *seconds);

/* Case-insensitive comparison of a counted string with a C string. */
int http__eq(const char *s, size_t len, const char *lit);

#endif

/* HTTP/1.1 for the API server (applets/apiserver.c): a pure request parser
 * and a response writer.
 *
 * The parser never allocates and does no I/O: it is handed the bytes a
 * client sent so far and finds a complete request head in them, asks for
 * more, or refuses with the HTTP status to answer (400, 413, 431, 501,
 * 505).  Bodies are Content-Length or chunked; the chunked decoder works in
 * place and resumes where it stopped, so a client feeding one byte at a time
 * costs linear work.  Bounds: a head is at most API_HEAD_MAX bytes with at
 * most API_HEADERS_MAX fields; a body at most API_BODY_MAX bytes.
 *
 * Also here: the request target split into a percent-decoded path and a raw
 * query, query-parameter lookup, and the Docker API version prefix
 * (/v1.24/... through /v1.59/..., or none).  Fuzzed by t/fuzz/api_request.c,
 * tested by t/unit/applets_api_http.c.  The client side (api_client.c)
 * reuses the chunked decoder. */
#ifndef APPLETS_API_HTTP_H
#define APPLETS_API_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct buf;
struct err;

#define API_HEAD_MAX (64 * 1024)
#define API_HEADERS_MAX 100
#define API_BODY_MAX ((size_t)8 << 20)
#define API_METHOD_MAX 16

/* The API versions this server speaks; it advertises API_VERSION. */
#define API_VERSION "1.45"
#define API_MIN_VERSION "1.24"
#define API_MINOR_MIN 24
#define API_MINOR_MAX 59

struct api_header {
	const char *name, *value;   /* into the parsed bytes, not NUL-terminated */
	size_t name_len, value_len;
};

enum api_body { API_BODY_NONE, API_BODY_LENGTH, API_BODY_CHUNKED };

struct api_req {
	char method[API_METHOD_MAX + 1];
	const char *target;          /* raw request-target, not NUL-terminated */
	size_t target_len;
	int minor;                   /* HTTP/1.<minor> */
	int keepalive;               /* the connection may carry another request */
	int upgrade_tcp;             /* Connection: Upgrade + Upgrade: tcp (hijack) */
	enum api_body body;
	unsigned long long content_length;
	size_t nheaders;
	struct api_header headers[API_HEADERS_MAX];
};

/* Parse a request head at the start of buf[0..len).  Returns the head's
 * length (including the empty line) when complete; -EAGAIN when the bytes
 * are a valid prefix shorter than API_HEAD_MAX; otherwise a negative errno
 * with *status set to the HTTP status to answer and e filled.  Empty lines
 * before the request line are skipped (RFC 9112 2.2). */
int api_http_parse(const char *buf, size_t len, struct api_req *r, int *status, struct err *e);

/* Where a head can end: the offset just past the first empty line in
 * buf[from..len) (searching from `from`, which the caller advances so that
 * a byte-at-a-time client costs linear work), or 0 when none yet. */
size_t api_http_head_end(const char *buf, size_t len, size_t from);

/* The first header named name (case-insensitive) or NULL; *len its length. */
const char *api_req_header(const struct api_req *r, const char *name, size_t *len);

/* Incremental in-place chunked decoding.  The caller keeps p[0..len): the
 * raw body bytes received so far, starting at the body.  Each call resumes
 * at c->raw and moves decoded data down to p[0..c->out), so decoded bytes
 * never overtake raw ones.  Returns 1 when the body (and its trailers)
 * ended, with c->raw the raw bytes it used; 0 when more is needed; or a
 * negative errno (-EPROTO malformed, -EFBIG past max decoded bytes) with e
 * filled. */
struct api_chunked {
	int state;
	unsigned long long left;     /* bytes left in the current chunk */
	size_t raw;                  /* raw bytes consumed */
	size_t out;                  /* decoded bytes at the front */
	size_t trailers;             /* bytes of trailer section so far */
};
int api_chunked_step(struct api_chunked *c, char *p, size_t len, size_t max, struct err *e);

/* Split a request target ("/v1.45/containers/json?all=1") into the
 * percent-decoded path (appended to path; NUL, or a target that is not
 * origin-form, is -EINVAL) and the raw query (borrowed, without '?'). */
int api_target_split(const char *target, size_t len, struct buf *path, const char **query,
		     size_t *query_len, struct err *e);

/* Look up a query parameter (first occurrence), decoding %XX and '+'.
 * Returns 1 with the value appended to out, 0 when absent, -EINVAL when
 * malformed (bad escape or NUL). */
int api_query_get(const char *query, size_t len, const char *key, struct buf *out);
/* The same for its nth occurrence (0 = the first): repeated keys
 * (`type=image&type=volume`) are unions in Docker. */
int api_query_get_nth(const char *query, size_t len, const char *key, size_t nth,
		      struct buf *out);

/* Strip a Docker API version prefix from a decoded path: *rest points
 * after it ("/_ping"), *minor gets N of /v1.N, or 0 when unversioned.
 * A malformed, too old or too new version is -EINVAL with Docker's message. */
int api_version_strip(const char *path, const char **rest, int *minor, struct err *e);

/* ---- responses ---- */

const char *api_status_text(int status);

/* A response head: status line, Date-less fixed headers, `extra` (zero or
 * more complete "Name: value\r\n" lines, or NULL), then Content-Length
 * (length >= 0) or Transfer-Encoding: chunked (length < 0), and
 * Connection: close unless keepalive. */
void api_write_head(struct buf *out, int status, const char *content_type, const char *extra,
		    long long length, int keepalive);
/* One chunk of a chunked body; n == 0 writes the last chunk. */
void api_write_chunk(struct buf *out, const void *p, size_t n);
/* A whole response with body; head_only (a HEAD request) omits the body
 * but keeps its length. */
void api_write_body(struct buf *out, int status, const char *content_type, const char *extra,
		    const void *body, size_t n, int keepalive, int head_only);
/* JSON body (compact, with a trailing newline as Docker sends). */
void api_write_json(struct buf *out, int status, const json_t *v, int keepalive, int head_only);
/* Docker's error body: {"message":"..."}. */
void api_write_error(struct buf *out, int status, const char *msg, int keepalive, int head_only);

#endif

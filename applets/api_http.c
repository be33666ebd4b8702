/* HTTP/1.1 request parsing and response writing for the API server (see
 * applets/api_http.h).  Everything a local client sends is hostile until
 * checked: the parser validates each byte class, bounds every count, and
 * maps each refusal to the status a well-behaved server answers with. */
#include <errno.h>
#include <string.h>

#include "applets/api_http.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "oci/http_parse.h"

#define CHUNK_LINE_MAX 4096
#define TRAILERS_MAX 8192

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Counted string equals literal, ignoring ASCII case. */
static int ieq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!lit[i] || lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
			return 0;
	return lit[n] == '\0';
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static size_t find_end(const char *buf, size_t len, size_t from)
{
	size_t i;

	for (i = from; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

size_t api_http_head_end(const char *buf, size_t len, size_t from)
{
	/* The terminator may straddle the previous search's end. */
	return find_end(buf, len, from > 3 ? from - 3 : 0);
}

static int refuse(int *status, int code, struct err *e, int rc, const char *msg)
{
	*status = code;
	return err_set(e, rc, "%s", msg);
}

static int parse_request_line(const char *p, size_t n, struct api_req *r, int *status,
			      struct err *e)
{
	size_t i = 0, t;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return refuse(status, 400, e, -EPROTO, "malformed request line");
	if (i > API_METHOD_MAX)
		return refuse(status, 501, e, -EPROTO, "method too long");
	memcpy(r->method, p, i);
	r->method[i] = '\0';
	t = ++i;
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ')
		return refuse(status, 400, e, -EPROTO, "malformed request target");
	r->target = p + t;
	r->target_len = i - t;
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 || p[i + 6] != '.' || p[i + 5] < '0' ||
	    p[i + 5] > '9' || p[i + 7] < '0' || p[i + 7] > '9')
		return refuse(status, 400, e, -EPROTO, "malformed HTTP version");
	if (p[i + 5] != '1')
		return refuse(status, 505, e, -EPROTO, "HTTP version not supported");
	r->minor = p[i + 7] - '0';
	return 0;
}

static int parse_header_line(const char *p, size_t n, struct api_req *r, int *status,
			     struct err *e)
{
	struct api_header *h;
	size_t i = 0, vs, ve, name_len;

	if (is_ows(p[0]))
		return refuse(status, 400, e, -EPROTO, "obsolete line folding in header");
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return refuse(status, 400, e, -EPROTO, "malformed header field");
	name_len = i;
	for (vs = i + 1; vs < n && is_ows(p[vs]); vs++)
		;
	for (ve = n; ve > vs && is_ows(p[ve - 1]); ve--)
		;
	for (i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return refuse(status, 400, e, -EPROTO, "control character in header value");
	}
	if (r->nheaders == API_HEADERS_MAX)
		return refuse(status, 431, e, -E2BIG, "too many header fields");
	h = &r->headers[r->nheaders++];
	h->name = p;
	h->name_len = name_len;
	h->value = p + vs;
	h->value_len = ve - vs;
	return 0;
}

const char *api_req_header(const struct api_req *r, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (ieq(r->headers[i].name, r->headers[i].name_len, name)) {
			*len = r->headers[i].value_len;
			return r->headers[i].value;
		}
	return NULL;
}

/* Does a comma-separated header value list contain token (any case)? */
static int has_token(const char *v, size_t n, const char *token)
{
	size_t i = 0, s, t;

	while (i < n) {
		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		for (t = i; t > s && is_ows(v[t - 1]); t--)
			;
		if (t > s && ieq(v + s, t - s, token))
			return 1;
	}
	return 0;
}

/* Framing and connection semantics from the parsed headers (RFC 9112 6). */
static int interpret(struct api_req *r, int *status, struct err *e)
{
	int have_cl = 0, have_te = 0, conn_close = 0, conn_keep = 0, conn_upgrade = 0;
	int up_tcp = 0;
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		const struct api_header *h = &r->headers[i];
		unsigned long long v;

		if (ieq(h->name, h->name_len, "content-length")) {
			if (http_parse_ull(h->value, h->value_len, &v) < 0)
				return refuse(status, 400, e, -EPROTO, "malformed Content-Length");
			if (have_cl && v != r->content_length)
				return refuse(status, 400, e, -EPROTO, "conflicting Content-Length");
			have_cl = 1;
			r->content_length = v;
		} else if (ieq(h->name, h->name_len, "transfer-encoding")) {
			if (have_te)
				return refuse(status, 501, e, -EPROTO, "repeated Transfer-Encoding");
			if (!ieq(h->value, h->value_len, "chunked"))
				return refuse(status, 501, e, -EPROTO,
					      "unsupported Transfer-Encoding (only chunked)");
			have_te = 1;
		} else if (ieq(h->name, h->name_len, "connection")) {
			conn_close |= has_token(h->value, h->value_len, "close");
			conn_keep |= has_token(h->value, h->value_len, "keep-alive");
			conn_upgrade |= has_token(h->value, h->value_len, "upgrade");
		} else if (ieq(h->name, h->name_len, "upgrade")) {
			up_tcp |= has_token(h->value, h->value_len, "tcp");
		}
	}
	/* Both framings at once is how requests are smuggled: refuse. */
	if (have_cl && have_te)
		return refuse(status, 400, e, -EPROTO,
			      "both Content-Length and Transfer-Encoding");
	if (have_te && r->minor == 0)
		return refuse(status, 400, e, -EPROTO, "Transfer-Encoding in HTTP/1.0");
	if (have_cl && r->content_length > API_BODY_MAX)
		return refuse(status, 413, e, -EFBIG, "request body too large");
	r->body = have_te ? API_BODY_CHUNKED : have_cl && r->content_length ? API_BODY_LENGTH
									: API_BODY_NONE;
	r->keepalive = r->minor >= 1 ? !conn_close : conn_keep && !conn_close;
	r->upgrade_tcp = conn_upgrade && up_tcp;
	return 0;
}

int api_http_parse(const char *buf, size_t len, struct api_req *r, int *status, struct err *e)
{
	size_t pos = 0, end, n;
	int rc, first = 1;

	memset(r, 0, sizeof(*r));
	*status = 0;
	/* Leading empty lines (a client's stray CRLF after a body) are skipped. */
	while (pos < len && (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < len &&
						  buf[pos + 1] == '\n')))
		pos += buf[pos] == '\n' ? 1 : 2;
	end = find_end(buf, len, pos);
	if (!end) {
		if (len >= API_HEAD_MAX)
			return refuse(status, 431, e, -E2BIG, "request header section too large");
		/* Fail early on bytes that cannot start a request. */
		if (pos < len && !is_tchar((unsigned char)buf[pos]) && buf[pos] != '\r')
			return refuse(status, 400, e, -EPROTO, "malformed request line");
		return -EAGAIN;
	}
	if (end > API_HEAD_MAX)
		return refuse(status, 431, e, -E2BIG, "request header section too large");
	while (pos < end) {
		const char *p = buf + pos, *nl = memchr(p, '\n', end - pos);

		n = (size_t)(nl - p);
		pos += n + 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\r', n) || memchr(p, '\0', n))
			return refuse(status, 400, e, -EPROTO, "stray CR or NUL in request head");
		if (n == 0)
			break;
		rc = first ? parse_request_line(p, n, r, status, e)
			   : parse_header_line(p, n, r, status, e);
		if (rc < 0)
			return rc;
		first = 0;
	}
	if (first)
		return refuse(status, 400, e, -EPROTO, "empty request");
	if ((rc = interpret(r, status, e)) < 0)
		return rc;
	return (int)end;
}

/* ---- chunked bodies ---- */

enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

/* A line (CRLF or LF) at p[0..len): its length with the LF, 0 if
 * incomplete; -1 if longer than lim. */
static long line_len(const char *p, size_t len, size_t lim)
{
	const char *nl = memchr(p, '\n', len < lim ? len : lim);

	if (nl)
		return (long)(nl - p) + 1;
	return len >= lim ? -1 : 0;
}

int api_chunked_step(struct api_chunked *c, char *p, size_t len, size_t max, struct err *e)
{
	unsigned long long size;
	long n;
	int rc;

	while (c->state != CH_DONE) {
		char *q = p + c->raw;
		size_t avail = len - c->raw;

		switch (c->state) {
		case CH_SIZE:
			rc = http_parse_chunk_line(q, avail, &size, e);
			if (rc == -EAGAIN)
				return 0;
			if (rc < 0)
				return rc;
			c->raw += (size_t)rc;
			if (size > max || c->out + size > max)
				return err_set(e, -EFBIG, "chunked body larger than %zu bytes", max);
			c->left = size;
			c->state = size ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA: {
			size_t take = avail < c->left ? avail : (size_t)c->left;

			if (!take)
				return 0;
			memmove(p + c->out, q, take);
			c->out += take;
			c->raw += take;
			c->left -= take;
			if (!c->left)
				c->state = CH_DATA_END;
			break;
		}
		case CH_DATA_END:
			if (avail < 1 || (q[0] == '\r' && avail < 2))
				return 0;
			if (q[0] == '\n')
				c->raw += 1;
			else if (q[0] == '\r' && q[1] == '\n')
				c->raw += 2;
			else
				return err_set(e, -EPROTO, "chunk data not followed by CRLF");
			c->state = CH_SIZE;
			break;
		case CH_TRAILER:
			n = line_len(q, avail, CHUNK_LINE_MAX);
			if (n < 0)
				return err_set(e, -EPROTO, "trailer line too long");
			if (n == 0)
				return 0;
			c->raw += (size_t)n;
			c->trailers += (size_t)n;
			if (c->trailers > TRAILERS_MAX)
				return err_set(e, -EPROTO, "trailer section too large");
			if (n == 1 || (n == 2 && q[0] == '\r'))
				c->state = CH_DONE;
			else if (memchr(q, '\0', (size_t)n) || is_ows(q[0]))
				return err_set(e, -EPROTO, "malformed trailer");
			break;
		}
	}
	return 1;
}

/* ---- targets, queries, versions ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into out; '+' is a space when plus is set. */
static int pct_decode(const char *s, size_t n, int plus, struct buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return -EINVAL;
		if (buf_putc(out, c) < 0)
			return -E2BIG;
	}
	return 0;
}

int api_target_split(const char *target, size_t len, struct buf *path, const char **query,
		     size_t *query_len, struct err *e)
{
	const char *q = memchr(target, '?', len);
	size_t plen = q ? (size_t)(q - target) : len;
	const char *hash = memchr(target, '#', len);

	if (len == 0 || target[0] != '/')
		return err_set(e, -EINVAL, "request target is not an absolute path");
	if (hash && (!q || hash < q))
		plen = (size_t)(hash - target);
	if (pct_decode(target, plen, 0, path) < 0)
		return err_set(e, -EINVAL, "malformed percent-encoding in path");
	*query = q ? q + 1 : target + len;
	*query_len = q ? len - plen - 1 : 0;
	if (q && hash && hash > q)
		*query_len = (size_t)(hash - q - 1);
	return 0;
}

int api_query_get(const char *query, size_t len, const char *key, struct buf *out)
{
	return api_query_get_nth(query, len, key, 0, out);
}

int api_query_get_nth(const char *query, size_t len, const char *key, size_t nth,
		      struct buf *out)
{
	size_t i = 0, s, eq, klen = strlen(key);
	_cleanup_buf_ struct buf k = BUF_INIT;

	while (i <= len) {
		s = i;
		while (i < len && query[i] != '&' && query[i] != ';')
			i++;
		for (eq = s; eq < i && query[eq] != '='; eq++)
			;
		buf_reset(&k);
		if (i > s && pct_decode(query + s, eq - s, 1, &k) < 0)
			return -EINVAL;
		if (i > s && k.len == klen && memcmp(k.data, key, klen) == 0 && nth-- == 0) {
			if (eq < i && pct_decode(query + eq + 1, i - eq - 1, 1, out) < 0)
				return -EINVAL;
			return 1;
		}
		i++;
	}
	return 0;
}

int api_version_strip(const char *path, const char **rest, int *minor, struct err *e)
{
	const char *p = path + 2;
	long major = 0, min = 0;
	int digits = 0;

	*minor = 0;
	*rest = path;
	/* "/version" is a path; "/v1..." is a version. */
	if (strncmp(path, "/v", 2) != 0 || p[0] < '0' || p[0] > '9')
		return 0;
	while (*p >= '0' && *p <= '9' && digits < 4) {
		major = major * 10 + (*p++ - '0');
		digits++;
	}
	if (*p != '.' || digits == 4)
		return err_set(e, -EINVAL, "malformed API version in path %.64s", path);
	p++;
	digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 4) {
		min = min * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || digits == 4 || (*p != '/' && *p != '\0'))
		return err_set(e, -EINVAL, "malformed API version in path %.64s", path);
	if (major < 1 || (major == 1 && min < API_MINOR_MIN))
		return err_set(e, -EINVAL,
			       "client version %ld.%ld is too old. Minimum supported API version is "
			       "%s, please upgrade your client to a newer version",
			       major, min, API_MIN_VERSION);
	if (major > 1 || min > API_MINOR_MAX)
		return err_set(e, -EINVAL,
			       "client version %ld.%ld is too new. Maximum supported API version "
			       "is %s",
			       major, min, API_VERSION);
	*minor = (int)min;
	*rest = *p ? p : "/";
	return 0;
}

/* ---- responses ---- */

const char *api_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "UPGRADED";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Request Entity Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

void api_write_head(struct buf *out, int status, const char *content_type, const char *extra,
		    long long length, int keepalive)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\nServer: container\r\n", status, api_status_text(status));
	if (content_type)
		buf_printf(out, "Content-Type: %s\r\n", content_type);
	if (extra)
		buf_puts(out, extra);
	if (length >= 0)
		buf_printf(out, "Content-Length: %lld\r\n", length);
	else
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	if (!keepalive)
		buf_puts(out, "Connection: close\r\n");
	buf_puts(out, "\r\n");
}

void api_write_chunk(struct buf *out, const void *p, size_t n)
{
	buf_printf(out, "%zx\r\n", n);
	buf_append(out, p, n);
	buf_puts(out, "\r\n");
}

void api_write_body(struct buf *out, int status, const char *content_type, const char *extra,
		    const void *body, size_t n, int keepalive, int head_only)
{
	api_write_head(out, status, content_type, extra, (long long)n, keepalive);
	if (!head_only)
		buf_append(out, body, n);
}

void api_write_json(struct buf *out, int status, const json_t *v, int keepalive, int head_only)
{
	_cleanup_buf_ struct buf body = BUF_INIT;

	/* Serialising a value we built cannot fail short of OOM (which aborts). */
	jsonx_dump_buf(v, JSON_COMPACT, &body, NULL);
	buf_putc(&body, '\n');
	api_write_body(out, status, "application/json", NULL, body.data, body.len, keepalive,
		       head_only);
}

void api_write_error(struct buf *out, int status, const char *msg, int keepalive, int head_only)
{
	json_t *v = json_pack("{s:s}", "message", msg);

	/* json_pack refuses invalid UTF-8: never echo a client's bytes raw. */
	if (!v)
		v = json_pack("{s:s}", "message", "invalid request");
	api_write_json(out, status, v, keepalive, head_only);
	json_decref(v);
}

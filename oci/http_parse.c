/* HTTP/1.1 response head, chunk-line and header-value parsers (see
 * oci/http_parse.h).  Pure functions over caller bytes, in the manner of
 * picohttpparser: no allocation, explicit bounds, everything the peer sends
 * is validated before it is believed. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "oci/http_parse.h"

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int http__eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!lit[i] || lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
			return 0;
	return lit[len] == '\0';
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values and reason phrases: VCHAR, obs-text, SP and HTAB. */
static int is_vchar_ws(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_status_line(const char *p, size_t n, struct http_head *h,
			     struct err *e)
{
	size_t i;

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' ||
	    p[8] != ' ')
		return err_set(e, -EPROTO, "malformed HTTP status line");
	h->minor_version = p[7] - '0';
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return err_set(e, -EPROTO, "malformed HTTP status code");
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (h->status < 100)
		return err_set(e, -EPROTO, "HTTP status code %d out of range", h->status);
	if (n > 12 && p[12] != ' ')
		return err_set(e, -EPROTO, "malformed HTTP status line");
	h->reason = n > 13 ? p + 13 : p + n;
	h->reason_len = n > 13 ? n - 13 : 0;
	for (i = 0; i < h->reason_len; i++)
		if (!is_vchar_ws((unsigned char)h->reason[i]))
			return err_set(e, -EPROTO, "control character in HTTP reason phrase");
	return 0;
}

static int parse_header_line(const char *p, size_t n, struct http_head *h,
			     struct err *e)
{
	struct http_header *hd;
	size_t i = 0, vs, ve;

	if (is_ows(p[0]))
		return err_set(e, -EPROTO, "obsolete line folding in HTTP header");
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return err_set(e, -EPROTO, "malformed HTTP header line");
	if (h->nheaders == HTTP_HEADERS_MAX)
		return err_set(e, -E2BIG, "more than %d HTTP header fields",
			       HTTP_HEADERS_MAX);
	hd = &h->headers[h->nheaders++];
	hd->name = p;
	hd->name_len = i;
	vs = i + 1;
	while (vs < n && is_ows(p[vs]))
		vs++;
	ve = n;
	while (ve > vs && is_ows(p[ve - 1]))
		ve--;
	for (i = vs; i < ve; i++)
		if (!is_vchar_ws((unsigned char)p[i]))
			return err_set(e, -EPROTO, "control character in HTTP header %.*s",
				       (int)hd->name_len, hd->name);
	hd->value = p + vs;
	hd->value_len = ve - vs;
	return 0;
}

int http_parse_response(const char *buf, size_t len, struct http_head *h,
			struct err *e)
{
	size_t pos = 0, lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	int rc, first = 1;

	h->nheaders = 0;
	h->status = 0;
	/* Refuse non-HTTP early, so that a TLS server answering plain text or
	 * a binary peer fails at once rather than after 64 KiB. */
	if (memcmp(buf, "HTTP/1.", len < 7 ? len : 7) != 0)
		return err_set(e, -EPROTO, "not an HTTP/1.x response");
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', lim - pos);
		size_t n, end;

		if (!nl) {
			if (len >= HTTP_HEAD_MAX)
				return err_set(e, -E2BIG,
					       "HTTP response head larger than %d bytes",
					       HTTP_HEAD_MAX);
			return -EAGAIN;
		}
		end = (size_t)(nl - buf);
		n = end - pos;
		if (n > 0 && buf[end - 1] == '\r')
			n--;
		if (memchr(buf + pos, '\r', n) || memchr(buf + pos, '\0', n))
			return err_set(e, -EPROTO, "stray CR or NUL in HTTP response head");
		if (first) {
			rc = parse_status_line(buf + pos, n, h, e);
			first = 0;
		} else if (n == 0) {
			return (int)(end + 1);
		} else {
			rc = parse_header_line(buf + pos, n, h, e);
		}
		if (rc < 0)
			return rc;
		pos = end + 1;
	}
}

const char *http_head_get(const struct http_head *h, const char *name,
			  size_t *len)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (http__eq(h->headers[i].name, h->headers[i].name_len, name)) {
			*len = h->headers[i].value_len;
			return h->headers[i].value;
		}
	return NULL;
}

int http_parse_ull(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v > (1ULL << 62))
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Calls fn on each comma-separated, OWS-trimmed, non-empty element. */
static int each_elem(const char *s, size_t len,
		     int (*fn)(const char *el, size_t n, void *arg), void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t st, en;
		int rc;

		while (i < len && (is_ows(s[i]) || s[i] == ','))
			i++;
		st = i;
		while (i < len && s[i] != ',')
			i++;
		en = i;
		while (en > st && is_ows(s[en - 1]))
			en--;
		if (en > st && (rc = fn(s + st, en - st, arg)) < 0)
			return rc;
	}
	return 0;
}

struct cl_state {
	long long len;
	int bad;
};

static int cl_elem(const char *el, size_t n, void *arg)
{
	struct cl_state *st = arg;
	unsigned long long v;

	if (http_parse_ull(el, n, &v) < 0 || (st->len >= 0 && (long long)v != st->len)) {
		st->bad = 1;
		return -EINVAL;
	}
	st->len = (long long)v;
	return 0;
}

struct te_state {
	int chunked_last, other, count;
};

static int te_elem(const char *el, size_t n, void *arg)
{
	struct te_state *st = arg;

	st->count++;
	if (st->chunked_last)
		st->other = 1;   /* chunked must be the final coding */
	if (http__eq(el, n, "chunked"))
		st->chunked_last = 1;
	else
		st->other = 1;
	return 0;
}

int http_head_framing(const struct http_head *h, int head_request,
		      enum http_framing *framing, long long *length,
		      struct err *e)
{
	struct cl_state cl = { -1, 0 };
	struct te_state te = { 0, 0, 0 };
	int have_cl = 0, have_te = 0;
	size_t i;

	*length = -1;
	*framing = HTTP_BODY_EOF;
	for (i = 0; i < h->nheaders; i++) {
		const struct http_header *hd = &h->headers[i];
		if (http__eq(hd->name, hd->name_len, "content-length")) {
			have_cl = 1;
			if (hd->value_len == 0)
				cl.bad = 1;
			each_elem(hd->value, hd->value_len, cl_elem, &cl);
		} else if (http__eq(hd->name, hd->name_len, "transfer-encoding")) {
			have_te = 1;
			each_elem(hd->value, hd->value_len, te_elem, &te);
		}
	}
	if (cl.bad)
		return err_set(e, -EPROTO, "malformed or conflicting Content-Length");
	if (have_te && have_cl)
		return err_set(e, -EPROTO,
			       "response has both Transfer-Encoding and Content-Length");
	if ((h->status >= 100 && h->status < 200) || h->status == 204 ||
	    h->status == 304 || head_request) {
		*framing = HTTP_BODY_NONE;
		*length = have_cl ? cl.len : -1;
		return 0;
	}
	if (have_te) {
		if (te.other || !te.chunked_last)
			return err_set(e, -EPROTO, "unsupported Transfer-Encoding");
		*framing = HTTP_BODY_CHUNKED;
		return 0;
	}
	if (have_cl) {
		*framing = HTTP_BODY_LENGTH;
		*length = cl.len;
	}
	return 0;
}

struct conn_state {
	int close, keepalive;
};

static int conn_elem(const char *el, size_t n, void *arg)
{
	struct conn_state *st = arg;

	if (http__eq(el, n, "close"))
		st->close = 1;
	else if (http__eq(el, n, "keep-alive"))
		st->keepalive = 1;
	return 0;
}

int http_head_keepalive(const struct http_head *h)
{
	struct conn_state st = { 0, 0 };
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (http__eq(h->headers[i].name, h->headers[i].name_len, "connection"))
			each_elem(h->headers[i].value, h->headers[i].value_len,
				  conn_elem, &st);
	if (st.close)
		return 0;
	return h->minor_version >= 1 || st.keepalive;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_parse_chunk_line(const char *buf, size_t len,
			  unsigned long long *size, struct err *e)
{
	size_t lim = len < HTTP_CHUNK_LINE_MAX ? len : HTTP_CHUNK_LINE_MAX;
	const char *nl = memchr(buf, '\n', lim);
	unsigned long long v = 0;
	size_t i = 0, n, digits = 0;

	if (!nl) {
		if (len >= HTTP_CHUNK_LINE_MAX)
			return err_set(e, -EPROTO, "chunk-size line longer than %d bytes",
				       HTTP_CHUNK_LINE_MAX);
		/* fail early on a first byte that cannot start a chunk size */
		if (len > 0 && hexval(buf[0]) < 0)
			return err_set(e, -EPROTO, "malformed chunk size");
		return -EAGAIN;
	}
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	while (i < n && hexval(buf[i]) >= 0) {
		if (++digits > 15)
			return err_set(e, -EFBIG, "chunk size too large");
		v = v * 16 + (unsigned long long)hexval(buf[i]);
		i++;
	}
	if (digits == 0)
		return err_set(e, -EPROTO, "malformed chunk size");
	while (i < n && is_ows(buf[i]))
		i++;
	if (i < n && buf[i] != ';')
		return err_set(e, -EPROTO, "malformed chunk size");
	for (; i < n; i++)
		if (!is_vchar_ws((unsigned char)buf[i]))
			return err_set(e, -EPROTO, "control character in chunk extension");
	*size = v;
	return (int)(nl - buf) + 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int num(const char *s, size_t n, int *out)
{
	unsigned long long v;

	if (http_parse_ull(s, n, &v) < 0 || v > 100000)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int http_parse_retry_after(const char *s, size_t len, long long now,
			   long long *seconds)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	unsigned long long v;
	int day, year, hh, mm, ss, mon;
	long long t;

	if (http_parse_ull(s, len, &v) == 0) {
		*seconds = (long long)v;
		return 0;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' ||
	    memcmp(s + 26, "GMT", 3) != 0)
		return -EINVAL;
	if (num(s + 5, 2, &day) < 0 || num(s + 12, 4, &year) < 0 ||
	    num(s + 17, 2, &hh) < 0 || num(s + 20, 2, &mm) < 0 ||
	    num(s + 23, 2, &ss) < 0)
		return -EINVAL;
	for (mon = 0; mon < 12; mon++)
		if (memcmp(s + 8, months + 3 * mon, 3) == 0)
			break;
	if (mon == 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	t = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss;
	*seconds = t > now ? t - now : 0;
	return 0;
}

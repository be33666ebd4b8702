/* URLs for the HTTP client (see oci/http.h): parsing absolute http(s)
 * URLs, resolving redirect Locations, and choosing a proxy from
 * HTTP(S)_PROXY/NO_PROXY.  Pure string work, no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "oci/http.h"
#include "oci/http_internal.h"

void http_url_free(struct http_url *u)
{
	free(u->host);
	free(u->target);
	u->host = u->target = NULL;
}

/* Characters allowed in a request-target: visible ASCII, no spaces; '#'
 * starts a fragment that is never sent. */
static int bad_target_char(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f;
}

/* Parse "host[:port]" or "[v6][:port]" of n bytes. */
static int parse_authority(const char *s, size_t n, int dflt_port,
			   struct http_url *u, struct err *e)
{
	const char *host = s, *colon = NULL;
	size_t hlen, i;
	long port = dflt_port;

	if (n == 0)
		return err_set(e, -EINVAL, "URL has no host");
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return err_set(e, -EINVAL, "URL has an unterminated IPv6 address");
		host = s + 1;
		hlen = (size_t)(rb - s) - 1;
		if ((size_t)(rb - s) + 1 < n) {
			if (rb[1] != ':')
				return err_set(e, -EINVAL, "malformed URL authority");
			colon = rb + 1;
		}
		for (i = 0; i < hlen; i++)
			if (!strchr("0123456789abcdefABCDEF:.", host[i]))
				return err_set(e, -EINVAL, "malformed IPv6 address in URL");
	} else {
		colon = memchr(s, ':', n);
		hlen = colon ? (size_t)(colon - s) : n;
		for (i = 0; i < hlen; i++) {
			unsigned char c = (unsigned char)host[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
				return err_set(e, -EINVAL, "malformed host name in URL");
		}
	}
	if (hlen == 0 || hlen > 253)
		return err_set(e, -EINVAL, "URL has an empty or overlong host");
	if (colon) {
		const char *p = colon + 1;
		size_t plen = (size_t)(s + n - p);
		if (plen == 0 || plen > 5)
			return err_set(e, -EINVAL, "malformed port in URL");
		port = 0;
		for (i = 0; i < plen; i++) {
			if (p[i] < '0' || p[i] > '9')
				return err_set(e, -EINVAL, "malformed port in URL");
			port = port * 10 + (p[i] - '0');
		}
		if (port < 1 || port > 65535)
			return err_set(e, -EINVAL, "port %ld out of range in URL", port);
	}
	u->host = xstrndup(host, hlen);
	u->port = (int)port;
	return 0;
}

static int set_target(struct http_url *u, const char *p, size_t n, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (bad_target_char((unsigned char)p[i]))
			return err_set(e, -EINVAL, "URL path contains a space or control character");
	if (n == 0)
		u->target = xstrdup("/");
	else
		u->target = xstrndup(p, n);
	return 0;
}

/* The end of the part before the fragment. */
static size_t nofrag(const char *s)
{
	return strcspn(s, "#");
}

static int parse_full(const char *s, int allow_userinfo, struct http_url *u,
		      char **userinfo, struct err *e)
{
	const char *rest, *auth_end, *at;
	size_t n = nofrag(s);
	int rc;

	memset(u, 0, sizeof(*u));
	if (n >= 8 && strncasecmp(s, "https://", 8) == 0) {
		u->tls = 1;
		rest = s + 8;
	} else if (n >= 7 && strncasecmp(s, "http://", 7) == 0) {
		rest = s + 7;
	} else {
		return err_set(e, -EINVAL, "not an http(s) URL");
	}
	auth_end = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(auth_end - rest));
	if (at) {
		if (!allow_userinfo)
			return err_set(e, -EINVAL, "URL with user information refused");
		if (userinfo)
			*userinfo = xstrndup(rest, (size_t)(at - rest));
		rest = at + 1;
	}
	rc = parse_authority(rest, (size_t)(auth_end - rest), u->tls ? 443 : 80, u, e);
	if (rc < 0)
		return rc;
	rc = set_target(u, auth_end, (size_t)(s + n - auth_end), e);
	if (rc < 0)
		http_url_free(u);
	return rc;
}

int http_url_parse(const char *s, struct http_url *u, struct err *e)
{
	return parse_full(s, 0, u, NULL, e);
}

int http_url_resolve(const struct http_url *base, const char *ref,
		     struct http_url *out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	const char *slash;
	size_t n = nofrag(ref);

	memset(out, 0, sizeof(*out));
	if (strncasecmp(ref, "http://", 7) == 0 || strncasecmp(ref, "https://", 8) == 0)
		return http_url_parse(ref, out, e);
	if (n == 0)
		return err_set(e, -EINVAL, "empty redirect location");
	if (ref[0] == '/' && ref[1] == '/') {
		buf_puts(&b, base->tls ? "https:" : "http:");
		buf_append(&b, ref, n);
		return http_url_parse(buf_str(&b), out, e);
	}
	out->tls = base->tls;
	out->port = base->port;
	out->host = xstrdup(base->host);
	if (ref[0] == '/') {
		buf_append(&b, ref, n);
	} else if (ref[0] == '?') {
		buf_append(&b, base->target, strcspn(base->target, "?"));
		buf_append(&b, ref, n);
	} else {
		/* relative path: replace the last segment of the base path */
		size_t plen = strcspn(base->target, "?");
		slash = base->target + plen;
		while (slash > base->target && slash[-1] != '/')
			slash--;
		buf_append(&b, base->target, (size_t)(slash - base->target));
		buf_append(&b, ref, n);
	}
	if (set_target(out, b.data, b.len, e) < 0) {
		http_url_free(out);
		return e ? e->code : -EINVAL;
	}
	return 0;
}

void http_url_format(const struct http_url *u, struct buf *out)
{
	int v6 = strchr(u->host, ':') != NULL;

	buf_printf(out, "%s://%s%s%s", u->tls ? "https" : "http", v6 ? "[" : "",
		   u->host, v6 ? "]" : "");
	if (u->port != (u->tls ? 443 : 80))
		buf_printf(out, ":%d", u->port);
	buf_puts(out, u->target);
}

int http_host_is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0 ||
	       (strlen(host) > 10 &&
		strcasecmp(host + strlen(host) - 10, ".localhost") == 0);
}

/* NO_PROXY: "*", or comma/space separated entries "host", ".domain",
 * "domain" (matching subdomains too), each optionally with ":port". */
static int no_proxy_match(const char *list, const struct http_url *u)
{
	size_t hlen = strlen(u->host);
	const char *p = list;

	while (*p) {
		size_t n, dn;
		const char *colon, *d;
		int port = 0;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (n == 1 && *p == '*')
			return 1;
		d = p;
		dn = n;
		colon = memchr(p, ':', n);
		if (colon && !memchr(colon + 1, ':', (size_t)(p + n - colon - 1)) && *p != '[') {
			port = atoi(colon + 1);
			dn = (size_t)(colon - p);
		}
		if (*d == '.') {
			d++;
			dn--;
		}
		if (dn > 0 && (!port || port == u->port) && dn <= hlen &&
		    strncasecmp(u->host + hlen - dn, d, dn) == 0 &&
		    (dn == hlen || u->host[hlen - dn - 1] == '.'))
			return 1;
		p += n;
	}
	return 0;
}

void http__proxy_free(struct http__proxy *px)
{
	http_url_free(&px->url);
	free(px->auth);
	px->auth = NULL;
}

int http__proxy_for(const struct http_client_opts *o, const struct http_url *u,
		    struct http__proxy *px, struct err *e)
{
	const char *spec = u->tls ? o->https_proxy : o->http_proxy;
	_cleanup_buf_ struct buf b = BUF_INIT;
	_cleanup_free_ char *userinfo = NULL;
	unsigned char out[1024];
	size_t olen;
	int rc;

	memset(px, 0, sizeof(*px));
	if (!spec || !*spec)
		return 0;
	if (http_host_is_loopback(u->host) && !o->proxy_loopback)
		return 0;
	if (o->no_proxy && no_proxy_match(o->no_proxy, u))
		return 0;
	if (!strstr(spec, "://"))
		buf_puts(&b, "http://");
	buf_puts(&b, spec);
	rc = parse_full(buf_str(&b), 1, &px->url, &userinfo, e);
	if (rc < 0)
		return err_wrap(e, "proxy setting");   /* never echo it: it may hold a password */
	if (px->url.tls) {
		http__proxy_free(px);
		return err_set(e, -ENOTSUP, "https:// proxies are not supported; use an http:// proxy");
	}
	if (userinfo) {
		if (mbedtls_base64_encode(out, sizeof(out), &olen, (unsigned char *)userinfo,
					  strlen(userinfo)) != 0) {
			http__proxy_free(px);
			return err_set(e, -EINVAL, "proxy credentials too long");
		}
		buf_reset(&b);
		buf_puts(&b, "Basic ");
		buf_append(&b, out, olen);
		px->auth = buf_steal(&b);
	}
	return 1;
}

/* Registry authentication (see oci/auth.h): the challenge parser, token
 * fetches and the per-scope cache.  Called by oci/registry.c. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/auth.h"
#include "oci/http.h"

#define MAX_CHALLENGES 8
#define MAX_PARAMS 32
#define CACHE_MAX 64
#define EXPIRY_SLACK_S 10

/* ---- WWW-Authenticate ---- */

static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token68(unsigned char c)
{
	return is_tchar(c) || c == '/';
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (is_tchar((unsigned char)p[n]))
		n++;
	return n;
}

static int quoted(const char **pp, struct buf *out, struct err *e)
{
	const char *p = *pp + 1;

	for (;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\0')
			return err_set(e, -EINVAL, "unterminated quoted string");
		if (c == '"')
			break;
		if (c == '\\') {
			c = (unsigned char)*++p;
			if (c == '\0')
				return err_set(e, -EINVAL, "unterminated quoted string");
		}
		if (c < 0x20 && c != '\t')
			return err_set(e, -EINVAL, "control character in quoted string");
		buf_putc(out, (char)c);
	}
	*pp = p + 1;
	return 0;
}

static char **param_slot(struct auth_challenge *c, const char *name, size_t n)
{
	if (n == 5 && strncasecmp(name, "realm", 5) == 0)
		return &c->realm;
	if (n == 7 && strncasecmp(name, "service", 7) == 0)
		return &c->service;
	if (n == 5 && strncasecmp(name, "scope", 5) == 0)
		return &c->scope;
	if (n == 5 && strncasecmp(name, "error", 5) == 0)
		return &c->error;
	return NULL;
}

/* Parse the params of one challenge at *pp, up to the next challenge or
 * the end. */
static int parse_params(const char **pp, struct auth_challenge *c, struct err *e)
{
	const char *p = *pp;
	int nparams = 0, rc;

	for (;;) {
		_cleanup_buf_ struct buf v = BUF_INIT;
		const char *name, *save;
		size_t n;
		char **slot;

		save = p;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		name = p;
		n = token_len(p);
		if (n == 0)
			return err_set(e, -EINVAL, "unexpected character '%c'",
				       (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?');
		p += n;
		skip_ws(&p);
		if (*p != '=') {
			/* "token SP token": the next challenge's scheme */
			if (nparams == 0 && save == *pp && !*p)
				break;
			p = save;
			break;
		}
		p++;
		skip_ws(&p);
		if (*p == '"') {
			if ((rc = quoted(&p, &v, e)) < 0)
				return rc;
		} else {
			size_t vn = token_len(p);
			if (vn == 0)
				return err_set(e, -EINVAL, "parameter %.*s has no value",
					       (int)(n < 32 ? n : 32), name);
			buf_append(&v, p, vn);
			p += vn;
		}
		skip_ws(&p);
		if (*p && *p != ',')
			return err_set(e, -EINVAL, "garbage after parameter %.*s",
				       (int)(n < 32 ? n : 32), name);
		if (++nparams > MAX_PARAMS)
			return err_set(e, -EINVAL, "more than %d parameters", MAX_PARAMS);
		slot = param_slot(c, name, n);
		if (slot) {
			if (*slot)
				return err_set(e, -EINVAL, "parameter %.*s repeated", (int)n, name);
			*slot = buf_steal(&v);
		}
	}
	*pp = p;
	return 0;
}

int auth_parse_challenges(const char *hdr, struct auth_challenges *out,
			  struct err *e)
{
	const char *p = hdr;
	int rc;

	out->v = NULL;
	out->n = 0;
	for (;;) {
		struct auth_challenge *c;
		size_t n, i;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = token_len(p);
		if (n == 0 || (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != ',')) {
			rc = err_set(e, -EINVAL, "malformed WWW-Authenticate header: bad scheme");
			goto fail;
		}
		if (out->n == MAX_CHALLENGES) {
			rc = err_set(e, -EINVAL, "malformed WWW-Authenticate header: more than %d challenges",
				     MAX_CHALLENGES);
			goto fail;
		}
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		c = &out->v[out->n++];
		memset(c, 0, sizeof(*c));
		c->scheme = xstrndup(p, n);
		for (i = 0; i < n; i++)
			if (c->scheme[i] >= 'A' && c->scheme[i] <= 'Z')
				c->scheme[i] = (char)(c->scheme[i] + 32);
		p += n;
		skip_ws(&p);
		/* token68 (e.g. "Negotiate abc=="): a run of token68 characters
		 * and '=' padding standing alone; "name=value" is a parameter. */
		if (*p && *p != ',') {
			size_t t = 0, eq = 0;
			while (is_token68((unsigned char)p[t]))
				t++;
			while (p[t + eq] == '=')
				eq++;
			if (t && strchr(" \t,", p[t + eq])) {
				p += t + eq;
				continue;
			}
		}
		if ((rc = parse_params(&p, c, e)) < 0) {
			err_wrap(e, "malformed WWW-Authenticate header");
			goto fail;
		}
	}
	if (out->n == 0) {
		rc = err_set(e, -EINVAL, "empty WWW-Authenticate header");
		goto fail;
	}
	return 0;
fail:
	auth_challenges_free(out);
	return rc;
}

void auth_challenges_free(struct auth_challenges *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].scheme);
		free(c->v[i].realm);
		free(c->v[i].service);
		free(c->v[i].scope);
		free(c->v[i].error);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* ---- the token cache ---- */

struct cache_entry {
	char *scope;
	char *authorization;
	time_t expires;       /* 0 = until refused (Basic) */
};

struct auth {
	struct http_client *http;
	char *registry;
	char *username, *password, *identity_token;
	struct auth_opts opts;
	char *client_id;
	pthread_mutex_t lock;
	struct cache_entry cache[CACHE_MAX];
	size_t ncache;
	char *basic;          /* "Basic ..." once a Basic challenge was answered */
};

struct auth *auth_new(struct http_client *http, const char *registry,
		      const struct auth_creds *creds, const struct auth_opts *opts)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->http = http;
	a->registry = xstrdup(registry);
	if (creds && creds->username)
		a->username = xstrdup(creds->username);
	if (creds && creds->password)
		a->password = xstrdup(creds->password);
	if (creds && creds->identity_token)
		a->identity_token = xstrdup(creds->identity_token);
	if (opts)
		a->opts = *opts;
	a->client_id = xstrdup(a->opts.client_id ? a->opts.client_id : "container");
	a->opts.client_id = NULL;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

static void wipe_free(char *s)
{
	if (s) {
		volatile char *v = s;
		while (*v)
			*v++ = 0;
		free(s);
	}
}

static void entry_free(struct cache_entry *c)
{
	free(c->scope);
	wipe_free(c->authorization);
	memset(c, 0, sizeof(*c));
}

void auth_free(struct auth *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->ncache; i++)
		entry_free(&a->cache[i]);
	free(a->registry);
	free(a->username);
	wipe_free(a->password);
	wipe_free(a->identity_token);
	wipe_free(a->basic);
	free(a->client_id);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

char *auth_cached(struct auth *a, const char *scope)
{
	time_t now = time(NULL);
	char *r = NULL;
	size_t i;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->ncache && !r; i++)
		if (strcmp(a->cache[i].scope, scope) == 0 &&
		    (a->cache[i].expires == 0 || a->cache[i].expires - EXPIRY_SLACK_S > now))
			r = xstrdup(a->cache[i].authorization);
	if (!r && a->basic)
		r = xstrdup(a->basic);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static void cache_put(struct auth *a, const char *scope, const char *authz, time_t expires)
{
	size_t i, oldest = 0;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->ncache; i++)
		if (strcmp(a->cache[i].scope, scope) == 0)
			break;
	if (i == a->ncache) {
		if (a->ncache < CACHE_MAX) {
			a->ncache++;
		} else {
			for (i = 1; i < a->ncache; i++)
				if (a->cache[i].expires < a->cache[oldest].expires)
					oldest = i;
			i = oldest;
		}
	}
	entry_free(&a->cache[i]);
	a->cache[i].scope = xstrdup(scope);
	a->cache[i].authorization = xstrdup(authz);
	a->cache[i].expires = expires;
	pthread_mutex_unlock(&a->lock);
}

/* ---- token fetch ---- */

static void urlenc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

static char *basic_value(const char *user, const char *pass)
{
	_cleanup_buf_ struct buf raw = BUF_INIT;
	struct buf out = BUF_INIT;
	size_t olen = 0;

	buf_printf(&raw, "%s:%s", user, pass);
	buf_puts(&out, "Basic ");
	mbedtls_base64_encode(NULL, 0, &olen, (unsigned char *)raw.data, raw.len);
	buf_reserve(&out, olen);
	mbedtls_base64_encode((unsigned char *)out.data + out.len, olen, &olen,
			      (unsigned char *)raw.data, raw.len);
	out.len += olen;
	out.data[out.len] = '\0';
	memset(raw.data, 0, raw.len);
	return buf_steal(&out);
}

/* Scopes to ask for: the challenge's (when the registry names one) and
 * ours (space-separated when several, e.g. for a cross-repo mount). */
static void add_scopes(struct buf *b, const struct auth_challenge *c, const char *scope,
		       const char *sep, const char *prefix)
{
	int any = 0;

	if (c->scope && *c->scope) {
		buf_puts(b, prefix);
		urlenc(b, c->scope);
		any = 1;
	}
	while (*scope) {
		size_t n = strcspn(scope, " ");
		_cleanup_free_ char *one = xstrndup(scope, n);
		if (n && (!c->scope || strcmp(c->scope, one) != 0)) {
			buf_puts(b, any ? sep : prefix);
			urlenc(b, one);
			any = 1;
		}
		scope += n;
		scope += strspn(scope, " ");
	}
}

static int parse_token(struct auth *a, const struct buf *body, char **authz,
		       time_t *expires, struct err *e)
{
	_cleanup_json_ json_t *j = jsonx_parse(body->data, body->len, AUTH_TOKEN_RESPONSE_MAX,
					       "token response", e);
	const char *tok;
	long long exp;
	_cleanup_buf_ struct buf v = BUF_INIT;

	if (!j)
		return err_wrap(e, "registry %s", a->registry);
	tok = jsonx_str(j, "token");
	if (!tok || !*tok)
		tok = jsonx_str(j, "access_token");
	if (!tok || !*tok)
		return err_set(e, -EPROTO, "registry %s: token response has no token", a->registry);
	if (strpbrk(tok, "\r\n"))
		return err_set(e, -EPROTO, "registry %s: token contains a line break", a->registry);
	exp = jsonx_int(j, "expires_in", 60);
	if (exp < 60)
		exp = 60;          /* the distribution token spec's minimum */
	if (exp > 86400)
		exp = 86400;
	buf_printf(&v, "Bearer %s", tok);
	*authz = buf_steal(&v);
	*expires = time(NULL) + (time_t)exp;
	return 0;
}

static int token_request(struct auth *a, const struct auth_challenge *c, const char *scope,
			 int post, struct http_response **out, struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT, form = BUF_INIT;
	_cleanup_free_ char *basic = NULL;
	static const char *const form_hdr[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL };
	struct http_request rq = { 0 };

	buf_puts(&u, c->realm);
	if (post) {
		if (a->identity_token) {
			buf_puts(&form, "grant_type=refresh_token&refresh_token=");
			urlenc(&form, a->identity_token);
		} else {
			buf_puts(&form, "grant_type=password&username=");
			urlenc(&form, a->username);
			buf_puts(&form, "&password=");
			urlenc(&form, a->password);
		}
		buf_puts(&form, "&client_id=");
		urlenc(&form, a->client_id);
		if (c->service) {
			buf_puts(&form, "&service=");
			urlenc(&form, c->service);
		}
		add_scopes(&form, c, scope, "%20", "&scope=");
		rq.method = "POST";
		rq.body = form.data;
		rq.body_len = form.len;
		rq.headers = form_hdr;
	} else {
		int first = !strchr(c->realm, '?');
		if (c->service) {
			buf_puts(&u, first ? "?service=" : "&service=");
			urlenc(&u, c->service);
			first = 0;
		}
		add_scopes(&u, c, scope, "&scope=", first ? "?scope=" : "&scope=");
		rq.method = "GET";
		if (a->username && a->password)
			rq.authorization = basic = basic_value(a->username, a->password);
	}
	rq.url = buf_str(&u);
	return http_do(a->http, &rq, out, e);
}

static int fetch_token(struct auth *a, const struct auth_challenge *c, const char *scope,
		       char **authz, struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	struct http_url ru;
	struct http_response *r = NULL;
	int post = a->identity_token || (a->opts.force_oauth && a->username && a->password);
	time_t expires = 0;
	int rc;

	if (!c->realm || !*c->realm)
		return err_set(e, -EPROTO, "registry %s: Bearer challenge without a realm", a->registry);
	if (http_url_parse(c->realm, &ru, e) < 0)
		return err_wrap(e, "registry %s: bad token realm", a->registry);
	if (!ru.tls && (a->password || a->identity_token) && !http_host_is_loopback(ru.host)) {
		http_url_free(&ru);
		return err_set(e, -EACCES, "registry %s: refusing to send credentials to a plain-http token realm",
			       a->registry);
	}
	http_url_free(&ru);
	rc = token_request(a, c, scope, post, &r, e);
	if (rc == 0 && post && (r->status == 404 || r->status == 405 ||
				(r->status == 401 && !a->identity_token))) {
		/* no oauth2 POST endpoint: the classic GET */
		http_response_free(r);
		r = NULL;
		rc = token_request(a, c, scope, 0, &r, e);
	}
	if (rc < 0)
		return err_wrap(e, "registry %s: token request", a->registry);
	if (r->status == 401 || r->status == 403) {
		rc = err_set(e, -EACCES, "registry %s: the token server refused %s (%d)",
			     a->registry, a->username || a->identity_token ? "the credentials" : "anonymous access",
			     r->status);
		goto out;
	}
	if (r->status != 200) {
		rc = err_set(e, -EPROTO, "registry %s: token server answered %d", a->registry, r->status);
		goto out;
	}
	rc = http_response_read_all(r, &body, AUTH_TOKEN_RESPONSE_MAX, e);
	if (rc < 0) {
		if (rc == -EFBIG)
			rc = err_set(e, -EFBIG, "registry %s: token response larger than %d bytes",
				     a->registry, AUTH_TOKEN_RESPONSE_MAX);
		else
			err_wrap(e, "registry %s: reading the token", a->registry);
		goto out;
	}
	rc = parse_token(a, &body, authz, &expires, e);
	if (rc == 0)
		cache_put(a, scope, *authz, expires);
out:
	if (body.data)
		memset(body.data, 0, body.len);
	http_response_free(r);
	return rc;
}

int auth_answer(struct auth *a, const char *www_authenticate, const char *scope,
		char **authorization, struct err *e)
{
	struct auth_challenges ch;
	size_t i;
	int rc;

	if (!www_authenticate)
		return err_set(e, -EACCES, "registry %s: unauthorized, and no challenge to answer",
			       a->registry);
	if ((rc = auth_parse_challenges(www_authenticate, &ch, e)) < 0)
		return err_wrap(e, "registry %s", a->registry);
	rc = 1;
	for (i = 0; i < ch.n && rc > 0; i++)
		if (strcmp(ch.v[i].scheme, "bearer") == 0)
			rc = fetch_token(a, &ch.v[i], scope, authorization, e);
	for (i = 0; i < ch.n && rc > 0; i++) {
		if (strcmp(ch.v[i].scheme, "basic") != 0)
			continue;
		if (!a->username || !a->password) {
			rc = err_set(e, -EACCES, "registry %s requires a login (Basic auth); none is configured",
				     a->registry);
			break;
		}
		*authorization = basic_value(a->username, a->password);
		pthread_mutex_lock(&a->lock);
		wipe_free(a->basic);
		a->basic = xstrdup(*authorization);
		pthread_mutex_unlock(&a->lock);
		rc = 0;
	}
	if (rc > 0)
		rc = err_set(e, -EACCES, "registry %s: no supported authentication scheme (%s)",
			     a->registry, ch.v[0].scheme);
	auth_challenges_free(&ch);
	return rc;
}

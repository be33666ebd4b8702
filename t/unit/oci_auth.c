/* oci/auth.c: WWW-Authenticate parsing (valid, multiple, escaped and
 * malformed challenges) and token fetches against a fake token server:
 * anonymous and Basic GET, oauth POST with fallback, the cache, and a
 * 10 MiB token response. */
#include "lib/err.h"
#include "oci/auth.h"
#include "oci/http.h"
#include "t/tap.h"
#include "t/unit/http_fake.h"

static void test_parse(void)
{
	static const char *bad[] = {
		"",
		"   ",
		"Bearer realm=\"unterminated",
		"Bearer realm=\"x\" garbage",
		"Bearer realm=\"a\",realm=\"b\"",
		"Bearer realm=",
		"Bearer realm=\"x\", =y",
		"Bearer realm=\"a\x01\"",
		"(Bearer)",
		"Bearer realm=\"x\", service=\"y\\",
	};
	struct auth_challenges ch;
	struct err e = ERR_INIT;
	size_t i;
	int rc;

	rc = auth_parse_challenges("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
				   "scope=\"repository:library/alpine:pull\"", &ch, &e);
	ok(rc == 0 && ch.n == 1, "Docker Hub style challenge");
	if (rc == 0) {
		is_str(ch.v[0].scheme, "bearer", "scheme lower-cased");
		is_str(ch.v[0].realm, "https://auth.example/token", "realm");
		is_str(ch.v[0].service, "registry.example", "service");
		is_str(ch.v[0].scope, "repository:library/alpine:pull", "scope");
		auth_challenges_free(&ch);
	}
	rc = auth_parse_challenges("Basic realm=\"Registry Realm\", BEARER realm=tok , scope=\"a:b:c\","
				   " error=\"insufficient_scope\"", &ch, &e);
	ok(rc == 0 && ch.n == 2, "two challenges in one header (%s)", e.msg);
	if (rc == 0) {
		is_str(ch.v[0].scheme, "basic", "first is basic");
		is_str(ch.v[0].realm, "Registry Realm", "quoted realm with a space");
		is_str(ch.v[1].realm, "tok", "token value");
		is_str(ch.v[1].error, "insufficient_scope", "error parameter");
		auth_challenges_free(&ch);
	}
	rc = auth_parse_challenges("Bearer realm=\"a\\\"b\\\\c\"", &ch, &e);
	ok(rc == 0 && strcmp(ch.v[0].realm, "a\"b\\c") == 0, "escapes in quoted strings");
	if (rc == 0)
		auth_challenges_free(&ch);
	rc = auth_parse_challenges("Negotiate YWJj==, Bearer realm=\"r\"", &ch, &e);
	ok(rc == 0 && ch.n == 2 && strcmp(ch.v[1].realm, "r") == 0, "token68 challenge skipped over");
	if (rc == 0)
		auth_challenges_free(&ch);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		rc = auth_parse_challenges(bad[i], &ch, &e);
		if (rc == 0 && i == 5) {   /* "realm=" is a token68: valid syntax, no realm */
			ok(ch.v[0].realm == NULL, "bare 'realm=' gives no realm");
			auth_challenges_free(&ch);
			continue;
		}
		is_int(rc, -EINVAL, "malformed challenge %zu refused: %s", i, e.msg);
	}
}

static int big_token;

static int h_token(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)len; (void)n;
	if (strncmp(req, "POST /nopost", 12) == 0) {
		fc_puts(fc, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(req, "/huge")) {
		static char chunk[65536];
		int i;
		memset(chunk, ' ', sizeof(chunk));
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n{\"token\":\"", 10 << 20);
		for (i = 0; i < 160 && fc_write(fc, chunk, sizeof(chunk)) == 0; i++)
			;
		return 0;
	}
	if (strstr(req, "/hugechunked")) {
		return 0;
	}
	if (strstr(req, "/deny")) {
		fc_puts(fc, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	big_token++;
	if (strncmp(req, "POST", 4) == 0)
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\n{\"access_token\":\"posttok\",\"expires_in\":300}");
	else
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n{\"token\":\"gettok%04d\"}", big_token);
	return 1;
}

static void test_fetch(void)
{
	_cleanup_buf_ struct buf rq = BUF_INIT, hdr = BUF_INIT;
	struct http_client_opts o = { 0 };
	struct auth_creds cr = { "alice", "s3cr3t-pw", NULL };
	struct auth_opts ao = { 1, NULL };
	struct err e = ERR_INIT;
	struct http_client *cl;
	struct auth *a;
	struct fake srv;
	char *authz = NULL, *c;
	int rc;

	fake_start(&srv, h_token, NULL);
	o.retries = -1;
	cl = http_client_new(&o, &e);

	a = auth_new(cl, "reg.test", NULL, NULL);
	buf_printf(&hdr, "Bearer realm=\"http://127.0.0.1:%d/token\",service=\"reg.test\",scope=\"repository:a/b:pull\"",
		   srv.port);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	ok(rc == 0, "anonymous token (%s)", e.msg);
	is_str(authz, "Bearer gettok0001", "token from the 'token' field");
	fake_request(&srv, 0, &rq);
	ok(strstr(buf_str(&rq), "GET /token?service=reg.test&scope=repository%3Aa%2Fb%3Apull HTTP/1.1") != NULL,
	   "GET with service and scope");
	ok(strcasestr(buf_str(&rq), "authorization") == NULL, "anonymous: no Authorization");
	c = auth_cached(a, "repository:a/b:pull");
	is_str(c, "Bearer gettok0001", "cached per scope");
	free(c);
	ok(auth_cached(a, "repository:other:pull") == NULL, "other scope not cached");
	free(authz);
	authz = NULL;
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	is_str(authz, "Bearer gettok0002", "re-challenge fetches a new token");
	free(authz);
	authz = NULL;
	auth_free(a);

	a = auth_new(cl, "reg.test", &cr, NULL);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull,push", &authz, &e);
	ok(rc == 0, "token with credentials");
	fake_request(&srv, 2, &rq);
	ok(strstr(buf_str(&rq), "Authorization: Basic YWxpY2U6czNjcjN0LXB3\r\n") != NULL,
	   "GET with Basic credentials");
	ok(strstr(buf_str(&rq), "scope=repository%3Aa%2Fb%3Apull&scope=repository%3Aa%2Fb%3Apull%2Cpush") != NULL,
	   "challenge scope and our scope both asked for");
	free(authz);
	authz = NULL;
	auth_free(a);

	a = auth_new(cl, "reg.test", &cr, &ao);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	is_str(authz, "Bearer posttok", "oauth POST, 'access_token' field");
	fake_request(&srv, 3, &rq);
	ok(strncmp(buf_str(&rq), "POST /token HTTP/1.1", 20) == 0 &&
	   strstr(buf_str(&rq), "grant_type=password&username=alice&password=s3cr3t-pw&client_id=container&service=reg.test&scope=repository%3Aa%2Fb%3Apull") != NULL,
	   "oauth form body");
	free(authz);
	authz = NULL;
	buf_reset(&hdr);
	buf_printf(&hdr, "Bearer realm=\"http://127.0.0.1:%d/nopost\"", srv.port);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	ok(rc == 0 && strncmp(authz, "Bearer gettok", 13) == 0, "POST 405 falls back to GET");
	free(authz);
	authz = NULL;
	auth_free(a);

	a = auth_new(cl, "reg.test", &cr, NULL);
	buf_reset(&hdr);
	buf_printf(&hdr, "Bearer realm=\"http://127.0.0.1:%d/huge\"", srv.port);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	is_int(rc, -EFBIG, "10 MiB token response refused");
	ok(strstr(e.msg, "token response larger than") != NULL, "message: %s", e.msg);
	ok(strstr(e.msg, "s3cr3t") == NULL && strstr(e.msg, "alice") == NULL, "no credentials in the message");
	buf_reset(&hdr);
	buf_printf(&hdr, "Bearer realm=\"http://127.0.0.1:%d/deny\"", srv.port);
	rc = auth_answer(a, buf_str(&hdr), "repository:a/b:pull", &authz, &e);
	is_int(rc, -EACCES, "token server refusal");
	is_str(e.msg, "registry reg.test: the token server refused the credentials (401)", "refusal message");
	rc = auth_answer(a, "Bearer service=\"x\"", "", &authz, &e);
	is_int(rc, -EPROTO, "Bearer without realm: %s", e.msg);
	rc = auth_answer(a, "Bearer realm=\"ftp://x/\"", "", &authz, &e);
	is_int(rc, -EINVAL, "non-http realm: %s", e.msg);
	rc = auth_answer(a, "Bearer realm=\"http://auth.example/token\"", "", &authz, &e);
	is_int(rc, -EACCES, "no password over plain http to a remote realm");
	rc = auth_answer(a, "Bearer realm=\"x", "", &authz, &e);
	is_int(rc, -EINVAL, "malformed challenge: %s", e.msg);
	rc = auth_answer(a, "Basic realm=\"r\"", "repository:a/b:pull", &authz, &e);
	ok(rc == 0 && strcmp(authz, "Basic YWxpY2U6czNjcjN0LXB3") == 0, "Basic challenge answered");
	free(authz);
	c = auth_cached(a, "anything");
	ok(c && strncmp(c, "Basic ", 6) == 0, "Basic is used for every scope afterwards");
	free(c);
	auth_free(a);

	a = auth_new(cl, "reg.test", NULL, NULL);
	rc = auth_answer(a, "Basic realm=\"r\"", "", &authz, &e);
	is_int(rc, -EACCES, "Basic without credentials: %s", e.msg);
	rc = auth_answer(a, "Digest realm=\"r\", nonce=\"n\"", "", &authz, &e);
	is_int(rc, -EACCES, "unsupported scheme: %s", e.msg);
	auth_free(a);

	http_client_free(cl);
	fake_stop(&srv);
}

int main(void)
{
	test_parse();
	test_fetch();
	return done_testing();
}

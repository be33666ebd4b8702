/* Tests of applets/api_regauth.c: X-Registry-Auth as docker, compose and
 * the Docker SDKs send it (url alphabet, padded or not, standard
 * alphabet, the legacy "auth"), the empty forms, the encoder's round trip,
 * and hostile headers: not base64, not JSON, not an object, wrong field
 * types, too long; and that no message names the secret. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "applets/api_regauth.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "oci/creds.h"
#include "t/tap.h"

static int dec(const char *h, struct creds *c, struct buf *srv, struct err *e)
{
	return api_regauth_decode(h, strlen(h), c, srv, e);
}

/* base64 (standard alphabet, padded) of s */
static void b64(const char *s, struct buf *out)
{
	size_t n = strlen(s), cap = (n + 2) / 3 * 4 + 1, olen = 0;
	unsigned char *p = malloc(cap);

	mbedtls_base64_encode(p, cap, &olen, (const unsigned char *)s, n);
	buf_append(out, p, olen);
	free(p);
}

static int dec_json(const char *json, struct creds *c, struct err *e)
{
	_cleanup_buf_ struct buf h = BUF_INIT;

	b64(json, &h);
	return api_regauth_decode(h.data, h.len, c, NULL, e);
}

static void good(void)
{
	_cleanup_buf_ struct buf srv = BUF_INIT, h = BUF_INIT;
	struct creds c;
	struct err e = ERR_INIT;

	/* {"username":"alice","password":"p?>w","serveraddress":"r:5000"} in
	 * the url alphabet, as docker's encoder writes it ('?>' gives '_') */
	b64("{\"username\":\"alice\",\"password\":\"p?>w\",\"serveraddress\":\"r:5000\"}", &h);
	for (size_t i = 0; i < h.len; i++)
		h.data[i] = h.data[i] == '+' ? '-' : h.data[i] == '/' ? '_' : h.data[i];
	is_int(api_regauth_decode(h.data, h.len, &c, &srv, &e), 1, "url alphabet: credentials");
	is_str(c.username, "alice", "username");
	is_str(c.password, "p?>w", "password");
	is_str(buf_str(&srv), "r:5000", "serveraddress");
	creds_free(&c);
	while (h.len && h.data[h.len - 1] == '=')
		h.len--;
	is_int(api_regauth_decode(h.data, h.len, &c, NULL, &e), 1, "padding is optional");
	creds_free(&c);

	is_int(dec_json("{\"identitytoken\":\"tok\"}", &c, &e), 1, "an identity token alone");
	is_str(c.identity_token, "tok", "identity token");
	ok(c.username == NULL, "no user name then");
	creds_free(&c);

	/* legacy auth: base64("bob:a:b") inside */
	is_int(dec_json("{\"auth\":\"Ym9iOmE6Yg==\"}", &c, &e), 1, "legacy auth field");
	is_str(c.username, "bob", "legacy auth: user");
	is_str(c.password, "a:b", "legacy auth: the password keeps its colons");
	creds_free(&c);

	is_int(dec("", &c, NULL, &e), 0, "empty header: no credentials");
	is_int(dec("e30=", &c, NULL, &e), 0, "{}: no credentials");
	is_int(dec("e30", &c, NULL, &e), 0, "{} unpadded");
	is_int(dec_json("null", &c, &e), 0, "null: no credentials");
	is_int(dec_json("{\"serveraddress\":\"x\",\"email\":null}", &c, &e), 0,
	       "an address alone: no credentials");
	is_int(dec_json("{\"username\":\"\",\"password\":\"\"}", &c, &e), 0,
	       "empty strings (docker's anonymous pull): no credentials");
	ok(c.username == NULL && c.password == NULL && c.identity_token == NULL, "zeroed");
}

static void round_trip(void)
{
	struct creds in = { .username = "u\xc3\xa9", .password = "pa\"ss\\ word:1", .identity_token = NULL };
	_cleanup_buf_ struct buf h = BUF_INIT, srv = BUF_INIT;
	struct creds out;
	struct err e = ERR_INIT;

	is_int(api_regauth_encode(&in, "127.0.0.1:5000", &h, &e), 0, "encode");
	ok(strspn(buf_str(&h), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") ==
		   h.len, "encoded in the url alphabet");
	is_int(api_regauth_decode(h.data, h.len, &out, &srv, &e), 1, "decode what we encoded");
	is_str(out.username, in.username, "user round trip");
	is_str(out.password, in.password, "password round trip (quotes, backslash, colon)");
	is_str(buf_str(&srv), "127.0.0.1:5000", "server round trip");
	creds_free(&out);
}

static void bad(const char *h, int is_json, const char *want, const char *name)
{
	struct creds c;
	struct err e = ERR_INIT;
	int rc = is_json ? dec_json(h, &c, &e) : dec(h, &c, NULL, &e);

	is_int(rc, -EINVAL, "%s", name);
	ok(strstr(e.msg, want) != NULL, "  message: %s", e.msg);
	ok(!strstr(e.msg, "s3cret"), "  the message does not name the secret");
	ok(c.username == NULL && c.password == NULL, "  nothing returned");
}

static void hostile(void)
{
	_cleanup_buf_ struct buf big = BUF_INIT;

	bad("not base64!", 0, "not base64", "bad base64");
	bad("e30=e30=", 0, "not base64", "padding in the middle");
	bad("aGVsbG8gd29ybGQ=", 0, "not JSON", "base64 of text that is not JSON");
	bad("[\"s3cret\"]", 1, "not a JSON object", "a JSON array");
	bad("\"s3cret\"", 1, "not a JSON object", "a JSON string");
	bad("{\"username\":1,\"password\":\"s3cret\"}", 1, "username is not a string",
	    "a number for username");
	bad("{\"username\":\"a\",\"password\":{\"x\":\"s3cret\"}}", 1, "password is not a string",
	    "an object for password");
	bad("{\"username\":\"a\",\"password\":\"s3cret\",\"username\":\"b\"}", 1, "not JSON",
	    "a duplicate key");
	bad("{\"auth\":\"czNjcmV0\"}", 1, "auth has no ':'", "legacy auth without a colon");
	bad("{\"auth\":\"%%%\"}", 1, "auth is not base64", "legacy auth not base64");
	/* base64 of "c\xef b:a:b" (found by the fuzzer: user not UTF-8) */
	bad("{\"auth\":\"Y-9iOmE6Yg==\"}", 1, "auth is not UTF-8", "legacy auth not UTF-8");
	bad("{\"username\":\"a\\u0000b\",\"password\":\"s3cret\"}", 1, "not JSON",
	    "a NUL inside a string");
	buf_puts(&big, "{\"username\":\"a\",\"password\":\"");
	for (int i = 0; i < 9000; i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\"}");
	bad(buf_str(&big), 1, "password is too long", "a field past its bound");
	buf_reset(&big);
	for (int i = 0; i < 30000; i++)
		buf_putc(&big, 'A');
	bad(buf_str(&big), 0, "too long", "a header past its bound");
}

int main(void)
{
	good();
	round_trip();
	hostile();
	done_testing();
}

/* X-Registry-Auth decoding and encoding (see applets/api_regauth.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/base64.h>

#include "applets/api_regauth.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/creds.h"

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* Field key of o as a string: 0 absent or null, 1 present, -EINVAL else. */
static int field(const json_t *o, const char *key, const char **out, struct err *e)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, -EINVAL, "X-Registry-Auth: %s is not a string", key);
	if (json_string_length(v) > API_REGAUTH_FIELD_MAX)
		return err_set(e, -EINVAL, "X-Registry-Auth: %s is too long", key);
	if (!json_string_length(v))
		return 0;   /* "" is absent: docker sends empty fields for anonymous */
	*out = json_string_value(v);
	return 1;
}

static bool utf8(const unsigned char *p, size_t n)
{
	json_t *t = json_stringn((const char *)p, n);   /* NULL: not UTF-8 */

	json_decref(t);
	return t != NULL;
}

/* The legacy "auth": base64("user:password"). */
static int legacy_auth(const char *b64, struct creds *out, struct err *e)
{
	size_t n = strlen(b64), len = 0;
	unsigned char *raw = xmalloc(n + 1);
	char *colon;
	int rc = 0;

	if (base64_decode(b64, n, raw, &len, BASE64_URL) < 0 || memchr(raw, '\0', len)) {
		rc = err_set(e, -EINVAL, "X-Registry-Auth: auth is not base64 of user:password");
	} else if (!utf8(raw, len)) {
		rc = err_set(e, -EINVAL, "X-Registry-Auth: auth is not UTF-8");
	} else {
		raw[len] = '\0';
		if (!(colon = strchr((char *)raw, ':'))) {
			rc = err_set(e, -EINVAL, "X-Registry-Auth: auth has no ':'");
		} else {
			*colon = '\0';
			if (raw[0]) {   /* ":x" names nobody */
				out->username = xstrdup((char *)raw);
				out->password = xstrdup(colon + 1);
			}
		}
	}
	wipe(raw, n + 1);
	free(raw);
	return rc;
}

static int from_json(const json_t *o, struct creds *out, struct buf *server, struct err *e)
{
	const char *user, *pass, *auth, *token, *addr, *reg, *mail;
	int rc;

	if ((rc = field(o, "username", &user, e)) < 0 || (rc = field(o, "password", &pass, e)) < 0 ||
	    (rc = field(o, "auth", &auth, e)) < 0 || (rc = field(o, "identitytoken", &token, e)) < 0 ||
	    (rc = field(o, "serveraddress", &addr, e)) < 0 ||
	    (rc = field(o, "registrytoken", &reg, e)) < 0 || (rc = field(o, "email", &mail, e)) < 0)
		return rc;
	if (addr && server)
		buf_puts(server, addr);
	if (user) {
		out->username = xstrdup(user);
		out->password = xstrdup(pass ? pass : "");
	} else if (auth && (rc = legacy_auth(auth, out, e)) < 0) {
		return rc;
	}
	if (token)
		out->identity_token = xstrdup(token);
	return out->username || out->identity_token ? 1 : 0;
}

int api_regauth_decode(const char *p, size_t n, struct creds *out, struct buf *server,
		       struct err *e)
{
	unsigned char *raw;
	size_t len = 0;
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	if (n > API_REGAUTH_MAX)
		return err_set(e, -EINVAL, "X-Registry-Auth is too long (%zu bytes, at most %u)", n,
			       API_REGAUTH_MAX);
	raw = xmalloc(n + 1);
	if (base64_decode(p, n, raw, &len, BASE64_URL) < 0) {
		free(raw);
		return err_set(e, -EINVAL, "X-Registry-Auth is not base64");
	}
	o = jsonx_parse(raw, len, API_REGAUTH_MAX, "X-Registry-Auth", NULL);
	wipe(raw, n + 1);
	free(raw);
	if (!o)
		return err_set(e, -EINVAL, "X-Registry-Auth is not JSON");
	if (json_is_null(o))
		rc = 0;
	else if (!json_is_object(o))
		rc = err_set(e, -EINVAL, "X-Registry-Auth is not a JSON object");
	else
		rc = from_json(o, out, server, e);
	/* jansson keeps the strings: overwrite the secrets before the free */
	if (json_is_object(o)) {
		const char *keys[] = { "password", "auth", "identitytoken", "registrytoken" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *v = json_object_get(o, keys[i]);
			if (json_is_string(v))
				wipe((char *)json_string_value(v), json_string_length(v));
		}
	}
	json_decref(o);
	if (rc < 0)
		creds_free(out);
	return rc;
}

int api_regauth_encode(const struct creds *c, const char *server, struct buf *out,
		       struct err *e)
{
	_cleanup_buf_ struct buf js = BUF_INIT;
	json_t *o = json_object();
	int rc;

	/* json_object_set_new refuses a NULL value (a string not UTF-8) */
	if ((c->username && json_object_set_new(o, "username", json_string(c->username))) ||
	    (c->password && json_object_set_new(o, "password", json_string(c->password))) ||
	    (c->identity_token &&
	     json_object_set_new(o, "identitytoken", json_string(c->identity_token))) ||
	    (server && json_object_set_new(o, "serveraddress", json_string(server)))) {
		json_decref(o);
		return err_set(e, -EINVAL, "X-Registry-Auth: credentials that are not UTF-8");
	}
	rc = jsonx_dump_buf(o, JSON_COMPACT, &js, e);
	json_decref(o);
	if (rc < 0)
		return rc;
	{
		/* Docker's URLEncoding: the standard alphabet, 62 and 63 swapped */
		size_t cap = (js.len + 2) / 3 * 4 + 1, olen = 0;
		unsigned char *b64 = xmalloc(cap);
		if (mbedtls_base64_encode(b64, cap, &olen, (const unsigned char *)js.data, js.len))
			rc = err_set(e, -ENOMEM, "X-Registry-Auth: encoding failed");
		for (size_t i = 0; rc == 0 && i < olen; i++)
			buf_putc(out, b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i]);
		wipe(b64, cap);
		free(b64);
	}
	wipe(js.data, js.len);
	return 0;
}

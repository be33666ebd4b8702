/* X-Registry-Auth, the header with which Docker clients hand registry
 * credentials to POST /images/create (pull) and POST /images/{name}/push:
 * base64url (standard alphabet accepted, padding optional) of a JSON
 * object {username, password, auth, serveraddress, identitytoken, ...}.
 *
 * The decoder is pure and bounded: at most API_REGAUTH_MAX bytes of
 * header, each field at most API_REGAUTH_FIELD_MAX; bad base64, text that
 * is not a JSON object, or a field of the wrong type is -EINVAL (the
 * server answers 400).  Messages never contain the secret.  Fuzzed by
 * t/fuzz/registry_auth.c, tested by t/unit/applets_api_regauth.c.
 *
 * The server uses the credentials for that one request (creds_conn_opts's
 * creds) and wipes them; our CLI encodes the ones `registry login` stored. */
#ifndef APPLETS_API_REGAUTH_H
#define APPLETS_API_REGAUTH_H

#include <stddef.h>

struct buf;
struct creds;
struct err;

#define API_REGAUTH_MAX (24u << 10)
#define API_REGAUTH_FIELD_MAX (8u << 10)

/* 1 with out filled (owned, creds_free) when the header carries a user
 * name or an identity token; 0 (out zeroed) for an empty header, "{}",
 * "null" or an object without either; -EINVAL for anything malformed.
 * server (may be NULL) receives serveraddress when given. */
int api_regauth_decode(const char *p, size_t n, struct creds *out, struct buf *server,
		       struct err *e);

/* The header's value for c (base64url of the JSON, padded as Docker's
 * encoder does), appended to out. */
int api_regauth_encode(const struct creds *c, const char *server, struct buf *out,
		       struct err *e);

#endif

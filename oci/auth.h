/* Registry authentication: WWW-Authenticate challenges (Basic and Bearer),
 * token fetches from the realm, and a token cache per scope.
 *
 * The flow (driven by oci/registry.c): send with auth_cached(scope); on a
 * 401, auth_answer() with the response's WWW-Authenticate header gets a
 * fresh Authorization value (fetching a token, or Basic from the
 * credentials) and the request is sent once more; a second 401 is
 * "unauthorized".  Tokens are fetched anonymously or with the credentials
 * (GET with Basic, as Docker does; POST oauth2 form for identity tokens or
 * when asked, falling back to GET when the server has no POST endpoint).
 *
 * Credentials and tokens never appear in error messages or logs.  One
 * struct auth serves one registry host and may be shared by threads. */
#ifndef OCI_AUTH_H
#define OCI_AUTH_H

#include <stddef.h>

struct err;
struct http_client;

/* A token response larger than this is refused. */
#define AUTH_TOKEN_RESPONSE_MAX (1024 * 1024)

struct auth_challenge {
	char *scheme;      /* lower-cased: "bearer", "basic", ... */
	char *realm;       /* NULL when absent */
	char *service;
	char *scope;
	char *error;       /* Bearer error="insufficient_scope" etc. */
};

struct auth_challenges {
	struct auth_challenge *v;
	size_t n;
};

/* Parse a WWW-Authenticate value (one or more challenges; auth-params
 * with tokens or quoted strings with escapes; token68 accepted and
 * ignored).  -EINVAL with a clear message when malformed. */
int auth_parse_challenges(const char *hdr, struct auth_challenges *out,
			  struct err *e);
void auth_challenges_free(struct auth_challenges *c);

struct auth_creds {
	const char *username;
	const char *password;
	const char *identity_token;   /* an OAuth2 refresh token, as docker stores it */
};

struct auth_opts {
	int force_oauth;   /* POST the oauth2 form even with a password */
	const char *client_id;   /* NULL = "container" */
};

/* registry names the host in messages.  creds (copied) and opts may be
 * NULL: anonymous access. */
struct auth *auth_new(struct http_client *http, const char *registry,
		      const struct auth_creds *creds, const struct auth_opts *opts);
void auth_free(struct auth *a);

/* The Authorization value cached for scope (a "repository:name:actions"
 * string, or "" for none), or NULL.  Caller frees. */
char *auth_cached(struct auth *a, const char *scope);

/* Answer a 401: parse www_authenticate, obtain credentials for scope and
 * return the Authorization value to retry with (caller frees).  Fails with
 * -EACCES when there is nothing to answer with or the token server
 * refuses, -EINVAL for a malformed challenge, and transport errors. */
int auth_answer(struct auth *a, const char *www_authenticate, const char *scope,
		char **authorization, struct err *e);

#endif

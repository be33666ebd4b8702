/* Registry credentials, Docker-compatible, and the connection to a
 * registry that uses them.
 *
 * Credentials live where the docker CLI keeps them: <dir>/config.json
 * (dir = $DOCKER_CONFIG or ~/.docker, lib/paths.h), with
 *   "auths":       { "<server>": { "auth": base64("user:password"),
 *                                  "identitytoken": "..." } }
 *   "credsStore":  "<name>"                 (docker-credential-<name>)
 *   "credHelpers": { "<server>": "<name>" } (per-registry helper)
 * A helper is spawned with an argv (never a shell): `get`, `store`,
 * `erase`, `list`, speaking JSON over stdin/stdout; its output is bounded.
 * Docker Hub's key is "https://index.docker.io/v1/"; other registries are
 * keyed by host[:port] (a stored "https://host/..." key matches too).
 * config.json is rewritten atomically with mode 0600 and every key we do
 * not know is kept.  Secrets never appear in logs or error messages.
 *
 * Used by `registry login|logout|list` (applets/registry.c) and by pull
 * and push (through creds_connect). */
#ifndef OCI_CREDS_H
#define OCI_CREDS_H

#include <stddef.h>

#include "oci/auth.h"
#include "oci/registry.h"

struct err;
struct http_client;

/* Owned strings; creds_free wipes and frees them. */
struct creds {
	char *username;
	char *password;
	char *identity_token; /* Username "<token>" in a helper's answer */
};
void creds_free(struct creds *c);

/* The config.json key for a registry host ("docker.io" and its aliases ->
 * "https://index.docker.io/v1/", others unchanged).  Static or borrowed. */
const char *creds_server_key(const char *host);

/* dir NULL = paths_docker_config_dir().  Returns 1 and fills out when
 * credentials exist for host, 0 when none (out zeroed), negative on error
 * (a helper that fails, a config.json that does not parse). */
int creds_lookup(const char *dir, const char *host, struct creds *out, struct err *e);
/* Save credentials for host: through the helper configured for it, else in
 * "auths" (base64). */
int creds_store(const char *dir, const char *host, const struct creds *c, struct err *e);
/* Forget them; -ENOENT when there were none. */
int creds_erase(const char *dir, const char *host, struct err *e);

/* A stored login: server key and user name (no secret). */
struct creds_entry {
	char *server;
	char *username; /* may be NULL when only a helper knows */
};
/* Every server with stored credentials, sorted; *out is freed with
 * creds_entries_free. */
int creds_list(const char *dir, struct creds_entry **out, size_t *n, struct err *e);
void creds_entries_free(struct creds_entry *v, size_t n);

/* ---- connecting to a registry ---- */

struct creds_conn_opts {
	enum registry_scheme scheme;
	const char *ca_file;      /* extra trusted CA, or NULL */
	const char *insecure;     /* comma list of hosts for plain http, or NULL */
	const char *config_dir;   /* NULL = default */
	const struct creds *creds; /* use these instead of the stored ones */
	int anonymous;            /* no credentials at all */
};

/* Fill ca_file from $CONTAINER_REGISTRY_CA and insecure from
 * $CONTAINER_REGISTRY_INSECURE (pointers into the environment). */
void creds_conn_opts_from_env(struct creds_conn_opts *o);

/* An HTTP client and a registry client for host, authenticated with the
 * stored credentials for it (if any). */
struct creds_conn {
	struct http_client *http;
	struct registry *reg;
	char *host;
	struct creds creds;
	struct auth_creds ac;
};
int creds_connect(const char *host, const struct creds_conn_opts *o, struct creds_conn **out,
		  struct err *e);
void creds_conn_free(struct creds_conn *c);

/* Check a login the way `docker login` does: GET /v2/ and answer its
 * challenge with c.  0 when the registry accepts, -EACCES when not. */
int creds_verify(const char *host, const struct creds_conn_opts *o, const struct creds *c,
		 struct err *e);

#endif

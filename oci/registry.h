/* The OCI distribution-spec client: manifests, blobs (with Range resume),
 * uploads (monolithic and chunked, cross-repository mount) over
 * oci/http.c, authenticated by oci/auth.c.
 *
 * Errors are one sentence naming the registry and repository, with a
 * stable errno: -ENOENT unknown manifest/blob, -EACCES unauthorized or
 * denied, -EBUSY rate limited (429), -EBADMSG digest mismatch, -EIO other
 * server errors; TLS and network failures keep the transport's code
 * (-EPROTO, -ECONNRESET, -ETIMEDOUT, ...).
 *
 * Used by the image pull/push code (oci/images.c) and t/tools/regcli.c.
 * A struct registry may be shared by threads (one request per thread). */
#ifndef OCI_REGISTRY_H
#define OCI_REGISTRY_H

#include <stddef.h>

#include "lib/buf.h"
#include "oci/digest.h"

struct err;
struct reader;
struct http_client;
struct http_response;
struct auth_creds;
struct auth_opts;

/* Manifests larger than this are refused (the distribution default). */
#define REGISTRY_MANIFEST_MAX (4 * 1024 * 1024)

enum registry_scheme {
	REGISTRY_SCHEME_AUTO,    /* https; plain http allowed only for loopback hosts */
	REGISTRY_SCHEME_HTTPS,
	REGISTRY_SCHEME_HTTP,    /* the explicit insecure opt-in */
};

struct registry_opts {
	enum registry_scheme scheme;
	const struct auth_creds *creds;   /* NULL = anonymous */
	const struct auth_opts *auth;
};

/* host is "name[:port]" as in a reference ("docker.io" means
 * registry-1.docker.io).  http is borrowed and must outlive the registry. */
struct registry *registry_new(struct http_client *http, const char *host,
			      const struct registry_opts *o, struct err *e);
void registry_free(struct registry *r);

struct registry_manifest {
	struct buf body;          /* empty for HEAD */
	char *media_type;         /* Content-Type, parameters stripped; may be NULL */
	struct digest digest;     /* of the body (GET), or Docker-Content-Digest (HEAD) */
	int have_digest;
	long long size;
};
void registry_manifest_free(struct registry_manifest *m);

/* GET a manifest by tag or digest.  With a digest reference the body must
 * hash to it (-EBADMSG otherwise). */
int registry_get_manifest(struct registry *r, const char *repo, const char *ref,
			  struct registry_manifest *out, struct err *e);
/* HEAD: digest, type and size without the body. */
int registry_head_manifest(struct registry *r, const char *repo, const char *ref,
			   struct registry_manifest *out, struct err *e);

/* GET a blob from offset (Range when offset > 0).  On success *out is a
 * response whose body yields the blob's bytes from offset on (a server
 * ignoring Range is handled by skipping); *total gets the blob size when
 * the server said it (else -1).  Free with http_response_free. */
int registry_get_blob(struct registry *r, const char *repo, const struct digest *d,
		      long long offset, struct http_response **out, long long *total,
		      struct err *e);
/* 0 with *size when present, -ENOENT when not. */
int registry_head_blob(struct registry *r, const char *repo, const struct digest *d,
		       long long *size, struct err *e);

/* Upload a blob of size bytes read from body (which must hash to d).  If
 * it exists already nothing is sent.  mount_from (or NULL) is a repository
 * on the same registry to mount it from first.  chunk_size 0 uploads in
 * one PUT; otherwise PATCH chunks of that size and a closing PUT.
 * *mounted (may be NULL) tells whether no bytes had to be sent. */
int registry_push_blob(struct registry *r, const char *repo, const struct digest *d,
		       long long size, struct reader *body, const char *mount_from,
		       size_t chunk_size, int *mounted, struct err *e);

/* PUT a manifest under ref (tag or digest); *out (may be NULL) gets the
 * body's digest. */
int registry_put_manifest(struct registry *r, const char *repo, const char *ref,
			  const char *media_type, const void *body, size_t len,
			  struct digest *out, struct err *e);

#endif

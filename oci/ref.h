/* Image references, parsed and normalized the way Docker does it
 * (distribution/reference's grammar plus its "normalized named" rules):
 *
 *   alpine                      -> docker.io/library/alpine:latest
 *   user/img:1.0                -> docker.io/user/img:1.0
 *   localhost:5000/a/b@sha256:… -> localhost:5000/a/b@sha256:…   (no tag added)
 *   ghcr.io/o/r:t@sha256:…      -> both tag and digest kept
 *
 * The first path component is a registry domain when it contains '.' or
 * ':', is "localhost", or has an upper-case letter; otherwise the name is
 * on Docker Hub ("docker.io", "library/" added to one-component names;
 * "index.docker.io" is folded into "docker.io").  Everything is validated:
 * repository path components are [a-z0-9]+ joined by '.', '_', '__' or
 * runs of '-'; a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the full name is
 * at most 255 bytes; a digest must be sha256 (see oci/digest.h); a bare
 * 64-hex string is refused as a name (it is an image id).
 *
 * Used by the CLI (pull/push/tag/run), the registry client (domain, path,
 * host to contact) and the images index (the normalized name is its key).
 * A struct ref holds no pointers: it can be copied and needs no free. */
#ifndef OCI_REF_H
#define OCI_REF_H

#include "oci/digest.h"

struct buf;
struct err;

#define REF_NAME_MAX 255 /* domain + '/' + path, as in the grammar */
#define REF_TAG_MAX 128
#define REF_INPUT_MAX 512 /* longer input is refused before parsing */

struct ref {
	char domain[REF_NAME_MAX + 1]; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char path[REF_NAME_MAX + 1];   /* "library/alpine" */
	char tag[REF_TAG_MAX + 1];     /* "" when none */
	int has_digest;
	struct digest digest; /* valid when has_digest */
	int tag_implied;      /* "latest" was added by parse */
};

enum {
	/* Do not add ":latest" when neither tag nor digest was given (for
	 * `image ls alpine`-style filters that mean "any tag"). */
	REF_NO_DEFAULT_TAG = 1 << 0,
};

/* Parse and normalize s.  -EINVAL with a message naming the bad part
 * ("invalid reference \"Foo\": repository name must be lowercase"). */
int ref_parse(const char *s, int flags, struct ref *out, struct err *e);

/* Validate a tag on its own (for `image tag`): 0 or -EINVAL. */
int ref_check_tag(const char *tag, struct err *e);

/* Append the fully-qualified name: "docker.io/library/alpine:latest",
 * "domain/path:tag@sha256:…".  Bounded by the grammar, cannot fail. */
void ref_format(const struct ref *r, struct buf *out);
/* Append just "domain/path" (the repository). */
void ref_format_repo(const struct ref *r, struct buf *out);
/* Append the familiar short form Docker prints: "alpine:latest",
 * "user/img:1.0", other registries unchanged. */
void ref_format_familiar(const struct ref *r, struct buf *out);

/* The host[:port] to contact for r's registry: "registry-1.docker.io" for
 * Docker Hub, the domain otherwise.  Borrowed from r or static. */
const char *ref_registry_host(const struct ref *r);

/* True when the domain is a loopback name or address ("localhost",
 * "127.x.y.z", "[::1]", with or without port), for which plain HTTP may be
 * used automatically. */
int ref_is_loopback(const struct ref *r);

#endif

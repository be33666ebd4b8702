/* Pushing an image from the content store to a registry: for each image
 * manifest its layers and config (existence checked with HEAD first,
 * mounted from the image's own repository when the destination is on the
 * same registry, uploaded in one PUT or in chunks for big blobs), then the
 * manifest, then the index over them (when every platform of it is in the
 * store; otherwise the one manifest for the chosen platform).  The source
 * may be pushed under another name (a tag on another registry).
 *
 * Used by the API server's POST /images/{name}/push (applets/api_images.c). */
#ifndef OCI_PUSH_H
#define OCI_PUSH_H

#include <stdio.h>

#include "oci/creds.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/pull.h"

struct err;

/* Blobs over this are uploaded in chunks of PUSH_CHUNK bytes. */
#define PUSH_MONOLITHIC_MAX (64LL << 20)
#define PUSH_CHUNK (16u << 20)

struct push_opts {
	const struct platform *platform; /* push only this platform's manifest */
	enum pull_progress progress;     /* PLAIN and TTY print one line per blob */
	FILE *out;                       /* NULL = stderr */
	struct creds_conn_opts conn;
};

struct push_result {
	char name[320];             /* the destination, normalized */
	struct digest digest;       /* of the document pushed under the tag */
	size_t blobs, blobs_skipped; /* present already or mounted */
	unsigned long long sent;    /* blob bytes uploaded */
};

/* Push the stored image `local` (a name or id) as dest (NULL: its own
 * name). */
int push_image(const char *root, const char *local, const char *dest, const struct push_opts *o,
	       struct push_result *res, struct err *e);

#endif

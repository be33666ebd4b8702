/* Pulling an image from a registry into the content store, and finding a
 * stored image's manifest for a platform.
 *
 * pull_image: reference -> manifest (index -> platform -> manifest,
 * nested indexes followed), then the config and the layers downloaded in
 * parallel worker threads, each verified on the way in (compressed digest
 * by the store writer; with verify_diff_ids also the layer decompressed in
 * the same pass and its diff_id checked against the config), resumed from an interrupted ingest
 * with Range and re-requested from the offset reached after a cut
 * connection.  The images index is changed only at the very end: a failed
 * pull leaves no new name and no new visible blob reachable from a name.
 *
 * Used by the API server's POST /images/create (applets/api_images.c). */
#ifndef OCI_PULL_H
#define OCI_PULL_H

#include <stdio.h>

#include "oci/creds.h"
#include "oci/digest.h"
#include "oci/manifest.h"

struct err;
struct store;

enum pull_progress {
	PULL_PROGRESS_AUTO,  /* bars when out is a terminal, plain lines otherwise */
	PULL_PROGRESS_PLAIN, /* one line per event */
	PULL_PROGRESS_NONE,
	PULL_PROGRESS_TTY,   /* bars redrawn in place */
};

/* "auto", "plain", "tty", "none" -> the enum; -EINVAL otherwise. */
int pull_progress_parse(const char *s, enum pull_progress *out, struct err *e);

struct pull_opts {
	const struct platform *platform; /* NULL = the host's linux/<arch> */
	int max_concurrent;              /* layers at once; 0 = 3 */
	enum pull_progress progress;
	FILE *out;                       /* progress; NULL = stderr */
	/* Also decompress each layer while it arrives and check its diff_id
	 * against the config.  Off by default: the compressed digest already
	 * ties every byte to the manifest, and unpacking decompresses anyway
	 * (that is where containerd checks diff_ids too). */
	int verify_diff_ids;
	struct creds_conn_opts conn;
};

struct pull_result {
	char name[320];              /* the name tagged, normalized */
	struct digest digest;        /* of the top-level document */
	struct digest manifest;      /* of the image manifest for the platform */
	unsigned long long fetched;  /* bytes downloaded */
	size_t blobs, blobs_present; /* blobs of the image / already in the store */
};

/* Pull reference into the store under root (the data dir). */
int pull_image(const char *root, const char *reference, const struct pull_opts *o,
	       struct pull_result *res, struct err *e);

/* The image manifest of a stored document (top-level digest and media
 * type, as in images.json) for want: through indexes, the entry for want
 * that is present in the store; want NULL: the host platform if present,
 * else the first present entry.  *out_digest and *out (caller frees with
 * manifest_free) on success; -ENOENT when no manifest fits. */
int pull_resolve_local(struct store *s, const struct digest *top, const char *media_type,
		       const struct platform *want, struct digest *out_digest,
		       struct manifest **out, struct err *e);

#endif

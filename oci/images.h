/* The images index, <root>/images.json: image name -> descriptor of its
 * top-level manifest or index in the content store, plus when it was
 * tagged.  Names are normalized references (oci/ref.h), the key by which
 * pull, tag, run and `image ls` find an image:
 *
 *   { "version": 1,
 *     "images": { "docker.io/library/alpine:latest":
 *                   { "mediaType": "...index.v1+json", "digest": "sha256:…",
 *                     "size": 9218, "created": "2024-05-01T10:00:00Z" } } }
 *
 * Reading takes <root>/images.lock shared for the read only; a writer
 * (IMAGES_WRITE) holds it exclusively from open to close, so a
 * read-modify-write never loses a concurrent update.  Saving is atomic
 * (lib/fs.h).  A file that does not parse, or holds an invalid entry, is
 * quarantined: renamed aside to images.json.corrupt-<time>-<pid> (never
 * deleted), a warning logged, and the index starts empty.  While such a
 * file exists images_roots refuses, so that garbage collection cannot
 * delete every blob because the index was lost.
 *
 * Used by pull/load (tag), `image ls|tag|rm|inspect`, run (resolve) and
 * prune (images_roots -> store_gc). */
#ifndef OCI_IMAGES_H
#define OCI_IMAGES_H

#include <stddef.h>

#include "oci/digest.h"

struct err;
struct images;

#define IMAGES_FILE_MAX (64u << 20)

struct images_entry {
	char *name;	  /* normalized: "docker.io/library/alpine:latest" */
	char *media_type; /* of the top-level document (index or manifest) */
	struct digest digest;
	long long size;
	long long created; /* unix seconds, when tagged */
};

enum {
	IMAGES_WRITE = 1 << 0, /* hold the lock for images_tag/untag/save */
};

int images_open(const char *root, int flags, struct images **out, struct err *e);
/* Releases the lock; unsaved changes are dropped.  NULL is a no-op. */
void images_close(struct images *im);
/* Write atomically (IMAGES_WRITE only, else -EPERM). */
int images_save(struct images *im, struct err *e);
/* The path the index was quarantined to by this open, or NULL. */
const char *images_quarantined(const struct images *im);

/* Entries sorted by name; pointers valid until the next change. */
size_t images_count(const struct images *im);
const struct images_entry *images_at(const struct images *im, size_t i);

/* Point name (any reference; normalized here, so "alpine" tags
 * docker.io/library/alpine:latest) at a document.  Replaces an existing
 * entry of that name.  created 0 = now.  -EPERM without IMAGES_WRITE. */
int images_tag(struct images *im, const char *name, const char *media_type, const struct digest *d,
	       long long size, long long created, struct err *e);
/* Remove one name; -ENOENT when absent. */
int images_untag(struct images *im, const char *name, struct err *e);
/* Remove every name pointing at d; returns how many (0 is not an error). */
int images_untag_digest(struct images *im, const struct digest *d, struct err *e);

/* Find an image the way `docker run X` does: by name (normalized; a
 * "name@digest" also matches any tag of that repository pointing at the
 * digest), then by full digest ("sha256:…"), then by a unique prefix of
 * the digest's hex (the short id; "sha256:" optional).  -ENOENT when
 * nothing matches, -EINVAL when a prefix names several images. */
int images_resolve(const struct images *im, const char *query, const struct images_entry **out,
		   struct err *e);

/* The distinct digests of all entries (the GC root set); *out is the
 * caller's to free.  -EIO while a quarantined index exists (see above). */
int images_roots(const struct images *im, struct digest **out, size_t *n, struct err *e);

#endif

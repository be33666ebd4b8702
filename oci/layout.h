/* `image save` and `image load`: the air-gapped path.
 *
 * save writes an OCI image-layout tar: "oci-layout", "index.json" (one
 * entry per name, annotated with org.opencontainers.image.ref.name and
 * io.containerd.image.name), blobs/sha256/<hex> for every blob, and a
 * Docker "manifest.json" so that `docker load` reads it as well.  The tar
 * is written by our own small writer (ustar, PAX records for long names),
 * deterministic: fixed mtime, uid/gid 0, sorted blobs.
 *
 * load reads OCI image-layout tars and `docker save` tarballs
 * (manifest.json + config + layer tars, uncompressed layers digested on
 * the way in) through oci/tar.h.  Everything is staged and verified
 * (every digest, every document parsed, every referenced blob present)
 * before anything enters the content store or the images index, so a
 * hostile or broken archive leaves both unchanged and fails with one
 * sentence naming the entry at fault.
 *
 * Used by the API server's save and load endpoints (applets/api_imgio.c). */
#ifndef OCI_LAYOUT_H
#define OCI_LAYOUT_H

#include <stddef.h>

#include "oci/digest.h"
#include "oci/manifest.h"

struct err;
struct reader;

/* Limits on what load accepts. */
#define LAYOUT_MAX_ENTRIES 100000
#define LAYOUT_MAX_IMAGES 1024
#define LAYOUT_JSON_MAX (4u << 20)

/* Write refs (names or ids of stored images) to fd as one archive.  With
 * platform, only that platform's manifest of each image. */
int layout_save(const char *root, const char *const *refs, size_t n, const struct platform *platform,
		int fd, struct err *e);

struct layout_loaded {
	char *name;           /* normalized name tagged, or NULL when the archive gave none */
	struct digest digest; /* top-level document */
};
struct layout_load_result {
	struct layout_loaded *v;
	size_t n;
	size_t blobs; /* blobs in the images loaded */
};
int layout_load(const char *root, struct reader *in, struct layout_load_result *res, struct err *e);
void layout_load_result_free(struct layout_load_result *r);

/* ---- the tar writer (also used by tests) ---- */

struct tarw {
	int fd;
	unsigned long long written;
	long long mtime;
};
void tarw_init(struct tarw *t, int fd, long long mtime);
/* A regular file of size bytes whose data follows with tarw_data (exactly
 * size bytes in total), then tarw_pad. */
int tarw_file(struct tarw *t, const char *path, unsigned mode, unsigned long long size,
	      struct err *e);
int tarw_dir(struct tarw *t, const char *path, struct err *e);
int tarw_data(struct tarw *t, const void *p, size_t n, struct err *e);
int tarw_pad(struct tarw *t, unsigned long long size, struct err *e);
/* A whole file from memory. */
int tarw_mem(struct tarw *t, const char *path, const void *p, size_t n, struct err *e);
/* The end marker (two zero blocks). */
int tarw_end(struct tarw *t, struct err *e);

#endif

/* The snapshot cache (issue #4): each image manifest becomes, once, a
 * read-only ext4 image file that every container of the image boots from:
 *
 *   <root>/snapshots/<manifest-hex>.ext4       complete images (mode 0444)
 *   <root>/snapshots/<manifest-hex>.ext4.tmp-*  an image being built
 *   <root>/snapshots/<manifest-hex>.lock       held (flock) by its one builder
 *
 * <root> is the data directory (the one given to store_open).  The key is
 * the digest of a platform-specific IMAGE manifest (never an index), so an
 * image has one snapshot per platform it was run on.
 *
 * Building streams every layer, lowest first, out of the content store:
 *   blob (size + digest verified) -> gzip/zstd/identity by media type
 *   (decompressed bytes capped) -> sha256 checked against the config's
 *   diff_id -> strict tar reader -> fstree (OCI layer rules) -> ext4 writer.
 * A layer whose uncompressed stream does not hash to its diff_id rejects
 * the image, with the layer named.  The output is written under a temp
 * name beside the target, fsynced, renamed, and the directory fsynced: a
 * crash never leaves a half image under the final name, and a failure
 * removes the temp file.
 *
 * WHEN (decided here): snapshots are made LAZILY, by snapshot_get at the
 * first container create/run of an image; pull does not build them (a pull
 * stays network-bound, and images pulled for another platform or only to
 * be pushed/saved never cost an unpack).  A caller that wants the cost paid
 * up front (e.g. `image pull --unpack`) just calls snapshot_get after the
 * image is tagged.  Removal: `image rm` / `image prune` untag first and then
 * call snapshot_gc with the remaining images roots (images_roots), which
 * deletes every snapshot whose manifest is no longer referenced;
 * snapshot_remove deletes one explicitly.
 *
 * Concurrency: one builder per digest across processes (flock on the .lock
 * file, like the content store); a second snapshot_get waits and then finds
 * the image present.  GC and remove take the same lock, so they never
 * delete an image being built; GC skips (does not wait for) busy digests.
 * A container already running keeps its open image even if it is deleted.
 */
#ifndef OCI_SNAPSHOT_H
#define OCI_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "oci/digest.h"
#include "oci/ext4.h"

struct buf;
struct err;
struct store;

#define SNAPSHOT_LAYER_MAX (64ULL << 30)   /* default cap, one layer, uncompressed */
#define SNAPSHOT_IMAGE_MAX (256ULL << 30)  /* default cap, all layers, uncompressed */

struct snapshot_opts {
	uint64_t max_layer_bytes;  /* 0 = SNAPSHOT_LAYER_MAX: decompression bombs */
	uint64_t max_image_bytes;  /* 0 = SNAPSHOT_IMAGE_MAX */
	struct ext4_opts ext4;     /* size, headroom, timestamp, ... (zero = defaults) */
};

/* What a build did (for logs and benchmarks). */
struct snapshot_stats {
	size_t layers;
	uint64_t compressed_bytes, uncompressed_bytes;
	uint64_t entries, inodes;  /* of the final tree */
	uint64_t image_bytes;      /* apparent size of the ext4 file */
};

/* Append <root>/snapshots/<manifest-hex>.ext4 to out. */
void snapshot_path(const char *root, const struct digest *manifest, struct buf *out);

/* Build the ext4 image of manifest (an image manifest in s, with its
 * config and layers) at path: written to "<path>.tmp-XXXXXX", published by
 * rename.  Takes no lock (snapshot_get does); o and st may be NULL.
 * Errors: -ENOENT (a blob is missing), -EBADMSG (digest/diff_id/size
 * mismatch, corrupt compressed data or tar), -ENOTSUP (a layer media type
 * we cannot read), -EFBIG (a cap was passed), -EPROTO (a truncated
 * stream), -EINVAL (not an image manifest, a path leaving the root), or
 * what the file system says. */
int snapshot_build(struct store *s, const struct digest *manifest, const char *path,
		   const struct snapshot_opts *o, struct snapshot_stats *st, struct err *e);

/* The path of manifest's snapshot in out (appended), building it first if
 * absent.  Returns 1 when this call built it, 0 when it was cached.
 * Blocks while another process builds the same digest. */
int snapshot_get(struct store *s, const char *root, const struct digest *manifest,
		 const struct snapshot_opts *o, struct buf *out, struct err *e);

/* Delete manifest's snapshot (waiting for a builder of it to finish).
 * 1 = deleted, 0 = there was none. */
int snapshot_remove(const char *root, const struct digest *manifest, struct err *e);

struct snapshot_gc_result {
	size_t kept, removed, busy;  /* images: referenced, deleted, skipped (locked) */
	size_t temp_removed;         /* temp files left by crashed builders */
	unsigned long long bytes_freed;
};

/* Delete every snapshot whose manifest is not referenced from roots (the
 * images index's digests: an index references its child manifests, nested
 * indexes up to 8 deep; a manifest itself), and the temp files of builders
 * that are gone.  Root documents are read from s; one that is missing or
 * does not parse references only itself.  Files that are not ours are left
 * alone.  Other read errors stop the GC before anything is deleted. */
int snapshot_gc(struct store *s, const char *root, const struct digest *roots, size_t n_roots,
		struct snapshot_gc_result *res, struct err *e);

#endif

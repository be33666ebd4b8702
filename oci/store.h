/* The content store: blobs addressed by digest under <root>/content/.
 *
 *   content/blobs/sha256/<hex>    complete, verified blobs (mode 0444)
 *   content/ingest/<hex>          a partial download of <hex>
 *   content/ingest/<hex>.lock     held (flock) by the one writer of <hex>
 *   content/gc.lock               writers hold it shared, GC exclusive
 *
 * A blob becomes visible only whole: data is appended to its ingest file,
 * hashed as it arrives, never accepted past the declared size, and at
 * commit checked for size and digest, fsynced, renamed into blobs/ and
 * the directory fsynced.  A failed or interrupted write leaves nothing in
 * blobs/; an interrupted one leaves its ingest file, and the next writer
 * of that digest resumes from its size (store_writer_offset -> an HTTP
 * Range request).  A digest mismatch at commit deletes the ingest file.
 *
 * One writer per digest, across processes: store_writer_open takes the
 * digest's lock; a second writer waits for it (or gets -EBUSY with
 * STORE_NOWAIT) and then finds the blob present.  Locks belong to open
 * files (flock): a child forked without exec while a writer is open
 * shares its lock and keeps it held until the child exits.
 *
 * Used by pull (registry client), load, save, run (reading configs and
 * layers) and `image prune` (store_gc).  One struct store may be used
 * from several threads (writers of different digests in parallel, each
 * with its own writer), except store_lease/store_unlease, which the
 * caller serializes.  A waiting store_writer_open blocks its thread: an
 * event-loop caller uses STORE_NOWAIT and retries, or a worker thread. */
#ifndef OCI_STORE_H
#define OCI_STORE_H

#include <stddef.h>

#include "lib/stream.h"
#include "oci/digest.h"

struct buf;
struct err;
struct store;
struct store_writer;

/* Open (creating its directories) the store under root. */
int store_open(const char *root, struct store **out, struct err *e);
void store_close(struct store *s);

/* Append the path of d's blob (which may not exist) to out. */
void store_blob_path(const struct store *s, const struct digest *d, struct buf *out);

/* 1 when d is in the store (its size in *size if size is non-NULL), 0 when
 * not, negative on another error. */
int store_has(const struct store *s, const struct digest *d, long long *size, struct err *e);

/* Open d's blob for reading: *fd is the caller's to close.  -ENOENT when
 * absent.  The content was verified when written; readers that must not
 * trust the disk wrap the fd in a digest_reader (oci/digest.h). */
int store_open_blob(const struct store *s, const struct digest *d, int *fd, long long *size,
		    struct err *e);

/* A verifying reader over a blob (for unpacking layers): reading it to
 * the end checks size and digest against d, so a blob damaged on disk is
 * an error (-EBADMSG), not a wrong file system.  Read through &r->dr.r.
 * The struct must not be moved while open. */
struct store_reader {
	struct fd_reader fr;
	struct digest_reader dr;
	struct digest want;
	long long size;
	int fd;
};
int store_reader_open(const struct store *s, const struct digest *d, struct store_reader *r,
		      struct err *e);
void store_reader_close(struct store_reader *r);

/* Read a small blob (manifest, config) whole, failing with -EFBIG past max
 * bytes, and check its digest (-EBADMSG if the disk copy is corrupt). */
int store_read_blob(const struct store *s, const struct digest *d, size_t max, struct buf *out,
		    struct err *e);

/* ---- writing ---- */

enum {
	STORE_NOWAIT = 1 << 0, /* -EBUSY instead of waiting for another writer */
};

/* Start writing d of the given size (>= 0).  On success *out is the writer,
 * or NULL when the blob is already present (nothing to do; this is also
 * what a waiting second writer gets once the first has committed). */
int store_writer_open(struct store *s, const struct digest *d, long long size, int flags,
		      struct store_writer **out, struct err *e);
/* Bytes already held (from an interrupted earlier write): continue the
 * download from here. */
long long store_writer_offset(const struct store_writer *w);
/* Throw away the partial data and restart from offset 0 (for a server
 * that ignored a Range request). */
int store_writer_reset(struct store_writer *w, struct err *e);
/* Append data; -EFBIG (and nothing written) if it would pass the declared
 * size. */
int store_writer_write(struct store_writer *w, const void *p, size_t n, struct err *e);
/* Read from in until the declared size is reached, then check that in has
 * ended (one more byte is asked for: a longer body is -EFBIG).  Never reads
 * more than size - offset + 1 bytes. */
int store_writer_copy(struct store_writer *w, struct reader *in, struct err *e);
/* Verify size and digest, make the blob visible.  Always frees w.
 * -EPROTO when short (the partial data is kept for a resume), -EBADMSG on
 * a digest mismatch (the partial data is deleted). */
int store_writer_commit(struct store_writer *w, struct err *e);
/* Give up for now: keep the partial data for a later resume, release the
 * lock, free w.  NULL is a no-op. */
void store_writer_close(struct store_writer *w);

/* Store a whole blob held in memory (manifests, configs).  want may be
 * NULL (the digest is computed); the digest is returned in *out if
 * non-NULL.  Present already: 0. */
int store_put(struct store *s, const void *p, size_t n, const struct digest *want,
	      struct digest *out, struct err *e);

/* ---- garbage collection ---- */

/* A lease keeps GC away (it fails with -EBUSY) while held: a pull takes
 * one before its first blob and drops it after its image is tagged, the
 * window in which its blobs are present but not yet referenced.  Leases
 * nest (counted per struct store). */
int store_lease(struct store *s, struct err *e);
void store_unlease(struct store *s);

struct store_gc_result {
	size_t kept, removed; /* blobs */
	unsigned long long bytes_freed;
	size_t ingest_removed;
};

/* Delete every blob not reachable from roots (digests of top-level
 * indexes or manifests, e.g. every image in the images index): an index
 * keeps its children (nested up to 8 deep), a manifest its config and
 * layers.  Ingest files untouched for ingest_max_age seconds whose writer
 * is gone are removed too (< 0: keep all ingest files).  A blob that is a
 * root but does not parse as a manifest is kept as it is.  -EBUSY while
 * any writer is active (a pull in progress): GC never waits. */
int store_gc(struct store *s, const struct digest *roots, size_t n_roots, long ingest_max_age,
	     struct store_gc_result *res, struct err *e);

#endif

/* File trees to and from tar streams, for `cp` and `export` (issue #8):
 * the writer runs in the guest (docker cp out of a container, export) and
 * in our CLI (cp into a container); the extractor runs in the guest (cp
 * into a container) and in our CLI (cp out of one), where its input comes
 * from an untrusted guest.
 *
 * The extractor never creates, follows or writes anything outside the
 * directory it is given, whatever the archive says: names are cleaned and
 * absolute names or `..` components refused; every directory on the way
 * to an entry is opened relative to the destination with O_NOFOLLOW (a
 * symlink on the way, made by the archive or found there, is an error, not
 * followed); the entry itself is created with O_EXCL | O_NOFOLLOW after
 * removing what was there (never the target of a symlink); hard links
 * name a target resolved the same way and are made without following it;
 * symlinks are recreated as symlinks, their target text untouched.  The
 * tar itself is read by oci/tar.c's strict, bounded reader.  Fuzzed by
 * t/fuzz/tarx_extract.c, tested by t/unit/oci_tarx.c. */
#ifndef OCI_TARX_H
#define OCI_TARX_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct reader;

/* Where the writer's bytes go (a file descriptor, a chunked HTTP body). */
struct tarx_sink {
	int (*write)(void *ud, const void *p, size_t n, struct err *e);
	void *ud;
};
/* A sink over fd (borrowed). */
int tarx_fd_write(void *fd_ptr, const void *p, size_t n, struct err *e);

enum {
	TARX_ONE_FS = 0x1,        /* writer: do not descend into other mounts */
	TARX_FOLLOW = 0x2,        /* writer: follow the top entry if a symlink */
	TARX_ZERO_IDS = 0x4,      /* writer: uid/gid 0 in the archive */
};

/* Write name (relative to dirfd; "." for dirfd itself) and, for a
 * directory, everything below it, as entries named `as`, `as/child`, ...
 * as == "" writes only the children, named without a prefix (export).
 * Ends with the end-of-archive marker. */
int tarx_write(int dirfd, const char *name, const char *as, unsigned flags,
	       const struct tarx_sink *out, struct err *e);

enum {
	TARX_X_OWNERS = 0x1,      /* extractor: chown to the archive's uid/gid */
	TARX_X_NO_OVERWRITE_DIR = 0x2,  /* a dir never replaces a non-dir, nor back */
	TARX_X_DEVICES = 0x4,     /* make device nodes (else skipped) */
	TARX_X_ROOT = 0x8,        /* chown everything to 0:0 (docker cp's default) */
	TARX_X_ONLY_FROM = 0x10,  /* with from: refuse entries not under it (-EPERM) */
};

struct tarx_opts {
	unsigned flags;
	/* Rebase: an entry whose first component is `from` gets `to` instead
	 * (NULL: none).  Used for `cp` to a new name. */
	const char *from, *to;
};

/* Extract the archive read from in below dirfd (borrowed). */
int tarx_extract(struct reader *in, int root, struct tarx_opts *o, struct err *e);

/* Clean an archive name into out: strips "./" and empty components;
 * -EPERM for an absolute name or a ".." component.  "" = the root
 * itself. */
int tarx_clean(const char *name, struct buf *out, struct err *e);

#endif

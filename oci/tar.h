/* Streaming tar reader (ustar, PAX, GNU long names/links, base-256
 * numbers), strict: a malformed header or PAX record is an error, never
 * skipped.  Memory is bounded whatever the input: path and link names are
 * limited to TAR_PATH_MAX, PAX extended headers to TAR_PAX_MAX, xattrs
 * to TAR_XATTR_MAX in total per entry.  Reads from a struct reader.
 *
 *     struct tar *t = tar_open(rd, &e);
 *     struct tar_entry *te;
 *     while ((rc = tar_next(t, &te, &e)) > 0) {
 *         ... te->path, te->type, te->size ...
 *         tar_read(t, buf, n, &e);      // file data, at most te->size total
 *     }                                 // unread data is skipped by tar_next
 *     // rc == 0: clean end (two zero blocks); rc < 0: error
 *     tar_close(t);
 *
 * Errors (the entry's path and header offset are named in the message):
 *   -EBADMSG       malformed header or PAX record, bad checksum, unknown
 *                  magic, trailing garbage after the end marker
 *   -EPROTO        stream ends early (inside a header or data, or after a
 *                  PAX/long-name header)
 *   -ENAMETOOLONG  path or link name of TAR_PATH_MAX bytes or more
 *   -E2BIG         PAX header over its cap, xattrs over their cap
 *   -ENOTSUP       entry kinds we refuse (GNU sparse, multi-volume, ...)
 * Errors are sticky: after one, tar_next and tar_read return it again.
 * Errors from the wrapped reader are passed on with the entry named.
 *
 * End of archive: two zero blocks, then only zero bytes until the end of
 * the input (record padding of any length).  tar_next returns 0 only after
 * reading the input to its end, so a digest stage below has seen every
 * byte.  A single zero block followed by data, or a nonzero byte after the
 * marker, is an error.  As Go's archive/tar (Docker, containerd) does, an
 * input that simply ends after an entry's data (inside its padding, at a
 * header boundary, or after one zero block) is a clean end: umoci writes
 * layers like that.  An input that ends after a PAX or GNU long-name
 * header, or inside a header or the data, is an error. */
#ifndef OCI_TAR_H
#define OCI_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;
struct reader;

#define TAR_PATH_MAX 4096        /* bytes, including NUL */
#define TAR_PAX_MAX (1 << 20)    /* one extended header */
#define TAR_XATTR_MAX (1 << 20)  /* all xattrs of one entry */

enum tar_type {
	TAR_REG, TAR_HARDLINK, TAR_SYMLINK, TAR_CHR, TAR_BLK, TAR_DIR, TAR_FIFO,
};

struct tar_xattr {
	const char *name;            /* e.g. "security.capability" */
	const unsigned char *value;
	size_t len;
};

struct tar_entry {
	const char *path;            /* as in the archive (not yet cleaned) */
	const char *linkname;        /* hardlink/symlink target, else "" */
	enum tar_type type;
	uint32_t mode;               /* permission bits incl. suid/sgid/sticky (07777) */
	uint32_t uid, gid;
	int64_t mtime;               /* seconds */
	uint32_t mtime_nsec;
	uint64_t size;               /* data bytes (0 for non-regular) */
	uint32_t devmajor, devminor;
	const struct tar_xattr *xattrs;  /* sorted by name, names unique */
	size_t nxattrs;
	const char *uname, *gname;   /* "" when absent */
};

/* in is borrowed: tar_close does not close it. */
struct tar *tar_open(struct reader *in, struct err *e);
/* 1 = an entry (valid until the next call), 0 = end of archive,
 * negative = error.  Trailing bytes after the end marker are checked as
 * documented in oci/tar.c. */
int tar_next(struct tar *t, struct tar_entry **out, struct err *e);
/* Read up to n bytes of the current entry's data: returns bytes read,
 * 0 at end of the entry's data, negative on error. */
ssize_t tar_read(struct tar *t, void *p, size_t n, struct err *e);
/* The same as a struct reader (for fstree_apply and digest stages): owned
 * by t, valid until tar_close, always reading the current entry; its
 * close is NULL. */
struct reader *tar_data(struct tar *t);
void tar_close(struct tar *t);

/* Lower the caps for this reader (0 = keep): for callers with tighter
 * budgets and for tests.  Values above the compiled-in caps are clamped. */
void tar_set_limits(struct tar *t, size_t pax_max, size_t xattr_max);

#endif

/* A cpio "newc" (070701) writer: the format the Linux kernel unpacks as an
 * initramfs.  Used by the build (the embedded initramfs: the guest build of
 * this binary as /init, plus /dev/console) and by tests that boot a guest.
 *
 * Output is reproducible: every entry gets uid/gid 0, the mtime given at
 * cpio_init (0 unless the caller passes e.g. SOURCE_DATE_EPOCH), inode
 * numbers counted from 1 in the order entries are added, nlink 2 for
 * directories and 1 otherwise.  Nothing of the host file system's metadata
 * leaks in, not even for cpio_file_path (only its bytes are copied).
 *
 * Paths are stored relative ("init", "dev/console"): a leading "/" is
 * dropped; empty, ".", ".." components, a path of the root itself or one
 * of 4096 bytes or more are refused (-EINVAL / -ENAMETOOLONG).  Parent
 * directories are not implied: add them first, as the kernel creates
 * entries in archive order.  Files are limited to 4 GiB - 1 (-EFBIG).
 *
 *     struct cpio c;
 *     cpio_init_buf(&c, &out, 0);        // or cpio_init_fd(&c, fd, 0)
 *     cpio_dir(&c, "dev", 0755, &e);
 *     cpio_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, &e);
 *     cpio_file(&c, "init", 0755, bytes, n, &e);
 *     cpio_finish(&c, &e);               // TRAILER!!!
 *
 * Errors are sticky: after a failure every call returns the same error.
 */
#ifndef INITRD_CPIO_H
#define INITRD_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct err;

#define CPIO_PATH_MAX 4096

struct cpio {
	struct buf *out;     /* either out ... */
	int fd;              /* ... or fd (-1) */
	uint32_t mtime;
	uint32_t ino;        /* last inode number used */
	uint64_t offset;     /* bytes written so far */
	int err;             /* sticky negative errno */
};

void cpio_init_buf(struct cpio *c, struct buf *out, uint32_t mtime);
void cpio_init_fd(struct cpio *c, int fd, uint32_t mtime);

/* perm: permission bits (07777); node: S_IFCHR or S_IFBLK | perm. */
int cpio_dir(struct cpio *c, const char *path, mode_t perm, struct err *e);
int cpio_file(struct cpio *c, const char *path, mode_t perm, const void *data, size_t len,
	      struct err *e);
/* The content of the regular file src, streamed (never held whole). */
int cpio_file_path(struct cpio *c, const char *path, mode_t perm, const char *src,
		   struct err *e);
int cpio_symlink(struct cpio *c, const char *path, const char *target, struct err *e);
int cpio_node(struct cpio *c, const char *path, mode_t mode, unsigned major, unsigned minor,
	      struct err *e);
/* The trailer entry; the archive is then complete (4-byte aligned). */
int cpio_finish(struct cpio *c, struct err *e);

#endif

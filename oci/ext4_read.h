/* Reading ext4 images: enough to list a tree and extract files (issue #4).
 * Used by tests now, and later by export / commit / cp on a container's
 * writable disk.
 *
 * The image is UNTRUSTED (a guest wrote it): every on-disk number is range
 * checked before use, extent trees are bounded in depth, directory records
 * in length, walks refuse directory cycles and are bounded in depth, and no
 * read allocates more than a few blocks.  Reads images of our writer and of
 * mke2fs -t ext4 (64bit, flex_bg, metadata_csum: checksums are not
 * verified); block-mapped (ext2/3) files and inline data are refused with
 * -EOPNOTSUPP.
 */
#ifndef OCI_EXT4_READ_H
#define OCI_EXT4_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;
struct buf;
struct ext4_img;

#define EXT4_WALK_DEPTH_MAX 4096

struct ext4_stat {
	uint32_t ino;
	uint32_t mode;          /* file type (S_IF* values as on Linux) | 07777 */
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t nlink;
	uint32_t devmajor, devminor;
};

/* fd is borrowed and must stay open until ext4_img_close. */
struct ext4_img *ext4_img_open(int fd, struct err *e);
void ext4_img_close(struct ext4_img *img);

int ext4_img_stat(struct ext4_img *img, uint32_t ino, struct ext4_stat *st, struct err *e);
/* Resolve an absolute path component by component; symlinks are NOT
 * followed (a symlink in the middle is -ENOTDIR). */
int ext4_img_lookup(struct ext4_img *img, const char *path, uint32_t *ino, struct err *e);

/* Entries of a directory except "." and ".."; a callback returning
 * non-zero stops the walk and that value is returned. */
typedef int (*ext4_dir_cb)(void *ctx, const char *name, size_t len, uint32_t ino,
			   struct err *e);
int ext4_img_readdir(struct ext4_img *img, uint32_t dir, ext4_dir_cb cb, void *ctx,
		     struct err *e);

int ext4_img_readlink(struct ext4_img *img, uint32_t ino, struct buf *out, struct err *e);
/* Read up to n bytes at off (short only at end of file). */
ssize_t ext4_img_pread(struct ext4_img *img, uint32_t ino, void *p, size_t n, uint64_t off,
		       struct err *e);

/* Extended attributes with their full names ("user.x"); POSIX ACLs are
 * returned in the VFS (tar) format. */
typedef int (*ext4_xattr_cb)(void *ctx, const char *name, const unsigned char *v, size_t n,
			     struct err *e);
int ext4_img_xattrs(struct ext4_img *img, uint32_t ino, ext4_xattr_cb cb, void *ctx,
		    struct err *e);

/* Depth-first walk from the root ("/" first), names in byte order. */
typedef int (*ext4_walk_cb)(void *ctx, const char *path, const struct ext4_stat *st,
			    struct err *e);
int ext4_img_walk(struct ext4_img *img, ext4_walk_cb cb, void *ctx, struct err *e);

#endif

/* Our own ext4 writer (issue #4): turns an image's layers into a read-only
 * ext4 image file, and makes empty ext4 file systems for writable disks and
 * volumes.  No mke2fs, no loop mounts, nothing unpacked on the host.
 *
 * Design (streaming, one pass over the layers):
 *   - The writer is the fstree's data sink.  Regular-file data is written
 *     as it arrives into data blocks allocated sequentially from the front
 *     of the image; all-zero blocks are never written (they become holes of
 *     the ext4 file AND of the image file).  A file later deleted by an
 *     upper layer has its blocks punched out of the image and left free.
 *   - At ext4_writer_finish the tree is final: inodes are numbered
 *     (breadth first, root = 2, first free = 11), then directories (htree
 *     when they need more than one block), extent-tree blocks, slow
 *     symlinks and xattr blocks are appended after the data, and last come
 *     the block bitmaps, inode bitmaps and inode tables of all groups,
 *     packed together (flex_bg).  Only the superblock and the group
 *     descriptor table sit at the front (block 0 and up); sparse_super2
 *     with no backups keeps every other group free of fixed metadata.
 *   - The size is the content plus headroom, unless a size is given.
 *   - Features: ext_attr dir_index sparse_super2 | filetype extents flex_bg
 *     | large_file huge_file uninit_bg(gdt_csum) dir_nlink extra_isize.
 *     4 KiB blocks, 256-byte inodes, no metadata_csum, a journal only
 *     when asked (ext4_opts.journal_blocks; its blocks stay holes): Linux
 *     6.1 mounts it read-write and e2fsck -fn accepts it.  Groups without
 *     used inodes are INODE_UNINIT, so empty images of any size cost a few
 *     writes: "make empty" takes milliseconds.
 *
 * Caller: the image unpacker (snapshot cache) and the runtime / volume code
 * (ext4_make_empty).  The output is written through a borrowed fd; callers
 * write to a temporary name and rename.
 */
#ifndef OCI_EXT4_H
#define OCI_EXT4_H

#include <stdint.h>

struct err;
struct fstree;
struct fstree_sink;

#define EXT4_BLOCK_SIZE 4096

struct ext4_opts {
	uint64_t size;          /* bytes; 0 = derived from the content */
	uint64_t headroom;      /* derived size: free bytes to add (0 = 5% + 16 MiB) */
	uint32_t extra_inodes;  /* derived size: free inodes to add (0 = 5% + 1024) */
	uint32_t inode_ratio;   /* given size: bytes per inode (0 = 16384) */
	int64_t timestamp;      /* superblock times, root and lost+found (0 = now) */
	uint32_t journal_blocks; /* 0 = no journal; else >= 1024: an internal jbd2
				  * journal (writable disks and volumes) */
	uint8_t uuid[16];       /* all zero = random */
	char label[16];         /* volume name, NUL-padded */
};

struct ext4_writer;

/* fd: an empty (or truncatable) regular file, borrowed. */
struct ext4_writer *ext4_writer_new(int fd, const struct ext4_opts *o, struct err *e);
/* The sink to give fstree_new(): file data goes straight into the image. */
struct fstree_sink *ext4_writer_sink(struct ext4_writer *w);
/* Lay out and write all metadata for the final tree t (adds /lost+found if
 * absent); the image is complete when this returns 0.  The tree must have
 * been built with this writer's sink. */
int ext4_writer_finish(struct ext4_writer *w, struct fstree *t, struct err *e);
/* Free the fstree built on this writer's sink first. */
void ext4_writer_free(struct ext4_writer *w);

/* Create (or truncate) path as an empty ext4 of size_bytes (rounded down to
 * 4 KiB; at least 1 MiB) holding / and /lost+found.  o may be NULL. */
int ext4_make_empty(const char *path, uint64_t size_bytes, const struct ext4_opts *o,
		    struct err *e);

#endif

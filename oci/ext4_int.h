/* Internals shared by the ext4 writer's files (oci/ext4.c, ext4_dir.c,
 * ext4_meta.c) and the reader (oci/ext4_read.c): on-disk constants and
 * little-endian accessors.  Not for other modules. */
#ifndef OCI_EXT4_INT_H
#define OCI_EXT4_INT_H

#include <stddef.h>
#include <stdint.h>

#include "oci/ext4.h"
#include "oci/fstree.h"

struct err;

#define BS EXT4_BLOCK_SIZE
#define BLOCKS_PER_GROUP 32768u
#define INODE_SIZE 256u
#define EXTRA_ISIZE 32u
#define FIRST_INO 11u
#define JOURNAL_INO 8u
#define COMPAT_HAS_JOURNAL 0x0004u
#define ROOT_INO 2u
#define MAX_EXTENT_LEN 32768u
#define EXT_PER_BLOCK ((BS - 12) / 12)   /* 340 */
#define DESC_SIZE 32u

/* superblock feature bits */
#define COMPAT_EXT_ATTR 0x0008u
#define COMPAT_DIR_INDEX 0x0020u
#define COMPAT_SPARSE_SUPER2 0x0200u
#define INCOMPAT_FILETYPE 0x0002u
#define INCOMPAT_EXTENTS 0x0040u
#define INCOMPAT_64BIT 0x0080u
#define INCOMPAT_FLEX_BG 0x0200u
#define RO_COMPAT_SPARSE_SUPER 0x0001u
#define RO_COMPAT_LARGE_FILE 0x0002u
#define RO_COMPAT_HUGE_FILE 0x0008u
#define RO_COMPAT_GDT_CSUM 0x0010u
#define RO_COMPAT_DIR_NLINK 0x0020u
#define RO_COMPAT_EXTRA_ISIZE 0x0040u
#define RO_COMPAT_METADATA_CSUM 0x0400u

#define SB_FLAGS_UNSIGNED_HASH 0x0002u
#define BG_INODE_UNINIT 0x0001u
#define BG_BLOCK_UNINIT 0x0002u
#define BG_INODE_ZEROED 0x0004u

/* inode flags */
#define IFL_INDEX 0x00001000u
#define IFL_HUGE_FILE 0x00040000u
#define IFL_EXTENTS 0x00080000u
#define IFL_INLINE_DATA 0x10000000u

#define EXT_MAGIC 0xF30Au
#define XATTR_MAGIC 0xEA020000u
#define DX_HASH_HALF_MD4 1u

/* S_IF* values as stored on disk (same on every platform) */
#define X_IFIFO 0010000u
#define X_IFCHR 0020000u
#define X_IFDIR 0040000u
#define X_IFBLK 0060000u
#define X_IFREG 0100000u
#define X_IFLNK 0120000u
#define X_IFSOCK 0140000u
#define X_IFMT 0170000u

static inline void put16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static inline void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline uint32_t get16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- writer internals ---- */

struct ext4__extent {
	uint32_t lblk, len, pblk;
};

/* The sink's handle for one regular file's data. */
struct ext4__file {
	uint64_t size;
	uint32_t n, cap;
	struct ext4__extent *ext;
};

/* What finish computes per inode before the inode tables are written. */
struct ext4__irec {
	unsigned char iblock[60];
	uint32_t flags;
	uint32_t xattr_blk;
	uint64_t blocks;     /* file-system blocks owned (data + tree + xattr) */
	uint64_t size;
	uint32_t links;
};

struct ext4_writer {
	struct fstree_sink sink;    /* first: the sink pointer is the writer */
	int fd;
	struct ext4_opts o;
	uint64_t fixed_blocks;      /* 0 = derived size */
	uint32_t gdt_reserve;       /* blocks kept for the group descriptors */
	uint64_t next_blk;          /* next block to allocate (append-only) */
	uint64_t max_blk;           /* allocation limit (exclusive) */
	unsigned char *wbuf;        /* pending appended blocks */
	uint64_t wbuf_blk;          /* block number of wbuf[0] */
	size_t wbuf_n;              /* blocks in wbuf */
	unsigned char *chunk;       /* read buffer for file data */
	uint32_t hash_seed[4];
	uint8_t uuid[16];
	int finished;               /* metadata written: releases free memory only */
};

/* Write out appended blocks still held in memory. */
int ext4__flush(struct ext4_writer *w, struct err *e);
/* Allocate n blocks at the allocation point without writing them (they
 * read as zeros: holes in the image file). */
int ext4__reserve(struct ext4_writer *w, size_t n, uint64_t *first, struct err *e);
/* Append n blocks at the allocation point; *first gets the first block. */
int ext4__append(struct ext4_writer *w, const void *p, size_t n, uint64_t *first,
		 struct err *e);

/* ext4_dir.c: the htree hash of a name (half_md4, unsigned chars). */
uint32_t ext4__dirhash(const char *name, size_t len, const uint32_t seed[4]);
/* Build directory d's blocks (into *out, nblocks) given the inode numbers
 * assigned in fstree_inode.ino; *indexed = 1 for an htree directory. */
int ext4__dir_build(const struct ext4_writer *w, const struct fstree_inode *d,
		    unsigned char **out, size_t *nblocks, int *indexed, struct err *e);

/* ext4_meta.c */
/* Extent tree for ex[0..n): root into iblock (60 bytes), deeper nodes
 * appended; *tree_blocks counts them. */
int ext4__extent_tree(struct ext4_writer *w, const struct ext4__extent *ex, uint32_t n,
		      unsigned char iblock[60], uint64_t *tree_blocks, struct err *e);
/* Xattrs: in-inode part into ibody (INODE_SIZE - 128 - EXTRA_ISIZE bytes,
 * zeroed when none); the rest, if any, into blk (BS bytes, *has_blk = 1). */
int ext4__xattr_build(const struct fstree_inode *ino, unsigned char *ibody,
		      unsigned char *blk, int *has_blk, struct err *e);
/* Encode one inode (INODE_SIZE bytes). */
int ext4__inode_encode(const struct fstree_inode *ino, const struct ext4__irec *r,
		       unsigned char *out, struct err *e);
/* Timestamp split into the 32-bit field and the _extra field. */
void ext4__time(int64_t sec, uint32_t nsec, uint32_t *lo, uint32_t *extra);

#endif

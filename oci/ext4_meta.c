/* Per-inode metadata for the ext4 writer (oci/ext4.c): extent trees of any
 * depth, extended attributes (in the inode first, then one xattr block),
 * POSIX ACL conversion to ext4's compact on-disk form, and the 256-byte
 * inode itself. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ext4_int.h"

#define IBODY_SIZE (INODE_SIZE - 128 - EXTRA_ISIZE)  /* 96: magic + entries + values */

void ext4__time(int64_t sec, uint32_t nsec, uint32_t *lo, uint32_t *extra)
{
	/* 34 bits of seconds: [-2^31, 2^34 - 2^31) */
	const int64_t min = -((int64_t)1 << 31), max = ((int64_t)1 << 34) + min - 1;
	if (sec < min)
		sec = min;
	if (sec > max)
		sec = max;
	*lo = (uint32_t)(int32_t)sec;
	*extra = (uint32_t)(((sec - (int64_t)(int32_t)sec) >> 32) & 3) | (nsec << 2);
}

static void put_header(unsigned char *p, uint32_t entries, uint32_t max, uint32_t depth)
{
	put16(p, EXT_MAGIC);
	put16(p + 2, entries);
	put16(p + 4, max);
	put16(p + 6, depth);
	put32(p + 8, 0);
}

/* One level's entries: first logical block and the physical block (of the
 * extent, or of the child node). */
struct lvl {
	uint32_t lblk;
	uint64_t pblk;
};

int ext4__extent_tree(struct ext4_writer *w, const struct ext4__extent *ex, uint32_t n,
		      unsigned char iblock[60], uint64_t *tree_blocks, struct err *e)
{
	memset(iblock, 0, 60);
	*tree_blocks = 0;
	if (n <= 4) {
		put_header(iblock, n, 4, 0);
		for (uint32_t i = 0; i < n; i++) {
			unsigned char *p = iblock + 12 + 12 * i;
			put32(p, ex[i].lblk);
			put16(p + 4, ex[i].len);
			put16(p + 6, 0);
			put32(p + 8, ex[i].pblk);
		}
		return 0;
	}
	/* Leaves, then index levels until four entries remain for the inode. */
	size_t cnt = (n + EXT_PER_BLOCK - 1) / EXT_PER_BLOCK;
	struct lvl *up = xcalloc(cnt, sizeof(*up));
	unsigned char *blk = xcalloc(1, BS);
	uint32_t depth = 1;
	int rc = 0;
	for (size_t b = 0; b < cnt && rc == 0; b++) {
		uint32_t k = n - b * EXT_PER_BLOCK < EXT_PER_BLOCK ? (uint32_t)(n - b * EXT_PER_BLOCK)
								    : EXT_PER_BLOCK;
		memset(blk, 0, BS);
		put_header(blk, k, EXT_PER_BLOCK, 0);
		for (uint32_t i = 0; i < k; i++) {
			const struct ext4__extent *x = &ex[b * EXT_PER_BLOCK + i];
			unsigned char *p = blk + 12 + 12 * i;
			put32(p, x->lblk);
			put16(p + 4, x->len);
			put32(p + 8, x->pblk);
		}
		up[b].lblk = ex[b * EXT_PER_BLOCK].lblk;
		rc = ext4__append(w, blk, 1, &up[b].pblk, e);
	}
	*tree_blocks += cnt;
	while (rc == 0 && cnt > 4) {
		size_t ncnt = (cnt + EXT_PER_BLOCK - 1) / EXT_PER_BLOCK;
		for (size_t b = 0; b < ncnt && rc == 0; b++) {
			size_t k = cnt - b * EXT_PER_BLOCK < EXT_PER_BLOCK ? cnt - b * EXT_PER_BLOCK
									   : EXT_PER_BLOCK;
			memset(blk, 0, BS);
			put_header(blk, (uint32_t)k, EXT_PER_BLOCK, depth);
			for (size_t i = 0; i < k; i++) {
				unsigned char *p = blk + 12 + 12 * i;
				put32(p, up[b * EXT_PER_BLOCK + i].lblk);
				put32(p + 4, (uint32_t)up[b * EXT_PER_BLOCK + i].pblk);
			}
			up[b].lblk = up[b * EXT_PER_BLOCK].lblk;
			rc = ext4__append(w, blk, 1, &up[b].pblk, e);
		}
		*tree_blocks += ncnt;
		cnt = ncnt;
		depth++;
	}
	if (rc == 0) {
		put_header(iblock, (uint32_t)cnt, 4, depth);
		for (size_t i = 0; i < cnt; i++) {
			put32(iblock + 12 + 12 * i, up[i].lblk);
			put32(iblock + 12 + 12 * i + 4, (uint32_t)up[i].pblk);
		}
	}
	free(blk);
	free(up);
	return rc;
}

/* ---- extended attributes ---- */

struct xa {
	uint8_t index;
	const char *suffix;
	size_t slen;
	const unsigned char *val;
	size_t vlen;
	unsigned char *own;      /* converted value, if any */
};

static int xa_prefix(const char *name, uint8_t *index, const char **suffix)
{
	static const struct { const char *p; uint8_t i; int exact; } map[] = {
		{ "system.posix_acl_access", 2, 1 }, { "system.posix_acl_default", 3, 1 },
		{ "user.", 1, 0 }, { "trusted.", 4, 0 }, { "security.", 6, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		size_t l = strlen(map[i].p);
		if (map[i].exact ? strcmp(name, map[i].p) == 0 : strncmp(name, map[i].p, l) == 0) {
			*index = map[i].i;
			*suffix = name + l;
			return 0;
		}
	}
	return -1;
}

/* VFS ACL (what tar carries: version 2, 8-byte entries) -> ext4 on-disk
 * ACL (version 1; 4-byte entries for the *_OBJ/MASK/OTHER tags). */
static int acl_convert(const unsigned char *v, size_t n, unsigned char **out, size_t *olen)
{
	if (n < 4 || (n - 4) % 8 || get32(v) != 2)
		return -1;
	size_t cnt = (n - 4) / 8;
	unsigned char *o = xmalloc(4 + cnt * 8), *p = o + 4;
	put32(o, 1);
	for (size_t i = 0; i < cnt; i++) {
		const unsigned char *s = v + 4 + 8 * i;
		uint32_t tag = get16(s);
		put16(p, tag);
		put16(p + 2, get16(s + 2));
		p += 4;
		if (tag == 0x02 || tag == 0x08) {   /* ACL_USER, ACL_GROUP carry an id */
			put32(p, get32(s + 4));
			p += 4;
		} else if (tag != 0x01 && tag != 0x04 && tag != 0x10 && tag != 0x20) {
			free(o);
			return -1;
		}
	}
	*out = o;
	*olen = (size_t)(p - o);
	return 0;
}

static int xa_cmp(const void *a, const void *b)
{
	const struct xa *x = a, *y = b;
	if (x->index != y->index)
		return x->index - y->index;
	if (x->slen != y->slen)
		return x->slen < y->slen ? -1 : 1;
	return memcmp(x->suffix, y->suffix, x->slen);
}

static size_t entry_size(const struct xa *x) { return (16 + x->slen + 3) & ~(size_t)3; }
static size_t value_size(const struct xa *x) { return (x->vlen + 3) & ~(size_t)3; }

static uint32_t xa_hash(const struct xa *x)
{
	uint32_t h = 0;
	for (size_t i = 0; i < x->slen; i++)
		h = (h << 5) ^ (h >> 27) ^ (unsigned char)x->suffix[i];
	for (size_t i = 0; i < x->vlen; i += 4) {
		unsigned char word[4] = { 0 };
		memcpy(word, x->val + i, x->vlen - i < 4 ? x->vlen - i : 4);
		h = (h << 16) ^ (h >> 16) ^ get32(word);
	}
	return h;
}

/* Write entries x[0..n) into area (entries from ent, values placed
 * downward from area+size; value offsets relative to base).  Returns the
 * hash chain for a block header. */
static uint32_t xa_write(unsigned char *area, size_t size, unsigned char *ent,
			 const unsigned char *base, const struct xa *x, size_t n)
{
	size_t vend = size;
	uint32_t bh = 0;
	for (size_t i = 0; i < n; i++) {
		size_t vs = value_size(&x[i]);
		uint32_t h = xa_hash(&x[i]);
		vend -= vs;
		memcpy(area + vend, x[i].val, x[i].vlen);
		ent[0] = (unsigned char)x[i].slen;
		ent[1] = x[i].index;
		put16(ent + 2, x[i].vlen ? (uint32_t)(area + vend - base) : 0);
		put32(ent + 4, 0);
		put32(ent + 8, (uint32_t)x[i].vlen);
		put32(ent + 12, h);
		memcpy(ent + 16, x[i].suffix, x[i].slen);
		ent += entry_size(&x[i]);
		bh = (bh << 16) ^ (bh >> 16) ^ h;
	}
	return bh;
}

int ext4__xattr_build(const struct fstree_inode *ino, unsigned char *ibody,
		      unsigned char *blk, int *has_blk, struct err *e)
{
	memset(ibody, 0, IBODY_SIZE);
	*has_blk = 0;
	if (!ino->nxattrs)
		return 0;
	size_t n = ino->nxattrs, k, used;
	struct xa *x = xcalloc(n, sizeof(*x));
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct fstree_xattr *s = &ino->xattrs[i];
		if (xa_prefix(s->name, &x[i].index, &x[i].suffix) < 0) {
			rc = err_set(e, -EOPNOTSUPP, "unsupported xattr %.100s", s->name);
			break;
		}
		x[i].slen = strlen(x[i].suffix);
		x[i].val = s->value;
		x[i].vlen = s->len;
		if (x[i].index == 2 || x[i].index == 3) {
			if (acl_convert(s->value, s->len, &x[i].own, &x[i].vlen) < 0)
				rc = err_set(e, -EINVAL, "malformed POSIX ACL in %.100s", s->name);
			x[i].val = x[i].own;
		}
	}
	if (rc == 0) {
		qsort(x, n, sizeof(*x), xa_cmp);
		/* In the inode: magic, entries, 4-byte terminator, values. */
		used = 4 + 4;
		for (k = 0; k < n; k++) {
			size_t need = entry_size(&x[k]) + value_size(&x[k]);
			if (used + need > IBODY_SIZE)
				break;
			used += need;
		}
		if (k) {
			put32(ibody, XATTR_MAGIC);
			xa_write(ibody + 4, IBODY_SIZE - 4, ibody + 4, ibody + 4, x, k);
		}
		if (k < n) {
			used = 32 + 4;
			for (size_t i = k; i < n; i++)
				used += entry_size(&x[i]) + value_size(&x[i]);
			if (used > BS) {
				rc = err_set(e, -E2BIG, "xattrs need %zu bytes, more than one block", used);
			} else {
				memset(blk, 0, BS);
				put32(blk, XATTR_MAGIC);
				put32(blk + 4, 1);   /* refcount */
				put32(blk + 8, 1);   /* blocks */
				put32(blk + 12, xa_write(blk, BS, blk + 32, blk, x + k, n - k));
				*has_blk = 1;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(x[i].own);
	free(x);
	return rc;
}

/* ---- inodes ---- */

static uint32_t mode_bits(enum fstree_type t)
{
	switch (t) {
	case FST_REG: return X_IFREG;
	case FST_DIR: return X_IFDIR;
	case FST_SYMLINK: return X_IFLNK;
	case FST_CHR: return X_IFCHR;
	case FST_BLK: return X_IFBLK;
	case FST_FIFO: return X_IFIFO;
	}
	return 0;
}

int ext4__inode_encode(const struct fstree_inode *ino, const struct ext4__irec *r,
		       unsigned char *out, struct err *e)
{
	uint32_t lo, extra;
	unsigned char blk_unused[BS];
	int has_blk;

	memset(out, 0, INODE_SIZE);
	put16(out + 0x00, mode_bits(ino->type) | (ino->mode & 07777));
	put16(out + 0x02, ino->uid & 0xffff);
	put32(out + 0x04, (uint32_t)r->size);
	ext4__time(ino->mtime, ino->mtime_nsec, &lo, &extra);
	put32(out + 0x08, lo);               /* atime */
	put32(out + 0x0C, lo);               /* ctime */
	put32(out + 0x10, lo);               /* mtime */
	put16(out + 0x18, ino->gid & 0xffff);
	put16(out + 0x1A, r->links);
	uint64_t sectors = r->blocks * (BS / 512);
	put32(out + 0x1C, (uint32_t)sectors);
	put32(out + 0x20, r->flags);
	memcpy(out + 0x28, r->iblock, 60);
	put32(out + 0x68, r->xattr_blk);
	put32(out + 0x6C, (uint32_t)(r->size >> 32));
	put16(out + 0x74, (uint32_t)(sectors >> 32));
	put16(out + 0x78, ino->uid >> 16);
	put16(out + 0x7A, ino->gid >> 16);
	put16(out + 0x80, EXTRA_ISIZE);
	put32(out + 0x84, extra);            /* ctime_extra */
	put32(out + 0x88, extra);            /* mtime_extra */
	put32(out + 0x8C, extra);            /* atime_extra */
	put32(out + 0x90, lo);               /* crtime */
	put32(out + 0x94, extra);
	return ext4__xattr_build(ino, out + 128 + EXTRA_ISIZE, blk_unused, &has_blk, e);
}

/* ext4 directories for the writer (oci/ext4.c): linear single-block
 * directories, and hashed (htree / dir_index) ones for anything larger so
 * that lookups in a directory of 100 000 entries stay logarithmic in the
 * guest.  Leaves are packed full and sorted by hash; one index level fits
 * 508 leaves (~60 000 short names), two levels 259 588 leaves.
 *
 * The hash is ext4's half-MD4 variant over "unsigned char" bytes
 * (superblock flag UNSIGNED_HASH), written from the on-disk format's
 * description. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ext4_int.h"

#define ROOT_LIMIT ((BS - 32) / 8)   /* 508 index entries in the root */
#define NODE_LIMIT ((BS - 8) / 8)    /* 511 in an interior node */

static inline uint32_t rol32(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define ROUND(f, a, b, c, d, x, s) ((a) += f((b), (c), (d)) + (x), (a) = rol32((a), (s)))
#define K2 0x5A827999u
#define K3 0x6ED9EBA1u

static void half_md4(uint32_t buf[4], const uint32_t in[8])
{
	uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];

	ROUND(F, a, b, c, d, in[0], 3);
	ROUND(F, d, a, b, c, in[1], 7);
	ROUND(F, c, d, a, b, in[2], 11);
	ROUND(F, b, c, d, a, in[3], 19);
	ROUND(F, a, b, c, d, in[4], 3);
	ROUND(F, d, a, b, c, in[5], 7);
	ROUND(F, c, d, a, b, in[6], 11);
	ROUND(F, b, c, d, a, in[7], 19);

	ROUND(G, a, b, c, d, in[1] + K2, 3);
	ROUND(G, d, a, b, c, in[3] + K2, 5);
	ROUND(G, c, d, a, b, in[5] + K2, 9);
	ROUND(G, b, c, d, a, in[7] + K2, 13);
	ROUND(G, a, b, c, d, in[0] + K2, 3);
	ROUND(G, d, a, b, c, in[2] + K2, 5);
	ROUND(G, c, d, a, b, in[4] + K2, 9);
	ROUND(G, b, c, d, a, in[6] + K2, 13);

	ROUND(H, a, b, c, d, in[3] + K3, 3);
	ROUND(H, d, a, b, c, in[7] + K3, 9);
	ROUND(H, c, d, a, b, in[2] + K3, 11);
	ROUND(H, b, c, d, a, in[6] + K3, 15);
	ROUND(H, a, b, c, d, in[1] + K3, 3);
	ROUND(H, d, a, b, c, in[5] + K3, 9);
	ROUND(H, c, d, a, b, in[0] + K3, 11);
	ROUND(H, b, c, d, a, in[4] + K3, 15);

	buf[0] += a;
	buf[1] += b;
	buf[2] += c;
	buf[3] += d;
}

/* Pack up to num*4 bytes of the name into words, padding with the length. */
static void str2hashbuf(const unsigned char *p, size_t len, uint32_t *out, int num)
{
	uint32_t pad = (uint32_t)len | ((uint32_t)len << 8), val;
	pad |= pad << 16;
	val = pad;
	if (len > (size_t)num * 4)
		len = (size_t)num * 4;
	for (size_t i = 0; i < len; i++) {
		val = p[i] + (val << 8);
		if (i % 4 == 3) {
			*out++ = val;
			val = pad;
			num--;
		}
	}
	if (--num >= 0)
		*out++ = val;
	while (--num >= 0)
		*out++ = pad;
}

uint32_t ext4__dirhash(const char *name, size_t len, const uint32_t seed[4])
{
	uint32_t buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 }, in[8];
	const unsigned char *p = (const unsigned char *)name;
	if (seed && (seed[0] | seed[1] | seed[2] | seed[3]))
		memcpy(buf, seed, sizeof(buf));
	for (;;) {
		str2hashbuf(p, len, in, 8);
		half_md4(buf, in);
		if (len <= 32)
			break;
		len -= 32;
		p += 32;
	}
	uint32_t h = buf[1] & ~1u;
	if (h == (0x7fffffffu << 1))
		h = (0x7fffffffu - 1) << 1;
	return h;
}

struct dent {
	const struct fstree_dentry *de;
	uint32_t hash;
};

static uint32_t ftype(enum fstree_type t)
{
	switch (t) {
	case FST_REG: return 1;
	case FST_DIR: return 2;
	case FST_CHR: return 3;
	case FST_BLK: return 4;
	case FST_FIFO: return 5;
	case FST_SYMLINK: return 7;
	}
	return 0;
}

static size_t rec_size(size_t namelen) { return (8 + namelen + 3) & ~(size_t)3; }

static void put_dirent(unsigned char *p, uint32_t ino, size_t rec, const char *name,
		       size_t len, uint32_t type)
{
	put32(p, ino);
	put16(p + 4, (uint32_t)rec);
	p[6] = (unsigned char)len;
	p[7] = (unsigned char)type;
	memcpy(p + 8, name, len);
}

static int cmp_hash(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	size_t n = x->de->namelen < y->de->namelen ? x->de->namelen : y->de->namelen;
	int c = memcmp(x->de->name, y->de->name, n);
	return c ? c : (int)x->de->namelen - (int)y->de->namelen;
}

static int cmp_name(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	return strcmp(x->de->name, y->de->name);
}

/* Pack v[from..) into the block at blk starting at offset off; returns the
 * index of the first entry that did not fit.  The last entry written
 * stretches to the end of the block. */
static size_t pack(unsigned char *blk, size_t off, const struct dent *v, size_t from, size_t n)
{
	size_t last = off, i = from;
	for (; i < n; i++) {
		const struct fstree_dentry *de = v[i].de;
		size_t rs = rec_size(de->namelen);
		if (off + rs > BS)
			break;
		put_dirent(blk + off, de->inode->ino, rs, de->name, de->namelen,
			   ftype(de->inode->type));
		last = off;
		off += rs;
	}
	put16(blk + last + 4, (uint32_t)(BS - last));
	return i;
}

static void put_dots(unsigned char *blk, uint32_t self, uint32_t parent, size_t dotdot_rec)
{
	put_dirent(blk, self, 12, ".", 1, 2);
	put_dirent(blk + 12, parent, dotdot_rec, "..", 2, 2);
}

static void put_dx(unsigned char *ent, uint32_t hash, uint32_t block, size_t i)
{
	if (i)
		put32(ent + 8 * i, hash);
	put32(ent + 8 * i + 4, block);
}

int ext4__dir_build(const struct ext4_writer *w, const struct fstree_inode *d,
		    unsigned char **out, size_t *nblocks, int *indexed, struct err *e)
{
	struct fstree_dentry **list;
	size_t n = fstree_dir_list(d, &list), total = 24;
	uint32_t self = d->ino, parent = fstree_dir_parent(d)->ino;
	struct dent *v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].de = list[i];
		total += rec_size(list[i]->namelen);
	}
	free(list);

	if (total <= BS) {
		unsigned char *blk = xcalloc(1, BS);
		qsort(v, n, sizeof(*v), cmp_name);
		put_dots(blk, self, parent, n ? 12 : BS - 12);
		if (n)
			pack(blk, 24, v, 0, n);
		free(v);
		*out = blk;
		*nblocks = 1;
		*indexed = 0;
		return 0;
	}

	for (size_t i = 0; i < n; i++)
		v[i].hash = ext4__dirhash(v[i].de->name, v[i].de->namelen, w->hash_seed);
	qsort(v, n, sizeof(*v), cmp_hash);

	/* Leaves: first pass counts them and records each one's first entry. */
	size_t nleaves = 0, cap = 16;
	size_t *first = xcalloc(cap, sizeof(*first));
	unsigned char *scratch = xmalloc(BS);
	for (size_t i = 0; i < n;) {
		if (nleaves == cap)
			first = xreallocarray(first, cap *= 2, sizeof(*first));
		first[nleaves++] = i;
		i = pack(scratch, 0, v, i, n);
	}
	free(scratch);

	size_t nodes = nleaves <= ROOT_LIMIT ? 0 : (nleaves + NODE_LIMIT - 1) / NODE_LIMIT;
	if (nodes > ROOT_LIMIT) {
		free(first);
		free(v);
		return err_set(e, -EFBIG, "directory with %zu entries is too large for ext4", n);
	}
	size_t nb = 1 + nodes + nleaves;
	unsigned char *blocks = xcalloc(nb, BS);
	uint32_t *lhash = xcalloc(nleaves, sizeof(*lhash));
	for (size_t l = 0; l < nleaves; l++) {
		size_t i = first[l];
		pack(blocks + (1 + nodes + l) * BS, 0, v, i, l + 1 < nleaves ? first[l + 1] : n);
		/* A run of equal hashes split across leaves: mark the continuation. */
		lhash[l] = v[i].hash | (i > 0 && v[i - 1].hash == v[i].hash ? 1u : 0u);
	}

	unsigned char *root = blocks;
	put_dots(root, self, parent, BS - 12);
	root[28] = DX_HASH_HALF_MD4;
	root[29] = 8;
	root[30] = nodes ? 1 : 0;
	unsigned char *re = root + 32;
	if (!nodes) {
		put16(re, ROOT_LIMIT);
		put16(re + 2, (uint32_t)nleaves);
		for (size_t l = 0; l < nleaves; l++)
			put_dx(re, lhash[l], (uint32_t)(1 + l), l);
	} else {
		put16(re, ROOT_LIMIT);
		put16(re + 2, (uint32_t)nodes);
		for (size_t k = 0; k < nodes; k++) {
			size_t l0 = k * NODE_LIMIT, cnt = nleaves - l0 < NODE_LIMIT ? nleaves - l0 : NODE_LIMIT;
			unsigned char *nb_ = blocks + (1 + k) * BS;
			put_dx(re, lhash[l0], (uint32_t)(1 + k), k);
			put32(nb_, 0);
			put16(nb_ + 4, BS);
			unsigned char *ne = nb_ + 8;
			put16(ne, NODE_LIMIT);
			put16(ne + 2, (uint32_t)cnt);
			for (size_t j = 0; j < cnt; j++)
				put_dx(ne, lhash[l0 + j], (uint32_t)(1 + nodes + l0 + j), j);
		}
	}
	free(lhash);
	free(first);
	free(v);
	*out = blocks;
	*nblocks = nb;
	*indexed = 1;
	return 0;
}

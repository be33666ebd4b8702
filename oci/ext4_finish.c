/* The ext4 writer's last step (oci/ext4.h "Design"): number the inodes,
 * append directories and other per-inode metadata after the file data,
 * size the groups, then write inode tables, bitmaps, group descriptors and
 * the superblock.  Also ext4_make_empty, which is the same path with an
 * empty tree.  Called by the unpacker and by the runtime / volume code. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ext4_int.h"

#define INODES_PER_CHUNK 4096u

struct ctx {
	struct ext4_writer *w;
	struct fstree *t;
	struct fstree_inode **byino;   /* [ino] for 2 and FIRST_INO.. */
	uint32_t next;                 /* first unused inode number */
	struct ext4__irec *rec;
	uint64_t data_end, tail_end, blocks, bb0, ib0, it0;
	uint32_t groups, ipg, itb;
	uint32_t *free_blocks;         /* per group */
	struct fstree_inode jino;      /* the journal's inode, when there is one */
	int journal;
};

static uint32_t gdt_blocks_of(uint32_t groups)
{
	return (groups * DESC_SIZE + BS - 1) / BS;
}

static int cmp_dentry(const void *a, const void *b)
{
	const struct fstree_dentry *x = *(const struct fstree_dentry *const *)a;
	const struct fstree_dentry *y = *(const struct fstree_dentry *const *)b;
	return strcmp(x->name, y->name);
}

/* Breadth first, names sorted: the same tree always gets the same numbers. */
static int number(struct ctx *c, struct err *e)
{
	size_t qn = 0, qcap = 64, cap = 64;
	struct fstree_inode **q = xcalloc(qcap, sizeof(*q));
	c->byino = xcalloc(cap, sizeof(*c->byino));
	c->t->root->ino = ROOT_INO;
	c->byino[ROOT_INO] = c->t->root;
	c->next = FIRST_INO;
	q[qn++] = c->t->root;
	for (size_t qi = 0; qi < qn; qi++) {
		struct fstree_dentry **v;
		size_t n = fstree_dir_list(q[qi], &v);
		qsort(v, n, sizeof(*v), cmp_dentry);
		for (size_t i = 0; i < n; i++) {
			struct fstree_inode *in = v[i]->inode;
			if (in->ino)
				continue;
			if (c->next == UINT32_MAX) {
				free(v);
				free(q);
				return err_set(e, -ENOSPC, "too many inodes for ext4");
			}
			if (c->next == cap)
				c->byino = xreallocarray(c->byino, cap *= 2, sizeof(*c->byino));
			in->ino = c->next;
			c->byino[c->next++] = in;
			if (in->type == FST_DIR) {
				if (qn == qcap)
					q = xreallocarray(q, qcap *= 2, sizeof(*q));
				q[qn++] = in;
			}
		}
		free(v);
	}
	free(q);
	return 0;
}

/* Contiguous blocks [first, first+n) as a file's extents. */
static int contiguous_tree(struct ext4_writer *w, uint64_t first, size_t n,
			   struct ext4__irec *r, struct err *e)
{
	size_t ne = (n + MAX_EXTENT_LEN - 1) / MAX_EXTENT_LEN;
	struct ext4__extent *ex = xcalloc(ne, sizeof(*ex));
	for (size_t i = 0; i < ne; i++) {
		ex[i].lblk = (uint32_t)(i * MAX_EXTENT_LEN);
		ex[i].pblk = (uint32_t)(first + i * MAX_EXTENT_LEN);
		ex[i].len = (uint32_t)(n - i * MAX_EXTENT_LEN < MAX_EXTENT_LEN ? n - i * MAX_EXTENT_LEN
									  : MAX_EXTENT_LEN);
	}
	uint64_t tb;
	int rc = ext4__extent_tree(w, ex, (uint32_t)ne, r->iblock, &tb, e);
	free(ex);
	r->blocks = n + tb;
	r->flags = IFL_EXTENTS;
	return rc;
}

static int build_dir(struct ctx *c, struct fstree_inode *in, struct ext4__irec *r,
		     struct err *e)
{
	unsigned char *blocks;
	size_t nb;
	int indexed;
	uint64_t first;
	int rc = ext4__dir_build(c->w, in, &blocks, &nb, &indexed, e);
	if (rc < 0)
		return rc;
	rc = ext4__append(c->w, blocks, nb, &first, e);
	free(blocks);
	if (rc == 0)
		rc = contiguous_tree(c->w, first, nb, r, e);
	if (indexed)
		r->flags |= IFL_INDEX;
	r->size = (uint64_t)nb * BS;
	struct fstree_dentry **v;
	size_t n = fstree_dir_list(in, &v), sub = 0;
	for (size_t i = 0; i < n; i++)
		sub += v[i]->inode->type == FST_DIR;
	free(v);
	r->links = 2 + sub > FSTREE_LINK_MAX ? 1 : (uint32_t)(2 + sub);
	return rc;
}

static int build_rec(struct ctx *c, struct fstree_inode *in, struct ext4__irec *r,
		     struct err *e)
{
	int rc = 0;
	r->links = in->nlink;
	switch (in->type) {
	case FST_REG: {
		const struct ext4__file *f = in->data;
		uint64_t tb, nb = 0;
		for (uint32_t i = 0; f && i < f->n; i++)
			nb += f->ext[i].len;
		rc = ext4__extent_tree(c->w, f ? f->ext : NULL, f ? f->n : 0, r->iblock, &tb, e);
		r->blocks = nb + tb;
		r->size = in->size;
		r->flags = IFL_EXTENTS;
		break;
	}
	case FST_DIR:
		rc = build_dir(c, in, r, e);
		break;
	case FST_SYMLINK: {
		size_t len = strlen(in->target);
		r->size = len;
		if (len < 60) {
			memcpy(r->iblock, in->target, len);
			break;
		}
		unsigned char blk[BS] = { 0 };
		uint64_t first;
		memcpy(blk, in->target, len);
		rc = ext4__append(c->w, blk, 1, &first, e);
		if (rc == 0)
			rc = contiguous_tree(c->w, first, 1, r, e);
		break;
	}
	case FST_CHR:
	case FST_BLK:
		if (in->devmajor < 256 && in->devminor < 256) {
			put32(r->iblock, in->devmajor << 8 | in->devminor);
		} else {
			put32(r->iblock + 4, (in->devminor & 0xff) | (in->devmajor << 8) |
						     ((in->devminor & ~0xffu) << 12));
		}
		break;
	case FST_FIFO:
		break;
	}
	if (rc == 0 && in->nxattrs) {
		unsigned char ibody[INODE_SIZE], blk[BS];
		int has_blk;
		uint64_t first;
		rc = ext4__xattr_build(in, ibody, blk, &has_blk, e);
		if (rc == 0 && has_blk && (rc = ext4__append(c->w, blk, 1, &first, e)) == 0) {
			r->xattr_blk = (uint32_t)first;
			r->blocks++;
		}
	}
	return rc < 0 ? err_wrap(e, "inode %u", in->ino) : 0;
}

static void put32be(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* An empty internal jbd2 journal: its superblock (big-endian, version 2,
 * s_start = 0: nothing to replay) and n - 1 blocks left as holes. */
static int build_journal(struct ctx *c, struct err *e)
{
	uint32_t n = c->w->o.journal_blocks;
	unsigned char blk[BS] = { 0 };
	uint64_t first, rest;
	if (n < 1024 || n > (1u << 20))
		return err_set(e, -EINVAL, "journal of %u blocks: want 1024 to 1048576", n);
	put32be(blk + 0x00, 0xC03B3998u);   /* magic */
	put32be(blk + 0x04, 4);             /* superblock v2 */
	put32be(blk + 0x0C, BS);
	put32be(blk + 0x10, n);             /* s_maxlen */
	put32be(blk + 0x14, 1);             /* s_first */
	put32be(blk + 0x18, 1);             /* s_sequence */
	memcpy(blk + 0x30, c->w->uuid, 16);
	put32be(blk + 0x40, 1);             /* s_nr_users */
	int rc = ext4__append(c->w, blk, 1, &first, e);
	if (rc == 0)
		rc = ext4__reserve(c->w, n - 1, &rest, e);
	if (rc < 0)
		return rc;
	c->jino = (struct fstree_inode){ .type = FST_REG, .mode = 0600, .nlink = 1,
					 .mtime = c->w->o.timestamp, .ino = JOURNAL_INO };
	c->byino[JOURNAL_INO] = &c->jino;
	c->journal = 1;
	struct ext4__irec *r = &c->rec[JOURNAL_INO];
	rc = contiguous_tree(c->w, first, n, r, e);
	r->size = (uint64_t)n * BS;
	r->links = 1;
	return rc;
}

static uint64_t round_up(uint64_t v, uint64_t m) { return (v + m - 1) / m * m; }

static int layout(struct ctx *c, struct err *e)
{
	struct ext4_writer *w = c->w;
	uint64_t used = c->next - 1, total, G;
	if (w->fixed_blocks) {
		c->blocks = w->fixed_blocks;
		G = (c->blocks + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
		total = c->blocks * BS / (w->o.inode_ratio ? w->o.inode_ratio : 16384);
		if (total < used)
			total = used;
		uint64_t ipg = round_up((total + G - 1) / G, 16);
		c->ipg = (uint32_t)(ipg > BLOCKS_PER_GROUP ? BLOCKS_PER_GROUP : ipg);
		if ((uint64_t)c->ipg * G < used)
			return err_set(e, -ENOSPC, "%llu inodes do not fit in this ext4 size",
				       (unsigned long long)used);
	} else {
		uint64_t extra = w->o.extra_inodes ? w->o.extra_inodes : used / 20 + 1024;
		uint64_t head = (w->o.headroom ? w->o.headroom : c->tail_end * BS / 20 + (16u << 20)) / BS;
		total = used + extra;
		G = 1;
		for (;;) {
			uint64_t ipg = round_up((total + G - 1) / G, 16);
			if (ipg > BLOCKS_PER_GROUP) {
				G = (total + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
				continue;
			}
			uint64_t need = c->tail_end + 2 * G + G * (ipg * INODE_SIZE / BS) + head;
			need = round_up(need, 256);
			uint64_t g2 = (need + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
			if (g2 > G) {
				G = g2;
				continue;
			}
			if (g2 < G)  /* more groups for the inodes than for the blocks */
				need = (G - 1) * BLOCKS_PER_GROUP + 1024;
			c->ipg = (uint32_t)ipg;
			c->blocks = need;
			break;
		}
		if (G > (uint64_t)w->gdt_reserve * (BS / DESC_SIZE))
			return err_set(e, -EFBIG, "image content too large for a derived-size ext4");
	}
	c->groups = (uint32_t)G;
	c->itb = c->ipg * INODE_SIZE / BS;
	c->bb0 = c->tail_end;
	c->ib0 = c->bb0 + G;
	c->it0 = c->ib0 + G;
	uint64_t end = c->it0 + G * c->itb;
	if (end > c->blocks || c->blocks > 0xFFFFFFFFull)
		return err_set(e, -ENOSPC, "ext4 of %llu blocks is too small for its content (%llu needed)",
			       (unsigned long long)c->blocks, (unsigned long long)end);
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off, struct err *e)
{
	const unsigned char *s = p;
	while (n) {
		ssize_t k = pwrite(fd, s, n, (off_t)off);
		if (k < 0)
			return err_sys(e, "write ext4 image");
		s += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

static int write_inode_tables(struct ctx *c, struct err *e)
{
	unsigned char *buf = xmalloc((size_t)INODES_PER_CHUNK * INODE_SIZE);
	uint32_t used = c->next - 1;
	int rc = 0;
	for (uint32_t ino = 1; ino <= used && rc == 0;) {
		uint32_t g = (ino - 1) / c->ipg, idx = (ino - 1) % c->ipg;
		uint32_t n = c->ipg - idx;
		if (n > INODES_PER_CHUNK)
			n = INODES_PER_CHUNK;
		if (n > used - ino + 1)
			n = used - ino + 1;
		memset(buf, 0, (size_t)n * INODE_SIZE);
		for (uint32_t k = 0; k < n && rc == 0; k++) {
			uint32_t i = ino + k;
			if (i == ROOT_INO || i >= FIRST_INO || (i == JOURNAL_INO && c->journal))
				rc = ext4__inode_encode(c->byino[i], &c->rec[i], buf + (size_t)k * INODE_SIZE, e);
		}
		if (rc == 0)
			rc = pwrite_all(c->w->fd, buf, (size_t)n * INODE_SIZE,
					(c->it0 + (uint64_t)g * c->itb) * BS + (uint64_t)idx * INODE_SIZE, e);
		ino += n;
	}
	free(buf);
	return rc;
}

struct range {
	uint64_t start, len;
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void set_bits(unsigned char *bm, uint64_t from, uint64_t to)
{
	while (from < to && (from & 7))
		bm[from >> 3] |= (unsigned char)(1u << (from & 7)), from++;
	if (to - from >= 8) {
		memset(bm + (from >> 3), 0xff, (to - from) >> 3);
		from += (to - from) & ~(uint64_t)7;
	}
	while (from < to)
		bm[from >> 3] |= (unsigned char)(1u << (from & 7)), from++;
}

static int write_block_bitmaps(struct ctx *c, struct err *e)
{
	size_t nr = 2, cap = 16;
	struct range *r = xcalloc(cap, sizeof(*r));
	r[0] = (struct range){ 0, 1 + gdt_blocks_of(c->groups) };
	r[1] = (struct range){ c->data_end, c->it0 + (uint64_t)c->groups * c->itb - c->data_end };
	for (uint32_t i = FIRST_INO; i < c->next; i++) {
		const struct fstree_inode *in = c->byino[i];
		const struct ext4__file *f = in->type == FST_REG ? in->data : NULL;
		for (uint32_t k = 0; f && k < f->n; k++) {
			if (nr == cap)
				r = xreallocarray(r, cap *= 2, sizeof(*r));
			r[nr++] = (struct range){ f->ext[k].pblk, f->ext[k].len };
		}
	}
	qsort(r, nr, sizeof(*r), cmp_range);
	unsigned char *bm = xmalloc(BS);
	size_t ri = 0;
	int rc = 0;
	for (uint32_t g = 0; g < c->groups && rc == 0; g++) {
		uint64_t gs = (uint64_t)g * BLOCKS_PER_GROUP, ge = gs + BLOCKS_PER_GROUP, usedb = 0;
		if (ge > c->blocks)
			ge = c->blocks;
		memset(bm, 0, BS);
		int any = 0;
		while (ri < nr && r[ri].start + r[ri].len <= gs)
			ri++;
		for (size_t k = ri; k < nr && r[k].start < ge; k++) {
			uint64_t a = r[k].start > gs ? r[k].start : gs;
			uint64_t b = r[k].start + r[k].len < ge ? r[k].start + r[k].len : ge;
			set_bits(bm, a - gs, b - gs);
			usedb += b - a;
			any = 1;
		}
		if (ge - gs < BLOCKS_PER_GROUP) {
			set_bits(bm, ge - gs, BLOCKS_PER_GROUP);
			any = 1;
		}
		c->free_blocks[g] = (uint32_t)(ge - gs - usedb);
		if (any)  /* an all-free bitmap is a hole: zeros */
			rc = pwrite_all(c->w->fd, bm, BS, (c->bb0 + g) * BS, e);
	}
	free(bm);
	free(r);
	return rc;
}

static int write_inode_bitmaps(struct ctx *c, struct err *e)
{
	unsigned char *bm = xmalloc(BS);
	uint32_t used = c->next - 1;
	int rc = 0;
	for (uint32_t g = 0; g < c->groups && rc == 0; g++) {
		uint64_t first = (uint64_t)g * c->ipg + 1;
		if (first > used)
			break;   /* the rest are INODE_UNINIT: never read */
		uint64_t n = used - first + 1 < c->ipg ? used - first + 1 : c->ipg;
		memset(bm, 0, BS);
		set_bits(bm, 0, n);
		set_bits(bm, c->ipg, BLOCKS_PER_GROUP);
		rc = pwrite_all(c->w->fd, bm, BS, (c->ib0 + g) * BS, e);
	}
	free(bm);
	return rc;
}

static uint16_t crc16(uint16_t crc, const unsigned char *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (uint16_t)(crc & 1 ? (crc >> 1) ^ 0xA001 : crc >> 1);
	}
	return crc;
}

static int write_gdt(struct ctx *c, uint64_t *free_blocks, uint64_t *free_inodes,
		     struct err *e)
{
	size_t nb = gdt_blocks_of(c->groups);
	unsigned char *gdt = xcalloc(nb, BS);
	uint32_t used = c->next - 1;
	uint32_t *dirs = xcalloc(c->groups, sizeof(*dirs));
	for (uint32_t i = ROOT_INO; i < c->next; i++)
		if ((i == ROOT_INO || i >= FIRST_INO) && c->byino[i]->type == FST_DIR)
			dirs[(i - 1) / c->ipg]++;
	*free_blocks = *free_inodes = 0;
	for (uint32_t g = 0; g < c->groups; g++) {
		unsigned char *d = gdt + (size_t)g * DESC_SIZE, le[4];
		uint64_t first = (uint64_t)g * c->ipg + 1;
		uint32_t in_use = first > used ? 0 : (uint32_t)(used - first + 1 < c->ipg ? used - first + 1 : c->ipg);
		put32(d + 0x00, (uint32_t)(c->bb0 + g));
		put32(d + 0x04, (uint32_t)(c->ib0 + g));
		put32(d + 0x08, (uint32_t)(c->it0 + (uint64_t)g * c->itb));
		put16(d + 0x0C, c->free_blocks[g]);
		put16(d + 0x0E, c->ipg - in_use);
		put16(d + 0x10, dirs[g]);
		put16(d + 0x12, BG_INODE_ZEROED | (in_use ? 0 : BG_INODE_UNINIT));
		put16(d + 0x1C, c->ipg - in_use);
		put32(le, g);
		uint16_t crc = crc16(0xffff, c->w->uuid, 16);
		crc = crc16(crc, le, 4);
		put16(d + 0x1E, crc16(crc, d, 0x1E));
		*free_blocks += c->free_blocks[g];
		*free_inodes += c->ipg - in_use;
	}
	int rc = pwrite_all(c->w->fd, gdt, nb * BS, BS, e);
	free(dirs);
	free(gdt);
	return rc;
}

static int write_super(struct ctx *c, uint64_t free_blocks, uint64_t free_inodes,
		       struct err *e)
{
	unsigned char sb[1024] = { 0 };
	const struct ext4_opts *o = &c->w->o;
	uint32_t ts = (uint32_t)o->timestamp;
	put32(sb + 0x00, c->groups * c->ipg);
	put32(sb + 0x04, (uint32_t)c->blocks);
	put32(sb + 0x0C, (uint32_t)free_blocks);
	put32(sb + 0x10, (uint32_t)free_inodes);
	put32(sb + 0x14, 0);                       /* first data block */
	put32(sb + 0x18, 2);                       /* log2(block size) - 10 */
	put32(sb + 0x1C, 2);
	put32(sb + 0x20, BLOCKS_PER_GROUP);
	put32(sb + 0x24, BLOCKS_PER_GROUP);
	put32(sb + 0x28, c->ipg);
	put32(sb + 0x30, ts);                      /* wtime */
	put16(sb + 0x36, 0xffff);                  /* max mount count: none */
	put16(sb + 0x38, 0xEF53);
	put16(sb + 0x3A, 1);                       /* cleanly unmounted */
	put16(sb + 0x3C, 1);                       /* errors: continue */
	put32(sb + 0x40, ts);                      /* lastcheck */
	put32(sb + 0x4C, 1);                       /* dynamic revision */
	put32(sb + 0x54, FIRST_INO);
	put16(sb + 0x58, INODE_SIZE);
	put32(sb + 0x5C, COMPAT_EXT_ATTR | COMPAT_DIR_INDEX | COMPAT_SPARSE_SUPER2 |
				 (c->journal ? COMPAT_HAS_JOURNAL : 0));
	if (c->journal) {
		const struct ext4__irec *j = &c->rec[JOURNAL_INO];
		put32(sb + 0xE0, JOURNAL_INO);
		sb[0xFD] = 1;                      /* s_jnl_blocks holds a copy of i_block */
		memcpy(sb + 0x10C, j->iblock, 60);
		put32(sb + 0x10C + 60, (uint32_t)(j->size >> 32));
		put32(sb + 0x10C + 64, (uint32_t)j->size);
	}
	put32(sb + 0x60, INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_FLEX_BG);
	put32(sb + 0x64, RO_COMPAT_LARGE_FILE | RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM |
				 RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE);
	memcpy(sb + 0x68, c->w->uuid, 16);
	memcpy(sb + 0x78, o->label, 16);
	for (int i = 0; i < 4; i++)
		put32(sb + 0xEC + 4 * i, c->w->hash_seed[i]);
	sb[0xFC] = DX_HASH_HALF_MD4;
	put32(sb + 0x108, ts);                     /* mkfs time */
	put16(sb + 0x15C, EXTRA_ISIZE);
	put16(sb + 0x15E, EXTRA_ISIZE);
	put32(sb + 0x160, SB_FLAGS_UNSIGNED_HASH);
	sb[0x174] = 4;                             /* 16 groups per flex group */
	return pwrite_all(c->w->fd, sb, sizeof(sb), 1024, e);
}

static int finish(struct ctx *c, struct err *e)
{
	struct ext4_writer *w = c->w;
	int rc;
	if ((rc = fstree_ensure_root_dir(c->t, "lost+found", 0700, e)) < 0)
		return rc;
	if ((rc = ext4__flush(w, e)) < 0)
		return rc;
	c->data_end = w->next_blk;
	if ((rc = number(c, e)) < 0)
		return rc;
	c->rec = xcalloc(c->next, sizeof(*c->rec));
	for (uint32_t i = ROOT_INO; i < c->next && rc == 0; i++)
		if (i == ROOT_INO || i >= FIRST_INO)
			rc = build_rec(c, c->byino[i], &c->rec[i], e);
	if (rc == 0 && w->o.journal_blocks)
		rc = build_journal(c, e);
	if (rc < 0 || (rc = ext4__flush(w, e)) < 0)
		return rc;
	c->tail_end = w->next_blk;
	if ((rc = layout(c, e)) < 0)
		return rc;
	c->free_blocks = xcalloc(c->groups, sizeof(*c->free_blocks));
	uint64_t fb, fi;
	if ((rc = write_inode_tables(c, e)) < 0 || (rc = write_block_bitmaps(c, e)) < 0 ||
	    (rc = write_inode_bitmaps(c, e)) < 0 || (rc = write_gdt(c, &fb, &fi, e)) < 0 ||
	    (rc = write_super(c, fb, fi, e)) < 0)
		return rc;
	if (ftruncate(w->fd, (off_t)(c->blocks * BS)) < 0)
		return err_sys(e, "resize ext4 image");
	return 0;
}

int ext4_writer_finish(struct ext4_writer *w, struct fstree *t, struct err *e)
{
	struct ctx c = { .w = w, .t = t };
	int rc = finish(&c, e);
	w->finished = 1;
	free(c.byino);
	free(c.rec);
	free(c.free_blocks);
	return rc;
}

int ext4_make_empty(const char *path, uint64_t size_bytes, const struct ext4_opts *o,
		    struct err *e)
{
	struct ext4_opts oo = { 0 };
	if (o)
		oo = *o;
	oo.size = size_bytes;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, "create %s", path);
	struct ext4_writer *w = ext4_writer_new(fd, &oo, e);
	if (!w)
		return err_wrap(e, "%s", path);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	t->default_mtime = w->o.timestamp;
	t->root->mtime = w->o.timestamp;
	int rc = ext4_writer_finish(w, t, e);
	fstree_free(t);
	ext4_writer_free(w);
	return rc < 0 ? err_wrap(e, "%s", path) : 0;
}

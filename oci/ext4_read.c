/* Reading ext4 images, untrusted (see oci/ext4_read.h).  Callers: tests
 * (t/unit/oci_ext4.c, t/tools/mkext4test.c), later export/commit/cp. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ext4_int.h"
#include "oci/ext4_read.h"

#define RAW_INODE_MAX 1024
#define EXT_DEPTH_MAX 5

struct ext4_img {
	int fd;
	uint32_t bs;
	uint64_t blocks;
	uint32_t ipg, inodes, groups, isz, desc_size, first_data;
	int is64;
	unsigned char *blk;      /* scratch block for the extent walk */
};

struct raw {
	uint32_t ino;
	unsigned char b[RAW_INODE_MAX];
};

static int corrupt(struct err *e, const char *what, uint64_t n)
{
	return err_set(e, -EBADMSG, "corrupt ext4 image: %s (%llu)", what, (unsigned long long)n);
}

static int read_at(struct ext4_img *img, void *p, size_t n, uint64_t off, struct err *e)
{
	unsigned char *s = p;
	while (n) {
		ssize_t k = pread(img->fd, s, n, (off_t)off);
		if (k < 0)
			return err_sys(e, "read ext4 image");
		if (k == 0)
			return err_set(e, -EIO, "ext4 image truncated at offset %llu", (unsigned long long)off);
		s += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

static int read_block(struct ext4_img *img, uint64_t blk, void *p, struct err *e)
{
	if (blk >= img->blocks || blk == 0)
		return corrupt(e, "block number out of range", blk);
	return read_at(img, p, img->bs, blk * img->bs, e);
}

struct ext4_img *ext4_img_open(int fd, struct err *e)
{
	unsigned char sb[1024];
	if (read_at(&(struct ext4_img){ .fd = fd }, sb, sizeof(sb), 1024, e) < 0)
		return NULL;
	if (get16(sb + 0x38) != 0xEF53) {
		err_set(e, -EINVAL, "not an ext4 image (bad magic)");
		return NULL;
	}
	struct ext4_img img = { .fd = fd };
	uint32_t log = get32(sb + 0x18), incompat = get32(sb + 0x60);
	img.is64 = (incompat & INCOMPAT_64BIT) != 0;
	img.blocks = get32(sb + 0x04) | (img.is64 ? (uint64_t)get32(sb + 0x150) << 32 : 0);
	img.ipg = get32(sb + 0x28);
	img.inodes = get32(sb + 0x00);
	img.isz = get32(sb + 0x4C) ? get16(sb + 0x58) : 128;
	img.desc_size = img.is64 ? get16(sb + 0xFE) : 32;
	img.first_data = get32(sb + 0x14);
	uint32_t bpg = get32(sb + 0x20);
	if (log > 6) {
		corrupt(e, "block size", log);
		return NULL;
	}
	img.bs = 1024u << log;
	if (img.isz < 128 || img.isz > RAW_INODE_MAX || img.isz > img.bs || (img.isz & (img.isz - 1)) ||
	    img.ipg == 0 || img.ipg > img.bs * 8 || bpg == 0 || bpg > img.bs * 8 ||
	    img.desc_size < 32 || img.desc_size > 1024 || (img.desc_size & (img.desc_size - 1)) ||
	    img.blocks == 0 || img.first_data > 1) {
		corrupt(e, "superblock geometry", 0);
		return NULL;
	}
	uint64_t groups = (img.blocks - img.first_data + bpg - 1) / bpg;
	if (groups * img.ipg != img.inodes) {
		corrupt(e, "inode count", img.inodes);
		return NULL;
	}
	if (incompat & ~(INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG |
			 0x0004 /* recover */ | 0x0010 /* meta_bg */ | 0x2000 /* csum_seed */ |
			 0x8000 /* inline_data */ | 0x0400 /* mmp */ | 0x4000 /* largedir */)) {
		err_set(e, -EOPNOTSUPP, "ext4 image uses unsupported features (0x%x)", incompat);
		return NULL;
	}
	if (incompat & 0x0010) {
		err_set(e, -EOPNOTSUPP, "ext4 meta_bg layout is not supported");
		return NULL;
	}
	img.groups = (uint32_t)groups;
	struct ext4_img *r = xmalloc(sizeof(*r));
	*r = img;
	r->blk = xmalloc(img.bs);
	return r;
}

void ext4_img_close(struct ext4_img *img)
{
	if (img) {
		free(img->blk);
		free(img);
	}
}

static int read_inode(struct ext4_img *img, uint32_t ino, struct raw *r, struct err *e)
{
	unsigned char d[64];
	if (ino == 0 || ino > img->inodes)
		return corrupt(e, "inode number out of range", ino);
	uint32_t g = (ino - 1) / img->ipg, idx = (ino - 1) % img->ipg;
	uint64_t doff = (uint64_t)(img->first_data + 1) * img->bs + (uint64_t)g * img->desc_size;
	int rc = read_at(img, d, img->desc_size < 64 ? img->desc_size : 64, doff, e);
	if (rc < 0)
		return rc;
	uint64_t table = get32(d + 8) | (img->desc_size >= 64 ? (uint64_t)get32(d + 0x28) << 32 : 0);
	uint64_t off = table * img->bs + (uint64_t)idx * img->isz;
	if (table == 0 || table >= img->blocks || off / img->bs >= img->blocks)
		return corrupt(e, "inode table location", table);
	memset(r->b, 0, sizeof(r->b));
	r->ino = ino;
	return read_at(img, r->b, img->isz, off, e);
}

static uint64_t raw_size(const struct raw *r)
{
	return get32(r->b + 4) | (uint64_t)get32(r->b + 0x6C) << 32;
}

static void fill_stat(const struct ext4_img *img, const struct raw *r, struct ext4_stat *st)
{
	const unsigned char *b = r->b;
	memset(st, 0, sizeof(*st));
	st->ino = r->ino;
	st->mode = get16(b);
	st->uid = get16(b + 2) | get16(b + 0x78) << 16;
	st->gid = get16(b + 0x18) | get16(b + 0x7A) << 16;
	st->size = raw_size(r);
	st->nlink = get16(b + 0x1A);
	st->mtime = (int32_t)get32(b + 0x10);
	if (img->isz > 128 && get16(b + 0x80) >= 12 && 128 + get16(b + 0x80) <= img->isz) {
		uint32_t x = get32(b + 0x88);
		st->mtime += (int64_t)(x & 3) << 32;
		st->mtime_nsec = x >> 2;
	}
	uint32_t t = st->mode & X_IFMT;
	if (t == X_IFCHR || t == X_IFBLK) {
		uint32_t old = get32(b + 0x28), nw = get32(b + 0x2C);
		if (old) {
			st->devmajor = (old >> 8) & 0xff;
			st->devminor = old & 0xff;
		} else {
			st->devmajor = (nw & 0xfff00) >> 8;
			st->devminor = (nw & 0xff) | ((nw >> 12) & 0xfff00);
		}
	}
}

int ext4_img_stat(struct ext4_img *img, uint32_t ino, struct ext4_stat *st, struct err *e)
{
	struct raw r;
	int rc = read_inode(img, ino, &r, e);
	if (rc == 0)
		fill_stat(img, &r, st);
	return rc;
}

static int check_header(const unsigned char *h, size_t room, uint32_t want_depth, int top,
			struct err *e)
{
	uint32_t n = get16(h + 2), max = get16(h + 4), depth = get16(h + 6);
	if (get16(h) != EXT_MAGIC || max > (room - 12) / 12 || n > max || depth > EXT_DEPTH_MAX ||
	    (!top && depth != want_depth))
		return corrupt(e, "extent header", get16(h));
	return 0;
}

/* Map logical block lblk: *pblk (0 = hole or unwritten) valid for *run blocks. */
static int map_block(struct ext4_img *img, const struct raw *r, uint32_t lblk, uint64_t *pblk,
		     uint64_t *run, struct err *e)
{
	uint32_t flags = get32(r->b + 0x20);
	if (flags & IFL_INLINE_DATA)
		return err_set(e, -EOPNOTSUPP, "inode %u: inline data is not supported", r->ino);
	if (!(flags & IFL_EXTENTS))
		return err_set(e, -EOPNOTSUPP, "inode %u: block-mapped files are not supported", r->ino);
	const unsigned char *node = r->b + 0x28;
	size_t room = 60;
	int rc = check_header(node, room, 0, 1, e);
	if (rc < 0)
		return rc;
	uint32_t depth = get16(node + 6);
	uint64_t limit = UINT64_MAX;   /* blocks until the next sibling's range */
	for (;;) {
		uint32_t n = get16(node + 2);
		const unsigned char *ent = node + 12;
		size_t i = 0;
		while (i < n && get32(ent + 12 * i) <= lblk)
			i++;
		if (i < n && get32(ent + 12 * i) - (uint64_t)lblk < limit)
			limit = get32(ent + 12 * i) - (uint64_t)lblk;
		if (i == 0) {  /* before the first entry: a hole */
			*pblk = 0;
			*run = limit;
			return 0;
		}
		const unsigned char *x = ent + 12 * (i - 1);
		if (depth == 0) {
			uint32_t start = get32(x), len = get16(x + 4);
			int unwritten = len > MAX_EXTENT_LEN;
			if (unwritten)
				len -= MAX_EXTENT_LEN;
			uint64_t p = get32(x + 8) | (uint64_t)get16(x + 6) << 32;
			if ((uint64_t)lblk >= (uint64_t)start + len) {
				*pblk = 0;
				*run = limit;
				return 0;
			}
			if (p == 0 || p + len > img->blocks)
				return corrupt(e, "extent beyond the image", p);
			*pblk = unwritten ? 0 : p + (lblk - start);
			*run = (uint64_t)start + len - lblk < limit ? (uint64_t)start + len - lblk : limit;
			return 0;
		}
		uint64_t child = get32(x + 4) | (uint64_t)get16(x + 8) << 32;
		if ((rc = read_block(img, child, img->blk, e)) < 0)
			return rc;
		node = img->blk;
		room = img->bs;
		if ((rc = check_header(node, room, depth - 1, 0, e)) < 0)
			return rc;
		depth--;
	}
}

ssize_t ext4_img_pread(struct ext4_img *img, uint32_t ino, void *p, size_t n, uint64_t off,
		       struct err *e)
{
	struct raw r;
	int rc = read_inode(img, ino, &r, e);
	if (rc < 0)
		return rc;
	uint64_t size = raw_size(&r);
	if (off >= size)
		return 0;
	if (n > size - off)
		n = (size_t)(size - off);
	unsigned char *o = p;
	size_t done = 0;
	while (done < n) {
		uint64_t pos = off + done, pblk, run;
		if (pos / img->bs > UINT32_MAX)
			return corrupt(e, "file size", size);
		if ((rc = map_block(img, &r, (uint32_t)(pos / img->bs), &pblk, &run, e)) < 0)
			return rc;
		uint64_t in_blk = pos % img->bs, avail = run * img->bs - in_blk;
		size_t k = n - done < avail ? n - done : (size_t)avail;
		if (pblk)
			rc = read_at(img, o + done, k, pblk * img->bs + in_blk, e);
		else
			memset(o + done, 0, k);
		if (rc < 0)
			return rc;
		done += k;
	}
	return (ssize_t)n;
}

int ext4_img_readlink(struct ext4_img *img, uint32_t ino, struct buf *out, struct err *e)
{
	struct raw r;
	int rc = read_inode(img, ino, &r, e);
	if (rc < 0)
		return rc;
	if ((get16(r.b) & X_IFMT) != X_IFLNK)
		return err_set(e, -EINVAL, "inode %u is not a symlink", ino);
	uint64_t size = raw_size(&r);
	if (size == 0 || size > FSTREE_SYMLINK_MAX)
		return corrupt(e, "symlink length", size);
	if (size < 60 && !(get32(r.b + 0x20) & (IFL_EXTENTS | IFL_INLINE_DATA)))
		return buf_append(out, r.b + 0x28, (size_t)size) < 0 ? -E2BIG : 0;
	char tmp[FSTREE_SYMLINK_MAX];
	ssize_t k = ext4_img_pread(img, ino, tmp, (size_t)size, 0, e);
	if (k < 0)
		return (int)k;
	return buf_append(out, tmp, (size_t)k) < 0 ? -E2BIG : 0;
}

int ext4_img_readdir(struct ext4_img *img, uint32_t dir, ext4_dir_cb cb, void *ctx,
		     struct err *e)
{
	struct raw r;
	int rc = read_inode(img, dir, &r, e);
	if (rc < 0)
		return rc;
	if ((get16(r.b) & X_IFMT) != X_IFDIR)
		return err_set(e, -ENOTDIR, "inode %u is not a directory", dir);
	uint64_t nblk = (raw_size(&r) + img->bs - 1) / img->bs;
	if (nblk > img->blocks)
		return corrupt(e, "directory size", raw_size(&r));
	unsigned char *b = xmalloc(img->bs);
	for (uint64_t l = 0; l < nblk && rc == 0;) {
		uint64_t pblk, run;
		if ((rc = map_block(img, &r, (uint32_t)l, &pblk, &run, e)) < 0)
			break;
		if (!pblk) {
			l += run;
			continue;
		}
		if ((rc = read_block(img, pblk, b, e)) < 0)
			break;
		for (size_t off = 0; off + 8 <= img->bs && rc == 0;) {
			uint32_t ino = get32(b + off), rec = get16(b + off + 4), nl = b[off + 6];
			if (rec == 0 && img->bs == 65536)
				rec = 65536;
			if (rec < 8 || rec % 4 || off + rec > img->bs || nl + 8u > rec) {
				rc = corrupt(e, "directory entry", dir);
				break;
			}
			const char *name = (const char *)b + off + 8;
			int dot = (nl == 1 && name[0] == '.') || (nl == 2 && name[0] == '.' && name[1] == '.');
			if (ino && nl && !dot) {
				if (ino > img->inodes || memchr(name, '/', nl) || memchr(name, 0, nl))
					rc = corrupt(e, "directory entry", ino);
				else
					rc = cb(ctx, name, nl, ino, e);
			}
			off += rec;
		}
		l++;
	}
	free(b);
	return rc;
}

struct find_ctx {
	const char *name;
	size_t len;
	uint32_t ino;
};

static int find_cb(void *ctx, const char *name, size_t len, uint32_t ino, struct err *e)
{
	(void)e;
	struct find_ctx *f = ctx;
	if (len == f->len && memcmp(name, f->name, len) == 0) {
		f->ino = ino;
		return 1;
	}
	return 0;
}

int ext4_img_lookup(struct ext4_img *img, const char *path, uint32_t *ino, struct err *e)
{
	uint32_t cur = ROOT_INO;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		if (p == c)
			break;
		struct find_ctx f = { c, (size_t)(p - c), 0 };
		int rc = ext4_img_readdir(img, cur, find_cb, &f, e);
		if (rc < 0)
			return rc;
		if (!f.ino)
			return err_set(e, -ENOENT, "%.200s: not found in the image", path);
		cur = f.ino;
	}
	*ino = cur;
	return 0;
}

/* ---- extended attributes ---- */

static const char *xa_prefix(unsigned idx)
{
	switch (idx) {
	case 1: return "user.";
	case 2: return "system.posix_acl_access";
	case 3: return "system.posix_acl_default";
	case 4: return "trusted.";
	case 6: return "security.";
	case 7: return "system.";
	case 8: return "system.richacl";
	}
	return NULL;
}

/* ext4's compact ACL (version 1) back to the VFS form (version 2). */
static int acl_to_vfs(const unsigned char *v, size_t n, struct buf *out)
{
	unsigned char w[8];
	if (n < 4 || get32(v) != 1)
		return -1;
	put32(w, 2);
	buf_append(out, w, 4);
	for (size_t off = 4; off < n;) {
		if (off + 4 > n)
			return -1;
		uint32_t tag = get16(v + off), id = 0xffffffffu;
		put16(w, tag);
		put16(w + 2, get16(v + off + 2));
		if (tag == 0x02 || tag == 0x08) {
			if (off + 8 > n)
				return -1;
			id = get32(v + off + 4);
			off += 8;
		} else {
			off += 4;
		}
		put32(w + 4, id);
		buf_append(out, w, 8);
	}
	return 0;
}

/* Entries in [ent, end); values at vbase + offset, inside [vbase, vend). */
static int xa_parse(struct ext4_img *img, uint32_t ino, const unsigned char *ent,
		    const unsigned char *end, const unsigned char *vbase, const unsigned char *vend,
		    ext4_xattr_cb cb, void *ctx, struct err *e)
{
	(void)img;
	int rc = 0;
	while (rc == 0 && ent + 4 <= end && get32(ent) != 0) {
		if (ent + 16 > end)
			return corrupt(e, "xattr entry", ino);
		size_t nl = ent[0], esz = (16 + nl + 3) & ~(size_t)3;
		uint32_t voff = get16(ent + 2), vinum = get32(ent + 4), vsz = get32(ent + 8);
		if (ent + esz > end || vinum || (vsz && (voff > (size_t)(vend - vbase) ||
							  vsz > (size_t)(vend - vbase) - voff)))
			return corrupt(e, "xattr entry", ino);
		const char *pfx = xa_prefix(ent[1]);
		if (pfx) {
			_cleanup_buf_ struct buf name = BUF_INIT, val = BUF_INIT;
			buf_puts(&name, pfx);
			buf_append(&name, ent + 16, nl);
			const unsigned char *v = vbase + voff;
			size_t vn = vsz;
			if (ent[1] == 2 || ent[1] == 3) {
				if (acl_to_vfs(v, vn, &val) < 0)
					return corrupt(e, "POSIX ACL", ino);
				v = (const unsigned char *)val.data;
				vn = val.len;
			}
			rc = cb(ctx, buf_str(&name), v, vn, e);
		}
		ent += esz;
	}
	return rc;
}

int ext4_img_xattrs(struct ext4_img *img, uint32_t ino, ext4_xattr_cb cb, void *ctx,
		    struct err *e)
{
	struct raw r;
	int rc = read_inode(img, ino, &r, e);
	if (rc < 0)
		return rc;
	if (img->isz > 128) {
		uint32_t extra = get16(r.b + 0x80);
		if (extra % 4 || 128 + extra + 4 > img->isz)
			extra = img->isz;  /* nothing usable in the inode */
		else if (get32(r.b + 128 + extra) == XATTR_MAGIC) {
			const unsigned char *s = r.b + 128 + extra + 4, *end = r.b + img->isz;
			if ((rc = xa_parse(img, ino, s, end, s, end, cb, ctx, e)) != 0)
				return rc;
		}
	}
	uint64_t acl = get32(r.b + 0x68) | (uint64_t)get16(r.b + 0x76) << 32;
	if (!acl)
		return 0;
	unsigned char *b = xmalloc(img->bs);
	rc = read_block(img, acl, b, e);
	if (rc == 0 && (get32(b) != XATTR_MAGIC || get32(b + 8) != 1))
		rc = corrupt(e, "xattr block", acl);
	if (rc == 0)
		rc = xa_parse(img, ino, b + 32, b + img->bs, b, b + img->bs, cb, ctx, e);
	free(b);
	return rc;
}

/* ---- walking the tree ---- */

struct kid {
	char *name;
	uint32_t ino;
};

struct kids {
	struct kid *v;
	size_t n, cap;
};

static int kid_cb(void *ctx, const char *name, size_t len, uint32_t ino, struct err *e)
{
	(void)e;
	struct kids *k = ctx;
	if (k->n == k->cap)
		k->v = xreallocarray(k->v, k->cap = k->cap ? k->cap * 2 : 16, sizeof(*k->v));
	k->v[k->n].name = xstrndup(name, len);
	k->v[k->n++].ino = ino;
	return 0;
}

static int kid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kid *)a)->name, ((const struct kid *)b)->name);
}

/* Directory inodes already entered: a second visit is a cycle or a
 * hard-linked directory, both refused. */
struct iset {
	uint32_t *v;
	size_t cap, n;
};

static int iset_add(struct iset *s, uint32_t ino)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct iset ns = { xcalloc(s->cap ? s->cap * 2 : 64, sizeof(uint32_t)), s->cap ? s->cap * 2 : 64, 0 };
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				iset_add(&ns, s->v[i]);
		free(s->v);
		*s = ns;
	}
	size_t i = (ino * 2654435761u) & (s->cap - 1);
	while (s->v[i]) {
		if (s->v[i] == ino)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->v[i] = ino;
	s->n++;
	return 1;
}

struct walk {
	struct ext4_img *img;
	ext4_walk_cb cb;
	void *ctx;
	struct iset seen;
	struct buf path;
};

static int walk_dir(struct walk *w, uint32_t dir, unsigned depth, struct err *e)
{
	struct kids k = { 0 };
	if (depth > EXT4_WALK_DEPTH_MAX)
		return err_set(e, -ELOOP, "ext4 image: directories nested deeper than %d",
			       EXT4_WALK_DEPTH_MAX);
	if (!iset_add(&w->seen, dir))
		return corrupt(e, "directory reachable twice", dir);
	int rc = ext4_img_readdir(w->img, dir, kid_cb, &k, e);
	if (rc == 0 && k.n)
		qsort(k.v, k.n, sizeof(*k.v), kid_cmp);
	size_t base = w->path.len;
	for (size_t i = 0; i < k.n && rc == 0; i++) {
		struct ext4_stat st;
		buf_truncate(&w->path, base);
		buf_putc(&w->path, '/');
		buf_puts(&w->path, k.v[i].name);
		if ((rc = ext4_img_stat(w->img, k.v[i].ino, &st, e)) < 0)
			break;
		if ((rc = w->cb(w->ctx, buf_str(&w->path), &st, e)) != 0)
			break;
		if ((st.mode & X_IFMT) == X_IFDIR)
			rc = walk_dir(w, k.v[i].ino, depth + 1, e);
	}
	buf_truncate(&w->path, base);
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i].name);
	free(k.v);
	return rc;
}

int ext4_img_walk(struct ext4_img *img, ext4_walk_cb cb, void *ctx, struct err *e)
{
	struct walk w = { .img = img, .cb = cb, .ctx = ctx };
	struct ext4_stat st;
	int rc = ext4_img_stat(img, ROOT_INO, &st, e);
	if (rc == 0 && (st.mode & X_IFMT) != X_IFDIR)
		rc = corrupt(e, "root is not a directory", st.mode);
	if (rc == 0)
		rc = cb(ctx, "/", &st, e);
	if (rc == 0)
		rc = walk_dir(&w, ROOT_INO, 0, e);
	free(w.seen.v);
	buf_free(&w.path);
	return rc;
}

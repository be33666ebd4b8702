/* Layer application into the in-memory image tree (see oci/fstree.h).
 * Called by the unpacker once per tar entry; read by the ext4 writer.
 *
 * Directories are open-addressing hash tables of dentries (linear probing,
 * deletion by backward shift), so a directory of 100 000 entries costs
 * O(1) per lookup.  Removal of subtrees is iterative: a hostile layer can
 * build trees far deeper than the C stack (each entry may add ~2000 levels
 * through a symlink). */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/fstree.h"
#include "oci/tar.h"

struct fstree_dir {
	struct fstree_dentry **slot;  /* cap entries, NULL = empty */
	size_t cap, count;            /* cap is a power of two */
	struct fstree_inode *parent;
};

/* A pending-work stack of directory inodes whose children must be freed. */
struct istack {
	struct fstree_inode **v;
	size_t n, cap;
};

static void istack_push(struct istack *s, struct fstree_inode *ino)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = ino;
}

static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Index of the dentry called name, or of the empty slot where it would go. */
static size_t dir_probe(const struct fstree_dir *d, const char *name, size_t len)
{
	size_t mask = d->cap - 1, i = name_hash(name, len) & mask;
	for (;; i = (i + 1) & mask) {
		const struct fstree_dentry *de = d->slot[i];
		if (!de || (de->namelen == len && memcmp(de->name, name, len) == 0))
			return i;
	}
}

static struct fstree_dentry *dir_find(const struct fstree_dir *d, const char *name,
				      size_t len)
{
	return d->slot[dir_probe(d, name, len)];
}

static void dir_grow(struct fstree_dir *d)
{
	struct fstree_dentry **old = d->slot;
	size_t oldcap = d->cap;
	d->cap *= 2;
	d->slot = xcalloc(d->cap, sizeof(*d->slot));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			d->slot[dir_probe(d, old[i]->name, old[i]->namelen)] = old[i];
	free(old);
}

static void dir_insert(struct fstree_dir *d, struct fstree_dentry *de)
{
	if ((d->count + 1) * 4 > d->cap * 3)
		dir_grow(d);
	d->slot[dir_probe(d, de->name, de->namelen)] = de;
	d->count++;
}

/* Remove slot i, shifting later members of its probe run back. */
static void dir_remove_slot(struct fstree_dir *d, size_t i)
{
	size_t mask = d->cap - 1, j = i;
	d->slot[i] = NULL;
	d->count--;
	for (;;) {
		j = (j + 1) & mask;
		struct fstree_dentry *de = d->slot[j];
		if (!de)
			return;
		size_t home = name_hash(de->name, de->namelen) & mask;
		/* de may move to i when its home is not in the cyclic range (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			d->slot[i] = de;
			d->slot[j] = NULL;
			i = j;
		}
	}
}

static struct fstree_inode *inode_new(struct fstree *t, enum fstree_type type,
				      struct fstree_inode *parent)
{
	struct fstree_inode *ino = xcalloc(1, sizeof(*ino));
	ino->type = type;
	ino->mtime = t->default_mtime;
	ino->mode = type == FST_DIR ? 0755 : 0644;
	if (type == FST_DIR) {
		ino->dir = xcalloc(1, sizeof(*ino->dir));
		ino->dir->cap = 8;
		ino->dir->slot = xcalloc(ino->dir->cap, sizeof(*ino->dir->slot));
		ino->dir->parent = parent ? parent : ino;
	}
	t->ninodes++;
	return ino;
}

static void xattrs_free(struct fstree_inode *ino)
{
	for (size_t i = 0; i < ino->nxattrs; i++) {
		free(ino->xattrs[i].name);
		free(ino->xattrs[i].value);
	}
	free(ino->xattrs);
	ino->xattrs = NULL;
	ino->nxattrs = 0;
}

/* Free one inode's own storage; a directory's children are pushed to s. */
static void inode_destroy(struct fstree *t, struct fstree_inode *ino, struct istack *s)
{
	if (ino->type == FST_DIR) {
		istack_push(s, ino);
		return;
	}
	if (ino->data && t->sink)
		t->sink->release(t->sink, ino->data);
	xattrs_free(ino);
	free(ino->target);
	free(ino);
	t->ninodes--;
}

static void unref(struct fstree *t, struct fstree_inode *ino, struct istack *s)
{
	if (--ino->nlink == 0)
		inode_destroy(t, ino, s);
}

static void drain(struct fstree *t, struct istack *s)
{
	while (s->n) {
		struct fstree_inode *dir = s->v[--s->n];
		for (size_t i = 0; i < dir->dir->cap; i++) {
			struct fstree_dentry *de = dir->dir->slot[i];
			if (!de)
				continue;
			unref(t, de->inode, s);
			free(de);
			t->nentries--;
		}
		free(dir->dir->slot);
		free(dir->dir);
		xattrs_free(dir);
		free(dir);
		t->ninodes--;
	}
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

/* Unlink the dentry in slot i of dir (and everything only it kept alive). */
static void remove_slot(struct fstree *t, struct fstree_dir *d, size_t i)
{
	struct istack s = { 0 };
	struct fstree_dentry *de = d->slot[i];
	dir_remove_slot(d, i);
	unref(t, de->inode, &s);
	free(de);
	t->nentries--;
	drain(t, &s);
}

static void link_new(struct fstree *t, struct fstree_dir *d, const char *name, size_t len,
		     struct fstree_inode *ino)
{
	struct fstree_dentry *de = xmalloc(sizeof(*de) + len + 1);
	de->inode = ino;
	de->layer = t->layer;
	de->namelen = (uint16_t)len;
	memcpy(de->name, name, len);
	de->name[len] = 0;
	ino->nlink++;
	dir_insert(d, de);
	t->nentries++;
}

struct fstree *fstree_new(struct fstree_sink *sink)
{
	struct fstree *t = xcalloc(1, sizeof(*t));
	t->sink = sink;
	t->root = inode_new(t, FST_DIR, NULL);
	t->root->nlink = 1;
	return t;
}

void fstree_free(struct fstree *t)
{
	if (!t)
		return;
	struct istack s = { 0 };
	istack_push(&s, t->root);
	drain(t, &s);
	free(t);
}

void fstree_begin_layer(struct fstree *t)
{
	t->layer++;
}

/* memrchr is not in macOS's libc. */
static const char *last_slash(const char *s, size_t n)
{
	while (n--)
		if (s[n] == '/')
			return s + n;
	return NULL;
}

/* Lexically clean an archive path into out ("a/b/c", "" for the root):
 * leading "/" and "." components go, ".." removes the previous component
 * and is an error at the top. */
static int clean_path(const char *path, struct buf *out, struct err *e)
{
	const char *p = path;
	if (!*p)
		return err_set(e, -EINVAL, "empty path in layer");
	while (*p) {
		while (*p == '/')
			p++;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (out->len == 0)
				return err_set(e, -EINVAL, "path %.200s leaves the image root", path);
			const char *s = last_slash(out->data, out->len);
			buf_truncate(out, s ? (size_t)(s - out->data) : 0);
			continue;
		}
		if (n > FSTREE_NAME_MAX)
			return err_set(e, -ENAMETOOLONG, "path %.200s: a component is longer than %d bytes",
				       path, FSTREE_NAME_MAX);
		if (out->len)
			buf_putc(out, '/');
		buf_append(out, c, n);
	}
	return 0;
}

static const char *last_component(const struct buf *p, size_t *parent_len)
{
	const char *s = last_slash(buf_str(p), p->len);
	*parent_len = s ? (size_t)(s - p->data) : 0;
	return s ? s + 1 : buf_str(p);
}

/* Walk the directories named by path[0..len) from the root, following
 * symlinks inside the root.  create: make missing directories (and mark
 * the dentries walked as belonging to the current layer).  Returns 0 with
 * *out set, 1 when a component is missing (create == 0), or an error. */
static int walk_dirs(struct fstree *t, const char *path, size_t len, int create,
		     struct fstree_inode **out, struct err *e)
{
	_cleanup_buf_ struct buf rest = BUF_INIT;
	struct fstree_inode *cur = t->root;
	unsigned follows = 0;
	size_t off = 0;

	buf_init(&rest, 64 * 1024 + FSTREE_FOLLOW_MAX * (FSTREE_SYMLINK_MAX + 1));
	if (buf_append(&rest, path, len) < 0)
		return err_set(e, -ENAMETOOLONG, "path too long");
	while (off < rest.len) {
		const char *c = rest.data + off;
		const char *slash = memchr(c, '/', rest.len - off);
		size_t n = slash ? (size_t)(slash - c) : rest.len - off;
		off += n + (slash ? 1 : 0);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {  /* only from symlinks: clamped */
			cur = cur->dir->parent;
			continue;
		}
		if (n > FSTREE_NAME_MAX)
			return err_set(e, -ENAMETOOLONG, "symlink leads to a component longer than %d bytes",
				       FSTREE_NAME_MAX);
		struct fstree_dentry *de = dir_find(cur->dir, c, n);
		if (!de) {
			if (!create)
				return 1;
			struct fstree_inode *d = inode_new(t, FST_DIR, cur);
			link_new(t, cur->dir, c, n, d);
			cur = d;
			continue;
		}
		if (de->inode->type == FST_DIR) {
			if (create)
				de->layer = t->layer;
			cur = de->inode;
			continue;
		}
		if (de->inode->type != FST_SYMLINK)
			return err_set(e, -ENOTDIR, "%.*s: %.*s is not a directory", (int)len, path,
				       (int)n, c);
		if (++follows > FSTREE_FOLLOW_MAX)
			return err_set(e, -ELOOP, "%.*s: too many levels of symbolic links", (int)len,
				       path);
		/* rest = target + "/" + what is left after this component */
		_cleanup_buf_ struct buf nr = BUF_INIT;
		const char *tg = de->inode->target;
		buf_puts(&nr, tg);
		buf_putc(&nr, '/');
		buf_append(&nr, rest.data + off, rest.len - off);
		if (tg[0] == '/')
			cur = t->root;
		buf_reset(&rest);
		off = 0;
		if (buf_append(&rest, nr.data, nr.len) < 0)
			return err_set(e, -ENAMETOOLONG, "%.*s: symlinks expand past the length limit",
				       (int)len, path);
	}
	*out = cur;
	return 0;
}

/* Resolve cleaned path p to its parent directory and final name.
 * Return as walk_dirs. */
static int resolve_parent(struct fstree *t, const struct buf *p, int create,
			  struct fstree_inode **parent, const char **name, struct err *e)
{
	size_t plen;
	*name = last_component(p, &plen);
	return walk_dirs(t, buf_str(p), plen, create, parent, e);
}

struct fstree_inode *fstree_lookup(struct fstree *t, const char *path, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct fstree_inode *dir;
	const char *name;
	if (clean_path(path, &p, e) < 0)
		return NULL;
	if (p.len == 0)
		return t->root;
	int rc = resolve_parent(t, &p, 0, &dir, &name, e);
	if (rc != 0) {
		if (rc > 0)
			err_set(e, -ENOENT, "%.200s: no such entry in the image", path);
		return NULL;
	}
	struct fstree_dentry *de = dir_find(dir->dir, name, strlen(name));
	if (!de)
		err_set(e, -ENOENT, "%.200s: no such entry in the image", path);
	return de ? de->inode : NULL;
}

static int is_known_xattr(const char *n)
{
	static const char *const prefixes[] = { "user.", "trusted.", "security." };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(n, prefixes[i], l) == 0 && n[l])
			return 1;
	}
	return strcmp(n, "system.posix_acl_access") == 0 ||
	       strcmp(n, "system.posix_acl_default") == 0;
}

static int set_meta(struct fstree_inode *ino, const struct tar_entry *te, struct err *e)
{
	for (size_t i = 0; i < te->nxattrs; i++) {
		const char *n = te->xattrs[i].name;
		if (strlen(n) > FSTREE_NAME_MAX || !is_known_xattr(n))
			return err_set(e, -EOPNOTSUPP, "%.200s: unsupported xattr %.100s", te->path, n);
		if (te->xattrs[i].len > 65536)
			return err_set(e, -E2BIG, "%.200s: xattr %.100s is too large", te->path, n);
		for (size_t j = 0; j < i; j++)
			if (strcmp(n, te->xattrs[j].name) == 0)
				return err_set(e, -EINVAL, "%.200s: xattr %.100s given twice", te->path, n);
	}
	ino->mode = te->mode & 07777;
	ino->uid = te->uid;
	ino->gid = te->gid;
	ino->mtime = te->mtime;
	ino->mtime_nsec = te->mtime_nsec < 1000000000u ? te->mtime_nsec : 0;
	xattrs_free(ino);
	if (te->nxattrs) {
		ino->xattrs = xcalloc(te->nxattrs, sizeof(*ino->xattrs));
		for (size_t i = 0; i < te->nxattrs; i++) {
			ino->xattrs[i].name = xstrdup(te->xattrs[i].name);
			ino->xattrs[i].value = xmalloc(te->xattrs[i].len + 1);
			if (te->xattrs[i].len)
				memcpy(ino->xattrs[i].value, te->xattrs[i].value, te->xattrs[i].len);
			ino->xattrs[i].len = te->xattrs[i].len;
		}
		ino->nxattrs = te->nxattrs;
	}
	return 0;
}

/* Opaque marker in dir: entries of earlier layers go; directories of this
 * layer keep their own entries but lose earlier layers' ones below them. */
static void make_opaque(struct fstree *t, struct fstree_inode *dir)
{
	struct istack todo = { 0 };
	istack_push(&todo, dir);
	while (todo.n) {
		struct fstree_dir *d = todo.v[--todo.n]->dir;
		for (size_t i = 0; i < d->cap;) {
			struct fstree_dentry *de = d->slot[i];
			if (de && de->layer < t->layer) {
				remove_slot(t, d, i);  /* backward shift may refill slot i */
				continue;
			}
			if (de && de->inode->type == FST_DIR)
				istack_push(&todo, de->inode);
			i++;
		}
	}
	free(todo.v);
}

static int apply_whiteout(struct fstree *t, const struct buf *p, const char *name,
			  struct err *e)
{
	struct fstree_inode *dir;
	size_t plen;
	last_component(p, &plen);
	if (strcmp(name, ".wh..wh..opq") == 0) {
		int rc = walk_dirs(t, buf_str(p), plen, 1, &dir, e);
		if (rc < 0)
			return rc;
		make_opaque(t, dir);
		return 0;
	}
	if (strncmp(name, ".wh..wh.", 8) == 0)
		return 0;  /* aufs bookkeeping (.wh..wh.plnk etc.): never content */
	const char *victim = name + 4;
	if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
		return err_set(e, -EINVAL, "%.200s: invalid whiteout", buf_str(p));
	int rc = walk_dirs(t, buf_str(p), plen, 0, &dir, e);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	size_t i = dir_probe(dir->dir, victim, strlen(victim));
	struct fstree_dentry *de = dir->dir->slot[i];
	if (de && de->layer < t->layer)
		remove_slot(t, dir->dir, i);
	return 0;
}

static int resolve_hardlink(struct fstree *t, const struct tar_entry *te,
			    struct fstree_inode **out, struct err *e)
{
	_cleanup_buf_ struct buf lp = BUF_INIT;
	struct fstree_inode *dir;
	const char *name;
	int rc = clean_path(te->linkname, &lp, e);
	if (rc < 0)
		return err_wrap(e, "hard link %.200s", te->path);
	if (lp.len == 0)
		return err_set(e, -EPERM, "%.200s: hard link to the root directory", te->path);
	rc = resolve_parent(t, &lp, 0, &dir, &name, e);
	if (rc < 0)
		return err_wrap(e, "hard link %.200s", te->path);
	struct fstree_dentry *de = rc == 0 ? dir_find(dir->dir, name, strlen(name)) : NULL;
	if (!de)
		return err_set(e, -ENOENT, "%.200s: hard link to missing %.200s", te->path,
			       te->linkname);
	if (de->inode->type == FST_DIR)
		return err_set(e, -EPERM, "%.200s: hard link to directory %.200s", te->path,
			       te->linkname);
	if (de->inode->nlink >= FSTREE_LINK_MAX)
		return err_set(e, -EMLINK, "%.200s: more than %d links to %.200s", te->path,
			       FSTREE_LINK_MAX, te->linkname);
	*out = de->inode;
	return 0;
}

static int new_inode_for(struct fstree *t, const struct tar_entry *te, struct reader *data,
			 struct fstree_inode *parent, struct fstree_inode **out, struct err *e)
{
	static const enum fstree_type map[] = {
		[TAR_REG] = FST_REG, [TAR_SYMLINK] = FST_SYMLINK, [TAR_CHR] = FST_CHR,
		[TAR_BLK] = FST_BLK, [TAR_DIR] = FST_DIR, [TAR_FIFO] = FST_FIFO,
	};
	if (te->type == TAR_SYMLINK) {
		size_t n = strlen(te->linkname);
		if (n == 0 || n > FSTREE_SYMLINK_MAX)
			return err_set(e, -EINVAL, "%.200s: symlink target of %zu bytes", te->path, n);
	}
	struct fstree_inode *ino = inode_new(t, map[te->type], parent);
	int rc = set_meta(ino, te, e);
	if (rc == 0 && te->type == TAR_REG) {
		if (te->size && !data)
			rc = err_set(e, -EINVAL, "%.200s: no data", te->path);
		else
			rc = t->sink->write(t->sink, data, te->size, &ino->data, e);
		if (rc < 0)
			err_wrap(e, "%.200s", te->path);
		ino->size = te->size;
	}
	if (rc < 0) {
		struct istack s = { 0 };
		inode_destroy(t, ino, &s);
		drain(t, &s);
		return rc;
	}
	if (te->type == TAR_SYMLINK)
		ino->target = xstrdup(te->linkname);
	ino->devmajor = te->devmajor;
	ino->devminor = te->devminor;
	*out = ino;
	return 0;
}

int fstree_apply(struct fstree *t, const struct tar_entry *te, struct reader *data,
		 struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct fstree_inode *dir, *ino = NULL;
	const char *name;
	int rc;

	if ((unsigned)te->type > TAR_FIFO)
		return err_set(e, -EINVAL, "%.200s: unknown entry type", te->path);
	if ((rc = clean_path(te->path, &p, e)) < 0)
		return rc;
	if (p.len == 0) {
		if (te->type != TAR_DIR)
			return err_set(e, -EINVAL, "%.200s: the root must be a directory", te->path);
		return set_meta(t->root, te, e);
	}
	name = last_component(&p, &(size_t){ 0 });
	if (strncmp(name, ".wh.", 4) == 0)
		return apply_whiteout(t, &p, name, e);

	if (te->type == TAR_HARDLINK) {
		/* Resolve before touching the path: "a" may be a link to "a". */
		if ((rc = resolve_hardlink(t, te, &ino, e)) < 0)
			return rc;
		ino->nlink++;  /* pinned: removing the old entry must not free it */
	}
	rc = resolve_parent(t, &p, 1, &dir, &name, e);
	if (rc < 0) {
		if (ino) {
			struct istack s = { 0 };
			unref(t, ino, &s);
			drain(t, &s);
		}
		return rc;
	}
	size_t len = strlen(name);
	size_t slot = dir_probe(dir->dir, name, len);
	struct fstree_dentry *old = dir->dir->slot[slot];

	if (te->type == TAR_HARDLINK) {
		if (old && old->inode == ino) {
			ino->nlink--;
			old->layer = t->layer;
			return 0;
		}
		if (old)
			remove_slot(t, dir->dir, slot);
		link_new(t, dir->dir, name, len, ino);
		ino->nlink--;  /* drop the pin */
		return 0;
	}
	if (te->type == TAR_DIR && old && old->inode->type == FST_DIR) {
		old->layer = t->layer;
		return set_meta(old->inode, te, e);
	}
	if ((rc = new_inode_for(t, te, data, dir, &ino, e)) < 0)
		return rc;
	if (old)
		remove_slot(t, dir->dir, dir_probe(dir->dir, name, len));
	link_new(t, dir->dir, name, len, ino);
	return 0;
}

/* The current entry's data as a struct reader. */
struct tar_data {
	struct reader r;
	struct tar *tar;
};

static ssize_t tar_data_read(struct reader *r, void *p, size_t n, struct err *e)
{
	return tar_read(((struct tar_data *)r)->tar, p, n, e);
}

int fstree_apply_layer(struct fstree *t, struct tar *tar, struct err *e)
{
	struct tar_data td = { { tar_data_read, NULL }, tar };
	struct tar_entry *te;
	int rc;
	fstree_begin_layer(t);
	while ((rc = tar_next(tar, &te, e)) > 0)
		if ((rc = fstree_apply(t, te, &td.r, e)) < 0)
			break;
	return rc < 0 ? err_wrap(e, "layer %u", t->layer) : 0;
}

int fstree_ensure_root_dir(struct fstree *t, const char *name, uint32_t mode,
			   struct err *e)
{
	size_t len = strlen(name);
	if (len == 0 || len > FSTREE_NAME_MAX || strchr(name, '/'))
		return err_set(e, -EINVAL, "bad root directory name");
	if (dir_find(t->root->dir, name, len))
		return 0;
	struct fstree_inode *d = inode_new(t, FST_DIR, t->root);
	d->mode = mode & 07777;
	link_new(t, t->root->dir, name, len, d);
	return 0;
}

size_t fstree_dir_count(const struct fstree_inode *dir)
{
	return dir->dir->count;
}

size_t fstree_dir_list(const struct fstree_inode *dir, struct fstree_dentry ***out)
{
	const struct fstree_dir *d = dir->dir;
	struct fstree_dentry **v = xcalloc(d->count ? d->count : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < d->cap; i++)
		if (d->slot[i])
			v[n++] = d->slot[i];
	*out = v;
	return n;
}

struct fstree_inode *fstree_dir_parent(const struct fstree_inode *dir)
{
	return dir->dir->parent;
}

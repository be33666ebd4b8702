/* The extractor of oci/tarx.h.  The rules that keep a hostile archive
 * inside the destination are stated there; here, how:
 *
 *   walk()    opens every directory on an entry's way relative to the
 *             destination's fd, one component at a time, O_NOFOLLOW |
 *             O_DIRECTORY (ELOOP / ENOTDIR: a symlink or a file on the
 *             way is an error), creating missing ones (0755);
 *   place()   removes what holds the entry's name (unlinkat: a symlink is
 *             removed, never followed; a directory only when empty) and
 *             creates the entry with O_CREAT | O_EXCL | O_NOFOLLOW,
 *             mkdirat, symlinkat, linkat(..., 0) or mknod;
 *   metadata  fchown / fchmod / futimens on the fd of the file made or of
 *             the directory opened O_NOFOLLOW; for symlinks and device
 *             nodes fchownat / utimensat with AT_SYMLINK_NOFOLLOW (a node's
 *             mode is mknod's own, never a chmod by name).
 * Directories' modes are set when made (with owner rwx added while we
 * fill them) and fixed once the archive ended, at most DIR_FIXUPS_MAX of
 * them (past that a directory keeps owner rwx). */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#if __has_include(<sys/sysmacros.h>)
#include <sys/sysmacros.h>   /* major, minor, makedev: Linux; macOS has them in types.h */
#endif
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/tar.h"
#include "oci/tarx.h"

#define DIR_FIXUPS_MAX 65536
#define COPY_CHUNK (64u << 10)

struct fixup {
	char *path;
	uint32_t mode;
	int64_t mtime;
};

struct xt {
	int root;
	struct tarx_opts *o;
	struct fixup *fix;
	size_t nfix;
	char *chunk;
};

int tarx_clean(const char *name, struct buf *out, struct err *e)
{
	const char *p = name;

	buf_reset(out);
	if (*p == '/')
		return err_set(e, -EPERM, "%.200s: absolute name in the archive", name);
	while (*p) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(e, -EPERM, "%.200s: '..' in a name in the archive", name);
		if (n && !(n == 1 && p[0] == '.')) {
			if (out->len)
				buf_puts(out, "/");
			if (buf_append(out, p, n) < 0)
				return err_set(e, -ENAMETOOLONG, "%.200s: name too long", name);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* The clean name with the rebase applied (o->from -> o->to). */
static int rebase(const struct tarx_opts *o, struct buf *path, struct err *e)
{
	size_t fl;
	_cleanup_buf_ struct buf r = BUF_INIT;

	if (!o->from)
		return 0;
	fl = strlen(o->from);
	if (!strcmp(o->from, ".") || !*o->from) {
		/* the root entry and its children: "x" -> "to/x" */
		buf_puts(&r, o->to);
		if (path->len)
			buf_printf(&r, "/%s", buf_str(path));
	} else if (!strncmp(buf_str(path), o->from, fl) &&
		   (path->data[fl] == '\0' || path->data[fl] == '/')) {
		buf_puts(&r, o->to);
		buf_puts(&r, buf_str(path) + fl);
	} else {
		return 0;
	}
	buf_reset(path);
	if (buf_puts(path, buf_str(&r)) < 0)
		return err_set(e, -ENAMETOOLONG, "%.200s: name too long", buf_str(&r));
	return 0;
}

/* Open the directory that holds path's last component; *last points at
 * that component inside path.  create: make missing directories. */
static int walk(struct xt *x, const char *path, bool create, int *out, const char **last,
		struct err *e)
{
	const char *p = path, *slash;
	int fd = fcntl(x->root, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return err_sys(e, "dup");
	while ((slash = strchr(p, '/'))) {
		char comp[256];
		size_t n = (size_t)(slash - p);
		int next;

		if (n >= sizeof(comp)) {
			close(fd);
			return err_set(e, -ENAMETOOLONG, "%.200s: component too long", path);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				int rc = err_sys(e, "%.200s: creating %s", path, comp);
				close(fd);
				return rc;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int rc = errno == ELOOP || errno == ENOTDIR
					 ? err_set(e, -ENOTDIR,
						   "%.200s: refusing to go through %s, not a directory "
						   "(a symlink?)", path, comp)
					 : err_sys(e, "%.200s: opening %s", path, comp);
			close(fd);
			return rc;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*out = fd;
	*last = p;
	return 0;
}

/* Make room for a new entry at (dir, name); is_dir: the new entry is a
 * directory (an existing directory stays). 1 = a directory is there and
 * stays. */
static int make_room(struct xt *x, int dir, const char *name, bool is_dir, const char *path,
		     struct err *e)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_sys(e, "%.200s", path);
	if (S_ISDIR(st.st_mode) && is_dir)
		return 1;
	if ((x->o->flags & TARX_X_NO_OVERWRITE_DIR) && (S_ISDIR(st.st_mode) || is_dir))
		return err_set(e, -EISDIR, "%.200s: cannot overwrite %s with %s", path,
			       S_ISDIR(st.st_mode) ? "a directory" : "a non-directory",
			       S_ISDIR(st.st_mode) ? "a non-directory" : "a directory");
	if (unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return err_sys(e, "%.200s: removing what was there", path);
	return 0;
}

static int write_data(struct xt *x, struct reader *in, int fd, const char *path, struct err *e)
{
	ssize_t n;

	while ((n = reader_read(in, x->chunk, COPY_CHUNK, e)) > 0)
		if (fs_write_full(fd, x->chunk, (size_t)n, e) < 0)
			return err_wrap(e, "%.200s", path);
	return (int)n;
}

/* Owner, mode and times of the entry just made: through fd when we hold
 * one (a file we created, a directory opened O_NOFOLLOW), else by name
 * without following (a symlink, a device). */
static int meta(struct xt *x, int fd, int dir, const char *name, const struct tar_entry *te,
		bool set_mode, const char *path, struct err *e)
{
	struct timespec ts[2] = { { (time_t)te->mtime, 0 }, { (time_t)te->mtime, 0 } };
	bool root = x->o->flags & TARX_X_ROOT;
	uid_t uid = root ? 0 : (uid_t)te->uid;
	gid_t gid = root ? 0 : (gid_t)te->gid;

	if ((x->o->flags & (TARX_X_OWNERS | TARX_X_ROOT)) &&
	    (fd >= 0 ? fchown(fd, uid, gid) : fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW)) < 0)
		return err_sys(e, "%.200s: chown", path);
	/* after chown, which clears set-id bits */
	if (set_mode && fd >= 0 && fchmod(fd, te->mode & 07777) < 0)
		return err_sys(e, "%.200s: chmod", path);
	if ((fd >= 0 ? futimens(fd, ts) : utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW)) < 0 &&
	    errno != ENOTSUP)
		return err_sys(e, "%.200s: setting times", path);
	return 0;
}

/* The entry's first component must be o->from (TARX_X_ONLY_FROM). */
static int only_from(const struct tarx_opts *o, const char *clean, struct err *e)
{
	size_t fl;

	if (!(o->flags & TARX_X_ONLY_FROM) || !o->from || !strcmp(o->from, ".") || !*o->from)
		return 0;
	fl = strlen(o->from);
	if (!strncmp(clean, o->from, fl) && (clean[fl] == '\0' || clean[fl] == '/'))
		return 0;
	return err_set(e, -EPERM, "%.200s: not below %.200s, what was asked for, in the archive",
		       clean, o->from);
}

static int one(struct xt *x, struct tar *t, const struct tar_entry *te, struct buf *path,
	       struct err *e)
{
	_cleanup_close_ int dir = -1;
	const char *name;
	int rc, fd;

	if ((rc = tarx_clean(te->path, path, e)) < 0 || (rc = only_from(x->o, buf_str(path), e)) < 0 ||
	    (rc = rebase(x->o, path, e)) < 0)
		return rc;
	if (!path->len)
		return 0;   /* the destination itself ("./"): it stays as it is */
	if ((rc = walk(x, buf_str(path), true, &dir, &name, e)) < 0)
		return rc;
	if ((rc = make_room(x, dir, name, te->type == TAR_DIR, buf_str(path), e)) < 0)
		return rc;
	switch (te->type) {
	case TAR_DIR:
		if (rc == 0 && mkdirat(dir, name, 0700) < 0)
			return err_sys(e, "%.200s: mkdir", buf_str(path));
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, "%.200s: opening the directory made", buf_str(path));
		rc = fchmod(fd, (te->mode & 07777) | 0700) < 0 ? err_sys(e, "%.200s: chmod", buf_str(path))
							      : meta(x, fd, dir, name, te, false,
								     buf_str(path), e);
		close(fd);
		if (rc < 0)
			return rc;
		if (x->nfix < DIR_FIXUPS_MAX) {
			if (x->nfix % 256 == 0)
				x->fix = xrealloc(x->fix, (x->nfix + 256) * sizeof(*x->fix));
			x->fix[x->nfix++] = (struct fixup){ xstrdup(buf_str(path)), te->mode & 07777,
							    te->mtime };
		}
		return 0;
	case TAR_REG:
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(e, "%.200s: creating", buf_str(path));
		rc = write_data(x, tar_data(t), fd, buf_str(path), e);
		if (rc == 0)
			rc = meta(x, fd, dir, name, te, true, buf_str(path), e);
		close(fd);
		return rc;
	case TAR_SYMLINK:
		if (symlinkat(te->linkname, dir, name) < 0)
			return err_sys(e, "%.200s: symlink", buf_str(path));
		return meta(x, -1, dir, name, te, false, buf_str(path), e);
	case TAR_HARDLINK: {
		_cleanup_buf_ struct buf target = BUF_INIT;
		_cleanup_close_ int tdir = -1;
		const char *tname;
		if ((rc = tarx_clean(te->linkname, &target, e)) < 0 ||
		    (rc = only_from(x->o, buf_str(&target), e)) < 0 ||
		    (rc = rebase(x->o, &target, e)) < 0)
			return rc;
		if (!target.len)
			return err_set(e, -EPERM, "%.200s: hard link to the destination itself",
				       buf_str(path));
		if ((rc = walk(x, buf_str(&target), false, &tdir, &tname, e)) < 0)
			return rc;
		if (linkat(tdir, tname, dir, name, 0) < 0)
			return err_sys(e, "%.200s: hard link to %.200s", buf_str(path),
				       buf_str(&target));
		return 0;
	}
	case TAR_CHR:
	case TAR_BLK:
	case TAR_FIFO: {
		mode_t kind = te->type == TAR_CHR ? S_IFCHR : te->type == TAR_BLK ? S_IFBLK : S_IFIFO;
		_cleanup_close_ int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		mode_t mask;
		if (te->type != TAR_FIFO && !(x->o->flags & TARX_X_DEVICES))
			return 0;
		/* mknodat is not everywhere: mknod in the parent, then back; the
		 * mode is set by mknod itself (no chmod by name afterwards, which
		 * would follow a symlink put there meanwhile) */
		if (here < 0 || fchdir(dir) < 0)
			return err_sys(e, "%.200s: entering its directory", buf_str(path));
		mask = umask(0);
		rc = mknod(name, kind | (te->mode & 0777), makedev(te->devmajor, te->devminor)) < 0
			     ? err_sys(e, "%.200s: mknod", buf_str(path))
			     : 0;
		umask(mask);
		if (fchdir(here) < 0 && rc == 0)
			rc = err_sys(e, "returning to the working directory");
		if (rc < 0)
			return rc;
		return meta(x, -1, dir, name, te, false, buf_str(path), e);
	}
	}
	return 0;
}

static void fixups(struct xt *x, struct err *e)
{
	/* deepest first: a parent's mode may take away our access to it */
	for (size_t i = x->nfix; i-- > 0;) {
		struct timespec ts[2] = { { (time_t)x->fix[i].mtime, 0 },
					  { (time_t)x->fix[i].mtime, 0 } };
		int dir = -1;
		const char *name;
		struct err ignored = ERR_INIT;

		if (walk(x, x->fix[i].path, false, &dir, &name, &ignored) == 0) {
			/* it may have been replaced since (by a symlink): never
			 * follow, fix only a directory still there */
			int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				(void)!fchmod(fd, x->fix[i].mode);
				futimens(fd, ts);
				close(fd);
			}
			close(dir);
		}
		free(x->fix[i].path);
	}
	(void)e;
	free(x->fix);
	x->fix = NULL;
	x->nfix = 0;
}

int tarx_extract(struct reader *in, int root, struct tarx_opts *o, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_free_ char *chunk = xmalloc(COPY_CHUNK);
	struct xt x = { root, o, NULL, 0, chunk };
	struct tar *t = tar_open(in, e);
	struct tar_entry *te;
	int rc;

	if (!t)
		return e->code ? e->code : -EIO;
	buf_init(&path, 2 * TAR_PATH_MAX);
	while ((rc = tar_next(t, &te, e)) > 0) {
		if ((rc = one(&x, t, te, &path, e)) < 0)
			break;
	}
	fixups(&x, e);
	tar_close(t);
	return rc;
}

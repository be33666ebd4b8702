/* The container's mounts, made by the guest init (see initrd/init.h and
 * the "mounts" list of initrd/guest.h), after the root overlay and /dev,
 * before the main process pivots into INIT_ROOT (the mounts under it move
 * with the root):
 *
 *   9p      the host directory shared with that tag, mounted once at
 *           /mnt/shares/<tag> (9p2000.L over virtio; the host side runs
 *           QEMU's security_model=mapped-xattr), then bind-mounted
 *           (the directory, or one file of it) onto the target;
 *   virtiofs  the same with virtio-fs (QEMU + virtiofsd, or
 *           Virtualization.framework);
 *   volume  the ext4 disk with that serial, mounted once at
 *           /mnt/volumes/<serial> with online discard (freed blocks go
 *           back to the host as holes); its /_data is bound onto the
 *           target, first filled from the image's content at the target
 *           when it does not exist yet (docker's copy-up);
 *   tmpfs   a tmpfs, nosuid/nodev and noexec unless asked.
 *
 * Targets are resolved inside the container's root with openat2's
 * RESOLVE_IN_ROOT, so an image's symlink cannot point a mount outside it;
 * missing directories (or, for a file, an empty file) are created.
 * "readonly" is a read-only bind on top (and a read-only 9p export when
 * every use of a share is read-only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "initrd/init.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define COPY_DEPTH_MAX 128

static int open_in_root(int root, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* The target as an O_PATH fd, creating missing directories on the way and
 * the last component as a directory (or, file, an empty regular file). */
static int target_fd(int root, const char *target, bool file, struct err *e)
{
	_cleanup_buf_ struct buf prefix = BUF_INIT;
	int parent = fcntl(root, F_DUPFD_CLOEXEC, 0), fd = -1;

	for (const char *p = target + 1; p && *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		_cleanup_free_ char *name = xstrndup(p, n);
		bool last = !end;
		if (prefix.len)
			buf_putc(&prefix, '/');
		buf_puts(&prefix, name);
		fd = open_in_root(root, buf_str(&prefix), O_PATH);
		if (fd == -ENOENT) {
			int made;
			if (last && file) {
				made = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
				if (made >= 0)
					close(made);
			} else {
				made = mkdirat(parent, name, 0755);
			}
			if (made < 0 && errno != EEXIST) {
				close(parent);
				return err_sys(e, "creating the mount point %s", target);
			}
			fd = open_in_root(root, buf_str(&prefix), O_PATH);
		}
		if (fd < 0) {
			close(parent);
			errno = -fd;
			return err_sys(e, "mount point %s", target);
		}
		close(parent);
		parent = fd;
		p = end ? end + 1 : NULL;
	}
	return parent;
}

static void fd_path(int fd, char out[32])
{
	snprintf(out, 32, "/proc/self/fd/%d", fd);
}

/* Bind src onto target (inside root), read-only when asked.  The remount
 * needs the new mount itself: reopen the target, which now resolves to it. */
static int bind_onto(int root, const char *src, const char *target, bool file, bool ro,
		     struct err *e)
{
	char p[32];
	int fd = target_fd(root, target, file, e), rc = 0;

	if (fd < 0)
		return fd;
	fd_path(fd, p);
	if (mount(src, p, NULL, MS_BIND, NULL) < 0)
		rc = err_sys(e, "bind %s on %s", src, target);
	close(fd);
	if (rc < 0 || !ro)
		return rc;
	if ((fd = open_in_root(root, target + 1, O_PATH)) < 0) {
		errno = -fd;
		return err_sys(e, "reopening %s", target);
	}
	fd_path(fd, p);
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		rc = err_sys(e, "making %s read-only", target);
	close(fd);
	return rc;
}

/* Mount once: is dir already a mount point (of something else than its
 * parent's file system)? */
static bool mounted(const char *dir)
{
	_cleanup_buf_ struct buf parent = BUF_INIT;
	struct stat a, b;

	buf_printf(&parent, "%s/..", dir);
	return stat(dir, &a) == 0 && stat(buf_str(&parent), &b) == 0 && a.st_dev != b.st_dev;
}

static int mount_share(const struct guest_mount *m, struct buf *dir, struct err *e)
{
	int rc;

	buf_printf(dir, "/mnt/shares/%s", m->source);
	if (mounted(buf_str(dir)))
		return 0;
	if ((rc = fs_mkdir_p(buf_str(dir), 0755, e)) < 0)
		return rc;
	/* virtio-fs: owners, modes, symlinks and caching are the host's
	 * virtiofsd's (vm/virtiofsd.c), so no options here. */
	if (m->type == GUEST_MOUNT_VIRTIOFS) {
		if (mount(m->source, buf_str(dir), "virtiofs", MS_NODEV, NULL) < 0)
			return err_sys(e, "mounting the shared directory %s (virtio-fs)", m->source);
		return 0;
	}
	/* access=client: the guest kernel checks permissions against the
	 * owners and modes QEMU keeps in xattrs (mapped-xattr), so chown and
	 * chmod behave as on a local disk.  cache=mmap: shared writable
	 * mmap works (databases use it) while reads and writes stay
	 * uncached, so host and guest see each other's changes at once.
	 * cache=loose when the user traded that for speed (-v …:cached):
	 * metadata and data cached in the guest, ~3x faster on many small
	 * files, host-side changes seen late. */
	if (mount(m->source, buf_str(dir), "9p", MS_NODEV,
		  m->cached ? "trans=virtio,version=9p2000.L,access=client,msize=524288,cache=loose"
			    : "trans=virtio,version=9p2000.L,access=client,msize=524288,cache=mmap") < 0 &&
	    mount(m->source, buf_str(dir), "9p", MS_NODEV, "trans=virtio,version=9p2000.L") < 0)
		return err_sys(e, "mounting the shared directory %s", m->source);
	return 0;
}

/* --- copy-up ---------------------------------------------------------------- */

static int copy_tree(int src, int dst, int depth, struct err *e);

static int copy_data(int in, int out, struct err *e)
{
	char b[65536];
	ssize_t n;

	while ((n = read(in, b, sizeof(b))) > 0)
		if (fs_write_full(out, b, (size_t)n, e) < 0)
			return e->code;
	return n < 0 ? err_sys(e, "read") : 0;
}

static int copy_entry(int src, int dst, const char *name, const struct stat *st, int depth,
		      struct err *e)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	int rc = 0, in, out;

	if (S_ISDIR(st->st_mode)) {
		if (mkdirat(dst, name, 0700) < 0)
			return err_sys(e, "copy-up: mkdir %s", name);
		in = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		out = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0 || out < 0)
			rc = err_sys(e, "copy-up: open %s", name);
		else
			rc = copy_tree(in, out, depth + 1, e);
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	} else if (S_ISREG(st->st_mode)) {
		in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (in < 0 || out < 0)
			rc = err_sys(e, "copy-up: open %s", name);
		else
			rc = copy_data(in, out, e);
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return err_sys(e, "copy-up: readlink %s", name);
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0)
			return err_sys(e, "copy-up: symlink %s", name);
	} else if (mknodat(dst, name, st->st_mode, st->st_rdev) < 0) {
		return err_sys(e, "copy-up: mknod %s", name);
	}
	if (rc < 0)
		return rc;
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0))
		return err_sys(e, "copy-up: owner and mode of %s", name);
	utimensat(dst, name, t, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* Owners, modes, times, symlinks and special files; hard links become
 * separate copies and xattrs are not copied. */
static int copy_tree(int src, int dst, int depth, struct err *e)
{
	int dup = fcntl(src, F_DUPFD_CLOEXEC, 0), rc = 0;
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;

	if (depth > COPY_DEPTH_MAX) {
		if (d)
			closedir(d);
		return err_set(e, -ELOOP, "copy-up: directories nested too deep");
	}
	if (!d) {
		if (dup >= 0)
			close(dup);
		return err_sys(e, "copy-up: opendir");
	}
	while (rc == 0 && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rc = err_sys(e, "copy-up: stat %s", de->d_name);
		else
			rc = copy_entry(src, dst, de->d_name, &st, depth, e);
	}
	closedir(d);
	return rc;
}

/* /mnt/volumes/<serial>/_data, made on first use: from the image's
 * directory at the target when there is one (and copy is on), else empty
 * root-owned 0755.  Built under a temporary name and renamed, so a crash
 * half-way copies again next time. */
static int volume_data(int root, const struct guest_mount *m, const char *vol, struct err *e)
{
	_cleanup_buf_ struct buf data = BUF_INIT, tmp = BUF_INIT;
	struct stat st;
	int src = -1, dst = -1, rc = 0;

	buf_printf(&data, "%s/_data", vol);
	if (stat(buf_str(&data), &st) == 0)
		return 0;
	buf_printf(&tmp, "%s/_data.tmp", vol);
	/* a leftover from an interrupted copy */
	if (stat(buf_str(&tmp), &st) == 0) {
		_cleanup_buf_ struct buf old = BUF_INIT;
		buf_printf(&old, "%s/_data.old-%ld", vol, (long)st.st_ino);
		rename(buf_str(&tmp), buf_str(&old));
	}
	if (m->copy)
		src = open_in_root(root, m->target + 1, O_RDONLY | O_DIRECTORY);
	if (mkdir(buf_str(&tmp), 0755) < 0)
		rc = err_sys(e, "volume %s: mkdir _data", m->source);
	else if (src >= 0 && (dst = open(buf_str(&tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = err_sys(e, "volume %s: open _data", m->source);
	else if (src >= 0 && (rc = copy_tree(src, dst, 0, e)) == 0 && fstat(src, &st) == 0 &&
		 (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0))
		rc = err_sys(e, "volume %s: owner of _data", m->source);
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	if (rc == 0 && rename(buf_str(&tmp), buf_str(&data)) < 0)
		rc = err_sys(e, "volume %s: rename _data", m->source);
	return rc < 0 ? err_wrap(e, "copying the image's %s into the volume", m->target) : 0;
}

static int mount_volume(int root, const struct guest_mount *m, struct buf *dir, struct err *e)
{
	_cleanup_buf_ struct buf dev = BUF_INIT;
	int rc;

	buf_printf(dir, "/mnt/volumes/%s", m->source);
	if (!mounted(buf_str(dir))) {
		if ((rc = init__find_disk(m->source, &dev, e)) < 0 ||
		    (rc = fs_mkdir_p(buf_str(dir), 0755, e)) < 0)
			return rc;
		/* discard: blocks freed by the workload are returned to the
		 * host at once (QEMU punches holes in the image file) */
		if (mount(buf_str(&dev), buf_str(dir), "ext4", MS_NODEV, "discard,noinit_itable") < 0)
			return err_sys(e, "mounting volume disk %s", m->source);
	}
	if ((rc = volume_data(root, m, buf_str(dir), e)) < 0)
		return rc;
	buf_puts(dir, "/_data");
	return 0;
}

static int mount_tmpfs(int root, const struct guest_mount *m, struct err *e)
{
	_cleanup_buf_ struct buf opts = BUF_INIT;
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char p[32];
	int fd = target_fd(root, m->target, false, e), rc = 0;

	if (fd < 0)
		return fd;
	buf_printf(&opts, "mode=%o", m->mode);
	if (m->size)
		buf_printf(&opts, ",size=%llu", (unsigned long long)m->size);
	if (!m->exec)
		flags |= MS_NOEXEC;
	if (m->readonly)
		flags |= MS_RDONLY;
	fd_path(fd, p);
	if (mount("tmpfs", p, "tmpfs", flags, buf_str(&opts)) < 0)
		rc = err_sys(e, "tmpfs on %s", m->target);
	close(fd);
	return rc;
}

static int one(struct init *in, int root, const struct guest_mount *m, struct err *e)
{
	_cleanup_buf_ struct buf src = BUF_INIT;
	int rc;

	switch (m->type) {
	case GUEST_MOUNT_TMPFS:
		return mount_tmpfs(root, m, e);
	case GUEST_MOUNT_9P:
	case GUEST_MOUNT_VIRTIOFS:
		if ((rc = mount_share(m, &src, e)) < 0)
			return rc;
		if (m->file)
			buf_printf(&src, "/%s", m->file);
		break;
	case GUEST_MOUNT_VOLUME:
		if ((rc = mount_volume(root, m, &src, e)) < 0)
			return rc;
		break;
	}
	init__debug(in, "mount %s on %s%s", buf_str(&src), m->target, m->readonly ? " (ro)" : "");
	return bind_onto(root, buf_str(&src), m->target, m->file != NULL, m->readonly, e);
}

int init__mounts(struct init *in, struct err *e)
{
	const struct guest_config *c = &in->cfg;
	int root, rc = 0;

	if (c->n_mounts == 0)
		return 0;
	/* --read-only: the root is a read-only overlay on a tmpfs upper;
	 * writable for as long as the mount points take to make */
	if (c->read_only && mount("overlay", INIT_ROOT, NULL, MS_REMOUNT, NULL) < 0)
		init__log(in, "remounting the root to make mount points: %s", strerror(errno));
	root = open(INIT_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return err_sys(e, "open %s", INIT_ROOT);
	for (size_t i = 0; rc == 0 && i < c->n_mounts; i++)
		if ((rc = one(in, root, &c->mounts[i], e)) < 0)
			err_wrap(e, "mount %s", c->mounts[i].target);
	close(root);
	if (c->read_only && mount("overlay", INIT_ROOT, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0 &&
	    rc == 0)
		rc = err_sys(e, "making the root read-only again");
	return rc;
}

void init__mounts_trim(struct init *in)
{
	const struct guest_config *c = &in->cfg;

	for (size_t i = 0; i < c->n_mounts; i++) {
		_cleanup_buf_ struct buf dir = BUF_INIT;
		struct fstrim_range r = { 0, UINT64_MAX, 0 };
		int fd;
		if (c->mounts[i].type != GUEST_MOUNT_VOLUME)
			continue;
		buf_printf(&dir, "/mnt/volumes/%s", c->mounts[i].source);
		if (!mounted(buf_str(&dir)) ||
		    (fd = open(buf_str(&dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		/* a second mount of the same volume finds nothing left to trim */
		if (ioctl(fd, FITRIM, &r) < 0)
			init__log(in, "trimming volume %s: %s", c->mounts[i].source, strerror(errno));
		else
			init__debug(in, "volume %s: %llu bytes trimmed", c->mounts[i].source,
				    (unsigned long long)r.len);
		close(fd);
	}
}

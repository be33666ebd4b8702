/* File-system helpers (see lib/fs.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"

int fs_write_full(int fd, const void *p, size_t n, struct err *e)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "write");
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t fs_read_full(int fd, void *p, size_t n, struct err *e)
{
	char *q = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, q + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "read");
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Split path into its directory (into dir) and return the base name. */
static const char *split_dir(const char *path, struct buf *dir)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		buf_puts(dir, ".");
		return path;
	}
	if (slash == path)
		buf_puts(dir, "/");
	else
		buf_append(dir, path, (size_t)(slash - path));
	return slash + 1;
}

int fs_fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open directory %s", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int rc = err_sys(e, "fsync directory %s", dir);
		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	_cleanup_buf_ struct buf tmp = BUF_INIT;
	const char *base = split_dir(path, &dir);
	int fd, rc;

	if (!*base)
		return err_set(e, -EINVAL, "atomic write: %s names a directory", path);
	buf_printf(&tmp, "%s/.%s.tmp-XXXXXX", buf_str(&dir), base);
	fd = mkstemp(tmp.data);
	if (fd < 0)
		return err_sys(e, "create temporary file for %s", path);
	if (fchmod(fd, mode) < 0) {
		rc = err_sys(e, "chmod %s", tmp.data);
		goto fail;
	}
	rc = fs_write_full(fd, data, len, e);
	if (rc < 0) {
		err_wrap(e, "write %s", path);
		goto fail;
	}
	if (fsync(fd) < 0) {
		rc = err_sys(e, "fsync %s", tmp.data);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = err_sys(e, "close %s", tmp.data);
		goto fail;
	}
	fd = -1;
	if (rename(tmp.data, path) < 0) {
		rc = err_sys(e, "rename %s to %s", tmp.data, path);
		goto fail;
	}
	return fs_fsync_dir(buf_str(&dir), e);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
	return rc;
}

int fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;

	if (!*p)
		return err_set(e, -EINVAL, "mkdir: empty path");
	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return err_sys(e, "mkdir %s", p);
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &st) < 0)
		return err_sys(e, "stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, -ENOTDIR, "mkdir %s: exists and is not a directory", path);
	return 0;
}

bool fs_path_ends_dot(const char *p)
{
	size_t n = strlen(p);

	return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 2] == '/' && p[n - 1] == '.');
}

void fs_path_clean(const char *abs, struct buf *out)
{
	size_t base = out->len;

	for (const char *p = abs; *p;) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			size_t k = out->len;   /* drop the last "/name" */

			while (k > base && out->data[k - 1] != '/')
				k--;
			buf_truncate(out, k > base ? k - 1 : base);
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			buf_putc(out, '/');
			buf_append(out, p, n);
		}
		p += n;
	}
}

int fs_path_join(struct buf *out, const char *a, const char *b, struct err *e)
{
	const char *s = b;
	size_t start = out->len;
	int rc = 0;

	if (*b == '/')
		return err_set(e, -EINVAL, "path %s: must be relative", b);
	rc |= buf_puts(out, a);
	while (*s) {
		const char *end = strchr(s, '/');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			buf_truncate(out, start);
			return err_set(e, -EINVAL, "path %s: '..' is not allowed", b);
		}
		if (n && !(n == 1 && s[0] == '.')) {
			if (out->len == start || buf_str(out)[out->len - 1] != '/')
				rc |= buf_putc(out, '/');
			rc |= buf_append(out, s, n);
		}
		s += n;
		if (*s == '/')
			s++;
	}
	if (rc) {
		buf_truncate(out, start);
		return err_set(e, -ENAMETOOLONG, "path %s/%s: too long", a, b);
	}
	return 0;
}

int fs_read_file(const char *path, struct buf *out, size_t max, struct err *e)
{
	char tmp[65536];
	size_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, "open %s", path);
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int rc = err_sys(e, "read %s", path);
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		total += (size_t)r;
		if ((max && total > max) || buf_append(out, tmp, (size_t)r) < 0) {
			close(fd);
			return err_set(e, -EFBIG, "%s: larger than %zu bytes", path, max);
		}
	}
	close(fd);
	return 0;
}

int fs_lock(const char *path, int op, int *out_fd, struct err *e)
{
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return err_sys(e, "open lock %s", path);
		while (flock(fd, op) < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			close(fd);
			if (saved == EWOULDBLOCK)
				return err_set(e, -EBUSY, "%s is locked by another process", path);
			errno = saved;
			return err_sys(e, "flock %s", path);
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			*out_fd = fd;
			return 0;
		}
		close(fd);
	}
}

void fs_unlock_unlink(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}

long long fs_allocated(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 ? (long long)st.st_blocks * 512 : 0;
}

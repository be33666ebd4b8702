/* The cpio "newc" writer (see initrd/cpio.h).  Each entry is a 110-byte
 * ASCII header of 8-digit hex fields, the NUL-terminated name padded so
 * that header + name is a multiple of 4, then the data padded to 4. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initrd/cpio.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define HDR_LEN 110

void cpio_init_buf(struct cpio *c, struct buf *out, uint32_t mtime)
{
	*c = (struct cpio){ .out = out, .fd = -1, .mtime = mtime };
}

void cpio_init_fd(struct cpio *c, int fd, uint32_t mtime)
{
	*c = (struct cpio){ .out = NULL, .fd = fd, .mtime = mtime };
}

static int fail(struct cpio *c, struct err *e, int code, const char *path, const char *why)
{
	c->err = code;
	return err_set(e, code, "cpio: %s: %s", path, why);
}

static int emit(struct cpio *c, const void *p, size_t n, struct err *e)
{
	int rc;

	if (c->out) {
		rc = buf_append(c->out, p, n);
		if (rc < 0) {
			c->err = rc;
			return err_set(e, rc, "cpio: archive over its buffer limit");
		}
	} else {
		rc = fs_write_full(c->fd, p, n, e);
		if (rc < 0) {
			c->err = rc;
			return err_wrap(e, "cpio: write");
		}
	}
	c->offset += n;
	return 0;
}

static int pad4(struct cpio *c, struct err *e)
{
	static const char zeros[4];
	size_t n = (4 - (c->offset & 3)) & 3;
	return n ? emit(c, zeros, n, e) : 0;
}

/* The archive name for path, or an error: relative, no empty, "." or ".."
 * components. */
static int clean_path(const char *path, const char **out)
{
	const char *p;

	while (*path == '/')
		path++;
	if (!*path)
		return -EINVAL;
	if (strlen(path) >= CPIO_PATH_MAX)
		return -ENAMETOOLONG;
	for (p = path; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '/' && !*++p)
			return -EINVAL;   /* trailing slash */
	}
	*out = path;
	return 0;
}

static int header(struct cpio *c, const char *name, uint32_t mode, uint32_t nlink,
		  uint64_t size, unsigned rmaj, unsigned rmin, struct err *e)
{
	char h[HDR_LEN + 1];
	size_t namesize = strlen(name) + 1;
	int rc;

	if (size > 0xffffffffu)
		return fail(c, e, -EFBIG, name, "over 4 GiB - 1 bytes, which newc cannot hold");
	/* ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin
	 * namesize check */
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 name[0] ? ++c->ino : 0, mode, 0u, 0u, nlink, c->mtime, (uint32_t)size, 0u, 0u,
		 rmaj, rmin, (unsigned)namesize, 0u);
	if ((rc = emit(c, h, HDR_LEN, e)) < 0 || (rc = emit(c, name, namesize, e)) < 0)
		return rc;
	return pad4(c, e);
}

/* Common entry start: sticky error, path check, header. */
static int begin(struct cpio *c, const char *path, uint32_t mode, uint32_t nlink,
		 uint64_t size, unsigned rmaj, unsigned rmin, struct err *e)
{
	const char *name;
	int rc;

	if (c->err)
		return err_set(e, c->err, "cpio: archive already failed");
	rc = clean_path(path, &name);
	if (rc < 0)
		return fail(c, e, rc, path, rc == -ENAMETOOLONG ? "path too long"
								: "not a clean relative path");
	return header(c, name, mode, nlink, size, rmaj, rmin, e);
}

int cpio_dir(struct cpio *c, const char *path, mode_t perm, struct err *e)
{
	return begin(c, path, S_IFDIR | (perm & 07777), 2, 0, 0, 0, e);
}

int cpio_file(struct cpio *c, const char *path, mode_t perm, const void *data, size_t len,
	      struct err *e)
{
	int rc = begin(c, path, S_IFREG | (perm & 07777), 1, len, 0, 0, e);
	if (rc < 0 || (len && (rc = emit(c, data, len, e)) < 0))
		return rc;
	return pad4(c, e);
}

int cpio_file_path(struct cpio *c, const char *path, mode_t perm, const char *src,
		   struct err *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *chunk = NULL;
	struct stat st;
	uint64_t left;
	ssize_t n;
	int rc;

	if (c->err)
		return err_set(e, c->err, "cpio: archive already failed");
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_sys(e, "cpio: %s", src);
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "cpio: %s: not a regular file", src);
	rc = begin(c, path, S_IFREG | (perm & 07777), 1, (uint64_t)st.st_size, 0, 0, e);
	if (rc < 0)
		return rc;
	chunk = xmalloc(64 << 10);
	for (left = (uint64_t)st.st_size; left > 0; left -= (uint64_t)n) {
		n = fs_read_full(fd, chunk, left < (64 << 10) ? left : (64 << 10), e);
		if (n <= 0) {
			/* The header already promised st_size bytes: the archive
			 * is unusable, so the error sticks. */
			c->err = n < 0 ? (int)n : -EIO;
			return n < 0 ? err_wrap(e, "cpio: %s", src)
				     : err_set(e, -EIO, "cpio: %s: shrank while being read", src);
		}
		if ((rc = emit(c, chunk, (size_t)n, e)) < 0)
			return rc;
	}
	n = read(fd, chunk, 1);
	if (n != 0) {
		c->err = -EIO;
		return err_set(e, -EIO, "cpio: %s: grew while being read", src);
	}
	return pad4(c, e);
}

int cpio_symlink(struct cpio *c, const char *path, const char *target, struct err *e)
{
	size_t len = strlen(target);
	int rc;

	if (len == 0 || len >= CPIO_PATH_MAX) {
		c->err = -EINVAL;
		return err_set(e, -EINVAL, "cpio: %s: symlink target of %zu bytes", path, len);
	}
	rc = begin(c, path, S_IFLNK | 0777, 1, len, 0, 0, e);
	if (rc < 0 || (rc = emit(c, target, len, e)) < 0)
		return rc;
	return pad4(c, e);
}

int cpio_node(struct cpio *c, const char *path, mode_t mode, unsigned major, unsigned minor,
	      struct err *e)
{
	mode_t type = mode & S_IFMT;

	if (type != S_IFCHR && type != S_IFBLK) {
		c->err = -EINVAL;
		return err_set(e, -EINVAL, "cpio: %s: a node is a character or block device", path);
	}
	return begin(c, path, type | (mode & 07777), 1, 0, major, minor, e);
}

int cpio_finish(struct cpio *c, struct err *e)
{
	if (c->err)
		return err_set(e, c->err, "cpio: archive already failed");
	return header(c, "TRAILER!!!", 0, 1, 0, 0, 0, e);
}

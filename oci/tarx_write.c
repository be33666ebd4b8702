/* The tar writer of oci/tarx.h: walks a tree with *at() calls (never
 * following a symlink below the top entry) and writes ustar headers, with
 * PAX records for what ustar cannot hold (long names, big sizes or ids).
 * Memory is one 64 KiB copy buffer plus the current path; depth is
 * bounded by TAR_PATH_MAX.  A file that changes size while read is padded
 * or cut to the size its header announced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
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
#include "oci/tar.h"
#include "oci/tarx.h"

#define COPY_CHUNK (64u << 10)

struct tw {
	const struct tarx_sink *out;
	unsigned flags;
	dev_t root_dev;
	char *chunk;
};

int tarx_fd_write(void *fd_ptr, const void *p, size_t n, struct err *e)
{
	return fs_write_full(*(int *)fd_ptr, p, n, e);
}

static void octal(char *f, size_t w, unsigned long long v)
{
	/* w-1 digits and a NUL; callers checked that v fits */
	f[w - 1] = '\0';
	for (size_t i = w - 1; i-- > 0; v >>= 3)
		f[i] = (char)('0' + (v & 7));
}

static void pax_record(struct buf *b, const char *key, const char *val)
{
	size_t n = strlen(key) + strlen(val) + 3, len = n + 1;

	/* the length counts its own digits */
	while (snprintf(NULL, 0, "%zu", len) + n != len)
		len++;
	buf_printf(b, "%zu %s=%s\n", len, key, val);
}

static int header(struct tw *t, const char *name, char type, const struct stat *st,
		  unsigned long long size, const char *link, struct err *e)
{
	char h[512];
	struct buf pax = BUF_INIT;
	unsigned sum = 0;
	unsigned long long uid = (t->flags & TARX_ZERO_IDS) ? 0 : st->st_uid;
	unsigned long long gid = (t->flags & TARX_ZERO_IDS) ? 0 : st->st_gid;
	long long mt = st->st_mtime < 0 ? 0 : (long long)st->st_mtime;
	int rc = 0;

	if (strlen(name) >= TAR_PATH_MAX || strlen(link) >= TAR_PATH_MAX)
		return err_set(e, -ENAMETOOLONG, "%.200s: name too long for the archive", name);
	if (strlen(name) > 99)
		pax_record(&pax, "path", name);
	if (strlen(link) > 99)
		pax_record(&pax, "linkpath", link);
	if (size > 077777777777ull) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", size);
		pax_record(&pax, "size", v);
	}
	if (uid > 07777777 || gid > 07777777) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", uid);
		pax_record(&pax, "uid", v);
		snprintf(v, sizeof(v), "%llu", gid);
		pax_record(&pax, "gid", v);
	}
	if (pax.len) {
		struct stat ps = *st;
		struct buf pname = BUF_INIT;
		buf_printf(&pname, "PaxHeaders/%.80s", name);
		/* the PAX header's own ids fit in ustar (else it would need one) */
		ps.st_mode = 0644;
		ps.st_uid = 0;
		ps.st_gid = 0;
		rc = header(t, buf_str(&pname), 'x', &ps, pax.len, "", e);
		buf_free(&pname);
		if (rc == 0)
			rc = t->out->write(t->out->ud, pax.data, pax.len, e);
		if (rc == 0 && pax.len % 512) {
			static const char zero[512];
			rc = t->out->write(t->out->ud, zero, 512 - pax.len % 512, e);
		}
		buf_free(&pax);
		if (rc < 0)
			return rc;
	}
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name) > 99 ? 99 : strlen(name));
	octal(h + 100, 8, st->st_mode & 07777);
	octal(h + 108, 8, uid > 07777777 ? 0 : uid);
	octal(h + 116, 8, gid > 07777777 ? 0 : gid);
	octal(h + 124, 12, size > 077777777777ull ? 0 : size);
	octal(h + 136, 12, (unsigned long long)mt & 077777777777ull);
	h[156] = type;
	memcpy(h + 157, link, strlen(link) > 99 ? 99 : strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (type == '3' || type == '4') {
		octal(h + 329, 8, major(st->st_rdev) & 07777777);
		octal(h + 337, 8, minor(st->st_rdev) & 07777777);
	}
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	octal(h + 148, 7, sum);
	return t->out->write(t->out->ud, h, sizeof(h), e);
}

static int file_data(struct tw *t, int fd, unsigned long long size, const char *name,
		     struct err *e)
{
	unsigned long long left = size;
	int rc;

	while (left) {
		size_t want = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t n = read(fd, t->chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "reading %.200s", name);
		if (n == 0) {
			/* it shrank: pad with zeros to the announced size */
			memset(t->chunk, 0, want);
			n = (ssize_t)want;
		}
		if ((rc = t->out->write(t->out->ud, t->chunk, (size_t)n, e)) < 0)
			return rc;
		left -= (unsigned long long)n;
	}
	if (size % 512) {
		memset(t->chunk, 0, 512);
		return t->out->write(t->out->ud, t->chunk, 512 - size % 512, e);
	}
	return 0;
}

static int entry(struct tw *t, int at, const char *name, struct buf *path, bool top,
		 int depth, struct err *e);

/* follow: the top entry, a symlink to a directory under TARX_FOLLOW */
static int children(struct tw *t, int at, const char *name, struct buf *path, int depth,
		    bool follow, struct err *e)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	size_t base = path->len;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (fd < 0)
		return err_sys(e, "opening %.200s", buf_str(path));
	if (!(d = fdopendir(fd))) {
		close(fd);
		return err_sys(e, "reading %.200s", buf_str(path));
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_truncate(path, base);
		if (base && path->data[base - 1] != '/')
			buf_puts(path, "/");
		if (buf_puts(path, de->d_name) < 0) {
			rc = err_set(e, -ENAMETOOLONG, "%.200s...: name too long", buf_str(path));
			break;
		}
		rc = entry(t, dirfd(d), de->d_name, path, false, depth + 1, e);
	}
	if (rc == 0 && errno)
		rc = err_sys(e, "reading %.200s", buf_str(path));
	buf_truncate(path, base);
	closedir(d);
	return rc;
}

static int entry(struct tw *t, int at, const char *name, struct buf *path, bool top,
		 int depth, struct err *e)
{
	struct stat st;
	int rc;

	if (depth > TAR_PATH_MAX / 2)
		return err_set(e, -ELOOP, "%.200s: too deep", buf_str(path));
	if (fstatat(at, name, &st,
		    top && (t->flags & TARX_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && !top)
			return 0;   /* went away while we walked */
		return err_sys(e, "%.200s", buf_str(path));
	}
	if (top)
		t->root_dev = st.st_dev;
	if (S_ISDIR(st.st_mode)) {
		bool prefix = path->len > 0;
		if (prefix) {
			_cleanup_buf_ struct buf dn = BUF_INIT;
			buf_printf(&dn, "%s/", buf_str(path));
			if ((rc = header(t, buf_str(&dn), '5', &st, 0, "", e)) < 0)
				return rc;
		}
		if ((t->flags & TARX_ONE_FS) && st.st_dev != t->root_dev)
			return 0;
		return children(t, at, name, path, depth, top && (t->flags & TARX_FOLLOW), e);
	}
	if (S_ISLNK(st.st_mode)) {
		char link[TAR_PATH_MAX];
		ssize_t n = readlinkat(at, name, link, sizeof(link) - 1);
		if (n < 0)
			return err_sys(e, "reading the link %.200s", buf_str(path));
		link[n] = '\0';
		return header(t, buf_str(path), '2', &st, 0, link, e);
	}
	if (S_ISREG(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_CLOEXEC |
					      (top && (t->flags & TARX_FOLLOW) ? 0 : O_NOFOLLOW));
		if (fd < 0)
			return err_sys(e, "opening %.200s", buf_str(path));
		rc = header(t, buf_str(path), '0', &st, (unsigned long long)st.st_size, "", e);
		if (rc == 0)
			rc = file_data(t, fd, (unsigned long long)st.st_size, buf_str(path), e);
		close(fd);
		return rc;
	}
	if (S_ISCHR(st.st_mode))
		return header(t, buf_str(path), '3', &st, 0, "", e);
	if (S_ISBLK(st.st_mode))
		return header(t, buf_str(path), '4', &st, 0, "", e);
	if (S_ISFIFO(st.st_mode))
		return header(t, buf_str(path), '6', &st, 0, "", e);
	return 0;   /* sockets: tar has no word for them */
}

int tarx_write(int at, const char *name, const char *as, unsigned flags,
	       const struct tarx_sink *out, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_free_ char *chunk = xmalloc(COPY_CHUNK);
	struct tw t = { out, flags, 0, chunk };
	int rc;

	buf_init(&path, TAR_PATH_MAX);
	buf_puts(&path, as);
	if ((rc = entry(&t, at, name, &path, true, 0, e)) < 0)
		return rc;
	memset(chunk, 0, 1024);
	return out->write(out->ud, chunk, 1024, e);
}

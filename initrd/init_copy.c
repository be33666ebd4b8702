/* docker cp and export inside the guest (issue #8): the body of a COPY
 * process (initrd/agent.h).  It runs in a child of init that joined the
 * container's namespaces and root (init_proc.c), as root, with the
 * agent's pipes as stdio: stat writes one JSON object, archive and export
 * a tar (oci/tarx.h) on stdout, extract reads one on stdin.  Failures are
 * a line on stderr and an AGENT_COPY_E_* status, which the API server
 * turns into Docker's 404 / 400 / 500.
 *
 * Paths follow Docker's rules: the final component is not followed when
 * it is a symlink (the link itself is copied) unless the path ends in "/"
 * or "/."; "/." names a directory's contents (entries "./x"), "/" the
 * directory itself (an error for anything else), otherwise entries are
 * named after the last component.  (`cp -L` is the client's: it asks for
 * the link's target.) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "initrd/agent.h"
#include "initrd/init.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/stream.h"
#include "oci/tarx.h"

static __attribute__((noreturn, format(printf, 2, 3))) void fail(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(2, "%s\n", msg);
	_exit(code);
}

static int code_of(int err)
{
	return err == ENOENT ? AGENT_COPY_E_NOENT : err == ENOTDIR ? AGENT_COPY_E_NOTDIR
								   : AGENT_COPY_E_OTHER;
}

/* Go's os.FileMode bits, which docker's CLI reads from the stat header. */
static unsigned long go_mode(mode_t m)
{
	unsigned long g = m & 0777;

	if (S_ISDIR(m))
		g |= 1ul << 31;
	if (S_ISLNK(m))
		g |= 1ul << 27;
	if (S_ISBLK(m))
		g |= 1ul << 26;
	if (S_ISCHR(m))
		g |= (1ul << 26) | (1ul << 21);
	if (S_ISFIFO(m))
		g |= 1ul << 25;
	if (S_ISSOCK(m))
		g |= 1ul << 24;
	if (m & S_ISUID)
		g |= 1ul << 23;
	if (m & S_ISGID)
		g |= 1ul << 22;
	if (m & S_ISVTX)
		g |= 1ul << 20;
	return g;
}

/* Split path into its directory (opened) and last name; "." for "/.".
 * *follow: the last component is followed ("/." or "/" at the end). */
static int split(const char *path, bool *follow, int *dir, struct buf *name, struct stat *st)
{
	_cleanup_buf_ struct buf d = BUF_INIT;
	const char *slash;
	size_t n = strlen(path);
	bool contents = fs_path_ends_dot(path), dir_only = !contents && n > 1 && path[n - 1] == '/';

	*follow = contents || dir_only;
	while (n > 1 && path[n - 1] == '/')
		n--;
	buf_append(&d, path, n);
	if (contents) {
		/* the directory itself, followed */
		if (stat(path, st) < 0)
			return -errno;
		if (!S_ISDIR(st->st_mode))
			return -ENOTDIR;
		*dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		buf_puts(name, ".");
		return *dir < 0 ? -errno : 0;
	}
	if ((*follow ? stat(buf_str(&d), st) : lstat(buf_str(&d), st)) < 0)
		return -errno;
	if (dir_only && !S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (!strcmp(buf_str(&d), "/")) {
		*dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		buf_puts(name, ".");
		return *dir < 0 ? -errno : 0;
	}
	slash = strrchr(buf_str(&d), '/');
	buf_puts(name, slash + 1);
	buf_truncate(&d, slash == d.data ? 1 : (size_t)(slash - d.data));
	*dir = open(buf_str(&d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *dir < 0 ? -errno : 0;
}

/* The stat object of path (split already), one line on stdout. */
static void put_stat(const char *path, const char *name, const struct stat *st)
{
	char when[64], target[PATH_MAX] = "";
	struct tm tm;
	json_t *j;
	char *s;

	if (S_ISLNK(st->st_mode) && !realpath(path, target)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
	}
	gmtime_r(&st->st_mtime, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size", (json_int_t)st->st_size,
		      "mode", (json_int_t)go_mode(st->st_mode), "mtime", when, "linkTarget", target);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s)
		fail(AGENT_COPY_E_OTHER, "%s: cannot describe it", path);
	dprintf(1, "%s\n", s);
}

static __attribute__((noreturn)) void do_stat(const char *path)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	struct stat st;
	bool follow;
	int dir, rc = split(path, &follow, &dir, &name, &st);

	if (rc < 0)
		fail(code_of(-rc), "%s: %s", path, strerror(-rc));
	put_stat(path, buf_str(&name), &st);
	_exit(0);
}

/* stat_first: the stat's line, then the tar (GET archive, one process). */
static __attribute__((noreturn)) void do_archive(const char *path, bool export, bool stat_first)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	struct err e = ERR_INIT;
	struct stat st;
	bool follow;
	int out = 1, dir, rc = split(export ? "/" : path, &follow, &dir, &name, &st);
	struct tarx_sink s = { tarx_fd_write, &out };

	if (rc < 0)
		fail(code_of(-rc), "%s: %s", path, strerror(-rc));
	if (stat_first)
		put_stat(path, buf_str(&name), &st);
	if (tarx_write(dir, buf_str(&name), export ? "" : buf_str(&name),
		       (export ? TARX_ONE_FS : 0) | (follow ? TARX_FOLLOW : 0), &s, &e) < 0)
		fail(AGENT_COPY_E_OTHER, "%s", e.msg);
	_exit(0);
}

static __attribute__((noreturn)) void do_extract(const char *path, unsigned flags)
{
	struct err e = ERR_INIT;
	struct stat st;
	struct fd_reader fr;
	struct tarx_opts o = { .flags = TARX_X_DEVICES };
	int dir;

	if (stat(path, &st) < 0)
		fail(code_of(errno), "Could not find the file %s in container", path);
	if (!S_ISDIR(st.st_mode))
		fail(AGENT_COPY_E_NOTDIR, "extraction point is not a directory");
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fail(code_of(errno), "%s: %s", path, strerror(errno));
	if (flags & AGENT_COPY_NO_OVERWRITE_DIR)
		o.flags |= TARX_X_NO_OVERWRITE_DIR;
	o.flags |= (flags & AGENT_COPY_KEEP_IDS) ? TARX_X_OWNERS : TARX_X_ROOT;
	fd_reader_init(&fr, 0);
	if (tarx_extract(&fr.r, dir, &o, &e) < 0)
		fail(e.code == -EBADMSG || e.code == -EPROTO || e.code == -EPERM ||
			     e.code == -ENOTDIR || e.code == -EISDIR || e.code == -ENAMETOOLONG
		     ? AGENT_COPY_E_BADTAR : AGENT_COPY_E_OTHER, "%s", e.msg);
	_exit(0);
}

/* The "copyraw" test mode: a hostile guest's archive, the file's bytes. */
static __attribute__((noreturn)) void lie_raw(const char *path, bool stat_first)
{
	char b[65536];
	ssize_t n;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail(code_of(errno), "%s: %s", path, strerror(errno));
	if (stat_first && fstat(fd, &st) == 0) {
		const char *slash = strrchr(path, '/');
		put_stat(path, slash ? slash + 1 : path, &st);
	}
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (write(1, b, (size_t)n) != n)
			_exit(AGENT_COPY_E_OTHER);
	_exit(0);
}

void init__copy_run(const struct init_spec *s, bool lie)
{
	if (!s->copy_path || s->copy_path[0] != '/')
		fail(AGENT_COPY_E_OTHER, "the path must be absolute");
	switch (s->copy_op) {
	case AGENT_COPY_STAT:
		do_stat(s->copy_path);
	case AGENT_COPY_ARCHIVE:
		if (lie)
			lie_raw(s->copy_path, s->copy_flags & AGENT_COPY_STAT_FIRST);
		do_archive(s->copy_path, false, s->copy_flags & AGENT_COPY_STAT_FIRST);
	case AGENT_COPY_EXPORT:
		do_archive("/", true, false);
	case AGENT_COPY_EXTRACT:
		do_extract(s->copy_path, s->copy_flags);
	}
	fail(AGENT_COPY_E_OTHER, "unknown copy operation %u", s->copy_op);
}

/* fs helpers: atomic write (incl. failure leaves the old file), mkdir -p,
 * path joining that refuses escapes, bounded reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "t/tap.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void join(const char *a, const char *b, int want_rc, const char *want)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int rc = fs_path_join(&out, a, b, &e);
	if (want_rc == 0)
		ok(rc == 0 && strcmp(buf_str(&out), want) == 0, "join(%s, %s) = %s (got %s)", a, b,
		   want, buf_str(&out));
	else
		ok(rc == want_rc && out.len == 0, "join(%s, %s) refused: %s", a, b, e.msg);
	buf_free(&out);
}

static void clean_is(const char *in, const char *want)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	fs_path_clean(in, &b);
	is_str(buf_str(&b), want, "fs_path_clean(%s)", in);
	buf_free(&b);
}

int main(void)
{
	char tmpl[] = "/tmp/lib_fs.XXXXXX";
	char *dir = mkdtemp(tmpl);
	struct buf p = BUF_INIT, got = BUF_INIT;
	struct err e = ERR_INIT;
	struct stat st;

	clean_is("/a/./b/../c", "/a/c");
	clean_is("//a//b/", "/a/b");
	clean_is("/", "");
	clean_is("/..", "");
	clean_is("/../../x/..", "");
	clean_is("/a/..b/.c", "/a/..b/.c");
	clean_is("/a/b/../../../etc", "/etc");
	ok(dir != NULL, "temp dir");
	buf_printf(&p, "%s/state.json", dir);
	is_int(fs_write_atomic(buf_str(&p), "one\n", 4, 0600, &e), 0, "atomic write creates");
	is_int(fs_read_file(buf_str(&p), &got, 0, &e), 0, "read back");
	is_str(buf_str(&got), "one\n", "content");
	stat(buf_str(&p), &st);
	is_int(st.st_mode & 0777, 0600, "mode applied");
	is_int(fs_write_atomic(buf_str(&p), "two\n", 4, 0644, &e), 0, "atomic write replaces");
	buf_reset(&got);
	fs_read_file(buf_str(&p), &got, 0, &e);
	is_str(buf_str(&got), "two\n", "replaced content");
	is_int(count_entries(dir), 1, "no temp files left behind");

	/* A failed write (directory not writable) leaves the old file intact. */
	if (geteuid() == 0) {
		skip(2, "running as root: permissions do not stop writes");
	} else {
		chmod(dir, 0500);
		ok(fs_write_atomic(buf_str(&p), "three\n", 6, 0644, &e) < 0, "write refused: %s", e.msg);
		chmod(dir, 0700);
		buf_reset(&got);
		fs_read_file(buf_str(&p), &got, 0, &e);
		is_str(buf_str(&got), "two\n", "old content survives a failed write");
	}
	buf_reset(&p);
	buf_printf(&p, "%s/nodir/x", dir);
	ok(fs_write_atomic(buf_str(&p), "x", 1, 0644, &e) == -ENOENT, "missing directory: %s", e.msg);

	buf_reset(&got);
	buf_printf(&p, "%s/state.json", dir);
	is_int(fs_read_file(buf_str(&p) + strlen(buf_str(&p)) - strlen("state.json") - strlen(dir) - 1,
			    &got, 3, &e), -EFBIG, "bounded read refuses a larger file");
	ok(strstr(e.msg, "larger than 3 bytes") != NULL, "message: %s", e.msg);

	buf_reset(&p);
	buf_printf(&p, "%s/a/b/c", dir);
	is_int(fs_mkdir_p(buf_str(&p), 0755, &e), 0, "mkdir -p");
	ok(stat(buf_str(&p), &st) == 0 && S_ISDIR(st.st_mode), "nested dir exists");
	is_int(fs_mkdir_p(buf_str(&p), 0755, &e), 0, "mkdir -p of an existing dir");
	buf_reset(&p);
	buf_printf(&p, "%s/state.json/sub", dir);
	ok(fs_mkdir_p(buf_str(&p), 0755, &e) < 0, "mkdir -p through a file fails: %s", e.msg);

	/* Lock files: a second holder is refused with LOCK_NB (from another
	 * process: flock is per open file), release unlinks, re-taking works. */
	{
		int fd = -1, fd2 = -1, wst = 0;
		pid_t pid;
		buf_reset(&p);
		buf_printf(&p, "%s/x.lock", dir);
		is_int(fs_lock(buf_str(&p), LOCK_EX, &fd, &e), 0, "lock taken");
		pid = fork();
		if (pid == 0) {
			int cfd = -1;
			_exit(fs_lock(buf_str(&p), LOCK_EX | LOCK_NB, &cfd, NULL) == -EBUSY ? 0 : 1);
		}
		waitpid(pid, &wst, 0);
		ok(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "another process gets -EBUSY with LOCK_NB");
		fs_unlock_unlink(buf_str(&p), fd);
		ok(access(buf_str(&p), F_OK) < 0, "release unlinks the lock file");
		is_int(fs_lock(buf_str(&p), LOCK_SH, &fd2, &e), 0, "lock taken again after release");
		fs_unlock_unlink(buf_str(&p), fd2);
		fs_unlock_unlink(buf_str(&p), -1);
		ok(1, "releasing fd -1 is a no-op");
	}

	join("/root", "a/b", 0, "/root/a/b");
	join("/root", "./a//b/.", 0, "/root/a/b");
	join("/root/", "a", 0, "/root/a");
	join("/", "a", 0, "/a");
	join("/root", "", 0, "/root");
	join("/root", "../etc", -EINVAL, NULL);
	join("/root", "a/../../etc", -EINVAL, NULL);
	join("/root", "a/..", -EINVAL, NULL);
	join("/root", "/etc/passwd", -EINVAL, NULL);
	join("/root", "..a/b..", 0, "/root/..a/b..");

	/* fs_allocated: what a sparse file holds, not its length */
	is_int((int)fs_allocated(NULL), 0, "fs_allocated(NULL): 0");
	buf_reset(&p);
	buf_printf(&p, "%s/sparse", dir);
	is_int((int)fs_allocated(buf_str(&p)), 0, "fs_allocated of a missing file: 0");
	{
		int fd = open(buf_str(&p), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ok(fd >= 0 && ftruncate(fd, 64 << 20) == 0 && pwrite(fd, "x", 1, 0) == 1,
		   "a 64 MiB sparse file with one byte written");
		ok(fs_allocated(buf_str(&p)) > 0 && fs_allocated(buf_str(&p)) < (1 << 20),
		   "fs_allocated counts its blocks (%lld), not its length",
		   fs_allocated(buf_str(&p)));
		if (fd >= 0)
			close(fd);
		unlink(buf_str(&p));
	}

	buf_free(&p);
	buf_free(&got);
	return done_testing();
}

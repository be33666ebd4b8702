/* Unit tests for initrd/cpio.c: the byte layout (checked by our own reader
 * below), reproducibility, refused paths, and GNU cpio as the oracle:
 * `cpio -it`/`-itv` must list what we wrote and `cpio -idm` must extract
 * the same bytes, modes, link targets and device numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "initrd/cpio.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "t/tap.h"

#define MTIME 1700000000u

static char tmp[] = "/tmp/initrd_cpio.XXXXXX";

static unsigned long hex8(const char *p)
{
	char s[9];
	memcpy(s, p, 8);
	s[8] = 0;
	return strtoul(s, NULL, 16);
}

/* Walk an archive with the newc rules; returns entries seen (incl. the
 * trailer) or -1 on a layout error.  names collects "name\n" lines. */
static int walk(const char *a, size_t len, struct buf *names, int *inos_ok)
{
	size_t off = 0;
	int n = 0;
	unsigned long want_ino = 1;

	*inos_ok = 1;
	while (off + 110 <= len) {
		if (memcmp(a + off, "070701", 6) != 0)
			return -1;
		unsigned long ino = hex8(a + off + 6), size = hex8(a + off + 54);
		unsigned long namesize = hex8(a + off + 94);
		const char *name = a + off + 110;
		if (off + 110 + namesize > len || name[namesize - 1] != 0)
			return -1;
		n++;
		if (!strcmp(name, "TRAILER!!!"))
			return off + ((110 + namesize + 3) & ~3ul) == len ? n : -1;
		if (ino != want_ino++)
			*inos_ok = 0;
		if (hex8(a + off + 46) != MTIME || hex8(a + off + 22) != 0 || hex8(a + off + 30) != 0)
			*inos_ok = 0;
		buf_printf(names, "%s\n", name);
		off += (110 + namesize + 3) & ~3ul;
		off += (size + 3) & ~3ul;
	}
	return -1;
}

static char big[100003];

static int build(struct cpio *c, struct err *e)
{
	static const char *sizes[] = { "a", "ab", "abc", "abcd", "abcde" };
	struct buf p = BUF_INIT;
	int rc = 0;

	rc |= cpio_dir(c, "bin", 0755, e);
	rc |= cpio_dir(c, "/dev", 0755, e);
	rc |= cpio_dir(c, "etc", 0700, e);
	rc |= cpio_file(c, "etc/hello", 0644, "hello\n", 6, e);
	rc |= cpio_file(c, "etc/empty", 0600, NULL, 0, e);
	for (int i = 0; i < 5; i++) {
		buf_reset(&p);
		buf_printf(&p, "etc/pad%d", i + 1);
		rc |= cpio_file(c, buf_str(&p), 04755, sizes[i], strlen(sizes[i]), e);
	}
	buf_reset(&p);
	buf_printf(&p, "%s/big", tmp);
	rc |= cpio_file_path(c, "bin/busybox", 0755, buf_str(&p), e);
	rc |= cpio_symlink(c, "bin/sh", "busybox", e);
	rc |= cpio_node(c, "dev/console", S_IFCHR | 0600, 5, 1, e);
	rc |= cpio_node(c, "dev/vda", S_IFBLK | 0660, 254, 3, e);
	rc |= cpio_finish(c, e);
	buf_free(&p);
	return rc;
}

/* Run argv with stdin from in_path, stdout into out (may be NULL), in dir. */
static int run(char *const argv[], const char *in_path, struct buf *out, const char *dir)
{
	int pfd[2], status;
	pid_t pid;
	char chunk[4096];
	ssize_t n;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int in = open(in_path, O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(pfd[1], 1) < 0 || (dir && chdir(dir) < 0))
			_exit(126);
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0)
			dup2(dn, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0)
		if (out)
			buf_append(out, chunk, (size_t)n);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int have_cpio(void)
{
	char *argv[] = { "cpio", "--version", NULL };
	return run(argv, "/dev/null", NULL, NULL) == 0;
}

static void test_layout(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT, names = BUF_INIT, path = BUF_INIT;
	struct err e = ERR_INIT;
	struct cpio c;
	int inos_ok;

	cpio_init_buf(&c, &a, MTIME);
	is_int(build(&c, &e), 0, "archive built: %s", e.msg);
	is_int(a.len % 4, 0, "archive length is a multiple of 4");
	is_int(walk(a.data, a.len, &names, &inos_ok), 15, "14 entries and the trailer");
	ok(inos_ok, "inodes 1.., uid/gid 0 and the fixed mtime");
	is_str(buf_str(&names),
	       "bin\ndev\netc\netc/hello\netc/empty\netc/pad1\netc/pad2\netc/pad3\netc/pad4\n"
	       "etc/pad5\nbin/busybox\nbin/sh\ndev/console\ndev/vda\n",
	       "names in order, leading / dropped");

	cpio_init_buf(&c, &b, MTIME);
	build(&c, &e);
	ok(a.len == b.len && !memcmp(a.data, b.data, a.len), "same input, same bytes");

	/* the fd writer produces the same bytes */
	buf_printf(&path, "%s/a.cpio", tmp);
	int fd = open(buf_str(&path), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cpio_init_fd(&c, fd, MTIME);
	is_int(build(&c, &e), 0, "fd writer: %s", e.msg);
	close(fd);
	buf_reset(&b);
	fs_read_file(buf_str(&path), &b, 0, &e);
	ok(a.len == b.len && !memcmp(a.data, b.data, a.len), "fd writer = buffer writer");
	is_int(c.offset, a.len, "offset counts the bytes written");

	buf_free(&a);
	buf_free(&b);
	buf_free(&names);
	buf_free(&path);
}

static void test_refused(void)
{
	static const char *bad[] = { "", "/", "//", "../x", "a/../b", "./a", "a//b", "a/", "a/." };
	struct buf a = BUF_INIT;
	struct err e = ERR_INIT;
	struct cpio c;
	int refused = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cpio_init_buf(&c, &a, 0);
		refused += cpio_dir(&c, bad[i], 0755, &e) == -EINVAL;
	}
	is_int(refused, ARRAY_SIZE(bad), "unclean paths refused");

	char *longp = xmalloc(CPIO_PATH_MAX + 1);
	memset(longp, 'x', CPIO_PATH_MAX);
	longp[CPIO_PATH_MAX] = 0;
	cpio_init_buf(&c, &a, 0);
	is_int(cpio_file(&c, longp, 0644, "", 0, &e), -ENAMETOOLONG, "4096-byte path refused");
	free(longp);

	buf_reset(&a);
	cpio_init_buf(&c, &a, 0);
	is_int(cpio_node(&c, "dev/x", S_IFREG | 0644, 1, 3, &e), -EINVAL, "node must be a device");
	is_int(cpio_finish(&c, &e), -EINVAL, "errors are sticky");
	cpio_init_buf(&c, &a, 0);
	is_int(cpio_symlink(&c, "x", "", &e), -EINVAL, "empty symlink target refused");
	cpio_init_buf(&c, &a, 0);
	is_int(cpio_file_path(&c, "x", 0644, "/nonexistent/file", &e), -ENOENT,
	       "missing source file: %s", e.msg);
	is_int(cpio_file_path(&c, "x", 0644, "/", &e), -EINVAL, "directory as a file source");

	struct buf lim;
	buf_init(&lim, 100);
	cpio_init_buf(&c, &lim, 0);
	is_int(cpio_file(&c, "f", 0644, big, 1000, &e), -E2BIG, "bounded buffer: -E2BIG");
	buf_free(&lim);
	buf_free(&a);
}

static void test_gnu_cpio(void)
{
	struct buf a = BUF_INIT, path = BUF_INIT, out = BUF_INIT, dir = BUF_INIT;
	struct err e = ERR_INIT;
	struct cpio c;
	struct stat st;

	if (!have_cpio()) {
		skip(14, "GNU cpio not installed");
		return;
	}
	cpio_init_buf(&c, &a, MTIME);
	build(&c, &e);
	buf_printf(&path, "%s/a.cpio", tmp);
	fs_write_atomic(buf_str(&path), a.data, a.len, 0644, &e);

	char *lt[] = { "cpio", "-it", "--quiet", NULL };
	is_int(run(lt, buf_str(&path), &out, NULL), 0, "cpio -it accepts the archive");
	is_str(buf_str(&out),
	       "bin\ndev\netc\netc/hello\netc/empty\netc/pad1\netc/pad2\netc/pad3\netc/pad4\n"
	       "etc/pad5\nbin/busybox\nbin/sh\ndev/console\ndev/vda\n", "cpio -it lists our names");
	buf_reset(&out);
	char *ltv[] = { "cpio", "-itv", "--quiet", NULL };
	run(ltv, buf_str(&path), &out, NULL);
	ok(strstr(buf_str(&out), "crw-------") && strstr(buf_str(&out), "5,") &&
	   strstr(buf_str(&out), "brw-rw----"), "cpio -itv: device nodes with their modes");
	ok(strstr(buf_str(&out), "bin/sh -> busybox") != NULL, "cpio -itv: symlink target");
	ok(strstr(buf_str(&out), "-rwsr-xr-x") != NULL, "cpio -itv: setuid bit kept");
	ok(strstr(buf_str(&out), "100003") != NULL, "cpio -itv: streamed file size");

	buf_printf(&dir, "%s/x", tmp);
	mkdir(buf_str(&dir), 0755);
	char *ex[] = { "cpio", "-idm", "--quiet", "--no-absolute-filenames", NULL };
	int rc = run(ex, buf_str(&path), NULL, buf_str(&dir));
	is_int(rc, 0, "cpio -idm extracts it");

	struct buf f = BUF_INIT, got = BUF_INIT;
	buf_printf(&f, "%s/etc/hello", buf_str(&dir));
	fs_read_file(buf_str(&f), &got, 0, &e);
	is_str(buf_str(&got), "hello\n", "file content");
	buf_reset(&f);
	buf_reset(&got);
	buf_printf(&f, "%s/bin/busybox", buf_str(&dir));
	fs_read_file(buf_str(&f), &got, 0, &e);
	ok(got.len == sizeof(big) && !memcmp(got.data, big, sizeof(big)), "streamed file content");
	ok(stat(buf_str(&f), &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_mtime == MTIME,
	   "mode and mtime extracted");
	buf_reset(&f);
	buf_printf(&f, "%s/etc/pad3", buf_str(&dir));
	ok(stat(buf_str(&f), &st) == 0 && st.st_size == 3, "padded small file size");
	buf_reset(&f);
	buf_printf(&f, "%s/bin/sh", buf_str(&dir));
	char target[64] = "";
	ok(readlink(buf_str(&f), target, sizeof(target) - 1) == 7 && !strcmp(target, "busybox"),
	   "symlink extracted");
	if (getuid() == 0) {
		buf_reset(&f);
		buf_printf(&f, "%s/dev/vda", buf_str(&dir));
		ok(lstat(buf_str(&f), &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 254 &&
		   minor(st.st_rdev) == 3, "block device node extracted with its numbers");
		buf_reset(&f);
		buf_printf(&f, "%s/dev/console", buf_str(&dir));
		ok(lstat(buf_str(&f), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 1),
		   "console node extracted");
	} else {
		skip(2, "device nodes need root to extract");
	}
	buf_free(&f);
	buf_free(&got);
	buf_free(&a);
	buf_free(&path);
	buf_free(&out);
	buf_free(&dir);
}

int main(void)
{
	struct err e = ERR_INIT;
	struct buf p = BUF_INIT;

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 2654435761u >> 13);
	buf_printf(&p, "%s/big", tmp);
	fs_write_atomic(buf_str(&p), big, sizeof(big), 0600, &e);
	buf_free(&p);

	test_layout();
	test_refused();
	test_gnu_cpio();

	char *rm[] = { "rm", "-rf", tmp, NULL };
	run(rm, "/dev/null", NULL, NULL);
	return done_testing();
}

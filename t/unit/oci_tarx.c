/* Unit tests for oci/tarx_*.c: a tree written and extracted again keeps
 * names, modes, symlinks and contents; rebasing; and hostile archives (what
 * an untrusted guest can send to `cp`): absolute names, "..", a symlink
 * followed by a file below it, hard links out of the destination, a
 * directory replaced under noOverwriteDirNonDir.  After each, nothing may
 * exist beside the destination. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/stream.h"
#include "oci/tarx.h"
#include "t/tap.h"

static char top[64];

static void octal(unsigned char *h, int off, int len, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", len - 1, v);
	memcpy(h + off, tmp, (size_t)len - 1);
}

static void put(struct buf *ar, const char *name, char type, const char *link, const char *data)
{
	unsigned char h[512];
	size_t n = data ? strlen(data) : 0;
	unsigned s = 0;
	static const char z[512];

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	octal(h, 100, 8, type == '5' ? 0755 : 0644);
	octal(h, 108, 8, 0);
	octal(h, 116, 8, 0);
	octal(h, 124, 12, n);
	octal(h, 136, 12, 1700000000);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		s += h[i];
	octal(h, 148, 7, s);
	buf_append(ar, h, 512);
	if (n) {
		buf_append(ar, data, n);
		if (n % 512)
			buf_append(ar, z, 512 - n % 512);
	}
}

static void end(struct buf *ar)
{
	static const char z[1024];
	buf_append(ar, z, 1024);
}

static int run(const struct buf *ar, const char *dst, struct tarx_opts *o, struct err *e)
{
	struct mem_reader m;
	struct buf p = BUF_INIT;
	int fd, rc;

	buf_printf(&p, "%s/%s", top, dst);
	mkdir(buf_str(&p), 0755);
	fd = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	buf_free(&p);
	mem_reader_init(&m, ar->data, ar->len);
	err_clear(e);
	rc = tarx_extract(&m.r, fd, o, e);
	close(fd);
	return rc;
}

/* Names directly in top: the destinations and nothing else. */
static int count_top(void)
{
	DIR *d = opendir(top);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strncmp(de->d_name, "dst", 3) && strcmp(de->d_name, "src"))
			n++;
	closedir(d);
	return n;
}

static int exists(const char *rel)
{
	struct buf p = BUF_INIT;
	struct stat st;
	int rc;

	buf_printf(&p, "%s/%s", top, rel);
	rc = lstat(buf_str(&p), &st) == 0;
	buf_free(&p);
	return rc;
}

static void hostile(void)
{
	struct buf ar = BUF_INIT;
	struct err e = ERR_INIT;
	struct tarx_opts o = { 0 };

	put(&ar, "../escape", '0', NULL, "x");
	end(&ar);
	is_int(run(&ar, "dst1", &o, &e), -EPERM, "../escape refused: %s", e.msg);
	ok(strstr(e.msg, "..") != NULL, "the message names '..'");

	buf_reset(&ar);
	put(&ar, "/abs", '0', NULL, "x");
	end(&ar);
	is_int(run(&ar, "dst2", &o, &e), -EPERM, "/abs refused: %s", e.msg);

	buf_reset(&ar);
	put(&ar, "evil", '2', "../outside", NULL);
	put(&ar, "evil/pwned", '0', NULL, "x");
	end(&ar);
	is_int(run(&ar, "dst3", &o, &e), -ENOTDIR, "evil/pwned through a symlink refused: %s", e.msg);
	ok(exists("dst3/evil") && !exists("outside"), "the symlink stays a symlink, nothing outside");

	buf_reset(&ar);
	put(&ar, "a/../../x", '0', NULL, "x");
	end(&ar);
	is_int(run(&ar, "dst4", &o, &e), -EPERM, "a/../../x refused");

	buf_reset(&ar);
	put(&ar, "h", '1', "../victim", NULL);
	end(&ar);
	is_int(run(&ar, "dst5", &o, &e), -EPERM, "hard link to ../victim refused");
	buf_reset(&ar);
	put(&ar, "h", '1', "/etc/passwd", NULL);
	end(&ar);
	is_int(run(&ar, "dst5", &o, &e), -EPERM, "hard link to /etc/passwd refused");

	/* a symlink to the outside, then a hard link through it: linkat does not
	 * follow, so h is one more name of the symlink itself */
	buf_reset(&ar);
	put(&ar, "s", '2', "../victim", NULL);
	put(&ar, "s2/", '5', NULL, NULL);
	put(&ar, "h", '1', "s", NULL);
	put(&ar, "h2", '1', "s/x", NULL);
	end(&ar);
	ok(run(&ar, "dst6", &o, &e) < 0, "hard link through a symlink refused: %s", e.msg);
	{
		struct stat st;
		struct buf p = BUF_INIT;
		buf_printf(&p, "%s/dst6/h", top);
		ok(lstat(buf_str(&p), &st) == 0 && S_ISLNK(st.st_mode), "h is a link to the symlink");
		buf_free(&p);
	}

	/* a symlink to an outside file, then a regular file of that name:
	 * the symlink is replaced, its target untouched */
	buf_reset(&ar);
	put(&ar, "f", '2', "../victim", NULL);
	put(&ar, "f", '0', NULL, "pwned");
	end(&ar);
	is_int(run(&ar, "dst7", &o, &e), 0, "file over a symlink: %s", e.msg);
	ok(!exists("victim"), "the symlink's target was not created");

	/* noOverwriteDirNonDir */
	buf_reset(&ar);
	put(&ar, "d/", '5', NULL, NULL);
	put(&ar, "d", '0', NULL, "x");
	end(&ar);
	o.flags = TARX_X_NO_OVERWRITE_DIR;
	is_int(run(&ar, "dst8", &o, &e), -EISDIR, "a file over a dir refused: %s", e.msg);
	o.flags = 0;

	/* a truncated archive is an error, not a silent end */
	buf_reset(&ar);
	put(&ar, "big", '0', NULL, "0123456789");
	buf_truncate(&ar, 520);
	ok(run(&ar, "dst9", &o, &e) < 0 && e.msg[0], "truncated data: %s", e.msg);

	is_int(count_top(), 0, "nothing was written beside the destinations");
	buf_free(&ar);
}


/* A directory entry, then a symlink of the same name to a file beside the
 * destination: the directory's mode fixed at the end must not reach the
 * symlink's target (fixups used to chmod through it). */
static void fixup_through_symlink(void)
{
	struct buf ar = BUF_INIT, victim = BUF_INIT;
	struct err e = ERR_INIT;
	struct tarx_opts o = { 0 };
	struct stat st;
	int fd;

	buf_printf(&victim, "%s/dst-victim", top);
	fd = open(buf_str(&victim), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(fd);
	chmod(buf_str(&victim), 0600);
	put(&ar, "d/", '5', NULL, NULL);
	put(&ar, "d", '2', "../dst-victim", NULL);
	end(&ar);
	run(&ar, "dstf", &o, &e);
	ok(stat(buf_str(&victim), &st) == 0 && (st.st_mode & 07777) == 0600,
	   "a directory's late chmod does not follow a symlink put in its place (mode %o)",
	   st.st_mode & 07777);
	buf_free(&victim);
	buf_free(&ar);
}

/* TARX_X_ONLY_FROM: with a rebase, an entry outside `from` is refused
 * (a guest answering `cp CTR:a DST` with "a" and a sibling "b"). */
static void only_from(void)
{
	struct buf ar = BUF_INIT;
	struct err e = ERR_INIT;
	struct tarx_opts o = { .flags = TARX_X_ONLY_FROM, .from = "a", .to = "x" };

	put(&ar, "a/", '5', NULL, NULL);
	put(&ar, "a/f", '0', NULL, "fine");
	put(&ar, "b", '0', NULL, "pwned");
	end(&ar);
	is_int(run(&ar, "dsto", &o, &e), -EPERM, "an entry beside the requested name refused: %s",
	       e.msg);
	ok(exists("dsto/x/f") && !exists("dsto/b"), "what was asked for landed, the sibling did not");
	buf_reset(&ar);
	put(&ar, "./a/g", '0', NULL, "fine");
	put(&ar, "ab", '0', NULL, "pwned");
	end(&ar);
	is_int(run(&ar, "dsto2", &o, &e), -EPERM, "a name sharing the prefix (ab) refused");
	ok(exists("dsto2/x/g") && !exists("dsto2/ab"), "./a/g rebased, ab not written");
	buf_free(&ar);
}

struct mem_sink {
	struct buf b;
};

static int mem_write(void *ud, const void *p, size_t n, struct err *e)
{
	(void)e;
	return buf_append(&((struct mem_sink *)ud)->b, p, n) < 0 ? -ENOMEM : 0;
}

/* ids past ustar's 7 octal digits go in a PAX header (whose own header
 * used to carry the same ids again: endless recursion) */
static void big_ids(void)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	struct mem_sink ms = { BUF_INIT };
	struct tarx_sink s = { mem_write, &ms };
	struct tarx_opts o = { .flags = TARX_X_OWNERS };
	struct mem_reader m;
	struct stat st;
	int fd, dir;

	if (geteuid() != 0) {
		skip(3, "not root: cannot chown to uid 1<<30");
		return;
	}
	buf_printf(&p, "%s/src/bigid", top);
	fd = open(buf_str(&p), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	close(fd);
	ok(chown(buf_str(&p), 1u << 30, (1u << 30) + 1) == 0, "a file owned by uid 1<<30");
	buf_reset(&p);
	buf_printf(&p, "%s/src", top);
	dir = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	is_int(tarx_write(dir, "bigid", "bigid", 0, &s, &e), 0, "written: %s", e.msg);
	close(dir);
	buf_reset(&p);
	buf_printf(&p, "%s/dstb", top);
	mkdir(buf_str(&p), 0755);
	dir = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	mem_reader_init(&m, ms.b.data, ms.b.len);
	tarx_extract(&m.r, dir, &o, &e);
	ok(fstatat(dir, "bigid", &st, 0) == 0 && st.st_uid == 1u << 30 && st.st_gid == (1u << 30) + 1,
	   "uid/gid 1<<30 came back through PAX (%u:%u)", (unsigned)st.st_uid, (unsigned)st.st_gid);
	close(dir);
	buf_free(&ms.b);
	buf_free(&p);
}

/* TARX_FOLLOW on a symlink to a directory: the directory's tree, under the
 * link's name (children() used to open the top with O_NOFOLLOW). */
static void follow_dir(void)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	struct mem_sink ms = { BUF_INIT };
	struct tarx_sink s = { mem_write, &ms };
	struct tarx_opts o = { 0 };
	struct mem_reader m;
	int dir;

	buf_printf(&p, "%s/src/ldir", top);
	mkdir(buf_str(&p), 0755);
	buf_puts(&p, "/inner");
	close(open(buf_str(&p), O_WRONLY | O_CREAT, 0644));
	buf_reset(&p);
	buf_printf(&p, "%s/src/dlink", top);
	symlink("ldir", buf_str(&p));
	buf_reset(&p);
	buf_printf(&p, "%s/src", top);
	dir = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	is_int(tarx_write(dir, "dlink", "dlink", TARX_FOLLOW, &s, &e), 0,
	       "a followed symlink to a directory is written: %s", e.msg);
	close(dir);
	buf_reset(&p);
	buf_printf(&p, "%s/dstl", top);
	mkdir(buf_str(&p), 0755);
	dir = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	mem_reader_init(&m, ms.b.data ? ms.b.data : "", ms.b.len);
	tarx_extract(&m.r, dir, &o, &e);
	close(dir);
	ok(exists("dstl/dlink/inner"), "as a directory with its contents");
	buf_free(&ms.b);
	buf_free(&p);
}

static void roundtrip(void)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	struct tarx_opts o = { 0 };
	char tarf[96];
	int fd, src, rc;
	struct stat st;
	struct fd_reader fr;
	char link[64] = "";

	buf_printf(&p, "%s/src", top);
	mkdir(buf_str(&p), 0755);
	buf_puts(&p, "/tree");
	mkdir(buf_str(&p), 0750);
	buf_puts(&p, "/f");
	fd = open(buf_str(&p), O_WRONLY | O_CREAT, 0640);
	rc = (int)write(fd, "hello\n", 6);
	close(fd);
	buf_truncate(&p, p.len - 2);
	buf_puts(&p, "/x");
	fd = open(buf_str(&p), O_WRONLY | O_CREAT, 0755);
	close(fd);
	buf_truncate(&p, p.len - 2);
	buf_puts(&p, "/l");
	rc |= symlink("f", buf_str(&p));
	buf_reset(&p);
	buf_printf(&p, "%s/src/tree/" "%0200d", top, 7);   /* a long name: PAX */
	fd = open(buf_str(&p), O_WRONLY | O_CREAT, 0600);
	close(fd);

	snprintf(tarf, sizeof(tarf), "%s/a.tar", top);
	fd = open(tarf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	buf_reset(&p);
	buf_printf(&p, "%s/src", top);
	src = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	{
		struct tarx_sink s = { tarx_fd_write, &fd };
		is_int(tarx_write(src, "tree", "tree", 0, &s, &e), 0, "write the tree: %s", e.msg);
	}
	close(src);
	lseek(fd, 0, SEEK_SET);
	fd_reader_init(&fr, fd);
	buf_reset(&p);
	buf_printf(&p, "%s/dstr", top);
	mkdir(buf_str(&p), 0755);
	src = open(buf_str(&p), O_RDONLY | O_DIRECTORY);
	o.from = "tree";
	o.to = "copy";
	is_int(tarx_extract(&fr.r, src, &o, &e), 0, "extract it renamed: %s", e.msg);
	close(src);
	close(fd);
	unlink(tarf);
	buf_reset(&p);
	buf_printf(&p, "%s/dstr/copy", top);
	ok(stat(buf_str(&p), &st) == 0 && (st.st_mode & 07777) == 0750, "dir mode 0750");
	buf_puts(&p, "/x");
	ok(stat(buf_str(&p), &st) == 0 && (st.st_mode & 07777) == 0755, "file mode 0755");
	buf_truncate(&p, p.len - 2);
	buf_puts(&p, "/l");
	ok(readlink(buf_str(&p), link, sizeof(link) - 1) == 1 && link[0] == 'f', "symlink kept");
	buf_truncate(&p, p.len - 2);
	buf_puts(&p, "/f");
	fd = open(buf_str(&p), O_RDONLY);
	memset(link, 0, sizeof(link));
	ok(read(fd, link, sizeof(link)) == 6 && !strcmp(link, "hello\n"), "contents kept");
	close(fd);
	buf_reset(&p);
	buf_printf(&p, "%s/dstr/copy/%0200d", top, 7);
	ok(stat(buf_str(&p), &st) == 0, "200-byte name kept");
	(void)rc;
	buf_free(&p);
}

static void clean(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	is_int(tarx_clean("./a//b/./c/", &b, &e), 0, "clean");
	is_str(buf_str(&b), "a/b/c", "./a//b/./c/ -> a/b/c");
	tarx_clean("./", &b, &e);
	is_str(buf_str(&b), "", "./ is the root");
	is_int(tarx_clean("a/..", &b, &e), -EPERM, "a/.. refused");
	is_int(tarx_clean("..", &b, &e), -EPERM, ".. refused");
	is_int(tarx_clean("a/..b", &b, &e), 0, "..b is a name");
	buf_free(&b);
}

int main(void)
{
	char cmd[128];

	snprintf(top, sizeof(top), "/tmp/oci_tarx.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	clean();
	hostile();
	fixup_through_symlink();
	only_from();
	roundtrip();
	big_ids();
	follow_dir();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		diag("could not remove %s", top);
	return done_testing();
}

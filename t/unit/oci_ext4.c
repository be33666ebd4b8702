/* oci/ext4*.c: the writer's pieces checked through our reader, and the
 * reader against hostile images.  The independent oracles (e2fsck, debugfs,
 * the kernel) are in t/integ/ext4_e2fsck.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/stream.h"
#include "oci/ext4.h"
#include "oci/ext4_int.h"
#include "oci/ext4_read.h"
#include "oci/fstree.h"
#include "oci/tar.h"
#include "t/tap.h"

static char dir[] = "/tmp/oci_ext4.XXXXXX";

static const char *tmp(const char *name)
{
	static char p[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void test_dirhash(void)
{
	/* values from `debugfs -R "dx_hash -h half_md4 [-s SEED] NAME"` */
	const uint32_t seed[4] = { 0x11111111, 0x33332222, 0x55554444, 0x55555555 };
	char x100[101];
	memset(x100, 'x', 100);
	x100[100] = 0;
	is_int(ext4__dirhash("hello", 5, NULL), 0x1746da32, "half_md4 of hello, default seed");
	is_int(ext4__dirhash("a", 1, seed), 0x61ab28ce, "half_md4 of a, seeded");
	is_int(ext4__dirhash("hello", 5, seed), 0xe4a977aa, "half_md4 of hello, seeded");
	is_int(ext4__dirhash("entry-with-a-longer-name-000001", 31, seed), 0x3ff485b8,
	       "a 31-byte name");
	is_int(ext4__dirhash(x100, 100, seed), 0xb1864f3c, "a 100-byte name (four rounds)");
}

struct walk_ctx {
	int n;
	struct ext4_stat st[16];
	char path[16][64];
};

static int walk_cb(void *ctx, const char *path, const struct ext4_stat *st, struct err *e)
{
	(void)e;
	struct walk_ctx *w = ctx;
	if (w->n < 16) {
		w->st[w->n] = *st;
		snprintf(w->path[w->n], 64, "%s", path);
	}
	w->n++;
	return 0;
}

static void test_empty(void)
{
	struct err e = ERR_INIT;
	struct ext4_opts o = { .timestamp = 1234567890 };
	is_int(ext4_make_empty(tmp("empty.img"), 64 << 20, &o, &e), 0, "make an empty 64 MiB ext4");
	struct stat st;
	ok(stat(tmp("empty.img"), &st) == 0 && st.st_size == 64 << 20, "  of exactly 64 MiB");
	ok(st.st_blocks * 512 < 1 << 20, "  sparse: %lld KiB on disk", (long long)st.st_blocks / 2);
	int fd = open(tmp("empty.img"), O_RDONLY);
	struct ext4_img *img = ext4_img_open(fd, &e);
	ok(img != NULL, "our reader opens it %s", e.msg);
	struct walk_ctx w = { 0 };
	is_int(img ? ext4_img_walk(img, walk_cb, &w, &e) : -1, 0, "  and walks it");
	is_int(w.n, 2, "  two entries");
	is_str(w.path[1], "/lost+found", "  /lost+found");
	is_int(w.st[0].mode, 040755, "  / is a 0755 directory");
	is_int(w.st[1].mode, 040700, "  /lost+found is 0700");
	is_int(w.st[0].mtime, 1234567890, "  with the given time");
	ext4_img_close(img);
	close(fd);
	is_int(ext4_make_empty(tmp("tiny.img"), 4096, NULL, &e), -EINVAL, "a 4 KiB ext4 is refused");
}

static int add(struct fstree *t, const struct tar_entry *te, const char *data)
{
	struct mem_reader mr;
	struct err e = ERR_INIT;
	mem_reader_init(&mr, data ? data : "", data ? strlen(data) : 0);
	int rc = fstree_apply(t, te, &mr.r, &e);
	if (rc < 0)
		diag("%s", e.msg);
	return rc;
}

static void test_roundtrip(void)
{
	struct err e = ERR_INIT;
	int fd = open(tmp("rt.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct ext4_opts o = { .timestamp = 1 };
	struct ext4_writer *w = ext4_writer_new(fd, &o, &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	fstree_begin_layer(t);
	struct tar_entry te = { .path = "f", .linkname = "", .type = TAR_REG, .mode = 04711,
				.uid = 100000, .gid = 200000, .mtime = 4000000000LL,
				.mtime_nsec = 123456789, .size = 11 };
	add(t, &te, "hello world");
	te = (struct tar_entry){ .path = "old", .linkname = "", .type = TAR_DIR, .mode = 0755,
				 .mtime = -1000 };
	add(t, &te, NULL);
	te = (struct tar_entry){ .path = "dev", .linkname = "", .type = TAR_BLK, .mode = 0600,
				 .devmajor = 259, .devminor = 1048575 };
	add(t, &te, NULL);
	is_int(ext4_writer_finish(w, t, &e), 0, "write an image %s", e.msg);
	fstree_free(t);
	ext4_writer_free(w);

	struct ext4_img *img = ext4_img_open(fd, &e);
	uint32_t ino = 0;
	struct ext4_stat st = { 0 };
	ok(img && ext4_img_lookup(img, "/f", &ino, &e) == 0 && ext4_img_stat(img, ino, &st, &e) == 0,
	   "read /f back");
	is_int(st.mode, 0104711, "  mode with setuid");
	is_int(st.uid, 100000, "  32-bit uid");
	is_int(st.gid, 200000, "  32-bit gid");
	is_int(st.mtime, 4000000000LL, "  mtime after 2038");
	is_int(st.mtime_nsec, 123456789, "  nanoseconds");
	char buf[32] = { 0 };
	is_int(ext4_img_pread(img, ino, buf, sizeof(buf), 0, &e), 11, "  11 bytes");
	is_str(buf, "hello world", "  content");
	is_int(ext4_img_pread(img, ino, buf, 4, 6, &e), 4, "  read at an offset");
	ok(memcmp(buf, "worl", 4) == 0, "  content at the offset");
	ok(ext4_img_lookup(img, "/old", &ino, &e) == 0 && ext4_img_stat(img, ino, &st, &e) == 0 &&
	   st.mtime == -1000, "a time before 1970 survives");
	ok(ext4_img_lookup(img, "/dev", &ino, &e) == 0 && ext4_img_stat(img, ino, &st, &e) == 0 &&
	   st.devmajor == 259 && st.devminor == 1048575, "a device with a 20-bit minor");
	is_int(ext4_img_lookup(img, "/nope", &ino, &e), -ENOENT, "a missing path is ENOENT");
	is_int(ext4_img_lookup(img, "/f/x", &ino, &e), -ENOTDIR, "a path through a file is ENOTDIR");
	ext4_img_close(img);
	close(fd);
}

static void test_full(void)
{
	struct err e = ERR_INIT;
	int fd = open(tmp("full.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct ext4_opts o = { .size = 1 << 20 };
	struct ext4_writer *w = ext4_writer_new(fd, &o, &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	fstree_begin_layer(t);
	static char big[2 << 20];
	memset(big, 'x', sizeof(big) - 1);
	struct tar_entry te = { .path = "big", .linkname = "", .type = TAR_REG, .mode = 0644,
				.size = sizeof(big) - 1 };
	struct mem_reader mr;
	mem_reader_init(&mr, big, sizeof(big) - 1);
	is_int(fstree_apply(t, &te, &mr.r, &e), -ENOSPC, "2 MiB into a 1 MiB image is ENOSPC");
	ok(fstree_lookup(t, "big", &e) == NULL, "  and the entry is not there");
	fstree_free(t);
	ext4_writer_free(w);
	close(fd);
}

/* Hostile images: corrupt a valid image in many places; the reader must
 * return (an error or not), never crash or read out of bounds (ASan in
 * `make check`). */
static int walk_all(void *ctx, const char *path, const struct ext4_stat *st, struct err *e)
{
	struct ext4_img *img = ctx;
	char buf[4096];
	struct buf b = BUF_INIT;
	(void)path;
	if ((st->mode & X_IFMT) == X_IFREG)
		(void)ext4_img_pread(img, st->ino, buf, sizeof(buf), 0, e);
	if ((st->mode & X_IFMT) == X_IFLNK)
		(void)ext4_img_readlink(img, st->ino, &b, e);
	buf_free(&b);
	return 0;
}

static int walk_xattrs(void *ctx, const char *n, const unsigned char *v, size_t len, struct err *e)
{
	(void)ctx, (void)n, (void)v, (void)len, (void)e;
	return 0;
}

static void test_hostile(void)
{
	struct err e = ERR_INIT;
	int fd = open(tmp("base.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct ext4_opts o = { .timestamp = 1, .size = 2 << 20 };
	struct ext4_writer *w = ext4_writer_new(fd, &o, &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	fstree_begin_layer(t);
	char name[32];
	for (int i = 0; i < 200; i++) {  /* enough for an htree directory */
		snprintf(name, sizeof(name), "d/file-%03d", i);
		struct tar_entry te = { .path = name, .linkname = "", .type = TAR_REG, .mode = 0644, .size = 5 };
		add(t, &te, "12345");
	}
	struct tar_entry te = { .path = "s", .linkname = "d/file-001", .type = TAR_SYMLINK };
	add(t, &te, NULL);
	ok(ext4_writer_finish(w, t, &e) == 0, "base image for corruption");
	fstree_free(t);
	ext4_writer_free(w);
	unsigned char *img0 = malloc(2 << 20);
	ok(pread(fd, img0, 2 << 20, 0) == 2 << 20, "  read it");
	close(fd);

	struct ext4_img *img;
	unsigned char *m = malloc(2 << 20);
	int opened = 0, errors = 0;
	unsigned seed = 1;
	for (int round = 0; round < 400; round++) {
		memcpy(m, img0, 2 << 20);
		/* corrupt 1-8 bytes in the metadata-dense regions: superblock,
		 * group descriptors, and the last 600 KiB (dirs, tables) */
		int k = 1 + (int)(rand_r(&seed) % 8);
		for (int j = 0; j < k; j++) {
			unsigned r = (unsigned)rand_r(&seed);
			size_t off = r % 3 == 0 ? 1024 + (size_t)rand_r(&seed) % 1024
				   : r % 3 == 1 ? 4096 + (size_t)rand_r(&seed) % 64
				   : (2 << 20) - 600 * 1024 + (size_t)rand_r(&seed) % (600 * 1024);
			m[off] = (unsigned char)rand_r(&seed);
		}
		int cfd = open(tmp("bad.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (pwrite(cfd, m, 2 << 20, 0) != 2 << 20)
			break;
		if ((img = ext4_img_open(cfd, &e)) != NULL) {
			opened++;
			if (ext4_img_walk(img, walk_all, img, &e) < 0)
				errors++;
			for (uint32_t i = 1; i < 300; i++)
				(void)ext4_img_xattrs(img, i, walk_xattrs, NULL, &e);
			ext4_img_close(img);
		}
		close(cfd);
	}
	ok(1, "400 corrupted images: %d opened, %d walks ended in an error, no crash", opened, errors);

	/* A directory entry pointing back at the root: a cycle, refused. */
	memcpy(m, img0, 2 << 20);
	int cfd = open(tmp("cycle.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(pwrite(cfd, m, 2 << 20, 0) == 2 << 20, "write the cycle image");
	img = ext4_img_open(cfd, &e);
	uint32_t dino = 0;
	ok(img && ext4_img_lookup(img, "/d", &dino, &e) == 0, "find /d");
	ext4_img_close(img);
	/* the root directory's single block: rewrite d's inode number to 2 */
	img = ext4_img_open(cfd, &e);
	struct ext4_stat st;
	ext4_img_stat(img, 2, &st, &e);
	ext4_img_close(img);
	int patched = 0;
	for (size_t off = 0; off + 12 <= (size_t)(2 << 20) && !patched; off += 4) {
		if (get32(m + off) == dino && m[off + 6] == 1 && m[off + 8] == 'd' && m[off + 7] == 2) {
			put32(m + off, 2);
			patched = 1;
		}
	}
	ok(patched && pwrite(cfd, m, 2 << 20, 0) == 2 << 20, "point /d at the root");
	img = ext4_img_open(cfd, &e);
	is_int(img ? ext4_img_walk(img, walk_all, img, &e) : 0, -EBADMSG, "the walk refuses the cycle");
	ok(strstr(e.msg, "reachable twice") != NULL, "  %s", e.msg);
	ext4_img_close(img);
	close(cfd);

	memcpy(m, img0, 2 << 20);
	m[1024 + 0x38] = 0;
	cfd = open(tmp("magic.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(pwrite(cfd, m, 2 << 20, 0) == 2 << 20, "write a bad-magic image");
	ok(ext4_img_open(cfd, &e) == NULL && e.code == -EINVAL, "bad magic: %s", e.msg);
	close(cfd);
	cfd = open(tmp("short.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(pwrite(cfd, img0, 1500, 0) == 1500, "write a truncated image");
	ok(ext4_img_open(cfd, &e) == NULL && e.code == -EIO, "truncated: %s", e.msg);
	close(cfd);
	free(m);
	free(img0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		skip(1, "no temporary directory");
		return done_testing();
	}
	test_dirhash();
	test_empty();
	test_roundtrip();
	test_full();
	test_hostile();
	const char *names[] = { "empty.img", "tiny.img", "rt.img", "full.img", "base.img",
				"bad.img", "cycle.img", "magic.img", "short.img" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tmp(names[i]));
	rmdir(dir);
	return done_testing();
}

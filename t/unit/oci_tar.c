/* Unit tests for oci/tar.c: every header form we accept, and hostile
 * archives, each with its defined outcome.  Archives are built here at run
 * time by a tiny writer (mk_*), so each case shows the bytes it is about. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/stream.h"
#include "oci/tar.h"
#include "t/tap.h"

/* ---- a tiny tar writer ---- */

static void octal(unsigned char *h, int off, int len, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", len - 1, v);
	memcpy(h + off, tmp, (size_t)len - 1);
	h[off + len - 1] = '\0';
}

static void sum(unsigned char *h)
{
	unsigned s = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		s += h[i];
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%06o", s);
	memcpy(h + 148, tmp, 6);
	h[154] = '\0';
	h[155] = ' ';
}

/* A ustar header with defaults; callers may poke fields and re-sum. */
static void hdr(unsigned char *h, const char *name, char type, unsigned long long size)
{
	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	octal(h, 100, 8, 0644);
	octal(h, 108, 8, 1000);
	octal(h, 116, 8, 100);
	octal(h, 124, 12, size);
	octal(h, 136, 12, 1700000000);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memcpy(h + 265, "user", 4);
	memcpy(h + 297, "group", 5);
	octal(h, 329, 8, 0);
	octal(h, 337, 8, 0);
	sum(h);
}

static void pad(struct buf *ar)
{
	static const char z[512];
	if (ar->len % 512)
		buf_append(ar, z, 512 - ar->len % 512);
}

static void put_hdr(struct buf *ar, const unsigned char *h)
{
	buf_append(ar, h, 512);
}

static void put_data(struct buf *ar, const void *p, size_t n)
{
	buf_append(ar, p, n);
	pad(ar);
}

static void put_file(struct buf *ar, const char *name, const char *data)
{
	unsigned char h[512];
	hdr(h, name, '0', strlen(data));
	put_hdr(ar, h);
	put_data(ar, data, strlen(data));
}

static void put_end(struct buf *ar)
{
	static const char z[1024];
	buf_append(ar, z, 1024);
}

/* One PAX record "LEN key=value\n" (value may hold NULs: vlen). */
static void rec(struct buf *b, const char *key, const char *v, size_t vlen)
{
	size_t body = strlen(key) + 1 + vlen + 1 + 1, n = body + 1;
	char tmp[32];
	while ((size_t)snprintf(tmp, sizeof(tmp), "%zu", n) + body != n)
		n = (size_t)snprintf(tmp, sizeof(tmp), "%zu", n) + body;
	buf_printf(b, "%zu %s=", n, key);
	buf_append(b, v, vlen);
	buf_putc(b, '\n');
}

static void recs(struct buf *b, const char *key, const char *v)
{
	rec(b, key, v, strlen(v));
}

/* A PAX ('x' or 'g') header carrying the given records. */
static void put_pax(struct buf *ar, char type, const struct buf *recbuf)
{
	unsigned char h[512];
	hdr(h, "PaxHeaders/x", type, recbuf->len);
	put_hdr(ar, h);
	put_data(ar, recbuf->data, recbuf->len);
}

/* A GNU 'L'/'K' header (old GNU magic) with the name + NUL as data. */
static void put_gnu_long(struct buf *ar, char type, const char *name)
{
	unsigned char h[512];
	hdr(h, "././@LongLink", type, strlen(name) + 1);
	memcpy(h + 257, "ustar  \0", 8);
	sum(h);
	put_hdr(ar, h);
	put_data(ar, name, strlen(name) + 1);
}

/* ---- readers ---- */

/* Fails with -EIO after `ok` bytes: errors from below must come through. */
struct fail_reader {
	struct reader r;
	struct mem_reader m;
	size_t ok;
};

static ssize_t fail_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct fail_reader *f = (struct fail_reader *)r;
	if (f->m.off >= f->ok)
		return err_set(e, -EIO, "disk on fire");
	if (n > f->ok - f->m.off)
		n = f->ok - f->m.off;
	return f->m.r.read(&f->m.r, p, n, e);
}

/* ---- running the reader ---- */

/* FIXTURE_DUMP=dir writes every archive read here to dir/tar-NNN: that is
 * how the fuzz seed corpus (t/fuzz/corpus/tar_header) is made. */
static void dump(const struct buf *ar)
{
	static int seq;
	const char *dir = getenv("FIXTURE_DUMP");
	if (!dir || ar->len > 16384)
		return;
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/tar-%03d", dir, seq++);
	FILE *f = fopen(buf_str(&path), "wb");
	buf_free(&path);
	if (f) {
		fwrite(ar->data ? ar->data : "", 1, ar->len, f);
		fclose(f);
	}
}

struct scan {
	int rc, entries;
	struct err e;
	char first_path[TAR_PATH_MAX];
};

/* Read a whole archive (every byte of data); rc is the final result. */
static struct scan scan_lim(const struct buf *ar, size_t pax_max, size_t xattr_max)
{
	struct scan s = { 0, 0, ERR_INIT, "" };
	struct mem_reader m;
	struct tar_entry *te;
	char data[700];

	dump(ar);
	mem_reader_init(&m, ar->data, ar->len);
	struct tar *t = tar_open(&m.r, &s.e);
	tar_set_limits(t, pax_max, xattr_max);
	while ((s.rc = tar_next(t, &te, &s.e)) > 0) {
		ssize_t n;
		if (s.entries++ == 0)
			snprintf(s.first_path, sizeof(s.first_path), "%s", te->path);
		while ((n = tar_read(t, data, sizeof(data), &s.e)) > 0)
			;
		if (n < 0) {
			s.rc = (int)n;
			break;
		}
	}
	tar_close(t);
	return s;
}

static struct scan scan(const struct buf *ar)
{
	return scan_lim(ar, 0, 0);
}

/* A hostile case: the reader must fail with `code` and a message holding
 * `needle` (which names the entry or the failure). */
static void expect_lim(const struct buf *ar, size_t pax_max, size_t xattr_max,
		       int code, const char *needle, const char *what)
{
	struct scan s = scan_lim(ar, pax_max, xattr_max);
	if (!ok(s.rc == code && strstr(s.e.msg, needle), "%s", what))
		diag("  rc %d (want %d), message: %s", s.rc, code, s.e.msg);
}

static void expect(const struct buf *ar, int code, const char *needle, const char *what)
{
	expect_lim(ar, 0, 0, code, needle, what);
}

/* Build a one-file archive from a poked header: a shortcut for the many
 * header-field cases. */
static void one(struct buf *ar, const unsigned char *h, const char *data)
{
	buf_reset(ar);
	put_hdr(ar, h);
	put_data(ar, data, strlen(data));
	put_end(ar);
}

/* Open a reader on ar and return its first entry (caller closes). */
static struct tar *first(const struct buf *ar, struct mem_reader *m,
			 struct tar_entry **te, int *rc)
{
	struct err e = ERR_INIT;
	dump(ar);
	mem_reader_init(m, ar->data, ar->len);
	struct tar *t = tar_open(&m->r, &e);
	*rc = tar_next(t, te, &e);
	if (*rc <= 0)
		diag("  first entry: rc %d: %s", *rc, e.msg);
	return t;
}

/* ---- accepted forms ---- */

static void test_ustar(void)
{
	struct buf ar = BUF_INIT;
	struct mem_reader m;
	struct tar_entry *te;
	struct err e = ERR_INIT;
	unsigned char h[512];
	char data[64];
	int rc;

	put_file(&ar, "etc/hostname", "box\n");
	hdr(h, "etc/", '5', 0);
	octal(h, 100, 8, 04755);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "bin/sh", '2', 0);
	memcpy(h + 157, "busybox", 7);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "bin/ls", '1', 0);
	memcpy(h + 157, "bin/sh", 6);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "dev/null", '3', 0);
	octal(h, 329, 8, 1);
	octal(h, 337, 8, 3);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "dev/sda", '4', 0);
	octal(h, 329, 8, 8);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "run/fifo", '6', 0);
	sum(h);
	put_hdr(&ar, h);
	put_end(&ar);

	struct tar *t = first(&ar, &m, &te, &rc);
	is_int(rc, 1, "ustar: first entry");
	is_str(te->path, "etc/hostname", "ustar: path");
	ok(te->type == TAR_REG && te->mode == 0644 && te->uid == 1000 && te->gid == 100,
	   "ustar: type, mode, uid, gid");
	ok(te->mtime == 1700000000 && te->mtime_nsec == 0 && te->size == 4, "ustar: mtime, size");
	is_str(te->uname, "user", "ustar: uname");
	is_str(te->gname, "group", "ustar: gname");
	is_str(te->linkname, "", "ustar: no link name on a file");
	ok(te->nxattrs == 0 && te->xattrs == NULL, "ustar: no xattrs");
	is_int(tar_read(t, data, 2, &e), 2, "ustar: partial read");
	is_int(tar_read(t, data + 2, sizeof(data) - 2, &e), 2, "ustar: rest of the data");
	ok(!memcmp(data, "box\n", 4), "ustar: data bytes");
	is_int(tar_read(t, data, sizeof(data), &e), 0, "ustar: 0 at end of data");
	is_int(tar_next(t, &te, &e), 1, "ustar: directory entry");
	ok(te->type == TAR_DIR && te->mode == 04755 && te->size == 0,
	   "ustar: directory with setuid bit kept");
	tar_next(t, &te, &e);
	ok(te->type == TAR_SYMLINK && !strcmp(te->linkname, "busybox"), "ustar: symlink");
	tar_next(t, &te, &e);
	ok(te->type == TAR_HARDLINK && !strcmp(te->linkname, "bin/sh"), "ustar: hard link");
	tar_next(t, &te, &e);
	ok(te->type == TAR_CHR && te->devmajor == 1 && te->devminor == 3, "ustar: char device");
	tar_next(t, &te, &e);
	ok(te->type == TAR_BLK && te->devmajor == 8 && te->devminor == 0, "ustar: block device");
	tar_next(t, &te, &e);
	ok(te->type == TAR_FIFO, "ustar: fifo");
	is_int(tar_next(t, &te, &e), 0, "ustar: clean end");
	is_int(tar_next(t, &te, &e), 0, "ustar: end is repeatable");
	tar_close(t);
	buf_free(&ar);
}

static void test_prefix_v7_gnu(void)
{
	struct buf ar = BUF_INIT;
	struct mem_reader m;
	struct tar_entry *te;
	struct err e = ERR_INIT;
	unsigned char h[512];
	char longname[301], longlink[2001];
	int rc;

	/* ustar prefix + name */
	hdr(h, "file.txt", '0', 0);
	memcpy(h + 345, "usr/share/doc/some-package", 26);
	sum(h);
	put_hdr(&ar, h);
	/* v7: no magic; '\0' type with a trailing slash is a directory */
	hdr(h, "olddir/", '\0', 0);
	memset(h + 257, 0, 8);
	memset(h + 265, 0, 80);
	sum(h);
	put_hdr(&ar, h);
	hdr(h, "oldfile", '\0', 0);
	memset(h + 257, 0, 8);
	sum(h);
	put_hdr(&ar, h);
	/* old GNU: the prefix area is not a prefix */
	hdr(h, "gnufile", '0', 0);
	memcpy(h + 257, "ustar  \0", 8);
	memcpy(h + 345, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	octal(h, 345, 12, 1234567);   /* atime in GNU's layout */
	sum(h);
	put_hdr(&ar, h);
	/* GNU long name + long link on a symlink */
	memset(longname, 'n', 300);
	longname[300] = '\0';
	memset(longlink, 'k', 2000);
	longlink[2000] = '\0';
	put_gnu_long(&ar, 'L', longname);
	put_gnu_long(&ar, 'K', longlink);
	hdr(h, "short", '2', 0);
	memcpy(h + 157, "shortlink", 9);
	memcpy(h + 257, "ustar  \0", 8);
	sum(h);
	put_hdr(&ar, h);
	/* a 4095-byte long name: the largest allowed */
	char *max = malloc(TAR_PATH_MAX);
	memset(max, 'm', TAR_PATH_MAX - 1);
	max[TAR_PATH_MAX - 1] = '\0';
	put_gnu_long(&ar, 'L', max);
	hdr(h, "x", '0', 0);
	put_hdr(&ar, h);
	put_end(&ar);

	struct tar *t = first(&ar, &m, &te, &rc);
	is_str(te->path, "usr/share/doc/some-package/file.txt", "ustar prefix joins with '/'");
	tar_next(t, &te, &e);
	ok(te->type == TAR_DIR && !strcmp(te->path, "olddir/"), "v7: trailing slash is a dir");
	is_str(te->uname, "", "v7: no uname");
	tar_next(t, &te, &e);
	ok(te->type == TAR_REG && !strcmp(te->path, "oldfile"), "v7: regular file");
	tar_next(t, &te, &e);
	is_str(te->path, "gnufile", "old GNU: atime area is not a prefix");
	tar_next(t, &te, &e);
	is_str(te->path, longname, "GNU long name (300 bytes)");
	is_str(te->linkname, longlink, "GNU long link (2000 bytes)");
	is_int(tar_next(t, &te, &e), 1, "GNU long name of TAR_PATH_MAX-1 bytes");
	is_int((long long)strlen(te->path), TAR_PATH_MAX - 1, "  ... is kept whole");
	is_int(tar_next(t, &te, &e), 0, "GNU archive ends cleanly");
	tar_close(t);
	free(max);
	buf_free(&ar);
}

static void test_pax(void)
{
	struct buf ar = BUF_INIT, r = BUF_INIT;
	struct mem_reader m;
	struct tar_entry *te;
	struct err e = ERR_INIT;
	unsigned char h[512];
	char big[3001];
	int rc;

	memset(big, 'p', 3000);
	big[3000] = '\0';
	recs(&r, "comment", "a global header, ignored");
	recs(&r, "path", "global/path/is/ignored");
	put_pax(&ar, 'g', &r);
	buf_reset(&r);
	recs(&r, "path", big);
	recs(&r, "linkpath", "ignored-on-a-file");
	recs(&r, "mtime", "1700000000.123456789123");
	recs(&r, "atime", "1700000001.5");
	recs(&r, "uid", "3000000000");
	recs(&r, "gid", "4294967295");
	recs(&r, "uname", "a-rather-long-user-name-of-more-than-32-bytes");
	recs(&r, "gname", "staff");
	recs(&r, "size", "5");
	rec(&r, "SCHILY.xattr.security.capability", "\x01\x00\x00\x02\x00\x20", 6);
	recs(&r, "SCHILY.xattr.user.plain", "v1");
	/* bsdtar writes both forms for one xattr: same value, kept once */
	recs(&r, "LIBARCHIVE.xattr.user.plain", "djE");
	recs(&r, "LIBARCHIVE.xattr.user.sp%20ace", "aGVsbG8=");
	recs(&r, "SCHILY.xattr.user.empty", "");
	recs(&r, "some.unknown.key", "whatever");
	put_pax(&ar, 'x', &r);
	hdr(h, "short-name", '0', 0);   /* ustar size 0: PAX size rules */
	put_hdr(&ar, h);
	put_data(&ar, "hello", 5);

	buf_reset(&r);
	recs(&r, "mtime", "-1.25");
	recs(&r, "path", "");          /* empty: fall back to the header */
	put_pax(&ar, 'x', &r);
	hdr(h, "neg-time", '2', 0);
	memcpy(h + 157, "t", 1);
	sum(h);
	put_hdr(&ar, h);

	buf_reset(&r);
	recs(&r, "linkpath", big);
	recs(&r, "mtime", "42");
	recs(&r, "size", "7");          /* equal to the header: fine */
	put_pax(&ar, 'x', &r);
	hdr(h, "samesize", '0', 7);
	put_hdr(&ar, h);
	put_data(&ar, "1234567", 7);

	buf_reset(&r);
	recs(&r, "SCHILY.devmajor", "4000");
	recs(&r, "SCHILY.devminor", "3000000");
	recs(&r, "size", "");           /* empty: the header's size (0) */
	recs(&r, "LIBARCHIVE.xattr.user.a%2Eb", "YQ");
	recs(&r, "LIBARCHIVE.xattr.user.c%2ed", "YWI");
	put_pax(&ar, 'x', &r);
	hdr(h, "bigdev", '3', 0);
	put_hdr(&ar, h);

	buf_reset(&r);
	recs(&r, "linkpath", big);
	put_pax(&ar, 'x', &r);
	hdr(h, "hl", '1', 0);
	memcpy(h + 157, "short", 5);
	sum(h);
	put_hdr(&ar, h);
	put_end(&ar);

	struct tar *t = first(&ar, &m, &te, &rc);
	is_int(rc, 1, "PAX: entry after a global header");
	is_str(te->path, big, "PAX path (3000 bytes) overrides the header");
	is_str(te->linkname, "", "PAX linkpath ignored on a regular file");
	ok(te->mtime == 1700000000 && te->mtime_nsec == 123456789, "PAX mtime with fraction");
	ok(te->uid == 3000000000u && te->gid == 4294967295u, "PAX uid/gid beyond ustar range");
	is_str(te->uname, "a-rather-long-user-name-of-more-than-32-bytes", "PAX uname");
	is_str(te->gname, "staff", "PAX gname");
	is_int(te->size, 5, "PAX size overrides a zero ustar size");
	is_int(te->nxattrs, 4, "PAX xattrs: 4 distinct names");
	if (te->nxattrs == 4) {
		is_str(te->xattrs[0].name, "security.capability", "xattrs sorted by name");
		ok(te->xattrs[0].len == 6 && !memcmp(te->xattrs[0].value, "\x01\0\0\x02\0\x20", 6),
		   "SCHILY xattr with NUL bytes in the value");
		ok(!strcmp(te->xattrs[1].name, "user.empty") && te->xattrs[1].len == 0,
		   "empty xattr value");
		ok(!strcmp(te->xattrs[2].name, "user.plain") && te->xattrs[2].len == 2 &&
		   !memcmp(te->xattrs[2].value, "v1", 2), "SCHILY + LIBARCHIVE duplicate kept once");
		ok(!strcmp(te->xattrs[3].name, "user.sp ace") && te->xattrs[3].len == 5 &&
		   !memcmp(te->xattrs[3].value, "hello", 5),
		   "LIBARCHIVE xattr: URL-decoded name, base64 value");
	} else {
		skip(5, "wrong xattr count");
	}
	char data[8] = "";
	is_int(tar_read(t, data, sizeof(data), &e), 5, "PAX-sized data read");
	ok(!memcmp(data, "hello", 5), "  ... bytes match");
	is_int(tar_next(t, &te, &e), 1, "next entry");
	is_str(te->path, "neg-time", "empty PAX path falls back to the header name");
	ok(te->mtime == -2 && te->mtime_nsec == 750000000, "negative PAX mtime -1.25");
	ok(te->nxattrs == 0, "PAX xattrs do not leak into the next entry");
	is_str(te->uname, "user", "PAX uname does not leak into the next entry");
	is_int(tar_next(t, &te, &e), 1, "PAX size equal to the header size");
	ok(te->size == 7 && te->mtime == 42 && te->mtime_nsec == 0, "  ... size 7, mtime 42");
	is_int(tar_next(t, &te, &e), 1, "PAX SCHILY.devmajor/devminor");
	ok(te->type == TAR_CHR && te->devmajor == 4000 && te->devminor == 3000000,
	   "  ... device numbers beyond the ustar fields");
	ok(te->nxattrs == 2 && !strcmp(te->xattrs[0].name, "user.a.b") &&
	   te->xattrs[0].len == 1 && te->xattrs[0].value[0] == 'a' &&
	   !strcmp(te->xattrs[1].name, "user.c.d") && te->xattrs[1].len == 2 &&
	   !memcmp(te->xattrs[1].value, "ab", 2),
	   "LIBARCHIVE xattrs: %%2E/%%2e in names, unpadded base64 of 1 and 2 bytes");
	is_int(tar_next(t, &te, &e), 1, "PAX linkpath on a hard link");
	is_str(te->linkname, big, "  ... long link target");
	is_int(tar_next(t, &te, &e), 0, "PAX archive ends cleanly");
	tar_close(t);
	buf_free(&ar);
	buf_free(&r);
}

/* Base-256 numbers, signed checksums, odd-but-valid octal fields,
 * PAX size past the ustar range, record padding. */
static void test_numbers(void)
{
	struct buf ar = BUF_INIT, r = BUF_INIT;
	struct mem_reader m;
	struct tar_entry *te;
	struct err e = ERR_INIT;
	unsigned char h[512];
	int rc;

	hdr(h, "b256", '0', 3);
	memset(h + 108, 0, 8);
	h[108] = 0x80;
	h[112] = 0xff; h[113] = 0xff; h[114] = 0xff; h[115] = 0xfe;  /* uid 2^32-2 */
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[135] = 3;                                   /* size 3 */
	memset(h + 136, 0xff, 12);                    /* mtime -1 */
	h[147] = 0xfe;                                /* mtime -2 */
	sum(h);
	put_hdr(&ar, h);
	put_data(&ar, "abc", 3);
	/* fields with leading spaces, space terminators, all-blank */
	hdr(h, "spaces", '0', 0);
	memcpy(h + 100, "   644 ", 8);
	memcpy(h + 124, "         12 ", 12);
	memset(h + 108, ' ', 8);
	memset(h + 116, 0, 8);
	sum(h);
	put_hdr(&ar, h);
	put_data(&ar, "0123456789", 10);   /* octal 12 */
	/* signed checksum (old Sun tar) over a name with high bytes */
	hdr(h, "caf\xc3\xa9-\xff", '0', 0);
	{
		int s = 0;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			s += (signed char)h[i];
		char tmp[16];
		snprintf(tmp, sizeof(tmp), "%06o", s);
		memcpy(h + 148, tmp, 6);
		h[154] = 0;
	}
	put_hdr(&ar, h);
	/* mode with file-type bits, as some old tars write: masked to 07777 */
	hdr(h, "modebits", '0', 0);
	octal(h, 100, 8, 0100755);
	sum(h);
	put_hdr(&ar, h);
	/* 12 digits, no terminator, in the size field */
	hdr(h, "fullsize", '0', 0);
	memcpy(h + 124, "000000000001", 12);
	sum(h);
	put_hdr(&ar, h);
	put_data(&ar, "z", 1);
	/* PAX size past 8 GiB with the ustar field at its maximum (star) */
	recs(&r, "size", "10000000000");
	put_pax(&ar, 'x', &r);
	hdr(h, "huge", '0', 077777777777ULL);
	put_hdr(&ar, h);

	struct tar *t = first(&ar, &m, &te, &rc);
	ok(rc == 1 && te->uid == 0xfffffffe && te->size == 3, "base-256 uid and size");
	is_int(te->mtime, -2, "negative base-256 mtime");
	is_int(tar_next(t, &te, &e), 1, "blank and space-padded octal fields");
	ok(te->mode == 0644 && te->uid == 0 && te->gid == 0 && te->size == 10,
	   "  ... mode 0644, uid/gid 0, size 012");
	is_int(tar_next(t, &te, &e), 1, "signed header checksum accepted");
	is_str(te->path, "caf\xc3\xa9-\xff", "  ... non-ASCII path kept as bytes");
	tar_next(t, &te, &e);
	is_int(te->mode, 0755, "mode masked to permission bits");
	is_int(tar_next(t, &te, &e), 1, "12-digit size without terminator");
	is_int(te->size, 1, "  ... size 1");
	is_int(tar_next(t, &te, &e), 1, "PAX size of 10^10 with a saturated ustar field");
	ok(te->size == 10000000000ULL, "  ... size from PAX");
	tar_close(t);   /* its data is not there: stop here */

	/* End marker followed by zero padding to a 10 KiB record */
	buf_reset(&ar);
	put_file(&ar, "a", "1");
	put_end(&ar);
	while (ar.len < 10240)
		buf_putc(&ar, 0);
	struct scan s = scan(&ar);
	ok(s.rc == 0 && s.entries == 1, "zero padding to the record size after the end marker");
	/* Unread data is skipped by tar_next */
	buf_reset(&ar);
	put_file(&ar, "big", "0123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123"
		 "4567890123456789012345678901234567890123456789012345678901234567890123");
	put_file(&ar, "second", "2");
	put_end(&ar);
	t = first(&ar, &m, &te, &rc);
	char c, two[2];
	ok(reader_read(tar_data(t), &c, 1, &e) == 1 && c == '0', "tar_data reads the entry");
	ok(tar_next(t, &te, &e) == 1 && !strcmp(te->path, "second"),
	   "unread data (and its padding) skipped by tar_next");
	ok(reader_read_full(tar_data(t), two, 1, "x", &e) == 0 && two[0] == '2' &&
	   reader_read(tar_data(t), two, 2, &e) == 0, "tar_data follows the current entry, 0 at its end");
	is_int(tar_next(t, &te, &e), 0, "  ... then a clean end");
	tar_close(t);
	buf_free(&ar);
	buf_free(&r);
}

/* ---- hostile archives ---- */

static void test_hostile_header(void)
{
	struct buf ar = BUF_INIT;
	unsigned char h[512];

	hdr(h, "badsum", '0', 1);
	h[148] = '7';
	one(&ar, h, "x");
	expect(&ar, -EBADMSG, "\"badsum\"", "bad checksum (message names the entry)");
	hdr(h, "badsum2", '0', 1);
	memcpy(h + 148, "01x345\0 ", 8);
	one(&ar, h, "x");
	expect(&ar, -EBADMSG, "malformed checksum", "non-octal checksum field");
	hdr(h, "nosum", '0', 1);
	memset(h + 148, 0, 8);
	one(&ar, h, "x");
	expect(&ar, -EBADMSG, "malformed checksum", "empty checksum field");
	hdr(h, "size-a", '0', 0);
	memcpy(h + 124, "0000012a45\0", 12);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field is not an octal number", "non-octal size");
	hdr(h, "size8", '0', 0);
	memcpy(h + 124, "00000000018\0", 12);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field", "digit 8 in an octal size");
	hdr(h, "mode-x", '0', 0);
	memcpy(h + 100, "0644x\0\0", 8);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "mode field", "non-octal mode");
	hdr(h, "junk", '0', 0);
	memcpy(h + 124, "0000000\0junk", 12);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field", "bytes after the size field's terminator");
	hdr(h, "b256-big", '0', 0);
	memset(h + 124, 0xff, 12);
	h[124] = 0x80;
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field out of range", "base-256 size overflows 63 bits");
	hdr(h, "b256-neg", '0', 0);
	memset(h + 124, 0xff, 12);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field out of range", "negative base-256 size");
	hdr(h, "b256-uid", '0', 0);
	memset(h + 108, 0, 8);
	h[108] = 0x80;
	h[111] = 1;   /* 2^32 */
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "uid field out of range", "base-256 uid above 2^32-1");
	hdr(h, "b256-lead", '0', 0);
	h[124] = 0x81;
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "size field", "base-256 marker other than 0x80/0xff");
	hdr(h, "magic", '0', 0);
	memcpy(h + 257, "ustaR\0" "00", 8);
	sum(h);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "unknown header magic", "unknown magic");
	hdr(h, "dir-with-size", '5', 3);
	one(&ar, h, "abc");
	expect(&ar, -EBADMSG, "non-regular", "directory with a nonzero size");
	hdr(h, "sym-empty", '2', 0);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "empty link target", "symlink without a target");
	hdr(h, "", '0', 0);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "empty path", "entry with an empty path");
	hdr(h, "sparse", 'S', 0);
	one(&ar, h, "");
	expect(&ar, -ENOTSUP, "sparse", "GNU sparse entry refused");
	hdr(h, "volume", 'V', 0);
	one(&ar, h, "");
	expect(&ar, -ENOTSUP, "'V'", "GNU volume label refused");
	hdr(h, "weird", 'Z', 0);
	one(&ar, h, "");
	expect(&ar, -ENOTSUP, "unknown entry type 'Z'", "unknown type letter");
	hdr(h, "binary-type", 1, 0);
	one(&ar, h, "");
	expect(&ar, -EBADMSG, "0x01", "binary type byte");
	hdr(h, "ctl\n\x1b[31m", '0', 1);
	h[148] = '7';
	one(&ar, h, "x");
	expect(&ar, -EBADMSG, "\"ctl\\x0a\\x1b[31m\"", "control bytes in a name are escaped in errors");
	buf_free(&ar);
}

static void pax_case(const char *records, size_t len, int code, const char *needle,
		     const char *what)
{
	struct buf ar = BUF_INIT, r = BUF_INIT;
	unsigned char h[512];

	buf_append(&r, records, len);
	put_pax(&ar, 'x', &r);
	hdr(h, "paxfile", '0', 0);
	put_hdr(&ar, h);
	put_end(&ar);
	expect(&ar, code, needle, what);
	buf_free(&ar);
	buf_free(&r);
}

#define PAX(s, code, needle, what) pax_case(s, sizeof(s) - 1, code, needle, what)

static void test_hostile_pax(void)
{
	struct buf ar = BUF_INIT, r = BUF_INIT;
	unsigned char h[512];

	PAX("99 path=x\n", -EBADMSG, "runs past", "PAX record length too long");
	PAX("10 path=abcdef\n", -EBADMSG, "newline", "PAX record length too short");
	PAX("0 path=x\n", -EBADMSG, "bad length", "PAX record length zero");
	PAX("1x path=x\n", -EBADMSG, "bad length", "PAX record length with a non-digit");
	PAX("path=x\n", -EBADMSG, "bad length", "PAX record without a length");
	PAX("11 path=abc", -EBADMSG, "newline", "PAX record without a newline");
	PAX("11 path=abcX", -EBADMSG, "newline", "PAX record ending in a non-newline");
	PAX("8 pathx\n", -EBADMSG, "no '='", "PAX record missing '='");
	PAX("5 =x\n", -EBADMSG, "bad keyword", "PAX record with an empty keyword");
	PAX("012 path=xy\n", -EBADMSG, "bad length", "PAX length with a leading zero");
	PAX("99999999999999999999999 path=x\n", -EBADMSG, "bad length", "PAX length of 23 digits");
	PAX("12 path=a\0b\n", -EBADMSG, "NUL", "PAX path with a NUL byte");
	PAX("16 linkpath=a\0b\n", -EBADMSG, "NUL", "PAX linkpath with a NUL byte");
	PAX("11 pa\0h=ab\n", -EBADMSG, "bad keyword", "PAX keyword with a NUL byte");
	PAX("12 size=12x\n", -EBADMSG, "size", "PAX size not a number");
	PAX("13 size=-100\n", -EBADMSG, "size", "PAX negative size");
	PAX("29 size=99999999999999999999\n", -EBADMSG, "size", "PAX size over 2^63");
	PAX("18 uid=4294967296\n", -EBADMSG, "uid", "PAX uid over 2^32-1");
	PAX("15 mtime=1.2.3\n", -EBADMSG, "mtime", "PAX mtime malformed");
	PAX("11 mtime=.\n", -EBADMSG, "mtime", "PAX mtime without digits");
	PAX("30 mtime=99999999999999999999\n", -EBADMSG, "mtime", "PAX mtime overflow");
	PAX("22 GNU.sparse.major=1\n", -ENOTSUP, "sparse", "PAX GNU sparse refused");
	PAX("32 LIBARCHIVE.xattr.user.x=a$$b\n", -EBADMSG, "base64", "LIBARCHIVE xattr bad base64");
	PAX("33 LIBARCHIVE.xattr.user.%00x=YQ\n", -EBADMSG, "LIBARCHIVE.xattr name",
	    "LIBARCHIVE xattr name with %00");
	PAX("21 SCHILY.xattr.=abc\n", -EBADMSG, "xattr name", "xattr with an empty name");
	PAX("25 SCHILY.xattr.user.a=1\n25 SCHILY.xattr.user.a=2\n", -EBADMSG,
	    "different values", "same xattr twice with different values");

	/* PAX size disagreeing with a representable ustar size */
	recs(&r, "size", "5");
	put_pax(&ar, 'x', &r);
	hdr(h, "disagree", '0', 3);
	put_hdr(&ar, h);
	put_data(&ar, "hello", 5);
	put_end(&ar);
	expect(&ar, -EBADMSG, "disagrees", "PAX size vs ustar size disagreement");

	/* PAX size honoured but the data is not there */
	buf_reset(&ar);
	put_pax(&ar, 'x', &r);
	hdr(h, "short-data", '0', 0);
	put_hdr(&ar, h);
	buf_append(&ar, "he", 2);   /* 2 of 5 bytes, then nothing */
	expect(&ar, -EPROTO, "short-data", "PAX size beyond the end of the input");

	/* xattr name over 255 bytes */
	{
		char key[300] = "SCHILY.xattr.user.";
		memset(key + 18, 'a', 260);
		key[278] = '\0';
		buf_reset(&r);
		recs(&r, key, "v");
		buf_reset(&ar);
		put_pax(&ar, 'x', &r);
		hdr(h, "longxattr", '0', 0);
		put_hdr(&ar, h);
		put_end(&ar);
		expect(&ar, -EBADMSG, "xattr name of 265", "xattr name over 255 bytes");
	}
	/* xattrs over the per-entry cap (lowered to 100 bytes) */
	buf_reset(&r);
	for (int i = 0; i < 5; i++) {
		char key[64];
		snprintf(key, sizeof(key), "SCHILY.xattr.user.k%d", i);
		recs(&r, key, "0123456789012345678901234567890123456789");
	}
	buf_reset(&ar);
	put_pax(&ar, 'x', &r);
	hdr(h, "many-xattrs", '0', 0);
	put_hdr(&ar, h);
	put_end(&ar);
	expect_lim(&ar, 0, 100, -E2BIG, "xattrs exceed 100", "xattr total over the cap");
	expect(&ar, 0, "", "  ... the same entry under the default cap");
	/* one PAX header over its cap (lowered to 64 bytes, then the real one) */
	expect_lim(&ar, 64, 0, -E2BIG, "PAX header of", "PAX header over a lowered cap");
	buf_reset(&ar);
	hdr(h, "PaxHeaders/huge", 'x', (unsigned long long)TAR_PAX_MAX + 1);
	put_hdr(&ar, h);
	expect(&ar, -E2BIG, "limit 1048576", "PAX header over TAR_PAX_MAX (refused before reading)");
	/* PAX path of TAR_PATH_MAX bytes */
	{
		char *p = malloc(TAR_PATH_MAX + 1);
		memset(p, 'q', TAR_PATH_MAX);
		p[TAR_PATH_MAX] = '\0';
		buf_reset(&r);
		recs(&r, "path", p);
		buf_reset(&ar);
		put_pax(&ar, 'x', &r);
		hdr(h, "pax-long", '0', 0);
		put_hdr(&ar, h);
		put_end(&ar);
		expect(&ar, -ENAMETOOLONG, "PAX path of 4096", "PAX path of TAR_PATH_MAX bytes");
		free(p);
	}
	/* sequencing */
	buf_reset(&r);
	recs(&r, "path", "x");
	buf_reset(&ar);
	put_pax(&ar, 'x', &r);
	put_end(&ar);
	expect(&ar, -EBADMSG, "PAX header not followed", "PAX header followed by the end marker");
	buf_reset(&ar);
	put_pax(&ar, 'x', &r);
	put_pax(&ar, 'x', &r);
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "two PAX headers", "two PAX headers in a row");
	buf_reset(&ar);
	put_pax(&ar, 'x', &r);
	put_pax(&ar, 'g', &r);
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "global PAX header between", "global PAX header inside an entry");
	buf_reset(&ar);
	put_pax(&ar, 'g', &r);
	buf_reset(&r);
	recs(&r, "size", "x");
	put_pax(&ar, 'g', &r);
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "PAX size", "malformed global PAX header");
	buf_reset(&ar);
	hdr(h, "PaxHeaders/t", 'x', 100);
	put_hdr(&ar, h);
	buf_append(&ar, "30 path=", 8);
	expect(&ar, -EPROTO, "unexpected end of PAX header", "truncated PAX header data");
	buf_free(&ar);
	buf_free(&r);
}

static void test_hostile_gnu(void)
{
	struct buf ar = BUF_INIT;
	unsigned char h[512];

	put_gnu_long(&ar, 'L', "long/name");
	put_end(&ar);
	expect(&ar, -EBADMSG, "GNU long-name header not followed", "GNU long name without an entry");
	buf_reset(&ar);
	put_gnu_long(&ar, 'K', "target");
	put_end(&ar);
	expect(&ar, -EBADMSG, "long-link header not followed", "GNU long link without an entry");
	buf_reset(&ar);
	put_gnu_long(&ar, 'L', "first");
	put_gnu_long(&ar, 'L', "second");
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "two GNU long-name", "chained GNU long names");
	buf_reset(&ar);
	{
		char *p = malloc(TAR_PATH_MAX + 1);
		memset(p, 'l', TAR_PATH_MAX);
		p[TAR_PATH_MAX] = '\0';
		put_gnu_long(&ar, 'L', p);
		put_file(&ar, "f", "");
		put_end(&ar);
		expect(&ar, -ENAMETOOLONG, "GNU long name", "GNU long name over TAR_PATH_MAX");
		free(p);
	}
	buf_reset(&ar);
	hdr(h, "././@LongLink", 'L', 9);
	put_hdr(&ar, h);
	put_data(&ar, "ab\0cdefgh", 9);
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "bytes after its NUL", "GNU long name hiding bytes after its NUL");
	buf_reset(&ar);
	hdr(h, "././@LongLink", 'L', 1);
	put_hdr(&ar, h);
	put_data(&ar, "", 1);
	put_file(&ar, "f", "");
	put_end(&ar);
	expect(&ar, -EBADMSG, "GNU long name of 0 bytes", "empty GNU long name");
	buf_reset(&ar);
	hdr(h, "././@LongLink", 'L', 100000000);
	put_hdr(&ar, h);
	expect(&ar, -ENAMETOOLONG, "limit 4096", "GNU long name header declaring 100 MB");
	buf_free(&ar);
}

static void test_hostile_stream(void)
{
	struct buf ar = BUF_INIT, full = BUF_INIT;
	unsigned char h[512];

	put_file(&full, "data", "0123456789");
	put_end(&full);

	buf_append(&ar, full.data, 300);
	expect(&ar, -EPROTO, "truncated header (300 of 512", "truncated header");
	buf_reset(&ar);
	buf_append(&ar, full.data, 512 + 4);
	expect(&ar, -EPROTO, "\"data\"", "truncated data (names the entry)");
	buf_reset(&ar);
	buf_append(&ar, full.data, 512 + 100);
	{
		struct scan sc = scan(&ar);
		ok(sc.rc == 0 && sc.entries == 1, "input ending inside the last padding is a clean end (as Go's archive/tar)");
	}
	buf_reset(&ar);
	buf_append(&ar, full.data, 1024);
	{
		struct scan sc = scan(&ar);
		ok(sc.rc == 0 && sc.entries == 1, "missing end marker is a clean end (as Go's archive/tar; umoci writes such layers)");
	}
	buf_reset(&ar);
	buf_append(&ar, full.data, 1024 + 512);
	{
		struct scan sc = scan(&ar);
		ok(sc.rc == 0 && sc.entries == 1, "one zero block then end of input is a clean end");
	}
	buf_reset(&ar);
	buf_append(&ar, full.data, 1024 + 512 + 100);
	expect(&ar, -EPROTO, "truncated header", "one and a fraction zero blocks");
	buf_reset(&ar);
	buf_append(&ar, full.data, 1024 + 512);
	hdr(h, "after-zero", '0', 0);
	put_hdr(&ar, h);
	put_end(&ar);
	expect(&ar, -EBADMSG, "single zero block followed by data", "one zero block then a header");
	buf_reset(&ar);
	buf_append(&ar, full.data, full.len);
	buf_puts(&ar, "garbage");
	expect(&ar, -EBADMSG, "trailing garbage at byte 2048", "trailing garbage after the end marker");
	buf_reset(&ar);
	buf_append(&ar, full.data, full.len);
	for (int i = 0; i < 9000; i++)
		buf_putc(&ar, 0);
	buf_putc(&ar, 1);
	expect(&ar, -EBADMSG, "trailing garbage at byte 11048", "a nonzero byte deep in the padding");
	buf_reset(&ar);
	{
		struct scan sc = scan(&ar);
		ok(sc.rc == 0 && sc.entries == 0, "empty input is an empty archive");
	}
	buf_reset(&ar);
	hdr(h, "././@PaxHeader", 'x', 0);
	put_hdr(&ar, h);
	expect(&ar, -EPROTO, "after a PAX header, before its entry", "input ending after a PAX header");

	/* errors from the stage below come through, naming the entry */
	{
		struct fail_reader f;
		struct err e = ERR_INIT;
		struct tar_entry *te;
		char buf[16];
		mem_reader_init(&f.m, full.data, full.len);
		f.r.read = fail_read;
		f.r.close = NULL;
		f.ok = 516;
		struct tar *t = tar_open(&f.r, &e);
		tar_next(t, &te, &e);
		ssize_t n = tar_read(t, buf, sizeof(buf), &e);
		ok(n == 4, "read before the failure");
		n = tar_read(t, buf, sizeof(buf), &e);
		ok(n == -EIO && strstr(e.msg, "\"data\"") && strstr(e.msg, "disk on fire"),
		   "reader error passed on with the entry named");
		err_clear(&e);
		int rc = tar_next(t, &te, &e);
		ok(rc == -EIO && strstr(e.msg, "disk on fire"), "errors are sticky");
		err_clear(&e);
		ok(tar_read(t, buf, 1, &e) == -EIO && strstr(e.msg, "disk on fire"),
		   "  ... tar_read too");
		tar_close(t);
	}
	buf_free(&ar);
	buf_free(&full);
}

int main(void)
{
	test_ustar();
	test_prefix_v7_gnu();
	test_pax();
	test_numbers();
	test_hostile_header();
	test_hostile_pax();
	test_hostile_gnu();
	test_hostile_stream();
	return done_testing();
}

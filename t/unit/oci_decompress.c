/* Unit tests for oci/decompress.c: media types, gzip (multi-member,
 * truncation, CRC, trailing bytes), zstd (frames, window limit), sniffing,
 * and decompression bombs stopped at a cap with bounded memory.  All
 * compressed inputs are made here at run time with zlib and libzstd. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/tar.h"
#include "t/tap.h"

#define MiB (1024 * 1024)

/* ---- making inputs ---- */

static void gz(struct buf *out, const void *p, size_t n, int level)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
	buf_reserve(out, deflateBound(&z, n));
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)out->data + out->len;
	z.avail_out = (uInt)(out->cap - out->len - 1);
	deflate(&z, Z_FINISH);
	out->len += z.total_out;
	deflateEnd(&z);
}

/* A gzip stream of `mib` MiB of zeros built from one full-flush block
 * repeated (blocks after Z_FULL_FLUSH do not refer back), with a correct
 * trailer: a real, valid bomb made in milliseconds. */
static void gz_zeros(struct buf *out, unsigned mib)
{
	static unsigned char zero[MiB];
	unsigned char tmp[64 * 1024];
	z_stream z;
	size_t blk_len;
	uLong crc1 = crc32(0, zero, MiB), crc = crc32(0, NULL, 0);

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
	z.next_in = zero;
	z.avail_in = MiB;
	z.next_out = tmp;
	z.avail_out = sizeof(tmp);
	deflate(&z, Z_FULL_FLUSH);
	buf_append(out, tmp, sizeof(tmp) - z.avail_out);   /* header + block */
	z.next_in = zero;
	z.avail_in = MiB;
	z.next_out = tmp;
	z.avail_out = sizeof(tmp);
	deflate(&z, Z_FULL_FLUSH);
	blk_len = sizeof(tmp) - z.avail_out;               /* the block alone */
	buf_reserve(out, blk_len * mib);
	for (unsigned i = 1; i < mib; i++)
		buf_append(out, tmp, blk_len);
	z.next_out = tmp;
	z.avail_out = sizeof(tmp);
	deflate(&z, Z_FINISH);
	buf_append(out, tmp, sizeof(tmp) - z.avail_out - 8);  /* last block, no trailer */
	deflateEnd(&z);
	for (unsigned i = 0; i < mib; i++)
		crc = crc32_combine(crc, crc1, MiB);
	unsigned char tr[8];
	uint32_t isize = (uint32_t)((uint64_t)mib * MiB);
	for (int i = 0; i < 4; i++) {
		tr[i] = (unsigned char)(crc >> (8 * i));
		tr[4 + i] = (unsigned char)(isize >> (8 * i));
	}
	buf_append(out, tr, 8);
}

static void zs(struct buf *out, const void *p, size_t n, int level, int wlog, int check)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, check);
	if (wlog)
		ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
	/* Fed with e_continue first, so zstd does not learn the size and
	 * writes the window into the frame header. */
	ZSTD_inBuffer in = { p, n, 0 };
	size_t r;
	while (in.pos < in.size) {
		buf_reserve(out, 64 * 1024);
		ZSTD_outBuffer o = { out->data + out->len, out->cap - out->len - 1, 0 };
		ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue);
		out->len += o.pos;
	}
	do {
		buf_reserve(out, 64 * 1024);
		ZSTD_outBuffer o = { out->data + out->len, out->cap - out->len - 1, 0 };
		r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
		out->len += o.pos;
	} while (r != 0);
	ZSTD_freeCCtx(c);
}

static void zs_zeros(struct buf *out, unsigned mib)
{
	static unsigned char zero[MiB];
	ZSTD_CCtx *c = ZSTD_createCCtx();
	for (unsigned i = 0; i < mib; i++) {
		ZSTD_inBuffer in = { zero, MiB, 0 };
		ZSTD_EndDirective d = i + 1 == mib ? ZSTD_e_end : ZSTD_e_continue;
		size_t r;
		do {
			buf_reserve(out, 64 * 1024);
			ZSTD_outBuffer o = { out->data + out->len, out->cap - out->len - 1, 0 };
			r = ZSTD_compressStream2(c, &o, &in, d);
			out->len += o.pos;
		} while (d == ZSTD_e_end ? r != 0 : in.pos < in.size);
	}
	ZSTD_freeCCtx(c);
}

/* Deterministic, compressible but not trivial. */
static void text(struct buf *out, size_t n)
{
	uint32_t x = 12345;
	while (out->len < n) {
		x = x * 1103515245 + 12345;
		buf_printf(out, "line %u of some text %c\n", (x >> 16) % 1000, 'a' + (x >> 8) % 26);
	}
	buf_truncate(out, n);
}

/* ---- reading ---- */

struct res {
	int rc;
	uint64_t total;
	struct err e;
};

/* Read r to its end in `chunk`-byte reads; keep the output if out != NULL. */
static struct res drain(struct reader *r, struct buf *out, size_t chunk)
{
	struct res s = { 0, 0, ERR_INIT };
	unsigned char *tmp = malloc(chunk);
	ssize_t n;
	while ((n = reader_read(r, tmp, chunk, &s.e)) > 0) {
		s.total += (uint64_t)n;
		if (out)
			buf_append(out, tmp, (size_t)n);
	}
	s.rc = (int)n;
	free(tmp);
	return s;
}

/* FIXTURE_DUMP=dir writes each small input, behind the selector byte of
 * t/fuzz/decompress.c (kind in the low bits), to dir/dec-NNN: the fuzz
 * seed corpus. */
static void dump(const struct buf *in, enum decompress_kind k)
{
	static int seq;
	const char *dir = getenv("FIXTURE_DUMP");
	if (!dir || in->len > 32768)
		return;
	for (int pass = 0; pass < 2; pass++) {
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s/dec-%03d", dir, seq++);
		FILE *f = fopen(buf_str(&path), "wb");
		buf_free(&path);
		if (!f)
			return;
		/* second copy: routed on into the tar reader (0xe0) */
		fputc((int)k | (pass ? 0xe0 : 0), f);
		fwrite(in->data ? in->data : "", 1, in->len, f);
		fclose(f);
	}
}

static struct res run(const struct buf *in, enum decompress_kind k, uint64_t cap,
		      struct buf *out)
{
	struct mem_reader m;
	dump(in, k);
	mem_reader_init(&m, in->data, in->len);
	struct reader *r = decompress_open(&m.r, k, cap);
	struct res s = drain(r, out, 65536);
	r->close(r);
	return s;
}

static void expect(const struct buf *in, enum decompress_kind k, uint64_t cap, int code,
		   const char *needle, const char *what)
{
	struct res s = run(in, k, cap, NULL);
	if (!ok(s.rc == code && strstr(s.e.msg, needle), "%s", what))
		diag("  rc %d (want %d): %s", s.rc, code, s.e.msg);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ---- tests ---- */

static void test_bombs(void)
{
	struct buf in = BUF_INIT;
	long before;

	gz_zeros(&in, 1024);
	diag("gzip bomb: 1 GiB of zeros in %zu bytes", in.len);
	before = maxrss_kib();
	expect(&in, DECOMPRESS_GZIP, 16 * MiB, -EFBIG, "exceeds the cap of 16777216",
	       "gzip bomb (1 GiB) stopped at a 16 MiB cap");
	long grew = maxrss_kib() - before;
	ok(grew < 8 * 1024, "  ... peak RSS grew by %ld KiB (< 8 MiB)", grew);
	expect(&in, DECOMPRESS_AUTO, MiB, -EFBIG, "exceeds the cap", "gzip bomb, sniffed, 1 MiB cap");
	buf_reset(&in);
	gz_zeros(&in, 16);
	struct res s = run(&in, DECOMPRESS_GZIP, 0, NULL);
	ok(s.rc == 0 && s.total == 16 * MiB, "the bomb generator makes valid gzip (16 MiB, no cap)");
	s = run(&in, DECOMPRESS_GZIP, 16 * MiB, NULL);
	ok(s.rc == 0 && s.total == 16 * MiB, "output of exactly the cap is accepted");
	expect(&in, DECOMPRESS_GZIP, 16 * MiB - 1, -EFBIG, "cap", "one byte over the cap fails");

	buf_reset(&in);
	zs_zeros(&in, 1024);
	diag("zstd bomb: 1 GiB of zeros in %zu bytes", in.len);
	before = maxrss_kib();
	expect(&in, DECOMPRESS_ZSTD, 16 * MiB, -EFBIG, "exceeds the cap",
	       "zstd bomb (1 GiB) stopped at a 16 MiB cap");
	grew = maxrss_kib() - before;
	ok(grew < 8 * 1024, "  ... peak RSS grew by %ld KiB (< 8 MiB)", grew);

	/* identity is capped too (an uncompressed layer can be a bomb in size) */
	buf_reset(&in);
	text(&in, 1000);
	expect(&in, DECOMPRESS_NONE, 999, -EFBIG, "cap", "identity stage over its cap");
	buf_free(&in);
}

static void test_media_types(void)
{
	static const struct { const char *mt; int kind; } cases[] = {
		{ "application/vnd.oci.image.layer.v1.tar", DECOMPRESS_NONE },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", DECOMPRESS_GZIP },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", DECOMPRESS_ZSTD },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", DECOMPRESS_GZIP },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", DECOMPRESS_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", DECOMPRESS_GZIP },
	};
	struct err e = ERR_INIT;
	enum decompress_kind k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = DECOMPRESS_AUTO;
		ok(decompress_kind_for_media_type(cases[i].mt, &k, &e) == 0 &&
		   (int)k == cases[i].kind, "media type %s -> %s", cases[i].mt,
		   decompress_kind_name((enum decompress_kind)cases[i].kind));
	}
	int rc = decompress_kind_for_media_type("application/vnd.oci.image.layer.v1.tar+bzip2",
						&k, &e);
	ok(rc == -ENOTSUP && strstr(e.msg, "tar+bzip2"), "unknown media type refused, named");
	rc = decompress_kind_for_media_type("application/vnd.oci.image.layer.v1.tar+gzip ",
					    &k, &e);
	is_int(rc, -ENOTSUP, "media types match exactly (trailing space refused)");
}

static void test_gzip(void)
{
	struct buf plain = BUF_INIT, in = BUF_INIT, out = BUF_INIT, bad = BUF_INIT;
	struct res s;

	text(&plain, 300000);
	gz(&in, plain.data, plain.len, 6);
	s = run(&in, DECOMPRESS_GZIP, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "gzip round trip (300 kB)");
	/* one-byte reads exercise the path where inflate owes output */
	{
		struct mem_reader m;
		mem_reader_init(&m, in.data, in.len);
		struct reader *r = decompress_open(&m.r, DECOMPRESS_GZIP, 0);
		buf_reset(&out);
		s = drain(r, &out, 1);
		uint64_t cin, cout;
		decompress_counts(r, &cin, &cout);
		r->close(r);
		ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
		   "gzip read one byte at a time");
		ok(cin == in.len && cout == plain.len, "decompress_counts: %llu in, %llu out",
		   (unsigned long long)cin, (unsigned long long)cout);
	}
	/* multi-member */
	buf_reset(&bad);
	gz(&bad, plain.data, 1000, 1);
	gz(&bad, plain.data + 1000, plain.len - 1000, 9);
	gz(&bad, "", 0, 6);
	buf_reset(&out);
	s = run(&bad, DECOMPRESS_GZIP, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "gzip multi-member (3 members, one empty)");
	/* truncations */
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len - 4);
	expect(&bad, DECOMPRESS_GZIP, 0, -EPROTO, "truncated", "gzip missing its ISIZE");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len / 2);
	expect(&bad, DECOMPRESS_GZIP, 0, -EPROTO, "truncated", "gzip cut in half");
	buf_reset(&bad);
	buf_append(&bad, in.data, 5);
	expect(&bad, DECOMPRESS_GZIP, 0, -EPROTO, "truncated", "gzip cut inside its header");
	buf_reset(&bad);
	expect(&bad, DECOMPRESS_GZIP, 0, -EPROTO, "empty stream", "empty gzip input");
	/* corruption */
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	bad.data[bad.len - 6] ^= 1;
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "incorrect data check", "gzip bad CRC");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	bad.data[bad.len - 2] ^= 1;
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "incorrect length check", "gzip bad ISIZE");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	bad.data[2] = 7;
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "corrupt data", "gzip unknown method");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	for (size_t i = 100; i < 140; i++)
		bad.data[i] = (char)0xff;
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "", "gzip corrupt deflate data");
	expect(&plain, DECOMPRESS_GZIP, 0, -EBADMSG, "incorrect header check",
	       "plain text declared gzip");
	{
		buf_reset(&bad);
		uLongf n = compressBound(1000);
		buf_reserve(&bad, n);
		compress((Bytef *)bad.data, &n, (const Bytef *)plain.data, 1000);
		bad.len = n;
		expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "", "zlib (not gzip) wrapper refused");
	}
	/* after the last member */
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_puts(&bad, "garbage");
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "garbage after the last member",
	       "gzip trailing garbage");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_append(&bad, "\0\0\0\0\0\0\0\0", 8);
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "garbage", "gzip trailing zero padding");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_putc(&bad, 0x1f);
	expect(&bad, DECOMPRESS_GZIP, 0, -EBADMSG, "garbage", "gzip trailing lone 0x1f");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_append(&bad, "\x1f\x8b", 2);
	expect(&bad, DECOMPRESS_GZIP, 0, -EPROTO, "truncated", "gzip second member cut after magic");
	/* sticky */
	{
		struct mem_reader m;
		struct err e = ERR_INIT;
		unsigned char b[16];
		mem_reader_init(&m, plain.data, plain.len);
		struct reader *r = decompress_open(&m.r, DECOMPRESS_GZIP, 0);
		ssize_t a = reader_read(r, b, sizeof(b), &e);
		err_clear(&e);
		ssize_t c = reader_read(r, b, sizeof(b), &e);
		ok(a == -EBADMSG && c == -EBADMSG && strstr(e.msg, "gzip"), "gzip errors are sticky");
		r->close(r);
	}
	buf_free(&plain);
	buf_free(&in);
	buf_free(&out);
	buf_free(&bad);
}

static void test_zstd(void)
{
	struct buf plain = BUF_INIT, in = BUF_INIT, out = BUF_INIT, bad = BUF_INIT;
	struct res s;

	text(&plain, 300000);
	zs(&in, plain.data, plain.len, 3, 0, 1);
	s = run(&in, DECOMPRESS_ZSTD, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "zstd round trip (300 kB)");
	{
		struct mem_reader m;
		mem_reader_init(&m, in.data, in.len);
		struct reader *r = decompress_open(&m.r, DECOMPRESS_ZSTD, 0);
		buf_reset(&out);
		s = drain(r, &out, 7);
		r->close(r);
		ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
		   "zstd read 7 bytes at a time");
	}
	/* several frames and a skippable frame */
	buf_reset(&bad);
	zs(&bad, plain.data, 1000, 1, 0, 0);
	buf_append(&bad, "\x50\x2a\x4d\x18\x04\x00\x00\x00skip", 12);
	zs(&bad, plain.data + 1000, plain.len - 1000, 19, 0, 1);
	buf_reset(&out);
	s = run(&bad, DECOMPRESS_ZSTD, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "zstd: two frames with a skippable frame between");
	/* window limit */
	buf_reset(&bad);
	zs(&bad, plain.data, plain.len, 1, 28, 0);
	expect(&bad, DECOMPRESS_ZSTD, 0, -E2BIG, "window over 134217728",
	       "zstd frame with a 256 MiB window refused");
	buf_reset(&bad);
	zs(&bad, plain.data, plain.len, 1, DECOMPRESS_ZSTD_WINDOW_LOG_MAX, 0);
	buf_reset(&out);
	s = run(&bad, DECOMPRESS_ZSTD, 0, &out);
	ok(s.rc == 0 && out.len == plain.len, "zstd frame with a window of exactly 2^27 accepted");
	/* truncation and corruption */
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len - 3);
	expect(&bad, DECOMPRESS_ZSTD, 0, -EPROTO, "truncated", "zstd missing its checksum");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len / 2);
	expect(&bad, DECOMPRESS_ZSTD, 0, -EPROTO, "truncated", "zstd cut in half");
	buf_reset(&bad);
	expect(&bad, DECOMPRESS_ZSTD, 0, -EPROTO, "empty stream", "empty zstd input");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	bad.data[bad.len - 1] ^= 1;
	expect(&bad, DECOMPRESS_ZSTD, 0, -EBADMSG, "corrupt data", "zstd bad checksum");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_puts(&bad, "garbage!");
	expect(&bad, DECOMPRESS_ZSTD, 0, -EBADMSG, "corrupt data", "zstd trailing garbage");
	buf_reset(&bad);
	buf_append(&bad, in.data, in.len);
	buf_append(&bad, "\0\0\0\0\0\0\0\0", 8);
	expect(&bad, DECOMPRESS_ZSTD, 0, -EBADMSG, "corrupt data", "zstd trailing zero padding");
	expect(&plain, DECOMPRESS_ZSTD, 0, -EBADMSG, "corrupt data", "plain text declared zstd");
	buf_free(&plain);
	buf_free(&in);
	buf_free(&out);
	buf_free(&bad);
}

static void test_auto(void)
{
	struct buf plain = BUF_INIT, in = BUF_INIT, out = BUF_INIT;
	struct res s;

	text(&plain, 5000);
	gz(&in, plain.data, plain.len, 6);
	s = run(&in, DECOMPRESS_AUTO, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "auto: gzip by magic");
	buf_reset(&in);
	buf_reset(&out);
	zs(&in, plain.data, plain.len, 3, 0, 1);
	s = run(&in, DECOMPRESS_AUTO, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "auto: zstd by magic");
	buf_reset(&out);
	s = run(&plain, DECOMPRESS_AUTO, 0, &out);
	ok(s.rc == 0 && out.len == plain.len && !memcmp(out.data, plain.data, plain.len),
	   "auto: anything else passes through");
	buf_reset(&in);
	buf_putc(&in, 0x1f);
	buf_reset(&out);
	s = run(&in, DECOMPRESS_AUTO, 0, &out);
	ok(s.rc == 0 && out.len == 1 && out.data[0] == 0x1f, "auto: one byte passes through");
	buf_reset(&in);
	s = run(&in, DECOMPRESS_AUTO, 0, NULL);
	ok(s.rc == 0 && s.total == 0, "auto: empty input is an empty stream");
	buf_reset(&in);
	buf_puts(&in, "BZh91AY&SY");
	expect(&in, DECOMPRESS_AUTO, 0, -ENOTSUP, "bzip2", "auto: bzip2 refused by magic");
	buf_reset(&in);
	buf_append(&in, "\xfd" "7zXZ\0\0\0", 8);
	expect(&in, DECOMPRESS_AUTO, 0, -ENOTSUP, "xz", "auto: xz refused by magic");
	buf_free(&plain);
	buf_free(&in);
	buf_free(&out);
}

/* Errors from the stage below pass through unchanged. */
struct fail_reader {
	struct reader r;
	struct mem_reader m;
	size_t ok;
};

static ssize_t fail_read(struct reader *r, void *p, size_t n, struct err *e)
{
	struct fail_reader *f = (struct fail_reader *)r;
	if (f->m.off >= f->ok)
		return err_set(e, -EIO, "network went away");
	if (n > f->ok - f->m.off)
		n = f->ok - f->m.off;
	return f->m.r.read(&f->m.r, p, n, e);
}

static void test_pipeline(void)
{
	struct buf plain = BUF_INIT, ar = BUF_INIT, in = BUF_INIT;
	struct mem_reader m;
	struct err e = ERR_INIT;
	struct tar_entry *te;
	unsigned char h[512];

	/* a small tar made by hand: one file "hello" with "world\n" */
	memset(h, 0, 512);
	memcpy(h, "hello", 5);
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	memcpy(h + 124, "00000000006", 11);
	memcpy(h + 136, "00000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	buf_append(&ar, h, 512);
	buf_append(&ar, "world\n", 6);
	while (ar.len < 512 * 4)
		buf_putc(&ar, 0);
	gz(&in, ar.data, ar.len, 6);

	mem_reader_init(&m, in.data, in.len);
	struct reader *r = decompress_open(&m.r, DECOMPRESS_AUTO, 0);
	struct tar *t = tar_open(r, &e);
	char data[16] = "";
	int rc1 = tar_next(t, &te, &e);
	ok(rc1 == 1 && !strcmp(te->path, "hello"), "gzip -> tar: entry");
	ok(tar_read(t, data, sizeof(data), &e) == 6 && !memcmp(data, "world\n", 6),
	   "gzip -> tar: data");
	is_int(tar_next(t, &te, &e), 0, "gzip -> tar: clean end");
	tar_close(t);
	r->close(r);

	/* garbage after the gzip stream reaches the tar reader's caller */
	buf_puts(&in, "junk");
	mem_reader_init(&m, in.data, in.len);
	r = decompress_open(&m.r, DECOMPRESS_GZIP, 0);
	t = tar_open(r, &e);
	tar_next(t, &te, &e);
	int rc = tar_next(t, &te, &e);
	ok(rc == -EBADMSG && strstr(e.msg, "gzip: garbage"),
	   "gzip trailing garbage surfaces through the tar reader");
	tar_close(t);
	r->close(r);

	/* a failing stage below */
	{
		struct fail_reader f;
		mem_reader_init(&f.m, in.data, in.len);
		f.r.read = fail_read;
		f.r.close = NULL;
		f.ok = 10;
		r = decompress_open(&f.r, DECOMPRESS_GZIP, 0);
		struct res s = drain(r, NULL, 100);
		ok(s.rc == -EIO && strstr(s.e.msg, "network went away"),
		   "errors from below pass through");
		s = drain(r, NULL, 100);
		ok(s.rc == -EIO, "  ... and stay");
		r->close(r);
		for (int k = DECOMPRESS_NONE; k <= DECOMPRESS_AUTO; k += 3) {
			mem_reader_init(&f.m, in.data, in.len);
			f.ok = k == DECOMPRESS_NONE ? 10 : 1;
			r = decompress_open(&f.r, (enum decompress_kind)k, 0);
			s = drain(r, NULL, 100);
			struct res s2 = drain(r, NULL, 100);
			ok(s.rc == -EIO && s2.rc == -EIO && strstr(s2.e.msg, "network went away"),
			   "%s stage: errors from below pass through and stay",
			   decompress_kind_name((enum decompress_kind)k));
			r->close(r);
		}
	}
	buf_free(&plain);
	buf_free(&ar);
	buf_free(&in);
}

int main(void)
{
	test_bombs();   /* first: the RSS high-water mark is still low */
	test_media_types();
	test_gzip();
	test_zstd();
	test_auto();
	test_pipeline();
	return done_testing();
}

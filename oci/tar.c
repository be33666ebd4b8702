/* Streaming tar reader (see oci/tar.h).  Used by the layer unpacker
 * (oci/fstree, oci/ext4) on the output of oci/decompress, and by
 * t/tools/tarls.
 *
 * Formats: POSIX ustar ("ustar\0" "00", with the 155-byte prefix), old GNU
 * ("ustar  \0", no prefix; 'L'/'K' long names), v7 (no magic), PAX local
 * headers ('x').  Numbers are octal or GNU base-256 in any format.
 *
 * Choices (each one tested in t/unit/oci_tar.c):
 * - Checksum: the stored value must equal the unsigned or the signed byte
 *   sum, as GNU tar and libarchive accept.
 * - Numeric fields: optional leading spaces, octal digits, then only spaces
 *   or NULs; an all-blank field is 0.  Base-256 only with 0x80 (positive)
 *   or 0xff (negative) as first byte; negative only where it means
 *   something (mtime).
 * - PAX wins over the ustar and GNU fields.  A PAX size that disagrees with
 *   a nonzero ustar size is an error when the value would have fit in the
 *   ustar field: a writer had no reason to use PAX for it, so two readers
 *   could see two different archives.
 * - Metadata headers ('x', 'L', 'K') apply to the next entry; two of the
 *   same kind in a row, or one followed by the end marker, is an error.
 * - Global PAX headers ('g') are parsed strictly and then ignored, like Go
 *   archive/tar + containerd and libarchive do.  Sparse ('S', GNU.sparse.*),
 *   multi-volume, volume labels and dump dirs are refused (-ENOTSUP).
 * - Non-regular entries must have size 0: data we would skip is data
 *   another reader might give meaning to.
 * - xattrs: SCHILY.xattr.NAME (raw value) and LIBARCHIVE.xattr.NAME (URL-
 *   encoded name, base64 value; bsdtar writes both); the same name twice
 *   must carry the same value.
 * - End of archive: see oci/tar.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/tar.h"

#define BLOCK 512
#define OCTAL11_MAX 077777777777LL  /* largest size a ustar field holds */

/* Offsets in a header block. */
enum {
	H_NAME = 0, H_MODE = 100, H_UID = 108, H_GID = 116, H_SIZE = 124,
	H_MTIME = 136, H_CHKSUM = 148, H_TYPE = 156, H_LINK = 157,
	H_MAGIC = 257, H_VERSION = 263, H_UNAME = 265, H_GNAME = 297,
	H_DEVMAJOR = 329, H_DEVMINOR = 337, H_PREFIX = 345,
};

enum fmt { FMT_V7, FMT_USTAR, FMT_GNU };

/* Values from a PAX header; pointers into the header's buffer, which is
 * NUL-terminated in place ('=' and '\n' become NUL). */
struct pax {
	const char *path, *link, *uname, *gname;
	bool has_size, has_uid, has_gid, has_mtime, has_major, has_minor;
	uint64_t size;
	uint32_t uid, gid, major, minor;
	int64_t mtime;
	uint32_t mtime_nsec;
	size_t xattr_bytes;
};

struct tar {
	struct reader data;      /* tar_data(): first, so a cast finds t */
	struct reader *in;
	uint64_t off;            /* bytes consumed from in */
	uint64_t hdr_off;        /* where the current header started */
	uint64_t remain;         /* data left in the current entry */
	uint64_t pad;            /* padding after it */
	int state;               /* 0 running, 1 ended, 2 failed */
	struct err fail;         /* the sticky error */
	size_t pax_max, xattr_max;
	unsigned char hdr[BLOCK];
	struct buf name;         /* current entry for messages */
	struct buf path, link, uname, gname;
	struct buf longname, longlink, paxbuf;
	bool have_longname, have_longlink, have_pax;
	struct pax pax;
	struct tar_xattr *xa;
	size_t nxa, xacap;
	struct tar_entry ent;
};

/* ---- errors ---- */

/* Fill e with "tar: <entry> (header at byte N): <msg>", remember it. */
static __attribute__((format(printf, 4, 5)))
int fail(struct tar *t, struct err *e, int code, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	buf_printf(&m, "tar: %s (header at byte %llu): ", buf_str(&t->name),
		   (unsigned long long)t->hdr_off);
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	err_set(&t->fail, code, "%s", buf_str(&m));
	buf_free(&m);
	t->state = 2;
	if (e)
		*e = t->fail;
	return t->fail.code;
}

/* An error from the wrapped reader, already in e: add where we were. */
static int fail_wrap(struct tar *t, struct err *e, int code)
{
	struct err tmp = ERR_INIT;

	if (e)
		tmp = *e;
	if (!tmp.code)
		err_set(&tmp, code, "read error");
	return fail(t, e, tmp.code, "%s", tmp.msg);
}

/* Set the name used in messages: quoted, escaped, at most 200 bytes. */
static void set_name(struct tar *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	buf_reset(&t->name);
	buf_putc(&t->name, '"');
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 200) {
			buf_puts(&t->name, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			buf_append(&t->name, esc, 4);
		} else {
			buf_putc(&t->name, (char)c);
		}
	}
	buf_putc(&t->name, '"');
}

/* ---- input ---- */

static int rd(struct tar *t, void *p, size_t n, const char *what, struct err *e)
{
	int rc = reader_read_full(t->in, p, n, what, e);
	if (rc < 0)
		return fail_wrap(t, e, rc);
	t->off += n;
	return 0;
}

static int skip(struct tar *t, uint64_t n, const char *what, struct err *e)
{
	int rc = reader_skip(t->in, n, what, e);
	if (rc < 0)
		return fail_wrap(t, e, rc);
	t->off += n;
	return 0;
}

/* Read one header block: 1 = got it, 0 = clean end of input, <0 error. */
static int read_block(struct tar *t, struct err *e)
{
	size_t got = 0;

	while (got < BLOCK) {
		ssize_t n = reader_read(t->in, t->hdr + got, BLOCK - got, e);
		if (n < 0)
			return fail_wrap(t, e, (int)n);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	t->off += got;
	if (got == 0)
		return 0;
	if (got < BLOCK)
		return fail(t, e, -EPROTO, "truncated header (%zu of 512 bytes)", got);
	return 1;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- numbers ---- */

/* A numeric header field; -EBADMSG if malformed, -ERANGE if too big. */
static int parse_num(const unsigned char *f, size_t len, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, nd = 0;

	if (f[0] == 0x80 || f[0] == 0xff) {
		/* GNU base-256: big-endian two's complement over the field. */
		bool neg = f[0] == 0xff;
		for (i = 0; i < len; i++) {
			unsigned b = neg ? (unsigned char)~f[i] : f[i];
			if (i == 0)
				b &= 0x7f;
			if (v > (uint64_t)INT64_MAX >> 8)
				return -ERANGE;
			v = v << 8 | b;
		}
		*out = neg ? -(int64_t)v - 1 : (int64_t)v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, nd++) {
		if (v > (uint64_t)INT64_MAX >> 3)
			return -ERANGE;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -EBADMSG;
	*out = (int64_t)v;
	return 0;
}

static int num_field(struct tar *t, int off, size_t len, const char *what,
		     int64_t lo, int64_t hi, int64_t *out, struct err *e)
{
	int rc = parse_num(t->hdr + off, len, out);

	if (rc == -EBADMSG)
		return fail(t, e, -EBADMSG, "%s field is not an octal number", what);
	if (rc < 0 || *out < lo || *out > hi)
		return fail(t, e, -EBADMSG, "%s field out of range", what);
	return 0;
}

static int check_sum(struct tar *t, struct err *e)
{
	int64_t stored;
	long us = 0, ss = 0;

	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : t->hdr[i];
		us += c;
		ss += (signed char)c;
	}
	if (parse_num(t->hdr + H_CHKSUM, 8, &stored) < 0 ||
	    all_zero(t->hdr + H_CHKSUM, 8) || (t->hdr[H_CHKSUM] & 0x80))
		return fail(t, e, -EBADMSG, "malformed checksum field");
	if (stored != us && stored != ss)
		return fail(t, e, -EBADMSG, "bad header checksum (stored %lld, computed %ld)",
			    (long long)stored, us);
	return 0;
}

/* Strict decimal for PAX values: digits only, value <= max. */
static bool dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* PAX time: [-]digits[.digits]; fractions past nanoseconds are cut. */
static bool pax_time(const char *s, int64_t *sec, uint32_t *nsec)
{
	bool neg = *s == '-';
	uint64_t v = 0, ns = 0;
	size_t nd = 0, nf = 0;

	if (neg)
		s++;
	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		if (v > ((uint64_t)INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, nf++)
			if (nf < 9)
				ns = ns * 10 + (uint64_t)(*s - '0');
		if (nf == 0)
			return false;
		for (size_t k = nf; k < 9; k++)
			ns *= 10;
	}
	if (*s || nd == 0)
		return false;
	if (neg && ns) {
		/* -1.25 s is 2 s before the epoch plus 0.75 s. */
		*sec = -(int64_t)v - 1;
		*nsec = (uint32_t)(1000000000 - ns);
	} else {
		*sec = neg ? -(int64_t)v : (int64_t)v;
		*nsec = (uint32_t)ns;
	}
	return true;
}

/* ---- PAX ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* In-place URL decoding of a libarchive xattr name; false if malformed
 * or if it would contain a NUL. */
static bool url_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (lo < 0 || (hi | lo) == 0)
				return false;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return true;
}


static int add_xattr(struct tar *t, struct pax *px, const char *name,
		     const unsigned char *val, size_t len, struct err *e)
{
	size_t nl = strlen(name);

	if (nl == 0 || nl > 255)
		return fail(t, e, -EBADMSG, "xattr name of %zu bytes", nl);
	if (len > t->xattr_max || nl + len > t->xattr_max - px->xattr_bytes)
		return fail(t, e, -E2BIG, "xattrs exceed %zu bytes", t->xattr_max);
	px->xattr_bytes += nl + len;
	if (t->nxa == t->xacap) {
		t->xacap = t->xacap ? t->xacap * 2 : 8;
		t->xa = xreallocarray(t->xa, t->xacap, sizeof(*t->xa));
	}
	t->xa[t->nxa++] = (struct tar_xattr){ name, val, len };
	return 0;
}

static int pax_str(struct tar *t, const char *key, const char *v, size_t vlen,
		   size_t max, const char **out, struct err *e)
{
	if (strlen(v) != vlen)
		return fail(t, e, -EBADMSG, "PAX %s contains a NUL byte", key);
	if (vlen >= max)
		return fail(t, e, -ENAMETOOLONG, "PAX %s of %zu bytes (limit %zu)",
			    key, vlen, max - 1);
	*out = vlen ? v : NULL;   /* empty value: fall back to the header */
	return 0;
}

static int pax_num(struct tar *t, const char *key, const char *v, uint64_t max,
		   bool *has, uint64_t *out, struct err *e)
{
	if (!*v) {
		*has = false;
		return 0;
	}
	if (!dec(v, max, out))
		return fail(t, e, -EBADMSG, "PAX %s \"%.40s\" is not a valid number", key, v);
	*has = true;
	return 0;
}

/* One record: key and value NUL-terminated in place; vlen excludes the NUL. */
static int pax_apply(struct tar *t, struct pax *px, char *key, char *v,
		     size_t vlen, bool global, struct err *e)
{
	uint64_t n = 0;
	int rc = 0;

	if (!strcmp(key, "path")) {
		rc = pax_str(t, key, v, vlen, TAR_PATH_MAX, &px->path, e);
	} else if (!strcmp(key, "linkpath")) {
		rc = pax_str(t, key, v, vlen, TAR_PATH_MAX, &px->link, e);
	} else if (!strcmp(key, "uname")) {
		rc = pax_str(t, key, v, vlen, 256, &px->uname, e);
	} else if (!strcmp(key, "gname")) {
		rc = pax_str(t, key, v, vlen, 256, &px->gname, e);
	} else if (!strcmp(key, "size")) {
		rc = pax_num(t, key, v, INT64_MAX, &px->has_size, &px->size, e);
	} else if (!strcmp(key, "uid") || !strcmp(key, "gid") ||
		   !strcmp(key, "SCHILY.devmajor") || !strcmp(key, "SCHILY.devminor")) {
		bool *has = key[0] == 'u' ? &px->has_uid : key[0] == 'g' ? &px->has_gid :
			key[11] == 'a' ? &px->has_major : &px->has_minor;
		uint32_t *dst = key[0] == 'u' ? &px->uid : key[0] == 'g' ? &px->gid :
			key[11] == 'a' ? &px->major : &px->minor;
		rc = pax_num(t, key, v, UINT32_MAX, has, &n, e);
		*dst = (uint32_t)n;
	} else if (!strcmp(key, "mtime") || !strcmp(key, "atime") || !strcmp(key, "ctime")) {
		int64_t s = 0;
		uint32_t ns = 0;
		if (*v && !pax_time(v, &s, &ns))
			return fail(t, e, -EBADMSG, "PAX %s \"%.40s\" is not a valid time", key, v);
		if (key[0] == 'm') {
			px->has_mtime = *v != '\0';
			px->mtime = *v ? s : 0;
			px->mtime_nsec = *v ? ns : 0;
		}
	} else if (!strncmp(key, "GNU.sparse.", 11)) {
		return fail(t, e, -ENOTSUP, "GNU sparse files are not supported");
	} else if (!strncmp(key, "SCHILY.xattr.", 13)) {
		if (!global)
			rc = add_xattr(t, px, key + 13, (unsigned char *)v, vlen, e);
	} else if (!strncmp(key, "LIBARCHIVE.xattr.", 17)) {
		size_t len;
		if (!url_decode(key + 17))
			return fail(t, e, -EBADMSG, "malformed LIBARCHIVE.xattr name");
		if (base64_decode(v, vlen, (unsigned char *)v, &len, 0) < 0) /* in place */
			return fail(t, e, -EBADMSG, "malformed base64 in LIBARCHIVE.xattr.%.60s",
				    key + 17);
		if (!global)
			rc = add_xattr(t, px, key + 17, (unsigned char *)v, len, e);
	}
	/* Other keywords (comment, charset, hdrcharset, SCHILY.acl...) carry
	 * nothing we store; POSIX lets a reader ignore them. */
	return rc;
}

/* Parse "LEN KEY=VALUE\n" records in place. */
static int pax_parse(struct tar *t, char *p, size_t len, struct pax *px,
		     bool global, struct err *e)
{
	size_t pos = 0;

	while (pos < len) {
		char *rec = p + pos, *sp, *eq;
		size_t left = len - pos, n = 0, i = 0;

		for (; i < left && i < 20 && rec[i] >= '0' && rec[i] <= '9'; i++)
			n = n * 10 + (size_t)(rec[i] - '0');
		if (i == 0 || i == 20 || i == left || rec[i] != ' ' || (rec[0] == '0'))
			return fail(t, e, -EBADMSG, "PAX record at %zu: bad length field", pos);
		sp = rec + i;
		if (n > left)
			return fail(t, e, -EBADMSG, "PAX record at %zu: length %zu runs past "
				    "the header (%zu bytes left)", pos, n, left);
		if (n < i + 4 || rec[n - 1] != '\n')
			return fail(t, e, -EBADMSG, "PAX record at %zu: length %zu does not "
				    "end at a newline", pos, n);
		eq = memchr(sp + 1, '=', (size_t)(rec + n - 1 - (sp + 1)));
		if (!eq)
			return fail(t, e, -EBADMSG, "PAX record at %zu: no '='", pos);
		if (eq == sp + 1 || memchr(sp + 1, '\0', (size_t)(eq - sp - 1)))
			return fail(t, e, -EBADMSG, "PAX record at %zu: bad keyword", pos);
		*eq = '\0';
		rec[n - 1] = '\0';
		int rc = pax_apply(t, px, sp + 1, eq + 1, (size_t)(rec + n - 1 - (eq + 1)),
				   global, e);
		if (rc < 0)
			return rc;
		pos += n;
	}
	return 0;
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct tar_xattr *)a)->name,
		      ((const struct tar_xattr *)b)->name);
}

/* Sort; drop exact duplicates (bsdtar writes SCHILY and LIBARCHIVE). */
static int xattr_dedup(struct tar *t, struct err *e)
{
	size_t w = 0;

	if (t->nxa > 1)
		qsort(t->xa, t->nxa, sizeof(*t->xa), cmp_xattr);
	for (size_t i = 0; i < t->nxa; i++) {
		if (w && !strcmp(t->xa[w - 1].name, t->xa[i].name)) {
			if (t->xa[w - 1].len != t->xa[i].len ||
			    memcmp(t->xa[w - 1].value, t->xa[i].value, t->xa[i].len))
				return fail(t, e, -EBADMSG, "xattr %.60s given twice with "
					    "different values", t->xa[i].name);
			continue;
		}
		t->xa[w++] = t->xa[i];
	}
	t->nxa = w;
	return 0;
}

/* ---- metadata headers ---- */

/* Read the data of a metadata header into b (at most max bytes). */
static int read_meta(struct tar *t, struct buf *b, size_t max, int toobig,
		     const char *what, struct err *e)
{
	int64_t size;
	int rc = num_field(t, H_SIZE, 12, "size", 0, INT64_MAX, &size, e);

	if (rc < 0)
		return rc;
	if ((uint64_t)size > max)
		return fail(t, e, toobig, "%s of %lld bytes (limit %zu)", what,
			    (long long)size, max);
	buf_reset(b);
	if (buf_reserve(b, (size_t)size) < 0)
		return fail(t, e, -E2BIG, "%s too large", what);
	rc = rd(t, b->data, (size_t)size, what, e);
	if (rc < 0)
		return rc;
	b->len = (size_t)size;
	b->data[b->len] = '\0';
	return skip(t, (BLOCK - (uint64_t)size % BLOCK) % BLOCK, what, e);
}

/* GNU 'L'/'K' data: a name, NUL-terminated (maybe), NUL padding only. */
static int read_longname(struct tar *t, struct buf *b, const char *what, struct err *e)
{
	int rc = read_meta(t, b, TAR_PATH_MAX, -ENAMETOOLONG, what, e);
	size_t n;

	if (rc < 0)
		return rc;
	n = strlen(b->data);
	if (!all_zero((unsigned char *)b->data + n, b->len - n))
		return fail(t, e, -EBADMSG, "%s has bytes after its NUL", what);
	if (n == 0 || n >= TAR_PATH_MAX)
		return fail(t, e, n ? -ENAMETOOLONG : -EBADMSG, "%s of %zu bytes", what, n);
	buf_truncate(b, n);
	return 0;
}

static int read_pax(struct tar *t, bool global, struct err *e)
{
	struct pax g;
	int rc = read_meta(t, &t->paxbuf, t->pax_max, -E2BIG,
			   global ? "global PAX header" : "PAX header", e);

	if (rc < 0)
		return rc;
	if (global) {
		memset(&g, 0, sizeof(g));
		rc = pax_parse(t, t->paxbuf.data, t->paxbuf.len, &g, true, e);
		buf_reset(&t->paxbuf);
		return rc;
	}
	return pax_parse(t, t->paxbuf.data, t->paxbuf.len, &t->pax, false, e);
}

/* ---- entries ---- */

/* A string field: up to len bytes, NUL-terminated unless full. */
static void field_str(struct buf *b, const unsigned char *f, size_t len)
{
	buf_reset(b);
	buf_append(b, f, strnlen((const char *)f, len));
}

static int set_path(struct tar *t, struct buf *dst, const char *src, const char *what,
		    struct err *e)
{
	buf_reset(dst);
	if (buf_puts(dst, src) < 0)
		return fail(t, e, -ENAMETOOLONG, "%s longer than %d bytes", what,
			    TAR_PATH_MAX - 1);
	return 0;
}

static int entry_type(struct tar *t, char flag, struct err *e)
{
	switch (flag) {
	case '0': case '\0': case '7': return TAR_REG;
	case '1': return TAR_HARDLINK;
	case '2': return TAR_SYMLINK;
	case '3': return TAR_CHR;
	case '4': return TAR_BLK;
	case '5': return TAR_DIR;
	case '6': return TAR_FIFO;
	case 'S': return fail(t, e, -ENOTSUP, "GNU sparse files are not supported");
	case 'M': case 'V': case 'N': case 'D':
		return fail(t, e, -ENOTSUP, "GNU entry type '%c' is not supported", flag);
	default:
		if (flag >= 0x20 && flag < 0x7f)
			return fail(t, e, -ENOTSUP, "unknown entry type '%c'", flag);
		return fail(t, e, -EBADMSG, "unknown entry type 0x%02x", (unsigned char)flag);
	}
}

static int build_entry(struct tar *t, enum fmt fmt, struct err *e)
{
	struct tar_entry *te = &t->ent;
	struct pax *px = &t->pax;
	char flag = (char)t->hdr[H_TYPE];
	int64_t mode, uid, gid, size, mtime, maj = 0, min = 0;
	int type, rc;

	/* Path: PAX, then GNU long name, then ustar prefix + name. */
	if (px->path) {
		rc = set_path(t, &t->path, px->path, "path", e);
	} else if (t->have_longname) {
		rc = set_path(t, &t->path, buf_str(&t->longname), "path", e);
	} else {
		buf_reset(&t->path);
		if (fmt == FMT_USTAR && t->hdr[H_PREFIX]) {
			buf_append(&t->path, t->hdr + H_PREFIX,
				   strnlen((const char *)t->hdr + H_PREFIX, 155));
			buf_putc(&t->path, '/');
		}
		buf_append(&t->path, t->hdr + H_NAME, strnlen((const char *)t->hdr, 100));
		rc = 0;
	}
	if (rc < 0)
		return rc;
	set_name(t, t->path.data ? t->path.data : "", t->path.len);
	if (t->path.len == 0)
		return fail(t, e, -EBADMSG, "empty path");

	if ((type = entry_type(t, flag, e)) < 0)
		return type;
	/* v7 and old tars mark directories with a trailing slash. */
	if (flag == '\0' && t->path.data[t->path.len - 1] == '/')
		type = TAR_DIR;

	if ((rc = num_field(t, H_MODE, 8, "mode", 0, INT64_MAX, &mode, e)) < 0 ||
	    (rc = num_field(t, H_UID, 8, "uid", 0, UINT32_MAX, &uid, e)) < 0 ||
	    (rc = num_field(t, H_GID, 8, "gid", 0, UINT32_MAX, &gid, e)) < 0 ||
	    (rc = num_field(t, H_SIZE, 12, "size", 0, INT64_MAX, &size, e)) < 0 ||
	    (rc = num_field(t, H_MTIME, 12, "mtime", INT64_MIN, INT64_MAX, &mtime, e)) < 0)
		return rc;
	if (fmt != FMT_V7 &&
	    ((rc = num_field(t, H_DEVMAJOR, 8, "devmajor", 0, UINT32_MAX, &maj, e)) < 0 ||
	     (rc = num_field(t, H_DEVMINOR, 8, "devminor", 0, UINT32_MAX, &min, e)) < 0))
		return rc;

	if (px->has_size) {
		if (size != 0 && (uint64_t)size != px->size && px->size <= OCTAL11_MAX)
			return fail(t, e, -EBADMSG, "PAX size %llu disagrees with header "
				    "size %lld", (unsigned long long)px->size, (long long)size);
		size = (int64_t)px->size;
	}
	if (size != 0 && type != TAR_REG)
		return fail(t, e, -EBADMSG, "size %lld on a non-regular entry",
			    (long long)size);

	memset(te, 0, sizeof(*te));
	te->path = t->path.data;
	te->type = (enum tar_type)type;
	te->mode = (uint32_t)mode & 07777;
	te->uid = px->has_uid ? px->uid : (uint32_t)uid;
	te->gid = px->has_gid ? px->gid : (uint32_t)gid;
	te->mtime = px->has_mtime ? px->mtime : mtime;
	te->mtime_nsec = px->has_mtime ? px->mtime_nsec : 0;
	te->size = (uint64_t)size;
	te->devmajor = px->has_major ? px->major : (uint32_t)maj;
	te->devminor = px->has_minor ? px->minor : (uint32_t)min;

	buf_reset(&t->link);
	if (type == TAR_HARDLINK || type == TAR_SYMLINK) {
		if (px->link)
			rc = set_path(t, &t->link, px->link, "link name", e);
		else if (t->have_longlink)
			rc = set_path(t, &t->link, buf_str(&t->longlink), "link name", e);
		else
			field_str(&t->link, t->hdr + H_LINK, 100);
		if (rc < 0)
			return rc;
		if (t->link.len == 0)
			return fail(t, e, -EBADMSG, "empty link target");
	}
	te->linkname = buf_str(&t->link);

	if (fmt == FMT_V7) {
		buf_reset(&t->uname);
		buf_reset(&t->gname);
	} else {
		field_str(&t->uname, t->hdr + H_UNAME, 32);
		field_str(&t->gname, t->hdr + H_GNAME, 32);
	}
	if (px->uname) {
		buf_reset(&t->uname);
		buf_puts(&t->uname, px->uname);
	}
	if (px->gname) {
		buf_reset(&t->gname);
		buf_puts(&t->gname, px->gname);
	}
	te->uname = buf_str(&t->uname);
	te->gname = buf_str(&t->gname);

	if ((rc = xattr_dedup(t, e)) < 0)
		return rc;
	te->xattrs = t->nxa ? t->xa : NULL;
	te->nxattrs = t->nxa;

	t->remain = te->size;
	t->pad = (BLOCK - te->size % BLOCK) % BLOCK;
	return 0;
}

/* After two zero blocks: the rest of the input must be zero bytes. */
static int drain(struct tar *t, struct err *e)
{
	unsigned char tmp[4096];

	for (;;) {
		ssize_t n = reader_read(t->in, tmp, sizeof(tmp), e);
		if (n < 0)
			return fail_wrap(t, e, (int)n);
		if (n == 0)
			return 0;
		for (ssize_t i = 0; i < n; i++)
			if (tmp[i])
				return fail(t, e, -EBADMSG, "trailing garbage at byte %llu "
					    "after the end-of-archive marker",
					    (unsigned long long)(t->off + (uint64_t)i));
		t->off += (uint64_t)n;
	}
}

/* Skip the padding after an entry's data.  Returns 1 when the input ends
 * inside it: the archive was cut after the last entry's data, which
 * Go's archive/tar (and so Docker and containerd) accepts as its end, and
 * which layers written by umoci look like.  The bytes are still all
 * covered by the layer's digest and diff_id. */
static int skip_pad(struct tar *t, uint64_t n, struct err *e)
{
	unsigned char tmp[BLOCK];

	while (n > 0) {
		ssize_t got = reader_read(t->in, tmp, (size_t)n, e);
		if (got < 0)
			return fail_wrap(t, e, (int)got);
		if (got == 0)
			return 1;
		t->off += (uint64_t)got;
		n -= (uint64_t)got;
	}
	return 0;
}

static int end_marker(struct tar *t, struct err *e)
{
	bool pending = t->have_longname || t->have_longlink || t->have_pax;
	int rc;

	buf_reset(&t->name);
	buf_puts(&t->name, "end of archive");
	if (pending)
		return fail(t, e, -EBADMSG, "%s header not followed by an entry",
			    t->have_pax ? "PAX" : t->have_longname ? "GNU long-name" :
			    "GNU long-link");
	rc = read_block(t, e);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		/* A lone zero block at the very end: accepted, as Go's reader does. */
		t->state = 1;
		return 0;
	}
	if (!all_zero(t->hdr, BLOCK))
		return fail(t, e, -EBADMSG, "single zero block followed by data at byte %llu",
			    (unsigned long long)(t->off - BLOCK));
	if ((rc = drain(t, e)) < 0)
		return rc;
	t->state = 1;
	return 0;
}

static void reset_pending(struct tar *t)
{
	t->have_longname = t->have_longlink = t->have_pax = false;
	memset(&t->pax, 0, sizeof(t->pax));
	buf_reset(&t->paxbuf);
	t->nxa = 0;
}

int tar_next(struct tar *t, struct tar_entry **out, struct err *e)
{
	int rc;

	if (t->state == 2) {
		if (e)
			*e = t->fail;
		return t->fail.code;
	}
	if (t->state == 1)
		return 0;
	if ((rc = skip(t, t->remain, "entry data", e)) < 0)
		return rc;
	if ((rc = skip_pad(t, t->pad, e)) < 0)
		return rc;
	t->remain = t->pad = 0;
	reset_pending(t);
	if (rc == 1) {
		t->state = 1;
		return 0;
	}

	for (;;) {
		enum fmt fmt;
		char flag;

		t->hdr_off = t->off;
		buf_reset(&t->name);
		buf_puts(&t->name, "header");
		if ((rc = read_block(t, e)) < 0)
			return rc;
		if (rc == 0 && (t->have_longname || t->have_longlink || t->have_pax))
			return fail(t, e, -EPROTO, "input ends after a %s header, before its entry",
				    t->have_pax ? "PAX" : t->have_longname ? "GNU long-name" :
				    "GNU long-link");
		if (rc == 0) {
			/* End of input at a header boundary, no end marker:
			 * accepted as Go's archive/tar does (see skip_pad). */
			t->state = 1;
			return 0;
		}
		if (all_zero(t->hdr, BLOCK))
			return end_marker(t, e);
		set_name(t, (const char *)t->hdr, 100);
		if ((rc = check_sum(t, e)) < 0)
			return rc;
		if (!memcmp(t->hdr + H_MAGIC, "ustar\0" "00", 8))
			fmt = FMT_USTAR;
		else if (!memcmp(t->hdr + H_MAGIC, "ustar  \0", 8))
			fmt = FMT_GNU;
		else if (all_zero(t->hdr + H_MAGIC, 8))
			fmt = FMT_V7;
		else
			return fail(t, e, -EBADMSG, "unknown header magic");

		flag = (char)t->hdr[H_TYPE];
		if (flag == 'L' || flag == 'K') {
			bool *have = flag == 'L' ? &t->have_longname : &t->have_longlink;
			if (*have)
				return fail(t, e, -EBADMSG, "two GNU long-%s headers in a row",
					    flag == 'L' ? "name" : "link");
			rc = read_longname(t, flag == 'L' ? &t->longname : &t->longlink,
					   flag == 'L' ? "GNU long name" : "GNU long link", e);
			if (rc < 0)
				return rc;
			*have = true;
			continue;
		}
		if (flag == 'x') {
			if (t->have_pax)
				return fail(t, e, -EBADMSG, "two PAX headers in a row");
			if ((rc = read_pax(t, false, e)) < 0)
				return rc;
			t->have_pax = true;
			continue;
		}
		if (flag == 'g') {
			if (t->have_pax || t->have_longname || t->have_longlink)
				return fail(t, e, -EBADMSG, "global PAX header between an "
					    "extended header and its entry");
			if ((rc = read_pax(t, true, e)) < 0)
				return rc;
			continue;
		}
		if ((rc = build_entry(t, fmt, e)) < 0)
			return rc;
		*out = &t->ent;
		return 1;
	}
}

ssize_t tar_read(struct tar *t, void *p, size_t n, struct err *e)
{
	ssize_t got;

	if (t->state == 2) {
		if (e)
			*e = t->fail;
		return t->fail.code;
	}
	if (t->remain == 0 || n == 0)
		return 0;
	if (n > t->remain)
		n = (size_t)t->remain;
	got = reader_read(t->in, p, n, e);
	if (got < 0)
		return fail_wrap(t, e, (int)got);
	if (got == 0)
		return fail(t, e, -EPROTO, "truncated data (%llu bytes missing)",
			    (unsigned long long)t->remain);
	t->remain -= (uint64_t)got;
	t->off += (uint64_t)got;
	return got;
}

static ssize_t data_read(struct reader *r, void *p, size_t n, struct err *e)
{
	return tar_read((struct tar *)r, p, n, e);
}

struct reader *tar_data(struct tar *t)
{
	return &t->data;
}

struct tar *tar_open(struct reader *in, struct err *e)
{
	struct tar *t = xcalloc(1, sizeof(*t));

	t->data.read = data_read;
	t->data.close = NULL;

	(void)e;
	t->in = in;
	t->pax_max = TAR_PAX_MAX;
	t->xattr_max = TAR_XATTR_MAX;
	buf_init(&t->name, 0);
	buf_init(&t->path, TAR_PATH_MAX - 1);
	buf_init(&t->link, TAR_PATH_MAX - 1);
	buf_init(&t->uname, 0);
	buf_init(&t->gname, 0);
	buf_init(&t->longname, TAR_PATH_MAX);
	buf_init(&t->longlink, TAR_PATH_MAX);
	buf_init(&t->paxbuf, 0);
	return t;
}

void tar_set_limits(struct tar *t, size_t pax_max, size_t xattr_max)
{
	if (pax_max && pax_max < TAR_PAX_MAX)
		t->pax_max = pax_max;
	if (xattr_max && xattr_max < TAR_XATTR_MAX)
		t->xattr_max = xattr_max;
}

void tar_close(struct tar *t)
{
	if (!t)
		return;
	buf_free(&t->name);
	buf_free(&t->path);
	buf_free(&t->link);
	buf_free(&t->uname);
	buf_free(&t->gname);
	buf_free(&t->longname);
	buf_free(&t->longlink);
	buf_free(&t->paxbuf);
	free(t->xa);
	free(t);
}

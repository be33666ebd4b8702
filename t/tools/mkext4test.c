/* Test driver for the ext4 writer (t/integ/ext4_e2fsck.sh).
 *
 *   mkext4test build IMAGE [SIZE] < SPEC > MANIFEST
 *       Apply the entries of SPEC (one per line, below) through fstree into
 *       a new ext4 image and print the expected tree as a manifest.
 *   mkext4test tar IMAGE LAYER.tar...   apply uncompressed tar layers, lowest
 *                                       first (for interop tests and benches)
 *   mkext4test empty IMAGE SIZE [JOURNAL_BLOCKS]
 *   mkext4test ls IMAGE > MANIFEST      the tree as read back by ext4_read
 *   mkext4test cat IMAGE PATH > DATA    one file's content, by ext4_read
 *
 * SPEC lines (fields separated by blanks; %XX escapes in paths/targets):
 *   L                                     start a new layer
 *   d PATH MODE UID GID MTIME             directory
 *   f PATH MODE UID GID MTIME SIZE GEN    regular file; GEN: z (zeros),
 *                                         rSEED (random), hN (N data blocks,
 *                                         N zero blocks, repeated), tN (zeros
 *                                         but the last N bytes)
 *   l PATH TARGET                         symlink
 *   h PATH TARGET                         hard link
 *   c|b PATH MODE UID GID MAJOR MINOR     device      p PATH MODE UID GID   fifo
 *   x NAME HEXVALUE                       xattr for the next entry
 *
 * MANIFEST lines: PATH TYPE MODE UID GID SIZE SHA256 TARGET LINK XATTRS
 * (see print_entry); "-" for fields that do not apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/digest.h"
#include "oci/ext4.h"
#include "oci/ext4_read.h"
#include "oci/fstree.h"
#include "oci/tar.h"

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "mkext4test: %s: %s\n", what, e ? e->msg : "");
	exit(1);
}

/* ---- deterministic content ---- */

struct gen_reader {
	struct reader r;
	uint64_t size, off, state;
	char kind;           /* 'z', 'r', 'h' */
	uint64_t period;
	struct sha256 h;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static ssize_t gen_read(struct reader *r, void *p, size_t n, struct err *e)
{
	(void)e;
	struct gen_reader *g = (struct gen_reader *)r;
	unsigned char *o = p;
	if (n > g->size - g->off)
		n = (size_t)(g->size - g->off);
	if (g->kind == 'z')
		memset(o, 0, n);
	for (size_t i = 0; g->kind != 'z' && i < n; i++) {
		uint64_t at = g->off + i;
		int data = g->kind == 'r' || (g->kind == 'h' && (at / 4096 / g->period) % 2 == 0) ||
			   (g->kind == 't' && at >= g->size - (g->period < g->size ? g->period : g->size));
		o[i] = data ? (unsigned char)(xorshift(&g->state) | 1) : 0;
	}
	g->off += n;
	sha256_update(&g->h, p, n);
	return (ssize_t)n;
}

/* ---- expected-digest table: inode pointer -> content digest ---- */

struct dig {
	const void *ino;
	size_t seq;
	struct digest d;
};
static struct dig *digs;
static size_t ndigs, capdigs;

static int cmp_dig(const void *a, const void *b)
{
	const struct dig *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct digest *find_dig(const void *ino)
{
	size_t lo = 0, hi = ndigs, best = SIZE_MAX;
	while (lo < hi) {  /* last entry for ino */
		size_t m = (lo + hi) / 2;
		if (digs[m].ino <= ino) {
			if (digs[m].ino == ino)
				best = m;
			lo = m + 1;
		} else {
			hi = m;
		}
	}
	return best == SIZE_MAX ? NULL : &digs[best].d;
}

static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };
			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static void print_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c >= 127 || c == '%')
			printf("%%%02X", c);
		else
			putchar(c);
	}
}

static size_t hexdecode(const char *h, unsigned char *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		char b[3] = { h[0], h[1], 0 };
		out[n++] = (unsigned char)strtol(b, NULL, 16);
	}
	return n;
}

/* ---- build ---- */

static void build(struct fstree *t, FILE *in)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, seq = 0;
	struct tar_xattr xa[16];
	char *xnames[16];
	unsigned char *xvals[16];
	size_t nxa = 0;
	fstree_begin_layer(t);
	while (getline(&line, &cap, in) > 0) {
		lineno++;
		char *f[10] = { 0 };
		int nf = 0;
		for (char *tok = strtok(line, " \t\n"); tok && nf < 10; tok = strtok(NULL, " \t\n"))
			f[nf++] = tok;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (strcmp(f[0], "L") == 0) {
			fstree_begin_layer(t);
			continue;
		}
		if (strcmp(f[0], "x") == 0 && nf == 3 && nxa < 16) {
			xnames[nxa] = xstrdup(f[1]);
			xvals[nxa] = xmalloc(strlen(f[2]) / 2 + 1);
			xa[nxa] = (struct tar_xattr){ xnames[nxa], xvals[nxa], hexdecode(f[2], xvals[nxa]) };
			nxa++;
			continue;
		}
		if (nf < 3) {
			fprintf(stderr, "mkext4test: line %zu: bad spec\n", lineno);
			exit(2);
		}
		struct tar_entry te = { 0 };
		struct gen_reader g = { 0 };
		unescape(f[1]);
		te.path = f[1];
		te.linkname = "";
		te.xattrs = xa;
		te.nxattrs = nxa;
		switch (f[0][0]) {
		case 'd': te.type = TAR_DIR; break;
		case 'f': te.type = TAR_REG; break;
		case 'l': te.type = TAR_SYMLINK; break;
		case 'h': te.type = TAR_HARDLINK; break;
		case 'c': te.type = TAR_CHR; break;
		case 'b': te.type = TAR_BLK; break;
		case 'p': te.type = TAR_FIFO; break;
		default: fprintf(stderr, "mkext4test: line %zu: bad type\n", lineno); exit(2);
		}
		if (te.type == TAR_SYMLINK || te.type == TAR_HARDLINK) {
			unescape(f[2]);
			te.linkname = f[2];
			te.mode = 0777;
		} else {
			te.mode = (uint32_t)strtoul(f[2], NULL, 8);
			te.uid = nf > 3 ? (uint32_t)strtoul(f[3], NULL, 10) : 0;
			te.gid = nf > 4 ? (uint32_t)strtoul(f[4], NULL, 10) : 0;
		}
		if (nf > 5 && (te.type == TAR_DIR || te.type == TAR_REG))
			te.mtime = strtoll(f[5], NULL, 10);
		if (te.type == TAR_CHR || te.type == TAR_BLK) {
			te.devmajor = nf > 5 ? (uint32_t)strtoul(f[5], NULL, 10) : 0;
			te.devminor = nf > 6 ? (uint32_t)strtoul(f[6], NULL, 10) : 0;
		}
		if (te.type == TAR_REG) {
			te.size = nf > 6 ? strtoull(f[6], NULL, 10) : 0;
			const char *gs = nf > 7 ? f[7] : "z";
			g.r.read = gen_read;
			g.size = te.size;
			g.kind = gs[0];
			g.state = strtoull(gs + 1, NULL, 10) * 2654435761u + 88172645463325252ull;
			g.period = g.kind == 'h' || g.kind == 't' ? strtoull(gs + 1, NULL, 10) : 1;
			if (!g.period)
				g.period = 1;
			sha256_init(&g.h);
		}
		struct err e = ERR_INIT;
		if (fstree_apply(t, &te, te.type == TAR_REG ? &g.r : NULL, &e) < 0) {
			fprintf(stderr, "mkext4test: line %zu: %s\n", lineno, e.msg);
			exit(1);
		}
		if (te.type == TAR_REG && strncmp(strrchr(f[1], '/') ? strrchr(f[1], '/') + 1 : f[1], ".wh.", 4)) {
			struct fstree_inode *ino = fstree_lookup(t, f[1], &e);
			if (ino) {
				if (ndigs == capdigs)
					digs = xreallocarray(digs, capdigs = capdigs ? capdigs * 2 : 64, sizeof(*digs));
				digs[ndigs].ino = ino;
				digs[ndigs].seq = seq++;
				sha256_final(&g.h, &digs[ndigs].d);
				ndigs++;
			}
		}
		for (size_t i = 0; i < nxa; i++) {
			free(xnames[i]);
			free(xvals[i]);
		}
		nxa = 0;
	}
	free(line);
	qsort(digs, ndigs, sizeof(*digs), cmp_dig);
}

/* ---- manifest of the fstree ---- */

struct seen {
	const void *ino;
	char *path;
};

static struct seen *seen;
static size_t nseen, capseen;

static const char *first_path(const void *ino, const char *path)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].ino == ino)
			return seen[i].path;
	if (nseen == capseen)
		seen = xreallocarray(seen, capseen = capseen ? capseen * 2 : 64, sizeof(*seen));
	seen[nseen].ino = ino;
	seen[nseen].path = xstrdup(path);
	nseen++;
	return NULL;
}

static int cmp_de(const void *a, const void *b)
{
	return strcmp((*(struct fstree_dentry *const *)a)->name, (*(struct fstree_dentry *const *)b)->name);
}

static int cmp_xa(const void *a, const void *b)
{
	return strcmp(((const struct fstree_xattr *)a)->name, ((const struct fstree_xattr *)b)->name);
}

static void print_entry(const char *path, const struct fstree_inode *in)
{
	static const char types[] = { [FST_REG] = 'f', [FST_DIR] = 'd', [FST_SYMLINK] = 'l',
				      [FST_CHR] = 'c', [FST_BLK] = 'b', [FST_FIFO] = 'p' };
	print_escaped(path);
	printf(" %c %04o %u %u ", types[in->type], in->mode, in->uid, in->gid);
	if (in->type == FST_REG) {
		const struct digest *d = find_dig(in);
		printf("%llu %s - ", (unsigned long long)in->size, d ? digest_hex(d) : "?");
	} else if (in->type == FST_SYMLINK) {
		printf("%zu - ", strlen(in->target));
		print_escaped(in->target);
		putchar(' ');
	} else if (in->type == FST_CHR || in->type == FST_BLK) {
		printf("0 - %u,%u ", in->devmajor, in->devminor);
	} else {
		printf("- - - ");
	}
	const char *fp = in->type != FST_DIR && in->nlink > 1 ? first_path(in, path) : NULL;
	if (fp)
		print_escaped(fp);
	else
		putchar('-');
	putchar(' ');
	if (!in->nxattrs) {
		printf("-\n");
		return;
	}
	struct fstree_xattr *x = xcalloc(in->nxattrs, sizeof(*x));
	memcpy(x, in->xattrs, in->nxattrs * sizeof(*x));
	qsort(x, in->nxattrs, sizeof(*x), cmp_xa);
	for (size_t i = 0; i < in->nxattrs; i++) {
		printf("%s%s=", i ? "," : "", x[i].name);
		for (size_t k = 0; k < x[i].len; k++)
			printf("%02x", x[i].value[k]);
	}
	free(x);
	putchar('\n');
}

static void manifest(const struct fstree_inode *dir, struct buf *path)
{
	struct fstree_dentry **v;
	size_t n = fstree_dir_list(dir, &v), base = path->len;
	qsort(v, n, sizeof(*v), cmp_de);
	for (size_t i = 0; i < n; i++) {
		buf_truncate(path, base);
		buf_putc(path, '/');
		buf_puts(path, v[i]->name);
		print_entry(buf_str(path), v[i]->inode);
		if (v[i]->inode->type == FST_DIR)
			manifest(v[i]->inode, path);
	}
	buf_truncate(path, base);
	free(v);
}

/* ---- reading back with oci/ext4_read ---- */

struct xa_list {
	struct buf names[64];
	struct buf vals[64];
	size_t n;
};

static int xa_cb(void *ctx, const char *name, const unsigned char *v, size_t n, struct err *e)
{
	struct xa_list *l = ctx;
	if (l->n == 64)
		return err_set(e, -E2BIG, "too many xattrs");
	buf_init(&l->names[l->n], 0);
	buf_init(&l->vals[l->n], 0);
	buf_puts(&l->names[l->n], name);
	buf_append(&l->vals[l->n], v, n);
	l->n++;
	return 0;
}

static int ls_cb(void *ctx, const char *path, const struct ext4_stat *st, struct err *e)
{
	struct ext4_img *img = ctx;
	uint32_t t = st->mode & 0170000;
	char type = t == 0100000 ? 'f' : t == 0040000 ? 'd' : t == 0120000 ? 'l' : t == 0020000 ? 'c'
		  : t == 0060000 ? 'b' : t == 0010000 ? 'p' : '?';
	print_escaped(path);
	printf(" %c %04o %u %u ", type, st->mode & 07777, st->uid, st->gid);
	if (type == 'f') {
		struct sha256 h;
		struct digest d;
		unsigned char *b = xmalloc(1 << 20);
		sha256_init(&h);
		for (uint64_t off = 0;;) {
			ssize_t k = ext4_img_pread(img, st->ino, b, 1 << 20, off, e);
			if (k < 0) {
				free(b);
				return (int)k;
			}
			if (k == 0)
				break;
			sha256_update(&h, b, (size_t)k);
			off += (uint64_t)k;
		}
		free(b);
		sha256_final(&h, &d);
		printf("%llu %s - ", (unsigned long long)st->size, digest_hex(&d));
	} else if (type == 'l') {
		struct buf tg = BUF_INIT;
		int rc = ext4_img_readlink(img, st->ino, &tg, e);
		if (rc < 0)
			return rc;
		printf("%zu - ", tg.len);
		print_escaped(buf_str(&tg));
		putchar(' ');
		buf_free(&tg);
	} else if (type == 'c' || type == 'b') {
		printf("0 - %u,%u ", st->devmajor, st->devminor);
	} else {
		printf("- - - ");
	}
	const char *fp = type != 'd' && st->nlink > 1 ? first_path((void *)(uintptr_t)st->ino, path) : NULL;
	if (fp)
		print_escaped(fp);
	else
		putchar('-');
	struct xa_list *l = xcalloc(1, sizeof(*l));
	int rc = ext4_img_xattrs(img, st->ino, xa_cb, l, e);
	/* sort by name: few entries, insertion sort */
	for (size_t i = 1; i < l->n; i++)
		for (size_t j = i; j > 0 && strcmp(buf_str(&l->names[j - 1]), buf_str(&l->names[j])) > 0; j--) {
			struct buf tn = l->names[j], tv = l->vals[j];
			l->names[j] = l->names[j - 1];
			l->vals[j] = l->vals[j - 1];
			l->names[j - 1] = tn;
			l->vals[j - 1] = tv;
		}
	printf(" %s", l->n ? "" : "-");
	for (size_t i = 0; i < l->n; i++) {
		printf("%s%s=", i ? "," : "", buf_str(&l->names[i]));
		for (size_t k = 0; k < l->vals[i].len; k++)
			printf("%02x", (unsigned char)l->vals[i].data[k]);
		buf_free(&l->names[i]);
		buf_free(&l->vals[i]);
	}
	free(l);
	putchar('\n');
	return rc;
}

static int cat(struct ext4_img *img, const char *path, struct err *e)
{
	uint32_t ino;
	int rc = ext4_img_lookup(img, path, &ino, e);
	if (rc < 0)
		return rc;
	unsigned char *b = xmalloc(1 << 20);
	for (uint64_t off = 0;;) {
		ssize_t k = ext4_img_pread(img, ino, b, 1 << 20, off, e);
		if (k <= 0) {
			rc = (int)k;
			break;
		}
		fwrite(b, 1, (size_t)k, stdout);
		off += (uint64_t)k;
	}
	free(b);
	return rc;
}

static int from_tars(const char *image, int n, char **tars)
{
	struct err e = ERR_INIT;
	struct ext4_opts o = { 0 };
	int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct ext4_writer *w = fd < 0 ? NULL : ext4_writer_new(fd, &o, &e);
	if (!w)
		die(image, &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	for (int i = 0; i < n; i++) {
		struct fd_reader fr;
		int tfd = strcmp(tars[i], "-") == 0 ? 0 : open(tars[i], O_RDONLY | O_CLOEXEC);
		if (tfd < 0)
			die(tars[i], NULL);
		fd_reader_init(&fr, tfd);
		struct tar *tar = tar_open(&fr.r, &e);
		if (!tar || fstree_apply_layer(t, tar, &e) < 0)
			die(tars[i], &e);
		tar_close(tar);
		if (tfd)
			close(tfd);
	}
	if (ext4_writer_finish(w, t, &e) < 0)
		die("finish", &e);
	fprintf(stderr, "mkext4test: %llu entries, %llu inodes\n", (unsigned long long)t->nentries,
		(unsigned long long)t->ninodes);
	fstree_free(t);
	ext4_writer_free(w);
	close(fd);
	return 0;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	switch (*end) {
	case 'T': v <<= 10; /* fall through */
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; break;
	}
	return v;
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	if (argc >= 4 && strcmp(argv[1], "empty") == 0) {
		struct ext4_opts o = { 0 };
		o.journal_blocks = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 0) : 0;
		if (ext4_make_empty(argv[2], parse_size(argv[3]), &o, &e) < 0)
			die("empty", &e);
		return 0;
	}
	if (argc >= 3 && (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "cat") == 0)) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		struct ext4_img *img = fd < 0 ? NULL : ext4_img_open(fd, &e);
		if (!img)
			die(argv[2], &e);
		int rc = argv[1][0] == 'l' ? ext4_img_walk(img, ls_cb, img, &e)
					   : cat(img, argc > 3 ? argv[3] : "/", &e);
		if (rc < 0)
			die(argv[1], &e);
		ext4_img_close(img);
		close(fd);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "tar") == 0)
		return from_tars(argv[2], argc - 3, argv + 3);
	if (argc < 3 || strcmp(argv[1], "build") != 0) {
		fprintf(stderr, "usage: mkext4test build IMAGE [SIZE] < SPEC | tar IMAGE TAR... | empty IMAGE SIZE [JOURNAL] | ls IMAGE | cat IMAGE PATH\n");
		return 2;
	}
	struct ext4_opts o = { 0 };
	o.timestamp = 1700000000;
	if (argc > 3)
		o.size = parse_size(argv[3]);
	int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(argv[2], NULL);
	struct ext4_writer *w = ext4_writer_new(fd, &o, &e);
	if (!w)
		die("writer", &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	build(t, stdin);
	if (ext4_writer_finish(w, t, &e) < 0)
		die("finish", &e);
	struct buf path = BUF_INIT;
	print_entry("/", t->root);
	manifest(t->root, &path);
	buf_free(&path);
	fstree_free(t);
	ext4_writer_free(w);
	close(fd);
	return 0;
}

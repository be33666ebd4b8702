/* tarls: list a (compressed) tar archive through oci/decompress + oci/tar,
 * for the interop test t/integ/tar_interop.sh, which compares its output
 * with GNU tar's.
 *
 *   tarls [-s] [-x] [-z none|gzip|zstd|auto] [FILE]     (stdin without FILE)
 *
 * Default output is the line `tar -tv --numeric-owner --utc --full-time`
 * prints (fractional seconds included), so the two can be compared after squeezing blanks:
 *   -rw-r--r-- 1000/100 5 2023-11-14 22:13:20 etc/hostname
 *   hrw-r--r-- 0/0 0 2023-11-14 22:13:20 b link to a
 *   lrwxrwxrwx 0/0 0 2023-11-14 22:13:20 c -> a
 * -s prints "<sha256 hex>  <path>" for regular files instead (sha256sum's
 * format); -x prints "<path>: <name> <hex value>" for each xattr.
 * Errors: one line on stderr, exit 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/digest.h"
#include "oci/tar.h"

static void mode_str(const struct tar_entry *te, char s[11])
{
	static const char types[] = { [TAR_REG] = '-', [TAR_HARDLINK] = 'h',
		[TAR_SYMLINK] = 'l', [TAR_CHR] = 'c', [TAR_BLK] = 'b', [TAR_DIR] = 'd',
		[TAR_FIFO] = 'p' };
	uint32_t m = te->mode;

	s[0] = types[te->type];
	for (int i = 0; i < 3; i++) {
		uint32_t bits = m >> (6 - 3 * i);
		s[1 + 3 * i] = bits & 4 ? 'r' : '-';
		s[2 + 3 * i] = bits & 2 ? 'w' : '-';
		s[3 + 3 * i] = bits & 1 ? 'x' : '-';
	}
	if (m & 04000)
		s[3] = s[3] == 'x' ? 's' : 'S';
	if (m & 02000)
		s[6] = s[6] == 'x' ? 's' : 'S';
	if (m & 01000)
		s[9] = s[9] == 'x' ? 't' : 'T';
	s[10] = '\0';
}

static void list(const struct tar_entry *te)
{
	char mode[11], when[64];
	time_t t = (time_t)te->mtime;
	struct tm tm;

	mode_str(te, mode);
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	else
		snprintf(when, sizeof(when), "%lld", (long long)te->mtime);
	if (te->mtime_nsec) {
		/* GNU tar --full-time: the fraction without trailing zeros */
		size_t len = strlen(when);
		int k = snprintf(when + len, sizeof(when) - len, ".%09u", te->mtime_nsec);
		while (k > 1 && when[len + (size_t)k - 1] == '0')
			when[len + (size_t)--k] = '\0';
	}
	printf("%s %u/%u ", mode, te->uid, te->gid);
	if (te->type == TAR_CHR || te->type == TAR_BLK)
		printf("%u,%u", te->devmajor, te->devminor);
	else
		printf("%llu", (unsigned long long)te->size);
	printf(" %s %s", when, te->path);
	if (te->type == TAR_SYMLINK)
		printf(" -> %s", te->linkname);
	else if (te->type == TAR_HARDLINK)
		printf(" link to %s", te->linkname);
	printf("\n");
}

int main(int argc, char **argv)
{
	enum decompress_kind kind = DECOMPRESS_AUTO;
	struct err e = ERR_INIT;
	struct fd_reader fr;
	struct tar_entry *te;
	int opt, sums = 0, xattrs = 0, fd = 0, rc;
	static unsigned char buf[65536];

	while ((opt = getopt(argc, argv, "sxz:")) != -1) {
		switch (opt) {
		case 's': sums = 1; break;
		case 'x': xattrs = 1; break;
		case 'z':
			kind = !strcmp(optarg, "none") ? DECOMPRESS_NONE :
				!strcmp(optarg, "gzip") ? DECOMPRESS_GZIP :
				!strcmp(optarg, "zstd") ? DECOMPRESS_ZSTD : DECOMPRESS_AUTO;
			break;
		default:
			fprintf(stderr, "usage: tarls [-s] [-x] [-z kind] [FILE]\n");
			return 2;
		}
	}
	if (optind < argc && (fd = open(argv[optind], O_RDONLY)) < 0) {
		perror(argv[optind]);
		return 1;
	}
	fd_reader_init(&fr, fd);
	struct reader *r = decompress_open(&fr.r, kind, 0);
	struct tar *t = tar_open(r, &e);
	while ((rc = tar_next(t, &te, &e)) > 0) {
		if (xattrs) {
			for (size_t i = 0; i < te->nxattrs; i++) {
				printf("%s: %s ", te->path, te->xattrs[i].name);
				for (size_t k = 0; k < te->xattrs[i].len; k++)
					printf("%02x", te->xattrs[i].value[k]);
				printf("\n");
			}
		} else if (!sums) {
			list(te);
		}
		if (sums && te->type == TAR_REG) {
			struct sha256 h;
			struct digest d;
			ssize_t n;
			sha256_init(&h);
			while ((n = tar_read(t, buf, sizeof(buf), &e)) > 0)
				sha256_update(&h, buf, (size_t)n);
			if (n < 0) {
				rc = (int)n;
				break;
			}
			sha256_final(&h, &d);
			printf("%s  %s\n", digest_hex(&d), te->path);
		}
	}
	tar_close(t);
	r->close(r);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "tarls: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* mkinitramfs OUT INIT: the guest initramfs, a build tool.
 *
 * Built natively and run by the Makefile (never part of the product): packs
 * INIT (the blob-less static guest build of this program) as /init with the
 * few entries the kernel and initrd/init.c need before devtmpfs is mounted:
 * /dev/console (the kernel opens it for PID 1's stdio) and the mount points.
 * init creates anything else it mounts (mkdir -p), so this list stays short.
 *
 * Reproducible: uid/gid 0, every mtime $SOURCE_DATE_EPOCH or 0, fixed
 * order (initrd/cpio.h).  Compression, if any, is the Makefile's business.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "initrd/cpio.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

static uint32_t mtime_from_env(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX) {
		fprintf(stderr, "mkinitramfs: ignoring SOURCE_DATE_EPOCH='%s'\n", s);
		return 0;
	}
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = {"proc", "sys", "run", "mnt", "tmp"};
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	struct cpio c;
	size_t i;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: mkinitramfs OUT INIT\n");
		return 2;
	}
	cpio_init_buf(&c, &out, mtime_from_env());
	rc = cpio_dir(&c, "dev", 0755, &e);
	if (rc == 0)
		rc = cpio_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, &e);
	for (i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rc = cpio_dir(&c, dirs[i], strcmp(dirs[i], "tmp") == 0 ? 01777 : 0755, &e);
	if (rc == 0)
		rc = cpio_file_path(&c, "init", 0755, argv[2], &e);
	if (rc == 0)
		rc = cpio_finish(&c, &e);
	if (rc == 0)
		rc = fs_write_atomic(argv[1], out.data, out.len, 0644, &e);
	if (rc < 0) {
		fprintf(stderr, "mkinitramfs: %s\n", e.msg);
		buf_free(&out);
		return 1;
	}
	buf_free(&out);
	return 0;
}

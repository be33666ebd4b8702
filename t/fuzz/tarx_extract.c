/* Fuzz target for oci/tarx_extract.c, the host side of `cp` out of an
 * untrusted guest: any byte string is extracted into a fresh directory
 * under a fresh parent.  Whatever the input, nothing may appear in the
 * parent beside the destination (no escape by name, symlink or hard link),
 * and every failure carries a message. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/tarx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rm_tree(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd >= 0 && (d = fdopendir(fd))) {
		fchmod(fd, 0700);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rm_tree(dirfd(d), de->d_name);
		closedir(d);
		unlinkat(at, name, AT_REMOVEDIR);
	} else {
		if (fd >= 0)
			close(fd);
		unlinkat(at, name, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char top[] = "/tmp/tarx-fuzz-XXXXXX";
	struct mem_reader m;
	struct err e = ERR_INIT;
	struct tarx_opts o = { 0 };
	int topfd, dst, rc, n = 0;
	DIR *d;
	struct dirent *de;

	if (!mkdtemp(top))
		abort();
	topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || mkdirat(topfd, "dst", 0700) < 0)
		abort();
	dst = openat(topfd, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mem_reader_init(&m, data, size);
	rc = tarx_extract(&m.r, dst, &o, &e);
	if (rc < 0 && !e.msg[0])
		abort();
	close(dst);
	d = opendir(top);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "dst"))
			n++;
	if (d)
		closedir(d);
	if (n)
		abort();   /* something escaped the destination */
	rm_tree(topfd, "dst");
	close(topfd);
	rmdir(top);
	return 0;
}

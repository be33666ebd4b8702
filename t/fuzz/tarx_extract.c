/* Fuzz target for oci/tarx_extract.c, the host side of `cp` out of an
 * untrusted guest: any byte string is extracted into a fresh directory
 * under a fresh parent, beside a victim file.  Whatever the input, nothing
 * may appear in the parent beside the destination and the victim (no
 * escape by name or through a symlink), the victim keeps its one link (no
 * hard link to it from inside), its mode and its bytes (nothing written or
 * chmod'ed through a symlink), and every failure carries a message. */
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
	int topfd, dst, rc, v, n = 0;
	struct stat st;
	char b[4] = "";
	DIR *d;
	struct dirent *de;

	if (!mkdtemp(top))
		abort();
	topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || mkdirat(topfd, "dst", 0700) < 0)
		abort();
	if ((v = openat(topfd, "victim", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    write(v, "v", 1) != 1 || fchmod(v, 0600) < 0)
		abort();
	close(v);
	dst = openat(topfd, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mem_reader_init(&m, data, size);
	rc = tarx_extract(&m.r, dst, &o, &e);
	if (rc < 0 && !e.msg[0])
		abort();
	close(dst);
	d = opendir(top);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "dst") &&
		    strcmp(de->d_name, "victim"))
			n++;
	if (d)
		closedir(d);
	if (n)
		abort();   /* something escaped the destination */
	if (fstatat(topfd, "victim", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || (st.st_mode & 07777) != 0600 || st.st_size != 1 ||
	    (v = openat(topfd, "victim", O_RDONLY | O_CLOEXEC)) < 0 || read(v, b, 2) != 1 || b[0] != 'v')
		abort();   /* reached through a link */
	close(v);
	unlinkat(topfd, "victim", 0);
	rm_tree(topfd, "dst");
	close(topfd);
	rmdir(top);
	return 0;
}

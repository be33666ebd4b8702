/* Fuzz target for oci/tar.c: any byte string is read as an archive to its
 * end (every entry's data read in odd-sized pieces).  The reader must
 * never crash, leak or read out of bounds; every entry it returns must
 * satisfy the promises of oci/tar.h; every failure must carry a message.
 * The first byte picks lowered caps now and then, to reach the cap paths
 * with small inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct tar_entry *te)
{
	size_t n = strlen(te->path);

	if (n == 0 || n >= TAR_PATH_MAX || strlen(te->linkname) >= TAR_PATH_MAX)
		abort();
	if (te->type != TAR_REG && te->size != 0)
		abort();
	if ((te->type == TAR_HARDLINK || te->type == TAR_SYMLINK) != (te->linkname[0] != 0))
		abort();
	if (te->mode > 07777 || !te->uname || !te->gname)
		abort();
	if ((te->nxattrs == 0) != (te->xattrs == NULL))
		abort();
	for (size_t i = 0; i < te->nxattrs; i++) {
		const struct tar_xattr *x = &te->xattrs[i];
		size_t nl = strlen(x->name);
		if (nl == 0 || nl > 255)
			abort();
		if (i > 0 && strcmp(te->xattrs[i - 1].name, x->name) >= 0)
			abort();   /* sorted, unique */
		volatile unsigned char sink = 0;
		for (size_t k = 0; k < x->len; k++)
			sink ^= x->value[k];   /* every byte readable */
		(void)sink;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_reader m;
	struct err e = ERR_INIT;
	struct tar_entry *te;
	unsigned char buf[777];
	int rc;
	size_t chunk = size ? (size_t)data[0] % sizeof(buf) + 1 : 1;

	mem_reader_init(&m, data, size);
	struct tar *t = tar_open(&m.r, &e);
	if (size && data[0] == 0xa5)
		tar_set_limits(t, 600, 40);
	while ((rc = tar_next(t, &te, &e)) > 0) {
		uint64_t got = 0;
		ssize_t n;
		check_entry(te);
		/* Read only some entries' data: the rest is skipped by tar_next. */
		if (te->path[0] & 1)
			continue;
		while ((n = tar_read(t, buf, chunk, &e)) > 0)
			got += (uint64_t)n;
		if (n == 0 && got != te->size)
			abort();
		if (n < 0) {
			rc = (int)n;
			break;
		}
	}
	if (rc < 0) {
		if (!e.msg[0] || e.code != rc)
			abort();
		/* sticky */
		if (tar_next(t, &te, &e) != rc)
			abort();
	}
	tar_close(t);
	return 0;
}

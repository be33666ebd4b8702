/* Fuzz target for whole-layer application: bytes -> oci/tar.c ->
 * oci/fstree.c (applied twice, as two layers, so replacements, whiteouts
 * and links meet existing entries) -> oci/ext4 writer into a temporary
 * file -> read back with oci/ext4_read.  Whatever the input: no crash, no
 * leak, and when the layers applied cleanly the image must be consistent:
 * it walks without error, holds exactly the tree's entries, and every
 * regular file reads back to its full size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/ext4.h"
#include "oci/ext4_read.h"
#include "oci/fstree.h"
#include "oci/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	struct ext4_img *img;
	uint64_t n;
};

static int walk_cb(void *ctx, const char *path, const struct ext4_stat *st, struct err *e)
{
	struct count *c = ctx;
	static char buf[1 << 16];
	(void)path;
	c->n++;
	if ((st->mode & 0170000) == 0100000) {
		uint64_t off = 0;
		ssize_t k;
		while ((k = ext4_img_pread(c->img, st->ino, buf, sizeof(buf), off, e)) > 0)
			off += (uint64_t)k;
		if (k < 0 || off != st->size)
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	FILE *f = tmpfile();
	if (!f)
		return 0;
	struct ext4_opts o = { .timestamp = 1 };
	memset(o.uuid, 1, sizeof(o.uuid));
	struct ext4_writer *w = ext4_writer_new(fileno(f), &o, &e);
	struct fstree *t = fstree_new(ext4_writer_sink(w));
	int rc = 0;
	for (int layer = 0; layer < 2 && rc == 0; layer++) {
		struct mem_reader mr;
		mem_reader_init(&mr, data, size);
		struct tar *tar = tar_open(&mr.r, &e);
		if (!tar) {
			rc = -1;
			break;
		}
		rc = fstree_apply_layer(t, tar, &e);
		tar_close(tar);
		if (rc < 0 && !e.msg[0])
			abort();   /* every failure carries a message */
	}
	if (rc == 0) {
		if (ext4_writer_finish(w, t, &e) < 0)
			abort();   /* a tree that applied must be writable */
		uint64_t want = t->nentries + 1;
		struct ext4_img *img = ext4_img_open(fileno(f), &e);
		struct count c = { img, 0 };
		if (!img || ext4_img_walk(img, walk_cb, &c, &e) < 0 || c.n != want)
			abort();
		ext4_img_close(img);
	}
	fstree_free(t);
	ext4_writer_free(w);
	fclose(f);
	return 0;
}

/* The ext4 writer: data streaming, layout, group metadata, superblock.
 * Design in oci/ext4.h; directories in ext4_dir.c, per-inode metadata in
 * ext4_meta.c.  Callers: the unpacker (through fstree) and ext4_make_empty's
 * users (runtime, volumes). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/ext4_int.h"

#define WBUF_BLOCKS 256u                  /* 1 MiB of pending writes */
#define CHUNK (1u << 20)                  /* file data read size */
#define DERIVED_MAX_GROUPS 32768u         /* derived size: up to 4 TiB */
#define MAX_BLOCKS 0xFFFFFFFFull          /* 32-bit block numbers */

int ext4__flush(struct ext4_writer *w, struct err *e)
{
	if (!w->wbuf_n)
		return 0;
	ssize_t want = (ssize_t)(w->wbuf_n * BS);
	ssize_t n = pwrite(w->fd, w->wbuf, (size_t)want, (off_t)(w->wbuf_blk * BS));
	if (n != want)
		return n < 0 ? err_sys(e, "write ext4 image") : err_set(e, -EIO, "short write to ext4 image");
	w->wbuf_blk += w->wbuf_n;
	w->wbuf_n = 0;
	return 0;
}

int ext4__append(struct ext4_writer *w, const void *p, size_t n, uint64_t *first,
		 struct err *e)
{
	if (w->next_blk + n > w->max_blk)
		return err_set(e, -ENOSPC, "ext4 image is full (%llu blocks)",
			       (unsigned long long)w->max_blk);
	*first = w->next_blk;
	const unsigned char *s = p;
	while (n) {
		size_t k = WBUF_BLOCKS - w->wbuf_n < n ? WBUF_BLOCKS - w->wbuf_n : n;
		memcpy(w->wbuf + w->wbuf_n * BS, s, k * BS);
		w->wbuf_n += k;
		w->next_blk += k;
		s += k * BS;
		n -= k;
		if (w->wbuf_n == WBUF_BLOCKS) {
			int rc = ext4__flush(w, e);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int ext4__reserve(struct ext4_writer *w, size_t n, uint64_t *first, struct err *e)
{
	int rc = ext4__flush(w, e);
	if (rc < 0)
		return rc;
	if (w->next_blk + n > w->max_blk)
		return err_set(e, -ENOSPC, "ext4 image is full (%llu blocks)",
			       (unsigned long long)w->max_blk);
	*first = w->next_blk;
	w->next_blk += n;
	w->wbuf_blk = w->next_blk;
	return 0;
}

static int is_zero(const unsigned char *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	for (size_t i = 0; i < BS / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

static void add_extent(struct ext4__file *f, uint32_t lblk, uint64_t pblk, uint32_t len)
{
	while (len) {
		struct ext4__extent *l = f->n ? &f->ext[f->n - 1] : NULL;
		if (l && l->lblk + l->len == lblk && l->pblk + l->len == pblk &&
		    l->len < MAX_EXTENT_LEN) {
			uint32_t k = MAX_EXTENT_LEN - l->len < len ? MAX_EXTENT_LEN - l->len : len;
			l->len += k;
			lblk += k;
			pblk += k;
			len -= k;
			continue;
		}
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 4;
			f->ext = xreallocarray(f->ext, f->cap, sizeof(*f->ext));
		}
		uint32_t k = len < MAX_EXTENT_LEN ? len : MAX_EXTENT_LEN;
		f->ext[f->n++] = (struct ext4__extent){ lblk, k, (uint32_t)pblk };
		lblk += k;
		pblk += k;
		len -= k;
	}
}

static void file_free(struct ext4__file *f)
{
	if (f) {
		free(f->ext);
		free(f);
	}
}

static int sink_write(struct fstree_sink *s, struct reader *rd, uint64_t size, void **out,
		      struct err *e)
{
	struct ext4_writer *w = (struct ext4_writer *)s;
	struct ext4__file *f = xcalloc(1, sizeof(*f));
	uint64_t off = 0;
	int rc = 0;

	if (size > (MAX_BLOCKS - 1) * BS) {
		file_free(f);
		return err_set(e, -EFBIG, "file of %llu bytes is too large for ext4",
			       (unsigned long long)size);
	}
	f->size = size;
	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		size_t nb = (want + BS - 1) / BS;
		if ((rc = reader_read_full(rd, w->chunk, want, "file data", e)) < 0)
			break;
		memset(w->chunk + want, 0, nb * BS - want);
		for (size_t i = 0; i < nb && rc == 0;) {
			if (is_zero(w->chunk + i * BS)) {
				i++;
				continue;
			}
			size_t j = i + 1;
			while (j < nb && !is_zero(w->chunk + j * BS))
				j++;
			uint64_t first;
			rc = ext4__append(w, w->chunk + i * BS, j - i, &first, e);
			if (rc == 0)
				add_extent(f, (uint32_t)(off / BS + i), first, (uint32_t)(j - i));
			i = j;
		}
		if (rc < 0)
			break;
		off += want;
	}
	if (rc < 0) {
		file_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* Give a dead file's blocks back to the host: they stay free in ext4. */
static void punch(struct ext4_writer *w, const struct ext4__file *f)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	for (uint32_t i = 0; i < f->n; i++)
		(void)fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)f->ext[i].pblk * BS, (off_t)f->ext[i].len * BS);
#else
	(void)w;
	(void)f;
#endif
}

static void sink_release(struct fstree_sink *s, void *handle)
{
	struct ext4_writer *w = (struct ext4_writer *)s;
	struct ext4__file *f = handle;
	struct err e = ERR_INIT;
	/* Pending blocks must reach the file before the hole is punched; a
	 * failed flush shows up again at the next write.  After finish, the
	 * tree being freed is no deletion. */
	if (f->n && !w->finished && ext4__flush(w, &e) == 0)
		punch(w, f);
	file_free(f);
}

static uint32_t groups_for(uint64_t blocks)
{
	return (uint32_t)((blocks + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP);
}

static uint32_t gdt_blocks(uint32_t groups)
{
	return (groups * DESC_SIZE + BS - 1) / BS;
}

static int random_bytes(uint8_t *p, size_t n, struct err *e)
{
	_cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open /dev/urandom");
	ssize_t r = fs_read_full(fd, p, n, e);
	if (r < 0)
		return (int)r;
	return (size_t)r == n ? 0 : err_set(e, -EIO, "short read from /dev/urandom");
}

struct ext4_writer *ext4_writer_new(int fd, const struct ext4_opts *o, struct err *e)
{
	struct ext4_writer *w = xcalloc(1, sizeof(*w));
	static const uint8_t zero[16];
	w->sink.write = sink_write;
	w->sink.release = sink_release;
	w->fd = fd;
	if (o)
		w->o = *o;
	if (!w->o.timestamp)
		w->o.timestamp = time(NULL);
	if (memcmp(w->o.uuid, zero, 16) == 0) {
		if (random_bytes(w->o.uuid, 16, e) < 0) {
			free(w);
			return NULL;
		}
		w->o.uuid[6] = (uint8_t)((w->o.uuid[6] & 0x0f) | 0x40);
		w->o.uuid[8] = (uint8_t)((w->o.uuid[8] & 0x3f) | 0x80);
	}
	memcpy(w->uuid, w->o.uuid, 16);
	for (int i = 0; i < 4; i++)
		w->hash_seed[i] = get32(w->uuid + 4 * i) ^ 0x5bd1e995u;
	if (w->o.size) {
		w->fixed_blocks = w->o.size / BS;
		if (w->fixed_blocks > MAX_BLOCKS || w->fixed_blocks < 256) {
			free(w);
			err_set(e, -EINVAL, "ext4 size must be between 1 MiB and 16 TiB");
			return NULL;
		}
		w->gdt_reserve = gdt_blocks(groups_for(w->fixed_blocks));
		w->max_blk = w->fixed_blocks;
	} else {
		w->gdt_reserve = gdt_blocks(DERIVED_MAX_GROUPS);
		w->max_blk = (uint64_t)DERIVED_MAX_GROUPS * BLOCKS_PER_GROUP;
	}
	w->next_blk = w->wbuf_blk = 1 + w->gdt_reserve;
	w->wbuf = xmalloc((size_t)WBUF_BLOCKS * BS);
	w->chunk = xmalloc(CHUNK);
	return w;
}

struct fstree_sink *ext4_writer_sink(struct ext4_writer *w)
{
	return &w->sink;
}

void ext4_writer_free(struct ext4_writer *w)
{
	if (!w)
		return;
	free(w->wbuf);
	free(w->chunk);
	free(w);
}

/* The snapshot cache (see oci/snapshot.h): image manifest -> ext4 image
 * file, built once from the layers in the content store, published
 * atomically, shared read-only.  Called by run/create (snapshot_get) and
 * by `image rm` / `image prune` (snapshot_gc); the bench and corpus tests
 * drive it through t/tools/snapshot.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/decompress.h"
#include "oci/digest.h"
#include "oci/ext4.h"
#include "oci/fstree.h"
#include "oci/manifest.h"
#include "oci/snapshot.h"
#include "oci/store.h"
#include "oci/tar.h"

#define GC_MAX_DEPTH 8
#define TMP_SUFFIX ".tmp-"

static void snapshots_dir(const char *root, struct buf *out)
{
	buf_printf(out, "%s/snapshots", root);
}

void snapshot_path(const char *root, const struct digest *manifest, struct buf *out)
{
	buf_printf(out, "%s/snapshots/%s.ext4", root, digest_hex(manifest));
}

static void lock_path(const char *root, const char *hex, struct buf *out)
{
	buf_printf(out, "%s/snapshots/%s.lock", root, hex);
}

/* Builder locks are lib/fs.h's lock files (the content store's scheme). */

/* ---- reading the image's documents ---- */

static int load_image(struct store *s, const struct digest *md, struct manifest **mout,
		      struct image_config **cout, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct manifest *m = NULL;
	struct image_config *c = NULL;
	int rc;

	rc = store_read_blob(s, md, MANIFEST_MAX_BYTES, &b, e);
	if (rc == 0)
		rc = manifest_parse(b.data, b.len, NULL, &m, e);
	if (rc < 0)
		return err_wrap(e, "manifest %s", md->s);
	if (m->kind != MANIFEST_IMAGE) {
		manifest_free(m);
		return err_set(e, -EINVAL,
			       "manifest %s is an index, not an image manifest: select a platform first",
			       md->s);
	}
	rc = manifest_check_image(m, e);
	if (rc < 0) {
		manifest_free(m);
		return err_wrap(e, "image %s", md->s);
	}
	buf_reset(&b);
	rc = store_read_blob(s, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &b, e);
	if (rc == 0 && (long long)b.len != m->config.size)
		rc = err_set(e, -EBADMSG, "config is %zu bytes, the manifest says %lld", b.len,
			     m->config.size);
	if (rc == 0)
		rc = image_config_parse(b.data, b.len, &c, e);
	if (rc == 0)
		rc = manifest_check_config(m, c, e);
	if (rc < 0) {
		image_config_free(c);
		err_wrap(e, "image %s: config %s", md->s, m->config.digest.s);
		manifest_free(m);
		return rc;
	}
	*mout = m;
	*cout = c;
	return 0;
}

/* ---- a two-thread pipeline stage ----
 *
 * Reading, hashing and inflating a blob costs about as much CPU as
 * everything after it (hashing the uncompressed stream, tar, tree, ext4
 * writes), so the stages below this one run on a thread of their own and
 * hand over fixed chunks: the unpack takes about the time of gunzip alone
 * on a machine with two free cores.  Memory: PIPE_SLOTS * PIPE_CHUNK. */

#define PIPE_CHUNK (256u << 10)
#define PIPE_SLOTS 4

struct pipe_reader {
	struct reader r;
	struct reader *in;           /* read only by the thread */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[PIPE_SLOTS];
	size_t len[PIPE_SLOTS];
	unsigned long long head, tail;  /* chunks produced / consumed */
	size_t off;                  /* consumer's offset in the tail chunk */
	int eof, stop, rc;
	struct err err;              /* the thread's error, handed over at the end */
};

static void *pipe_main(void *arg)
{
	struct pipe_reader *p = arg;
	struct err e = ERR_INIT;

	for (;;) {
		size_t n = 0, slot;
		ssize_t k = 1;
		pthread_mutex_lock(&p->mu);
		while (p->head - p->tail == PIPE_SLOTS && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		slot = (size_t)(p->head % PIPE_SLOTS);
		k = p->stop ? 0 : 1;
		pthread_mutex_unlock(&p->mu);
		while (k > 0 && n < PIPE_CHUNK) {
			k = reader_read(p->in, p->buf[slot] + n, PIPE_CHUNK - n, &e);
			if (k > 0)
				n += (size_t)k;
		}
		pthread_mutex_lock(&p->mu);
		p->len[slot] = n;
		if (n)
			p->head++;
		if (k < 0) {
			p->rc = (int)k;
			p->err = e;
		}
		if (k <= 0)
			p->eof = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (k <= 0)
			return NULL;
	}
}

static ssize_t pipe_read(struct reader *r, void *dst, size_t n, struct err *e)
{
	struct pipe_reader *p = (struct pipe_reader *)r;
	size_t slot, k;

	pthread_mutex_lock(&p->mu);
	while (p->head == p->tail && !p->eof)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->head == p->tail) {
		int rc = p->rc;
		if (rc < 0 && e)
			*e = p->err;
		pthread_mutex_unlock(&p->mu);
		return rc;
	}
	slot = (size_t)(p->tail % PIPE_SLOTS);
	pthread_mutex_unlock(&p->mu);
	k = p->len[slot] - p->off;
	if (k > n)
		k = n;
	memcpy(dst, p->buf[slot] + p->off, k);
	p->off += k;
	if (p->off == p->len[slot]) {
		p->off = 0;
		pthread_mutex_lock(&p->mu);
		p->tail++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return (ssize_t)k;
}

/* Start the thread reading from in (borrowed); -errno if it cannot. */
static int pipe_open(struct pipe_reader *p, struct reader *in, struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->r.read = pipe_read;
	p->in = in;
	for (size_t i = 0; i < PIPE_SLOTS; i++)
		p->buf[i] = xmalloc(PIPE_CHUNK);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	int rc = pthread_create(&p->th, NULL, pipe_main, p);
	if (rc != 0) {
		for (size_t i = 0; i < PIPE_SLOTS; i++)
			free(p->buf[i]);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		errno = rc;
		return err_sys(e, "start the unpack thread");
	}
	return 0;
}

/* Stop the thread (it finishes the read it is in) and free the stage. */
static void pipe_close(struct pipe_reader *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	for (size_t i = 0; i < PIPE_SLOTS; i++)
		free(p->buf[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* ---- one layer ---- */

/* Stream one layer blob into the tree.  *budget is what is left of the
 * image's cap on uncompressed bytes; it is charged with this layer's. */
static int apply_layer(struct store *s, struct fstree *t, const struct descriptor *l,
		       const struct digest *diff_id, uint64_t layer_max, uint64_t *budget,
		       struct snapshot_stats *st, struct err *e)
{
	enum decompress_kind kind;
	struct store_reader sr;
	struct digest_reader dr;
	struct pipe_reader pr;
	struct reader *dz;
	struct tar *tar;
	uint64_t cin = 0, cout = 0, cap;
	unsigned char probe;
	int rc;

	rc = decompress_kind_for_media_type(l->media_type, &kind, e);
	if (rc < 0)
		return rc;
	rc = store_reader_open(s, &l->digest, &sr, e);
	if (rc < 0)
		return rc;
	if (sr.size != l->size) {
		store_reader_close(&sr);
		return err_set(e, -EBADMSG, "blob is %lld bytes, the manifest says %lld", sr.size,
			       l->size);
	}
	if (*budget == 0) {
		store_reader_close(&sr);
		return err_set(e, -EFBIG, "the image's layers exceed the cap on uncompressed bytes");
	}
	cap = layer_max < *budget ? layer_max : *budget;
	dz = decompress_open(&sr.dr.r, kind, cap);
	rc = pipe_open(&pr, dz, e);
	if (rc < 0) {
		dz->close(dz);
		store_reader_close(&sr);
		return rc;
	}
	digest_reader_init(&dr, &pr.r, -1, diff_id, "the uncompressed layer (diff_id)");
	tar = tar_open(&dr.r, e);
	rc = tar ? fstree_apply_layer(t, tar, e) : (e ? e->code : -EINVAL);
	/* The tar reader returns its end only after reading its input to the
	 * end, so the diff_id (and, below it, the blob digest) has been
	 * checked by now; a stage that has not reached its end is a bug we
	 * refuse to paper over. */
	if (rc == 0 && !dr.done) {
		ssize_t k = reader_read(&dr.r, &probe, 1, e);
		if (k > 0)
			rc = err_set(e, -EBADMSG, "data after the end of the tar archive");
		else if (k < 0)
			rc = (int)k;
	}
	tar_close(tar);
	pipe_close(&pr);
	if (rc == 0 && !sr.dr.done)
		rc = err_set(e, -EBADMSG, "compressed data after the end of the stream");
	decompress_counts(dz, &cin, &cout);
	*budget -= cout < *budget ? cout : *budget;
	if (st) {
		st->compressed_bytes += cin;
		st->uncompressed_bytes += cout;
	}
	dz->close(dz);
	store_reader_close(&sr);
	if (rc == -EFBIG && cout >= cap)
		err_set(e, -EFBIG, "decompressed size passes the cap of %llu bytes%s",
			(unsigned long long)cap,
			cap < layer_max ? " left for the image" : " for one layer");
	return rc;
}

/* ---- build ---- */

static const char *dir_of(const char *path, struct buf *out)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		buf_puts(out, ".");
	else if (slash == path)
		buf_puts(out, "/");
	else
		buf_append(out, path, (size_t)(slash - path));
	return buf_str(out);
}

static int build_tree(struct store *s, const struct manifest *m, const struct image_config *c,
		      int fd, const struct snapshot_opts *o, struct snapshot_stats *st,
		      struct err *e)
{
	uint64_t layer_max = o && o->max_layer_bytes ? o->max_layer_bytes : SNAPSHOT_LAYER_MAX;
	uint64_t budget = o && o->max_image_bytes ? o->max_image_bytes : SNAPSHOT_IMAGE_MAX;
	struct ext4_opts eo = { 0 };
	struct ext4_writer *w;
	struct fstree *t;
	int rc = 0;

	if (o)
		eo = o->ext4;
	w = ext4_writer_new(fd, &eo, e);
	if (!w)
		return e ? e->code : -EIO;
	t = fstree_new(ext4_writer_sink(w));
	for (size_t i = 0; i < m->n_layers && rc == 0; i++) {
		rc = apply_layer(s, t, &m->layers[i], &c->diff_ids[i], layer_max, &budget, st, e);
		if (rc < 0)
			err_wrap(e, "layer %zu of %zu (%s)", i + 1, m->n_layers,
				 m->layers[i].digest.s);
	}
	if (rc == 0)
		rc = ext4_writer_finish(w, t, e);
	if (st) {
		st->layers = m->n_layers;
		st->entries = t->nentries;
		st->inodes = t->ninodes;
	}
	/* The tree's file data lives in the writer: the tree goes first. */
	fstree_free(t);
	ext4_writer_free(w);
	return rc;
}

int snapshot_build(struct store *s, const struct digest *manifest, const char *path,
		   const struct snapshot_opts *o, struct snapshot_stats *st, struct err *e)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT;
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct manifest *m = NULL;
	struct image_config *c = NULL;
	struct stat sb;
	int fd, rc;

	if (st)
		memset(st, 0, sizeof(*st));
	rc = load_image(s, manifest, &m, &c, e);
	if (rc < 0)
		return rc;
	buf_printf(&tmp, "%s" TMP_SUFFIX "XXXXXX", path);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		rc = err_sys(e, "create %s", buf_str(&tmp));
		goto out;
	}
	rc = build_tree(s, m, c, fd, o, st, e);
	if (rc < 0) {
		err_wrap(e, "image %s", manifest->s);
		goto fail;
	}
	if (fchmod(fd, 0444) < 0 || fsync(fd) < 0 || fstat(fd, &sb) < 0) {
		rc = err_sys(e, "write %s", buf_str(&tmp));
		goto fail;
	}
	if (st)
		st->image_bytes = (uint64_t)sb.st_size;
	if (rename(buf_str(&tmp), path) < 0) {
		rc = err_sys(e, "rename %s to %s", buf_str(&tmp), path);
		goto fail;
	}
	close(fd);
	fd = -1;
	rc = fs_fsync_dir(dir_of(path, &dir), e);
	goto out;
fail:
	close(fd);
	unlink(buf_str(&tmp));
out:
	image_config_free(c);
	manifest_free(m);
	return rc;
}

/* ---- the cache ---- */

static int is_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int snapshot_get(struct store *s, const char *root, const struct digest *manifest,
		 const struct snapshot_opts *o, struct buf *out, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_buf_ struct buf dir = BUF_INIT;
	_cleanup_buf_ struct buf lock = BUF_INIT;
	int fd = -1, rc;

	snapshot_path(root, manifest, &path);
	if (is_file(buf_str(&path)))
		goto done;
	snapshots_dir(root, &dir);
	rc = fs_mkdir_p(buf_str(&dir), 0755, e);
	if (rc < 0)
		return rc;
	lock_path(root, digest_hex(manifest), &lock);
	rc = fs_lock(buf_str(&lock), LOCK_EX, &fd, e);
	if (rc < 0)
		return rc;
	/* Another process may have built it while we waited. */
	if (is_file(buf_str(&path))) {
		fs_unlock_unlink(buf_str(&lock), fd);
		goto done;
	}
	rc = snapshot_build(s, manifest, buf_str(&path), o, NULL, e);
	fs_unlock_unlink(buf_str(&lock), fd);
	if (rc < 0)
		return rc;
	buf_puts(out, buf_str(&path));
	return 1;
done:
	buf_puts(out, buf_str(&path));
	return 0;
}

int snapshot_remove(const char *root, const struct digest *manifest, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_buf_ struct buf dir = BUF_INIT;
	_cleanup_buf_ struct buf lock = BUF_INIT;
	int fd = -1, rc;

	snapshot_path(root, manifest, &path);
	snapshots_dir(root, &dir);
	if (!is_file(buf_str(&path)) && access(buf_str(&dir), F_OK) < 0)
		return 0;
	lock_path(root, digest_hex(manifest), &lock);
	rc = fs_lock(buf_str(&lock), LOCK_EX, &fd, e);
	if (rc < 0)
		return rc;
	if (unlink(buf_str(&path)) < 0) {
		rc = errno == ENOENT ? 0 : err_sys(e, "remove %s", buf_str(&path));
	} else {
		rc = fs_fsync_dir(buf_str(&dir), e);
		rc = rc < 0 ? rc : 1;
	}
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

/* ---- garbage collection ---- */

struct refs {
	struct digest *v;
	size_t n, cap;
};

static void refs_add(struct refs *r, const struct digest *d)
{
	if (r->n == r->cap)
		r->v = xreallocarray(r->v, r->cap = r->cap ? r->cap * 2 : 16, sizeof(*r->v));
	r->v[r->n++] = *d;
}

static int refs_has(const struct refs *r, const char *hex)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(digest_hex(&r->v[i]), hex) == 0)
			return 1;
	return 0;
}

/* d and, if it is an index in the store, the manifests it names. */
static int mark(struct store *s, struct refs *r, const struct digest *d, int depth,
		struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct manifest *m = NULL;
	int rc = 0;

	refs_add(r, d);
	if (depth > GC_MAX_DEPTH)
		return 0;
	rc = store_read_blob(s, d, MANIFEST_MAX_BYTES, &b, e);
	if (rc == -ENOENT || rc == -EFBIG || rc == -EBADMSG)
		return 0;  /* references only itself (see the header) */
	if (rc < 0)
		return rc;
	if (manifest_parse(b.data, b.len, NULL, &m, NULL) < 0)
		return 0;
	for (size_t i = 0; m->kind == MANIFEST_INDEX && i < m->n_manifests && rc == 0; i++)
		rc = mark(s, r, &m->manifests[i].digest, depth + 1, e);
	manifest_free(m);
	return rc;
}

static int is_hex64(const char *s, size_t n)
{
	if (n != DIGEST_HEX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* One directory entry: "<hex>.ext4" (an image), "<hex>.ext4.tmp-*" (a
 * builder's temp file) or "<hex>.lock" (left by a crashed lock holder).
 * Anything else is not ours. */
static void gc_one(const char *root, const char *dir, const char *name, const struct refs *r,
		   struct snapshot_gc_result *res)
{
	_cleanup_buf_ struct buf lock = BUF_INIT;
	_cleanup_buf_ struct buf path = BUF_INIT;
	char hex[DIGEST_HEX_LEN + 1];
	const char *rest = name + DIGEST_HEX_LEN;
	int temp, fd = -1;
	struct stat sb;

	if (strlen(name) < DIGEST_HEX_LEN || !is_hex64(name, DIGEST_HEX_LEN))
		return;
	if (strcmp(rest, ".ext4") == 0)
		temp = 0;
	else if (strncmp(rest, ".ext4" TMP_SUFFIX, strlen(".ext4" TMP_SUFFIX)) == 0)
		temp = 1;
	else if (strcmp(rest, ".lock") == 0)
		temp = 2;
	else
		return;
	memcpy(hex, name, DIGEST_HEX_LEN);
	hex[DIGEST_HEX_LEN] = '\0';
	if (!temp && refs_has(r, hex)) {
		res->kept++;
		return;
	}
	lock_path(root, hex, &lock);
	/* A builder holds the lock for its whole build: busy = alive. */
	if (fs_lock(buf_str(&lock), LOCK_EX | LOCK_NB, &fd, NULL) < 0) {
		res->busy++;
		return;
	}
	if (temp == 2) {  /* unlock_file unlinks it */
		fs_unlock_unlink(buf_str(&lock), fd);
		return;
	}
	buf_printf(&path, "%s/%s", dir, name);
	if (lstat(buf_str(&path), &sb) == 0 && S_ISREG(sb.st_mode) && unlink(buf_str(&path)) == 0) {
		if (temp) {
			res->temp_removed++;
		} else {
			res->removed++;
			res->bytes_freed += (unsigned long long)sb.st_blocks * 512;
		}
	}
	fs_unlock_unlink(buf_str(&lock), fd);
}

int snapshot_gc(struct store *s, const char *root, const struct digest *roots, size_t n_roots,
		struct snapshot_gc_result *res, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct snapshot_gc_result local;
	struct refs r = { 0 };
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < n_roots && rc == 0; i++)
		rc = mark(s, &r, &roots[i], 0, e);
	if (rc < 0) {
		free(r.v);
		return err_wrap(e, "snapshot gc");
	}
	snapshots_dir(root, &dir);
	d = opendir(buf_str(&dir));
	if (!d) {
		free(r.v);
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "open %s", buf_str(&dir));
	}
	while ((de = readdir(d)))
		gc_one(root, buf_str(&dir), de->d_name, &r, res);
	closedir(d);
	free(r.v);
	if (res->removed || res->temp_removed)
		rc = fs_fsync_dir(buf_str(&dir), e);
	return rc;
}

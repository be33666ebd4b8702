/* The content store (see oci/store.h): verified, atomically published
 * blobs, resumable ingest, one writer per digest by flock, and garbage
 * collection from a root set.  flock is used (not fcntl locks) because
 * it belongs to the open file, so two writers in one process exclude
 * each other too, and it exists on Linux and macOS alike. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/manifest.h"
#include "oci/store.h"

#define GC_MAX_DEPTH 8

struct store {
	char *blobs;  /* <root>/content/blobs/sha256 */
	char *ingest; /* <root>/content/ingest */
	char *gclock; /* <root>/content/gc.lock */
	int lease_fd;
	int leases;
};

struct store_writer {
	struct store *s;
	struct digest want;
	long long size, off;
	struct sha256 h;
	int fd;	     /* ingest file, O_APPEND */
	int lock_fd; /* <hex>.lock, flock LOCK_EX */
	int gc_fd;   /* gc.lock, flock LOCK_SH */
	char *ingest_path, *lock_path;
	long long flushed; /* writeback started up to here (early_writeback) */
};

/* Start writing back every WRITEBACK_STEP bytes appended, without waiting,
 * so that the fsync at commit (still the only durability point) waits for
 * the last few MiB instead of the whole blob (a 52 MB layer's fsync:
 * 7-25 ms instead of 40-90 on the pull benchmark).  Linux only (sync_file_range);
 * elsewhere commit's fsync does it all, as before. */
#define WRITEBACK_STEP (8LL << 20)

static void early_writeback(struct store_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->off - w->flushed >= WRITEBACK_STEP) {
		sync_file_range(w->fd, w->flushed, w->off - w->flushed, SYNC_FILE_RANGE_WRITE);
		w->flushed = w->off;
	}
#else
	(void)w;
#endif
}

int store_open(const char *root, struct store **out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct store *s;
	int rc;

	s = xcalloc(1, sizeof(*s));
	s->lease_fd = -1;
	buf_printf(&b, "%s/content/blobs/sha256", root);
	s->blobs = buf_steal(&b);
	buf_printf(&b, "%s/content/ingest", root);
	s->ingest = buf_steal(&b);
	buf_printf(&b, "%s/content/gc.lock", root);
	s->gclock = buf_steal(&b);
	if ((rc = fs_mkdir_p(s->blobs, 0755, e)) < 0 || (rc = fs_mkdir_p(s->ingest, 0755, e)) < 0) {
		store_close(s);
		return err_wrap(e, "content store %s", root);
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->lease_fd >= 0)
		close(s->lease_fd);
	free(s->blobs);
	free(s->ingest);
	free(s->gclock);
	free(s);
}

void store_blob_path(const struct store *s, const struct digest *d, struct buf *out)
{
	buf_printf(out, "%s/%s", s->blobs, digest_hex(d));
}

int store_has(const struct store *s, const struct digest *d, long long *size, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat st;

	store_blob_path(s, d, &p);
	if (stat(buf_str(&p), &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "stat %s", buf_str(&p));
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "%s is not a regular file", buf_str(&p));
	if (size)
		*size = (long long)st.st_size;
	return 1;
}

int store_open_blob(const struct store *s, const struct digest *d, int *fd, long long *size,
		    struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat st;
	int f;

	store_blob_path(s, d, &p);
	f = open(buf_str(&p), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0) {
		if (errno == ENOENT)
			return err_set(e, -ENOENT, "blob %s is not in the store", d->s);
		return err_sys(e, "open %s", buf_str(&p));
	}
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return err_set(e, -EINVAL, "blob %s is not a regular file", d->s);
	}
	*fd = f;
	if (size)
		*size = (long long)st.st_size;
	return 0;
}

int store_reader_open(const struct store *s, const struct digest *d, struct store_reader *r,
		      struct err *e)
{
	int rc;

	r->fd = -1;
	r->want = *d;
	rc = store_open_blob(s, d, &r->fd, &r->size, e);
	if (rc < 0)
		return rc;
	fd_reader_init(&r->fr, r->fd);
	digest_reader_init(&r->dr, &r->fr.r, r->size, &r->want, r->want.s);
	return 0;
}

void store_reader_close(struct store_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int store_read_blob(const struct store *s, const struct digest *d, size_t max, struct buf *out,
		    struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct digest got;
	size_t start = out->len;
	int rc;

	store_blob_path(s, d, &p);
	rc = fs_read_file(buf_str(&p), out, max, e);
	if (rc == -ENOENT)
		return err_set(e, -ENOENT, "blob %s is not in the store", d->s);
	if (rc < 0)
		return rc;
	sha256_digest(out->data ? out->data + start : "", out->len - start, &got);
	if (strcmp(got.s, d->s) != 0) {
		buf_truncate(out, start);
		return err_set(e, -EBADMSG, "blob %s is corrupt on disk (its content hashes to %s)",
			       d->s, got.s);
	}
	return 0;
}

/* ---- locks ---- */

/* Digest locks are lib/fs.h's lock files: fs_lock, fs_unlock_unlink. */

int store_lease(struct store *s, struct err *e)
{
	if (s->leases == 0) {
		int rc = fs_lock(s->gclock, LOCK_SH, &s->lease_fd, e);
		if (rc < 0)
			return rc;
	}
	s->leases++;
	return 0;
}

void store_unlease(struct store *s)
{
	if (s->leases > 0 && --s->leases == 0) {
		close(s->lease_fd);
		s->lease_fd = -1;
	}
}

/* ---- writing ---- */

static void writer_free(struct store_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	fs_unlock_unlink(w->lock_path, w->lock_fd);
	if (w->gc_fd >= 0)
		close(w->gc_fd);
	free(w->ingest_path);
	free(w->lock_path);
	free(w);
}

/* Hash the bytes an interrupted write left behind, so the digest covers
 * the whole blob after the resume. */
static int rehash_ingest(struct store_writer *w, struct err *e)
{
	unsigned char tmp[65536];
	long long left = w->off;
	int fd = open(w->ingest_path, O_RDONLY | O_CLOEXEC);

	sha256_init(&w->h);
	if (fd < 0)
		return err_sys(e, "open %s", w->ingest_path);
	while (left > 0) {
		size_t want = left < (long long)sizeof(tmp) ? (size_t)left : sizeof(tmp);
		ssize_t got = fs_read_full(fd, tmp, want, e);
		if (got < 0) {
			close(fd);
			return (int)got;
		}
		if (got == 0)
			break;
		sha256_update(&w->h, tmp, (size_t)got);
		left -= got;
	}
	close(fd);
	if (left > 0)
		return store_writer_reset(w, e);
	return 0;
}

int store_writer_open(struct store *s, const struct digest *d, long long size, int flags,
		      struct store_writer **out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct store_writer *w;
	struct stat st;
	int rc, nb = (flags & STORE_NOWAIT) ? LOCK_NB : 0;

	*out = NULL;
	if (size < 0)
		return err_set(e, -EINVAL, "blob %s: negative size", d->s);
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->want = *d;
	w->size = size;
	w->fd = w->lock_fd = w->gc_fd = -1;
	buf_printf(&b, "%s/%s", s->ingest, digest_hex(d));
	w->ingest_path = buf_steal(&b);
	buf_printf(&b, "%s/%s.lock", s->ingest, digest_hex(d));
	w->lock_path = buf_steal(&b);

	/* The GC lock is shared among writers and never unlinked. */
	if ((rc = fs_lock(s->gclock, LOCK_SH | nb, &w->gc_fd, e)) < 0 ||
	    (rc = fs_lock(w->lock_path, LOCK_EX | nb, &w->lock_fd, e)) < 0)
		goto fail;
	rc = store_has(s, d, NULL, e);
	if (rc != 0)
		goto fail; /* present (rc 1 -> done) or an error */
	w->fd = open(w->ingest_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd < 0 || fstat(w->fd, &st) < 0) {
		rc = err_sys(e, "open %s", w->ingest_path);
		goto fail;
	}
	w->off = (long long)st.st_size;
	if (w->off > size)
		rc = store_writer_reset(w, e);
	else
		rc = rehash_ingest(w, e);
	if (rc < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	writer_free(w);
	return rc > 0 ? 0 : rc;
}

long long store_writer_offset(const struct store_writer *w)
{
	return w->off;
}

int store_writer_reset(struct store_writer *w, struct err *e)
{
	if (ftruncate(w->fd, 0) < 0)
		return err_sys(e, "truncate %s", w->ingest_path);
	w->off = w->flushed = 0;
	sha256_init(&w->h);
	return 0;
}

int store_writer_write(struct store_writer *w, const void *p, size_t n, struct err *e)
{
	int rc;

	if ((unsigned long long)n > (unsigned long long)(w->size - w->off))
		return err_set(e, -EFBIG, "blob %s: more data than the declared %lld bytes",
			       w->want.s, w->size);
	rc = fs_write_full(w->fd, p, n, e);
	if (rc < 0) {
		/* A short append leaves bytes we have not hashed: start over
		 * rather than resume from an unknown state. */
		store_writer_reset(w, NULL);
		return err_wrap(e, "blob %s", w->want.s);
	}
	sha256_update(&w->h, p, n);
	w->off += (long long)n;
	early_writeback(w);
	return 0;
}

int store_writer_copy(struct store_writer *w, struct reader *in, struct err *e)
{
	unsigned char tmp[65536];

	for (;;) {
		long long left = w->size - w->off;
		/* At the declared size, ask for one byte more to see the end. */
		size_t want = left == 0			      ? 1
			      : left < (long long)sizeof(tmp) ? (size_t)left
							      : sizeof(tmp);
		ssize_t got = reader_read(in, tmp, want, e);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		if (left == 0)
			return err_set(e, -EFBIG, "blob %s: longer than the declared %lld bytes",
				       w->want.s, w->size);
		int rc = store_writer_write(w, tmp, (size_t)got, e);
		if (rc < 0)
			return rc;
	}
}

int store_writer_commit(struct store_writer *w, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct sha256 h = w->h;
	struct digest got;
	int rc;

	if (w->off != w->size) {
		rc = err_set(e, -EPROTO, "blob %s: incomplete, %lld of %lld bytes", w->want.s,
			     w->off, w->size);
		goto out;
	}
	sha256_final(&h, &got);
	if (strcmp(got.s, w->want.s) != 0) {
		unlink(w->ingest_path);
		rc = err_set(e, -EBADMSG, "digest mismatch for blob: expected %s, got %s",
			     w->want.s, got.s);
		goto out;
	}
	if (fchmod(w->fd, 0444) < 0 || fsync(w->fd) < 0) {
		rc = err_sys(e, "sync %s", w->ingest_path);
		goto out;
	}
	store_blob_path(w->s, &w->want, &path);
	if (rename(w->ingest_path, buf_str(&path)) < 0) {
		rc = err_sys(e, "rename %s to %s", w->ingest_path, buf_str(&path));
		goto out;
	}
	rc = fs_fsync_dir(w->s->blobs, e);
out:
	writer_free(w);
	return rc;
}

void store_writer_close(struct store_writer *w)
{
	if (w)
		writer_free(w);
}

int store_put(struct store *s, const void *p, size_t n, const struct digest *want,
	      struct digest *out, struct err *e)
{
	struct store_writer *w;
	struct digest d;
	int rc;

	sha256_digest(p, n, &d);
	if (want && strcmp(want->s, d.s) != 0)
		return err_set(e, -EBADMSG, "digest mismatch: expected %s, got %s", want->s, d.s);
	if (out)
		*out = d;
	rc = store_writer_open(s, &d, (long long)n, 0, &w, e);
	if (rc < 0 || !w)
		return rc;
	/* Stale partial data cannot be trusted to match: write it all. */
	if (store_writer_offset(w) != 0 && (rc = store_writer_reset(w, e)) < 0) {
		store_writer_close(w);
		return rc;
	}
	rc = store_writer_write(w, p, n, e);
	if (rc < 0) {
		store_writer_close(w);
		return rc;
	}
	return store_writer_commit(w, e);
}

/* ---- garbage collection ---- */

/* Marks are collected unsorted (duplicates allowed) and sorted once for
 * the sweep; only documents actually walked are checked for repeats, so
 * the cost is linear in what the roots reference, and an index listing
 * the same nested index many times is walked once. */
struct mark_set {
	struct digest *d;
	size_t n, cap;
	struct digest *walked;
	size_t n_walked, cap_walked;
};

static void push(struct digest **v, size_t *n, size_t *cap, const struct digest *d)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = *d;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct digest *)a)->s, ((const struct digest *)b)->s);
}

/* Mark d and what it references.  A root or child that is absent or not a
 * manifest is simply kept: GC must never delete because it cannot read. */
static int mark(struct store *s, struct mark_set *m, const struct digest *d, int depth,
		struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct manifest *doc = NULL;
	int rc;

	push(&m->d, &m->n, &m->cap, d);
	if (depth > GC_MAX_DEPTH)
		return 0;
	for (size_t i = 0; i < m->n_walked; i++)
		if (strcmp(m->walked[i].s, d->s) == 0)
			return 0;
	push(&m->walked, &m->n_walked, &m->cap_walked, d);
	rc = store_read_blob(s, d, MANIFEST_MAX_BYTES, &b, e);
	if (rc == -ENOENT || rc == -EFBIG || rc == -EBADMSG)
		return 0;
	if (rc < 0)
		return rc;
	if (manifest_parse(b.data, b.len, NULL, &doc, NULL) < 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < doc->n_manifests; i++) {
		const struct descriptor *c = &doc->manifests[i];
		/* Children of other kinds (artifacts) are kept, not read. */
		if (manifest_media_kind(c->media_type) == MANIFEST_UNKNOWN)
			push(&m->d, &m->n, &m->cap, &c->digest);
		else
			rc = mark(s, m, &c->digest, depth + 1, e);
	}
	if (rc == 0 && doc->kind == MANIFEST_IMAGE) {
		push(&m->d, &m->n, &m->cap, &doc->config.digest);
		for (size_t i = 0; i < doc->n_layers; i++)
			push(&m->d, &m->n, &m->cap, &doc->layers[i].digest);
	}
	manifest_free(doc);
	return rc;
}

static int is_hex64(const char *s)
{
	struct digest d;
	_cleanup_buf_ struct buf b = BUF_INIT;

	buf_printf(&b, "sha256:%s", s);
	return digest_parse(buf_str(&b), &d, NULL) == 0;
}

static int sweep_blobs(struct store *s, const struct mark_set *m, struct store_gc_result *res,
		       struct err *e)
{
	DIR *dir = opendir(s->blobs);
	struct dirent *de;

	if (!dir)
		return err_sys(e, "open %s", s->blobs);
	while ((de = readdir(dir))) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		struct digest d;
		struct stat st;
		if (!is_hex64(de->d_name))
			continue;
		memcpy(d.s, "sha256:", 7);
		memcpy(d.s + 7, de->d_name, DIGEST_HEX_LEN + 1);
		if (m->n && bsearch(&d, m->d, m->n, sizeof(*m->d), cmp_digest)) {
			res->kept++;
			continue;
		}
		buf_printf(&p, "%s/%s", s->blobs, de->d_name);
		if (lstat(buf_str(&p), &st) == 0 && unlink(buf_str(&p)) == 0) {
			res->removed++;
			res->bytes_freed += (unsigned long long)st.st_size;
		}
	}
	closedir(dir);
	return fs_fsync_dir(s->blobs, e);
}

/* Remove ingest files older than max_age whose writer is gone. */
static void sweep_ingest(struct store *s, long max_age, struct store_gc_result *res)
{
	DIR *dir = opendir(s->ingest);
	struct dirent *de;
	time_t now = time(NULL);

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		_cleanup_buf_ struct buf p = BUF_INIT, lp = BUF_INIT;
		struct stat st;
		int lfd;
		if (!is_hex64(de->d_name))
			continue;
		buf_printf(&p, "%s/%s", s->ingest, de->d_name);
		buf_printf(&lp, "%s.lock", buf_str(&p));
		if (lstat(buf_str(&p), &st) < 0 || now - st.st_mtime < max_age)
			continue;
		if (fs_lock(buf_str(&lp), LOCK_EX | LOCK_NB, &lfd, NULL) < 0)
			continue;
		if (unlink(buf_str(&p)) == 0)
			res->ingest_removed++;
		fs_unlock_unlink(buf_str(&lp), lfd);
	}
	closedir(dir);
}

int store_gc(struct store *s, const struct digest *roots, size_t n_roots, long ingest_max_age,
	     struct store_gc_result *res, struct err *e)
{
	struct mark_set m = {NULL, 0, 0, NULL, 0, 0};
	int gc_fd = -1, rc = 0;

	memset(res, 0, sizeof(*res));
	if (s->leases > 0)
		return err_set(e, -EBUSY,
			       "content store: garbage collection while holding a lease");
	rc = fs_lock(s->gclock, LOCK_EX | LOCK_NB, &gc_fd, e);
	if (rc == -EBUSY)
		return err_set(e, -EBUSY,
			       "content store: a download is in progress; try again later");
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n_roots; i++)
		rc = mark(s, &m, &roots[i], 0, e);
	if (rc == 0) {
		if (m.n)
			qsort(m.d, m.n, sizeof(*m.d), cmp_digest);
		rc = sweep_blobs(s, &m, res, e);
	}
	if (rc == 0 && ingest_max_age >= 0)
		sweep_ingest(s, ingest_max_age, res);
	free(m.d);
	free(m.walked);
	close(gc_fd);
	return rc;
}

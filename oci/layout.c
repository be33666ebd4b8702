/* `image save` / `image load` (see oci/layout.h) and the small tar writer
 * that save uses.  Called by applets/image.c.
 *
 * Load stages every regular file of the archive in a private directory
 * under <root>/tmp (hashing it on the way), then works out the images
 * from index.json (OCI) or manifest.json (docker save), checks every
 * reference, and only then copies the blobs into the content store and
 * tags the names.  Docker archives name their files freely (and link
 * duplicates with symlinks), so files are found by path, and OCI blobs by
 * digest path, "blobs/sha256/<hex>". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/images.h"
#include "oci/layout.h"
#include "oci/pull.h"
#include "oci/ref.h"
#include "oci/store.h"
#include "oci/tar.h"

#define MAX_DEPTH 4
#define IO_CHUNK (256u << 10)

/* ---- tar writer ---- */

void tarw_init(struct tarw *t, int fd, long long mtime)
{
	t->fd = fd;
	t->written = 0;
	t->mtime = mtime;
}

static int tw_write(struct tarw *t, const void *p, size_t n, struct err *e)
{
	int rc = fs_write_full(t->fd, p, n, e);
	if (rc == 0)
		t->written += n;
	return rc;
}

static void octal(char *f, size_t w, unsigned long long v)
{
	/* w-1 digits and a NUL, as GNU tar and Go's archive/tar write them */
	f[w - 1] = 0;
	for (size_t i = w - 1; i-- > 0; v >>= 3)
		f[i] = (char)('0' + (v & 7));
}

static int header(struct tarw *t, const char *name, char type, unsigned mode,
		  unsigned long long size, struct err *e)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strnlen(name, 99));
	octal((char *)h + 100, 8, mode);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, (unsigned long long)t->mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	octal((char *)h + 148, 7, sum);
	h[155] = ' ';
	return tw_write(t, h, sizeof(h), e);
}

/* "<len> key=value\n" where len counts the whole record. */
static void pax_record(struct buf *b, const char *key, const char *val)
{
	size_t base = 1 + strlen(key) + 1 + strlen(val) + 1, len = base + 1;

	while (len != base + (size_t)snprintf(NULL, 0, "%zu", len))
		len = base + (size_t)snprintf(NULL, 0, "%zu", len);
	buf_printf(b, "%zu %s=%s\n", len, key, val);
}

static int entry(struct tarw *t, const char *path, char type, unsigned mode,
		 unsigned long long size, struct err *e)
{
	_cleanup_buf_ struct buf pax = BUF_INIT;
	int rc;

	if (strlen(path) > 99)
		pax_record(&pax, "path", path);
	if (size > 077777777777ULL) {
		char s[32];
		snprintf(s, sizeof(s), "%llu", size);
		pax_record(&pax, "size", s);
	}
	if (pax.len) {
		if ((rc = header(t, "PaxHeaders/entry", 'x', 0644, pax.len, e)) < 0 ||
		    (rc = tw_write(t, pax.data, pax.len, e)) < 0 || (rc = tarw_pad(t, pax.len, e)) < 0)
			return rc;
	}
	return header(t, path, type, mode, size > 077777777777ULL ? 0 : size, e);
}

int tarw_file(struct tarw *t, const char *path, unsigned mode, unsigned long long size,
	      struct err *e)
{
	return entry(t, path, '0', mode, size, e);
}

int tarw_dir(struct tarw *t, const char *path, struct err *e)
{
	return entry(t, path, '5', 0755, 0, e);
}

int tarw_data(struct tarw *t, const void *p, size_t n, struct err *e)
{
	return tw_write(t, p, n, e);
}

int tarw_pad(struct tarw *t, unsigned long long size, struct err *e)
{
	static const unsigned char zero[512];
	size_t pad = (size_t)((512 - size % 512) % 512);

	return pad ? tw_write(t, zero, pad, e) : 0;
}

int tarw_mem(struct tarw *t, const char *path, const void *p, size_t n, struct err *e)
{
	int rc;

	if ((rc = tarw_file(t, path, 0644, n, e)) < 0 || (rc = tarw_data(t, p, n, e)) < 0)
		return rc;
	return tarw_pad(t, n, e);
}

int tarw_end(struct tarw *t, struct err *e)
{
	static const unsigned char zero[1024];
	return tw_write(t, zero, sizeof(zero), e);
}

/* ---- save ---- */

struct dset {
	struct digest *v;
	size_t n;
};

static void dset_add(struct dset *s, const struct digest *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].s, d->s) == 0)
			return;
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = *d;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct digest *)a)->s, ((const struct digest *)b)->s);
}

/* Every blob a document reaches (all of them must be present). */
static int walk(struct store *s, const struct digest *d, const char *mt, int depth, struct dset *out,
		struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	struct manifest *m = NULL;
	int rc;

	if (depth > MAX_DEPTH)
		return err_set(e, -ELOOP, "image indexes nested more than %d deep", MAX_DEPTH);
	if ((rc = store_read_blob(s, d, MANIFEST_MAX_BYTES, &body, e)) < 0 ||
	    (rc = manifest_parse(buf_str(&body), body.len, mt, &m, e)) < 0)
		return rc;
	dset_add(out, d);
	if (m->kind == MANIFEST_INDEX) {
		for (size_t i = 0; rc == 0 && i < m->n_manifests; i++)
			rc = walk(s, &m->manifests[i].digest, m->manifests[i].media_type, depth + 1,
				  out, e);
	} else {
		const struct descriptor *all[MANIFEST_MAX_LAYERS + 1];
		all[0] = &m->config;
		for (size_t i = 0; i < m->n_layers; i++)
			all[i + 1] = &m->layers[i];
		for (size_t i = 0; rc == 0 && i <= m->n_layers; i++) {
			if ((rc = store_has(s, &all[i]->digest, NULL, e)) == 1)
				dset_add(out, &all[i]->digest), rc = 0;
			else if (rc == 0)
				rc = err_set(e, -ENOENT, "blob %s of image manifest %s is not in the store",
					     all[i]->digest.s, d->s);
		}
	}
	manifest_free(m);
	return rc;
}

static int copy_blob(struct store *s, struct tarw *t, const struct digest *d, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_free_ unsigned char *tmp = xmalloc(IO_CHUNK);
	struct store_reader r;
	ssize_t n;
	int rc;

	if ((rc = store_reader_open(s, d, &r, e)) < 0)
		return rc;
	buf_printf(&path, "blobs/sha256/%s", digest_hex(d));
	rc = tarw_file(t, buf_str(&path), 0444, (unsigned long long)r.size, e);
	while (rc == 0 && (n = reader_read(&r.dr.r, tmp, IO_CHUNK, e)) != 0)
		rc = n < 0 ? (int)n : tarw_data(t, tmp, (size_t)n, e);
	if (rc == 0)
		rc = tarw_pad(t, (unsigned long long)r.size, e);
	store_reader_close(&r);
	return rc;
}

/* Docker's manifest.json entry for an image manifest. */
static int docker_entry(struct store *s, const struct digest *md, const char *name, json_t *arr,
			struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT, p = BUF_INIT, fam = BUF_INIT;
	struct manifest *m = NULL;
	json_t *layers;
	struct ref r;
	int rc;

	if ((rc = store_read_blob(s, md, MANIFEST_MAX_BYTES, &body, e)) < 0 ||
	    (rc = manifest_parse(buf_str(&body), body.len, NULL, &m, e)) < 0)
		return rc;
	layers = json_array();
	for (size_t i = 0; i < m->n_layers; i++) {
		buf_reset(&p);
		buf_printf(&p, "blobs/sha256/%s", digest_hex(&m->layers[i].digest));
		json_array_append_new(layers, json_string(buf_str(&p)));
	}
	buf_reset(&p);
	buf_printf(&p, "blobs/sha256/%s", digest_hex(&m->config.digest));
	if (ref_parse(name, 0, &r, NULL) == 0)
		ref_format_familiar(&r, &fam);
	json_array_append_new(arr, json_pack("{s:s, s:[s], s:o}", "Config", buf_str(&p), "RepoTags",
					     buf_str(&fam), "Layers", layers));
	manifest_free(m);
	return 0;
}

struct saved {
	struct digest d;
	char *mt;
	long long size;
	char *name;
	struct digest manifest; /* for manifest.json */
};

static int save_pick(struct store *s, struct images *im, const char *q,
		     const struct platform *platform, struct saved *out, struct err *e)
{
	const struct images_entry *en;
	struct manifest *m = NULL;
	struct digest md;
	int rc;

	if ((rc = images_resolve(im, q, &en, e)) < 0)
		return rc;
	out->name = xstrdup(en->name);
	out->d = en->digest;
	out->mt = xstrdup(en->media_type);
	out->size = en->size;
	if ((rc = pull_resolve_local(s, &en->digest, en->media_type, platform, &md, &m, e)) < 0)
		return rc;
	out->manifest = md;
	if (platform || manifest_media_kind(en->media_type) == MANIFEST_INDEX) {
		/* Whole index only when every platform is here (and none was
		 * asked for); otherwise the one manifest. */
		struct dset tmp = { 0 };
		struct err e2 = ERR_INIT;
		if (platform || walk(s, &en->digest, en->media_type, 0, &tmp, &e2) < 0) {
			_cleanup_buf_ struct buf body = BUF_INIT;
			out->d = md;
			free(out->mt);
			out->mt = xstrdup(m->media_type);
			if (store_read_blob(s, &md, MANIFEST_MAX_BYTES, &body, NULL) == 0)
				out->size = (long long)body.len;
		}
		free(tmp.v);
	}
	manifest_free(m);
	return 0;
}

int layout_save(const char *root, const char *const *refs, size_t n, const struct platform *platform,
		int fd, struct err *e)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct saved *sv = xcalloc(n ? n : 1, sizeof(*sv));
	struct images *im = NULL;
	struct store *s = NULL;
	struct dset blobs = { 0 };
	json_t *index = NULL, *docker = NULL;
	struct tarw t;
	int rc;

	if ((rc = images_open(root, 0, &im, e)) < 0 || (rc = store_open(root, &s, e)) < 0)
		goto out;
	index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
			  "manifests");
	docker = json_array();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct ref r;
		json_t *ann;
		if ((rc = save_pick(s, im, refs[i], platform, &sv[i], e)) < 0 ||
		    (rc = walk(s, &sv[i].d, sv[i].mt, 0, &blobs, e)) < 0 ||
		    (rc = docker_entry(s, &sv[i].manifest, sv[i].name, docker, e)) < 0)
			break;
		ann = json_pack("{s:s}", "io.containerd.image.name", sv[i].name);
		if (ref_parse(sv[i].name, 0, &r, NULL) == 0 && r.tag[0])
			json_object_set_new(ann, "org.opencontainers.image.ref.name", json_string(r.tag));
		json_array_append_new(json_object_get(index, "manifests"),
				      json_pack("{s:s, s:s, s:I, s:o}", "mediaType", sv[i].mt, "digest",
						sv[i].d.s, "size", (json_int_t)sv[i].size, "annotations",
						ann));
	}
	if (rc < 0) {
		err_wrap(e, "save");
		goto out;
	}
	qsort(blobs.v, blobs.n, sizeof(*blobs.v), cmp_digest);
	tarw_init(&t, fd, 0);
	rc = tarw_mem(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, e);
	if (rc == 0 && (rc = tarw_dir(&t, "blobs/", e)) == 0)
		rc = tarw_dir(&t, "blobs/sha256/", e);
	for (size_t i = 0; rc == 0 && i < blobs.n; i++)
		rc = copy_blob(s, &t, &blobs.v[i], e);
	if (rc == 0 && (rc = jsonx_dump_buf(index, 0, &out, e)) == 0)
		rc = tarw_mem(&t, "index.json", out.data, out.len, e);
	buf_reset(&out);
	if (rc == 0 && (rc = jsonx_dump_buf(docker, 0, &out, e)) == 0)
		rc = tarw_mem(&t, "manifest.json", out.data, out.len, e);
	if (rc == 0)
		rc = tarw_end(&t, e);
	if (rc < 0)
		err_wrap(e, "save");
out:
	for (size_t i = 0; i < n; i++) {
		free(sv[i].name);
		free(sv[i].mt);
	}
	free(sv);
	free(blobs.v);
	json_decref(index);
	json_decref(docker);
	store_close(s);
	images_close(im);
	return rc;
}

/* ---- load: staging ---- */

struct staged {
	char *path;     /* cleaned archive path */
	char *link;     /* symlink/hardlink target (cleaned, archive-relative), or NULL */
	int file;       /* staging file number, -1 for links */
	struct digest d;
	long long size;
};

struct stage {
	char *dir;
	struct staged *v;
	size_t n;
};

static void stage_file(const struct stage *st, int file, struct buf *out)
{
	buf_printf(out, "%s/%d", st->dir, file);
}

static void stage_free(struct stage *st)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->v[i].file >= 0) {
			_cleanup_buf_ struct buf p = BUF_INIT;
			stage_file(st, st->v[i].file, &p);
			unlink(buf_str(&p));
		}
		free(st->v[i].path);
		free(st->v[i].link);
	}
	free(st->v);
	if (st->dir)
		rmdir(st->dir);
	free(st->dir);
}

/* "./a//b/" -> "a/b"; an empty result is refused, and so is ".." unless
 * dotdot allows it to step back (never above the archive's root). */
static int clean_path2(const char *in, int dotdot, struct buf *out)
{
	const char *p = in;

	while (*p) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;
			if (!dotdot || out->len == 0)
				return -EINVAL;
			slash = strrchr(out->data, '/');
			buf_truncate(out, slash ? (size_t)(slash - out->data) : 0);
			p += n;
			continue;
		}
		if (!(n == 1 && p[0] == '.')) {
			if (out->len)
				buf_putc(out, '/');
			buf_append(out, p, n);
		}
		p += n;
	}
	return out->len ? 0 : -ENOENT;
}

static int clean_path(const char *in, struct buf *out)
{
	return clean_path2(in, 0, out);
}

static const struct staged *stage_find(const struct stage *st, const char *path, int depth)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].path, path) != 0)
			continue;
		if (st->v[i].link && depth < 8)
			return stage_find(st, st->v[i].link, depth + 1);
		return st->v[i].link ? NULL : &st->v[i];
	}
	return NULL;
}

static const struct staged *stage_blob(const struct stage *st, const struct digest *d)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	buf_printf(&p, "blobs/sha256/%s", digest_hex(d));
	return stage_find(st, buf_str(&p), 0);
}

/* Link target relative to the link's directory (symlinks) or to the
 * archive root (hard links). */
static int link_target(const char *path, const struct tar_entry *te, struct buf *out)
{
	_cleanup_buf_ struct buf joined = BUF_INIT;
	const char *slash = strrchr(path, '/');

	if (te->type == TAR_SYMLINK && te->linkname[0] != '/' && slash)
		buf_append(&joined, path, (size_t)(slash - path + 1));
	buf_puts(&joined, te->linkname);
	return clean_path2(buf_str(&joined), 1, out);
}

static int stage_data(struct stage *st, struct tar *t, struct staged *sg, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_free_ unsigned char *tmp = xmalloc(IO_CHUNK);
	struct sha256 h;
	ssize_t n;
	int fd, rc = 0;

	sg->file = (int)st->n;
	stage_file(st, sg->file, &p);
	fd = open(buf_str(&p), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "create %s", buf_str(&p));
	sha256_init(&h);
	while ((n = tar_read(t, tmp, IO_CHUNK, e)) > 0) {
		sha256_update(&h, tmp, (size_t)n);
		sg->size += n;
		if ((rc = fs_write_full(fd, tmp, (size_t)n, e)) < 0)
			break;
	}
	if (n < 0)
		rc = (int)n;
	close(fd);
	if (rc < 0)
		unlink(buf_str(&p));
	sha256_final(&h, &sg->d);
	return rc;
}

static int stage_archive(struct stage *st, struct reader *in, struct err *e)
{
	struct tar *t = tar_open(in, e);
	struct tar_entry *te;
	int rc;

	if (!t)
		return e ? e->code : -EINVAL;
	while ((rc = tar_next(t, &te, e)) > 0) {
		_cleanup_buf_ struct buf path = BUF_INIT, link = BUF_INIT;
		struct staged sg = { NULL, NULL, -1, { { 0 } }, 0 };
		const char *hex;

		if (te->type == TAR_DIR)
			continue;
		if ((rc = clean_path(te->path, &path)) < 0) {
			rc = err_set(e, -EBADMSG, "entry \"%.200s\": path %s", te->path,
				     rc == -EINVAL ? "leaves the archive" : "is empty");
			break;
		}
		if (st->n >= LAYOUT_MAX_ENTRIES) {
			rc = err_set(e, -E2BIG, "more than %d entries", LAYOUT_MAX_ENTRIES);
			break;
		}
		for (size_t i = 0; i < st->n; i++)
			if (strcmp(st->v[i].path, buf_str(&path)) == 0)
				rc = -EEXIST;
		if (rc == -EEXIST) {
			rc = err_set(e, -EBADMSG, "entry %.200s appears twice", buf_str(&path));
			break;
		}
		if (te->type == TAR_SYMLINK || te->type == TAR_HARDLINK) {
			if (link_target(buf_str(&path), te, &link) < 0) {
				rc = err_set(e, -EBADMSG, "entry %.200s: link target leaves the archive",
					     buf_str(&path));
				break;
			}
			sg.link = buf_steal(&link);
		} else if (te->type != TAR_REG) {
			rc = err_set(e, -EBADMSG, "entry %.200s: not a file, directory or link",
				     buf_str(&path));
			break;
		} else if ((rc = stage_data(st, t, &sg, e)) < 0) {
			err_wrap(e, "entry %.200s", buf_str(&path));
			break;
		}
		sg.path = buf_steal(&path);
		st->v = xreallocarray(st->v, st->n + 1, sizeof(*st->v));
		st->v[st->n++] = sg;
		hex = strncmp(sg.path, "blobs/sha256/", 13) == 0 ? sg.path + 13 : NULL;
		if (hex && !sg.link && strcmp(hex, digest_hex(&sg.d)) != 0) {
			rc = err_set(e, -EBADMSG, "entry %.200s: content has digest %s", sg.path, sg.d.s);
			break;
		}
	}
	tar_close(t);
	return rc < 0 ? rc : 0;
}

static int stage_json(const struct stage *st, const struct staged *sg, const char *what,
		      json_t **out, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, data = BUF_INIT;
	int rc;

	stage_file(st, sg->file, &p);
	if ((rc = fs_read_file(buf_str(&p), &data, LAYOUT_JSON_MAX, e)) < 0)
		return err_wrap(e, "%s", what);
	*out = jsonx_parse(data.data ? data.data : "", data.len, LAYOUT_JSON_MAX, what, e);
	return *out ? 0 : (e ? e->code : -EINVAL);
}

static int stage_doc(const struct stage *st, const struct descriptor *d, struct buf *body,
		     struct manifest **m, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	const struct staged *sg = stage_blob(st, &d->digest);
	int rc;

	if (!sg)
		return err_set(e, -ENOENT, "the archive lacks %s", d->digest.s);
	if (sg->size != d->size)
		return err_set(e, -EBADMSG, "%s is %lld bytes, its descriptor says %lld", d->digest.s,
			       sg->size, d->size);
	stage_file(st, sg->file, &p);
	if ((rc = fs_read_file(buf_str(&p), body, MANIFEST_MAX_BYTES, e)) < 0)
		return rc;
	return manifest_parse(buf_str(body), body->len, d->media_type, m, e);
}

/* ---- load: OCI layout ---- */

struct plan {
	struct dset blobs;         /* staged blobs to copy into the store */
	struct buf *gen;           /* generated documents (docker archives) */
	size_t n_gen;
	struct layout_loaded *img; /* images to tag */
	size_t n_img;
	char **mt;                 /* media type per image */
	long long *size;           /* document size per image */
};

static int check_blob(const struct stage *st, const struct descriptor *d, struct plan *pl,
		      struct err *e)
{
	const struct staged *sg = stage_blob(st, &d->digest);

	if (!sg)
		return err_set(e, -ENOENT, "the archive lacks blob %s", d->digest.s);
	if (sg->size != d->size)
		return err_set(e, -EBADMSG, "blob %s is %lld bytes, its descriptor says %lld",
			       d->digest.s, sg->size, d->size);
	dset_add(&pl->blobs, &d->digest);
	return 0;
}

static int oci_walk(const struct stage *st, const struct descriptor *d, int depth, struct plan *pl,
		    struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT, cfg = BUF_INIT, p = BUF_INIT;
	struct manifest *m = NULL;
	struct image_config *ic = NULL;
	int rc;

	if (depth > MAX_DEPTH)
		return err_set(e, -ELOOP, "indexes nested more than %d deep", MAX_DEPTH);
	if ((rc = stage_doc(st, d, &body, &m, e)) < 0)
		return rc;
	dset_add(&pl->blobs, &d->digest);
	if (m->kind == MANIFEST_INDEX) {
		for (size_t i = 0; rc == 0 && i < m->n_manifests; i++)
			rc = oci_walk(st, &m->manifests[i], depth + 1, pl, e);
		manifest_free(m);
		return rc;
	}
	rc = check_blob(st, &m->config, pl, e);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = check_blob(st, &m->layers[i], pl, e);
	if (rc == 0) {
		stage_file(st, stage_blob(st, &m->config.digest)->file, &p);
		if ((rc = fs_read_file(buf_str(&p), &cfg, IMAGE_CONFIG_MAX_BYTES, e)) == 0 &&
		    (rc = image_config_parse(buf_str(&cfg), cfg.len, &ic, e)) == 0)
			rc = manifest_check_config(m, ic, e);
		image_config_free(ic);
		if (rc < 0)
			err_wrap(e, "config %s", m->config.digest.s);
	}
	manifest_free(m);
	return rc;
}

static void plan_image(struct plan *pl, const char *name, const struct digest *d, const char *mt,
		       long long size)
{
	_cleanup_buf_ struct buf norm = BUF_INIT;
	struct ref r;
	size_t i = pl->n_img++;

	pl->img = xreallocarray(pl->img, pl->n_img, sizeof(*pl->img));
	pl->mt = xreallocarray(pl->mt, pl->n_img, sizeof(*pl->mt));
	pl->size = xreallocarray(pl->size, pl->n_img, sizeof(*pl->size));
	pl->img[i].name = NULL;
	if (name && ref_parse(name, 0, &r, NULL) == 0) {
		ref_format(&r, &norm);
		pl->img[i].name = buf_steal(&norm);
	}
	pl->img[i].digest = *d;
	pl->mt[i] = xstrdup(mt);
	pl->size[i] = size;
}

/* A usable name from an index entry's annotations: containerd's full name,
 * else ref.name when it is a whole reference (not just a tag). */
static const char *entry_name(const struct descriptor *d)
{
	const char *n = d->annotations ? jsonx_str(d->annotations, "io.containerd.image.name") : NULL;

	if (n)
		return n;
	n = d->annotations ? jsonx_str(d->annotations, "org.opencontainers.image.ref.name") : NULL;
	return n && strpbrk(n, "/:@") ? n : NULL;
}

static int plan_oci(const struct stage *st, const struct staged *idx, struct plan *pl,
		    struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, data = BUF_INIT;
	struct manifest *m = NULL;
	int rc;

	stage_file(st, idx->file, &p);
	if ((rc = fs_read_file(buf_str(&p), &data, LAYOUT_JSON_MAX, e)) < 0 ||
	    (rc = manifest_parse(buf_str(&data), data.len, MT_OCI_INDEX, &m, e)) < 0)
		return err_wrap(e, "index.json");
	if (m->kind != MANIFEST_INDEX || m->n_manifests == 0 ||
	    m->n_manifests > LAYOUT_MAX_IMAGES) {
		manifest_free(m);
		return err_set(e, -EBADMSG, "index.json lists no image");
	}
	for (size_t i = 0; rc == 0 && i < m->n_manifests; i++) {
		const struct descriptor *d = &m->manifests[i];
		if ((rc = oci_walk(st, d, 0, pl, e)) < 0)
			err_wrap(e, "image %s", d->digest.s);
		else
			plan_image(pl, entry_name(d), &d->digest, d->media_type, d->size);
	}
	manifest_free(m);
	return rc;
}

/* ---- load: docker save ---- */

static const char *layer_type(const struct stage *st, const struct staged *sg)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	unsigned char magic[4] = { 0 };
	int fd;

	stage_file(st, sg->file, &p);
	if ((fd = open(buf_str(&p), O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(fd, magic, sizeof(magic)) < 0)
			magic[0] = 0;
		close(fd);
	}
	if (magic[0] == 0x1f && magic[1] == 0x8b)
		return MT_OCI_LAYER_GZIP;
	if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		return MT_OCI_LAYER_ZSTD;
	return MT_OCI_LAYER;
}

static const struct staged *docker_file(const struct stage *st, json_t *v, const char *what,
					struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	const struct staged *sg;
	const char *s = json_string_value(v);

	if (!s || clean_path(s, &p) < 0) {
		err_set(e, -EBADMSG, "manifest.json: %s is not a path inside the archive", what);
		return NULL;
	}
	if (!(sg = stage_find(st, buf_str(&p), 0)))
		err_set(e, -ENOENT, "manifest.json names %.200s (%s), which the archive lacks",
			buf_str(&p), what);
	return sg;
}

static int docker_one(const struct stage *st, json_t *ent, struct plan *pl, struct err *e)
{
	_cleanup_buf_ struct buf cfg = BUF_INIT, p = BUF_INIT, doc = BUF_INIT;
	struct image_config *ic = NULL;
	const struct staged *c, *l;
	json_t *layers, *v, *tags, *man = NULL, *lj;
	struct digest md;
	size_t i;
	int rc;

	if (!(c = docker_file(st, json_object_get(ent, "Config"), "Config", e)))
		return e ? e->code : -ENOENT;
	if (!json_is_array(layers = json_object_get(ent, "Layers")) ||
	    json_array_size(layers) > MANIFEST_MAX_LAYERS)
		return err_set(e, -EBADMSG, "manifest.json: Layers is not a list of paths");
	stage_file(st, c->file, &p);
	if ((rc = fs_read_file(buf_str(&p), &cfg, IMAGE_CONFIG_MAX_BYTES, e)) < 0 ||
	    (rc = image_config_parse(buf_str(&cfg), cfg.len, &ic, e)) < 0)
		return err_wrap(e, "config %.200s", c->path);
	if (ic->n_diff_ids != json_array_size(layers)) {
		image_config_free(ic);
		return err_set(e, -EBADMSG, "config %.200s lists %zu diff_ids for %zu layers", c->path,
			       ic->n_diff_ids, json_array_size(layers));
	}
	lj = json_array();
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", c->d.s, "size",
			(json_int_t)c->size, "layers", lj);
	dset_add(&pl->blobs, &c->d);
	json_array_foreach(layers, i, v) {
		const char *mt;
		if (!(l = docker_file(st, v, "a layer", e))) {
			rc = e ? e->code : -ENOENT;
			break;
		}
		mt = layer_type(st, l);
		/* uncompressed: the layer's digest is its diff_id */
		if (strcmp(mt, MT_OCI_LAYER) == 0 && strcmp(l->d.s, ic->diff_ids[i].s) != 0) {
			rc = err_set(e, -EBADMSG, "layer %.200s has digest %s, the config says %s",
				     l->path, l->d.s, ic->diff_ids[i].s);
			break;
		}
		json_array_append_new(lj, json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest",
						    l->d.s, "size", (json_int_t)l->size));
		dset_add(&pl->blobs, &l->d);
	}
	image_config_free(ic);
	if (rc == 0)
		rc = jsonx_dump_buf(man, JSON_COMPACT, &doc, e);
	json_decref(man);
	if (rc < 0)
		return rc;
	sha256_digest(doc.data, doc.len, &md);
	pl->gen = xreallocarray(pl->gen, pl->n_gen + 1, sizeof(*pl->gen));
	pl->gen[pl->n_gen++] = doc;
	memset(&doc, 0, sizeof(doc));
	tags = json_object_get(ent, "RepoTags");
	if (json_is_array(tags) && json_array_size(tags) > 0) {
		json_array_foreach(tags, i, v)
			if (json_is_string(v))
				plan_image(pl, json_string_value(v), &md, MT_OCI_MANIFEST,
					   (long long)pl->gen[pl->n_gen - 1].len);
	} else {
		plan_image(pl, NULL, &md, MT_OCI_MANIFEST, (long long)pl->gen[pl->n_gen - 1].len);
	}
	return 0;
}

static int plan_docker(const struct stage *st, const struct staged *mf, struct plan *pl,
		       struct err *e)
{
	_cleanup_json_ json_t *j = NULL;
	json_t *ent;
	size_t i;
	int rc;

	if ((rc = stage_json(st, mf, "manifest.json", &j, e)) < 0)
		return rc;
	if (!json_is_array(j) || json_array_size(j) == 0 || json_array_size(j) > LAYOUT_MAX_IMAGES)
		return err_set(e, -EBADMSG, "manifest.json is not a list of images");
	json_array_foreach(j, i, ent) {
		if (!json_is_object(ent))
			return err_set(e, -EBADMSG, "manifest.json: entry %zu is not an object", i);
		if ((rc = docker_one(st, ent, pl, e)) < 0)
			return rc;
	}
	return 0;
}

/* ---- load: commit ---- */

static int commit_blob(struct store *s, const struct stage *st, const struct digest *d,
		       struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	const struct staged *sg = stage_blob(st, d);
	struct store_writer *w;
	struct fd_reader fr;
	int fd, rc;

	if (!sg) { /* docker archives: find by digest */
		for (size_t i = 0; i < st->n && !sg; i++)
			if (st->v[i].file >= 0 && strcmp(st->v[i].d.s, d->s) == 0)
				sg = &st->v[i];
		if (!sg)
			return err_set(e, -ENOENT, "blob %s vanished from staging", d->s);
	}
	if ((rc = store_writer_open(s, d, sg->size, 0, &w, e)) < 0 || !w)
		return rc;
	if (store_writer_offset(w) > 0 && (rc = store_writer_reset(w, e)) < 0) {
		store_writer_close(w);
		return rc;
	}
	stage_file(st, sg->file, &p);
	if ((fd = open(buf_str(&p), O_RDONLY | O_CLOEXEC)) < 0) {
		store_writer_close(w);
		return err_sys(e, "open %s", buf_str(&p));
	}
	fd_reader_init(&fr, fd);
	rc = store_writer_copy(w, &fr.r, e);
	close(fd);
	if (rc < 0) {
		store_writer_close(w);
		return rc;
	}
	return store_writer_commit(w, e);
}

static int commit(const char *root, const struct stage *st, struct plan *pl, struct err *e)
{
	struct images *im = NULL;
	struct store *s;
	int rc;

	if ((rc = store_open(root, &s, e)) < 0)
		return rc;
	if ((rc = store_lease(s, e)) < 0) {
		store_close(s);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < pl->blobs.n; i++)
		rc = commit_blob(s, st, &pl->blobs.v[i], e);
	for (size_t i = 0; rc == 0 && i < pl->n_gen; i++)
		rc = store_put(s, pl->gen[i].data, pl->gen[i].len, NULL, NULL, e);
	if (rc == 0)
		rc = images_open(root, IMAGES_WRITE, &im, e);
	for (size_t i = 0; rc == 0 && i < pl->n_img; i++)
		if (pl->img[i].name)
			rc = images_tag(im, pl->img[i].name, pl->mt[i], &pl->img[i].digest,
					pl->size[i], 0, e);
	if (rc == 0)
		rc = images_save(im, e);
	images_close(im);
	store_unlease(s);
	store_close(s);
	return rc;
}

int layout_load(const char *root, struct reader *in, struct layout_load_result *res,
		struct err *e)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT;
	struct stage st = { 0 };
	struct plan pl = { 0 };
	const struct staged *idx, *mf;
	int rc;

	memset(res, 0, sizeof(*res));
	buf_printf(&tmp, "%s/tmp", root);
	if ((rc = fs_mkdir_p(buf_str(&tmp), 0700, e)) < 0)
		return rc;
	buf_puts(&tmp, "/load-XXXXXX");
	if (!mkdtemp(tmp.data))
		return err_sys(e, "create %s", buf_str(&tmp));
	st.dir = buf_steal(&tmp);
	if ((rc = stage_archive(&st, in, e)) < 0) {
		err_wrap(e, "load: archive");
		goto out;
	}
	idx = stage_find(&st, "index.json", 0);
	mf = stage_find(&st, "manifest.json", 0);
	if (idx)
		rc = plan_oci(&st, idx, &pl, e);
	else if (mf)
		rc = plan_docker(&st, mf, &pl, e);
	else
		rc = err_set(e, -EBADMSG, "neither index.json (OCI layout) nor manifest.json "
			     "(docker save) in the archive");
	if (rc == 0)
		rc = commit(root, &st, &pl, e);
	if (rc < 0) {
		err_wrap(e, "load");
		goto out;
	}
	res->v = pl.img;
	res->n = pl.n_img;
	res->blobs = pl.blobs.n + pl.n_gen;
	pl.img = NULL;
	pl.n_img = 0;
out:
	for (size_t i = 0; i < pl.n_img; i++)
		free(pl.img[i].name);
	free(pl.img);
	for (size_t i = 0; i < pl.n_gen; i++)
		buf_free(&pl.gen[i]);
	free(pl.gen);
	for (size_t i = 0; pl.mt && i < pl.n_img + res->n; i++)
		free(pl.mt[i]);
	free(pl.mt);
	free(pl.size);
	free(pl.blobs.v);
	stage_free(&st);
	return rc;
}

void layout_load_result_free(struct layout_load_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

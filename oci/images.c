/* The images index (see oci/images.h): load under a shared flock, modify
 * under an exclusive one, save atomically; quarantine what does not
 * parse. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/ref.h"

#define IMAGES_VERSION 1

struct images {
	char *root;
	char *path;	   /* <root>/images.json */
	char *quarantined; /* where a bad file went, or NULL */
	int lock_fd;	   /* held while IMAGES_WRITE */
	int writable;
	struct images_entry *v;
	size_t n, cap;
};

static void entry_free(struct images_entry *en)
{
	free(en->name);
	free(en->media_type);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct images_entry *)a)->name,
		      ((const struct images_entry *)b)->name);
}

static void format_time(long long t, char out[static 32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_time(const char *s, long long *out)
{
	struct tm tm;
	char z = 0;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 ||
	    z != 'Z' || s[n])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (long long)timegm(&tm);
	return 0;
}

/* Normalize a name; "name@digest" and "name:tag" keep what was given. */
static int normalize(const char *name, struct buf *out, struct err *e)
{
	struct ref r;
	int rc = ref_parse(name, 0, &r, e);

	if (rc < 0)
		return rc;
	ref_format(&r, out);
	return 0;
}

static int load_entry(const char *name, const json_t *o, struct images_entry *en, struct err *e)
{
	_cleanup_buf_ struct buf norm = BUF_INIT;
	const char *mt, *dg, *created;
	long long size;

	memset(en, 0, sizeof(*en));
	if (normalize(name, &norm, e) < 0)
		return -EINVAL;
	if (strcmp(buf_str(&norm), name) != 0)
		return err_set(e, -EINVAL, "image name \"%s\" is not in normalized form", name);
	if (jsonx_req_str(o, "mediaType", &mt, name, e) < 0 ||
	    jsonx_req_str(o, "digest", &dg, name, e) < 0 ||
	    jsonx_req_int(o, "size", &size, name, e) < 0 ||
	    jsonx_req_str(o, "created", &created, name, e) < 0)
		return -EINVAL;
	if (digest_parse(dg, &en->digest, e) < 0)
		return err_wrap(e, "%s", name);
	if (manifest_media_kind(mt) != MANIFEST_INDEX && manifest_media_kind(mt) != MANIFEST_IMAGE)
		return err_set(e, -EINVAL, "%s: not a manifest media type", name);
	if (size < 0 || size > MANIFEST_MAX_BYTES)
		return err_set(e, -EINVAL, "%s: bad size %lld", name, size);
	if (parse_time(created, &en->created) < 0)
		return err_set(e, -EINVAL, "%s: bad created time", name);
	en->name = xstrdup(name);
	en->media_type = xstrdup(mt);
	en->size = size;
	return 0;
}

static int load_doc(struct images *im, const json_t *root, struct err *e)
{
	json_t *imgs, *o;
	const char *name;

	if (!json_is_object(root))
		return err_set(e, -EINVAL, "not a JSON object");
	if (jsonx_int(root, "version", -1) != IMAGES_VERSION)
		return err_set(e, -EINVAL, "unknown version");
	if (jsonx_req_obj(root, "images", &imgs, "images index", e) < 0)
		return -EINVAL;
	json_object_foreach(imgs, name, o)
	{
		if (im->n == im->cap) {
			im->cap = im->cap ? im->cap * 2 : 16;
			im->v = xreallocarray(im->v, im->cap, sizeof(*im->v));
		}
		if (load_entry(name, o, &im->v[im->n], e) < 0)
			return -EINVAL;
		im->n++;
	}
	if (im->n)
		qsort(im->v, im->n, sizeof(*im->v), cmp_entry);
	return 0;
}

static void drop_entries(struct images *im)
{
	for (size_t i = 0; i < im->n; i++)
		entry_free(&im->v[i]);
	im->n = 0;
}

/* Rename a bad index aside; never delete it. */
static int quarantine(struct images *im, const char *why, struct err *e)
{
	_cleanup_buf_ struct buf to = BUF_INIT;

	buf_printf(&to, "%s.corrupt-%lld-%ld", im->path, (long long)time(NULL), (long)getpid());
	if (rename(im->path, buf_str(&to)) < 0)
		return err_sys(e, "quarantine %s (%s)", im->path, why);
	log_warn("images index %s is damaged (%s); moved it to %s and started an empty index",
		 im->path, why, buf_str(&to));
	im->quarantined = buf_steal(&to);
	return 0;
}

static int load(struct images *im, struct err *e)
{
	_cleanup_buf_ struct buf data = BUF_INIT;
	struct err pe = ERR_INIT;
	json_t *root;
	int rc;

	rc = fs_read_file(im->path, &data, IMAGES_FILE_MAX, e);
	if (rc == -ENOENT)
		return 0;
	if (rc == -EFBIG)
		return quarantine(im, "too large", e);
	if (rc < 0)
		return rc;
	root =
	    jsonx_parse(data.data ? data.data : "", data.len, IMAGES_FILE_MAX, "images index", &pe);
	if (root && load_doc(im, root, &pe) == 0) {
		json_decref(root);
		return 0;
	}
	json_decref(root);
	drop_entries(im);
	/* Only a writer may move the file: a reader holds a shared lock. */
	if (!im->writable)
		return err_set(e, -EBADMSG, "images index %s is damaged: %s", im->path, pe.msg);
	return quarantine(im, pe.msg, e);
}

int images_open(const char *root, int flags, struct images **out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct images *im;
	int rc;

	if ((rc = fs_mkdir_p(root, 0755, e)) < 0)
		return rc;
	im = xcalloc(1, sizeof(*im));
	im->lock_fd = -1;
	im->writable = (flags & IMAGES_WRITE) != 0;
	im->root = xstrdup(root);
	buf_printf(&b, "%s/images.json", root);
	im->path = buf_steal(&b);
	buf_printf(&b, "%s/images.lock", root);
	rc = fs_lock(buf_str(&b), im->writable ? LOCK_EX : LOCK_SH, &im->lock_fd, e);
	if (rc == 0)
		rc = load(im, e);
	if (rc == -EBADMSG && !im->writable) {
		/* Upgrade: come back as a writer to quarantine it. */
		images_close(im);
		rc = images_open(root, IMAGES_WRITE, &im, e);
		if (rc < 0)
			return rc;
		close(im->lock_fd);
		im->lock_fd = -1;
		im->writable = 0;
		*out = im;
		return 0;
	}
	if (rc < 0) {
		images_close(im);
		return rc;
	}
	if (!im->writable) {
		close(im->lock_fd);
		im->lock_fd = -1;
	}
	*out = im;
	return 0;
}

void images_close(struct images *im)
{
	if (!im)
		return;
	if (im->lock_fd >= 0)
		close(im->lock_fd);
	drop_entries(im);
	free(im->v);
	free(im->root);
	free(im->path);
	free(im->quarantined);
	free(im);
}

const char *images_quarantined(const struct images *im)
{
	return im->quarantined;
}

int images_save(struct images *im, struct err *e)
{
	json_t *root, *imgs;
	int rc;

	if (!im->writable)
		return err_set(e, -EPERM, "images index opened read-only");
	imgs = json_object();
	for (size_t i = 0; i < im->n; i++) {
		const struct images_entry *en = &im->v[i];
		char t[32];
		format_time(en->created, t);
		json_object_set_new(imgs, en->name,
				    json_pack("{s:s, s:s, s:I, s:s}", "mediaType", en->media_type,
					      "digest", en->digest.s, "size", (json_int_t)en->size,
					      "created", t));
	}
	root = json_pack("{s:i, s:o}", "version", IMAGES_VERSION, "images", imgs);
	rc = jsonx_write_file(im->path, root, 0644, e);
	json_decref(root);
	return rc;
}

size_t images_count(const struct images *im)
{
	return im->n;
}

const struct images_entry *images_at(const struct images *im, size_t i)
{
	return i < im->n ? &im->v[i] : NULL;
}

static struct images_entry *find_name(const struct images *im, const char *name)
{
	struct images_entry key = {(char *)name, NULL, {{0}}, 0, 0};

	if (!im->n)
		return NULL;
	return bsearch(&key, im->v, im->n, sizeof(*im->v), cmp_entry);
}

int images_tag(struct images *im, const char *name, const char *media_type, const struct digest *d,
	       long long size, long long created, struct err *e)
{
	_cleanup_buf_ struct buf norm = BUF_INIT;
	struct images_entry *en;

	if (!im->writable)
		return err_set(e, -EPERM, "images index opened read-only");
	if (normalize(name, &norm, e) < 0)
		return -EINVAL;
	if (manifest_media_kind(media_type) != MANIFEST_INDEX &&
	    manifest_media_kind(media_type) != MANIFEST_IMAGE)
		return err_set(e, -EINVAL, "tag %s: \"%s\" is not a manifest media type",
			       buf_str(&norm), media_type);
	if (size < 0 || size > MANIFEST_MAX_BYTES)
		return err_set(e, -EINVAL, "tag %s: bad size %lld", buf_str(&norm), size);
	en = find_name(im, buf_str(&norm));
	if (!en) {
		if (im->n == im->cap) {
			im->cap = im->cap ? im->cap * 2 : 16;
			im->v = xreallocarray(im->v, im->cap, sizeof(*im->v));
		}
		en = &im->v[im->n++];
		en->name = buf_steal(&norm);
		en->media_type = NULL;
	}
	free(en->media_type);
	en->media_type = xstrdup(media_type);
	en->digest = *d;
	en->size = size;
	en->created = created ? created : (long long)time(NULL);
	qsort(im->v, im->n, sizeof(*im->v), cmp_entry);
	return 0;
}

static void remove_at(struct images *im, size_t i)
{
	entry_free(&im->v[i]);
	memmove(&im->v[i], &im->v[i + 1], (im->n - i - 1) * sizeof(*im->v));
	im->n--;
}

int images_untag(struct images *im, const char *name, struct err *e)
{
	_cleanup_buf_ struct buf norm = BUF_INIT;
	struct images_entry *en;

	if (!im->writable)
		return err_set(e, -EPERM, "images index opened read-only");
	if (normalize(name, &norm, e) < 0)
		return -EINVAL;
	en = find_name(im, buf_str(&norm));
	if (!en)
		return err_set(e, -ENOENT, "no such image: %s", buf_str(&norm));
	remove_at(im, (size_t)(en - im->v));
	return 0;
}

int images_untag_digest(struct images *im, const struct digest *d, struct err *e)
{
	int removed = 0;

	if (!im->writable)
		return err_set(e, -EPERM, "images index opened read-only");
	for (size_t i = im->n; i-- > 0;) {
		if (strcmp(im->v[i].digest.s, d->s) == 0) {
			remove_at(im, i);
			removed++;
		}
	}
	return removed;
}

static int is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return n > 0;
}

/* name@digest: any tag of the same repository pointing at the digest. */
static const struct images_entry *find_repo_digest(const struct images *im, const struct ref *r)
{
	_cleanup_buf_ struct buf repo = BUF_INIT;

	ref_format_repo(r, &repo);
	for (size_t i = 0; i < im->n; i++) {
		const char *n = im->v[i].name;
		if (strcmp(im->v[i].digest.s, r->digest.s) == 0 &&
		    strncmp(n, buf_str(&repo), repo.len) == 0 &&
		    (n[repo.len] == ':' || n[repo.len] == '@'))
			return &im->v[i];
	}
	return NULL;
}

int images_resolve(const struct images *im, const char *query, const struct images_entry **out,
		   struct err *e)
{
	const struct images_entry *found = NULL;
	const char *hex = query;
	struct ref r;
	size_t n;

	if (ref_parse(query, 0, &r, NULL) == 0) {
		_cleanup_buf_ struct buf norm = BUF_INIT;
		ref_format(&r, &norm);
		found = find_name(im, buf_str(&norm));
		if (!found && r.has_digest && !r.tag[0])
			found = find_repo_digest(im, &r);
		if (found) {
			*out = found;
			return 0;
		}
	}
	if (strncmp(hex, "sha256:", 7) == 0)
		hex += 7;
	n = strnlen(hex, DIGEST_HEX_LEN + 1);
	if (n <= DIGEST_HEX_LEN && is_lower_hex(hex, n)) {
		for (size_t i = 0; i < im->n; i++) {
			if (strncmp(digest_hex(&im->v[i].digest), hex, n) != 0)
				continue;
			if (found && strcmp(found->digest.s, im->v[i].digest.s) != 0)
				return err_set(
				    e, -EINVAL,
				    "short id %.64s is ambiguous: it names several images", hex);
			if (!found)
				found = &im->v[i];
		}
		if (found) {
			*out = found;
			return 0;
		}
	}
	char q[80];
	size_t i;
	for (i = 0; query[i] && i < sizeof(q) - 1; i++)
		q[i] = (query[i] >= 0x20 && query[i] < 0x7f) ? query[i] : '?';
	q[i] = '\0';
	return err_set(e, -ENOENT, "no such image: %s", q);
}

int images_roots(const struct images *im, struct digest **out, size_t *n, struct err *e)
{
	struct digest *v;
	size_t k = 0;

	_cleanup_buf_ struct buf q = BUF_INIT;
	DIR *dir;
	struct dirent *de;

	/* While a quarantined index is around, the current one may be
	 * missing images: collecting garbage could delete their blobs. */
	dir = opendir(im->root);
	if (!dir)
		return err_sys(e, "open %s", im->root);
	while ((de = readdir(dir)))
		if (strncmp(de->d_name, "images.json.corrupt-", 20) == 0 && !q.len)
			buf_printf(&q, "%s/%s", im->root, de->d_name);
	closedir(dir);
	if (q.len)
		return err_set(
		    e, -EIO,
		    "a damaged images index was set aside as %s; restore the images from it "
		    "or delete it before removing unused content",
		    buf_str(&q));
	v = xcalloc(im->n ? im->n : 1, sizeof(*v));
	for (size_t i = 0; i < im->n; i++) {
		size_t j;
		for (j = 0; j < k; j++)
			if (strcmp(v[j].s, im->v[i].digest.s) == 0)
				break;
		if (j == k)
			v[k++] = im->v[i].digest;
	}
	*out = v;
	*n = k;
	return 0;
}

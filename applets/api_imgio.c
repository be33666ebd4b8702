/* Image endpoints that move archives or reclaim space (issue #6), listed in
 * applets/api_router.c's table beside applets/api_images.c's:
 *
 *   GET  /images/{name}/get, GET /images/get?names=a&names=b
 *        `docker save`: oci/layout.h's archive (an OCI layout that docker
 *        load reads too: it has manifest.json) streamed as a chunked body.
 *        layout_save runs on libuv's thread pool writing into a pipe; the
 *        loop reads the pipe into the connection and stops reading while
 *        the client lags (API_CONN_QUEUE_MAX), so the thread blocks on the
 *        pipe and nothing is buffered whole.  Unknown names: 404 before
 *        any byte; a failure later ends the connection without the last
 *        chunk, so the client cannot take a cut archive for a whole one.
 *   POST /images/load[?quiet=1]
 *        `docker load`: the request body (the router hands it raw,
 *        api_streams_body) is decoded here (Content-Length or chunked) and
 *        written to a pipe whose other end layout_load reads on the thread
 *        pool; past API_CONN_QUEUE_MAX bytes in flight the client is not
 *        read.  layout_load stages and verifies everything before the
 *        store changes.  Answer: Docker's JSON stream ({"stream":"Loaded
 *        image: NAME\n"}), or 400 for an archive refused.  The connection
 *        ends after the answer.
 *   POST /images/prune?filters=...
 *        Docker's shape ({"ImagesDeleted": [...], "SpaceReclaimed": N}).
 *        Filters: dangling (default true: images without a name, which our
 *        store does not keep, so only unreferenced blobs and root file
 *        systems go; false: every image no container uses), until
 *        (timestamp or Go duration in s/m/h: images tagged before),
 *        label / label! (image config labels).
 *
 * Blobs and root file systems go by api_image_gc, also called by DELETE
 * /images/{name}: everything no name and no container reaches. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <strings.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/bundle.h"
#include "applets/image.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/images.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/ref.h"
#include "oci/snapshot.h"
#include "oci/store.h"

#define SAVE_NAMES_MAX 256
/* saves and loads at once: each holds a thread of libuv's pool while its
 * client takes its time (apiserver.c makes the pool 16) */
#define API_IMAGE_XFER_MAX 8
#define LOAD_RAW_MAX ((size_t)1 << 20)
#define LOAD_TAIL_MAX ((size_t)1 << 20)   /* read past the archive's end */
#define FILTERS_MAX (64u << 10)
#define CTRS_MAX 100000

/* docker.io/library/alpine:latest -> alpine:latest */
static void familiar(const char *name, struct buf *out)
{
	struct ref r;

	if (ref_parse(name, 0, &r, NULL) < 0)
		buf_puts(out, name);
	else
		ref_format_familiar(&r, out);
}

/* ---- garbage collection ---- */

/* The manifests containers use (their config.json's image.manifest):
 * extra GC roots, so that what a container needs stays. */
static void ctr_roots(struct digest **v, size_t *n)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct dirent *d;
	size_t cap = *n;
	DIR *dir;

	if (bundle_root(&root, NULL) < 0 || !(dir = opendir(buf_str(&root))))
		return;
	while ((d = readdir(dir)) && *n < CTRS_MAX) {
		struct bundle_config bc;
		struct digest dg;
		if (strlen(d->d_name) != BUNDLE_ID_LEN ||
		    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN ||
		    bundle_config_load(d->d_name, &bc, NULL) < 0)
			continue;
		if (bc.image_manifest && digest_parse(bc.image_manifest, &dg, NULL) == 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*v = xreallocarray(*v, cap, sizeof(**v));
			}
			(*v)[(*n)++] = dg;
		}
		bundle_config_free(&bc);
	}
	closedir(dir);
}

int api_image_gc(const char *root, const struct images *im, struct api_gc_result *out,
		 struct err *e)
{
	struct store_gc_result res = { 0 };
	struct snapshot_gc_result sres = { 0 };
	struct digest *roots = NULL;
	struct store *s = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	/* snapshots first: finding an index's child manifests needs the blobs
	 * store_gc may then delete */
	if ((rc = images_roots(im, &roots, &n, e)) == 0) {
		ctr_roots(&roots, &n);
		if ((rc = store_open(root, &s, e)) == 0 &&
		    (rc = snapshot_gc(s, root, roots, n, &sres, e)) == 0)
			rc = store_gc(s, roots, n, 24 * 3600, &res, e);
	}
	free(roots);
	store_close(s);
	out->freed = res.bytes_freed + sres.bytes_freed;
	out->blobs = res.removed;
	out->snapshots = sres.removed;
	return rc;
}

/* ---- prune ---- */

int api_image_filters(struct api_call *c, const char *const *keys, json_t **out)
{
	_cleanup_buf_ struct buf fq = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *f = NULL, *vals, *x;
	const char *k, *k2;
	size_t i;

	*out = NULL;
	if (api_query_get(c->query, c->query_len, "filters", &fq) < 0 ||
	    (fq.len && !(f = jsonx_parse(fq.data, fq.len, FILTERS_MAX, "filters", &e)))) {
		api_reply_error(c, 400, "invalid filters%s%s", e.msg[0] ? ": " : "", e.msg);
		return -1;
	}
	if (!f)
		return 0;
	if (!json_is_object(f))
		goto bad;
	*out = json_object();
	json_object_foreach(f, k, vals) {
		json_t *l = json_array();
		size_t ki;
		for (ki = 0; keys[ki] && strcmp(keys[ki], k); ki++)
			;
		if (!keys[ki]) {
			json_decref(f);
			json_decref(*out);
			*out = NULL;
			api_reply_error(c, 400, "invalid filter '%.64s'", k);
			return -1;
		}
		json_object_set_new(*out, k, l);
		if (json_is_object(vals)) {
			json_object_foreach(vals, k2, x)
				json_array_append_new(l, json_string(k2));
		} else if (json_is_array(vals)) {
			json_array_foreach(vals, i, x) {
				if (!json_is_string(x))
					goto bad;
				json_array_append(l, x);
			}
		} else {
			goto bad;
		}
	}
	json_decref(f);
	return 0;
bad:
	json_decref(f);
	json_decref(*out);
	*out = NULL;
	api_reply_error(c, 400, "filters must be an object of string lists");
	return -1;
}

/* "2024-01-02T03:04:05Z", unix seconds, or a duration before now
 * ("10m", "1h30m", "90s"); -1 when none of those. */
static long long until_time(const char *s)
{
	struct tm tm = { 0 };
	char *end;
	long long v, total = 0;

	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return (long long)timegm(&tm);
	v = strtoll(s, &end, 10);
	if (*s && !*end)
		return v;
	for (const char *p = s; *p;) {
		v = strtoll(p, &end, 10);
		if (end == p || v < 0)
			return -1;
		switch (*end) {
		case 'h': total += v * 3600; break;
		case 'm': total += v * 60; break;
		case 's': total += v; break;
		default: return -1;
		}
		p = end + 1;
	}
	return *s ? (long long)time(NULL) - total : -1;
}

static bool truthy(const char *v)
{
	return !strcmp(v, "1") || !strcasecmp(v, "true");
}

/* docker images REF: the familiar name, or its repository, matches the
 * pattern (shell wildcards, as Docker's reference filter). */
static bool ref_match(const char *name, const char *pat)
{
	_cleanup_buf_ struct buf fam = BUF_INIT, norm = BUF_INIT;
	char *colon;
	struct ref r;

	familiar(name, &fam);
	if (!fnmatch(pat, buf_str(&fam), 0) || !strcmp(pat, name))
		return true;
	if (ref_parse(pat, REF_NO_DEFAULT_TAG, &r, NULL) == 0) {
		ref_format(&r, &norm);
		if (!strcmp(buf_str(&norm), name))
			return true;
	}
	colon = strrchr(fam.data, ':');
	if (colon && !strchr(colon, '/'))
		*colon = '\0';
	return !fnmatch(pat, buf_str(&fam), 0);
}

static bool labels_match(const json_t *labels, const char *want)
{
	_cleanup_buf_ struct buf k = BUF_INIT;
	const char *eq = strchr(want, '='), *have;

	buf_append(&k, want, eq ? (size_t)(eq - want) : strlen(want));
	have = jsonx_str(labels, buf_str(&k));
	return have && (!eq || !strcmp(have, eq + 1));
}

/* The image config's labels of an entry (a new reference, or NULL). */
static json_t *entry_labels(struct store *s, const struct images_entry *en)
{
	_cleanup_buf_ struct buf cfg = BUF_INIT;
	struct manifest *m = NULL;
	struct digest md;
	json_t *doc, *l = NULL;

	if (pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, NULL) == 0 &&
	    store_read_blob(s, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, NULL) == 0 &&
	    (doc = jsonx_parse(cfg.data, cfg.len, IMAGE_CONFIG_MAX_BYTES, "config", NULL))) {
		l = json_object_get(json_object_get(doc, "config"), "Labels");
		l = json_is_object(l) ? json_incref(l) : NULL;
		json_decref(doc);
	}
	manifest_free(m);
	return l;
}

int api_image_match(const json_t *f, struct store *s, const struct images_entry *en,
		    bool *hit, struct err *e)
{
	json_t *vals, *x, *labels = NULL;
	const char *key;
	size_t i;

	*hit = true;
	json_object_foreach((json_t *)f, key, vals) {
		json_array_foreach(vals, i, x) {
			const char *v = json_string_value(x);
			if (!strcmp(key, "dangling")) {
				*hit &= !truthy(v);   /* every image here has a name */
			} else if (!strcmp(key, "reference")) {
				*hit &= ref_match(en->name, v);
			} else if (!strcmp(key, "until")) {
				long long t = until_time(v);
				if (t < 0) {
					json_decref(labels);
					return err_set(e, -EINVAL, "invalid until '%.64s'", v);
				}
				*hit &= en->created < t;
			} else if (!strcmp(key, "label") || !strcmp(key, "label!")) {
				if (!labels)
					labels = entry_labels(s, en);
				*hit &= labels_match(labels, v) == !strcmp(key, "label");
			} else {
				json_decref(labels);
				return err_set(e, -EINVAL, "invalid filter '%.64s'", key);
			}
		}
	}
	json_decref(labels);
	return 0;
}

static bool used_by_container(const struct digest *d, const struct digest *used, size_t n,
			      struct store *s, const struct images_entry *en)
{
	struct manifest *m = NULL;
	struct digest md;
	bool hit = false;

	for (size_t i = 0; i < n && !hit; i++)
		hit = strcmp(used[i].s, d->s) == 0;
	if (!hit && pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, NULL) == 0)
		for (size_t i = 0; i < n && !hit; i++)
			hit = strcmp(used[i].s, md.s) == 0;
	manifest_free(m);
	return hit;
}

void api_image_prune_h(struct api_call *c)
{
	struct images *im = NULL;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct digest *used = NULL;
	size_t nused = 0;
	json_t *f, *deleted = json_array(), *dv;
	struct api_gc_result g = { 0 };
	bool all = false;
	int rc = 0;

	static const char *const keys[] = { "dangling", "until", "label", "label!", NULL };

	if (api_image_filters(c, keys, &f) < 0) {
		json_decref(deleted);
		return;
	}
	dv = json_object_get(f, "dangling");
	if (json_array_size(dv) == 1) {
		const char *v = json_string_value(json_array_get(dv, 0));
		all = !strcmp(v, "0") || !strcasecmp(v, "false");
	}
	if (images_open(c->ctx->data_dir, IMAGES_WRITE, &im, &e) < 0 ||
	    store_open(c->ctx->data_dir, &s, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		goto out;
	}
	ctr_roots(&used, &nused);
	for (size_t i = 0; all && rc == 0 && i < images_count(im);) {
		const struct images_entry *en = images_at(im, i);
		struct digest d = en->digest;
		_cleanup_buf_ struct buf fam = BUF_INIT;
		bool hit = true;
		json_t *rest = json_deep_copy(f);
		if (rest)
			json_object_del(rest, "dangling");
		rc = rest ? api_image_match(rest, s, en, &hit, &e) : 0;
		json_decref(rest);
		if (rc < 0)
			break;
		if (!hit || used_by_container(&d, used, nused, s, en)) {
			i++;
			continue;
		}
		/* every name of that digest goes, and the digest with them */
		for (size_t j = 0; j < images_count(im); j++)
			if (!strcmp(images_at(im, j)->digest.s, d.s)) {
				buf_reset(&fam);
				familiar(images_at(im, j)->name, &fam);
				json_array_append_new(deleted, json_pack("{s:s}", "Untagged",
									 buf_str(&fam)));
			}
		json_array_append_new(deleted, json_pack("{s:s}", "Deleted", d.s));
		images_untag_digest(im, &d, NULL);
	}
	if (rc < 0) {
		api_reply_error(c, 400, "%s", e.msg);
		goto out;
	}
	store_close(s);
	s = NULL;
	if ((rc = images_save(im, &e)) < 0 ||
	    ((rc = api_image_gc(c->ctx->data_dir, im, &g, &e)) < 0 && rc != -EBUSY)) {
		api_reply_error(c, 500, "%s", e.msg);
		goto out;
	}
	/* BlobsDeleted, RootfsDeleted, Busy: ours, for `container image prune` */
	api_reply_json(c, 200, json_pack("{s:O, s:I, s:I, s:I, s:s*}", "ImagesDeleted", deleted,
					 "SpaceReclaimed", (json_int_t)g.freed, "BlobsDeleted",
					 (json_int_t)g.blobs, "RootfsDeleted",
					 (json_int_t)g.snapshots, "Busy", rc == -EBUSY ? e.msg : NULL));
out:
	free(used);
	json_decref(f);
	json_decref(deleted);
	store_close(s);
	images_close(im);
}

/* ---- save ---- */

struct save_job {
	uv_work_t w;
	struct api_ctx *ctx;
	uv_pipe_t rp;            /* read end of the archive */
	int wfd;
	char **refs;
	size_t n;
	char *platform;
	const char *data_dir;
	struct err e;
	int rc;
	struct api_conn *k;
	int keepalive;
	bool work_done, eof, closing, pipe_done;
	char rbuf[64 << 10];
};

static void save_free(struct save_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->refs[i]);
	free(j->refs);
	free(j->platform);
	free(j);
}

static void save_pipe_closed(uv_handle_t *h)
{
	struct save_job *j = h->data;

	j->pipe_done = true;
	if (j->work_done)
		save_free(j);
}

static void save_close_pipe(struct save_job *j)
{
	if (!j->closing) {
		j->closing = true;
		uv_close((uv_handle_t *)&j->rp, save_pipe_closed);
	}
}

/* The archive and the thread are both over. */
static void save_finish(struct save_job *j)
{
	if (!j->k)
		return;
	if (j->rc == 0)
		api_conn_end_chunked(j->k, j->keepalive);
	else
		api_conn_done(j->k, 0);   /* no last chunk: the archive is cut */
	j->k = NULL;
}

static void save_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct save_job *j = h->data;

	(void)hint;
	*b = uv_buf_init(j->rbuf, sizeof(j->rbuf));
}

static void save_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct save_job *j = st->data;
	_cleanup_buf_ struct buf chunk = BUF_INIT;

	if (n < 0) {
		j->eof = true;
		save_close_pipe(j);
		if (j->work_done)
			save_finish(j);
		return;
	}
	if (n == 0 || !j->k)
		return;
	api_write_chunk(&chunk, b->base, (size_t)n);
	api_conn_write(j->k, chunk.data, chunk.len);
	if (api_conn_queued(j->k) > API_CONN_QUEUE_MAX)
		uv_read_stop(st);   /* the thread blocks on the full pipe */
}

static void save_drain(void *ud)
{
	struct save_job *j = ud;

	if (!j->closing)
		uv_read_start((uv_stream_t *)&j->rp, save_alloc, save_read);
}

static void save_gone(void *ud)
{
	struct save_job *j = ud;

	j->k = NULL;
	save_close_pipe(j);   /* the writer gets EPIPE and stops */
}

static const struct api_stream_ops save_ops = { .drain = save_drain, .closed = save_gone };

static void save_work(uv_work_t *w)
{
	struct save_job *j = w->data;
	struct platform plat;
	int given;

	j->rc = image_cli_platform(j->platform, NULL, NULL, &plat, &given, &j->e);
	if (j->rc == 0)
		j->rc = layout_save(j->data_dir, (const char *const *)j->refs, j->n,
				    given ? &plat : NULL, j->wfd, &j->e);
	close(j->wfd);   /* the loop sees the end */
}

static void save_done(uv_work_t *w, int status)
{
	struct save_job *j = w->data;

	if (status < 0 && j->rc == 0)
		j->rc = status;
	j->ctx->image_xfers--;
	j->work_done = true;
	if (j->eof || j->closing)
		save_finish(j);
	if (j->pipe_done)
		save_free(j);
}

/* The names asked for: path parameter 0, or every ?names= of /images/get. */
static int save_names(struct api_call *c, struct save_job *j)
{
	const char *q = c->query, *end = c->query + c->query_len;

	j->refs = xcalloc(SAVE_NAMES_MAX, sizeof(*j->refs));
	if (c->nparams) {
		struct buf b = BUF_INIT;
		api_param_str(c, 0, &b);
		j->refs[j->n++] = buf_steal(&b);
		return 0;
	}
	/* api_query_get finds the first; walk the query for the others */
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		size_t len = amp ? (size_t)(amp - q) : (size_t)(end - q);
		_cleanup_buf_ struct buf v = BUF_INIT;
		if (len > 6 && !memcmp(q, "names=", 6)) {
			if (j->n == SAVE_NAMES_MAX || api_query_get(q, len, "names", &v) <= 0 || !v.len) {
				api_reply_error(c, 400, "bad names (at most %d)", SAVE_NAMES_MAX);
				return -1;
			}
			j->refs[j->n++] = buf_steal(&v);
		}
		q += len + (amp ? 1 : 0);
	}
	if (!j->n) {
		api_reply_error(c, 400, "names is required");
		return -1;
	}
	return 0;
}

void api_image_get_h(struct api_call *c)
{
	_cleanup_buf_ struct buf plat = BUF_INIT;
	struct save_job *j = xcalloc(1, sizeof(*j));
	uv_loop_t *loop = api_sup_loop(c->ctx->sup);
	struct images *im = NULL;
	struct err e = ERR_INIT;
	int fds[2], rc;

	j->e = (struct err)ERR_INIT;
	j->ctx = c->ctx;
	if (c->ctx->image_xfers >= API_IMAGE_XFER_MAX) {
		api_reply_error(c, 503, "too many image saves and loads at once (%d): try again",
				API_IMAGE_XFER_MAX);
		save_free(j);
		return;
	}
	if (save_names(c, j) < 0 ||
	    api_query_get(c->query, c->query_len, "platform", &plat) < 0) {
		if (!c->out->len)
			api_reply_error(c, 400, "malformed query");
		save_free(j);
		return;
	}
	if (images_open(c->ctx->data_dir, 0, &im, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		save_free(j);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		const struct images_entry *en;
		if (images_resolve(im, j->refs[i], &en, &e) < 0) {
			if (e.code == -ENOENT)
				api_reply_error(c, 404, "No such image: %.256s", j->refs[i]);
			else
				api_reply_error(c, 400, "%s", e.msg);
			images_close(im);
			save_free(j);
			return;
		}
	}
	images_close(im);
	if (plat.len)
		j->platform = buf_steal(&plat);
	if (pipe(fds) < 0) {
		api_reply_error(c, 500, "pipe: %s", strerror(errno));
		save_free(j);
		return;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	j->data_dir = c->ctx->data_dir;
	j->keepalive = c->keepalive;
	j->wfd = fds[1];
	j->w.data = j;
	uv_pipe_init(loop, &j->rp, 0);
	j->rp.data = j;
	if ((rc = uv_pipe_open(&j->rp, fds[0])) < 0 ||
	    (rc = uv_read_start((uv_stream_t *)&j->rp, save_alloc, save_read)) < 0) {
		close(fds[1]);
		j->work_done = true;
		save_close_pipe(j);
		api_reply_error(c, 500, "archive pipe: %s", uv_strerror(rc));
		return;
	}
	api_write_head(c->out, 200, "application/x-tar", NULL, -1, c->keepalive);
	j->k = api_call_take(c, &save_ops, j, 0);
	c->ctx->image_xfers++;
	if ((rc = uv_queue_work(loop, &j->w, save_work, save_done)) < 0) {
		close(fds[1]);
		j->rc = rc;
		save_done(&j->w, 0);
	}
}

/* ---- load ---- */

struct load_job {
	uv_work_t w;
	struct api_ctx *ctx;
	uv_pipe_t wp;            /* write end: the body goes in */
	int rfd;
	const char *data_dir;
	struct layout_load_result res;
	struct err e;
	int rc;
	struct api_conn *k;
	bool quiet, chunked, body_done, work_done, closing, pipe_done;
	unsigned long long left;  /* Content-Length still to come */
	size_t pending;           /* bytes written and not yet taken by the pipe */
	struct buf raw;
	struct api_chunked ch;
};

struct load_write {
	uv_write_t w;
	struct load_job *j;
	size_t n;
	char data[];
};

static void load_free(struct load_job *j)
{
	layout_load_result_free(&j->res);
	buf_free(&j->raw);
	free(j);
}

static void load_maybe_free(struct load_job *j)
{
	if (j->work_done && j->pipe_done && !j->k)
		load_free(j);
}

static void load_pipe_closed(uv_handle_t *h)
{
	struct load_job *j = h->data;

	j->pipe_done = true;
	load_maybe_free(j);
}

static void load_close_pipe(struct load_job *j)
{
	if (!j->closing) {
		j->closing = true;
		uv_close((uv_handle_t *)&j->wp, load_pipe_closed);
	}
}

static void load_written(uv_write_t *w, int status)
{
	struct load_write *lw = (struct load_write *)w;
	struct load_job *j = lw->j;

	(void)status;   /* EPIPE: the loader stopped early; its answer says why */
	j->pending -= lw->n;
	free(lw);
	if (j->body_done && !j->pending)
		load_close_pipe(j);   /* the loader reads the end */
	else if (j->k && !j->body_done && j->pending < API_CONN_QUEUE_MAX / 2)
		api_conn_read(j->k, 1);
}

static void to_loader(struct load_job *j, const char *p, size_t n, bool eof)
{
	if (n && !j->closing) {
		struct load_write *lw = xmalloc(sizeof(*lw) + n);
		uv_buf_t b;
		lw->j = j;
		lw->n = n;
		memcpy(lw->data, p, n);
		b = uv_buf_init(lw->data, (unsigned)n);
		if (uv_write(&lw->w, (uv_stream_t *)&j->wp, &b, 1, load_written) < 0)
			free(lw);
		else
			j->pending += n;
	}
	if (eof) {
		j->body_done = true;
		if (!j->pending)
			load_close_pipe(j);
	}
	if (j->k && !j->body_done && j->pending > API_CONN_QUEUE_MAX)
		api_conn_read(j->k, 0);
}

static void load_reply(struct load_job *j)
{
	_cleanup_buf_ struct buf b = BUF_INIT, body = BUF_INIT, line = BUF_INIT;

	if (!j->k)
		return;
	if (j->rc < 0) {
		int st = j->rc == -EBADMSG || j->rc == -EPROTO || j->rc == -EINVAL ||
				 j->rc == -EFBIG || j->rc == -E2BIG ? 400 : 500;
		api_write_error(&b, st, j->e.msg, 0, 0);
	} else {
		for (size_t i = 0; i < j->res.n; i++) {
			json_t *m;
			buf_reset(&line);
			if (j->res.v[i].name) {
				buf_puts(&line, "Loaded image: ");
				familiar(j->res.v[i].name, &line);
			} else {
				buf_printf(&line, "Loaded image ID: %s", j->res.v[i].digest.s);
			}
			buf_putc(&line, '\n');
			m = json_pack("{s:s}", "stream", buf_str(&line));
			jsonx_dump_buf(m, JSON_COMPACT, &body, NULL);
			buf_putc(&body, '\n');
			json_decref(m);
		}
		api_write_body(&b, 200, "application/json", NULL, body.data, body.len, 0, 0);
	}
	api_conn_write(j->k, b.data, b.len);
	api_conn_done(j->k, 0);
	j->k = NULL;
}

static void load_data(void *ud, const char *p, size_t n)
{
	struct load_job *j = ud;
	struct err e = ERR_INIT;
	int rc;

	if (j->body_done)
		return;   /* past the body: dropped, the answer ends the connection */
	if (!j->chunked) {
		size_t take = n < j->left ? n : (size_t)j->left;
		j->left -= take;
		to_loader(j, p, take, j->left == 0);
		return;
	}
	if (buf_append(&j->raw, p, n) < 0 ||
	    (rc = api_chunked_step(&j->ch, j->raw.data, j->raw.len, LOAD_RAW_MAX, &e)) < 0) {
		to_loader(j, NULL, 0, true);   /* the loader sees a cut archive */
		return;
	}
	to_loader(j, j->raw.data, j->ch.out, rc == 1);
	buf_consume(&j->raw, j->ch.raw);
	j->ch.raw = j->ch.out = 0;
}

static void load_eof(void *ud)
{
	struct load_job *j = ud;

	if (!j->body_done)
		to_loader(j, NULL, 0, true);   /* short body: the loader says so */
}

static void load_gone(void *ud)
{
	struct load_job *j = ud;

	j->k = NULL;
	j->body_done = true;
	load_close_pipe(j);
	load_maybe_free(j);
}

static void load_drain(void *ud)
{
	(void)ud;
}

static const struct api_stream_ops load_ops = {
	.data = load_data, .eof = load_eof, .drain = load_drain, .closed = load_gone,
};

static void load_work(uv_work_t *w)
{
	struct load_job *j = w->data;
	struct fd_reader fr;

	fd_reader_init(&fr, j->rfd);
	j->rc = layout_load(j->data_dir, &fr.r, &j->res, &j->e);
	/* a tar's end blocks may stop the reader before the body's end: take
	 * the rest (bounded), so the client is not cut while it still sends */
	if (j->rc == 0) {
		char sink[16384];
		ssize_t n;
		size_t left = LOAD_TAIL_MAX;
		while (left && (n = read(j->rfd, sink, sizeof(sink))) > 0)
			left -= (size_t)n < left ? (size_t)n : left;
	}
	close(j->rfd);   /* writes still on their way get EPIPE */
}

static void load_done(uv_work_t *w, int status)
{
	struct load_job *j = w->data;

	if (status < 0 && j->rc == 0)
		j->rc = err_set(&j->e, status, "cancelled");
	j->ctx->image_xfers--;
	j->work_done = true;
	j->body_done = true;
	load_reply(j);
	if (!j->pending)
		load_close_pipe(j);
	load_maybe_free(j);
}

void api_image_load_h(struct api_call *c)
{
	struct load_job *j = xcalloc(1, sizeof(*j));
	uv_loop_t *loop = api_sup_loop(c->ctx->sup);
	int fds[2], rc;

	j->e = (struct err)ERR_INIT;
	j->ctx = c->ctx;
	if (c->ctx->image_xfers >= API_IMAGE_XFER_MAX) {
		c->keepalive = 0;   /* the body is not read */
		api_reply_error(c, 503, "too many image saves and loads at once (%d): try again",
				API_IMAGE_XFER_MAX);
		free(j);
		return;
	}
	j->quiet = api_query_bool(c, "quiet", 0);
	j->data_dir = c->ctx->data_dir;
	buf_init(&j->raw, LOAD_RAW_MAX);
	if (pipe(fds) < 0) {
		api_reply_error(c, 500, "pipe: %s", strerror(errno));
		c->keepalive = 0;
		load_free(j);
		return;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	j->rfd = fds[0];
	j->w.data = j;
	uv_pipe_init(loop, &j->wp, 0);
	j->wp.data = j;
	j->k = api_call_take(c, &load_ops, j, 1);
	c->ctx->image_xfers++;
	if ((rc = uv_pipe_open(&j->wp, fds[1])) < 0)
		close(fds[1]);
	if (rc < 0 || (rc = uv_queue_work(loop, &j->w, load_work, load_done)) < 0) {
		close(fds[0]);
		j->rc = err_set(&j->e, rc, "load: %s", uv_strerror(rc));
		c->ctx->image_xfers--;
		j->work_done = true;
		load_reply(j);
		load_close_pipe(j);
		return;
	}
	j->chunked = c->req->body == API_BODY_CHUNKED;
	j->left = c->req->body == API_BODY_LENGTH ? c->req->content_length : 0;
	if (!j->chunked && !j->left)
		to_loader(j, NULL, 0, true);   /* no body: the loader says so */
}

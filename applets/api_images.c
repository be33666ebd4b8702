/* Image endpoints of the Docker Engine API (issue #6), listed in
 * applets/api_router.c's table: GET /images/json, GET /images/{name}/json,
 * POST /images/create (pull), POST /images/{name}/tag, DELETE
 * /images/{name}, POST /images/{name}/push.  Names may contain slashes
 * ({name*} routes).  Save, load and prune: applets/api_imgio.c.
 *
 * A pull or a push runs on libuv's thread pool (oci/pull.h, oci/push.h);
 * its plain progress lines come back through a pipe read by the loop and
 * go to the client as Docker's JSON progress messages ({"status": ...},
 * with "id" for a blob's line), then the digest, or {"error": ...}.  The
 * registry credentials are the client's X-Registry-Auth
 * (applets/api_regauth.h) for that request only, else ours (`container
 * registry login`, DOCKER_CONFIG of the server).  Extensions for our CLI:
 * `scheme` (https, http, auto) and `verify` on both, `destination` on
 * push.  Tag changes only names; delete drops names, then the blobs and
 * root file systems nothing reaches (api_image_gc). */
#include <errno.h>
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
#include "applets/api_regauth.h"
#include "applets/api_router.h"
#include "applets/image.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/creds.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/push.h"
#include "oci/ref.h"
#include "oci/store.h"

#define PROGRESS_LINE_MAX 4096

static void rfc3339(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* docker.io/library/alpine:latest -> alpine:latest, as docker shows it */
static json_t *familiar(const char *name)
{
	struct ref r;
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (ref_parse(name, 0, &r, NULL) < 0)
		return json_string(name);
	ref_format_familiar(&r, &b);
	return json_string(buf_str(&b));
}

/* Platform manifest and config of an entry: size, config JSON. */
static int entry_more(struct store *s, const struct images_entry *en, long long *size,
		      json_t **config, struct manifest **mout, struct digest *mdig, struct err *e);
static int entry_details(struct store *s, const struct images_entry *en, long long *size,
			 json_t **config, struct err *e)
{
	return entry_more(s, en, size, config, NULL, NULL, e);
}

/* The same, also handing out the platform manifest and its digest. */
static int entry_more(struct store *s, const struct images_entry *en, long long *size,
		      json_t **config, struct manifest **mout, struct digest *mdig, struct err *e)
{
	_cleanup_buf_ struct buf cfg = BUF_INIT;
	struct manifest *m = NULL;
	struct digest md;
	int rc;

	*size = 0;
	if (config)
		*config = NULL;
	if ((rc = pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, e)) < 0)
		return rc;
	*size = m->config.size;
	for (size_t i = 0; i < m->n_layers; i++)
		*size += m->layers[i].size;
	if (config) {
		rc = store_read_blob(s, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, e);
		if (rc == 0 && !(*config = jsonx_parse(cfg.data, cfg.len, IMAGE_CONFIG_MAX_BYTES,
						       "image config", e)))
			rc = -EBADMSG;
	}
	if (mdig)
		*mdig = md;
	if (mout && rc == 0) {
		*mout = m;
		m = NULL;
	}
	manifest_free(m);
	return rc;
}

json_t *api_image_tags(const struct images *im, size_t i)
{
	const struct images_entry *en = images_at(im, i);
	json_t *tags;
	size_t j;

	/* one entry per digest, with all its names; the first name seen
	 * stands for it */
	for (j = 0; j < i && strcmp(images_at(im, j)->digest.s, en->digest.s) != 0; j++)
		;
	if (j < i)
		return NULL;
	tags = json_array();
	for (j = i; j < images_count(im); j++)
		if (strcmp(images_at(im, j)->digest.s, en->digest.s) == 0)
			json_array_append_new(tags, familiar(images_at(im, j)->name));
	return tags;
}

/* Whether entry i is the first of its digest (one row a digest). */
static bool api_image_tags_ok(const struct images *im, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(images_at(im, j)->digest.s, images_at(im, i)->digest.s))
			return false;
	return true;
}

static int open_both(struct api_call *c, int flags, struct images **im, struct store **s)
{
	struct err e = ERR_INIT;

	*im = NULL;
	if (s)
		*s = NULL;
	if (images_open(c->ctx->data_dir, flags, im, &e) < 0 ||
	    (s && store_open(c->ctx->data_dir, s, &e) < 0)) {
		images_close(*im);
		api_reply_error(c, 500, "%s", e.msg);
		return -1;
	}
	return 0;
}

void api_image_list_h(struct api_call *c)
{
	static const char *const keys[] = { "dangling", "until", "label", "label!", "reference",
					    NULL };
	struct images *im;
	struct store *s;
	struct err e = ERR_INIT;
	json_t *out, *f;

	if (api_image_filters(c, keys, &f) < 0)
		return;
	if (open_both(c, 0, &im, &s) < 0) {
		json_decref(f);
		return;
	}
	out = json_array();
	for (size_t i = 0; i < images_count(im); i++) {
		const struct images_entry *en = images_at(im, i);
		_cleanup_buf_ struct buf plat = BUF_INIT;
		json_t *tags, *names, *config = NULL, *row;
		bool hit = false, any = false;
		long long size;

		/* a digest is listed when one of its names passes; with a
		 * reference filter, RepoTags keeps those names only (Docker) */
		if (!api_image_tags_ok(im, i))
			continue;
		tags = json_array();
		for (size_t j = i; j < images_count(im); j++) {
			const struct images_entry *ej = images_at(im, j);
			if (strcmp(ej->digest.s, en->digest.s))
				continue;
			if (f && api_image_match(f, s, ej, &hit, &e) < 0) {
				json_decref(tags);
				json_decref(out);
				json_decref(f);
				store_close(s);
				images_close(im);
				api_reply_error(c, 400, "%s", e.msg);
				return;
			}
			if (!f || hit || !json_object_get(f, "reference"))
				json_array_append_new(tags, familiar(ej->name));
			any |= !f || hit;
		}
		if (!any) {
			json_decref(tags);
			continue;
		}
		if (entry_details(s, en, &size, &config, NULL) < 0)
			size = -1;
		names = json_array();
		for (size_t j = i; j < images_count(im); j++)
			if (!strcmp(images_at(im, j)->digest.s, en->digest.s))
				json_array_append_new(names, json_string(images_at(im, j)->name));
		if (jsonx_str(config, "os") && jsonx_str(config, "architecture")) {
			buf_printf(&plat, "%s/%s", jsonx_str(config, "os"),
				   jsonx_str(config, "architecture"));
			if (jsonx_str(config, "variant"))
				buf_printf(&plat, "/%s", jsonx_str(config, "variant"));
		}
		json_decref(config);
		/* Names (normalized), MediaType, Platform: ours, for `image ls` */
		row = json_pack("{s:s, s:s, s:o, s:[], s:I, s:I, s:I, s:{}, s:i, s:i, s:o, s:s, s:s}",
				"Id", en->digest.s, "ParentId", "", "RepoTags", tags, "RepoDigests",
				"Created", (json_int_t)en->created, "Size", (json_int_t)size,
				"VirtualSize", (json_int_t)size, "Labels", "Containers", -1,
				"SharedSize", -1, "Names", names, "MediaType", en->media_type,
				"Platform", buf_str(&plat));
		if (row)
			json_array_append_new(out, row);
	}
	json_decref(f);
	store_close(s);
	images_close(im);
	api_reply_json(c, 200, out);
}

/* The entry named by path parameter 0; NULL after a 404. */
static const struct images_entry *find(struct api_call *c, struct images *im, struct buf *q)
{
	const struct images_entry *en;
	struct err e = ERR_INIT;
	int rc;

	api_param_str(c, 0, q);
	if ((rc = images_resolve(im, buf_str(q), &en, &e)) == 0)
		return en;
	if (rc == -ENOENT)
		api_reply_error(c, 404, "No such image: %.256s", buf_str(q));
	else
		api_reply_error(c, 400, "%s", e.msg);
	return NULL;
}

/* `container image inspect`'s object (?container=1): the stored document,
 * the platform manifest's layers and the whole config. */
static json_t *ours(const struct images *im, const struct images_entry *en,
		   const struct manifest *m, const struct digest *md, long long size,
		   const json_t *config)
{
	json_t *names = json_array(), *layers = json_array();
	char when[32];

	for (size_t i = 0; i < images_count(im); i++)
		if (strcmp(images_at(im, i)->digest.s, en->digest.s) == 0)
			json_array_append_new(names, json_string(images_at(im, i)->name));
	for (size_t i = 0; i < m->n_layers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "digest",
			m->layers[i].digest.s, "mediaType", m->layers[i].media_type, "size",
			(json_int_t)m->layers[i].size));
	rfc3339(en->created, when, sizeof(when));
	return json_pack("{s:s, s:s, s:o, s:s, s:I, s:s, s:s, s:I, s:o, s:s, s:O}", "Name",
			 en->name, "Id", en->digest.s, "RepoTags", names, "MediaType",
			 en->media_type, "DocumentSize", (json_int_t)en->size, "Tagged", when,
			 "Manifest", md->s, "Size", (json_int_t)size, "Layers", layers,
			 "ConfigDigest", m->config.digest.s, "Config", config);
}

void api_image_inspect_h(struct api_call *c)
{
	_cleanup_buf_ struct buf q = BUF_INIT;
	const struct images_entry *en;
	struct images *im;
	struct store *s;
	struct err e = ERR_INIT;
	json_t *config = NULL, *tags = json_array(), *diff;
	struct manifest *m = NULL;
	struct digest md;
	long long size;
	char when[32];

	if (open_both(c, 0, &im, &s) < 0) {
		json_decref(tags);
		return;
	}
	if ((en = find(c, im, &q)) && entry_more(s, en, &size, &config, &m, &md, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		en = NULL;
	}
	if (en) {
		for (size_t j = 0; j < images_count(im); j++)
			if (strcmp(images_at(im, j)->digest.s, en->digest.s) == 0)
				json_array_append_new(tags, familiar(images_at(im, j)->name));
		rfc3339(en->created, when, sizeof(when));
		diff = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
		json_t *doc, *cc = json_object_get(config, "container_config");
		doc = json_pack(
			"{s:s, s:O, s:[], s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:I, s:I,"
			" s:{s:s, s:O}, s:{s:s}}",
			"Id", en->digest.s, "RepoTags", tags, "RepoDigests", "Parent", "", "Comment", "",
			"Created", jsonx_str(config, "created") ? jsonx_str(config, "created") : when,
			"Config", json_object_get(config, "config") ? json_object_get(config, "config")
								   : json_null(),
			"Architecture", jsonx_str(config, "architecture") ? jsonx_str(config, "architecture") : "",
			"Os", jsonx_str(config, "os") ? jsonx_str(config, "os") : "", "DockerVersion", "",
			"Size", (json_int_t)size, "VirtualSize", (json_int_t)size, "RootFS", "Type",
			"layers", "Layers", json_is_array(diff) ? diff : json_null(), "Metadata",
			"LastTagTime", when);
		/* API < 1.45 has it; compose 1.29 reads its Volumes on recreate */
		if (!json_is_object(cc))
			cc = json_object_get(config, "config");
		json_object_set_new(doc, "ContainerConfig",
				    json_is_object(cc) ? json_deep_copy(cc) : json_object());
		if (api_query_bool(c, "container", 0))
			json_object_set_new(doc, "ContainerImage", ours(im, en, m, &md, size, config));
		api_reply_json(c, 200, doc);
	}
	json_decref(tags);
	json_decref(config);
	manifest_free(m);
	store_close(s);
	images_close(im);
}

void api_image_tag_h(struct api_call *c)
{
	_cleanup_buf_ struct buf q = BUF_INIT, repo = BUF_INIT, tag = BUF_INIT, name = BUF_INIT;
	const struct images_entry *en;
	struct images *im;
	struct err e = ERR_INIT;
	struct digest d;
	char *mt;
	long long size;
	int rc;

	if (api_query_get(c->query, c->query_len, "repo", &repo) <= 0 || !repo.len ||
	    api_query_get(c->query, c->query_len, "tag", &tag) < 0) {
		api_reply_error(c, 400, "repo is required");
		return;
	}
	buf_printf(&name, "%s%s%s", buf_str(&repo), tag.len ? ":" : "", buf_str(&tag));
	if (open_both(c, IMAGES_WRITE, &im, NULL) < 0)
		return;
	if (!(en = find(c, im, &q))) {
		images_close(im);
		return;
	}
	d = en->digest;
	size = en->size;
	mt = xstrdup(en->media_type);
	rc = images_tag(im, buf_str(&name), mt, &d, size, 0, &e);
	if (rc == 0)
		rc = images_save(im, &e);
	free(mt);
	images_close(im);
	if (rc < 0)
		api_reply_error(c, rc == -EINVAL ? 400 : 500, "%s", e.msg);
	else
		api_reply_text(c, 201, NULL, "");
}

void api_image_delete_h(struct api_call *c)
{
	_cleanup_buf_ struct buf q = BUF_INIT;
	const struct images_entry *en;
	struct images *im;
	struct err e = ERR_INIT;
	struct ref r;
	json_t *out = json_array();
	int rc = 0;

	if (open_both(c, IMAGES_WRITE, &im, NULL) < 0) {
		json_decref(out);
		return;
	}
	if (!(en = find(c, im, &q))) {
		json_decref(out);
		images_close(im);
		return;
	}
	/* a name drops that name; an id or digest drops every name of it */
	if (ref_parse(buf_str(&q), 0, &r, NULL) == 0 && !r.has_digest &&
	    strncmp(buf_str(&q), "sha256:", 7) != 0 && strspn(buf_str(&q), "0123456789abcdef") != q.len) {
		json_array_append_new(out, json_pack("{s:o}", "Untagged", familiar(en->name)));
		rc = images_untag(im, en->name, &e);
	} else {
		struct digest d = en->digest;
		size_t names = 0;
		for (size_t i = 0; i < images_count(im); i++)
			names += strcmp(images_at(im, i)->digest.s, d.s) == 0;
		if (names > 1 && !api_query_bool(c, "force", 0)) {
			json_decref(out);
			images_close(im);
			api_reply_error(c, 409, "image %.19s is named %zu times: remove the names, or "
					"use -f (must be forced)", d.s, names);
			return;
		}
		for (size_t i = 0; i < images_count(im); i++)
			if (strcmp(images_at(im, i)->digest.s, d.s) == 0)
				json_array_append_new(out, json_pack("{s:o}", "Untagged",
								     familiar(images_at(im, i)->name)));
		json_array_append_new(out, json_pack("{s:s}", "Deleted", d.s));
		rc = images_untag_digest(im, &d, &e) < 0 ? -EIO : 0;
	}
	if (rc == 0)
		rc = images_save(im, &e);
	if (rc == 0) {
		struct api_gc_result g;
		struct err ge = ERR_INIT;
		api_image_gc(c->ctx->data_dir, im, &g, &ge);   /* -EBUSY: next time */
	}
	images_close(im);
	if (rc < 0) {
		json_decref(out);
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	api_reply_json(c, 200, out);
}

/* ---- pull ---- */

struct pull_job {
	uv_work_t w;
	uv_pipe_t progress;        /* read end of the thread's progress lines */
	int wfd;
	bool push, have_creds, verify;
	long concurrency;
	enum registry_scheme scheme;
	struct creds creds;        /* X-Registry-Auth's, for this request only */
	char *ref, *platform, *dest;
	struct push_result pres;
	const char *data_dir;
	struct pull_result res;
	struct err e;
	int rc;
	struct api_conn *k;
	int keepalive;
	bool work_done, pipe_done, eof;
	struct buf line;
	char rbuf[4096];
};

static void job_free(struct pull_job *j)
{
	creds_free(&j->creds);
	free(j->dest);
	free(j->ref);
	free(j->platform);
	buf_free(&j->line);
	free(j);
}

static void pipe_closed(uv_handle_t *h)
{
	struct pull_job *j = h->data;

	j->pipe_done = true;
	if (j->work_done)
		job_free(j);
}

static void send_msg(struct pull_job *j, json_t *v)
{
	_cleanup_buf_ struct buf b = BUF_INIT, chunk = BUF_INIT;

	if (j->k && v && jsonx_dump_buf(v, JSON_COMPACT, &b, NULL) == 0) {
		buf_putc(&b, '\n');
		api_write_chunk(&chunk, b.data, b.len);
		api_conn_write(j->k, chunk.data, chunk.len);
	}
	json_decref(v);
}

/* Both the pull and its progress are over: the last words. */
static void finish(struct pull_job *j)
{
	if (j->rc == 0 && j->push) {
		_cleanup_buf_ struct buf m = BUF_INIT;
		struct ref r;
		const char *tag = "latest";
		if (ref_parse(j->pres.name, 0, &r, NULL) == 0 && r.tag[0])
			tag = r.tag;
		buf_printf(&m, "%s: digest: %s", tag, j->pres.digest.s);
		send_msg(j, json_pack("{s:s}", "status", buf_str(&m)));
		send_msg(j, json_pack("{s:{}, s:{s:s, s:s, s:s}}", "progressDetail", "aux", "Tag", tag,
				      "Digest", j->pres.digest.s, "Name", j->pres.name));
	} else if (j->rc == 0) {
		_cleanup_buf_ struct buf m = BUF_INIT;
		buf_printf(&m, "Digest: %s", j->res.digest.s);
		send_msg(j, json_pack("{s:s}", "status", buf_str(&m)));
		buf_reset(&m);
		buf_printf(&m, "Status: Downloaded newer image for %s", j->res.name);
		send_msg(j, json_pack("{s:s}", "status", buf_str(&m)));
	} else {
		send_msg(j, json_pack("{s:{s:s}, s:s}", "errorDetail", "message", j->e.msg, "error",
				      j->e.msg));
	}
	if (j->k) {
		api_conn_end_chunked(j->k, j->keepalive);
		j->k = NULL;
	}
}

static void progress_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct pull_job *j = h->data;

	(void)hint;
	*b = uv_buf_init(j->rbuf, sizeof(j->rbuf));
}

static void progress_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct pull_job *j = st->data;

	if (n < 0) {
		j->eof = true;
		uv_close((uv_handle_t *)&j->progress, pipe_closed);
		if (j->work_done)
			finish(j);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (b->base[i] != '\n') {
			buf_putc(&j->line, b->base[i]);   /* past the bound: dropped */
			continue;
		}
		if (j->line.len > 13 && j->line.data[12] == ' ' &&
		    strspn(j->line.data, "0123456789abcdef") == 12)
			send_msg(j, json_pack("{s:s%, s:{}, s:s%}", "status", j->line.data + 13,
					      j->line.len - 13, "progressDetail", "id", j->line.data,
					      (size_t)12));
		else if (j->line.len)
			send_msg(j, json_pack("{s:s%}", "status", j->line.data, j->line.len));
		buf_reset(&j->line);
	}
}

static void pull_work(uv_work_t *w)
{
	struct pull_job *j = w->data;
	struct pull_opts po = { 0 };
	struct platform plat;
	int given;
	FILE *f = fdopen(j->wfd, "w");

	if (!f) {
		close(j->wfd);
		j->rc = err_sys(&j->e, "fdopen");
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	po.progress = PULL_PROGRESS_PLAIN;
	po.out = f;
	po.verify_diff_ids = j->verify;
	po.max_concurrent = (int)j->concurrency;
	creds_conn_opts_from_env(&po.conn);
	po.conn.scheme = j->scheme;
	if (j->have_creds)
		po.conn.creds = &j->creds;
	j->rc = image_cli_platform(j->platform, NULL, NULL, &plat, &given, &j->e);
	if (j->rc == 0 && j->push) {
		struct push_opts pu = { .platform = given ? &plat : NULL,
					.progress = PULL_PROGRESS_PLAIN, .out = f, .conn = po.conn };
		j->rc = push_image(j->data_dir, j->ref, j->dest, &pu, &j->pres, &j->e);
	} else if (j->rc == 0) {
		po.platform = given ? &plat : NULL;
		j->rc = pull_image(j->data_dir, j->ref, &po, &j->res, &j->e);
	}
	fclose(f);   /* the loop sees the end of the progress */
}

static void pull_done(uv_work_t *w, int status)
{
	struct pull_job *j = w->data;

	if (status < 0 && j->rc == 0)
		j->rc = err_set(&j->e, status, "cancelled");
	j->work_done = true;
	if (j->eof)
		finish(j);
	if (j->pipe_done)
		job_free(j);
}

static void pull_gone(void *ud)
{
	((struct pull_job *)ud)->k = NULL;
}

static const struct api_stream_ops pull_ops = { .closed = pull_gone };

/* The parts of a pull or push request common to both: X-Registry-Auth,
 * platform, our scheme and verify; NULL with a 400 answered. */
static struct pull_job *job_new(struct api_call *c)
{
	_cleanup_buf_ struct buf plat = BUF_INIT, sch = BUF_INIT;
	struct pull_job *j = xcalloc(1, sizeof(*j));
	struct err e = ERR_INIT;
	const char *h;
	size_t hn;
	int rc;

	j->e = (struct err)ERR_INIT;
	buf_init(&j->line, PROGRESS_LINE_MAX);
	if ((h = api_req_header(c->req, "X-Registry-Auth", &hn))) {
		if ((rc = api_regauth_decode(h, hn, &j->creds, NULL, &e)) < 0) {
			api_reply_error(c, 400, "%s", e.msg);
			job_free(j);
			return NULL;
		}
		j->have_creds = rc == 1;
	}
	if (api_query_get(c->query, c->query_len, "platform", &plat) < 0 || plat.len > 64 ||
	    api_query_get(c->query, c->query_len, "scheme", &sch) < 0) {
		api_reply_error(c, 400, "malformed platform");
		job_free(j);
		return NULL;
	}
	if (!sch.len || !strcmp(buf_str(&sch), "auto"))
		j->scheme = REGISTRY_SCHEME_AUTO;
	else if (!strcmp(buf_str(&sch), "https"))
		j->scheme = REGISTRY_SCHEME_HTTPS;
	else if (!strcmp(buf_str(&sch), "http"))
		j->scheme = REGISTRY_SCHEME_HTTP;
	else {
		api_reply_error(c, 400, "scheme must be https, http or auto");
		job_free(j);
		return NULL;
	}
	j->verify = api_query_bool(c, "verify", 0);
	if (api_query_long(c, "concurrency", 0, &j->concurrency) < 0 || j->concurrency < 0 ||
	    j->concurrency > 16) {
		api_reply_error(c, 400, "concurrency must be between 1 and 16");
		job_free(j);
		return NULL;
	}
	j->platform = plat.len ? buf_steal(&plat) : NULL;
	j->data_dir = c->ctx->data_dir;
	j->keepalive = c->keepalive;
	return j;
}

/* Answer 200 with the first message and start the work. */
static void job_start(struct api_call *c, struct pull_job *j, const char *first)
{
	uv_loop_t *loop = api_sup_loop(c->ctx->sup);
	int fds[2], rc;

	if (pipe(fds) < 0) {
		api_reply_error(c, 500, "pipe: %s", strerror(errno));
		job_free(j);
		return;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	j->wfd = fds[1];
	j->w.data = j;
	uv_pipe_init(loop, &j->progress, 0);
	j->progress.data = j;
	if ((rc = uv_pipe_open(&j->progress, fds[0])) < 0 ||
	    (rc = uv_read_start((uv_stream_t *)&j->progress, progress_alloc, progress_read)) < 0) {
		close(fds[1]);
		j->work_done = true;
		uv_close((uv_handle_t *)&j->progress, pipe_closed);
		api_reply_error(c, 500, "progress pipe: %s", uv_strerror(rc));
		return;
	}
	api_write_head(c->out, 200, "application/json", NULL, -1, c->keepalive);
	j->k = api_call_take(c, &pull_ops, j, 0);
	send_msg(j, json_pack("{s:s}", "status", first));
	if ((rc = uv_queue_work(loop, &j->w, pull_work, pull_done)) < 0) {
		close(fds[1]);
		j->rc = err_set(&j->e, rc, "queue: %s", uv_strerror(rc));
		pull_done(&j->w, 0);
	}
}

void api_image_create_h(struct api_call *c)
{
	_cleanup_buf_ struct buf from = BUF_INIT, tag = BUF_INIT, m = BUF_INIT;
	struct pull_job *j;

	if (api_query_get(c->query, c->query_len, "fromImage", &from) <= 0 || !from.len ||
	    api_query_get(c->query, c->query_len, "tag", &tag) < 0 || from.len > 512 ||
	    tag.len > 256) {
		api_reply_error(c, 400, "fromImage is required (import from a file is not supported)");
		return;
	}
	if (!(j = job_new(c)))
		return;
	if (tag.len)
		buf_printf(&from, "%s%s", strncmp(buf_str(&tag), "sha256:", 7) == 0 ? "@" : ":",
			   buf_str(&tag));
	j->ref = buf_steal(&from);
	buf_printf(&m, "Pulling from %s", j->ref);
	job_start(c, j, buf_str(&m));
}

void api_image_push_h(struct api_call *c)
{
	_cleanup_buf_ struct buf name = BUF_INIT, tag = BUF_INIT, dest = BUF_INIT, m = BUF_INIT;
	const struct images_entry *en;
	struct images *im;
	struct pull_job *j;
	struct err e = ERR_INIT;
	struct ref r;
	int rc;

	api_param_str(c, 0, &name);
	if (api_query_get(c->query, c->query_len, "tag", &tag) < 0 || tag.len > 128 ||
	    api_query_get(c->query, c->query_len, "destination", &dest) < 0 || dest.len > 512) {
		api_reply_error(c, 400, "malformed tag or destination");
		return;
	}
	if (tag.len)
		buf_printf(&name, ":%s", buf_str(&tag));
	if (images_open(c->ctx->data_dir, 0, &im, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	rc = images_resolve(im, buf_str(&name), &en, &e);
	images_close(im);
	if (rc < 0) {
		api_reply_error(c, rc == -ENOENT ? 404 : 400, rc == -ENOENT ?
				"An image does not exist locally with the tag: %s" : "%s",
				rc == -ENOENT ? buf_str(&name) : e.msg);
		return;
	}
	if (dest.len && ref_parse(buf_str(&dest), 0, &r, &e) < 0) {
		api_reply_error(c, 400, "%s", e.msg);
		return;
	}
	if (!(j = job_new(c)))
		return;
	j->push = true;
	j->ref = buf_steal(&name);
	j->dest = dest.len ? buf_steal(&dest) : NULL;
	if (ref_parse(j->dest ? j->dest : j->ref, 0, &r, NULL) == 0) {
		r.tag[0] = '\0';
		r.has_digest = 0;
		buf_puts(&m, "The push refers to repository [");
		ref_format(&r, &m);
		buf_putc(&m, ']');
	} else {
		buf_printf(&m, "The push refers to %s", j->ref);
	}
	job_start(c, j, buf_str(&m));
}

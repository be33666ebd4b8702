/* Image push (see oci/push.h).  Called by applets/image.c.  Blobs go up
 * one at a time, in manifest order (config, then layers), each read from
 * the store; the registry client re-hashes what it sends, so a blob that
 * rotted on disk fails the push instead of reaching the registry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/stream.h"
#include "oci/images.h"
#include "oci/push.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/store.h"

#define MAX_DEPTH 4

struct pctx {
	struct store *store;
	struct creds_conn *conn;
	const char *repo;
	const char *mount_from; /* or NULL */
	const struct push_opts *o;
	FILE *out;
	struct push_result *res;
};

static void say(struct pctx *c, const struct digest *d, const char *what, long long size)
{
	if (c->o->progress == PULL_PROGRESS_NONE)
		return;
	fprintf(c->out, "%.12s %s (%lld bytes)\n", digest_hex(d), what, size);
	fflush(c->out);
}

static int push_blob(struct pctx *c, const struct descriptor *d, struct err *e)
{
	struct fd_reader fr;
	long long size;
	int fd, rc, mounted = 0;

	if ((rc = store_open_blob(c->store, &d->digest, &fd, &size, e)) < 0)
		return rc;
	if (size != d->size) {
		close(fd);
		return err_set(e, -EBADMSG, "blob %s in the store is %lld bytes, its descriptor says %lld",
			       d->digest.s, size, d->size);
	}
	fd_reader_init(&fr, fd);
	rc = registry_push_blob(c->conn->reg, c->repo, &d->digest, size, &fr.r, c->mount_from,
				size > PUSH_MONOLITHIC_MAX ? PUSH_CHUNK : 0, &mounted, e);
	close(fd);
	if (rc < 0)
		return rc;
	c->res->blobs++;
	if (mounted) {
		c->res->blobs_skipped++;
		say(c, &d->digest, "already in the registry", size);
	} else {
		c->res->sent += (unsigned long long)size;
		say(c, &d->digest, "pushed", size);
	}
	return 0;
}

static int read_doc(struct store *s, const struct digest *d, const char *mt, struct buf *body,
		    struct manifest **m, struct err *e)
{
	int rc;

	if ((rc = store_read_blob(s, d, MANIFEST_MAX_BYTES, body, e)) < 0)
		return rc;
	return manifest_parse(buf_str(body), body->len, mt, m, e);
}

/* Whether d (an index or manifest) is complete in the store. */
static int complete(struct store *s, const struct digest *d, const char *mt, int depth)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	struct manifest *m = NULL;
	int ok = 1;

	if (depth > MAX_DEPTH || read_doc(s, d, mt, &body, &m, NULL) < 0)
		return 0;
	if (m->kind == MANIFEST_INDEX) {
		for (size_t i = 0; ok && i < m->n_manifests; i++)
			ok = complete(s, &m->manifests[i].digest, m->manifests[i].media_type, depth + 1);
	} else {
		ok = store_has(s, &m->config.digest, NULL, NULL) == 1;
		for (size_t i = 0; ok && i < m->n_layers; i++)
			ok = store_has(s, &m->layers[i].digest, NULL, NULL) == 1;
	}
	manifest_free(m);
	return ok;
}

/* Push a document and what it references; ref is the tag, or NULL to put
 * it by digest. */
static int push_doc(struct pctx *c, const struct digest *d, const char *mt, const char *ref,
		    int depth, struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	struct manifest *m = NULL;
	int rc;

	if (depth > MAX_DEPTH)
		return err_set(e, -ELOOP, "image indexes nested more than %d deep", MAX_DEPTH);
	if ((rc = read_doc(c->store, d, mt, &body, &m, e)) < 0)
		return rc;
	if (m->kind == MANIFEST_INDEX) {
		for (size_t i = 0; rc == 0 && i < m->n_manifests; i++)
			rc = push_doc(c, &m->manifests[i].digest, m->manifests[i].media_type, NULL,
				      depth + 1, e);
	} else {
		rc = push_blob(c, &m->config, e);
		for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
			rc = push_blob(c, &m->layers[i], e);
	}
	if (rc == 0)
		rc = registry_put_manifest(c->conn->reg, c->repo, ref ? ref : d->s, m->media_type,
					   buf_str(&body), body.len, NULL, e);
	if (rc == 0 && ref)
		c->res->digest = *d;
	manifest_free(m);
	return rc;
}

static int push_run(struct pctx *c, const struct images_entry *en, const struct ref *dst,
		    struct err *e)
{
	struct digest top = en->digest;
	const char *mt = en->media_type;
	struct manifest *m = NULL;
	const char *ref = dst->tag[0] ? dst->tag : dst->digest.s;
	int rc;

	/* A partly pulled index cannot be pushed whole: push the manifest of
	 * the platform we have (as docker does with a single-platform store). */
	if (c->o->platform ||
	    (manifest_media_kind(mt) == MANIFEST_INDEX && !complete(c->store, &top, mt, 0))) {
		if ((rc = pull_resolve_local(c->store, &en->digest, en->media_type, c->o->platform,
					     &top, &m, e)) < 0)
			return rc;
		mt = m->media_type;
	}
	if (dst->has_digest && !dst->tag[0] && strcmp(dst->digest.s, top.s) != 0) {
		manifest_free(m);
		return err_set(e, -EINVAL, "cannot push %s as %s: its digest is %s", en->name,
			       dst->digest.s, top.s);
	}
	rc = push_doc(c, &top, mt, ref, 0, e);
	manifest_free(m);
	return rc;
}

int push_image(const char *root, const char *local, const char *dest, const struct push_opts *o,
	       struct push_result *res, struct err *e)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	struct images_entry en = { 0 };
	const struct images_entry *found;
	struct images *im = NULL;
	struct pctx c = { 0 };
	struct ref src, dst;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = images_open(root, 0, &im, e)) < 0)
		return rc;
	if ((rc = images_resolve(im, local, &found, e)) < 0) {
		images_close(im);
		return rc;
	}
	en.name = xstrdup(found->name);
	en.media_type = xstrdup(found->media_type);
	en.digest = found->digest;
	images_close(im);
	if ((rc = ref_parse(dest ? dest : en.name, 0, &dst, e)) < 0)
		goto out;
	ref_format(&dst, &name);
	snprintf(res->name, sizeof(res->name), "%s", buf_str(&name));
	c.o = o;
	c.res = res;
	c.out = o->out ? o->out : stderr;
	c.repo = dst.path;
	if (ref_parse(en.name, 0, &src, NULL) == 0 && strcmp(src.domain, dst.domain) == 0 &&
	    strcmp(src.path, dst.path) != 0)
		c.mount_from = src.path;
	if ((rc = store_open(root, &c.store, e)) == 0 &&
	    (rc = creds_connect(dst.domain, &o->conn, &c.conn, e)) == 0)
		rc = push_run(&c, &en, &dst, e);
	if (rc < 0)
		err_wrap(e, "push %s", buf_str(&name));
out:
	creds_conn_free(c.conn);
	store_close(c.store);
	free(en.name);
	free(en.media_type);
	return rc;
}

/* Distribution-spec operations (see oci/registry.h): URL building, the
 * authenticate-and-retry loop, status-to-error mapping, manifests, blobs
 * and uploads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/auth.h"
#include "oci/http.h"
#include "oci/registry.h"

#define ERROR_BODY_MAX 65536

static const char manifest_accept[] =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

struct registry {
	struct http_client *http;
	struct auth *auth;
	char *host;          /* as the user wrote it, for messages */
	char *base;          /* "https://host[:port]" */
	int auto_http;       /* loopback + auto: may fall back to http once */
};

struct registry *registry_new(struct http_client *http, const char *host,
			      const struct registry_opts *o, struct err *e)
{
	struct registry_opts dflt = { 0 };
	struct registry *r;
	struct http_url u;
	struct buf b = BUF_INIT;
	const char *api = host;

	if (!o)
		o = &dflt;
	if (strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0)
		api = "registry-1.docker.io";
	buf_printf(&b, "%s://%s/", o->scheme == REGISTRY_SCHEME_HTTP ? "http" : "https", api);
	if (http_url_parse(buf_str(&b), &u, e) < 0 || strcmp(u.target, "/") != 0) {
		if (u.host)
			http_url_free(&u);
		buf_free(&b);
		return err_set(e, -EINVAL, "invalid registry host '%.100s'", host), NULL;
	}
	buf_truncate(&b, b.len - 1);
	r = xcalloc(1, sizeof(*r));
	r->http = http;
	r->host = xstrdup(host);
	r->base = buf_steal(&b);
	r->auto_http = o->scheme == REGISTRY_SCHEME_AUTO && http_host_is_loopback(u.host);
	r->auth = auth_new(http, host, o->creds, o->auth);
	http_url_free(&u);
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	auth_free(r->auth);
	free(r->host);
	free(r->base);
	free(r);
}

void registry_manifest_free(struct registry_manifest *m)
{
	buf_free(&m->body);
	free(m->media_type);
	m->media_type = NULL;
}

/* Repository names as the distribution spec allows them: lower-case path
 * components separated by '/', never "..": they go into URLs verbatim. */
static int check_repo(const char *repo, struct err *e)
{
	size_t i, n = strlen(repo);

	if (n == 0 || n > 255 || repo[0] == '/' || repo[n - 1] == '/' || strstr(repo, "//") ||
	    strstr(repo, ".."))
		return err_set(e, -EINVAL, "invalid repository name '%.100s'", repo);
	for (i = 0; i < n; i++)
		if (!((repo[i] >= 'a' && repo[i] <= 'z') || (repo[i] >= '0' && repo[i] <= '9') ||
		      strchr("._-/", repo[i])))
			return err_set(e, -EINVAL, "invalid repository name '%.100s'", repo);
	return 0;
}

static int check_ref(const char *ref, struct err *e)
{
	struct digest d;
	size_t i, n = strlen(ref);

	if (strchr(ref, ':'))
		return digest_parse(ref, &d, e);
	if (n == 0 || n > 128 || ref[0] == '.' || ref[0] == '-')
		return err_set(e, -EINVAL, "invalid tag '%.100s'", ref);
	for (i = 0; i < n; i++)
		if (!((ref[i] >= 'a' && ref[i] <= 'z') || (ref[i] >= 'A' && ref[i] <= 'Z') ||
		      (ref[i] >= '0' && ref[i] <= '9') || ref[i] == '_' || ref[i] == '.' || ref[i] == '-'))
			return err_set(e, -EINVAL, "invalid tag '%.100s'", ref);
	return 0;
}

/* The "errors[0].code" of a distribution error body, if it looks like one. */
static void error_code(struct http_response *resp, char *code, size_t size)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	json_t *errs, *first;
	const char *c;
	size_t i;

	code[0] = '\0';
	if (http_response_read_all(resp, &body, ERROR_BODY_MAX, NULL) < 0 || body.len == 0)
		return;
	j = jsonx_parse(body.data, body.len, ERROR_BODY_MAX, "error", NULL);
	if (!j || !(errs = json_object_get(j, "errors")) || !(first = json_array_get(errs, 0)) ||
	    !(c = jsonx_str(first, "code")))
		return;
	for (i = 0; c[i] && i + 1 < size; i++) {
		if (!((c[i] >= 'A' && c[i] <= 'Z') || c[i] == '_'))
			return;   /* the server's text is not echoed unless it is a plain code */
		code[i] = c[i];
	}
	code[i] = '\0';
}

/* Map a failed status to one sentence.  what: "manifest latest", "blob sha256:..". */
static int status_error(struct registry *r, struct http_response *resp, const char *repo,
			const char *what, struct err *e)
{
	char code[48];
	const char *ra;
	int s = resp->status;

	error_code(resp, code, sizeof(code));
	if (s == 401)
		return err_set(e, -EACCES, "registry %s: unauthorized to access repository %s%s%s%s",
			       r->host, repo, code[0] ? " (" : "", code, code[0] ? ")" : "");
	if (s == 403)
		return err_set(e, -EACCES, "registry %s: access to repository %s denied%s%s%s",
			       r->host, repo, code[0] ? " (" : "", code, code[0] ? ")" : "");
	if (s == 404) {
		if (strcmp(code, "NAME_UNKNOWN") == 0)
			return err_set(e, -ENOENT, "registry %s: repository %s not found", r->host, repo);
		return err_set(e, -ENOENT, "registry %s: %s not found in repository %s",
			       r->host, what, repo);
	}
	if (s == 429) {
		ra = http_response_header(resp, "retry-after");
		return err_set(e, -EBUSY, "registry %s: rate limited (429) on repository %s%s%.40s%s",
			       r->host, repo, ra ? "; retry after " : "", ra ? ra : "",
			       ra && strspn(ra, "0123456789") == strlen(ra) ? " s" : "");
	}
	return err_set(e, -EIO, "registry %s: %s in repository %s: unexpected status %d%s%s%s",
		       r->host, what, repo, s, code[0] ? " (" : "", code, code[0] ? ")" : "");
}

/* One request with authentication: the cached credentials for scope
 * first, then one answer to a 401 challenge.  path is absolute ("/v2/...")
 * or a full URL (upload Locations). */
static int reg_do(struct registry *r, struct http_request *rq, const char *path,
		  const char *scope, const char *repo, struct http_response **out,
		  struct err *e)
{
	_cleanup_free_ char *authz = NULL;
	_cleanup_buf_ struct buf url = BUF_INIT;
	struct http_response *resp = NULL;
	int rc, answered = 0;

	for (;;) {
		buf_reset(&url);
		if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
			buf_puts(&url, path);
		else
			buf_printf(&url, "%s%s", r->base, path);
		rq->url = buf_str(&url);
		if (!authz)
			authz = auth_cached(r->auth, scope);
		rq->authorization = authz;
		rc = http_do(r->http, rq, &resp, e);
		if (rc < 0 && r->auto_http && strncmp(r->base, "https:", 6) == 0 &&
		    e && strstr(e->msg, "TLS: handshake") && !strstr(e->msg, "certificate")) {
			/* a loopback registry speaking plain http */
			struct buf b = BUF_INIT;
			buf_printf(&b, "http:%s", r->base + 6);
			free(r->base);
			r->base = buf_steal(&b);
			r->auto_http = 0;
			continue;
		}
		if (rc < 0)
			return err_wrap(e, "registry %s, repository %s", r->host, repo);
		if (resp->status != 401 || answered || (rq->body_reader && rq->body_reader_len))
			break;
		free(authz);
		authz = NULL;
		rc = auth_answer(r->auth, http_response_header(resp, "www-authenticate"), scope,
				 &authz, e);
		http_response_free(resp);
		resp = NULL;
		if (rc < 0)
			return rc;
		answered = 1;
	}
	*out = resp;
	return 0;
}

static void scope_of(struct buf *b, const char *repo, int push)
{
	buf_printf(b, "repository:%s:%s", repo, push ? "pull,push" : "pull");
}

static void set_media_type(struct registry_manifest *m, const char *ct)
{
	size_t n;

	if (!ct)
		return;
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	m->media_type = xstrndup(ct, n);
}

static int manifest_req(struct registry *r, const char *method, const char *repo,
			const char *ref, struct registry_manifest *out, struct err *e)
{
	static const char *const hdrs[] = { manifest_accept, NULL };
	_cleanup_buf_ struct buf path = BUF_INIT, scope = BUF_INIT, what = BUF_INIT;
	struct http_request rq = { .method = method, .headers = hdrs };
	struct http_response *resp;
	const char *dcd;
	int rc, by_digest = strchr(ref, ':') != NULL;

	memset(out, 0, sizeof(*out));
	if ((rc = check_repo(repo, e)) < 0 || (rc = check_ref(ref, e)) < 0)
		return rc;
	buf_printf(&path, "/v2/%s/manifests/%s", repo, ref);
	buf_printf(&what, "manifest %s", ref);
	scope_of(&scope, repo, 0);
	if ((rc = reg_do(r, &rq, buf_str(&path), buf_str(&scope), repo, &resp, e)) < 0)
		return rc;
	if (resp->status != 200) {
		rc = status_error(r, resp, repo, buf_str(&what), e);
		goto out;
	}
	set_media_type(out, http_response_header(resp, "content-type"));
	dcd = http_response_header(resp, "docker-content-digest");
	out->size = resp->content_length;
	if (strcmp(method, "HEAD") == 0) {
		if (dcd && digest_parse(dcd, &out->digest, NULL) == 0)
			out->have_digest = 1;
		else if (by_digest && digest_parse(ref, &out->digest, NULL) == 0)
			out->have_digest = 1;
		goto out;
	}
	buf_init(&out->body, 0);
	rc = http_response_read_all(resp, &out->body, REGISTRY_MANIFEST_MAX, e);
	if (rc < 0) {
		err_wrap(e, "registry %s: manifest %s in repository %s", r->host, ref, repo);
		goto out;
	}
	sha256_digest(out->body.data ? out->body.data : "", out->body.len, &out->digest);
	out->have_digest = 1;
	out->size = (long long)out->body.len;
	if (by_digest && strcmp(out->digest.s, ref) != 0) {
		rc = err_set(e, -EBADMSG, "registry %s: manifest %s in repository %s has digest %s",
			     r->host, ref, repo, out->digest.s);
		goto out;
	}
	if (dcd && !by_digest && strcmp(dcd, out->digest.s) != 0 && strncmp(dcd, "sha256:", 7) == 0) {
		rc = err_set(e, -EBADMSG, "registry %s: manifest %s in repository %s: body digest %s "
			     "differs from Docker-Content-Digest", r->host, ref, repo, out->digest.s);
		goto out;
	}
out:
	http_response_free(resp);
	if (rc < 0)
		registry_manifest_free(out);
	return rc;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *ref,
			  struct registry_manifest *out, struct err *e)
{
	return manifest_req(r, "GET", repo, ref, out, e);
}

int registry_head_manifest(struct registry *r, const char *repo, const char *ref,
			   struct registry_manifest *out, struct err *e)
{
	return manifest_req(r, "HEAD", repo, ref, out, e);
}

/* "bytes 100-199/1000" -> start and total (-1 if "*"). */
static int parse_content_range(const char *s, long long *start, long long *total)
{
	char *end;

	if (!s || strncasecmp(s, "bytes ", 6) != 0)
		return -EINVAL;
	errno = 0;
	*start = strtoll(s + 6, &end, 10);
	if (errno || *end != '-' || *start < 0)
		return -EINVAL;
	end = strchr(end, '/');
	if (!end)
		return -EINVAL;
	*total = end[1] == '*' ? -1 : strtoll(end + 1, NULL, 10);
	return 0;
}

int registry_get_blob(struct registry *r, const char *repo, const struct digest *d,
		      long long offset, struct http_response **out, long long *total,
		      struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT, scope = BUF_INIT, range = BUF_INIT,
		what = BUF_INIT;
	const char *hdrs[2] = { NULL, NULL };
	struct http_request rq = { .method = "GET", .headers = hdrs };
	struct http_response *resp;
	long long start, tot;
	int rc;

	*total = -1;
	if ((rc = check_repo(repo, e)) < 0)
		return rc;
	buf_printf(&path, "/v2/%s/blobs/%s", repo, d->s);
	buf_printf(&what, "blob %s", d->s);
	scope_of(&scope, repo, 0);
	if (offset > 0) {
		buf_printf(&range, "Range: bytes=%lld-", offset);
		hdrs[0] = buf_str(&range);
	}
	if ((rc = reg_do(r, &rq, buf_str(&path), buf_str(&scope), repo, &resp, e)) < 0)
		return rc;
	if (resp->status == 200) {
		*total = resp->content_length;
		if (offset > 0 && (rc = reader_skip(&resp->body, (unsigned long long)offset,
						    "blob before the resume offset", e)) < 0) {
			err_wrap(e, "registry %s: blob %s in repository %s", r->host, d->s, repo);
			http_response_free(resp);
			return rc;
		}
	} else if (resp->status == 206 && offset > 0) {
		if (parse_content_range(http_response_header(resp, "content-range"), &start, &tot) < 0 ||
		    start != offset) {
			http_response_free(resp);
			return err_set(e, -EPROTO, "registry %s: blob %s: bad Content-Range for a resume at %lld",
				       r->host, d->s, offset);
		}
		*total = tot;
	} else {
		rc = status_error(r, resp, repo, buf_str(&what), e);
		http_response_free(resp);
		return rc;
	}
	*out = resp;
	return 0;
}

int registry_head_blob(struct registry *r, const char *repo, const struct digest *d,
		       long long *size, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT, scope = BUF_INIT, what = BUF_INIT;
	struct http_request rq = { .method = "HEAD" };
	struct http_response *resp;
	int rc;

	if ((rc = check_repo(repo, e)) < 0)
		return rc;
	buf_printf(&path, "/v2/%s/blobs/%s", repo, d->s);
	buf_printf(&what, "blob %s", d->s);
	scope_of(&scope, repo, 0);
	if ((rc = reg_do(r, &rq, buf_str(&path), buf_str(&scope), repo, &resp, e)) < 0)
		return rc;
	if (resp->status == 200)
		*size = resp->content_length;
	else
		rc = status_error(r, resp, repo, buf_str(&what), e);
	http_response_free(resp);
	return rc;
}

/* The upload URL from a Location header, made absolute. */
static int upload_location(struct registry *r, struct http_response *resp, struct buf *out,
			   struct err *e)
{
	const char *loc = http_response_header(resp, "location");
	struct http_url base, u;
	int rc;

	if (!loc || !*loc)
		return err_set(e, -EPROTO, "registry %s: upload response without a Location", r->host);
	if ((rc = http_url_parse(resp->url, &base, e)) < 0)
		return rc;
	rc = http_url_resolve(&base, loc, &u, e);
	http_url_free(&base);
	if (rc < 0)
		return err_wrap(e, "registry %s: bad upload Location", r->host);
	buf_reset(out);
	http_url_format(&u, out);
	http_url_free(&u);
	return 0;
}

/* Passes exactly n bytes of in through. */
struct limit_reader {
	struct reader r;
	struct reader *in;
	long long left;
};

static ssize_t limit_read(struct reader *rd, void *p, size_t n, struct err *e)
{
	struct limit_reader *l = (struct limit_reader *)rd;
	ssize_t got;

	if (l->left <= 0)
		return 0;
	if ((long long)n > l->left)
		n = (size_t)l->left;
	got = reader_read(l->in, p, n, e);
	if (got > 0)
		l->left -= got;
	return got;
}

/* All size bytes went through dr: one more read makes it check the end
 * (nothing more in the source, and the digest). */
static int finish_check(struct digest_reader *dr, struct err *e)
{
	unsigned char probe;
	ssize_t got = reader_read(&dr->r, &probe, 1, e);

	if (got > 0)
		return err_set(e, -EFBIG, "blob upload source is longer than %lld bytes", dr->want_size);
	return got < 0 ? (int)got : 0;
}

static int upload(struct registry *r, const char *repo, const struct digest *d,
		  long long size, struct reader *body, size_t chunk_size, struct buf *loc,
		  const char *scope, struct err *e)
{
	static const char *const octet[] = { "Content-Type: application/octet-stream", NULL };
	_cleanup_buf_ struct buf crange = BUF_INIT;
	struct digest_reader dr;
	struct limit_reader lr = { { limit_read, NULL }, NULL, 0 };
	struct http_response *resp = NULL;
	long long off = 0;
	int rc;

	/* Verify what we send: a lying source must not become a blob. */
	digest_reader_init(&dr, body, size, d, "blob upload");
	lr.in = &dr.r;
	while (chunk_size && off < size) {
		const char *hdrs[3] = { octet[0], NULL, NULL };
		struct http_request rq = { .method = "PATCH", .headers = hdrs, .body_reader = &lr.r };
		long long n = size - off < (long long)chunk_size ? size - off : (long long)chunk_size;

		buf_reset(&crange);
		buf_printf(&crange, "Content-Range: %lld-%lld", off, off + n - 1);
		hdrs[1] = buf_str(&crange);
		lr.left = n;
		rq.body_reader_len = n;
		if ((rc = reg_do(r, &rq, buf_str(loc), scope, repo, &resp, e)) < 0)
			return rc;
		if (resp->status != 202) {
			rc = status_error(r, resp, repo, "blob upload chunk", e);
			http_response_free(resp);
			return rc;
		}
		rc = upload_location(r, resp, loc, e);
		http_response_free(resp);
		if (rc < 0)
			return rc;
		off += n;
	}
	if (chunk_size && (rc = finish_check(&dr, e)) < 0)
		return rc;
	buf_puts(loc, strchr(buf_str(loc), '?') ? "&digest=" : "?digest=");
	buf_puts(loc, d->s);
	{
		struct http_request rq = { .method = "PUT", .headers = octet, .send_length = 1 };
		if (!chunk_size) {
			lr.left = size;
			rq.body_reader = &lr.r;
			rq.body_reader_len = size;
		}
		if ((rc = reg_do(r, &rq, buf_str(loc), scope, repo, &resp, e)) < 0)
			return rc;
	}
	if (resp->status != 201 && resp->status != 204) {
		rc = status_error(r, resp, repo, "blob upload", e);
		http_response_free(resp);
		return rc;
	}
	http_response_free(resp);
	return chunk_size ? 0 : finish_check(&dr, e);
}

int registry_push_blob(struct registry *r, const char *repo, const struct digest *d,
		       long long size, struct reader *body, const char *mount_from,
		       size_t chunk_size, int *mounted, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT, scope = BUF_INIT, loc = BUF_INIT;
	struct http_request rq = { .method = "POST", .send_length = 1 };
	struct http_response *resp;
	long long have;
	int rc;

	if (mounted)
		*mounted = 0;
	if ((rc = check_repo(repo, e)) < 0 || (mount_from && (rc = check_repo(mount_from, e)) < 0))
		return rc;
	rc = registry_head_blob(r, repo, d, &have, e);
	if (rc == 0) {
		if (mounted)
			*mounted = 1;
		return 0;
	}
	if (rc != -ENOENT && rc != -EACCES)
		return rc;
	scope_of(&scope, repo, 1);
	buf_printf(&path, "/v2/%s/blobs/uploads/", repo);
	if (mount_from) {
		buf_printf(&path, "?mount=%s&from=%s", d->s, mount_from);
		buf_printf(&scope, " repository:%s:pull", mount_from);
	}
	if ((rc = reg_do(r, &rq, buf_str(&path), buf_str(&scope), repo, &resp, e)) < 0)
		return rc;
	if (mount_from && resp->status == 201) {
		http_response_free(resp);
		if (mounted)
			*mounted = 1;
		return 0;
	}
	if (resp->status != 202) {
		rc = status_error(r, resp, repo, "blob upload", e);
		http_response_free(resp);
		return rc;
	}
	rc = upload_location(r, resp, &loc, e);
	http_response_free(resp);
	if (rc < 0)
		return rc;
	return upload(r, repo, d, size, body, chunk_size, &loc, buf_str(&scope), e);
}

int registry_put_manifest(struct registry *r, const char *repo, const char *ref,
			  const char *media_type, const void *body, size_t len,
			  struct digest *out, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT, scope = BUF_INIT, ct = BUF_INIT, what = BUF_INIT;
	const char *hdrs[2] = { NULL, NULL };
	struct http_request rq = { .method = "PUT", .headers = hdrs, .body = body, .body_len = len };
	struct http_response *resp;
	struct digest dg;
	const char *dcd;
	int rc;

	if ((rc = check_repo(repo, e)) < 0 || (rc = check_ref(ref, e)) < 0)
		return rc;
	if (strpbrk(media_type, "\r\n"))
		return err_set(e, -EINVAL, "invalid media type");
	sha256_digest(body, len, &dg);
	if (strchr(ref, ':') && strcmp(ref, dg.s) != 0)
		return err_set(e, -EINVAL, "manifest digest %s does not match reference %s", dg.s, ref);
	buf_printf(&ct, "Content-Type: %s", media_type);
	hdrs[0] = buf_str(&ct);
	buf_printf(&path, "/v2/%s/manifests/%s", repo, ref);
	buf_printf(&what, "manifest %s", ref);
	scope_of(&scope, repo, 1);
	if ((rc = reg_do(r, &rq, buf_str(&path), buf_str(&scope), repo, &resp, e)) < 0)
		return rc;
	if (resp->status != 201 && resp->status != 200 && resp->status != 202) {
		rc = status_error(r, resp, repo, buf_str(&what), e);
	} else {
		dcd = http_response_header(resp, "docker-content-digest");
		if (dcd && strncmp(dcd, "sha256:", 7) == 0 && strcmp(dcd, dg.s) != 0)
			rc = err_set(e, -EBADMSG, "registry %s stored manifest %s as %s, expected %s",
				     r->host, ref, dcd, dg.s);
		else if (out)
			*out = dg;
	}
	http_response_free(resp);
	return rc;
}

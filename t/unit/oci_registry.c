/* oci/registry.c against a hostile fake registry on 127.0.0.1: digest and
 * size lies, error statuses mapped to sentences, Range resume, blob
 * redirects (no Authorization to the storage host), bearer auth with a
 * re-challenge, path-injection attempts and uploads. */
#include "lib/err.h"
#include "oci/auth.h"
#include "oci/http.h"
#include "oci/registry.h"
#include "t/tap.h"
#include "t/unit/http_fake.h"

static struct fake reg, store;
static const char manifest[] = "{\"schemaVersion\":2}";
static const char blob[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static struct digest mdig, bdig;

static int h_store(struct fconn *fc, const char *req, size_t len, int n)
{
	(void)req; (void)len; (void)n;
	fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(blob), blob);
	return 1;
}

static int h_reg(struct fconn *fc, const char *req, size_t len, int n)
{
	char line[512];
	(void)len; (void)n;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(req, "\r"), req);
	if (strstr(line, "/token")) {
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"token\":\"tok-1\"}");
		return 1;
	}
	if (strstr(line, "/v2/auth/") && !strstr(req, "Authorization: Bearer tok-1")) {
		fc_printf(fc, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\"\r\n"
			  "Content-Length: 0\r\n\r\n", fc->f->port);
		return 1;
	}
	if (strstr(line, "/v2/auth/always401/")) {
		fc_printf(fc, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\"\r\n"
			  "Content-Length: 0\r\n\r\n", fc->f->port);
		return 1;
	}
	if (strstr(line, "/v2/auth/redirect/blobs/")) {
		fc_printf(fc, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:%d/storage/x\r\nContent-Length: 0\r\n\r\n",
			  store.port);
		return 1;
	}
	if (strstr(line, "/manifests/good") || strstr(line, mdig.s)) {
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json; charset=x\r\n"
			  "Docker-Content-Digest: %s\r\nContent-Length: %zu\r\n\r\n%s",
			  mdig.s, strlen(manifest), strncmp(line, "HEAD", 4) ? manifest : "");
		return 1;
	}
	if (strstr(line, "/manifests/liar") || strstr(line, "/manifests/sha256:")) {
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDocker-Content-Digest: %s\r\n"
			  "Content-Length: 4\r\n\r\n{}  ", mdig.s);
		return 1;
	}
	if (strstr(line, "/manifests/huge")) {
		fc_puts(fc, "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n");
		return 0;
	}
	if (strstr(line, "/manifests/unknown")) {
		fc_puts(fc, "HTTP/1.1 404 Not Found\r\nContent-Length: 60\r\n\r\n{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"<b>x</b>\"}]}");
		return 1;
	}
	if (strstr(line, "/v2/gone/")) {
		fc_puts(fc, "HTTP/1.1 404 Not Found\r\nContent-Length: 40\r\n\r\n{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}    ");
		return 1;
	}
	if (strstr(line, "/v2/denied/")) {
		fc_puts(fc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(line, "/v2/limited/")) {
		fc_puts(fc, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(line, "/v2/broken/")) {
		fc_puts(fc, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(line, "/v2/cut/blobs/")) {
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n0123456789", strlen(blob));
		return 0;
	}
	if (strstr(line, "/v2/norange/blobs/")) {
		fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(blob), blob);
		return 1;
	}
	if (strstr(line, "/v2/badrange/blobs/")) {
		fc_puts(fc, "HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-9/36\r\nContent-Length: 10\r\n\r\n0123456789");
		return 1;
	}
	if (strstr(line, "GET /v2/lib/blobs/")) {
		const char *rg = strstr(req, "\r\nRange: bytes=");
		if (rg) {
			long off = strtol(rg + 15, NULL, 10);
			fc_printf(fc, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %ld-%zu/%zu\r\nContent-Length: %zu\r\n\r\n%s",
				  off, strlen(blob) - 1, strlen(blob), strlen(blob) - (size_t)off, blob + off);
		} else {
			fc_printf(fc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(blob), blob);
		}
		return 1;
	}
	if (strstr(line, "HEAD /v2/up/blobs/")) {
		fc_puts(fc, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(line, "POST /v2/up/blobs/uploads/")) {
		fc_puts(fc, "HTTP/1.1 202 Accepted\r\nLocation: /v2/up/blobs/uploads/u1?_state=s\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	if (strstr(line, "PATCH /v2/up/blobs/uploads/")) {
		fc_printf(fc, "HTTP/1.1 202 Accepted\r\nLocation: http://127.0.0.1:%d/v2/up/blobs/uploads/u%d?_state=s\r\nContent-Length: 0\r\n\r\n",
			  fc->f->port, n);
		return 1;
	}
	if (strstr(line, "PUT /v2/up/")) {
		fc_puts(fc, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	fc_puts(fc, "HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n");
	return 1;
}

static struct http_client *cl;
static struct registry *r;

static int read_blob(const char *repo, long long off, struct buf *out, struct err *e)
{
	struct http_response *resp;
	long long total;
	int rc = registry_get_blob(r, repo, &bdig, off, &resp, &total, e);
	buf_reset(out);
	if (rc < 0)
		return rc;
	rc = http_response_read_all(resp, out, 1 << 20, e);
	http_response_free(resp);
	return rc;
}

int main(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT, rq = BUF_INIT;
	struct http_client_opts o = { 0 };
	struct registry_opts ro = { REGISTRY_SCHEME_HTTP, NULL, NULL };
	struct registry_manifest m;
	struct err e = ERR_INIT;
	struct mem_reader mr;
	char host[64];
	int rc, before, mounted;

	sha256_digest(manifest, strlen(manifest), &mdig);
	sha256_digest(blob, strlen(blob), &bdig);
	fake_start(&reg, h_reg, NULL);
	fake_start(&store, h_store, NULL);
	o.retries = -1;
	cl = http_client_new(&o, &e);
	snprintf(host, sizeof(host), "127.0.0.1:%d", reg.port);
	r = registry_new(cl, host, &ro, &e);

	rc = registry_get_manifest(r, "lib", "good", &m, &e);
	ok(rc == 0 && strcmp(m.digest.s, mdig.s) == 0, "manifest by tag, digest computed");
	is_str(rc == 0 ? m.media_type : NULL, "application/vnd.oci.image.manifest.v1+json", "media type without parameters");
	if (rc == 0)
		registry_manifest_free(&m);
	fake_request(&reg, 0, &rq);
	ok(strstr(buf_str(&rq), "application/vnd.oci.image.index.v1+json") &&
	   strstr(buf_str(&rq), "application/vnd.docker.distribution.manifest.v2+json"), "Accept lists OCI and Docker types");
	rc = registry_get_manifest(r, "lib", mdig.s, &m, &e);
	ok(rc == 0, "manifest by digest verified");
	if (rc == 0)
		registry_manifest_free(&m);
	rc = registry_head_manifest(r, "lib", "good", &m, &e);
	ok(rc == 0 && m.have_digest && strcmp(m.digest.s, mdig.s) == 0 && m.body.len == 0, "HEAD manifest");
	if (rc == 0)
		registry_manifest_free(&m);
	rc = registry_get_manifest(r, "lib", "liar", &m, &e);
	is_int(rc, -EBADMSG, "body differing from Docker-Content-Digest: %s", e.msg);
	rc = registry_get_manifest(r, "lib", "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &m, &e);
	is_int(rc, -EBADMSG, "wrong digest for a digest reference: %s", e.msg);
	rc = registry_get_manifest(r, "lib", "huge", &m, &e);
	is_int(rc, -EFBIG, "5 MB manifest refused: %s", e.msg);
	rc = registry_get_manifest(r, "lib", "unknown", &m, &e);
	is_int(rc, -ENOENT, "unknown manifest");
	ok(strstr(e.msg, "manifest unknown not found in repository lib") && !strstr(e.msg, "<b>"),
	   "one sentence, server text not echoed: %s", e.msg);
	rc = registry_get_manifest(r, "gone", "x", &m, &e);
	ok(rc == -ENOENT && strstr(e.msg, "repository gone not found"), "NAME_UNKNOWN: %s", e.msg);
	rc = registry_get_manifest(r, "denied", "x", &m, &e);
	ok(rc == -EACCES && strstr(e.msg, "access to repository denied denied"), "403: %s", e.msg);
	rc = registry_get_manifest(r, "limited", "x", &m, &e);
	ok(rc == -EBUSY && strstr(e.msg, "rate limited (429) on repository limited; retry after 3600 s"), "429: %s", e.msg);
	rc = registry_get_manifest(r, "broken", "x", &m, &e);
	ok(rc == -EIO && strstr(e.msg, "unexpected status 500"), "500: %s", e.msg);
	before = reg.nreq;
	rc = registry_get_manifest(r, "lib", "sha256:../../x", &m, &e);
	is_int(rc, -EINVAL, "digest with a path refused: %s", e.msg);
	rc = registry_get_manifest(r, "../etc", "x", &m, &e);
	is_int(rc, -EINVAL, "repository with .. refused");
	rc = registry_get_manifest(r, "lib", "a/../../b", &m, &e);
	is_int(rc, -EINVAL, "tag with a slash refused");
	is_int(reg.nreq, before, "nothing was sent for them");

	rc = read_blob("lib", 0, &b, &e);
	is_str(buf_str(&b), blob, "blob");
	rc = read_blob("lib", 20, &b, &e);
	is_str(buf_str(&b), blob + 20, "blob resumed at 20 with Range");
	fake_request(&reg, reg.nreq - 1, &rq);
	ok(strstr(buf_str(&rq), "Range: bytes=20-\r\n") != NULL, "Range header sent");
	rc = read_blob("norange", 20, &b, &e);
	is_str(buf_str(&b), blob + 20, "server ignoring Range: prefix skipped");
	rc = read_blob("badrange", 20, &b, &e);
	is_int(rc, -EPROTO, "206 for the wrong offset refused: %s", e.msg);
	rc = read_blob("cut", 0, &b, &e);
	is_int(rc, -ECONNRESET, "connection cut mid-blob: %s", e.msg);

	rc = read_blob("auth/redirect", 0, &b, &e);
	is_str(buf_str(&b), blob, "bearer token fetched, blob redirected to storage (%s)", e.msg);
	fake_request(&store, 0, &rq);
	ok(store.nreq == 1 && strcasestr(buf_str(&rq), "authorization") == NULL && !strstr(buf_str(&rq), "tok-1"),
	   "storage host got no Authorization");
	rc = read_blob("auth/always401", 0, &b, &e);
	ok(rc == -EACCES && strstr(e.msg, "unauthorized to access repository auth/always401"),
	   "401 after a fresh token: %s", e.msg);

	mem_reader_init(&mr, blob, strlen(blob));
	rc = registry_push_blob(r, "up", &bdig, (long long)strlen(blob), &mr.r, NULL, 10, &mounted, &e);
	ok(rc == 0 && !mounted, "chunked upload (%s)", e.msg);
	{
		int i, patches = 0, ok_ranges = 1;
		for (i = 0; i < reg.nreq; i++) {
			fake_request(&reg, i, &rq);
			if (strncmp(buf_str(&rq), "PATCH ", 6) == 0) {
				char want[64];
				snprintf(want, sizeof(want), "Content-Range: %d-%d\r\n", patches * 10,
					 patches * 10 + 9 < 35 ? patches * 10 + 9 : 35);
				ok_ranges &= strstr(buf_str(&rq), want) != NULL;
				patches++;
			}
		}
		ok(patches == 4 && ok_ranges, "4 PATCHes with Content-Range");
		fake_request(&reg, reg.nreq - 1, &rq);
		ok(strstr(buf_str(&rq), "?_state=s&digest=sha256:") != NULL, "closing PUT carries the digest");
	}
	mem_reader_init(&mr, "not the blob at all, 36 bytes long!!", 36);
	rc = registry_push_blob(r, "up", &bdig, 36, &mr.r, NULL, 0, &mounted, &e);
	is_int(rc, -EBADMSG, "a source that does not match its digest is caught: %s", e.msg);

	registry_free(r);
	http_client_free(cl);

	/* scheme auto: a loopback registry speaking plain http is found */
	o.connect_timeout_ms = 500;
	cl = http_client_new(&o, &e);
	ro.scheme = REGISTRY_SCHEME_AUTO;
	r = registry_new(cl, host, &ro, &e);
	rc = registry_get_manifest(r, "lib", "good", &m, &e);
	ok(rc == 0, "auto scheme falls back to http on loopback (%s)", e.msg);
	if (rc == 0)
		registry_manifest_free(&m);
	registry_free(r);
	http_client_free(cl);
	fake_stop(&reg);
	fake_stop(&store);
	return done_testing();
}

/* docker cp and export through the API (issue #8): HEAD, GET and PUT
 * /containers/{id}/archive and GET /containers/{id}/export.  Each runs a
 * COPY process in the guest (initrd/agent.h, initrd/init_copy.c) on a
 * fresh stream of the container's runtime link, the way exec does:
 *
 *   HEAD  stat, answered with X-Docker-Container-Path-Stat;
 *   GET   one guest process writes the stat's line, then the tar: the
 *         answer's head waits for the line (404/400 before any byte of
 *         the body), the tar is streamed as a chunked body;
 *   PUT   the request body streamed to the guest's extractor (the server
 *         route is marked as taking its body raw, api_router.h), 200 once
 *         it finished, else 404 / 400 (not a directory, a bad archive);
 *   export the whole root file system of a running container.
 *
 * What the guest sends is untrusted: the stat object is parsed by
 * api_archive_stat (bounded, fuzzed by t/fuzz/archive_stat.c) and rebuilt;
 * the tar is passed through to the client untouched (the client's
 * extractor is the one that must hold, oci/tarx.h); the guest's stderr is
 * kept up to ERR_MAX bytes for the error message.  Only running containers:
 * a stopped one answers 409 (Docker can copy from stopped containers). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "applets/api_archive.h"
#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define STAT_MAX (16u << 10)
#define ERR_MAX 2048u
#define RAW_MAX ((size_t)1 << 20)

/* STAT: the stat of a HEAD or GET; STREAM: a GET's or export's tar going
 * out as a chunked body; EXTRACT: a PUT. */
enum phase { PH_STAT, PH_STREAM, PH_EXTRACT };

struct job {
	struct api_sub sub;
	struct api_conn *k;
	struct api_ctr *r;
	enum phase ph;
	bool head, stat_only, chunked, body_done, answered;
	int keepalive;
	unsigned flags;
	char ctr[BUNDLE_ID_LEN + 1];
	struct buf path, out, err;
	/* PUT: the request body */
	unsigned long long left;
	struct buf raw;
	struct api_chunked ch;
};

static void job_free(struct job *j)
{
	api_ctr_unsubscribe(&j->sub);
	buf_free(&j->path);
	buf_free(&j->out);
	buf_free(&j->err);
	buf_free(&j->raw);
	free(j);
}

/* The answer is complete (or the connection must end): let go of both. */
static void job_end(struct job *j, int keepalive)
{
	struct api_conn *k = j->k;

	j->k = NULL;
	if (k)
		api_conn_done(k, keepalive);
	job_free(j);
}

int api_archive_stat(const char *p, size_t n, struct buf *out, bool *is_dir, struct err *e)
{
	json_t *j __attribute__((cleanup(jsonx_decrefp))) = NULL;
	json_t *name, *size, *mode, *mtime, *link, *clean;
	char *s;
	int rc;

	if (!(j = jsonx_parse(p, n, STAT_MAX, "the guest's stat", e)))
		return -EBADMSG;
	name = json_object_get(j, "name");
	size = json_object_get(j, "size");
	mode = json_object_get(j, "mode");
	mtime = json_object_get(j, "mtime");
	link = json_object_get(j, "linkTarget");
	if (!json_is_object(j) || !json_is_string(name) || !json_is_integer(size) ||
	    !json_is_integer(mode) || !json_is_string(mtime) || !json_is_string(link) ||
	    json_integer_value(size) < 0 || json_integer_value(mode) < 0 ||
	    json_integer_value(mode) > 0xffffffffll || json_string_length(name) > 4096 ||
	    json_string_length(mtime) > 64 || json_string_length(link) > 4096)
		return err_set(e, -EBADMSG, "the guest's stat is malformed");
	clean = json_pack("{s:O, s:O, s:O, s:O, s:O}", "name", name, "size", size, "mode", mode,
			  "mtime", mtime, "linkTarget", link);
	s = clean ? json_dumps(clean, JSON_COMPACT) : NULL;
	json_decref(clean);
	if (!s)
		return err_set(e, -ENOMEM, "describing the path");
	{
		size_t len = strlen(s), olen = 0;
		unsigned char *b64 = xmalloc(len * 4 / 3 + 8);
		rc = mbedtls_base64_encode(b64, len * 4 / 3 + 8, &olen, (const unsigned char *)s,
					   len);
		if (rc == 0)
			buf_append(out, b64, olen);
		free(b64);
	}
	free(s);
	*is_dir = (json_integer_value(mode) >> 31) & 1;
	return rc ? err_set(e, -EINVAL, "base64") : 0;
}

/* ---- answers ---- */

static void reply(struct job *j, int status, const char *msg)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int ka = j->keepalive && j->ph != PH_EXTRACT;

	if (j->answered || !j->k)
		return;
	j->answered = true;
	if (status >= 300)
		api_write_error(&b, status, msg, ka, j->head);
	else
		api_write_body(&b, status, "text/plain; charset=utf-8", NULL, "", 0, ka, j->head);
	api_conn_write(j->k, b.data, b.len);
	job_end(j, ka);
}

static void reply_failed(struct job *j, int status)
{
	_cleanup_buf_ struct buf m = BUF_INIT;

	while (j->err.len && (j->err.data[j->err.len - 1] == '\n'))
		buf_truncate(&j->err, j->err.len - 1);
	switch (status) {
	case AGENT_COPY_E_NOENT:
		buf_printf(&m, "Could not find the file %s in container %s", buf_str(&j->path),
			   j->ctr);
		reply(j, 404, buf_str(&m));
		return;
	case AGENT_COPY_E_NOTDIR:
		reply(j, 400, j->err.len ? buf_str(&j->err) : "not a directory");
		return;
	case AGENT_COPY_E_BADTAR:
		buf_printf(&m, "the archive was refused: %s", buf_str(&j->err));
		reply(j, 400, buf_str(&m));
		return;
	default:
		buf_printf(&m, "copy in the container failed: %s",
			   j->err.len ? buf_str(&j->err) : status < 0 ? "the runtime went away"
								     : "unknown error");
		reply(j, 500, buf_str(&m));
	}
}

/* ---- the guest side ---- */

static const struct api_sub_ops job_ops;

static int job_send(struct job *j, enum agent_copy_op op, unsigned flags, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct agent_copy c = { op, buf_str(&j->path), flags };

	api_ctr_unsubscribe(&j->sub);
	j->sub.stream = api_ctr_new_stream(j->r);
	j->sub.ops = &job_ops;
	j->sub.ud = j;
	j->sub.conn = j->k;
	buf_reset(&j->out);
	buf_reset(&j->err);
	if (agent_put_copy(&b, j->sub.stream, &c, e) < 0 ||
	    agent_put_raw(&b, AGENT_START, j->sub.stream, 0, NULL, 0, e) < 0 ||
	    api_ctr_send(j->r, &b, e) < 0)
		return -1;
	api_ctr_subscribe(j->r, &j->sub);
	return 0;
}

/* The guest's COPY is no longer wanted: killed, not left to run on. */
static void kill_guest(struct job *j)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (j->sub.ctr && agent_put_signal(&b, j->sub.stream, SIGKILL, &e) == 0)
		api_ctr_send(j->sub.ctr, &b, &e);
}

static bool stat_done(struct job *j);

static void j_output(struct api_sub *s, int fd, const void *p, size_t n)
{
	struct job *j = s->ud;

	if (fd == 2) {
		size_t room = ERR_MAX - j->err.len;
		buf_append(&j->err, p, n < room ? n : room);
		return;
	}
	if (j->ph == PH_STREAM) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (!j->k)
			return;
		api_write_chunk(&b, p, n);
		api_conn_write(j->k, b.data, b.len);
		return;
	}
	if (j->ph != PH_STAT)
		return;
	if (j->stat_only) {
		if (j->out.len + n <= STAT_MAX)
			buf_append(&j->out, p, n);
		return;
	}
	/* GET: the stat's line, then the tar */
	{
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - (const char *)p) : n;
		if (j->out.len + take > STAT_MAX) {
			buf_reset(&j->err);
			buf_puts(&j->err, "the guest's stat is too long");
			kill_guest(j);
			reply_failed(j, AGENT_COPY_E_OTHER);
			return;
		}
		buf_append(&j->out, p, take);
		if (!nl)
			return;
		if (stat_done(j) && n > take + 1)
			j_output(s, fd, nl + 1, n - take - 1);
	}
}

static void j_error(struct api_sub *s, int code, const char *msg)
{
	struct job *j = s->ud;

	(void)code;
	if (j->ph == PH_STREAM) {
		job_end(j, 0);
		return;
	}
	buf_reset(&j->err);
	buf_puts(&j->err, msg);
	reply_failed(j, AGENT_COPY_E_OTHER);
}

/* The stat in j->out is complete: the HEAD's answer, or the head of the
 * GET's tar (which the guest writes right after the stat's line).  true:
 * the tar goes on (j lives); false: answered and j is gone. */
static bool stat_done(struct job *j)
{
	_cleanup_buf_ struct buf hdr = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	bool is_dir;

	buf_puts(&hdr, "X-Docker-Container-Path-Stat: ");
	if (api_archive_stat(j->out.data ? j->out.data : "", j->out.len, &hdr, &is_dir, &e) < 0) {
		buf_reset(&j->err);
		buf_puts(&j->err, e.msg);
		kill_guest(j);
		reply_failed(j, AGENT_COPY_E_OTHER);
		return false;
	}
	buf_puts(&hdr, "\r\n");
	j->answered = true;
	if (j->stat_only) {
		api_write_body(&b, 200, "text/plain; charset=utf-8", buf_str(&hdr), "", 0,
			       j->keepalive, j->head);
		api_conn_write(j->k, b.data, b.len);
		job_end(j, j->keepalive);
		return false;
	}
	j->ph = PH_STREAM;
	api_write_head(&b, 200, "application/x-tar", buf_str(&hdr), -1, j->keepalive);
	api_conn_write(j->k, b.data, b.len);
	return true;
}

static void j_exit(struct api_sub *s, int status)
{
	struct job *j = s->ud;

	if (j->ph == PH_STREAM) {
		/* a tar cut short must not look complete: no last chunk */
		if (status == 0 && j->k)
			api_conn_end_chunked(j->k, j->keepalive);
		else if (j->k)
			api_conn_done(j->k, 0);
		j->k = NULL;
		job_free(j);
		return;
	}
	if (status != 0) {
		reply_failed(j, status);
		return;
	}
	if (j->ph == PH_STAT && j->stat_only) {
		(void)stat_done(j);
	} else if (j->ph == PH_STAT) {
		buf_reset(&j->err);
		buf_puts(&j->err, "the guest sent no stat before the archive");
		reply_failed(j, AGENT_COPY_E_OTHER);
	} else {
		reply(j, 200, NULL);
	}
}

static void j_writable(struct api_sub *s)
{
	struct job *j = s->ud;

	if (j->k && j->ph == PH_EXTRACT && !j->body_done)
		api_conn_read(j->k, 1);
}

static const struct api_sub_ops job_ops = {
	.output = j_output, .error = j_error, .exit = j_exit, .writable = j_writable,
};

/* ---- the client side ---- */

static void c_closed(void *ud)
{
	struct job *j = ud;

	/* nobody wants what the guest's COPY does any more (a tar nobody
	 * reads, a PUT cut short) */
	kill_guest(j);
	j->k = NULL;
	job_free(j);
}

static void c_drain(void *ud)
{
	struct job *j = ud;

	if (j->sub.ctr)
		api_ctr_flow(j->sub.ctr);
}

static void to_guest(struct job *j, const char *p, size_t n, bool eof)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	while (n) {
		size_t m = n > AGENT_DATA_CHUNK ? AGENT_DATA_CHUNK : n;
		agent_put_raw(&b, AGENT_STDIN, j->sub.stream, 0, p, m, &e);
		p += m;
		n -= m;
	}
	if (eof) {
		agent_put_raw(&b, AGENT_STDIN, j->sub.stream, AGENT_FLAG_EOF, NULL, 0, &e);
		j->body_done = true;
	}
	if (b.len && j->sub.ctr)
		api_ctr_send(j->sub.ctr, &b, &e);
}

static void c_data(void *ud, const char *p, size_t n)
{
	struct job *j = ud;
	struct err e = ERR_INIT;
	int rc;

	if (j->body_done || j->answered)
		return;   /* anything after the body is dropped: the answer closes */
	if (!j->chunked) {
		size_t take = n < j->left ? n : (size_t)j->left;
		j->left -= take;
		to_guest(j, p, take, j->left == 0);
	} else {
		if (buf_append(&j->raw, p, n) < 0) {
			to_guest(j, NULL, 0, true);
			reply(j, 400, "malformed chunked body");
			return;
		}
		rc = api_chunked_step(&j->ch, j->raw.data, j->raw.len, RAW_MAX, &e);
		if (rc < 0) {
			to_guest(j, NULL, 0, true);
			reply(j, 400, e.msg);
			return;
		}
		to_guest(j, j->raw.data, j->ch.out, rc == 1);
		buf_consume(&j->raw, j->ch.raw);
		j->ch.raw = j->ch.out = 0;
	}
	if (j->k && !j->body_done && j->sub.ctr && api_ctr_queued(j->sub.ctr) > API_CTR_SEND_MAX)
		api_conn_read(j->k, 0);
}

static void c_eof(void *ud)
{
	struct job *j = ud;

	if (!j->body_done)
		to_guest(j, NULL, 0, true);   /* short body: the extractor says so */
}

static const struct api_stream_ops conn_ops = {
	.data = c_data, .eof = c_eof, .drain = c_drain, .closed = c_closed,
};

/* ---- handlers ---- */

static struct job *job_new(struct api_call *c, bool need_path)
{
	char id[BUNDLE_ID_LEN + 1];
	_cleanup_buf_ struct buf q = BUF_INIT;
	struct err e = ERR_INIT;
	struct api_ctr *r;
	struct job *j;
	int rc;

	if (api_param_ctr(c, 0, id) < 0)
		return NULL;
	if (need_path) {
		rc = api_query_get(c->query, c->query_len, "path", &q);
		if (rc <= 0 || !q.len) {
			api_reply_error(c, 400, rc < 0 ? "malformed path parameter"
						       : "path parameter is required");
			return NULL;
		}
		if (q.len >= 4096) {
			api_reply_error(c, 400, "path too long");
			return NULL;
		}
	}
	r = api_ctr_get(c->ctx->sup, id);
	if (api_ctr_link(r, &e) < 0 || !api_ctr_running(r)) {
		api_reply_error(c, 409, "Container %s is not running (copying needs a running "
					"container here)", id);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->keepalive = c->keepalive;
	j->head = c->head;
	snprintf(j->ctr, sizeof(j->ctr), "%s", id);
	buf_init(&j->raw, RAW_MAX);
	if (need_path) {
		/* lexical clean in the container's terms ("/a/../b" is "/b"), the
		 * trailing "/." or "/" kept: they mean something to docker cp */
		_cleanup_buf_ struct buf abs = BUF_INIT;
		buf_printf(&abs, "%s%s", q.data[0] == '/' ? "" : "/", buf_str(&q));
		fs_path_clean(buf_str(&abs), &j->path);
		if (!j->path.len)
			buf_puts(&j->path, "/");
		if (fs_path_ends_dot(buf_str(&q)))
			buf_puts(&j->path, j->path.len > 1 ? "/." : ".");
		else if (q.data[q.len - 1] == '/' && j->path.len > 1)
			buf_puts(&j->path, "/");
	}
	return j;
}

/* -1: answered already and j is gone. */
static int start(struct api_call *c, struct job *j, enum agent_copy_op op, int hijack)
{
	struct err e = ERR_INIT;

	j->k = api_call_take(c, &conn_ops, j, hijack);
	if (job_send(j, op, j->flags, &e) < 0) {
		buf_puts(&j->err, e.msg);
		reply_failed(j, AGENT_COPY_E_OTHER);
		return -1;
	}
	return 0;
}

void api_archive_get_h(struct api_call *c)
{
	struct job *j = job_new(c, true);

	if (!j)
		return;
	j->ph = PH_STAT;
	j->stat_only = c->head;
	if (!c->head)
		j->flags |= AGENT_COPY_STAT_FIRST;   /* one guest process for both */
	start(c, j, c->head ? AGENT_COPY_STAT : AGENT_COPY_ARCHIVE, 0);
}

void api_archive_put_h(struct api_call *c)
{
	struct job *j = job_new(c, true);
	const char *expect;
	size_t n;

	if (!j)
		return;
	j->ph = PH_EXTRACT;
	if (api_query_bool(c, "noOverwriteDirNonDir", 0))
		j->flags |= AGENT_COPY_NO_OVERWRITE_DIR;
	if (api_query_bool(c, "copyUIDGID", 0))
		j->flags |= AGENT_COPY_KEEP_IDS;
	j->chunked = c->req->body == API_BODY_CHUNKED;
	j->left = c->req->body == API_BODY_LENGTH ? c->req->content_length : 0;
	if (start(c, j, AGENT_COPY_EXTRACT, 1) < 0)
		return;
	if ((expect = api_req_header(c->req, "Expect", &n)) && n == 12 &&
	    !strncasecmp(expect, "100-continue", 12))
		api_conn_write(j->k, "HTTP/1.1 100 Continue\r\n\r\n", 25);   /* curl waits for it */
	if (!j->chunked && !j->left)
		to_guest(j, NULL, 0, true);   /* no body at all: an empty archive */
}

void api_export_h(struct api_call *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct job *j = job_new(c, false);
	struct err e = ERR_INIT;

	if (!j)
		return;
	buf_puts(&j->path, "/");
	j->ph = PH_STREAM;
	j->answered = true;
	api_write_head(&b, 200, "application/x-tar", NULL, -1, j->keepalive);
	j->k = api_call_take(c, &conn_ops, j, 0);
	api_conn_write(j->k, b.data, b.len);
	if (job_send(j, AGENT_COPY_EXPORT, 0, &e) < 0)
		job_end(j, 0);
}

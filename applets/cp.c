/* `container cp` and `container export` (issue #8): clients of the API
 * server's archive and export endpoints (applets/api_archive.c), as the
 * real docker CLI is, over one HTTP/1.1 connection per request.
 *
 *   cp CTR:SRC DST   GET /containers/CTR/archive?path=SRC; the tar is
 *                    extracted by oci/tarx.h's extractor, which keeps what
 *                    the (untrusted) guest sends inside the destination;
 *                    DST "-" writes the tar to stdout.
 *   cp SRC CTR:DST   HEAD for DST's stat, then PUT the tar of SRC (our
 *                    writer, a chunked body) into DST or its parent;
 *                    SRC "-" sends the tar read from stdin.
 *   export CTR       GET /containers/CTR/export to -o FILE or stdout.
 *
 * Docker's naming: a directory copied onto an existing directory lands
 * inside it, onto a new name it takes that name; SRC ending in "/." copies
 * the contents.  -a keeps uid/gid (else the files belong to whoever runs
 * cp out, and to root in the container); -L follows a symlink SRC. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "applets/api_client.h"
#include "applets/api_http.h"
#include "applets/applets.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/opt.h"
#include "lib/stream.h"
#include "oci/http_parse.h"
#include "oci/tarx.h"

#define TIMEOUT_MS (30 * 60 * 1000)
#define CHUNK (64u << 10)

struct cp_cli {
	int archive, follow;
};

static const struct opt cp_optv[] = {
	OPT_FLAG('a', "archive", struct cp_cli, archive, "Keep uid/gid of the files"),
	OPT_FLAG('L', "follow-link", struct cp_cli, follow, "Follow a symlink SRC_PATH"),
	OPT_END,
};

/* ---- one request on its own connection ---- */

struct resp {
	struct reader r;
	int fd, status;
	enum http_framing fr;
	unsigned long long left;      /* LENGTH: body bytes still to come */
	struct buf in;                /* raw bytes read, not yet decoded */
	struct api_chunked ch;
	size_t pos;                   /* CHUNKED: decoded bytes given out */
	bool done;
	struct buf stat;              /* X-Docker-Container-Path-Stat, decoded */
};

static int connect_api(int *out, struct err *e)
{
	_cleanup_buf_ struct buf sock = BUF_INIT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { TIMEOUT_MS / 1000, 0 };
	int fd;

	if (api_client_socket_path(&sock, e) < 0)
		return -1;
	if (sock.len >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "socket path %s is too long", buf_str(&sock));
	memcpy(sa.sun_path, sock.data, sock.len);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return err_sys(e, "socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return err_set(e, -ECONNREFUSED, "the API server is not running (no server on %s)",
			       buf_str(&sock));
	}
	*out = fd;
	return 0;
}

static ssize_t fill(struct resp *r, struct err *e)
{
	ssize_t n;

	if (buf_reserve(&r->in, CHUNK) < 0)
		return err_set(e, -EFBIG, "API response head too large");
	do
		n = read(r->fd, r->in.data + r->in.len, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(e, "reading from the API server");
	r->in.len += (size_t)n;
	return n;
}

static ssize_t body_read(struct reader *rd, void *p, size_t n, struct err *e)
{
	struct resp *r = (struct resp *)rd;
	ssize_t got;
	int rc;

	for (;;) {
		if (r->fr == HTTP_BODY_CHUNKED && r->pos < r->ch.out) {
			size_t m = r->ch.out - r->pos < n ? r->ch.out - r->pos : n;
			memcpy(p, r->in.data + r->pos, m);
			r->pos += m;
			return (ssize_t)m;
		}
		if (r->fr == HTTP_BODY_CHUNKED) {
			buf_consume(&r->in, r->ch.raw);
			r->ch.raw = r->ch.out = r->pos = 0;
			if (r->done)
				return 0;
			rc = api_chunked_step(&r->ch, r->in.data, r->in.len, CHUNK * 4, e);
			if (rc < 0)
				return rc;
			if (rc == 1)
				r->done = true;
			if (r->ch.out || r->done)
				continue;
		} else if (r->in.len) {
			size_t m = r->in.len < n ? r->in.len : n;
			if (r->fr == HTTP_BODY_LENGTH && m > r->left)
				m = (size_t)r->left;
			if (r->fr == HTTP_BODY_LENGTH && !m)
				return 0;
			memcpy(p, r->in.data, m);
			buf_consume(&r->in, m);
			r->left -= r->fr == HTTP_BODY_LENGTH ? m : 0;
			return (ssize_t)m;
		} else if (r->fr == HTTP_BODY_NONE || (r->fr == HTTP_BODY_LENGTH && !r->left)) {
			return 0;
		}
		if ((got = fill(r, e)) < 0)
			return got;
		if (got == 0)
			return r->fr == HTTP_BODY_EOF ? 0
						      : err_set(e, -EPROTO, "the archive stream ended early "
									    "(the copy failed in the container)");
	}
}

/* Read the response head on fd into r. */
static int resp_open(struct resp *r, int fd, const char *method, struct err *e)
{
	_cleanup_free_ struct http_head *h = xmalloc(sizeof(*h));
	const char *v;
	size_t vn;
	long long len;
	size_t head;
	int rc;

	memset(r, 0, sizeof(*r));
	r->r.read = body_read;
	r->fd = fd;
	buf_init(&r->in, HTTP_HEAD_MAX + 8 * CHUNK);
	while ((rc = http_parse_response(r->in.data ? r->in.data : "", r->in.len, h, e)) == -EAGAIN) {
		ssize_t n = fill(r, e);
		if (n <= 0)
			return n < 0 ? (int)n : err_set(e, -EPROTO, "the API server closed the connection");
	}
	head = rc > 0 ? (size_t)rc : 0;
	if (rc < 0 || (rc = http_head_framing(h, !strcmp(method, "HEAD"), &r->fr, &len, e)) < 0)
		return err_wrap(e, "API response");
	r->status = h->status;
	r->left = len > 0 ? (unsigned long long)len : 0;
	if ((v = http_head_get(h, "X-Docker-Container-Path-Stat", &vn)) && vn < 16384) {
		size_t out = 0;
		buf_init(&r->stat, 16384);
		if (buf_reserve(&r->stat, vn + 1) == 0 &&
		    base64_decode(v, vn, (unsigned char *)r->stat.data, &out, 0) == 0)
			r->stat.len = out;
	}
	buf_consume(&r->in, head);
	return 0;
}

static void resp_free(struct resp *r)
{
	buf_free(&r->in);
	buf_free(&r->stat);
}

/* A non-2xx answer: Docker's {"message": ...} as the error. */
static int resp_error(struct resp *r, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	char tmp[4096];
	ssize_t n;
	json_t *j;

	while (b.len < 65536 && (n = body_read(&r->r, tmp, sizeof(tmp), e)) > 0)
		buf_append(&b, tmp, (size_t)n);
	j = jsonx_parse(b.data ? b.data : "", b.len, 65536, "the error", NULL);
	err_set(e, r->status == 404 ? -ENOENT : -EIO, "%s",
		json_is_string(json_object_get(j, "message"))
			? json_string_value(json_object_get(j, "message"))
			: "the API server refused the request");
	json_decref(j);
	return e->code;
}

static void url_path(struct buf *u, const char *ctr, const char *what, const char *path)
{
	buf_printf(u, "/containers/%s/%s", ctr, what);
	if (!path)
		return;
	buf_puts(u, "?path=");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-_.~", *p))
			buf_append(u, p, 1);
		else
			buf_printf(u, "%%%02X", *p);
}

static int request(const char *method, const char *url, const char *extra, int *fd,
		   struct err *e)
{
	_cleanup_buf_ struct buf h = BUF_INIT;

	if (connect_api(fd, e) < 0)
		return -1;
	buf_printf(&h, "%s %s HTTP/1.1\r\nHost: container\r\nUser-Agent: container-cli\r\n"
		       "Connection: close\r\n%s\r\n", method, url, extra ? extra : "");
	if (fs_write_full(*fd, h.data, h.len, e) < 0) {
		close(*fd);
		return -1;
	}
	return 0;
}

/* HEAD: the stat of path; 0 with *is_dir (and the symlink's target in
 * link when given and path is one), -ENOENT when missing. */
static int stat_path(const char *ctr, const char *path, bool *is_dir, struct buf *link,
		     struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT;
	struct resp r;
	int fd, rc;
	json_t *j;

	url_path(&u, ctr, "archive", path);
	if (request("HEAD", buf_str(&u), NULL, &fd, e) < 0)
		return -1;
	rc = resp_open(&r, fd, "HEAD", e);
	if (rc == 0 && r.status != 200)
		rc = r.status == 404 ? err_set(e, -ENOENT, "%s: no such file in the container", path)
				     : err_set(e, -EIO, "stat of %s in the container: HTTP %d", path,
					       r.status);
	if (rc == 0) {
		j = jsonx_parse(r.stat.data ? r.stat.data : "", r.stat.len, 16384, "the stat", e);
		*is_dir = j && ((json_integer_value(json_object_get(j, "mode")) >> 31) & 1);
		if (link && j && ((json_integer_value(json_object_get(j, "mode")) >> 27) & 1) &&
		    json_is_string(json_object_get(j, "linkTarget")))
			buf_puts(link, json_string_value(json_object_get(j, "linkTarget")));
		if (!j)
			rc = -EBADMSG;
		json_decref(j);
	}
	resp_free(&r);
	close(fd);
	return rc;
}

/* ---- copy out of the container ---- */

static int split_last(const char *path, struct buf *dir, struct buf *base)
{
	_cleanup_free_ char *a = xstrdup(path), *b = xstrdup(path);

	buf_puts(dir, dirname(a));
	buf_puts(base, basename(b));
	return 0;
}

static bool ends_dot(const char *p)
{
	size_t n = strlen(p);
	return n >= 2 && !strcmp(p + n - 2, "/.");
}

static int copy_out(const struct cp_cli *a, const char *ctr, const char *src, const char *dst,
		    struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT, ddir = BUF_INIT, dbase = BUF_INIT,
			       sdir = BUF_INIT, sbase = BUF_INIT, link = BUF_INIT, want = BUF_INIT;
	struct tarx_opts o = { .flags = a->archive ? TARX_X_OWNERS : 0 };
	_cleanup_close_ int fd = -1, dirfd_ = -1;
	const char *path = src;
	struct resp r;
	struct stat st;
	json_t *j;
	bool src_dir, exists;
	int rc;

	/* -L: what a symlink SRC points to, under SRC's name */
	if (a->follow && stat_path(ctr, src, &src_dir, &link, e) == 0 && link.len)
		path = buf_str(&link);
	err_clear(e);
	url_path(&u, ctr, "archive", path);
	if (request("GET", buf_str(&u), NULL, &fd, e) < 0)
		return -1;
	if ((rc = resp_open(&r, fd, "GET", e)) < 0)
		goto out;
	if (r.status != 200) {
		rc = resp_error(&r, e);
		goto out;
	}
	j = jsonx_parse(r.stat.data ? r.stat.data : "", r.stat.len, 16384, "the stat header", e);
	src_dir = j && ((json_integer_value(json_object_get(j, "mode")) >> 31) & 1);
	json_decref(j);
	if (!strcmp(dst, "-")) {
		char *chunk = xmalloc(CHUNK);
		ssize_t n;
		while ((n = body_read(&r.r, chunk, CHUNK, e)) > 0)
			if (fs_write_full(1, chunk, (size_t)n, e) < 0) {
				n = -1;
				break;
			}
		free(chunk);
		rc = n < 0 ? -1 : 0;
		goto out;
	}
	/* the archive's first component (sbase) becomes `want` below the
	 * directory we extract into */
	split_last(path, &sdir, &sbase);
	if (ends_dot(src)) {
		buf_reset(&sbase);
		buf_puts(&sbase, ".");
	}
	exists = stat(dst, &st) == 0;
	if (!exists && errno != ENOENT) {
		rc = err_sys(e, "%s", dst);
		goto out;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		split_last(src, &ddir, &want);
		buf_reset(&ddir);
		buf_puts(&ddir, dst);
		if (!ends_dot(src) && strcmp(buf_str(&sbase), buf_str(&want))) {
			o.from = buf_str(&sbase);
			o.to = buf_str(&want);
		}
	} else if (exists && src_dir) {
		rc = err_set(e, -ENOTDIR, "cannot copy a directory to the file %s", dst);
		goto out;
	} else {
		split_last(dst, &ddir, &dbase);
		o.from = buf_str(&sbase);
		o.to = buf_str(&dbase);
	}
	if ((dirfd_ = open(buf_str(&ddir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = err_sys(e, "%s", buf_str(&ddir));
		goto out;
	}
	rc = tarx_extract(&r.r, dirfd_, &o, e);
	if (rc < 0)
		err_wrap(e, "copying %s out of the container", src);
out:
	resp_free(&r);
	return rc;
}

/* ---- copy into the container ---- */

struct chunked_sink {
	int fd;
	struct buf b;
};

static int chunk_flush(struct chunked_sink *s, struct err *e)
{
	char h[32];
	int n;

	if (!s->b.len)
		return 0;
	n = snprintf(h, sizeof(h), "%zx\r\n", s->b.len);
	if (fs_write_full(s->fd, h, (size_t)n, e) < 0 || fs_write_full(s->fd, s->b.data, s->b.len, e) < 0 ||
	    fs_write_full(s->fd, "\r\n", 2, e) < 0)
		return -1;
	buf_reset(&s->b);
	return 0;
}

static int chunk_write(void *ud, const void *p, size_t n, struct err *e)
{
	struct chunked_sink *s = ud;

	buf_append(&s->b, p, n);
	return s->b.len >= CHUNK ? chunk_flush(s, e) : 0;
}

static int copy_in(const struct cp_cli *a, const char *src, const char *ctr, const char *dst,
		   struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT, into = BUF_INIT, as = BUF_INIT, sdir = BUF_INIT,
			       sbase = BUF_INIT, ddir = BUF_INIT, dbase = BUF_INIT;
	struct chunked_sink cs = { -1, BUF_INIT };
	struct tarx_sink sink = { chunk_write, &cs };
	_cleanup_close_ int fd = -1, sfd = -1;
	bool dst_dir = false, stdin_tar = !strcmp(src, "-");
	struct stat st;
	struct resp r;
	int rc;

	if (!stdin_tar && (a->follow ? stat(src, &st) : lstat(src, &st)) < 0)
		return err_sys(e, "%s", src);
	rc = stat_path(ctr, dst, &dst_dir, NULL, e);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	split_last(dst, &ddir, &dbase);
	split_last(src, &sdir, &sbase);
	if (rc == 0 && dst_dir) {
		buf_puts(&into, dst);
		buf_puts(&as, ends_dot(src) ? "." : buf_str(&sbase));
	} else {
		if (stdin_tar)
			return err_set(e, -ENOTDIR, "%s: the destination of a tar stream must be an "
						    "existing directory", dst);
		if (rc == 0 && S_ISDIR(st.st_mode))
			return err_set(e, -ENOTDIR, "cannot copy a directory to the file %s", dst);
		buf_puts(&into, buf_str(&ddir));
		buf_puts(&as, buf_str(&dbase));
	}
	err_clear(e);
	url_path(&u, ctr, "archive", buf_str(&into));
	buf_puts(&u, a->archive ? "&noOverwriteDirNonDir=true&copyUIDGID=true"
				: "&noOverwriteDirNonDir=true");
	if (request("PUT", buf_str(&u), "Content-Type: application/x-tar\r\n"
					"Transfer-Encoding: chunked\r\n", &fd, e) < 0)
		return -1;
	cs.fd = fd;
	buf_init(&cs.b, 2 * CHUNK);
	if (stdin_tar) {
		char *chunk = xmalloc(CHUNK);
		ssize_t n;
		while ((n = read(0, chunk, CHUNK)) > 0 && (rc = chunk_write(&cs, chunk, (size_t)n, e)) == 0)
			;
		free(chunk);
		rc = n < 0 ? err_sys(e, "reading stdin") : rc;
	} else {
		if (ends_dot(src)) {
			sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			buf_reset(&sbase);
			buf_puts(&sbase, ".");
		} else {
			sfd = open(buf_str(&sdir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		rc = sfd < 0 ? err_sys(e, "%s", src)
			     : tarx_write(sfd, buf_str(&sbase), buf_str(&as),
					  (a->follow ? TARX_FOLLOW : 0) | (a->archive ? 0 : TARX_ZERO_IDS),
					  &sink, e);
	}
	if (rc == 0 && chunk_flush(&cs, e) == 0 && fs_write_full(fd, "0\r\n\r\n", 5, e) == 0)
		rc = 0;
	else if (rc == 0)
		rc = -1;
	buf_free(&cs.b);
	/* the server may answer early (a refused archive): read it anyway */
	{
		struct err e2 = ERR_INIT;
		if (resp_open(&r, fd, "PUT", &e2) == 0) {
			if (r.status >= 300)
				rc = resp_error(&r, e);
			resp_free(&r);
		} else if (rc == 0) {
			*e = e2;
			rc = -1;
		}
	}
	return rc;
}

static bool ctr_operand(const char *s, struct buf *ctr, const char **path)
{
	const char *c = strchr(s, ':');

	if (!c || c == s || s[0] == '/' || s[0] == '.' || memchr(s, '/', (size_t)(c - s)))
		return false;
	buf_append(ctr, s, (size_t)(c - s));
	*path = c + 1;
	return true;
}

static int cp_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct cp_cli *a = o;
	_cleanup_buf_ struct buf sctr = BUF_INIT, dctr = BUF_INIT;
	const char *spath = argv[0], *dpath = argv[1];
	bool sc = ctr_operand(argv[0], &sctr, &spath), dc = ctr_operand(argv[1], &dctr, &dpath);
	struct err e = ERR_INIT;
	int rc;

	(void)argc;
	if (sc == dc) {
		fprintf(stderr, "container %s: exactly one of SRC and DEST must be CONTAINER:PATH\n",
			c->name);
		return EXIT_USAGE;
	}
	if (!*(sc ? spath : dpath)) {
		fprintf(stderr, "container %s: the container path must not be empty\n", c->name);
		return EXIT_USAGE;
	}
	rc = sc ? copy_out(a, buf_str(&sctr), spath, dpath, &e)
		: copy_in(a, spath, buf_str(&dctr), dpath, &e);
	if (rc < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd cmd_cp = {
	.name = "cp",
	.summary = "Copy files between a container and the local file system",
	.usage = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
		 "       cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
	.opts = cp_optv,
	.opts_size = sizeof(struct cp_cli),
	.min_args = 2,
	.max_args = 2,
	.run = cp_cmd,
};

/* ---- export ---- */

struct export_cli {
	const char *output;
};

static const struct opt export_optv[] = {
	OPT_STRING('o', "output", struct export_cli, output, "FILE", "Write to FILE, not stdout"),
	OPT_END,
};

static int export_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct export_cli *a = o;
	_cleanup_buf_ struct buf u = BUF_INIT, tmp = BUF_INIT;
	struct err e = ERR_INIT;
	struct resp r;
	int fd, out = 1, rc;
	char *chunk;
	ssize_t n = 0;

	(void)argc;
	url_path(&u, argv[0], "export", NULL);
	if (request("GET", buf_str(&u), NULL, &fd, &e) < 0 || resp_open(&r, fd, "GET", &e) < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	if (r.status != 200) {
		resp_error(&r, &e);
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	if (a->output) {
		buf_printf(&tmp, "%s.tmp-XXXXXX", a->output);
		if ((out = mkstemp(tmp.data)) < 0) {
			fprintf(stderr, "container %s: %s: %s\n", c->name, a->output, strerror(errno));
			return EXIT_FAIL;
		}
	}
	chunk = xmalloc(CHUNK);
	while ((n = body_read(&r.r, chunk, CHUNK, &e)) > 0)
		if (fs_write_full(out, chunk, (size_t)n, &e) < 0) {
			n = -1;
			break;
		}
	free(chunk);
	rc = n < 0 ? -1 : 0;
	if (a->output) {
		if (rc == 0 && (fsync(out) < 0 || rename(tmp.data, a->output) < 0))
			rc = err_sys(&e, "%s", a->output);
		close(out);
		if (rc < 0)
			unlink(tmp.data);
	}
	resp_free(&r);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd cmd_export = {
	.name = "export",
	.summary = "Write a running container's root file system as a tar",
	.usage = "[OPTIONS] CONTAINER",
	.opts = export_optv,
	.opts_size = sizeof(struct export_cli),
	.min_args = 1,
	.max_args = 1,
	.run = export_cmd,
};

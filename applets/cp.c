/* `container cp` and `container export` (issue #8): clients of the API
 * server's archive and export endpoints (applets/api_archive.c), as the
 * real docker CLI is, through applets/cliapi.h (the server is started on
 * first use, names are escaped in the URL).
 *
 *   cp CTR:SRC DST   GET /containers/CTR/archive?path=SRC; the tar is
 *                    extracted by oci/tarx.h's extractor, which keeps what
 *                    the (untrusted) guest sends inside the destination
 *                    and refuses entries not below SRC's name;
 *                    DST "-" writes the tar to stdout.
 *   cp SRC CTR:DST   HEAD for DST's stat (a symlink DST is followed, as
 *                    docker does), then PUT the tar of SRC (our writer, a
 *                    chunked body) into DST or its parent; SRC "-" sends
 *                    the tar read from stdin.  A local error cuts the body
 *                    short and half-closes: the server gives up at once.
 *   export CTR       GET /containers/CTR/export to -o FILE or stdout.
 *
 * Docker's naming: a directory copied onto an existing directory lands
 * inside it, onto a new name it takes that name; SRC ending in "/." copies
 * the contents, in "/" the directory itself (which must be one).  -a keeps
 * uid/gid (else the files belong to whoever runs cp out, and to root in
 * the container); -L follows a symlink SRC. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "applets/api_client.h"
#include "applets/applets.h"
#include "applets/cliapi.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/opt.h"
#include "lib/stream.h"
#include "oci/tarx.h"

#define CHUNK (64u << 10)
#define STAT_MAX 16384

struct cp_cli {
	int archive, follow;
};

static const struct opt cp_optv[] = {
	OPT_FLAG('a', "archive", struct cp_cli, archive, "Keep uid/gid of the files"),
	OPT_FLAG('L', "follow-link", struct cp_cli, follow, "Follow a symlink SRC_PATH"),
	OPT_END,
};

/* ---- requests ---- */

/* /containers/CTR/WHAT[?path=PATH] */
static void url(struct buf *u, const char *ctr, const char *what, const char *path)
{
	buf_puts(u, "/containers/");
	cliapi_escape(u, ctr);
	buf_printf(u, "/%s", what);
	if (path) {
		buf_puts(u, "?path=");
		cliapi_escape(u, path);
	}
}

/* The body of a response as a struct reader (for the extractor). */
struct body_reader {
	struct reader r;
	struct api_stream *s;
	struct buf b;
	size_t pos;
};

static ssize_t body_read(struct reader *rd, void *p, size_t n, struct err *e)
{
	struct body_reader *br = (struct body_reader *)rd;
	size_t m;

	while (br->pos == br->b.len) {
		ssize_t got;
		buf_reset(&br->b);
		br->pos = 0;
		if ((got = api_stream_read(br->s, &br->b, e)) <= 0)
			return got < 0 ? err_wrap(e, "the archive stream ended early "
						     "(the copy failed in the container)")
				       : 0;
	}
	m = br->b.len - br->pos < n ? br->b.len - br->pos : n;
	memcpy(p, br->b.data + br->pos, m);
	br->pos += m;
	return (ssize_t)m;
}

static void body_reader_init(struct body_reader *br, struct api_stream *s)
{
	memset(br, 0, sizeof(*br));
	br->r.read = body_read;
	br->s = s;
	buf_init(&br->b, API_CLIENT_BODY_MAX);
}

/* The whole body to fd. */
static int body_to_fd(struct api_stream *s, int fd, struct err *e)
{
	struct body_reader br;
	_cleanup_free_ char *chunk = xmalloc(CHUNK);
	ssize_t n;

	body_reader_init(&br, s);
	while ((n = body_read(&br.r, chunk, CHUNK, e)) > 0)
		if (fs_write_full(fd, chunk, (size_t)n, e) < 0) {
			n = -1;
			break;
		}
	buf_free(&br.b);
	return n < 0 ? -1 : 0;
}

/* What X-Docker-Container-Path-Stat says. */
struct pstat {
	bool is_dir, is_link;
	struct buf link;   /* the symlink's target, absolute in the container */
};

static int pstat_parse(const struct api_stream *s, struct pstat *ps, struct err *e)
{
	_cleanup_buf_ struct buf v = BUF_INIT, d = BUF_INIT;
	size_t out = 0;
	long long mode;
	json_t *j;

	buf_init(&v, STAT_MAX);
	buf_init(&d, STAT_MAX);
	if (api_stream_header(s, "X-Docker-Container-Path-Stat", &v) < 0 ||
	    buf_reserve(&d, v.len + 1) < 0 ||
	    base64_decode(v.data ? v.data : "", v.len, (unsigned char *)d.data, &out, 0) < 0)
		return err_set(e, -EBADMSG, "the API server's stat of the path is missing or malformed");
	d.len = out;
	if (!(j = jsonx_parse(d.data ? d.data : "", d.len, STAT_MAX, "the stat of the path", e)))
		return -EBADMSG;
	mode = jsonx_int(j, "mode", 0);
	ps->is_dir = (mode >> 31) & 1;
	ps->is_link = (mode >> 27) & 1;
	if (ps->is_link && jsonx_str(j, "linkTarget"))
		buf_puts(&ps->link, jsonx_str(j, "linkTarget"));
	json_decref(j);
	return 0;
}

/* HEAD: the stat of path; -ENOENT when missing. */
static int stat_path(struct cliapi *api, const char *ctr, const char *path, struct pstat *ps,
		     struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT;
	struct api_stream s;
	int rc;

	url(&u, ctr, "archive", path);
	if ((rc = cliapi_open(api, "HEAD", buf_str(&u), NULL, 0, &s, e)) < 0)
		return rc == -ENOENT ? err_set(e, -ENOENT, "%s: no such file in the container", path)
				     : rc;
	rc = pstat_parse(&s, ps, e);
	api_stream_close(&s);
	return rc;
}

/* ---- names ---- */

/* The last component of path ("/" and "." stay themselves). */
static void last_name(const char *path, struct buf *out)
{
	size_t n = strlen(path), b;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (b = n; b > 0 && path[b - 1] != '/'; b--)
		;
	if (b == n)   /* "/" */
		buf_puts(out, "/");
	else
		buf_append(out, path + b, n - b);
}

/* Everything before the last component ("." when there is none). */
static void parent_of(const char *path, struct buf *out)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (!n)
		buf_puts(out, ".");
	else
		buf_append(out, path, n);
}

/* ---- copy out of the container ---- */

static int copy_out(const struct cp_cli *a, struct cliapi *api, const char *ctr, const char *src,
		    const char *dst, struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT, ddir = BUF_INIT, dbase = BUF_INIT, sbase = BUF_INIT,
			       want = BUF_INIT;
	struct pstat ps = { false, false, BUF_INIT }, got = { false, false, BUF_INIT };
	struct tarx_opts o = { .flags = TARX_X_ONLY_FROM | (a->archive ? TARX_X_OWNERS : 0) };
	_cleanup_close_ int dirfd_ = -1;
	const char *path = src;
	struct api_stream s;
	struct body_reader br;
	struct stat st;
	bool exists;
	int rc;

	/* -L: what a symlink SRC points to, under SRC's name */
	if (a->follow && (rc = stat_path(api, ctr, src, &ps, e)) < 0)
		goto out;
	if (ps.is_link && ps.link.len)
		path = buf_str(&ps.link);
	url(&u, ctr, "archive", path);
	if ((rc = cliapi_open(api, "GET", buf_str(&u), NULL, 0, &s, e)) < 0)
		goto out;
	if ((rc = pstat_parse(&s, &got, e)) < 0)
		goto close;
	if (!strcmp(dst, "-")) {
		rc = body_to_fd(&s, 1, e);
		goto close;
	}
	/* the archive's first component (sbase) becomes `want` below the
	 * directory we extract into; nothing else may be in it */
	last_name(path, &sbase);
	if (fs_path_ends_dot(src) || !strcmp(buf_str(&sbase), "/")) {
		buf_reset(&sbase);
		buf_puts(&sbase, ".");
	}
	exists = stat(dst, &st) == 0;
	if (!exists && errno != ENOENT) {
		rc = err_sys(e, "%s", dst);
		goto close;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		buf_puts(&ddir, dst);
		last_name(src, &want);
		if (strcmp(buf_str(&sbase), ".")) {
			o.from = buf_str(&sbase);
			o.to = buf_str(&want);
		}
	} else if (exists && got.is_dir) {
		rc = err_set(e, -ENOTDIR, "cannot copy a directory to the file %s", dst);
		goto close;
	} else {
		parent_of(dst, &ddir);
		last_name(dst, &dbase);
		o.from = buf_str(&sbase);
		o.to = buf_str(&dbase);
	}
	if ((dirfd_ = open(buf_str(&ddir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = err_sys(e, "%s", buf_str(&ddir));
		goto close;
	}
	body_reader_init(&br, &s);
	rc = tarx_extract(&br.r, dirfd_, &o, e);
	buf_free(&br.b);
	if (rc < 0)
		err_wrap(e, "copying %s out of the container", src);
close:
	api_stream_close(&s);
out:
	buf_free(&ps.link);
	buf_free(&got.link);
	return rc;
}

/* ---- copy into the container ---- */

/* The writer's bytes gathered into chunks of the request body. */
struct chunked_sink {
	struct api_stream *s;
	struct buf b;
};

static int chunk_flush(struct chunked_sink *cs, struct err *e)
{
	int rc = api_stream_send(cs->s, cs->b.data, cs->b.len, e);

	buf_reset(&cs->b);
	return rc;
}

static int chunk_write(void *ud, const void *p, size_t n, struct err *e)
{
	struct chunked_sink *cs = ud;

	if (buf_append(&cs->b, p, n) < 0)
		return err_set(e, -ENOMEM, "buffering the archive");
	return cs->b.len >= CHUNK ? chunk_flush(cs, e) : 0;
}

/* The tar of src (or stdin's) into the body. */
static int send_tar(const struct cp_cli *a, const char *src, const char *as,
		    struct chunked_sink *cs, struct err *e)
{
	struct tarx_sink sink = { chunk_write, cs };
	_cleanup_buf_ struct buf sdir = BUF_INIT, sbase = BUF_INIT;
	_cleanup_close_ int sfd = -1;
	bool slash = src[0] && src[strlen(src) - 1] == '/';

	if (!strcmp(src, "-")) {
		_cleanup_free_ char *chunk = xmalloc(CHUNK);
		ssize_t n;
		while ((n = read(0, chunk, CHUNK)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 && chunk_write(cs, chunk, (size_t)n, e) < 0)
				return -1;
		return n < 0 ? err_sys(e, "reading stdin") : 0;
	}
	if (fs_path_ends_dot(src)) {
		sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		buf_puts(&sbase, ".");
	} else {
		parent_of(src, &sdir);
		last_name(src, &sbase);
		sfd = open(buf_str(&sdir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (sfd < 0)
		return err_sys(e, "%s", src);
	/* "dir/" names the directory a symlink points to, as -L does */
	return tarx_write(sfd, buf_str(&sbase), as,
			  (a->follow || slash ? TARX_FOLLOW : 0) | (a->archive ? 0 : TARX_ZERO_IDS),
			  &sink, e);
}

static int copy_in(const struct cp_cli *a, struct cliapi *api, const char *src, const char *ctr,
		   const char *dst, struct err *e)
{
	_cleanup_buf_ struct buf u = BUF_INIT, into = BUF_INIT, as = BUF_INIT, target = BUF_INIT;
	struct pstat ps = { false, false, BUF_INIT };
	struct chunked_sink cs = { NULL, BUF_INIT };
	bool stdin_tar = !strcmp(src, "-");
	bool slash = src[0] && src[strlen(src) - 1] == '/';
	struct api_stream s;
	struct stat st;
	int rc, rc2;

	if (!stdin_tar && (a->follow || slash ? stat(src, &st) : lstat(src, &st)) < 0)
		return err_sys(e, "%s", src);
	if (slash && !S_ISDIR(st.st_mode))
		return err_set(e, -ENOTDIR, "%s: not a directory", src);
	rc = stat_path(api, ctr, dst, &ps, e);
	if (rc == 0 && ps.is_link && ps.link.len) {
		/* docker follows a symlink DST: its target is the destination */
		if (ps.link.data[0] != '/') {
			parent_of(dst, &target);
			buf_puts(&target, "/");
		}
		buf_puts(&target, buf_str(&ps.link));
		dst = buf_str(&target);
		buf_reset(&ps.link);
		rc = stat_path(api, ctr, dst, &ps, e);
	}
	buf_free(&ps.link);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == 0 && ps.is_dir) {
		buf_puts(&into, dst);
		if (fs_path_ends_dot(src))
			buf_puts(&as, ".");
		else if (!stdin_tar)
			last_name(src, &as);
	} else {
		if (stdin_tar)
			return err_set(e, -ENOTDIR, "%s: the destination of a tar stream must be an "
						    "existing directory", dst);
		if (rc == 0 && S_ISDIR(st.st_mode))
			return err_set(e, -ENOTDIR, "cannot copy a directory to the file %s", dst);
		parent_of(dst, &into);
		last_name(dst, &as);
	}
	err_clear(e);
	url(&u, ctr, "archive", buf_str(&into));
	buf_puts(&u, a->archive ? "&noOverwriteDirNonDir=true&copyUIDGID=true"
				: "&noOverwriteDirNonDir=true");
	if ((rc = cliapi_open(api, "PUT", buf_str(&u), NULL, API_CLIENT_SEND_TAR, &s, e)) < 0)
		return rc;
	cs.s = &s;
	buf_init(&cs.b, 2 * CHUNK);
	rc = send_tar(a, src, buf_str(&as), &cs, e);
	if (rc == 0)
		rc = chunk_flush(&cs, e);
	buf_free(&cs.b);
	/* cut short on a local error: the server gives up and answers */
	if (rc < 0) {
		struct err ignored = ERR_INIT;
		if (cliapi_finish(api, &s, false, &ignored) == 0)
			api_stream_close(&s);
		return rc;
	}
	if ((rc2 = cliapi_finish(api, &s, true, e)) < 0)
		return rc2;
	api_stream_close(&s);
	return 0;
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
	struct cliapi api;
	int rc;

	(void)argc;
	signal(SIGPIPE, SIG_IGN);   /* a reader gone is EPIPE, an error we report */
	if (sc == dc) {
		fprintf(stderr, "container %s: exactly one of SRC and DEST must be CONTAINER:PATH\n",
			c->name);
		return EXIT_USAGE;
	}
	if (!*(sc ? spath : dpath)) {
		fprintf(stderr, "container %s: the container path must not be empty\n", c->name);
		return EXIT_USAGE;
	}
	rc = cliapi_connect(&api, &e);
	if (rc == 0)
		rc = sc ? copy_out(a, &api, buf_str(&sctr), spath, dpath, &e)
			: copy_in(a, &api, spath, buf_str(&dctr), dpath, &e);
	cliapi_free(&api);
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

/* -o FILE: written to a temporary file beside it (mode 0600, as docker's
 * CLI does), renamed over FILE once complete. */
static int export_to(struct api_stream *s, const char *path, struct err *e)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT;
	int fd, rc;

	buf_printf(&tmp, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp.data)) < 0)
		return err_sys(e, "%s", path);
	rc = body_to_fd(s, fd, e);
	if (rc == 0 && (fsync(fd) < 0 || rename(tmp.data, path) < 0))
		rc = err_sys(e, "%s", path);
	close(fd);
	if (rc < 0)
		unlink(tmp.data);
	return rc;
}

static int export_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct export_cli *a = o;
	_cleanup_buf_ struct buf u = BUF_INIT;
	struct err e = ERR_INIT;
	struct cliapi api;
	struct api_stream s;
	int rc;

	(void)argc;
	signal(SIGPIPE, SIG_IGN);
	url(&u, argv[0], "export", NULL);
	rc = cliapi_connect(&api, &e);
	if (rc == 0 && (rc = cliapi_open(&api, "GET", buf_str(&u), NULL, 0, &s, &e)) == 0) {
		rc = a->output ? export_to(&s, a->output, &e) : body_to_fd(&s, 1, &e);
		api_stream_close(&s);
	}
	cliapi_free(&api);
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

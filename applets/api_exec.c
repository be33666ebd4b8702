/* The exec endpoints (see applets/api_handlers.h): POST
 * /containers/{id}/exec records what to run, POST /exec/{id}/start runs it
 * on the container's runtime link as a process of its own (CREATE and
 * START on a fresh stream, applets/runtime.h) and, unless Detach, hijacks
 * the connection for its stdio; GET /exec/{id}/json reports Running and
 * ExitCode (docker exec reads the status there once the stream ended, so
 * it is recorded before the stream is closed); POST /exec/{id}/resize.
 *
 * Records live in memory, at most EXEC_RECORDS_MAX: past that the oldest
 * finished one is dropped.  Each is also written, as its inspect
 * document, to the container's bundle (execs/<id>.json, atomically, when
 * it is created, started and ends), so GET /exec/{id}/json answers after
 * a restart of the server too; such a record can only be inspected (the
 * runtime link it ran on is gone), and one that was running when the
 * server died reads Running false, ExitCode null (its end was not seen).
 * At most EXEC_FILES_MAX files per container: the oldest go first; they
 * go with the bundle. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/ctrspec.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"

#define EXEC_RECORDS_MAX 1024
#define EXEC_FILES_MAX 64
#define EXEC_FILE_MAX (64 * 1024)

struct api_exec {
	struct api_exec *next;
	char id[BUNDLE_ID_LEN + 1];
	char ctr[BUNDLE_ID_LEN + 1];
	struct ctrspec_exec spec;
	bool started, running, done;
	int exit_code, oks;
	struct api_sub sub;
	struct api_conn *k;
	int keepalive;
};

static void exec_free(struct api_exec *x)
{
	api_ctr_unsubscribe(&x->sub);
	ctrspec_exec_free(&x->spec);
	free(x);
}

void api_exec_free_all(struct api_sup *s)
{
	struct api_exec **head = api_sup_execs(s), *x;

	while ((x = *head)) {
		*head = x->next;
		exec_free(x);
	}
}

static struct api_exec *exec_lookup(struct api_call *c, size_t i)
{
	_cleanup_buf_ struct buf q = BUF_INIT;

	api_param_str(c, i, &q);
	for (struct api_exec *x = *api_sup_execs(c->ctx->sup); x; x = x->next)
		if (strcmp(x->id, buf_str(&q)) == 0)
			return x;
	return NULL;
}

static struct api_exec *exec_find(struct api_call *c, size_t i)
{
	struct api_exec *x = exec_lookup(c, i);
	_cleanup_buf_ struct buf q = BUF_INIT;

	if (!x) {
		api_param_str(c, i, &q);
		api_reply_error(c, 404, "No such exec instance: %.64s", buf_str(&q));
	}
	return x;
}

/* GET /exec/{id}/json's document. */
static json_t *exec_doc(const struct api_exec *x)
{
	return json_pack("{s:s, s:b, s:o, s:{s:b, s:s, s:O, s:b, s:s}, s:b, s:b, s:b,"
			 " s:s, s:i, s:b, s:s}",
			 "ID", x->id, "Running", x->running || (x->started && !x->done),
			 "ExitCode", x->done ? json_integer(x->exit_code) : json_null(),
			 "ProcessConfig", "tty", x->spec.tty, "entrypoint",
			 json_string_value(json_array_get(x->spec.cmd, 0)), "arguments", x->spec.cmd,
			 "privileged", 0, "user", x->spec.user ? x->spec.user : "", "OpenStdin",
			 x->spec.in, "OpenStderr", x->spec.err, "OpenStdout", x->spec.out,
			 "ContainerID", x->ctr, "Pid", 0, "CanRemove", 0, "DetachKeys", "");
}

static int exec_file(const char *ctr, const char *id, struct buf *out)
{
	int rc = bundle_path(ctr, "execs", out, NULL);

	if (rc == 0 && id)
		buf_printf(out, "/%s.json", id);
	return rc;
}

/* Past EXEC_FILES_MAX records in the container's execs/, the oldest
 * (by mtime) are removed. */
static void exec_files_trim(const char *ctr)
{
	_cleanup_buf_ struct buf dir = BUF_INIT, p = BUF_INIT, oldest = BUF_INIT;
	struct dirent *d;
	DIR *dd;

	if (exec_file(ctr, NULL, &dir) < 0)
		return;
	for (;;) {
		size_t n = 0;
		long long old_t = 0;
		struct stat st;

		if (!(dd = opendir(buf_str(&dir))))
			return;
		buf_reset(&oldest);
		while ((d = readdir(dd))) {
			if (d->d_name[0] == '.')
				continue;
			n++;
			buf_reset(&p);
			buf_printf(&p, "%s/%s", buf_str(&dir), d->d_name);
			if (stat(buf_str(&p), &st) == 0 &&
			    (!oldest.len || (long long)FS_MTIME(st).tv_sec < old_t)) {
				old_t = (long long)FS_MTIME(st).tv_sec;
				buf_reset(&oldest);
				buf_append(&oldest, p.data, p.len);
			}
		}
		closedir(dd);
		if (n <= EXEC_FILES_MAX || !oldest.len || unlink(buf_str(&oldest)) < 0)
			return;
	}
}

/* The record as its inspect document in the bundle; a failure is logged,
 * the record in memory still answers.  A bundle that is gone (the
 * container removed while its exec ran) is not made again. */
static void exec_save(const struct api_exec *x)
{
	_cleanup_buf_ struct buf dir = BUF_INIT, p = BUF_INIT;
	json_t *doc;
	struct err e = ERR_INIT;

	if (exec_file(x->ctr, NULL, &dir) < 0 || exec_file(x->ctr, x->id, &p) < 0 ||
	    (mkdir(buf_str(&dir), 0700) < 0 && errno != EEXIST))
		return;
	if (!(doc = exec_doc(x)) || jsonx_write_file(buf_str(&p), doc, 0600, &e) < 0)
		log_warn("exec %.12s: not saved: %s", x->id, doc ? e.msg : "not UTF-8");
	json_decref(doc);
}

/* A record saved by an earlier server: execs/<id>.json of some bundle.
 * NULL when there is none (or it does not parse). */
static json_t *exec_load(const char *id)
{
	_cleanup_buf_ struct buf root = BUF_INIT, p = BUF_INIT, text = BUF_INIT;
	json_t *doc = NULL;
	struct dirent *d;
	DIR *dir;

	if (strlen(id) != BUNDLE_ID_LEN || strspn(id, "0123456789abcdef") != BUNDLE_ID_LEN ||
	    bundle_root(&root, NULL) < 0 || !(dir = opendir(buf_str(&root))))
		return NULL;
	while (!doc && (d = readdir(dir))) {
		if (strlen(d->d_name) != BUNDLE_ID_LEN ||
		    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		buf_reset(&p);
		buf_reset(&text);
		if (exec_file(d->d_name, id, &p) == 0 &&
		    fs_read_file(buf_str(&p), &text, EXEC_FILE_MAX, NULL) == 0)
			doc = jsonx_parse(text.data, text.len, EXEC_FILE_MAX, "exec record", NULL);
		if (doc && !json_is_object(doc)) {
			json_decref(doc);
			doc = NULL;
		}
	}
	closedir(dir);
	if (doc && json_is_true(json_object_get(doc, "Running"))) {
		/* it ran on the link of a server that is gone: its end was not seen */
		json_object_set_new(doc, "Running", json_false());
		json_object_set_new(doc, "ExitCode", json_null());
	}
	return doc;
}

/* Keep the list bounded: drop the oldest finished record; -1 when all
 * EXEC_RECORDS_MAX still run. */
static int exec_trim(struct api_sup *s)
{
	struct api_exec **pp, **victim = NULL;
	size_t n = 0;

	for (pp = api_sup_execs(s); *pp; pp = &(*pp)->next) {
		n++;
		if ((*pp)->done && !(*pp)->k)
			victim = pp;   /* the last one found is the oldest */
	}
	if (n < EXEC_RECORDS_MAX)
		return 0;
	if (!victim)
		return -1;
	{
		struct api_exec *x = *victim;
		*victim = x->next;
		exec_free(x);
	}
	return 0;
}

void api_exec_create_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct api_exec *x;
	struct err e = ERR_INIT;
	struct api_ctr *r;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	r = api_ctr_get(c->ctx->sup, id);
	if (api_ctr_link(r, &e) < 0 || !api_ctr_running(r)) {
		api_reply_error(c, 409, "Container %s is not running", id);
		return;
	}
	x = xcalloc(1, sizeof(*x));
	if (ctrspec_exec_parse(c->body, c->body_len, &x->spec, &e) < 0) {
		exec_free(x);
		api_reply_error(c, 400, "%s", e.msg);
		return;
	}
	if (exec_trim(c->ctx->sup) < 0) {
		exec_free(x);
		api_reply_error(c, 409, "too many exec instances (%d) still running",
				EXEC_RECORDS_MAX);
		return;
	}
	bundle_new_id(x->id);
	snprintf(x->ctr, sizeof(x->ctr), "%s", id);
	x->next = *api_sup_execs(c->ctx->sup);
	*api_sup_execs(c->ctx->sup) = x;
	exec_save(x);
	exec_files_trim(x->ctr);
	api_reply_json(c, 201, json_pack("{s:s}", "Id", x->id));
}

/* ---- the running process ---- */

static void x_end(struct api_exec *x)
{
	struct api_conn *k = x->k;

	x->k = NULL;
	x->running = false;
	x->done = true;
	exec_save(x);
	api_ctr_unsubscribe(&x->sub);
	if (k)
		api_conn_done(k, 0);
}

static void x_write(struct api_exec *x, int fd, const void *p, size_t n)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (!x->k)
		return;
	api_frame(&b, x->spec.tty, fd, p, n);
	api_conn_write(x->k, b.data, b.len);
}

static void x_output(struct api_sub *s, int fd, const void *p, size_t n)
{
	struct api_exec *x = s->ud;

	if ((fd == 1 && x->spec.out) || (fd == 2 && x->spec.err))
		x_write(x, fd, p, n);
}

static void x_ok(struct api_sub *s)
{
	struct api_exec *x = s->ud;

	if (++x->oks == 2)
		x->running = true;
}

static void x_error(struct api_sub *s, int code, const char *msg)
{
	struct api_exec *x = s->ud;
	_cleanup_buf_ struct buf m = BUF_INIT;

	/* the process could not be made or started: Docker's 126/127 */
	buf_printf(&m, "container exec: %s\n", msg);
	x_write(x, 2, m.data, m.len);
	x->exit_code = code == -ENOENT ? 127 : 126;
	x_end(x);
}

static void x_exit(struct api_sub *s, int status)
{
	struct api_exec *x = s->ud;

	x->exit_code = status < 0 ? 137 : status;
	x_end(x);
}

static void x_writable(struct api_sub *s);

static const struct api_sub_ops exec_ops = {
	.output = x_output, .ok = x_ok, .error = x_error, .exit = x_exit, .writable = x_writable,
};

static void x_stdin(struct api_exec *x, const char *p, size_t n, bool eof)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (!x->sub.ctr || !x->spec.in)
		return;
	while (n) {
		size_t m = n > AGENT_DATA_CHUNK ? AGENT_DATA_CHUNK : n;
		agent_put_raw(&b, AGENT_STDIN, x->sub.stream, 0, p, m, &e);
		p += m;
		n -= m;
	}
	if (eof)
		agent_put_raw(&b, AGENT_STDIN, x->sub.stream, AGENT_FLAG_EOF, NULL, 0, &e);
	api_ctr_send(x->sub.ctr, &b, &e);
}

static void c_data(void *ud, const char *p, size_t n)
{
	struct api_exec *x = ud;

	x_stdin(x, p, n, false);
	/* the runtime takes stdin slower than the client sends it */
	if (x->k && x->sub.ctr && api_ctr_queued(x->sub.ctr) > API_CTR_SEND_MAX)
		api_conn_read(x->k, 0);
}

static void x_writable(struct api_sub *s)
{
	struct api_exec *x = s->ud;

	if (x->k)
		api_conn_read(x->k, 1);
}

static void c_eof(void *ud)
{
	x_stdin(ud, NULL, 0, true);
}

static void c_drain(void *ud)
{
	struct api_exec *x = ud;

	if (x->sub.ctr)
		api_ctr_flow(x->sub.ctr);
}

/* the client went away: the process runs on, its stdin closed and its
 * output dropped (docker exec's behaviour) */
static void c_closed(void *ud)
{
	struct api_exec *x = ud;

	x->k = NULL;
	x->sub.conn = NULL;
	if (x->spec.in)
		x_stdin(x, NULL, 0, true);
}

static const struct api_stream_ops exec_conn_ops = {
	.data = c_data, .eof = c_eof, .drain = c_drain, .closed = c_closed,
};

static int spec_frames(struct api_exec *x, struct buf *b, struct err *e)
{
	size_t n = json_array_size(x->spec.cmd), m = json_array_size(x->spec.env), i;
	const char **argv = xcalloc(n + 1, sizeof(char *));
	const char **env = xcalloc(m + 1, sizeof(char *));
	struct agent_proc_spec sp = { 0 };
	int rc;

	for (i = 0; i < n; i++)
		argv[i] = json_string_value(json_array_get(x->spec.cmd, i));
	for (i = 0; i < m; i++)
		env[i] = json_string_value(json_array_get(x->spec.env, i));
	sp.argv = argv;
	sp.env = env;
	sp.cwd = x->spec.workdir;
	sp.user = x->spec.user;
	sp.tty = x->spec.tty;
	sp.open_stdin = x->spec.in;
	sp.rows = (uint16_t)x->spec.rows;
	sp.cols = (uint16_t)x->spec.cols;
	rc = agent_put_create(b, x->sub.stream, &sp, e);
	if (rc == 0)
		rc = agent_put_raw(b, AGENT_START, x->sub.stream, 0, NULL, 0, e);
	free(argv);
	free(env);
	return rc;
}

void api_exec_start_h(struct api_call *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	json_t *j __attribute__((cleanup(jsonx_decrefp))) = NULL;
	struct api_exec *x;
	struct api_ctr *r;
	struct err e = ERR_INIT;
	bool detach;

	if (!(x = exec_find(c, 0)))
		return;
	if (c->body_len && !(j = jsonx_parse(c->body, c->body_len, CTRSPEC_BODY_MAX, "the request", &e))) {
		api_reply_error(c, 400, "%s", e.msg);
		return;
	}
	detach = json_is_true(json_object_get(j, "Detach"));
	if (x->started) {
		api_reply_error(c, 409, "Exec %s has already been started", x->id);
		return;
	}
	r = api_ctr_get(c->ctx->sup, x->ctr);
	if (api_ctr_link(r, &e) < 0 || !api_ctr_running(r)) {
		api_reply_error(c, 409, "Container %s is not running", x->ctr);
		return;
	}
	x->sub.stream = api_ctr_new_stream(r);
	if (spec_frames(x, &b, &e) < 0 || api_ctr_send(r, &b, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	x->started = true;
	exec_save(x);
	x->sub.ops = &exec_ops;
	x->sub.ud = x;
	api_ctr_subscribe(r, &x->sub);
	if (detach) {
		api_reply_text(c, 200, NULL, "");
		return;
	}
	api_hijack_head(c, x->spec.tty, c->out);
	x->k = api_call_take(c, &exec_conn_ops, x, 1);
	x->sub.conn = x->k;
}

void api_exec_inspect_h(struct api_call *c)
{
	_cleanup_buf_ struct buf q = BUF_INIT;
	struct api_exec *x = exec_lookup(c, 0);
	json_t *doc;

	if (x) {
		api_reply_json(c, 200, exec_doc(x));
		return;
	}
	api_param_str(c, 0, &q);
	if (!(doc = exec_load(buf_str(&q)))) {
		api_reply_error(c, 404, "No such exec instance: %.64s", buf_str(&q));
		return;
	}
	api_reply_json(c, 200, doc);
}

void api_exec_resize_h(struct api_call *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct api_exec *x;
	struct err e = ERR_INIT;
	long h, w;

	if (!(x = exec_find(c, 0)))
		return;
	if (api_query_long(c, "h", 0, &h) < 0 || api_query_long(c, "w", 0, &w) < 0 || h < 0 ||
	    w < 0 || h > 65535 || w > 65535) {
		api_reply_error(c, 400, "invalid h or w");
		return;
	}
	if (!x->sub.ctr) {
		api_reply_error(c, 409, "Exec %s is not running", x->id);
		return;
	}
	if (h && w && agent_put_resize(&b, x->sub.stream, (uint16_t)h, (uint16_t)w, &e) == 0)
		api_ctr_send(x->sub.ctr, &b, &e);
	api_reply_text(c, 200, NULL, "");
}

/* Container lifecycle endpoints (see applets/api_handlers.h): create,
 * start, stop, kill, resize, delete, prune.  Answers that wait for a
 * runtime (start: the workload runs; stop: it exited; rm -f: it is gone)
 * take the connection and subscribe to the container's stream 1
 * (applets/api_ctr.h); create runs on libuv's thread pool because a first
 * snapshot of an image is seconds of disk work. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_restart.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/bundle.h"
#include "applets/ctrspec.h"
#include "applets/network.h"
#include "applets/mounts.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"

/* ---- shared helpers ---- */

void api_param_str(const struct api_call *c, size_t i, struct buf *out)
{
	if (i < c->nparams)
		buf_append(out, c->params[i].s, c->params[i].n);
	else
		buf_puts(out, "");
}

int api_param_ctr(struct api_call *c, size_t i, char id[BUNDLE_ID_LEN + 1])
{
	_cleanup_buf_ struct buf q = BUF_INIT;
	struct err e = ERR_INIT;
	int rc;

	api_param_str(c, i, &q);
	if ((rc = bundle_resolve(buf_str(&q), id, &e)) == 0)
		return 0;
	if (rc == -ENOENT)
		api_reply_error(c, 404, "No such container: %.*s", 128, buf_str(&q));
	else if (rc == -EINVAL)
		api_reply_error(c, 400, "%s", e.msg);
	else
		api_reply_error(c, 500, "%s", e.msg);
	return -1;
}

int api_query_long(const struct api_call *c, const char *key, long dflt, long *out)
{
	_cleanup_buf_ struct buf v = BUF_INIT;
	char *end;
	int rc = api_query_get(c->query, c->query_len, key, &v);

	*out = dflt;
	if (rc < 0)
		return -EINVAL;
	if (rc == 0 || !v.len)
		return 0;
	errno = 0;
	*out = strtol(buf_str(&v), &end, 10);
	return *end || errno ? -EINVAL : 0;
}

void api_hijack_head(struct api_call *c, bool tty, struct buf *out)
{
	const char *type = tty ? "application/vnd.docker.raw-stream"
			       : "application/vnd.docker.multiplexed-stream";

	if (c->req->upgrade_tcp)
		buf_printf(out, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\n"
				"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", type);
	else
		buf_printf(out, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", type);
}

void api_frame(struct buf *out, bool tty, int fd, const void *p, size_t n)
{
	unsigned char h[8] = { (unsigned char)fd, 0, 0, 0, (unsigned char)(n >> 24),
			       (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };

	if (!tty)
		buf_append(out, h, sizeof(h));
	buf_append(out, p, n);
}

bool api_ctr_tty(const char *id)
{
	struct bundle_config bc;
	bool tty;

	if (bundle_config_load(id, &bc, NULL) < 0)
		return false;
	tty = json_is_true(json_object_get(json_object_get(bc.guest, "process"), "tty"));
	bundle_config_free(&bc);
	return tty;
}

static bool is_running(struct api_call *c, const char *id)
{
	struct bundle_state st;
	struct api_ctr *r = api_ctr_get(c->ctx->sup, id);

	if (api_ctr_running(r))
		return true;
	return api_ctr_state(id, &st, NULL) == 0 && st.status == BUNDLE_RUNNING;
}

/* A complete answer on a kept connection, which then serves the next. */
static void conn_reply(struct api_conn *k, int status, json_t *v, int keepalive)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	if (v)
		api_write_json(&out, status, v, keepalive, 0);
	else
		api_write_body(&out, status, NULL, NULL, "", 0, keepalive, 0);
	json_decref(v);
	api_conn_write(k, out.data, out.len);
	api_conn_done(k, keepalive);
}

static void conn_error(struct api_conn *k, int status, const char *msg, int keepalive)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	api_write_error(&out, status, msg, keepalive, 0);
	api_conn_write(k, out.data, out.len);
	api_conn_done(k, keepalive);
}

/* A deferred answer bound to stream 1 of a container: one struct for
 * start, stop and rm -f, which differ in what ends them. */
enum pend_kind { PEND_START, PEND_STOP, PEND_DELETE };

struct pend {
	struct api_sub sub;
	struct api_conn *k;
	enum pend_kind kind;
	int keepalive;
	json_t *volumes;   /* rm -f -v: the mounts whose anonymous volumes go too */
};

static void pend_free(struct pend *p)
{
	api_ctr_unsubscribe(&p->sub);
	json_decref(p->volumes);
	free(p);
}

static void pend_conn_closed(void *ud)
{
	struct pend *p = ud;

	p->k = NULL;
	/* a stop or rm -f goes on without its client; a start too */
	if (p->kind != PEND_DELETE)
		pend_free(p);
}

static const struct api_stream_ops pend_conn_ops = { .closed = pend_conn_closed };

static void pend_answer(struct pend *p, int status, const char *msg)
{
	struct api_conn *k = p->k;

	p->k = NULL;
	if (k && msg)
		conn_error(k, status, msg, p->keepalive);
	else if (k)
		conn_reply(k, status, NULL, p->keepalive);
	pend_free(p);
}

static void pend_ok(struct api_sub *s)
{
	struct pend *p = s->ud;

	if (p->kind == PEND_START)
		pend_answer(p, 204, NULL);
}

static void pend_error(struct api_sub *s, int code, const char *msg)
{
	struct pend *p = s->ud;

	(void)code;
	if (p->kind == PEND_START)
		pend_answer(p, 500, msg);
}

static void pend_exit(struct api_sub *s, int status)
{
	struct pend *p = s->ud;
	struct err e = ERR_INIT;
	char id[BUNDLE_ID_LEN + 1];

	(void)status;
	if (p->kind != PEND_DELETE) {
		pend_answer(p, 204, NULL);
		return;
	}
	snprintf(id, sizeof(id), "%s", api_ctr_id(s->ctr));
	/* rm -f: the runtime is done with the bundle now */
	if (bundle_remove(id, &e) < 0 && e.code != -ENOENT) {
		pend_answer(p, 500, e.msg);
		return;
	}
	if (p->volumes)
		mounts_remove_anonymous(p->volumes, &e);
	{
		struct api_ctr *r = s->ctr;
		api_ctr_unsubscribe(&p->sub);
		api_ctr_removed(r);
	}
	pend_answer(p, 204, NULL);
}

static void pend_removed(struct api_sub *s)
{
	pend_answer(s->ud, 204, NULL);
}

static const struct api_sub_ops pend_ops = {
	.ok = pend_ok, .error = pend_error, .exit = pend_exit, .removed = pend_removed,
};

static struct pend *pend_start(struct api_call *c, struct api_ctr *r, enum pend_kind kind)
{
	struct pend *p = xcalloc(1, sizeof(*p));

	p->kind = kind;
	p->keepalive = c->keepalive;
	p->sub.stream = 1;
	p->sub.ops = &pend_ops;
	p->sub.ud = p;
	api_ctr_subscribe(r, &p->sub);
	p->k = api_call_take(c, &pend_conn_ops, p, 0);
	return p;
}

/* ---- create ---- */

struct create_job {
	uv_work_t w;
	struct ctrspec spec;
	struct api_restart_policy restart;
	struct bundle_config bc;
	const char *data_dir;
	struct err e;
	int rc;
	struct api_conn *k;
	int keepalive;
	struct api_sup *sup;
};

static void create_closed(void *ud)
{
	((struct create_job *)ud)->k = NULL;
}

static const struct api_stream_ops create_conn_ops = { .closed = create_closed };

static void create_work(uv_work_t *w)
{
	struct create_job *j = w->data;

	j->rc = ctrspec_build(&j->spec, j->data_dir, &j->bc, &j->e);
	if (j->rc == 0 && (j->rc = bundle_create(&j->bc, &j->e)) == 0 &&
	    /* the policy lands before the answer: no start can come earlier */
	    (j->rc = api_restart_create(j->bc.id, &j->restart, &j->e)) < 0)
		bundle_remove(j->bc.id, NULL);
	if (j->rc == 0)
		network_pending(j->bc.id, false);   /* its bundle holds the address now */
	if (j->rc < 0) {   /* e.g. a name conflict: nothing else knows these */
		struct err ignored = ERR_INIT;

		network_run_undo(j->bc.network, j->bc.id);
		if (j->bc.mounts)
			mounts_remove_anonymous(j->bc.mounts, &ignored);
	}
}

static void create_done(uv_work_t *w, int status)
{
	struct create_job *j = w->data;

	if (j->k) {
		if (status < 0)
			conn_error(j->k, 500, "cancelled", j->keepalive);
		else if (j->rc == 0)
			conn_reply(j->k, 201, json_pack("{s:s, s:[]}", "Id", j->bc.id, "Warnings"),
				   j->keepalive);
		else
			conn_error(j->k, j->rc == -ENOENT ? 404 : j->rc == -EEXIST ? 409
				   : j->rc == -EINVAL ? 400 : 500, j->e.msg, j->keepalive);
	}
	if (j->rc == 0) {
		log_info("container %.12s created (%s)", j->bc.id, j->bc.name);
		api_events_emit(j->sup, "create", j->bc.id, j->bc.name, j->bc.image_ref,
				j->bc.labels, -1);
	}
	ctrspec_free(&j->spec);
	bundle_config_free(&j->bc);
	free(j);
}

void api_ctr_create(struct api_call *c)
{
	_cleanup_buf_ struct buf name = BUF_INIT, plat = BUF_INIT;
	struct create_job *j;
	struct api_restart_policy pol;
	int rc;

	if (api_query_get(c->query, c->query_len, "name", &name) < 0 ||
	    api_query_get(c->query, c->query_len, "platform", &plat) < 0) {
		api_reply_error(c, 400, "invalid query");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->e = (struct err)ERR_INIT;
	if (ctrspec_parse(c->body, c->body_len, name.len ? buf_str(&name) : NULL,
			  plat.len ? buf_str(&plat) : NULL, &j->spec, &j->e) < 0 ||
	    api_restart_parse(c->body, c->body_len, j->spec.auto_remove, &pol, &j->e) < 0) {
		api_reply_error(c, 400, "%s", j->e.msg);
		ctrspec_free(&j->spec);
		free(j);
		return;
	}
	j->restart = pol;
	j->data_dir = c->ctx->data_dir;
	j->sup = c->ctx->sup;
	j->keepalive = c->keepalive;
	j->w.data = j;
	j->k = api_call_take(c, &create_conn_ops, j, 0);
	if ((rc = uv_queue_work(api_sup_loop(c->ctx->sup), &j->w, create_work, create_done)) < 0) {
		j->rc = rc;
		err_set(&j->e, rc, "queue: %s", uv_strerror(rc));
		create_done(&j->w, 0);
	}
}

/* ---- start, stop, kill, resize ---- */

void api_ctr_start_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct api_ctr *r;
	struct err e = ERR_INIT;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (is_running(c, id)) {
		api_reply_text(c, 304, NULL, "");
		return;
	}
	r = api_ctr_get(c->ctx->sup, id);
	if (api_ctr_start(r, &e) < 0) {
		api_reply_error(c, e.code == -EALREADY ? 304 : 500, "%s", e.msg);
		return;
	}
	api_restart_user_start(c->ctx->sup, id);
	/* answered once the workload runs (or failed to) */
	pend_start(c, r, PEND_START);
}

static int stop_signal(struct api_call *c, const char *id)
{
	_cleanup_buf_ struct buf v = BUF_INIT;
	struct bundle_config bc;
	int signo = SIGTERM;

	if (api_query_get(c->query, c->query_len, "signal", &v) > 0 && v.len)
		return api_signal_parse(buf_str(&v));
	if (bundle_config_load(id, &bc, NULL) == 0) {
		const char *s = json_string_value(
			json_object_get(json_object_get(bc.guest, "image"), "StopSignal"));
		if (s && api_signal_parse(s))
			signo = api_signal_parse(s);
		bundle_config_free(&bc);
	}
	return signo;
}

void api_ctr_stop_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct api_ctr *r;
	struct err e = ERR_INIT;
	long t;
	int signo;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_long(c, "t", 10, &t) < 0 || t > 86400 || (signo = stop_signal(c, id)) == 0) {
		api_reply_error(c, 400, "invalid t or signal");
		return;
	}
	api_restart_user_stop(c->ctx->sup, id);
	if (!is_running(c, id)) {
		api_reply_text(c, 304, NULL, "");
		return;
	}
	r = api_ctr_get(c->ctx->sup, id);
	if (api_ctr_signal(r, signo, t < 0 ? -1 : t * 1000, &e) < 0) {
		if (e.code == -ESRCH)
			api_reply_text(c, 304, NULL, "");
		else
			api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	pend_start(c, r, PEND_STOP);
}

void api_ctr_kill_h(struct api_call *c)
{
	_cleanup_buf_ struct buf v = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct err e = ERR_INIT;
	int signo = SIGKILL;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_get(c->query, c->query_len, "signal", &v) > 0 && v.len &&
	    !(signo = api_signal_parse(buf_str(&v)))) {
		api_reply_error(c, 400, "Invalid signal: %.64s", buf_str(&v));
		return;
	}
	api_restart_user_stop(c->ctx->sup, id);
	if (!is_running(c, id) || api_ctr_signal(api_ctr_get(c->ctx->sup, id), signo, -1, &e) < 0) {
		api_reply_error(c, 409, "Container %s is not running", id);
		return;
	}
	api_reply_text(c, 204, NULL, "");
}

void api_ctr_resize_h(struct api_call *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct err e = ERR_INIT;
	struct api_ctr *r;
	long h, w;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_long(c, "h", 0, &h) < 0 || api_query_long(c, "w", 0, &w) < 0 || h < 0 ||
	    w < 0 || h > 65535 || w > 65535) {
		api_reply_error(c, 400, "invalid h or w");
		return;
	}
	r = api_ctr_get(c->ctx->sup, id);
	if (!is_running(c, id) || api_ctr_link(r, &e) < 0) {
		api_reply_error(c, 409, "Container %s is not running", id);
		return;
	}
	if (h && w && agent_put_resize(&b, 1, (uint16_t)h, (uint16_t)w, &e) == 0)
		api_ctr_send(r, &b, &e);
	api_reply_text(c, 200, NULL, "");
}

/* ---- delete, prune ---- */

/* ?v=1: the container's mounts, read before its config.json goes, so
 * that its anonymous volumes can follow it (named ones stay, as in docker). */
static json_t *anon_volumes(struct api_call *c, const char *id)
{
	struct bundle_config bc;
	json_t *m;

	if (!api_query_bool(c, "v", 0) || bundle_config_load(id, &bc, NULL) < 0)
		return NULL;
	m = json_incref(bc.mounts);
	bundle_config_free(&bc);
	return m;
}

void api_ctr_delete_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct api_ctr *r;
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *vols = NULL;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	r = api_ctr_get(c->ctx->sup, id);
	vols = anon_volumes(c, id);
	if (is_running(c, id)) {
		if (!api_query_bool(c, "force", 0)) {
			api_reply_error(c, 409,
					"You cannot remove a running container %s. Stop the container "
					"before attempting removal or force remove", id);
			return;
		}
		api_restart_user_stop(c->ctx->sup, id);
		if (api_ctr_signal(r, SIGKILL, -1, &e) == 0) {
			pend_start(c, r, PEND_DELETE)->volumes = json_incref(vols);
			return;
		}
	}
	if (bundle_remove(id, &e) < 0) {
		api_reply_error(c, e.code == -ENOENT ? 404 : 500, "%s", e.msg);
		return;
	}
	if (vols && mounts_remove_anonymous(vols, &e) < 0)
		log_warn("container %.12s: removing its volumes: %s", id, e.msg);
	log_info("container %.12s removed", id);
	api_ctr_removed(r);
	api_reply_text(c, 204, NULL, "");
}

static long long disk_usage(const char *id)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat sb;
	long long n = 0;
	static const char *const files[] = { "rw.ext4", "stdio.log", "boot.log", "runtime.log" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&p);
		if (bundle_path(id, files[i], &p, NULL) == 0 && stat(buf_str(&p), &sb) == 0)
			n += (long long)sb.st_blocks * 512;
	}
	return n;
}


void api_ctr_prune_h(struct api_call *c)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	json_t *deleted = json_array();
	long long space = 0;
	struct dirent *d;
	DIR *dir;

	if (bundle_root(&root, NULL) == 0 && (dir = opendir(buf_str(&root)))) {
		while ((d = readdir(dir))) {
			struct bundle_state st;
			struct api_ctr *r;
			long long n;
			if (strlen(d->d_name) != BUNDLE_ID_LEN ||
			    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN ||
			    api_ctr_state(d->d_name, &st, NULL) < 0 || st.status == BUNDLE_RUNNING ||
			    api_ctr_running(api_ctr_get(c->ctx->sup, d->d_name)))
				continue;
			n = disk_usage(d->d_name);
			r = api_ctr_get(c->ctx->sup, d->d_name);   /* named in the event */
			if (bundle_remove(d->d_name, NULL) < 0)
				continue;
			space += n;
			json_array_append_new(deleted, json_string(d->d_name));
			api_ctr_removed(r);
		}
		closedir(dir);
	}
	api_reply_json(c, 200, json_pack("{s:o, s:I}", "ContainersDeleted", deleted,
					 "SpaceReclaimed", (json_int_t)space));
}

/* POST /containers/{id}/rename?name=NEW: the bundle's name (unique, as at
 * create) and the name each of its networks' DNS answers; what compose's
 * recreate does to the old container before making the new one. */
void api_ctr_rename_h(struct api_call *c)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct err e = ERR_INIT;
	struct bundle_config bc;
	struct api_ctr *r;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_get(c->query, c->query_len, "name", &name) <= 0 || !name.len) {
		api_reply_error(c, 400, "rename needs ?name=");
		return;
	}
	if (bundle_rename(id, buf_str(&name) + (name.data[0] == '/'), &bc, &e) < 0) {
		api_reply_error(c, e.code == -EEXIST ? 409 : e.code == -EINVAL ? 400 : 500, "%s",
				e.msg);
		return;
	}
	if (network_rename(bc.network, id, bc.name, &e) < 0)
		log_warn("rename %.12s: %s", id, e.msg);
	bundle_config_free(&bc);
	r = api_ctr_get(c->ctx->sup, id);
	api_ctr_describe(r);
	api_ctr_event(r, "rename", -1);
	api_reply_text(c, 204, NULL, "");
}

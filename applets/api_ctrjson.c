/* GET /containers/json and GET /containers/{id}/json (see
 * applets/api_handlers.h): the bundles on disk (config.json + state.json)
 * in the shapes of Docker Engine API 1.45.  The list reads the bundles
 * through applets/api_ctrcache.h (parsed once, re-read when a file
 * changes: never stale) and keeps each stopped container's serialized
 * summary there; inspect reads them afresh. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/apinet.h"
#include "applets/api_ctr.h"
#include "applets/api_ctrcache.h"
#include "applets/api_restart.h"
#include "applets/api_filters.h"
#include "applets/api_mounts.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/timex.h"

#define FILTER_MAX (64 * 1024)

/* Docker's "0001-01-01T00:00:00Z" for a time that never was. */
static const char *ts(const char *s)
{
	return s && *s ? s : "0001-01-01T00:00:00Z";
}

/* The reference as a Docker user writes it: docker.io/library/alpine:3
 * reads alpine:3, docker.io/me/app:1 reads me/app:1. */
static const char *familiar(const char *ref)
{
	if (!ref)
		return "";
	if (strncmp(ref, "docker.io/library/", 18) == 0)
		return ref + 18;
	if (strncmp(ref, "docker.io/", 10) == 0)
		return ref + 10;
	return ref;
}

static const char *status_word(enum bundle_status s)
{
	return s == BUNDLE_RUNNING ? "running" : s == BUNDLE_EXITED ? "exited" : "created";
}

/* "Up 5 seconds", "Exited (0) 3 minutes ago", "Created" */
static void human_status(const struct bundle_state *st, struct buf *out)
{
	time_t now = time(NULL), t;
	long d;
	const char *unit = "seconds";

	if (st->status == BUNDLE_CREATED) {
		buf_puts(out, "Created");
		return;
	}
	t = timex_parse_rfc3339(st->status == BUNDLE_RUNNING ? st->started_at : st->finished_at);
	d = t ? (long)(now - t) : 0;
	if (d < 0)
		d = 0;
	if (d >= 7200) {
		d /= 3600;
		unit = "hours";
	} else if (d >= 120) {
		d /= 60;
		unit = "minutes";
	}
	if (st->status == BUNDLE_RUNNING)
		buf_printf(out, "Up %ld %s", d, unit);
	else
		buf_printf(out, "Exited (%d) %ld %s ago", st->exit_code < 0 ? 255 : st->exit_code, d,
			   unit);
}

/* The effective process: the user's overrides over the image's config. */
struct eff {
	json_t *entrypoint, *cmd, *env;  /* borrowed arrays or NULL */
	const char *user, *workdir;
	bool tty, open_stdin;
};

static void effective(const struct bundle_config *bc, struct eff *f)
{
	json_t *img = json_object_get(bc->guest, "image");
	json_t *p = json_object_get(bc->guest, "process");
	json_t *ep = json_object_get(p, "entrypoint");

	memset(f, 0, sizeof(*f));
	f->entrypoint = ep ? ep : json_object_get(img, "Entrypoint");
	f->cmd = json_object_get(p, "cmd");
	if (!f->cmd && !ep)
		f->cmd = json_object_get(img, "Cmd");
	f->env = json_object_get(img, "Env");
	f->user = jsonx_str(p, "user") ? jsonx_str(p, "user") : jsonx_str(img, "User");
	f->workdir = jsonx_str(p, "workdir") ? jsonx_str(p, "workdir") : jsonx_str(img, "WorkingDir");
	f->tty = json_is_true(json_object_get(p, "tty"));
	f->open_stdin = json_is_true(json_object_get(p, "stdin"));
}

static json_t *env_merged(const struct bundle_config *bc, const struct eff *f)
{
	json_t *a = json_array(), *v;
	json_t *user = json_object_get(json_object_get(bc->guest, "process"), "env");
	size_t i;

	json_array_foreach(f->env, i, v)
		json_array_append(a, v);
	json_array_foreach(user, i, v)
		json_array_append(a, v);
	return a;
}

static json_t *arr_or_null(json_t *a)
{
	return json_is_array(a) ? json_incref(a) : json_null();
}

/* "Path" and "Args": entrypoint + cmd, split as Docker does. */
static void path_args(const struct eff *f, const char **path, json_t **args)
{
	json_t *all = json_array(), *v;
	size_t i;

	json_array_foreach(f->entrypoint, i, v)
		json_array_append(all, v);
	json_array_foreach(f->cmd, i, v)
		json_array_append(all, v);
	*path = json_array_size(all) ? json_string_value(json_array_get(all, 0)) : "";
	*args = json_array();
	for (i = 1; i < json_array_size(all); i++)
		json_array_append(*args, json_array_get(all, i));
	/* path borrowed from all's first element, kept alive by the config */
	*path = *path ? *path : "";
	json_decref(all);
}

static json_t *command_line(const struct eff *f)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach(f->entrypoint, i, v)
		buf_printf(&b, "%s%s", b.len ? " " : "", json_string_value(v));
	json_array_foreach(f->cmd, i, v)
		buf_printf(&b, "%s%s", b.len ? " " : "", json_string_value(v));
	return json_string(buf_str(&b));
}

static json_t *inspect_doc(const struct bundle_config *bc, const struct bundle_state *st)
{
	struct eff f;
	const char *path;
	json_t *args, *config, *state, *host, *doc;
	_cleanup_buf_ struct buf name = BUF_INIT;
	json_t *proc = json_object_get(bc->guest, "process");

	effective(bc, &f);
	path_args(&f, &path, &args);
	buf_printf(&name, "/%s", bc->name ? bc->name : "");
	state = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:s, s:s}", "Status",
			  status_word(st->status), "Running", st->status == BUNDLE_RUNNING,
			  "Paused", 0, "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Pid",
			  (json_int_t)(st->status == BUNDLE_RUNNING ? st->vmm_pid : 0), "ExitCode",
			  st->exit_code < 0 ? (st->status == BUNDLE_EXITED ? 255 : 0) : st->exit_code,
			  "Error", st->error, "StartedAt", ts(st->started_at), "FinishedAt",
			  ts(st->finished_at));
	config = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:s,"
			   " s:o, s:O, s:n}",
			   "Hostname", jsonx_str(bc->guest, "hostname") ? jsonx_str(bc->guest, "hostname") : "",
			   "Domainname", "", "User", f.user ? f.user : "", "AttachStdin", 0,
			   "AttachStdout", 0, "AttachStderr", 0, "Tty", f.tty, "OpenStdin",
			   f.open_stdin, "StdinOnce", f.open_stdin, "Env", env_merged(bc, &f), "Cmd",
			   arr_or_null(f.cmd), "Image", familiar(bc->image_ref),
			   "WorkingDir", f.workdir ? f.workdir : "", "Entrypoint",
			   arr_or_null(f.entrypoint), "Labels", bc->labels, "OnBuild");
	host = json_pack("{s:b, s:I, s:I, s:b, s:b, s:{s:s, s:i}, s:s, s:[i,i]}", "AutoRemove",
			 bc->auto_remove, "Memory", (json_int_t)bc->memory_mib << 20, "NanoCpus",
			 (json_int_t)bc->cpus * 1000000000, "ReadonlyRootfs",
			 json_is_true(json_object_get(bc->guest, "read_only")), "Init",
			 json_is_true(json_object_get(bc->guest, "init")), "RestartPolicy", "Name",
			 "no", "MaximumRetryCount", 0, "NetworkMode", "default", "ConsoleSize",
			 (int)json_integer_value(json_object_get(proc, "rows")),
			 (int)json_integer_value(json_object_get(proc, "cols")));
	/* stdio.log is json-file's shape; compose shows no logs without a driver */
	json_object_set_new(host, "LogConfig", json_pack("{s:s, s:{}}", "Type", "json-file",
							 "Config"));
	doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o,"
			" s:{s:{}, s:{}}, s:o}",
			"Id", bc->id, "Created", ts(bc->created), "Path", path, "Args", args,
			"State", state, "Image", bc->image_manifest ? bc->image_manifest : "",
			"Name", buf_str(&name), "RestartCount", 0, "Driver", "ext4", "Platform",
			"linux", "Config", config, "HostConfig", host, "GraphDriver",
			json_pack("{s:s, s:{}}", "Name", "ext4", "Data"), "NetworkSettings",
			"Networks", "Ports", "Mounts", api_mounts_json(bc->mounts));
	apinet_inspect(bc, st->status == BUNDLE_RUNNING, doc);
	return doc;
}

void api_ctr_inspect_h(struct api_call *c)
{
	char id[BUNDLE_ID_LEN + 1];
	struct bundle_config bc;
	struct bundle_state st;
	struct err e = ERR_INIT;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (bundle_config_load(id, &bc, &e) < 0) {
		api_reply_error(c, e.code == -ENOENT ? 404 : 500, "%s", e.msg);
		return;
	}
	if (api_ctr_state(id, &st, &e) < 0) {
		bundle_config_free(&bc);
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	{
		json_t *doc = inspect_doc(&bc, &st);
		api_restart_inspect(c->ctx->sup, id, doc);
		api_reply_json(c, 200, doc);
	}
	bundle_config_free(&bc);
}

/* ---- list ---- */

/* ?filters={"status":["running"],"name":["x"],"id":["abc"],"label":["k=v"]}:
 * every key present must match one of its values; "label" must match all
 * of them, as Docker (compose asks for project AND service AND number). */
static bool one_matches(const json_t *vals, const struct bundle_config *bc,
			const struct bundle_state *st, const char *key)
{
	json_t *v;
	size_t i;

	json_array_foreach(vals, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		if (strcmp(key, "status") == 0 && strcmp(s, status_word(st->status)) == 0)
			return true;
		if (strcmp(key, "name") == 0 && bc->name &&
		    strstr(bc->name, *s == '/' ? s + 1 : s))
			return true;
		if (strcmp(key, "id") == 0 && strncmp(bc->id, s, strlen(s)) == 0)
			return true;
	}
	if (strcmp(key, "label") == 0)
		return api_filters_labels(vals, bc->labels);
	return false;
}

static bool filters_match(const json_t *filters, const struct bundle_config *bc,
			  const struct bundle_state *st)
{
	const char *key;
	json_t *vals;

	json_object_foreach((json_t *)filters, key, vals) {
		/* both shapes clients send: ["v"] and {"v": true} */
		json_t *list = vals;
		if (json_is_object(vals)) {
			const char *k2;
			json_t *x;
			list = json_array();
			json_object_foreach(vals, k2, x)
				json_array_append_new(list, json_string(k2));
		}
		bool ok = !json_is_array(list) || !json_array_size(list) ||
			  (strcmp(key, "status") && strcmp(key, "name") && strcmp(key, "id") &&
			   strcmp(key, "label")) ||
			  one_matches(list, bc, st, key);
		if (list != vals)
			json_decref(list);
		if (!ok)
			return false;
	}
	return true;
}

static json_t *summary(const struct bundle_config *bc, const struct bundle_state *st)
{
	_cleanup_buf_ struct buf status = BUF_INIT, name = BUF_INIT;
	struct eff f;

	effective(bc, &f);
	human_status(st, &status);
	buf_printf(&name, "/%s", bc->name ? bc->name : "");
	json_t *sum;

	sum = json_pack("{s:s, s:[s], s:s, s:s, s:o, s:I, s:[], s:O, s:s, s:s,"
			 " s:{s:s}, s:{s:{}}, s:o}",
			 "Id", bc->id, "Names", buf_str(&name), "Image",
			 familiar(bc->image_ref), "ImageID",
			 bc->image_manifest ? bc->image_manifest : "", "Command", command_line(&f),
			 "Created", (json_int_t)timex_parse_rfc3339(bc->created), "Ports", "Labels",
			 bc->labels, "State", status_word(st->status), "Status", buf_str(&status),
			 "HostConfig", "NetworkMode", "default", "NetworkSettings", "Networks",
			 "Mounts", api_mounts_json(bc->mounts));
	apinet_summary(bc, st->status == BUNDLE_RUNNING, sum);
	return sum;
}

/* A list entry, serialized: head (State and Status) then the body, the
 * cache's text (borrowed for the length of the request: nothing else
 * touches the cache until the reply is written) or, when cached is NULL,
 * its own; and its sort key (config's "created", borrowed the same way).
 * Rows are sorted (moved): nothing points into one. */
struct row {
	char head[128];
	const struct buf *cached;
	struct buf own;
	const char *created;
};

static const struct buf *row_body(const struct row *r)
{
	return r->cached ? r->cached : &r->own;
}

static int by_created_desc(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return strcmp(y->created, x->created);
}

/* The summary without State and Status, serialized from its first key on
 * (`"Id":...}`): what the cache keeps. */
static int body_text(const struct bundle_config *bc, const struct bundle_state *st,
		     struct buf *out)
{
	json_t *sum = summary(bc, st);
	int rc;

	if (!sum)
		return -EINVAL;   /* a string that is not UTF-8 */
	json_object_del(sum, "State");
	json_object_del(sum, "Status");
	rc = jsonx_dump_buf(sum, JSON_COMPACT, out, NULL);
	json_decref(sum);
	if (rc == 0 && (out->len < 2 || out->data[0] != '{'))
		rc = -EINVAL;
	return rc;
}

/* One list entry into r.  The serialized summary of a container that
 * is not running is kept in the cache's text slot (rebuilt when
 * config.json or state.json change), so a `docker ps` of 100 stopped
 * containers rebuilds no JSON; State and Status, which depend on the
 * clock and on a pending restart, are written in front on every call.  A
 * running one's Ports are the runtime's (ports.json): built each time. */
static int list_entry(struct api_sup *sup, const char *id, struct api_ctrcache_view *v,
		      struct row *r)
{
	_cleanup_buf_ struct buf status = BUF_INIT;
	bool cacheable = v->st.status != BUNDLE_RUNNING && !v->state_changed;
	const char *state = status_word(v->st.status);

	r->cached = cacheable ? v->text : NULL;
	if (!cacheable || !v->text->len) {
		struct buf *to = cacheable ? v->text : &r->own;
		buf_reset(to);
		if (body_text(v->bc, &v->st, to) < 0) {
			buf_reset(to);
			return -EINVAL;
		}
	}
	human_status(&v->st, &status);
	if (v->st.status != BUNDLE_RUNNING && api_restart_pending(sup, id)) {
		state = "restarting";
		/* "Exited (1) 2 seconds ago" -> "Restarting (1) 2 seconds ago" */
		if (!strncmp(buf_str(&status), "Exited", 6)) {
			_cleanup_buf_ struct buf w = BUF_INIT;
			buf_printf(&w, "Restarting%s", buf_str(&status) + 6);
			buf_reset(&status);
			buf_append(&status, w.data, w.len);
		}
	}
	/* both are ours, plain ASCII and short: no escaping needed */
	snprintf(r->head, sizeof(r->head), "{\"State\":\"%s\",\"Status\":\"%s\",", state,
		 buf_str(&status));
	return 0;
}

/* The array written once, straight into the answer: its length is known
 * first, so the 100-container body (~75 KB) is neither grown nor copied
 * twice (large buffers are mmap'd, and unmapping them costs the most). */
static void reply_rows(struct api_call *c, const struct row *v, size_t n)
{
	size_t len = 3;   /* [ ] \n */

	for (size_t i = 0; i < n; i++)
		len += (i > 0) + strlen(v[i].head) + row_body(&v[i])->len - 1;
	api_write_head(c->out, 200, "application/json", NULL, (long long)len, c->keepalive);
	if (c->head)
		return;
	buf_reserve(c->out, len);
	buf_putc(c->out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(c->out, ',');
		buf_puts(c->out, v[i].head);
		buf_append(c->out, row_body(&v[i])->data + 1, row_body(&v[i])->len - 1);
	}
	buf_puts(c->out, "]\n");
}

void api_ctr_list_h(struct api_call *c)
{
	_cleanup_buf_ struct buf root = BUF_INIT, fq = BUF_INIT;
	json_t *filters = NULL;
	struct api_sup *sup = c->ctx->sup;
	struct err e = ERR_INIT;
	struct row *v = NULL;
	size_t n = 0, cap = 0, shown;
	struct dirent *d;
	bool all = api_query_bool(c, "all", 0);
	long limit;
	DIR *dir;

	if (api_query_long(c, "limit", -1, &limit) < 0 ||
	    api_query_get(c->query, c->query_len, "filters", &fq) < 0) {
		api_reply_error(c, 400, "invalid limit or filters");
		return;
	}
	if (fq.len && !(filters = jsonx_parse(fq.data, fq.len, FILTER_MAX, "filters", &e))) {
		api_reply_error(c, 400, "%s", e.msg);
		return;
	}
	if (filters && !json_is_object(filters)) {
		json_decref(filters);
		api_reply_error(c, 400, "filters must be a JSON object");
		return;
	}
	api_ctrcache_begin(sup);
	if (bundle_root(&root, NULL) == 0 && (dir = opendir(buf_str(&root)))) {
		while ((d = readdir(dir))) {
			struct api_ctrcache_view cv;
			if (strlen(d->d_name) != BUNDLE_ID_LEN ||
			    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
				continue;
			if (api_ctrcache_get(sup, d->d_name, &cv, NULL) < 0)
				continue;   /* gone, or unreadable now: the cache keeps it */
			if (!(all || cv.st.status == BUNDLE_RUNNING) ||
			    (filters && !filters_match(filters, cv.bc, &cv.st)))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n] = (struct row){ .own = BUF_INIT, .created = ts(cv.bc->created) };
			if (list_entry(sup, d->d_name, &cv, &v[n]) < 0)
				buf_free(&v[n].own);
			else
				n++;
		}
		closedir(dir);
		api_ctrcache_end(sup);
	}
	if (n)
		qsort(v, n, sizeof(*v), by_created_desc);
	shown = n;
	if (limit > 0 && (size_t)limit < n)
		shown = (size_t)limit;
	reply_rows(c, v, shown);
	for (size_t i = 0; i < n; i++)
		buf_free(&v[i].own);
	free(v);
	json_decref(filters);
}

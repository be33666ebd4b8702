/* The route table and request dispatch of the API server (see
 * applets/api_router.h).  Later endpoint groups (containers, images,
 * exec, events) add their rows to `routes` below. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "applets/api_archive.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_network.h"
#include "applets/api_volumes.h"
#include "applets/api_router.h"
#include "applets/api_system.h"
#include "lib/buf.h"
#include "lib/err.h"

static const struct api_route routes[] = {
	{ "GET", "/_ping", api_system_ping },
	{ "GET", "/version", api_system_version },
	{ "GET", "/info", api_system_info },
	{ "GET", "/container/system/status", api_system_status },
	{ "GET", "/system/df", api_system_df_h },
	{ "GET", "/container/containers/{id}/bootlog", api_ctr_bootlog_h },
	{ "POST", "/containers/create", api_ctr_create },
	{ "GET", "/containers/json", api_ctr_list_h },
	{ "POST", "/containers/prune", api_ctr_prune_h },
	{ "GET", "/containers/{id}/json", api_ctr_inspect_h },
	{ "POST", "/containers/{id}/start", api_ctr_start_h },
	{ "POST", "/containers/{id}/stop", api_ctr_stop_h },
	{ "POST", "/containers/{id}/kill", api_ctr_kill_h },
	{ "POST", "/containers/{id}/rename", api_ctr_rename_h },
	{ "POST", "/containers/{id}/resize", api_ctr_resize_h },
	{ "POST", "/containers/{id}/wait", api_ctr_wait_h },
	{ "POST", "/containers/{id}/attach", api_ctr_attach_h },
	{ "GET", "/containers/{id}/logs", api_ctr_logs_h },
	{ "GET", "/containers/{id}/stats", api_ctr_stats_h },
	{ "POST", "/containers/{id}/exec", api_exec_create_h },
	{ "DELETE", "/containers/{id}", api_ctr_delete_h },
	{ "GET", "/containers/{id}/archive", api_archive_get_h },
	{ "GET", "/containers/{id}/export", api_export_h },
	{ "POST", "/exec/{id}/start", api_exec_start_h },
	{ "POST", "/exec/{id}/resize", api_exec_resize_h },
	{ "GET", "/exec/{id}/json", api_exec_inspect_h },
	{ "GET", "/events", api_events_h },
	{ "GET", "/images/json", api_image_list_h },
	{ "POST", "/images/create", api_image_create_h },
	{ "GET", "/images/{name*}/json", api_image_inspect_h },
	{ "POST", "/images/{name*}/tag", api_image_tag_h },
	{ "DELETE", "/images/{name*}", api_image_delete_h },
	{ "POST", "/images/{name*}/push", api_image_push_h },
	{ "GET", "/images/get", api_image_get_h },
	{ "GET", "/images/{name*}/get", api_image_get_h },
	{ "POST", "/images/prune", api_image_prune_h },
	{ "GET", "/networks", api_network_list },
	{ "POST", "/networks/create", api_network_create },
	{ "POST", "/networks/prune", api_network_prune },
	{ "GET", "/networks/{id}", api_network_inspect },
	{ "DELETE", "/networks/{id}", api_network_delete },
	{ "POST", "/networks/{id}/connect", api_network_connect },
	{ "POST", "/networks/{id}/disconnect", api_network_disconnect },
	{ "GET", "/volumes", api_volume_list },
	{ "POST", "/volumes/create", api_volume_create },
	{ "POST", "/volumes/prune", api_volume_prune },
	{ "GET", "/volumes/{name}", api_volume_inspect },
	{ "DELETE", "/volumes/{name}", api_volume_delete },
	{ NULL, NULL, NULL },
};

/* The routes whose request body the server does not read: the handler
 * takes it raw (api_streams_body); dispatched like the others. */
static const struct api_route body_routes[] = {
	{ "PUT", "/containers/{id}/archive", api_archive_put_h },
	{ "POST", "/images/load", api_image_load_h },
	{ NULL, NULL, NULL },
};

int api_route_match(const char *pattern, const char *path, struct api_param *params,
		    size_t *nparams)
{
	const char *p = pattern, *s = path;
	size_t n = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *end = strchr(s, '/'), *pend = strchr(p, '}');

			if (!pend || n == API_PARAMS_MAX)
				return 0;
			if (pend > p && pend[-1] == '*') {
				/* {name*}: the rest but the pattern's literal tail, so
				 * image names with slashes fit (/images/a/b:1/json) */
				size_t tail = strlen(pend + 1), left = strlen(s);
				if (strchr(pend + 1, '{') || left <= tail ||
				    strcmp(s + left - tail, pend + 1) != 0)
					return 0;
				end = s + left - tail;
			} else if (!end) {
				end = s + strlen(s);
			}
			if (end == s)
				return 0;
			params[n].s = s;
			params[n].n = (size_t)(end - s);
			n++;
			s = end;
			p = pend + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	/* A trailing slash on the request is tolerated, as Docker's mux does. */
	if (*s == '/' && s[1] == '\0' && s != path)
		s++;
	if (*p || *s)
		return 0;
	*nparams = n;
	return 1;
}

static void dispatch(struct api_call *c)
{
	static const struct api_route *const tables[] = { routes, body_routes };
	const struct api_route *r, *hit = NULL;
	int path_known = 0;

	for (size_t t = 0; t < 2 && !hit; t++)
		for (r = tables[t]; r->method; r++) {
			if (!api_route_match(r->pattern, c->path, c->params, &c->nparams))
				continue;
			path_known = 1;
			if (strcmp(r->method, c->req->method) == 0 ||
			    (c->head && strcmp(r->method, "GET") == 0)) {
				hit = r;
				break;
			}
		}
	if (hit)
		hit->fn(c);
	else if (path_known)
		api_reply_error(c, 405, "method %s not allowed on %s", c->req->method, c->path);
	else
		api_reply_error(c, 404, "page not found");
}

void api_handle(struct api_ctx *ctx, struct api_conn *conn, const struct api_req *r,
		const char *body, size_t body_len, int *keepalive, struct buf *out)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	struct api_call c = {
		.ctx = ctx, .req = r, .body = body, .body_len = body_len,
		.head = strcmp(r->method, "HEAD") == 0, .keepalive = *keepalive, .out = out,
		.conn = conn,
	};

	ctx->requests++;
	/* Decoded paths are bounded by the head they came from. */
	buf_init(&path, API_HEAD_MAX);
	if (api_target_split(r->target, r->target_len, &path, &c.query, &c.query_len, &e) < 0 ||
	    api_version_strip(buf_str(&path), &c.path, &c.api_minor, &e) < 0) {
		api_reply_error(&c, 400, "%s", e.msg);
		return;
	}
	dispatch(&c);
	*keepalive = c.keepalive;
}

void api_reply_json(struct api_call *c, int status, json_t *v)
{
	/* NULL: a json_pack that failed, i.e. a string that is not UTF-8. */
	if (!v) {
		api_reply_error(c, 500, "response is not valid UTF-8");
		return;
	}
	api_write_json(c->out, status, v, c->keepalive, c->head);
	json_decref(v);
}

void api_reply_error(struct api_call *c, int status, const char *fmt, ...)
{
	_cleanup_buf_ struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	api_write_error(c->out, status, buf_str(&msg), c->keepalive, c->head);
}

void api_reply_text(struct api_call *c, int status, const char *extra_headers, const char *text)
{
	api_write_body(c->out, status, "text/plain; charset=utf-8", extra_headers, text,
		       strlen(text), c->keepalive, c->head);
}

int api_query_bool(const struct api_call *c, const char *key, int dflt)
{
	_cleanup_buf_ struct buf v = BUF_INIT;

	if (api_query_get(c->query, c->query_len, key, &v) <= 0)
		return dflt;
	return strcmp(buf_str(&v), "1") == 0 || strcasecmp(buf_str(&v), "true") == 0;
}

int api_streams_body(const struct api_req *r)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct api_param params[API_PARAMS_MAX];
	const char *q, *rest;
	size_t qn, n;
	int minor;

	if (api_target_split(r->target, r->target_len, &path, &q, &qn, NULL) < 0 ||
	    api_version_strip(buf_str(&path), &rest, &minor, NULL) < 0)
		return 0;
	for (const struct api_route *x = body_routes; x->method; x++)
		if (strcmp(x->method, r->method) == 0 && api_route_match(x->pattern, rest, params, &n))
			return 1;
	return 0;
}

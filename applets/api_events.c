/* GET /events (see applets/api_handlers.h) and the emitters the container
 * code calls (api_events_emit): container create, start, die, destroy, in
 * Docker's shape including the legacy status/id/from fields older clients
 * (docker-py, compose 1.x) read.  Filters: type, event, container (id or
 * name), label (key or key=value).  `since` replays from a ring of the last
 * EVENTS_RING events (there is no event log on disk); `until` ends the
 * stream at that time (at once when it is past).  A listener whose queue
 * is over API_CONN_QUEUE_MAX misses events rather than growing memory. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define EVENTS_RING 256
#define EVENTS_FILTER_MAX (64 * 1024)

struct api_evl {
	struct api_evl *next;
	struct api_sup *sup;
	struct api_conn *k;
	json_t *filters;             /* object or NULL */
	uv_timer_t until;
	bool timed;
	int keepalive;
};

struct api_events {
	json_t *ring[EVENTS_RING];
	size_t next;                 /* total emitted; ring index = next % N */
	struct api_evl *listeners;
};

static struct api_events *ev(struct api_sup *s)
{
	struct api_events **p = api_sup_events(s);

	if (!*p)
		*p = xcalloc(1, sizeof(**p));
	return *p;
}

void api_events_free(struct api_sup *s)
{
	struct api_events **p = api_sup_events(s);

	if (!*p)
		return;
	for (size_t i = 0; i < EVENTS_RING; i++)
		json_decref((*p)->ring[i]);
	free(*p);
	*p = NULL;
}

static bool in_list(const json_t *vals, const char *s)
{
	json_t *v;
	size_t i;

	if (json_is_object(vals))
		return json_object_get(vals, s) != NULL;
	json_array_foreach(vals, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool label_ok(const json_t *vals, const json_t *attrs)
{
	json_t *v, *list = (json_t *)vals;
	size_t i;
	bool owned = false, all = true;

	if (json_is_object(vals)) {
		const char *k;
		list = json_array();
		owned = true;
		json_object_foreach((json_t *)vals, k, v)
			json_array_append_new(list, json_string(k));
	}
	/* every label filter must hold (Docker ANDs labels) */
	json_array_foreach(list, i, v) {
		const char *f = json_string_value(v), *eq, *have;
		_cleanup_buf_ struct buf key = BUF_INIT;
		if (!f)
			continue;
		eq = strchr(f, '=');
		buf_append(&key, f, eq ? (size_t)(eq - f) : strlen(f));
		have = jsonx_str(attrs, buf_str(&key));
		if (!have || (eq && strcmp(have, eq + 1) != 0))
			all = false;
	}
	if (owned)
		json_decref(list);
	return all;
}

static bool matches(const json_t *filters, const json_t *e)
{
	const json_t *actor = json_object_get(e, "Actor");
	const json_t *attrs = json_object_get(actor, "Attributes");
	const char *key;
	json_t *vals;

	if (!filters)
		return true;
	json_object_foreach((json_t *)filters, key, vals) {
		if (strcmp(key, "type") == 0 && !in_list(vals, "container"))
			return false;
		if (strcmp(key, "event") == 0 && !in_list(vals, jsonx_str(e, "Action")))
			return false;
		if (strcmp(key, "container") == 0 && !in_list(vals, jsonx_str(actor, "ID")) &&
		    !in_list(vals, jsonx_str(attrs, "name")))
			return false;
		if (strcmp(key, "label") == 0 && !label_ok(vals, attrs))
			return false;
	}
	return true;
}

static void send_event(struct api_evl *l, const json_t *e)
{
	_cleanup_buf_ struct buf j = BUF_INIT, chunk = BUF_INIT;

	if (!l->k || !matches(l->filters, e) || api_conn_queued(l->k) > API_CONN_QUEUE_MAX)
		return;
	if (jsonx_dump_buf(e, JSON_COMPACT, &j, NULL) < 0)
		return;
	buf_putc(&j, '\n');
	api_write_chunk(&chunk, j.data, j.len);
	api_conn_write(l->k, chunk.data, chunk.len);
}

void api_events_emit(struct api_sup *s, const char *action, const char *id, const char *name,
		     const char *image, const json_t *labels, int exit_code)
{
	struct api_events *x = ev(s);
	struct timespec ts;
	json_t *attrs = json_object(), *e, *v;
	const char *k;
	char code[16];

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_foreach((json_t *)labels, k, v)
		if (json_is_string(v))
			json_object_set(attrs, k, v);
	json_object_set_new(attrs, "name", json_string(name ? name : ""));
	json_object_set_new(attrs, "image", json_string(image ? image : ""));
	if (exit_code >= 0) {
		snprintf(code, sizeof(code), "%d", exit_code);
		json_object_set_new(attrs, "exitCode", json_string(code));
	}
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "status", action,
		      "id", id, "from", image ? image : "", "Type", "container", "Action", action,
		      "Actor", "ID", id, "Attributes", attrs, "scope", "local", "time",
		      (json_int_t)ts.tv_sec, "timeNano",
		      (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (!e)
		return;
	json_decref(x->ring[x->next % EVENTS_RING]);
	x->ring[x->next % EVENTS_RING] = e;
	x->next++;
	for (struct api_evl *l = x->listeners; l; l = l->next)
		send_event(l, e);
}

static void evl_unlink(struct api_evl *l)
{
	struct api_evl **pp;

	for (pp = &ev(l->sup)->listeners; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
}

static void evl_freed(uv_handle_t *h)
{
	struct api_evl *l = h->data;

	json_decref(l->filters);
	free(l);
}

static void evl_free(struct api_evl *l)
{
	evl_unlink(l);
	uv_close((uv_handle_t *)&l->until, evl_freed);
}

static void evl_gone(void *ud)
{
	struct api_evl *l = ud;

	l->k = NULL;
	evl_free(l);
}

static const struct api_stream_ops evl_ops = { .closed = evl_gone };

static void evl_end(struct api_evl *l)
{
	struct api_conn *k = l->k;

	l->k = NULL;
	if (k)
		api_conn_end_chunked(k, l->keepalive);
	evl_free(l);
}

static void on_until(uv_timer_t *t)
{
	evl_end(t->data);
}

/* Docker's time parameters: unix seconds, possibly with a fraction. */
static int query_time(const struct api_call *c, const char *key, double *out)
{
	_cleanup_buf_ struct buf v = BUF_INIT;
	char *end;
	int rc = api_query_get(c->query, c->query_len, key, &v);

	*out = -1;
	if (rc < 0)
		return -1;
	if (rc == 0 || !v.len)
		return 0;
	*out = strtod(buf_str(&v), &end);
	return *end || *out < 0 ? -1 : 0;
}

void api_events_h(struct api_call *c)
{
	_cleanup_buf_ struct buf fq = BUF_INIT;
	struct api_events *x = ev(c->ctx->sup);
	struct api_evl *l;
	struct err e = ERR_INIT;
	json_t *filters = NULL;
	double since, until, now = (double)time(NULL);

	if (query_time(c, "since", &since) < 0 || query_time(c, "until", &until) < 0 ||
	    api_query_get(c->query, c->query_len, "filters", &fq) < 0) {
		api_reply_error(c, 400, "invalid since, until or filters");
		return;
	}
	if (fq.len && (!(filters = jsonx_parse(fq.data, fq.len, EVENTS_FILTER_MAX, "filters", &e)) ||
		       !json_is_object(filters))) {
		json_decref(filters);
		api_reply_error(c, 400, "%s", e.msg[0] ? e.msg : "filters must be a JSON object");
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->sup = c->ctx->sup;
	l->filters = filters;
	l->keepalive = c->keepalive;
	uv_timer_init(api_sup_loop(c->ctx->sup), &l->until);
	l->until.data = l;
	l->next = x->listeners;
	x->listeners = l;
	api_write_head(c->out, 200, "application/json", NULL, -1, c->keepalive);
	l->k = api_call_take(c, &evl_ops, l, 0);
	if (since >= 0) {
		size_t first = x->next > EVENTS_RING ? x->next - EVENTS_RING : 0;
		for (size_t i = first; i < x->next && l->k; i++) {
			json_t *ev1 = x->ring[i % EVENTS_RING];
			double t = (double)json_integer_value(json_object_get(ev1, "time"));
			if (t >= since && (until < 0 || t <= until))
				send_event(l, ev1);
		}
	}
	if (until >= 0) {
		if (until <= now)
			evl_end(l);
		else
			uv_timer_start(&l->until, on_until, (uint64_t)((until - now) * 1000), 0);
	}
}

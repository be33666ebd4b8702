/* Restart policies and their backoff (see applets/api_restart.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_restart.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timex.h"

#define FIRST_MS 100UL
#define CAP_MS 60000UL
#define RESET_AFTER_S 10
/* a runtime that reported the end but has not left yet: look again */
#define BUSY_RETRY_MS 100UL
#define BUSY_RETRIES 100
#define BODY_MAX ((size_t)1 << 20)   /* as ctrspec's bound on the request */
#define RESTART_FILE_MAX 4096

/* One container with a restart pending (or its timer closing). */
struct api_rrec {
	struct api_rrec *next;
	struct api_sup *sup;
	char id[BUNDLE_ID_LEN + 1];
	uv_timer_t t;
	int busy;        /* retries while the old runtime is still there */
	bool closing;
};

/* restart.json in memory */
struct rfile {
	struct api_restart_policy p;
	long count;
	unsigned long delay_ms;
	bool manual_stop, pending;
	char handled[40];   /* started_at of the last run whose end was seen */
};

int api_restart_parse(const char *body, size_t len, bool auto_remove,
		      struct api_restart_policy *out, struct err *e)
{
	json_t *j __attribute__((cleanup(jsonx_decrefp))) = NULL;
	json_t *rp, *v;
	const char *name = "";
	json_int_t max = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "no");
	if (!(j = jsonx_parse(body, len, BODY_MAX, "the request", e)))
		return -EINVAL;
	rp = json_object_get(json_object_get(j, "HostConfig"), "RestartPolicy");
	if (!rp || json_is_null(rp))
		return 0;
	if (!json_is_object(rp))
		return err_set(e, -EINVAL, "RestartPolicy must be an object");
	if ((v = json_object_get(rp, "Name")) && !json_is_null(v) && !(name = json_string_value(v)))
		return err_set(e, -EINVAL, "RestartPolicy.Name must be a string");
	if ((v = json_object_get(rp, "MaximumRetryCount")) && !json_is_null(v)) {
		if (!json_is_integer(v))
			return err_set(e, -EINVAL, "RestartPolicy.MaximumRetryCount must be an integer");
		max = json_integer_value(v);
	}
	if (!name || !*name)
		name = "no";
	if (strcmp(name, "no") && strcmp(name, "on-failure") && strcmp(name, "always") &&
	    strcmp(name, "unless-stopped"))
		return err_set(e, -EINVAL, "invalid restart policy '%.32s'", name);
	if (max < 0)
		return err_set(e, -EINVAL, "maximum retry count cannot be negative");
	if (max > 0 && strcmp(name, "on-failure"))
		return err_set(e, -EINVAL, "maximum retry count cannot be used with restart policy '%s'",
			       name);
	if (max > 1000000)
		return err_set(e, -EINVAL, "maximum retry count is too large");
	if (auto_remove && strcmp(name, "no"))
		return err_set(e, -EINVAL, "can't create 'AutoRemove' container with restart policy");
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->max = (long)max;
	return 0;
}

static int rfile_path(const char *id, struct buf *p, struct err *e)
{
	return bundle_path(id, "restart.json", p, e);
}

/* -ENOENT when the container has no policy (or is gone). */
static int rfile_load(const char *id, struct rfile *r, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	json_t *j;
	const char *name;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->p.name, sizeof(r->p.name), "no");
	if ((rc = rfile_path(id, &p, e)) < 0)
		return rc;
	if (!(j = jsonx_load_file(buf_str(&p), RESTART_FILE_MAX, e)))
		return e && e->code ? e->code : -EINVAL;
	name = jsonx_str(j, "name");
	if (name && (!strcmp(name, "on-failure") || !strcmp(name, "always") ||
		     !strcmp(name, "unless-stopped")))
		snprintf(r->p.name, sizeof(r->p.name), "%s", name);
	r->p.max = (long)jsonx_int(j, "max", 0);
	r->count = (long)jsonx_int(j, "count", 0);
	r->delay_ms = (unsigned long)jsonx_int(j, "delay_ms", 0);
	r->manual_stop = json_is_true(json_object_get(j, "manual_stop"));
	r->pending = json_is_true(json_object_get(j, "pending"));
	name = jsonx_str(j, "handled");
	snprintf(r->handled, sizeof(r->handled), "%s", name ? name : "");
	if (r->p.max < 0 || r->count < 0 || r->delay_ms > CAP_MS)
		r->p.max = r->count = 0, r->delay_ms = 0;
	json_decref(j);
	return 0;
}

static int rfile_save(const char *id, const struct rfile *r, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	json_t *j;
	int rc;

	if ((rc = rfile_path(id, &p, e)) < 0)
		return rc;
	j = json_pack("{s:s, s:I, s:I, s:I, s:b, s:b, s:s}", "name", r->p.name, "max",
		      (json_int_t)r->p.max, "count", (json_int_t)r->count, "delay_ms",
		      (json_int_t)r->delay_ms, "manual_stop", r->manual_stop, "pending", r->pending,
		      "handled", r->handled);
	rc = jsonx_write_file(buf_str(&p), j, 0644, e);
	json_decref(j);
	return rc;
}

int api_restart_create(const char *id, const struct api_restart_policy *p, struct err *e)
{
	struct rfile r = { .p = *p };

	if (!strcmp(p->name, "no"))
		return 0;
	return rfile_save(id, &r, e);
}

/* ---- the pending restarts ---- */

static struct api_rrec *rec_find(struct api_sup *s, const char *id)
{
	for (struct api_rrec *r = *api_sup_restarts(s); r; r = r->next)
		if (!r->closing && strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static void rec_closed(uv_handle_t *h)
{
	free(h->data);
}

static void rec_drop(struct api_rrec *r)
{
	struct api_rrec **pp;

	for (pp = api_sup_restarts(r->sup); *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	r->closing = true;
	uv_close((uv_handle_t *)&r->t, rec_closed);
}

static void on_due(uv_timer_t *t);

static void rec_arm(struct api_sup *s, const char *id, unsigned long ms)
{
	struct api_rrec *r = rec_find(s, id);

	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->sup = s;
		snprintf(r->id, sizeof(r->id), "%s", id);
		uv_timer_init(api_sup_loop(s), &r->t);
		r->t.data = r;
		r->next = *api_sup_restarts(s);
		*api_sup_restarts(s) = r;
	}
	uv_timer_start(&r->t, on_due, ms, 0);
}

static void on_due(uv_timer_t *t)
{
	struct api_rrec *r = t->data;
	struct api_sup *s = r->sup;
	struct rfile f;
	struct err e = ERR_INIT;
	char id[BUNDLE_ID_LEN + 1];

	snprintf(id, sizeof(id), "%s", r->id);
	if (rfile_load(id, &f, NULL) < 0 || !f.pending || f.manual_stop) {
		rec_drop(r);
		return;
	}
	if (api_ctr_start(api_ctr_get(s, id), &e) < 0) {
		if (e.code == -EALREADY && ++r->busy < BUSY_RETRIES) {
			uv_timer_start(&r->t, on_due, BUSY_RETRY_MS, 0);
			return;
		}
		log_warn("container %.12s: restart: %s", id, e.msg);
		f.pending = false;
		rfile_save(id, &f, NULL);
		rec_drop(r);
		return;
	}
	f.pending = false;
	f.count++;
	if (rfile_save(id, &f, &e) < 0)
		log_warn("container %.12s: %s", id, e.msg);
	log_info("container %.12s: restarted (%ld)", id, f.count);
	rec_drop(r);
}

/* ---- the hooks ---- */

/* Docker's rule: whether this end calls for another start. */
static bool wanted(const struct rfile *f, int status)
{
	if (f->manual_stop)
		return false;
	if (!strcmp(f->p.name, "always") || !strcmp(f->p.name, "unless-stopped"))
		return true;
	if (!strcmp(f->p.name, "on-failure"))
		return status != 0 && (f->p.max == 0 || f->count < f->p.max);
	return false;
}

void api_restart_exited(struct api_sup *s, const char *id, int status)
{
	struct bundle_state st;
	struct rfile f;
	struct err e = ERR_INIT;

	if (rfile_load(id, &f, NULL) < 0 || f.pending)
		return;
	if (bundle_state_load(id, &st, NULL) < 0)
		memset(&st, 0, sizeof(st));
	snprintf(f.handled, sizeof(f.handled), "%s", st.started_at);
	if (!wanted(&f, status)) {
		rfile_save(id, &f, NULL);
		return;
	}
	/* a run of 10 s or more starts the backoff over */
	if (st.started_at[0] && st.finished_at[0] &&
	    timex_parse_rfc3339(st.finished_at) - timex_parse_rfc3339(st.started_at) >=
		    RESET_AFTER_S)
		f.delay_ms = 0;
	f.delay_ms = f.delay_ms == 0 ? FIRST_MS : f.delay_ms * 2 > CAP_MS ? CAP_MS : f.delay_ms * 2;
	f.pending = true;
	if (rfile_save(id, &f, &e) < 0) {
		log_warn("container %.12s: %s", id, e.msg);
		return;
	}
	log_info("container %.12s: exited with %d, restarting in %lu ms", id, status, f.delay_ms);
	rec_arm(s, id, f.delay_ms);
}

/* After a restart of the server: a restart that was pending is due, and
 * a workload that ended while the server was down is an end seen now. */
void api_restart_resume(struct api_sup *s, const char *id)
{
	struct bundle_state st;
	struct rfile f;

	if (rfile_load(id, &f, NULL) < 0 || f.manual_stop)
		return;
	if (f.pending)
		rec_arm(s, id, f.delay_ms);
	else if (bundle_state_load(id, &st, NULL) == 0 && st.status == BUNDLE_EXITED &&
		 st.started_at[0] && strcmp(st.started_at, f.handled))
		api_restart_exited(s, id, st.exit_code);
}

/* The user's start (the count starts over) or stop: either way a pending
 * restart goes. */
static void by_user(struct api_sup *s, const char *id, bool start)
{
	struct rfile f;

	api_restart_forget(s, id);
	if (rfile_load(id, &f, NULL) < 0)
		return;
	if (start)
		f.count = 0, f.delay_ms = 0;
	f.manual_stop = !start;
	f.pending = false;
	rfile_save(id, &f, NULL);
}

void api_restart_user_start(struct api_sup *s, const char *id)
{
	by_user(s, id, true);
}

void api_restart_user_stop(struct api_sup *s, const char *id)
{
	by_user(s, id, false);
}

void api_restart_forget(struct api_sup *s, const char *id)
{
	struct api_rrec *r = rec_find(s, id);

	if (r)
		rec_drop(r);
}

void api_restart_shutdown(struct api_sup *s)
{
	while (*api_sup_restarts(s))
		rec_drop(*api_sup_restarts(s));
}

bool api_restart_pending(struct api_sup *s, const char *id)
{
	return rec_find(s, id) != NULL;
}

void api_restart_inspect(struct api_sup *s, const char *id, json_t *doc)
{
	json_t *state = json_object_get(doc, "State");
	const char *status = json_string_value(json_object_get(state, "Status"));
	struct rfile f;
	bool pending;

	if (rfile_load(id, &f, NULL) < 0)
		return;
	/* waiting out the backoff, or spawned and not yet recorded running */
	pending = (f.pending && rec_find(s, id)) ||
		  (status && strcmp(status, "running") && api_ctr_running(api_ctr_get(s, id)));
	json_object_set_new(doc, "RestartCount", json_integer(f.count));
	json_object_set_new(json_object_get(doc, "HostConfig"), "RestartPolicy",
			    json_pack("{s:s, s:I}", "Name", f.p.name, "MaximumRetryCount",
				      (json_int_t)f.p.max));
	if (pending) {
		json_object_set_new(state, "Restarting", json_true());
		json_object_set_new(state, "Status", json_string("restarting"));
	}
}

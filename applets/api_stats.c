/* GET /containers/{id}/stats (issue #6): the guest's own numbers in
 * Docker's JSON shape, for `docker stats` and `container stats`.
 *
 * Where the numbers come from: the guest kernel.  The runtime relays a
 * STATS request to the guest init, which reads its /proc (meminfo, stat,
 * net/dev, diskstats, uptime, the processes that are not kernel threads;
 * initrd/procstat.h) and answers STATS_REPLY, a frame of integers only,
 * so the host parses no guest text: agent_decode (fuzzed) checks every
 * field.  The guest is what the workload sees and uses: its CPU time is
 * the workload's work, not QEMU's emulation overhead, and its memory is
 * what the workload can still get, which the QEMU process's RSS (guest
 * page cache, never returned) is not.
 *
 * Mapped to Docker's fields: cpu_usage.total_usage = the guest's busy time
 * (user + nice + system), system_cpu_usage = all of its CPU time (idle
 * too) and online_cpus its CPU count, so the CLI's (delta busy / delta
 * total) * cpus * 100 is the VM's CPU use; memory usage = MemTotal -
 * MemAvailable, limit = the container's configured memory (-m); networks
 * "eth0" = every interface but lo; blkio io_service_bytes_recursive read
 * and write = sectors of the whole disks; pids_stats.current = processes.
 *
 * Parameters as Docker: stream (default true) sends one object a second,
 * precpu_stats being the previous one; stream=false answers once, after a
 * second sample STATS_PRE_MS after the first (precpu filled), unless
 * one-shot=true (one sample, precpu empty).  A container that does not
 * run answers one object of zeros.  A guest that does not answer within
 * STATS_REPLY_MS ends the stream (or answers zeros). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "applets/api_ctr.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define STATS_INTERVAL_MS 1000
#define STATS_PRE_MS 500
#define STATS_REPLY_MS 5000
#define ZERO_TIME "0001-01-01T00:00:00Z"

struct stats_req {
	struct api_sub sub;          /* stream 0: the STATS_REPLY */
	uv_timer_t timer;
	struct api_conn *k;
	char id[BUNDLE_ID_LEN + 1];
	char *name;
	uint64_t limit;              /* bytes; 0 = the guest's MemTotal */
	bool stream, one_shot, asked, have_pre, sent_head;
	int keepalive;
	struct agent_stats pre;
	char pre_read[40];
};

static json_t *cpu_json(const struct agent_stats *s)
{
	uint64_t busy = s->cpu_usec * 1000, kern = s->cpu_kernel_usec * 1000;

	if (!s->cpu_total_usec)   /* Docker's empty precpu_stats */
		return json_pack("{s:{s:i,s:i,s:i},s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage", 0,
				 "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
				 "periods", 0, "throttled_periods", 0, "throttled_time", 0);
	return json_pack("{s:{s:I,s:I,s:I},s:I,s:I,s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage",
			 (json_int_t)busy, "usage_in_kernelmode", (json_int_t)(kern < busy ? kern : busy),
			 "usage_in_usermode", (json_int_t)(kern < busy ? busy - kern : 0),
			 "system_cpu_usage", (json_int_t)(s->cpu_total_usec * 1000), "online_cpus",
			 (json_int_t)(s->ncpus ? s->ncpus : 1), "throttling_data", "periods", 0,
			 "throttled_periods", 0, "throttled_time", 0);
}

/* The stats object of sample s (precpu from pre, zeros when NULL); the
 * guest's numbers are below INT64_MAX (agent.c), and the products by 1000
 * above stay far from it for any real uptime. */
static json_t *stats_json(const struct stats_req *r, const struct agent_stats *s, const char *read,
			  const struct agent_stats *pre, const char *preread)
{
	struct agent_stats zero;
	uint64_t used = s->mem_total > s->mem_available ? s->mem_total - s->mem_available : 0;
	uint64_t limit = r->limit ? r->limit : s->mem_total;
	_cleanup_buf_ struct buf name = BUF_INIT;

	memset(&zero, 0, sizeof(zero));
	buf_printf(&name, "/%s", r->name ? r->name : "");
	return json_pack(
		"{s:s,s:s,s:s,s:s,s:{s:I},s:{s:[{s:i,s:i,s:s,s:I},{s:i,s:i,s:s,s:I}],s:n,s:n,s:n,"
		"s:n,s:n,s:n,s:n},s:i,s:{},s:o,s:o,s:{s:I,s:{},s:I},s:{s:{s:I,s:I,s:i,s:i,s:I,s:I,"
		"s:i,s:i}}}",
		"name", buf_str(&name), "id", r->id, "read", read, "preread", preread,
		"pids_stats", "current", (json_int_t)s->procs,
		"blkio_stats", "io_service_bytes_recursive",
		"major", 254, "minor", 0, "op", "read", "value", (json_int_t)s->blk_read_bytes,
		"major", 254, "minor", 0, "op", "write", "value", (json_int_t)s->blk_write_bytes,
		"io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive",
		"io_wait_time_recursive", "io_merged_recursive", "io_time_recursive",
		"sectors_recursive",
		"num_procs", 0, "storage_stats",
		"cpu_stats", cpu_json(s), "precpu_stats", cpu_json(pre ? pre : &zero),
		"memory_stats", "usage", (json_int_t)used, "stats", "limit", (json_int_t)limit,
		"networks", "eth0", "rx_bytes", (json_int_t)s->net_rx_bytes,
		"rx_packets", (json_int_t)s->net_rx_packets, "rx_errors", 0, "rx_dropped", 0,
		"tx_bytes", (json_int_t)s->net_tx_bytes, "tx_packets", (json_int_t)s->net_tx_packets,
		"tx_errors", 0, "tx_dropped", 0);
}

static void req_closed(uv_handle_t *h)
{
	struct stats_req *r = h->data;

	free(r->name);
	free(r);
}

static void req_free(struct stats_req *r)
{
	api_ctr_unsubscribe(&r->sub);
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, req_closed);
}

/* One object out: a chunk of the stream, or the whole answer. */
static void emit(struct stats_req *r, json_t *v)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	_cleanup_buf_ struct buf out = BUF_INIT;

	if (!v || jsonx_dump_buf(v, JSON_COMPACT, &body, NULL) < 0)
		buf_puts(&body, "{}");
	json_decref(v);
	buf_putc(&body, '\n');
	if (r->stream) {
		if (!r->sent_head)
			api_write_head(&out, 200, "application/json", NULL, -1, r->keepalive);
		r->sent_head = true;
		api_write_chunk(&out, body.data, body.len);
	} else {
		api_write_head(&out, 200, "application/json", NULL, (long long)body.len, r->keepalive);
		buf_append(&out, body.data, body.len);
	}
	api_conn_write(r->k, out.data, out.len);
}

/* The end: the last chunk (or the zeros object nobody got yet). */
static void finish(struct stats_req *r)
{
	struct api_conn *k = r->k;

	r->k = NULL;
	if (k && r->stream && r->sent_head) {
		api_conn_end_chunked(k, r->keepalive);
	} else if (k) {
		struct agent_stats zero;
		memset(&zero, 0, sizeof(zero));
		r->k = k;
		r->stream = false;
		emit(r, stats_json(r, &zero, ZERO_TIME, NULL, ZERO_TIME));
		api_conn_done(k, r->keepalive);
	}
	req_free(r);
}

static void on_timer(uv_timer_t *t);

static void ask(struct stats_req *r)
{
	struct err e = ERR_INIT;

	if (!r->sub.ctr || api_ctr_stats(r->sub.ctr, &e) < 0) {
		finish(r);
		return;
	}
	r->asked = true;
	uv_timer_start(&r->timer, on_timer, STATS_REPLY_MS, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct stats_req *r = t->data;

	if (r->asked)
		finish(r);   /* the guest did not answer */
	else
		ask(r);
}

static void on_stats(struct api_sub *s, const struct agent_stats *st)
{
	struct stats_req *r = s->ud;
	char now[40];

	if (!r->asked)
		return;   /* another request's answer, between our samples */
	r->asked = false;
	uv_timer_stop(&r->timer);
	bundle_now(now, sizeof(now));
	if (!r->stream && !r->one_shot && !r->have_pre) {
		r->pre = *st;
		r->have_pre = true;
		memcpy(r->pre_read, now, sizeof(now));
		uv_timer_start(&r->timer, on_timer, STATS_PRE_MS, 0);
		return;
	}
	emit(r, stats_json(r, st, now, r->have_pre ? &r->pre : NULL,
			   r->have_pre ? r->pre_read : ZERO_TIME));
	if (!r->stream) {
		struct api_conn *k = r->k;
		r->k = NULL;
		api_conn_done(k, r->keepalive);
		req_free(r);
		return;
	}
	r->pre = *st;
	r->have_pre = true;
	memcpy(r->pre_read, now, sizeof(now));
	uv_timer_start(&r->timer, on_timer, STATS_INTERVAL_MS, 0);
}

/* The link ended (the container stopped, or its runtime went away). */
static void on_link_end(struct api_sub *s, int status)
{
	(void)status;
	finish(s->ud);
}

static void on_removed(struct api_sub *s)
{
	finish(s->ud);
}

static const struct api_sub_ops stats_ops = {
	.stats = on_stats, .exit = on_link_end, .removed = on_removed,
};

static void on_client_gone(void *ud)
{
	struct stats_req *r = ud;

	r->k = NULL;
	req_free(r);
}

static const struct api_stream_ops stats_conn_ops = { .closed = on_client_gone };

void api_ctr_stats_h(struct api_call *c)
{
	struct bundle_config bc;
	struct stats_req *r;
	struct api_ctr *ctr;
	struct err e = ERR_INIT;

	r = xcalloc(1, sizeof(*r));
	if (api_param_ctr(c, 0, r->id) < 0) {
		free(r);
		return;
	}
	r->stream = api_query_bool(c, "stream", 1);
	r->one_shot = api_query_bool(c, "one-shot", 0);
	r->keepalive = c->keepalive;
	if (bundle_config_load(r->id, &bc, NULL) == 0) {
		r->name = bc.name ? xstrdup(bc.name) : NULL;
		r->limit = (uint64_t)bc.memory_mib << 20;
		bundle_config_free(&bc);
	}
	ctr = api_ctr_get(c->ctx->sup, r->id);
	if (!api_ctr_running(ctr) && api_ctr_link(ctr, &e) < 0) {
		struct agent_stats zero;
		memset(&zero, 0, sizeof(zero));
		api_reply_json(c, 200, stats_json(r, &zero, ZERO_TIME, NULL, ZERO_TIME));
		free(r->name);
		free(r);
		return;
	}
	uv_timer_init(api_sup_loop(c->ctx->sup), &r->timer);
	r->timer.data = r;
	r->sub.stream = 0;
	r->sub.ops = &stats_ops;
	r->sub.ud = r;
	api_ctr_subscribe(ctr, &r->sub);
	r->k = api_call_take(c, &stats_conn_ops, r, 0);
	ask(r);
}

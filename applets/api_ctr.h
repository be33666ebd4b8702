/* The API server's live side of containers (issue #6): for each container
 * the server deals with, one connection to its runtime (protocol in
 * applets/runtime.h), the detached spawn of that runtime at start, and
 * the subscribers (attach streams, exec streams, waiters, stops) that the
 * runtime's frames are dispatched to.  Everything is on the server's libuv
 * loop and nothing here blocks on a runtime: even the connect to its
 * socket is non-blocking (a runtime not accepting is "busy").
 *
 * The durable truth stays on disk (applets/bundle.h): config.json written
 * by create, state.json written by the runtime.  The records here hold
 * only what a connection needs and are rebuilt from disk after a restart
 * of the server: api_sup_reconcile connects to every running runtime (a
 * runtime outlives the server: its own session, not our child once we
 * die), and a state that says running whose runtime is gone is marked
 * exited with a reason.
 *
 * Used by applets/api_containers.c, api_exec.c and api_logs.c; created by
 * applets/apiserver.c. */
#ifndef APPLETS_API_CTR_H
#define APPLETS_API_CTR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "applets/bundle.h"

struct api_conn;
struct api_ctr;
struct api_sub;
struct api_sup;
struct agent_stats;
struct buf;
struct err;

/* What a subscriber hears about its stream (1 = the workload, >= 2 an
 * exec'd process).  Any op may be NULL; any may unsubscribe (and free) the
 * subscriber.  exit's status is -1 when the runtime went away without
 * one.  removed: the container's bundle is gone (subscribers of stream 1). */
struct api_sub_ops {
	void (*output)(struct api_sub *s, int fd, const void *p, size_t n);
	void (*ok)(struct api_sub *s);
	void (*error)(struct api_sub *s, int code, const char *msg);
	void (*exit)(struct api_sub *s, int status);
	void (*removed)(struct api_sub *s);
	/* what was queued to the runtime fell under API_CTR_SEND_MAX again
	 * (stdin relays stop reading their client above it) */
	void (*writable)(struct api_sub *s);
	/* STATS_REPLY: the guest's numbers (subscribers of stream 0) */
	void (*stats)(struct api_sub *s, const struct agent_stats *st);
};

#define API_CTR_SEND_MAX ((size_t)1 << 20)

struct api_sub {
	struct api_sub *next;
	struct api_ctr *ctr;       /* set by api_ctr_subscribe */
	uint32_t stream;
	unsigned long serial;
	const struct api_sub_ops *ops;
	/* the client the output goes to, for back-pressure: the runtime is
	 * not read while this one's queue is over API_CONN_QUEUE_MAX */
	struct api_conn *conn;
	void *ud;
};

struct api_sup *api_sup_new(uv_loop_t *loop);
/* Connect to the runtime of every container whose state says running;
 * mark those whose runtime is gone exited. */
void api_sup_reconcile(struct api_sup *s);
/* Close every handle (the runtimes run on); free once the loop ran. */
void api_sup_shutdown(struct api_sup *s);
void api_sup_free(struct api_sup *s);
uv_loop_t *api_sup_loop(struct api_sup *s);
/* The exec records' list head (applets/api_exec.c owns the records). */
struct api_exec **api_sup_execs(struct api_sup *s);
/* The pending restarts (applets/api_restart.c owns them). */
struct api_rrec **api_sup_restarts(struct api_sup *s);
/* The bundle cache (applets/api_ctrcache.c owns it). */
struct api_ctrcache **api_sup_ctrcache(struct api_sup *s);
/* The event ring and listeners (applets/api_events.c owns them). */
struct api_events **api_sup_events(struct api_sup *s);

/* The record of container id (full), made on first use. */
struct api_ctr *api_ctr_get(struct api_sup *s, const char *id);
const char *api_ctr_id(const struct api_ctr *c);
/* Re-read name, image and labels from config.json (kept for events). */
void api_ctr_describe(struct api_ctr *c);
/* Emit a container event (applets/api_events.c); exit_code -1 = none. */
void api_ctr_event(struct api_ctr *c, const char *action, int exit_code);

/* Start: spawn `container-runtime --attach-fd 3 ID` in its own session
 * (stdio to runtime.log), our end of the socketpair being the link.
 * -EALREADY when a runtime is linked or its state says running. */
int api_ctr_start(struct api_ctr *c, struct err *e);
/* Make sure there is a link: connect to the runtime's socket.
 * -ESRCH when the container does not run. */
int api_ctr_link(struct api_ctr *c, struct err *e);
/* Whether a runtime is linked and has not reported the workload's exit. */
bool api_ctr_running(const struct api_ctr *c);
/* Queue frames (consumed) to the linked runtime; -ESRCH without a link. */
int api_ctr_send(struct api_ctr *c, struct buf *frames, struct err *e);
/* Bytes queued to the runtime. */
size_t api_ctr_queued(const struct api_ctr *c);
/* A fresh exec stream id on the current link. */
uint32_t api_ctr_new_stream(struct api_ctr *c);

/* Ask the runtime for the guest's numbers; the answer goes to the
 * stream-0 subscribers' stats op.  Requests made while one is pending
 * share its answer.  -ESRCH without a link. */
int api_ctr_stats(struct api_ctr *c, struct err *e);

/* Signal the workload; with grace_ms >= 0 SHUTDOWN follows when it has
 * not exited by then.  SIGKILL is SHUTDOWN at once (the VM goes too). */
int api_ctr_signal(struct api_ctr *c, int signo, long grace_ms, struct err *e);

void api_ctr_subscribe(struct api_ctr *c, struct api_sub *s);
void api_ctr_unsubscribe(struct api_sub *s);
/* A conn of some subscriber can take more: resume reading the runtime. */
void api_ctr_flow(struct api_ctr *c);
/* The bundle was removed (DELETE): tell stream-1 subscribers, forget the record. */
void api_ctr_removed(struct api_ctr *c);

/* state.json as a client should see it: a "running" state whose runtime
 * process is gone reads as exited (-1 exit code, with a reason). */
int api_ctr_state(const char *id, struct bundle_state *st, struct err *e);
/* The check api_ctr_state applies, for a state read another way (the
 * bundle cache): true when it changed st. */
bool api_ctr_liveness(struct bundle_state *st);

/* Signal names and numbers as Docker takes them ("SIGTERM", "TERM",
 * "15"); 0 when not a signal. */
int api_signal_parse(const char *s);

#endif

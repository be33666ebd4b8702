/* Internal to the runtime role: the one struct its files share.
 * applets/runtime.c sets up, tears down and records state;
 * applets/runtime_io.c runs the guest channel and the write plumbing;
 * applets/runtime_clients.c the clients (--attach-fd and the socket);
 * applets/runtime_streams.c maps clients' exec stream ids to the guest's. */
#ifndef APPLETS_RUNTIME_INT_H
#define APPLETS_RUNTIME_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "applets/bundle.h"
#include "lib/buf.h"
#include "applets/runtime.h"

struct agent_frame;

struct vm;

/* Milestones, CLOCK_MONOTONIC ns; 0 = not reached.  RT_M_CREATOR: when the
 * command that created the container started ($CONTAINER_START_NS). */
enum { RT_M_CREATOR, RT_M_START, RT_M_DISK, RT_M_SPAWNED, RT_M_HELLO, RT_M_OK, RT_M_EXIT, RT_M_END,
       RT_M__COUNT };

/* Bytes waiting for the guest before we stop reading the clients. */
#define RT_GUEST_QUEUE_MAX (1u << 20)
/* Client slots: the --attach-fd client plus the socket's. */
#define RT_CLIENTS_MAX (1 + RUNTIME_SOCKET_CLIENTS_MAX)
/* exec'd processes tracked at once, all clients together. */
#define RT_EXEC_MAX 64

/* One exec'd process: a client's stream id and the guest's.  owner is the
 * client slot, -1 once that client went away (the process runs on, its
 * output is dropped). */
struct rt_exec {
	bool used, start_sent, started;
	int owner;
	uint32_t local, guest;
};

struct rt_streams {
	struct rt_exec v[RT_EXEC_MAX];
	uint32_t next;            /* the next guest id; never reused */
};

void runtime__streams_init(struct rt_streams *s);
/* A new process for (owner, local): -EINVAL local < 2, -EEXIST local in
 * use by owner, -EAGAIN table full, -EOVERFLOW guest ids exhausted. */
int runtime__streams_add(struct rt_streams *s, int owner, uint32_t local, uint32_t *guest);
struct rt_exec *runtime__streams_by_local(struct rt_streams *s, int owner, uint32_t local);
struct rt_exec *runtime__streams_by_guest(struct rt_streams *s, uint32_t guest);
void runtime__streams_del(struct rt_streams *s, struct rt_exec *x);

struct rt;

/* A pipe that carries agent frames to one peer, with its bounded queue. */
struct rt_client {
	struct rt *rt;
	int slot;
	uv_pipe_t pipe;
	uv_timer_t stall;         /* over its queue bound for too long: detach */
	bool open, reading, attach_fd, hello, stalled, stats_pending;
	struct buf rx;            /* bounded by AGENT_FRAME_MAX */
	size_t queued;
};

struct rt {
	uv_loop_t loop;
	struct bundle_config cfg;
	struct bundle_state st;
	struct vm *vm;
	struct proxy *proxy;      /* published ports (applets/network.h), or NULL */
	bool debug, read_only;
	json_t *guest_mounts;   /* the guest's "mounts" (mounts_plan), owned; NULL = none */
	uint64_t m[RT_M__COUNT];

	/* the guest channel: our end of the socketpair QEMU holds */
	uv_pipe_t guest;
	bool guest_open, guest_paused;
	struct buf grx;           /* bounded by AGENT_FRAME_MAX */
	size_t guest_queued;      /* bytes (and overhead) of pending writes */

	/* the clients: slot 0 = --attach-fd, then the socket's */
	struct rt_client *clients[RT_CLIENTS_MAX];
	uv_pipe_t listener;
	bool listening;
	struct buf sock_path;     /* "" when not listening */
	struct rt_streams streams;
	int stats_fifo[RT_CLIENTS_MAX];  /* who asked for STATS, oldest first */
	unsigned stats_n;

	uv_poll_t vm_poll;
	uv_signal_t sig[3];
	uv_timer_t timer;         /* stop grace, then the kill deadline */
	bool loop_ok;

	int log_fd;               /* stdio.log, -1 when it failed */
	unsigned skipped;         /* bad guest frames, for rate-limited logging */

	bool started;             /* CONFIG answered with OK */
	bool stdin_closed;        /* CLOSE_STDIN / STDIN EOF sent */
	bool got_exit, stopping, finished;
	bool vm_ended;            /* finish once the channel is drained too */
	int exit_status, exit_signal;
	char error[512];          /* first fatal problem, for the client and state */
};

uint64_t runtime__now(void);
/* Queue a frame built in b (consumed) to the guest or the client. */
void runtime__to_guest(struct rt *rt, struct buf *b);
void runtime__to_client(struct rt_client *c, struct buf *b);
/* Start the guest channel once the VM runs. */
int runtime__io_start(struct rt *rt, int guest_fd, struct err *e);
/* Resume reading the guest if no client's backlog holds it back. */
void runtime__guest_flow(struct rt *rt);
/* Whether some client's backlog holds the guest channel back. */
bool runtime__clients_full(const struct rt *rt);
/* Record a fatal problem (first one wins) and kill the VM. */
void runtime__fatal(struct rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write one data frame's bytes to stdio.log (Docker json-file lines). */
void runtime__log_output(struct rt *rt, const char *stream, const void *p, size_t n);
/* The VM ended: record, clean up, tell the client, close everything. */
void runtime__finish(struct rt *rt);
void runtime__boot_hint(struct rt *rt, struct buf *out);
/* RUNTIME_BOOT_TIMEOUT_MS, or $CONTAINER_BOOT_TIMEOUT_MS. */
int runtime__boot_timeout_ms(void);
/* Close the main process's stdin (once; only after it started). */
void runtime__close_stdin(struct rt *rt);

/* --- applets/runtime_clients.c --- */
/* The --attach-fd client (slot 0), and the socket (RUNTIME_SOCKET_CLIENTS_MAX more). */
int runtime__clients_attach_fd(struct rt *rt, int fd, struct err *e);
int runtime__clients_listen(struct rt *rt, struct err *e);
/* Close the listening socket and remove its file. */
void runtime__clients_unlisten(struct rt *rt);
/* Close a client (detach): its exec'd processes' stdin closes. */
void runtime__client_close(struct rt_client *c);
/* The workload runs (CONFIG's OK): tell the clients, start reading them. */
void runtime__clients_started(struct rt *rt);
/* Output or EXIT of the main process, to every client past HELLO. */
void runtime__clients_main_frame(struct rt *rt, const struct agent_frame *f);
/* A frame of guest stream >= 2 or a STATS_REPLY: to its client. */
void runtime__clients_guest_frame(struct rt *rt, const struct agent_frame *f);
/* c's queue grew (runtime__to_client) or shrank (a write completed). */
void runtime__client_queued(struct rt_client *c);
void runtime__client_wrote(struct rt_client *c);
/* Resume reading clients if the guest keeps up. */
void runtime__clients_flow(struct rt *rt);
/* The VM ended: EXIT (or ERROR) to every client, then close them once
 * flushed, each within its drain deadline. */
void runtime__clients_finish(struct rt *rt);
/* The VM ended but its channel is still draining: arm drain deadlines. */
void runtime__clients_drain(struct rt *rt);
/* A stop was asked for: signo to the workload, then after grace_ms a
 * SHUTDOWN, then the VM is killed.  A second request, SIGKILL, or one
 * before the workload runs kills at once (SIGKILL to the workload first
 * when it runs, so its status is 137). */
void runtime__stop(struct rt *rt, int signo, uint64_t grace_ms);
/* The guest's EXIT arrived: ask for the power-off, arm the deadline. */
void runtime__teardown(struct rt *rt);
/* The CONFIG document for the guest (compact JSON) into out. */
int runtime__config_doc(struct rt *rt, struct buf *out, struct err *e);

#endif

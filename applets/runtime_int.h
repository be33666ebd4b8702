/* Internal to the runtime role: the one struct both halves share.
 * applets/runtime.c sets up, tears down and records state;
 * applets/runtime_io.c runs the two agent channels (guest and client). */
#ifndef APPLETS_RUNTIME_INT_H
#define APPLETS_RUNTIME_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "applets/bundle.h"
#include "lib/buf.h"

struct vm;

/* Milestones, CLOCK_MONOTONIC ns; 0 = not reached.  RT_M_CREATOR: when the
 * command that created the container started ($CONTAINER_START_NS). */
enum { RT_M_CREATOR, RT_M_START, RT_M_DISK, RT_M_SPAWNED, RT_M_HELLO, RT_M_OK, RT_M_EXIT, RT_M_END,
       RT_M__COUNT };

/* Bytes waiting for the guest before we stop reading the client. */
#define RT_GUEST_QUEUE_MAX (1u << 20)

struct rt {
	uv_loop_t loop;
	struct bundle_config cfg;
	struct bundle_state st;
	struct vm *vm;
	bool debug, read_only;
	uint64_t m[RT_M__COUNT];

	/* the guest channel: our end of the socketpair QEMU holds */
	uv_pipe_t guest;
	bool guest_open, guest_paused;
	struct buf grx;           /* bounded by AGENT_FRAME_MAX */
	size_t guest_queued;      /* bytes (and overhead) of pending writes */

	/* the attached client, if any */
	uv_pipe_t client;
	bool client_open, client_reading, client_paused;
	struct buf crx;
	size_t client_queued;

	uv_poll_t vm_poll;
	uv_signal_t sig[3];
	uv_timer_t timer;         /* stop grace, then the kill deadline */
	uv_timer_t client_timer;  /* at the end: the client's drain deadline */
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
void runtime__to_client(struct rt *rt, struct buf *b);
/* Start the channels once the VM runs (the client from the start too). */
int runtime__io_start(struct rt *rt, int guest_fd, int client_fd, struct err *e);
/* Record a fatal problem (first one wins) and kill the VM. */
void runtime__fatal(struct rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write one data frame's bytes to stdio.log (Docker json-file lines). */
void runtime__log_output(struct rt *rt, const char *stream, const void *p, size_t n);
/* The VM ended: record, clean up, tell the client, close everything. */
void runtime__finish(struct rt *rt);
void runtime__boot_hint(struct rt *rt, struct buf *out);
/* RUNTIME_BOOT_TIMEOUT_MS, or $CONTAINER_BOOT_TIMEOUT_MS. */
int runtime__boot_timeout_ms(void);
/* Close the client (detach), flushing nothing more. */
void runtime__client_close(struct rt *rt);
/* A stop was asked for (signal): graceful, then forced. */
void runtime__stop(struct rt *rt);
/* The guest's EXIT arrived: ask for the power-off, arm the deadline. */
void runtime__teardown(struct rt *rt);
/* The CONFIG document for the guest (compact JSON) into out. */
int runtime__config_doc(struct rt *rt, struct buf *out, struct err *e);

#endif

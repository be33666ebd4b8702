/* The client end of a container's stdio: relays this process's terminal or
 * pipes to a runtime's attach socket (protocol in applets/runtime.h) until
 * the workload's exit status arrives.  Used by `container run` in the
 * foreground (stream 1 on its --attach-fd socket) and by `container exec`
 * (a process of its own on the runtime's socket: HELLO, CREATE, START,
 * then the same relay on that stream).
 *
 * With tty (and a terminal on stdin) the terminal is put in raw mode for
 * the duration and restored on every way out, and window size changes are
 * sent as RESIZE.  Signals this process receives (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2) are forwarded to the workload, as docker's
 * --sig-proxy does.  Output is written with blocking writes, so a slow
 * reader of our stdout slows the guest down rather than growing memory.
 */
#ifndef APPLETS_ATTACH_H
#define APPLETS_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

struct err;
struct agent_proc_spec;

struct attach_opts {
	bool stdin_open;  /* -i: relay our stdin (EOF closes the workload's) */
	bool tty;         /* -t: raw mode + RESIZE */
	bool sig_proxy;   /* forward signals */
	/* exec: the stream to create (>= 2; 0 = the main process, 1), the
	 * process to CREATE + START on it after our HELLO, and detach (-d):
	 * return once it runs, *status 0. */
	uint32_t stream;
	const struct agent_proc_spec *create;
	bool detach;
};

/* Relay until EXIT: *status = the workload's exit status (0..255).
 * Errors: the runtime's ERROR message (-EIO for stream 0 or 1; for an
 * exec'd process the guest's code, e.g. -ENOENT when the command does not
 * exist), the runtime gone without a status (-EPIPE), the container ended
 * before an exec'd process (-ECANCELED), a protocol violation (-EPROTO). */
int attach_run(int sock, const struct attach_opts *o, int *status, struct err *e);

/* The terminal size of fd, or 0 when fd is not a terminal. */
int attach_winsize(int fd, unsigned *rows, unsigned *cols);

#endif

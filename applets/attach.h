/* The client end of a container's or an exec'd process's stdio over the
 * API server's hijacked connection (POST /containers/{id}/attach, POST
 * /exec/{id}/start with "Upgrade: tcp"): used by `container run`, `start
 * -a` and `exec`.
 *
 * Our stdin goes to the connection as it comes; its EOF half-closes the
 * connection (shutdown SHUT_WR), which closes the workload's stdin.  What
 * comes back is Docker's stream: 8-byte frame headers (stream, 0, 0, 0,
 * big-endian length) before each piece without a tty, raw bytes with one;
 * it ends when the workload's output does.  The demultiplexer keeps no
 * more than a header: any length is streamed through.
 *
 * With tty (and a terminal on stdin) the terminal is put in raw mode for
 * the duration and restored on every way out; window size changes are
 * sent as POST <resize_path>?h=&w=.  With sig_proxy the signals this
 * process receives (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2)
 * are sent as POST <kill_path>?signal=N, as docker's --sig-proxy does.
 * Our socket is non-blocking toward the server (stdin waits while the
 * server is not reading), our stdout blocking, so a slow reader of our
 * stdout slows the guest down rather than growing memory. */
#ifndef APPLETS_ATTACH_H
#define APPLETS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

struct api_stream;
struct cliapi;
struct err;

struct attach_opts {
	bool stdin_open;          /* -i: relay our stdin (EOF half-closes) */
	bool tty;                 /* raw stream, raw mode, resize */
	bool sig_proxy;           /* forward signals through kill_path */
	struct cliapi *api;       /* for resize and kill requests */
	const char *resize_path;  /* "/containers/ID/resize" or "/exec/ID/resize" */
	const char *kill_path;    /* "/containers/ID/kill" or NULL */
};

/* Relay until the server ends the stream.  0, or an error (our side's
 * I/O, or the server's connection broken). */
int attach_relay(struct api_stream *s, const struct attach_opts *o, struct err *e);

/* Docker's stream demultiplexer, exposed for tests: feed bytes, get
 * (stream, bytes) pieces through out().  Keeps at most 8 header bytes. */
struct attach_demux {
	unsigned char hdr[8];
	size_t have;      /* header bytes so far */
	size_t left;      /* payload bytes left in the current frame */
	int fd;           /* its stream: 1 stdout, 2 stderr (0 is shown as 1) */
};
int attach_demux_feed(struct attach_demux *d, const char *p, size_t n,
		      int (*out)(void *ud, int fd, const char *p, size_t n), void *ud);

/* The terminal size of fd, or 0 when fd is not a terminal. */
int attach_winsize(int fd, unsigned *rows, unsigned *cols);

#endif

/* net/proxy.c on a real loop: echo servers on 127.0.0.1 play the
 * container; a child process is the client (blocking sockets) while the
 * parent runs the loop.  TCP: 4 MiB through and back with a half-close,
 * 32 connections at once; UDP: datagrams echoed through flows.  Under
 * `make check` ASan sees every close path free what it allocated. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "lib/err.h"
#include "net/proxy.h"
#include "t/tap.h"

#define BIG (4u << 20)

static uv_loop_t loop;
static uv_tcp_t esrv;
static uv_udp_t usrv;
static uv_timer_t tick;
static struct proxy *px;
static pid_t child;
static int child_status = -1;

/* --- the "container": echo servers ------------------------------------------- */

struct econn {
	uv_tcp_t t;
	uv_shutdown_t sd;
};

static void e_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	*b = uv_buf_init(malloc(65536), 65536);
}

static void e_closed(uv_handle_t *h)
{
	free(h->data);
}

static void e_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static void e_shut(uv_shutdown_t *r, int status)
{
	(void)status;
	uv_close((uv_handle_t *)r->handle, e_closed);
}

static void e_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct econn *c = s->data;

	if (n > 0) {
		/* the write request and a copy of the bytes in one block */
		uv_write_t *w = malloc(sizeof(*w) + (size_t)n);
		memcpy(w + 1, b->base, (size_t)n);
		uv_buf_t wb = uv_buf_init((char *)(w + 1), (unsigned)n);
		if (uv_write(w, s, &wb, 1, e_written) < 0)
			free(w);
	} else if (n == UV_EOF) {
		uv_read_stop(s);
		if (uv_shutdown(&c->sd, s, e_shut) < 0)
			uv_close((uv_handle_t *)s, e_closed);
	} else if (n < 0) {
		uv_close((uv_handle_t *)s, e_closed);
	}
	free(b->base);
}

static void e_accept(uv_stream_t *srv, int status)
{
	struct econn *c = calloc(1, sizeof(*c));

	(void)status;
	uv_tcp_init(&loop, &c->t);
	c->t.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->t) == 0)
		uv_read_start((uv_stream_t *)&c->t, e_alloc, e_read);
	else
		uv_close((uv_handle_t *)&c->t, e_closed);
}

static char ubuf[65536];

static void u_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	*b = uv_buf_init(ubuf, sizeof(ubuf));
}

static void u_read(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		   unsigned flags)
{
	(void)flags;
	if (n > 0 && from) {
		uv_buf_t o = uv_buf_init(b->base, (unsigned)n);
		uv_udp_try_send(u, &o, 1, from);
	}
}

static uint16_t port_of(uv_handle_t *h, int tcp)
{
	struct sockaddr_in a;
	int len = sizeof(a);

	if (tcp)
		uv_tcp_getsockname((uv_tcp_t *)h, (struct sockaddr *)&a, &len);
	else
		uv_udp_getsockname((uv_udp_t *)h, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

/* --- the client (child process) ------------------------------------------------ */

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return s;
}

/* 1: send BIG bytes, half-close, read them all back until EOF */
static int big_roundtrip(uint16_t port)
{
	unsigned char *out = malloc(BIG), *in = malloc(BIG);
	size_t sent = 0, got = 0;
	int s = connect_to(port), ok_ = 0;

	for (size_t i = 0; i < BIG; i++)
		out[i] = (unsigned char)(i * 2654435761u >> 24);
	if (s < 0)
		goto out;
	if (fork() == 0) {   /* a writer, so the echo never deadlocks on full buffers */
		while (sent < BIG) {
			ssize_t n = write(s, out + sent, BIG - sent);
			if (n <= 0)
				_exit(1);
			sent += (size_t)n;
		}
		shutdown(s, SHUT_WR);
		_exit(0);
	}
	for (;;) {
		ssize_t n = read(s, in + got, BIG - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == BIG) {
			char x;
			ok_ = read(s, &x, 1) == 0;   /* then EOF: the half-close came back */
			break;
		}
	}
	wait(NULL);
	ok_ = ok_ && got == BIG && memcmp(in, out, BIG) == 0;
out:
	if (s >= 0)
		close(s);
	free(out);
	free(in);
	return ok_;
}

static int many(uint16_t port, int k)
{
	int s[64], good = 0;

	for (int i = 0; i < k; i++)
		s[i] = connect_to(port);
	for (int i = 0; i < k; i++) {
		char msg[16], back[16];
		int len = snprintf(msg, sizeof(msg), "conn-%d", i);
		if (s[i] < 0 || write(s[i], msg, (size_t)len) != len)
			continue;
		shutdown(s[i], SHUT_WR);
		ssize_t n = 0, r;
		while ((r = read(s[i], back + n, sizeof(back) - (size_t)n)) > 0)
			n += r;
		good += n == len && !memcmp(msg, back, (size_t)len);
		close(s[i]);
	}
	return good == k;
}

static int udp_echo(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 2, 0 };
	int good = 0;

	for (int k = 0; k < 3; k++) {   /* three clients: three flows */
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		char back[32];
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (int i = 0; i < 5; i++) {
			char msg[32];
			int len = snprintf(msg, sizeof(msg), "dgram-%d-%d", k, i);
			sendto(s, msg, (size_t)len, 0, (struct sockaddr *)&a, sizeof(a));
			ssize_t n = recv(s, back, sizeof(back), 0);
			good += n == len && !memcmp(back, msg, (size_t)len);
		}
		close(s);
	}
	return good == 15;
}

/* --- the parent's loop ------------------------------------------------------------- */

static void noop_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_tick(uv_timer_t *t)
{
	int st;

	if (waitpid(child, &st, WNOHANG) != child)
		return;
	child_status = st;
	proxy_close(px);
	px = NULL;
	uv_close((uv_handle_t *)t, noop_closed);
	uv_close((uv_handle_t *)&esrv, noop_closed);
	uv_close((uv_handle_t *)&usrv, noop_closed);
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int main(void)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct net_port v[3];
	struct err e = ERR_INIT;
	int pipefd[2];

	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	uv_tcp_init(&loop, &esrv);
	uv_tcp_bind(&esrv, (struct sockaddr *)&lo, 0);
	uv_listen((uv_stream_t *)&esrv, 128, e_accept);
	uv_udp_init(&loop, &usrv);
	uv_udp_bind(&usrv, (struct sockaddr *)&lo, 0);
	uv_udp_recv_start(&usrv, u_alloc, u_read);

	v[0] = (struct net_port){ 0x7f000001u, 0, port_of((uv_handle_t *)&esrv, 1), NET_TCP };
	v[1] = (struct net_port){ 0x7f000001u, 0, port_of((uv_handle_t *)&usrv, 0), NET_UDP };
	is_int(proxy_start(&loop, v, 2, 0x7f000001u, &px, &e), 0, "proxy_start on ephemeral ports");
	ok(v[0].host_port && v[1].host_port && v[0].host_port != v[0].ctr_port,
	   "the chosen host ports are written back (tcp %u, udp %u)", v[0].host_port, v[1].host_port);
	v[2] = (struct net_port){ 0x7f000001u, v[0].host_port, 1, NET_TCP };
	{
		struct proxy *busy = NULL;
		is_int(proxy_start(&loop, &v[2], 1, 0x7f000001u, &busy, &e), UV_EADDRINUSE,
		       "a host port in use fails the start (%s)", e.msg);
		ok(busy == NULL, "... and leaves nothing");
	}
	if (pipe(pipefd) < 0)
		return 1;
	fflush(stdout);
	child = fork();
	if (child == 0) {
		unsigned char r = (unsigned char)(big_roundtrip(v[0].host_port) |
						  many(v[0].host_port, 32) << 1 |
						  udp_echo(v[1].host_port) << 2);
		if (write(pipefd[1], &r, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, on_tick, 10, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	{
		unsigned char r = 0;
		if (read(pipefd[0], &r, 1) != 1)
			r = 0;
		ok(child_status == 0, "the client finished");
		ok(r & 1, "TCP: 4 MiB through the proxy and back, byte for byte, then EOF (half-close)");
		ok(r & 2, "TCP: 32 connections at once, each echoed");
		ok(r & 4, "UDP: 3 clients x 5 datagrams echoed through their flows");
	}
	uv_walk(&loop, walk_close, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "every handle closed (the proxy freed itself)");
	return done_testing();
}

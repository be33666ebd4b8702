/* Port publishing: a user-space proxy on a libuv loop from host addresses
 * to a container's IP (issue #7).  TCP: one connection upstream per
 * client, bytes relayed both ways with backpressure (a side stops being
 * read while the other has more than PROXY_TCP_QUEUE bytes unwritten) and
 * half-close (EOF from one side becomes a shutdown of the other).  UDP:
 * one upstream socket per client address ("flow"), at most
 * PROXY_UDP_FLOWS per port, closed after PROXY_UDP_IDLE_MS without
 * traffic.
 *
 * Run by the runtime role on its loop (applets/network_run.c), so the
 * published ports live exactly as long as the container's VM does. */
#ifndef NET_PROXY_H
#define NET_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "net/addr.h"

struct err;
struct proxy;

#define PROXY_TCP_QUEUE (256u << 10)
#define PROXY_TCP_CONNS 1024         /* per proxy; more are accepted and closed */
#define PROXY_UDP_FLOWS 256
#define PROXY_UDP_IDLE_MS 60000

/* Bind every port of v[0..n) (host_port 0: the kernel picks; the chosen
 * port is written back into v) and relay to ctr_ip.  All or nothing:
 * on failure nothing stays bound. */
int proxy_start(uv_loop_t *loop, struct net_port *v, size_t n, uint32_t ctr_ip,
		struct proxy **out, struct err *e);

/* Close every listener and connection; memory is freed from the close
 * callbacks, so run the loop afterwards.  NULL is a no-op. */
void proxy_close(struct proxy *p);

#endif

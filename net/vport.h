/* VM ports of a user-space switch (net/vswitch.h), served on a unix
 * socket: the socket_vmnet model, with the frames on a datagram socket
 * per VM instead of a length-prefixed stream.
 *
 * The network helper (`container-network`, through net/vmnet_darwin.c on
 * macOS) runs the server on its libuv loop.  A runtime connects to
 * vport_path(bridge), sends its VM's MAC ("02:42:c0:a8:40:02\n", nothing
 * else, at most VPORT_HELLO_MAX bytes), and receives "ok\n" with one end
 * of a SOCK_DGRAM socketpair (SCM_RIGHTS), one Ethernet frame per
 * datagram, which it hands to Virtualization.framework
 * (VZFileHandleNetworkDeviceAttachment); or "error <why>\n" and no fd.
 * The port lives as long as that control connection: the runtime keeps it
 * open (close-on-exec) until it exits, so a crashed runtime frees its port.
 *
 * The uplink (vmnet) is a callback pair: frames for it leave through
 * up->send on the loop thread; frames from it enter through
 * vport_server_uplink_input on any thread (vmnet's dispatch queue).  One
 * mutex serialises the switch and the port table.
 *
 * Portable: tested on Linux by t/unit/net_vport.c with a fake uplink. */
#ifndef NET_VPORT_H
#define NET_VPORT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "net/vswitch.h"

struct buf;
struct err;
struct vport_server;

#define VPORT_HELLO_MAX 64
#define VPORT_SOCK_BUF (1u << 20) /* per direction, per VM socket */
#define VPORT_BATCH 64		  /* frames read from one VM per wakeup */

struct vport_uplink {
	/* A frame for the uplink: loop thread, switch lock held; must not block. */
	void (*send)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
};

/* $RUN/vmnet-<bridge>.sock appended to out; -ENAMETOOLONG past 103 bytes
 * (macOS's sun_path). */
int vport_path(const char *bridge, struct buf *out, struct err *e);

/* Listen on path (replacing a stale socket file; mode 0600) and switch
 * frames up to frame_max bytes.  up is copied; up->send may be NULL (no
 * uplink: VMs talk among themselves). */
int vport_server_start(uv_loop_t *loop, const char *path, size_t frame_max,
		       const struct vport_uplink *up, struct vport_server **out, struct err *e);

/* A frame from the uplink; any thread, never blocks (a full VM socket
 * drops the frame, as a congested wire would). */
void vport_server_uplink_input(struct vport_server *s, const uint8_t *frame, size_t len);

/* The switch's counters, copied under the lock. */
void vport_server_stats(struct vport_server *s, struct vswitch_stats *out);

/* Close the listener and every port, unlink the socket; on the loop
 * thread, after the uplink stopped calling vport_server_uplink_input.  The
 * memory goes once the loop has run the close callbacks.  NULL is a no-op. */
void vport_server_close(struct vport_server *s);

/* The client (the runtime): attach a VM with mac to the server at path,
 * retrying a missing or refusing socket until timeout_ms (the helper may
 * still be starting).  *fd: the VM's datagram socket; *ctl: the control
 * connection, to keep open for the port's life.  Both close-on-exec. */
int vport_open(const char *path, const char *mac, int timeout_ms, int *fd, int *ctl, struct err *e);

#endif

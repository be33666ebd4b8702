/* The host side of a network's link layer: on Linux a bridge per network
 * holding the gateway address and a TAP per VM enslaved to it, made through
 * rtnetlink and the tun ioctls (net/link_linux.c; no `ip`, no shelling
 * out); on macOS the network's vmnet interface belongs to its helper
 * (net/vmnet.h), so the bridge calls have nothing to do and a VM's port is
 * a datagram socket on the helper's switch (net/link_darwin.c).
 *
 * Who calls: the runtime role (link_bridge_ensure + link_tap_open before
 * it boots a VM with a NIC), `container network rm` (link_bridge_delete).
 * The TAP is not persistent: it disappears with the last fd, i.e. when the
 * VMM (which holds a copy) and the runtime are gone, crash or not. */
#ifndef NET_LINK_H
#define NET_LINK_H

#include <stdint.h>

struct err;

/* Create the bridge if absent, give it gw/prefix (kept if already there),
 * set the MTU and bring it up.  -EPERM without CAP_NET_ADMIN. */
int link_bridge_ensure(const char *bridge, uint32_t gw, unsigned prefix, unsigned mtu,
		       struct err *e);

/* Delete the bridge; 0 when it does not exist. */
int link_bridge_delete(const char *bridge, struct err *e);

/* A new TAP named ifname (<= 15 bytes), enslaved to bridge, up; *fd is its
 * queue (close-on-exec), for the VMM. */
int link_tap_open(const char *ifname, const char *bridge, unsigned mtu, int *fd, struct err *e);

/* The VM's end of its link, what the runtime hands the VMM: on Linux a
 * TAP on the bridge (link_tap_open), LINK_PORT_TAP; on macOS a datagram
 * socket on the network helper's vmnet switch (net/vport.h) pinned to mac,
 * LINK_PORT_DGRAM, whose control connection stays open (close-on-exec)
 * until the runtime exits: one runtime, one VM.  The kind, or < 0. */
enum link_port { LINK_PORT_TAP = 1, LINK_PORT_DGRAM = 2 };
int link_port_open(const char *ifname, const char *bridge, const char *mac, unsigned mtu, int *fd,
		   struct err *e);

/* Whether a link of that name exists (1), not (0), or error (<0). */
int link_exists(const char *name, struct err *e);

#endif

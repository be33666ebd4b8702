/* A learning Ethernet switch in memory: which ports a frame goes to.  Pure
 * logic, no I/O, no clock (the caller passes the time), so it runs and is
 * tested on every platform although only the macOS vmnet backend
 * (net/vport.c, net/vmnet_darwin.c) switches frames in user space; on
 * Linux the kernel's bridge does this job.
 *
 * Port 0 is the uplink (vmnet: the host and the world beyond its NAT); it
 * learns any unicast source.  Every other port is one VM whose MAC is known
 * when it attaches: the port is pinned to it, so a guest (untrusted) cannot
 * send from another address or steal another port's traffic.  Broadcast,
 * multicast and unknown unicast flood to every port but the one they came
 * in on; known unicast goes to its port only.  Frames shorter than an
 * Ethernet header, longer than frame_max, or from a multicast or zero
 * source are dropped and counted.
 *
 * Not thread-safe: the caller serialises (net/vport.c holds a mutex). */
#ifndef NET_VSWITCH_H
#define NET_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define VSWITCH_PORTS_MAX 64 /* port masks are uint64_t; port 0 = uplink */
#define VSWITCH_UPLINK 0u
#define VSWITCH_TABLE_MAX 512  /* learned + pinned addresses */
#define VSWITCH_AGE_MS 300000u /* a learned address is forgotten after 5 min */
#define VSWITCH_ETH_HDR 14
#define VSWITCH_FRAME_MAX (VSWITCH_ETH_HDR + 4 + 65535) /* any frame_max is capped here */
#define VSWITCH_MAC_STRLEN 18

struct vswitch_entry {
	uint8_t mac[6];
	uint8_t port;
	bool pinned, used;
	uint64_t seen_ms;
};

struct vswitch_stats {
	uint64_t in, flooded, unicast;
	uint64_t drop_short, drop_long, drop_src, drop_spoof, drop_port, drop_local;
};

struct vswitch {
	size_t frame_max;
	uint64_t ports; /* bit i: port i is attached */
	struct vswitch_entry table[VSWITCH_TABLE_MAX];
	struct vswitch_stats st;
};

/* An empty switch with only the uplink attached; frame_max is the largest
 * frame accepted (MTU + 14 + 4 for a VLAN tag), 14 < frame_max, capped at
 * VSWITCH_FRAME_MAX. */
void vswitch_init(struct vswitch *sw, size_t frame_max);

/* Attach a VM port pinned to mac; *port receives its number (1..63).
 * -ENOSPC when every port is taken, -EEXIST when another port owns mac,
 * -EINVAL for a multicast or zero MAC. */
int vswitch_port_add(struct vswitch *sw, const uint8_t mac[6], unsigned *port, struct err *e);

/* Detach a port and forget every address on it.  No-op for the uplink or
 * a port not attached. */
void vswitch_port_del(struct vswitch *sw, unsigned port);

/* A frame arrived on port in_port at now_ms: learn its source and return
 * the ports it goes out on (bit i = port i), 0 to drop it. */
uint64_t vswitch_input(struct vswitch *sw, unsigned in_port, const uint8_t *frame, size_t len,
		       uint64_t now_ms);

/* "52:54:00:12:34:56" (either case) to bytes; -EINVAL otherwise. */
int vswitch_mac_parse(const char *s, uint8_t mac[6], struct err *e);
void vswitch_mac_format(const uint8_t mac[6], char out[VSWITCH_MAC_STRLEN]);

#endif

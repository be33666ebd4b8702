/* net/vswitch.c: learning, pinning (no spoofing), flooding, aging, the
 * bounds on frames and the MAC text form, including hostile frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "net/vswitch.h"
#include "t/tap.h"

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MCAST[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
static const uint8_t VM1[6] = {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x02};
static const uint8_t VM2[6] = {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x03};
static const uint8_t HOST[6] = {0x3e, 0x22, 0xfb, 0x00, 0x00, 0x01};
static const uint8_t OTHER[6] = {0x5a, 0x00, 0x00, 0x00, 0x00, 0x09};
static const uint8_t NOBODY[6] = {0x5a, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t ZERO[6];

static uint8_t frame[2048];

/* A frame dst <- src of len bytes (len >= 14 for a real header). */
static const uint8_t *mk(const uint8_t *dst, const uint8_t *src, size_t len)
{
	memset(frame, 0xab, sizeof(frame));
	if (len >= 12) {
		memcpy(frame, dst, 6);
		memcpy(frame + 6, src, 6);
	}
	return frame;
}

#define BIT(p) (1ull << (p))

int main(void)
{
	struct vswitch *sw = malloc(sizeof(*sw));
	struct err e = ERR_INIT;
	unsigned p1 = 0, p2 = 0, p;
	uint8_t mac[6];
	char s[VSWITCH_MAC_STRLEN];
	uint64_t t = 1000;

	vswitch_init(sw, 1518);
	is_int(sw->ports, BIT(0), "a new switch has the uplink only");
	is_int(vswitch_input(sw, 0, mk(BCAST, HOST, 60), 60, t), 0,
	       "a broadcast from the uplink with nobody attached goes nowhere");

	/* attaching */
	is_int(vswitch_port_add(sw, VM1, &p1, &e), 0, "a VM attaches");
	is_int(p1, 1, "... on port 1");
	is_int(vswitch_port_add(sw, VM2, &p2, &e), 0, "a second VM attaches");
	is_int(p2, 2, "... on port 2");
	is_int(vswitch_port_add(sw, VM1, &p, &e), -EEXIST, "a MAC already on a port is refused");
	is_int(vswitch_port_add(sw, BCAST, &p, &e), -EINVAL, "the broadcast MAC is refused");
	is_int(vswitch_port_add(sw, MCAST, &p, &e), -EINVAL, "a multicast MAC is refused");
	is_int(vswitch_port_add(sw, ZERO, &p, &e), -EINVAL, "the zero MAC is refused");

	/* flooding */
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 60), 60, t), BIT(0) | BIT(p2),
	       "a VM's broadcast floods to the uplink and the other VM, not back");
	is_int(vswitch_input(sw, p1, mk(MCAST, VM1, 60), 60, t), BIT(0) | BIT(p2),
	       "multicast floods the same way");
	is_int(vswitch_input(sw, p1, mk(NOBODY, VM1, 60), 60, t), BIT(0) | BIT(p2),
	       "unknown unicast floods");
	is_int(vswitch_input(sw, 0, mk(BCAST, HOST, 60), 60, t), BIT(p1) | BIT(p2),
	       "the uplink's broadcast reaches every VM");

	/* learning and unicast */
	is_int(vswitch_input(sw, p1, mk(HOST, VM1, 60), 60, t), BIT(0),
	       "once the host's MAC is learned (from its broadcast above), unicast to it goes to "
	       "the uplink only");
	is_int(vswitch_input(sw, 0, mk(VM1, HOST, 60), 60, t), BIT(p1),
	       "unicast from the uplink to a VM goes to that VM only");
	is_int(vswitch_input(sw, p2, mk(VM1, VM2, 60), 60, t), BIT(p1),
	       "VM to VM unicast goes to its port only");
	is_int(vswitch_input(sw, 0, mk(HOST, OTHER, 60), 60, t), 0,
	       "a frame for the uplink's own segment is not sent back to it");
	is_int(sw->st.drop_local, 1, "... and counted");

	/* aging */
	is_int(vswitch_input(sw, p1, mk(HOST, VM1, 60), 60, t + VSWITCH_AGE_MS + 1),
	       BIT(0) | BIT(p2),
	       "a learned address is forgotten after VSWITCH_AGE_MS: flood again");
	is_int(vswitch_input(sw, 0, mk(VM1, HOST, 60), 60, t + 10 * VSWITCH_AGE_MS), BIT(p1),
	       "a VM's pinned address never ages");

	/* spoofing */
	is_int(vswitch_input(sw, p1, mk(BCAST, VM2, 60), 60, t), 0,
	       "a VM sending from another VM's MAC is dropped");
	is_int(vswitch_input(sw, p1, mk(BCAST, OTHER, 60), 60, t), 0,
	       "a VM sending from a MAC of its own choosing is dropped");
	is_int(sw->st.drop_spoof, 2, "... both counted as spoofing");
	is_int(vswitch_input(sw, 0, mk(BCAST, VM1, 60), 60, t), 0,
	       "the uplink claiming a VM's MAC is dropped");
	is_int(vswitch_input(sw, 0, mk(VM1, HOST, 60), 60, t), BIT(p1),
	       "... and the VM keeps its traffic");
	is_int(vswitch_input(sw, 0, mk(BCAST, BCAST, 60), 60, t), 0,
	       "a broadcast source is dropped");
	is_int(vswitch_input(sw, 0, mk(BCAST, ZERO, 60), 60, t), 0, "a zero source is dropped");
	is_int(sw->st.drop_src, 2, "... both counted as bad sources");

	/* bounds */
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 13), 13, t), 0, "13 bytes: no header, dropped");
	is_int(vswitch_input(sw, p1, NULL, 0, t), 0, "an empty frame is dropped");
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 14), 14, t), BIT(0) | BIT(p2),
	       "a bare 14-byte header passes");
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 1518), 1518, t), BIT(0) | BIT(p2),
	       "a frame of exactly frame_max passes");
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 1519), 1519, t), 0, "one byte more is dropped");
	is_int(sw->st.drop_short, 2, "short frames counted");
	is_int(sw->st.drop_long, 1, "long frames counted");
	is_int(vswitch_input(sw, 9, mk(BCAST, VM1, 60), 60, t), 0,
	       "a port never attached: dropped");
	is_int(vswitch_input(sw, 64, mk(BCAST, VM1, 60), 60, t), 0,
	       "a port number out of range: dropped");
	is_int(vswitch_input(sw, 1000, mk(BCAST, VM1, 60), 60, t), 0, "... however large");

	/* detaching */
	vswitch_port_del(sw, p2);
	is_int(vswitch_input(sw, p1, mk(BCAST, VM1, 60), 60, t), BIT(0),
	       "after a VM detaches, broadcast skips its port");
	is_int(vswitch_input(sw, p1, mk(VM2, VM1, 60), 60, t), BIT(0),
	       "its MAC is forgotten: unicast to it floods to who is left");
	is_int(vswitch_input(sw, p2, mk(BCAST, VM2, 60), 60, t), 0, "its port no longer sends");
	vswitch_port_del(sw, 0);
	is_int(sw->ports & 1, 1, "the uplink cannot be detached");
	vswitch_port_del(sw, 500);
	is_int(vswitch_port_add(sw, VM2, &p, &e), 0, "a detached VM's MAC can attach again");
	is_int(p, p2, "... and reuses the lowest free port");

	/* a full table evicts learned entries, never pinned ones */
	for (unsigned i = 0; i < VSWITCH_TABLE_MAX + 40; i++) {
		uint8_t m[6] = {0x06, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
		vswitch_input(sw, 0, mk(BCAST, m, 60), 60, t + i);
	}
	is_int(vswitch_input(sw, 0, mk(VM1, HOST, 60), 60, t + 600), BIT(p1),
	       "after more addresses than the table holds, a VM is still reached");
	{
		uint8_t last[6] = {0x06,
				   0,
				   0,
				   0,
				   (uint8_t)((VSWITCH_TABLE_MAX + 39) >> 8),
				   (uint8_t)(VSWITCH_TABLE_MAX + 39)};
		is_int(vswitch_input(sw, p1, mk(last, VM1, 60), 60, t + 600), BIT(0),
		       "and the newest learned address is known");
	}

	/* every port taken */
	vswitch_init(sw, 1518);
	for (unsigned i = 1; i < VSWITCH_PORTS_MAX; i++) {
		uint8_t m[6] = {0x02, 0, 0, 0, 0, (uint8_t)i};
		if (vswitch_port_add(sw, m, &p, &e) < 0 || p != i)
			break;
	}
	is_int(__builtin_popcountll(sw->ports), VSWITCH_PORTS_MAX, "63 VMs and the uplink attach");
	is_int(vswitch_port_add(sw, OTHER, &p, &e), -ENOSPC, "the 64th VM is refused");
	vswitch_init(sw, 10);
	is_int(sw->frame_max, VSWITCH_ETH_HDR + 1, "frame_max is at least a header and a byte");
	vswitch_init(sw, 1u << 30);
	is_int(sw->frame_max, VSWITCH_FRAME_MAX, "frame_max is capped");

	/* MAC text */
	is_int(vswitch_mac_parse("02:42:C0:a8:40:02", mac, &e), 0, "a MAC parses, either case");
	is_mem(mac, VM1, 6, "... to its bytes");
	vswitch_mac_format(mac, s);
	is_str(s, "02:42:c0:a8:40:02", "and formats back in lower case");
	static const char *const bad[] = {"",
					  "02:42:c0:a8:40",
					  "02:42:c0:a8:40:0",
					  "02:42:c0:a8:40:022",
					  "02-42-c0-a8-40-02",
					  "02:42:c0:a8:40:g2",
					  "2:42:c0:a8:40:02",
					  "02:42:c0:a8:40:02\n",
					  " 02:42:c0:a8:40:02"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		is_int(vswitch_mac_parse(bad[i], mac, &e), -EINVAL,
		       "not a MAC: bad[%zu] (\"%.17s\")", i, bad[i]);
	free(sw);
	return done_testing();
}

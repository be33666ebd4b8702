/* net/vswitch.h: MAC learning, pinning and flooding for the vmnet switch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mac.h"
#include "net/vswitch.h"

static bool mac_multicast(const uint8_t *m)
{
	return m[0] & 1; /* the I/G bit; broadcast is multicast too */
}

static bool mac_zero(const uint8_t *m)
{
	static const uint8_t z[6];
	return memcmp(m, z, 6) == 0;
}

static struct vswitch_entry *lookup(struct vswitch *sw, const uint8_t *mac)
{
	for (size_t i = 0; i < VSWITCH_TABLE_MAX; i++)
		if (sw->table[i].used && memcmp(sw->table[i].mac, mac, 6) == 0)
			return &sw->table[i];
	return NULL;
}

static bool aged(const struct vswitch_entry *t, uint64_t now)
{
	return !t->pinned && now - t->seen_ms > VSWITCH_AGE_MS;
}

/* A free slot, else the oldest learned entry's (pinned ones are at most
 * VSWITCH_PORTS_MAX - 1, far fewer than the table). */
static struct vswitch_entry *slot(struct vswitch *sw)
{
	struct vswitch_entry *old = NULL;

	for (size_t i = 0; i < VSWITCH_TABLE_MAX; i++) {
		struct vswitch_entry *t = &sw->table[i];
		if (!t->used)
			return t;
		if (!t->pinned && (!old || t->seen_ms < old->seen_ms))
			old = t;
	}
	return old;
}

void vswitch_init(struct vswitch *sw, size_t frame_max)
{
	memset(sw, 0, sizeof(*sw));
	if (frame_max <= VSWITCH_ETH_HDR)
		frame_max = VSWITCH_ETH_HDR + 1;
	sw->frame_max = frame_max > VSWITCH_FRAME_MAX ? VSWITCH_FRAME_MAX : frame_max;
	sw->ports = 1u << VSWITCH_UPLINK;
}

int vswitch_port_add(struct vswitch *sw, const uint8_t mac[6], unsigned *port, struct err *e)
{
	char s[VSWITCH_MAC_STRLEN];
	struct vswitch_entry *t;
	unsigned p;

	vswitch_mac_format(mac, s);
	if (mac_multicast(mac) || mac_zero(mac))
		return err_set(e, -EINVAL, "MAC %s: not a unicast address", s);
	if ((t = lookup(sw, mac)) && t->pinned)
		return err_set(e, -EEXIST, "MAC %s: already on port %u", s, t->port);
	for (p = 1; p < VSWITCH_PORTS_MAX && (sw->ports >> p & 1); p++)
		;
	if (p == VSWITCH_PORTS_MAX)
		return err_set(e, -ENOSPC, "the switch has no free port (%d VMs)",
			       VSWITCH_PORTS_MAX - 1);
	if (!t)
		t = slot(sw);
	/* learned from the uplink before (a stale claim): the VM owns it now */
	*t = (struct vswitch_entry){.port = (uint8_t)p, .pinned = true, .used = true};
	memcpy(t->mac, mac, 6);
	sw->ports |= 1ull << p;
	*port = p;
	return 0;
}

void vswitch_port_del(struct vswitch *sw, unsigned port)
{
	if (port == VSWITCH_UPLINK || port >= VSWITCH_PORTS_MAX)
		return;
	sw->ports &= ~(1ull << port);
	for (size_t i = 0; i < VSWITCH_TABLE_MAX; i++)
		if (sw->table[i].used && sw->table[i].port == port)
			sw->table[i].used = false;
}

/* Learn or check the source; false when the frame must be dropped. */
static bool source(struct vswitch *sw, unsigned in, const uint8_t *src, uint64_t now)
{
	struct vswitch_entry *t = lookup(sw, src);

	if (mac_multicast(src) || mac_zero(src)) {
		sw->st.drop_src++;
		return false;
	}
	if (in != VSWITCH_UPLINK) {
		/* a VM speaks only with the address it attached with */
		if (!t || !t->pinned || t->port != in) {
			sw->st.drop_spoof++;
			return false;
		}
		return true;
	}
	if (t && t->pinned) {
		sw->st.drop_spoof++; /* the uplink claims a VM's address */
		return false;
	}
	if (!t)
		t = slot(sw);
	*t = (struct vswitch_entry){.port = VSWITCH_UPLINK, .used = true, .seen_ms = now};
	memcpy(t->mac, src, 6);
	return true;
}

uint64_t vswitch_input(struct vswitch *sw, unsigned in, const uint8_t *frame, size_t len,
		       uint64_t now)
{
	uint64_t others;
	struct vswitch_entry *t;

	sw->st.in++;
	if (in >= VSWITCH_PORTS_MAX || !(sw->ports >> in & 1)) {
		sw->st.drop_port++;
		return 0;
	}
	if (len < VSWITCH_ETH_HDR || !frame) {
		sw->st.drop_short++;
		return 0;
	}
	if (len > sw->frame_max) {
		sw->st.drop_long++;
		return 0;
	}
	if (!source(sw, in, frame + 6, now))
		return 0;
	others = sw->ports & ~(1ull << in);
	if (!mac_multicast(frame) && (t = lookup(sw, frame))) {
		if (aged(t, now)) {
			t->used = false;
		} else if (t->port == in) {
			sw->st.drop_local++; /* for its own segment: nobody else */
			return 0;
		} else {
			sw->st.unicast++;
			return 1ull << t->port;
		}
	}
	if (others)
		sw->st.flooded++;
	return others;
}

int vswitch_mac_parse(const char *s, uint8_t mac[6], struct err *e)
{
	return mac_parse(s, mac) < 0 ? err_set(e, -EINVAL, "not a MAC address") : 0;
}

void vswitch_mac_format(const uint8_t mac[6], char out[VSWITCH_MAC_STRLEN])
{
	snprintf(out, VSWITCH_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

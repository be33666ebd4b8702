/* Fuzz target for the vmnet switch (net/vswitch.c): the input is a run of
 * frames from hostile VMs and the uplink, each [port byte][length, 2 bytes
 * big-endian][bytes], against a switch with three pinned VMs.  Whatever
 * the bytes: a frame never goes back to its own port nor to a port not
 * attached, a malformed or spoofed frame goes nowhere, the counters add
 * up, and a VM's pinned address always leads to that VM.  The input is
 * also parsed as a MAC, which must format back to itself. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "net/vswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t MACS[3][6] = {
    {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x02},
    {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x03},
    {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x04},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vswitch sw;
	struct err e = ERR_INIT;
	unsigned ports[3];
	uint64_t now = 0, drops;
	size_t off = 0;

	vswitch_init(&sw, 1518);
	for (int i = 0; i < 3; i++)
		if (vswitch_port_add(&sw, MACS[i], &ports[i], &e) < 0)
			abort();
	if (size > 0 && data[0] & 0x80)
		vswitch_port_del(&sw, ports[data[0] % 3]); /* a VM gone mid-stream */
	while (off + 3 <= size) {
		unsigned in = data[off] % 70; /* a few ports that do not exist */
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		const uint8_t *f = data + off + 3;
		off += 3;
		if (len > size - off)
			len = size - off;
		bool attached = in < 64 && (sw.ports >> in & 1);
		uint64_t out = vswitch_input(&sw, in, f, len, now);
		now += data[off - 1]; /* time moves, sometimes past the age limit */
		if (in < 64 && (out >> in & 1))
			abort(); /* never back where it came from */
		if (out & ~sw.ports)
			abort(); /* never to a port that is not there */
		if (out && (!attached || len < VSWITCH_ETH_HDR || len > sw.frame_max))
			abort();
		if (out && in != VSWITCH_UPLINK && memcmp(f + 6, MACS[in - 1 < 3 ? in - 1 : 0], 6))
			abort(); /* a VM sends only as itself */
		off += len;
	}
	drops = sw.st.drop_short + sw.st.drop_long + sw.st.drop_src + sw.st.drop_spoof +
		sw.st.drop_port + sw.st.drop_local;
	if (drops + sw.st.unicast > sw.st.in || sw.st.flooded > sw.st.in)
		abort();
	/* pinned addresses still lead home, whatever was learned */
	for (int i = 0; i < 3; i++) {
		uint8_t f[60] = {0};
		if (!(sw.ports >> ports[i] & 1))
			continue;
		memcpy(f, MACS[i], 6);
		memcpy(f + 6, (const uint8_t[]){0x3e, 0, 0, 0, 0, 1}, 6);
		if (vswitch_input(&sw, VSWITCH_UPLINK, f, sizeof(f), now) != 1ull << ports[i])
			abort();
	}
	/* the same bytes as MAC text */
	{
		char s[32], back[VSWITCH_MAC_STRLEN];
		uint8_t mac[6];
		size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
		memcpy(s, data, n);
		s[n] = '\0';
		if (vswitch_mac_parse(s, mac, &e) == 0) {
			vswitch_mac_format(mac, back);
			if (strlen(s) != 17 || strcasecmp(s, back) != 0)
				abort();
		}
	}
	return 0;
}

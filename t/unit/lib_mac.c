/* MAC address text: what is accepted, and hostile strings refused
 * without reading past their end or touching the output. */
#include <errno.h>
#include <string.h>

#include "lib/mac.h"
#include "t/tap.h"

int main(void)
{
	static const char *const bad[] = {
		"", "0", "02:42:c0:a8:40", "02:42:c0:a8:40:0", "02:42:c0:a8:40:02:",
		"02:42:c0:a8:40:02x", "02-42-c0-a8-40-02", "2:42:c0:a8:40:02", "02:42:c0:a8:40:g2",
		"02:42:c0:a8:4:002", " 02:42:c0:a8:40:02", "02:42:c0:a8:40:02 ", "0x:42:c0:a8:40:02",
		"02:42:c0:a8:40:+2", "02::42:c0:a8:40:02",
	};
	uint8_t m[6], zero[6] = { 0 };

	is_int(mac_parse("02:42:c0:a8:40:02", m), 0, "a MAC");
	ok(!memcmp(m, "\x02\x42\xc0\xa8\x40\x02", 6), "... its bytes");
	is_int(mac_parse("FF:ee:0A:b9:00:1f", m), 0, "either case");
	ok(!memcmp(m, "\xff\xee\x0a\xb9\x00\x1f", 6), "... its bytes");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(m, 0, sizeof(m));
		is_int(mac_parse(bad[i], m), -EINVAL, "refused: \"%s\"", bad[i]);
		ok(!memcmp(m, zero, 6), "... output untouched");
	}
	return done_testing();
}

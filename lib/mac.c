#include <errno.h>

#include "lib/mac.h"

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t v[6];

	for (int i = 0; i < 6; i++) {
		int hi = hex(s[i * 3]), lo = hi < 0 ? -1 : hex(s[i * 3 + 1]);
		if (lo < 0 || s[i * 3 + 2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	return 0;
}

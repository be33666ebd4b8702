/* Base64 decoding; see lib/base64.h. */
#include <errno.h>
#include <stdint.h>

#include "lib/base64.h"

static int value(unsigned char c, unsigned flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (c == '-' && (flags & BASE64_URL)))
		return 62;
	if (c == '/' || (c == '_' && (flags & BASE64_URL)))
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len, unsigned flags)
{
	uint32_t acc = 0;
	size_t w = 0, pad = 0;
	int bits = 0;

	while (n > 0 && in[n - 1] == '=' && pad < 2)
		n--, pad++;
	if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = value((unsigned char)in[i], flags);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[w++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -EINVAL; /* the unused bits of a partial group must be zero */
	*out_len = w;
	return 0;
}

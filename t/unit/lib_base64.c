/* Base64 decoding: RFC 4648 vectors with and without padding, the URL
 * alphabet only when asked, in-place use, and what must be refused. */
#include <errno.h>
#include <string.h>

#include "lib/base64.h"
#include "t/tap.h"

static const char *dec(const char *in, unsigned flags, int *rc)
{
	static unsigned char out[256];
	size_t n = 0;

	*rc = base64_decode(in, strlen(in), out, &n, flags);
	out[*rc == 0 ? n : 0] = '\0';
	return (const char *)out;
}

int main(void)
{
	static const char *const v[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
		{ "Zg", "f" }, { "Zm8", "fo" }, { "Zm9vYmE", "fooba" },
	};
	char inplace[] = "aGVsbG8gd29ybGQ";
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		is_str(dec(v[i][0], 0, &rc), v[i][1], "RFC 4648 vector");
		is_int(rc, 0, "... decodes");
	}
	is_str(dec("-_8", BASE64_URL, &rc), "\xfb\xff", "URL alphabet with BASE64_URL");
	dec("-_8", 0, &rc);
	is_int(rc, -EINVAL, "URL alphabet refused without it");
	is_str(dec("+/8", 0, &rc), "\xfb\xff", "standard alphabet");
	static const char *const bad[] = { "Z", "Zm9vY", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Z===",
					   "Zg=", "=Zg", "Zm\x80v" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dec(bad[i], BASE64_URL, &rc);
		is_int(rc, -EINVAL, "refused (length, stray bits, padding, bytes)");
	}
	is_int(base64_decode(inplace, strlen(inplace), (unsigned char *)inplace, &n, 0), 0, "in place");
	ok(n == 11 && memcmp(inplace, "hello world", 11) == 0, "... gives the right bytes");
	return done_testing();
}

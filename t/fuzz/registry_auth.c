/* Fuzz target for applets/api_regauth.c: any header either decodes (and
 * what it gives encodes and decodes back to the same credentials) or is
 * refused with a message.  Never crashes, never reads past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_regauth.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "oci/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_buf_ struct buf srv = BUF_INIT, h = BUF_INIT;
	struct creds c, c2;
	struct err e = ERR_INIT;
	int rc = api_regauth_decode((const char *)data, size, &c, &srv, &e);

	if (rc < 0) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	if (rc == 0) {
		if (c.username || c.password || c.identity_token)
			abort();
		return 0;
	}
	if (api_regauth_encode(&c, srv.len ? buf_str(&srv) : NULL, &h, &e) < 0 ||
	    api_regauth_decode(h.data, h.len, &c2, NULL, &e) != 1)
		abort();
	if (!same(c.username, c2.username) || !same(c.password, c2.password) ||
	    !same(c.identity_token, c2.identity_token))
		abort();
	creds_free(&c);
	creds_free(&c2);
	return 0;
}

/* Fuzz target for oci/ref.c: any byte string either parses into a reference
 * whose normalized form is a fixed point of parse+format, or is refused
 * with a message.  Never crashes, never reads past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "oci/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = xstrndup((const char *)data, size);
	struct err e = ERR_INIT;
	struct ref r, r2;
	int flags = size > 0 && (data[0] & 1) ? REF_NO_DEFAULT_TAG : 0;

	if (ref_parse(s, flags, &r, &e) < 0) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	_cleanup_buf_ struct buf full = BUF_INIT, again = BUF_INIT, fam = BUF_INIT;
	ref_format(&r, &full);
	ref_format_familiar(&r, &fam);
	if (ref_parse(buf_str(&full), flags, &r2, &e) < 0)
		abort();
	ref_format(&r2, &again);
	if (strcmp(buf_str(&full), buf_str(&again)) != 0)
		abort();
	/* the familiar form names the same image */
	if (ref_parse(buf_str(&fam), flags, &r2, &e) < 0)
		abort();
	buf_reset(&again);
	ref_format(&r2, &again);
	if (strcmp(buf_str(&full), buf_str(&again)) != 0)
		abort();
	(void)ref_registry_host(&r);
	(void)ref_is_loopback(&r);
	return 0;
}

/* Fuzz target for the HTTP response-head parser and the header-value parsers
 * the client acts on (oci/http_parse.c).  Every byte a registry, proxy or
 * redirect target sends goes through these first. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "oci/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_head h;
	struct err e = ERR_INIT;
	enum http_framing fr;
	unsigned long long cs;
	long long len, secs;
	size_t n, vlen;
	char *copy;
	int rc;

	/* An exact-size heap copy so that any over-read trips ASan. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = http_parse_response(copy, size, &h, &e);
	if (rc > 0) {
		if ((size_t)rc > size || h.status < 100 || h.status > 999 ||
		    h.nheaders > HTTP_HEADERS_MAX)
			abort();
		for (n = 0; n < h.nheaders; n++) {
			const struct http_header *hd = &h.headers[n];
			if (hd->name_len == 0 || hd->name < copy ||
			    hd->value + hd->value_len > copy + rc)
				abort();
		}
		http_head_framing(&h, 0, &fr, &len, &e);
		http_head_framing(&h, 1, &fr, &len, &e);
		http_head_keepalive(&h);
		if (http_head_get(&h, "retry-after", &vlen))
			http_parse_retry_after(http_head_get(&h, "retry-after", &vlen),
					       vlen, 0, &secs);
		/* the rest of the input as chunk framing */
		rc = http_parse_chunk_line(copy + rc, size - (size_t)rc, &cs, &e);
		if (rc > 0 && cs >= (1ULL << 60))
			abort();
	} else if (rc != -EAGAIN && rc != -EPROTO && rc != -E2BIG) {
		abort();
	}
	http_parse_chunk_line(copy, size, &cs, &e);
	http_parse_retry_after(copy, size, 1700000000, &secs);
	free(copy);
	return 0;
}

/* Fuzz target for the API server's request parsing (applets/api_http.c):
 * every byte a local client sends passes through the head parser, the
 * chunked decoder, the target splitter, the query lookup and the version
 * prefix before any handler sees it.  Requests that parse are also routed
 * (applets/api_router.c) for the endpoints that touch no state. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_http.h"
#include "applets/api_router.h"
#include "lib/buf.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_req r;
	struct err e = ERR_INIT;
	struct buf path = BUF_INIT, v = BUF_INIT;
	struct api_chunked ch = { 0 };
	const char *q, *rest;
	size_t qn, n, off = 0;
	int st, rc, minor;
	char *copy;

	/* An exact-size heap copy so that any over-read trips ASan. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	/* Pipelined: parse requests until the input runs out. */
	while (off < size) {
		rc = api_http_parse(copy + off, size - off, &r, &st, &e);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			if (st < 400 || st > 505)
				abort();
			break;
		}
		if ((size_t)rc > size - off || r.nheaders > API_HEADERS_MAX)
			abort();
		for (n = 0; n < r.nheaders; n++)
			if (!r.headers[n].name_len ||
			    r.headers[n].value + r.headers[n].value_len > copy + off + rc)
				abort();
		buf_init(&path, API_HEAD_MAX);
		if (api_target_split(r.target, r.target_len, &path, &q, &qn, &e) == 0) {
			api_version_strip(buf_str(&path), &rest, &minor, &e);
			api_query_get(q, qn, "all", &v);
		}
		buf_free(&path);
		buf_free(&v);
		off += (size_t)rc;
		if (r.body == API_BODY_LENGTH) {
			if (r.content_length > size - off)
				break;
			off += r.content_length;
		} else if (r.body == API_BODY_CHUNKED) {
			memset(&ch, 0, sizeof(ch));
			rc = api_chunked_step(&ch, copy + off, size - off, API_BODY_MAX, &e);
			if (rc != 1 || ch.out > ch.raw || ch.raw > size - off)
				break;
			off += ch.raw;
		}
	}
	free(copy);
	return 0;
}

/* The client side of the API: our CLI talks to container-apiserver over
 * $RUN/container.sock with one HTTP/1.1 request per connection.  Used by
 * `container system start|status` (applets/system.c) and, as #6 goes on,
 * by every lifecycle command.  Responses are read with oci/http_parse.h's
 * bounded parser; bodies are capped at API_CLIENT_BODY_MAX. */
#ifndef APPLETS_API_CLIENT_H
#define APPLETS_API_CLIENT_H

#include <stddef.h>

#include "lib/buf.h"

struct err;

#define API_CLIENT_BODY_MAX ((size_t)64 << 20)

struct api_response {
	int status;
	struct buf body;   /* owned: api_response_free */
};

/* $RUN/container.sock, appended to out. */
int api_client_socket_path(struct buf *out, struct err *e);

/* One request (body may be NULL) to the server at socket_path; waits at
 * most timeout_ms for each read and write.  -ECONNREFUSED (nobody
 * listening, or no socket) says "the API server is not running". */
int api_client_call(const char *socket_path, const char *method, const char *path,
		    const void *body, size_t n, int timeout_ms, struct api_response *out,
		    struct err *e);

void api_response_free(struct api_response *r);

#endif

/* The client side of the API: our CLI talks to container-apiserver over
 * $RUN/container.sock with one HTTP/1.1 request per connection.  Used by
 * `container system start|status` (applets/system.c) and, as #6 goes on,
 * by every lifecycle command.  Responses are read with oci/http_parse.h's
 * bounded parser; bodies are capped at API_CLIENT_BODY_MAX. */
#ifndef APPLETS_API_CLIENT_H
#define APPLETS_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct err;
struct api_chunked;

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

/* A response read as it comes: a streamed body (logs -f, a pull's
 * progress, wait) or, after API_CLIENT_HIJACK, the raw stream of an
 * attach or exec start (101 with "Upgrade: tcp"; the bytes after the
 * head are in `in`, the rest on fd, half-closed with shutdown(SHUT_WR)). */
struct api_stream {
	int fd;              /* owned; -1 = none */
	int status;
	int framing;         /* oci/http_parse.h enum http_framing */
	long long left;      /* HTTP_BODY_LENGTH: bytes still to come */
	bool done;
	struct buf in;       /* raw bytes read past what was handed out */
	struct api_chunked *ch;
	struct buf head;     /* the response head as read (api_stream_header) */
};

#define API_CLIENT_HIJACK 1u   /* ask for the connection (Upgrade: tcp) */
/* The request body is a tar streamed after api_client_open returns (a
 * chunked body, api_stream_send), which then has not read the response
 * yet: api_stream_finish does. */
#define API_CLIENT_SEND_TAR 2u

/* Send one request and read the response head.  timeout_ms 0: reads wait
 * for ever (streams).  The stream is the caller's: api_stream_close. */
int api_client_open(const char *socket_path, const char *method, const char *path,
		    const void *body, size_t n, unsigned flags, int timeout_ms,
		    struct api_stream *s, struct err *e);
/* The same with extra header lines (complete "Name: value\r\n" lines, or
 * NULL) and, when body_fd >= 0 (and body NULL), a request body read from
 * body_fd to its end and sent chunked (image load). */
int api_client_open_ex(const char *socket_path, const char *method, const char *path,
		       const char *headers, const void *body, size_t n, int body_fd,
		       unsigned flags, int timeout_ms, struct api_stream *s, struct err *e);
/* Append the next piece of the body to out (bounded by out's max): the
 * number of bytes added, 0 at the end of the body, or an error. */
ssize_t api_stream_read(struct api_stream *s, struct buf *out, struct err *e);
void api_stream_close(struct api_stream *s);
/* API_CLIENT_SEND_TAR: one chunk of the body. */
int api_stream_send(struct api_stream *s, const void *p, size_t n, struct err *e);
/* API_CLIENT_SEND_TAR: end the body (complete: with its last chunk, else
 * cut short, which the server takes for a truncated archive), half-close
 * (the server never waits on us again) and read the response head. */
int api_stream_finish(struct api_stream *s, bool complete, struct err *e);
/* The value of a response header appended to out; -ENOENT when absent. */
int api_stream_header(const struct api_stream *s, const char *name, struct buf *out);

/* Start container-apiserver in the background as `container system start`
 * does (the role daemonizes itself once it listens) and wait up to
 * wait_ms for /_ping.  0 once it answers (also when another client started
 * it meanwhile). */
int api_client_start_server(const char *socket_path, int wait_ms, struct err *e);

#endif

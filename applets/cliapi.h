/* How the container commands of our CLI (run, create, start, wait, ls,
 * inspect, rm, prune, stop, kill, logs, exec) and the image commands
 * (applets/image.c) reach container-apiserver:
 * its socket in $RUN, started in the background on first use (one line on
 * stderr says so) unless CONTAINER_NO_AUTOSTART=1, in which case the error
 * names the command to run.  Requests and answers are the Docker Engine
 * API's (applets/api_client.h does the HTTP); an answer of 400 or more
 * becomes an error carrying the server's message.
 *
 * Front-end code: messages are for the user, callers print them. */
#ifndef APPLETS_CLIAPI_H
#define APPLETS_CLIAPI_H

#include <stdbool.h>

#include <jansson.h>

#include "applets/api_client.h"
#include "lib/buf.h"

struct err;

#define CLIAPI_TIMEOUT_MS 120000       /* one answer of a plain request */
#define CLIAPI_START_WAIT_MS 10000     /* the server's first /_ping after auto-start */

struct cliapi {
	struct buf sock;
	int status;        /* HTTP status of the last call */
};

/* Find the server, starting it if nothing answers.  -ECONNREFUSED with the
 * command to run when it is not running and may not be started. */
int cliapi_connect(struct cliapi *a, struct err *e);
void cliapi_free(struct cliapi *a);

/* One request; body (borrowed) is sent as JSON when not NULL; *out (may be
 * NULL) receives the parsed answer, or NULL for an empty one.  Statuses
 * of 400 and up: -ENOENT (404), -EEXIST (409), -EINVAL (400), -EIO
 * (other), with the server's message in e. */
int cliapi_call(struct cliapi *a, const char *method, const char *path, const json_t *body,
		json_t **out, struct err *e);

/* cliapi_connect, one cliapi_call, cliapi_free: a command's one request. */
int cliapi_once(const char *method, const char *path, const json_t *body, json_t **out,
		struct err *e);

/* cliapi_once for a command of a group (`volume create`, …): a failure
 * is printed as "container GROUP CMD: message"; returns as cliapi_once. */
int cliapi_request(const char *group, const char *cmd, const char *method, const char *path,
		   const json_t *body, json_t **out);

/* The same, keeping the connection: a streamed answer (flags 0) or a
 * hijacked one (API_CLIENT_HIJACK).  Errors as cliapi_call. */
int cliapi_open(struct cliapi *a, const char *method, const char *path, const json_t *body,
		unsigned flags, struct api_stream *s, struct err *e);

/* API_CLIENT_SEND_TAR after cliapi_open: end the body (complete or cut
 * short, api_stream_finish) and read the answer; errors as cliapi_call.
 * The stream is closed on error. */
int cliapi_finish(struct cliapi *a, struct api_stream *s, bool complete, struct err *e);

/* cliapi_open with extra header lines (or NULL) and a body streamed from
 * body_fd (>= 0, body NULL) as api_client_open_ex sends it. */
int cliapi_open_ex(struct cliapi *a, const char *method, const char *path, const char *headers,
		   const json_t *body, int body_fd, unsigned flags, struct api_stream *s,
		   struct err *e);

/* A path component (container name or id as the user typed it)
 * percent-encoded onto out. */
void cliapi_escape(struct buf *out, const char *s);

/* "KEY=VALUE" (or "KEY") flag values into a new object of strings, for
 * a request's Labels, Options or DriverOpts: an empty key is -EINVAL
 * "invalid WHAT 'ITEM'". */
int cliapi_kv_object(const char *what, const char *const *v, json_t **out, struct err *e);

/* The message of a Docker error answer ({"message": …}) into e. */
int cliapi_error(int status, const char *body, size_t n, struct err *e);

#endif

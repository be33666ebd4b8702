/* The API server's router: a table of (method, path pattern, handler)
 * and the dispatch of one parsed request to it (applets/apiserver.c calls
 * api_handle for every complete request).
 *
 * Patterns are literal segments and `{name}` segments that match one
 * non-empty path segment ("/containers/{id}/json"); the matched values are
 * handed to the handler in order.  The API version prefix is stripped
 * before matching, so one table serves /v1.24/... through /v1.59/... and
 * unversioned paths.  GET routes also answer HEAD.  No path: 404
 * {"message":"page not found"}; a path under another method: 405.
 *
 * Handlers write a complete response into call->out (api_reply_*); they
 * own nothing of the call.  Endpoint groups live in their own files
 * (api_system.c: _ping, version, info, /container/system/status) and
 * their handlers are listed in api_router.c's table. */
#ifndef APPLETS_API_ROUTER_H
#define APPLETS_API_ROUTER_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

struct api_req;
struct api_sup;
struct buf;

#define API_PARAMS_MAX 4

/* What the server knows about itself, borrowed by every call. */
struct api_ctx {
	const char *data_dir;      /* $DATA */
	const char *run_dir;       /* $RUN */
	const char *socket_path;   /* $RUN/container.sock */
	long pid;
	time_t started;
	unsigned long requests;    /* served so far */
	unsigned connections;      /* open now */
	struct api_sup *sup;       /* containers and execs (applets/api_ctr.h) */
	unsigned image_xfers;      /* image saves and loads running (api_imgio.c) */
};

/* ---- connections a handler keeps (applets/apiserver.c) ----
 *
 * A handler whose answer is not ready when it returns (a start waiting for
 * the VM, /wait, a followed log, an attach or exec stream) takes the
 * connection with api_call_take: what it appended to call->out so far is
 * sent at once, the server stops parsing further requests on it and drops
 * its idle timer, and from then on the owner writes with api_conn_write
 * until it calls api_conn_done.  Hijacked (attach, exec start): every
 * byte the client sends after the request goes to ops->data, its
 * half-close to ops->eof; the connection never carries another request.
 * ops->closed tells the owner that the client went away: the pointer is
 * dead after it returns and no other op follows.  ops->drain: the write
 * queue fell back under API_CONN_QUEUE_MAX after the owner saw it above. */
struct api_conn;

#define API_CONN_QUEUE_MAX ((size_t)1 << 20)

struct api_stream_ops {
	void (*data)(void *ud, const char *p, size_t n);
	void (*eof)(void *ud);
	void (*drain)(void *ud);
	void (*closed)(void *ud);
};

struct api_param {
	const char *s;   /* into call->path, not NUL-terminated */
	size_t n;
};

struct api_call {
	struct api_ctx *ctx;
	const struct api_req *req;
	const char *path;          /* decoded, version prefix stripped */
	const char *query;         /* raw, without '?' (not NUL-terminated) */
	size_t query_len;
	const char *body;          /* decoded request body */
	size_t body_len;
	int api_minor;             /* N of /v1.N, 0 when unversioned */
	int head;                  /* a HEAD request: answer without a body */
	int keepalive;
	struct api_param params[API_PARAMS_MAX];
	size_t nparams;
	struct buf *out;           /* the response is appended here */
	struct api_conn *conn;     /* the connection, for api_call_take */
};

typedef void (*api_handler)(struct api_call *c);

struct api_route {
	const char *method;
	const char *pattern;
	api_handler fn;
};

/* Answer one request: split and decode its target, strip the version,
 * route, and append the whole response to out.  The request's keepalive
 * may be turned off (*keepalive) when the answer ends the connection. */
void api_handle(struct api_ctx *ctx, struct api_conn *conn, const struct api_req *r,
		const char *body, size_t body_len, int *keepalive, struct buf *out);

/* Keep the connection (see above); hijack: a raw stream from now on. */
struct api_conn *api_call_take(struct api_call *c, const struct api_stream_ops *ops, void *ud,
			       int hijack);
void api_conn_write(struct api_conn *k, const void *p, size_t n);
/* Bytes written and not yet taken by the client. */
size_t api_conn_queued(const struct api_conn *k);
/* Stop (0) or resume (1) reading a hijacked client (stdin back-pressure). */
void api_conn_read(struct api_conn *k, int on);
/* The answer is complete: with keepalive the next request is served,
 * else the connection ends once written.  No op is called after this. */
void api_conn_done(struct api_conn *k, int keepalive);
/* A chunked answer is complete: the last (empty) chunk, then api_conn_done. */
void api_conn_end_chunked(struct api_conn *k, int keepalive);

/* Whether the request's body is not read by the server but handed raw to
 * its handler (a row of the router's table of such routes: PUT
 * /containers/{id}/archive, a tar of any size, streamed to the guest;
 * POST /images/load, one streamed to the loader); asked once per request
 * head.  The handler takes the connection hijacked and decodes
 * the body itself (Content-Length or chunked); the connection ends after
 * the answer. */
int api_streams_body(const struct api_req *r);

/* Match path against one pattern; 1 with params filled, else 0. */
int api_route_match(const char *pattern, const char *path, struct api_param *params,
		    size_t *nparams);

/* Reply helpers for handlers. */
void api_reply_json(struct api_call *c, int status, json_t *v);   /* steals v */
void api_reply_error(struct api_call *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void api_reply_text(struct api_call *c, int status, const char *extra_headers, const char *text);

/* Query parameter as a boolean the way Docker reads them: "1", "true",
 * "True" are true; absent is dflt. */
int api_query_bool(const struct api_call *c, const char *key, int dflt);

#endif

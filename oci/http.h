/* A blocking HTTP/1.1 client over TCP and TLS, made for registry traffic:
 * keep-alive connections reused per host:port, bodies streamed through a
 * struct reader that stops exactly at the declared length, redirects that
 * never carry credentials to another host nor downgrade to http, retries
 * with jittered backoff for idempotent requests, Retry-After honoured up
 * to a bound, and HTTP(S)_PROXY/NO_PROXY with CONNECT tunnelling.
 *
 * Every wait is bounded: connect_timeout_ms for connecting (and the TLS
 * handshake), idle_timeout_ms for each read or write that makes no
 * progress.  Response heads are parsed by oci/http_parse.c (64 KiB, 100
 * fields).  A client may be used from several threads; a response, and
 * its body reader, by one thread at a time.
 *
 * Called by oci/auth.c (token fetches) and oci/registry.c. */
#ifndef OCI_HTTP_H
#define OCI_HTTP_H

#include <stddef.h>

#include "lib/stream.h"
#include "oci/http_parse.h"

struct err;
struct buf;
struct http_client;
struct http__conn;

#define HTTP_MAX_REDIRECTS 10

struct http_client_opts {
	int connect_timeout_ms;   /* 0 = 30 s */
	int idle_timeout_ms;      /* 0 = 60 s */
	int retries;              /* extra attempts for idempotent requests; 0 = 3, <0 = none */
	int retry_base_ms;        /* first backoff step; 0 = 500 ms */
	int retry_after_max_s;    /* longest Retry-After we wait for; 0 = 60 s */
	const char *ca_file;      /* extra trusted CA (PEM), or NULL */
	const char *http_proxy;   /* proxy for http:// URLs, or NULL */
	const char *https_proxy;  /* proxy for https:// URLs (CONNECT), or NULL */
	const char *no_proxy;     /* comma list of hosts/domains/"*", or NULL */
	int proxy_loopback;       /* also proxy loopback destinations (tests) */
	const char *user_agent;   /* NULL = "container" */
};

/* Fill the proxy fields from HTTPS_PROXY/https_proxy, HTTP_PROXY/http_proxy
 * and NO_PROXY/no_proxy (pointers into the environment). */
void http_client_opts_from_env(struct http_client_opts *o);

struct http_client *http_client_new(const struct http_client_opts *o,
				    struct err *e);
/* Closes pooled connections.  Responses must be freed first. */
void http_client_free(struct http_client *c);

/* A parsed absolute http(s) URL.  User info ("user:pw@") is refused so that
 * credentials never travel inside URLs (and so never reach a message). */
struct http_url {
	int tls;          /* https */
	char *host;       /* without brackets for IPv6 literals */
	int port;
	char *target;     /* path and query, at least "/" */
};
int http_url_parse(const char *s, struct http_url *u, struct err *e);
/* Resolve a Location value (absolute, //authority, /path or relative)
 * against base. */
int http_url_resolve(const struct http_url *base, const char *ref,
		     struct http_url *out, struct err *e);
/* "scheme://host[:port]target" appended to out. */
void http_url_format(const struct http_url *u, struct buf *out);
void http_url_free(struct http_url *u);
/* Whether host is localhost or a loopback address literal. */
int http_host_is_loopback(const char *host);

struct http_request {
	const char *method;            /* "GET", "HEAD", "PUT", ... */
	const char *url;               /* absolute http(s) URL */
	const char *const *headers;    /* "Name: value" lines, NULL-terminated; may be NULL */
	/* Value of the Authorization header.  Sent only to the host:port of
	 * url, never to a redirect target elsewhere. */
	const char *authorization;
	const void *body;              /* in-memory body (replayable) */
	size_t body_len;
	struct reader *body_reader;    /* or a streamed body (not replayable) */
	long long body_reader_len;     /* its exact length */
	int no_redirect;               /* hand back 3xx responses as they are */
	int no_retry;
	int send_length;               /* send Content-Length: 0 without a body */
};

/* A response.  Public fields are read-only; the rest is private. */
struct http_response {
	int status;
	long long content_length;     /* -1 when not declared */
	char *url;                    /* the URL that answered (after redirects) */
	struct reader body;           /* the body stream; 0 at its end */
	int redirected_cross_host;    /* a redirect left the original host */

	/* private */
	struct http_client *c;
	struct http__conn *conn;
	char *head_raw;
	struct http_head head;
	enum http_framing framing;
	unsigned long long remaining;
	int chunk_state;
	size_t trailer_bytes;
	unsigned long long received;
	int keepalive;
	int done;
};

/* Perform a request.  Any status is a success here (callers map statuses,
 * they know what a 404 means); transport and protocol failures, too many
 * redirects (-ELOOP) and downgrades (-EPROTO) are errors. */
int http_do(struct http_client *c, const struct http_request *rq,
	    struct http_response **out, struct err *e);

/* The first header named name, as a C string, or NULL. */
const char *http_response_header(const struct http_response *r,
				 const char *name);

/* Read the whole body into out (appending); -EFBIG past max bytes
 * (checked against Content-Length before reading, and while reading). */
int http_response_read_all(struct http_response *r, struct buf *out,
			   size_t max, struct err *e);

/* Frees; a connection whose body was read to the end goes back to the
 * pool, others are closed.  NULL is a no-op. */
void http_response_free(struct http_response *r);

#endif

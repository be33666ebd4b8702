/* The HTTP/1.1 client (see oci/http.h): connections and their pool,
 * request writing, response heads and body framing, redirects and
 * retries.  URL and proxy handling is in oci/http_url.c, the parsers in
 * oci/http_parse.c, TLS in oci/tls.c. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/timex.h"
#include "lib/mem.h"
#include "oci/http.h"
#include "oci/http_internal.h"
#include "oci/tls.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0   /* macOS: SO_NOSIGPIPE is set on the socket */
#endif

#define IO_CHUNK 16384
#define POOL_PER_KEY 4
#define POOL_IDLE_S 30           /* drop pooled connections idle this long */
#define DRAIN_MAX 65536          /* drain at most this to reuse a connection */
#define BACKOFF_MAX_MS 10000

struct http__conn {
	struct http__conn *next;
	char *key;
	char *host;         /* for messages */
	int fd;
	struct tls_conn *tls;
	struct buf in;      /* bytes read ahead of the parser */
	int reused;
	int plain_proxy;    /* http:// through a proxy: absolute-form targets */
	char *proxy_auth;
	int idle_ms;
	time_t idle_since;
};

struct http_client {
	struct http_client_opts o;
	char *owned[6];
	struct tls_config *tls;
	pthread_mutex_t lock;
	struct http__conn *pool;
	uint64_t rng;
};

enum { CH_SIZE, CH_DATA, CH_CRLF, CH_TRAILER };

/* ---- client ---- */

void http_client_opts_from_env(struct http_client_opts *o)
{
	const char *v;

	if ((v = getenv("HTTPS_PROXY")) || (v = getenv("https_proxy")))
		o->https_proxy = v;
	if ((v = getenv("HTTP_PROXY")) || (v = getenv("http_proxy")))
		o->http_proxy = v;
	if ((v = getenv("NO_PROXY")) || (v = getenv("no_proxy")))
		o->no_proxy = v;
}

static const char *own(struct http_client *c, int i, const char *s)
{
	return s ? (c->owned[i] = xstrdup(s)) : NULL;
}

struct http_client *http_client_new(const struct http_client_opts *o,
				    struct err *e)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	if (o)
		c->o = *o;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = 30000;
	if (!c->o.idle_timeout_ms)
		c->o.idle_timeout_ms = 60000;
	if (!c->o.retries)
		c->o.retries = 3;
	if (c->o.retries < 0)
		c->o.retries = 0;
	if (!c->o.retry_base_ms)
		c->o.retry_base_ms = 500;
	if (!c->o.retry_after_max_s)
		c->o.retry_after_max_s = 60;
	c->o.ca_file = own(c, 0, c->o.ca_file);
	c->o.http_proxy = own(c, 1, c->o.http_proxy);
	c->o.https_proxy = own(c, 2, c->o.https_proxy);
	c->o.no_proxy = own(c, 3, c->o.no_proxy);
	c->o.user_agent = own(c, 4, c->o.user_agent ? c->o.user_agent : "container");
	c->tls = tls_config_new(c->o.ca_file, e);
	if (!c->tls) {
		http_client_free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
	if (!c->rng)
		c->rng = 1;
	return c;
}

static void conn_close(struct http__conn *k)
{
	if (!k)
		return;
	tls_close(k->tls);
	if (k->fd >= 0)
		close(k->fd);
	buf_free(&k->in);
	free(k->key);
	free(k->host);
	free(k->proxy_auth);
	free(k);
}

void http_client_free(struct http_client *c)
{
	size_t i;

	if (!c)
		return;
	if (c->tls) {
		while (c->pool) {
			struct http__conn *k = c->pool;
			c->pool = k->next;
			conn_close(k);
		}
		pthread_mutex_destroy(&c->lock);
	}
	tls_config_free(c->tls);
	for (i = 0; i < ARRAY_SIZE(c->owned); i++)
		free(c->owned[i]);
	free(c);
}

/* ---- connections ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int tcp_connect(const char *host, int port, int timeout_ms, int *out,
		       struct err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char portstr[8];
	int rc, fd = -1, one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return err_set(e, rc == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH,
			       "cannot resolve %s: %s", host, gai_strerror(rc));
	rc = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			rc = err_sys(e, "socket");
			continue;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto connected;
		if (errno == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, timeout_ms);
			if (w == 0) {
				rc = err_set(e, -ETIMEDOUT, "connecting to %s port %d timed out after %d ms",
					     host, port, timeout_ms);
			} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
				   soerr == 0) {
				goto connected;
			} else {
				errno = soerr ? soerr : errno;
				rc = err_sys(e, "cannot connect to %s port %d", host, port);
			}
		} else {
			rc = err_sys(e, "cannot connect to %s port %d", host, port);
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return rc;
connected:
	freeaddrinfo(res);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef SO_NOSIGPIPE
	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
	*out = fd;
	return 0;
}

static ssize_t conn_raw_read(struct http__conn *k, void *p, size_t n, struct err *e)
{
	ssize_t r;
	int w;

	if (k->tls)
		return tls_read(k->tls, p, n, k->idle_ms, e);
	w = wait_fd(k->fd, POLLIN, k->idle_ms);
	if (w == 0)
		return err_set(e, -ETIMEDOUT, "no data from %s for %d ms", k->host, k->idle_ms);
	do
		r = recv(k->fd, p, n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_sys(e, "reading from %s", k->host);
	return r;
}

/* Bytes from the read-ahead buffer first, then from the socket. */
static ssize_t conn_take(struct http__conn *k, void *p, size_t n, struct err *e)
{
	if (k->in.len) {
		if (n > k->in.len)
			n = k->in.len;
		memcpy(p, k->in.data, n);
		buf_consume(&k->in, n);
		return (ssize_t)n;
	}
	return conn_raw_read(k, p, n, e);
}

/* Read more into the read-ahead buffer; 0 at end of stream. */
static ssize_t conn_fill(struct http__conn *k, struct err *e)
{
	ssize_t r;

	if (buf_reserve(&k->in, IO_CHUNK) < 0)
		return err_set(e, -E2BIG, "too much unparsed data from %s", k->host);
	r = conn_raw_read(k, k->in.data + k->in.len, IO_CHUNK, e);
	if (r > 0) {
		k->in.len += (size_t)r;
		k->in.data[k->in.len] = '\0';
	}
	return r;
}

static int conn_write(struct http__conn *k, const void *p, size_t n, struct err *e)
{
	const char *q = p;

	if (k->tls)
		return tls_write(k->tls, p, n, k->idle_ms, e);
	while (n > 0) {
		ssize_t w;
		if (wait_fd(k->fd, POLLOUT, k->idle_ms) == 0)
			return err_set(e, -ETIMEDOUT, "writing to %s timed out after %d ms",
				       k->host, k->idle_ms);
		w = send(k->fd, q, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "writing to %s", k->host);
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static void host_port(struct buf *b, const char *host, int port)
{
	int v6 = strchr(host, ':') != NULL;
	buf_printf(b, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static int proxy_connect(struct http__conn *k, const struct http_url *u,
			 const struct http__proxy *px, struct err *e)
{
	_cleanup_buf_ struct buf rq = BUF_INIT;
	struct http_head *h = xmalloc(sizeof(*h));
	int rc;

	buf_puts(&rq, "CONNECT ");
	host_port(&rq, u->host, u->port);
	buf_puts(&rq, " HTTP/1.1\r\nHost: ");
	host_port(&rq, u->host, u->port);
	buf_puts(&rq, "\r\n");
	if (px->auth)
		buf_printf(&rq, "Proxy-Authorization: %s\r\n", px->auth);
	buf_puts(&rq, "\r\n");
	rc = conn_write(k, rq.data, rq.len, e);
	while (rc >= 0) {
		rc = http_parse_response(k->in.data ? k->in.data : "", k->in.len, h, e);
		if (rc != -EAGAIN)
			break;
		rc = (int)conn_fill(k, e);
		if (rc == 0)
			rc = err_set(e, -ECONNRESET, "proxy %s closed the connection during CONNECT",
				     px->url.host);
	}
	if (rc >= 0) {
		if (h->status == 407)
			rc = err_set(e, -EACCES, "proxy %s requires authentication (407)", px->url.host);
		else if (h->status < 200 || h->status > 299)
			rc = err_set(e, -ECONNREFUSED, "proxy %s refused to connect to %s (status %d)",
				     px->url.host, u->host, h->status);
		else if ((size_t)rc != k->in.len)
			rc = err_set(e, -EPROTO, "proxy %s sent data before the tunnel was set up",
				     px->url.host);
		else
			buf_reset(&k->in);
	}
	free(h);
	return rc < 0 ? rc : 0;
}

static char *conn_key(const struct http_url *u, const struct http__proxy *px, int use_px)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%d|%s|%d|", u->tls, u->host, u->port);
	if (use_px)
		buf_printf(&b, "%s|%d", px->url.host, px->url.port);
	return buf_steal(&b);
}

static int conn_open(struct http_client *c, const struct http_url *u,
		     struct http__conn **out, char **key, struct err *e)
{
	struct http__proxy px;
	struct http__conn *k;
	int use_px, rc;

	use_px = http__proxy_for(&c->o, u, &px, e);
	if (use_px < 0)
		return use_px;
	k = xcalloc(1, sizeof(*k));
	k->fd = -1;
	k->idle_ms = c->o.idle_timeout_ms;
	k->host = xstrdup(u->host);
	buf_init(&k->in, HTTP_HEAD_MAX + IO_CHUNK);
	*key = conn_key(u, &px, use_px);
	if (use_px)
		rc = tcp_connect(px.url.host, px.url.port, c->o.connect_timeout_ms, &k->fd, e);
	else
		rc = tcp_connect(u->host, u->port, c->o.connect_timeout_ms, &k->fd, e);
	if (rc >= 0 && use_px && u->tls)
		rc = proxy_connect(k, u, &px, e);
	if (rc >= 0 && u->tls)
		rc = tls_connect(c->tls, k->fd, u->host, u->port, c->o.connect_timeout_ms,
				 &k->tls, e);
	if (rc >= 0 && use_px && !u->tls) {
		k->plain_proxy = 1;
		k->proxy_auth = px.auth ? xstrdup(px.auth) : NULL;
	}
	if (use_px)
		http__proxy_free(&px);
	if (rc < 0) {
		conn_close(k);
		free(*key);
		*key = NULL;
		return rc;
	}
	*out = k;
	return 0;
}

static struct http__conn *pool_take(struct http_client *c, const char *key)
{
	struct http__conn **pp, *k, *found = NULL;
	time_t now = time(NULL);

	pthread_mutex_lock(&c->lock);
	for (pp = &c->pool; (k = *pp);) {
		if (strcmp(k->key, key) != 0) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		/* Readable while idle means EOF or junk: either way unusable. */
		if (now - k->idle_since < POOL_IDLE_S && wait_fd(k->fd, POLLIN, 0) == 0 &&
		    !(k->tls && tls_buffered(k->tls))) {
			found = k;
			break;
		}
		conn_close(k);
	}
	pthread_mutex_unlock(&c->lock);
	if (found) {
		found->next = NULL;
		found->reused = 1;
	}
	return found;
}

static void pool_put(struct http_client *c, struct http__conn *k)
{
	struct http__conn *p;
	int n = 0;

	pthread_mutex_lock(&c->lock);
	for (p = c->pool; p; p = p->next)
		n += strcmp(p->key, k->key) == 0;
	if (n < POOL_PER_KEY) {
		k->idle_since = time(NULL);
		k->next = c->pool;
		c->pool = k;
		k = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	conn_close(k);
}

/* ---- requests ---- */

static int has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static int is_method(const char *m, const char *a)
{
	return strcmp(m, a) == 0;
}

static int send_request(struct http_client *c, struct http__conn *k, const char *method,
			const struct http_url *u, const struct http_request *rq,
			int send_auth, const void *body, size_t body_len,
			int with_body, struct err *e)
{
	_cleanup_buf_ struct buf h = BUF_INIT;
	const char *const *hp;
	size_t i;
	int rc;

	for (i = 0; method[i]; i++)
		if (method[i] < 'A' || method[i] > 'Z')
			return err_set(e, -EINVAL, "invalid HTTP method");
	if (has_crlf(rq->authorization))
		return err_set(e, -EINVAL, "line break in an HTTP header");
	for (hp = rq->headers; hp && *hp; hp++)
		if (has_crlf(*hp) || !strchr(*hp, ':'))
			return err_set(e, -EINVAL, "malformed extra HTTP header");
	buf_printf(&h, "%s ", method);
	if (k->plain_proxy)
		http_url_format(u, &h);
	else
		buf_puts(&h, u->target);
	buf_puts(&h, " HTTP/1.1\r\nHost: ");
	if (strchr(u->host, ':'))
		buf_printf(&h, "[%s]", u->host);
	else
		buf_puts(&h, u->host);
	if (u->port != (u->tls ? 443 : 80))
		buf_printf(&h, ":%d", u->port);
	buf_printf(&h, "\r\nUser-Agent: %s\r\n", c->o.user_agent);
	if (send_auth && rq->authorization)
		buf_printf(&h, "Authorization: %s\r\n", rq->authorization);
	if (k->proxy_auth)
		buf_printf(&h, "Proxy-Authorization: %s\r\n", k->proxy_auth);
	for (hp = rq->headers; hp && *hp; hp++)
		buf_printf(&h, "%s\r\n", *hp);
	if (with_body && rq->body_reader)
		buf_printf(&h, "Content-Length: %lld\r\n", rq->body_reader_len);
	else if (with_body && (body_len || rq->send_length || is_method(method, "POST") ||
			       is_method(method, "PUT") || is_method(method, "PATCH")))
		buf_printf(&h, "Content-Length: %zu\r\n", body_len);
	buf_puts(&h, "\r\n");
	if (with_body && body_len && body_len <= IO_CHUNK) {
		buf_append(&h, body, body_len);
		body_len = 0;
	}
	if ((rc = conn_write(k, h.data, h.len, e)) < 0)
		return rc;
	if (with_body && body_len && (rc = conn_write(k, body, body_len, e)) < 0)
		return rc;
	if (with_body && rq->body_reader) {
		unsigned char *tmp = xmalloc(65536);
		long long left = rq->body_reader_len;
		while (left > 0 && rc >= 0) {
			ssize_t got = reader_read(rq->body_reader, tmp,
						  left < 65536 ? (size_t)left : 65536, e);
			if (got == 0)
				rc = err_set(e, -EPROTO, "request body ended %lld bytes early", left);
			else if (got < 0)
				rc = (int)got;
			else if ((rc = conn_write(k, tmp, (size_t)got, e)) >= 0)
				left -= got;
		}
		free(tmp);
	}
	return rc < 0 ? rc : 0;
}

/* ---- responses ---- */

#define RESP_OF(rd) ((struct http_response *)((char *)(rd) - offsetof(struct http_response, body)))

static void body_done(struct http_response *r)
{
	r->done = 1;
	/* Bytes past the declared end: the server lied; don't reuse. */
	if (r->conn && r->conn->in.len)
		r->keepalive = 0;
}

static int cut_error(struct http_response *r, struct err *e)
{
	if (r->framing == HTTP_BODY_LENGTH)
		return err_set(e, -ECONNRESET, "connection to %s closed after %llu of %lld bytes",
			       r->conn->host, r->received, r->content_length);
	return err_set(e, -ECONNRESET, "connection to %s closed inside a chunked body after %llu bytes",
		       r->conn->host, r->received);
}

/* Consume a line break after chunk data, or one trailer line. */
static int chunk_meta(struct http_response *r, struct err *e)
{
	struct http__conn *k = r->conn;
	unsigned long long sz;
	ssize_t n;
	int rc;

	for (;;) {
		if (r->chunk_state == CH_SIZE) {
			rc = http_parse_chunk_line(k->in.data ? k->in.data : "", k->in.len, &sz, e);
			if (rc > 0) {
				buf_consume(&k->in, (size_t)rc);
				r->remaining = sz;
				r->chunk_state = sz ? CH_DATA : CH_TRAILER;
				if (sz)
					return 0;
				continue;
			}
		} else if (r->chunk_state == CH_CRLF) {
			if (k->in.len >= 1 && k->in.data[0] == '\n') {
				buf_consume(&k->in, 1);
				r->chunk_state = CH_SIZE;
				continue;
			}
			if (k->in.len >= 2 && k->in.data[0] == '\r' && k->in.data[1] == '\n') {
				buf_consume(&k->in, 2);
				r->chunk_state = CH_SIZE;
				continue;
			}
			if (k->in.len >= 2 || (k->in.len == 1 && k->in.data[0] != '\r'))
				return err_set(e, -EPROTO, "chunk from %s longer than its declared size",
					       k->host);
			rc = -EAGAIN;
		} else if (r->chunk_state == CH_TRAILER) {
			char *nl = k->in.len ? memchr(k->in.data, '\n', k->in.len) : NULL;
			if (nl) {
				size_t len = (size_t)(nl - k->in.data) + 1;
				int last = len == 1 || (len == 2 && k->in.data[0] == '\r');
				r->trailer_bytes += len;
				if (r->trailer_bytes > HTTP_HEAD_MAX)
					return err_set(e, -E2BIG, "trailers from %s larger than %d bytes",
						       k->host, HTTP_HEAD_MAX);
				buf_consume(&k->in, len);
				if (last) {
					body_done(r);
					return 0;
				}
				continue;
			}
			rc = -EAGAIN;
			if (k->in.len > HTTP_HEAD_MAX)
				return err_set(e, -E2BIG, "trailer line from %s too long", k->host);
		} else {
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		n = conn_fill(k, e);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return cut_error(r, e);
	}
}

static ssize_t body_read(struct reader *rd, void *p, size_t n, struct err *e)
{
	struct http_response *r = RESP_OF(rd);
	ssize_t got;
	int rc;

	if (r->done || n == 0)
		return 0;
	switch (r->framing) {
	case HTTP_BODY_NONE:
		body_done(r);
		return 0;
	case HTTP_BODY_EOF:
		got = conn_take(r->conn, p, n, e);
		if (got == 0)
			body_done(r);
		if (got > 0)
			r->received += (unsigned long long)got;
		return got;
	case HTTP_BODY_LENGTH:
		if (r->remaining == 0) {
			body_done(r);
			return 0;
		}
		break;
	case HTTP_BODY_CHUNKED:
		if (r->chunk_state != CH_DATA || r->remaining == 0) {
			if ((rc = chunk_meta(r, e)) < 0)
				return rc;
			if (r->done)
				return 0;
		}
		break;
	}
	if (n > r->remaining)
		n = (size_t)r->remaining;
	got = conn_take(r->conn, p, n, e);
	if (got < 0)
		return got;
	if (got == 0)
		return cut_error(r, e);
	r->remaining -= (unsigned long long)got;
	r->received += (unsigned long long)got;
	if (r->remaining == 0) {
		if (r->framing == HTTP_BODY_LENGTH)
			body_done(r);
		else
			r->chunk_state = CH_CRLF;
	}
	return got;
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	size_t len;
	return http_head_get(&r->head, name, &len);
}

int http_response_read_all(struct http_response *r, struct buf *out, size_t max,
			   struct err *e)
{
	size_t start = out->len;
	ssize_t got;

	if (r->content_length > 0 && (unsigned long long)r->content_length > max)
		return err_set(e, -EFBIG, "response from %s is %lld bytes, more than the %zu allowed",
			       r->conn ? r->conn->host : "server", r->content_length, max);
	for (;;) {
		if (buf_reserve(out, IO_CHUNK) < 0)
			return err_set(e, -EFBIG, "response body larger than %zu bytes", max);
		got = reader_read(&r->body, out->data + out->len, IO_CHUNK, e);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		out->len += (size_t)got;
		out->data[out->len] = '\0';
		if (out->len - start > max)
			return err_set(e, -EFBIG, "response body larger than %zu bytes", max);
	}
}

void http_response_free(struct http_response *r)
{
	if (!r)
		return;
	if (r->conn && !r->done && r->keepalive &&
	    (r->framing == HTTP_BODY_CHUNKED ||
	     (r->framing == HTTP_BODY_LENGTH && r->remaining <= DRAIN_MAX))) {
		char tmp[4096];
		size_t total = 0;
		ssize_t got;
		while (total <= DRAIN_MAX && (got = body_read(&r->body, tmp, sizeof(tmp), NULL)) > 0)
			total += (size_t)got;
	}
	if (r->conn) {
		if (r->done && r->keepalive && r->framing != HTTP_BODY_EOF && !r->conn->in.len)
			pool_put(r->c, r->conn);
		else
			conn_close(r->conn);
	}
	free(r->head_raw);
	free(r->url);
	free(r);
}

/* Read the head of the final (non-1xx) response. */
static int read_head(struct http__conn *k, struct http_response *r, int *stale,
		     struct err *e)
{
	int rc, informational = 0;
	size_t i;
	ssize_t n;

	for (;;) {
		rc = http_parse_response(k->in.data ? k->in.data : "", k->in.len, &r->head, e);
		if (rc == -EAGAIN) {
			size_t had = k->in.len;
			n = conn_fill(k, e);
			if (n > 0)
				continue;
			if (k->reused && had == 0 && !informational)
				*stale = 1;
			if (n == 0)
				return err_set(e, -ECONNRESET,
					       "connection to %s closed before a complete response",
					       k->host);
			return (int)n;
		}
		if (rc < 0)
			return err_wrap(e, "response from %s", k->host);
		if (r->head.status >= 200)
			break;
		if (r->head.status == 101 || ++informational > 8)
			return err_set(e, -EPROTO, "unexpected informational responses from %s",
				       k->host);
		buf_consume(&k->in, (size_t)rc);
	}
	/* Keep an owned copy with NUL-terminated names and values. */
	r->head_raw = xmalloc((size_t)rc + 1);
	memcpy(r->head_raw, k->in.data, (size_t)rc);
	r->head_raw[rc] = '\0';
	buf_consume(&k->in, (size_t)rc);
	http_parse_response(r->head_raw, (size_t)rc, &r->head, NULL);
	for (i = 0; i < r->head.nheaders; i++) {
		struct http_header *hd = &r->head.headers[i];
		((char *)hd->name)[hd->name_len] = '\0';
		((char *)hd->value)[hd->value_len] = '\0';
	}
	return 0;
}

static int do_once(struct http_client *c, const char *method, const struct http_url *u,
		   const struct http_request *rq, int send_auth, const void *body,
		   size_t body_len, int with_body, struct http_response **out,
		   int *stale, struct err *e)
{
	_cleanup_free_ char *key = NULL;
	struct http__conn *k;
	struct http_response *r;
	long long len;
	int rc;

	*stale = 0;
	{
		struct http__proxy px;
		int use_px = http__proxy_for(&c->o, u, &px, e);
		if (use_px < 0)
			return use_px;
		key = conn_key(u, &px, use_px);
		if (use_px)
			http__proxy_free(&px);
	}
	k = pool_take(c, key);
	if (!k) {
		free(key);
		key = NULL;
		if ((rc = conn_open(c, u, &k, &key, e)) < 0)
			return rc;
		k->key = key;
		key = NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->conn = k;
	r->body.read = body_read;
	rc = send_request(c, k, method, u, rq, send_auth, body, body_len, with_body, e);
	if (rc < 0 && k->reused && !rq->body_reader)
		*stale = 1;
	if (rc >= 0)
		rc = read_head(k, r, stale, e);
	if (rc >= 0)
		rc = http_head_framing(&r->head, is_method(method, "HEAD"), &r->framing, &len, e);
	if (rc < 0) {
		r->keepalive = 0;
		http_response_free(r);
		return rc;
	}
	r->status = r->head.status;
	r->content_length = len;
	r->remaining = len > 0 ? (unsigned long long)len : 0;
	r->keepalive = http_head_keepalive(&r->head);
	r->chunk_state = CH_SIZE;
	r->done = r->framing == HTTP_BODY_NONE ||
		  (r->framing == HTTP_BODY_LENGTH && len == 0);
	{
		struct buf b = BUF_INIT;
		http_url_format(u, &b);
		r->url = buf_steal(&b);
	}
	*out = r;
	return 0;
}

/* ---- retries and redirects ---- */

static long backoff_ms(struct http_client *c, int attempt)
{
	long d = (long)c->o.retry_base_ms << (attempt < 10 ? attempt : 10);
	uint64_t x;

	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	pthread_mutex_lock(&c->lock);
	x = c->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	pthread_mutex_unlock(&c->lock);
	/* "equal jitter": half fixed, half random */
	return d / 2 + (long)(x % (uint64_t)(d / 2 + 1));
}

static int retryable_errno(int rc)
{
	return rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ETIMEDOUT ||
	       rc == -EPIPE || rc == -ECONNABORTED || rc == -EAGAIN ||
	       rc == -EHOSTUNREACH || rc == -ENETUNREACH;
}

static int retryable_status(int s)
{
	return s == 429 || s == 502 || s == 503 || s == 504;
}

static int do_retrying(struct http_client *c, const char *method, const struct http_url *u,
		       const struct http_request *rq, int send_auth, const void *body,
		       size_t body_len, int with_body, struct http_response **out,
		       struct err *e)
{
	int replayable = !(with_body && rq->body_reader);
	int idem = is_method(method, "GET") || is_method(method, "HEAD") ||
		   is_method(method, "PUT") || is_method(method, "DELETE") ||
		   is_method(method, "OPTIONS");
	int attempts = (idem && replayable && !rq->no_retry) ? 1 + c->o.retries : 1;
	int attempt, stale_left = 2, stale, rc;
	struct http_response *r;

	for (attempt = 0;;) {
		rc = do_once(c, method, u, rq, send_auth, body, body_len, with_body, &r, &stale, e);
		if (rc < 0) {
			if (stale && replayable && stale_left-- > 0)
				continue;    /* a pooled connection the server had closed */
			if (++attempt < attempts && retryable_errno(rc)) {
				timex_sleep_ms(backoff_ms(c, attempt - 1));
				continue;
			}
			return rc;
		}
		if (attempt + 1 < attempts && retryable_status(r->status)) {
			const char *ra = http_response_header(r, "retry-after");
			long long secs;
			long ms = backoff_ms(c, attempt);
			if (ra && http_parse_retry_after(ra, strlen(ra), (long long)time(NULL), &secs) == 0) {
				if (secs > c->o.retry_after_max_s)
					break;   /* too long to wait: the caller reports it */
				if (secs * 1000 > ms)
					ms = (long)secs * 1000;
			}
			http_response_free(r);
			attempt++;
			timex_sleep_ms(ms);
			continue;
		}
		break;
	}
	*out = r;
	return 0;
}

static int is_redirect(int s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

int http_do(struct http_client *c, const struct http_request *rq,
	    struct http_response **out, struct err *e)
{
	struct http_url orig, cur, next;
	const char *method = rq->method;
	const void *body = rq->body;
	size_t body_len = rq->body_len;
	int with_body = 1, hop, rc, cross = 0;
	struct http_response *r = NULL;

	if ((rc = http_url_parse(rq->url, &orig, e)) < 0)
		return rc;
	if ((rc = http_url_parse(rq->url, &cur, e)) < 0) {
		http_url_free(&orig);
		return rc;
	}
	for (hop = 0;; hop++) {
		int same = strcasecmp(cur.host, orig.host) == 0 && cur.port == orig.port;
		const char *loc;

		rc = do_retrying(c, method, &cur, rq, same, body, body_len, with_body, &r, e);
		if (rc < 0)
			break;
		r->redirected_cross_host = cross;
		loc = http_response_header(r, "location");
		if (rq->no_redirect || !is_redirect(r->status) || !loc)
			break;
		if (hop == HTTP_MAX_REDIRECTS) {
			rc = err_set(e, -ELOOP, "more than %d redirects from %s (last to host %s)",
				     HTTP_MAX_REDIRECTS, orig.host, cur.host);
			break;
		}
		if ((rc = http_url_resolve(&cur, loc, &next, e)) < 0) {
			err_wrap(e, "bad redirect from %s", cur.host);
			break;
		}
		if (cur.tls && !next.tls) {
			rc = err_set(e, -EPROTO, "refusing redirect from https://%s to plain http://%s",
				     cur.host, next.host);
			http_url_free(&next);
			break;
		}
		if (r->status == 303 || ((r->status == 301 || r->status == 302) &&
					 !is_method(method, "GET") && !is_method(method, "HEAD"))) {
			method = "GET";
			body = NULL;
			body_len = 0;
			with_body = 0;
		} else if (with_body && rq->body_reader) {
			rc = err_set(e, -EPROTO, "cannot follow a redirect of a streamed %s to %s",
				     method, next.host);
			http_url_free(&next);
			break;
		}
		http_response_free(r);
		r = NULL;
		http_url_free(&cur);
		cur = next;
		if (strcasecmp(cur.host, orig.host) != 0 || cur.port != orig.port)
			cross = 1;
	}
	http_url_free(&orig);
	http_url_free(&cur);
	if (rc < 0) {
		http_response_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

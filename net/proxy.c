/* The port proxy (net/proxy.h).  Lifetimes follow libuv's rule: a
 * handle's memory is freed only in its close callback; the proxy itself
 * goes when its last handle has closed (refs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "net/proxy.h"

#define READ_CHUNK (64u << 10)
#define UDP_TICK_MS 5000
/* Read buffers are recycled: with musl a 64 KiB malloc is an mmap, and the
 * munmap per read was half the proxy's time (measured with strace -c). */
#define POOL_MAX 64

struct proxy;
struct pconn;

struct pside {
	uv_tcp_t h;
	struct pconn *c;
	struct pside *peer;
	bool eof, reading, paused;
	size_t queued;            /* bytes written to this side, not yet done */
};

struct pconn {
	struct proxy *p;
	struct pside cli, ctr;
	uv_connect_t conn;
	uv_shutdown_t sd[2];
	int shutdowns;            /* in flight */
	int open_handles;
	bool closing;
	struct pconn *prev, *next;
};

struct pflow {
	struct plisten *l;
	uv_udp_t h;
	struct sockaddr_in client;
	uint64_t last;
	bool used, closing;
};

struct plisten {
	struct proxy *p;
	struct net_port port;
	union {
		uv_tcp_t tcp;
		uv_udp_t udp;
	} h;
	bool inited;
	struct pflow *flows;      /* UDP: PROXY_UDP_FLOWS slots */
	uint8_t *ubuf;            /* UDP receive buffer (datagrams are one read) */
};

struct proxy {
	uv_loop_t *loop;
	struct plisten *ls;
	size_t n;
	uint32_t ctr_ip;
	struct pconn *conns;
	size_t nconns;
	uv_timer_t tick;
	bool tick_inited, closing;
	size_t refs;              /* handles not yet closed */
	char *pool[POOL_MAX];
	size_t npool;
};

static char *pool_get(struct proxy *p)
{
	return p->npool ? p->pool[--p->npool] : xmalloc(READ_CHUNK);
}

static void pool_put(struct proxy *p, char *b)
{
	if (!b)
		return;
	if (p->npool < POOL_MAX)
		p->pool[p->npool++] = b;
	else
		free(b);
}

static void proxy_unref(struct proxy *p)
{
	if (--p->refs || !p->closing)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->ls[i].flows);
		free(p->ls[i].ubuf);
	}
	free(p->ls);
	while (p->npool)
		free(p->pool[--p->npool]);
	free(p);
}

static void ctr_addr(const struct proxy *p, uint16_t port, struct sockaddr_in *a)
{
	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(p->ctr_ip) };
}

/* --- TCP ------------------------------------------------------------------------ */

static void conn_closed(uv_handle_t *h)
{
	struct pside *s = h->data;
	struct pconn *c = s->c;
	struct proxy *p = c->p;

	if (--c->open_handles == 0) {
		if (c->prev)
			c->prev->next = c->next;
		else
			p->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		p->nconns--;
		free(c);
	}
	proxy_unref(p);
}

static void conn_close(struct pconn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->cli.h, conn_closed);
	uv_close((uv_handle_t *)&c->ctr.h, conn_closed);
}

/* Both directions ended and everything was delivered. */
static void conn_maybe_done(struct pconn *c)
{
	if (c->cli.eof && c->ctr.eof && !c->cli.queued && !c->ctr.queued && !c->shutdowns)
		conn_close(c);
}

struct wreq {
	uv_write_t w;
	struct pside *to;
	size_t n;
	char *base;
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct pside *s = h->data;

	(void)hint;
	b->base = pool_get(s->c->p);
	b->len = READ_CHUNK;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void side_read(struct pside *s)
{
	if (!s->reading && !s->eof && !s->c->closing && uv_read_start((uv_stream_t *)&s->h, on_alloc, on_read) == 0)
		s->reading = true;
}

static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct pside *to = r->to;
	struct pconn *c = to->c;

	to->queued -= r->n;
	pool_put(c->p, r->base);
	free(r);
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	/* backpressure released: read the side feeding this one again */
	if (to->peer->paused && to->queued <= PROXY_TCP_QUEUE / 2) {
		to->peer->paused = false;
		side_read(to->peer);
	}
	conn_maybe_done(c);
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
	struct pconn *c = r->data;

	(void)status;
	c->shutdowns--;
	if (!c->closing)
		conn_maybe_done(c);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct pside *s = st->data, *to = s->peer;
	struct pconn *c = s->c;

	if (n == 0) {
		pool_put(c->p, b->base);
		return;
	}
	if (n < 0) {
		pool_put(c->p, b->base);
		if (n != UV_EOF) {
			conn_close(c);
			return;
		}
		/* half-close: pass the EOF on once the pending bytes are out */
		s->eof = true;
		s->reading = false;
		uv_read_stop(st);
		uv_shutdown_t *sd = &c->sd[s == &c->cli ? 0 : 1];
		sd->data = c;
		if (uv_shutdown(sd, (uv_stream_t *)&to->h, on_shutdown) == 0)
			c->shutdowns++;
		conn_maybe_done(c);
		return;
	}
	struct wreq *r = xmalloc(sizeof(*r));
	uv_buf_t wb = uv_buf_init(b->base, (unsigned)n);
	r->to = to;
	r->n = (size_t)n;
	r->base = b->base;
	to->queued += (size_t)n;
	if (uv_write(&r->w, (uv_stream_t *)&to->h, &wb, 1, on_written) < 0) {
		to->queued -= (size_t)n;
		pool_put(c->p, b->base);
		free(r);
		conn_close(c);
		return;
	}
	if (to->queued > PROXY_TCP_QUEUE) {
		uv_read_stop(st);
		s->reading = false;
		s->paused = true;
	}
}

static void on_connected(uv_connect_t *r, int status)
{
	struct pconn *c = r->data;

	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);   /* the client sees a reset-like close */
		return;
	}
	uv_tcp_nodelay(&c->ctr.h, 1);
	side_read(&c->cli);
	side_read(&c->ctr);
}

static void on_accept(uv_stream_t *srv, int status)
{
	struct plisten *l = srv->data;
	struct proxy *p = l->p;
	struct pconn *c;
	struct sockaddr_in to;

	if (status < 0 || p->closing)
		return;
	c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->cli.c = c->ctr.c = c;
	c->cli.peer = &c->ctr;
	c->ctr.peer = &c->cli;
	uv_tcp_init(p->loop, &c->cli.h);
	uv_tcp_init(p->loop, &c->ctr.h);
	c->cli.h.data = &c->cli;
	c->ctr.h.data = &c->ctr;
	c->open_handles = 2;
	p->refs += 2;
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->nconns++;
	if (uv_accept(srv, (uv_stream_t *)&c->cli.h) < 0 || p->nconns > PROXY_TCP_CONNS) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->cli.h, 1);
	ctr_addr(p, l->port.ctr_port, &to);
	c->conn.data = c;
	if (uv_tcp_connect(&c->conn, &c->ctr.h, (const struct sockaddr *)&to, on_connected) < 0)
		conn_close(c);
}

/* --- UDP ------------------------------------------------------------------------- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct plisten *l = h->data;

	(void)hint;
	*b = uv_buf_init((char *)l->ubuf, 65536);
}

static void flow_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct pflow *f = h->data;

	udp_alloc((uv_handle_t *)&f->l->h.udp, hint, b);
}

static void flow_closed(uv_handle_t *h)
{
	struct pflow *f = h->data;
	struct proxy *p = f->l->p;

	f->used = f->closing = false;
	proxy_unref(p);
}

static void flow_close(struct pflow *f)
{
	if (f->used && !f->closing) {
		f->closing = true;
		uv_close((uv_handle_t *)&f->h, flow_closed);
	}
}

static void on_flow_reply(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
			  unsigned flags)
{
	struct pflow *f = u->data;
	uv_buf_t out = uv_buf_init(b->base, (unsigned)(n > 0 ? n : 0));

	(void)from;
	if (n < 0) {
		flow_close(f);
		return;
	}
	if (n == 0 && !from)
		return;
	if (flags & UV_UDP_PARTIAL)
		return;
	f->last = uv_now(u->loop);
	uv_udp_try_send(&f->l->h.udp, &out, 1, (const struct sockaddr *)&f->client);
}

static struct pflow *flow_for(struct plisten *l, const struct sockaddr_in *from)
{
	struct proxy *p = l->p;
	struct pflow *free_slot = NULL;
	struct sockaddr_in to;

	for (size_t i = 0; i < PROXY_UDP_FLOWS; i++) {
		struct pflow *f = &l->flows[i];
		if (f->used && !f->closing && f->client.sin_addr.s_addr == from->sin_addr.s_addr &&
		    f->client.sin_port == from->sin_port)
			return f;
		if (!f->used && !free_slot)
			free_slot = f;
	}
	if (!free_slot)
		return NULL;   /* the cap: new flows wait until idle ones expire */
	free_slot->l = l;
	free_slot->client = *from;
	free_slot->used = true;
	uv_udp_init(p->loop, &free_slot->h);
	free_slot->h.data = free_slot;
	p->refs++;
	ctr_addr(p, l->port.ctr_port, &to);
	if (uv_udp_connect(&free_slot->h, (const struct sockaddr *)&to) < 0 ||
	    uv_udp_recv_start(&free_slot->h, flow_alloc, on_flow_reply) < 0) {
		flow_close(free_slot);
		return NULL;
	}
	return free_slot;
}

static void on_udp(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		   unsigned flags)
{
	struct plisten *l = u->data;
	struct pflow *f;
	uv_buf_t out;

	if (n < 0 || !from || from->sa_family != AF_INET || (flags & UV_UDP_PARTIAL) || l->p->closing)
		return;
	if (!(f = flow_for(l, (const struct sockaddr_in *)from)))
		return;
	f->last = uv_now(u->loop);
	out = uv_buf_init(b->base, (unsigned)n);
	uv_udp_try_send(&f->h, &out, 1, NULL);
}

static void on_tick(uv_timer_t *t)
{
	struct proxy *p = t->data;
	uint64_t now = uv_now(p->loop);

	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; p->ls[i].flows && k < PROXY_UDP_FLOWS; k++)
			if (p->ls[i].flows[k].used && now - p->ls[i].flows[k].last >= PROXY_UDP_IDLE_MS)
				flow_close(&p->ls[i].flows[k]);
}

/* --- start / close ------------------------------------------------------------------ */

static void listener_closed(uv_handle_t *h)
{
	struct plisten *l = h->data;
	proxy_unref(l->p);
}

static void timer_closed(uv_handle_t *h)
{
	proxy_unref(h->data);
}

static int bind_one(struct proxy *p, struct plisten *l, struct err *e)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(l->port.host_port),
				 .sin_addr.s_addr = htonl(l->port.host_ip) };
	struct sockaddr_storage got;
	int len = sizeof(got), rc;
	char ip[NET_IP_STRLEN];
	uv_handle_t *h;

	net_ip_format(l->port.host_ip, ip);
	if (l->port.proto == NET_TCP) {
		uv_tcp_init(p->loop, &l->h.tcp);
		h = (uv_handle_t *)&l->h.tcp;
	} else {
		uv_udp_init(p->loop, &l->h.udp);
		h = (uv_handle_t *)&l->h.udp;
	}
	h->data = l;
	l->inited = true;
	p->refs++;
	if (l->port.proto == NET_TCP) {
		rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&a, 0);
		if (rc == 0)
			rc = uv_listen((uv_stream_t *)&l->h.tcp, 511, on_accept);
		if (rc == 0)
			rc = uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&got, &len);
	} else {
		l->flows = xcalloc(PROXY_UDP_FLOWS, sizeof(*l->flows));
		l->ubuf = xmalloc(65536);
		rc = uv_udp_bind(&l->h.udp, (const struct sockaddr *)&a, 0);
		if (rc == 0)
			rc = uv_udp_recv_start(&l->h.udp, udp_alloc, on_udp);
		if (rc == 0)
			rc = uv_udp_getsockname(&l->h.udp, (struct sockaddr *)&got, &len);
	}
	if (rc < 0)
		return err_set(e, rc, "publishing %s:%u/%s: %s", ip, l->port.host_port,
			       net_proto_name(l->port.proto), uv_strerror(rc));
	l->port.host_port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	return 0;
}

int proxy_start(uv_loop_t *loop, struct net_port *v, size_t n, uint32_t ctr_ip,
		struct proxy **out, struct err *e)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	int rc = 0;

	p->loop = loop;
	p->ctr_ip = ctr_ip;
	p->ls = xcalloc(n + 1, sizeof(*p->ls));
	p->n = n;
	uv_timer_init(loop, &p->tick);
	p->tick.data = p;
	p->tick_inited = true;
	p->refs = 1;
	uv_timer_start(&p->tick, on_tick, UDP_TICK_MS, UDP_TICK_MS);
	uv_unref((uv_handle_t *)&p->tick);
	for (size_t i = 0; i < n && rc == 0; i++) {
		p->ls[i].p = p;
		p->ls[i].port = v[i];
		rc = bind_one(p, &p->ls[i], e);
		v[i].host_port = p->ls[i].port.host_port;
	}
	if (rc < 0) {
		proxy_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void proxy_close(struct proxy *p)
{
	if (!p || p->closing)
		return;
	p->closing = true;
	for (struct pconn *c = p->conns; c; c = c->next)
		conn_close(c);
	for (size_t i = 0; i < p->n; i++) {
		struct plisten *l = &p->ls[i];
		for (size_t k = 0; l->flows && k < PROXY_UDP_FLOWS; k++)
			flow_close(&l->flows[k]);
		if (l->inited)
			uv_close((uv_handle_t *)&l->h, listener_closed);
	}
	uv_close((uv_handle_t *)&p->tick, timer_closed);
}

/* The network helper role, `container-network NAME` (`container
 * network-helper NAME`): one process per network in use, started by the
 * first runtime that needs it (network_helper_ensure) and holding
 * $RUN/network-<name>.lock for its life.  It serves DNS on the gateway
 * address, port 53 (UDP, and TCP for clients that retry there: at most
 * TCP_CLIENTS_MAX connections, each closed after TCP_IDLE_MS idle): the network's container names from its state
 * file (net/network.h), decided by net/dns.c; everything else is relayed
 * to the host's first resolver in /etc/resolv.conf (never on --internal
 * networks).  It exits on SIGTERM (`network rm`), when the network is
 * deleted, or after IDLE_MS without a running container on it.
 *
 * The bridge and the TAPs are not its business: the runtime makes the
 * bridge (idempotent) and its own TAP, so a helper crash costs DNS only,
 * and the next runtime start brings it back.  On macOS it also runs the
 * network's vmnet interface and switches the VMs' frames (net/vmnet.h),
 * which are then lost with it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <uv.h>

#include "applets/apinet.h"
#include "applets/applets.h"
#include "applets/bundle.h"
#include "applets/network.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "net/dns.h"
#include "net/network.h"
#include "net/vmnet.h"

#define IDLE_MS 30000           /* $CONTAINER_NETWORK_IDLE_MS overrides (tests) */
#define TICK_MS 2000
#define PENDING_MAX 256
#define UPSTREAM_TIMEOUT_MS 5000
#define TCP_CLIENTS_MAX 64
#define TCP_IDLE_MS 10000
#define TCP_RX (2 + 65535)      /* one length-prefixed message at most */

struct helper;

/* A DNS-over-TCP client.  gen changes on every reuse of the slot, so an
 * upstream answer for a connection that went away is dropped. */
struct tclient {
	struct helper *h;
	uv_tcp_t t;
	uv_timer_t idle;
	uint8_t *rx;
	size_t rxn;
	unsigned gen;
	int handles;              /* open libuv handles; slot free at 0 */
	bool used, closing;
};

struct pending {
	bool used;
	uint16_t client_id, our_id;
	struct sockaddr_in client;
	uint64_t deadline;
	struct tclient *tc;       /* answer over TCP, or NULL: UDP */
	unsigned gen;
};

struct helper {
	uv_loop_t loop;
	uv_udp_t srv, up;
	uv_tcp_t tsrv;
	struct tclient tcs[TCP_CLIENTS_MAX];
	uv_timer_t tick;
	uv_signal_t term, intr;
	const char *name;
	struct buf path;
	ino_t ino;                /* every atomic write is a new inode */
	time_t mtime;
	uint64_t members_seen;     /* members_print() when the names were read */
	struct net_network net;
	struct dns_name_entry *names;
	size_t n_names;
	json_t *aliases;          /* holds the alias strings names[] points at */
	json_t *multi;            /* "<ip>": [its other networks], multi-homed members */
	bool have_up;
	struct sockaddr_in upstream;
	struct pending pend[PENDING_MAX];
	uint16_t next_id;
	uint64_t idle_since, idle_ms;
	uint8_t rx[DNS_UDP_MAX], tx[DNS_UDP_MAX];
	struct vmnet *vmnet;      /* macOS: the frame switch (net/vmnet.h) */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int run_path(const char *name, const char *ext, struct buf *out, struct err *e)
{
	int rc;

	if ((rc = paths_run_dir(out, e)) < 0)
		return rc;
	buf_printf(out, "/network-%s.%s", name, ext);
	return 0;
}

/* The names DNS answers for network n: each member's name, and its
 * aliases on n (Docker's EndpointsConfig Aliases, in the bundle's
 * "network", see applets/network.h), appended to *names (*count of them;
 * the strings borrowed from n and from keep, an array holding the
 * aliases).  multi, when not NULL, gets "<ip>": [other networks] for each
 * member on more than one network.  0 when every member's bundle could be
 * read. */
static int names_of_net(const struct net_network *n, struct dns_name_entry **names,
			size_t *count, json_t *keep, json_t *multi)
{
	size_t cap = *count + n->n_members + 1, k = *count;
	int missing = 0;

	*names = xreallocarray(*names, cap, sizeof(**names));
	for (size_t i = 0; i < n->n_members; i++) {
		struct bundle_config bc;
		struct err e = ERR_INIT;
		const json_t *al, *ep;
		json_t *a, *others;
		size_t j;
		(*names)[k++] = (struct dns_name_entry){ n->members[i].name, n->members[i].id,
							 n->members[i].ip };
		if (bundle_config_load(n->members[i].id, &bc, &e) < 0) {
			missing = 1;
			continue;
		}
		ep = network_endpoint(bc.network, n->name);
		/* attached but not yet in the bundle (connect writes the network
		 * first): read again on the next tick */
		if (!ep)
			missing = 1;
		al = json_object_get(ep, "aliases");
		if (json_is_array(al) && json_array_size(al) <= APINET_ALIASES_MAX) {
			*names = xreallocarray(*names, cap + json_array_size(al), sizeof(**names));
			cap += json_array_size(al);
			json_array_foreach(al, j, a) {
				if (!json_is_string(a))
					continue;
				/* kept alive by keep for the names' lifetime */
				json_array_append(keep, a);
				(*names)[k++] = (struct dns_name_entry){ json_string_value(a), NULL,
									 n->members[i].ip };
			}
		}
		if (multi && ep && json_array_size(json_object_get(bc.network, "more"))) {
			char ip[NET_IP_STRLEN];
			others = json_array();
			if (strcmp(jsonx_str(bc.network, "name"), n->name) != 0)
				json_array_append_new(others,
						      json_string(jsonx_str(bc.network, "name")));
			json_array_foreach(json_object_get(bc.network, "more"), j, a)
				if (jsonx_str(a, "name") && strcmp(jsonx_str(a, "name"), n->name))
					json_array_append_new(others,
							      json_string(jsonx_str(a, "name")));
			net_ip_format(n->members[i].ip, ip);
			json_object_set_new(multi, ip, others);
		}
		bundle_config_free(&bc);
	}
	*count = k;
	return missing;
}

static int member_names(struct helper *h)
{
	h->aliases = json_array();
	json_decref(h->multi);
	h->multi = json_object();
	h->names = NULL;
	h->n_names = 0;
	return names_of_net(&h->net, &h->names, &h->n_names, h->aliases, h->multi);
}

/* A client on this and other networks resolves the names of all of them
 * (Docker's embedded DNS answers for every network of the asking
 * container).  The other networks' names are read at the query, their
 * files being nobody's to watch here; *z is the zone to answer from, whose extra
 * names are freed by zone_done. */
struct zone_extra {
	struct dns_name_entry *names;
	struct net_network nets[NETWORK_NICS_MAX];
	size_t n_nets;
	json_t *keep;
};

static void zone_for(struct helper *h, uint32_t client, struct dns_zone *z,
		     struct zone_extra *x)
{
	const json_t *others;
	char ip[NET_IP_STRLEN];
	json_t *o;
	size_t i, n = h->n_names;

	*x = (struct zone_extra){ 0 };
	*z = (struct dns_zone){ h->names, h->n_names, h->net.gateway, "test", h->net.internal };
	/* the asker's other networks, read with the names (refresh sees a
	 * connect, which rewrites the member's bundle) */
	net_ip_format(client, ip);
	if (!json_array_size(others = json_object_get(h->multi, ip)))
		return;
	x->keep = json_array();
	x->names = xcalloc(n ? n : 1, sizeof(*x->names));
	memcpy(x->names, h->names, n * sizeof(*x->names));
	json_array_foreach(others, i, o) {
		struct err e = ERR_INIT;
		if (x->n_nets >= NETWORK_NICS_MAX || !json_is_string(o) ||
		    net_load(json_string_value(o), &x->nets[x->n_nets], &e) < 0)
			continue;
		names_of_net(&x->nets[x->n_nets++], &x->names, &n, x->keep, NULL);
	}
	z->v = x->names;
	z->n = n;
}

static void zone_done(struct zone_extra *x)
{
	free(x->names);
	for (size_t i = 0; i < x->n_nets; i++)
		net_network_free(&x->nets[i]);
	json_decref(x->keep);
}

/* A fingerprint of the members' config.json files (inode and mtime): a
 * connect or rename rewrites a bundle after the network's file, so a name
 * read in between would stay stale until the network file changed again. */
static uint64_t members_print(const struct net_network *n)
{
	uint64_t f = 1469598103934665603ull;

	for (size_t i = 0; i < n->n_members; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		struct err e = ERR_INIT;
		struct stat st;
		if (bundle_path(n->members[i].id, "config.json", &p, &e) < 0 ||
		    stat(buf_str(&p), &st) < 0)
			continue;
		f = (f ^ (uint64_t)st.st_ino) * 1099511628211ull;
		f = (f ^ (uint64_t)FS_MTIME(st).tv_sec) * 1099511628211ull;
		f = (f ^ (uint64_t)FS_MTIME(st).tv_nsec) * 1099511628211ull;
	}
	return f;
}

/* Reload the network's names when its file or a member's bundle changed;
 * 1 when it is gone. */
static int refresh(struct helper *h)
{
	struct stat st;
	struct err e = ERR_INIT;
	struct net_network n;

	if (stat(buf_str(&h->path), &st) < 0)
		return errno == ENOENT ? 1 : 0;
	if (st.st_ino == h->ino && st.st_mtime == h->mtime &&
	    members_print(&h->net) == h->members_seen)
		return 0;
	if (net_load(h->name, &n, &e) < 0) {
		log_warn("network-helper %s: %s (keeping the old names)", h->name, e.msg);
		return e.code == -ENOENT;
	}
	net_network_free(&h->net);
	h->net = n;
	free(h->names);
	json_decref(h->aliases);
	/* a member's bundle may not be written yet (create attaches first):
	 * then read again on the next tick rather than miss its aliases */
	h->members_seen = members_print(&h->net);
	if (member_names(h) == 0) {
		h->ino = st.st_ino;
		h->mtime = st.st_mtime;
	}
	return 0;
}

/* The host's first IPv4 resolver that is not ourselves. */
static void find_upstream(struct helper *h)
{
	_cleanup_buf_ struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	char *line, *save = NULL;

	if (fs_read_file("/etc/resolv.conf", &text, 1 << 16, &e) < 0 || !text.data)
		return;
	for (line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[64];
		uint32_t ip;
		if (sscanf(line, " nameserver %63s", addr) != 1 || net_ip_parse(addr, &ip, &e) < 0)
			continue;
		if (ip == h->net.gateway)
			continue;
		h->upstream = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(53),
						     .sin_addr.s_addr = htonl(ip) };
		h->have_up = true;
		return;
	}
}

static void send_to(uv_udp_t *u, const void *p, size_t n, const struct sockaddr_in *to)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);

	/* UDP: a full socket buffer drops the datagram, as the network would */
	uv_udp_try_send(u, &b, 1, (const struct sockaddr *)to);
}

static void forward(struct helper *h, const uint8_t *p, size_t n, const struct sockaddr_in *from,
		    struct tclient *tc)
{
	uint64_t now = now_ms();
	struct pending *slot = NULL;

	if (!h->have_up || n < DNS_HDR)
		return;
	for (int i = 0; i < PENDING_MAX && !slot; i++)
		if (!h->pend[i].used || h->pend[i].deadline < now)
			slot = &h->pend[i];
	if (!slot)
		return;   /* too many outstanding: the client retries */
	*slot = (struct pending){ true, (uint16_t)(p[0] << 8 | p[1]), 0,
				  from ? *from : (struct sockaddr_in){ 0 }, now + UPSTREAM_TIMEOUT_MS,
				  tc, tc ? tc->gen : 0 };
	if (n > sizeof(h->tx))
		return;
	/* our own ids, so two clients' equal ids never collide upstream */
	slot->our_id = (uint16_t)(h->next_id++ * 251u + (unsigned)(slot - h->pend));
	memcpy(h->tx, p, n);
	h->tx[0] = (uint8_t)(slot->our_id >> 8);
	h->tx[1] = (uint8_t)slot->our_id;
	send_to(&h->up, h->tx, n, &h->upstream);
}

static void on_alloc(uv_handle_t *u, size_t hint, uv_buf_t *b)
{
	struct helper *h = u->data;

	(void)hint;
	*b = uv_buf_init((char *)h->rx, sizeof(h->rx));
}

static void on_query(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		     unsigned flags)
{
	struct helper *h = u->data;
	struct dns_zone z;
	struct zone_extra x;
	size_t len = 0;
	enum dns_action act;

	if (n <= 0 || !from || from->sa_family != AF_INET || (flags & UV_UDP_PARTIAL))
		return;
	refresh(h);
	zone_for(h, ntohl(((const struct sockaddr_in *)from)->sin_addr.s_addr), &z, &x);
	act = dns_respond(&z, (const uint8_t *)b->base, (size_t)n, h->tx, sizeof(h->tx), &len);
	zone_done(&x);
	switch (act) {
	case DNS_REPLY:
		send_to(u, h->tx, len, (const struct sockaddr_in *)from);
		break;
	case DNS_FORWARD:
		forward(h, (const uint8_t *)b->base, (size_t)n, (const struct sockaddr_in *)from, NULL);
		break;
	case DNS_DROP:
		break;
	}
}

/* --- DNS over TCP (RFC 7766): two-byte length, then the message ----------- */

static void tc_closed(uv_handle_t *u)
{
	struct tclient *tc = u->data;

	if (--tc->handles == 0) {
		free(tc->rx);
		tc->rx = NULL;
		tc->used = tc->closing = false;
	}
}

static void tc_close(struct tclient *tc)
{
	if (tc->closing)
		return;
	tc->closing = true;
	uv_close((uv_handle_t *)&tc->t, tc_closed);
	uv_close((uv_handle_t *)&tc->idle, tc_closed);
}

static void tc_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);   /* the request and its bytes are one allocation */
}

static void tcp_send(struct tclient *tc, const uint8_t *p, size_t n)
{
	uv_write_t *w;
	uint8_t *d;
	uv_buf_t b;

	if (n > 65535)
		return;
	w = xmalloc(sizeof(*w) + 2 + n);
	d = (uint8_t *)(w + 1);
	d[0] = (uint8_t)(n >> 8);
	d[1] = (uint8_t)n;
	memcpy(d + 2, p, n);
	b = uv_buf_init((char *)d, (unsigned)(n + 2));
	if (uv_write(w, (uv_stream_t *)&tc->t, &b, 1, tc_written) < 0) {
		free(w);
		tc_close(tc);
	}
}

static void tc_idle(uv_timer_t *t)
{
	tc_close(t->data);
}

static void tc_alloc(uv_handle_t *u, size_t hint, uv_buf_t *b)
{
	struct tclient *tc = u->data;

	(void)hint;
	*b = uv_buf_init((char *)tc->rx + tc->rxn, (unsigned)(TCP_RX - tc->rxn));
}

static void tc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct tclient *tc = s->data;
	struct helper *h = tc->h;

	(void)b;
	if (n < 0) {
		tc_close(tc);
		return;
	}
	tc->rxn += (size_t)n;
	uv_timer_start(&tc->idle, tc_idle, TCP_IDLE_MS, 0);
	while (tc->rxn >= 2 && !tc->closing) {
		size_t len = (size_t)tc->rx[0] << 8 | tc->rx[1];
		struct dns_zone z;
		size_t out = 0;
		if (tc->rxn < 2 + len)
			break;   /* TCP_RX holds any message: the rest will come */
		struct sockaddr_in peer = { 0 };
		int plen = sizeof(peer);
		struct zone_extra x;
		enum dns_action act;
		refresh(h);
		uv_tcp_getpeername(&tc->t, (struct sockaddr *)&peer, &plen);
		zone_for(h, ntohl(peer.sin_addr.s_addr), &z, &x);
		act = dns_respond(&z, tc->rx + 2, len, h->tx, sizeof(h->tx), &out);
		zone_done(&x);
		switch (act) {
		case DNS_REPLY:
			tcp_send(tc, h->tx, out);
			break;
		case DNS_FORWARD:
			forward(h, tc->rx + 2, len, NULL, tc);
			break;
		case DNS_DROP:
			tc_close(tc);   /* no header: the stream makes no sense */
			return;
		}
		memmove(tc->rx, tc->rx + 2 + len, tc->rxn - 2 - len);
		tc->rxn -= 2 + len;
	}
}

static void free_handle(uv_handle_t *u)
{
	free(u);
}

static void on_tcp(uv_stream_t *srv, int status)
{
	struct helper *h = srv->data;
	struct tclient *tc = NULL;
	uv_tcp_t *tmp;

	if (status < 0)
		return;
	for (int i = 0; i < TCP_CLIENTS_MAX && !tc; i++)
		if (!h->tcs[i].used)
			tc = &h->tcs[i];
	if (!tc) {
		/* full: accept and close at once, so the client fails fast */
		tmp = xmalloc(sizeof(*tmp));
		uv_tcp_init(&h->loop, tmp);
		if (uv_accept(srv, (uv_stream_t *)tmp) < 0 ||
		    uv_tcp_close_reset(tmp, free_handle) < 0)
			uv_close((uv_handle_t *)tmp, free_handle);
		return;
	}
	tc->h = h;
	tc->used = true;
	tc->gen++;
	tc->rxn = 0;
	tc->rx = xmalloc(TCP_RX);
	tc->handles = 2;
	uv_tcp_init(&h->loop, &tc->t);
	uv_timer_init(&h->loop, &tc->idle);
	tc->t.data = tc->idle.data = tc;
	if (uv_accept(srv, (uv_stream_t *)&tc->t) < 0 ||
	    uv_read_start((uv_stream_t *)&tc->t, tc_alloc, tc_read) < 0) {
		tc_close(tc);
		return;
	}
	uv_timer_start(&tc->idle, tc_idle, TCP_IDLE_MS, 0);
}

static void on_upstream(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
			unsigned flags)
{
	struct helper *h = u->data;
	const struct sockaddr_in *f = (const struct sockaddr_in *)from;
	uint8_t *p = (uint8_t *)b->base;
	uint16_t id;

	if (n < DNS_HDR || !from || from->sa_family != AF_INET || (flags & UV_UDP_PARTIAL) ||
	    f->sin_addr.s_addr != h->upstream.sin_addr.s_addr || f->sin_port != h->upstream.sin_port ||
	    !(p[2] & 0x80))
		return;
	id = (uint16_t)(p[0] << 8 | p[1]);
	for (int i = 0; i < PENDING_MAX; i++) {
		struct pending *s = &h->pend[i];
		if (s->used && s->our_id == id) {
			p[0] = (uint8_t)(s->client_id >> 8);
			p[1] = (uint8_t)s->client_id;
			if (!s->tc)
				send_to(&h->srv, p, (size_t)n, &s->client);
			else if (s->tc->used && !s->tc->closing && s->tc->gen == s->gen)
				tcp_send(s->tc, p, (size_t)n);
			s->used = false;
			return;
		}
	}
}

static void stop_loop(struct helper *h)
{
	uv_stop(&h->loop);
}

static bool any_running(struct helper *h)
{
	for (size_t i = 0; i < h->net.n_members; i++) {
		struct bundle_state st;
		struct err e = ERR_INIT;
		if (bundle_state_load(h->net.members[i].id, &st, &e) == 0 &&
		    st.status == BUNDLE_RUNNING && st.runtime_pid > 0 &&
		    kill((pid_t)st.runtime_pid, 0) == 0)
			return true;
	}
	return false;
}

static void on_tick(uv_timer_t *t)
{
	struct helper *h = t->data;
	uint64_t now = now_ms();

	if (refresh(h) == 1) {
		log_debug("network-helper %s: the network is gone", h->name);
		stop_loop(h);
		return;
	}
	if (any_running(h))
		h->idle_since = now;
	else if (now - h->idle_since >= h->idle_ms)
		stop_loop(h);
}

static void on_term(uv_signal_t *s, int signo)
{
	(void)signo;
	stop_loop(s->data);
}

static void close_cb(uv_handle_t *u)
{
	(void)u;
}

static void walk_close(uv_handle_t *u, void *arg)
{
	(void)arg;
	if (!uv_is_closing(u))
		uv_close(u, close_cb);
}

static int serve(struct helper *h, struct err *e)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	int rc;

	uv_timer_init(&h->loop, &h->tick);
	h->tick.data = h;
	uv_timer_start(&h->tick, on_tick, TICK_MS, TICK_MS);
	uv_signal_init(&h->loop, &h->term);
	uv_signal_init(&h->loop, &h->intr);
	h->term.data = h->intr.data = h;
	uv_signal_start(&h->term, on_term, SIGTERM);
	uv_signal_start(&h->intr, on_term, SIGINT);
	a.sin_addr.s_addr = htonl(h->net.gateway);
	uv_udp_init(&h->loop, &h->srv);
	uv_udp_init(&h->loop, &h->up);
	h->srv.data = h->up.data = h;
	if ((rc = uv_udp_bind(&h->srv, (const struct sockaddr *)&a, 0)) < 0)
		return err_set(e, rc, "DNS on %s:53: %s", inet_ntoa(a.sin_addr), uv_strerror(rc));
	uv_tcp_init(&h->loop, &h->tsrv);
	h->tsrv.data = h;
	if ((rc = uv_tcp_bind(&h->tsrv, (const struct sockaddr *)&a, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&h->tsrv, 64, on_tcp)) < 0)
		return err_set(e, rc, "DNS over TCP on %s:53: %s", inet_ntoa(a.sin_addr),
			       uv_strerror(rc));
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	a.sin_port = 0;
	if ((rc = uv_udp_bind(&h->up, (const struct sockaddr *)&a, 0)) < 0)
		return err_set(e, rc, "upstream socket: %s", uv_strerror(rc));
	uv_udp_recv_start(&h->srv, on_alloc, on_query);
	uv_udp_recv_start(&h->up, on_alloc, on_upstream);
	return 0;
}

/* With a vmnet switch the helper carries the VMs' frames, which matter
 * more than names: if the gateway's port 53 is taken (macOS's own DNS
 * proxy for shared networking may hold it), keep switching without DNS. */
static bool dns_optional(struct helper *h, struct err *e)
{
	if (!h->vmnet)
		return false;
	log_warn("network-helper %s: %s; container names will not resolve", h->name, e->msg);
	err_clear(e);
	return true;
}

static int helper_run(const struct cmd *c, void *o, int argc, char **argv)
{
	struct helper *h = xcalloc(1, sizeof(*h));
	_cleanup_buf_ struct buf lockp = BUF_INIT, pidp = BUF_INIT, pid = BUF_INIT;
	struct err e = ERR_INIT;
	int lockfd = -1, rc = EXIT_FAIL;

	(void)c;
	(void)o;
	(void)argc;
	h->name = argv[0];
	signal(SIGPIPE, SIG_IGN);
	if (run_path(h->name, "lock", &lockp, &e) < 0 || run_path(h->name, "pid", &pidp, &e) < 0 ||
	    net_path(h->name, &h->path, &e) < 0)
		goto out;
	{
		_cleanup_buf_ struct buf dir = BUF_INIT;
		if (paths_run_dir(&dir, &e) < 0 || fs_mkdir_p(buf_str(&dir), 0700, &e) < 0)
			goto out;
	}
	if (fs_lock(buf_str(&lockp), LOCK_EX | LOCK_NB, &lockfd, &e) < 0) {
		if (e.code == -EBUSY)
			rc = EXIT_OK;   /* another helper serves this network */
		goto out;
	}
	if (refresh(h) != 0 || !h->net.name) {
		err_set(&e, -ENOENT, "no such network: %s", h->name);
		goto out;
	}
	find_upstream(h);
	h->idle_since = now_ms();
	{
		const char *s = getenv("CONTAINER_NETWORK_IDLE_MS");
		long v = s ? strtol(s, NULL, 10) : 0;
		h->idle_ms = v > 0 && v < 86400000 ? (uint64_t)v : IDLE_MS;
	}
	if ((rc = uv_loop_init(&h->loop)) < 0) {
		err_set(&e, rc, "event loop: %s", uv_strerror(rc));
		rc = EXIT_FAIL;
		goto out;
	}
	buf_printf(&pid, "%ld\n", (long)getpid());
	/* vmnet first (macOS): DNS binds to the gateway address it brings up */
	if (vmnet_start(&h->loop, &h->net, &h->vmnet, &e) < 0 ||
	    (serve(h, &e) < 0 && !dns_optional(h, &e)) ||
	    fs_write_atomic(buf_str(&pidp), pid.data, pid.len, 0644, &e) < 0) {
		rc = EXIT_FAIL;
	} else {
		uv_run(&h->loop, UV_RUN_DEFAULT);
		rc = EXIT_OK;
		unlink(buf_str(&pidp));
	}
	vmnet_stop(h->vmnet);
	uv_walk(&h->loop, walk_close, NULL);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_loop_close(&h->loop);
out:
	if (e.msg[0] && rc != EXIT_OK)
		fprintf(stderr, "container-network %s: %s\n", h->name, e.msg);
	if (lockfd >= 0)
		close(lockfd);
	net_network_free(&h->net);
	free(h->names);
	json_decref(h->aliases);
	json_decref(h->multi);
	buf_free(&h->path);
	free(h);
	return rc;
}

const struct cmd cmd_network_helper = {
	.name = "network-helper",
	.summary = "Role: one network's helper (DNS for its containers)",
	.usage = "NETWORK",
	.help = "Serves DNS on the network's gateway address for its containers' names and\n"
		"relays other names to the host's resolver.  Started on demand by the runtime;\n"
		"exits when the network is removed or no container has run on it for 30 s.",
	.min_args = 1,
	.max_args = 1,
	.run = helper_run,
};

/* --- lifecycle, for the runtime and `network rm` ----------------------------- */

/* The pid of the live helper, or 0: the lock is held exactly while it runs. */
static long helper_pid(const char *name)
{
	_cleanup_buf_ struct buf lockp = BUF_INIT, pidp = BUF_INIT, txt = BUF_INIT;
	struct err e = ERR_INIT;
	int fd = -1;

	if (run_path(name, "lock", &lockp, &e) < 0 || run_path(name, "pid", &pidp, &e) < 0)
		return 0;
	if (access(buf_str(&lockp), F_OK) < 0)
		return 0;
	if (fs_lock(buf_str(&lockp), LOCK_EX | LOCK_NB, &fd, &e) == 0) {
		close(fd);
		return 0;
	}
	if (fs_read_file(buf_str(&pidp), &txt, 64, &e) < 0)
		return -1;   /* starting: holds the lock, no pid yet */
	return strtol(buf_str(&txt), NULL, 10);
}

void network_helper_stop(const char *name)
{
	long pid = helper_pid(name);

	if (pid > 1)
		kill((pid_t)pid, SIGTERM);
}

int network_helper_ensure(const char *name, struct err *e)
{
	_cleanup_buf_ struct buf exe = BUF_INIT, dir = BUF_INIT, logp = BUF_INIT;
	int logfd;
	pid_t p;

	if (helper_pid(name) != 0)
		return 0;
	if (paths_self_spawn(&exe, e) < 0 || paths_run_dir(&dir, e) < 0 ||
	    fs_mkdir_p(buf_str(&dir), 0700, e) < 0 || run_path(name, "log", &logp, e) < 0)
		return e->code;
	logfd = open(buf_str(&logp), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return err_sys(e, "open %s", buf_str(&logp));
	p = fork();
	if (p < 0) {
		close(logfd);
		return err_sys(e, "fork");
	}
	if (p == 0) {
		/* a grandchild, so nobody has to reap it */
		if (fork() != 0)
			_exit(0);
		setsid();
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		char *argv[] = { (char *)"container-network", (char *)name, NULL };
		execv(buf_str(&exe), argv);
		_exit(127);
	}
	close(logfd);
	waitpid(p, NULL, 0);
	return 0;
}

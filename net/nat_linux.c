/* net/nat.h on Linux: one nf_tables table, "ip container", rebuilt
 * atomically from the list of networks in a single nfnetlink batch (add
 * the table, delete it, add it again with its chains and rules, so there
 * is never a moment without isolation).  Messages are built here; no nft
 * binary.  The rules, per network with bridge BR and subnet S:
 *
 *   chain forward  (filter, hook forward, priority 0, policy accept)
 *     internal:  iifname BR drop;  oifname BR drop
 *     otherwise: iifname BR oifname != BR oifname "ctrbr*" drop
 *   chain postrouting  (nat, hook postrouting, priority 100)
 *     not internal: ip saddr S oifname != BR masquerade
 *
 * so a network reaches the outside through the host's address, never
 * another network, and an internal one reaches nothing beyond its bridge
 * (the gateway itself, DNS, stays reachable: that is input, not forward). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "net/nat.h"

#define TABLE "container"
#define BRIDGE_PREFIX "ctrbr"
#define IFNAMSIZ_ 16   /* linux/if.h's IFNAMSIZ, without its header clashes */

struct batch {
	struct buf b;
	uint32_t seq, first_seq;
	size_t msg;               /* offset of the open message's header */
	int nmsgs;                /* messages that will be ACKed */
};

static void put(struct batch *t, const void *p, size_t n)
{
	static const char zero[4];

	buf_append(&t->b, p, n);
	buf_append(&t->b, zero, NLMSG_ALIGN(n) - n);
}

static void msg_begin(struct batch *t, int type, int flags, int family)
{
	struct nlmsghdr h = { 0, (unsigned short)type,
			      (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags), t->seq++, 0 };
	struct nfgenmsg g = { (unsigned char)family, NFNETLINK_V0, 0 };

	t->msg = t->b.len;
	t->nmsgs++;
	put(t, &h, sizeof(h));
	put(t, &g, sizeof(g));
}

static void msg_end(struct batch *t)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(t->b.data + t->msg);
	h->nlmsg_len = (unsigned)(t->b.len - t->msg);
}

static size_t attr_begin(struct batch *t, int type)
{
	struct nlattr a = { 0, (unsigned short)(type | NLA_F_NESTED) };
	size_t at = t->b.len;

	put(t, &a, sizeof(a));
	return at;
}

static void attr_end(struct batch *t, size_t at)
{
	((struct nlattr *)(t->b.data + at))->nla_len = (unsigned short)(t->b.len - at);
}

static void attr(struct batch *t, int type, const void *p, size_t n)
{
	struct nlattr a = { (unsigned short)(NLA_HDRLEN + n), (unsigned short)type };

	put(t, &a, sizeof(a));
	if (n) {
		buf_append(&t->b, p, n);
		buf_append(&t->b, "\0\0\0", NLA_ALIGN(n) - n);
	}
}

static void attr_str(struct batch *t, int type, const char *s)
{
	attr(t, type, s, strlen(s) + 1);
}

static void attr_u32(struct batch *t, int type, uint32_t v)
{
	uint32_t be = htonl(v);
	attr(t, type, &be, 4);
}

/* --- expressions ---------------------------------------------------------------- */

static size_t expr_begin(struct batch *t, const char *name)
{
	size_t el = attr_begin(t, NFTA_LIST_ELEM);
	attr_str(t, NFTA_EXPR_NAME, name);
	return el;
}

static void e_meta(struct batch *t, int key)
{
	size_t el = expr_begin(t, "meta"), d = attr_begin(t, NFTA_EXPR_DATA);
	attr_u32(t, NFTA_META_KEY, (uint32_t)key);
	attr_u32(t, NFTA_META_DREG, NFT_REG_1);
	attr_end(t, d);
	attr_end(t, el);
}

static void e_cmp(struct batch *t, int op, const void *v, size_t n)
{
	size_t el = expr_begin(t, "cmp"), d = attr_begin(t, NFTA_EXPR_DATA), x;
	attr_u32(t, NFTA_CMP_SREG, NFT_REG_1);
	attr_u32(t, NFTA_CMP_OP, (uint32_t)op);
	x = attr_begin(t, NFTA_CMP_DATA);
	attr(t, NFTA_DATA_VALUE, v, n);
	attr_end(t, x);
	attr_end(t, d);
	attr_end(t, el);
}

/* iifname/oifname ==/!= name; prefix: compare only strlen(name) bytes */
static void m_ifname(struct batch *t, int key, int op, const char *name, bool prefix)
{
	char v[IFNAMSIZ_] = { 0 };
	size_t n = strlen(name);

	memcpy(v, name, n < sizeof(v) ? n : sizeof(v) - 1);
	e_meta(t, key);
	e_cmp(t, op, v, prefix ? n : sizeof(v));
}

static void m_saddr(struct batch *t, uint32_t net, unsigned prefix)
{
	uint32_t mask = htonl(prefix ? ~0u << (32 - prefix) : 0), zero = 0, be = htonl(net);
	size_t el, d, x;

	el = expr_begin(t, "payload");
	d = attr_begin(t, NFTA_EXPR_DATA);
	attr_u32(t, NFTA_PAYLOAD_DREG, NFT_REG_1);
	attr_u32(t, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	attr_u32(t, NFTA_PAYLOAD_OFFSET, 12);
	attr_u32(t, NFTA_PAYLOAD_LEN, 4);
	attr_end(t, d);
	attr_end(t, el);
	el = expr_begin(t, "bitwise");
	d = attr_begin(t, NFTA_EXPR_DATA);
	attr_u32(t, NFTA_BITWISE_SREG, NFT_REG_1);
	attr_u32(t, NFTA_BITWISE_DREG, NFT_REG_1);
	attr_u32(t, NFTA_BITWISE_LEN, 4);
	x = attr_begin(t, NFTA_BITWISE_MASK);
	attr(t, NFTA_DATA_VALUE, &mask, 4);
	attr_end(t, x);
	x = attr_begin(t, NFTA_BITWISE_XOR);
	attr(t, NFTA_DATA_VALUE, &zero, 4);
	attr_end(t, x);
	attr_end(t, d);
	attr_end(t, el);
	e_cmp(t, NFT_CMP_EQ, &be, 4);
}

static void v_drop(struct batch *t)
{
	size_t el = expr_begin(t, "immediate"), d = attr_begin(t, NFTA_EXPR_DATA), x, v;
	attr_u32(t, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	x = attr_begin(t, NFTA_IMMEDIATE_DATA);
	v = attr_begin(t, NFTA_DATA_VERDICT);
	attr_u32(t, NFTA_VERDICT_CODE, NF_DROP);
	attr_end(t, v);
	attr_end(t, x);
	attr_end(t, d);
	attr_end(t, el);
}

static void v_masq(struct batch *t)
{
	attr_end(t, expr_begin(t, "masq"));
}

/* --- objects ---------------------------------------------------------------------- */

static void table(struct batch *t, int type, int flags)
{
	msg_begin(t, NFNL_SUBSYS_NFTABLES << 8 | type, flags, NFPROTO_IPV4);
	attr_str(t, NFTA_TABLE_NAME, TABLE);
	msg_end(t);
}

static void chain(struct batch *t, const char *name, const char *kind, int hook, int prio)
{
	size_t h;

	msg_begin(t, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFPROTO_IPV4);
	attr_str(t, NFTA_CHAIN_TABLE, TABLE);
	attr_str(t, NFTA_CHAIN_NAME, name);
	h = attr_begin(t, NFTA_CHAIN_HOOK);
	attr_u32(t, NFTA_HOOK_HOOKNUM, (uint32_t)hook);
	attr_u32(t, NFTA_HOOK_PRIORITY, (uint32_t)prio);
	attr_end(t, h);
	attr_str(t, NFTA_CHAIN_TYPE, kind);
	attr_u32(t, NFTA_CHAIN_POLICY, NF_ACCEPT);
	msg_end(t);
}

static size_t rule_begin(struct batch *t, const char *chain_name)
{
	msg_begin(t, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
		  NFPROTO_IPV4);
	attr_str(t, NFTA_RULE_TABLE, TABLE);
	attr_str(t, NFTA_RULE_CHAIN, chain_name);
	return attr_begin(t, NFTA_RULE_EXPRESSIONS);
}

static void rule_end(struct batch *t, size_t exprs)
{
	attr_end(t, exprs);
	msg_end(t);
}

static void build(struct batch *t, const struct nat_net *v, size_t n)
{
	struct nlmsghdr h = { 0, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, t->seq++, 0 };
	struct nfgenmsg g = { AF_UNSPEC, NFNETLINK_V0, htons(NFNL_SUBSYS_NFTABLES) };
	size_t x;

	t->msg = t->b.len;
	put(t, &h, sizeof(h));
	put(t, &g, sizeof(g));
	msg_end(t);
	t->first_seq = t->seq;
	table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	table(t, NFT_MSG_DELTABLE, 0);
	table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	chain(t, "forward", "filter", NF_INET_FORWARD, 0);
	chain(t, "postrouting", "nat", NF_INET_POST_ROUTING, 100);
	for (size_t i = 0; i < n; i++) {
		if (v[i].internal) {
			x = rule_begin(t, "forward");
			m_ifname(t, NFT_META_IIFNAME, NFT_CMP_EQ, v[i].bridge, false);
			v_drop(t);
			rule_end(t, x);
			x = rule_begin(t, "forward");
			m_ifname(t, NFT_META_OIFNAME, NFT_CMP_EQ, v[i].bridge, false);
			v_drop(t);
			rule_end(t, x);
			continue;
		}
		x = rule_begin(t, "forward");
		m_ifname(t, NFT_META_IIFNAME, NFT_CMP_EQ, v[i].bridge, false);
		m_ifname(t, NFT_META_OIFNAME, NFT_CMP_NEQ, v[i].bridge, false);
		m_ifname(t, NFT_META_OIFNAME, NFT_CMP_EQ, BRIDGE_PREFIX, true);
		v_drop(t);
		rule_end(t, x);
		x = rule_begin(t, "postrouting");
		m_saddr(t, v[i].subnet, v[i].prefix);
		m_ifname(t, NFT_META_OIFNAME, NFT_CMP_NEQ, v[i].bridge, false);
		v_masq(t);
		rule_end(t, x);
	}
	h = (struct nlmsghdr){ 0, NFNL_MSG_BATCH_END, NLM_F_REQUEST, t->seq++, 0 };
	t->msg = t->b.len;
	put(t, &h, sizeof(h));
	put(t, &g, sizeof(g));
	msg_end(t);
}

/* Send the batch; every message but the batch markers asks for an ACK,
 * and the kernel delivers the ACKs and errors together once the batch is
 * applied or aborted: done at the first error or when all are in. */
static int talk(struct batch *t, struct err *e)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { 2, 0 };
	char ans[8192];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER), rc = 0, acks = 0;

	if (fd < 0)
		return err_sys(e, "nf_tables: netlink socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, t->b.data, t->b.len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = err_sys(e, "nf_tables: send");
		goto out;
	}
	while (acks < t->nmsgs) {
		ssize_t n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, "nf_tables: no answer");
			goto out;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *er = NLMSG_DATA(h);
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*er)))
				continue;
			if (er->error) {
				errno = -er->error;
				rc = err_sys(e, "nf_tables: message %u of the batch refused",
					     h->nlmsg_seq - t->first_seq + 1);
				goto out;
			}
			acks++;
		}
	}
out:
	close(fd);
	return rc;
}

int nat_sync(const struct nat_net *v, size_t n, struct err *e)
{
	struct batch t = { BUF_INIT, 1, 0, 0, 0 };
	int rc;

	build(&t, v, n);
	rc = talk(&t, e);
	buf_free(&t.b);
	return rc;
}

int nat_forwarding(struct err *e)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, "/proc/sys/net/ipv4/ip_forward");
	if (write(fd, "1\n", 2) != 2) {
		int rc = err_sys(e, "enabling IPv4 forwarding");
		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* net/link.h on Linux: bridges and TAPs through rtnetlink (RTM_NEWLINK,
 * RTM_NEWADDR, RTM_DELLINK) and /dev/net/tun.  Messages are built in a
 * fixed buffer with bounds checks; every request asks for an ACK and its
 * error is returned with the kernel's errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lib/err.h"
#include "net/link.h"

#define NL_BUF 1024

struct nlreq {
	union {
		struct nlmsghdr h;
		char raw[NL_BUF];
	} u;
	int overflow;
};

static void *nl_tail(struct nlreq *r)
{
	return r->u.raw + NLMSG_ALIGN(r->u.h.nlmsg_len);
}

static void nl_init(struct nlreq *r, int type, int flags)
{
	memset(r, 0, sizeof(*r));
	r->u.h.nlmsg_len = NLMSG_LENGTH(0);
	r->u.h.nlmsg_type = (unsigned short)type;
	r->u.h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	r->u.h.nlmsg_seq = 1;
}

static void *nl_put(struct nlreq *r, const void *p, size_t n)
{
	size_t at = NLMSG_ALIGN(r->u.h.nlmsg_len);
	void *dst = r->u.raw + at;

	if (at + NLMSG_ALIGN(n) > sizeof(r->u.raw)) {
		r->overflow = 1;
		return NULL;
	}
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
	r->u.h.nlmsg_len = (unsigned)(at + n);
	return dst;
}

static struct rtattr *nl_attr(struct nlreq *r, int type, const void *p, size_t n)
{
	struct rtattr a = { (unsigned short)RTA_LENGTH(n), (unsigned short)type };
	struct rtattr *at = nl_tail(r);

	if (!nl_put(r, &a, sizeof(a)) || (n && !nl_put(r, p, n)))
		return NULL;
	at->rta_len = (unsigned short)RTA_LENGTH(n);
	return at;
}

static void nl_attr_end(struct nlreq *r, struct rtattr *nest)
{
	if (nest)
		nest->rta_len = (unsigned short)(r->u.raw + r->u.h.nlmsg_len - (char *)nest);
}

/* Send r and wait for its ACK; the kernel's error as -errno. */
static int nl_talk(struct nlreq *r, const char *what, struct err *e)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char ans[4096];
	int fd, rc = 0;
	ssize_t n;

	if (r->overflow)
		return err_set(e, -EOVERFLOW, "%s: netlink message too long", what);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return err_sys(e, "%s: netlink socket", what);
	if (sendto(fd, r->u.raw, r->u.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = err_sys(e, "%s: netlink send", what);
		goto out;
	}
	for (;;) {
		struct nlmsghdr *h;
		n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, "%s: netlink receive", what);
			goto out;
		}
		for (h = (struct nlmsghdr *)ans; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *er = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*er))) {
					rc = err_set(e, -EBADMSG, "%s: short netlink error", what);
				} else if (er->error) {
					errno = -er->error;
					rc = err_sys(e, "%s", what);
				}
				goto out;
			}
		}
	}
out:
	close(fd);
	return rc;
}

static int ifindex(const char *name, struct err *e)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		return errno == ENODEV || errno == ENXIO ? 0 : err_sys(e, "interface %s", name);
	return (int)i;
}

int link_exists(const char *name, struct err *e)
{
	int i = ifindex(name, e);
	return i < 0 ? i : i > 0;
}

/* RTM_NEWLINK on an existing index: MTU, master, up. */
static int link_set(int index, unsigned mtu, int master, const char *what, struct err *e)
{
	struct nlreq r;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };

	nl_init(&r, RTM_NEWLINK, 0);
	nl_put(&r, &ifi, sizeof(ifi));
	if (mtu)
		nl_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	if (master > 0)
		nl_attr(&r, IFLA_MASTER, &master, sizeof(master));
	return nl_talk(&r, what, e);
}

int link_bridge_ensure(const char *bridge, uint32_t gw, unsigned prefix, unsigned mtu,
		       struct err *e)
{
	struct nlreq r;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
				 .ifa_scope = RT_SCOPE_UNIVERSE };
	uint32_t be = htonl(gw), bcast = htonl(gw | (prefix ? ~(~0u << (32 - prefix)) : ~0u));
	struct rtattr *li;
	int idx, rc;

	if (strlen(bridge) >= IFNAMSIZ)
		return err_set(e, -ENAMETOOLONG, "bridge name '%s' too long", bridge);
	if ((idx = ifindex(bridge, e)) < 0)
		return idx;
	if (idx == 0) {
		nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
		nl_put(&r, &ifi, sizeof(ifi));
		nl_attr(&r, IFLA_IFNAME, bridge, strlen(bridge) + 1);
		li = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
		nl_attr(&r, IFLA_INFO_KIND, "bridge", 7);
		nl_attr_end(&r, li);
		rc = nl_talk(&r, "creating the bridge", e);
		if (rc < 0 && rc != -EEXIST)
			return err_wrap(e, "%s", bridge);
		err_clear(e);
		if ((idx = ifindex(bridge, e)) <= 0)
			return idx < 0 ? idx : err_set(e, -ENODEV, "bridge %s vanished", bridge);
	}
	ifa.ifa_index = (unsigned)idx;
	nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	nl_put(&r, &ifa, sizeof(ifa));
	nl_attr(&r, IFA_LOCAL, &be, 4);
	nl_attr(&r, IFA_ADDRESS, &be, 4);
	nl_attr(&r, IFA_BROADCAST, &bcast, 4);
	if ((rc = nl_talk(&r, "the gateway address", e)) < 0 && rc != -EEXIST)
		return err_wrap(e, "%s", bridge);
	err_clear(e);
	if ((rc = link_set(idx, mtu, 0, "bringing the bridge up", e)) < 0)
		return err_wrap(e, "%s", bridge);
	return 0;
}

int link_bridge_delete(const char *bridge, struct err *e)
{
	struct nlreq r;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int idx = ifindex(bridge, e), rc;

	if (idx <= 0)
		return idx;
	ifi.ifi_index = idx;
	nl_init(&r, RTM_DELLINK, 0);
	nl_put(&r, &ifi, sizeof(ifi));
	rc = nl_talk(&r, "deleting the bridge", e);
	if (rc == -ENODEV) {
		err_clear(e);
		return 0;
	}
	return rc < 0 ? err_wrap(e, "%s", bridge) : 0;
}

int link_tap_open(const char *ifname, const char *bridge, unsigned mtu, int *fd, struct err *e)
{
	struct ifreq ifr;
	int t, br, idx, rc;

	*fd = -1;
	if (strlen(ifname) >= IFNAMSIZ)
		return err_set(e, -ENAMETOOLONG, "TAP name '%s' too long", ifname);
	if ((br = ifindex(bridge, e)) <= 0)
		return br < 0 ? br : err_set(e, -ENODEV, "bridge %s does not exist", bridge);
	t = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t < 0)
		return err_sys(e, "open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	/* IFF_VNET_HDR: QEMU then offloads checksums and segmentation to the
	 * host kernel instead of emulating them per packet under TCG */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(t, TUNSETIFF, &ifr) < 0) {
		rc = err_sys(e, "TAP %s", ifname);
		close(t);
		return rc;
	}
	if ((idx = ifindex(ifname, e)) <= 0 ||
	    (rc = link_set(idx, mtu, br, "attaching the TAP to the bridge", e)) < 0) {
		close(t);
		return idx == 0 ? err_set(e, -ENODEV, "TAP %s vanished", ifname)
				: err_wrap(e, "%s", ifname);
	}
	*fd = t;
	return 0;
}

int link_port_open(const char *ifname, const char *bridge, const char *mac, unsigned mtu, int *fd,
		   struct err *e)
{
	int rc = link_tap_open(ifname, bridge, mtu, fd, e);

	(void)mac;   /* QEMU gives it to the guest's NIC */
	return rc < 0 ? rc : LINK_PORT_TAP;
}

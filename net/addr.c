/* IPv4 addresses, CIDR, IPAM, MACs and -p parsing (net/addr.h): pure
 * functions over user input, strict so a typo is an error rather than a
 * surprising address. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "net/addr.h"

/* A decimal number of at most maxdigits digits, no sign, no leading zero
 * unless it is "0"; advances *s. */
static int decimal(const char **s, unsigned maxdigits, unsigned long *out)
{
	const char *p = *s;
	unsigned long v = 0;
	unsigned n = 0;

	while (*p >= '0' && *p <= '9' && n <= maxdigits) {
		v = v * 10 + (unsigned long)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > maxdigits || (n > 1 && **s == '0'))
		return -1;
	*s = p;
	*out = v;
	return 0;
}

static int ip_scan(const char **s, uint32_t *out)
{
	uint32_t ip = 0;
	unsigned long v;

	for (int i = 0; i < 4; i++) {
		if (i && *(*s)++ != '.')
			return -1;
		if (decimal(s, 3, &v) < 0 || v > 255)
			return -1;
		ip = ip << 8 | (uint32_t)v;
	}
	*out = ip;
	return 0;
}

int net_ip_parse(const char *s, uint32_t *out, struct err *e)
{
	const char *p = s;

	if (ip_scan(&p, out) < 0 || *p)
		return err_set(e, -EINVAL, "invalid IPv4 address '%s'", s);
	return 0;
}

void net_ip_format(uint32_t ip, char out[NET_IP_STRLEN])
{
	snprintf(out, NET_IP_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

int net_cidr_parse(const char *s, struct net_cidr *out, struct err *e)
{
	const char *p = s;
	uint32_t ip;
	unsigned long n;

	if (ip_scan(&p, &ip) < 0 || *p++ != '/' || decimal(&p, 2, &n) < 0 || *p)
		return err_set(e, -EINVAL, "invalid subnet '%s' (want A.B.C.D/N)", s);
	if (n < 8 || n > 30)
		return err_set(e, -EINVAL, "subnet '%s': the prefix must be between /8 and /30", s);
	if (ip & ~mask_of((unsigned)n))
		return err_set(e, -EINVAL, "subnet '%s' has host bits set (the network is %u.%u.%u.%u/%lu)",
			       s, (ip & mask_of((unsigned)n)) >> 24,
			       ((ip & mask_of((unsigned)n)) >> 16) & 255,
			       ((ip & mask_of((unsigned)n)) >> 8) & 255, ip & mask_of((unsigned)n) & 255, n);
	out->addr = ip;
	out->prefix = (unsigned)n;
	return 0;
}

void net_cidr_format(const struct net_cidr *c, char out[NET_IP_STRLEN + 3])
{
	char ip[NET_IP_STRLEN];

	net_ip_format(c->addr, ip);
	snprintf(out, NET_IP_STRLEN + 3, "%s/%u", ip, c->prefix);
}

bool net_cidr_contains(const struct net_cidr *c, uint32_t ip)
{
	return (ip & mask_of(c->prefix)) == c->addr;
}

bool net_cidr_overlap(const struct net_cidr *a, const struct net_cidr *b)
{
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;

	return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

uint32_t net_cidr_gateway(const struct net_cidr *c)
{
	return c->addr + 1;
}

int ipam_alloc(const struct net_cidr *c, const uint32_t *used, size_t n, uint32_t *out,
	       struct err *e)
{
	uint32_t last = c->addr | ~mask_of(c->prefix); /* broadcast */

	for (uint32_t ip = c->addr + 2; ip < last; ip++) {
		size_t i = 0;
		while (i < n && used[i] != ip)
			i++;
		if (i == n) {
			*out = ip;
			return 0;
		}
	}
	{
		char s[NET_IP_STRLEN + 3];
		net_cidr_format(c, s);
		return err_set(e, -ENOSPC, "no free address left in %s", s);
	}
}

uint32_t net_user_dns(const struct net_cidr *c, uint32_t ctr_ip)
{
	uint32_t last = (c->addr | ~mask_of(c->prefix)) - 1;

	return last == ctr_ip ? last - 1 : last;
}

void net_mac_for(uint32_t ip, char out[18])
{
	snprintf(out, 18, "02:42:%02x:%02x:%02x:%02x", (unsigned)(ip >> 24) & 255,
		 (unsigned)(ip >> 16) & 255, (unsigned)(ip >> 8) & 255, (unsigned)ip & 255);
}

bool net_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* --- -p ------------------------------------------------------------------- */

const char *net_proto_name(enum net_proto p)
{
	return p == NET_UDP ? "udp" : "tcp";
}

/* "N" or "N-M" (M >= N), each 0..65535 (0 only alone, when allow0). */
static int port_range(const char *s, size_t len, bool allow0, unsigned long *lo,
		      unsigned long *hi)
{
	char tmp[16];
	const char *p = tmp;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (decimal(&p, 5, lo) < 0 || *lo > 65535)
		return -1;
	*hi = *lo;
	if (*p == '-') {
		p++;
		if (decimal(&p, 5, hi) < 0 || *hi > 65535 || *hi < *lo || *lo == 0)
			return -1;
	}
	if (*p || (*lo == 0 && !allow0))
		return -1;
	return 0;
}

int net_port_parse(const char *s, struct net_port *v, size_t cap, size_t *n, struct err *e)
{
	const char *slash = strrchr(s, '/'), *end = slash ? slash : s + strlen(s);
	const char *colon, *hp = NULL;
	size_t hlen = 0;
	uint32_t ip = NET_DEFAULT_BIND;
	enum net_proto proto = NET_TCP;
	unsigned long hlo = 0, hhi = 0, clo, chi;

	if (slash) {
		if (!strcmp(slash + 1, "udp"))
			proto = NET_UDP;
		else if (strcmp(slash + 1, "tcp") != 0)
			return err_set(e, -EINVAL, "-p %s: the protocol must be tcp or udp", s);
	}
	/* the container part is after the last ':' */
	colon = NULL;
	for (const char *p = s; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		const char *first = memchr(s, ':', (size_t)(colon - s));
		hp = first ? first + 1 : s;
		hlen = (size_t)(colon - hp);
		if (first) {
			char a[NET_IP_STRLEN];
			const char *q = a;
			size_t alen = (size_t)(first - s);
			if (alen == 0 || alen >= sizeof(a))
				return err_set(e, -EINVAL, "-p %s: invalid host address", s);
			memcpy(a, s, alen);
			a[alen] = '\0';
			if (ip_scan(&q, &ip) < 0 || *q)
				return err_set(e, -EINVAL, "-p %s: invalid host address '%s' (IPv4 only)",
					       s, a);
		}
	}
	if (port_range(colon ? colon + 1 : s, (size_t)(end - (colon ? colon + 1 : s)), false, &clo,
		       &chi) < 0)
		return err_set(e, -EINVAL, "-p %s: invalid container port", s);
	if (hp && hlen && port_range(hp, hlen, true, &hlo, &hhi) < 0)
		return err_set(e, -EINVAL, "-p %s: invalid host port", s);
	if (hlo != 0 && hhi - hlo != chi - clo)
		return err_set(e, -EINVAL, "-p %s: the host and container ranges differ in length", s);
	if (*n + (chi - clo + 1) > cap)
		return err_set(e, -E2BIG, "-p %s: more than %zu published ports", s, cap);
	for (unsigned long i = 0; i <= chi - clo; i++)
		v[(*n)++] = (struct net_port){ ip, (uint16_t)(hlo ? hlo + i : 0),
					       (uint16_t)(clo + i), proto };
	return 0;
}

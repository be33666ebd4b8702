/* net/addr.c: IPv4 and CIDR parsing, allocation inside a subnet, MACs,
 * network names and -p specifications, including the malformed ones. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "net/addr.h"
#include "t/tap.h"

static int cidr(const char *s, struct net_cidr *c)
{
	struct err e = ERR_INIT;
	return net_cidr_parse(s, c, &e);
}

static int ports(const char *s, struct net_port *v, size_t cap, size_t *n)
{
	struct err e = ERR_INIT;
	*n = 0;
	return net_port_parse(s, v, cap, n, &e);
}

int main(void)
{
	struct err e = ERR_INIT;
	struct net_cidr c, d;
	struct net_port v[NET_PORTS_MAX];
	char s[NET_IP_STRLEN + 3], mac[18], mac2[18];
	uint32_t ip, used[300];
	size_t n;

	/* addresses */
	is_int(net_ip_parse("192.168.64.1", &ip, &e), 0, "a dotted quad parses");
	ok(ip == 0xc0a84001u, "... in host order");
	net_ip_format(ip, s);
	is_str(s, "192.168.64.1", "and formats back");
	static const char *const bad_ip[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
					      "1.2.3.4 ", "-1.2.3.4", "1..2.3", "a.b.c.d",
					      "1.2.3.4/24", "1234.1.1.1" };
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(*bad_ip); i++)
		is_int(net_ip_parse(bad_ip[i], &ip, &e), -EINVAL, "'%s' is not an address", bad_ip[i]);

	/* CIDR */
	is_int(cidr("10.1.0.0/16", &c), 0, "10.1.0.0/16 parses");
	ok(c.addr == 0x0a010000u && c.prefix == 16, "... network and prefix");
	net_cidr_format(&c, s);
	is_str(s, "10.1.0.0/16", "and formats back");
	is_int(cidr("10.1.0.1/16", &c), -EINVAL, "host bits set: refused");
	is_int(cidr("10.0.0.0/7", &c), -EINVAL, "/7 is too wide");
	is_int(cidr("10.0.0.0/31", &c), -EINVAL, "/31 holds no container");
	is_int(cidr("10.0.0.0", &c), -EINVAL, "a prefix is required");
	is_int(cidr("10.0.0.0/024", &c), -EINVAL, "a zero-padded prefix is refused");
	cidr("192.168.64.0/24", &c);
	cidr("192.168.0.0/16", &d);
	ok(net_cidr_overlap(&c, &d) && net_cidr_overlap(&d, &c), "a /24 inside a /16 overlaps, both ways");
	cidr("192.168.65.0/24", &d);
	ok(!net_cidr_overlap(&c, &d), "neighbouring /24s do not overlap");
	ok(net_cidr_contains(&c, 0xc0a840feu) && !net_cidr_contains(&c, 0xc0a84100u), "contains");
	ok(net_cidr_gateway(&c) == 0xc0a84001u, "the gateway is .1");

	/* IPAM */
	is_int(ipam_alloc(&c, NULL, 0, &ip, &e), 0, "an empty subnet allocates");
	ok(ip == 0xc0a84002u, "... .2 first");
	used[0] = 0xc0a84002u;
	used[1] = 0xc0a84004u;
	ipam_alloc(&c, used, 2, &ip, &e);
	ok(ip == 0xc0a84003u, "the lowest free address: a released .3 is reused before .5");
	for (uint32_t i = 0; i < 253; i++)
		used[i] = 0xc0a84002u + i;
	is_int(ipam_alloc(&c, used, 253, &ip, &e), -ENOSPC, "a full /24 (.2-.254) says so");
	cidr("10.0.0.0/30", &d);
	is_int(ipam_alloc(&d, NULL, 0, &ip, &e), 0, "a /30 has one container address");
	ok(ip == 0x0a000002u, "... .2");
	used[0] = ip;
	is_int(ipam_alloc(&d, used, 1, &ip, &e), -ENOSPC, "... and never hands out the broadcast");

	/* MAC */
	net_mac_for(0xc0a84002u, mac);
	is_str(mac, "02:42:c0:a8:40:02", "a MAC is 02:42 and the address, as Docker's");
	net_mac_for(0xc0a84003u, mac2);
	ok(strcmp(mac, mac2) != 0 && strlen(mac2) == 17, "... and differs per address (%s)", mac2);

	/* names */
	ok(net_name_valid("default") && net_name_valid("my_net.1-a"), "valid names");
	ok(!net_name_valid("") && !net_name_valid("-x") && !net_name_valid("a/b") &&
	   !net_name_valid("../x") && !net_name_valid("a b"), "invalid names");

	/* -p */
	is_int(ports("127.0.0.1:18080:80", v, 8, &n), 0, "ip:host:ctr");
	ok(n == 1 && v[0].host_ip == 0x7f000001u && v[0].host_port == 18080 && v[0].ctr_port == 80 &&
	   v[0].proto == NET_TCP, "... tcp 127.0.0.1:18080 -> 80");
	is_int(ports("8080:80/udp", v, 8, &n), 0, "host:ctr/udp");
	ok(n == 1 && v[0].host_ip == NET_DEFAULT_BIND && v[0].proto == NET_UDP,
	   "... bound to 127.0.0.1 by default, udp");
	is_int(ports("0.0.0.0:80:80", v, 8, &n), 0, "0.0.0.0 must be named to bind everywhere");
	ok(v[0].host_ip == 0, "... and is kept");
	is_int(ports("80", v, 8, &n), 0, "a container port alone");
	ok(n == 1 && v[0].host_port == 0 && v[0].ctr_port == 80, "... gets an ephemeral host port");
	is_int(ports("0:80", v, 8, &n), 0, "host port 0");
	ok(v[0].host_port == 0, "... is ephemeral");
	is_int(ports(":80", v, 8, &n), 0, ":ctr (docker accepts an empty host port)");
	ok(n == 1 && v[0].host_port == 0, "... ephemeral");
	is_int(ports("127.0.0.1::80", v, 8, &n), 0, "ip::ctr");
	ok(v[0].host_port == 0, "... ephemeral");
	is_int(ports("9000-9002:80-82/tcp", v, 8, &n), 0, "ranges");
	ok(n == 3 && v[2].host_port == 9002 && v[2].ctr_port == 82, "... expand pairwise");
	is_int(ports("80-82", v, 8, &n), 0, "a container range alone");
	ok(n == 3 && v[1].host_port == 0, "... each ephemeral");
	static const char *const bad_p[] = { "", "80/sctp", "80/", "x:80", "1.2.3:80:80",
					     "::1:80:80", "70000:80", "80:0", "80:70000",
					     "9000-9001:80-82", "82-80", "80:", "1:2:3:4",
					     "-1:80", "08:80", "1.2.3.4:80:80:90" };
	for (size_t i = 0; i < sizeof(bad_p) / sizeof(*bad_p); i++)
		ok(ports(bad_p[i], v, 8, &n) < 0, "-p '%s' is refused", bad_p[i]);
	is_int(ports("1000-1999:1000-1999", v, 8, &n), -E2BIG, "more ports than the cap: refused");
	ok(n == 0, "... and nothing was appended");
	return done_testing();
}

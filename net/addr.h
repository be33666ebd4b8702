/* IPv4 addresses, CIDR subnets, address allocation inside a subnet, MACs,
 * and `-p` port specifications: pure functions, no I/O.  Used by the
 * network state (net/network.c), `container run` and `container network`;
 * tested by t/unit/net_addr.c. */
#ifndef NET_ADDR_H
#define NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* Addresses are host-order uint32_t throughout (192.168.64.1 = 0xc0a84001). */
#define NET_IP_STRLEN 16

struct net_cidr {
	uint32_t addr;   /* the network address: host bits are zero */
	unsigned prefix; /* 8..30: a gateway and at least one container fit */
};

/* Dotted quad, exactly four decimal parts 0..255, no leading zeros beyond
 * "0" itself (so "010.1.1.1" is not silently octal elsewhere). */
int net_ip_parse(const char *s, uint32_t *out, struct err *e);
void net_ip_format(uint32_t ip, char out[NET_IP_STRLEN]);

/* "A.B.C.D/N" with host bits zero and N in 8..30; -EINVAL otherwise. */
int net_cidr_parse(const char *s, struct net_cidr *out, struct err *e);
void net_cidr_format(const struct net_cidr *c, char out[NET_IP_STRLEN + 3]);
bool net_cidr_contains(const struct net_cidr *c, uint32_t ip);
bool net_cidr_overlap(const struct net_cidr *a, const struct net_cidr *b);
uint32_t net_cidr_gateway(const struct net_cidr *c); /* the first host: .1 */

/* The lowest address of c that is neither the network, the gateway, the
 * broadcast address nor in used[0..n): containers get .2, .3, ...
 * -ENOSPC when the subnet is full. */
int ipam_alloc(const struct net_cidr *c, const uint32_t *used, size_t n, uint32_t *out,
	       struct err *e);

/* Rootless (QEMU user-mode) networks: the DNS relay's address, which must
 * differ from the gateway: the subnet's last host address, or the one
 * before it when that is the container's own. */
uint32_t net_user_dns(const struct net_cidr *c, uint32_t ctr_ip);

/* The MAC of the interface with address ip: 02:42:<the 4 address bytes>,
 * locally administered and unicast, as Docker's.  A function of the
 * address, so a neighbour's ARP cache entry for an address handed out
 * again (a container removed, another created) is still right: with a
 * per-container MAC, peers sent to the old one for up to 30 s. */
void net_mac_for(uint32_t ip, char out[18]);

/* Docker's name rule for networks: [a-zA-Z0-9][a-zA-Z0-9_.-]*, <= 64. */
bool net_name_valid(const char *name);

/* --- port publishing (-p) ------------------------------------------------ */

enum net_proto { NET_TCP = 1, NET_UDP = 2 };

struct net_port {
	uint32_t host_ip;    /* 0 = all addresses (only when the user says 0.0.0.0) */
	uint16_t host_port;  /* 0 = ephemeral: the kernel picks at bind time */
	uint16_t ctr_port;
	enum net_proto proto;
};

#define NET_PORTS_MAX 1024   /* published ports per container, after ranges */
#define NET_DEFAULT_BIND 0x7f000001u /* 127.0.0.1: see README "Networking" */

/* Parse one -p value, [ip:]hostport[-end]:ctrport[-end][/tcp|udp] or
 * ctrport[-end][/proto] (then the host port is ephemeral, as docker -p 80),
 * appending one entry per port to v (capacity cap, *n in/out).  Ranges
 * must have equal lengths (or a single host port 0 for a container
 * range: each ephemeral).  The bind address defaults to 127.0.0.1. */
int net_port_parse(const char *s, struct net_port *v, size_t cap, size_t *n, struct err *e);
const char *net_proto_name(enum net_proto p);

#endif

/* Outbound NAT and isolation between networks (Linux: nf_tables through
 * nfnetlink, net/nat_linux.c; macOS: vmnet does its own, net/nat_darwin.c
 * accepts and does nothing).  Called by the runtime when it brings a
 * network's bridge up and by `network rm`, with every network that
 * exists; the whole rule set is replaced atomically each time. */
#ifndef NET_NAT_H
#define NET_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

struct nat_net {
	const char *bridge;
	uint32_t subnet;     /* host order */
	unsigned prefix;
	bool internal;       /* no forwarding in or out, no masquerade */
};

/* Replace table "ip container" with the rules for v[0..n). */
int nat_sync(const struct nat_net *v, size_t n, struct err *e);

/* Turn IPv4 forwarding on (only after nat_sync succeeded: forwarding
 * without the isolation rules would connect every network). */
int nat_forwarding(struct err *e);

#endif

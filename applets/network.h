/* Networking glue between the commands and roles (applets/network*.c):
 * what `run` records in a container's bundle, what the runtime does with
 * it at start, and the per-network helper's lifecycle.
 *
 * A container's bundle (applets/bundle.h) carries "network", absent for
 * --network none:
 *   { "name": "default", "ip": "192.168.64.2", "mac": "02:…",
 *     "ports": [ { "host_ip": "127.0.0.1", "host_port": 8080,
 *                  "container_port": 80, "proto": "tcp" } ] }
 * A container on more networks has "more": [ { "name", "ip", "mac",
 * "aliases" }, … ], a NIC each after the first one's.
 * host_port 0 = ephemeral; the runtime writes the ports it actually bound
 * to ports.json in the bundle (same shape), which ls/inspect show.  A
 * "network" without "name" is no network that remembers its "ports" (a
 * container disconnected through the API, applets/apinet.h). */
#ifndef APPLETS_NETWORK_H
#define APPLETS_NETWORK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;
struct rt;
struct vm_nic;

/* Docker's bridge option for the MTU: POST /networks/create's Options
 * (what `container network create --mtu` sends). */
#define NETWORK_OPT_MTU "com.docker.network.driver.mtu"

#define NETWORK_NICS_MAX 8   /* networks per container: one NIC each */

/* The one check of that limit: n networks for one container, -E2BIG
 * "at most 8 networks per container" beyond it. */
int network_nics_check(size_t n, struct err *e);

/* `network rm NAME`: the state (refused while in use), the helper, the
 * bridge, then the NAT rules without it. */
int network_delete(const char *name, struct err *e);

/* Whether the container's bundle still exists, or its create is under
 * way (network_pending) (net_alive_fn). */
bool network_ctr_alive(const char *id, void *arg);
/* on: the address being reserved for id is in use before its bundle
 * exists; off: no longer pending (the create was undone). */
void network_pending(const char *id, bool on);

/* --- run ------------------------------------------------------------------ */

/* The networking flags of `container run`. */
struct network_run_opts {
	const char *network;     /* NULL = default; "none" */
	const char **networks_more; /* more networks (a NIC each), NULL-terminated */
	const char **publish;    /* -p values, NULL-terminated (may be NULL) */
	const char **add_host;   /* --add-host NAME:IP */
	const char **dns, **dns_search, **dns_option;
	bool no_dns;
	bool publish_all;        /* -P: every port in exposed, ephemeral */
	const json_t *exposed;   /* the image's ExposedPorts ({"80/tcp": {}}) */
	const char *hostname;    /* for the container's own /etc/hosts line */
	const json_t *had;       /* the bundle's "network" before (a connect):
				    on failure its networks stay attached */
};

/* Reserve an address for container (id, name) on each network, and fill
 * the bundle's "network" (*net_out, NULL for none) and the guest
 * document's "interfaces" (eth0 on the first network with the default
 * route, eth1… on networks_more, each with its MAC), "hosts" and "dns".
 * Undo with network_run_undo. */
int network_run_prepare(const struct network_run_opts *o, const char *id, const char *name,
			json_t *guest, json_t **net_out, struct err *e);
void network_run_undo(const json_t *net, const char *id);

/* The container's new name on each of its networks (what DNS answers). */
int network_rename(const json_t *net, const char *id, const char *name, struct err *e);

/* The bundle network's endpoint on network (the object itself for its
 * first network, an entry of "more"), or NULL. */
const json_t *network_endpoint(const json_t *net, const char *network);

/* --- runtime -------------------------------------------------------------- */

/* Rebuild the NAT and isolation rules from every network (net/nat.h). */
int network_nat_sync(struct err *e);

/* Before the VM boots, for each of the container's networks: the bridge,
 * NAT, the network helper (DNS) and a TAP for this VM; nics[i] refers to
 * tap_fds[i] (both NETWORK_NICS_MAX long), which the caller closes once
 * the VMM has its copy.  Not root: QEMU's user-mode network on the first
 * network's subnet instead (outbound only; fd -1).  Returns how many NICs
 * (0 for --network none). */
int network_runtime_nics(const json_t *net, const char *id, struct vm_nic *nics, int *tap_fds,
			 struct err *e);

/* Once the VM runs: the port proxies on loop, and ports.json.  *out is
 * released by network_runtime_stop. */
struct proxy;
struct uv_loop_s;
int network_runtime_ports(struct uv_loop_s *loop, const json_t *net, const char *id,
			  struct proxy **out, struct err *e);
void network_runtime_stop(struct proxy *p);

/* Published ports as bound (ports.json), or those asked for; new ref. */
json_t *network_ports_json(const char *id, const json_t *net);

/* --- the helper role ---------------------------------------------------- */

/* Start `container-network NAME` unless one runs for that network. */
int network_helper_ensure(const char *name, struct err *e);
/* SIGTERM the network's helper if one runs. */
void network_helper_stop(const char *name);

#endif

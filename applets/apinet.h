/* Networking through the Docker Engine API (issue #7 over #6), in
 * applets/apinet.c: what POST /containers/create asks for
 * (HostConfig.NetworkMode, PortBindings, PublishAllPorts, Dns, DnsSearch,
 * DnsOptions, ExtraHosts; ExposedPorts; NetworkingConfig.EndpointsConfig
 * and its Aliases) translated to the same network_run_prepare our `run`
 * uses (applets/network.h), and what inspect and GET /containers/json
 * show back (NetworkSettings, Ports).
 *
 * Called by applets/ctrspec.c (parse, build), applets/api_ctrjson.c
 * (inspect, list) and applets/api_network.c (connect, disconnect).
 * EndpointsConfig may name several networks: NetworkMode's (or the first)
 * is the container's first, the others its "more" (applets/network.h).
 *
 * A container's per-network aliases live in its bundle's "network" as
 * "aliases": [ "web", … ]; the network helper answers them in DNS
 * (applets/network_helper.c). */
#ifndef APPLETS_APINET_H
#define APPLETS_APINET_H

#include <stdbool.h>

#include <jansson.h>

struct bundle_config;
struct err;

#define APINET_LIST_MAX 256    /* entries in any one list of the request */
#define APINET_ALIASES_MAX 64

/* Check and extract the request's networking (req: the create body, hc:
 * its HostConfig or NULL) into *out, a new object kept in struct ctrspec.
 * No I/O.  -EINVAL with a message for the client (HTTP 400). */
int apinet_parse(const json_t *req, const json_t *hc, json_t **out, struct err *e);

/* Reserve the address and fill bc->network and the guest document (bc's
 * id, name and guest are set).  -ENOENT for a network that does not
 * exist, -EINVAL for what cannot be done here (host, container:X). */
int apinet_build(const json_t *net, struct bundle_config *bc, struct err *e);

/* Inspect's NetworkSettings and HostConfig.{NetworkMode, PortBindings};
 * the list's Ports, HostConfig and NetworkSettings.  Bound ports are
 * shown only while the container runs, as Docker does. */
void apinet_inspect(const struct bundle_config *bc, bool running, json_t *doc);
void apinet_summary(const struct bundle_config *bc, bool running, json_t *sum);

/* POST /networks/{id}/connect (connect true) and /disconnect of the
 * created (not running: the caller checks) container id.  Connecting adds
 * a network (a NIC of its own at the next start; at most NETWORK_NICS_MAX,
 * -E2BIG beyond), or replaces the aliases on one it is on; disconnecting
 * the first network makes the next one first (its default route).
 * Disconnecting keeps the published ports (Docker's PortBindings are the
 * container's) in a nameless "network" for the next connect.  The options it
 * was created with (--dns, --add-host, ports) carry over. */
int apinet_connect(const char *id, const char *network, const json_t *aliases, bool connect,
		   struct err *e);

#endif

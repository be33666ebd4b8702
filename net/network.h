/* Networks on disk: $DATA/networks/<name>.json, one file per network,
 * written atomically (lib/fs.h) under one lock ($DATA/networks/.lock) so
 * that concurrent `run`s never hand out the same address.
 *
 *   { "name": "default", "id": "<64 hex>", "created": "RFC3339",
 *     "subnet": "192.168.64.0/24", "gateway": "192.168.64.1",
 *     "internal": false, "mtu": 1500, "bridge": "ctrbr0",
 *     "labels": { "k": "v" }, "options": { "k": "v" },
 *     "containers": { "<ctr id>": { "name": "db", "ip": "192.168.64.2",
 *                                   "mac": "02:…" } } }
 *
 * An address belongs to a container from `run` (create) until the
 * container is removed: entries whose container no longer exists are
 * dropped whenever the file is next read under the lock (the caller says
 * what exists, see net_alive_fn), so `rm`, `--rm` and a crash all release.
 *
 * Used by applets/network.c (the commands and the helper role),
 * applets/run.c (attach at create) and the runtime (the TAP at start).
 * Platform-neutral. */
#ifndef NET_NETWORK_H
#define NET_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "net/addr.h"

struct buf;
struct err;

#define NET_DEFAULT_NAME "default"
#define NET_DEFAULT_SUBNET 0xc0a84000u /* 192.168.64.0/24, as Apple's container */
#define NET_MTU 1500
#define NET_MAX_NETWORKS 256
#define NET_FILE_MAX (4u << 20)

struct net_member {
	char id[65];
	char *name;
	uint32_t ip;
	char mac[18];
};

struct net_network {
	char *name;
	char id[65];
	char *created;
	struct net_cidr subnet;
	uint32_t gateway;
	bool internal;
	unsigned mtu;
	char bridge[16];
	json_t *labels;       /* owned object */
	json_t *options;      /* owned object: the driver options given at create */
	struct net_member *members;
	size_t n_members;
};

/* Does the container with this full id still exist? */
typedef bool (*net_alive_fn)(const char *ctr_id, void *arg);

void net_network_free(struct net_network *n);

/* <DATA>/networks[/<name>.json] appended to out. */
int net_path(const char *name, struct buf *out, struct err *e);

/* Read one network (no lock; a snapshot).  -ENOENT "no such network". */
int net_load(const char *name, struct net_network *out, struct err *e);
/* Every network, sorted by name; unreadable files are skipped with a
 * warning on stderr (never deleted). */
int net_load_all(struct net_network **out, size_t *n, struct err *e);
void net_free_all(struct net_network *v, size_t n);
json_t *net_to_json(const struct net_network *n);

struct net_create_opts {
	const char *subnet;   /* NULL = the next free 192.168.N.0/24 from .64 up */
	bool internal;
	json_t *labels;       /* borrowed; NULL = none */
	unsigned mtu;         /* 0 = NET_MTU; else 576..9000 */
	const json_t *options; /* borrowed; kept as given (Docker shows them back) */
};

/* Create a network: -EEXIST when the name is taken, -EINVAL for a bad
 * name or a subnet overlapping another network's. */
int net_create(const char *name, const struct net_create_opts *o, struct net_network *out,
	       struct err *e);

/* Remove the network's file once it has no (live) members: -EBUSY naming
 * them otherwise; "default" cannot be removed (-EPERM).  The bridge is the
 * caller's (net/link.h). */
int net_delete(const char *name, net_alive_fn alive, void *arg, struct net_network *out,
	       struct err *e);

/* Give container id (name) an address on network name ("default" is
 * created on first use) and fill *m and, when net is not NULL, the network.
 * Idempotent for an id already there, whose name it updates (a rename). */
int net_attach(const char *name, const char *id, const char *ctr_name, net_alive_fn alive,
	       void *arg, struct net_member *m, struct net_network *net, struct err *e);

/* Release id's address (a no-op when it has none). */
int net_detach(const char *name, const char *id, struct err *e);

/* Look a member up by name, full id or id prefix (>= 12 hex), or NULL. */
const struct net_member *net_member_find(const struct net_network *n, const char *q);

#endif

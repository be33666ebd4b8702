/* `container network create|list|inspect|delete|prune`: the networks on
 * this machine (net/network.h), their bridges (net/link.h) and their
 * helpers (applets/network_helper.c).  Like ls/rm, these read and write
 * the state directly until the API server (#6) serves /networks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/bundle.h"
#include "applets/network.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "net/link.h"
#include "net/network.h"

/* A container being created holds its address before its bundle exists
 * (the API server creates several at once): $RUN/net-pending-<id>, made
 * by network_run_prepare, dropped once the bundle is there or the create
 * is undone; one left by a create that died expires after
 * NETWORK_PENDING_MAX_S. */
#define NETWORK_PENDING_MAX_S 600

static int pending_path(const char *id, struct buf *p, struct err *e)
{
	int rc = paths_run_dir(p, e);

	if (rc == 0)
		buf_printf(p, "/net-pending-%.64s", id);
	return rc;
}

void network_pending(const char *id, bool on)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	int fd;

	if (on && paths_run_dir(&p, NULL) == 0)
		fs_mkdir_p(buf_str(&p), 0700, NULL);   /* it may not exist yet */
	buf_reset(&p);
	if (pending_path(id, &p, NULL) < 0)
		return;
	if (!on) {
		unlink(buf_str(&p));
		return;
	}
	if ((fd = open(buf_str(&p), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
}

bool network_ctr_alive(const char *id, void *arg)
{
	_cleanup_buf_ struct buf p = BUF_INIT, q = BUF_INIT;
	struct err e = ERR_INIT;
	struct stat sb;

	(void)arg;
	if (bundle_path(id, NULL, &p, &e) < 0)
		return true; /* cannot tell: keep the address */
	if (access(buf_str(&p), F_OK) == 0 || errno != ENOENT) {
		network_pending(id, false);
		return true;
	}
	return pending_path(id, &q, NULL) == 0 && stat(buf_str(&q), &sb) == 0 &&
	       time(NULL) - sb.st_mtime < NETWORK_PENDING_MAX_S;
}

static int fail(const struct cmd *c, const char *msg)
{
	fprintf(stderr, "container network %s: %s\n", c->name, msg);
	return EXIT_FAIL;
}

/* ---- create ---- */

struct create_cli {
	const char *subnet;
	int internal;
	long mtu;
	struct opt_list label;
};

static const struct opt create_optv[] = {
	OPT_STRING(0, "subnet", struct create_cli, subnet, "CIDR",
		   "IPv4 subnet, e.g. 10.10.0.0/24 (default: the next free 192.168.N.0/24)"),
	OPT_FLAG(0, "internal", struct create_cli, internal,
		 "No outbound access; DNS answers only the network's own names"),
	OPT_LIST(0, "label", struct create_cli, label, "KEY=VALUE", "Set a label"),
	OPT_INT(0, "mtu", struct create_cli, mtu, "BYTES", "MTU of the bridge and the containers' eth0 (default 1500)"),
	OPT_END,
};

static int create_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct create_cli *a = o;
	struct net_create_opts co = { a->subnet, a->internal, json_object(),
				      a->mtu > 0 && a->mtu < 100000 ? (unsigned)a->mtu : 0 };
	struct net_network n;
	struct err e = ERR_INIT;
	int rc;

	(void)argc;
	if (a->mtu && (a->mtu < 576 || a->mtu > 9000))
		return fail(c, "--mtu: want 576..9000");
	for (const char **l = a->label.v; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		_cleanup_free_ char *k = xstrndup(*l, eq ? (size_t)(eq - *l) : strlen(*l));
		if (!*k) {
			json_decref(co.labels);
			return fail(c, "invalid label");
		}
		json_object_set_new(co.labels, k, json_string(eq ? eq + 1 : ""));
	}
	rc = net_create(argv[0], &co, &n, &e);
	json_decref(co.labels);
	if (rc < 0)
		return fail(c, e.msg);
	printf("%s\n", n.name);
	net_network_free(&n);
	return EXIT_OK;
}

const struct cmd cmd_network_create = {
	.name = "create",
	.summary = "Create a network",
	.usage = "[--subnet CIDR] [--internal] [--mtu BYTES] [--label K=V] NAME",
	.opts = create_optv,
	.opts_size = sizeof(struct create_cli),
	.min_args = 1,
	.max_args = 1,
	.run = create_cmd,
};

/* ---- list ---- */

struct list_cli {
	int quiet;
	const char *format;
};

static const struct opt list_optv[] = {
	OPT_FLAG('q', "quiet", struct list_cli, quiet, "Print only the names"),
	OPT_STRING(0, "format", struct list_cli, format, "table|json", "Output format"),
	OPT_END,
};

/* The GC of members whose containers are gone happens under the lock on
 * the next change; for display, filter the same way now. */
static json_t *shown_json(const struct net_network *n)
{
	json_t *j = net_to_json(n), *m = json_object_get(j, "containers");
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(m, tmp, k, v)
		if (!network_ctr_alive(k, NULL))
			json_object_del(m, k);
	return j;
}

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	struct net_network *v;
	size_t n;
	struct err e = ERR_INIT;
	bool json = a->format && !strcmp(a->format, "json");

	(void)argc;
	(void)argv;
	if (a->format && !json && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container network %s: --format must be table or json\n", c->name);
		return EXIT_USAGE;
	}
	/* the default network always shows, as Apple's does */
	if (net_create(NET_DEFAULT_NAME, &(struct net_create_opts){ 0 }, NULL, &e) < 0 &&
	    e.code != -EEXIST)
		return fail(c, e.msg);
	err_clear(&e);
	if (net_load_all(&v, &n, &e) < 0)
		return fail(c, e.msg);
	if (json) {
		json_t *arr = json_array();
		_cleanup_buf_ struct buf out = BUF_INIT;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, shown_json(&v[i]));
		if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
			printf("%s\n", buf_str(&out));
		json_decref(arr);
	} else {
		if (!a->quiet)
			printf("%-20s %-14s %-18s %-15s %-9s %s\n", "NETWORK", "ID", "SUBNET",
			       "GATEWAY", "INTERNAL", "CONTAINERS");
		for (size_t i = 0; i < n; i++) {
			char sub[NET_IP_STRLEN + 3], gw[NET_IP_STRLEN];
			size_t live = 0;
			if (a->quiet) {
				printf("%s\n", v[i].name);
				continue;
			}
			for (size_t k = 0; k < v[i].n_members; k++)
				live += network_ctr_alive(v[i].members[k].id, NULL);
			net_cidr_format(&v[i].subnet, sub);
			net_ip_format(v[i].gateway, gw);
			printf("%-20s %-14.12s %-18s %-15s %-9s %zu\n", v[i].name, v[i].id, sub, gw,
			       v[i].internal ? "true" : "false", live);
		}
	}
	net_free_all(v, n);
	return EXIT_OK;
}

const struct cmd cmd_network_list = {
	.name = "list",
	.aliases = "ls",
	.summary = "List networks",
	.usage = "[-q] [--format table|json]",
	.opts = list_optv,
	.opts_size = sizeof(struct list_cli),
	.max_args = 0,
	.run = list_cmd,
};

/* ---- inspect ---- */

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	json_t *arr = json_array();
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		struct net_network n;
		if (net_load(argv[i], &n, &e) < 0) {
			fprintf(stderr, "container network %s: %s\n", c->name, e.msg);
			status = EXIT_FAIL;
			continue;
		}
		json_array_append_new(arr, shown_json(&n));
		net_network_free(&n);
	}
	if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
		printf("%s\n", buf_str(&out));
	json_decref(arr);
	return status;
}

const struct cmd cmd_network_inspect = {
	.name = "inspect",
	.summary = "Show networks as JSON",
	.usage = "NETWORK...",
	.min_args = 1,
	.max_args = -1,
	.run = inspect_cmd,
};

/* ---- delete / prune ---- */

/* The file first (refused while in use), then the helper and the bridge:
 * a failure after the file is gone leaves only an idle bridge, which the
 * next network with that bridge name reuses. */
int network_delete(const char *name, struct err *e)
{
	struct net_network n;
	int rc;

	if ((rc = net_delete(name, network_ctr_alive, NULL, &n, e)) < 0)
		return rc;
	network_helper_stop(n.name);
	rc = link_bridge_delete(n.bridge, e);
	net_network_free(&n);
	if (rc == 0 && geteuid() == 0) {
		struct err ne = ERR_INIT;
		if (network_nat_sync(&ne) < 0)
			fprintf(stderr, "container network: %s\n", ne.msg);
	}
	return rc;
}

static int delete_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		struct err e = ERR_INIT;
		if (network_delete(argv[i], &e) < 0) {
			fprintf(stderr, "container network %s: %s\n", c->name, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return status;
}

const struct cmd cmd_network_delete = {
	.name = "delete",
	.aliases = "rm",
	.summary = "Remove networks (refused while containers use them)",
	.usage = "NETWORK...",
	.min_args = 1,
	.max_args = -1,
	.run = delete_cmd,
};

static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct net_network *v;
	size_t n;
	struct err e = ERR_INIT;

	(void)o;
	(void)argc;
	(void)argv;
	if (net_load_all(&v, &n, &e) < 0)
		return fail(c, e.msg);
	for (size_t i = 0; i < n; i++) {
		struct err le = ERR_INIT;
		if (!strcmp(v[i].name, NET_DEFAULT_NAME))
			continue;
		if (network_delete(v[i].name, &le) == 0)
			printf("%s\n", v[i].name);
		else if (le.code != -EBUSY)
			fprintf(stderr, "container network %s: %s\n", c->name, le.msg);
	}
	net_free_all(v, n);
	return EXIT_OK;
}

const struct cmd cmd_network_prune = {
	.name = "prune",
	.summary = "Remove every network no container uses (not default)",
	.max_args = 0,
	.run = prune_cmd,
};

static const struct cmd *const network_sub[] = {
	&cmd_network_create, &cmd_network_list, &cmd_network_inspect, &cmd_network_delete,
	&cmd_network_prune, NULL,
};

const struct cmd cmd_network = {
	.name = "network",
	.summary = "Manage networks: create, list, inspect, delete, prune",
	.usage = "COMMAND [OPTIONS] [ARG...]",
	.sub = network_sub,
};

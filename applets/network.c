/* `container network create|list|inspect|delete|prune`: clients of the
 * API server's /networks endpoints (applets/api_network.c, through
 * applets/cliapi.h, auto-starting it), showing networks in net/network.h's
 * shape as they always did.  Also the server's side of a network's end
 * (network_delete: the state, the helper, the bridge, NAT) and the
 * pending-address marks of creates under way. */
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
#include "applets/cliapi.h"
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

/* POST /networks/create: Docker's request; --mtu is the bridge driver's
 * option (the server checks its range, as for docker's -o). */
static int create_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct create_cli *a = o;
	_cleanup_json_ json_t *body = NULL, *labels = NULL;
	struct err e = ERR_INIT;

	(void)argc;
	if (cliapi_kv_object("label", a->label.v, &labels, &e) < 0)
		return fail(c, e.msg);
	body = json_pack("{s:s, s:s, s:b, s:O, s:{}}", "Name", argv[0], "Driver", "bridge",
			 "Internal", a->internal, "Labels", labels, "Options");
	if (a->subnet)
		json_object_set_new(body, "IPAM", json_pack("{s:[{s:s}]}", "Config", "Subnet",
							     a->subnet));
	if (a->mtu)
		json_object_set_new(json_object_get(body, "Options"), NETWORK_OPT_MTU,
				    json_sprintf("%ld", a->mtu));
	if (cliapi_request("network", c->name, "POST", "/networks/create", body, NULL) < 0)
		return EXIT_FAIL;
	printf("%s\n", argv[0]);
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

static const char *str(const json_t *o, const char *k)
{
	const char *s = jsonx_str(o, k);

	return s ? s : "";
}

/* Docker's NetworkResource (plus our "ContainerNetwork") as this CLI has
 * always shown a network: net/network.h's file shape, live members only
 * (the server leaves out containers that are gone). */
static json_t *shown_json(const json_t *r)
{
	const json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
	const json_t *ext = json_object_get(r, "ContainerNetwork"), *x;
	const json_t *labels = json_object_get(r, "Labels"), *opts = json_object_get(r, "Options");
	json_t *m = json_object();
	const char *k;

	json_object_foreach((json_t *)json_object_get(r, "Containers"), k, x) {
		const char *ip = str(x, "IPv4Address"), *slash = strchr(ip, '/');
		json_t *ips = json_stringn(ip, slash ? (size_t)(slash - ip) : strlen(ip));
		json_object_set_new(m, k, json_pack("{s:s, s:o, s:s}", "name", str(x, "Name"), "ip",
						    ips, "mac", str(x, "MacAddress")));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:o, s:o, s:o}", "name",
			 str(r, "Name"), "id", str(r, "Id"), "created", str(r, "Created"), "subnet",
			 str(cfg, "Subnet"), "gateway", str(cfg, "Gateway"), "internal",
			 json_is_true(json_object_get(r, "Internal")), "mtu",
			 (int)jsonx_int(ext, "Mtu", NET_MTU), "bridge", str(ext, "Bridge"), "labels",
			 json_is_object(labels) ? json_incref((json_t *)labels) : json_object(),
			 "options", json_is_object(opts) ? json_incref((json_t *)opts) : json_object(),
			 "containers", m);
}

static void print_json(json_t *arr)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, NULL) == 0)
		printf("%s\n", buf_str(&out));
}

/* GET /networks (the server makes "default" first: it always shows, as
 * Apple's does). */
static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	_cleanup_json_ json_t *v = NULL, *arr = json_array();
	bool json = a->format && !strcmp(a->format, "json");
	size_t i;
	json_t *r;

	(void)argc;
	(void)argv;
	if (a->format && !json && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container network %s: --format must be table or json\n", c->name);
		return EXIT_USAGE;
	}
	if (cliapi_request("network", c->name, "GET", "/networks", NULL, &v) < 0)
		return EXIT_FAIL;
	if (!json && !a->quiet)
		printf("%-20s %-14s %-18s %-15s %-9s %s\n", "NETWORK", "ID", "SUBNET", "GATEWAY",
		       "INTERNAL", "CONTAINERS");
	json_array_foreach(v, i, r) {
		json_t *n = shown_json(r);
		if (json)
			json_array_append(arr, n);
		else if (a->quiet)
			printf("%s\n", str(n, "name"));
		else
			printf("%-20s %-14.12s %-18s %-15s %-9s %zu\n", str(n, "name"), str(n, "id"),
			       str(n, "subnet"), str(n, "gateway"),
			       json_is_true(json_object_get(n, "internal")) ? "true" : "false",
			       json_object_size(json_object_get(n, "containers")));
		json_decref(n);
	}
	if (json)
		print_json(arr);
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

static void path_of(struct buf *p, const char *what, const char *name, const char *rest)
{
	buf_printf(p, "/%s/", what);
	cliapi_escape(p, name);
	if (rest)
		buf_puts(p, rest);
}

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_json_ json_t *arr = json_array();
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		json_t *r = NULL;
		path_of(&p, "networks", argv[i], NULL);
		if (cliapi_request("network", c->name, "GET", buf_str(&p), NULL, &r) < 0) {
			status = EXIT_FAIL;
			continue;
		}
		json_array_append_new(arr, shown_json(r));
		json_decref(r);
	}
	print_json(arr);
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
		_cleanup_buf_ struct buf p = BUF_INIT;
		path_of(&p, "networks", argv[i], NULL);
		if (cliapi_request("network", c->name, "DELETE", buf_str(&p), NULL, NULL) < 0)
			status = EXIT_FAIL;
		else
			printf("%s\n", argv[i]);
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
	_cleanup_json_ json_t *r = NULL;
	size_t i;
	json_t *x;

	(void)o;
	(void)argc;
	(void)argv;
	if (cliapi_request("network", c->name, "POST", "/networks/prune", NULL, &r) < 0)
		return EXIT_FAIL;
	json_array_foreach(json_object_get(r, "NetworksDeleted"), i, x)
		printf("%s\n", json_string_value(x) ? json_string_value(x) : "");
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

/* The Docker Engine API's network endpoints over net/network.h (issue #7):
 * GET /networks, GET /networks/{id}, POST /networks/create,
 * DELETE /networks/{id}, POST /networks/prune.  Networks are shown as
 * Docker's NetworkResource (driver "bridge", scope "local"); {id} is a
 * name, a full id or an id prefix.  POST /networks/{id}/connect and
 * /disconnect change a created container's networks (applets/apinet.h); a
 * running one answers 409 (its VM's NICs are fixed at boot: microvm's
 * virtio-mmio has no hot-plug).  Listed
 * in applets/api_router.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_ctr.h"
#include "applets/api_network.h"
#include "applets/apinet.h"
#include "applets/bundle.h"
#include "applets/api_router.h"
#include "applets/network.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "net/network.h"

/* Docker's NetworkResource.  Options are those given at create, kept as
 * given (compose recreates a network whose Options differ from its file);
 * our extension object "ContainerNetwork" says what Docker has no field
 * for (the bridge, the MTU in effect), for our CLI's `network inspect`. */
static json_t *resource(const struct net_network *n)
{
	char sub[NET_IP_STRLEN + 3], gw[NET_IP_STRLEN], ip[NET_IP_STRLEN + 3];
	json_t *ctrs = json_object();

	net_cidr_format(&n->subnet, sub);
	net_ip_format(n->gateway, gw);
	for (size_t i = 0; i < n->n_members; i++) {
		const struct net_member *m = &n->members[i];
		if (!network_ctr_alive(m->id, NULL))
			continue;
		net_ip_format(m->ip, ip);
		snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", n->subnet.prefix);
		json_object_set_new(ctrs, m->id,
				    json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", m->name, "EndpointID",
					      m->id, "MacAddress", m->mac, "IPv4Address", ip,
					      "IPv6Address", ""));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:[{s:s, s:s}]}, s:b,"
			 " s:b, s:b, s:{s:s}, s:b, s:o, s:o, s:o, s:{s:s, s:i}}",
			 "Name", n->name, "Id", n->id, "Created", n->created ? n->created : "",
			 "Scope", "local", "Driver", "bridge", "EnableIPv6", 0, "IPAM", "Driver",
			 "default", "Options", "Config", "Subnet", sub, "Gateway", gw, "Internal",
			 n->internal, "Attachable", 0, "Ingress", 0, "ConfigFrom", "Network", "",
			 "ConfigOnly", 0, "Containers", ctrs, "Options",
			 n->options ? json_incref(n->options) : json_object(), "Labels",
			 n->labels ? json_incref(n->labels) : json_object(), "ContainerNetwork",
			 "Bridge", n->bridge, "Mtu", (int)n->mtu);
}

/* {id}: a name, else a unique id prefix. */
static int find(const struct api_call *c, struct net_network *out, struct err *e)
{
	char q[128];
	struct net_network *v;
	size_t n, hit = (size_t)-1, hits = 0;
	int rc;

	if (c->params[0].n >= sizeof(q))
		return err_set(e, -ENOENT, "network not found");
	memcpy(q, c->params[0].s, c->params[0].n);
	q[c->params[0].n] = '\0';
	if ((rc = net_load_all(&v, &n, e)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].name, q) || !strcmp(v[i].id, q)) {
			hit = i;
			hits = 1;
			break;
		}
		if (strlen(q) >= 1 && !strncmp(v[i].id, q, strlen(q))) {
			hit = i;
			hits++;
		}
	}
	if (hits == 1) {
		*out = v[hit];
		memset(&v[hit], 0, sizeof(v[hit]));
	}
	net_free_all(v, n);
	if (hits > 1)
		return err_set(e, -EINVAL, "network %s is ambiguous (%zu matches)", q, hits);
	if (hits == 0)
		return err_set(e, -ENOENT, "network %s not found", q);
	return 0;
}

static int status_of(int code)
{
	return code == -ENOENT ? 404 : code == -EEXIST || code == -EBUSY ? 409
	       : code == -ENOTSUP ? 501
	       : code == -EINVAL || code == -E2BIG ? 400 : code == -EPERM ? 403 : 500;
}

void api_network_list(struct api_call *c)
{
	struct net_network *v;
	size_t n;
	struct err e = ERR_INIT;
	json_t *arr;

	/* the default network always exists, as docker's "bridge" does */
	if (net_create(NET_DEFAULT_NAME, &(struct net_create_opts){ 0 }, NULL, &e) < 0 &&
	    e.code != -EEXIST) {
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	err_clear(&e);
	if (net_load_all(&v, &n, &e) < 0) {
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, resource(&v[i]));
	net_free_all(v, n);
	api_reply_json(c, 200, arr);
}

void api_network_inspect(struct api_call *c)
{
	struct net_network n;
	struct err e = ERR_INIT;

	if (find(c, &n, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_json(c, 200, resource(&n));
	net_network_free(&n);
}

/* Docker's bridge driver option for the MTU (what `network create --mtu`
 * sends); net_create checks its range. */
static int mtu_of(const json_t *opts, unsigned *mtu, struct err *e)
{
	const char *s = jsonx_str(opts, NETWORK_OPT_MTU);
	char *end;
	unsigned long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || v == 0 || v > 65535)
		return err_set(e, -EINVAL, "%s '%s': want a number of bytes", NETWORK_OPT_MTU, s);
	*mtu = (unsigned)v;
	return 0;
}

void api_network_create(struct api_call *c)
{
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *body = jsonx_parse(c->body, c->body_len, 1 << 20, "request body", &e);
	json_t *cfg, *opts;
	struct net_create_opts o = { 0 };
	struct net_network n;
	const char *name, *driver;

	if (!body || !json_is_object(body)) {
		api_reply_error(c, 400, "%s", body ? "the body is not an object" : e.msg);
		return;
	}
	name = jsonx_str(body, "Name");
	driver = jsonx_str(body, "Driver");
	if (!name || !*name) {
		api_reply_error(c, 400, "a network needs a Name");
		return;
	}
	if (driver && *driver && strcmp(driver, "bridge") != 0) {
		api_reply_error(c, 400, "driver %s is not supported here (only bridge)", driver);
		return;
	}
	if (json_is_true(json_object_get(body, "EnableIPv6"))) {
		api_reply_error(c, 400, "IPv6 networks are not supported yet");
		return;
	}
	cfg = json_array_get(json_object_get(json_object_get(body, "IPAM"), "Config"), 0);
	o.subnet = jsonx_str(cfg, "Subnet");
	o.internal = json_is_true(json_object_get(body, "Internal"));
	if (jsonx_opt_strmap(body, "Labels", &o.labels, &e) < 0 ||
	    jsonx_opt_strmap(body, "Options", &opts, &e) < 0 || mtu_of(opts, &o.mtu, &e) < 0) {
		api_reply_error(c, 400, "%s", e.msg);
		return;
	}
	o.options = opts;
	if (net_create(name, &o, &n, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_json(c, 201, json_pack("{s:s, s:s}", "Id", n.id, "Warning", ""));
	net_network_free(&n);
}

void api_network_delete(struct api_call *c)
{
	struct net_network n = { 0 };
	struct err e = ERR_INIT;

	if (find(c, &n, &e) < 0 || network_delete(n.name, &e) < 0) {
		if (!strcmp(e.msg, "the default network cannot be removed"))
			e.code = -EPERM;
		api_reply_error(c, status_of(e.code), "%s", e.msg);
	} else {
		api_reply_text(c, 204, NULL, "");
	}
	net_network_free(&n);
}

void api_network_prune(struct api_call *c)
{
	struct net_network *v;
	size_t n;
	struct err e = ERR_INIT;
	json_t *gone = json_array();

	if (net_load_all(&v, &n, &e) < 0) {
		json_decref(gone);
		api_reply_error(c, 500, "%s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct err le = ERR_INIT;
		if (strcmp(v[i].name, NET_DEFAULT_NAME) != 0 && network_delete(v[i].name, &le) == 0)
			json_array_append_new(gone, json_string(v[i].name));
	}
	net_free_all(v, n);
	api_reply_json(c, 200, json_pack("{s:o}", "NetworksDeleted", gone));
}

/* {"Container": ID|NAME, "EndpointConfig": {"Aliases": […]}} (connect) or
 * {"Container": …, "Force": …} (disconnect). */
static void connect_common(struct api_call *c, bool connect)
{
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *body = jsonx_parse(c->body, c->body_len, 1 << 20, "request body", &e);
	const char *q = jsonx_str(body, "Container");
	char id[BUNDLE_ID_LEN + 1];
	struct net_network n = { 0 };
	struct bundle_state st;

	if (!body || !json_is_object(body) || !q) {
		api_reply_error(c, 400, "%s", !body ? e.msg : "the body needs a Container");
		return;
	}
	if (find(c, &n, &e) < 0 || bundle_resolve(q, id, &e) < 0 || api_ctr_state(id, &st, &e) < 0)
		goto fail;
	if (st.status == BUNDLE_RUNNING) {
		err_set(&e, -EBUSY, "container %s is running: its networks can change only while it "
				    "is created or stopped (its VM's NICs are fixed at boot)", q);
		goto fail;
	}
	if (apinet_connect(id, n.name, json_object_get(json_object_get(body, "EndpointConfig"),
						       "Aliases"), connect, &e) < 0)
		goto fail;
	net_network_free(&n);
	api_reply_text(c, 200, NULL, "");
	return;
fail:
	net_network_free(&n);
	api_reply_error(c, status_of(e.code), "%s", e.msg);
}

void api_network_connect(struct api_call *c)
{
	connect_common(c, true);
}

void api_network_disconnect(struct api_call *c)
{
	connect_common(c, false);
}

/* Docker's networking fields <-> our networks (see applets/apinet.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/apinet.h"
#include "applets/bundle.h"
#include "applets/network.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "net/addr.h"
#include "net/network.h"

static bool str_ok(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* An optional list of strings (null = absent) copied to out[key]. */
static int str_list(const json_t *o, const char *key, json_t *out, struct err *e)
{
	json_t *v = json_object_get(o, key), *x;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > APINET_LIST_MAX)
		return err_set(e, -EINVAL, "%s must be a list of at most %d strings", key,
			       APINET_LIST_MAX);
	json_array_foreach(v, i, x)
		if (!str_ok(x) || !*json_string_value(x))
			return err_set(e, -EINVAL, "%s[%zu] must be a non-empty string", key, i);
	json_object_set(out, key, v);
	return 0;
}

/* "80/tcp" -> port and proto; a bare "80" is tcp, as Docker reads it. */
static int port_key(const char *k, char *port, size_t n, const char **proto, struct err *e)
{
	const char *slash = strchr(k, '/');
	size_t len = slash ? (size_t)(slash - k) : strlen(k);

	*proto = slash ? slash + 1 : "tcp";
	if (!len || len >= n || strspn(k, "0123456789-") != len ||
	    (strcmp(*proto, "tcp") != 0 && strcmp(*proto, "udp") != 0))
		return err_set(e, -EINVAL, "invalid port '%.40s' (want PORT[/tcp|udp])", k);
	memcpy(port, k, len);
	port[len] = '\0';
	return 0;
}

/* One PortBindings entry as a `-p` value, checked by the same parser. */
static int binding(const char *key, const json_t *b, json_t *publish, struct err *e)
{
	const char *ip = jsonx_str(b, "HostIp"), *hp = jsonx_str(b, "HostPort"), *proto;
	char port[16];
	_cleanup_buf_ struct buf s = BUF_INIT;
	struct net_port v[NET_PORTS_MAX];
	size_t n = 0;
	int rc;

	if (!json_is_object(b))
		return err_set(e, -EINVAL, "PortBindings[%.40s]: each binding is an object", key);
	if ((rc = port_key(key, port, sizeof(port), &proto, e)) < 0)
		return rc;
	/* "" and Docker's any-address both mean our default (127.0.0.1) */
	if (ip && (!*ip || !strcmp(ip, "0.0.0.0")))
		ip = NULL;
	if (ip && strchr(ip, ':'))
		return err_set(e, -EINVAL, "host address %.60s: IPv6 is not supported here", ip);
	buf_printf(&s, "%s%s%s:%s/%s", ip ? ip : "", ip ? ":" : "", hp && *hp ? hp : "0", port,
		   proto);
	if ((rc = net_port_parse(buf_str(&s), v, NET_PORTS_MAX, &n, e)) < 0)
		return err_wrap(e, "PortBindings[%.40s]", key);
	json_array_append_new(publish, json_string(buf_str(&s)));
	return 0;
}

static int ports(const json_t *req, const json_t *hc, json_t *out, struct err *e)
{
	json_t *pb = json_object_get(hc, "PortBindings"), *ex = json_object_get(req, "ExposedPorts");
	json_t *publish = json_array(), *list, *b;
	const char *key, *proto;
	char port[16];
	size_t i;
	int rc = 0;

	json_object_set_new(out, "publish", publish);
	if (pb && !json_is_null(pb) && (!json_is_object(pb) ||
					json_object_size(pb) > APINET_LIST_MAX))
		return err_set(e, -EINVAL, "PortBindings must be an object of at most %d ports",
			       APINET_LIST_MAX);
	json_object_foreach(pb, key, list) {
		if ((rc = port_key(key, port, sizeof(port), &proto, e)) < 0)
			return rc;
		if (json_is_null(list))
			continue;
		if (!json_is_array(list) || json_array_size(list) > 16)
			return err_set(e, -EINVAL, "PortBindings[%.40s] must be a list", key);
		json_array_foreach(list, i, b)
			if ((rc = binding(key, b, publish, e)) < 0)
				return rc;
	}
	if (ex && !json_is_null(ex)) {
		if (!json_is_object(ex) || json_object_size(ex) > APINET_LIST_MAX)
			return err_set(e, -EINVAL, "ExposedPorts must be an object of ports");
		json_object_foreach(ex, key, b)
			if ((rc = port_key(key, port, sizeof(port), &proto, e)) < 0)
				return rc;
		json_object_set(out, "exposed", ex);
	}
	return 0;
}

/* An endpoint's Aliases (absent or null: none) into out["aliases"]. */
static int aliases_of(const json_t *ep, json_t *out, struct err *e)
{
	const json_t *al = json_object_get(ep, "Aliases");
	json_t *x;
	size_t i;

	if (!al || json_is_null(al))
		return 0;
	if (!json_is_array(al) || json_array_size(al) > APINET_ALIASES_MAX)
		return err_set(e, -EINVAL, "Aliases must be a list of at most %d names",
			       APINET_ALIASES_MAX);
	json_array_foreach(al, i, x)
		if (!str_ok(x) || !bundle_name_valid(json_string_value(x)))
			return err_set(e, -EINVAL, "invalid network alias '%.80s'",
				       str_ok(x) ? json_string_value(x) : "?");
	json_object_set(out, "aliases", (json_t *)al);
	return 0;
}

static bool user_net_ok(const char *name)
{
	return strcmp(name, "none") != 0 && strcmp(name, "host") != 0 &&
	       strcmp(name, "bridge") != 0 && strcmp(name, "default") != 0 &&
	       strncmp(name, "container:", 10) != 0 && net_name_valid(name);
}

/* The network: NetworkMode, else the first EndpointsConfig names; that
 * endpoint's Aliases; every other endpoint into out["more"] (a NIC each). */
static int endpoint(const json_t *req, const json_t *hc, json_t *out, struct err *e)
{
	const json_t *eps = json_object_get(json_object_get(req, "NetworkingConfig"),
					    "EndpointsConfig");
	const json_t *mode = json_object_get(hc, "NetworkMode"), *ep = NULL;
	const char *name = NULL, *k;
	json_t *v, *more = json_array();
	int rc;

	json_object_set_new(out, "more", more);
	if (mode && !json_is_null(mode) && !str_ok(mode))
		return err_set(e, -EINVAL, "NetworkMode must be a string");
	if (eps && !json_is_null(eps) && !json_is_object(eps))
		return err_set(e, -EINVAL, "EndpointsConfig must be an object");
	if ((rc = network_nics_check(json_object_size(eps), e)) < 0)
		return err_wrap(e, "EndpointsConfig");
	if (mode && *json_string_value(mode))
		name = json_string_value(mode);
	if (!name || !strcmp(name, "default")) {
		/* Docker's "default" is its bridge network; so is ours */
		name = NULL;
		json_object_foreach((json_t *)eps, k, v) {
			name = k;
			break;
		}
	}
	if (name && !strncmp(name, "container:", 10))
		return err_set(e, -EINVAL, "NetworkMode %.80s: a container is a VM and cannot share "
					   "another's network stack", name);
	if (name && strcmp(name, "none") != 0 && strcmp(name, "host") != 0 &&
	    strcmp(name, "bridge") != 0 && !net_name_valid(name))
		return err_set(e, -EINVAL, "invalid network name '%.80s'", name);
	if (name)
		json_object_set_new(out, "mode", json_string(name));
	if (name && json_is_object(eps))
		ep = json_object_get(eps, name);
	if (!ep && json_object_size(eps) == 1 && !name)
		json_object_foreach((json_t *)eps, k, v)
			ep = v;
	if ((rc = aliases_of(ep, out, e)) < 0)
		return rc;
	json_object_foreach((json_t *)eps, k, v) {
		json_t *m;
		if (v == ep || (name && !strcmp(k, name)))
			continue;
		/* the default network's names, beside a user network, are
		 * Docker's bridge: the first network here (NetworkMode) */
		if (!user_net_ok(k) || !name || !strcmp(name, "none"))
			return err_set(e, -EINVAL, "EndpointsConfig %.80s: a second network must be "
						   "a user network, beside one", k);
		m = json_pack("{s:s}", "name", k);
		json_array_append_new(more, m);
		if ((rc = aliases_of(v, m, e)) < 0)
			return rc;
	}
	return 0;
}

int apinet_parse(const json_t *req, const json_t *hc, json_t **out, struct err *e)
{
	json_t *o = json_object(), *pa = json_object_get(hc, "PublishAllPorts");
	int rc;

	*out = o;
	if (pa && !json_is_null(pa) && !json_is_boolean(pa))
		return err_set(e, -EINVAL, "PublishAllPorts must be a boolean");
	json_object_set_new(o, "publish_all", json_boolean(json_is_true(pa)));
	if ((rc = endpoint(req, hc, o, e)) < 0 || (rc = ports(req, hc, o, e)) < 0 ||
	    (rc = str_list(hc, "Dns", o, e)) < 0 || (rc = str_list(hc, "DnsSearch", o, e)) < 0 ||
	    (rc = str_list(hc, "DnsOptions", o, e)) < 0 ||
	    (rc = str_list(hc, "ExtraHosts", o, e)) < 0)
		return rc;
	return 0;
}

/* A NULL-terminated vector of the list's strings, or of its objects'
 * member key when key is not NULL (borrowed), or NULL for an empty list. */
static const char **strv_of(const json_t *a, const char *key)
{
	const char **v;
	size_t i;
	json_t *x;

	if (!json_array_size(a))
		return NULL;
	v = xcalloc(json_array_size(a) + 1, sizeof(*v));
	json_array_foreach(a, i, x)
		v[i] = key ? jsonx_str(x, key) : json_string_value(x);
	return v;
}

static const char **strv(const json_t *a)
{
	return strv_of(a, NULL);
}

/* The "name" of each entry of a list of endpoints. */
static const char **names_of(const json_t *a)
{
	return strv_of(a, "name");
}

/* Each endpoint's "aliases" of want (a list of {"name", "aliases"}) onto
 * the bundle network's endpoint of that name. */
static void aliases_to(json_t *net, const json_t *want)
{
	size_t i;
	json_t *x;

	json_array_foreach(want, i, x) {
		json_t *ep = (json_t *)network_endpoint(net, jsonx_str(x, "name") ?
							     jsonx_str(x, "name") : "");
		if (ep && json_array_size(json_object_get(x, "aliases")))
			json_object_set(ep, "aliases", json_object_get(x, "aliases"));
	}
}

int apinet_build(const json_t *net, struct bundle_config *bc, struct err *e)
{
	_cleanup_json_ json_t *exposed = json_object();
	const json_t *img = json_object_get(json_object_get(bc->guest, "image"), "ExposedPorts");
	const json_t *al = json_object_get(net, "aliases");
	struct network_run_opts o = {
		.network = jsonx_str(net, "mode"),
		.publish_all = json_is_true(json_object_get(net, "publish_all")),
		.no_dns = json_is_true(json_object_get(net, "no_dns")),   /* ContainerVM.NoDns */
		.hostname = jsonx_str(bc->guest, "hostname"),
		.exposed = exposed,
	};
	int rc;

	/* -P publishes the image's ports and those the request exposes */
	if (json_is_object(img))
		json_object_update(exposed, (json_t *)img);
	if (json_is_object(json_object_get(net, "exposed")))
		json_object_update(exposed, json_object_get(net, "exposed"));
	o.networks_more = names_of(json_object_get(net, "more"));
	o.publish = strv(json_object_get(net, "publish"));
	o.add_host = strv(json_object_get(net, "ExtraHosts"));
	o.dns = strv(json_object_get(net, "Dns"));
	o.dns_search = strv(json_object_get(net, "DnsSearch"));
	o.dns_option = strv(json_object_get(net, "DnsOptions"));
	if (!o.hostname)
		o.hostname = bc->name;
	rc = network_run_prepare(&o, bc->id, bc->name, bc->guest, &bc->network, e);
	if (rc == 0 && bc->network && json_array_size(al))
		json_object_set(bc->network, "aliases", (json_t *)al);
	if (rc == 0)
		aliases_to(bc->network, json_object_get(net, "more"));
	free(o.networks_more);
	free(o.publish);
	free(o.add_host);
	free(o.dns);
	free(o.dns_search);
	free(o.dns_option);
	return rc;
}

/* --- what inspect and the list show -------------------------------------------- */

/* NetworkSettings.Ports: {"80/tcp": [{"HostIp", "HostPort"}] | null}. */
static json_t *ports_map(const struct bundle_config *bc, bool running)
{
	json_t *m = json_object(), *ex, *x;
	_cleanup_json_ json_t *bound = running ? network_ports_json(bc->id, bc->network) : NULL;
	const char *k;
	size_t i;

	ex = json_object_get(json_object_get(bc->guest, "image"), "ExposedPorts");
	json_object_foreach(ex, k, x)
		json_object_set_new(m, k, json_null());
	json_array_foreach(bound, i, x) {
		char key[32], hp[8];
		json_t *l;
		snprintf(key, sizeof(key), "%d/%s", (int)jsonx_int(x, "container_port", 0),
			 jsonx_str(x, "proto") ? jsonx_str(x, "proto") : "tcp");
		snprintf(hp, sizeof(hp), "%d", (int)jsonx_int(x, "host_port", 0));
		if (!json_is_array(l = json_object_get(m, key)))
			json_object_set_new(m, key, l = json_array());
		json_array_append_new(l, json_pack("{s:s, s:s}", "HostIp",
						   jsonx_str(x, "host_ip") ? jsonx_str(x, "host_ip")
									   : "",
						   "HostPort", hp));
	}
	return m;
}

/* HostConfig.PortBindings as asked (host port "" = ephemeral). */
static json_t *bindings(const struct bundle_config *bc)
{
	json_t *m = json_object(), *x, *l;
	size_t i;

	json_array_foreach(json_object_get(bc->network, "ports"), i, x) {
		char key[32], hp[8];
		long long p = jsonx_int(x, "host_port", 0);
		snprintf(key, sizeof(key), "%d/%s", (int)jsonx_int(x, "container_port", 0),
			 jsonx_str(x, "proto") ? jsonx_str(x, "proto") : "tcp");
		snprintf(hp, sizeof(hp), "%lld", p);
		if (!json_is_array(l = json_object_get(m, key)))
			json_object_set_new(m, key, l = json_array());
		json_array_append_new(l, json_pack("{s:s, s:s}", "HostIp",
						   jsonx_str(x, "host_ip") ? jsonx_str(x, "host_ip")
									   : "",
						   "HostPort", p ? hp : ""));
	}
	return m;
}

/* One endpoint's EndpointSettings (ep: the bundle network or an entry of
 * its "more"); flat, when not NULL, gets the top-level fields. */
static void endpoint_settings(const struct bundle_config *bc, const json_t *ep, json_t *flat,
			      json_t *out)
{
	const char *name = jsonx_str(ep, "name"), *ip = jsonx_str(ep, "ip");
	const char *mac = jsonx_str(ep, "mac");
	json_t *al = json_object_get(ep, "aliases"), *names = json_array(), *x;
	struct net_network n = { 0 };
	struct err e = ERR_INIT;
	char gw[NET_IP_STRLEN] = "", sid[13];
	size_t i;
	int prefix = 0;

	if (!name || !ip) {
		json_decref(names);
		return;
	}
	if (net_load(name, &n, &e) == 0) {
		net_ip_format(n.gateway, gw);
		prefix = n.subnet.prefix;
	}
	snprintf(sid, sizeof(sid), "%.12s", bc->id);
	json_array_append_new(names, json_string(bc->name ? bc->name : sid));
	json_array_foreach(al, i, x)
		json_array_append(names, x);
	json_array_append_new(names, json_string(sid));
	if (flat) {
		x = json_pack("{s:s, s:i, s:s, s:s}", "IPAddress", ip, "IPPrefixLen", prefix,
			      "Gateway", gw, "MacAddress", mac ? mac : "");
		json_object_update(flat, x);
		json_decref(x);
	}
	x = json_pack("{s:n, s:n, s:O, s:s, s:s, s:s, s:s, s:i, s:s, s:o}",
			       "IPAMConfig", "Links", "Aliases", json_is_array(al) ? al : json_null(),
			       "NetworkID", n.id, "EndpointID", bc->id, "Gateway", gw, "IPAddress",
			       ip, "IPPrefixLen", prefix, "MacAddress", mac ? mac : "", "DNSNames",
			       names);
	net_network_free(&n);
	json_object_set_new(out, name, x);
}

/* Networks{NAME: EndpointSettings}, every network of the container; *flat
 * gets the first one's top-level fields. */
static json_t *networks(const struct bundle_config *bc, json_t *flat)
{
	json_t *out = json_object(), *x;
	size_t i;

	endpoint_settings(bc, bc->network, flat, out);
	if (jsonx_str(bc->network, "name"))
		json_array_foreach(json_object_get(bc->network, "more"), i, x)
			endpoint_settings(bc, x, NULL, out);
	return out;
}

static const char *mode_of(const struct bundle_config *bc)
{
	const char *n = jsonx_str(bc->network, "name");

	return n ? n : "none";
}

void apinet_inspect(const struct bundle_config *bc, bool running, json_t *doc)
{
	json_t *host = json_object_get(doc, "HostConfig");
	json_t *ns = json_pack("{s:s, s:s, s:b, s:s, s:i, s:s, s:s}", "Bridge", "", "SandboxID",
			       "", "HairpinMode", 0, "IPAddress", "", "IPPrefixLen", 0, "Gateway",
			       "", "MacAddress", "");

	json_object_set_new(ns, "Networks", networks(bc, ns));
	json_object_set_new(ns, "Ports", ports_map(bc, running));
	json_object_set_new(doc, "NetworkSettings", ns);
	if (json_is_object(host)) {
		json_object_set_new(host, "NetworkMode", json_string(mode_of(bc)));
		json_object_set_new(host, "PortBindings", bindings(bc));
	}
}

void apinet_summary(const struct bundle_config *bc, bool running, json_t *sum)
{
	_cleanup_json_ json_t *bound = running ? network_ports_json(bc->id, bc->network) : NULL;
	json_t *ports = json_array(), *x, *flat = json_object();
	size_t i;

	json_array_foreach(bound, i, x)
		json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "IP",
						       jsonx_str(x, "host_ip") ? jsonx_str(x, "host_ip") : "",
						       "PrivatePort", (int)jsonx_int(x, "container_port", 0),
						       "PublicPort", (int)jsonx_int(x, "host_port", 0),
						       "Type", jsonx_str(x, "proto") ? jsonx_str(x, "proto")
										     : "tcp"));
	json_object_set_new(sum, "Ports", ports);
	json_object_set_new(sum, "HostConfig", json_pack("{s:s}", "NetworkMode", mode_of(bc)));
	json_object_set_new(sum, "NetworkSettings", json_pack("{s:o}", "Networks",
							      networks(bc, flat)));
	json_decref(flat);
}

/* --- connect / disconnect a created container ------------------------------------ */

/* The options the container was created with, read back from its guest
 * document and bundle, so that a new network keeps its --dns, --add-host
 * and published ports.  Strings borrowed from bc; *tmp holds the rest. */
static void opts_of(const struct bundle_config *bc, struct network_run_opts *o, json_t *tmp)
{
	const json_t *dns = json_object_get(bc->guest, "dns"), *ns = json_object_get(dns, "nameservers");
	const json_t *hosts = json_object_get(bc->guest, "hosts"), *x;
	json_t *pub = json_array(), *ah = json_array(), *dv = json_array();
	struct net_network n = { 0 };
	struct err e = ERR_INIT;
	char gw[NET_IP_STRLEN] = "";
	bool on_net = jsonx_str(bc->network, "name") != NULL;
	size_t i, first = on_net ? 1 : 0, last = json_array_size(hosts) - (on_net ? 1 : 0);

	if (on_net && net_load(jsonx_str(bc->network, "name"), &n, &e) == 0)
		net_ip_format(n.gateway, gw);
	net_network_free(&n);
	o->hostname = jsonx_str(bc->guest, "hostname");
	/* nameservers: the old gateway = the default; [] = --no-dns */
	o->no_dns = json_is_array(ns) && !json_array_size(ns);
	json_array_foreach(ns, i, x)
		if (strcmp(json_string_value(x) ? json_string_value(x) : "", gw) != 0)
			json_array_append(dv, (json_t *)x);
	/* hosts: [self] extras… [host.container.internal] on a network */
	for (i = first; i < last && i < json_array_size(hosts); i++) {
		const char *l = json_string_value(json_array_get(hosts, i)), *tab;
		if (!l || !(tab = strchr(l, '\t')))
			continue;
		json_array_append_new(ah, json_sprintf("%s:%.*s", tab + 1, (int)(tab - l), l));
	}
	json_array_foreach(json_object_get(bc->network, "ports"), i, x)
		json_array_append_new(pub, json_sprintf("%s:%d:%d/%s", jsonx_str(x, "host_ip"),
							(int)jsonx_int(x, "host_port", 0),
							(int)jsonx_int(x, "container_port", 0),
							jsonx_str(x, "proto")));
	json_object_set_new(tmp, "publish", pub);
	json_object_set_new(tmp, "add_host", ah);
	json_object_set_new(tmp, "dns", dv);
	o->publish = strv(pub);
	o->add_host = strv(ah);
	o->dns = strv(dv);
	o->dns_search = strv(json_object_get(dns, "search"));
	o->dns_option = strv(json_object_get(dns, "options"));
}

static void opts_free(struct network_run_opts *o)
{
	free(o->publish);
	free(o->add_host);
	free(o->dns);
	free(o->dns_search);
	free(o->dns_option);
}

/* The container's endpoints as [{"name", "aliases"}], first one first. */
static json_t *endpoints_of(const json_t *net)
{
	json_t *v = json_array(), *x;
	size_t i;

	if (!jsonx_str(net, "name"))
		return v;
	json_array_append_new(v, json_pack("{s:s}", "name", jsonx_str(net, "name")));
	json_array_foreach(json_object_get(net, "more"), i, x)
		if (jsonx_str(x, "name"))
			json_array_append_new(v, json_pack("{s:s}", "name", jsonx_str(x, "name")));
	json_array_foreach(v, i, x) {
		const json_t *ep = network_endpoint(net, jsonx_str(x, "name"));
		if (json_array_size(json_object_get(ep, "aliases")))
			json_object_set(x, "aliases", json_object_get(ep, "aliases"));
	}
	return v;
}

static size_t endpoint_index(const json_t *eps, const char *network)
{
	size_t i;
	json_t *x;

	json_array_foreach(eps, i, x)
		if (!strcmp(jsonx_str(x, "name"), network))
			return i;
	return (size_t)-1;
}

int apinet_connect(const char *id, const char *network, const json_t *aliases, bool connect,
		   struct err *e)
{
	struct bundle_config bc;
	_cleanup_json_ json_t *tmp = json_object(), *old = NULL, *eps = NULL;
	struct network_run_opts o = { 0 };
	size_t at;
	bool added = false;
	int rc;

	if (aliases && !json_is_null(aliases)) {
		size_t i;
		json_t *x;
		if (!json_is_array(aliases) || json_array_size(aliases) > APINET_ALIASES_MAX)
			return err_set(e, -EINVAL, "Aliases must be a list of at most %d names",
				       APINET_ALIASES_MAX);
		json_array_foreach(aliases, i, x)
			if (!str_ok(x) || !bundle_name_valid(json_string_value(x)))
				return err_set(e, -EINVAL, "invalid network alias");
	}
	if ((rc = bundle_config_load(id, &bc, e)) < 0)
		return rc;
	eps = endpoints_of(bc.network);
	at = endpoint_index(eps, network);
	if (!connect && at == (size_t)-1) {
		rc = err_set(e, -ENOENT, "container %s is not connected to network %s", bc.name,
			     network);
		goto out;
	}
	if (connect && at == (size_t)-1) {
		if ((rc = network_nics_check(json_array_size(eps) + 1, e)) < 0) {
			err_wrap(e, "container %s", bc.name);
			goto out;
		}
		at = json_array_size(eps);
		json_array_append_new(eps, json_pack("{s:s}", "name", network));
		added = true;
	}
	if (connect && json_array_size(aliases))
		json_object_set(json_array_get(eps, at), "aliases", (json_t *)aliases);
	if (!connect)
		json_array_remove(eps, at);
	opts_of(&bc, &o, tmp);
	if (!json_array_size(eps)) {
		/* published now on no network; bindings() still shows them */
		free(o.publish);
		o.publish = NULL;
	}
	/* every network again, in order: net_attach keeps the addresses the
	 * container has, so only a new network's is handed out */
	o.network = json_array_size(eps) ? jsonx_str(json_array_get(eps, 0), "name") : "none";
	json_object_set_new(tmp, "more", json_array());
	for (size_t i = 1; i < json_array_size(eps); i++)
		json_array_append(json_object_get(tmp, "more"), json_array_get(eps, i));
	o.networks_more = names_of(json_object_get(tmp, "more"));
	old = bc.network;
	bc.network = NULL;
	o.had = old;   /* a failure keeps the networks it was on */
	if ((rc = network_run_prepare(&o, bc.id, bc.name, bc.guest, &bc.network, e)) < 0)
		goto out;
	aliases_to(bc.network, eps);
	if (!json_array_size(eps)) {
		/* the ports are the container's (Docker's HostConfig.PortBindings),
		 * not the endpoint's: kept, nameless, for the next connect */
		json_object_del(bc.guest, "interfaces");
		if (json_array_size(json_object_get(old, "ports")))
			bc.network = json_pack("{s:O}", "ports", json_object_get(old, "ports"));
	}
	if ((rc = bundle_config_save(&bc, e)) < 0) {
		if (added)
			net_detach(network, bc.id, NULL);
		goto out;
	}
	if (!connect)
		net_detach(network, bc.id, NULL);
out:
	/* the bundle exists: no pending mark may outlive this (it would keep a
	 * removed container's address, and its network in use, for minutes) */
	network_pending(id, false);
	free(o.networks_more);
	opts_free(&o);
	bundle_config_free(&bc);
	return rc;
}

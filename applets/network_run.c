/* Networking for `container run` and the runtime role (applets/network.h):
 * the address reserved at create, what the guest is told (eth0, hosts,
 * resolv.conf), and at start the bridge, the helper and the VM's TAP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/bundle.h"
#include "applets/network.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/addr.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/network.h"
#include "net/proxy.h"
#include "vm/vm.h"

static json_t *strv_json(const char **v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* --add-host NAME:IP (docker's form; NAME=IP too); IP "host-gateway" is
 * the network's gateway, i.e. the host. */
static int add_hosts(json_t *hosts, const char **v, uint32_t gw, struct err *e)
{
	for (; v && *v; v++) {
		const char *sep = strpbrk(*v, ":=");
		_cleanup_buf_ struct buf line = BUF_INIT;
		char gws[NET_IP_STRLEN];
		uint32_t ip;
		if (!sep || sep == *v || !sep[1] || strpbrk(*v, " \t\n#"))
			return err_set(e, -EINVAL, "--add-host %s: want NAME:IP", *v);
		if (!strcmp(sep + 1, "host-gateway")) {
			if (!gw)
				return err_set(e, -EINVAL, "--add-host %s: no gateway without a network",
					       *v);
			net_ip_format(gw, gws);
			buf_printf(&line, "%s\t%.*s", gws, (int)(sep - *v), *v);
		} else {
			if (net_ip_parse(sep + 1, &ip, e) < 0)
				return err_wrap(e, "--add-host %s", *v);
			buf_printf(&line, "%s\t%.*s", sep + 1, (int)(sep - *v), *v);
		}
		json_array_append_new(hosts, json_string(buf_str(&line)));
	}
	return 0;
}

static int ports_json(const struct network_run_opts *o, json_t **out, struct err *e)
{
	struct net_port *v = xcalloc(NET_PORTS_MAX, sizeof(*v));
	size_t n = 0;
	json_t *a = json_array();
	const char *key;
	json_t *val;
	int rc = 0;

	for (const char **p = o->publish; rc == 0 && p && *p; p++)
		rc = net_port_parse(*p, v, NET_PORTS_MAX, &n, e);
	/* -P: the image's exposed ports ("80/tcp"), each on an ephemeral port */
	if (o->publish_all && json_is_object(o->exposed))
		json_object_foreach((json_t *)o->exposed, key, val)
			if (rc == 0 && (rc = net_port_parse(key, v, NET_PORTS_MAX, &n, e)) < 0)
				rc = err_wrap(e, "the image's ExposedPorts");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char ip[NET_IP_STRLEN];
		net_ip_format(v[i].host_ip, ip);
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", ip, "host_port",
						   (int)v[i].host_port, "container_port",
						   (int)v[i].ctr_port, "proto",
						   net_proto_name(v[i].proto)));
	}
	free(v);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

static json_t *dns_json(const struct network_run_opts *o, uint32_t gw)
{
	json_t *d = json_object(), *ns;
	char s[NET_IP_STRLEN];

	if (o->no_dns) {
		/* an empty list: the guest writes no nameserver line at all */
		json_object_set_new(d, "nameservers", json_array());
		return d;
	}
	if (o->dns && o->dns[0]) {
		ns = strv_json(o->dns);
	} else if (gw) {
		net_ip_format(gw, s);
		ns = json_pack("[s]", s);
	} else {
		ns = NULL;   /* no network, no --dns: the guest's default */
	}
	if (ns)
		json_object_set_new(d, "nameservers", ns);
	if (o->dns_search)
		json_object_set_new(d, "search", strv_json(o->dns_search));
	if (o->dns_option)
		json_object_set_new(d, "options", strv_json(o->dns_option));
	return d;
}

int network_nics_check(size_t n, struct err *e)
{
	return n > NETWORK_NICS_MAX
		       ? err_set(e, -E2BIG, "at most %d networks per container", NETWORK_NICS_MAX)
		       : 0;
}

/* Undo an attach this call made; one the container had before (o->had,
 * a connect) is not this call's to undo. */
static void undo_attach(const struct network_run_opts *o, const char *network, const char *id)
{
	if (!network_endpoint(o->had, network))
		net_detach(network, id, NULL);
}

/* The networks after the first: an address on each, an interface eth1…
 * (found by its MAC in the guest, no gateway: the default route is the
 * first network's) and an entry of the bundle's "more".  All or none. */
static int attach_more(const struct network_run_opts *o, const char *id, const char *name,
		       json_t *ifaces, json_t **more, struct err *e)
{
	size_t i = 0;
	int rc = 0;

	*more = json_array();
	for (const char **x = o->networks_more; x && *x; x++, i++) {
		struct net_network n;
		struct net_member m;
		char ip[NET_IP_STRLEN], ifname[16];
		_cleanup_buf_ struct buf addr = BUF_INIT;
		if ((rc = net_attach(*x, id, name, network_ctr_alive, NULL, &m, &n, e)) < 0) {
			rc = err_wrap(e, "network %s", *x);
			break;
		}
		net_ip_format(m.ip, ip);
		buf_printf(&addr, "%s/%u", ip, n.subnet.prefix);
		snprintf(ifname, sizeof(ifname), "eth%zu", i + 1);
		json_array_append_new(ifaces, json_pack("{s:s, s:s, s:s, s:i}", "name", ifname, "mac",
							m.mac, "address", buf_str(&addr), "mtu",
							(int)n.mtu));
		json_array_append_new(*more, json_pack("{s:s, s:s, s:s}", "name", n.name, "ip", ip,
						       "mac", m.mac));
		free(m.name);
		net_network_free(&n);
	}
	if (rc < 0) {
		for (const char **x = o->networks_more; x && *x && i-- > 0; x++)
			undo_attach(o, *x, id);
		json_decref(*more);
		*more = NULL;
	}
	return rc;
}

int network_run_prepare(const struct network_run_opts *o, const char *id, const char *name,
			json_t *guest, json_t **net_out, struct err *e)
{
	/* docker's name for its default network means ours */
	const char *netname = !o->network || !strcmp(o->network, "bridge") ? NET_DEFAULT_NAME
									  : o->network;
	_cleanup_json_ json_t *ports = NULL, *hosts = json_array(), *ifaces = NULL, *more = NULL;
	struct net_network n;
	struct net_member m;
	char ip[NET_IP_STRLEN], gw[NET_IP_STRLEN];
	_cleanup_buf_ struct buf addr = BUF_INIT, self = BUF_INIT;
	size_t n_more = 0;
	int rc;

	*net_out = NULL;
	for (const char **x = o->networks_more; x && *x; x++)
		n_more++;
	if ((rc = network_nics_check(n_more + 1, e)) < 0)
		return rc;
	for (const char **x = o->networks_more; x && *x; x++)
		if (!strcmp(*x, "none") || !strcmp(*x, "host") || !strcmp(*x, netname))
			return err_set(e, -EINVAL, "--network %s: a container joins each network once, "
						   "and none or host alone", *x);
	if (geteuid() != 0 && o->networks_more && o->networks_more[0])
		return err_set(e, -EPERM, "several networks need root here: without it a "
					  "container's network is QEMU's user mode, one only");
	if (!strcmp(netname, "host"))
		return err_set(e, -EINVAL, "--network host: a container is a VM and cannot share "
					   "the host's network stack (publish ports with -p)");
	for (const char **d = o->dns; d && *d; d++) {
		uint32_t x;
		if (net_ip_parse(*d, &x, e) < 0)
			return err_wrap(e, "--dns");
	}
	if ((rc = ports_json(o, &ports, e)) < 0)
		return rc;
	if (geteuid() != 0 && json_array_size(ports))
		return err_set(e, -EPERM, "-p needs root here: without it a container's network is "
					  "QEMU's user mode, outbound only");
	if (!strcmp(netname, "none")) {
		if (json_array_size(ports))
			return err_set(e, -EINVAL, "-p needs a network (not --network none)");
		if ((rc = add_hosts(hosts, o->add_host, 0, e)) < 0)
			return rc;
		json_object_set(guest, "hosts", hosts);
		json_object_set_new(guest, "dns", dns_json(o, 0));
		return 0;
	}
	network_pending(id, true);   /* before its bundle exists (parallel creates) */
	if ((rc = net_attach(netname, id, name, network_ctr_alive, NULL, &m, &n, e)) < 0) {
		network_pending(id, false);
		return err_wrap(e, "network %s", netname);
	}
	net_ip_format(m.ip, ip);
	net_ip_format(n.gateway, gw);
	if ((rc = add_hosts(hosts, o->add_host, n.gateway, e)) < 0) {
		undo_attach(o, netname, id);
		goto out;
	}
	/* docker's own line: the container's address under its host name */
	buf_printf(&self, "%s\t%s", ip, o->hostname);
	if (strcmp(o->hostname, name) != 0)
		buf_printf(&self, " %s", name);
	json_array_insert_new(hosts, 0, json_string(buf_str(&self)));
	buf_reset(&self);
	buf_printf(&self, "%s\thost.container.internal host.docker.internal", gw);
	json_array_append_new(hosts, json_string(buf_str(&self)));
	buf_printf(&addr, "%s/%u", ip, n.subnet.prefix);
	ifaces = json_pack("[{s:s, s:s, s:s, s:s, s:i}]", "name", "eth0", "mac", m.mac,
			   "address", buf_str(&addr), "gateway", gw, "mtu", (int)n.mtu);
	if ((rc = attach_more(o, id, name, ifaces, &more, e)) < 0) {
		undo_attach(o, netname, id);
		goto out;
	}
	json_object_set(guest, "interfaces", ifaces);
	json_object_set(guest, "hosts", hosts);
	/* rootless: QEMU's relay answers DNS, on an address of its own */
	json_object_set_new(guest, "dns", dns_json(o, geteuid() != 0 ? net_user_dns(&n.subnet, m.ip)
								       : n.gateway));
	*net_out = json_pack("{s:s, s:s, s:s, s:O}", "name", n.name, "ip", ip, "mac", m.mac,
			     "ports", ports);
	if (json_array_size(more))
		json_object_set(*net_out, "more", more);
out:
	free(m.name);
	net_network_free(&n);
	return rc;
}

/* net_attach again: the same address, the new name. */
static int rename_on(const char *network, const char *id, const char *name, struct err *e)
{
	struct net_member m;
	int rc = net_attach(network, id, name, network_ctr_alive, NULL, &m, NULL, e);

	if (rc == 0)
		free(m.name);
	return rc;
}

void network_run_undo(const json_t *net, const char *id)
{
	const char *name = jsonx_str(net, "name");
	size_t i;
	json_t *x;

	if (name)
		net_detach(name, id, NULL);
	network_pending(id, false);
	json_array_foreach(json_object_get(net, "more"), i, x)
		if (jsonx_str(x, "name"))
			net_detach(jsonx_str(x, "name"), id, NULL);
}

int network_rename(const json_t *net, const char *id, const char *name, struct err *e)
{
	const char *first = jsonx_str(net, "name");
	size_t i;
	json_t *x;
	int rc = 0;

	json_array_foreach(json_object_get(net, "more"), i, x)
		if (rc == 0 && jsonx_str(x, "name"))
			rc = rename_on(jsonx_str(x, "name"), id, name, e);
	if (rc == 0 && first)
		rc = rename_on(first, id, name, e);
	return rc;
}

const json_t *network_endpoint(const json_t *net, const char *network)
{
	size_t i;
	json_t *x;

	if (!jsonx_str(net, "name"))
		return NULL;
	if (!strcmp(jsonx_str(net, "name"), network))
		return net;
	json_array_foreach(json_object_get(net, "more"), i, x)
		if (jsonx_str(x, "name") && !strcmp(jsonx_str(x, "name"), network))
			return x;
	return NULL;
}

/* --- runtime ---------------------------------------------------------------- */

int network_nat_sync(struct err *e)
{
	struct net_network *v;
	struct nat_net *nv;
	size_t n;
	int rc;

	if ((rc = net_load_all(&v, &n, e)) < 0)
		return rc;
	nv = xcalloc(n + 1, sizeof(*nv));
	for (size_t i = 0; i < n; i++)
		nv[i] = (struct nat_net){ v[i].bridge, v[i].subnet.addr, v[i].subnet.prefix,
					  v[i].internal };
	rc = nat_sync(nv, n, e);
	free(nv);
	net_free_all(v, n);
	return rc;
}

/* One endpoint's NIC: i = 0 for the first network (the TAP "ctap" + 11 hex
 * of the id, as before), 1… for the others ("ctap" + 10 hex + g…, never
 * a hex digit, so no name collides; within IFNAMSIZ). */
static int endpoint_nic(const json_t *ep, const char *id, size_t i, struct vm_nic *nic,
			int *tap_fd, struct err *e)
{
	const char *name = jsonx_str(ep, "name"), *mac = jsonx_str(ep, "mac");
	struct net_network n;
	char tap[16];
	int rc;

	*tap_fd = -1;
	if (!name || !mac || strlen(mac) != 17)
		return err_set(e, -EINVAL, "config.json: a network lacks a name or a MAC");
	if ((rc = net_load(name, &n, e)) < 0)
		return rc;
	if (geteuid() != 0) {
		/* rootless: QEMU's user-mode network on the same subnet, so the
		 * guest's static configuration holds; outbound only */
		uint32_t ip = 0;
		net_ip_parse(jsonx_str(ep, "ip") ? jsonx_str(ep, "ip") : "", &ip, e);
		*nic = (struct vm_nic){ .kind = VM_NIC_USER, .mac = mac, .fd = -1,
					.user_net = n.subnet.addr, .user_host = n.gateway,
					.user_dns = net_user_dns(&n.subnet, ip),
					.user_prefix = n.subnet.prefix };
		err_clear(e);
		net_network_free(&n);
		return 0;
	}
	if ((rc = link_bridge_ensure(n.bridge, n.gateway, n.subnet.prefix, n.mtu, e)) < 0)
		goto out;
	/* outbound NAT and isolation, then forwarding; without the rules no
	 * forwarding (it would join the networks): the container then has
	 * its network and DNS, but no way out */
	{
		struct err ne = ERR_INIT;
		if (network_nat_sync(&ne) < 0 || nat_forwarding(&ne) < 0)
			log_warn("network %s: no outbound access: %s", name, ne.msg);
	}
	if ((rc = network_helper_ensure(name, e)) < 0)
		goto out;
	if (i == 0)
		snprintf(tap, sizeof(tap), "ctap%.11s", id);
	else
		snprintf(tap, sizeof(tap), "ctap%.10s%c", id, (char)('g' + i - 1));
	/* a TAP on Linux; a datagram socket on the helper's vmnet switch on macOS */
	if ((rc = link_port_open(tap, n.bridge, mac, n.mtu, tap_fd, e)) < 0)
		goto out;
	*nic = (struct vm_nic){ .kind = rc == LINK_PORT_DGRAM ? VM_NIC_SOCKET : VM_NIC_TAP,
				.mac = mac, .fd = *tap_fd };
out:
	net_network_free(&n);
	return rc < 0 ? err_wrap(e, "network %s", name) : 0;
}

int network_runtime_nics(const json_t *net, const char *id, struct vm_nic *nics, int *tap_fds,
			 struct err *e)
{
	const json_t *more = json_object_get(net, "more");
	size_t n = 0, i;
	json_t *x;
	int rc;

	for (i = 0; i < NETWORK_NICS_MAX; i++)
		tap_fds[i] = -1;
	/* no name: disconnected, only the published ports remembered */
	if (!jsonx_str(net, "name"))
		return 0;
	if ((rc = network_nics_check(json_array_size(more) + 1, e)) < 0)
		return err_wrap(e, "config.json");
	if ((rc = endpoint_nic(net, id, n, &nics[n], &tap_fds[n], e)) < 0)
		return rc;
	n++;
	/* rootless: one user-mode network only (network_run_prepare refuses
	 * more; a bundle made as root gets its first network) */
	json_array_foreach(more, i, x) {
		if (geteuid() != 0)
			break;
		if ((rc = endpoint_nic(x, id, n, &nics[n], &tap_fds[n], e)) < 0) {
			for (size_t k = 0; k < n; k++)
				if (tap_fds[k] >= 0)
					close(tap_fds[k]);
			return rc;
		}
		n++;
	}
	return (int)n;
}

/* --- published ports ------------------------------------------------------------ */

static int ports_from_json(const json_t *a, struct net_port *v, size_t *n, struct err *e)
{
	size_t i;
	json_t *x;

	*n = 0;
	json_array_foreach(a, i, x) {
		const char *ip = jsonx_str(x, "host_ip"), *proto = jsonx_str(x, "proto");
		long long hp = jsonx_int(x, "host_port", -1), cp = jsonx_int(x, "container_port", -1);
		if (*n >= NET_PORTS_MAX || !ip || !proto || hp < 0 || hp > 65535 || cp < 1 ||
		    cp > 65535 || net_ip_parse(ip, &v[*n].host_ip, e) < 0)
			return err_set(e, -EINVAL, "config.json: bad published port %zu", i);
		v[*n].host_port = (uint16_t)hp;
		v[*n].ctr_port = (uint16_t)cp;
		v[*n].proto = !strcmp(proto, "udp") ? NET_UDP : NET_TCP;
		(*n)++;
	}
	return 0;
}

int network_runtime_ports(uv_loop_t *loop, const json_t *net, const char *id, struct proxy **out,
			  struct err *e)
{
	const json_t *ports = json_object_get(net, "ports");
	struct net_port *v;
	size_t n = 0;
	uint32_t ip;
	_cleanup_json_ json_t *bound = NULL;
	_cleanup_buf_ struct buf p = BUF_INIT;
	int rc;

	*out = NULL;
	if (!json_array_size(ports) || !jsonx_str(net, "name"))
		return 0;
	if ((rc = net_ip_parse(jsonx_str(net, "ip") ? jsonx_str(net, "ip") : "", &ip, e)) < 0)
		return rc;
	v = xcalloc(NET_PORTS_MAX, sizeof(*v));
	if ((rc = ports_from_json(ports, v, &n, e)) < 0 ||
	    (rc = proxy_start(loop, v, n, ip, out, e)) < 0) {
		free(v);
		return rc;
	}
	bound = json_array();
	for (size_t i = 0; i < n; i++) {
		char hs[NET_IP_STRLEN];
		net_ip_format(v[i].host_ip, hs);
		json_array_append_new(bound, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", hs,
						       "host_port", (int)v[i].host_port,
						       "container_port", (int)v[i].ctr_port, "proto",
						       net_proto_name(v[i].proto)));
	}
	free(v);
	if ((rc = bundle_path(id, "ports.json", &p, e)) < 0 ||
	    (rc = jsonx_write_file(buf_str(&p), bound, 0644, e)) < 0) {
		proxy_close(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

void network_runtime_stop(struct proxy *p)
{
	proxy_close(p);
}

json_t *network_ports_json(const char *id, const json_t *net)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *j;

	if (bundle_path(id, "ports.json", &p, &e) == 0 && access(buf_str(&p), F_OK) == 0 &&
	    (j = jsonx_load_file(buf_str(&p), 1u << 20, &e))) {
		if (json_is_array(j))
			return j;
		json_decref(j);
	}
	j = json_object_get(net, "ports");
	return json_is_array(j) ? json_deep_copy(j) : json_array();
}

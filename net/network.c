/* Networks on disk and address allocation (net/network.h).  Every change
 * happens under the networks lock: load, drop members whose container is
 * gone, change, write atomically. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "net/network.h"

#define MEMBERS_MAX 65536

void net_network_free(struct net_network *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->created);
	json_decref(n->labels);
	json_decref(n->options);
	for (size_t i = 0; i < n->n_members; i++)
		free(n->members[i].name);
	free(n->members);
	memset(n, 0, sizeof(*n));
}

void net_free_all(struct net_network *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_network_free(&v[i]);
	free(v);
}

int net_path(const char *name, struct buf *out, struct err *e)
{
	int rc;

	if ((rc = paths_data_dir(out, e)) < 0)
		return rc;
	buf_puts(out, "/networks");
	if (name) {
		if (!net_name_valid(name))
			return err_set(e, -EINVAL, "invalid network name '%s'", name);
		buf_printf(out, "/%s.json", name);
	}
	return 0;
}

/* --- JSON ------------------------------------------------------------------ */

json_t *net_to_json(const struct net_network *n)
{
	char sub[NET_IP_STRLEN + 3], gw[NET_IP_STRLEN], ip[NET_IP_STRLEN];
	json_t *m = json_object();

	net_cidr_format(&n->subnet, sub);
	net_ip_format(n->gateway, gw);
	for (size_t i = 0; i < n->n_members; i++) {
		net_ip_format(n->members[i].ip, ip);
		json_object_set_new(m, n->members[i].id,
				    json_pack("{s:s, s:s, s:s}", "name", n->members[i].name, "ip",
					      ip, "mac", n->members[i].mac));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:o, s:o, s:o}", "name",
			 n->name, "id", n->id, "created", n->created ? n->created : "", "subnet", sub,
			 "gateway", gw, "internal", n->internal, "mtu", (int)n->mtu, "bridge",
			 n->bridge, "labels", n->labels ? json_incref(n->labels) : json_object(),
			 "options", n->options ? json_incref(n->options) : json_object(),
			 "containers", m);
}

static int member_from_json(const char *id, json_t *o, struct net_member *m, const char *what,
			    struct err *e)
{
	const char *name, *ip, *mac;
	int rc;

	if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return err_set(e, -EINVAL, "%s: member '%.70s' is not a container id", what, id);
	if ((rc = jsonx_req_str(o, "name", &name, what, e)) < 0 ||
	    (rc = jsonx_req_str(o, "ip", &ip, what, e)) < 0 ||
	    (rc = jsonx_req_str(o, "mac", &mac, what, e)) < 0)
		return rc;
	if ((rc = net_ip_parse(ip, &m->ip, e)) < 0)
		return err_wrap(e, "%s", what);
	if (strlen(mac) != 17)
		return err_set(e, -EINVAL, "%s: bad MAC '%s'", what, mac);
	memcpy(m->id, id, 65);
	memcpy(m->mac, mac, 18);
	m->name = xstrdup(name);
	return 0;
}

static int from_json(json_t *j, const char *what, struct net_network *n, struct err *e)
{
	const char *s, *key;
	json_t *v, *mem;
	int rc;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(j))
		return err_set(e, -EINVAL, "%s: not an object", what);
	if ((rc = jsonx_req_str(j, "name", &s, what, e)) < 0)
		return rc;
	n->name = xstrdup(s);
	if ((rc = jsonx_opt_strdup(j, "created", &n->created, what, e)) < 0)
		return rc;
	if ((rc = jsonx_req_str(j, "id", &s, what, e)) < 0)
		return rc;
	snprintf(n->id, sizeof(n->id), "%s", s);
	if ((rc = jsonx_req_str(j, "subnet", &s, what, e)) < 0 ||
	    (rc = net_cidr_parse(s, &n->subnet, e)) < 0)
		return rc;
	n->gateway = net_cidr_gateway(&n->subnet);
	n->internal = json_is_true(json_object_get(j, "internal"));
	n->mtu = (unsigned)jsonx_int(j, "mtu", NET_MTU);
	if (n->mtu < 576 || n->mtu > 65535)
		return err_set(e, -EINVAL, "%s: mtu %u out of range", what, n->mtu);
	if ((rc = jsonx_req_str(j, "bridge", &s, what, e)) < 0)
		return rc;
	if (strlen(s) == 0 || strlen(s) >= sizeof(n->bridge))
		return err_set(e, -EINVAL, "%s: bad bridge name", what);
	memcpy(n->bridge, s, strlen(s) + 1);
	v = json_object_get(j, "labels");
	n->labels = json_is_object(v) ? json_incref(v) : json_object();
	v = json_object_get(j, "options");
	n->options = json_is_object(v) ? json_incref(v) : json_object();
	mem = json_object_get(j, "containers");
	if (mem && !json_is_object(mem))
		return err_set(e, -EINVAL, "%s: 'containers' is not an object", what);
	if (json_object_size(mem) > MEMBERS_MAX)
		return err_set(e, -E2BIG, "%s: too many containers", what);
	n->members = xcalloc(json_object_size(mem) + 1, sizeof(*n->members));
	json_object_foreach(mem, key, v) {
		if (!json_is_object(v))
			return err_set(e, -EINVAL, "%s: container %.12s is not an object", what, key);
		if ((rc = member_from_json(key, v, &n->members[n->n_members], what, e)) < 0)
			return rc;
		if (!net_cidr_contains(&n->subnet, n->members[n->n_members].ip))
			return err_set(e, -EINVAL, "%s: an address outside the subnet", what);
		n->n_members++;
	}
	return 0;
}

int net_load(const char *name, struct net_network *out, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = net_path(name, &p, e)) < 0)
		return rc;
	if (access(buf_str(&p), F_OK) < 0 && errno == ENOENT)
		return err_set(e, -ENOENT, "no such network: %s", name);
	if (!(j = jsonx_load_file(buf_str(&p), NET_FILE_MAX, e)))
		return e->code ? e->code : -EINVAL;
	if ((rc = from_json(j, buf_str(&p), out, e)) < 0) {
		net_network_free(out);
		return rc;
	}
	return 0;
}

static int save(const struct net_network *n, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = net_to_json(n);
	int rc;

	if ((rc = net_path(n->name, &p, e)) < 0)
		return rc;
	return jsonx_write_file(buf_str(&p), j, 0644, e);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct net_network *)a)->name, ((const struct net_network *)b)->name);
}

int net_load_all(struct net_network **out, size_t *n, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct net_network *v = xcalloc(NET_MAX_NETWORKS, sizeof(*v));
	struct dirent *de;
	size_t len = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (net_path(NULL, &dir, e) < 0) {
		free(v);
		return e->code;
	}
	if (!(d = opendir(buf_str(&dir)))) {
		free(v);
		return errno == ENOENT ? 0 : err_sys(e, "open %s", buf_str(&dir));
	}
	while ((de = readdir(d)) && len < NET_MAX_NETWORKS) {
		size_t k = strlen(de->d_name);
		struct err le = ERR_INIT;
		char name[80];
		if (de->d_name[0] == '.' || k < 6 || k - 5 >= sizeof(name) ||
		    strcmp(de->d_name + k - 5, ".json") != 0)
			continue;
		memcpy(name, de->d_name, k - 5);
		name[k - 5] = '\0';
		if (!net_name_valid(name))
			continue;
		if (net_load(name, &v[len], &le) < 0) {
			fprintf(stderr, "container: skipping network %s: %s\n", name, le.msg);
			continue;
		}
		len++;
	}
	closedir(d);
	qsort(v, len, sizeof(*v), by_name);
	*out = v;
	*n = len;
	return 0;
}

/* --- the lock ---------------------------------------------------------------- */

static int lock(int *fd, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	int rc;

	if ((rc = net_path(NULL, &dir, e)) < 0 || (rc = fs_mkdir_p(buf_str(&dir), 0755, e)) < 0)
		return rc;
	buf_puts(&dir, "/.lock");
	return fs_lock(buf_str(&dir), LOCK_EX, fd, e);
}

static void unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Drop members whose container is gone; whether anything changed. */
static bool gc(struct net_network *n, net_alive_fn alive, void *arg)
{
	size_t k = 0;

	if (!alive)
		return false;
	for (size_t i = 0; i < n->n_members; i++) {
		if (alive(n->members[i].id, arg))
			n->members[k++] = n->members[i];
		else
			free(n->members[i].name);
	}
	if (k == n->n_members)
		return false;
	n->n_members = k;
	return true;
}

/* --- create / delete ------------------------------------------------------ */

static void new_id(char out[65])
{
	unsigned char r[32] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	struct timespec ts;

	if (fd >= 0) {
		if (read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
			memset(r, 0, sizeof(r));
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	r[0] ^= (unsigned char)ts.tv_nsec; /* never all zeros, even without urandom */
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void now_rfc3339(char out[40])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Under the lock: pick subnet and bridge, write the file. */
static int create_locked(const char *name, const struct net_create_opts *o,
			 struct net_network *out, struct err *e)
{
	struct net_network *v = NULL, n = { 0 };
	size_t nv = 0;
	char when[40];
	int rc;

	if ((rc = net_load_all(&v, &nv, e)) < 0)
		return rc;
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].name, name)) {
			net_free_all(v, nv);
			return err_set(e, -EEXIST, "network %s already exists", name);
		}
	if (o->subnet) {
		if ((rc = net_cidr_parse(o->subnet, &n.subnet, e)) < 0)
			goto out;
	} else {
		/* 192.168.64.0/24 for default, then .65, .66 ... as Apple's */
		n.subnet = (struct net_cidr){ NET_DEFAULT_SUBNET, 24 };
		if (strcmp(name, NET_DEFAULT_NAME) != 0)
			n.subnet.addr += 1u << 8;
	}
	for (;;) {
		size_t i = 0;
		while (i < nv && !net_cidr_overlap(&v[i].subnet, &n.subnet))
			i++;
		if (i == nv)
			break;
		if (o->subnet) {
			rc = err_set(e, -EINVAL, "subnet %s overlaps network %s", o->subnet, v[i].name);
			goto out;
		}
		n.subnet.addr += 1u << 8;
		if (n.subnet.addr >= 0xc0a90000u) {
			rc = err_set(e, -ENOSPC, "no free /24 left in 192.168.64.0-192.168.255.0: "
						 "name one with --subnet");
			goto out;
		}
	}
	for (unsigned b = 0; b < NET_MAX_NETWORKS; b++) {
		size_t i = 0;
		snprintf(n.bridge, sizeof(n.bridge), "ctrbr%u", b);
		while (i < nv && strcmp(v[i].bridge, n.bridge) != 0)
			i++;
		if (i == nv)
			break;
	}
	n.name = xstrdup(name);
	new_id(n.id);
	now_rfc3339(when);
	n.created = xstrdup(when);
	n.gateway = net_cidr_gateway(&n.subnet);
	n.internal = o->internal;
	n.mtu = o->mtu ? o->mtu : NET_MTU;
	n.labels = o->labels ? json_incref(o->labels) : json_object();
	n.options = o->options ? json_deep_copy(o->options) : json_object();
	if ((rc = save(&n, e)) < 0)
		goto out;
	if (out) {
		*out = n;
		memset(&n, 0, sizeof(n));
	}
out:
	net_network_free(&n);
	net_free_all(v, nv);
	return rc;
}

int net_create(const char *name, const struct net_create_opts *o, struct net_network *out,
	       struct err *e)
{
	int fd = -1, rc;

	if (!net_name_valid(name))
		return err_set(e, -EINVAL, "invalid network name '%s': [a-zA-Z0-9][a-zA-Z0-9_.-]*, "
					   "at most 64", name);
	if (!strcmp(name, "none") || !strcmp(name, "host") || !strcmp(name, "bridge"))
		return err_set(e, -EINVAL, "'%s' is a reserved network name", name);
	if (o->mtu && (o->mtu < 576 || o->mtu > 9000))
		return err_set(e, -EINVAL, "mtu %u: want 576..9000", o->mtu);
	if ((rc = lock(&fd, e)) < 0)
		return rc;
	rc = create_locked(name, o, out, e);
	unlock(fd);
	return rc;
}

int net_delete(const char *name, net_alive_fn alive, void *arg, struct net_network *out,
	       struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct net_network n;
	int fd = -1, rc;

	if (!strcmp(name, NET_DEFAULT_NAME))
		return err_set(e, -EPERM, "the default network cannot be removed");
	if ((rc = lock(&fd, e)) < 0)
		return rc;
	if ((rc = net_load(name, &n, e)) < 0) {
		unlock(fd);
		return rc;
	}
	gc(&n, alive, arg);
	if (n.n_members) {
		_cleanup_buf_ struct buf who = BUF_INIT;
		for (size_t i = 0; i < n.n_members && i < 5; i++)
			buf_printf(&who, "%s%s", i ? ", " : "", n.members[i].name);
		rc = err_set(e, -EBUSY, "network %s is in use by %zu container%s (%s%s)", name,
			     n.n_members, n.n_members == 1 ? "" : "s", buf_str(&who),
			     n.n_members > 5 ? ", ..." : "");
	} else if ((rc = net_path(name, &p, e)) == 0 && unlink(buf_str(&p)) < 0) {
		rc = err_sys(e, "remove %s", buf_str(&p));
	}
	unlock(fd);
	if (rc == 0 && out)
		*out = n;
	else
		net_network_free(&n);
	return rc;
}

/* --- members ----------------------------------------------------------------- */

int net_attach(const char *name, const char *id, const char *ctr_name, net_alive_fn alive,
	       void *arg, struct net_member *m, struct net_network *net, struct err *e)
{
	struct net_network n;
	uint32_t *used = NULL;
	int fd = -1, rc;
	bool dirty;

	if ((rc = lock(&fd, e)) < 0)
		return rc;
	rc = net_load(name, &n, e);
	if (rc == -ENOENT && !strcmp(name, NET_DEFAULT_NAME)) {
		struct net_create_opts o = { 0 };
		err_clear(e);
		rc = create_locked(name, &o, &n, e);
	}
	if (rc < 0) {
		unlock(fd);
		return rc;
	}
	dirty = gc(&n, alive, arg);
	{
		const struct net_member *have = net_member_find(&n, id);
		if (have && !strcmp(have->id, id)) {
			/* again after a rename: the name DNS answers follows */
			if (ctr_name && strcmp(have->name, ctr_name) != 0) {
				struct net_member *w = (struct net_member *)have;
				free(w->name);
				w->name = xstrdup(ctr_name);
				dirty = true;
			}
			*m = *have;
			m->name = xstrdup(have->name);
			goto done;
		}
	}
	used = xcalloc(n.n_members + 1, sizeof(*used));
	for (size_t i = 0; i < n.n_members; i++)
		used[i] = n.members[i].ip;
	memset(m, 0, sizeof(*m));
	if ((rc = ipam_alloc(&n.subnet, used, n.n_members, &m->ip, e)) < 0)
		goto done;
	memcpy(m->id, id, 65);
	m->name = xstrdup(ctr_name);
	net_mac_for(m->ip, m->mac);
	n.members = xreallocarray(n.members, n.n_members + 1, sizeof(*n.members));
	n.members[n.n_members] = *m;
	n.members[n.n_members].name = xstrdup(ctr_name);
	n.n_members++;
	dirty = true;
done:
	if (rc == 0 && dirty)
		rc = save(&n, e);
	unlock(fd);
	free(used);
	if (rc == 0 && net)
		*net = n;
	else
		net_network_free(&n);
	if (rc < 0)
		free(m->name), m->name = NULL;
	return rc;
}

int net_detach(const char *name, const char *id, struct err *e)
{
	struct net_network n;
	int fd = -1, rc;
	size_t k = 0;

	if ((rc = lock(&fd, e)) < 0)
		return rc;
	if ((rc = net_load(name, &n, e)) < 0) {
		unlock(fd);
		return rc == -ENOENT ? (err_clear(e), 0) : rc;
	}
	for (size_t i = 0; i < n.n_members; i++) {
		if (strcmp(n.members[i].id, id) != 0)
			n.members[k++] = n.members[i];
		else
			free(n.members[i].name);
	}
	if (k != n.n_members) {
		n.n_members = k;
		rc = save(&n, e);
	}
	unlock(fd);
	net_network_free(&n);
	return rc;
}

const struct net_member *net_member_find(const struct net_network *n, const char *q)
{
	size_t ql = strlen(q);

	for (size_t i = 0; i < n->n_members; i++)
		if (!strcmp(n->members[i].name, q))
			return &n->members[i];
	if (ql < 12 || ql > 64 || strspn(q, "0123456789abcdef") != ql)
		return NULL;
	for (size_t i = 0; i < n->n_members; i++)
		if (!strncmp(n->members[i].id, q, ql))
			return &n->members[i];
	return NULL;
}

/* net/network.c: networks on disk in a scratch $CONTAINER_DATA_DIR:
 * create (names, subnets, overlaps, bridges), attach/detach with address
 * allocation and reuse, members whose container is gone dropped, delete
 * refused while in use, and parallel attaches never sharing an address. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/err.h"
#include "net/network.h"
#include "t/tap.h"

static const char *gone;   /* the id the alive callback says is gone */

static bool alive(const char *id, void *arg)
{
	(void)arg;
	return !gone || strcmp(id, gone) != 0;
}

static void id_of(int i, char out[65])
{
	snprintf(out, 65, "%064x", i);
}

int main(void)
{
	char dir[] = "/tmp/net_network.XXXXXX", a[65], b[65], c[65], cmd[64];
	struct net_create_opts o = { 0 };
	struct net_network n;
	struct net_member m;
	struct err e = ERR_INIT;
	char ip[NET_IP_STRLEN];

	if (!mkdtemp(dir))
		return 1;
	setenv("CONTAINER_DATA_DIR", dir, 1);
	id_of(1, a);
	id_of(2, b);
	id_of(3, c);

	is_int(net_load("default", &n, &e), -ENOENT, "no network at first");
	is_int(net_attach("default", a, "alpha", alive, NULL, &m, &n, &e), 0,
	       "attaching to default creates it");
	net_ip_format(m.ip, ip);
	is_str(ip, "192.168.64.2", "... the first address is .2 of 192.168.64.0/24");
	ok(!strncmp(m.mac, "02:", 3), "... with a locally administered MAC");
	is_str(n.bridge, "ctrbr0", "... on bridge ctrbr0");
	free(m.name);
	net_network_free(&n);
	is_int(net_attach("default", a, "alpha", alive, NULL, &m, NULL, &e), 0, "attaching again");
	net_ip_format(m.ip, ip);
	is_str(ip, "192.168.64.2", "... is idempotent");
	free(m.name);
	net_attach("default", b, "beta", alive, NULL, &m, NULL, &e);
	net_ip_format(m.ip, ip);
	is_str(ip, "192.168.64.3", "a second container gets .3");
	free(m.name);
	is_int(net_detach("default", a, &e), 0, "detach");
	net_attach("default", c, "gamma", alive, NULL, &m, NULL, &e);
	net_ip_format(m.ip, ip);
	is_str(ip, "192.168.64.2", "a released .2 is handed out again");
	free(m.name);

	is_int(net_create("net1", &o, &n, &e), 0, "create net1 without a subnet");
	{
		char s[NET_IP_STRLEN + 3];
		net_cidr_format(&n.subnet, s);
		is_str(s, "192.168.65.0/24", "... takes the next /24");
		is_str(n.bridge, "ctrbr1", "... and the next bridge name");
	}
	net_network_free(&n);
	is_int(net_create("net1", &o, NULL, &e), -EEXIST, "a taken name is refused");
	o.subnet = "192.168.65.128/25";
	is_int(net_create("net2", &o, NULL, &e), -EINVAL, "an overlapping subnet is refused");
	o.subnet = "10.0.0.0/30";
	is_int(net_create("tiny", &o, NULL, &e), 0, "a /30");
	o.subnet = NULL;
	is_int(net_create("none", &o, NULL, &e), -EINVAL, "'none' is reserved");
	is_int(net_create("../x", &o, NULL, &e), -EINVAL, "a path is not a name");
	is_int(net_attach("tiny", a, "alpha", alive, NULL, &m, NULL, &e), 0, "the /30's one address");
	free(m.name);
	is_int(net_attach("tiny", b, "beta", alive, NULL, &m, NULL, &e), -ENOSPC, "then it is full");
	is_int(net_attach("nosuch", b, "beta", alive, NULL, &m, NULL, &e), -ENOENT,
	       "an unknown network (other than default) is not created");

	is_int(net_delete("tiny", alive, NULL, NULL, &e), -EBUSY, "delete refuses a network in use");
	ok(strstr(e.msg, "alpha") != NULL, "... naming the container (%s)", e.msg);
	gone = a;
	is_int(net_delete("tiny", alive, NULL, NULL, &e), 0, "once its container is gone, delete works");
	gone = NULL;
	is_int(net_delete("default", alive, NULL, NULL, &e), -EPERM, "default cannot be deleted");

	/* the members' names and ids, for DNS */
	net_load("default", &n, &e);
	ok(net_member_find(&n, "beta") && net_member_find(&n, "000000000000") &&
	   !net_member_find(&n, "00000000"), "find by name and by 12+ hex of the id, not fewer");
	net_network_free(&n);

	/* 8 processes attaching 8 containers each at once: 64 distinct addresses */
	net_create("busy", &(struct net_create_opts){ .subnet = "10.1.0.0/24" }, NULL, &e);
	for (int p = 0; p < 8; p++) {
		if (fork() == 0) {
			for (int k = 0; k < 8; k++) {
				char id[65], nm[16];
				struct net_member mm;
				id_of(100 + p * 8 + k, id);
				snprintf(nm, sizeof(nm), "c%d", p * 8 + k);
				if (net_attach("busy", id, nm, alive, NULL, &mm, NULL, &e) < 0)
					_exit(1);
				free(mm.name);
			}
			_exit(0);
		}
	}
	{
		int st, bad = 0;
		while (wait(&st) > 0)
			bad += !WIFEXITED(st) || WEXITSTATUS(st);
		is_int(bad, 0, "parallel attaches all succeed");
	}
	net_load("busy", &n, &e);
	{
		int dup = 0;
		for (size_t i = 0; i < n.n_members; i++)
			for (size_t k = i + 1; k < n.n_members; k++)
				dup += n.members[i].ip == n.members[k].ip;
		is_int(n.n_members, 64, "... 64 members recorded");
		is_int(dup, 0, "... no address handed out twice");
	}
	net_network_free(&n);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}

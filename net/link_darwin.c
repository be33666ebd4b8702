/* net/link.h on macOS: the network's vmnet interface is made and switched
 * by its helper (`container-network`, net/vmnet_darwin.c), so there is no
 * bridge to make or delete here; a VM's port is a datagram socket from
 * that helper's switch (net/vport.h), for VZFileHandleNetworkDeviceAttachment. */
#include <errno.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "net/link.h"
#include "net/vport.h"

/* The helper may still be starting vmnet (a second or two). */
#define PORT_TIMEOUT_MS 20000

int link_bridge_ensure(const char *bridge, uint32_t gw, unsigned prefix, unsigned mtu,
		       struct err *e)
{
	(void)bridge;
	(void)gw;
	(void)prefix;
	(void)mtu;
	(void)e;
	return 0;
}

int link_bridge_delete(const char *bridge, struct err *e)
{
	(void)bridge;
	(void)e;
	return 0;
}

int link_tap_open(const char *ifname, const char *bridge, unsigned mtu, int *fd, struct err *e)
{
	(void)bridge;
	(void)mtu;
	*fd = -1;
	return err_set(e, -ENOTSUP, "%s: no TAP devices on macOS", ifname);
}

int link_port_open(const char *ifname, const char *bridge, const char *mac, unsigned mtu, int *fd,
		   struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	int ctl, rc;

	(void)ifname;
	(void)mtu;
	*fd = -1;
	if ((rc = vport_path(bridge, &path, e)) < 0)
		return rc;
	if ((rc = vport_open(buf_str(&path), mac, PORT_TIMEOUT_MS, fd, &ctl, e)) < 0)
		return err_wrap(e, "(why the helper did not start: $RUN/network-<name>.log)");
	/* ctl is deliberately kept: the port lives while it is open, and the
	 * runtime (one VM) ends it by exiting, crash or not */
	return LINK_PORT_DGRAM;
}

int link_exists(const char *name, struct err *e)
{
	(void)name;
	(void)e;
	return 0;
}

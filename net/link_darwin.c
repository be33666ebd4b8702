/* net/link.h on macOS: the vmnet backend (issue #7's macOS part) is not
 * here yet, so a network interface cannot be made; `run --network none`
 * works, anything else says why. */
#include <errno.h>

#include "lib/err.h"
#include "net/link.h"

int link_bridge_ensure(const char *bridge, uint32_t gw, unsigned prefix, unsigned mtu,
		       struct err *e)
{
	(void)gw;
	(void)prefix;
	(void)mtu;
	return err_set(e, -ENOTSUP, "bridge %s: networks need the vmnet backend, not built yet "
				    "(use --network none)", bridge);
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
	return err_set(e, -ENOTSUP, "%s: no TAP devices on macOS (use --network none)", ifname);
}

int link_exists(const char *name, struct err *e)
{
	(void)name;
	(void)e;
	return 0;
}

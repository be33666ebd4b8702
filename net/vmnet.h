/* The network helper's frame switch (issue #7, macOS): one vmnet.framework
 * interface in shared mode per network, on the network's subnet, and the
 * VMs' ports (net/vport.h) switched to it and to each other by
 * net/vswitch.h.  Called by the helper role (applets/network_helper.c),
 * which owns the loop.
 *
 * macOS: net/vmnet_darwin.c (vmnet reached with dlopen/dlsym; needs root,
 * as socket_vmnet does, or the com.apple.vm.networking entitlement).
 * Linux: net/vmnet_linux.c does nothing: the kernel's bridge switches and
 * each VM has a TAP (net/link.h). */
#ifndef NET_VMNET_H
#define NET_VMNET_H

#include <uv.h>

struct err;
struct net_network;
struct vmnet;

/* Start the interface and serve VM ports at vport_path(n->bridge) on
 * loop; *out NULL (and 0) where there is nothing to do (Linux). */
int vmnet_start(uv_loop_t *loop, const struct net_network *n, struct vmnet **out, struct err *e);

/* Stop the interface, then close every port (the VMs lose their link);
 * on the loop's thread.  NULL is a no-op. */
void vmnet_stop(struct vmnet *v);

#endif

/* net/vmnet.h on Linux: nothing to switch in user space; the runtime puts
 * each VM's TAP on the network's bridge (net/link_linux.c). */
#include <stddef.h>

#include "net/vmnet.h"

int vmnet_start(uv_loop_t *loop, const struct net_network *n, struct vmnet **out, struct err *e)
{
	(void)loop;
	(void)n;
	(void)e;
	*out = NULL;
	return 0;
}

void vmnet_stop(struct vmnet *v)
{
	(void)v;
}

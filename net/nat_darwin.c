/* net/nat.h on macOS: vmnet's shared mode NATs and isolates by itself. */
#include "net/nat.h"

int nat_sync(const struct nat_net *v, size_t n, struct err *e)
{
	(void)v;
	(void)n;
	(void)e;
	return 0;
}

int nat_forwarding(struct err *e)
{
	(void)e;
	return 0;
}

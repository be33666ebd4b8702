/* The long-running roles, as they stand today: each is dispatched (by
 * program name or as `container ROLE`) and documents itself, and each says
 * plainly that its body arrives with its issue rather than pretending to
 * work.  A role moves into its own file when it is implemented (the API
 * server is in applets/apiserver.c, the guest init in applets/init_<os>.c). */
#include <stdio.h>

#include "applets/applets.h"
#include "lib/exit.h"

static int not_yet(const struct cmd *c, void *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	fprintf(stderr, "container %s: %s\n", c->name, c->help);
	return EXIT_FAIL;
}

/* `container network` will be the user-facing network command group
 * (issue #7), so the role's subcommand name is network-helper. */
const struct cmd cmd_network_helper = {
	.name = "network-helper",
	.summary = "Role: the network helper (bridge/TAP/NAT on Linux, vmnet on macOS)",
	.usage = "NETWORK",
	.help = "Not implemented yet (issue #7).",
	.min_args = 1,
	.max_args = 1,
	.run = not_yet,
};

/* The `init` role on macOS: the guest init only runs inside a Linux guest
 * (the darwin binary embeds the linux-arm64 build for that), so here it only
 * says so. */
#include <stdio.h>

#include "applets/applets.h"
#include "lib/exit.h"

static int init_run(const struct cmd *c, void *o, int argc, char **argv)
{
	(void)c;
	(void)o;
	(void)argc;
	(void)argv;
	fprintf(stderr, "container init: the guest init runs only inside a Linux guest VM\n");
	return EXIT_FAIL;
}

const struct cmd cmd_init = {
	.name = "init",
	.summary = "Role: PID 1 inside the guest VM (the guest agent)",
	.max_args = -1,
	.run = init_run,
};

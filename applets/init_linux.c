/* The `init` role on Linux: PID 1 inside the guest VM (initrd/init.c).  It
 * parses its own arguments (the kernel hands it the command line's
 * leftovers), so it takes no options here. */
#include "applets/applets.h"
#include "initrd/init.h"
#include "lib/mem.h"

static int init_run(const struct cmd *c, void *o, int argc, char **argv)
{
	/* init_main wants a conventional argv: its name, then the leftovers. */
	char **args = xcalloc((size_t)argc + 2, sizeof(*args));
	int rc;

	(void)o;
	args[0] = (char *)c->name;
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	rc = init_main(argc + 1, args);
	free(args);
	return rc;
}

const struct cmd cmd_init = {
	.name = "init",
	.summary = "Role: PID 1 inside the guest VM (the guest agent)",
	.help = "Started by the guest kernel as /init from the embedded initramfs; it reads\n"
		"its configuration from the kernel command line (container.*=) and the agent\n"
		"channel, never from a host user.",
	.max_args = -1,
	.flags = OPT_STOP_AT_OPERAND,
	.run = init_run,
};

/* The `container` command itself: global options (--version, --debug,
 * --help), the top-level help with the command list, and `container help
 * COMMAND...`.  Subcommand dispatch is lib/cmd.c's group handling over the
 * applet table. */
#include <stdio.h>
#include <string.h>

#include "applets/applets.h"
#include "lib/buf.h"
#include "lib/exit.h"

struct container_opts {
	int version;
};

static const struct opt container_optv[] = {
	OPT_FLAG('v', "version", struct container_opts, version, "Print the version and exit"),
	OPT_END,
};

static int container_run(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct container_opts *opts = o;

	(void)argc;
	(void)argv;
	if (opts->version) {
		printf("container version %s (commit %s, %s, built %s)\n", container_version,
		       container_commit, container_target, container_build_date);
		return EXIT_OK;
	}
	cmd_usage(stdout, "container", c);
	return EXIT_OK;
}

const struct cmd cmd_container = {
	.name = "container",
	.summary = "Run Linux containers, each in its own lightweight virtual machine.",
	.usage = "[--debug] COMMAND [OPTIONS] [ARG...]",
	.help = "Every role of the product is this one program: run it as 'container COMMAND',\n"
		"or through a link named after a role (container-apiserver, container-runtime,\n"
		"container-network, init).",
	.opts = container_optv,
	.opts_size = sizeof(struct container_opts),
	.run = container_run,
	.sub = applet_cmds,
};

/* `container help [COMMAND [SUBCOMMAND...]]`: the same text as --help. */
static int help_run(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct cmd *cur = &cmd_container;
	struct buf path = BUF_INIT;

	(void)c;
	(void)o;
	buf_puts(&path, "container");
	for (int i = 0; i < argc; i++) {
		const struct cmd *next = cmd_find(cur->sub, argv[i]);
		if (!next) {
			fprintf(stderr, "%s: unknown command '%s'\n\nCommands:\n", buf_str(&path), argv[i]);
			cmd_list(stderr, cur->sub);
			buf_free(&path);
			return EXIT_USAGE;
		}
		cur = next;
		buf_printf(&path, " %s", cur->name);
	}
	cmd_usage(stdout, buf_str(&path), cur);
	buf_free(&path);
	return EXIT_OK;
}

const struct cmd cmd_help = {
	.name = "help",
	.summary = "Show help for a command",
	.usage = "[COMMAND [SUBCOMMAND...]]",
	.min_args = 0,
	.max_args = -1,
	.run = help_run,
};

/* Dispatch only: the applet named by basename(argv[0]) (a symlink such as
 * container-apiserver), else the `container` CLI, which picks the command
 * from argv[1].  Everything else lives in applets/. */
#include <string.h>

#include "applets/applets.h"

int main(int argc, char **argv)
{
	const char *name = argc > 0 && argv[0] ? argv[0] : "container";
	const char *slash = strrchr(name, '/');
	const struct applet *a;

	if (slash)
		name = slash + 1;
	a = applet_by_argv0(name);
	if (a)
		return cmd_run(a->cmd, a->argv0, argc - 1, argv + 1);
	return cmd_run(&cmd_container, "container", argc > 0 ? argc - 1 : 0, argv + 1);
}

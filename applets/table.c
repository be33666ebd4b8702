/* The applet table expanded from applets/applets.def, and lookup by
 * program name. */
#include <stddef.h>
#include <string.h>

#include "applets/applets.h"

const struct applet applets[] = {
#define APPLET(sym, argv0) { &cmd_##sym, argv0 },
#include "applets/applets.def"
#undef APPLET
	{ NULL, NULL },
};

const struct cmd *const applet_cmds[] = {
#define APPLET(sym, argv0) &cmd_##sym,
#include "applets/applets.def"
#undef APPLET
	NULL,
};

const struct applet *applet_by_argv0(const char *name)
{
	for (const struct applet *a = applets; a->cmd; a++)
		if (a->argv0 && strcmp(a->argv0, name) == 0)
			return a;
	return NULL;
}

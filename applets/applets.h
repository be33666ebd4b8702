/* The applet table (applets/applets.def) as data, for main.c and the CLI. */
#ifndef APPLETS_APPLETS_H
#define APPLETS_APPLETS_H

#include "lib/opt.h"

struct applet {
	const struct cmd *cmd;
	const char *argv0;   /* program name selecting it directly, or NULL */
};

#define APPLET(sym, argv0) extern const struct cmd cmd_##sym;
#include "applets/applets.def"
#undef APPLET

extern const struct applet applets[];
extern const struct cmd *const applet_cmds[];   /* NULL-terminated */

/* The top-level `container` command: a group over applet_cmds. */
extern const struct cmd cmd_container;

/* The applet selected by a program name, or NULL (then: the CLI). */
const struct applet *applet_by_argv0(const char *name);

/* Build facts, for --version and `container version`. */
extern const char container_version[];
extern const char container_commit[];
extern const char container_target[];
extern const char container_build_date[];

#endif

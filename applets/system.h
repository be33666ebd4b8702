/* The subcommands of `container system` defined outside applets/system.c,
 * listed in its group: version, df, logs (applets/system_info.c); install,
 * uninstall (applets/login.c). */
#ifndef APPLETS_SYSTEM_H
#define APPLETS_SYSTEM_H

#include "lib/opt.h"

extern const struct cmd cmd_system_version;
extern const struct cmd cmd_system_df;
extern const struct cmd cmd_system_logs;
extern const struct cmd cmd_system_install;     /* applets/login.c */
extern const struct cmd cmd_system_uninstall;

#endif

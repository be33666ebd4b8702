/* The subcommands of `container system` defined outside applets/system.c,
 * listed in its group: version, df, logs (applets/system_info.c). */
#ifndef APPLETS_SYSTEM_H
#define APPLETS_SYSTEM_H

#include "lib/opt.h"

extern const struct cmd cmd_system_version;
extern const struct cmd cmd_system_df;
extern const struct cmd cmd_system_logs;

#endif

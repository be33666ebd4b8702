/* Stopping a container through its runtime's socket (applets/stop.c), for
 * `stop`, `kill` and `rm -f`. */
#ifndef APPLETS_STOP_H
#define APPLETS_STOP_H

#include <stdbool.h>

struct err;

/* query: id, unique id prefix or name.  stop: signo (SIGTERM) to the
 * workload, up to timeout_s for it to exit, then the VM is killed; is_kill
 * with a signal other than SIGKILL only signals the workload.  Returns once
 * the VM is gone (stop, SIGKILL); -ESRCH when it was not running. */
int stop_container(const char *query, int signo, long timeout_s, bool is_kill, struct err *e);

#endif

/* Where state lives (DESIGN.md "State on disk").  Each directory can be
 * overridden by an environment variable, which tests use to stay in their
 * own scratch space:
 *
 *   data    $CONTAINER_DATA_DIR, else Linux: /var/lib/container as root,
 *           ${XDG_DATA_HOME:-~/.local/share}/container otherwise;
 *           macOS: ~/Library/Application Support/container
 *   run     $CONTAINER_RUN_DIR, else Linux: /run/container as root,
 *           $XDG_RUNTIME_DIR/container, else <data>/run; macOS: <data>/run
 *   docker  $DOCKER_CONFIG, else ~/.docker (config.json with registry
 *           credentials, shared with the docker CLI)
 *
 * Each function appends the path to out (nothing is created). */
#ifndef LIB_PATHS_H
#define LIB_PATHS_H

struct buf;
struct err;

int paths_data_dir(struct buf *out, struct err *e);
int paths_run_dir(struct buf *out, struct err *e);
int paths_docker_config_dir(struct buf *out, struct err *e);

/* The running executable's absolute path (/proc/self/exe on Linux,
 * _NSGetExecutablePath on macOS), for spawning this program's other roles
 * (the runtime helper) without trusting argv[0] or PATH. */
int paths_self_exe(struct buf *out, struct err *e);
/* What to hand to exec to run this very program again: on Linux
 * "/proc/self/exe", which the forked child resolves to the image it is
 * running even when the file was replaced or deleted since (a rebuild
 * under a running server); elsewhere paths_self_exe. */
int paths_self_spawn(struct buf *out, struct err *e);

/* Per-platform defaults (lib/paths_linux.c, lib/paths_darwin.c). */
int paths__data_default(struct buf *out, const char *home, struct err *e);
int paths__run_default(struct buf *out, const char *data, struct err *e);

#endif

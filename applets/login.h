/* Starting the API server at login (issue #6): `container system install`
 * and `uninstall` (applets/login.c) write or remove the service manager's
 * description of container-apiserver; the per-OS part is
 * applets/login_linux.c (a systemd user unit; we never run systemctl: the
 * user is shown the exact line) or applets/login_darwin.c (a LaunchAgent,
 * loaded with launchctl, the OS's own service manager: spawning it is the
 * only way to reach launchd without private API).
 *
 * Both run `<this binary> apiserver --foreground --log-file`: the service
 * manager supervises the process, the log stays $DATA/apiserver.log (so
 * `system logs` shows it), and stopping the service leaves the containers'
 * runtimes running (systemd KillMode=process, launchd
 * AbandonProcessGroup), as `system stop` does. */
#ifndef APPLETS_LOGIN_H
#define APPLETS_LOGIN_H

#include <stdbool.h>

struct buf;
struct err;

#define LOGIN_UNIT "container-apiserver.service"
#define LOGIN_LABEL "io.github.container.apiserver"

/* The systemd unit / launchd plist for exe (absolute path), environment
 * variables env (NULL-terminated "K=V", may be NULL) to pass on. Pure:
 * quoted for the file's syntax, so any path is safe. */
void login_unit_text(struct buf *out, const char *exe, const char *const *env);
void login_plist_text(struct buf *out, const char *exe, const char *log_path,
		      const char *const *env);

/* Per OS: where the file goes (appended to out), then install (write it,
 * activate it or print how) and uninstall.  print_only: show, change
 * nothing. */
int login__path(struct buf *out, struct err *e);
int login__install(const char *path, const char *exe, const char *const *env, bool print_only,
		   struct err *e);
int login__uninstall(const char *path, struct err *e);

#endif

/* macOS side of applets/login.h: a LaunchAgent in ~/Library/LaunchAgents,
 * loaded with `launchctl bootstrap gui/<uid> PLIST` (and unloaded with
 * `launchctl bootout gui/<uid>/LABEL`).  launchctl is spawned by absolute
 * path with an argv array: launchd has no public C API for this, and it
 * is the OS's service manager, not a tool we depend on.  Compiled only in
 * the darwin build; not run here (no Mac). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applets/login.h"
#include "applets/apiserver.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/paths.h"

extern char **environ;

int login__path(struct buf *out, struct err *e)
{
	const char *home = getenv("HOME");

	if (!home || home[0] != '/')
		return err_set(e, -ENOENT, "HOME is not set to an absolute path");
	return buf_printf(out, "%s/Library/LaunchAgents/" LOGIN_LABEL ".plist", home) < 0
		       ? err_set(e, -ENOMEM, "path")
		       : 0;
}

/* Run /bin/launchctl with args; its exit status, or a negative errno. */
static int launchctl(const char *a1, const char *a2, const char *a3)
{
	char *argv[] = { (char *)"launchctl", (char *)a1, (char *)a2, (char *)a3, NULL };
	pid_t pid;
	int st, rc = posix_spawn(&pid, "/bin/launchctl", NULL, NULL, argv, environ);

	if (rc != 0)
		return -rc;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int login__install(const char *path, const char *exe, const char *const *env, bool print_only,
		   struct err *e)
{
	_cleanup_buf_ struct buf text = BUF_INIT, log = BUF_INIT, dir = BUF_INIT;
	_cleanup_buf_ struct buf domain = BUF_INIT, target = BUF_INIT;
	const char *slash;
	int rc;

	if ((rc = paths_data_dir(&log, e)) < 0)
		return rc;
	buf_puts(&log, "/" APISERVER_LOG);
	login_plist_text(&text, exe, buf_str(&log), env);
	if (print_only) {
		fputs(buf_str(&text), stdout);
		return 0;
	}
	slash = strrchr(path, '/');
	buf_append(&dir, path, (size_t)(slash - path));
	if ((rc = fs_mkdir_p(buf_str(&dir), 0755, e)) < 0 ||
	    (rc = fs_write_atomic(path, text.data, text.len, 0644, e)) < 0)
		return rc;
	buf_printf(&domain, "gui/%u", (unsigned)getuid());
	buf_printf(&target, "gui/%u/" LOGIN_LABEL, (unsigned)getuid());
	(void)launchctl("bootout", buf_str(&target), NULL);   /* an older one, if loaded */
	if ((rc = launchctl("bootstrap", buf_str(&domain), path)) != 0)
		return err_set(e, rc < 0 ? rc : -EIO,
			       "wrote %s, but 'launchctl bootstrap %s %s' failed (%d)", path,
			       buf_str(&domain), path, rc);
	printf("Wrote %s and loaded it (launchctl bootstrap %s): the API server runs now\n"
	       "and at every login\n",
	       path, buf_str(&domain));
	return 0;
}

int login__uninstall(const char *path, struct err *e)
{
	_cleanup_buf_ struct buf target = BUF_INIT;

	buf_printf(&target, "gui/%u/" LOGIN_LABEL, (unsigned)getuid());
	(void)launchctl("bootout", buf_str(&target), NULL);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, "remove %s", path);
	printf("Unloaded and removed %s\n", path);
	return 0;
}

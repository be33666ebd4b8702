/* Linux side of applets/login.h: a systemd user unit.  We never run
 * systemctl ourselves (no shelling out): the user gets the exact line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/login.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

/* ${XDG_CONFIG_HOME:-~/.config}/systemd/user */
static int unit_dir(struct buf *out, struct err *e)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && x[0] == '/')
		return buf_printf(out, "%s/systemd/user", x) < 0 ? err_set(e, -ENOMEM, "path") : 0;
	if (!home || home[0] != '/')
		return err_set(e, -ENOENT, "HOME is not set to an absolute path");
	return buf_printf(out, "%s/.config/systemd/user", home) < 0 ? err_set(e, -ENOMEM, "path") : 0;
}

int login__path(struct buf *out, struct err *e)
{
	int rc = unit_dir(out, e);

	return rc < 0 ? rc : buf_puts(out, "/" LOGIN_UNIT);
}

int login__install(const char *path, const char *exe, const char *const *env, bool print_only,
		   struct err *e)
{
	_cleanup_buf_ struct buf text = BUF_INIT, dir = BUF_INIT;
	int rc;

	login_unit_text(&text, exe, env);
	if (print_only) {
		fputs(buf_str(&text), stdout);
		return 0;
	}
	if ((rc = unit_dir(&dir, e)) < 0 || (rc = fs_mkdir_p(buf_str(&dir), 0755, e)) < 0 ||
	    (rc = fs_write_atomic(path, text.data, text.len, 0644, e)) < 0)
		return rc;
	printf("Wrote %s\n"
	       "To start the API server now and at every login, run:\n"
	       "  systemctl --user daemon-reload && systemctl --user enable --now " LOGIN_UNIT "\n"
	       "(and 'loginctl enable-linger' to keep it running without a login session)\n",
	       path);
	return 0;
}

int login__uninstall(const char *path, struct err *e)
{
	_cleanup_buf_ struct buf wants = BUF_INIT;
	struct stat st;
	int rc;

	if ((rc = unit_dir(&wants, e)) < 0)
		return rc;
	buf_puts(&wants, "/default.target.wants/" LOGIN_UNIT);
	if (lstat(buf_str(&wants), &st) == 0)
		return err_set(e, -EBUSY, "the unit is still enabled: run first\n"
				  "  systemctl --user disable --now " LOGIN_UNIT);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, "remove %s", path);
	printf("Removed %s\n", path);
	return 0;
}

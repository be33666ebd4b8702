/* Linux defaults for lib/paths.h: FHS locations as root, XDG otherwise. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/paths.h"

int paths__data_default(struct buf *out, const char *home, struct err *e)
{
	const char *xdg = getenv("XDG_DATA_HOME");

	(void)e;
	if (geteuid() == 0)
		buf_puts(out, "/var/lib/container");
	else if (xdg && *xdg == '/')
		buf_printf(out, "%s/container", xdg);
	else
		buf_printf(out, "%s/.local/share/container", home);
	return 0;
}

int paths__run_default(struct buf *out, const char *data, struct err *e)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	(void)e;
	if (geteuid() == 0)
		buf_puts(out, "/run/container");
	else if (xdg && *xdg == '/')
		buf_printf(out, "%s/container", xdg);
	else
		buf_printf(out, "%s/run", data);
	return 0;
}

int paths_self_exe(struct buf *out, struct err *e)
{
	char p[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", p, sizeof(p) - 1);

	if (n < 0)
		return err_sys(e, "readlink /proc/self/exe");
	if ((size_t)n >= sizeof(p) - 1)
		return err_set(e, -ENAMETOOLONG, "the executable's path is too long");
	return buf_append(out, p, (size_t)n) < 0 ? err_set(e, -E2BIG, "path too long") : 0;
}

int paths_self_spawn(struct buf *out, struct err *e)
{
	if (access("/proc/self/exe", X_OK) != 0)
		return paths_self_exe(out, e);
	buf_puts(out, "/proc/self/exe");
	return 0;
}

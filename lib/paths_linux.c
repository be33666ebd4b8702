/* Linux defaults for lib/paths.h: FHS locations as root, XDG otherwise. */
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
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

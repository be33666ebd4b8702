/* macOS defaults for lib/paths.h: Application Support, run state beside it
 * (short enough for the 104-byte unix socket path limit in most homes). */
#include <errno.h>
#include <mach-o/dyld.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/paths.h"

int paths__data_default(struct buf *out, const char *home, struct err *e)
{
	(void)e;
	buf_printf(out, "%s/Library/Application Support/container", home ? home : "/var/root");
	return 0;
}

int paths__run_default(struct buf *out, const char *data, struct err *e)
{
	(void)e;
	buf_printf(out, "%s/run", data);
	return 0;
}

int paths_self_exe(struct buf *out, struct err *e)
{
	uint32_t n = 0;
	char *p, *real;

	_NSGetExecutablePath(NULL, &n);
	p = malloc(n + 1);
	if (!p || _NSGetExecutablePath(p, &n) != 0) {
		free(p);
		return err_set(e, -ENOMEM, "cannot find the executable's path");
	}
	real = realpath(p, NULL);
	free(p);
	if (!real)
		return err_sys(e, "realpath of the executable");
	buf_puts(out, real);
	free(real);
	return 0;
}

int paths_self_spawn(struct buf *out, struct err *e)
{
	return paths_self_exe(out, e);
}

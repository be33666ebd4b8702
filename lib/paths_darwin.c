/* macOS defaults for lib/paths.h: Application Support, run state beside it
 * (short enough for the 104-byte unix socket path limit in most homes). */
#include "lib/buf.h"
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

/* See lib/human.h. */
#include "lib/human.h"

void human_size(struct buf *b, double bytes, enum human_style style)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	const int last = (int)(sizeof(unit) / sizeof(unit[0])) - 1;
	int u = 0;

	if (bytes < 0) {
		buf_puts(b, "-");
		return;
	}
	while (bytes >= 1000 && u < last) {
		bytes /= 1000;
		u++;
	}
	if (style == HUMAN_DOCKER)
		buf_printf(b, "%.4g%s", bytes, unit[u]);
	else
		buf_printf(b, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

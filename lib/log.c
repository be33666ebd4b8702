/* The process's logger (see lib/log.h).  Configured once at start-up by the
 * front-end; reading it is the only global state in lib/, and it is
 * immutable after log_init. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"

static struct log_config cfg = { "container", LOG_WARN, -1, 0 };

void log_init(const struct log_config *c)
{
	cfg = *c;
}

enum log_level log_level(void)
{
	return cfg.level;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	struct buf b = BUF_INIT;
	va_list ap;
	int fd = cfg.fd >= 0 ? cfg.fd : 2;
	int saved = errno;

	if (lvl > cfg.level)
		return;
	if (cfg.timestamps) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		buf_printf(&b, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			   ts.tv_nsec / 1000000);
	}
	buf_printf(&b, "%s: %s: ", cfg.prog, names[lvl]);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_putc(&b, '\n');
	/* One write per line, so lines of concurrent processes do not mix. */
	ssize_t r = write(fd, b.data, b.len);
	(void)r;
	buf_free(&b);
	errno = saved;
}

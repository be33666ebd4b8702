/* The error contract's implementation (see lib/err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

/* Format into e->msg, then append ": tail" when tail is non-empty; a
 * message longer than the bound is cut and marked with "...". */
__attribute__((format(printf, 3, 0)))
static void fill(struct err *e, const char *tail, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	size_t len;

	if (n < 0)
		n = 0;
	len = strlen(e->msg);
	if (tail && *tail)
		n = (int)len + snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", tail);
	if (n >= (int)sizeof(e->msg))
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EIO;
	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	fill(e, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno ? errno : EIO;
	va_list ap;

	if (!e)
		return -saved;
	e->code = -saved;
	va_start(ap, fmt);
	fill(e, strerror(saved), fmt, ap);
	va_end(ap);
	return -saved;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -EIO;
	if (e->code == 0)
		e->code = -EIO;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	fill(e, old, fmt, ap);
	va_end(ap);
	return e->code;
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

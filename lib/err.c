/* The error contract's implementation (see lib/err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

static void err__cut(struct err *e, int n)
{
	/* vsnprintf reports the untruncated length: mark a cut message. */
	if (n >= (int)sizeof(e->msg))
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EIO;
	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	err__cut(e, n);
	return code;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno ? errno : EIO;
	va_list ap;
	size_t len;
	int n;

	if (!e)
		return -saved;
	e->code = -saved;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = strlen(e->msg);
	n = (int)len + snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	err__cut(e, n);
	return -saved;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	va_list ap;
	size_t len;
	int n;

	if (!e)
		return -EIO;
	if (e->code == 0)
		e->code = -EIO;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = strlen(e->msg);
	if (old[0])
		n = (int)len + snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", old);
	err__cut(e, n);
	return e->code;
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

/* The one error contract (STYLE.md 4-5), written down once.
 *
 * A fallible function returns int: 0 on success, a negative errno value on
 * failure; a pointer-returning one returns NULL.  Either way it takes a
 * caller-owned `struct err *` as its LAST argument and, on failure, fills it
 * with the code and one human sentence saying what failed and on what.
 *
 * A function either handles an error or returns it, never both: it does not
 * log and return.  Callers that add context use err_wrap(), which prefixes
 * the message ("pull alpine: " + "registry said 401 ...").
 *
 * Foreign error spaces (mbedTLS, getaddrinfo, HTTP status, NSError, zlib)
 * are mapped to an errno-style code once, at the boundary where they arise.
 *
 * Out of memory is not an error that is returned: lib/mem.h aborts, as crun
 * and git do.  Only front-ends (CLI applets) may die(); library code, the
 * supervisor and the runtime return errors; the guest init never exits.
 */
#ifndef LIB_ERR_H
#define LIB_ERR_H

#include <stddef.h>

/* Messages are bounded: a longer one is cut and ends in "...". */
#define ERR_MSG_MAX 512

struct err {
	int code;               /* negative errno, 0 when clear */
	char msg[ERR_MSG_MAX];  /* NUL-terminated, "" when clear */
};

#define ERR_INIT { 0, "" }

/* Fill e (if non-NULL) with code (a negative errno; a positive value is
 * negated) and a formatted message.  Returns the negative code so that
 * `return err_set(e, -EINVAL, "bad digest %s", d);` reads naturally. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set with code -errno and ": strerror(errno)" appended. */
int err_sys(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix context to an error already set: "<fmt>: <old message>".
 * Keeps e->code; returns it. */
int err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif

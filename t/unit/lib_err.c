/* The error contract: codes, messages, wrapping, truncation. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "t/tap.h"

static int fails(struct err *e)
{
	return err_set(e, -ENOENT, "image %s not found", "alpine");
}

int main(void)
{
	struct err e = ERR_INIT;
	char longs[2000];

	is_int(fails(&e), -ENOENT, "err_set returns the negative code");
	is_int(e.code, -ENOENT, "code stored");
	is_str(e.msg, "image alpine not found", "message formatted");
	is_int(err_wrap(&e, "pull %s", "alpine"), -ENOENT, "wrap keeps the code");
	is_str(e.msg, "pull alpine: image alpine not found", "wrap prefixes context");
	is_int(err_set(&e, EINVAL, "x"), -EINVAL, "a positive code is negated");
	is_int(err_set(NULL, -EPERM, "nobody listens"), -EPERM, "NULL err is allowed");
	errno = EACCES;
	is_int(err_sys(&e, "open %s", "/x"), -EACCES, "err_sys takes errno");
	ok(strncmp(e.msg, "open /x: ", 9) == 0 && strlen(e.msg) > 9, "err_sys appends strerror: %s", e.msg);
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	err_set(&e, -EINVAL, "%s", longs);
	is_int(strlen(e.msg), ERR_MSG_MAX - 1, "long message cut to the bound");
	ok(strcmp(e.msg + ERR_MSG_MAX - 4, "...") == 0, "a cut message ends in ...");
	err_wrap(&e, "context");
	ok(strncmp(e.msg, "context: aaa", 12) == 0 && strlen(e.msg) == ERR_MSG_MAX - 1,
	   "wrapping a full message stays bounded");
	err_clear(&e);
	ok(e.code == 0 && e.msg[0] == 0, "clear");
	return done_testing();
}

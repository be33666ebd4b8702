/* Fuzz target for the QMP client (vm/qmp.c): the input is everything a
 * hostile QEMU sends on the monitor socket.  The client must negotiate or
 * refuse with a message, record only a bounded printable SHUTDOWN reason,
 * and never crash, hang or read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "vm/qemu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	struct qmp_msg m;
	struct qmp *q = NULL;
	int sv[2];

	if (qmp_parse((const char *)data, size, &m, &e) == 0)
		qmp_msg_free(&m);
	else if (!e.msg[0])
		abort();

	/* The whole input as the monitor stream; it must fit the socket
	 * buffer, since nobody reads while we write. */
	if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	err_clear(&e);
	if (qmp_open(sv[0], 1000, &q, &e) < 0) {
		if (!e.msg[0])
			abort();
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	while (qmp_drain(q, 0, &e) == 0 && qmp_execute(q, "query-status", NULL, 0, NULL, &e) == 0)
		;
	const char *r = qmp_shutdown_reason(q);
	if (r) {
		if (strlen(r) >= 40)
			abort();
		for (const char *p = r; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				abort();
	}
	qmp_close(q);
	close(sv[1]);
	return 0;
}

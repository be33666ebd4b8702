/* Readers: memory and fd readers, read_full and skip end-of-stream rules. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "t/tap.h"

int main(void)
{
	struct mem_reader mr;
	struct fd_reader fr;
	struct err e = ERR_INIT;
	char buf[16];
	int fds[2];

	mem_reader_init(&mr, "hello world", 11);
	is_int(reader_read_full(&mr.r, buf, 5, "greeting", &e), 0, "read_full 5");
	ok(memcmp(buf, "hello", 5) == 0, "bytes");
	is_int(reader_skip(&mr.r, 1, "greeting", &e), 0, "skip 1");
	is_int(reader_read(&mr.r, buf, sizeof(buf), &e), 5, "short read at the end");
	is_int(reader_read(&mr.r, buf, sizeof(buf), &e), 0, "0 at end of stream");
	mem_reader_init(&mr, "abc", 3);
	is_int(reader_read_full(&mr.r, buf, 4, "layer", &e), -EPROTO, "read_full past the end fails");
	is_str(e.msg, "unexpected end of layer", "message names the stream");
	mem_reader_init(&mr, "abc", 3);
	is_int(reader_skip(&mr.r, 4, "blob", &e), -EPROTO, "skip past the end fails");

	ok(pipe(fds) == 0, "pipe");
	ok(write(fds[1], "xyz", 3) == 3, "write");
	close(fds[1]);
	fd_reader_init(&fr, fds[0]);
	is_int(reader_read_full(&fr.r, buf, 3, "pipe", &e), 0, "fd reader reads");
	is_int(reader_read(&fr.r, buf, 3, &e), 0, "fd reader EOF");
	close(fds[0]);
	fd_reader_init(&fr, 12345);
	ok(reader_read(&fr.r, buf, 3, &e) == -EBADF, "fd reader error mapped: %s", e.msg);
	return done_testing();
}

/* GET /container/containers/{id}/bootlog?offset=N: an extension endpoint
 * (DESIGN.md "The supervisor's API": Docker has no word for a VM's
 * console) serving the bundle's boot.log, the kernel's and init's console
 * output, from byte N on, at most BOOTLOG_CHUNK bytes per answer; the
 * header X-Container-Bootlog-Size gives the file's size, so that `container
 * logs --boot [-f]` can ask again from where it got to. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/bundle.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"

#define BOOTLOG_CHUNK ((size_t)4 << 20)

void api_ctr_bootlog_h(struct api_call *c)
{
	_cleanup_buf_ struct buf path = BUF_INIT, data = BUF_INIT, hdr = BUF_INIT;
	char id[BUNDLE_ID_LEN + 1];
	struct stat sb = { 0 };
	long off;
	ssize_t n = 0;
	int fd;

	if (api_param_ctr(c, 0, id) < 0)
		return;
	if (api_query_long(c, "offset", 0, &off) < 0 || off < 0) {
		api_reply_error(c, 400, "invalid offset");
		return;
	}
	if (bundle_path(id, "boot.log", &path, NULL) < 0) {
		api_reply_error(c, 500, "no bundle path");
		return;
	}
	fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &sb) == 0 && off < sb.st_size) {
		size_t want = (size_t)(sb.st_size - off);
		if (want > BOOTLOG_CHUNK)
			want = BOOTLOG_CHUNK;
		if (buf_reserve(&data, want) == 0 && (n = pread(fd, data.data, want, off)) > 0)
			data.len = (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	buf_printf(&hdr, "X-Container-Bootlog-Size: %lld\r\n", (long long)sb.st_size);
	api_write_body(c->out, 200, "application/octet-stream", buf_str(&hdr), data.data, data.len,
		       c->keepalive, c->head);
}

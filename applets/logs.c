/* `container logs [--boot] [-f] [-n N] [-t] CONTAINER`, through the API
 * server (applets/cliapi.h): the workload's output from GET
 * /containers/{id}/logs (Docker's 8-byte frames put back on the stream
 * each piece came from; raw bytes for a container with a tty), or with
 * --boot the VM console (kernel, init, QEMU) from the extension endpoint
 * GET /container/containers/{id}/bootlog, asked again from where it got to
 * while -f and the container runs. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/attach.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/timex.h"

#define BOOT_POLL_MS 200

struct logs_cli {
	int boot, follow, timestamps;
	const char *tail_s;
};

static const struct opt logs_optv[] = {
	OPT_FLAG(0, "boot", struct logs_cli, boot, "Show the VM's console (kernel and init) instead"),
	OPT_FLAG('f', "follow", struct logs_cli, follow, "Keep printing new output until the container exits"),
	OPT_STRING('n', "tail", struct logs_cli, tail_s, "N", "Show only the last N lines (\"all\" = every line)"),
	OPT_FLAG('t', "timestamps", struct logs_cli, timestamps, "Prefix each line with its time"),
	OPT_END,
};

static int ctr_path(struct buf *p, const char *prefix, const char *q, const char *suffix)
{
	buf_puts(p, prefix);
	cliapi_escape(p, q);
	return buf_puts(p, suffix);
}

/* The container's full id and whether it has a tty and runs. */
static int ctr_info(struct cliapi *api, const char *q, struct buf *id, bool *tty, bool *running,
		    struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	json_t *j;
	int rc;

	ctr_path(&p, "/containers/", q, "/json");
	if ((rc = cliapi_call(api, "GET", buf_str(&p), NULL, &j, e)) < 0)
		return rc;
	if (id)
		buf_puts(id, jsonx_str(j, "Id") ? jsonx_str(j, "Id") : "");
	*tty = json_is_true(json_object_get(json_object_get(j, "Config"), "Tty"));
	*running = json_is_true(json_object_get(json_object_get(j, "State"), "Running"));
	json_decref(j);
	return 0;
}

static int boot_log(struct cliapi *api, const char *id, bool follow, struct err *e)
{
	long long off = 0;
	bool tty, running = true;
	int rc;

	for (;;) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		struct api_response r;
		buf_printf(&p, "/container/containers/%s/bootlog?offset=%lld", id, off);
		rc = api_client_call(buf_str(&api->sock), "GET", buf_str(&p), NULL, 0,
				     CLIAPI_TIMEOUT_MS, &r, e);
		if (rc == 0 && r.status != 200)
			rc = cliapi_error(r.status, r.body.data, r.body.len, e);
		if (rc == 0 && r.body.len)
			rc = fs_write_full(STDOUT_FILENO, r.body.data, r.body.len, e);
		off += rc == 0 ? (long long)r.body.len : 0;
		if (rc == 0 && r.body.len) {
			api_response_free(&r);
			continue;   /* more may be there already */
		}
		api_response_free(&r);
		if (rc < 0 || !follow || !running)
			return rc;
		/* one more read after it stopped: its last words */
		if ((rc = ctr_info(api, id, NULL, &tty, &running, e)) < 0)
			return rc;
		if (running)
			timex_sleep_ms(BOOT_POLL_MS);
	}
}

static int out_fd(void *ud, int fd, const char *p, size_t n)
{
	(void)ud;
	return fs_write_full(fd == 2 ? STDERR_FILENO : STDOUT_FILENO, p, n, NULL) < 0 ? -EIO : 0;
}

static int logs_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct logs_cli *a = o;
	_cleanup_buf_ struct buf id = BUF_INIT, p = BUF_INIT, chunk = BUF_INIT;
	struct cliapi api;
	struct api_stream s = { .fd = -1 };
	struct attach_demux dm = { 0 };
	struct err e = ERR_INIT;
	bool tty, running;
	long tail = -1;
	ssize_t n;
	int rc;

	(void)argc;
	if (a->tail_s && strcmp(a->tail_s, "all") != 0) {
		char *end;
		tail = strtol(a->tail_s, &end, 10);
		if (*end || tail < 0) {
			fprintf(stderr, "container %s: --tail must be a number or \"all\"\n", c->name);
			return EXIT_USAGE;
		}
	}
	if ((rc = cliapi_connect(&api, &e)) == 0 &&
	    (rc = ctr_info(&api, argv[0], &id, &tty, &running, &e)) == 0) {
		if (a->boot) {
			rc = boot_log(&api, buf_str(&id), a->follow, &e);
		} else {
			buf_printf(&p, "/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d",
				   buf_str(&id), a->follow, a->timestamps);
			if (tail >= 0)
				buf_printf(&p, "&tail=%ld", tail);
			rc = cliapi_open(&api, "GET", buf_str(&p), NULL, 0, &s, &e);
			buf_init(&chunk, 1 << 20);
			while (rc == 0 && (n = api_stream_read(&s, &chunk, &e)) != 0) {
				if (n < 0)
					rc = (int)n;
				else if (tty)
					rc = fs_write_full(STDOUT_FILENO, chunk.data, chunk.len, &e);
				else if (attach_demux_feed(&dm, chunk.data, chunk.len, out_fd, NULL) < 0)
					rc = err_set(&e, -EPROTO, "a malformed log stream");
				buf_reset(&chunk);
			}
			api_stream_close(&s);
		}
	}
	cliapi_free(&api);
	if (rc < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd cmd_logs = {
	.name = "logs",
	.summary = "Show a container's output, or its VM's boot log",
	.usage = "[OPTIONS] CONTAINER",
	.opts = logs_optv,
	.opts_size = sizeof(struct logs_cli),
	.min_args = 1,
	.max_args = 1,
	.run = logs_cmd,
};

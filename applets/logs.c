/* `container logs [--boot] [-f] [-n N] [-t] CONTAINER`: the workload's
 * output from the bundle's stdio.log (Docker json-file lines, each put back
 * on the stream it came from), or with --boot the VM console (boot.log:
 * kernel, init, QEMU).  Reads the bundle directly until the API server
 * (#6) serves /containers/{id}/logs; the output is the same. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/bundle.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"

#define LOG_LINE_MAX (2u << 20)

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

/* One json-file line to its stream; a line we cannot parse is shown as is
 * on stderr rather than dropped. */
static void emit(const char *line, size_t n, int timestamps)
{
	struct err e = ERR_INIT;
	json_t *j = jsonx_parse(line, n, LOG_LINE_MAX, "log line", &e);
	const char *text, *stream, *when;

	if (!j || !(text = json_string_value(json_object_get(j, "log")))) {
		fwrite(line, 1, n, stderr);
		fputc('\n', stderr);
		json_decref(j);
		return;
	}
	stream = json_string_value(json_object_get(j, "stream"));
	when = json_string_value(json_object_get(j, "time"));
	FILE *f = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
	if (timestamps && when)
		fprintf(f, "%s ", when);
	fwrite(text, 1, json_string_length(json_object_get(j, "log")), f);
	json_decref(j);
}

static bool exited(const char *id)
{
	struct bundle_state st;
	struct err e = ERR_INIT;

	return bundle_state_load(id, &st, &e) < 0 || st.status == BUNDLE_EXITED;
}

/* Print complete lines of fd from *off on; with boot, bytes as they are. */
static void pump(int fd, off_t *off, struct buf *pend, int boot, int timestamps)
{
	char b[65536];
	ssize_t n;

	while ((n = pread(fd, b, sizeof(b), *off)) > 0) {
		*off += n;
		if (boot) {
			fwrite(b, 1, (size_t)n, stdout);
			continue;
		}
		buf_append(pend, b, (size_t)n);
		char *nl;
		while ((nl = memchr(pend->data, '\n', pend->len))) {
			emit(pend->data, (size_t)(nl - pend->data), timestamps);
			buf_consume(pend, (size_t)(nl - pend->data) + 1);
		}
	}
	fflush(stdout);
	fflush(stderr);
}

/* Where the last n lines of the file start. */
static off_t tail_offset(int fd, long n)
{
	off_t end = lseek(fd, 0, SEEK_END), pos = end;
	char b[4096];
	long lines = 0;

	if (n < 0 || end <= 0)
		return 0;
	while (pos > 0) {
		size_t chunk = pos > (off_t)sizeof(b) ? sizeof(b) : (size_t)pos;
		pos -= (off_t)chunk;
		if (pread(fd, b, chunk, pos) != (ssize_t)chunk)
			return 0;
		for (size_t i = chunk; i-- > 0;) {
			if (b[i] != '\n' || pos + (off_t)i == end - 1)
				continue;
			if (++lines == n)
				return pos + (off_t)i + 1;
		}
	}
	return 0;
}

static int logs_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct logs_cli *a = o;
	char id[BUNDLE_ID_LEN + 1];
	_cleanup_buf_ struct buf path = BUF_INIT, pend = BUF_INIT;
	struct err e = ERR_INIT;
	long tail = -1;
	off_t off;
	int fd;

	(void)argc;
	if (a->tail_s && strcmp(a->tail_s, "all") != 0) {
		char *end;
		tail = strtol(a->tail_s, &end, 10);
		if (*end || tail < 0) {
			fprintf(stderr, "container %s: --tail must be a number or \"all\"\n", c->name);
			return EXIT_USAGE;
		}
	}
	if (bundle_resolve(argv[0], id, &e) < 0 ||
	    bundle_path(id, a->boot ? "boot.log" : "stdio.log", &path, &e) < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		fprintf(stderr, "container %s: open %s: %s\n", c->name, buf_str(&path), strerror(errno));
		return EXIT_FAIL;
	}
	if (fd < 0)
		return EXIT_OK; /* nothing written yet */
	off = a->boot ? 0 : tail_offset(fd, tail);
	pump(fd, &off, &pend, a->boot, a->timestamps);
	while (a->follow && !exited(id)) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		pump(fd, &off, &pend, a->boot, a->timestamps);
	}
	pump(fd, &off, &pend, a->boot, a->timestamps);
	close(fd);
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

/* `container system version | df | logs` (issue #6): what the machine's
 * container system is and holds.
 *
 *   system version [--format json]   this client and the API server (GET
 *                                    /version); exit 1 when no server answers
 *   system df [--format json]        GET /system/df (applets/api_sysdf.c) as
 *                                    docker's TYPE/TOTAL/ACTIVE/SIZE/RECLAIMABLE
 *   system logs [-f] [-n N]          the API server's own log,
 *                                    $DATA/apiserver.log (and .1, the rotated
 *                                    one: applets/apiserver.c keeps each under
 *                                    APISERVER_LOG_MAX); -f follows across a
 *                                    rotation
 * Listed in applets/system.c's group. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/api_client.h"
#include "applets/api_http.h"
#include "applets/apiserver.h"
#include "applets/applets.h"
#include "applets/cliapi.h"
#include "applets/system.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/jsonx.h"
#include "lib/paths.h"
#include "lib/timex.h"

#define LOG_READ_MAX (APISERVER_LOG_MAX * 4)
#define LOG_FOLLOW_MS 250

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "container system %s: %s\n", what, e->msg);
	return EXIT_FAIL;
}

/* GET path from the server as JSON.  start: start the server when none
 * runs (df), as every command does; else -ECONNREFUSED (version shows the
 * client's half without one). */
static int get_json(const char *path, bool start, json_t **out, struct err *e)
{
	struct cliapi api = { BUF_INIT, 0 };
	int rc;

	*out = NULL;
	if (start)
		rc = cliapi_connect(&api, e);
	else
		rc = api_client_socket_path(&api.sock, e);
	if (rc == 0 && (rc = cliapi_call(&api, "GET", path, NULL, out, e)) == 0 && !*out)
		rc = err_set(e, -EBADMSG, "%s: an empty answer", path);
	cliapi_free(&api);
	return rc;
}

/* ---- version ---- */

struct fmt_cli {
	const char *format;
};

static const struct opt fmt_optv[] = {
	OPT_STRING(0, "format", struct fmt_cli, format, "FORMAT", "Output format: table or json"),
	OPT_END,
};

static bool want_json(const char *what, const struct fmt_cli *a, int *bad)
{
	*bad = 0;
	if (!a->format || !strcmp(a->format, "table") || !strcmp(a->format, "text"))
		return false;
	if (!strcmp(a->format, "json"))
		return true;
	fprintf(stderr, "container system %s: unknown format '%s' (want table or json)\n", what,
		a->format);
	*bad = 1;
	return false;
}

static int version_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct err e = ERR_INIT;
	json_t *srv = NULL;
	int bad, rc;
	bool json = want_json("version", o, &bad);

	(void)c;
	(void)argc;
	(void)argv;
	if (bad)
		return EXIT_USAGE;
	rc = get_json("/version", false, &srv, &e);
	if (json) {
		json_t *j = json_pack("{s:{s:s,s:s,s:s,s:s,s:s},s:o}", "Client", "Version",
				      container_version, "ApiVersion", API_VERSION, "GitCommit",
				      container_commit, "Target", container_target, "Built",
				      container_build_date, "Server", srv ? json_incref(srv) : json_null());
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("Client:\n Version:      %s\n API version:  %s\n Git commit:   %s\n"
		       " Target:       %s\n Built:        %s\n\n",
		       container_version, API_VERSION, container_commit, container_target,
		       container_build_date);
		if (srv)
			printf("Server: container-apiserver\n Version:      %s\n API version:  %s "
			       "(minimum version %s)\n Git commit:   %s\n OS/Arch:      %s/%s\n"
			       " Kernel:       %s\n",
			       jsonx_str(srv, "Version") ? jsonx_str(srv, "Version") : "?",
			       jsonx_str(srv, "ApiVersion") ? jsonx_str(srv, "ApiVersion") : "?",
			       jsonx_str(srv, "MinAPIVersion") ? jsonx_str(srv, "MinAPIVersion") : "?",
			       jsonx_str(srv, "GitCommit") ? jsonx_str(srv, "GitCommit") : "?",
			       jsonx_str(srv, "Os") ? jsonx_str(srv, "Os") : "?",
			       jsonx_str(srv, "Arch") ? jsonx_str(srv, "Arch") : "?",
			       jsonx_str(srv, "KernelVersion") ? jsonx_str(srv, "KernelVersion") : "?");
	}
	json_decref(srv);
	if (rc < 0) {
		if (e.code == -ECONNREFUSED)
			fprintf(stderr, "container system version: the API server is not running "
					"(container system start)\n");
		else
			fail("version", &e);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd cmd_system_version = {
	.name = "version",
	.summary = "Show the client's and the API server's versions",
	.usage = "[--format table|json]",
	.opts = fmt_optv,
	.opts_size = sizeof(struct fmt_cli),
	.max_args = 0,
	.run = version_cmd,
};

/* ---- df ---- */

static void df_row(const char *type, size_t total, size_t active, double size, double reclaim)
{
	_cleanup_buf_ struct buf s = BUF_INIT, r = BUF_INIT;

	human_size(&s, size, HUMAN_DOCKER);
	human_size(&r, reclaim, HUMAN_DOCKER);
	if (size > 0)
		buf_printf(&r, " (%.0f%%)", reclaim / size * 100);
	printf("%-16s%-10zu%-10zu%-10s%s\n", type, total, active, buf_str(&s), buf_str(&r));
}

static int df_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct err e = ERR_INIT;
	json_t *j, *x;
	size_t i, active;
	double size, reclaim;
	int bad;
	bool json = want_json("df", o, &bad);

	(void)c;
	(void)argc;
	(void)argv;
	if (bad)
		return EXIT_USAGE;
	if (get_json("/system/df", true, &j, &e) < 0)
		return fail("df", &e);
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
		return EXIT_OK;
	}
	printf("%-16s%-10s%-10s%-10s%s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
	active = 0, size = reclaim = 0;
	json_array_foreach(json_object_get(j, "Images"), i, x) {
		double s = (double)jsonx_int(x, "Size", 0);
		size += s;
		if (jsonx_int(x, "Containers", 0) > 0)
			active++;
		else
			reclaim += s;
	}
	df_row("Images", json_array_size(json_object_get(j, "Images")), active, size, reclaim);
	active = 0, size = reclaim = 0;
	json_array_foreach(json_object_get(j, "Containers"), i, x) {
		double s = (double)jsonx_int(x, "SizeRw", 0);
		size += s;
		if (jsonx_str(x, "State") && !strcmp(jsonx_str(x, "State"), "running"))
			active++;
		else
			reclaim += s;
	}
	df_row("Containers", json_array_size(json_object_get(j, "Containers")), active, size, reclaim);
	active = 0, size = reclaim = 0;
	json_array_foreach(json_object_get(j, "Volumes"), i, x) {
		json_t *u = json_object_get(x, "UsageData");
		double s = (double)jsonx_int(u, "Size", 0);
		size += s;
		if (jsonx_int(u, "RefCount", 0) > 0)
			active++;
		else
			reclaim += s;
	}
	df_row("Local Volumes", json_array_size(json_object_get(j, "Volumes")), active, size, reclaim);
	df_row("Build Cache", 0, 0, 0, 0);
	json_decref(j);
	return EXIT_OK;
}

const struct cmd cmd_system_df = {
	.name = "df",
	.summary = "Show disk usage: images, containers, volumes",
	.usage = "[--format table|json]",
	.help = "SIZE is what is allocated on disk: an image's layers as stored plus its ext4\n"
		"snapshot, a container's writable disk, a volume's disk (all sparse files).",
	.opts = fmt_optv,
	.opts_size = sizeof(struct fmt_cli),
	.max_args = 0,
	.run = df_cmd,
};

/* ---- logs ---- */

struct logs_cli {
	int follow;
	long lines;
};

static const struct logs_cli logs_defaults = { 0, -1 };

static const struct opt logs_optv[] = {
	OPT_FLAG('f', "follow", struct logs_cli, follow, "Keep printing what the server logs"),
	OPT_INT('n', "lines|tail", struct logs_cli, lines, "N", "Only the last N lines"),
	OPT_END,
};

/* The last n lines of b (all with n < 0). */
static const char *tail_of(const struct buf *b, long n)
{
	const char *p = b->data ? b->data : "";
	size_t i = b->len;

	if (n < 0)
		return p;
	if (n == 0)
		return p + i;
	if (i && p[i - 1] == '\n')
		i--;
	for (; i > 0; i--)
		if (p[i - 1] == '\n' && --n == 0)
			return p + i;
	return p;
}

/* Everything in fd from *off on to stdout. */
static void drain(int fd, off_t *off)
{
	char chunk[16384];
	ssize_t n;

	while ((n = pread(fd, chunk, sizeof(chunk), *off)) > 0) {
		fwrite(chunk, 1, (size_t)n, stdout);
		*off += n;
	}
	fflush(stdout);
}

/* -f: the open file is read to its end every LOG_FOLLOW_MS; when the path
 * names another file (the server rotated it) or a shorter one, what the
 * old one got since the last read is read first, then the new one from
 * its start. */
_Noreturn static void follow(const char *path, int fd, off_t off)
{
	struct stat st, cur;

	for (;;) {
		timex_sleep_ms(LOG_FOLLOW_MS);
		if (fd >= 0)
			drain(fd, &off);
		if (stat(path, &st) < 0)
			continue;
		if (fd >= 0 && fstat(fd, &cur) == 0 && cur.st_ino == st.st_ino &&
		    cur.st_dev == st.st_dev && st.st_size >= off)
			continue;
		if (fd >= 0) {   /* rotated (or truncated): the old one's last lines */
			drain(fd, &off);
			close(fd);
		}
		off = 0;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
			drain(fd, &off);
	}
}

static int logs_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct logs_cli *a = o;
	_cleanup_buf_ struct buf path = BUF_INIT, old = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;
	size_t old_len;
	int fd;

	(void)c;
	(void)argc;
	(void)argv;
	if (paths_data_dir(&path, &e) < 0)
		return fail("logs", &e);
	buf_puts(&path, "/" APISERVER_LOG);
	buf_printf(&old, "%s.1", buf_str(&path));
	if (fs_read_file(buf_str(&old), &text, LOG_READ_MAX, NULL) < 0)
		buf_reset(&text);
	old_len = text.len;
	/* opened before it is read: -f goes on right after what is shown */
	fd = a->follow ? open(buf_str(&path), O_RDONLY | O_CLOEXEC) : -1;
	if (fs_read_file(buf_str(&path), &text, LOG_READ_MAX, &e) < 0 && e.code != -ENOENT) {
		if (fd >= 0)
			close(fd);
		return fail("logs", &e);
	}
	fputs(tail_of(&text, a->lines), stdout);
	fflush(stdout);
	if (!a->follow)
		return EXIT_OK;
	follow(buf_str(&path), fd, (off_t)(text.len - old_len));
}

const struct cmd cmd_system_logs = {
	.name = "logs",
	.summary = "Show the API server's log",
	.usage = "[-f] [-n N]",
	.help = "The log is <data>/apiserver.log; past 4 MiB it is rotated to apiserver.log.1\n"
		"(both are shown).  CONTAINER_LOG=debug container system start logs every\n"
		"request.",
	.opts = logs_optv,
	.opts_size = sizeof(struct logs_cli),
	.opts_defaults = &logs_defaults,
	.max_args = 0,
	.run = logs_cmd,
};

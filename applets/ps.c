/* `container list|ls [-a] [-q] [--format table|json]`, `inspect CONTAINER...`,
 * `delete|rm [-f] [-v] [--all] CONTAINER...` and `prune`: through the API
 * server (applets/cliapi.h): GET /containers/json, GET
 * /containers/{id}/json, DELETE /containers/{id}, POST /containers/prune.
 * The table and `--format json` keep the shape they had when they read the
 * bundles; inspect prints Docker's inspect documents, as `docker inspect`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/applets.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"

static int fail(const char *cmd, const struct err *e, int code)
{
	fprintf(stderr, "container %s: %s\n", cmd, e->msg);
	return code;
}

static void ago(time_t t, struct buf *out)
{
	long d = (long)(time(NULL) - t);

	if (d < 1)
		d = 1;
	if (d < 60)
		buf_printf(out, "%ld second%s", d, d == 1 ? "" : "s");
	else if (d < 3600)
		buf_printf(out, "%ld minute%s", d / 60, d / 60 == 1 ? "" : "s");
	else if (d < 2 * 86400)
		buf_printf(out, "%ld hour%s", d / 3600, d / 3600 == 1 ? "" : "s");
	else
		buf_printf(out, "%ld days", d / 86400);
}

static const char *name_of(const json_t *c)
{
	const char *n = json_string_value(json_array_get(json_object_get(c, "Names"), 0));

	return !n ? "" : *n == '/' ? n + 1 : n;
}

/* Docker's Ports entries in the shape `ls --format json` always had. */
static json_t *ports_ours(const json_t *ports)
{
	json_t *a = json_array(), *p;
	size_t i;

	json_array_foreach(ports, i, p) {
		if (!json_object_get(p, "PublicPort"))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:s}", "host_ip",
			jsonx_str(p, "IP") ? jsonx_str(p, "IP") : "", "host_port",
			(json_int_t)jsonx_int(p, "PublicPort", 0), "container_port",
			(json_int_t)jsonx_int(p, "PrivatePort", 0), "proto",
			jsonx_str(p, "Type") ? jsonx_str(p, "Type") : "tcp"));
	}
	return a;
}

static json_t *ctr_json(const json_t *c)
{
	char created[32] = "";
	time_t t = (time_t)jsonx_int(c, "Created", 0);
	struct tm tm;
	const char *st = jsonx_str(c, "Status"), *x;
	int code = 0;

	if (gmtime_r(&t, &tm))
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (st && (x = strstr(st, "Exited (")))
		code = atoi(x + 8);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:O, s:o}", "Id",
			 jsonx_str(c, "Id") ? jsonx_str(c, "Id") : "", "Name", name_of(c), "Image",
			 jsonx_str(c, "Image") ? jsonx_str(c, "Image") : "", "Command",
			 jsonx_str(c, "Command") ? jsonx_str(c, "Command") : "", "Created", created,
			 "State", jsonx_str(c, "State") ? jsonx_str(c, "State") : "", "Status",
			 st ? st : "", "ExitCode", code, "Labels",
			 json_object_get(c, "Labels") ? json_object_get(c, "Labels") : json_object(),
			 "Ports", ports_ours(json_object_get(c, "Ports")));
}

/* Every container (all) or the running ones, newest first. */
static int list_get(struct cliapi *api, int all, json_t **out, struct err *e)
{
	int rc = cliapi_call(api, "GET", all ? "/containers/json?all=1" : "/containers/json", NULL,
			     out, e);

	if (rc == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(e, -EPROTO, "the API server's list is not an array");
	}
	return rc;
}

/* ---- list ---- */

struct list_cli {
	int all, quiet;
	const char *format;
};

static const struct opt list_optv[] = {
	OPT_FLAG('a', "all", struct list_cli, all, "Show every container (default: running ones)"),
	OPT_FLAG('q', "quiet", struct list_cli, quiet, "Print only the IDs"),
	OPT_STRING(0, "format", struct list_cli, format, "table|json", "Output format"),
	OPT_END,
};

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	struct cliapi api;
	struct err e = ERR_INIT;
	json_t *v = NULL, *arr = NULL, *x;
	size_t i;

	(void)argc;
	(void)argv;
	if (a->format && strcmp(a->format, "json") != 0 && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container %s: --format must be table or json\n", c->name);
		return EXIT_USAGE;
	}
	if (cliapi_connect(&api, &e) < 0 || list_get(&api, a->all, &v, &e) < 0) {
		cliapi_free(&api);
		return fail(c->name, &e, EXIT_FAIL);
	}
	cliapi_free(&api);
	if (a->format && !strcmp(a->format, "json"))
		arr = json_array();
	else if (!a->quiet)
		printf("%-14s %-28s %-22s %-16s %-26s %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS", "NAMES");
	json_array_foreach(v, i, x) {
		_cleanup_buf_ struct buf cr = BUF_INIT, q = BUF_INIT;
		const char *cmd = jsonx_str(x, "Command") ? jsonx_str(x, "Command") : "";
		if (arr) {
			json_array_append_new(arr, ctr_json(x));
			continue;
		}
		if (a->quiet) {
			printf("%.12s\n", jsonx_str(x, "Id") ? jsonx_str(x, "Id") : "");
			continue;
		}
		ago((time_t)jsonx_int(x, "Created", 0), &cr);
		buf_puts(&cr, " ago");
		buf_printf(&q, "\"%.*s%s\"", 17, cmd, strlen(cmd) > 17 ? "..." : "");
		printf("%-14.12s %-28s %-22s %-16s %-26s %s\n",
		       jsonx_str(x, "Id") ? jsonx_str(x, "Id") : "",
		       jsonx_str(x, "Image") ? jsonx_str(x, "Image") : "", buf_str(&q), buf_str(&cr),
		       jsonx_str(x, "Status") ? jsonx_str(x, "Status") : "", name_of(x));
	}
	if (arr) {
		_cleanup_buf_ struct buf out = BUF_INIT;
		if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
			printf("%s\n", buf_str(&out));
		json_decref(arr);
	}
	json_decref(v);
	return EXIT_OK;
}

const struct cmd cmd_ctr_list = {
	.name = "list",
	.aliases = "ls|ps",
	.summary = "List containers",
	.usage = "[-a] [-q] [--format table|json]",
	.opts = list_optv,
	.opts_size = sizeof(struct list_cli),
	.max_args = 0,
	.run = list_cmd,
};

/* ---- inspect ---- */

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	json_t *arr = json_array();
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct cliapi api;
	struct err e = ERR_INIT;
	int status = EXIT_OK;

	(void)o;
	if (cliapi_connect(&api, &e) < 0) {
		json_decref(arr);
		cliapi_free(&api);
		return fail(c->name, &e, EXIT_FAIL);
	}
	for (int i = 0; i < argc; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		json_t *j;
		buf_puts(&p, "/containers/");
		cliapi_escape(&p, argv[i]);
		buf_puts(&p, "/json");
		if (cliapi_call(&api, "GET", buf_str(&p), NULL, &j, &e) < 0) {
			fail(c->name, &e, 0);
			status = EXIT_FAIL;
			continue;
		}
		json_array_append_new(arr, j);
	}
	cliapi_free(&api);
	if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
		printf("%s\n", buf_str(&out));
	json_decref(arr);
	return status;
}

const struct cmd cmd_ctr_inspect = {
	.name = "inspect",
	.summary = "Show containers' configuration and state as JSON (Docker's inspect)",
	.usage = "CONTAINER...",
	.min_args = 1,
	.max_args = -1,
	.run = inspect_cmd,
};

/* ---- delete / prune ---- */

struct rm_cli {
	int force, all, volumes;
};

static const struct opt rm_optv[] = {
	OPT_FLAG('f', "force", struct rm_cli, force, "Kill a running container first"),
	OPT_FLAG('a', "all", struct rm_cli, all, "Remove every container that is not running"),
	OPT_FLAG('v', "volumes", struct rm_cli, volumes, "Also remove its anonymous volumes"),
	OPT_END,
};

static int rm_one(struct cliapi *api, const char *query, const struct rm_cli *a, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;

	buf_puts(&p, "/containers/");
	cliapi_escape(&p, query);
	buf_printf(&p, "?force=%d&v=%d", a->force, a->volumes);
	return cliapi_call(api, "DELETE", buf_str(&p), NULL, NULL, e);
}

static int rm_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	struct cliapi api;
	struct err e = ERR_INIT;
	int status = EXIT_OK;

	if (!a->all && argc == 0) {
		fprintf(stderr, "container %s: name containers, or use --all\n", c->name);
		return EXIT_USAGE;
	}
	if (cliapi_connect(&api, &e) < 0) {
		cliapi_free(&api);
		return fail(c->name, &e, EXIT_FAIL);
	}
	if (a->all) {
		json_t *v = NULL, *x;
		size_t i;
		if (list_get(&api, 1, &v, &e) < 0) {
			cliapi_free(&api);
			return fail(c->name, &e, EXIT_FAIL);
		}
		json_array_foreach(v, i, x) {
			const char *id = jsonx_str(x, "Id");
			struct err le = ERR_INIT;
			if (!id || (!a->force && strcmp(jsonx_str(x, "State") ? jsonx_str(x, "State") : "",
							 "running") == 0))
				continue;
			if (rm_one(&api, id, a, &le) < 0) {
				fail(c->name, &le, 0);
				status = EXIT_FAIL;
			} else {
				printf("%.12s\n", id);
			}
		}
		json_decref(v);
	}
	for (int i = 0; i < argc; i++) {
		struct err le = ERR_INIT;
		if (rm_one(&api, argv[i], a, &le) < 0) {
			fail(c->name, &le, 0);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	cliapi_free(&api);
	return status;
}

const struct cmd cmd_ctr_delete = {
	.name = "delete",
	.aliases = "rm",
	.summary = "Remove containers",
	.usage = "[-f] [-v] [--all] [CONTAINER...]",
	.opts = rm_optv,
	.opts_size = sizeof(struct rm_cli),
	.max_args = -1,
	.run = rm_cmd,
};

static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct cliapi api;
	struct err e = ERR_INIT;
	json_t *r = NULL, *x;
	size_t i;

	(void)o;
	(void)argc;
	(void)argv;
	if (cliapi_connect(&api, &e) < 0 ||
	    cliapi_call(&api, "POST", "/containers/prune", NULL, &r, &e) < 0) {
		cliapi_free(&api);
		return fail(c->name, &e, EXIT_FAIL);
	}
	cliapi_free(&api);
	json_array_foreach(json_object_get(r, "ContainersDeleted"), i, x)
		if (json_is_string(x))
			printf("%.12s\n", json_string_value(x));
	json_decref(r);
	return EXIT_OK;
}

const struct cmd cmd_ctr_prune = {
	.name = "prune",
	.summary = "Remove every container that is not running",
	.max_args = 0,
	.run = prune_cmd,
};

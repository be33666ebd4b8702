/* `container volume create|list|inspect|delete|prune`: named volumes,
 * apple/container's names with docker's spellings as aliases.  Clients of
 * the API server's /volumes endpoints (applets/api_volumes.c, through
 * applets/cliapi.h, auto-starting it); the store itself is
 * applets/volume_store.h, the server's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/applets.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

static int fail(const struct cmd *c, const char *msg)
{
	fprintf(stderr, "container volume %s: %s\n", c->name, msg);
	return EXIT_FAIL;
}

static void volume_path_of(struct buf *p, const char *name, const char *query)
{
	buf_puts(p, "/volumes/");
	cliapi_escape(p, name);
	if (query)
		buf_puts(p, query);
}

static void print_json(const json_t *v)
{
	_cleanup_buf_ struct buf out = BUF_INIT;

	if (jsonx_dump_buf(v, JSON_INDENT(2), &out, NULL) == 0)
		printf("%s\n", buf_str(&out));
}

/* ---- create ---- */

struct create_cli {
	const char *size;
	struct opt_list label, opt;
};

static const struct opt create_optv[] = {
	OPT_STRING('s', "size", struct create_cli, size, "SIZE",
		   "Apparent size, e.g. 10G (default 64G; sparse: space is used as written)"),
	OPT_LIST(0, "label", struct create_cli, label, "KEY=VALUE", "Set a label"),
	OPT_LIST('o', "opt", struct create_cli, opt, "KEY=VALUE", "Driver option (size=SIZE)"),
	OPT_END,
};

/* POST /volumes/create; -s is the driver option size (the server checks
 * options and sizes).  Docker answers an existing name with that volume;
 * this command, as Apple's, says it exists. */
static int create_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct create_cli *a = o;
	_cleanup_json_ json_t *labels = NULL, *opts = NULL, *body = NULL, *r = NULL;
	struct err e = ERR_INIT;

	if (cliapi_kv_object("label", (const char *const *)a->label.v, &labels, &e) < 0 ||
	    cliapi_kv_object("option", (const char *const *)a->opt.v, &opts, &e) < 0)
		return fail(c, e.msg);
	if (a->size)
		json_object_set_new(opts, "size", json_string(a->size));
	if (argc) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		int rc;
		volume_path_of(&p, argv[0], NULL);
		if ((rc = cliapi_once("GET", buf_str(&p), NULL, NULL, &e)) == 0) {
			err_set(&e, -EEXIST, "volume %s already exists", argv[0]);
			return fail(c, e.msg);
		}
		if (rc != -ENOENT)
			return fail(c, e.msg);
	}
	body = json_pack("{s:s, s:s, s:O, s:O}", "Name", argc ? argv[0] : "", "Driver", "local",
			 "Labels", labels, "DriverOpts", opts);
	if (cliapi_request("volume", c->name, "POST", "/volumes/create", body, &r) < 0)
		return EXIT_FAIL;
	printf("%s\n", jsonx_str(r, "Name") ? jsonx_str(r, "Name") : "");
	return EXIT_OK;
}

static const struct cmd cmd_volume_create = {
	.name = "create",
	.summary = "Create a volume (a sparse ext4 disk image)",
	.usage = "[-s SIZE] [--label KEY=VALUE] [--opt KEY=VALUE] [NAME]",
	.help = "Without NAME the volume gets a random name, as docker does.",
	.opts = create_optv,
	.opts_size = sizeof(struct create_cli),
	.max_args = 1,
	.run = create_cmd,
};

/* ---- list ---- */

struct list_cli {
	int quiet;
	const char *format;
};

static const struct opt list_optv[] = {
	OPT_FLAG('q', "quiet", struct list_cli, quiet, "Print only volume names"),
	OPT_STRING(0, "format", struct list_cli, format, "FORMAT", "Output format: table or json"),
	OPT_END,
};

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	_cleanup_json_ json_t *r = NULL;
	bool json = a->format && !strcmp(a->format, "json");
	json_t *vols, *v;
	size_t i;

	(void)argc;
	(void)argv;
	if (a->format && !json && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container volume list: --format must be table or json\n");
		return EXIT_USAGE;
	}
	if (cliapi_request("volume", c->name, "GET", "/volumes", NULL, &r) < 0)
		return EXIT_FAIL;
	vols = json_object_get(r, "Volumes");
	if (json) {
		print_json(json_is_array(vols) ? vols : json_array());
		return EXIT_OK;
	}
	if (!a->quiet)
		printf("%-8s %-64s %10s  %s\n", "DRIVER", "VOLUME NAME", "SIZE", "CREATED");
	json_array_foreach(vols, i, v) {
		const char *name = jsonx_str(v, "Name"), *drv = jsonx_str(v, "Driver"),
			   *made = jsonx_str(v, "CreatedAt");
		if (a->quiet)
			printf("%s\n", name ? name : "");
		else
			printf("%-8s %-64s %9lluG  %s\n", drv ? drv : "", name ? name : "",
			       (unsigned long long)jsonx_int(v, "Size", 0) >> 30, made ? made : "");
	}
	return EXIT_OK;
}

static const struct cmd cmd_volume_list = {
	.name = "list",
	.aliases = "ls",
	.summary = "List volumes",
	.usage = "[-q] [--format table|json]",
	.opts = list_optv,
	.opts_size = sizeof(struct list_cli),
	.max_args = 0,
	.run = list_cmd,
};

/* ---- inspect ---- */

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_json_ json_t *arr = json_array();
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		json_t *v = NULL;
		volume_path_of(&p, argv[i], NULL);
		if (cliapi_request("volume", c->name, "GET", buf_str(&p), NULL, &v) < 0) {
			status = EXIT_FAIL;
			continue;
		}
		json_array_append_new(arr, v);
	}
	print_json(arr);
	return status;
}

static const struct cmd cmd_volume_inspect = {
	.name = "inspect",
	.summary = "Show volumes as JSON",
	.usage = "VOLUME...",
	.min_args = 1,
	.max_args = -1,
	.run = inspect_cmd,
};

/* ---- delete / prune ---- */

struct rm_cli {
	int force, all;
};

static const struct opt rm_optv[] = {
	OPT_FLAG('f', "force", struct rm_cli, force,
		 "Also remove volumes that stopped containers use (never a running one's)"),
	OPT_END,
};

static int rm_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	int status = EXIT_OK;

	for (int i = 0; i < argc; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		volume_path_of(&p, argv[i], a->force ? "?force=1" : NULL);
		if (cliapi_request("volume", c->name, "DELETE", buf_str(&p), NULL, NULL) < 0)
			status = EXIT_FAIL;
		else
			printf("%s\n", argv[i]);
	}
	return status;
}

static const struct cmd cmd_volume_delete = {
	.name = "delete",
	.aliases = "rm",
	.summary = "Remove volumes (refused while a container uses one)",
	.usage = "[-f] VOLUME...",
	.opts = rm_optv,
	.opts_size = sizeof(struct rm_cli),
	.min_args = 1,
	.max_args = -1,
	.run = rm_cmd,
};

static const struct opt prune_optv[] = {
	OPT_FLAG('a', "all", struct rm_cli, all, "Also named volumes, not only anonymous ones"),
	OPT_FLAG('f', "force", struct rm_cli, force, "Do not ask (accepted for docker scripts)"),
	OPT_END,
};

#define PRUNE_ALL "/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D" /* {"all":["true"]} */

/* POST /volumes/prune: anonymous volumes no container uses; -a: every
 * volume no container uses (docker, API >= 1.42). */
static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	_cleanup_json_ json_t *r = NULL;
	size_t i;
	json_t *x;

	(void)argc;
	(void)argv;
	if (cliapi_request("volume", c->name, "POST", a->all ? PRUNE_ALL : "/volumes/prune", NULL,
			   &r) < 0)
		return EXIT_FAIL;
	json_array_foreach(json_object_get(r, "VolumesDeleted"), i, x)
		printf("%s\n", json_string_value(x) ? json_string_value(x) : "");
	return EXIT_OK;
}

static const struct cmd cmd_volume_prune = {
	.name = "prune",
	.summary = "Remove anonymous volumes no container uses (-a: every unused volume)",
	.usage = "[-a]",
	.opts = prune_optv,
	.opts_size = sizeof(struct rm_cli),
	.max_args = 0,
	.run = prune_cmd,
};

static const struct cmd *const volume_sub[] = {
	&cmd_volume_create, &cmd_volume_list, &cmd_volume_inspect, &cmd_volume_delete,
	&cmd_volume_prune, NULL,
};

const struct cmd cmd_volume = {
	.name = "volume",
	.aliases = "v",
	.summary = "Manage volumes: create, list, inspect, delete, prune",
	.usage = "COMMAND [OPTIONS] [ARG...]",
	.sub = volume_sub,
};

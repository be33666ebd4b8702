/* `container volume create|list|inspect|delete|prune`: named volumes
 * (applets/volume_store.h), apple/container's names with docker's
 * spellings as aliases.  Like `ls`/`rm`, they read the store directly
 * until the API server (#6) serves /volumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/applets.h"
#include "applets/mounts.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

static int fail(const struct cmd *c, const struct err *e)
{
	fprintf(stderr, "container volume %s: %s\n", c->name, e->msg);
	return EXIT_FAIL;
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* "k=v" (or "k") items into an object; empty keys refused. */
static int kv_object(const char *what, const char **v, json_t **out, struct err *e)
{
	json_t *o = json_object();

	for (; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		_cleanup_free_ char *k = xstrndup(*v, eq ? (size_t)(eq - *v) : strlen(*v));
		if (!*k || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0) {
			json_decref(o);
			return err_set(e, -EINVAL, "invalid %s '%s'", what, *v);
		}
	}
	*out = o;
	return 0;
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

static int create_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct create_cli *a = o;
	_cleanup_json_ json_t *labels = NULL, *opts = NULL;
	struct err e = ERR_INIT;
	uint64_t size = 0;
	char *made = NULL;
	const char *k;
	json_t *v;

	if (kv_object("label", a->label.v, &labels, &e) < 0 ||
	    kv_object("option", a->opt.v, &opts, &e) < 0)
		return fail(c, &e);
	json_object_foreach(opts, k, v) {
		/* the local driver's mount options (type, device, o) have no
		 * meaning for a disk image; refuse rather than ignore them */
		if (strcmp(k, "size") != 0) {
			err_set(&e, -EINVAL, "unsupported volume option '%s' (supported: size)", k);
			return fail(c, &e);
		}
		if (mounts_parse_size(json_string_value(v), &size, &e) < 0)
			return fail(c, &e);
	}
	if (a->size && mounts_parse_size(a->size, &size, &e) < 0)
		return fail(c, &e);
	if (volume_create(argc ? argv[0] : NULL, size, labels, opts, false, &made, &e) < 0)
		return fail(c, &e);
	printf("%s\n", made);
	free(made);
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
	struct err e = ERR_INIT;
	char **names;
	size_t n;
	json_t *arr;
	bool json = a->format && !strcmp(a->format, "json");

	(void)argc;
	(void)argv;
	if (a->format && !json && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container volume list: --format must be table or json\n");
		return EXIT_USAGE;
	}
	if (volume_names(&names, &n, &e) < 0)
		return fail(c, &e);
	arr = json_array();
	if (!json && !a->quiet)
		printf("%-8s %-64s %10s  %s\n", "DRIVER", "VOLUME NAME", "SIZE", "CREATED");
	for (size_t i = 0; i < n; i++) {
		struct volume v;
		struct err le = ERR_INIT;
		if (a->quiet) {
			printf("%s\n", names[i]);
			continue;
		}
		if (volume_load(names[i], &v, &le) < 0) {
			fprintf(stderr, "container volume list: skipping %s: %s\n", names[i], le.msg);
			continue;
		}
		if (json)
			json_array_append_new(arr, volume_json(&v));
		else
			printf("%-8s %-64s %9lluG  %s\n", v.driver, v.name,
			       (unsigned long long)(v.size >> 30), v.created);
		volume_free(&v);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	free_names(names);
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
	json_t *arr = json_array();
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		struct volume v;
		struct err e = ERR_INIT;
		if (volume_load(argv[i], &v, &e) < 0) {
			status = fail(c, &e);
			continue;
		}
		json_array_append_new(arr, volume_json(&v));
		volume_free(&v);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(arr);
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
		struct err e = ERR_INIT;
		if (volume_remove(argv[i], a->force, &e) < 0)
			status = fail(c, &e);
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

/* docker (API >= 1.42): anonymous volumes no container uses; -a: every
 * volume no container uses. */
static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	struct err e = ERR_INIT;
	char **names;
	size_t n;
	int status = EXIT_OK;

	(void)argc;
	(void)argv;
	if (volume_names(&names, &n, &e) < 0)
		return fail(c, &e);
	for (size_t i = 0; i < n; i++) {
		struct volume v;
		struct err le = ERR_INIT;
		if (volume_load(names[i], &v, &le) < 0)
			continue;
		if ((a->all || v.anonymous)) {
			if (volume_remove(names[i], false, &le) == 0)
				printf("%s\n", names[i]);
			else if (le.code != -EBUSY)
				status = fail(c, &le);
		}
		volume_free(&v);
	}
	free_names(names);
	return status;
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

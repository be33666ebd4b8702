/* `container list|ls [-a] [-q] [--format table|json]`, `inspect CONTAINER...`,
 * `delete|rm [-f] [--all] CONTAINER...` and `prune`: the containers on this
 * machine, read from their bundles (applets/bundle.h).  Like exec/stop,
 * these read the bundles directly until the API server (#6) serves
 * /containers/json and friends; the output is what they will print then. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/applets.h"
#include "applets/bundle.h"
#include "applets/network.h"
#include "applets/mounts.h"
#include "applets/stop.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define MAX_CONTAINERS 100000

struct ctr {
	struct bundle_config cfg;
	struct bundle_state st;
	time_t created;
};

/* A state that says "running" but whose runtime is gone (killed, host
 * crash) is shown as exited: nothing runs it any more. */
static void settle(struct ctr *c)
{
	if (c->st.status == BUNDLE_RUNNING && c->st.runtime_pid > 0 &&
	    kill((pid_t)c->st.runtime_pid, 0) < 0 && errno == ESRCH) {
		c->st.status = BUNDLE_EXITED;
		if (!c->st.error[0])
			snprintf(c->st.error, sizeof(c->st.error), "its runtime is gone");
	}
}

static time_t parse_time(const char *s)
{
	struct tm tm = { 0 };

	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static int by_created(const void *a, const void *b)
{
	const struct ctr *x = a, *y = b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

/* Every readable container, newest first; unreadable ones are reported on
 * stderr and skipped (never deleted). */
static int load_all(struct ctr **out, size_t *n, struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct ctr *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (bundle_root(&root, e) < 0)
		return e->code;
	if (!(d = opendir(buf_str(&root))))
		return errno == ENOENT ? 0 : err_sys(e, "open %s", buf_str(&root));
	while ((de = readdir(d)) && len < MAX_CONTAINERS) {
		struct err le = ERR_INIT;
		struct ctr c = { 0 };
		if (strlen(de->d_name) != BUNDLE_ID_LEN || strspn(de->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		if (bundle_config_load(de->d_name, &c.cfg, &le) < 0 ||
		    bundle_state_load(de->d_name, &c.st, &le) < 0) {
			fprintf(stderr, "container: skipping %.12s: %s\n", de->d_name, le.msg);
			bundle_config_free(&c.cfg);
			continue;
		}
		settle(&c);
		c.created = parse_time(c.cfg.created);
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = c;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), by_created);
	*out = v;
	*n = len;
	return 0;
}

static void free_all(struct ctr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bundle_config_free(&v[i].cfg);
	free(v);
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

static void status_text(const struct ctr *c, struct buf *out)
{
	switch (c->st.status) {
	case BUNDLE_CREATED:
		buf_puts(out, "Created");
		break;
	case BUNDLE_RUNNING:
		buf_puts(out, "Up ");
		ago(parse_time(c->st.started_at), out);
		break;
	case BUNDLE_EXITED:
		buf_printf(out, "Exited (%d) ", c->st.exit_code);
		ago(parse_time(c->st.finished_at), out);
		buf_puts(out, " ago");
		break;
	}
}

static const char *status_word(const struct ctr *c)
{
	return c->st.status == BUNDLE_RUNNING ? "running" : c->st.status == BUNDLE_EXITED ? "exited"
											 : "created";
}

/* The command as docker ps shows it: entrypoint + cmd, as given or from
 * the image. */
static void command_text(const struct ctr *c, struct buf *out)
{
	json_t *proc = json_object_get(c->cfg.guest, "process");
	json_t *img = json_object_get(c->cfg.guest, "image");
	json_t *ep = json_object_get(proc, "entrypoint"), *cmd = json_object_get(proc, "cmd");
	json_t *parts[2];
	size_t i;
	json_t *v;

	if (!ep)
		ep = json_object_get(img, "Entrypoint");
	if (!cmd && !json_object_get(proc, "entrypoint"))
		cmd = json_object_get(img, "Cmd");
	parts[0] = ep;
	parts[1] = cmd;
	for (int k = 0; k < 2; k++)
		json_array_foreach(parts[k], i, v)
			if (json_is_string(v))
				buf_printf(out, "%s%s", out->len ? " " : "", json_string_value(v));
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

static json_t *ctr_json(const struct ctr *c)
{
	_cleanup_buf_ struct buf cmd = BUF_INIT, st = BUF_INIT;
	json_t *j;

	command_text(c, &cmd);
	status_text(c, &st);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:O}", "Id", c->cfg.id,
			 "Name", c->cfg.name ? c->cfg.name : "", "Image",
			 c->cfg.image_ref ? c->cfg.image_ref : "", "Command", buf_str(&cmd),
			 "Created", c->cfg.created ? c->cfg.created : "", "State", status_word(c),
			 "Status", buf_str(&st), "ExitCode", c->st.exit_code, "Arch",
			 c->cfg.arch ? c->cfg.arch : "", "Labels",
			 c->cfg.labels ? c->cfg.labels : json_object());
	/* published ports as bound (host port 0 resolved), applets/network.h */
	if (j)
		json_object_set_new(j, "Ports", network_ports_json(c->cfg.id, c->cfg.network));
	return j;
}

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	struct ctr *v;
	size_t n;
	struct err e = ERR_INIT;
	json_t *arr = NULL;

	(void)argc;
	(void)argv;
	if (a->format && strcmp(a->format, "json") != 0 && strcmp(a->format, "table") != 0) {
		fprintf(stderr, "container %s: --format must be table or json\n", c->name);
		return EXIT_USAGE;
	}
	if (load_all(&v, &n, &e) < 0) {
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	if (a->format && !strcmp(a->format, "json"))
		arr = json_array();
	else if (!a->quiet)
		printf("%-14s %-28s %-22s %-16s %-26s %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS", "NAMES");
	for (size_t i = 0; i < n; i++) {
		_cleanup_buf_ struct buf cmd = BUF_INIT, st = BUF_INIT, cr = BUF_INIT, q = BUF_INIT;
		if (!a->all && v[i].st.status != BUNDLE_RUNNING)
			continue;
		if (arr) {
			json_array_append_new(arr, ctr_json(&v[i]));
			continue;
		}
		if (a->quiet) {
			printf("%.12s\n", v[i].cfg.id);
			continue;
		}
		command_text(&v[i], &cmd);
		status_text(&v[i], &st);
		ago(v[i].created, &cr);
		buf_puts(&cr, " ago");
		buf_printf(&q, "\"%.*s%s\"", 17, buf_str(&cmd), cmd.len > 17 ? "..." : "");
		printf("%-14.12s %-28s %-22s %-16s %-26s %s\n", v[i].cfg.id,
		       v[i].cfg.image_ref ? v[i].cfg.image_ref : "", buf_str(&q), buf_str(&cr),
		       buf_str(&st), v[i].cfg.name ? v[i].cfg.name : "");
	}
	if (arr) {
		_cleanup_buf_ struct buf out = BUF_INIT;
		if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
			printf("%s\n", buf_str(&out));
		json_decref(arr);
	}
	free_all(v, n);
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
	int status = EXIT_OK;

	(void)o;
	for (int i = 0; i < argc; i++) {
		char id[BUNDLE_ID_LEN + 1];
		struct err e = ERR_INIT;
		struct ctr x = { 0 };
		if (bundle_resolve(argv[i], id, &e) < 0 || bundle_config_load(id, &x.cfg, &e) < 0 ||
		    bundle_state_load(id, &x.st, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", c->name, e.msg);
			bundle_config_free(&x.cfg);
			status = EXIT_FAIL;
			continue;
		}
		settle(&x);
		json_t *j = ctr_json(&x);
		json_object_set_new(j, "State", json_pack("{s:s, s:i, s:s, s:s, s:i, s:s}", "Status",
				    status_word(&x), "ExitCode", x.st.exit_code, "StartedAt",
				    x.st.started_at, "FinishedAt", x.st.finished_at, "Pid",
				    (int)x.st.runtime_pid, "Error", x.st.error));
		json_object_set(j, "Config", x.cfg.guest);
		json_object_set_new(j, "Resources", json_pack("{s:i, s:i}", "Cpus", (int)x.cfg.cpus,
				    "MemoryMiB", (int)x.cfg.memory_mib));
		json_object_set_new(j, "AutoRemove", json_boolean(x.cfg.auto_remove));
		if (x.cfg.network)
			json_object_set(j, "Network", x.cfg.network);
		if (x.cfg.mounts)
			json_object_set(j, "Mounts", x.cfg.mounts);
		json_array_append_new(arr, j);
		bundle_config_free(&x.cfg);
	}
	struct err e = ERR_INIT;
	if (jsonx_dump_buf(arr, JSON_INDENT(2), &out, &e) == 0)
		printf("%s\n", buf_str(&out));
	json_decref(arr);
	return status;
}

const struct cmd cmd_ctr_inspect = {
	.name = "inspect",
	.summary = "Show containers' configuration and state as JSON",
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

static int rm_bundle(const char *id, int force, int volumes, struct err *e);

static int rm_one(const char *query, int force, int volumes, struct err *e)
{
	char id[BUNDLE_ID_LEN + 1];
	struct ctr x = { 0 };
	int rc;

	if ((rc = bundle_resolve(query, id, e)) < 0 || (rc = bundle_state_load(id, &x.st, e)) < 0)
		return rc;
	settle(&x);
	if (x.st.status == BUNDLE_RUNNING) {
		if (!force)
			return err_set(e, -EBUSY, "container %s is running: stop it first, or use -f",
				       query);
		if ((rc = stop_container(id, SIGKILL, 0, true, e)) < 0 && rc != -ESRCH)
			return rc;
		err_clear(e);
	}
	return rm_bundle(id, force, volumes, e);
}

/* docker rm -v: the anonymous volumes go with the container */
static int rm_bundle(const char *id, int force, int volumes, struct err *e)
{
	struct bundle_config cfg;
	int rc;

	(void)force;
	if (!volumes || bundle_config_load(id, &cfg, e) < 0) {
		err_clear(e);
		return bundle_remove(id, e);
	}
	if ((rc = bundle_remove(id, e)) == 0 && cfg.mounts)
		rc = mounts_remove_anonymous(cfg.mounts, e);
	bundle_config_free(&cfg);
	return rc;
}

static int rm_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	int status = EXIT_OK;

	if (!a->all && argc == 0) {
		fprintf(stderr, "container %s: name containers, or use --all\n", c->name);
		return EXIT_USAGE;
	}
	if (a->all) {
		struct ctr *v;
		size_t n;
		struct err e = ERR_INIT;
		if (load_all(&v, &n, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", c->name, e.msg);
			return EXIT_FAIL;
		}
		for (size_t i = 0; i < n; i++) {
			struct err le = ERR_INIT;
			if (v[i].st.status == BUNDLE_RUNNING && !a->force)
				continue;
			if (rm_one(v[i].cfg.id, a->force, a->volumes, &le) < 0) {
				fprintf(stderr, "container %s: %s\n", c->name, le.msg);
				status = EXIT_FAIL;
			} else {
				printf("%.12s\n", v[i].cfg.id);
			}
		}
		free_all(v, n);
	}
	for (int i = 0; i < argc; i++) {
		struct err e = ERR_INIT;
		if (rm_one(argv[i], a->force, a->volumes, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", c->name, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
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
	static const struct rm_cli all = { .all = 1 };

	(void)o;
	(void)argc;
	(void)argv;
	return rm_cmd(c, (void *)&all, 0, NULL);
}

const struct cmd cmd_ctr_prune = {
	.name = "prune",
	.summary = "Remove every container that is not running",
	.max_args = 0,
	.run = prune_cmd,
};

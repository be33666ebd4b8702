/* `container image ...`: pull, push, list, inspect, tag, delete, prune,
 * save, load.  Thin: parse options, ask the API server (applets/cliapi.h,
 * started if needed; the endpoints are applets/api_images.c and
 * api_imgio.c, which call oci/), print as before.  Pull and push send the
 * credentials `registry login` stored as X-Registry-Auth.  image_local (a
 * stored image ready to run) is the server's, below. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/api_regauth.h"
#include "applets/applets.h"
#include "applets/cliapi.h"
#include "applets/image.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/creds.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/ref.h"
#include "oci/snapshot.h"
#include "oci/store.h"

static int fail(const struct cmd *c, const struct err *e)
{
	fprintf(stderr, "container image %s: %s\n", c->name, e->msg);
	return EXIT_FAIL;
}

static int usage(const struct cmd *c, const char *msg)
{
	fprintf(stderr, "container image %s: %s\nRun 'container image %s --help' for usage.\n",
		c->name, msg, c->name);
	return EXIT_USAGE;
}

#define MESSAGE_MAX (1u << 20)

static int parse_scheme(const char *s, enum registry_scheme *out)
{
	if (!s || strcmp(s, "auto") == 0)
		*out = REGISTRY_SCHEME_AUTO;
	else if (strcmp(s, "https") == 0)
		*out = REGISTRY_SCHEME_HTTPS;
	else if (strcmp(s, "http") == 0)
		*out = REGISTRY_SCHEME_HTTP;
	else
		return -1;
	return 0;
}

int image_cli_platform(const char *plat, const char *os, const char *arch, struct platform *p,
			  int *given, struct err *e)
{
	int rc;

	*given = 0;
	if (plat) {
		if ((rc = platform_parse(plat, p, e)) < 0)
			return rc;
		*given = 1;
	} else {
		platform_host(p);
	}
	if (os || arch) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		buf_printf(&b, "%s/%s", os ? os : p->os, arch ? arch : p->arch);
		if ((rc = platform_parse(buf_str(&b), p, e)) < 0)
			return rc;
		*given = 1;
	}
	return 0;
}

/* ---- talking to the API server ---- */

static int api_fail(const struct cmd *c, struct cliapi *a, const struct err *e)
{
	cliapi_free(a);
	return fail(c, e);
}

/* "X-Registry-Auth: …\r\n" for the registry of ref when `registry login`
 * stored credentials for it; nothing otherwise (the server then uses its
 * own, or none). */
static void auth_header(const char *ref, struct buf *h)
{
	struct creds cr;
	struct ref r;

	if (ref_parse(ref, 0, &r, NULL) < 0 || creds_lookup(NULL, r.domain, &cr, NULL) != 1)
		return;
	buf_puts(h, "X-Registry-Auth: ");
	api_regauth_encode(&cr, r.domain, h, NULL);
	buf_puts(h, "\r\n");
	creds_free(&cr);
}

/* A stream of JSON messages, one a line (pull, push, load): fn sees each;
 * a message with "error" ends it as -EIO with that message. */
static int read_messages(struct api_stream *st, void (*fn)(void *ud, const json_t *m), void *ud,
			 struct err *e)
{
	_cleanup_buf_ struct buf in = BUF_INIT;
	ssize_t got;
	int rc = 0;

	buf_init(&in, MESSAGE_MAX);
	do {
		char *nl;
		if ((got = api_stream_read(st, &in, e)) < 0)
			return (int)got;
		while ((nl = memchr(in.data ? in.data : "", '\n', in.len)) || (got == 0 && in.len)) {
			size_t n = nl ? (size_t)(nl - in.data) : in.len;
			json_t *m = n ? jsonx_parse(in.data, n, MESSAGE_MAX, "message", NULL) : NULL;
			const char *msg = jsonx_str(m, "error");
			if (msg && rc == 0)
				rc = err_set(e, -EIO, "%s", msg);
			else if (m && rc == 0)
				fn(ud, m);
			json_decref(m);
			buf_consume(&in, nl ? n + 1 : n);
		}
		if (got > 0 && in.len == in.max)
			return err_set(e, -E2BIG, "a message of the API server is too long");
	} while (got > 0);
	return rc;
}

/* name as the user sees it: normalized ("alpine" -> docker.io/library/alpine:latest) */
static void normalized(const char *name, struct buf *out)
{
	struct ref r;

	if (ref_parse(name, 0, &r, NULL) < 0)
		buf_puts(out, name);
	else
		ref_format(&r, out);
}

/* ---- pull, push ---- */

struct progress {
	bool show;
	const char *name, *digest;   /* the last words */
	json_t *keep;
};

static void on_progress(void *ud, const json_t *m)
{
	struct progress *p = ud;
	const char *st = jsonx_str(m, "status"), *id = jsonx_str(m, "id");
	const json_t *aux = json_object_get(m, "aux");

	if (aux) {
		json_decref(p->keep);
		p->keep = json_deep_copy(aux);
		p->name = jsonx_str(p->keep, "Name");
		p->digest = jsonx_str(p->keep, "Digest");
		return;
	}
	if (!st)
		return;
	if (id && p->show)
		fprintf(stderr, "%s %s\n", id, st);
	if (!strncmp(st, "Digest: ", 8) || !strncmp(st, "Status: Downloaded newer image for ", 35)) {
		json_t *k = p->keep ? p->keep : (p->keep = json_object());
		if (st[0] == 'D')
			json_object_set_new(k, "Digest", json_string(st + 8));
		else
			json_object_set_new(k, "Name", json_string(st + 35));
		p->name = jsonx_str(k, "Name");
		p->digest = jsonx_str(k, "Digest");
	}
}

/* POST path with the credentials for ref; the stream's last words in p. */
static int transfer(const struct cmd *c, const char *path, const char *ref, struct progress *p)
{
	_cleanup_buf_ struct buf hdr = BUF_INIT;
	struct api_stream st;
	struct cliapi a;
	struct err e = ERR_INIT;
	int rc;

	if (cliapi_connect(&a, &e) < 0)
		return api_fail(c, &a, &e);
	auth_header(ref, &hdr);
	rc = cliapi_open_ex(&a, "POST", path, hdr.len ? buf_str(&hdr) : NULL, NULL, -1, 0, &st, &e);
	if (rc == 0) {
		rc = read_messages(&st, on_progress, p, &e);
		api_stream_close(&st);
	}
	if (rc == 0 && (!p->name || !p->digest))
		rc = err_set(&e, -EPROTO, "the API server's answer ended early");
	return rc < 0 ? api_fail(c, &a, &e) : (cliapi_free(&a), 0);
}

static void query_platform(struct buf *path, const struct platform *plat, int given)
{
	if (given) {
		_cleanup_buf_ struct buf pb = BUF_INIT;
		platform_format(plat, &pb);
		buf_puts(path, "&platform=");
		cliapi_escape(path, buf_str(&pb));
	}
}

struct pull_cli {
	const char *platform, *os, *arch, *progress, *scheme;
	long max_conc;
	int quiet, verify;
};

static const struct opt pull_optv[] = {
	OPT_STRING(0, "platform", struct pull_cli, platform, "OS/ARCH[/VARIANT]",
		   "Platform to pull (default: the host's linux/<arch>)"),
	OPT_STRING(0, "os", struct pull_cli, os, "OS", "Operating system to pull"),
	OPT_STRING('a', "arch", struct pull_cli, arch, "ARCH", "Architecture to pull"),
	OPT_INT(0, "max-concurrent-downloads", struct pull_cli, max_conc, "N",
		"Layers downloaded at once (default 3)"),
	OPT_STRING(0, "progress", struct pull_cli, progress, "MODE",
		   "Progress output: auto, plain, tty or none"),
	OPT_STRING(0, "scheme", struct pull_cli, scheme, "SCHEME",
		   "Registry scheme: https, http or auto (http only for loopback)"),
	OPT_FLAG('q', "quiet", struct pull_cli, quiet, "Print only the image name"),
	OPT_FLAG(0, "verify-diff-ids", struct pull_cli, verify,
		 "Also decompress layers while pulling and check them against the config"),
	OPT_END,
};

static int pull_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct pull_cli *a = o;
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct progress p = { 0 };
	enum registry_scheme sch;
	enum pull_progress mode = PULL_PROGRESS_AUTO;
	struct platform plat;
	struct err e = ERR_INIT;
	int given, rc;

	(void)argc;
	if (parse_scheme(a->scheme, &sch) < 0)
		return usage(c, "--scheme must be https, http or auto");
	if (a->max_conc < 0 || a->max_conc > 16)
		return usage(c, "--max-concurrent-downloads must be between 1 and 16");
	if (a->progress && pull_progress_parse(a->progress, &mode, &e) < 0)
		return usage(c, e.msg);
	if (image_cli_platform(a->platform, a->os, a->arch, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	buf_puts(&path, "/images/create?fromImage=");
	cliapi_escape(&path, argv[0]);
	query_platform(&path, &plat, given);
	if (a->scheme)
		buf_printf(&path, "&scheme=%s", a->scheme);
	if (a->verify)
		buf_puts(&path, "&verify=1");
	if (a->max_conc)
		buf_printf(&path, "&concurrency=%ld", a->max_conc);
	p.show = !a->quiet && mode != PULL_PROGRESS_NONE;
	if ((rc = transfer(c, buf_str(&path), argv[0], &p)) != 0) {
		json_decref(p.keep);
		return rc;
	}
	if (a->quiet)
		printf("%s\n", p.name);
	else
		printf("Pulled %s\nDigest: %s\n", p.name, p.digest);
	json_decref(p.keep);
	return EXIT_OK;
}

static const struct cmd cmd_image_pull = {
	.name = "pull",
	.summary = "Download an image from a registry",
	.usage = "[OPTIONS] REFERENCE",
	.help = "The API server pulls (started if needed).  Credentials from 'container\n"
		"registry login' (Docker's config.json) go with the request.  On the server:\n"
		"CONTAINER_REGISTRY_CA=FILE trusts an extra CA; CONTAINER_REGISTRY_INSECURE=\n"
		"host[:port],... uses plain http for those registries.",
	.opts = pull_optv,
	.opts_size = sizeof(struct pull_cli),
	.min_args = 1,
	.max_args = 1,
	.run = pull_cmd,
};

struct push_cli {
	const char *platform, *scheme, *progress;
	int quiet;
};

static const struct opt push_optv[] = {
	OPT_STRING(0, "platform", struct push_cli, platform, "OS/ARCH[/VARIANT]",
		   "Push only this platform's manifest"),
	OPT_STRING(0, "scheme", struct push_cli, scheme, "SCHEME",
		   "Registry scheme: https, http or auto (http only for loopback)"),
	OPT_STRING(0, "progress", struct push_cli, progress, "MODE",
		   "Progress output: auto, plain or none"),
	OPT_FLAG('q', "quiet", struct push_cli, quiet, "Print only the digest"),
	OPT_END,
};

static int push_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct push_cli *a = o;
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct progress p = { 0 };
	enum registry_scheme sch;
	enum pull_progress mode = PULL_PROGRESS_AUTO;
	struct platform plat;
	struct err e = ERR_INIT;
	int given, rc;

	if (parse_scheme(a->scheme, &sch) < 0)
		return usage(c, "--scheme must be https, http or auto");
	if (a->progress && pull_progress_parse(a->progress, &mode, &e) < 0)
		return usage(c, e.msg);
	if (image_cli_platform(a->platform, NULL, NULL, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	buf_puts(&path, "/images/");
	cliapi_escape(&path, argv[0]);
	buf_puts(&path, "/push?tag=");
	if (argc > 1) {
		buf_puts(&path, "&destination=");
		cliapi_escape(&path, argv[1]);
	}
	query_platform(&path, &plat, given);
	if (a->scheme)
		buf_printf(&path, "&scheme=%s", a->scheme);
	p.show = !a->quiet && mode != PULL_PROGRESS_NONE;
	if ((rc = transfer(c, buf_str(&path), argc > 1 ? argv[1] : argv[0], &p)) != 0) {
		json_decref(p.keep);
		return rc;
	}
	if (a->quiet)
		printf("%s\n", p.digest);
	else
		printf("Pushed %s\nDigest: %s\n", p.name, p.digest);
	json_decref(p.keep);
	return EXIT_OK;
}

static const struct cmd cmd_image_push = {
	.name = "push",
	.summary = "Upload an image to a registry",
	.usage = "[OPTIONS] IMAGE [DESTINATION]",
	.help = "DESTINATION (default: IMAGE's own name) may name another registry.",
	.opts = push_optv,
	.opts_size = sizeof(struct push_cli),
	.min_args = 1,
	.max_args = 2,
	.run = push_cmd,
};

/* ---- list ---- */

/* "alpine" and "latest" from docker.io/library/alpine:latest. */
static void split_name(const char *name, struct buf *repo, struct buf *tag)
{
	struct ref r;

	if (ref_parse(name, 0, &r, NULL) < 0) {
		buf_puts(repo, name);
		return;
	}
	buf_puts(tag, r.tag[0] ? r.tag : "<none>");
	r.tag[0] = '\0';
	r.has_digest = 0;
	ref_format_familiar(&r, repo);
}

static void rfc3339(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct list_cli {
	int quiet;
	const char *format;
};

static const struct opt list_optv[] = {
	OPT_FLAG('q', "quiet", struct list_cli, quiet, "Print only image ids"),
	OPT_STRING(0, "format", struct list_cli, format, "FORMAT", "Output format: table or json"),
	OPT_END,
};

struct named {
	const char *name;
	const json_t *row;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* GET /images/json as one entry per name, sorted; *rows owns the answer. */
static int list_names(struct cliapi *a, json_t **rows, struct named **out, size_t *n,
		      struct err *e)
{
	const json_t *row, *nm;
	size_t i, k;

	*out = NULL;
	*n = 0;
	if (cliapi_call(a, "GET", "/images/json", NULL, rows, e) < 0)
		return -1;
	if (!json_is_array(*rows))
		return err_set(e, -EPROTO, "the API server's image list is not a list");
	json_array_foreach(*rows, i, row)
		json_array_foreach(json_object_get(row, "Names"), k, nm)
			if (json_is_string(nm)) {
				*out = xreallocarray(*out, *n + 1, sizeof(**out));
				(*out)[(*n)++] = (struct named){ json_string_value(nm), row };
			}
	if (*n)
		qsort(*out, *n, sizeof(**out), by_name);
	return 0;
}

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	struct err e = ERR_INIT;
	struct cliapi api;
	struct named *v = NULL;
	json_t *rows = NULL, *arr;
	size_t n;
	int json = 0;

	(void)argc;
	(void)argv;
	if (a->format && strcmp(a->format, "json") == 0)
		json = 1;
	else if (a->format && strcmp(a->format, "table") != 0)
		return usage(c, "--format must be table or json");
	if (cliapi_connect(&api, &e) < 0 || list_names(&api, &rows, &v, &n, &e) < 0) {
		json_decref(rows);
		return api_fail(c, &api, &e);
	}
	cliapi_free(&api);
	arr = json_array();
	if (!json && !a->quiet)
		printf("%-40s %-16s %-14s %10s  %s\n", "NAME", "TAG", "DIGEST", "SIZE", "PLATFORM");
	for (size_t i = 0; i < n; i++) {
		_cleanup_buf_ struct buf repo = BUF_INIT, tag = BUF_INIT, sz = BUF_INIT;
		const char *id = jsonx_str(v[i].row, "Id"), *plat = jsonx_str(v[i].row, "Platform");
		const char *mt = jsonx_str(v[i].row, "MediaType");
		long long size = jsonx_int(v[i].row, "Size", -1);
		char when[32];

		id = id ? id : "";
		plat = plat ? plat : "";
		if (a->quiet) {
			int seen = 0;
			for (size_t k = 0; k < i; k++)
				seen |= v[k].row == v[i].row;
			if (!seen)
				printf("%.12s\n", strncmp(id, "sha256:", 7) ? id : id + 7);
			continue;
		}
		split_name(v[i].name, &repo, &tag);
		rfc3339(jsonx_int(v[i].row, "Created", 0), when, sizeof(when));
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}",
				"name", v[i].name, "repository", buf_str(&repo), "tag", buf_str(&tag),
				"digest", id, "mediaType", mt ? mt : "", "size", (json_int_t)size,
				"platform", plat, "created", when));
			continue;
		}
		human_size(&sz, (double)size, HUMAN_DECIMAL1);
		printf("%-40s %-16s %-14.12s %10s  %s\n", buf_str(&repo), buf_str(&tag),
		       strncmp(id, "sha256:", 7) ? id : id + 7, buf_str(&sz), plat);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	free(v);
	json_decref(rows);
	return EXIT_OK;
}

static const struct cmd cmd_image_list = {
	.name = "list",
	.aliases = "ls",
	.summary = "List images",
	.usage = "[-q] [--format table|json]",
	.opts = list_optv,
	.opts_size = sizeof(struct list_cli),
	.max_args = 0,
	.run = list_cmd,
};

/* ---- inspect ---- */

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct cliapi api;
	json_t *arr;
	int rc = EXIT_OK;

	(void)o;
	if (cliapi_connect(&api, &e) < 0)
		return api_fail(c, &api, &e);
	arr = json_array();
	for (int i = 0; i < argc; i++) {
		_cleanup_buf_ struct buf path = BUF_INIT;
		json_t *doc = NULL, *ours;
		buf_puts(&path, "/images/");
		cliapi_escape(&path, argv[i]);
		buf_puts(&path, "/json?container=1");
		if (cliapi_call(&api, "GET", buf_str(&path), NULL, &doc, &e) < 0) {
			rc = fail(c, &e);
			continue;
		}
		if (!json_is_object(ours = json_object_get(doc, "ContainerImage"))) {
			err_set(&e, -EPROTO, "the API server's answer lacks ContainerImage");
			rc = fail(c, &e);
		} else {
			json_array_append(arr, ours);
		}
		json_decref(doc);
	}
	cliapi_free(&api);
	json_dumpf(arr, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(arr);
	return rc;
}

static const struct cmd cmd_image_inspect = {
	.name = "inspect",
	.summary = "Show images' manifests and configurations as JSON",
	.usage = "IMAGE...",
	.min_args = 1,
	.max_args = -1,
	.run = inspect_cmd,
};

/* ---- tag ---- */

static int tag_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf path = BUF_INIT, repo = BUF_INIT;
	const char *slash = strrchr(argv[1], '/'), *colon;
	struct err e = ERR_INIT;
	struct cliapi api;

	(void)o;
	(void)argc;
	colon = strrchr(slash ? slash : argv[1], ':');
	buf_append(&repo, argv[1], colon ? (size_t)(colon - argv[1]) : strlen(argv[1]));
	buf_puts(&path, "/images/");
	cliapi_escape(&path, argv[0]);
	buf_puts(&path, "/tag?repo=");
	cliapi_escape(&path, buf_str(&repo));
	if (colon) {
		buf_puts(&path, "&tag=");
		cliapi_escape(&path, colon + 1);
	}
	if (cliapi_connect(&api, &e) < 0 || cliapi_call(&api, "POST", buf_str(&path), NULL, NULL, &e) < 0)
		return api_fail(c, &api, &e);
	cliapi_free(&api);
	return EXIT_OK;
}

static const struct cmd cmd_image_tag = {
	.name = "tag",
	.summary = "Give an image another name",
	.usage = "SOURCE TARGET",
	.min_args = 2,
	.max_args = 2,
	.run = tag_cmd,
};

/* ---- delete, prune ---- */

/* Print Docker's list of {"Untagged": …} / {"Deleted": …} our way. */
static void print_deleted(const json_t *v, bool deleted_too)
{
	const json_t *x;
	size_t i;

	json_array_foreach(v, i, x) {
		_cleanup_buf_ struct buf n = BUF_INIT;
		if (jsonx_str(x, "Untagged")) {
			normalized(jsonx_str(x, "Untagged"), &n);
			printf("Untagged: %s\n", buf_str(&n));
		} else if (deleted_too && jsonx_str(x, "Deleted")) {
			printf("Deleted: %s\n", jsonx_str(x, "Deleted"));
		}
	}
}

struct rm_cli {
	int force, all;
};

static const struct opt rm_optv[] = {
	OPT_FLAG('f', "force", struct rm_cli, force,
		 "Remove every name of an image given by id; ignore missing images"),
	OPT_FLAG('a', "all", struct rm_cli, all, "Remove all images"),
	OPT_END,
};

static int rm_one(struct cliapi *api, const char *q, int force, bool deleted_too, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	json_t *out = NULL;
	int rc;

	buf_puts(&path, "/images/");
	cliapi_escape(&path, q);
	buf_printf(&path, "?force=%d", force);
	if ((rc = cliapi_call(api, "DELETE", buf_str(&path), NULL, &out, e)) < 0)
		return force && rc == -ENOENT ? 0 : rc;
	print_deleted(out, deleted_too);
	json_decref(out);
	return 0;
}

static int rm_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	struct err e = ERR_INIT;
	struct cliapi api;
	int failed = 0;

	if (!a->all && argc == 0)
		return usage(c, "missing operand (usage: [-f] IMAGE... | --all)");
	if (cliapi_connect(&api, &e) < 0)
		return api_fail(c, &api, &e);
	if (a->all) {
		struct named *v = NULL;
		json_t *rows = NULL, *row;
		size_t n, i;
		if (list_names(&api, &rows, &v, &n, &e) < 0) {
			json_decref(rows);
			return api_fail(c, &api, &e);
		}
		json_array_foreach(rows, i, row)
			if (jsonx_str(row, "Id") && rm_one(&api, jsonx_str(row, "Id"), 1, false, &e) < 0) {
				fail(c, &e);
				failed = 1;
			}
		free(v);
		json_decref(rows);
	}
	for (int i = 0; i < argc; i++) {
		if (rm_one(&api, argv[i], a->force, true, &e) < 0) {
			fail(c, &e);
			failed = 1;
		}
	}
	cliapi_free(&api);
	return failed ? EXIT_FAIL : EXIT_OK;
}

static const struct cmd cmd_image_delete = {
	.name = "delete",
	.aliases = "rm|remove",
	.summary = "Remove images",
	.usage = "[-f] IMAGE... | --all",
	.opts = rm_optv,
	.opts_size = sizeof(struct rm_cli),
	.max_args = -1,
	.run = rm_cmd,
};

struct prune_cli {
	int all;
};

static const struct opt prune_optv[] = {
	OPT_FLAG('a', "all", struct prune_cli, all, "Also remove every image no container uses"),
	OPT_END,
};

static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct prune_cli *a = o;
	_cleanup_buf_ struct buf sz = BUF_INIT;
	struct err e = ERR_INIT;
	struct cliapi api;
	json_t *out = NULL;

	(void)argc;
	(void)argv;
	if (cliapi_connect(&api, &e) < 0 ||
	    cliapi_call(&api, "POST", a->all ? "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D"
					     : "/images/prune", NULL, &out, &e) < 0)
		return api_fail(c, &api, &e);
	cliapi_free(&api);
	print_deleted(json_object_get(out, "ImagesDeleted"), false);
	if (jsonx_str(out, "Busy")) {
		fprintf(stderr, "container image: %s (blobs are collected next time)\n",
			jsonx_str(out, "Busy"));
	} else {
		human_size(&sz, (double)jsonx_int(out, "SpaceReclaimed", 0), HUMAN_DECIMAL1);
		printf("Deleted %lld blobs and %lld root file systems, reclaimed %s\n",
		       jsonx_int(out, "BlobsDeleted", 0), jsonx_int(out, "RootfsDeleted", 0),
		       buf_str(&sz));
	}
	json_decref(out);
	return EXIT_OK;
}

static const struct cmd cmd_image_prune = {
	.name = "prune",
	.summary = "Remove unused data: blobs no image needs (and with -a, every image no container uses)",
	.usage = "[-a]",
	.opts = prune_optv,
	.opts_size = sizeof(struct prune_cli),
	.max_args = 0,
	.run = prune_cmd,
};

/* ---- save, load ---- */

struct save_cli {
	const char *output, *platform;
};

static const struct opt save_optv[] = {
	OPT_STRING('o', "output", struct save_cli, output, "FILE", "Write to FILE (default: stdout)"),
	OPT_STRING(0, "platform", struct save_cli, platform, "OS/ARCH[/VARIANT]",
		   "Save only this platform's manifest"),
	OPT_END,
};

/* GET path's body to fd. */
static int fetch_to(struct cliapi *api, const char *path, int fd, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct api_stream st;
	ssize_t got;
	int rc;

	if ((rc = cliapi_open(api, "GET", path, NULL, 0, &st, e)) < 0)
		return rc;
	buf_init(&b, 1 << 20);
	while ((got = api_stream_read(&st, &b, e)) > 0) {
		if ((rc = fs_write_full(fd, b.data, b.len, e)) < 0)
			break;
		buf_reset(&b);
	}
	api_stream_close(&st);
	return rc < 0 ? rc : got < 0 ? (int)got : 0;
}

static int save_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct save_cli *a = o;
	_cleanup_buf_ struct buf tmp = BUF_INIT, path = BUF_INIT;
	struct platform plat;
	struct err e = ERR_INIT;
	struct cliapi api;
	int fd = 1, given, rc;

	if (image_cli_platform(a->platform, NULL, NULL, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	if (!a->output && isatty(1))
		return usage(c, "refusing to write an archive to a terminal: use -o FILE");
	buf_puts(&path, "/images/get?");
	for (int i = 0; i < argc; i++) {
		buf_puts(&path, i ? "&names=" : "names=");
		cliapi_escape(&path, argv[i]);
	}
	query_platform(&path, &plat, given);
	if (cliapi_connect(&api, &e) < 0)
		return api_fail(c, &api, &e);
	if (a->output && strcmp(a->output, "-") != 0) {
		/* written beside the target and renamed: no half archive under FILE */
		buf_printf(&tmp, "%s.tmp-%ld", a->output, (long)getpid());
		fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			err_sys(&e, "create %s", buf_str(&tmp));
			return api_fail(c, &api, &e);
		}
	}
	rc = fetch_to(&api, buf_str(&path), fd, &e);
	cliapi_free(&api);
	if (fd != 1) {
		if (rc == 0 && fsync(fd) < 0)
			rc = err_sys(&e, "sync %s", a->output);
		close(fd);
		if (rc == 0 && rename(buf_str(&tmp), a->output) < 0)
			rc = err_sys(&e, "rename to %s", a->output);
		if (rc < 0)
			unlink(buf_str(&tmp));
	}
	return rc < 0 ? fail(c, &e) : EXIT_OK;
}

static const struct cmd cmd_image_save = {
	.name = "save",
	.summary = "Write images to an OCI image-layout tar archive",
	.usage = "[-o FILE] [--platform P] IMAGE...",
	.opts = save_optv,
	.opts_size = sizeof(struct save_cli),
	.min_args = 1,
	.max_args = -1,
	.run = save_cmd,
};

struct load_cli {
	const char *input;
	int quiet;
};

static const struct opt load_optv[] = {
	OPT_STRING('i', "input", struct load_cli, input, "FILE",
		   "Read from FILE (default: stdin): OCI layout or docker save tar"),
	OPT_FLAG('q', "quiet", struct load_cli, quiet, "Print nothing on success"),
	OPT_END,
};

static void on_loaded(void *ud, const json_t *m)
{
	const char *s = jsonx_str(m, "stream");
	_cleanup_buf_ struct buf fam = BUF_INIT, n = BUF_INIT;
	size_t len;

	if (*(const int *)ud || !s)
		return;
	len = strcspn(s, "\n");
	if (!strncmp(s, "Loaded image: ", 14)) {
		buf_append(&fam, s + 14, len - 14);
		normalized(buf_str(&fam), &n);
		printf("Loaded image: %s\n", buf_str(&n));
	} else if (!strncmp(s, "Loaded image ID: ", 17)) {
		printf("Loaded image ID: %.*s (no name in the archive; not tagged)\n",
		       (int)(len - 17), s + 17);
	}
}

static int load_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct load_cli *a = o;
	struct api_stream st;
	struct err e = ERR_INIT;
	struct cliapi api;
	int fd = 0, rc;

	(void)argc;
	(void)argv;
	if (!a->input && isatty(0))
		return usage(c, "refusing to read an archive from a terminal: use -i FILE");
	if (a->input && strcmp(a->input, "-") != 0 &&
	    (fd = open(a->input, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, "open %s", a->input);
		return fail(c, &e);
	}
	signal(SIGPIPE, SIG_IGN);   /* a refused archive: the server answers before the end */
	if ((rc = cliapi_connect(&api, &e)) == 0 &&
	    (rc = cliapi_open_ex(&api, "POST", a->quiet ? "/images/load?quiet=1" : "/images/load",
				 NULL, NULL, fd, 0, &st, &e)) == 0) {
		rc = read_messages(&st, on_loaded, (void *)&a->quiet, &e);
		api_stream_close(&st);
	}
	if (fd != 0)
		close(fd);
	return rc < 0 ? api_fail(c, &api, &e) : (cliapi_free(&api), EXIT_OK);
}

static const struct cmd cmd_image_load = {
	.name = "load",
	.summary = "Load images from an OCI image-layout or docker save tar archive",
	.usage = "[-i FILE]",
	.opts = load_optv,
	.opts_size = sizeof(struct load_cli),
	.max_args = 0,
	.run = load_cmd,
};

static const struct cmd *const image_sub[] = {
	&cmd_image_pull, &cmd_image_push, &cmd_image_list, &cmd_image_inspect, &cmd_image_tag,
	&cmd_image_delete, &cmd_image_prune, &cmd_image_save, &cmd_image_load, NULL,
};

const struct cmd cmd_image = {
	.name = "image",
	.aliases = "i",
	.summary = "Manage images: pull, push, list, inspect, tag, delete, prune, save, load",
	.usage = "COMMAND [OPTIONS] [ARG...]",
	.sub = image_sub,
};

/* ---- shared with run and the API server's create (applets/image.h) ---- */

int image_local(const char *root, const char *query, const struct platform *plat,
		       char ref[IMAGE_REF_MAX], struct digest *manifest, struct buf *snap,
		       json_t **config, struct err *e)
{
	struct images *im = NULL;
	const struct images_entry *en;
	struct store *st = NULL;
	struct manifest *m = NULL;
	_cleanup_buf_ struct buf cfg = BUF_INIT;
	struct digest top;
	char media[128];
	json_t *doc;
	int rc;

	if ((rc = images_open(root, 0, &im, e)) < 0)
		return rc;
	rc = images_resolve(im, query, &en, e);
	if (rc == 0) {
		snprintf(ref, IMAGE_REF_MAX, "%s", en->name);
		snprintf(media, sizeof(media), "%s", en->media_type);
		top = en->digest;
	}
	images_close(im);
	if (rc == -ENOENT) {
		err_clear(e);
		return err_set(e, -ENOENT, "No such image: %s", query);
	}
	if (rc < 0 || (rc = store_open(root, &st, e)) < 0)
		return rc;
	rc = pull_resolve_local(st, &top, media, plat, manifest, &m, e);
	if (rc == -ENOENT) {
		err_clear(e);
		rc = err_set(e, -ENOENT, "No such image: %s (no %s/%s variant here)", query, plat->os,
			     plat->arch);
	}
	if (rc == 0)
		rc = store_read_blob(st, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, e);
	if (rc == 0) {
		doc = jsonx_parse(cfg.data, cfg.len, IMAGE_CONFIG_MAX_BYTES, "image config", e);
		rc = doc ? 0 : -EBADMSG;
		if (doc) {
			json_t *c = json_object_get(doc, "config");
			*config = json_is_object(c) ? json_incref(c) : json_object();
			json_decref(doc);
		}
	}
	if (rc == 0 && (rc = snapshot_get(st, root, manifest, NULL, snap, e)) > 0)
		rc = 0;
	manifest_free(m);
	store_close(st);
	return rc;
}

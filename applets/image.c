/* `container image ...`: pull, push, list, inspect, tag, delete, prune,
 * save, load.  Thin: parse options, call oci/ (pull.c, push.c, layout.c,
 * images.c, store.c), print.  Works on the store directly for now; the
 * API server (issue #6) will call the same oci/ functions. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/image.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "oci/images.h"
#include "oci/layout.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/push.h"
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

static int data_root(struct buf *out, struct err *e)
{
	return paths_data_dir(out, e);
}

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

/* ---- pull ---- */

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
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct pull_opts po = { 0 };
	struct pull_result res;
	struct platform plat;
	struct err e = ERR_INIT;
	int given;

	(void)argc;
	if (parse_scheme(a->scheme, &po.conn.scheme) < 0)
		return usage(c, "--scheme must be https, http or auto");
	if (a->max_conc < 0 || a->max_conc > 16)
		return usage(c, "--max-concurrent-downloads must be between 1 and 16");
	if (a->progress && pull_progress_parse(a->progress, &po.progress, &e) < 0)
		return usage(c, e.msg);
	if (image_cli_platform(a->platform, a->os, a->arch, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	if (a->quiet)
		po.progress = PULL_PROGRESS_NONE;
	po.platform = given ? &plat : NULL;
	po.max_concurrent = (int)a->max_conc;
	po.verify_diff_ids = a->verify;
	creds_conn_opts_from_env(&po.conn);
	if (data_root(&root, &e) < 0 || pull_image(buf_str(&root), argv[0], &po, &res, &e) < 0)
		return fail(c, &e);
	if (a->quiet) {
		printf("%s\n", res.name);
	} else {
		printf("Pulled %s\nDigest: %s\n", res.name, res.digest.s);
	}
	return EXIT_OK;
}

static const struct cmd cmd_image_pull = {
	.name = "pull",
	.summary = "Download an image from a registry",
	.usage = "[OPTIONS] REFERENCE",
	.help = "Credentials come from 'container registry login' (Docker's config.json).\n"
		"CONTAINER_REGISTRY_CA=FILE trusts an extra CA; CONTAINER_REGISTRY_INSECURE=\n"
		"host[:port],... uses plain http for those registries.",
	.opts = pull_optv,
	.opts_size = sizeof(struct pull_cli),
	.min_args = 1,
	.max_args = 1,
	.run = pull_cmd,
};

/* ---- push ---- */

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
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct push_opts po = { 0 };
	struct push_result res;
	struct platform plat;
	struct err e = ERR_INIT;
	int given;

	if (parse_scheme(a->scheme, &po.conn.scheme) < 0)
		return usage(c, "--scheme must be https, http or auto");
	if (a->progress && pull_progress_parse(a->progress, &po.progress, &e) < 0)
		return usage(c, e.msg);
	if (image_cli_platform(a->platform, NULL, NULL, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	if (a->quiet)
		po.progress = PULL_PROGRESS_NONE;
	po.platform = given ? &plat : NULL;
	creds_conn_opts_from_env(&po.conn);
	if (data_root(&root, &e) < 0 ||
	    push_image(buf_str(&root), argv[0], argc > 1 ? argv[1] : NULL, &po, &res, &e) < 0)
		return fail(c, &e);
	if (a->quiet)
		printf("%s\n", res.digest.s);
	else
		printf("Pushed %s\nDigest: %s\n", res.name, res.digest.s);
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

/* Size of an image: config + layers of the manifest we have (0 when
 * unknown), and its platform. */
static long long image_size(struct store *s, const struct images_entry *en, struct buf *plat)
{
	struct manifest *m = NULL;
	struct digest md;
	long long size;

	if (pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, NULL) < 0)
		return -1;
	size = m->config.size;
	for (size_t i = 0; i < m->n_layers; i++)
		size += m->layers[i].size;
	if (plat) {
		_cleanup_buf_ struct buf cfg = BUF_INIT;
		struct image_config *ic = NULL;
		if (store_read_blob(s, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, NULL) == 0 &&
		    image_config_parse(buf_str(&cfg), cfg.len, &ic, NULL) == 0)
			platform_format(&ic->platform, plat);
		image_config_free(ic);
	}
	manifest_free(m);
	return size;
}

static void human(struct buf *b, long long v)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double d = (double)v;
	int u = 0;

	if (v < 0) {
		buf_puts(b, "-");
		return;
	}
	while (d >= 1000 && u < 4) {
		d /= 1000;
		u++;
	}
	buf_printf(b, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

static void rfc3339(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

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

struct list_cli {
	int quiet;
	const char *format;
};

static const struct opt list_optv[] = {
	OPT_FLAG('q', "quiet", struct list_cli, quiet, "Print only image ids"),
	OPT_STRING(0, "format", struct list_cli, format, "FORMAT", "Output format: table or json"),
	OPT_END,
};

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct list_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct err e = ERR_INIT;
	struct images *im = NULL;
	struct store *s = NULL;
	int json = 0;
	json_t *arr;

	(void)argc;
	(void)argv;
	if (a->format && strcmp(a->format, "json") == 0)
		json = 1;
	else if (a->format && strcmp(a->format, "table") != 0)
		return usage(c, "--format must be table or json");
	if (data_root(&root, &e) < 0 || images_open(buf_str(&root), 0, &im, &e) < 0 ||
	    store_open(buf_str(&root), &s, &e) < 0) {
		images_close(im);
		return fail(c, &e);
	}
	arr = json_array();
	if (!json && !a->quiet)
		printf("%-40s %-16s %-14s %10s  %s\n", "NAME", "TAG", "DIGEST", "SIZE", "PLATFORM");
	for (size_t i = 0; i < images_count(im); i++) {
		const struct images_entry *en = images_at(im, i);
		_cleanup_buf_ struct buf repo = BUF_INIT, tag = BUF_INIT, sz = BUF_INIT, plat = BUF_INIT;
		long long size;
		char when[32];

		if (a->quiet) {
			int seen = 0;
			for (size_t k = 0; k < i; k++)
				seen |= strcmp(images_at(im, k)->digest.s, en->digest.s) == 0;
			if (!seen)
				printf("%.12s\n", digest_hex(&en->digest));
			continue;
		}
		split_name(en->name, &repo, &tag);
		size = image_size(s, en, &plat);
		rfc3339(en->created, when, sizeof(when));
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}",
				"name", en->name, "repository", buf_str(&repo), "tag", buf_str(&tag),
				"digest", en->digest.s, "mediaType", en->media_type, "size",
				(json_int_t)size, "platform", buf_str(&plat), "created", when));
			continue;
		}
		human(&sz, size);
		printf("%-40s %-16s %-14.12s %10s  %s\n", buf_str(&repo), buf_str(&tag),
		       digest_hex(&en->digest), buf_str(&sz), buf_str(&plat));
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	store_close(s);
	images_close(im);
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

static json_t *inspect_one(struct store *s, const struct images *im,
			   const struct images_entry *en, struct err *e)
{
	_cleanup_buf_ struct buf cfg = BUF_INIT;
	struct manifest *m = NULL;
	struct digest md;
	json_t *o, *names, *layers, *config;
	char when[32];
	long long size;

	if (pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, e) < 0 ||
	    store_read_blob(s, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, e) < 0) {
		manifest_free(m);
		return NULL;
	}
	config = jsonx_parse(buf_str(&cfg), cfg.len, 0, "image config", e);
	if (!config) {
		manifest_free(m);
		return NULL;
	}
	names = json_array();
	for (size_t i = 0; i < images_count(im); i++)
		if (strcmp(images_at(im, i)->digest.s, en->digest.s) == 0)
			json_array_append_new(names, json_string(images_at(im, i)->name));
	layers = json_array();
	size = m->config.size;
	for (size_t i = 0; i < m->n_layers; i++) {
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "digest",
			m->layers[i].digest.s, "mediaType", m->layers[i].media_type, "size",
			(json_int_t)m->layers[i].size));
		size += m->layers[i].size;
	}
	rfc3339(en->created, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:o, s:s, s:I, s:s, s:s, s:I, s:o, s:s, s:o}", "Name", en->name,
		      "Id", en->digest.s, "RepoTags", names, "MediaType", en->media_type,
		      "DocumentSize", (json_int_t)en->size, "Tagged", when, "Manifest", md.s,
		      "Size", (json_int_t)size, "Layers", layers, "ConfigDigest",
		      m->config.digest.s, "Config", config);
	manifest_free(m);
	return o;
}

static int inspect_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct err e = ERR_INIT;
	struct images *im = NULL;
	struct store *s = NULL;
	json_t *arr;
	int rc = EXIT_OK;

	(void)o;
	if (data_root(&root, &e) < 0 || images_open(buf_str(&root), 0, &im, &e) < 0 ||
	    store_open(buf_str(&root), &s, &e) < 0) {
		images_close(im);
		return fail(c, &e);
	}
	arr = json_array();
	for (int i = 0; i < argc; i++) {
		const struct images_entry *en;
		json_t *one;
		if (images_resolve(im, argv[i], &en, &e) < 0 || !(one = inspect_one(s, im, en, &e))) {
			rc = fail(c, &e);
			continue;
		}
		json_array_append_new(arr, one);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(arr);
	store_close(s);
	images_close(im);
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
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct err e = ERR_INIT;
	const struct images_entry *en;
	struct images *im = NULL;
	struct digest d;
	char *mt = NULL;
	long long size;
	int rc;

	(void)o;
	(void)argc;
	if (data_root(&root, &e) < 0 || images_open(buf_str(&root), IMAGES_WRITE, &im, &e) < 0)
		return fail(c, &e);
	rc = images_resolve(im, argv[0], &en, &e);
	if (rc == 0) {
		d = en->digest;
		size = en->size;
		mt = xstrdup(en->media_type);
		rc = images_tag(im, argv[1], mt, &d, size, 0, &e);
	}
	if (rc == 0)
		rc = images_save(im, &e);
	free(mt);
	images_close(im);
	return rc < 0 ? fail(c, &e) : EXIT_OK;
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

/* Delete blobs no name reaches, printing what was reclaimed.  A pull in
 * progress makes GC refuse (-EBUSY): nothing is lost, it runs next time. */
static void collect(const char *root, struct images *im, int verbose)
{
	struct store_gc_result res = { 0 };
	struct snapshot_gc_result sres = { 0 };
	struct digest *roots = NULL;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	int rc;

	/* Snapshots first: finding an index's child manifests needs the blobs
	 * that store_gc may then delete. */
	if ((rc = images_roots(im, &roots, &n, &e)) == 0 && (rc = store_open(root, &s, &e)) == 0 &&
	    (rc = snapshot_gc(s, root, roots, n, &sres, &e)) == 0)
		rc = store_gc(s, roots, n, 24 * 3600, &res, &e);
	free(roots);
	store_close(s);
	if (rc == -EBUSY)
		fprintf(stderr, "container image: %s (blobs are collected next time)\n", e.msg);
	else if (rc < 0)
		fprintf(stderr, "container image: %s\n", e.msg);
	else if (verbose) {
		_cleanup_buf_ struct buf b = BUF_INIT;
		human(&b, (long long)(res.bytes_freed + sres.bytes_freed));
		printf("Deleted %zu blobs and %zu root file systems, reclaimed %s\n", res.removed,
		       sres.removed, buf_str(&b));
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

static int rm_one(const struct cmd *c, struct images *im, const char *q, int force, struct err *e)
{
	_cleanup_buf_ struct buf norm = BUF_INIT;
	const struct images_entry *en;
	struct digest d;
	size_t names = 0;
	struct ref r;
	int rc;

	(void)c;
	if (ref_parse(q, 0, &r, NULL) == 0) {
		ref_format(&r, &norm);
		if (images_untag(im, buf_str(&norm), NULL) == 0) {
			printf("Untagged: %s\n", buf_str(&norm));
			return 0;
		}
	}
	if ((rc = images_resolve(im, q, &en, e)) < 0)
		return force && rc == -ENOENT ? 0 : rc;
	d = en->digest;
	for (size_t i = 0; i < images_count(im); i++)
		names += strcmp(images_at(im, i)->digest.s, d.s) == 0;
	if (names > 1 && !force)
		return err_set(e, -EBUSY, "image %.19s is named %zu times: remove the names, or use -f",
			       d.s, names);
	for (size_t i = 0; i < images_count(im);) {
		if (strcmp(images_at(im, i)->digest.s, d.s) != 0) {
			i++;
			continue;
		}
		printf("Untagged: %s\n", images_at(im, i)->name);
		if ((rc = images_untag(im, images_at(im, i)->name, e)) < 0)
			return rc;
	}
	printf("Deleted: %s\n", d.s);
	return 0;
}

static int rm_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct rm_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct err e = ERR_INIT;
	struct images *im = NULL;
	int rc = 0, failed = 0;

	if (!a->all && argc == 0)
		return usage(c, "missing operand (usage: [-f] IMAGE... | --all)");
	if (data_root(&root, &e) < 0 || images_open(buf_str(&root), IMAGES_WRITE, &im, &e) < 0)
		return fail(c, &e);
	if (a->all) {
		while (images_count(im) > 0) {
			printf("Untagged: %s\n", images_at(im, 0)->name);
			if (images_untag(im, images_at(im, 0)->name, &e) < 0)
				break;
		}
	}
	for (int i = 0; i < argc; i++) {
		if ((rc = rm_one(c, im, argv[i], a->force, &e)) < 0) {
			fail(c, &e);
			failed = 1;
		}
	}
	if (images_save(im, &e) < 0) {
		images_close(im);
		return fail(c, &e);
	}
	collect(buf_str(&root), im, 0);
	images_close(im);
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
	OPT_FLAG('a', "all", struct prune_cli, all,
		 "Also remove every image (no container uses images yet, issue #6)"),
	OPT_END,
};

static int prune_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct prune_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct err e = ERR_INIT;
	struct images *im = NULL;

	(void)argc;
	(void)argv;
	if (data_root(&root, &e) < 0 || images_open(buf_str(&root), IMAGES_WRITE, &im, &e) < 0)
		return fail(c, &e);
	if (a->all) {
		while (images_count(im) > 0) {
			printf("Untagged: %s\n", images_at(im, 0)->name);
			images_untag(im, images_at(im, 0)->name, NULL);
		}
		if (images_save(im, &e) < 0) {
			images_close(im);
			return fail(c, &e);
		}
	}
	collect(buf_str(&root), im, 1);
	images_close(im);
	return EXIT_OK;
}

static const struct cmd cmd_image_prune = {
	.name = "prune",
	.summary = "Remove unused data: blobs no image needs (and with -a, all images)",
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

static int save_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct save_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT, tmp = BUF_INIT;
	struct platform plat;
	struct err e = ERR_INIT;
	int fd = 1, given, rc;

	if (image_cli_platform(a->platform, NULL, NULL, &plat, &given, &e) < 0)
		return usage(c, e.msg);
	if (!a->output && isatty(1))
		return usage(c, "refusing to write an archive to a terminal: use -o FILE");
	if (data_root(&root, &e) < 0)
		return fail(c, &e);
	if (a->output && strcmp(a->output, "-") != 0) {
		/* written beside the target and renamed: no half archive under FILE */
		buf_printf(&tmp, "%s.tmp-%ld", a->output, (long)getpid());
		fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			err_sys(&e, "create %s", buf_str(&tmp));
			return fail(c, &e);
		}
	}
	rc = layout_save(buf_str(&root), (const char *const *)argv, (size_t)argc,
			 given ? &plat : NULL, fd, &e);
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

static int load_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct load_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct layout_load_result res = { 0 };
	struct fd_reader fr;
	struct err e = ERR_INIT;
	int fd = 0, rc;

	(void)argc;
	(void)argv;
	if (!a->input && isatty(0))
		return usage(c, "refusing to read an archive from a terminal: use -i FILE");
	if (data_root(&root, &e) < 0)
		return fail(c, &e);
	if (a->input && strcmp(a->input, "-") != 0 &&
	    (fd = open(a->input, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, "open %s", a->input);
		return fail(c, &e);
	}
	fd_reader_init(&fr, fd);
	rc = layout_load(buf_str(&root), &fr.r, &res, &e);
	if (fd != 0)
		close(fd);
	if (rc < 0)
		return fail(c, &e);
	for (size_t i = 0; !a->quiet && i < res.n; i++) {
		if (res.v[i].name)
			printf("Loaded image: %s\n", res.v[i].name);
		else
			printf("Loaded image ID: %s (no name in the archive; not tagged)\n",
			       res.v[i].digest.s);
	}
	layout_load_result_free(&res);
	return EXIT_OK;
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

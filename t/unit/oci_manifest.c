/* Tests of oci/manifest.c: every file in t/data/manifest/valid must parse
 * and every file in t/data/manifest/invalid must be refused (files named
 * config-* are image configs, the others manifests/indexes); then the
 * cases that need a specific answer or a generated document. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "oci/manifest.h"
#include "t/tap.h"

static const char *srcdir(void)
{
	const char *s = getenv("SRCDIR");
	return s && *s ? s : ".";
}

static int load(const char *rel, struct buf *out)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&path, "%s/t/data/manifest/%s", srcdir(), rel);
	buf_reset(out);
	if (fs_read_file(buf_str(&path), out, 1 << 20, &e) < 0) {
		diag("%s", e.msg);
		return -1;
	}
	return 0;
}

static int clean_msg(const char *m)
{
	for (; *m; m++)
		if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f)
			return 0;
	return 1;
}

/* Parse one file as its name says; 0 or the negative error. */
static int parse_file(const char *dir, const char *name, struct err *e)
{
	_cleanup_buf_ struct buf rel = BUF_INIT, data = BUF_INIT;
	int rc;

	buf_printf(&rel, "%s/%s", dir, name);
	if (load(buf_str(&rel), &data) < 0)
		return -999;
	if (strncmp(name, "config-", 7) == 0) {
		struct image_config *c = NULL;
		rc = image_config_parse(data.data, data.len, &c, e);
		image_config_free(c);
	} else {
		struct manifest *m = NULL;
		rc = manifest_parse(data.data, data.len, NULL, &m, e);
		manifest_free(m);
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_folder(const char *dir, int want_ok)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	buf_printf(&path, "%s/t/data/manifest/%s", srcdir(), dir);
	d = opendir(buf_str(&path));
	if (!ok(d != NULL, "open %s", buf_str(&path)))
		return;
	while ((de = readdir(d)) && n < ARRAY_SIZE(names))
		if (strstr(de->d_name, ".json"))
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	ok(n >= 10, "%s holds %zu cases", dir, n);
	for (size_t i = 0; i < n; i++) {
		struct err e = ERR_INIT;
		int rc = parse_file(dir, names[i], &e);
		if (want_ok) {
			if (!ok(rc == 0, "valid/%s parses", names[i]))
				diag("  %s", e.msg);
		} else {
			ok(rc < 0 && rc != -999 && e.code == rc && e.msg[0] && clean_msg(e.msg),
			   "invalid/%s refused: %s", names[i], e.msg);
		}
		free(names[i]);
	}
}

static struct manifest *parse_ct(const char *file, const char *ct, int *rc, struct err *e)
{
	_cleanup_buf_ struct buf data = BUF_INIT;
	struct manifest *m = NULL;

	*rc = -999;
	if (load(file, &data) == 0)
		*rc = manifest_parse(data.data, data.len, ct, &m, e);
	return m;
}

static void test_content_type(void)
{
	struct err e = ERR_INIT;
	struct manifest *m;
	int rc;

	m = parse_ct("valid/oci-manifest.json", MT_OCI_MANIFEST, &rc, &e);
	ok(rc == 0 && m->kind == MANIFEST_IMAGE && m->n_layers == 2, "OCI manifest with its content type");
	is_int(m ? m->layers[0].size : -1, 3408729, "layer size read");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest.json", MT_OCI_MANIFEST "; charset=utf-8", &rc, &e);
	is_int(rc, 0, "content type parameters ignored");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest.json", "application/json", &rc, &e);
	is_int(rc, 0, "generic content type: the document decides");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest.json", MT_DOCKER_MANIFEST, &rc, &e);
	ok(rc == 0 && m && !strcmp(m->media_type, MT_OCI_MANIFEST),
	   "Docker content type, OCI mediaType, same kind: the document wins");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest.json", MT_OCI_INDEX, &rc, &e);
	is_int(rc, -EBADMSG, "manifest served as an index refused");
	ok(strstr(e.msg, "does not match") != NULL, "message says mismatch: %s", e.msg);
	m = parse_ct("valid/docker-list.json", MT_DOCKER_MANIFEST, &rc, &e);
	is_int(rc, -EBADMSG, "Docker list served as a Docker manifest refused");
	m = parse_ct("valid/oci-index.json", MT_OCI_MANIFEST, &rc, &e);
	is_int(rc, -EBADMSG, "index served as a manifest refused");
	m = parse_ct("valid/oci-manifest.json", "text/html", &rc, &e);
	is_int(rc, -EBADMSG, "content type text/html refused");
	m = parse_ct("valid/oci-manifest-no-mediatype.json", MT_DOCKER_MANIFEST, &rc, &e);
	ok(rc == 0 && m && !strcmp(m->media_type, MT_DOCKER_MANIFEST),
	   "no mediaType: the content type decides");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest-no-mediatype.json", NULL, &rc, &e);
	ok(rc == 0 && m && !strcmp(m->media_type, MT_OCI_MANIFEST), "no mediaType, no content type: shape decides");
	manifest_free(m);
	m = parse_ct("valid/oci-index-no-mediatype.json", NULL, &rc, &e);
	ok(rc == 0 && m && m->kind == MANIFEST_INDEX, "index told by its shape");
	manifest_free(m);
	m = parse_ct("valid/oci-index-no-mediatype.json", MT_OCI_MANIFEST, &rc, &e);
	is_int(rc, -EBADMSG, "index shape with a manifest content type refused");
	m = parse_ct("valid/docker-manifest.json", MT_DOCKER_SCHEMA1_SIGNED, &rc, &e);
	is_int(rc, -ENOTSUP, "schema1 content type refused");
	ok(strstr(e.msg, "schema1") != NULL, "message names schema1: %s", e.msg);
	m = parse_ct("invalid/schema1.json", NULL, &rc, &e);
	is_int(rc, -ENOTSUP, "schema1 document: -ENOTSUP");
	m = parse_ct("invalid/both-index-and-manifest.json", NULL, &rc, &e);
	ok(rc == -EBADMSG && strstr(e.msg, "both"), "index+manifest: %s", e.msg);
	m = parse_ct("invalid/digest-traversal.json", NULL, &rc, &e);
	ok(rc == -EINVAL && strstr(e.msg, "layers[0]"), "traversal digest names the layer: %s", e.msg);
	m = parse_ct("invalid/size-huge.json", NULL, &rc, &e);
	is_int(rc, -EFBIG, "huge size: -EFBIG");
	m = parse_ct("invalid/duplicate-keys.json", NULL, &rc, &e);
	is_int(rc, -EBADMSG, "duplicate keys: -EBADMSG");
}

static void test_select(void)
{
	struct err e = ERR_INIT;
	struct manifest *idx, *list;
	const struct descriptor *d = NULL;
	struct platform p;
	struct digest want;
	int rc;

	idx = parse_ct("valid/oci-index.json", MT_OCI_INDEX, &rc, &e);
	list = parse_ct("valid/docker-list.json", MT_DOCKER_LIST, &rc, &e);
	if (!ok(idx && list, "index and list parsed"))
		return;
	is_int(idx->n_manifests, 4, "index has 4 entries");
	ok(idx->manifests[1].has_platform && !strcmp(idx->manifests[1].platform.variant, "v8"),
	   "arm64/v8 platform read");

	platform_parse("linux/amd64", &p, &e);
	sha256_digest("amd64", 5, &want);
	ok(manifest_select(idx, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s), "select linux/amd64");
	platform_parse("linux/aarch64", &p, &e);
	sha256_digest("arm64", 5, &want);
	ok(manifest_select(idx, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s),
	   "select linux/aarch64 -> arm64/v8");
	platform_parse("linux/arm/v7", &p, &e);
	sha256_digest("armv7", 5, &want);
	ok(manifest_select(idx, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s), "select linux/arm/v7");
	platform_parse("linux/arm/v6", &p, &e);
	is_int(manifest_select(idx, &p, &d, &e), -ENOENT, "arm/v6 cannot run the v7 image");
	platform_parse("unknown/unknown", &p, &e);
	is_int(manifest_select(idx, &p, &d, &e), -ENOENT, "attestation entry never selected");
	platform_parse("linux/riscv64", &p, &e);
	is_int(manifest_select(idx, &p, &d, &e), -ENOENT, "riscv64 not in index");
	ok(strstr(e.msg, "linux/amd64") && strstr(e.msg, "linux/arm/v7") && !strstr(e.msg, "unknown/unknown"),
	   "message lists what is offered: %s", e.msg);

	platform_parse("linux/arm/v7", &p, &e);
	sha256_digest("b", 1, &want);
	ok(manifest_select(list, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s),
	   "arm/v7 falls back to the v6 image");
	platform_parse("linux/arm64", &p, &e);
	sha256_digest("c", 1, &want);
	ok(manifest_select(list, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s), "docker list arm64");
	platform_parse("linux/i386", &p, &e);
	sha256_digest("d", 1, &want);
	ok(manifest_select(list, &p, &d, &e) == 0 && !strcmp(d->digest.s, want.s), "i386 -> 386");
	is_int(manifest_select(list->manifests ? idx : idx, &p, &d, &e), -ENOENT, "no 386 in OCI index");
	struct manifest *img = parse_ct("valid/oci-manifest.json", NULL, &rc, &e);
	is_int(manifest_select(img, &p, &d, &e), -EINVAL, "select on a manifest is an error");
	manifest_free(img);
	manifest_free(idx);
	manifest_free(list);
}

static void test_platforms(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "linux/amd64", "linux/amd64" }, { "linux/x86_64", "linux/amd64" },
		{ "linux/x86-64", "linux/amd64" }, { "linux/amd64/v1", "linux/amd64" },
		{ "linux/amd64/v3", "linux/amd64/v3" }, { "Linux/AMD64", "linux/amd64" },
		{ "linux/arm64", "linux/arm64/v8" }, { "linux/aarch64", "linux/arm64/v8" },
		{ "linux/arm64/8", "linux/arm64/v8" }, { "linux/arm64/v8", "linux/arm64/v8" },
		{ "linux/arm", "linux/arm/v7" }, { "linux/arm/7", "linux/arm/v7" },
		{ "linux/arm/v6", "linux/arm/v6" }, { "linux/armhf", "linux/arm/v7" },
		{ "linux/armel", "linux/arm/v6" }, { "linux/i686", "linux/386" },
		{ "macos/arm64", "darwin/arm64/v8" }, { "arm64", "linux/arm64/v8" },
		{ "linux/riscv64", "linux/riscv64" },
		{ "", NULL }, { "/", NULL }, { "linux/", NULL }, { "/amd64", NULL },
		{ "linux/amd64/v3/x", NULL }, { "linux/amd 64", NULL }, { "linux//amd64", NULL },
		{ "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL }, { "linux/\x1b[1m", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct err e = ERR_INIT;
		struct platform p;
		int rc = platform_parse(rows[i].in, &p, &e);
		if (!rows[i].want) {
			ok(rc == -EINVAL && clean_msg(e.msg), "platform \"%s\" refused", rows[i].in[0] == '\x1b' ? "?" : rows[i].in);
			continue;
		}
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (rc == 0)
			platform_format(&p, &b);
		is_str(buf_str(&b), rows[i].want, "platform \"%s\"", rows[i].in);
	}
	struct platform host, want, have;
	platform_host(&host);
	ok(!strcmp(host.os, "linux") && host.arch[0], "host platform is linux/%s", host.arch);
	platform_parse("linux/amd64/v3", &want, NULL);
	platform_parse("linux/amd64/v2", &have, NULL);
	ok(platform_match(&want, &have) > 0, "amd64/v3 runs v2");
	ok(platform_match(&have, &want) == 0, "amd64/v2 does not run v3");
	platform_parse("linux/amd64", &have, NULL);
	ok(platform_match(&want, &have) > 0 && platform_match(&want, &have) < 100, "v3 runs v1, ranked below exact");
	platform_parse("linux/arm64", &have, NULL);
	ok(platform_match(&want, &have) == 0, "amd64 does not run arm64");
}

static void test_compression(void)
{
	struct err e = ERR_INIT;
	is_int(manifest_layer_compression(MT_OCI_LAYER, &e), LAYER_PLAIN, "oci tar");
	is_int(manifest_layer_compression(MT_OCI_LAYER_GZIP, &e), LAYER_GZIP, "oci gzip");
	is_int(manifest_layer_compression(MT_OCI_LAYER_ZSTD, &e), LAYER_ZSTD, "oci zstd");
	is_int(manifest_layer_compression(MT_DOCKER_LAYER, &e), LAYER_GZIP, "docker gzip");
	is_int(manifest_layer_compression(MT_OCI_LAYER_ND_ZSTD, &e), LAYER_ZSTD, "nondistributable zstd");
	is_int(manifest_layer_compression("application/vnd.oci.image.layer.v1.tar+bzip2", &e), -ENOTSUP,
	       "bzip2 unsupported");
	is_int(manifest_layer_compression("application/vnd.oci.image.layer.v1.tar+gzip+x", &e), -ENOTSUP,
	       "a suffix is not ignored");

	int rc;
	struct manifest *m = parse_ct("valid/oci-manifest-zstd.json", NULL, &rc, &e);
	is_int(m ? manifest_check_image(m, &e) : -1, 0, "zstd+tar manifest is an image");
	manifest_free(m);
	m = parse_ct("valid/oci-manifest-annotations.json", NULL, &rc, &e);
	ok(m && m->annotations && m->layers[0].annotations == NULL && m->config.annotations,
	   "annotations kept");
	manifest_free(m);
	m = parse_ct("valid/oci-index-nested.json", NULL, &rc, &e);
	is_int(m ? manifest_check_image(m, &e) : 0, -EINVAL, "an index is not an image");
	manifest_free(m);
}

/* A manifest with n layers, generated. */
static void gen_manifest(struct buf *b, size_t n)
{
	buf_reset(b);
	buf_printf(b, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		   "\"digest\":\"sha256:%064d\",\"size\":1},\"layers\":[", MT_OCI_MANIFEST, MT_OCI_CONFIG, 1);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%064zu\",\"size\":%zu}",
			   i ? "," : "", MT_OCI_LAYER_GZIP, i, i);
	buf_puts(b, "]}");
}

static void test_bounds(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	struct manifest *m = NULL;

	gen_manifest(&b, MANIFEST_MAX_LAYERS);
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), 0, "%d layers accepted", MANIFEST_MAX_LAYERS);
	is_int(m ? m->n_layers : 0, MANIFEST_MAX_LAYERS, "all layers read");
	manifest_free(m);
	gen_manifest(&b, MANIFEST_MAX_LAYERS + 1);
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), -E2BIG, "%d layers refused", MANIFEST_MAX_LAYERS + 1);
	gen_manifest(&b, 10000);
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), -E2BIG, "10000 layers refused");
	ok(strstr(e.msg, "10000") && strstr(e.msg, "1024"), "message gives count and cap: %s", e.msg);

	/* over 4 MiB: refused before parsing */
	buf_reset(&b);
	buf_puts(&b, "{\"schemaVersion\":2,\"x\":\"");
	while (b.len <= MANIFEST_MAX_BYTES)
		buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	buf_puts(&b, "\"}");
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), -EFBIG, "5 MiB manifest refused");

	/* deep nesting: the parser's depth limit, not the stack, stops it */
	buf_reset(&b);
	buf_puts(&b, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":");
	for (int i = 0; i < 200000; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 200000; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), -EBADMSG, "200000-deep nesting refused");
	buf_reset(&b);
	buf_puts(&b, "{\"schemaVersion\":2,\"manifests\":[],\"x\":");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "{\"a\":");
	buf_puts(&b, "1");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, '}');
	buf_putc(&b, '}');
	is_int(manifest_parse(b.data, b.len, NULL, &m, &e), 0, "1000-deep unknown field tolerated");
	manifest_free(m);

	/* image config lists */
	buf_reset(&b);
	buf_puts(&b, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[]},\"config\":{\"Env\":[");
	for (int i = 0; i <= IMAGE_CONFIG_MAX_LIST; i++)
		buf_printf(&b, "%s\"V%d=1\"", i ? "," : "", i);
	buf_puts(&b, "]}}");
	struct image_config *c = NULL;
	is_int(image_config_parse(b.data, b.len, &c, &e), -E2BIG, "%d Env entries refused", IMAGE_CONFIG_MAX_LIST + 1);
}

static void test_config(void)
{
	_cleanup_buf_ struct buf data = BUF_INIT;
	struct err e = ERR_INIT;
	struct image_config *c = NULL;
	struct manifest *m;
	int rc;

	load("valid/config-oci.json", &data);
	if (!ok(image_config_parse(data.data, data.len, &c, &e) == 0, "config-oci parses"))
		return;
	is_str(c->platform.arch, "amd64", "architecture");
	is_int(c->n_env, 2, "two Env entries");
	is_str(c->env[1], "LANG=C.UTF-8", "Env[1]");
	ok(c->env[2] == NULL, "Env NULL-terminated");
	ok(c->n_entrypoint == 1 && !strcmp(c->entrypoint[0], "/docker-entrypoint.sh"), "Entrypoint");
	ok(c->n_cmd == 3 && !strcmp(c->cmd[2], "daemon off;") && !c->cmd[3], "Cmd");
	is_str(c->working_dir, "/srv", "WorkingDir");
	is_str(c->user, "app", "User");
	is_str(c->stop_signal, "SIGQUIT", "StopSignal");
	ok(c->n_exposed_ports == 2 && !strcmp(c->exposed_ports[0], "80/tcp"), "ExposedPorts");
	ok(c->n_volumes == 1 && !strcmp(c->volumes[0], "/data"), "Volumes");
	ok(c->n_labels == 2 && !strcmp(c->label_keys[1], "version") && !strcmp(c->label_values[1], "1.2"),
	   "Labels");
	is_int(c->n_diff_ids, 2, "two diff_ids");
	is_str(c->created, "2024-01-26T23:44:55Z", "created");
	m = parse_ct("valid/oci-manifest.json", NULL, &rc, &e);
	is_int(manifest_check_config(m, c, &e), 0, "config matches the 2-layer manifest");
	manifest_free(m);
	m = parse_ct("valid/docker-manifest.json", NULL, &rc, &e);
	is_int(manifest_check_config(m, c, &e), -EBADMSG, "config does not match a 1-layer manifest");
	manifest_free(m);
	image_config_free(c);

	load("valid/config-docker.json", &data);
	c = NULL;
	if (!ok(image_config_parse(data.data, data.len, &c, &e) == 0, "config-docker parses"))
		return;
	ok(!c->env && !c->cmd && !c->entrypoint && !c->n_labels && !c->volumes, "nulls mean absent");
	is_str(c->platform.variant, "v7", "arm variant");
	is_str(c->user, "", "empty User kept as empty");
	image_config_free(c);
}

int main(void)
{
	run_folder("valid", 1);
	run_folder("invalid", 0);
	test_content_type();
	test_select();
	test_platforms();
	test_compression();
	test_bounds();
	test_config();
	return done_testing();
}

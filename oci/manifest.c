/* OCI/Docker index, manifest and image-config parsing and validation, and
 * platform selection (see oci/manifest.h).  Input is hostile: every field
 * is type-checked, every count and size bounded, and nothing is trusted
 * from a document until it is fully validated. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/manifest.h"

/* Printable, bounded copy of outside text for messages. */
static const char *shown(const char *s, char out[static 80])
{
	size_t i;

	if (!s)
		return "(none)";
	for (i = 0; s[i] && i < 79; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	if (s[i])
		memcpy(out + 76, "...", 3);
	return out;
}

/* Compare a media type ignoring parameters (";charset=...") and case. */
static int mt_eq(const char *a, const char *b)
{
	size_t n = strcspn(a, "; \t");
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

enum manifest_kind manifest_media_kind(const char *mt)
{
	if (!mt)
		return MANIFEST_UNKNOWN;
	if (mt_eq(mt, MT_OCI_INDEX) || mt_eq(mt, MT_DOCKER_LIST))
		return MANIFEST_INDEX;
	if (mt_eq(mt, MT_OCI_MANIFEST) || mt_eq(mt, MT_DOCKER_MANIFEST))
		return MANIFEST_IMAGE;
	if (mt_eq(mt, MT_DOCKER_SCHEMA1) || mt_eq(mt, MT_DOCKER_SCHEMA1_SIGNED))
		return MANIFEST_SCHEMA1;
	return MANIFEST_UNKNOWN;
}

static int mt_is_generic(const char *mt)
{
	return !mt || !*mt || mt_eq(mt, "application/json") ||
	       mt_eq(mt, "application/octet-stream") || mt_eq(mt, "text/plain");
}

/* The canonical spelling of a known manifest media type (so that
 * m->media_type can be compared with strcmp), or NULL. */
static const char *mt_canonical(const char *mt)
{
	static const char *const known[] = {MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST,
					    MT_DOCKER_MANIFEST};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (mt_eq(mt, known[i]))
			return known[i];
	return NULL;
}

/* RFC 6838 names: type "/" subtype, each [A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}. */
static int valid_mt_name(const char *s, size_t n)
{
	if (n == 0 || n > 127)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("!#$&^_.+-", c)))
			return 0;
	}
	return 1;
}

static int valid_media_type(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return 0;
	return valid_mt_name(s, (size_t)(slash - s)) && valid_mt_name(slash + 1, strlen(slash + 1));
}

static const char *const layer_types[][2] = {
    {MT_OCI_LAYER, ""},	       {MT_OCI_LAYER_GZIP, "gzip"},	  {MT_OCI_LAYER_ZSTD, "zstd"},
    {MT_OCI_LAYER_ND, ""},     {MT_OCI_LAYER_ND_GZIP, "gzip"},	  {MT_OCI_LAYER_ND_ZSTD, "zstd"},
    {MT_DOCKER_LAYER, "gzip"}, {MT_DOCKER_LAYER_FOREIGN, "gzip"},
};

int manifest_layer_compression(const char *mt, struct err *e)
{
	char q[80];

	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++) {
		if (!mt_eq(mt, layer_types[i][0]))
			continue;
		if (!layer_types[i][1][0])
			return LAYER_PLAIN;
		return layer_types[i][1][0] == 'g' ? LAYER_GZIP : LAYER_ZSTD;
	}
	return err_set(e, -ENOTSUP, "unsupported layer media type \"%s\"", shown(mt, q));
}

/* ---- platforms ---------------------------------------------------------- */

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void platform_normalize(struct platform *p)
{
	lower(p->os);
	lower(p->arch);
	lower(p->variant);
	if (!strcmp(p->os, "macos"))
		strcpy(p->os, "darwin");
	if (!strcmp(p->arch, "x86_64") || !strcmp(p->arch, "x86-64") || !strcmp(p->arch, "amd64")) {
		strcpy(p->arch, "amd64");
		if (!strcmp(p->variant, "v1"))
			p->variant[0] = '\0';
	} else if (!strcmp(p->arch, "aarch64") || !strcmp(p->arch, "arm64")) {
		strcpy(p->arch, "arm64");
		if (!p->variant[0] || !strcmp(p->variant, "8") || !strcmp(p->variant, "v8.0"))
			strcpy(p->variant, "v8");
	} else if (!strcmp(p->arch, "armhf")) {
		strcpy(p->arch, "arm");
		strcpy(p->variant, "v7");
	} else if (!strcmp(p->arch, "armel")) {
		strcpy(p->arch, "arm");
		strcpy(p->variant, "v6");
	} else if (!strcmp(p->arch, "arm")) {
		if (!p->variant[0])
			strcpy(p->variant, "v7");
		else if (p->variant[0] >= '5' && p->variant[0] <= '8' && !p->variant[1]) {
			p->variant[1] = p->variant[0];
			p->variant[0] = 'v';
			p->variant[2] = '\0';
		}
	} else if (!strcmp(p->arch, "i386") || !strcmp(p->arch, "i686")) {
		strcpy(p->arch, "386");
	}
}

void platform_host(struct platform *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->os, "linux");
#if defined(__x86_64__)
	strcpy(out->arch, "amd64");
#elif defined(__aarch64__)
	strcpy(out->arch, "arm64");
#elif defined(__arm__)
	strcpy(out->arch, "arm");
#elif defined(__riscv) && __riscv_xlen == 64
	strcpy(out->arch, "riscv64");
#else
	strcpy(out->arch, "unknown");
#endif
	platform_normalize(out);
}

void platform_format(const struct platform *p, struct buf *out)
{
	buf_printf(out, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

static int valid_platform_word(const char *s, size_t n)
{
	if (n == 0 || n > PLATFORM_FIELD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int platform_parse(const char *s, struct platform *out, struct err *e)
{
	struct platform p;
	char *field[3] = { p.os, p.arch, p.variant };
	size_t i = 0;
	const char *c = s;
	char q[80];

	memset(&p, 0, sizeof(p));
	for (;;) {
		size_t n = strcspn(c, "/");
		if (i == 3 || !valid_platform_word(c, n))
			return err_set(
			    e, -EINVAL,
			    "invalid platform \"%s\" (want os/arch[/variant], e.g. linux/arm64)",
			    shown(s, q));
		memcpy(field[i++], c, n);
		if (!c[n])
			break;
		c += n + 1;
	}
	if (i == 1) {
		/* "--platform arm64" means linux/arm64; "--platform linux"
		 * means this machine's architecture. */
		struct platform host;
		platform_host(&host);
		if (!strcasecmp(p.os, "linux")) {
			p = host;
		} else {
			memcpy(p.arch, p.os, sizeof(p.arch));
			memcpy(p.os, host.os, sizeof(p.os));
		}
	}
	platform_normalize(&p);
	*out = p;
	return 0;
}

/* "v7" -> 7; 0 when not of that form. */
static int variant_level(const char *v)
{
	if (!v[0])
		return 1; /* amd64's baseline */
	if (v[0] != 'v' || v[1] < '1' || v[1] > '9' || v[2])
		return 0;
	return v[1] - '0';
}

int platform_match(const struct platform *want, const struct platform *have)
{
	int w, h;

	if (strcmp(want->os, have->os) || strcmp(want->arch, have->arch))
		return 0;
	if (!strcmp(want->variant, have->variant))
		return 100;
	/* Older variants of arm and amd64 run on newer ones, closest first. */
	if (strcmp(want->arch, "arm") && strcmp(want->arch, "amd64"))
		return 0;
	w = variant_level(want->variant);
	h = variant_level(have->variant);
	if (!w || !h || h > w)
		return 0;
	return 100 - (w - h);
}

/* ---- descriptors and documents ------------------------------------------ */

static int parse_platform(const json_t *o, const char *what, struct platform *out, struct err *e)
{
	const char *os, *arch, *variant;
	json_t *v;

	if (!json_is_object(o))
		return err_set(e, -EINVAL, "%s: platform is not an object", what);
	if (jsonx_req_str(o, "os", &os, what, e) < 0 ||
	    jsonx_req_str(o, "architecture", &arch, what, e) < 0)
		return -EINVAL;
	v = json_object_get(o, "variant");
	if (v && !json_is_string(v))
		return err_set(e, -EINVAL, "%s: platform variant is not a string", what);
	variant = v ? json_string_value(v) : "";
	if (!valid_platform_word(os, strlen(os)) || !valid_platform_word(arch, strlen(arch)) ||
	    (variant[0] && !valid_platform_word(variant, strlen(variant))))
		return err_set(e, -EINVAL, "%s: malformed platform", what);
	memset(out, 0, sizeof(*out));
	strcpy(out->os, os);
	strcpy(out->arch, arch);
	strcpy(out->variant, variant);
	platform_normalize(out);
	return 0;
}

static int check_annotations(const json_t *a, const char *what, struct err *e)
{
	const char *k;
	json_t *v;

	if (!json_is_object(a))
		return err_set(e, -EINVAL, "%s: annotations is not an object", what);
	json_object_foreach((json_t *)a, k, v) if (!json_is_string(v)) return err_set(
	    e, -EINVAL, "%s: annotation values must be strings", what);
	return 0;
}

/* A descriptor at o; max_size bounds its size (by what it points at). */
static int parse_descriptor(const json_t *o, const char *what, long long max_size,
			    struct descriptor *d, struct err *e)
{
	const char *digest;
	json_t *v;
	char q[80];

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return err_set(e, -EINVAL, "%s: not an object", what);
	if (jsonx_req_str(o, "mediaType", &d->media_type, what, e) < 0)
		return -EINVAL;
	if (!valid_media_type(d->media_type))
		return err_set(e, -EINVAL, "%s: malformed mediaType \"%s\"", what,
			       shown(d->media_type, q));
	if (jsonx_req_str(o, "digest", &digest, what, e) < 0)
		return -EINVAL;
	if (digest_parse(digest, &d->digest, e) < 0)
		return err_wrap(e, "%s", what);
	if (jsonx_req_int(o, "size", &d->size, what, e) < 0)
		return -EINVAL;
	if (d->size < 0)
		return err_set(e, -EINVAL, "%s: negative size %lld", what, d->size);
	if (manifest_media_kind(d->media_type) == MANIFEST_INDEX ||
	    manifest_media_kind(d->media_type) == MANIFEST_IMAGE)
		max_size = MANIFEST_MAX_BYTES;
	if (d->size > max_size)
		return err_set(e, -EFBIG, "%s: size %lld exceeds the limit of %lld bytes", what,
			       d->size, max_size);
	v = json_object_get(o, "platform");
	if (v) {
		if (parse_platform(v, what, &d->platform, e) < 0)
			return -EINVAL;
		d->has_platform = 1;
	}
	v = json_object_get(o, "annotations");
	if (v) {
		if (check_annotations(v, what, e) < 0)
			return -EINVAL;
		d->annotations = v;
	}
	return 0;
}

static int parse_descriptor_list(const json_t *arr, const char *what, size_t max_n,
				 long long max_size, struct descriptor **out, size_t *n_out,
				 struct err *e)
{
	size_t n = json_array_size(arr);
	struct descriptor *d;
	char name[64];

	if (n > max_n)
		return err_set(e, -E2BIG, "manifest has %zu %s; the limit is %zu", n, what, max_n);
	d = xcalloc(n ? n : 1, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "manifest: %s[%zu]", what, i);
		int rc = parse_descriptor(json_array_get(arr, i), name, max_size, &d[i], e);
		if (rc < 0) {
			free(d);
			return rc;
		}
	}
	*out = d;
	*n_out = n;
	return 0;
}

/* Decide what the document is from the declared type (content type or
 * the pointing descriptor), its own mediaType, and its shape. */
static int classify(const json_t *root, const char *content_type, const char **mt_out,
		    struct err *e)
{
	const char *ct = mt_is_generic(content_type) ? NULL : content_type;
	json_t *mtv = json_object_get(root, "mediaType");
	const char *doc = NULL, *mt;
	int has_index = json_object_get(root, "manifests") != NULL;
	int has_image = json_object_get(root, "config") || json_object_get(root, "layers");
	json_t *sv = json_object_get(root, "schemaVersion");
	char q1[80], q2[80];

	if (mtv && !json_is_string(mtv))
		return err_set(e, -EINVAL, "manifest: mediaType is not a string");
	doc = mtv ? json_string_value(mtv) : NULL;
	if (manifest_media_kind(ct) == MANIFEST_SCHEMA1 ||
	    manifest_media_kind(doc) == MANIFEST_SCHEMA1 ||
	    (json_is_integer(sv) && json_integer_value(sv) == 1))
		return err_set(
		    e, -ENOTSUP,
		    "manifest: Docker schema1 images are not supported (deprecated since 2017); "
		    "push the image again with a current tool");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return err_set(e, -EINVAL, "manifest: schemaVersion missing or not 2");
	if (ct && !mt_canonical(ct))
		return err_set(e, -EBADMSG, "manifest: unexpected content type \"%s\"",
			       shown(ct, q1));
	if (doc && !mt_canonical(doc))
		return err_set(e, -EBADMSG, "manifest: unknown mediaType \"%s\"", shown(doc, q1));
	/* An index served as a manifest (or the reverse) is refused.  OCI vs
	 * Docker spelling of the same kind is tolerated, as containerd does:
	 * the bytes are the same and each descriptor inside carries its own
	 * type; the document's mediaType wins. */
	if (ct && doc && manifest_media_kind(ct) != manifest_media_kind(doc))
		return err_set(e, -EBADMSG,
			       "manifest: content type \"%s\" does not match its mediaType \"%s\"",
			       shown(ct, q1), shown(doc, q2));
	if (has_index && has_image)
		return err_set(e, -EBADMSG,
			       "manifest: document is both an index (manifests) and a manifest "
			       "(config/layers)");
	mt = doc ? mt_canonical(doc) : ct ? mt_canonical(ct) : NULL;
	if (!mt) {
		/* OCI makes mediaType optional: tell by the shape. */
		if (has_index)
			mt = MT_OCI_INDEX;
		else if (has_image)
			mt = MT_OCI_MANIFEST;
		else
			return err_set(e, -EBADMSG, "manifest: neither an index nor a manifest");
	}
	if (manifest_media_kind(mt) == MANIFEST_INDEX && has_image)
		return err_set(e, -EBADMSG, "manifest: an index must not have config or layers");
	if (manifest_media_kind(mt) == MANIFEST_IMAGE && has_index)
		return err_set(e, -EBADMSG, "manifest: an image manifest must not have manifests");
	*mt_out = mt;
	return 0;
}

int manifest_parse(const void *data, size_t len, const char *content_type, struct manifest **out,
		   struct err *e)
{
	json_t *root, *v;
	struct manifest *m;
	int rc;

	if (len == 0)
		return err_set(e, -EBADMSG, "manifest: empty document");
	root = jsonx_parse(data, len, MANIFEST_MAX_BYTES, "manifest", e);
	if (!root)
		return e ? e->code : -EBADMSG;
	m = xcalloc(1, sizeof(*m));
	m->root = root;
	if (!json_is_object(root)) {
		rc = err_set(e, -EINVAL, "manifest: not a JSON object");
		goto fail;
	}
	rc = classify(root, content_type, &m->media_type, e);
	if (rc < 0)
		goto fail;
	m->kind = manifest_media_kind(m->media_type);
	if (m->kind == MANIFEST_INDEX) {
		rc = jsonx_req_arr(root, "manifests", &v, "manifest", e);
		if (rc == 0)
			rc = parse_descriptor_list(v, "manifests", MANIFEST_MAX_CHILDREN,
						   MANIFEST_MAX_BLOB_SIZE, &m->manifests,
						   &m->n_manifests, e);
	} else {
		rc = jsonx_req_obj(root, "config", &v, "manifest", e);
		if (rc == 0)
			rc = parse_descriptor(v, "manifest: config", IMAGE_CONFIG_MAX_BYTES,
					      &m->config, e);
		if (rc == 0)
			rc = jsonx_req_arr(root, "layers", &v, "manifest", e);
		if (rc == 0)
			rc = parse_descriptor_list(v, "layers", MANIFEST_MAX_LAYERS,
						   MANIFEST_MAX_BLOB_SIZE, &m->layers, &m->n_layers,
						   e);
	}
	if (rc < 0)
		goto fail;
	v = json_object_get(root, "annotations");
	if (v) {
		rc = check_annotations(v, "manifest", e);
		if (rc < 0)
			goto fail;
		m->annotations = v;
	}
	*out = m;
	return 0;
fail:
	manifest_free(m);
	return rc;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free(m->manifests);
	free(m->layers);
	json_decref(m->root);
	free(m);
}

int manifest_check_image(const struct manifest *m, struct err *e)
{
	char q[80];

	if (m->kind != MANIFEST_IMAGE)
		return err_set(e, -EINVAL, "not an image manifest");
	if (!mt_eq(m->config.media_type, MT_OCI_CONFIG) &&
	    !mt_eq(m->config.media_type, MT_DOCKER_CONFIG))
		return err_set(e, -ENOTSUP, "not a container image: config media type \"%s\"",
			       shown(m->config.media_type, q));
	for (size_t i = 0; i < m->n_layers; i++) {
		int rc = manifest_layer_compression(m->layers[i].media_type, e);
		if (rc < 0)
			return err_wrap(e, "layer %zu", i);
	}
	return 0;
}

static int is_attestation(const struct descriptor *d)
{
	const char *t =
	    d->annotations ? jsonx_str(d->annotations, "vnd.docker.reference.type") : NULL;
	if (t && !strcmp(t, "attestation-manifest"))
		return 1;
	return !strcmp(d->platform.os, "unknown") && !strcmp(d->platform.arch, "unknown");
}

int manifest_select(const struct manifest *idx, const struct platform *want,
		    const struct descriptor **out, struct err *e)
{
	const struct descriptor *best = NULL;
	int best_rank = 0;
	struct platform w = *want;
	_cleanup_buf_ struct buf avail = BUF_INIT, wanted = BUF_INIT;

	if (idx->kind != MANIFEST_INDEX)
		return err_set(e, -EINVAL, "not an index");
	platform_normalize(&w);
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct descriptor *d = &idx->manifests[i];
		int rank;
		if (!d->has_platform || is_attestation(d) ||
		    manifest_media_kind(d->media_type) == MANIFEST_UNKNOWN)
			continue;
		rank = platform_match(&w, &d->platform);
		if (rank > best_rank) {
			best = d;
			best_rank = rank;
		}
		if (avail.len < 200) {
			buf_puts(&avail, avail.len ? ", " : "");
			platform_format(&d->platform, &avail);
		}
	}
	if (!best) {
		platform_format(&w, &wanted);
		return err_set(e, -ENOENT, "no image for platform %s (the index has: %s)",
			       buf_str(&wanted), avail.len ? buf_str(&avail) : "none");
	}
	*out = best;
	return 0;
}

/* ---- image config ------------------------------------------------------- */

static int str_list(const json_t *cfg, const char *key, const char ***out, size_t *n_out,
		    struct err *e)
{
	json_t *v = json_object_get(cfg, key);
	size_t n;
	const char **l;

	*out = NULL;
	*n_out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(e, -EINVAL, "image config: %s is not an array", key);
	n = json_array_size(v);
	if (n > IMAGE_CONFIG_MAX_LIST)
		return err_set(e, -E2BIG, "image config: %s has %zu entries; the limit is %d", key,
			       n, IMAGE_CONFIG_MAX_LIST);
	l = xcalloc(n + 1, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s)) {
			free(l);
			return err_set(e, -EINVAL, "image config: %s[%zu] is not a string", key, i);
		}
		l[i] = json_string_value(s);
	}
	*out = l;
	*n_out = n;
	return 0;
}

/* A JSON object used as a set ({"80/tcp": {}}) or a map of strings. */
static int key_list(const json_t *cfg, const char *key, int values_are_strings, const char ***keys,
		    const char ***vals, size_t *n_out, struct err *e)
{
	json_t *o = json_object_get(cfg, key), *v;
	const char *k, **kl, **vl = NULL;
	size_t n, i = 0;

	*keys = NULL;
	*n_out = 0;
	if (vals)
		*vals = NULL;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return err_set(e, -EINVAL, "image config: %s is not an object", key);
	n = json_object_size(o);
	if (n > IMAGE_CONFIG_MAX_LIST)
		return err_set(e, -E2BIG, "image config: %s has %zu entries; the limit is %d", key,
			       n, IMAGE_CONFIG_MAX_LIST);
	kl = xcalloc(n + 1, sizeof(*kl));
	if (vals)
		vl = xcalloc(n + 1, sizeof(*vl));
	json_object_foreach(o, k, v)
	{
		if (values_are_strings && !json_is_string(v)) {
			free(kl);
			free(vl);
			return err_set(e, -EINVAL, "image config: %s value is not a string", key);
		}
		kl[i] = k;
		if (vl)
			vl[i] = json_string_value(v);
		i++;
	}
	*keys = kl;
	if (vals)
		*vals = vl;
	*n_out = n;
	return 0;
}

static int opt_str(const json_t *o, const char *key, const char **out, struct err *e)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, -EINVAL, "image config: %s is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int parse_rootfs(const json_t *root, struct image_config *c, struct err *e)
{
	json_t *rootfs, *ids;
	const char *type;
	size_t n;

	if (jsonx_req_obj(root, "rootfs", &rootfs, "image config", e) < 0 ||
	    jsonx_req_str(rootfs, "type", &type, "image config: rootfs", e) < 0 ||
	    jsonx_req_arr(rootfs, "diff_ids", &ids, "image config: rootfs", e) < 0)
		return -EINVAL;
	if (strcmp(type, "layers") != 0)
		return err_set(e, -EINVAL, "image config: rootfs type is not \"layers\"");
	n = json_array_size(ids);
	if (n > MANIFEST_MAX_LAYERS)
		return err_set(e, -E2BIG, "image config has %zu layers; the limit is %d", n,
			       MANIFEST_MAX_LAYERS);
	c->diff_ids = xcalloc(n ? n : 1, sizeof(*c->diff_ids));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(ids, i);
		if (!json_is_string(s))
			return err_set(e, -EINVAL, "image config: diff_ids[%zu] is not a string",
				       i);
		if (digest_parse(json_string_value(s), &c->diff_ids[i], e) < 0)
			return err_wrap(e, "image config: diff_ids[%zu]", i);
	}
	c->n_diff_ids = n;
	return 0;
}

static int parse_exec_config(const json_t *cfg, struct image_config *c, struct err *e)
{
	int rc = 0;

	if (!cfg || json_is_null(cfg))
		return 0;
	if (!json_is_object(cfg))
		return err_set(e, -EINVAL, "image config: config is not an object");
	if ((rc = opt_str(cfg, "User", &c->user, e)) < 0 ||
	    (rc = opt_str(cfg, "WorkingDir", &c->working_dir, e)) < 0 ||
	    (rc = opt_str(cfg, "StopSignal", &c->stop_signal, e)) < 0 ||
	    (rc = str_list(cfg, "Env", &c->env, &c->n_env, e)) < 0 ||
	    (rc = str_list(cfg, "Entrypoint", &c->entrypoint, &c->n_entrypoint, e)) < 0 ||
	    (rc = str_list(cfg, "Cmd", &c->cmd, &c->n_cmd, e)) < 0 ||
	    (rc = key_list(cfg, "ExposedPorts", 0, &c->exposed_ports, NULL, &c->n_exposed_ports,
			   e)) < 0 ||
	    (rc = key_list(cfg, "Volumes", 0, &c->volumes, NULL, &c->n_volumes, e)) < 0)
		return rc;
	return key_list(cfg, "Labels", 1, &c->label_keys, &c->label_values, &c->n_labels, e);
}

int image_config_parse(const void *data, size_t len, struct image_config **out, struct err *e)
{
	struct image_config *c;
	json_t *root;
	struct platform p;
	int rc;

	if (len == 0)
		return err_set(e, -EBADMSG, "image config: empty document");
	root = jsonx_parse(data, len, IMAGE_CONFIG_MAX_BYTES, "image config", e);
	if (!root)
		return e ? e->code : -EBADMSG;
	c = xcalloc(1, sizeof(*c));
	c->root = root;
	if (!json_is_object(root)) {
		rc = err_set(e, -EINVAL, "image config: not a JSON object");
		goto fail;
	}
	/* os and architecture are required by the OCI spec; the shape of the
	 * platform object is the same as in an index. */
	rc = parse_platform(root, "image config", &p, e);
	if (rc < 0)
		goto fail;
	c->platform = p;
	rc = opt_str(root, "created", &c->created, e);
	if (rc == 0)
		rc = parse_rootfs(root, c, e);
	if (rc == 0)
		rc = parse_exec_config(json_object_get(root, "config"), c, e);
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	image_config_free(c);
	return rc;
}

void image_config_free(struct image_config *c)
{
	if (!c)
		return;
	free(c->env);
	free(c->entrypoint);
	free(c->cmd);
	free(c->exposed_ports);
	free(c->volumes);
	free(c->label_keys);
	free(c->label_values);
	free(c->diff_ids);
	json_decref(c->root);
	free(c);
}

int manifest_check_config(const struct manifest *m, const struct image_config *c, struct err *e)
{
	if (m->kind != MANIFEST_IMAGE)
		return err_set(e, -EINVAL, "not an image manifest");
	if (m->n_layers != c->n_diff_ids)
		return err_set(e, -EBADMSG,
			       "image config lists %zu layers (diff_ids) but the manifest has %zu",
			       c->n_diff_ids, m->n_layers);
	return 0;
}

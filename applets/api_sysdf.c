/* GET /system/df (issue #6): disk usage in Docker's shape, for `docker
 * system df` and `container system df`.
 *
 *   Images      one per stored digest: Size = its layers and config as
 *               stored (compressed, what `images` shows) plus its ext4
 *               snapshot's allocated bytes; Containers = how many
 *               containers boot that snapshot; SharedSize 0 (layers are
 *               not shared between snapshots)
 *   Containers  SizeRw = rw.ext4's allocated bytes (sparse: what was
 *               written), SizeRootFs = SizeRw + the image's Size
 *   Volumes     UsageData.Size = volume.ext4's allocated bytes, RefCount =
 *               the containers that use it
 *   BuildCache  [] (no builder yet); LayersSize = the images' sizes
 * `type` (container, image, volume, build-cache; repeated: their union)
 * limits what is computed, as Docker's. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "applets/api_ctrcache.h"
#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/bundle.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/snapshot.h"
#include "oci/store.h"

#define DF_CTRS_MAX 100000

/* What the containers use: their snapshot paths and SizeRw, read once
 * (the bundles through the server's cache, applets/api_ctrcache.h; bc is
 * borrowed from it for the length of the request). */
struct df_ctr {
	char id[BUNDLE_ID_LEN + 1];
	const struct bundle_config *bc;
	struct bundle_state st;
	long long rw;
};

static size_t load_ctrs(struct api_sup *sup, struct df_ctr **out)
{
	_cleanup_buf_ struct buf root = BUF_INIT, rw = BUF_INIT;
	struct df_ctr *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	if (bundle_root(&root, NULL) < 0 || !(dir = opendir(buf_str(&root)))) {
		*out = NULL;
		return 0;
	}
	api_ctrcache_begin(sup);
	while ((d = readdir(dir)) && n < DF_CTRS_MAX) {
		struct api_ctrcache_view cv;
		if (strlen(d->d_name) != BUNDLE_ID_LEN ||
		    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (api_ctrcache_get(sup, d->d_name, &cv, NULL) < 0)
			continue;
		memcpy(v[n].id, d->d_name, BUNDLE_ID_LEN + 1);
		v[n].bc = cv.bc;
		v[n].st = cv.st;
		buf_reset(&rw);
		if (bundle_path(d->d_name, "rw.ext4", &rw, NULL) == 0)
			v[n].rw = fs_allocated(buf_str(&rw));
		n++;
	}
	closedir(dir);
	if (!d)   /* the whole directory was read: entries not seen are gone */
		api_ctrcache_end(sup);
	*out = v;
	return n;
}

/* The images, one per digest; *layers = the sum of their sizes.  Each
 * container's image size is noted in sizes[] (for SizeRootFs). */
static json_t *images_df(const char *data_dir, const struct df_ctr *cv, size_t nc,
			 long long *sizes, long long *layers)
{
	_cleanup_buf_ struct buf snap = BUF_INIT;
	struct images *im = NULL;
	struct store *s = NULL;
	json_t *out = json_array();

	*layers = 0;
	if (images_open(data_dir, 0, &im, NULL) < 0 || store_open(data_dir, &s, NULL) < 0) {
		images_close(im);
		return out;
	}
	for (size_t i = 0; i < images_count(im); i++) {
		const struct images_entry *en = images_at(im, i);
		json_t *tags;
		struct manifest *m = NULL;
		struct digest md;
		long long size = 0, users = 0;

		if (!(tags = api_image_tags(im, i)))
			continue;
		buf_reset(&snap);
		if (pull_resolve_local(s, &en->digest, en->media_type, NULL, &md, &m, NULL) == 0) {
			size = m->config.size;
			for (size_t k = 0; k < m->n_layers; k++)
				size += m->layers[k].size;
			snapshot_path(data_dir, &md, &snap);
			size += fs_allocated(buf_str(&snap));
			manifest_free(m);
		}
		for (size_t k = 0; k < nc; k++)
			if (snap.len && cv[k].bc->snapshot && !strcmp(cv[k].bc->snapshot, buf_str(&snap))) {
				users++;
				sizes[k] = size;
			}
		*layers += size;
		json_array_append_new(out, json_pack("{s:s,s:s,s:o,s:[],s:I,s:I,s:i,s:I,s:{},s:I}",
						     "Id", en->digest.s, "ParentId", "",
						     "RepoTags", tags, "RepoDigests", "Created",
						     (json_int_t)en->created, "Size", (json_int_t)size,
						     "SharedSize", 0, "VirtualSize", (json_int_t)size,
						     "Labels", "Containers", (json_int_t)users));
	}
	store_close(s);
	images_close(im);
	return out;
}

static json_t *containers_df(const struct df_ctr *cv, size_t nc, const long long *sizes)
{
	static const char *const states[] = { "created", "running", "exited" };
	json_t *out = json_array();

	for (size_t i = 0; i < nc; i++) {
		_cleanup_buf_ struct buf name = BUF_INIT;
		const struct df_ctr *c = &cv[i];
		unsigned k = (unsigned)c->st.status < 3 ? (unsigned)c->st.status : 2;

		buf_printf(&name, "/%s", c->bc->name ? c->bc->name : c->id);
		json_array_append_new(out, json_pack("{s:s,s:[s],s:s,s:s,s:s,s:I,s:I,s:o}", "Id", c->id,
						     "Names", buf_str(&name), "Image",
						     c->bc->image_ref ? c->bc->image_ref : "",
						     "ImageID", c->bc->image_manifest ? c->bc->image_manifest : "",
						     "State", states[k], "SizeRw", (json_int_t)c->rw,
						     "SizeRootFs", (json_int_t)(c->rw + sizes[i]),
						     "Labels", c->bc->labels ? json_incref(c->bc->labels) : json_object()));
	}
	return out;
}

static json_t *volumes_df(void)
{
	_cleanup_json_ json_t *users = NULL;
	char **names = NULL;
	size_t n = 0;
	json_t *out = json_array();

	if (volume_users_map(&users, NULL) < 0 || volume_names(&names, &n, NULL) < 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		_cleanup_buf_ struct buf mp = BUF_INIT;
		struct volume v;
		json_t *ids = json_object_get(json_object_get(users, names[i]), "ids");

		if (volume_load(names[i], &v, NULL) == 0) {
			volume_mountpoint(names[i], &mp, NULL);   /* as volume inspect shows it */
			json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s,s:O,s:s,s:{},s:{s:I,s:I}}",
							     "Name", v.name, "Driver", "local",
							     "Mountpoint", buf_str(&mp), "CreatedAt",
							     v.created ? v.created : "", "Labels", v.labels,
							     "Scope", "local", "Options", "UsageData",
							     "Size", (json_int_t)volume_allocated(names[i]),
							     "RefCount", (json_int_t)json_array_size(ids)));
			volume_free(&v);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

void api_system_df_h(struct api_call *c)
{
	_cleanup_buf_ struct buf types = BUF_INIT;
	struct df_ctr *cv = NULL;
	long long layers = 0, *sizes;
	bool want_i = true, want_c = true, want_v = true, any = false;
	json_t *out;
	size_t nc;

	/* type=container&type=image...: the union of those given (none: all) */
	for (size_t k = 0;; k++) {
		int rc;
		buf_reset(&types);
		if ((rc = api_query_get_nth(c->query, c->query_len, "type", k, &types)) <= 0) {
			if (rc < 0) {
				api_reply_error(c, 400, "invalid type");
				return;
			}
			break;
		}
		if (!types.len)
			continue;
		if (!any)
			want_i = want_c = want_v = false;
		any = true;
		if (!strcmp(buf_str(&types), "image"))
			want_i = true;
		else if (!strcmp(buf_str(&types), "container"))
			want_c = true;
		else if (!strcmp(buf_str(&types), "volume"))
			want_v = true;
		else if (strcmp(buf_str(&types), "build-cache")) {
			api_reply_error(c, 400, "unknown type: %.32s", buf_str(&types));
			return;
		}
	}
	nc = want_i || want_c ? load_ctrs(c->ctx->sup, &cv) : 0;
	sizes = xcalloc(nc ? nc : 1, sizeof(*sizes));
	out = json_object();
	if (want_i || want_c) {
		json_t *imgs = images_df(c->ctx->data_dir, cv, nc, sizes, &layers);
		if (want_i) {
			json_object_set_new(out, "LayersSize", json_integer(layers));
			json_object_set_new(out, "Images", imgs);
		} else {
			json_decref(imgs);
		}
	}
	if (want_c)
		json_object_set_new(out, "Containers", containers_df(cv, nc, sizes));
	if (want_v)
		json_object_set_new(out, "Volumes", volumes_df());
	json_object_set_new(out, "BuildCache", json_array());
	free(sizes);
	free(cv);
	api_reply_json(c, 200, out);
}

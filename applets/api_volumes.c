/* The Docker Engine API's volume endpoints (issue #8), routed by
 * applets/api_router.c, over applets/volume_store.h (the same store the
 * `container volume` commands use):
 *   GET    /volumes            ?filters={"dangling":["true"],"name":["x"],
 *                                        "label":["k" | "k=v"],"driver":["local"]}
 *   POST   /volumes/create     { Name, Driver ("local"), DriverOpts {size},
 *                                Labels }; an existing name answers the
 *                                existing volume, as docker does
 *   GET    /volumes/{name}
 *   DELETE /volumes/{name}     ?force: also when only stopped containers
 *                              use it; 409 while any (running) one does
 *   POST   /volumes/prune      anonymous volumes no container uses;
 *                              filters all=true: every unused volume;
 *                              label filters as in the list
 * Blocking disk work (a volume is a small directory and a sparse image
 * file) runs on the loop, as the network endpoints do. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "applets/api_handlers.h"
#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/api_volumes.h"
#include "applets/mounts.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define FILTERS_MAX (64 * 1024)
#define CREATE_BODY_MAX (64 * 1024)

static int status_of(int code)
{
	switch (code) {
	case -ENOENT: return 404;
	case -EBUSY: return 409;
	case -EEXIST: return 409;
	case -EINVAL: return 400;
	default: return 500;
	}
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ?filters as an object of string lists (both shapes clients send: ["v"]
 * and {"v": true}); NULL with a 400 answered when malformed. */
static json_t *filters_get(struct api_call *c, bool *bad)
{
	_cleanup_buf_ struct buf fq = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *f, *out, *vals, *x;
	const char *k, *k2;
	size_t i;

	*bad = false;
	if (api_query_get(c->query, c->query_len, "filters", &fq) < 0 ||
	    (fq.len && !(f = jsonx_parse(fq.data, fq.len, FILTERS_MAX, "filters", &e)))) {
		api_reply_error(c, 400, "invalid filters%s%s", e.msg[0] ? ": " : "", e.msg);
		*bad = true;
		return NULL;
	}
	if (!fq.len)
		return NULL;
	out = json_object();
	if (!json_is_object(f))
		goto bad;
	json_object_foreach(f, k, vals) {
		json_t *l = json_array();
		json_object_set_new(out, k, l);
		if (json_is_object(vals)) {
			json_object_foreach(vals, k2, x)
				json_array_append_new(l, json_string(k2));
		} else if (json_is_array(vals)) {
			json_array_foreach(vals, i, x) {
				if (!json_is_string(x))
					goto bad;
				json_array_append(l, x);
			}
		} else {
			goto bad;
		}
	}
	json_decref(f);
	return out;
bad:
	json_decref(f);
	json_decref(out);
	api_reply_error(c, 400, "filters must be an object of string lists");
	*bad = true;
	return NULL;
}

static bool truthy(const char *s)
{
	return !strcmp(s, "1") || !strcasecmp(s, "true");
}

static bool label_match(const json_t *labels, const char *want)
{
	_cleanup_buf_ struct buf k = BUF_INIT;
	const char *eq = strchr(want, '='), *have;

	buf_append(&k, want, eq ? (size_t)(eq - want) : strlen(want));
	have = jsonx_str(labels, buf_str(&k));
	return have && (!eq || !strcmp(have, eq + 1));
}

/* Every filter key present must match one of its values; unknown keys
 * are refused as docker does. */
static int match(const json_t *filters, const struct volume *v, bool *ok, struct err *e)
{
	const char *key;
	json_t *vals, *x;
	size_t i;

	*ok = true;
	json_object_foreach((json_t *)filters, key, vals) {
		bool any = !json_array_size(vals);
		json_array_foreach(vals, i, x) {
			const char *s = json_string_value(x);
			if (!strcmp(key, "name"))
				any |= strstr(v->name, s) != NULL;
			else if (!strcmp(key, "label"))
				any |= label_match(v->labels, s);
			else if (!strcmp(key, "driver"))
				any |= !strcmp(v->driver, s);
			else if (!strcmp(key, "all"))   /* prune's; the caller reads it */
				any = true;
			else if (!strcmp(key, "dangling")) {
				char **ids = NULL;
				bool running;
				if (volume_users(v->name, &ids, &running, e) < 0)
					return e->code;
				any |= truthy(s) == (ids[0] == NULL);
				free_names(ids);
			} else {
				return err_set(e, -EINVAL, "invalid filter '%s'", key);
			}
		}
		*ok &= any;
	}
	return 0;
}

/* The volumes the filters select, as Docker's JSON objects. */
static int select_volumes(const json_t *filters, json_t *out, struct err *e)
{
	char **names;
	size_t n;
	int rc = 0;

	if ((rc = volume_names(&names, &n, e)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct volume v;
		struct err le = ERR_INIT;
		bool ok = true;
		if (volume_load(names[i], &v, &le) < 0)
			continue;   /* removed meanwhile, or half made */
		if (filters)
			rc = match(filters, &v, &ok, e);
		if (rc == 0 && ok)
			json_array_append_new(out, volume_json(&v));
		volume_free(&v);
	}
	free_names(names);
	return rc;
}

void api_volume_list(struct api_call *c)
{
	struct err e = ERR_INIT;
	bool bad;
	_cleanup_json_ json_t *filters = filters_get(c, &bad);
	json_t *vols;

	if (bad)
		return;
	vols = json_array();
	if (select_volumes(filters, vols, &e) < 0) {
		json_decref(vols);
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_json(c, 200, json_pack("{s:o, s:[]}", "Volumes", vols, "Warnings"));
}

/* Labels and DriverOpts: objects of strings (null = none). */
static int str_map(const json_t *body, const char *key, json_t **out, struct err *e)
{
	json_t *v = json_object_get(body, key), *x;
	const char *k;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(e, -EINVAL, "%s must be an object of strings", key);
	json_object_foreach(v, k, x)
		if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x))
			return err_set(e, -EINVAL, "%s: '%s' must be a string", key, k);
	*out = v;
	return 0;
}

static int create_one(const json_t *body, char **made, struct err *e)
{
	const char *name = jsonx_str(body, "Name"), *driver = jsonx_str(body, "Driver"), *k;
	json_t *labels, *opts, *v;
	uint64_t size = 0;
	int rc;

	if (name && !*name)
		name = NULL;   /* docker: a random name */
	if (name && !mounts_volume_name_valid(name))
		return err_set(e, -EINVAL, "invalid volume name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] "
					   "are allowed, at least 2 characters", name);
	if (driver && *driver && strcmp(driver, "local") != 0)
		return err_set(e, -EINVAL, "volume driver %s is not supported here (only local)",
			       driver);
	if ((rc = str_map(body, "Labels", &labels, e)) < 0 ||
	    (rc = str_map(body, "DriverOpts", &opts, e)) < 0)
		return rc;
	json_object_foreach(opts, k, v) {
		/* the local driver's mount options mean nothing for a disk image */
		if (strcmp(k, "size") != 0)
			return err_set(e, -EINVAL, "unsupported volume option '%s' (supported: size)",
				       k);
		if ((rc = mounts_parse_size(json_string_value(v), &size, e)) < 0)
			return rc;
	}
	rc = volume_create(name, size, labels, opts, false, made, e);
	if (rc == -EEXIST) {   /* docker answers the existing volume */
		err_clear(e);
		*made = xstrdup(name);
		rc = 0;
	}
	return rc;
}

void api_volume_create(struct api_call *c)
{
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *body = jsonx_parse(c->body, c->body_len, CREATE_BODY_MAX,
						  "request body", &e);
	_cleanup_free_ char *made = NULL;
	struct volume v;

	if (!body || !json_is_object(body)) {
		api_reply_error(c, 400, "%s", body ? "the body is not an object" : e.msg);
		return;
	}
	if (create_one(body, &made, &e) < 0 || volume_load(made, &v, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_json(c, 201, volume_json(&v));
	volume_free(&v);
}

void api_volume_inspect(struct api_call *c)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	struct err e = ERR_INIT;
	struct volume v;

	api_param_str(c, 0, &name);
	if (!mounts_volume_name_valid(buf_str(&name)) || volume_load(buf_str(&name), &v, &e) < 0) {
		api_reply_error(c, 404, "get %s: no such volume", buf_str(&name));
		return;
	}
	api_reply_json(c, 200, volume_json(&v));
	volume_free(&v);
}

void api_volume_delete(struct api_call *c)
{
	_cleanup_buf_ struct buf name = BUF_INIT;
	struct err e = ERR_INIT;

	api_param_str(c, 0, &name);
	if (!mounts_volume_name_valid(buf_str(&name))) {
		api_reply_error(c, 404, "get %s: no such volume", buf_str(&name));
		return;
	}
	if (volume_remove(buf_str(&name), api_query_bool(c, "force", 0), &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_text(c, 204, NULL, "");
}

static long long allocated(const char *name)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat st;

	if (volume_path(name, "volume.ext4", &p, NULL) < 0 || stat(buf_str(&p), &st) < 0)
		return 0;
	return (long long)st.st_blocks * 512;
}

void api_volume_prune(struct api_call *c)
{
	struct err e = ERR_INIT;
	bool bad, all = false;
	_cleanup_json_ json_t *filters = filters_get(c, &bad);
	_cleanup_json_ json_t *cand = json_array();
	json_t *gone, *v, *x;
	long long space = 0;
	size_t i;

	if (bad)
		return;
	json_array_foreach(json_object_get(filters, "all"), i, x)
		all |= truthy(json_string_value(x));
	if (select_volumes(filters, cand, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	gone = json_array();
	json_array_foreach(cand, i, v) {
		const char *name = jsonx_str(v, "Name");
		struct err le = ERR_INIT;
		long long n;
		if (!name || (!all && !json_is_true(json_object_get(v, "Anonymous"))))
			continue;
		n = allocated(name);
		if (volume_remove(name, false, &le) == 0) {   /* in use: -EBUSY, kept */
			json_array_append_new(gone, json_string(name));
			space += n;
		}
	}
	api_reply_json(c, 200, json_pack("{s:o, s:I}", "VolumesDeleted", gone, "SpaceReclaimed",
					 (json_int_t)space));
}

/* The Docker Engine API's volume endpoints (issue #8), routed by
 * applets/api_router.c, over applets/volume_store.h; the `container
 * volume` commands (applets/volume.c) are clients of them:
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
 * Label filters are ANDed (every one must hold), as Docker does; an
 * unknown filter key is a 400 whether or not any volume exists.
 * Blocking disk work (a volume is a small directory and a sparse image
 * file) runs on the loop, as the network endpoints do. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "applets/api_filters.h"
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

static const char *const list_keys[] = { "name", "label", "driver", "dangling", NULL };
static const char *const prune_keys[] = { "label", "all", NULL };

/* ?filters, parsed once; false with a 400 answered when malformed or
 * naming a key the endpoint does not know. */
static bool filters_get(struct api_call *c, const char *const *known, json_t **out)
{
	struct err e = ERR_INIT;

	if (api_query_filters(c->query, c->query_len, known, out, &e) < 0) {
		api_reply_error(c, 400, "%s", e.msg);
		return false;
	}
	return true;
}

/* Every key present must match: "label" all of its values (Docker ANDs
 * them), the others one of theirs.  users: the users map. */
static bool match(const json_t *filters, const struct volume *v, const json_t *users)
{
	const char *key;
	json_t *vals, *x;
	size_t i;

	json_object_foreach((json_t *)filters, key, vals) {
		bool any = !json_array_size(vals);
		if (!strcmp(key, "label")) {
			if (!api_filters_labels(vals, v->labels))
				return false;
			continue;
		}
		if (!strcmp(key, "all"))   /* prune's; volume_prune's want reads it */
			continue;
		json_array_foreach(vals, i, x) {
			const char *s = json_string_value(x);
			if (!strcmp(key, "name"))
				any |= strstr(v->name, s) != NULL;
			else if (!strcmp(key, "driver"))
				any |= !strcmp(v->driver, s);
			else if (!strcmp(key, "dangling"))
				any |= (!strcmp(s, "1") || !strcasecmp(s, "true")) ==
				       !json_object_get(users, v->name);
		}
		if (!any)
			return false;
	}
	return true;
}

void api_volume_list(struct api_call *c)
{
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *filters = NULL, *users = NULL;
	char **names;
	size_t n;
	json_t *vols;

	if (!filters_get(c, list_keys, &filters))
		return;
	if ((json_object_get(filters, "dangling") && volume_users_map(&users, &e) < 0) ||
	    volume_names(&names, &n, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	vols = json_array();
	for (size_t i = 0; i < n; i++) {
		struct volume v;
		struct err le = ERR_INIT;
		if (volume_load(names[i], &v, &le) == 0) {   /* else removed meanwhile, or half made */
			if (!filters || match(filters, &v, users))
				json_array_append_new(vols, volume_json(&v));
			volume_free(&v);
		}
		free(names[i]);
	}
	free(names);
	api_reply_json(c, 200, json_pack("{s:o, s:[]}", "Volumes", vols, "Warnings"));
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
	if ((rc = jsonx_opt_strmap(body, "Labels", &labels, e)) < 0 ||
	    (rc = jsonx_opt_strmap(body, "DriverOpts", &opts, e)) < 0)
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

/* docker (API >= 1.42): anonymous volumes no container uses; all=true:
 * every one; label filters ANDed. */
static bool prune_want(const struct volume *v, const json_t *users, void *arg)
{
	const json_t *filters = arg;

	return (v->anonymous || api_filters_true(filters, "all")) && match(filters, v, users);
}

void api_volume_prune(struct api_call *c)
{
	struct err e = ERR_INIT;
	_cleanup_json_ json_t *filters = NULL;
	json_t *gone;
	long long space;

	if (!filters_get(c, prune_keys, &filters))
		return;
	if (volume_prune(prune_want, filters, &gone, &space, &e) < 0) {
		api_reply_error(c, status_of(e.code), "%s", e.msg);
		return;
	}
	api_reply_json(c, 200, json_pack("{s:o, s:I}", "VolumesDeleted", gone, "SpaceReclaimed",
					 (json_int_t)space));
}

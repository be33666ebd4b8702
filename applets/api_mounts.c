/* The create request's mounts and Docker's "Mounts" shape (see
 * applets/api_mounts.h).  Every field is handed to applets/mounts.c's
 * flag parsers so that the API and `container run` accept exactly the
 * same things: a Mounts entry is re-encoded as a `--mount` CSV line with
 * every field quoted (the parser undoes the quoting). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "applets/api_mounts.h"
#include "applets/mounts.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"

#define ENTRIES_MAX 64   /* per list; more than MOUNTS_MAX fails later anyway */

static bool str_ok(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* One "k=v" field of a --mount line, quoted as encoding/csv does. */
static void csv_field(struct buf *b, const char *k, const char *v)
{
	if (b->len)
		buf_putc(b, ',');
	buf_putc(b, '"');
	buf_puts(b, k);
	buf_putc(b, '=');
	for (; *v; v++) {
		if (*v == '"')
			buf_putc(b, '"');
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

/* A string member of o copied into the line as key k (absent/null: none). */
static int csv_str(struct buf *b, const json_t *o, const char *member, const char *k,
		   struct err *e)
{
	json_t *v = json_object_get(o, member);

	if (!v || json_is_null(v))
		return 0;
	if (!str_ok(v))
		return err_set(e, -EINVAL, "Mounts: %s must be a string without NUL bytes", member);
	if (*json_string_value(v))
		csv_field(b, k, json_string_value(v));
	return 0;
}

static int csv_bool(struct buf *b, const json_t *o, const char *member, const char *k,
		    struct err *e)
{
	json_t *v = json_object_get(o, member);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, -EINVAL, "Mounts: %s must be a boolean", member);
	if (json_is_true(v))
		csv_field(b, k, "true");
	return 0;
}

/* TmpfsOptions: SizeBytes (bytes) and Mode (os.FileMode, a decimal
 * integer: 1023 is 01777). */
static int tmpfs_options(struct buf *b, const json_t *o, struct err *e)
{
	json_t *t = json_object_get(o, "TmpfsOptions"), *v;
	char num[32];

	if (!t || json_is_null(t))
		return 0;
	if (!json_is_object(t))
		return err_set(e, -EINVAL, "Mounts: TmpfsOptions must be an object");
	if ((v = json_object_get(t, "SizeBytes")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(e, -EINVAL, "Mounts: SizeBytes must be a non-negative integer");
		if (json_integer_value(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			csv_field(b, "tmpfs-size", num);
		}
	}
	if ((v = json_object_get(t, "Mode")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 07777)
			return err_set(e, -EINVAL, "Mounts: TmpfsOptions.Mode must be 0..4095");
		if (json_integer_value(v)) {
			snprintf(num, sizeof(num), "%llo", (long long)json_integer_value(v));
			csv_field(b, "tmpfs-mode", num);
		}
	}
	return 0;
}

/* One HostConfig.Mounts entry (Docker's mount.Mount). */
static int mount_entry(const json_t *o, struct mount_list *out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	json_t *vo = json_object_get(o, "VolumeOptions"), *bo = json_object_get(o, "BindOptions");
	int rc;

	if (!json_is_object(o))
		return err_set(e, -EINVAL, "Mounts: each entry must be an object");
	if ((rc = csv_str(&b, o, "Type", "type", e)) < 0 ||
	    (rc = csv_str(&b, o, "Source", "source", e)) < 0 ||
	    (rc = csv_str(&b, o, "Target", "target", e)) < 0 ||
	    (rc = csv_bool(&b, o, "ReadOnly", "readonly", e)) < 0 ||
	    (rc = csv_str(&b, o, "Consistency", "consistency", e)) < 0 ||
	    (json_is_object(bo) && (rc = csv_str(&b, bo, "Propagation", "bind-propagation", e)) < 0) ||
	    (json_is_object(vo) && (rc = csv_bool(&b, vo, "NoCopy", "volume-nocopy", e)) < 0) ||
	    (rc = tmpfs_options(&b, o, e)) < 0)
		return rc;
	if (!json_object_get(o, "Type"))
		return err_set(e, -EINVAL, "Mounts: an entry needs a Type (bind, volume, tmpfs)");
	return mounts_parse_mount_flag(buf_str(&b), out, e);
}

/* HostConfig.Tmpfs: { "/target": "size=64m,mode=1777" }. */
static int tmpfs_map(const json_t *t, struct mount_list *out, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach((json_t *)t, k, v) {
		if (!str_ok(v) || strchr(k, ':'))
			return err_set(e, -EINVAL, "Tmpfs: '%s' wants a target without ':' and a "
						   "string of options", k);
		buf_reset(&b);
		buf_puts(&b, k);
		if (*json_string_value(v))
			buf_printf(&b, ":%s", json_string_value(v));
		if ((rc = mounts_parse_tmpfs_flag(buf_str(&b), out, e)) < 0)
			return rc;
	}
	return 0;
}

static bool has_target(const struct mount_list *l, const char *t)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].target, t))
			return true;
	return false;
}

/* Config.Volumes: { "/path": {} } = an anonymous volume, unless another
 * mount already has the target (older docker CLIs list bind targets here
 * too). */
static int volumes_map(const json_t *vols, struct mount_list *out, struct err *e)
{
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach((json_t *)vols, k, v) {
		struct mount_list one = { 0 };
		(void)v;
		if (*k != '/' || strchr(k, ':'))
			return err_set(e, -EINVAL, "Volumes: '%s' is not an absolute container path", k);
		if ((rc = mounts_parse_volume_flag(k, &one, e)) < 0)
			return rc;
		if (!has_target(out, one.v[0].target))
			rc = mounts_parse_volume_flag(k, out, e);
		mount_list_free(&one);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int api_mounts_parse(const json_t *req, const json_t *hc, struct mount_list *out,
		     struct err *e)
{
	json_t *binds = json_object_get(hc, "Binds"), *mounts = json_object_get(hc, "Mounts");
	json_t *tmpfs = json_object_get(hc, "Tmpfs"), *vols = json_object_get(req, "Volumes"), *v;
	size_t i;
	int rc;

	if ((binds && !json_is_null(binds) && !json_is_array(binds)) ||
	    json_array_size(binds) > ENTRIES_MAX)
		return err_set(e, -EINVAL, "Binds must be a list of at most %d strings", ENTRIES_MAX);
	if ((mounts && !json_is_null(mounts) && !json_is_array(mounts)) ||
	    json_array_size(mounts) > ENTRIES_MAX)
		return err_set(e, -EINVAL, "Mounts must be a list of at most %d objects",
			       ENTRIES_MAX);
	if ((tmpfs && !json_is_null(tmpfs) && !json_is_object(tmpfs)) ||
	    json_object_size(tmpfs) > ENTRIES_MAX)
		return err_set(e, -EINVAL, "Tmpfs must be an object of at most %d entries",
			       ENTRIES_MAX);
	if ((vols && !json_is_null(vols) && !json_is_object(vols)) ||
	    json_object_size(vols) > ENTRIES_MAX)
		return err_set(e, -EINVAL, "Volumes must be an object of at most %d entries",
			       ENTRIES_MAX);
	json_array_foreach(binds, i, v) {
		if (!str_ok(v))
			return err_set(e, -EINVAL, "Binds[%zu] must be a string without NUL bytes", i);
		if ((rc = mounts_parse_volume_flag(json_string_value(v), out, e)) < 0)
			return rc;
	}
	json_array_foreach(mounts, i, v)
		if ((rc = mount_entry(v, out, e)) < 0)
			return rc;
	if ((json_is_object(tmpfs) && (rc = tmpfs_map(tmpfs, out, e)) < 0) ||
	    (json_is_object(vols) && (rc = volumes_map(vols, out, e)) < 0))
		return rc;
	return mounts_check(out, e);
}

/* ---- Docker's shape ---- */

json_t *api_mounts_json(const json_t *mounts)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(mounts, i, m) {
		const char *type = jsonx_str(m, "type"), *target = jsonx_str(m, "target");
		bool ro = json_is_true(json_object_get(m, "readonly"));
		json_t *d;
		if (!type || !target)
			continue;
		d = json_pack("{s:s, s:s, s:s, s:b, s:s}", "Type", type, "Destination", target,
			      "Mode", ro ? "ro" : "", "RW", !ro, "Propagation",
			      strcmp(type, "bind") ? "" : "rprivate");
		if (!strcmp(type, "bind")) {
			const char *src = jsonx_str(m, "source");
			json_object_set_new(d, "Source", json_string(src ? src : ""));
		} else if (!strcmp(type, "volume")) {
			_cleanup_buf_ struct buf p = BUF_INIT;
			const char *name = jsonx_str(m, "name");
			if (!name || volume_mountpoint(name, &p, NULL) < 0)
				buf_reset(&p);
			json_object_set_new(d, "Name", json_string(name ? name : ""));
			json_object_set_new(d, "Source", json_string(buf_str(&p)));
			json_object_set_new(d, "Driver", json_string("local"));
		} else {
			json_object_set_new(d, "Source", json_string(""));
		}
		json_array_append_new(out, d);
	}
	return out;
}

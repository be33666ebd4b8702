/* JSON helpers over jansson (see lib/jsonx.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

json_t *jsonx_parse(const void *data, size_t len, size_t max, const char *what,
		    struct err *e)
{
	json_error_t je;
	json_t *v = NULL;

	if (max && len > max) {
		err_set(e, -EFBIG, "%s: JSON document of %zu bytes exceeds the limit of %zu",
			what, len, max);
		return NULL;
	}
	if (len == 0) {
		err_set(e, -EBADMSG, "%s: empty document (want JSON)", what);
		return NULL;
	}
	/* DECODE_ANY: callers check the type they expect.  REJECT_DUPLICATES:
	 * a document whose meaning depends on which duplicate wins is hostile. */
	v = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!v)
		err_set(e, -EBADMSG, "%s: invalid JSON at line %d column %d: %s", what,
			je.line, je.column, je.text);
	return v;
}

json_t *jsonx_load_file(const char *path, size_t max, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (fs_read_file(path, &b, max, e) < 0)
		return NULL;
	return jsonx_parse(b.data ? b.data : "", b.len, max, path, e);
}

static int field(const json_t *obj, const char *key, json_t **out, json_type type,
		 const char *tname, const char *what, struct err *e)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v || json_typeof(v) != type)
		return err_set(e, -EINVAL, "%s: field '%s' missing or not %s", what, key, tname);
	*out = v;
	return 0;
}

int jsonx_req_str(const json_t *obj, const char *key, const char **out,
		  const char *what, struct err *e)
{
	json_t *v = NULL;
	int rc = field(obj, key, &v, JSON_STRING, "a string", what, e);
	if (rc < 0)
		return rc;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, -EINVAL, "%s: field '%s' contains a NUL byte", what, key);
	*out = json_string_value(v);
	return 0;
}

int jsonx_req_int(const json_t *obj, const char *key, long long *out,
		  const char *what, struct err *e)
{
	json_t *v = NULL;
	int rc = field(obj, key, &v, JSON_INTEGER, "an integer", what, e);
	if (rc < 0)
		return rc;
	*out = json_integer_value(v);
	return 0;
}

int jsonx_req_obj(const json_t *obj, const char *key, json_t **out,
		  const char *what, struct err *e)
{
	return field(obj, key, out, JSON_OBJECT, "an object", what, e);
}

int jsonx_req_arr(const json_t *obj, const char *key, json_t **out,
		  const char *what, struct err *e)
{
	return field(obj, key, out, JSON_ARRAY, "an array", what, e);
}

const char *jsonx_str(const json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

long long jsonx_int(const json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return buf_append(data, p, n) < 0 ? -1 : 0;
}

int jsonx_dump_buf(const json_t *v, size_t flags, struct buf *out, struct err *e)
{
	if (json_dump_callback(v, dump_cb, out, flags | JSON_ENCODE_ANY) < 0)
		return err_set(e, -E2BIG, "JSON output too large");
	return 0;
}

int jsonx_write_file(const char *path, const json_t *v, mode_t mode, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	int rc = jsonx_dump_buf(v, JSON_INDENT(2) | JSON_SORT_KEYS, &b, e);

	if (rc < 0)
		return rc;
	buf_putc(&b, '\n');
	return fs_write_atomic(path, b.data, b.len, mode, e);
}

int jsonx_opt_strmap(const json_t *obj, const char *key, json_t **out, struct err *e)
{
	json_t *v = json_object_get(obj, key), *x;
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

int jsonx_opt_strdup(const json_t *obj, const char *key, char **out, const char *what,
		     struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, -EINVAL, "%s: '%s' is not a string", what, key);
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

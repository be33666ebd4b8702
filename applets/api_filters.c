/* Docker's ?filters parameter (see applets/api_filters.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "applets/api_filters.h"
#include "applets/api_http.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"

static bool known_key(const char *const *known, const char *k)
{
	for (; known && *known; known++)
		if (!strcmp(*known, k))
			return true;
	return false;
}

static int add_value(json_t *list, const char *s, size_t len, size_t *n, struct err *e)
{
	if (strlen(s) != len)
		return err_set(e, -EINVAL, "invalid filters: a value holds a NUL");
	if (++*n > API_FILTERS_VALUES_MAX)
		return err_set(e, -EINVAL, "invalid filters: more than %d values",
			       API_FILTERS_VALUES_MAX);
	json_array_append_new(list, json_string(s));
	return 0;
}

int api_filters_parse(const char *text, size_t len, const char *const *known, json_t **out,
		      struct err *e)
{
	_cleanup_json_ json_t *f = NULL;
	json_t *res, *vals, *x;
	const char *k, *k2;
	size_t i, n = 0;
	int rc = 0;

	*out = NULL;
	if (!len)
		return 0;
	if (!(f = jsonx_parse(text, len, API_FILTERS_MAX, "filters", e)))
		return err_set(e, -EINVAL, "invalid filters: %s", e->msg);
	if (!json_is_object(f))
		return err_set(e, -EINVAL, "filters must be an object of string lists");
	res = json_object();
	json_object_foreach(f, k, vals) {
		json_t *list = json_array();
		json_object_set_new(res, k, list);
		if (!known_key(known, k)) {
			rc = err_set(e, -EINVAL, "invalid filter '%s'", k);
			break;
		}
		if (json_is_object(vals)) {
			json_object_foreach(vals, k2, x)
				if ((rc = add_value(list, k2, strlen(k2), &n, e)) < 0)
					break;
		} else if (json_is_array(vals)) {
			json_array_foreach(vals, i, x) {
				if (!json_is_string(x)) {
					rc = err_set(e, -EINVAL, "filters must be an object of string lists");
					break;
				}
				if ((rc = add_value(list, json_string_value(x), json_string_length(x), &n,
						    e)) < 0)
					break;
			}
		} else {
			rc = err_set(e, -EINVAL, "filters must be an object of string lists");
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}

int api_query_filters(const char *query, size_t query_len, const char *const *known,
		      json_t **out, struct err *e)
{
	_cleanup_buf_ struct buf fq = BUF_INIT;

	*out = NULL;
	buf_init(&fq, API_FILTERS_MAX + 1);
	if (api_query_get(query, query_len, "filters", &fq) < 0)
		return err_set(e, -EINVAL, "invalid filters: bad escape or too long");
	return api_filters_parse(fq.data, fq.len, known, out, e);
}

bool api_filters_labels(const json_t *vals, const json_t *labels)
{
	json_t *x;
	size_t i;

	json_array_foreach(vals, i, x) {
		const char *s = json_string_value(x), *eq, *have;
		_cleanup_buf_ struct buf k = BUF_INIT;
		if (!s)
			return false;
		eq = strchr(s, '=');
		buf_append(&k, s, eq ? (size_t)(eq - s) : strlen(s));
		have = jsonx_str(labels, buf_str(&k));
		if (!have || (eq && strcmp(have, eq + 1) != 0))
			return false;
	}
	return true;
}

bool api_filters_true(const json_t *filters, const char *key)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(filters, key), i, x) {
		const char *s = json_string_value(x);
		if (s && (!strcmp(s, "1") || !strcasecmp(s, "true")))
			return true;
	}
	return false;
}

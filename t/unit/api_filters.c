/* Unit tests of Docker's ?filters (applets/api_filters.c): both shapes
 * clients send, unknown keys refused, hostile input (non-strings, NUL in
 * a value, too many values, bad escapes) refused with a message, and the
 * label rule: every label filter must hold (Docker ANDs them). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "applets/api_filters.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "t/tap.h"

static const char *const keys[] = { "label", "name", "dangling", "all", NULL };

static int parse(const char *text, json_t **out, struct err *e)
{
	err_clear(e);
	return api_filters_parse(text, strlen(text), keys, out, e);
}

static void refused(const char *text, const char *msg_part)
{
	struct err e = ERR_INIT;
	json_t *f = NULL;
	int rc = parse(text, &f, &e);

	ok(rc == -EINVAL && !f && strstr(e.msg, msg_part), "refused: %s (%s)", text, e.msg);
}

int main(void)
{
	struct err e = ERR_INIT;
	json_t *f = NULL, *labels = json_pack("{s:s, s:s}", "a", "1", "b", "2");
	_cleanup_buf_ struct buf many = BUF_INIT;

	is_int(parse("", &f, &e), 0, "no filters: ok");
	ok(f == NULL, "no filters: NULL");

	is_int(parse("{\"label\":[\"a\",\"b=2\"],\"name\":[\"x\"]}", &f, &e), 0, "lists parse");
	is_int((int)json_array_size(json_object_get(f, "label")), 2, "two label values");
	ok(api_filters_labels(json_object_get(f, "label"), labels), "a AND b=2 both hold");
	json_decref(f);

	is_int(parse("{\"label\":{\"a=1\":true,\"b=3\":true}}", &f, &e), 0, "the map shape parses");
	ok(!api_filters_labels(json_object_get(f, "label"), labels),
	   "labels are ANDed: a=1 holds, b=3 does not -> no match");
	json_decref(f);

	is_int(parse("{\"label\":[\"c\"]}", &f, &e), 0, "one label");
	ok(!api_filters_labels(json_object_get(f, "label"), labels), "a missing label: no match");
	ok(api_filters_labels(NULL, labels), "no label filter: match");
	json_decref(f);

	is_int(parse("{\"all\":[\"True\"],\"dangling\":[\"0\"]}", &f, &e), 0, "all and dangling");
	ok(api_filters_true(f, "all") && !api_filters_true(f, "dangling") &&
	   !api_filters_true(f, "name"), "api_filters_true: True yes, 0 no, absent no");
	json_decref(f);

	refused("{\"bogus\":[\"x\"]}", "invalid filter 'bogus'");
	refused("{\"label\":[\"a\"],\"until\":[\"1h\"]}", "invalid filter 'until'");
	refused("[\"label\"]", "object of string lists");
	refused("{\"name\":\"x\"}", "object of string lists");
	refused("{\"name\":[1]}", "object of string lists");
	refused("{\"name\":[\"a\\u0000b\"]}", "NUL");
	refused("{\"name\":", "invalid filters");
	buf_puts(&many, "{\"name\":[");
	for (int i = 0; i <= API_FILTERS_VALUES_MAX; i++)
		buf_printf(&many, "%s\"v\"", i ? "," : "");
	buf_puts(&many, "]}");
	refused(buf_str(&many), "more than");

	err_clear(&e);
	f = NULL;
	is_int(api_query_filters("all=1&filters=%7B%22name%22%3A%5B%22x%22%5D%7D",
				 strlen("all=1&filters=%7B%22name%22%3A%5B%22x%22%5D%7D"), keys, &f, &e),
	       0, "api_query_filters decodes the query parameter");
	ok(f && json_array_size(json_object_get(f, "name")) == 1, "name filter read from the query");
	json_decref(f);
	f = NULL;
	is_int(api_query_filters("filters=%ZZ", 11, keys, &f, &e), -EINVAL, "a bad escape: -EINVAL");
	json_decref(labels);
	return done_testing();
}

/* JSON helpers: bounded parse with located errors, strict getters,
 * duplicate keys refused, atomic file write. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "t/tap.h"

int main(void)
{
	struct err e = ERR_INIT;
	const char *s;
	long long n;
	json_t *v, *o;
	static const char doc[] = "{\"name\":\"alpine\",\"size\":42,\"layers\":[1],\"cfg\":{}}";

	v = jsonx_parse(doc, strlen(doc), 0, "manifest", &e);
	ok(v != NULL, "parses a document");
	is_int(jsonx_req_str(v, "name", &s, "manifest", &e), 0, "required string");
	is_str(s, "alpine", "value");
	is_int(jsonx_req_int(v, "size", &n, "manifest", &e), 0, "required int");
	is_int(n, 42, "int value");
	is_int(jsonx_req_arr(v, "layers", &o, "manifest", &e), 0, "required array");
	is_int(jsonx_req_obj(v, "cfg", &o, "manifest", &e), 0, "required object");
	is_int(jsonx_req_str(v, "size", &s, "manifest", &e), -EINVAL, "wrong type refused");
	is_str(e.msg, "manifest: field 'size' missing or not a string", "message names field");
	is_int(jsonx_req_int(v, "nope", &n, "manifest", &e), -EINVAL, "missing field refused");
	ok(jsonx_str(v, "size") == NULL, "optional getter: wrong type is NULL");
	is_int(jsonx_int(v, "name", 7), 7, "optional int: wrong type gives default");
	json_decref(v);

	ok(jsonx_parse(doc, strlen(doc), 10, "manifest", &e) == NULL && e.code == -EFBIG,
	   "a document over the limit is refused before parsing");
	ok(jsonx_parse("{\"a\":1,\"a\":2}", 13, 0, "x", &e) == NULL, "duplicate keys refused: %s", e.msg);
	ok(jsonx_parse("{\"a\":", 5, 0, "config", &e) == NULL && strstr(e.msg, "line 1") != NULL,
	   "truncated JSON refused with a location: %s", e.msg);
	ok(jsonx_parse("[1] [2]", 7, 0, "x", &e) == NULL, "trailing data refused");
	ok(jsonx_parse(NULL, 0, 0, "config", &e) == NULL && e.code == -EBADMSG, "empty input refused");
	is_str(e.msg, "config: empty document (want JSON)", "empty input message");
	ok(jsonx_parse("{\"s\":\"a\\u0000b\"}", 15, 0, "x", &e) == NULL,
	   "\\u0000 in a string refused by the parser: %s", e.msg);
	v = json_pack("{s:s%}", "s", "a\0b", (size_t)3);
	ok(v && jsonx_req_str(v, "s", &s, "x", &e) == -EINVAL, "embedded NUL in a built value refused");
	ok(jsonx_str(v, "s") == NULL, "optional getter also refuses embedded NUL");
	json_decref(v);

	/* Deep nesting is bounded by jansson's depth limit, not the stack. */
	{
		struct buf deep = BUF_INIT;
		for (int i = 0; i < 100000; i++)
			buf_putc(&deep, '[');
		ok(jsonx_parse(deep.data, deep.len, 0, "x", &e) == NULL, "100000 nested arrays refused");
		buf_free(&deep);
	}

	{
		char tmpl[] = "/tmp/jsonx.XXXXXX";
		struct buf path = BUF_INIT, out = BUF_INIT;
		char *dir = mkdtemp(tmpl);
		v = json_pack("{s:s, s:i}", "b", "x", "a", 1);
		buf_printf(&path, "%s/f.json", dir);
		is_int(jsonx_write_file(buf_str(&path), v, 0600, &e), 0, "write file");
		json_decref(v);
		v = jsonx_load_file(buf_str(&path), 1024, &e);
		ok(v && jsonx_int(v, "a", 0) == 1, "load file back");
		json_decref(v);
		v = json_integer(5);
		is_int(jsonx_dump_buf(v, 0, &out, &e), 0, "dump scalar");
		json_decref(v);
		is_str(buf_str(&out), "5", "scalar text");
		unlink(buf_str(&path));
		rmdir(dir);
		buf_free(&path);
		buf_free(&out);
	}
	/* jsonx_opt_strmap: Labels/Options-shaped fields */
	{
		json_t *b = json_loads("{\"L\":{\"a\":\"1\"},\"N\":null,\"I\":{\"a\":1},"
				       "\"A\":[\"a\"],\"Z\":{\"a\":\"x\\u0000y\"}}", JSON_ALLOW_NUL, NULL), *m = NULL;
		ok(b != NULL, "strmap: the test body parses");
		is_int(jsonx_opt_strmap(b, "L", &m, &e), 0, "strmap: an object of strings");
		ok(m == json_object_get(b, "L"), "... borrowed from the body");
		is_int(jsonx_opt_strmap(b, "missing", &m, &e), 0, "strmap: absent is none");
		ok(m == NULL, "... NULL");
		is_int(jsonx_opt_strmap(b, "N", &m, &e), 0, "strmap: null is none");
		is_int(jsonx_opt_strmap(b, "I", &m, &e), -EINVAL, "strmap: a number value refused");
		ok(strstr(e.msg, "I: 'a' must be a string") != NULL, "... naming it (%s)", e.msg);
		is_int(jsonx_opt_strmap(b, "A", &m, &e), -EINVAL, "strmap: a list refused");
		is_int(jsonx_opt_strmap(b, "Z", &m, &e), -EINVAL, "strmap: a NUL inside a value refused");
		json_decref(b);
	}
	return done_testing();
}

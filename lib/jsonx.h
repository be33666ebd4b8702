/* JSON helpers over jansson (never a hand-written parser).  jansson's own
 * json_* API is used directly for building and walking values; these add
 * what every caller of outside data needs: a bounded parse that fills a
 * struct err, strictly-typed field getters, and serialising into a buf or
 * atomically into a file. */
#ifndef LIB_JSONX_H
#define LIB_JSONX_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct err;
struct buf;

/* Parse exactly one JSON value from data[0..len).  Inputs longer than max
 * bytes (0 = no limit) are refused before parsing.  Error messages name
 * what (e.g. "manifest") and the line/column. */
json_t *jsonx_parse(const void *data, size_t len, size_t max, const char *what,
		    struct err *e);
json_t *jsonx_load_file(const char *path, size_t max, struct err *e);

/* Required fields: -EINVAL with "<what>: field 'k' missing or not a
 * string" when absent or of the wrong type. */
int jsonx_req_str(const json_t *obj, const char *key, const char **out,
		  const char *what, struct err *e);
int jsonx_req_int(const json_t *obj, const char *key, long long *out,
		  const char *what, struct err *e);
int jsonx_req_obj(const json_t *obj, const char *key, json_t **out,
		  const char *what, struct err *e);
int jsonx_req_arr(const json_t *obj, const char *key, json_t **out,
		  const char *what, struct err *e);

/* An optional string field copied out: absent or null leaves *out as it
 * is; a string (without NUL inside) replaces it (the old one is freed);
 * any other type is -EINVAL "<what>: 'k' is not a string". */
int jsonx_opt_strdup(const json_t *obj, const char *key, char **out, const char *what,
		     struct err *e);

/* An optional object of strings (Labels, Options, DriverOpts): absent or
 * null sets *out NULL; else *out is the object (borrowed from obj); any
 * other shape, or a value that is not a string without NUL inside, is
 * -EINVAL "KEY must be an object of strings" / "KEY: 'k' must be a string". */
int jsonx_opt_strmap(const json_t *obj, const char *key, json_t **out, struct err *e);

/* Optional fields: NULL / dflt when absent or of the wrong type. */
const char *jsonx_str(const json_t *obj, const char *key);
long long jsonx_int(const json_t *obj, const char *key, long long dflt);

/* Serialise (compact unless JSON_INDENT in flags) and append to out. */
int jsonx_dump_buf(const json_t *v, size_t flags, struct buf *out, struct err *e);
/* Serialise and write atomically (lib/fs.h), pretty-printed, with a
 * trailing newline. */
int jsonx_write_file(const char *path, const json_t *v, mode_t mode, struct err *e);

static inline void jsonx_decrefp(json_t **v) { json_decref(*v); }
#define _cleanup_json_ __attribute__((cleanup(jsonx_decrefp)))

#endif

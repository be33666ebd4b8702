/* Docker's ?filters query parameter, parsed once per request for the
 * endpoints that take one (volumes now; containers share the label rule):
 *
 *   filters={"label":["a","b=1"],"dangling":["true"]}   lists of strings
 *   filters={"label":{"a":true}}                          the older map shape
 *
 * Both shapes become one object of string arrays.  Keys are checked
 * against the endpoint's own list, always (Docker answers 400 for an
 * unknown key even when nothing would be filtered).  Bounded: the text at
 * most API_FILTERS_MAX bytes, at most API_FILTERS_VALUES_MAX values.
 * Called by applets/api_volumes.c and applets/api_ctrjson.c; fuzzed by
 * t/fuzz/api_filters.c. */
#ifndef APPLETS_API_FILTERS_H
#define APPLETS_API_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;

#define API_FILTERS_MAX (64 * 1024)
#define API_FILTERS_VALUES_MAX 1024

/* The filters' JSON text (len 0 = none: *out NULL) into *out, an owned
 * object of string arrays; keys not in known (NULL-terminated) are
 * -EINVAL "invalid filter 'KEY'"; anything malformed is -EINVAL. */
int api_filters_parse(const char *text, size_t len, const char *const *known, json_t **out,
		      struct err *e);

/* ?filters of the request's raw query (api_query_get), then parsed as
 * above. */
int api_query_filters(const char *query, size_t query_len, const char *const *known,
		      json_t **out, struct err *e);

/* Docker's label rule: every "k" (present) and "k=v" (equal) of vals
 * holds for labels; an empty or absent list matches. */
bool api_filters_labels(const json_t *vals, const json_t *labels);

/* Whether any value of the key is "true" or "1" (prune's all, dangling). */
bool api_filters_true(const json_t *filters, const char *key);

#endif

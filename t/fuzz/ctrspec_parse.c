/* Fuzz target for the translation of Docker's create and exec requests
 * (applets/ctrspec.c, ctrspec_parse and ctrspec_exec_parse): every POST
 * /containers/create and /containers/{id}/exec body a local client sends
 * goes through them before anything touches disk or a runtime.  A first
 * byte 'N' gives a ?name= (up to the first newline), so names are fuzzed
 * as well as bodies; a first byte 'E' makes the rest an exec body; 'R'
 * gives the rest to the restart policy's parser (applets/api_restart.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_restart.h"
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
	if (size && copy[0] == 'E') {
		struct ctrspec_exec x;
		rc = ctrspec_exec_parse(copy + 1, size - 1, &x, &e);
		if (rc == 0 && (!json_array_size(x.cmd) || !json_is_array(x.env) || !x.rows ||
				!x.cols || (x.workdir && x.workdir[0] != '/')))
			abort();
		if (rc < 0 && !e.msg[0])
			abort();
		ctrspec_exec_free(&x);
		free(copy);
		return 0;
	}
	if (size && copy[0] == 'R') {
		struct api_restart_policy p;
		rc = api_restart_parse(copy + 1, size - 1, size > 1 && copy[1] == '{', &p, &e);
		/* what is accepted is one of the four, a count only with on-failure */
		if (rc == 0 && ((strcmp(p.name, "no") && strcmp(p.name, "on-failure") &&
				 strcmp(p.name, "always") && strcmp(p.name, "unless-stopped")) ||
				p.max < 0 || (p.max && strcmp(p.name, "on-failure"))))
			abort();
		if (rc < 0 && !e.msg[0])
			abort();
		free(copy);
		return 0;
	}
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

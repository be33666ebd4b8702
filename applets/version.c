/* `container version`: build facts and the versions of the libraries
 * linked in (all static in release builds, so these are what runs). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/version.h>
#include <uv.h>
#include <zlib.h>
#include <zstd.h>

#include "applets/applets.h"
#include "lib/exit.h"
#include "gen/version.h"

const char container_version[] = CONTAINER_VERSION;
const char container_commit[] = CONTAINER_COMMIT;
const char container_target[] = CONTAINER_TARGET;
const char container_build_date[] = CONTAINER_BUILD_DATE;

struct version_opts {
	const char *format;
};

static const struct opt version_optv[] = {
	OPT_STRING('f', "format", struct version_opts, format, "FORMAT", "Output format: text or json"),
	OPT_END,
};

static int version_run(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct version_opts *opts = o;
	char mbed[32];
	json_t *j;

	(void)c;
	(void)argc;
	(void)argv;
	mbedtls_version_get_string(mbed);
	j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
		      "version", container_version, "commit", container_commit,
		      "target", container_target, "built", container_build_date,
		      "libraries", "libuv", uv_version_string(), "mbedtls", mbed,
		      "zlib", zlibVersion(), "zstd", ZSTD_versionString(),
		      "jansson", JANSSON_VERSION);
	if (opts->format && strcmp(opts->format, "json") == 0) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (!opts->format || strcmp(opts->format, "text") == 0) {
		printf("Version:   %s\nCommit:    %s\nTarget:    %s\nBuilt:     %s\n"
		       "Libraries: libuv %s, mbedTLS %s, zlib %s, zstd %s, jansson %s\n",
		       container_version, container_commit, container_target,
		       container_build_date, uv_version_string(), mbed, zlibVersion(),
		       ZSTD_versionString(), JANSSON_VERSION);
	} else {
		fprintf(stderr, "container version: unknown format '%s' (want text or json)\n",
			opts->format);
		json_decref(j);
		return EXIT_USAGE;
	}
	json_decref(j);
	return EXIT_OK;
}

const struct cmd cmd_version = {
	.name = "version",
	.summary = "Show version, build and library information",
	.usage = "[--format text|json]",
	.opts = version_optv,
	.opts_size = sizeof(struct version_opts),
	.run = version_run,
};

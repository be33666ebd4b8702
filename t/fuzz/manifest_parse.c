/* Fuzz target for oci/manifest.c.  The first input byte picks the declared
 * content type (or none), the rest is the document, which is parsed both
 * as a manifest/index and as an image config; whatever parses is walked
 * (platform selection, media type checks) so every pointer it holds is
 * touched.  Never crashes; every refusal carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "oci/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const cts[] = {
    NULL,
    MT_OCI_INDEX,
    MT_OCI_MANIFEST,
    MT_DOCKER_LIST,
    MT_DOCKER_MANIFEST,
    "application/json",
    MT_DOCKER_SCHEMA1_SIGNED,
    "text/html",
};

static const char *const platforms[] = {
    "linux/amd64", "linux/arm64", "linux/arm/v6", "linux/amd64/v3", "unknown/unknown",
};

static void walk_manifest(const struct manifest *m)
{
	struct err e = ERR_INIT;
	const struct descriptor *d;
	struct platform p;
	size_t sum = 0;

	for (size_t i = 0; i < m->n_layers; i++)
		sum += strlen(m->layers[i].media_type) + strlen(m->layers[i].digest.s);
	for (size_t i = 0; i < m->n_manifests; i++)
		sum += strlen(m->manifests[i].media_type);
	if (m->kind == MANIFEST_IMAGE) {
		if (manifest_check_image(m, &e) < 0 && !e.msg[0])
			abort();
		sum += strlen(m->config.digest.s);
	}
	for (size_t i = 0; m->kind == MANIFEST_INDEX && i < sizeof(platforms) / sizeof(*platforms);
	     i++) {
		platform_parse(platforms[i], &p, &e);
		if (manifest_select(m, &p, &d, &e) == 0 && !d->has_platform)
			abort();
	}
	if (sum == 1)
		abort(); /* keeps the loop from being optimised away */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	struct manifest *m = NULL;
	struct image_config *c = NULL;

	if (size == 0)
		return 0;
	const char *ct = cts[data[0] % (sizeof(cts) / sizeof(*cts))];
	if (manifest_parse(data + 1, size - 1, ct, &m, &e) == 0) {
		walk_manifest(m);
		manifest_free(m);
	} else if (!e.msg[0]) {
		abort();
	}
	err_clear(&e);
	if (image_config_parse(data + 1, size - 1, &c, &e) == 0) {
		for (size_t i = 0; i < c->n_env; i++)
			if (!c->env[i])
				abort();
		for (size_t i = 0; i < c->n_labels; i++)
			if (!c->label_keys[i] || !c->label_values[i])
				abort();
		if (c->env && c->env[c->n_env])
			abort();
		image_config_free(c);
	} else if (!e.msg[0]) {
		abort();
	}
	return 0;
}

/* What other commands share with `container image` (applets/image.c). */
#ifndef APPLETS_IMAGE_H
#define APPLETS_IMAGE_H

#include <jansson.h>

struct buf;
struct digest;
struct err;
struct platform;

#define IMAGE_REF_MAX 512

/* The platform of --platform, or of --os/--arch on top of the host's
 * (any may be NULL).  *given = whether the user named one at all. */
int image_cli_platform(const char *plat, const char *os, const char *arch, struct platform *p,
		       int *given, struct err *e);

/* A stored image ready to run: query resolved in the local index (ref
 * receives its full name), its manifest for plat, the OCI "config" object
 * (*config, new reference) and its root-filesystem snapshot (path appended
 * to snap; made now if missing).  -ENOENT "No such image: query" when it
 * is not stored or has no plat variant: the caller may pull and ask again. */
int image_local(const char *root, const char *query, const struct platform *plat,
		char ref[IMAGE_REF_MAX], struct digest *manifest, struct buf *snap, json_t **config,
		struct err *e);

#endif

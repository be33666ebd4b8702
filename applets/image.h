/* What other commands share with `container image` (applets/image.c). */
#ifndef APPLETS_IMAGE_H
#define APPLETS_IMAGE_H

struct err;
struct platform;

/* The platform of --platform, or of --os/--arch on top of the host's
 * (any may be NULL).  *given = whether the user named one at all. */
int image_cli_platform(const char *plat, const char *os, const char *arch, struct platform *p,
		       int *given, struct err *e);

#endif

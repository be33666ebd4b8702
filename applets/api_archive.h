/* docker cp and export endpoints (applets/api_archive.c), listed in
 * applets/api_router.c's table. */
#ifndef APPLETS_API_ARCHIVE_H
#define APPLETS_API_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

struct api_call;
struct buf;
struct err;

void api_archive_get_h(struct api_call *c);   /* GET and HEAD */
void api_archive_put_h(struct api_call *c);
void api_export_h(struct api_call *c);

/* The guest's stat object (untrusted) checked and rebuilt as Docker's
 * X-Docker-Container-Path-Stat value (base64 of compact JSON), appended to
 * out; *is_dir from its mode.  -EBADMSG when malformed. */
int api_archive_stat(const char *p, size_t n, struct buf *out, bool *is_dir, struct err *e);

#endif

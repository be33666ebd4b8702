/* Mounts through the Docker API (issue #8): the create request's
 * HostConfig.Binds, HostConfig.Mounts, HostConfig.Tmpfs and
 * Config.Volumes turned into applets/mounts.h's struct mount_list by the
 * same parsers `container run` uses, and a container's resolved "mounts"
 * (config.json) shown in Docker's inspect/list shape.
 *
 * Called by applets/ctrspec.c (parse; pure, fuzzed with it by
 * t/fuzz/ctrspec_parse.c) and applets/api_ctrjson.c (the JSON shape).
 * Resolution (volumes created, bind sources pinned) stays mounts_resolve's,
 * run by ctrspec_build on the thread pool. */
#ifndef APPLETS_API_MOUNTS_H
#define APPLETS_API_MOUNTS_H

#include <jansson.h>

struct err;
struct mount_list;

/* req: the whole create body; hc: its HostConfig (may be NULL).  Appends
 * to out and runs mounts_check.  -EINVAL (or -E2BIG/-ENAMETOOLONG) with a
 * message for the client (HTTP 400). */
int api_mounts_parse(const json_t *req, const json_t *hc, struct mount_list *out,
		     struct err *e);

/* Docker's "Mounts" list (Type, Name, Source, Destination, Driver, Mode,
 * RW, Propagation) from config.json's "mounts" (NULL = none): a new array. */
json_t *api_mounts_json(const json_t *mounts);

#endif

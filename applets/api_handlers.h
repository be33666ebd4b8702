/* The container and exec endpoints of the Docker Engine API (issue #6),
 * listed in applets/api_router.c's table:
 *   applets/api_containers.c  create, start, stop, kill, resize, delete,
 *                             prune
 *   applets/api_attach.c      attach (hijacked) and wait
 *   applets/api_ctrjson.c     list (GET /containers/json) and inspect
 *   applets/api_logs.c        logs (from stdio.log; follow)
 *   applets/api_exec.c        exec create/start/inspect/resize
 *   applets/api_images.c      images: list, inspect, pull, push, tag, delete
 *   applets/api_imgio.c       images: save, load, prune
 *   applets/api_events.c      /events and the container events
 * The live side (runtime links, subscribers) is applets/api_ctr.h. */
#ifndef APPLETS_API_HANDLERS_H
#define APPLETS_API_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "applets/bundle.h"

struct api_call;
struct api_sup;
struct buf;
struct err;
struct images;

void api_ctr_create(struct api_call *c);
void api_ctr_start_h(struct api_call *c);
void api_ctr_stop_h(struct api_call *c);
void api_ctr_kill_h(struct api_call *c);
void api_ctr_resize_h(struct api_call *c);
void api_ctr_delete_h(struct api_call *c);
void api_ctr_rename_h(struct api_call *c);   /* POST /containers/{id}/rename */
void api_ctr_prune_h(struct api_call *c);
void api_ctr_wait_h(struct api_call *c);
void api_ctr_attach_h(struct api_call *c);
void api_ctr_list_h(struct api_call *c);
void api_ctr_inspect_h(struct api_call *c);
void api_ctr_logs_h(struct api_call *c);
void api_ctr_stats_h(struct api_call *c);   /* applets/api_stats.c */
void api_system_df_h(struct api_call *c);   /* applets/api_sysdf.c */
/* extension: the VM console log (applets/api_bootlog.c) */
void api_ctr_bootlog_h(struct api_call *c);
void api_exec_create_h(struct api_call *c);
void api_exec_start_h(struct api_call *c);
void api_exec_inspect_h(struct api_call *c);
void api_exec_resize_h(struct api_call *c);
void api_image_list_h(struct api_call *c);
void api_image_inspect_h(struct api_call *c);
void api_image_create_h(struct api_call *c);
void api_image_tag_h(struct api_call *c);
void api_image_delete_h(struct api_call *c);
/* applets/api_imgio.c: save, load, prune; api_images.c: push */
void api_image_push_h(struct api_call *c);
void api_image_get_h(struct api_call *c);
void api_image_load_h(struct api_call *c);
void api_image_prune_h(struct api_call *c);
/* Delete the blobs and root file systems that no name and no container
 * reaches (-EBUSY while a pull writes: nothing lost, next time). */
struct api_gc_result {
	size_t blobs, snapshots;
	unsigned long long freed;
};
/* ?filters (["v"] or {"v": true} lists) with keys among keys; NULL when
 * absent; -1 with the 400 answered. */
int api_image_filters(struct api_call *c, const char *const *keys, json_t **out);
/* Whether entry en passes filters f: dangling, until, label, label!,
 * reference. */
struct images_entry;
struct store;
int api_image_match(const json_t *f, struct store *s, const struct images_entry *en,
		    bool *hit, struct err *e);
int api_image_gc(const char *root, const struct images *im, struct api_gc_result *out,
		 struct err *e);
/* The names of entry i of im (familiar form, as RepoTags), when i is the
 * first entry of its digest; NULL for the later ones (one row a digest). */
struct images;
json_t *api_image_tags(const struct images *im, size_t i);
void api_events_h(struct api_call *c);
/* A container event to every /events listener and the ring; labels may
 * be NULL, exit_code -1 = none (die carries it). */
void api_events_emit(struct api_sup *s, const char *action, const char *id, const char *name,
		     const char *image, const json_t *labels, int exit_code);
void api_events_free(struct api_sup *s);
/* Free the exec records (at shut-down, after the loop ended). */
struct api_sup;
void api_exec_free_all(struct api_sup *s);

/* ---- shared by the handlers ---- */

/* Path parameter i resolved to a container id (full id, name, unique
 * prefix); on failure the 404/400 is already answered and -1 returned. */
int api_param_ctr(struct api_call *c, size_t i, char id[BUNDLE_ID_LEN + 1]);
/* Path parameter i as a C string (appended to out). */
void api_param_str(const struct api_call *c, size_t i, struct buf *out);
/* Query parameter key as a long; dflt when absent, -EINVAL when not a number. */
int api_query_long(const struct api_call *c, const char *key, long dflt, long *out);
/* The HTTP head of a hijacked stream (101 with Upgrade: tcp when the
 * client asked, else 200), its media type by tty. */
void api_hijack_head(struct api_call *c, bool tty, struct buf *out);
/* Append one stream frame: Docker's 8-byte header (fd, 0, 0, 0, size
 * big-endian) then the bytes, or the bytes alone with tty. */
void api_frame(struct buf *out, bool tty, int fd, const void *p, size_t n);
/* Whether the container's process has a terminal (config.json). */
bool api_ctr_tty(const char *id);

#endif

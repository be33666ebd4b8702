/* Named and anonymous volumes on disk (issue #8):
 *
 *   $DATA/volumes/<name>/volume.json   metadata, written atomically
 *   $DATA/volumes/<name>/volume.ext4   a sparse ext4 image (oci/ext4.h's
 *                                      writer): VOLUME_DEFAULT_SIZE apparent,
 *                                      blocks allocated as the guest writes
 *   $DATA/volumes/.lock                held while creating or removing
 *
 * volume.json: { "name": "pgdata", "created": "RFC3339Nano",
 *   "driver": "local", "size": bytes, "labels": { }, "options": { },
 *   "anonymous": false }
 *
 * Inside the image the data lives in /_data (created by the guest on first
 * use, with the image's content copied in), so the workload never sees
 * lost+found: database initialisers refuse a non-empty directory.
 *
 * Used by the volume endpoints (applets/api_volumes.c), /system/df, by
 * mounts_resolve and mounts_plan (applets/mounts_host.c), and by container
 * removal; the `container volume` commands go through the API. */
#ifndef APPLETS_VOLUME_STORE_H
#define APPLETS_VOLUME_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct buf;
struct err;

#define VOLUME_DEFAULT_SIZE (64ULL << 30)   /* sparse: costs nothing until written */
#define VOLUME_MIN_SIZE (16ULL << 20)
#define VOLUME_MAX_SIZE (1ULL << 50)
#define VOLUME_JOURNAL_BLOCKS 8192          /* at most 32 MiB, allocated as used */
#define VOLUME_ANON_LABEL "com.docker.volume.anonymous"

struct volume {
	char *name, *created, *driver;
	uint64_t size;
	json_t *labels, *options;   /* owned objects */
	bool anonymous;
};

void volume_free(struct volume *v);

/* <DATA>/volumes[/<name>[/<file>]] appended to out. */
int volume_path(const char *name, const char *file, struct buf *out, struct err *e);

/* Create a volume: -EEXIST if it exists.  size 0 = the default; labels and
 * options may be NULL (borrowed).  name NULL = a random 64-hex name,
 * returned in *made (owned) when made is not NULL. */
int volume_create(const char *name, uint64_t size, const json_t *labels, const json_t *options,
		  bool anonymous, char **made, struct err *e);

/* Create name with defaults unless it exists: 1 created, 0 existed. */
int volume_ensure(const char *name, struct err *e);

/* -ENOENT "no such volume: NAME" */
int volume_load(const char *name, struct volume *out, struct err *e);

/* The volume names, sorted; NULL-terminated, owned (free each and the array). */
int volume_names(char ***out, size_t *n, struct err *e);

/* Containers (full ids) whose config.json mounts the volume; running is
 * set to whether any of them is running.  Owned vector, NULL-terminated. */
int volume_users(const char *name, char ***ids, bool *running, struct err *e);

/* Every volume's users in one pass over the containers (what a request
 * that looks at many volumes computes once):
 *   { "<volume>": { "ids": [ "<ctr id>", … ], "running": bool } }
 * a volume no container uses has no entry.  *out owned. */
int volume_users_map(json_t **out, struct err *e);

/* A running container other than except_id (may be NULL) that mounts the
 * volume: 1 with its id in out, 0 none.  A volume is a disk: QEMU would
 * refuse a second writer anyway, this says why in words. */
int volume_running_user(const char *name, const char *except_id, char out[65], struct err *e);

/* Remove a volume.  In use by a container: -EBUSY naming it, unless force
 * and none of its users is running. */
int volume_remove(const char *name, bool force, struct err *e);

/* Remove every volume no container uses for which want says yes (map:
 * the users map, for filters such as dangling), under one lock and one
 * scan of the containers; *gone (owned) gets their names, *space the
 * bytes their images held.  The one prune loop (POST /volumes/prune). */
typedef bool (*volume_want_fn)(const struct volume *v, const json_t *map, void *arg);
int volume_prune(volume_want_fn want, void *arg, json_t **gone, long long *space,
		 struct err *e);

/* Bytes the volume's sparse image holds on disk (0 when unreadable). */
long long volume_allocated(const char *name);

/* Where the volume's data is, as inspect, Mounts and /system/df show it:
 * its volume.ext4 (a disk image, not a directory: nothing to mount on the
 * host). */
int volume_mountpoint(const char *name, struct buf *out, struct err *e);

/* The volume as `volume inspect` prints it (docker's shape plus Size). */
json_t *volume_json(const struct volume *v);

#endif

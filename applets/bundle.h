/* A container's directory on disk, <DATA>/containers/<id>/ (DESIGN.md
 * "State on disk"): what to run (config.json, written once by whoever
 * creates the container: `container run` today, the API server in #6) and
 * what happened (state.json, rewritten by the container's runtime role).
 *
 *   config.json   this file's struct bundle_config (schema below)
 *   state.json    struct bundle_state
 *   rw.ext4       the writable disk (made by the runtime at start)
 *   stdio.log     the workload's stdout/stderr, Docker json-file lines:
 *                 {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}
 *   boot.log      the VM console: kernel and init messages, QEMU errors
 *   ports.json    published ports as bound by the runtime (applets/network.h)
 *   runtime.log   the runtime role's own messages (-d runs)
 *   restart.json  the restart policy and its count (applets/api_restart.h;
 *                 absent = "no"), written by the API server only
 *
 * Every JSON file is written atomically (lib/fs.h); one that does not parse
 * is an error naming the file, never silently replaced.
 *
 * config.json:
 *   { "id": "<64 hex>", "name": "web1", "created": "RFC3339Nano",
 *     "image": { "ref": "docker.io/library/alpine:latest",
 *                "manifest": "sha256:…",        the platform manifest
 *                "snapshot": "/…/snapshots/<hex>.ext4" },
 *     "vm": { "arch": "x86_64"|"aarch64", "cpus": 1, "memory_mib": 256,
 *             "kernel": "/path" | null,      null = the resolved default
 *             "kernel_args": ["…"],          appended to the command line
 *             "rw_size": bytes },            the writable disk's size
 *     "guest": { … },   the guest boot document of initrd/guest.h minus
 *                       what the runtime adds at start (clock_ns,
 *                       image_dev, rw_dev, fstype): hostname, read_only,
 *                       init, test, image (OCI config), process (the
 *                       user's overrides, incl. tty/stdin/rows/cols)
 *     "auto_remove": false,                  --rm
 *     "labels": { "k": "v" },
 *     "network": { … } }                     absent = --network none; the
 *                                              shape is in applets/network.h
 *     "mounts": [ … ] }     bind mounts, volumes, tmpfs (applets/mounts.h);
 *                           absent when there are none
 *
 * state.json:
 *   { "status": "created"|"running"|"exited",
 *     "runtime_pid": 1234, "vmm_pid": 1235,   0 when not running
 *     "started_at": "…", "finished_at": "…",  "" when not yet
 *     "exit_code": 0,                          the workload's (128+N for a
 *                                              signal); -1 when unknown
 *     "error": "",                             why it could not run/finish
 *     "timings": { "create": 9.5, "prep": 1.2, "spawn": 30.5, "boot": 1800.0,
 *                  "start": 40.1, "run": 12.0, "teardown": 25.3,
 *                  "rss_kib": 5120 } }       the last start, in ms (phases
 *                                              as the runtime's
 *                                              CONTAINER_TIMINGS line);
 *                                              absent before one
 *
 * Used by applets/run.c (creates), applets/runtime.c (runs) and the
 * logs command; the API server (#6) will own creation.
 */
#ifndef APPLETS_BUNDLE_H
#define APPLETS_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct buf;
struct err;

#define BUNDLE_ID_LEN 64
#define BUNDLE_NAME_MAX 128

struct bundle_config {
	char id[BUNDLE_ID_LEN + 1];
	char *name;
	char *created;
	char *image_ref, *image_manifest, *snapshot;
	char *arch;           /* "x86_64" | "aarch64" */
	unsigned cpus, memory_mib;
	char *kernel;         /* NULL = default */
	char **kernel_args;   /* NULL-terminated, may be NULL */
	uint64_t rw_size;
	json_t *guest;        /* owned reference */
	bool auto_remove;
	json_t *labels;       /* owned reference, object (may be empty) */
	json_t *network;      /* owned reference, or NULL: applets/network.h */
	json_t *mounts;       /* owned reference, array (applets/mounts.h), or NULL */
};

enum { BUNDLE_T_CREATE, BUNDLE_T_PREP, BUNDLE_T_SPAWN, BUNDLE_T_BOOT, BUNDLE_T_START, BUNDLE_T_RUN,
       BUNDLE_T_TEARDOWN, BUNDLE_T__COUNT };

enum bundle_status { BUNDLE_CREATED = 0, BUNDLE_RUNNING, BUNDLE_EXITED };

struct bundle_state {
	enum bundle_status status;
	long runtime_pid, vmm_pid;
	char started_at[40], finished_at[40];
	int exit_code;
	char error[512];
	/* Phases of the last start in ms (BUNDLE_T_*), and the runtime's peak
	 * RSS; has_timings false = none recorded (no "timings" object). */
	bool has_timings;
	double timings_ms[BUNDLE_T__COUNT];
	long rss_kib;
};

/* "create", "prep", "spawn", ... (the JSON keys and the timings line's names). */
extern const char *const bundle_timing_names[BUNDLE_T__COUNT];

/* <DATA>/containers, appended to out. */
int bundle_root(struct buf *out, struct err *e);
/* <DATA>/containers/<id>[/<file>], appended to out (file may be NULL). */
int bundle_path(const char *id, const char *file, struct buf *out, struct err *e);

/* A new random 64-hex id (getrandom / arc4random). */
void bundle_new_id(char out[BUNDLE_ID_LEN + 1]);
/* Docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, <= 128. */
bool bundle_name_valid(const char *name);
/* A Docker-style random name ("adjective_surname"), owned. */
char *bundle_random_name(void);
/* bundle_random_name, retried while an existing container holds it (the
 * 52x48 names collide after a few dozen containers); bundle_create still
 * refuses the rare name a parallel create took meanwhile. */
char *bundle_unused_name(void);

/* Create <DATA>/containers/<id>/ with config.json and a "created"
 * state.json.  The name must be unique among existing bundles (checked
 * under a lock on the containers directory): -EEXIST naming the holder. */
int bundle_create(const struct bundle_config *c, struct err *e);

int bundle_config_load(const char *id, struct bundle_config *out, struct err *e);
/* Rewrite an existing bundle's config.json (atomically): the Docker API's
 * network connect/disconnect of a created container (applets/apinet.c). */
int bundle_config_save(const struct bundle_config *c, struct err *e);
void bundle_config_free(struct bundle_config *c);
/* Give the container another name, unique as at create (-EEXIST naming
 * the holder; its own name again is a no-op): the Docker API's rename.
 * out (may be NULL) receives the config as saved, on success only. */
int bundle_rename(const char *id, const char *name, struct bundle_config *out, struct err *e);
int bundle_state_load(const char *id, struct bundle_state *out, struct err *e);
int bundle_state_save(const char *id, const struct bundle_state *s, struct err *e);

/* Resolve a full id, a unique id prefix or a name to the full id (out).
 * -ENOENT "no such container: Q", -EINVAL "ambiguous …". */
int bundle_resolve(const char *query, char out[BUNDLE_ID_LEN + 1], struct err *e);

/* Remove the container's directory and everything in it (renamed out of
 * sight first, so that a kill half-way leaves no half container). */
int bundle_remove(const char *id, struct err *e);
/* Remove what creators and removers killed half-way left (hidden .new-
 * and .gone- directories); the number removed.  The API server's
 * reconcile pass calls it at start. */
int bundle_sweep(struct err *e);
/* nftw's callback of both: an entry already gone (ENOENT) counts as
 * removed (a sweep may race a live bundle_remove).  For tests. */
struct stat;
struct FTW;
int bundle__rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* RFC 3339 with nanoseconds, UTC, of now (out >= 40 bytes). */
void bundle_now(char *out, size_t n);

#endif

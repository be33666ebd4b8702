/* Mounts of a container (issue #8): bind mounts of host paths, named and
 * anonymous volumes, tmpfs.
 *
 * Three stages, three shapes:
 *
 * 1. The user's words (`-v`, `--mount`, `--tmpfs`; the API's
 *    HostConfig.Binds/Mounts/Tmpfs through applets/api_mounts.c) parsed into struct mount_spec by the
 *    pure functions below (applets/mounts.c, tested by t/unit/mounts.c,
 *    fuzzed by t/fuzz/mount_spec.c).
 * 2. Resolved at create time (mounts_resolve, applets/mounts_host.c):
 *    bind sources made absolute with realpath(3) and pinned by device and
 *    inode, volumes created on first use, the image's VOLUMEs given
 *    anonymous volumes, recorded in the container's config.json as
 *    "mounts":
 *      [ { "type": "bind", "source": "/real/path", "target": "/ctr",
 *          "readonly": false, "file": false, "cached": false, "dev": N, "ino": N },
 *        { "type": "volume", "name": "data", "target": "/var/lib/db",
 *          "readonly": false, "anonymous": false, "nocopy": false },
 *        { "type": "tmpfs", "target": "/tmp", "size": 0, "mode": 1023,
 *          "readonly": false, "exec": false } ]
 *    sorted so that a parent target comes before the mounts inside it.
 * 3. At start (mounts_plan, applets/mounts_host.c, called by the runtime):
 *    one VM share per distinct host directory (a single file shares a
 *    directory of its own in the bundle holding a hard link to it, or its
 *    parent when it cannot be linked), one VM disk per volume, and the
 *    guest's "mounts" list
 *    (initrd/guest.h) saying what to mount where.
 */
#ifndef APPLETS_MOUNTS_H
#define APPLETS_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct vm_config;
struct vm_disk;
struct vm_share;

#define MOUNTS_MAX 32          /* per container */
#define MOUNTS_PATH_MAX 4096   /* a target or source path */

enum mount_type { MOUNT_BIND = 1, MOUNT_VOLUME, MOUNT_TMPFS };

struct mount_spec {
	enum mount_type type;
	char *source;      /* bind: host path as given; volume: name, NULL = anonymous */
	char *target;      /* absolute, cleaned, never "/" */
	bool readonly;
	bool create_src;   /* bind from -v: a missing host directory is created */
	bool nocopy;       /* volume: do not copy the image's content in */
	bool exec;         /* tmpfs: allow exec (docker's default is noexec) */
	bool cached;       /* bind: "cached"/"delegated" consistency: the guest
			    * may cache (faster, host changes seen late) */
	uint64_t size;     /* tmpfs: bytes, 0 = the kernel's default (half of RAM) */
	unsigned mode;     /* tmpfs: permission bits; 0 = 01777 */
};

struct mount_list {
	struct mount_spec *v;
	size_t n;
};

void mount_list_free(struct mount_list *l);

/* `-v [SOURCE:]TARGET[:OPTIONS]`: SOURCE absolute (a host path, created
 * when missing) or a volume name; no SOURCE = an anonymous volume.
 * OPTIONS: ro, rw, nocopy; cached and delegated (Docker Desktop's words:
 * the share may be cached in the guest); z, Z, propagation words and
 * consistent (accepted and ignored: nothing to relabel or propagate). */
int mounts_parse_volume_flag(const char *s, struct mount_list *l, struct err *e);

/* `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,…]`
 * (docker's keys and aliases; fields may be double-quoted). */
int mounts_parse_mount_flag(const char *s, struct mount_list *l, struct err *e);

/* `--tmpfs TARGET[:size=…,mode=…,ro,exec,…]`. */
int mounts_parse_tmpfs_flag(const char *s, struct mount_list *l, struct err *e);

/* All three flags of a command line (each a NULL-terminated list, may be
 * NULL), then mounts_check. */
int mounts_parse_flags(const char *const *volume, const char *const *mount,
		       const char *const *tmpfs, struct mount_list *l, struct err *e);

/* Docker's size syntax: a number with an optional b, k, m, g, t, p unit
 * (binary multiples, "kb"/"KiB" spellings too). */
int mounts_parse_size(const char *s, uint64_t *out, struct err *e);

/* Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at most 128). */
bool mounts_volume_name_valid(const char *name);

/* Sort by target depth (parents first; stable otherwise) and refuse two
 * mounts on one target ("duplicate mount point"). */
int mounts_check(struct mount_list *l, struct err *e);

/* --- config.json ----------------------------------------------------------- */

/* The resolved mount list as config.json's "mounts" (stage 2 shape); the
 * inverse is only what mounts_plan needs, so there is no decoder here. */

/* Resolve l for a new container (stage 2): returns the "mounts" array in
 * *out (owned).  image_volumes: the image config's "Volumes" object, or
 * NULL.  Creates host directories (-v), named volumes used for the first
 * time and anonymous volumes; on failure removes the anonymous volumes it
 * created. */
int mounts_resolve(const struct mount_list *l, const json_t *image_volumes, json_t **out,
		   struct err *e);

/* Remove the anonymous volumes listed in a container's "mounts" (docker's
 * `rm -v` and `--rm`).  Errors are reported through e after trying all. */
int mounts_remove_anonymous(const json_t *mounts, struct err *e);

/* Stage 3: what one start needs.  Strings are owned by the plan. */
struct mount_plan {
	struct mount_plan_share {
		char *tag, *path;
		bool read_only, cached;   /* each: true when every use asks */
	} *shares;
	size_t n_shares;
	struct mount_plan_disk {
		char *path, *serial;
	} *disks;
	size_t n_disks;
	json_t *guest;   /* the guest document's "mounts" array */
};

/* From config.json's "mounts" (NULL = none): checks that every bind
 * source is still the directory or file pinned at create time (-ESTALE
 * naming it otherwise), that every volume exists and that no running
 * container but self_id (may be NULL) has it attached (-EBUSY). */
int mounts_plan(const json_t *mounts, const char *self_id, struct mount_plan *out,
		struct err *e);
void mounts_plan_free(struct mount_plan *p);

/* Append the plan's disks and shares to vc: disks has room for
 * vc->n_disks + MOUNTS_MAX entries and already holds vc's, shares for
 * MOUNTS_MAX.  vc then borrows strings from p until vm_create. */
void mounts_vm_config(const struct mount_plan *p, struct vm_config *vc, struct vm_disk *disks,
		      struct vm_share *shares);

/* The VM shares with virtio-fs (vm_share_fs_pick): the guest mounts each
 * share as "virtiofs" instead of "9p" (same tags, same binds). */
void mounts_plan_virtiofs(struct mount_plan *p);

#endif

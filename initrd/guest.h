/* The guest init's pure parts: the boot configuration (kernel command line
 * and JSON document), user/group resolution from the image's /etc/passwd
 * and /etc/group, the environment and ENTRYPOINT/CMD composed exactly as
 * Docker does.  No system calls here: these run (and are tested) on the
 * host too, and the host may use them to compose the same way.  Called by
 * initrd/init.c; tested by t/unit/initrd_user.c and t/unit/initrd_cmdline.c.
 *
 * Boot configuration, in two places:
 *
 * 1. The kernel command line (/proc/cmdline), for what init needs before
 *    the agent channel is up, and for tests that boot without a host agent:
 *      container.agent=virtio[:NAME] | vsock[:PORT] | fd:N | none
 *                       the agent channel (default: the virtio-serial port
 *                       named "container.agent" if present, else none;
 *                       fd:N is an inherited descriptor, for running init
 *                       by hand in namespaces in tests)
 *      container.config=BASE64   the JSON document below (standard or URL
 *                       alphabet, padding optional); then init does not
 *                       wait for CONFIG over the agent channel
 *      container.clock=SEC[.FRAC]  wall clock (Unix time) to set at once
 *      container.debug[=0|1]    verbose init messages on the console
 *      container.test=MODES      malicious-guest test mode (see below)
 *    Unknown container.* names are reported (logged), not fatal.  The same
 *    parameters after "--" (which the kernel passes to init as arguments)
 *    count too and take precedence.
 *
 * 2. The JSON document (CONFIG message, or container.config):
 *      { "hostname": "web1",                  default "container"
 *        "clock_ns": 1700000000000000000,     Unix time in ns, set on arrival
 *        "read_only": false,    --read-only: the image under a read-only
 *                               overlay (no writable disk needed)
 *        "image_dev": "/dev/vda", "rw_dev": "/dev/vdb", "fstype": "ext4",
 *                               a disk is a /dev path or a virtio-blk
 *                               serial (struct vm_disk's serial)
 *        "hosts": ["10.0.0.5 db"],            extra /etc/hosts lines
 *        "dns": { "nameservers": ["10.0.0.1"], "search": [], "options": [] },
 *        "interfaces": [ { "name": "eth0", "address": "10.0.2.15/24",
 *                          "gateway": "10.0.2.2", "mtu": 1500 } ],
 *                               static IPv4 (no DHCP in the guest); lo is
 *                               always up
 *        "mounts": [            in order, parents first (applets/mounts.h):
 *          { "type": "9p", "source": "bind0", "target": "/src",
 *            "readonly": false, "file": "app.conf", "cached": false },
 *                               the 9p share with that tag; "file": bind
 *                               that one file of it; "cached": let the
 *                               guest cache it (-v …:cached)
 *          { "type": "virtiofs", ... }   the same, shared with virtio-fs
 *                               (the host's virtiofsd decides caching)
 *          { "type": "volume", "source": "vol0", "target": "/data",
 *            "readonly": false, "copy": true },   the disk with that
 *                               serial; its /_data is what is mounted;
 *                               "copy": fill a new /_data from the image
 *          { "type": "tmpfs", "target": "/tmp", "size": 0, "mode": 1023,
 *            "readonly": false, "exec": false } ],
 *        "init": true,          a forwarding/reaping PID 1 in the container's
 *                               pid namespace (docker --init); false: the
 *                               workload itself is PID 1 there
 *        "test": "flood",       as container.test
 *        "image": { ...the OCI image config's "config" object: "Entrypoint",
 *                   "Cmd", "Env", "User", "WorkingDir" },
 *        "process": {           the user's overrides (docker run flags)
 *          "entrypoint": [..],  present (even []) = --entrypoint given
 *          "cmd": [..], "env": ["K=V", "K"],  "K" alone unsets K
 *          "user": "name:group", "groups": ["audio", "1234"],
 *          "workdir": "/src", "tty": false, "stdin": false,
 *          "rows": 24, "cols": 80,
 *          "rlimits": [ { "type": "nofile", "soft": 1024, "hard": 4096 } ] } }
 *    Every field is optional; unknown fields are ignored (newer hosts).
 *
 * Test modes (container.test / "test", comma-separated), for the host's
 * "malicious guest" check: after HELLO the guest sends, in the order given,
 *   unknown   frames of unknown types (framing intact)
 *   badfield  a known type with a malformed payload (framing intact)
 *   oversize  a header announcing a 4 GiB payload (framing lost)
 *   garbage   random bytes (framing lost)
 *   flood     STDOUT frames without end (and ignores flow control) until
 *             the channel fails or 1 GiB has been sent
 * then powers off.  Except
 *   copyraw   the guest runs normally but lies to docker cp: an archive of a
 *             file is the file's own bytes (a test puts a hostile tar there)
 * From the command line this happens right after HELLO
 * (no CONFIG needed); from the JSON, right after CONFIG.  Modes after one
 * that loses the framing still run.
 */
#ifndef INITRD_GUEST_H
#define INITRD_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define GUEST_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define GUEST_CONFIG_MAX (1u << 20)   /* the JSON document */

/* A NULL-terminated, owned vector of owned strings; NULL = absent. */
void guest_strv_free(char **v);
size_t guest_strv_len(char *const *v);
char **guest_strv_dup(char *const *v);

/* --- kernel command line --------------------------------------------- */

struct guest_cmdline {
	char *agent;          /* NULL = auto */
	char *config;         /* decoded JSON text (NUL-terminated), or NULL */
	size_t config_len;
	bool has_clock;
	int64_t clock_ns;
	bool debug;
	char *test;           /* NULL = normal operation */
	char *unknown;        /* space-separated unknown container.* names, or NULL */
};

/* Parse the command line s[0..len) (as in /proc/cmdline: quoting as the
 * kernel does it, stops at "--").  Errors: malformed values (-EINVAL). */
int guest_cmdline_parse(const char *s, size_t len, struct guest_cmdline *out, struct err *e);
void guest_cmdline_free(struct guest_cmdline *c);

/* --- the JSON boot configuration -------------------------------------- */

struct guest_rlimit {
	int resource;         /* RLIMIT_* number (Linux values) */
	uint64_t soft, hard;  /* UINT64_MAX = unlimited */
};

struct guest_process_config {
	/* from the image config */
	char **img_entrypoint, **img_cmd, **img_env;
	char *img_user, *img_workdir;
	/* the user's overrides */
	char **entrypoint;    /* NULL = not given */
	char **cmd, **env, **groups;
	char *user, *workdir;
	bool tty, open_stdin;
	unsigned rows, cols;
	struct guest_rlimit *rlimits;
	size_t n_rlimits;
};

struct guest_iface {
	char *name;
	bool has_mac;         /* find the NIC by MAC (its kernel name may differ) */
	uint8_t mac[6];
	uint8_t addr[4];
	unsigned prefix;      /* 0..32 */
	bool has_gateway;
	uint8_t gateway[4];
	unsigned mtu;         /* 0 = leave as is */
};

enum guest_mount_type { GUEST_MOUNT_9P = 1, GUEST_MOUNT_VOLUME, GUEST_MOUNT_TMPFS, GUEST_MOUNT_VIRTIOFS };

struct guest_mount {
	enum guest_mount_type type;
	char *source;         /* 9p / virtio-fs tag or disk serial */
	char *target;         /* absolute, no "." or ".." components */
	char *file;           /* 9p / virtio-fs: one file of the share, or NULL */
	bool readonly, copy, exec;
	bool cached;          /* 9p: cache=loose instead of cache=mmap */
	uint64_t size;        /* tmpfs bytes, 0 = kernel default */
	unsigned mode;        /* tmpfs */
};

#define GUEST_MOUNTS_MAX 64

#define GUEST_IFACES_MAX 16

struct guest_config {
	char *hostname;
	bool has_clock;
	int64_t clock_ns;
	bool read_only;
	char *image_dev, *rw_dev, *fstype;
	char **hosts;
	char **dns_servers, **dns_search, **dns_options;
	struct guest_iface *ifaces;
	size_t n_ifaces;      /* <= GUEST_IFACES_MAX */
	bool init;
	char *test;
	struct guest_process_config proc;
	struct guest_mount *mounts;
	size_t n_mounts;
};

/* Parse the JSON document (at most GUEST_CONFIG_MAX bytes).  Fields of the
 * wrong type, strings with NUL, a hostname that is not a valid host name,
 * unknown rlimit names are errors (-EINVAL). */
int guest_config_parse(const char *json, size_t len, struct guest_config *out,
		       struct err *e);
void guest_config_free(struct guest_config *c);

/* Internal (initrd/guest_mounts.c): the "mounts" list into c. */
int guest__mounts_parse(const void *json_array, struct guest_config *c, struct err *e);
void guest__mounts_free(struct guest_config *c);

/* "nofile" / "RLIMIT_NOFILE" -> RLIMIT_NOFILE (Linux numbering); -1. */
int guest_rlimit_parse(const char *name);

/* --- users and groups ------------------------------------------------- */

struct guest_user {
	uint32_t uid, gid;
	uint32_t *sgids;      /* supplementary groups, owned */
	size_t n_sgids;
	char *home;           /* "/" when passwd has no entry */
	char *name;           /* matched passwd name, or NULL */
};

/* Resolve a Docker user spec ("", "name", "uid", "name:group", "uid:gid",
 * ...) against passwd and group file contents (NULL = file absent), as
 * runc does: a name that passwd lacks is an error, a numeric uid or gid
 * that is absent is taken as is (gid then 0 / home "/"); supplementary
 * groups come from group membership only when no group was given; the
 * empty spec is uid 0.  extra ("--group-add": names or numbers) are
 * appended to the supplementary groups.  Errors -ENOENT (no such
 * user/group) and -EINVAL (malformed spec, id out of range). */
int guest_user_resolve(const char *spec, const char *passwd, const char *group,
		       char *const *extra, struct guest_user *out, struct err *e);
void guest_user_free(struct guest_user *u);

/* --- composition ------------------------------------------------------ */

/* Docker's ENTRYPOINT + CMD: the user's entrypoint (if given) replaces the
 * image's and drops the image's Cmd; [""] means "no entrypoint"; a user
 * command replaces the image's Cmd.  -EINVAL "no command specified" when
 * the result is empty. */
int guest_argv_compose(char *const *img_entrypoint, char *const *img_cmd,
		       char *const *entrypoint, char *const *cmd, char ***out,
		       struct err *e);

/* The process environment as Docker + runc build it: PATH (default),
 * HOSTNAME, TERM=xterm with a tty, then the image's Env and the user's
 * (same key replaces in place, a bare "KEY" unsets), then HOME from home
 * unless already set.  Never fails. */
char **guest_env_compose(char *const *img_env, char *const *env, const char *hostname,
			 bool tty, const char *home);

/* docker's ReplaceOrAppendEnvValues: base with over merged in (same key
 * replaced in place, new keys appended, bare "KEY" entries removed). */
char **guest_env_merge(char *const *base, char *const *over);

/* Value of key in a KEY=VALUE vector, or NULL. */
const char *guest_env_get(char *const *env, const char *key);

/* The working directory: the user's, else the image's, else "/"; must be
 * absolute (-EINVAL).  The result is cleaned of "." and "//". */
int guest_workdir(const char *workdir, const char *img_workdir, char **out, struct err *e);

/* Whether s is a valid host name (RFC 1123 labels, <= 253 bytes). */
bool guest_hostname_valid(const char *s);

#endif

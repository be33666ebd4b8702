/* A container's configuration from Docker's create request (issue #6):
 * the body of POST /containers/create (Docker Engine API 1.45's
 * ContainerConfig plus HostConfig) translated into a bundle
 * (applets/bundle.h).  Kept apart from the HTTP handler so that our own
 * CLI and the later network and volume work build on the same
 * translation.
 *
 * Two steps: ctrspec_parse checks and extracts the request (no I/O,
 * fuzzed by t/fuzz/ctrspec_parse.c; errors are the client's, HTTP 400);
 * ctrspec_build resolves the image in the local store (never pulls:
 * -ENOENT "No such image: X", which `docker run` answers by pulling and
 * retrying), makes sure its snapshot exists and composes the bundle.
 * ctrspec_build blocks on disk work (a first snapshot of a big image takes
 * seconds): the API server runs it on libuv's thread pool.
 *
 * Also the exec request (ctrspec_exec_parse), for the same reasons.
 *
 * Read: Image, Cmd, Entrypoint (null = the image's; [] or [""] = none),
 * Env, WorkingDir, User, Tty, OpenStdin, StdinOnce, Hostname, Labels,
 * HostConfig.{AutoRemove, Memory, NanoCpus, ReadonlyRootfs, Init,
 * ConsoleSize}, the networking fields through applets/apinet.h, and the
 * mounts (HostConfig.Binds/Mounts/Tmpfs, Volumes) through
 * applets/api_mounts.h, resolved by ctrspec_build (volumes created),
 * HostConfig.GroupAdd.
 *
 * Our extension, for what our CLI's `run` has and Docker has no field for
 * (any client may send it): a top-level object "ContainerVM" with
 *   "Kernel": "/abs/path"          boot this kernel (run --kernel)
 *   "KernelArgs": ["…"]            appended to its command line (--kernel-arg)
 *   "Volumes", "Mounts", "Tmpfs": ["…"]   -v, --mount, --tmpfs in our CLI's
 *                                  grammar (applets/mounts.h), added to Docker's
 *   "Publish": ["…"]               -p in our grammar ([IP:]HOST:CTR[/PROTO];
 *                                  an explicit 0.0.0.0 stays 0.0.0.0)
 *   "NoDns": true                  no nameserver in /etc/resolv.conf (--no-dns)
 *   "GuestTest": "…"               development: guest test modes (initrd/guest.h)
 * Everything else is ignored, as unknown fields must be. */
#ifndef APPLETS_CTRSPEC_H
#define APPLETS_CTRSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "applets/mounts.h"

struct bundle_config;
struct err;

#define CTRSPEC_BODY_MAX ((size_t)1 << 20)
#define CTRSPEC_DEFAULT_CPUS 2
#define CTRSPEC_DEFAULT_MEMORY_MIB 1024
#define CTRSPEC_MIN_MEMORY_MIB 64

struct ctrspec {
	char *image;          /* as the client named it */
	char *name;           /* NULL = a random one */
	char *platform;       /* "os/arch" or NULL = the host's */
	char *hostname;       /* NULL = the short id */
	char *kernel;         /* ContainerVM.Kernel or NULL */
	char *guest_test;     /* ContainerVM.GuestTest or NULL */
	json_t *kernel_args;  /* ContainerVM.KernelArgs (array) or NULL */
	json_t *process;      /* initrd/guest.h "process" overrides */
	json_t *labels;       /* object of strings */
	json_t *net;          /* networking, applets/apinet.h */
	struct mount_list mounts;   /* Binds, Mounts, Tmpfs, Volumes (applets/api_mounts.h) */
	unsigned cpus, memory_mib;
	bool auto_remove, read_only, init, tty, open_stdin, stdin_once;
};

/* body[0..len): the request's JSON; name: ?name= or NULL (a leading '/'
 * is dropped as Docker does).  -EINVAL with a message for the client. */
int ctrspec_parse(const char *body, size_t len, const char *name, const char *platform,
		  struct ctrspec *out, struct err *e);
void ctrspec_free(struct ctrspec *s);

/* Resolve the image under data_dir and fill bc (a new id and creation
 * time).  -ENOENT "No such image: X" when it is not stored. */
int ctrspec_build(const struct ctrspec *s, const char *data_dir, struct bundle_config *bc,
		  struct err *e);

/* The body of POST /containers/{id}/exec: Cmd (required, non-empty),
 * Env, User, WorkingDir, Tty, AttachStdin/Stdout/Stderr, ConsoleSize.
 * Fuzzed by the same target ('E' first).  -EINVAL with a message. */
struct ctrspec_exec {
	json_t *cmd, *env;          /* arrays of strings without NUL */
	char *user, *workdir;       /* NULL = the container's */
	bool tty, in, out, err;
	unsigned rows, cols;
};

int ctrspec_exec_parse(const char *body, size_t len, struct ctrspec_exec *out, struct err *e);
void ctrspec_exec_free(struct ctrspec_exec *x);

#endif

/* Internals of the QEMU backend shared between its files and its tests:
 * the argv builder (vm/qemu_argv.c, pure: same config in, same argv out)
 * and the QMP client (vm/qmp.c).  The lifecycle lives in vm/qemu.c.
 * Linux only (SRCS_linux). */
#ifndef VM_QEMU_H
#define VM_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "vm/vm.h"

struct buf;
struct err;

/* A NULL-terminated argv that owns its strings. */
struct qemu_argv {
	char **v;
	size_t n;
	size_t cap;
};

void qemu_argv_free(struct qemu_argv *a);

/* What the builder needs to know about the host, decided by the caller
 * (so that the builder stays pure and testable).  Fds are numbers as the
 * QEMU process will see them. */
struct qemu_host {
	const char *binary; /* argv[0]: the qemu-system-<arch> to run */
	bool kvm;	    /* -accel kvm -cpu host (else TCG) */
	bool sandbox;	    /* -sandbox: QEMU's seccomp filter (needs a QEMU
			     * built with seccomp, as Debian's is) */
	unsigned tsc_khz;   /* the host TSC rate, 0 = unknown (x86_64 TCG) */
	int qmp_fd;	    /* connected socket for QMP; -1 = no monitor */
	int kernel_fd;	    /* >= 0: the kernel is read from /dev/fd/N */
	int initrd_fd;	    /* >= 0: the initrd is read from /dev/fd/N */
	/* c->share_fs == VM_SHARE_VIRTIOFS: per share, a stream socket
	 * connected to its virtiofsd (vhost-user); else unused. */
	const int *share_fds;
};

/* The complete QEMU command line for c (see vm/README.md for its shape).
 * Fds in c (agent_fd, nics[].fd) are used as given.  Fails with -EINVAL on
 * a config QEMU cannot express (checked again here, not only by
 * vm_config_check, because tests call this directly). */
int qemu_build_argv(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *out,
		    struct err *e);

/* Does c share directories over vhost-user-fs (so guest RAM must be a
 * shared memory backend)?  VM_SHARE_AUTO here means 9p: the backend
 * resolves it before building. */
bool qemu__virtiofs(const struct vm_config *c);

/* --- virtiofsd (vm/virtiofsd.c) --------------------------------------------
 * One virtiofsd per share, owned by the QEMU backend: started before QEMU,
 * SIGKILLed when the starting thread dies (PR_SET_PDEATHSIG) and by
 * qemu__virtiofsd_stop once QEMU has ended. */

/* virtiofsd: $CONTAINER_VIRTIOFSD, else next to the QEMU binary (also its
 * ../libexec and ../lib/qemu), /usr/lib/qemu, /usr/libexec, then PATH. */
int qemu__virtiofsd_find(const char *qemu_binary, struct buf *out, struct err *e);

/* Start virtiofsd for s, its stderr appended to log_fd.  *qemu_fd gets our
 * end of the vhost-user connection (a connected stream socket for QEMU's
 * chardev), *death_fd a pipe that reads EOF once the daemon (all of its
 * processes) has ended, *pid the daemon. */
int qemu__virtiofsd_start(const char *binary, const struct vm_share *s, int log_fd, int *qemu_fd,
			  int *death_fd, pid_t *pid, struct err *e);

/* SIGKILL and reap; pid <= 0 is a no-op. */
void qemu__virtiofsd_stop(pid_t pid);

/* Shared by the children of vm/qemu.c and vm/virtiofsd.c, between fork and
 * exec: die with the starting thread (PR_SET_PDEATHSIG; not at all if it
 * is gone already), an own process group, default signals, an empty mask;
 * on failure errno goes to err_w and the child exits 127. */
void qemu__child_setup(pid_t parent, int err_w);
__attribute__((noreturn)) void qemu__child_fail(int err_w);
void qemu__close_from(int fd); /* close every fd >= fd */

/* The first executable NAME in the ':'-separated directories of path
 * (NULL: none) into out. */
bool qemu__which(const char *path, const char *name, struct buf *out);

/* Append s to b as a QEMU option value: every ',' doubled, because QEMU's
 * option syntax splits on a single comma. */
void qemu__put_value(struct buf *b, const char *s);

/* --- QMP (vm/qmp.c) -------------------------------------------------------
 * A blocking client over one connected stream socket.  QEMU is semi-trusted:
 * every message is bounded (QMP_MSG_MAX) and every wait has a deadline. */

#define QMP_MSG_MAX (64 * 1024)

struct qmp;

/* Read the greeting and negotiate capabilities within timeout_ms.  Takes
 * ownership of fd on success. */
int qmp_open(int fd, int timeout_ms, struct qmp **out, struct err *e);
void qmp_close(struct qmp *q);

/* Run a command (args may be NULL, borrowed) and wait up to timeout_ms for
 * its answer; events that arrive meanwhile are recorded.  *ret (if
 * non-NULL) receives the "return" value (new reference).  A QMP error
 * answer is -EIO with QEMU's description. */
int qmp_execute(struct qmp *q, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
		struct err *e);

/* Read and record every message already buffered or arriving within
 * timeout_ms (0 = only what is there), without blocking longer.  -EPIPE at
 * end of stream (QEMU has exited or closed the monitor). */
int qmp_drain(struct qmp *q, int timeout_ms, struct err *e);

/* The "reason" of the last SHUTDOWN event ("guest-shutdown",
 * "guest-reset", "host-qmp-quit", ...), or NULL if none was seen. */
const char *qmp_shutdown_reason(const struct qmp *q);

/* One QMP message, parsed (exposed for the fuzz target and tests). */
enum qmp_msg_kind { QMP_MSG_GREETING = 1, QMP_MSG_RETURN, QMP_MSG_ERROR, QMP_MSG_EVENT };

struct qmp_msg {
	enum qmp_msg_kind kind;
	json_t *root;	  /* owned: the whole message */
	json_t *value;	  /* borrowed from root: return value / event data */
	const char *name; /* event name; error class */
	const char *desc; /* error description */
	long long id;	  /* the "id" we sent, -1 if absent or not ours */
};

int qmp_parse(const char *data, size_t len, struct qmp_msg *out, struct err *e);
void qmp_msg_free(struct qmp_msg *m);

#endif

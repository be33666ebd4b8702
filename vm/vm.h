/* The VM backend interface (issue #5): create, start, stop, kill, wait.
 *
 * Called by the runtime role (one process per container, one VM each) and by
 * t/tools/vmrun.  Exactly one backend is linked into a binary, chosen by the
 * Makefile: vm/qemu.c on Linux, vm/vz.c on macOS.  Because the choice is made
 * at link time these are plain functions, not an ops table: a table would be
 * a vtable with a single row.  vm/vm.c holds the platform-neutral parts
 * (defaults, validation, names) that both backends share.
 *
 * Ownership: a struct vm_config and everything it points to is borrowed by
 * vm_create() and copied, except fds and in-memory blob bytes, which are
 * borrowed until vm_start() returns (the VM gets its own copies), so the
 * caller may close or free them afterwards.
 * A struct vm is owned by its creator and released with vm_free(), which
 * never leaves a VM running.
 *
 * Threads: the QEMU backend puts the VMM in its own process group and asks
 * the kernel to SIGKILL it when the starting *thread* dies (PR_SET_PDEATHSIG),
 * so call vm_start() from a thread that lives as long as the VM (the main
 * thread).  Do not set SIGCHLD to SIG_IGN: vm_wait() reaps the VMM itself.
 */
#ifndef VM_VM_H
#define VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;
struct vm;

enum vm_arch {
	VM_ARCH_X86_64 = 1,
	VM_ARCH_AARCH64,
};

enum vm_accel {
	VM_ACCEL_AUTO = 0, /* hardware when usable for this arch, else emulate */
	VM_ACCEL_HW,	   /* KVM / Virtualization.framework; fail if absent */
	VM_ACCEL_EMULATE,  /* QEMU TCG */
};

/* A kernel or initramfs: a file, or bytes in memory (the embedded blobs).
 * Exactly one of path and data is set for a present blob. */
struct vm_blob {
	const char *path;
	const void *data;
	size_t len;
};

struct vm_disk {
	const char *path; /* raw image file (our ext4 images) */
	bool read_only;
	const char *serial; /* optional; the guest finds disks by it (<= 20 chars) */
};

/* A host directory shared with the guest (virtio-fs, or 9p on QEMU; see
 * enum vm_share_fs).  The tag is what the guest mounts: 1..31 of
 * [A-Za-z0-9._-]. */
struct vm_share {
	const char *tag;
	const char *path;
	bool read_only;
	bool cached; /* virtio-fs on QEMU: virtiofsd may cache (cache=always) */
};

/* How shares reach the guest, which must mount the same kind. */
enum vm_share_fs {
	VM_SHARE_AUTO = 0, /* vm_share_fs_pick() */
	VM_SHARE_9P,	   /* QEMU only: virtio-9p, security_model=mapped-xattr */
	VM_SHARE_VIRTIOFS, /* Virtualization.framework; QEMU with virtiofsd */
};

enum vm_nic_kind {
	VM_NIC_USER = 1, /* QEMU user-mode networking (slirp); QEMU only */
	VM_NIC_TAP,	 /* a TAP device: fd, or ifname when fd is -1 */
	VM_NIC_SOCKET,	 /* a connected socket carrying frames: SOCK_DGRAM is one
			  * frame per datagram (vmnet helper); SOCK_STREAM
			  * is QEMU's 4-byte big-endian length framing */
};

struct vm_nic {
	enum vm_nic_kind kind;
	const char *mac;    /* "52:54:00:12:34:56"; NULL = backend picks */
	int fd;		    /* -1 = none */
	const char *ifname; /* VM_NIC_TAP without fd */
	/* VM_NIC_USER on QEMU: the user-mode network's subnet, the host's
	 * address in it and its DNS relay (which QEMU wants different from
	 * the host's), so a guest configured statically for a container
	 * network works unchanged; user_prefix 0 = QEMU's default
	 * 10.0.2.0/24 (host .2, DNS .3).  Host order. */
	uint32_t user_net, user_host, user_dns;
	unsigned user_prefix;
};

struct vm_config {
	enum vm_arch arch;
	enum vm_accel accel;
	unsigned cpus;	       /* >= 1 */
	unsigned memory_mib;   /* >= 64 */
	struct vm_blob kernel; /* required */
	struct vm_blob initrd; /* optional */
	/* Appended after the backend's own arguments ("console=ttyS0 pci=off
	 * tsc=reliable no_timer_check" on QEMU x86_64, "console=ttyAMA0" on
	 * QEMU aarch64, "console=hvc0" on macOS), so callers never name a
	 * platform's console device. */
	const char *cmdline;
	const struct vm_disk *disks;
	size_t n_disks;
	const struct vm_share *shares;
	size_t n_shares;
	enum vm_share_fs share_fs;
	const struct vm_nic *nics;
	size_t n_nics;
	/* The guest console (kernel log, init's messages) and the VMM's own
	 * error messages are appended to this file; NULL = discarded. */
	const char *console_log;
	/* The agent channel, a byte stream to the guest agent (a virtio-serial
	 * port named "container.agent" on QEMU, vsock port VM_AGENT_VSOCK_PORT
	 * on macOS).  Either agent_socket: a unix stream socket the host is
	 * already listening on when vm_start() is called, which the VMM
	 * connects to once (accept it after vm_start); or agent_fd: a connected
	 * stream socket (one end of a socketpair) handed to the VMM.  At most
	 * one; neither = no channel. */
	const char *agent_socket;
	int agent_fd; /* -1 = none */
};

#define VM_AGENT_PORT_NAME "container.agent"
#define VM_AGENT_VSOCK_PORT 1024

enum vm_exit_reason {
	VM_EXIT_RUNNING = 0, /* not exited (yet) */
	VM_EXIT_POWEROFF,    /* the guest powered off */
	VM_EXIT_REBOOT,	     /* the guest asked for a reset (also a kernel panic
			      * with panic=-1); a VM never reboots, it ends */
	VM_EXIT_STOPPED,     /* ended by vm_stop()'s power button */
	VM_EXIT_KILLED,	     /* ended by vm_kill() or vm_stop()'s deadline */
	VM_EXIT_CRASHED,     /* the VMM failed or died on its own */
};

struct vm_exit {
	enum vm_exit_reason reason;
	int status;	  /* the VMM's raw wait status; -1 if none (macOS) */
	char detail[128]; /* e.g. "guest-shutdown", "qemu exited with 1: ..." */
};

/* Fill c with defaults: x86_64 or aarch64 (the host's), auto accel, 1 cpu,
 * 256 MiB, agent_fd -1, everything else empty. */
void vm_config_init(struct vm_config *c);

/* Validate and copy c; does not start anything. */
int vm_create(const struct vm_config *c, struct vm **out, struct err *e);

/* Start the VM.  Returns once the VMM runs and its control channel is up;
 * the guest boots asynchronously.  On failure nothing is left running and
 * the message carries the VMM's own complaint. */
int vm_start(struct vm *vm, struct err *e);

/* Graceful stop: press the power button (ACPI on x86_64, the PSCI/GPIO key
 * on aarch64; the guest init must act on it), wait up to timeout_ms, then
 * kill.  Never returns with the VM still running; 0 once it has ended (its
 * exit is then available from vm_wait). */
int vm_stop(struct vm *vm, int timeout_ms, struct err *e);

/* Hard stop, now.  Idempotent; 0 if the VM had already ended. */
int vm_kill(struct vm *vm, struct err *e);

/* Wait up to timeout_ms (-1 = forever, 0 = poll) for the VM to end and
 * describe how.  -ETIMEDOUT while it runs.  Once ended, every call returns
 * the same exit. */
int vm_wait(struct vm *vm, int timeout_ms, struct vm_exit *out, struct err *e);

/* An fd that becomes readable (POLLIN or POLLHUP) when the VM has ended,
 * for event loops (uv_poll); then call vm_wait(vm, 0, ...).  On QEMU with
 * virtio-fs it also fires when a virtiofsd ends: vm_wait then kills the
 * VM (its shares would hang) and reports it as crashed.  Owned by the
 * vm; -1 before vm_start. */
int vm_event_fd(const struct vm *vm);

/* The VMM process (for QEMU), -1 when the VM runs in-process (macOS) or
 * before vm_start. */
pid_t vm_pid(const struct vm *vm);

/* Kill (if running), reap and release.  vm_free(NULL) is a no-op. */
void vm_free(struct vm *vm);

/* "qemu" or "vz". */
const char *vm_backend_name(void);

/* The share kind this backend uses on this host: virtio-fs on macOS; on
 * QEMU virtio-fs when virtiofsd is found and we run as root (the C
 * virtiofsd needs root and cannot map ownership), else 9p.
 * CONTAINER_SHARE=9p or =virtiofs overrides it on QEMU. */
enum vm_share_fs vm_share_fs_pick(void);

/* --- platform-neutral helpers (vm/vm.c) ---------------------------------- */

const char *vm_arch_name(enum vm_arch a);			    /* "x86_64", "aarch64" */
int vm_arch_parse(const char *s, enum vm_arch *out, struct err *e); /* also amd64, arm64 */
const char *vm_exit_reason_name(enum vm_exit_reason r);

/* Checks shared by the backends: counts, sizes, tags, MACs, fds. */
int vm_config_check(const struct vm_config *c, struct err *e);

/* Internal: vm_stop's policy (press, wait up to the timeout, kill, wait)
 * lives in vm/vm.c; each backend supplies the two steps that differ.
 * vm__power_button: <0 error (not started), 1 the VM has already ended,
 * 0 the guest was asked to power off, 2 it could not be asked.
 * vm__kill_late: vm_kill, recorded as "did not power off in time". */
int vm__power_button(struct vm *vm, struct err *e);
int vm__kill_late(struct vm *vm, struct err *e);

/* Internal to the backends: a deep copy of a config (strings and arrays
 * duplicated, fds and blob data borrowed) and its release. */
struct vm_config *vm__config_dup(const struct vm_config *c);
void vm__config_free(struct vm_config *c);

#endif

/* The QEMU backend of vm/vm.h (Linux): finds qemu-system-<arch>, decides
 * KVM or TCG, spawns QEMU with an argv (vm/qemu_argv.c; no shell), talks
 * QMP to it (vm/qmp.c) and reaps it.
 *
 * No VM is ever leaked: QEMU runs in its own process group (a terminal's
 * Ctrl-C goes to the runtime, which decides) and gets SIGKILL when the
 * thread that started it dies (PR_SET_PDEATHSIG); vm_free() kills and reaps.
 *
 * Everything QEMU needs is handed over as inherited fds, renumbered 3, 4, …
 * in the child, with every other fd closed: the QMP socket (one end of a
 * socketpair, so no socket path and no path-length limit), in-memory kernel
 * and initrd (sealed memfds, read as /dev/fd/N), the agent and NIC fds, and
 * the write end of an "exit pipe" that only QEMU holds, so its read end
 * reports QEMU's death to poll()/libuv without SIGCHLD.  QEMU's stderr is
 * appended to the console log, so `logs --boot` shows its complaints too. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vm/qemu.h"
#include "vm/vm.h"

/* From <linux/kvm.h>, which not every libc's headers carry. */
#define KVM_GET_API_VERSION_IOCTL _IO(0xAE, 0x00)
#define KVM_API_VERSION_EXPECTED 12

#define QEMU_START_TIMEOUT_MS 10000 /* spawn to QMP ready; TCG start is ~50 ms */
#define QEMU_QMP_TIMEOUT_MS 2000
#define QEMU_ERR_TAIL 2048 /* bytes of QEMU's stderr quoted on failure */
#define QEMU_MAX_CHILD_FDS 32

enum vm_state { VM_NEW, VM_RUNNING, VM_ENDED };

struct vm {
	struct vm_config *cfg;
	enum vm_state state;
	pid_t pid;
	struct qmp *qmp;
	int exit_fd;	      /* read end of the exit pipe */
	int log_fd;	      /* QEMU's stderr (console log or a memfd), ours to read */
	off_t log_start;      /* where this run's output starts in log_fd */
	bool stopping;	      /* vm_stop pressed the power button */
	bool killed;	      /* vm_kill sent SIGKILL */
	bool deadline_passed; /* ... because vm_stop's deadline passed */
	struct vm_exit exit;
	pid_t *fs_pids; /* one virtiofsd per virtio-fs share (vm/virtiofsd.c) */
	int *fs_death;	/* ... and the pipe that says it has ended */
	size_t n_fs;
	int fs_died;  /* 1 + the share whose virtiofsd ended first, 0 = none */
	int event_fd; /* epoll of exit_fd and fs_death when there are shares */
};

/* What the child does between fork and exec, prepared beforehand so the
 * child only makes async-signal-safe calls. */
struct spawn {
	pid_t parent;
	int stdin_fd, log_fd, err_w;
	int fds[QEMU_MAX_CHILD_FDS]; /* parent fd i becomes child fd 3 + i */
	int n_fds;
	const char *path;
	char *const *argv;
};

const char *vm_backend_name(void)
{
	return "qemu";
}

static int find_qemu(enum vm_arch arch, struct buf *out, struct err *e);

enum vm_share_fs vm_share_fs_pick(void)
{
	const char *force = getenv("CONTAINER_SHARE");
	_cleanup_buf_ struct buf q = BUF_INIT, d = BUF_INIT;
	struct utsname u;
	enum vm_arch arch;

	if (force && !strcmp(force, "9p"))
		return VM_SHARE_9P;
	if (force && !strcmp(force, "virtiofs"))
		return VM_SHARE_VIRTIOFS;
	/* QEMU 7.2's C virtiofsd needs root (namespaces, capabilities) and
	 * has no uid mapping: without root, 9p's mapped-xattr keeps the
	 * invoker's ownership on the host. */
	if (geteuid() != 0)
		return VM_SHARE_9P;
	if (uname(&u) < 0 || vm_arch_parse(u.machine, &arch, NULL) < 0)
		arch = VM_ARCH_X86_64;
	find_qemu(arch, &q, NULL);
	return qemu__virtiofsd_find(q.len ? buf_str(&q) : NULL, &d, NULL) == 0
		       ? VM_SHARE_VIRTIOFS
		       : VM_SHARE_9P;
}

/* Stop every virtiofsd (QEMU has ended, or never started). */
static void fs_stop(struct vm *vm)
{
	for (size_t i = 0; i < vm->n_fs; i++) {
		qemu__virtiofsd_stop(vm->fs_pids[i]);
		close(vm->fs_death[i]);
	}
	free(vm->fs_pids);
	free(vm->fs_death);
	vm->fs_pids = NULL;
	vm->fs_death = NULL;
	vm->n_fs = 0;
}

int vm_create(const struct vm_config *c, struct vm **out, struct err *e)
{
	struct vm *vm;
	int r;

	if ((r = vm_config_check(c, e)) < 0)
		return r;
	vm = xcalloc(1, sizeof(*vm));
	vm->cfg = vm__config_dup(c);
	vm->pid = -1;
	vm->exit_fd = vm->log_fd = vm->event_fd = -1;
	*out = vm;
	return 0;
}

bool qemu__which(const char *path, const char *name, struct buf *out)
{
	while (path && *path) {
		size_t n = strcspn(path, ":");
		buf_reset(out);
		if (n == 0)
			buf_puts(out, ".");
		else
			buf_append(out, path, n);
		buf_printf(out, "/%s", name);
		if (access(buf_str(out), X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* $CONTAINER_QEMU_DIR/qemu-system-<arch>, else the first one in PATH. */
static int find_qemu(enum vm_arch arch, struct buf *out, struct err *e)
{
	const char *dir = getenv("CONTAINER_QEMU_DIR"), *path = getenv("PATH");
	_cleanup_buf_ struct buf name = BUF_INIT;

	buf_printf(&name, "qemu-system-%s", vm_arch_name(arch));
	if (dir && *dir) {
		buf_printf(out, "%s/%s", dir, buf_str(&name));
		if (access(buf_str(out), X_OK) == 0)
			return 0;
		return err_sys(e, "qemu: %s (from CONTAINER_QEMU_DIR)", buf_str(out));
	}
	if (qemu__which(path && *path ? path : "/usr/local/bin:/usr/bin:/bin", buf_str(&name),
			out))
		return 0;
	return err_set(e, -ENOENT,
		       "qemu: %s not found in PATH (install QEMU or set CONTAINER_QEMU_DIR)",
		       buf_str(&name));
}

/* KVM only runs guests of the host's own architecture. */
static int kvm_probe(enum vm_arch arch, struct err *e)
{
	struct utsname u;
	enum vm_arch host;
	int fd, v;

	if (uname(&u) < 0)
		return err_sys(e, "uname");
	if (vm_arch_parse(u.machine, &host, NULL) < 0 || host != arch)
		return err_set(e, -ENODEV, "KVM: host is %s, guest is %s", u.machine,
			       vm_arch_name(arch));
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "KVM: /dev/kvm");
	v = ioctl(fd, KVM_GET_API_VERSION_IOCTL, 0);
	close(fd);
	if (v != KVM_API_VERSION_EXPECTED)
		return err_set(e, -ENODEV, "KVM: /dev/kvm API version %d, want %d", v,
			       KVM_API_VERSION_EXPECTED);
	return 0;
}

/* The host's TSC rate in kHz from /proc/cpuinfo's first "cpu MHz" (what
 * the host kernel detected), 0 if unknown. */
static unsigned host_tsc_khz(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	const char *p;
	unsigned mhz = 0, frac = 0, scale = 100;

	if (fs_read_file("/proc/cpuinfo", &b, 1 << 20, NULL) < 0 ||
	    !(p = strstr(buf_str(&b), "cpu MHz")) || !(p = strchr(p, ':')))
		return 0;
	for (p++; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p >= '0' && *p <= '9' && mhz < 1000000; p++)
		mhz = mhz * 10 + (unsigned)(*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
			frac += (unsigned)(*p - '0') * scale;
	return mhz >= 100 && mhz < 1000000 ? mhz * 1000 + frac : 0;
}

/* An in-memory blob as a sealed memfd QEMU opens through /dev/fd/N. */
static int blob_memfd(const struct vm_blob *b, const char *name, int *out, struct err *e)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return err_sys(e, "memfd for the %s", name);
	if ((r = fs_write_full(fd, b->data, b->len, e)) < 0) {
		close(fd);
		return err_wrap(e, "memfd for the %s", name);
	}
	/* Sealed: what QEMU boots is exactly what we checked. */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	*out = fd;
	return 0;
}

void qemu__child_fail(int err_w)
{
	int code = errno;
	ssize_t w = write(err_w, &code, sizeof(code));
	(void)w;
	_exit(127);
}

#define child_fail qemu__child_fail

void qemu__child_setup(pid_t parent, int err_w)
{
	sigset_t none;
	struct sigaction dfl;

	/* Die with the starting thread; if it is already gone, do not run. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(err_w);
	if (getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	/* Ignored signals and the mask survive exec: give defaults. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < 65; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void qemu__close_from(int fd)
{
	if (syscall(SYS_close_range, (unsigned)fd, ~0u, 0) < 0)
		for (; fd < 4096; fd++)
			close(fd);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static __attribute__((noreturn)) void child_exec(const struct spawn *s)
{
	int tmp[QEMU_MAX_CHILD_FDS], hi = 3 + s->n_fds, err_w, in, log;

	qemu__child_setup(s->parent, s->err_w);

	/* Move every fd above the target range first, then down into
	 * place, so that no source is overwritten before it is copied. */
	if ((err_w = fcntl(s->err_w, F_DUPFD_CLOEXEC, hi + QEMU_MAX_CHILD_FDS)) < 0)
		_exit(127);
	for (int i = 0; i < s->n_fds; i++)
		if ((tmp[i] = fcntl(s->fds[i], F_DUPFD, hi)) < 0)
			child_fail(err_w);
	/* Even stdio: an owner with closed stdio may hold them in 0-2. */
	if ((in = fcntl(s->stdin_fd, F_DUPFD, hi)) < 0 || (log = fcntl(s->log_fd, F_DUPFD, hi)) < 0)
		child_fail(err_w);
	if (dup2(in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		child_fail(err_w);
	for (int i = 0; i < s->n_fds; i++)
		if (dup2(tmp[i], 3 + i) < 0)
			child_fail(err_w);
	/* Close everything else but err_w (close-on-exec). */
	for (int fd = hi; fd < err_w; fd++)
		close(fd);
	qemu__close_from(err_w + 1);
	execv(s->path, s->argv);
	child_fail(err_w);
}

static int add_fd(struct spawn *s, int fd)
{
	s->fds[s->n_fds] = fd;
	return 3 + s->n_fds++;
}

/* The last QEMU line of its stderr since this run began (for errors). */
static void stderr_tail(struct vm *vm, struct buf *out)
{
	char tail[QEMU_ERR_TAIL + 1];
	struct stat st;
	off_t from;
	ssize_t n;

	if (vm->log_fd < 0 || fstat(vm->log_fd, &st) < 0)
		return;
	from =
	    st.st_size - QEMU_ERR_TAIL > vm->log_start ? st.st_size - QEMU_ERR_TAIL : vm->log_start;
	n = pread(vm->log_fd, tail, QEMU_ERR_TAIL, from);
	if (n <= 0)
		return;
	tail[n] = '\0';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		tail[--n] = '\0';
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	buf_printf(out, ": %.300s", line);
}

/* Reap the child; 0 when reaped, -ETIMEDOUT if it still runs.  A
 * virtiofsd that ended under a running VM would leave the guest's file
 * accesses hanging for ever: QEMU is killed then, and the exit says why. */
#define QEMU_SHUTDOWN_GRACE_MS 5000

static int reap(struct vm *vm, int timeout_ms, int *status, struct err *e)
{
	struct pollfd p[1 + QEMU_MAX_CHILD_FDS] = {{.fd = vm->exit_fd, .events = POLLIN}};
	nfds_t n = 1;
	int r;

	for (size_t i = 0; !vm->fs_died && i < vm->n_fs && n < ARRAY_SIZE(p); i++)
		p[n++] = (struct pollfd){.fd = vm->fs_death[i], .events = POLLIN};
	while ((r = poll(p, n, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return err_sys(e, "wait for qemu");
	for (nfds_t i = 1; r > 0 && !p[0].revents && i < n; i++) {
		if (!p[i].revents)
			continue;
		/* A QEMU that is exiting closes its vhost-user sockets
		 * first: give it a second, and spare one shutting down. */
		while ((r = poll(p, 1, 1000)) < 0 && errno == EINTR)
			;
		if (r == 0 && vm->qmp)
			qmp_drain(vm->qmp, 0, NULL);
		/* one that said it is shutting down gets a few seconds more;
		 * then it is killed like any other, so this wait is bounded */
		while (r == 0 && vm->qmp && qmp_shutdown_reason(vm->qmp) &&
		       (r = poll(p, 1, QEMU_SHUTDOWN_GRACE_MS)) < 0 && errno == EINTR)
			r = 0;
		if (r == 0) {
			vm->fs_died = (int)i;
			kill(-vm->pid, SIGKILL);
			kill(vm->pid, SIGKILL);
		}
		/* SIGKILL: the exit pipe closes as the kernel tears QEMU down */
		while (r == 0 && (r = poll(p, 1, -1)) < 0 && errno == EINTR)
			r = 0;
		break;
	}
	if (r == 0)
		return err_set(e, -ETIMEDOUT, "qemu (pid %d) still runs", (int)vm->pid);
	/* The exit pipe closes as QEMU exits; the zombie follows at once. */
	while ((r = waitpid(vm->pid, status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return err_sys(e, "waitpid qemu (pid %d)", (int)vm->pid);
	return 0;
}

static void classify(struct vm *vm, int status)
{
	struct vm_exit *x = &vm->exit;
	const char *reason = vm->qmp ? qmp_shutdown_reason(vm->qmp) : NULL;
	struct buf d = BUF_INIT;

	x->status = status;
	if (vm->fs_died && !vm->killed) {
		x->reason = VM_EXIT_CRASHED;
		buf_printf(&d, "virtiofsd for %s ended; qemu killed",
			   vm->cfg->shares[vm->fs_died - 1].path);
	} else if (vm->killed) {
		x->reason = VM_EXIT_KILLED;
		buf_puts(&d, vm->deadline_passed ? "did not power off in time; killed" : "killed");
	} else if (WIFSIGNALED(status)) {
		x->reason = VM_EXIT_CRASHED;
		buf_printf(&d, "qemu killed by signal %d", WTERMSIG(status));
	} else if (WEXITSTATUS(status) != 0) {
		x->reason = VM_EXIT_CRASHED;
		buf_printf(&d, "qemu exited with %d", WEXITSTATUS(status));
		stderr_tail(vm, &d);
	} else if (!reason || strcmp(reason, "guest-shutdown") == 0) {
		x->reason = vm->stopping ? VM_EXIT_STOPPED : VM_EXIT_POWEROFF;
		buf_puts(&d, reason ? reason : "qemu exited");
	} else if (strcmp(reason, "guest-reset") == 0 || strcmp(reason, "guest-panic") == 0) {
		x->reason = VM_EXIT_REBOOT;
		buf_puts(&d, reason);
	} else {
		/* host-signal, host-qmp-quit, …: someone else ended it. */
		x->reason = VM_EXIT_KILLED;
		buf_puts(&d, reason);
	}
	snprintf(x->detail, sizeof(x->detail), "%s", buf_str(&d));
	buf_free(&d);
}

static void ended(struct vm *vm, int status)
{
	struct err e = ERR_INIT;

	/* QEMU is gone: its last events (SHUTDOWN) wait in the socket. */
	if (vm->qmp)
		qmp_drain(vm->qmp, 0, &e);
	classify(vm, status);
	fs_stop(vm);
	vm->state = VM_ENDED;
	qmp_close(vm->qmp);
	vm->qmp = NULL;
}

/* Fds and argv for the child; fds opened here are closed by the caller. */
struct plan {
	int qmp[2], exit_p[2], err_p[2], kernel_fd, initrd_fd, null_fd;
	int *share_fds; /* our ends of the virtiofsd connections */
	size_t n_share_fds;
	struct qemu_argv argv;
	struct buf binary;
	struct spawn s;
};

static void plan_close(struct plan *p)
{
	int *fds[] = {&p->qmp[0],   &p->qmp[1],	   &p->exit_p[0], &p->exit_p[1], &p->err_p[0],
		      &p->err_p[1], &p->kernel_fd, &p->initrd_fd, &p->null_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	for (size_t i = 0; i < p->n_share_fds; i++)
		close(p->share_fds[i]);
	free(p->share_fds);
	p->share_fds = NULL;
	p->n_share_fds = 0;
	qemu_argv_free(&p->argv);
	buf_free(&p->binary);
}

/* One virtiofsd per share; their sockets become QEMU's fds. */
static int start_virtiofsd(struct vm *vm, struct plan *p, int *child_fds, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	_cleanup_buf_ struct buf bin = BUF_INIT;
	int r;

	if ((r = qemu__virtiofsd_find(buf_str(&p->binary), &bin, e)) < 0)
		return err_wrap(e, "virtio-fs shares (CONTAINER_SHARE=9p uses 9p)");
	p->share_fds = xcalloc(c->n_shares, sizeof(*p->share_fds));
	vm->fs_pids = xcalloc(c->n_shares, sizeof(*vm->fs_pids));
	vm->fs_death = xcalloc(c->n_shares, sizeof(*vm->fs_death));
	for (size_t i = 0; i < c->n_shares; i++) {
		if ((r = qemu__virtiofsd_start(buf_str(&bin), &c->shares[i], vm->log_fd,
					       &p->share_fds[i], &vm->fs_death[i], &vm->fs_pids[i],
					       e)) < 0)
			return r;
		p->n_share_fds++;
		vm->n_fs++;
		child_fds[i] = add_fd(&p->s, p->share_fds[i]);
	}
	/* vm_event_fd: readable when QEMU ends, and when a virtiofsd does
	 * (vm_wait then ends the VM, see reap). */
	if ((vm->event_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return err_sys(e, "epoll");
	for (size_t i = 0; i <= c->n_shares; i++) {
		int fd = i ? vm->fs_death[i - 1] : p->exit_p[0];
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (epoll_ctl(vm->event_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return err_sys(e, "epoll");
	}
	return 0;
}

static int open_log(struct vm *vm, struct err *e)
{
	const char *path = vm->cfg->console_log;

	if (path)
		vm->log_fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	else
		vm->log_fd = memfd_create("qemu-stderr", MFD_CLOEXEC);
	if (vm->log_fd < 0)
		return err_sys(e, "console log %s", path ? path : "(memfd)");
	vm->log_start = lseek(vm->log_fd, 0, SEEK_END);
	if (vm->log_start < 0)
		vm->log_start = 0;
	return 0;
}

static int prepare(struct vm *vm, struct plan *p, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	struct vm_config cc = *c;
	struct vm_nic nics[16];
	int share_fds[QEMU_MAX_CHILD_FDS];
	struct qemu_host h = {
	    .sandbox = !getenv("CONTAINER_QEMU_NO_SANDBOX"), .kernel_fd = -1, .initrd_fd = -1};
	int r;

	if ((r = find_qemu(c->arch, &p->binary, e)) < 0)
		return r;
	h.binary = buf_str(&p->binary);
	if (c->accel != VM_ACCEL_EMULATE) {
		struct err ke = ERR_INIT;
		h.kvm = kvm_probe(c->arch, &ke) == 0;
		if (!h.kvm && c->accel == VM_ACCEL_HW)
			return err_set(e, -ENODEV, "hardware acceleration unavailable: %s", ke.msg);
	}
	if (!h.kvm && c->arch == VM_ARCH_X86_64)
		h.tsc_khz = host_tsc_khz();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->qmp) < 0)
		return err_sys(e, "socketpair for QMP");
	if (pipe2(p->exit_p, O_CLOEXEC) < 0 || pipe2(p->err_p, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	if ((p->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(e, "/dev/null");
	if (c->kernel.data && (r = blob_memfd(&c->kernel, "kernel", &p->kernel_fd, e)) < 0)
		return r;
	if (c->initrd.data && (r = blob_memfd(&c->initrd, "initrd", &p->initrd_fd, e)) < 0)
		return r;

	/* Renumber every fd QEMU gets as the child will see it. */
	h.qmp_fd = add_fd(&p->s, p->qmp[1]);
	if (p->kernel_fd >= 0)
		h.kernel_fd = add_fd(&p->s, p->kernel_fd);
	if (p->initrd_fd >= 0)
		h.initrd_fd = add_fd(&p->s, p->initrd_fd);
	if (c->agent_fd >= 0)
		cc.agent_fd = add_fd(&p->s, c->agent_fd);
	for (size_t i = 0; i < c->n_nics && i < ARRAY_SIZE(nics); i++) {
		nics[i] = c->nics[i];
		if (nics[i].fd >= 0)
			nics[i].fd = add_fd(&p->s, c->nics[i].fd);
	}
	cc.nics = nics;
	if (cc.share_fs == VM_SHARE_AUTO)
		cc.share_fs = vm_share_fs_pick();
	if (qemu__virtiofs(&cc)) {
		if ((r = start_virtiofsd(vm, p, share_fds, e)) < 0)
			return r;
		h.share_fds = share_fds;
	}
	add_fd(&p->s, p->exit_p[1]);
	if ((r = qemu_build_argv(&cc, &h, &p->argv, e)) < 0)
		return r;
	p->s.parent = getpid();
	p->s.stdin_fd = p->null_fd;
	p->s.log_fd = vm->log_fd;
	p->s.err_w = p->err_p[1];
	p->s.path = h.binary;
	p->s.argv = p->argv.v;
	if (log_level() >= LOG_DEBUG) {
		struct buf line = BUF_INIT;
		for (size_t i = 0; i < p->argv.n; i++)
			buf_printf(&line, "%s%s", i ? " " : "", p->argv.v[i]);
		log_debug("vm: %s", buf_str(&line));
		buf_free(&line);
	}
	return 0;
}

/* After fork: did exec succeed, and does QMP answer? */
static int handshake(struct vm *vm, struct plan *p, struct err *e)
{
	int code = 0, status, r;
	ssize_t n;

	while ((n = read(p->err_p[0], &code, sizeof(code))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(code)) {
		reap(vm, -1, &status, NULL);
		errno = code;
		return err_sys(e, "qemu: exec %s", p->s.path);
	}
	r = qmp_open(p->qmp[0], QEMU_START_TIMEOUT_MS, &vm->qmp, e);
	if (r == 0) {
		p->qmp[0] = -1;
		/* Started paused (-S) so that no event precedes negotiation. */
		r = qmp_execute(vm->qmp, "cont", NULL, QEMU_QMP_TIMEOUT_MS, NULL, e);
		if (r == 0)
			return 0;
	}
	/* Usually QEMU refused its arguments and said why on stderr. */
	struct buf why = BUF_INIT;
	if (reap(vm, 1000, &status, NULL) < 0) {
		kill(vm->pid, SIGKILL);
		reap(vm, -1, &status, NULL);
		buf_puts(&why, e->msg);
	} else if (WIFEXITED(status)) {
		buf_printf(&why, "exited with %d", WEXITSTATUS(status));
		stderr_tail(vm, &why);
	} else {
		buf_printf(&why, "killed by signal %d", WTERMSIG(status));
	}
	r = err_set(e, r == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "qemu did not start: %s",
		    buf_str(&why));
	buf_free(&why);
	return r;
}

int vm_start(struct vm *vm, struct err *e)
{
	struct plan p = {.qmp = {-1, -1},
			 .exit_p = {-1, -1},
			 .err_p = {-1, -1},
			 .kernel_fd = -1,
			 .initrd_fd = -1,
			 .null_fd = -1};
	int r;

	if (vm->state != VM_NEW)
		return err_set(e, -EALREADY, "vm: already started");
	if (vm->cfg->n_nics + vm->cfg->n_shares + 8 > QEMU_MAX_CHILD_FDS)
		return err_set(e, -E2BIG, "vm: too many fds for qemu");
	if ((r = open_log(vm, e)) < 0 || (r = prepare(vm, &p, e)) < 0) {
		fs_stop(vm);
		goto out;
	}
	vm->pid = fork();
	if (vm->pid < 0) {
		r = err_sys(e, "fork for qemu");
		fs_stop(vm);
		goto out;
	}
	if (vm->pid == 0)
		child_exec(&p.s);
	vm->exit_fd = p.exit_p[0];
	p.exit_p[0] = -1;
	/* Only the child may hold these, or EOF would never come. */
	close(p.exit_p[1]);
	close(p.err_p[1]);
	close(p.qmp[1]);
	p.exit_p[1] = p.err_p[1] = p.qmp[1] = -1;
	vm->state = VM_RUNNING;
	if ((r = handshake(vm, &p, e)) < 0) {
		vm->state = VM_ENDED;
		vm->exit.reason = VM_EXIT_CRASHED;
		snprintf(vm->exit.detail, sizeof(vm->exit.detail), "did not start");
		fs_stop(vm);
	}
out:
	plan_close(&p);
	return r;
}

int vm_wait(struct vm *vm, int timeout_ms, struct vm_exit *out, struct err *e)
{
	int status, r;

	if (vm->state == VM_NEW)
		return err_set(e, -EINVAL, "vm: not started");
	if (vm->state == VM_RUNNING) {
		if ((r = reap(vm, timeout_ms, &status, e)) < 0)
			return r;
		ended(vm, status);
	}
	if (out)
		*out = vm->exit;
	return 0;
}

/* Has QEMU exited (not necessarily reaped yet)? */
static bool exited(const struct vm *vm)
{
	struct pollfd p = {.fd = vm->exit_fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

int vm_kill(struct vm *vm, struct err *e)
{
	/* One that already ended on its own keeps its own exit reason. */
	if (vm->state != VM_RUNNING || exited(vm))
		return 0;
	/* The group too: QEMU starts no helpers, but nothing may outlive it. */
	if (kill(-vm->pid, SIGKILL) < 0 && kill(vm->pid, SIGKILL) < 0 && errno != ESRCH)
		return err_sys(e, "kill qemu (pid %d)", (int)vm->pid);
	vm->killed = true;
	return 0;
}

int vm__power_button(struct vm *vm, struct err *e)
{
	struct err qe = ERR_INIT;

	if (vm->state == VM_NEW)
		return err_set(e, -EINVAL, "vm: not started");
	if (vm->state == VM_ENDED)
		return 1;
	vm->stopping = true;
	return qmp_execute(vm->qmp, "system_powerdown", NULL, QEMU_QMP_TIMEOUT_MS, NULL, &qe) == 0
		       ? 0 : 2;
}

int vm__kill_late(struct vm *vm, struct err *e)
{
	vm->deadline_passed = true;
	return vm_kill(vm, e);
}

int vm_event_fd(const struct vm *vm)
{
	return vm->event_fd >= 0 ? vm->event_fd : vm->exit_fd;
}

pid_t vm_pid(const struct vm *vm)
{
	return vm->state == VM_NEW ? -1 : vm->pid;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->state == VM_RUNNING) {
		vm_kill(vm, NULL);
		vm_wait(vm, -1, NULL, NULL);
	}
	fs_stop(vm);
	qmp_close(vm->qmp);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	if (vm->log_fd >= 0)
		close(vm->log_fd);
	vm__config_free(vm->cfg);
	free(vm);
}

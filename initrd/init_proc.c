/* Starting the container's processes (see initrd/init.h).
 *
 * The main process: init unshares a pid namespace for its children, then
 * forks the container's PID 1.  That child takes new mount, uts and ipc
 * namespaces, mounts /proc, /sys, a minimal /dev into the root and
 * pivot_roots into it.  With "init": true (the default) it stays as a tiny
 * PID 1 that forwards signals to the workload and reaps orphans (docker
 * --init), so the workload keeps default signal dispositions: Ctrl-C
 * stops `sleep`, `kill -9 $$` kills the shell.  With "init": false the
 * workload is the namespace's PID 1 itself, exactly as plain docker.
 *
 * Exec'd processes fork from init (so they are already in the pid
 * namespace) and setns into the main process's other namespaces.
 *
 * Failures after fork are reported the way docker's CLI reports them: a
 * line on the process's stderr, and exit status 127 (not found), 126 (not
 * executable / permission / is a directory) or 125 (anything else). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "initrd/init.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/mem.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)   /* Linux 4.13; older libc headers lack it */
#endif

/* Docker's default capability set; everything else leaves the bounding set
 * of the workload. */
static const int keep_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
	CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
	CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

static int code_for(int err)
{
	if (err == ENOENT)
		return EXIT_NOTFOUND;
	if (err == EACCES || err == EISDIR || err == EPERM || err == ENOEXEC)
		return EXIT_NOEXEC;
	return EXIT_RUNTIME;
}

/* In a child: one line on stderr, then exit with code. */
static __attribute__((noreturn, format(printf, 2, 3))) void child_fail(int code,
									const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_puts(&b, "container: ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_putc(&b, '\n');
	if (write(2, b.data, b.len) < 0) {
		/* stderr is gone: the exit status still says it */
	}
	_exit(code);
}

static void reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0u) == 0)
		return;
#endif
	for (int fd = lowest; fd < 4096; fd++)
		close(fd);
}

/* --- the container's file system view (main process child) -------------- */

static void cmount(const char *src, const char *rel, const char *type, unsigned long flags,
		   const char *opts)
{
	_cleanup_buf_ struct buf dst = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&dst, INIT_ROOT "%s", rel);
	if (fs_mkdir_p(buf_str(&dst), 0755, &e) < 0)
		child_fail(EXIT_RUNTIME, "%s", e.msg);
	if (mount(src, buf_str(&dst), type, flags, opts) < 0)
		child_fail(EXIT_RUNTIME, "mount %s on %s: %s", type, rel, strerror(errno));
}

static void enter_root(const struct init *in)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		child_fail(EXIT_RUNTIME, "unshare: %s", strerror(errno));
	if (sethostname(in->cfg.hostname, strlen(in->cfg.hostname)) < 0)
		child_fail(EXIT_RUNTIME, "sethostname: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(EXIT_RUNTIME, "making mounts private: %s", strerror(errno));
	cmount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	cmount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	cmount("cgroup2", "/sys/fs/cgroup", "cgroup2",
	       MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	/* pivot_root(".", "."): the old root ends up under the new one, and
	 * is then detached */
	if (chdir(INIT_ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(EXIT_RUNTIME, "pivot_root: %s", strerror(errno));
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(EXIT_RUNTIME, "detaching the old root: %s", strerror(errno));
}

/* Join the namespaces of the container's PID 1, and its root: setns()
 * into a mount namespace puts us at the namespace's root mount, which is
 * not necessarily where the container pivoted to, so chroot to the root
 * that PID 1 has (what nsenter --root does). */
static void join_container(const struct init *in)
{
	static const char *const ns[] = { "ipc", "uts", "mnt" };
	_cleanup_buf_ struct buf p = BUF_INIT;
	int fds[3], root;

	for (size_t i = 0; i < 3; i++) {
		buf_reset(&p);
		buf_printf(&p, "/proc/%d/ns/%s", (int)in->ns_pid, ns[i]);
		fds[i] = open(buf_str(&p), O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			child_fail(EXIT_RUNTIME, "the container is gone (%s): %s", ns[i],
				   strerror(errno));
	}
	buf_reset(&p);
	buf_printf(&p, "/proc/%d/root", (int)in->ns_pid);
	root = open(buf_str(&p), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(EXIT_RUNTIME, "the container is gone (root): %s", strerror(errno));
	for (size_t i = 0; i < 3; i++)
		if (setns(fds[i], 0) < 0)
			child_fail(EXIT_RUNTIME, "setns %s: %s", ns[i], strerror(errno));
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		child_fail(EXIT_RUNTIME, "entering the container's root: %s", strerror(errno));
	for (size_t i = 0; i < 3; i++)
		close(fds[i]);
	close(root);
}

/* --- the workload itself ---------------------------------------------------- */

static void set_limits(const struct init_spec *s)
{
	/* containerd's default; the config overrides it */
	struct rlimit nofile = { 1048576, 1048576 };
	setrlimit(RLIMIT_NOFILE, &nofile);
	for (size_t i = 0; i < s->n_rlimits; i++) {
		struct rlimit r = {
			s->rlimits[i].soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)s->rlimits[i].soft,
			s->rlimits[i].hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)s->rlimits[i].hard,
		};
		if (setrlimit(s->rlimits[i].resource, &r) < 0)
			child_fail(EXIT_RUNTIME, "setrlimit %d: %s", s->rlimits[i].resource,
				   strerror(errno));
	}
}

static void enter_cwd(const struct init_spec *s)
{
	struct err e = ERR_INIT;

	/* docker creates a missing working directory (root-owned, 0755) */
	if (s->mkdir_cwd && fs_mkdir_p(s->cwd, 0755, &e) < 0)
		child_fail(code_for(-e.code), "working directory: %s", e.msg);
	if (chdir(s->cwd) < 0)
		child_fail(code_for(errno), "chdir to cwd (\"%s\"): %s", s->cwd, strerror(errno));
}

static void drop_privileges(const struct init_spec *s)
{
	gid_t *g = xcalloc(s->n_groups + 1, sizeof(*g));

	for (int c = 0; c <= CAP_LAST_CAP + 8; c++) {
		bool keep = false;
		for (size_t i = 0; i < ARRAY_SIZE(keep_caps); i++)
			keep |= keep_caps[i] == c;
		if (!keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EINVAL)
			break;   /* past the kernel's last capability */
	}
	for (size_t i = 0; i < s->n_groups; i++)
		g[i] = (gid_t)s->groups[i];
	if (setgroups(s->n_groups, g) < 0)
		child_fail(EXIT_RUNTIME, "setgroups: %s", strerror(errno));
	if (setgid((gid_t)s->gid) < 0 || setuid((uid_t)s->uid) < 0)
		child_fail(EXIT_RUNTIME, "switching to uid %u gid %u: %s", s->uid, s->gid,
			   strerror(errno));
	free(g);
}

/* execve with docker's PATH lookup (the process's own PATH), then the exit
 * status docker's CLI would give. */
static __attribute__((noreturn)) void exec_workload(const struct init_spec *s)
{
	const char *cmd = s->argv[0], *path;
	int err = ENOENT;
	bool eacces = false;

	if (strchr(cmd, '/')) {
		execve(cmd, s->argv, s->env);
		err = errno;
		child_fail(code_for(err), "exec: \"%s\": %s", cmd, strerror(err));
	}
	path = guest_env_get(s->env, "PATH");
	if (!path)
		path = GUEST_DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		_cleanup_buf_ struct buf f = BUF_INIT;
		if (*cmd) {
			/* an empty PATH entry means the current directory */
			if (n)
				buf_append(&f, p, n);
			else
				buf_putc(&f, '.');
			buf_printf(&f, "/%s", cmd);
			execve(buf_str(&f), s->argv, s->env);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG &&
				 errno != ELOOP) {
				err = errno;
				child_fail(code_for(err), "exec: \"%s\": %s", buf_str(&f), strerror(err));
			}
		}
		if (!end)
			break;
		p = end;
	}
	if (eacces)
		child_fail(EXIT_NOEXEC, "exec: \"%s\": permission denied", cmd);
	child_fail(EXIT_NOTFOUND, "exec: \"%s\": executable file not found in $PATH", cmd);
}

/* The container's PID 1 with "init": true: forward every signal to the
 * workload, reap everything, exit as the workload did. */
static __attribute__((noreturn)) void stub_init(pid_t w)
{
	sigset_t all;

	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int st, sig = sigwaitinfo(&all, &si);
		pid_t pid;

		if (sig == SIGCHLD) {
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
				if (pid == w)
					_exit(WIFSIGNALED(st) ? EXIT_SIGNAL_BASE + WTERMSIG(st)
							      : WEXITSTATUS(st));
		} else if (sig > 0) {
			kill(w, sig);
		}
	}
}

static __attribute__((noreturn)) void run_child(struct init *in, struct init_proc *p,
					       bool main_proc, int cin, int cout, int cerr)
{
	const struct init_spec *s = &p->spec;

	if (!main_proc)
		join_container(in);
	if (setsid() < 0 || dup2(cin, 0) < 0 || dup2(cout, 1) < 0 || dup2(cerr, 2) < 0)
		_exit(EXIT_RUNTIME);
	if (s->tty)
		ioctl(0, TIOCSCTTY, 0);
	close_from(3);
	if (s->copy_op)
		init__copy_run(s, in->copy_lie);
	if (main_proc)
		enter_root(in);
	set_limits(s);
	enter_cwd(s);
	if (main_proc && in->cfg.init) {
		sigset_t all;
		pid_t w;
		/* the stub takes every signal through sigwaitinfo, so none may
		 * be delivered (or lost) before it waits */
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		w = fork();
		if (w < 0)
			child_fail(EXIT_RUNTIME, "fork: %s", strerror(errno));
		if (w > 0)
			stub_init(w);
		/* the workload: its own foreground process group on the tty
		 * (SIGTTOU is blocked here, so tcsetpgrp may be called from
		 * the background) */
		if (s->tty && (setpgid(0, 0) < 0 || tcsetpgrp(0, getpid()) < 0))
			child_fail(EXIT_RUNTIME, "tty foreground: %s", strerror(errno));
	}
	drop_privileges(s);
	reset_signals();
	exec_workload(s);
}

/* --- parent side ------------------------------------------------------------- */

/* A terminal from the container's own devpts instance (mounted by init,
 * see init.c), so the workload sees it as /dev/pts/N. */
static int open_pty(struct init_proc *p, int *slave, struct err *e)
{
	struct winsize ws = { (unsigned short)p->spec.rows, (unsigned short)p->spec.cols, 0, 0 };
	int m = open(INIT_ROOT "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || unlockpt(m) < 0) {
		if (m >= 0)
			close(m);
		return err_sys(e, "allocating a terminal");
	}
	*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		close(m);
		return err_sys(e, "opening the terminal");
	}
	if (ws.ws_row && ws.ws_col)
		ioctl(m, TIOCSWINSZ, &ws);
	p->out_fd = m;
	p->in_fd = p->spec.open_stdin ? fcntl(m, F_DUPFD_CLOEXEC, 0) : -1;
	p->tty = true;
	return 0;
}

static void closep_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int init__spawn(struct init *in, struct init_proc *p, bool main_proc, struct err *e)
{
	int child[3] = { -1, -1, -1 }, pin[2] = { -1, -1 }, pout[2] = { -1, -1 },
	    perr[2] = { -1, -1 };
	pid_t pid;
	int rc;

	if (main_proc && unshare(CLONE_NEWPID) < 0)
		return err_sys(e, "unshare(CLONE_NEWPID)");
	if (p->spec.tty) {
		int slave = -1;
		if ((rc = open_pty(p, &slave, e)) < 0)
			return rc;
		/* the terminal is stdin even without -i, as docker does; we
		 * just never write to it */
		child[0] = slave;
		child[1] = slave;
		child[2] = fcntl(slave, F_DUPFD_CLOEXEC, 0);
	} else {
		if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
		    (p->spec.open_stdin && pipe2(pin, O_CLOEXEC) < 0)) {
			rc = err_sys(e, "pipe");
			closep_all(pout, 2);
			closep_all(perr, 2);
			closep_all(pin, 2);
			return rc;
		}
		child[0] = p->spec.open_stdin ? pin[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
		child[1] = pout[1];
		child[2] = perr[1];
		p->in_fd = pin[1];
		p->out_fd = pout[0];
		p->err_fd = perr[0];
	}
	pid = fork();
	if (pid == 0)
		run_child(in, p, main_proc, child[0], child[1], child[2]);
	rc = pid < 0 ? err_sys(e, "fork") : 0;
	if (!p->tty && child[0] >= 0)
		close(child[0]);
	close(child[1]);
	close(child[2]);
	if (rc < 0) {
		int fds[3] = { p->in_fd, p->out_fd, p->err_fd };
		closep_all(fds, 3);
		p->in_fd = p->out_fd = p->err_fd = -1;
		return rc;
	}
	p->pid = pid;
	if (main_proc)
		in->ns_pid = pid;
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
	if (p->out_fd >= 0)
		fcntl(p->out_fd, F_SETFL, fcntl(p->out_fd, F_GETFL) | O_NONBLOCK);
	if (p->err_fd >= 0)
		fcntl(p->err_fd, F_SETFL, fcntl(p->err_fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

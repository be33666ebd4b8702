/* virtiofsd for the QEMU backend (Linux): one daemon per virtio-fs share,
 * started by vm/qemu.c before QEMU and stopped once QEMU has ended.
 *
 * No socket path is left anywhere and nothing waits for one to appear: we
 * listen on a unix socket in a private 0700 directory, connect to it
 * ourselves (the connection waits in the backlog), unlink it, and hand the
 * listening end to virtiofsd (--fd=3, it accepts once) and the connected
 * end to QEMU (-chardev socket,fd=N).  When QEMU dies the connection
 * closes and virtiofsd ends; it is also SIGKILLed with the thread that
 * started it (PR_SET_PDEATHSIG), so a SIGKILLed runtime leaks nothing.
 *
 * What the daemon may do (the guest is untrusted): QEMU 7.2's C virtiofsd
 * needs root and runs in its own mount, pid and net namespaces rooted at the
 * shared directory (sandbox=namespace); we also take away CAP_MKNOD and
 * CAP_SETFCAP (no device nodes, no file capabilities on the host).  A
 * read-only share is a read-only bind mount in a mount namespace of its
 * own, made here before exec, so the host refuses writes whatever the
 * guest kernel does. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "vm/qemu.h"

#define VFS_ARGS_MAX 16

static bool executable(const char *p)
{
	struct stat st;

	return access(p, X_OK) == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int qemu__virtiofsd_find(const char *qemu_binary, struct buf *out, struct err *e)
{
	static const char *const beside[] = {"", "/../libexec", "/../lib/qemu"};
	static const char *const fixed[] = {"/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd"};
	const char *env = getenv("CONTAINER_VIRTIOFSD"), *path = getenv("PATH");
	const char *slash = qemu_binary ? strrchr(qemu_binary, '/') : NULL;

	buf_reset(out);
	if (env && *env) {
		buf_puts(out, env);
		if (executable(env))
			return 0;
		return err_set(e, -ENOENT, "virtiofsd: %s (from CONTAINER_VIRTIOFSD) is not executable",
			       env);
	}
	for (size_t i = 0; slash && i < ARRAY_SIZE(beside); i++) {
		buf_reset(out);
		buf_append(out, qemu_binary, (size_t)(slash - qemu_binary));
		buf_printf(out, "%s/virtiofsd", beside[i]);
		if (executable(buf_str(out)))
			return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		buf_reset(out);
		buf_puts(out, fixed[i]);
		if (executable(fixed[i]))
			return 0;
	}
	if (qemu__which(path, "virtiofsd", out))
		return 0;
	buf_reset(out);
	return err_set(e, -ENOENT, "virtiofsd not found (Debian: qemu-system-common)");
}

/* A listening socket and a connection to it, with no name left behind. */
static int socket_pair(int *listen_fd, int *conn_fd, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_buf_ struct buf dir = BUF_INIT;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l = -1, c = -1, r = 0;

	buf_printf(&dir, "%s/container-vfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (dir.len + 3 > sizeof(sa.sun_path)) {
		buf_reset(&dir);
		buf_puts(&dir, "/tmp/container-vfs-XXXXXX");
	}
	if (!mkdtemp(dir.data))
		return err_sys(e, "virtiofsd: temporary directory %s", buf_str(&dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", buf_str(&dir));
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    (c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = err_sys(e, "virtiofsd: socket %s", sa.sun_path);
	unlink(sa.sun_path);
	rmdir(buf_str(&dir));
	if (r < 0) {
		if (l >= 0)
			close(l);
		if (c >= 0)
			close(c);
		return r;
	}
	*listen_fd = l;
	*conn_fd = c;
	return 0;
}

/* A -o value: fuse's option parser splits on ',' and honours '\'. */
static char *opt_value(const char *key, const char *v)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, key);
	for (; *v; v++) {
		if (*v == ',' || *v == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *v);
	}
	return buf_steal(&b);
}

struct vfs_child {
	pid_t parent;
	int listen_fd, null_fd, log_fd, err_w, death_w;
	const char *binary, *path;
	bool read_only;
	char *const *argv;
};

/* Between fork and exec: system calls only. */
static __attribute__((noreturn)) void child_exec(const struct vfs_child *c)
{
	int err_w, l, in, log, death;

	/* Dies with the starting thread; its own process group, so a
	 * terminal's Ctrl-C is the runtime's to handle. */
	qemu__child_setup(c->parent, c->err_w);
	if (c->read_only &&
	    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	     mount(c->path, c->path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	     mount(NULL, c->path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
		qemu__child_fail(c->err_w);
	if ((err_w = fcntl(c->err_w, F_DUPFD_CLOEXEC, 20)) < 0 ||
	    (l = fcntl(c->listen_fd, F_DUPFD, 10)) < 0 || (in = fcntl(c->null_fd, F_DUPFD, 10)) < 0 ||
	    (log = fcntl(c->log_fd, F_DUPFD, 10)) < 0 || (death = fcntl(c->death_w, F_DUPFD, 10)) < 0)
		qemu__child_fail(c->err_w);
	/* fd 4 is held, never used: its pipe reports the daemon's end */
	if (dup2(in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup2(l, 3) < 0 ||
	    dup2(death, 4) < 0)
		qemu__child_fail(err_w);
	for (int fd = 5; fd < err_w; fd++)
		close(fd);
	qemu__close_from(err_w + 1);
	execv(c->binary, c->argv);
	qemu__child_fail(err_w);
}

int qemu__virtiofsd_start(const char *binary, const struct vm_share *s, int log_fd, int *qemu_fd,
			  int *death_fd, pid_t *pid, struct err *e)
{
	char *argv[VFS_ARGS_MAX] = {0};
	int n = 0, l = -1, c = -1, err_p[2] = {-1, -1}, death_p[2] = {-1, -1}, null_fd = -1, code, r;
	struct vfs_child ch;
	ssize_t got;
	pid_t p;

	if ((r = socket_pair(&l, &c, e)) < 0)
		return r;
	argv[n++] = xstrdup(binary);
	argv[n++] = xstrdup("--fd=3");
	argv[n++] = xstrdup("-o");
	argv[n++] = opt_value("source=", s->path);
	/* auto: close-to-open consistency with the host (attributes cached
	 * for a second); always: the user traded that for speed (:cached). */
	argv[n++] = xstrdup("-o");
	argv[n++] = xstrdup(s->cached ? "cache=always" : "cache=auto");
	argv[n++] = xstrdup("-o");
	argv[n++] = xstrdup("xattr");
	argv[n++] = xstrdup("-o");
	argv[n++] = xstrdup("modcaps=-mknod:-setfcap");
	argv[n++] = xstrdup("-o");
	argv[n++] = xstrdup("log_level=warn");
	if (pipe2(err_p, O_CLOEXEC) < 0 || pipe2(death_p, O_CLOEXEC) < 0 ||
	    (null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		r = err_sys(e, "virtiofsd: pipe");
		goto out;
	}
	ch = (struct vfs_child){.parent = getpid(),
				.listen_fd = l,
				.null_fd = null_fd,
				.log_fd = log_fd >= 0 ? log_fd : null_fd,
				.err_w = err_p[1],
				.death_w = death_p[1],
				.binary = binary,
				.path = s->path,
				.read_only = s->read_only,
				.argv = argv};
	if ((p = fork()) < 0) {
		r = err_sys(e, "virtiofsd: fork");
		goto out;
	}
	if (p == 0)
		child_exec(&ch);
	close(err_p[1]);
	err_p[1] = -1;
	while ((got = read(err_p[0], &code, sizeof(code))) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(code)) {
		qemu__virtiofsd_stop(p);
		errno = code;
		r = err_sys(e, "virtiofsd for %s", s->path);
		goto out;
	}
	*pid = p;
	*qemu_fd = c;
	*death_fd = death_p[0];
	c = death_p[0] = -1;
	r = 0;
out:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	int fds[] = {l, c, err_p[0], err_p[1], death_p[0], death_p[1], null_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

void qemu__virtiofsd_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

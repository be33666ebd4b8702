/* The QEMU backend's process handling (vm/qemu.c) against a fake QEMU: a
 * shell script installed as $CONTAINER_QEMU_DIR/qemu-system-x86_64 that
 * speaks just enough QMP on fd 3 and then powers off, resets, crashes,
 * answers or ignores the power button, or sleeps — as $FAKE_QEMU_MODE says.
 * Covers exit reasons, vm_stop's bound, vm_kill, vm_free, start failures
 * with QEMU's own message, fd hand-over (only the fds QEMU needs, in-memory
 * kernel readable via /dev/fd/N, agent fd), and PR_SET_PDEATHSIG. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "t/tap.h"
#include "vm/vm.h"

static const char fake[] =
    "#!/bin/sh\n"
    "d=$FAKE_DIR\n"
    "echo \"$@\" >\"$d/argv\"\n"
    "[ -e /proc/$$/fd/50 ] && echo leaked >\"$d/fd50\"\n"
    "readlink /proc/$$/fd/0 >\"$d/stdin\"\n"
    "for a in \"$@\"; do case $a in\n"
    "  /dev/fd/*) cat \"$a\" >\"$d/kernel\" ;;\n"
    "  socket,id=agent,fd=*) eval \"echo agent-hello >&${a##*fd=}\" ;;\n"
    "esac; done\n"
    "if [ \"$FAKE_QEMU_MODE\" = badargs ]; then\n"
    "  echo 'qemu-system-x86_64: -foo: invalid option' >&2; exit 1\n"
    "fi\n"
    "printf '{\"QMP\": {\"version\": {}, \"capabilities\": []}}\\r\\n' >&3\n"
    "read -r line <&3\n"
    "printf '{\"return\": {}, \"id\": 1}\\r\\n' >&3\n"
    "read -r line <&3\n"
    "case $line in *'\"cont\"'*) ;; *) echo \"no cont: $line\" >&2; exit 9 ;; esac\n"
    "printf '{\"return\": {}, \"id\": 2}\\r\\n' >&3\n"
    "ev() { printf '{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
    "\"%s\"}}\\r\\n' \"$1\" >&3; }\n"
    "case $FAKE_QEMU_MODE in\n"
    "poweroff) sleep 0.1; ev guest-shutdown; exit 0 ;;\n"
    "reset) ev guest-reset; exit 0 ;;\n"
    "crash) echo 'qemu: fatal: lost the plot' >&2; exit 1 ;;\n"
    "button) read -r line <&3; printf '{\"return\": {}, \"id\": 3}\\r\\n' >&3; ev guest-shutdown; "
    "exit 0 ;;\n"
    "deaf) read -r line <&3; printf '{\"return\": {}, \"id\": 3}\\r\\n' >&3; exec sleep 100 ;;\n"
    "*) exec sleep 100 ;;\n"
    "esac\n";

static char dir[] = "/tmp/vm_qemu_spawn.XXXXXX";

static char *slurp(const char *name)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	buf_printf(&p, "%s/%s", dir, name);
	fs_read_file(buf_str(&p), &b, 1 << 20, NULL);
	buf_free(&p);
	while (b.len && b.data[b.len - 1] == '\n')
		buf_truncate(&b, b.len - 1);
	return buf_steal(&b);
}

static long long ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gone, or a zombie nobody reaps (as under a container's PID 1). */
static int dead(pid_t pid)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	int r;

	if (kill(pid, 0) < 0)
		return 1;
	buf_printf(&p, "/proc/%d/stat", (int)pid);
	r = fs_read_file(buf_str(&p), &b, 4096, NULL) < 0 || strstr(buf_str(&b), ") Z ") != NULL;
	buf_free(&p);
	buf_free(&b);
	return r;
}

static int wait_dead(pid_t pid, int timeout_ms)
{
	long long end = ms() + timeout_ms;
	while (!dead(pid) && ms() < end)
		usleep(20000);
	return dead(pid);
}

static struct vm *start(const char *mode, struct vm_config *c, struct err *e)
{
	struct vm *vm = NULL;
	setenv("FAKE_QEMU_MODE", mode, 1);
	if (vm_create(c, &vm, e) < 0)
		return NULL;
	if (vm_start(vm, e) < 0) {
		vm_free(vm);
		return NULL;
	}
	return vm;
}

static void config(struct vm_config *c)
{
	vm_config_init(c);
	c->arch = VM_ARCH_X86_64;
	c->accel = VM_ACCEL_EMULATE;
	c->kernel.path = "/nonexistent/vmlinux";
}

static void test_exits(void)
{
	struct vm_config c;
	struct vm_exit x;
	struct err e = ERR_INIT;
	struct vm *vm;

	config(&c);
	vm = start("poweroff", &c, &e);
	ok(vm != NULL, "poweroff: started");
	if (!vm) {
		diag("%s", e.msg);
		return;
	}
	ok(vm_pid(vm) > 0, "pid known");
	ok(vm_event_fd(vm) >= 0, "event fd");
	is_int(vm_wait(vm, 5000, &x, &e), 0, "poweroff: ended");
	is_int(x.reason, VM_EXIT_POWEROFF, "poweroff: reason");
	is_str(x.detail, "guest-shutdown", "poweroff: QMP's SHUTDOWN reason");
	is_int(x.status, 0, "poweroff: exit status 0");
	is_int(vm_wait(vm, 0, &x, &e), 0, "wait again");
	is_int(x.reason, VM_EXIT_POWEROFF, "same exit again");
	is_int(vm_kill(vm, &e), 0, "kill after the end is a no-op");
	is_int(vm_wait(vm, 0, &x, &e), 0, "still ended");
	is_int(x.reason, VM_EXIT_POWEROFF, "kill after the end keeps the reason");
	vm_free(vm);

	char *s = slurp("argv");
	ok(strstr(s, "-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control") != NULL,
	   "QMP on fd 3");
	ok(strstr(s, "-sandbox on") != NULL, "seccomp sandbox on by default");
	free(s);
	s = slurp("stdin");
	is_str(s, "/dev/null", "stdin is /dev/null");
	free(s);
	s = slurp("fd50");
	is_str(s, "", "an fd the caller left inheritable does not reach QEMU");
	free(s);

	vm = start("reset", &c, &e);
	ok(vm && vm_wait(vm, 5000, &x, &e) == 0 && x.reason == VM_EXIT_REBOOT,
	   "guest reset ends the VM as a reboot");
	vm_free(vm);

	vm = start("crash", &c, &e);
	ok(vm && vm_wait(vm, 5000, &x, &e) == 0 && x.reason == VM_EXIT_CRASHED, "crash: reason");
	is_str(vm ? x.detail : NULL, "qemu exited with 1: qemu: fatal: lost the plot",
	       "crash: status and QEMU's last words");
	vm_free(vm);

	c.console_log = NULL;
	vm = start("badargs", &c, &e);
	ok(vm == NULL, "QEMU refusing its arguments fails vm_start");
	is_int(e.code, -EIO, "... with -EIO");
	is_str(e.msg, "qemu did not start: exited with 1: qemu-system-x86_64: -foo: invalid option",
	       "... and QEMU's message (from stderr, no console log)");
}

static void test_stop_kill(void)
{
	struct vm_config c;
	struct vm_exit x;
	struct err e = ERR_INIT;
	struct vm *vm;
	long long t0;
	pid_t pid;

	config(&c);
	vm = start("button", &c, &e);
	ok(vm && vm_stop(vm, 3000, &e) == 0, "stop: power button answered");
	ok(vm && vm_wait(vm, 0, &x, &e) == 0 && x.reason == VM_EXIT_STOPPED,
	   "stop: reason stopped");
	vm_free(vm);

	vm = start("deaf", &c, &e);
	t0 = ms();
	ok(vm && vm_stop(vm, 300, &e) == 0, "stop: a guest ignoring the button");
	ok(ms() - t0 < 3000, "stop: bounded (%lld ms)", ms() - t0);
	ok(vm && vm_wait(vm, 0, &x, &e) == 0 && x.reason == VM_EXIT_KILLED, "stop: killed");
	is_str(vm ? x.detail : NULL, "did not power off in time; killed", "stop: says why");
	vm_free(vm);

	vm = start("sleep", &c, &e);
	is_int(vm ? vm_wait(vm, 100, &x, &e) : 0, -ETIMEDOUT, "wait times out while running");
	is_int(vm ? vm_kill(vm, &e) : -1, 0, "kill");
	ok(vm && vm_wait(vm, 5000, &x, &e) == 0 && x.reason == VM_EXIT_KILLED,
	   "kill: reason killed");
	ok(vm && WIFSIGNALED(x.status) && WTERMSIG(x.status) == SIGKILL, "kill: SIGKILL");
	vm_free(vm);

	vm = start("sleep", &c, &e);
	pid = vm ? vm_pid(vm) : -1;
	vm_free(vm);
	ok(pid > 0 && dead(pid), "vm_free kills and reaps a running VM");
}

/* The owner dies without cleaning up: the kernel kills QEMU. */
static void test_pdeathsig(void)
{
	int p[2];
	pid_t child, qpid = -1;
	int st;

	if (pipe(p) < 0)
		return;
	child = fork();
	if (child == 0) {
		struct vm_config c;
		struct err e = ERR_INIT;
		struct vm *vm;
		config(&c);
		vm = start("sleep", &c, &e);
		pid_t q = vm ? vm_pid(vm) : -1;
		if (write(p[1], &q, sizeof(q)) != sizeof(q))
			_exit(1);
		_exit(0); /* no vm_free */
	}
	close(p[1]);
	if (read(p[0], &qpid, sizeof(qpid)) != sizeof(qpid))
		qpid = -1;
	close(p[0]);
	waitpid(child, &st, 0);
	ok(qpid > 0, "orphan: the owner started QEMU");
	ok(qpid > 0 && wait_dead(qpid, 3000), "orphan: QEMU died with its owner");
}

/* An owner whose stdio is closed (a daemon): the fds the backend opens
 * land in 0-2 and must still reach QEMU as its stdin/stdout/stderr. */
static void test_closed_stdio(void)
{
	int p[2], st;
	char res = 0;
	pid_t child;

	if (pipe(p) < 0)
		return;
	child = fork();
	if (child == 0) {
		struct vm_config c;
		struct vm_exit x;
		struct err e = ERR_INIT;
		struct vm *vm;
		char r = 'n';
		close(0);
		close(1);
		close(2);
		config(&c);
		vm = start("crash", &c, &e);
		if (vm && vm_wait(vm, 5000, &x, &e) == 0 && strstr(x.detail, "lost the plot"))
			r = 'y';
		vm_free(vm);
		if (write(p[1], &r, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &res, 1) != 1)
		res = 0;
	close(p[0]);
	waitpid(child, &st, 0);
	ok(res == 'y', "owner with closed stdio: QEMU's stderr still captured");
}

static void test_fds(void)
{
	struct vm_config c;
	struct vm_exit x;
	struct err e = ERR_INIT;
	static const char blob[] = "in-memory kernel bytes";
	int sv[2];
	char got[64] = "";

	config(&c);
	c.kernel.path = NULL;
	c.kernel.data = blob;
	c.kernel.len = sizeof(blob) - 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	c.agent_fd = sv[1];
	struct vm *vm = start("poweroff", &c, &e);
	close(sv[1]);
	ok(vm && vm_wait(vm, 5000, &x, &e) == 0, "in-memory kernel: ran");
	char *k = slurp("kernel");
	is_str(k, blob, "QEMU read the in-memory kernel through /dev/fd/N");
	free(k);
	ssize_t n = read(sv[0], got, sizeof(got) - 1);
	if (n > 0)
		got[n] = '\0';
	is_str(got, "agent-hello\n", "agent fd handed to QEMU");
	close(sv[0]);
	vm_free(vm);
}

int main(void)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	buf_printf(&path, "%s/qemu-system-x86_64", dir);
	if (fs_write_atomic(buf_str(&path), fake, strlen(fake), 0755, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	setenv("CONTAINER_QEMU_DIR", dir, 1);
	setenv("FAKE_DIR", dir, 1);
	unsetenv("CONTAINER_QEMU_NO_SANDBOX");
	/* An inheritable fd the backend must not pass on. */
	int fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 50) {
		dup2(fd, 50);
		close(fd);
	}

	test_exits();
	test_stop_kill();
	test_pdeathsig();
	test_closed_stdio();
	test_fds();

	struct vm_config c;
	struct vm *vm = NULL;
	config(&c);
	chmod(buf_str(&path), 0644);
	ok(vm_create(&c, &vm, &e) == 0 && vm_start(vm, &e) == -EACCES,
	   "a QEMU that is not executable: -EACCES");
	ok(strstr(e.msg, "CONTAINER_QEMU_DIR") != NULL, "... naming where it came from");
	vm_free(vm);

	const char *files[] = {"qemu-system-x86_64", "argv", "fd50", "stdin", "kernel"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, files[i]);
		unlink(buf_str(&path));
	}
	rmdir(dir);
	buf_free(&path);
	return done_testing();
}

/* vmrun: boot a kernel through the VM interface (vm/vm.h) and wait for it,
 * for t/integ/vm_*.sh and for measuring boot times by hand.
 *
 *   vmrun --kernel K [--initrd I] [--in-memory] [--arch A] [--accel auto|hw|emulate]
 *         [--cpus N] [--mem MIB] [--append ARGS] [--console FILE]
 *         [--agent-socket PATH | --agent-fd] [--agent-out FILE]
 *         [--disk PATH[:ro]]... [--share TAG=PATH[:ro]]... [--nic-user]
 *         [--stop-after MS] [--stop-timeout MS] [--kill-after MS] [--timeout MS]
 *
 * Prints "pid N" once the VM runs, then one line
 *   exit reason=R wall_ms=N start_ms=N agent_bytes=N detail=D
 * (wall_ms: vm_create to the VMM's exit; start_ms: the vm_start part)
 * and exits 0 whenever the VM ended (whatever the reason), 1 on an error,
 * 2 on a usage error.  --in-memory reads kernel and initrd into memory and
 * hands them over as blobs (the path release builds take).  The agent
 * channel's bytes are copied to --agent-out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "vm/vm.h"

#define MAX_DEV 8

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: vmrun --kernel K [--initrd I] [options]; see t/tools/vmrun.c\n");
	exit(2);
}

static int listen_unix(const char *path, struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "agent socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return err_sys(e, "listen on %s", path);
	}
	return fd;
}

struct opts {
	struct vm_config c;
	struct vm_disk disks[MAX_DEV];
	struct vm_share shares[MAX_DEV];
	struct vm_nic nic;
	bool in_memory, agent_fd;
	const char *agent_out;
	long long stop_after, stop_timeout, kill_after, timeout;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"kernel", 1, 0, 'k'},	 {"initrd", 1, 0, 'i'},
	    {"in-memory", 0, 0, 'M'},	 {"arch", 1, 0, 'a'},
	    {"accel", 1, 0, 'A'},	 {"cpus", 1, 0, 'c'},
	    {"mem", 1, 0, 'm'},		 {"append", 1, 0, 'p'},
	    {"console", 1, 0, 'C'},	 {"agent-socket", 1, 0, 's'},
	    {"agent-fd", 0, 0, 'f'},	 {"agent-out", 1, 0, 'o'},
	    {"disk", 1, 0, 'd'},	 {"share", 1, 0, 'S'},
	    {"nic-user", 0, 0, 'n'},	 {"stop-after", 1, 0, 't'},
	    {"stop-timeout", 1, 0, 'T'}, {"kill-after", 1, 0, 'K'},
	    {"timeout", 1, 0, 'W'},	 {0, 0, 0, 0},
	};
	struct err e = ERR_INIT;
	int ch;

	vm_config_init(&o->c);
	/* its test guests mount 9p (t/integ/vm_boot.sh) */
	o->c.share_fs = VM_SHARE_9P;
	o->stop_after = o->kill_after = -1;
	o->stop_timeout = 5000;
	o->timeout = 120000;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *arg = optarg, *sep;
		switch (ch) {
		case 'k':
			o->c.kernel.path = arg;
			break;
		case 'i':
			o->c.initrd.path = arg;
			break;
		case 'M':
			o->in_memory = true;
			break;
		case 'a':
			if (vm_arch_parse(arg, &o->c.arch, &e) < 0) {
				fprintf(stderr, "vmrun: %s\n", e.msg);
				exit(2);
			}
			break;
		case 'A':
			o->c.accel = strcmp(arg, "hw") == 0	   ? VM_ACCEL_HW
				     : strcmp(arg, "emulate") == 0 ? VM_ACCEL_EMULATE
								   : VM_ACCEL_AUTO;
			break;
		case 'c':
			o->c.cpus = (unsigned)atoi(arg);
			break;
		case 'm':
			o->c.memory_mib = (unsigned)atoi(arg);
			break;
		case 'p':
			o->c.cmdline = arg;
			break;
		case 'C':
			o->c.console_log = arg;
			break;
		case 's':
			o->c.agent_socket = arg;
			break;
		case 'f':
			o->agent_fd = true;
			break;
		case 'o':
			o->agent_out = arg;
			break;
		case 'd':
			if (o->c.n_disks == MAX_DEV)
				usage();
			sep = strrchr(arg, ':');
			if (sep && strcmp(sep, ":ro") == 0) {
				*sep = '\0';
				o->disks[o->c.n_disks].read_only = true;
			}
			o->disks[o->c.n_disks++].path = arg;
			break;
		case 'S':
			if (o->c.n_shares == MAX_DEV || !(sep = strchr(arg, '=')))
				usage();
			*sep = '\0';
			o->shares[o->c.n_shares].tag = arg;
			o->shares[o->c.n_shares].path = sep + 1;
			sep = strrchr(sep + 1, ':');
			if (sep && strcmp(sep, ":ro") == 0) {
				*sep = '\0';
				o->shares[o->c.n_shares].read_only = true;
			}
			o->c.n_shares++;
			break;
		case 'n':
			o->nic = (struct vm_nic){.kind = VM_NIC_USER, .fd = -1};
			o->c.nics = &o->nic;
			o->c.n_nics = 1;
			break;
		case 't':
			o->stop_after = atoll(arg);
			break;
		case 'T':
			o->stop_timeout = atoll(arg);
			break;
		case 'K':
			o->kill_after = atoll(arg);
			break;
		case 'W':
			o->timeout = atoll(arg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !o->c.kernel.path)
		usage();
	o->c.disks = o->disks;
	o->c.shares = o->shares;
}

/* Copy what the agent sends to out_fd; returns bytes read, 0 at EOF. */
static ssize_t pump(int from, int out_fd)
{
	char tmp[4096];
	ssize_t n = read(from, tmp, sizeof(tmp));

	if (n > 0 && out_fd >= 0 && fs_write_full(out_fd, tmp, (size_t)n, NULL) < 0)
		return -1;
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct err e = ERR_INIT;
	struct buf kernel = BUF_INIT, initrd = BUF_INIT;
	struct vm *vm = NULL;
	struct vm_exit x;
	int lfd = -1, afd = -1, out_fd = -1, sv[2] = {-1, -1};
	long long t0, start_ms = 0, agent_bytes = 0;
	bool stopped = false, killed = false;

	parse(argc, argv, &o);
	if (o.in_memory) {
		if (fs_read_file(o.c.kernel.path, &kernel, 0, &e) < 0 ||
		    (o.c.initrd.path && fs_read_file(o.c.initrd.path, &initrd, 0, &e) < 0))
			goto fail;
		o.c.kernel = (struct vm_blob){.data = kernel.data, .len = kernel.len};
		if (o.c.initrd.path)
			o.c.initrd = (struct vm_blob){.data = initrd.data, .len = initrd.len};
	}
	if (o.agent_out &&
	    (out_fd = open(o.agent_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		err_sys(&e, "%s", o.agent_out);
		goto fail;
	}
	if (o.c.agent_socket && (lfd = listen_unix(o.c.agent_socket, &e)) < 0)
		goto fail;
	if (o.agent_fd) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			err_sys(&e, "socketpair");
			goto fail;
		}
		o.c.agent_fd = sv[1];
		afd = sv[0];
	}

	t0 = now_ms();
	if (vm_create(&o.c, &vm, &e) < 0 || vm_start(vm, &e) < 0)
		goto fail;
	if (sv[1] >= 0)
		close(sv[1]);
	start_ms = now_ms() - t0;
	printf("pid %d\n", (int)vm_pid(vm));
	fflush(stdout);

	for (;;) {
		struct pollfd p[2] = {{.fd = vm_event_fd(vm), .events = POLLIN},
				      {.fd = afd >= 0 ? afd : lfd, .events = POLLIN}};
		long long el = now_ms() - t0;
		int wait = 100;

		if (!stopped && o.stop_after >= 0 && el >= o.stop_after) {
			stopped = true;
			if (vm_stop(vm, (int)o.stop_timeout, &e) < 0)
				goto fail;
		}
		if (!killed && ((o.kill_after >= 0 && el >= o.kill_after) || el >= o.timeout)) {
			killed = true;
			if (vm_kill(vm, &e) < 0)
				goto fail;
		}
		if (poll(p, p[1].fd >= 0 ? 2 : 1, wait) < 0 && errno != EINTR) {
			err_sys(&e, "poll");
			goto fail;
		}
		if (p[1].revents && afd < 0) {
			afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		} else if (p[1].revents) {
			ssize_t n = pump(afd, out_fd);
			if (n <= 0) {
				close(afd);
				afd = -1;
				lfd = -1; /* one connection only */
			} else {
				agent_bytes += n;
			}
		}
		if (p[0].revents)
			break;
	}
	if (vm_wait(vm, -1, &x, &e) < 0)
		goto fail;
	/* QEMU is gone: the rest of what the guest sent is buffered. */
	for (ssize_t n; afd >= 0 && (n = pump(afd, out_fd)) > 0;)
		agent_bytes += n;
	printf("exit reason=%s wall_ms=%lld start_ms=%lld agent_bytes=%lld detail=%s\n",
	       vm_exit_reason_name(x.reason), now_ms() - t0, start_ms, agent_bytes, x.detail);
	vm_free(vm);
	buf_free(&kernel);
	buf_free(&initrd);
	return 0;
fail:
	fprintf(stderr, "vmrun: %s\n", e.msg);
	vm_free(vm);
	return 1;
}

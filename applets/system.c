/* `container system`: the command group for the machine-wide pieces.
 *
 *   system kernel set --binary PATH [--arch ARCH] | --recommended [--arch ARCH]
 *   system kernel show [--arch ARCH]
 *   system initramfs --arch ARCH > FILE     (hidden: dumps the embedded blob)
 *   system start | stop | status             the API server (#6)
 *   system version | df | logs               applets/system_info.c
 *   system install | uninstall               applets/login.c (start at login)
 *
 * The kernel a VM boots is resolved by initrd/blobs.c (explicit path,
 * installed, embedded); `kernel set` installs one and `kernel show` says
 * which one will boot.  start/stop/status manage container-apiserver
 * (applets/apiserver.c) through its socket and pid file in $RUN.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "applets/api_client.h"
#include "applets/apiserver.h"
#include "applets/applets.h"
#include "applets/system.h"
#include "initrd/blobs.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/paths.h"
#include "vm/vm.h"
#include "lib/timex.h"

/* Kernels are tens of MiB; refuse what cannot be one before reading it. */
#define KERNEL_MAX ((size_t)512 << 20)

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "container system %s: %s\n", what, e->msg);
	return EXIT_FAIL;
}

static int usage(const char *what, const char *msg)
{
	fprintf(stderr, "container system %s: %s\nRun 'container system %s --help' for usage.\n",
		what, msg, what);
	return EXIT_USAGE;
}

static enum vm_arch host_arch(void)
{
	struct vm_config c;

	vm_config_init(&c);
	return c.arch;
}

/* ---- kernel set ---- */

struct kset_cli {
	const char *binary, *arch;
	int recommended;
};

static const struct opt kset_optv[] = {
	OPT_STRING(0, "binary", struct kset_cli, binary, "PATH",
		   "Kernel file: an ELF vmlinux (x86_64) or an arm64 Image"),
	OPT_STRING(0, "arch", struct kset_cli, arch, "ARCH",
		   "x86_64/amd64 or aarch64/arm64 (default: the kernel's own, or the host's)"),
	OPT_FLAG(0, "recommended", struct kset_cli, recommended,
		 "Install the kernel embedded in this (release) build"),
	OPT_END,
};

/* The arch a kernel file is for, when not given: whichever check passes. */
static int guess_arch(const char *path, enum vm_arch *out, struct err *e)
{
	static const enum vm_arch order[] = { VM_ARCH_X86_64, VM_ARCH_AARCH64 };
	enum vm_arch host = host_arch();
	size_t i;
	int rc;

	/* The host's arch first, so its message is the one reported. */
	if ((rc = blobs_kernel_check_file(host, path, e)) == 0 || rc != -EINVAL) {
		*out = host;
		return rc;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] != host && blobs_kernel_check_file(order[i], path, NULL) == 0) {
			*out = order[i];
			err_clear(e);
			return 0;
		}
	}
	return rc;
}

static int install(enum vm_arch arch, const void *data, size_t len, struct buf *dst, struct err *e)
{
	size_t dir_len;
	int rc;

	if ((rc = blobs_kernel_installed_path(arch, dst, e)) < 0)
		return rc;
	dir_len = (size_t)(strrchr(buf_str(dst), '/') - buf_str(dst));
	buf_truncate(dst, dir_len);
	rc = fs_mkdir_p(buf_str(dst), 0755, e);
	buf_puts(dst, "/kernel");
	if (rc < 0)
		return rc;
	return fs_write_atomic(buf_str(dst), data, len, 0644, e);
}

static int kset_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct kset_cli *a = o;
	_cleanup_buf_ struct buf bytes = BUF_INIT, dst = BUF_INIT;
	struct err e = ERR_INIT;
	struct vm_blob b;
	enum vm_arch arch = host_arch();

	(void)c;
	(void)argc;
	(void)argv;
	if (!a->binary == !a->recommended)
		return usage("kernel set", "give exactly one of --binary PATH and --recommended");
	if (a->arch && vm_arch_parse(a->arch, &arch, &e) < 0)
		return usage("kernel set", e.msg);
	if (a->recommended) {
		if (blobs_kernel(arch, &b, &e) < 0) {
			fprintf(stderr,
				"container system kernel set: this build embeds no %s kernel; build one "
				"(make kernel) and run 'container system kernel set --binary PATH', or use a "
				"release build\n",
				vm_arch_name(arch));
			return EXIT_FAIL;
		}
		if (install(arch, b.data, b.len, &dst, &e) < 0)
			return fail("kernel set", &e);
		printf("Installed the embedded %s kernel (%zu bytes) as %s\n", vm_arch_name(arch), b.len,
		       buf_str(&dst));
		return EXIT_OK;
	}
	if (a->arch ? blobs_kernel_check_file(arch, a->binary, &e) < 0
		    : guess_arch(a->binary, &arch, &e) < 0)
		return fail("kernel set", &e);
	if (fs_read_file(a->binary, &bytes, KERNEL_MAX, &e) < 0)
		return fail("kernel set", &e);
	/* Checked again on the bytes read: the file may have changed. */
	if (blobs_kernel_check(arch, bytes.data, bytes.len, &e) < 0 ||
	    install(arch, bytes.data, bytes.len, &dst, &e) < 0)
		return fail("kernel set", &e);
	printf("Installed %s kernel %s (%zu bytes) as %s\n", vm_arch_name(arch), a->binary, bytes.len,
	       buf_str(&dst));
	return EXIT_OK;
}

static const struct cmd cmd_kernel_set = {
	.name = "set",
	.summary = "Install the kernel that VMs boot",
	.usage = "--binary PATH [--arch ARCH] | --recommended [--arch ARCH]",
	.help = "Copies the kernel to <data>/kernels/<arch>/kernel, where it takes precedence\n"
		"over a kernel embedded in a release build.  x86_64 wants an uncompressed ELF\n"
		"vmlinux (booted through its PVH note), aarch64 an arm64 Image.",
	.opts = kset_optv,
	.opts_size = sizeof(struct kset_cli),
	.max_args = 0,
	.run = kset_cmd,
};

/* ---- kernel show ---- */

struct kshow_cli {
	const char *arch;
};

static const struct opt kshow_optv[] = {
	OPT_STRING(0, "arch", struct kshow_cli, arch, "ARCH", "Only this architecture"),
	OPT_END,
};

/* One row: ARCH SOURCE SIZE PATH.  0, or 1 when that arch has no kernel. */
static int show_one(enum vm_arch arch, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct vm_blob b;
	struct stat st;
	int rc;

	rc = blobs_kernel_resolve(arch, NULL, &b, &path, e);
	if (rc == -ENOENT) {
		printf("%-8s %-9s %10s %s\n", vm_arch_name(arch), "none", "-", "-");
		return 1;
	}
	if (rc < 0)
		return rc;
	if (b.data) {
		printf("%-8s %-9s %10zu %s\n", vm_arch_name(arch), "embedded", b.len, "-");
		return 0;
	}
	if (stat(b.path, &st) < 0)
		return err_sys(e, "%s", b.path);
	printf("%-8s %-9s %10lld %s\n", vm_arch_name(arch), "installed", (long long)st.st_size, b.path);
	return 0;
}

static int kshow_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct kshow_cli *a = o;
	struct err e = ERR_INIT;
	enum vm_arch arch;
	int rc;

	(void)c;
	(void)argc;
	(void)argv;
	if (a->arch && vm_arch_parse(a->arch, &arch, &e) < 0)
		return usage("kernel show", e.msg);
	printf("%-8s %-9s %10s %s\n", "ARCH", "SOURCE", "SIZE", "PATH");
	if (a->arch) {
		rc = show_one(arch, &e);
	} else {
		rc = show_one(VM_ARCH_X86_64, &e);
		if (rc >= 0)
			rc = show_one(VM_ARCH_AARCH64, &e);
	}
	if (rc < 0)
		return fail("kernel show", &e);
	/* Scripts can test for "a kernel will boot" with --arch. */
	return a->arch && rc > 0 ? EXIT_FAIL : EXIT_OK;
}

static const struct cmd cmd_kernel_show = {
	.name = "show",
	.aliases = "list|ls",
	.summary = "Show which kernel VMs of each architecture boot",
	.usage = "[--arch ARCH]",
	.help = "SOURCE is 'installed' (container system kernel set), 'embedded' (a release\n"
		"build) or 'none'.  With --arch, exits 1 when that architecture has none.",
	.opts = kshow_optv,
	.opts_size = sizeof(struct kshow_cli),
	.max_args = 0,
	.run = kshow_cmd,
};

static const struct cmd *const kernel_sub[] = { &cmd_kernel_set, &cmd_kernel_show, NULL };

static const struct cmd cmd_system_kernel = {
	.name = "kernel",
	.summary = "Manage the kernel VMs boot: set, show",
	.usage = "COMMAND [OPTIONS]",
	.sub = kernel_sub,
};

/* ---- initramfs (hidden) ---- */

struct initramfs_cli {
	const char *arch;
};

static const struct opt initramfs_optv[] = {
	OPT_STRING(0, "arch", struct initramfs_cli, arch, "ARCH", "x86_64 or aarch64 (default: host)"),
	OPT_END,
};

static int initramfs_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct initramfs_cli *a = o;
	struct err e = ERR_INIT;
	enum vm_arch arch = host_arch();
	struct vm_blob b;

	(void)c;
	(void)argc;
	(void)argv;
	if (a->arch && vm_arch_parse(a->arch, &arch, &e) < 0)
		return usage("initramfs", e.msg);
	if (isatty(STDOUT_FILENO))
		return usage("initramfs", "refusing to write binary data to a terminal: redirect stdout");
	if (blobs_initramfs(arch, &b, &e) < 0 || fs_write_full(STDOUT_FILENO, b.data, b.len, &e) < 0)
		return fail("initramfs", &e);
	return EXIT_OK;
}

/* Hidden (no summary): a debugging aid and what t/integ/blobs.sh inspects. */
static const struct cmd cmd_system_initramfs = {
	.name = "initramfs",
	.usage = "[--arch ARCH] > FILE",
	.help = "Writes the embedded initramfs for ARCH to stdout: a newc cpio (gzip'd in a\n"
		"build made with INITRAMFS_COMPRESS=gzip).",
	.opts = initramfs_optv,
	.opts_size = sizeof(struct initramfs_cli),
	.max_args = 0,
	.run = initramfs_cmd,
};

/* ---- start / stop / status: the API server ---- */

#define START_WAIT_MS 5000
#define STOP_WAIT_MS 10000

/* GET /container/system/status: 0 with the parsed answer, or an error
 * (-ECONNREFUSED when nothing listens). */
static int server_status(const char *sock, json_t **out, struct err *e)
{
	struct api_response r;
	int rc;

	rc = api_client_call(sock, "GET", "/container/system/status", NULL, 0, 2000, &r, e);
	if (rc == 0 && r.status != 200)
		rc = err_set(e, -EPROTO, "the API server answered status %d", r.status);
	if (rc == 0 && !(*out = jsonx_parse(r.body.data, r.body.len, 0, "status", e)))
		rc = e->code;
	api_response_free(&r);
	return rc;
}

static int start_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf sock = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *st = NULL;

	(void)c;
	(void)o;
	(void)argc;
	(void)argv;
	if (api_client_socket_path(&sock, &e) < 0)
		return fail("start", &e);
	if (server_status(buf_str(&sock), &st, &e) == 0) {
		printf("The API server is already running (pid %lld) on %s\n",
		       (long long)jsonx_int(st, "Pid", 0), buf_str(&sock));
		json_decref(st);
		return EXIT_OK;
	}
	/* the same start as our CLI's auto-start (applets/api_client.c) */
	if (api_client_start_server(buf_str(&sock), START_WAIT_MS, &e) < 0 ||
	    server_status(buf_str(&sock), &st, &e) < 0)
		return fail("start", &e);
	printf("The API server is running (pid %lld), listening on %s\n"
	       "Docker clients: export DOCKER_HOST=unix://%s\n",
	       (long long)jsonx_int(st, "Pid", 0), buf_str(&sock), buf_str(&sock));
	json_decref(st);
	return EXIT_OK;
}

/* The pid in $RUN/apiserver.pid, or 0. */
static long read_pid(void)
{
	_cleanup_buf_ struct buf path = BUF_INIT, data = BUF_INIT;
	long pid;

	if (paths_run_dir(&path, NULL) < 0)
		return 0;
	buf_puts(&path, "/" APISERVER_PIDFILE);
	if (fs_read_file(buf_str(&path), &data, 64, NULL) < 0)
		return 0;
	pid = strtol(buf_str(&data), NULL, 10);
	return pid > 1 ? pid : 0;
}

static int stop_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf sock = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *st = NULL;
	long pid;
	int waited;

	(void)c;
	(void)o;
	(void)argc;
	(void)argv;
	if (api_client_socket_path(&sock, &e) < 0)
		return fail("stop", &e);
	/* The pid comes from the server itself when it answers; the pid file
	 * is only believed while a server holds the socket, so a stale file
	 * never gets an unrelated process signalled. */
	if (server_status(buf_str(&sock), &st, &e) < 0) {
		if (e.code != -ECONNREFUSED)
			return fail("stop", &e);
		printf("The API server is not running\n");
		return EXIT_OK;
	}
	pid = (long)jsonx_int(st, "Pid", 0);
	json_decref(st);
	if (pid <= 1)
		pid = read_pid();
	if (pid <= 1 || kill((pid_t)pid, SIGTERM) < 0) {
		fprintf(stderr, "container system stop: cannot signal the API server (pid %ld)\n", pid);
		return EXIT_FAIL;
	}
	for (waited = 0; waited < STOP_WAIT_MS; waited += 50) {
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			printf("Stopped the API server (pid %ld)\n", pid);
			return EXIT_OK;
		}
		timex_sleep_ms(50);
	}
	fprintf(stderr, "container system stop: the API server (pid %ld) did not stop within %d s\n",
		pid, STOP_WAIT_MS / 1000);
	return EXIT_FAIL;
}

static int status_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf sock = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *st = NULL;

	(void)c;
	(void)o;
	(void)argc;
	(void)argv;
	if (api_client_socket_path(&sock, &e) < 0)
		return fail("status", &e);
	if (server_status(buf_str(&sock), &st, &e) < 0) {
		printf("status:      stopped\nsocket:      %s\n", buf_str(&sock));
		if (e.code != -ECONNREFUSED)
			printf("error:       %s\n", e.msg);
		return EXIT_FAIL;
	}
	printf("status:      running\npid:         %lld\nsocket:      %s\napi version: %s "
	       "(minimum %s)\nversion:     %s\nstarted:     %s\n",
	       (long long)jsonx_int(st, "Pid", 0), buf_str(&sock),
	       jsonx_str(st, "ApiVersion") ? jsonx_str(st, "ApiVersion") : "?",
	       jsonx_str(st, "MinAPIVersion") ? jsonx_str(st, "MinAPIVersion") : "?",
	       jsonx_str(st, "Version") ? jsonx_str(st, "Version") : "?",
	       jsonx_str(st, "StartedAt") ? jsonx_str(st, "StartedAt") : "?");
	json_decref(st);
	return EXIT_OK;
}

static const struct cmd cmd_system_start = {
	.name = "start",
	.summary = "Start the API server (container-apiserver) in the background",
	.help = "Waits until it answers (at most 5 s) and prints where it listens: point\n"
		"Docker clients at it with DOCKER_HOST=unix://<that path>.",
	.max_args = 0,
	.run = start_cmd,
};

static const struct cmd cmd_system_stop = {
	.name = "stop",
	.summary = "Stop the API server",
	.max_args = 0,
	.run = stop_cmd,
};

static const struct cmd cmd_system_status = {
	.name = "status",
	.summary = "Show whether the API server runs (exit 0) or not (exit 1)",
	.max_args = 0,
	.run = status_cmd,
};

static const struct cmd *const system_sub[] = { &cmd_system_start, &cmd_system_stop,
						&cmd_system_status, &cmd_system_version,
						&cmd_system_df, &cmd_system_logs,
						&cmd_system_install, &cmd_system_uninstall,
						&cmd_system_kernel, &cmd_system_initramfs, NULL };

const struct cmd cmd_system = {
	.name = "system",
	.summary = "Manage the system: start, stop, status, version, df, logs, kernel",
	.usage = "COMMAND [OPTIONS] [ARG...]",
	.sub = system_sub,
};

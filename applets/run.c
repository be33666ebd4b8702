/* `container run`: resolve (or pull) the image, compose the container's
 * configuration from the image and the flags, create its bundle
 * (applets/bundle.h), start its runtime role and, in the foreground, relay
 * stdio until the workload's exit status, which becomes ours.
 *
 * Flag names are apple/container's, with docker's spellings as aliases.
 * Until the API server lands (#6) run talks to the runtime directly over a
 * socketpair; the bundle on disk is the boundary the API server will take
 * over (it will create the bundle and spawn the runtime instead). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/attach.h"
#include "applets/bundle.h"
#include "applets/image.h"
#include "applets/network.h"
#include "applets/mounts.h"
#include "applets/rtclient.h"
#include "applets/runtime.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "initrd/agent.h"
#include "initrd/guest.h"
#include "lib/log.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/snapshot.h"
#include "oci/store.h"
#include "vm/vm.h"

#define RUN_DEFAULT_CPUS 2
#define RUN_DEFAULT_MEMORY_MIB 1024
#define RUN_MIN_MEMORY_MIB 64
#define RUN_DEFAULT_RW_SIZE (8ULL << 30)
#define ENV_FILE_MAX (1u << 20)

struct run_cli {
	int detach, interactive, tty, rm, init, read_only, no_sig_proxy;
	const char *name, *workdir, *user, *entrypoint, *memory, *kernel;
	const char *arch, *os, *platform, *hostname, *guest_test;
	long cpus;
	struct opt_list env, env_file, label, kernel_arg, group_add;
	/* networking (applets/network.h) */
	int no_dns, publish_all;
	struct opt_list network, publish, add_host, dns, dns_search, dns_option;
	struct opt_list volume, mount, tmpfs;
};

static const struct opt run_optv[] = {
	OPT_FLAG('d', "detach", struct run_cli, detach, "Run in the background and print the ID"),
	OPT_FLAG('i', "interactive", struct run_cli, interactive, "Keep stdin open and relay it"),
	OPT_FLAG('t', "tty", struct run_cli, tty, "Give the process a terminal"),
	OPT_FLAG(0, "rm|remove", struct run_cli, rm, "Remove the container when it exits"),
	OPT_STRING(0, "name", struct run_cli, name, "NAME", "Name the container"),
	OPT_LIST('e', "env", struct run_cli, env, "KEY[=VALUE]", "Set an environment variable"),
	OPT_LIST(0, "env-file", struct run_cli, env_file, "FILE", "Read environment variables from a file"),
	OPT_STRING('w', "workdir|cwd", struct run_cli, workdir, "DIR", "Working directory in the container"),
	OPT_STRING('u', "user", struct run_cli, user, "USER[:GROUP]", "User to run as (name or id)"),
	OPT_LIST(0, "group-add", struct run_cli, group_add, "GROUP", "Add a supplementary group"),
	OPT_STRING(0, "entrypoint", struct run_cli, entrypoint, "CMD", "Override the image's entrypoint"),
	OPT_INT('c', "cpus", struct run_cli, cpus, "N", "Virtual CPUs (default 2)"),
	OPT_STRING('m', "memory", struct run_cli, memory, "SIZE", "Memory, e.g. 512M, 2G (default 1G)"),
	OPT_LIST('l', "label", struct run_cli, label, "KEY[=VALUE]", "Set a label"),
	OPT_STRING(0, "hostname", struct run_cli, hostname, "NAME", "Host name (default: the short ID)"),
	OPT_STRING('k', "kernel", struct run_cli, kernel, "PATH", "Boot this kernel instead of the default"),
	OPT_LIST(0, "kernel-arg", struct run_cli, kernel_arg, "ARG", "Append to the kernel command line"),
	OPT_STRING('a', "arch", struct run_cli, arch, "ARCH", "Architecture of the VM and image (amd64, arm64)"),
	OPT_STRING(0, "os", struct run_cli, os, "OS", "Operating system of the image (linux)"),
	OPT_STRING(0, "platform", struct run_cli, platform, "OS/ARCH", "Platform of the image and VM"),
	OPT_FLAG(0, "init", struct run_cli, init,
		 "PID 1 forwards signals and reaps (default; =false: the workload is PID 1)"),
	OPT_LIST('v', "volume", struct run_cli, volume, "[SRC:]DST[:ro]",
		 "Bind a host path or mount a volume (a bare DST: an anonymous volume)"),
	OPT_LIST(0, "mount", struct run_cli, mount, "type=…,source=…,target=…",
		 "Add a bind, volume or tmpfs mount (docker's --mount syntax)"),
	OPT_LIST(0, "tmpfs", struct run_cli, tmpfs, "DST[:size=…,mode=…]", "Mount a tmpfs"),
	OPT_FLAG(0, "read-only", struct run_cli, read_only, "Mount the root file system read-only"),
	OPT_FLAG(0, "no-sig-proxy", struct run_cli, no_sig_proxy, "Do not forward signals to the process"),
	OPT_LIST(0, "network|net", struct run_cli, network, "NAME",
		 "Attach to a network (default: default; none: no interface); repeat for more"),
	OPT_LIST('p', "publish", struct run_cli, publish, "[IP:]HOST:CTR[/PROTO]",
		 "Publish a container port on the host (bound to 127.0.0.1 unless IP is given)"),
	OPT_FLAG('P', "publish-all", struct run_cli, publish_all,
		 "Publish every port the image exposes on an ephemeral host port"),
	OPT_LIST(0, "add-host", struct run_cli, add_host, "NAME:IP", "Add a line to /etc/hosts"),
	OPT_LIST(0, "dns", struct run_cli, dns, "IP", "DNS server (default: the network's gateway)"),
	OPT_LIST(0, "dns-search", struct run_cli, dns_search, "DOMAIN", "DNS search domain"),
	OPT_LIST(0, "dns-option", struct run_cli, dns_option, "OPT", "resolv.conf option"),
	OPT_FLAG(0, "no-dns", struct run_cli, no_dns, "Write no nameserver into /etc/resolv.conf"),
	OPT_STRING(0, "guest-test", struct run_cli, guest_test, "MODES",
		   "Development: malicious-guest test modes (initrd/guest.h)"),
	OPT_END,
};

static int fail(const char *msg)
{
	fprintf(stderr, "container run: %s\n", msg);
	return EXIT_RUNTIME;
}

/* docker's memory syntax: a number with an optional b, k, m, g, t unit
 * (binary multiples; "kb"/"KiB" spellings too); no unit = bytes. */
static int parse_memory(const char *s, unsigned *mib, struct err *e)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return err_set(e, -EINVAL, "invalid memory size '%s'", s);
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': shift = 0; end++; break;
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	case 't': shift = 40; end++; break;
	default: return err_set(e, -EINVAL, "invalid memory size '%s'", s);
	}
	if (shift && (strcasecmp(end, "b") == 0 || strcasecmp(end, "ib") == 0))
		end += strlen(end);
	if (*end || v > (1ULL << (63 - shift)))
		return err_set(e, -EINVAL, "invalid memory size '%s'", s);
	v = (v << shift) >> 20;
	if (v < RUN_MIN_MEMORY_MIB || v > (1u << 20))
		return err_set(e, -EINVAL, "memory must be between %d MiB and 1 TiB, got '%s'",
			       RUN_MIN_MEMORY_MIB, s);
	*mib = (unsigned)v;
	return 0;
}

/* "KEY=VALUE" as given; a bare "KEY" takes the host's value, and is dropped
 * when the host has none (docker's rule). */
static int env_add(json_t *arr, const char *kv, const char *from, struct err *e)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	if (klen == 0)
		return err_set(e, -EINVAL, "%s: invalid environment variable '%s'", from, kv);
	for (size_t i = 0; i < klen; i++)
		if (isspace((unsigned char)kv[i]))
			return err_set(e, -EINVAL, "%s: variable '%.*s' contains whitespace", from,
				       (int)klen, kv);
	if (eq) {
		json_array_append_new(arr, json_string(kv));
	} else {
		const char *v = getenv(kv);
		_cleanup_buf_ struct buf b = BUF_INIT;
		if (!v)
			return 0;
		buf_printf(&b, "%s=%s", kv, v);
		json_array_append_new(arr, json_string(buf_str(&b)));
	}
	return 0;
}

/* --env-file: one variable per line, '#' comments and blank lines skipped. */
static int env_file_add(json_t *arr, const char *path, struct err *e)
{
	_cleanup_buf_ struct buf text = BUF_INIT;
	char *line, *save = NULL;
	int rc;

	if ((rc = fs_read_file(path, &text, ENV_FILE_MAX, e)) < 0)
		return err_wrap(e, "--env-file");
	for (line = strtok_r(text.data ? text.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		while (*line == ' ' || *line == '\t')
			line++, n--;
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!*line || *line == '#')
			continue;
		if (memchr(line, '\0', n) || (rc = env_add(arr, line, path, e)) < 0)
			return rc < 0 ? rc : err_set(e, -EINVAL, "%s: NUL byte", path);
	}
	return 0;
}

static json_t *strv_json(const char **v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *args_json(int argc, char **argv)
{
	json_t *a = json_array();

	for (int i = 0; i < argc; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

/* The image's platform manifest (pulled if absent), its snapshot and the
 * "config" object of its image configuration. */
struct run_image {
	char ref[IMAGE_REF_MAX];
	struct digest manifest;
	struct buf snapshot;
	json_t *config;
};

static int image_prepare(const char *root, const char *query, const struct platform *plat,
			 struct run_image *ri, struct err *e)
{
	struct pull_opts po = { .platform = plat };
	struct pull_result res;
	int rc;

	rc = image_local(root, query, plat, ri->ref, &ri->manifest, &ri->snapshot, &ri->config, e);
	if (rc != -ENOENT)
		return rc;
	/* as docker run: not stored (or not for this platform) -> pull it */
	err_clear(e);
	fprintf(stderr, "Unable to find image '%s' locally\n", query);
	creds_conn_opts_from_env(&po.conn);
	if ((rc = pull_image(root, query, &po, &res, e)) < 0)
		return err_wrap(e, "image %s", query);
	return image_local(root, res.name, plat, ri->ref, &ri->manifest, &ri->snapshot, &ri->config,
			   e);
}

/* The user's overrides, in initrd/guest.h's "process" shape. */
static int process_json(const struct run_cli *a, int argc, char **argv, json_t **out,
			struct err *e)
{
	json_t *p = json_object(), *env = json_array();
	unsigned rows = 24, cols = 80;
	int rc = 0;

	for (const char **f = a->env_file.v; rc == 0 && f && *f; f++)
		rc = env_file_add(env, *f, e);
	for (const char **v = a->env.v; rc == 0 && v && *v; v++)
		rc = env_add(env, *v, "--env", e);
	if (rc < 0) {
		json_decref(env);
		json_decref(p);
		return rc;
	}
	json_object_set_new(p, "env", env);
	if (a->entrypoint)
		json_object_set_new(p, "entrypoint",
				    json_pack("[s]", a->entrypoint)); /* "" = none, as docker */
	if (argc > 0)
		json_object_set_new(p, "cmd", args_json(argc, argv));
	if (a->user)
		json_object_set_new(p, "user", json_string(a->user));
	if (a->group_add.n)
		json_object_set_new(p, "groups", strv_json(a->group_add.v));
	if (a->workdir)
		json_object_set_new(p, "workdir", json_string(a->workdir));
	if (a->tty && !attach_winsize(STDOUT_FILENO, &rows, &cols))
		attach_winsize(STDIN_FILENO, &rows, &cols);
	json_object_set_new(p, "tty", json_boolean(a->tty));
	json_object_set_new(p, "stdin", json_boolean(a->interactive));
	json_object_set_new(p, "rows", json_integer(rows));
	json_object_set_new(p, "cols", json_integer(cols));
	*out = p;
	return 0;
}

static int labels_json(const char **v, json_t **out, struct err *e)
{
	json_t *o = json_object();

	for (; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		_cleanup_free_ char *k = xstrndup(*v, eq ? (size_t)(eq - *v) : strlen(*v));
		if (!*k) {
			json_decref(o);
			return err_set(e, -EINVAL, "invalid label '%s'", *v);
		}
		json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
	}
	*out = o;
	return 0;
}

/* Start `container runtime [--attach-fd 3] ID` in its own session, its
 * stdio on runtime.log (inherited stderr with --debug). */
static int spawn_runtime(const char *id, int attach_fd, int debug, uint64_t t0_ns, pid_t *pid,
			 struct err *e)
{
	_cleanup_buf_ struct buf exe = BUF_INIT, logp = BUF_INIT;
	int logfd, devnull;
	pid_t p;

	if (paths_self_exe(&exe, e) < 0 || bundle_path(id, "runtime.log", &logp, e) < 0)
		return -EINVAL;
	logfd = open(buf_str(&logp), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return err_sys(e, "open %s", buf_str(&logp));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	p = fork();
	if (p < 0) {
		close(logfd);
		close(devnull);
		return err_sys(e, "fork");
	}
	if (p == 0) {
		char *argv[8];
		int n = 0;
		char t0[24];
		setsid();
		snprintf(t0, sizeof(t0), "%llu", (unsigned long long)t0_ns);
		setenv("CONTAINER_START_NS", t0, 1); /* the runtime's "create" timing */
		if (attach_fd >= 0 && dup2(attach_fd, 3) < 0)
			_exit(127);
		dup2(devnull, 0);
		dup2(logfd, 1);
		if (!debug)
			dup2(logfd, 2);
		argv[n++] = (char *)"container-runtime"; /* selects the role */
		if (attach_fd >= 0) {
			argv[n++] = (char *)"--attach-fd";
			argv[n++] = (char *)"3";
		}
		if (debug)
			argv[n++] = (char *)"--debug";
		argv[n++] = (char *)id;
		argv[n] = NULL;
		execv(buf_str(&exe), argv);
		_exit(127);
	}
	close(logfd);
	close(devnull);
	*pid = p;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* run -d: wait for the runtime's OK (the workload runs) or an EXIT (it
 * already ended), then detach by closing our end. */
static int wait_started(int sock, struct err *e)
{
	struct rtc c;
	struct agent_frame f;
	size_t pending = 0;
	int rc;

	rtc_init(&c);
	c.fd = sock;
	/* the runtime's own boot deadline ends a VM that never starts */
	while ((rc = rtc_next(&c, &pending, &f, RUNTIME_BOOT_TIMEOUT_MS + 10000, e)) > 0 &&
	       f.type != AGENT_OK && f.type != AGENT_EXIT && f.type != AGENT_ERROR)
		;
	if (rc > 0)
		rc = f.type == AGENT_ERROR ? err_set(e, -EIO, "%s", f.u.error.message) : 0;
	else if (rc == 0)
		rc = err_set(e, -ETIMEDOUT, "the container did not start");
	else if (rc == -EPIPE)
		rc = err_set(e, -EPIPE, "the container's runtime ended before it started");
	c.fd = -1; /* the caller closes sock */
	rtc_close(&c);
	return rc;
}

/* The address, the guest's eth0/hosts/resolv.conf and the published
 * ports (applets/network_run.c); undone by run_cmd if the bundle fails. */
static int run_network(const struct run_cli *a, struct bundle_config *bc, struct err *e)
{
	struct network_run_opts no = {
		.network = a->network.n ? a->network.v[0] : NULL,
		.networks_more = a->network.n > 1 ? a->network.v + 1 : NULL,
		.publish = a->publish.v, .add_host = a->add_host.v,
		.dns = a->dns.v, .dns_search = a->dns_search.v, .dns_option = a->dns_option.v,
		.no_dns = a->no_dns, .publish_all = a->publish_all,
		.exposed = json_object_get(json_object_get(bc->guest, "image"), "ExposedPorts"),
		.hostname = json_string_value(json_object_get(bc->guest, "hostname")),
	};

	return network_run_prepare(&no, bc->id, bc->name, bc->guest, &bc->network, e);
}

static int build_bundle(const struct run_cli *a, const char *root, int argc, char **argv,
			struct bundle_config *bc, struct err *e)
{
	struct platform plat;
	struct run_image ri = { .snapshot = BUF_INIT };
	struct mount_list ml = { 0 };
	enum vm_arch arch;
	json_t *guest, *proc = NULL;
	int given, rc;

	if ((rc = image_cli_platform(a->platform, a->os, a->arch, &plat, &given, e)) < 0)
		return rc;
	if (strcmp(plat.os, "linux") != 0)
		return err_set(e, -EINVAL, "only linux images run here, not %s", plat.os);
	if ((rc = vm_arch_parse(plat.arch, &arch, e)) < 0)
		return rc;
	bc->arch = xstrdup(vm_arch_name(arch));
	bc->cpus = a->cpus ? (unsigned)a->cpus : RUN_DEFAULT_CPUS;
	bc->memory_mib = RUN_DEFAULT_MEMORY_MIB;
	if (a->cpus < 0 || a->cpus > 64)
		return err_set(e, -EINVAL, "--cpus must be between 1 and 64");
	if (a->memory && (rc = parse_memory(a->memory, &bc->memory_mib, e)) < 0)
		return rc;
	if (a->kernel) {
		char *abs = realpath(a->kernel, NULL);
		if (!abs)
			return err_sys(e, "--kernel %s", a->kernel);
		bc->kernel = abs;
	}
	if (a->kernel_arg.n) {
		bc->kernel_args = xcalloc(a->kernel_arg.n + 1, sizeof(char *));
		for (size_t i = 0; i < a->kernel_arg.n; i++)
			bc->kernel_args[i] = xstrdup(a->kernel_arg.v[i]);
	}
	if (a->hostname && !guest_hostname_valid(a->hostname))
		return err_set(e, -EINVAL, "invalid host name '%s'", a->hostname);
	if (a->name && !bundle_name_valid(a->name))
		return err_set(e, -EINVAL,
			       "invalid container name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			       a->name);
	if ((rc = labels_json(a->label.v, &bc->labels, e)) < 0 ||
	    (rc = process_json(a, argc - 1, argv + 1, &proc, e)) < 0)
		return rc;
	if ((rc = mounts_parse_flags(a->volume.v, a->mount.v, a->tmpfs.v, &ml, e)) < 0 ||
	    (rc = image_prepare(root, argv[0], &plat, &ri, e)) < 0 ||
	    (rc = mounts_resolve(&ml, json_object_get(ri.config, "Volumes"), &bc->mounts, e)) < 0) {
		mount_list_free(&ml);
		json_decref(proc);
		json_decref(ri.config);
		buf_free(&ri.snapshot);
		return rc;
	}
	mount_list_free(&ml);
	bundle_new_id(bc->id);
	bc->name = a->name ? xstrdup(a->name) : bundle_random_name();
	bc->created = xmalloc(40);
	bundle_now(bc->created, 40);
	bc->image_ref = xstrdup(ri.ref);
	bc->image_manifest = xstrdup(ri.manifest.s);
	bc->snapshot = buf_steal(&ri.snapshot);
	bc->rw_size = RUN_DEFAULT_RW_SIZE;
	bc->auto_remove = a->rm;
	guest = json_object();
	{
		char host[13];
		snprintf(host, sizeof(host), "%.12s", bc->id);
		json_object_set_new(guest, "hostname", json_string(a->hostname ? a->hostname : host));
	}
	json_object_set_new(guest, "read_only", json_boolean(a->read_only));
	json_object_set_new(guest, "init", json_boolean(a->init));
	if (a->guest_test)
		json_object_set_new(guest, "test", json_string(a->guest_test));
	json_object_set_new(guest, "image", ri.config);
	json_object_set_new(guest, "process", proc);
	bc->guest = guest;
	return run_network(a, bc, e);
}

static int run_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct run_cli *a = o;
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct bundle_config bc = { 0 };
	struct err e = ERR_INIT;
	int sv[2] = { -1, -1 }, status = 0, rc;
	pid_t pid = -1;
	uint64_t t0 = now_ns();

	(void)c;
	if (a->tty && a->interactive && !isatty(STDIN_FILENO))
		return fail("the input device is not a TTY (drop -t, or run from a terminal)");
	if (paths_data_dir(&root, &e) < 0 || build_bundle(a, buf_str(&root), argc, argv, &bc, &e) < 0 ||
	    bundle_create(&bc, &e) < 0) {
		struct err ignored = ERR_INIT;

		network_run_undo(bc.network, bc.id);
		if (bc.mounts)   /* nothing else knows the anonymous volumes */
			mounts_remove_anonymous(bc.mounts, &ignored);
		bundle_config_free(&bc);
		return fail(e.msg);
	}
	/* no SOCK_CLOEXEC: macOS lacks it */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || fcntl(sv[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(sv[1], F_SETFD, FD_CLOEXEC) < 0) {
		bundle_config_free(&bc);
		return fail("socketpair failed");
	}
	rc = spawn_runtime(bc.id, sv[1], log_level() >= LOG_DEBUG, t0, &pid, &e);
	close(sv[1]);
	if (rc == 0 && a->detach) {
		/* like docker run -d: report a container that could not start */
		rc = wait_started(sv[0], &e);
		if (rc == 0)
			printf("%s\n", bc.id);
	} else if (rc == 0) {
		struct attach_opts ao = { .stdin_open = a->interactive, .tty = a->tty,
					  .sig_proxy = !a->no_sig_proxy };
		rc = attach_run(sv[0], &ao, &status, &e);
	}
	close(sv[0]);
	if (rc == 0)
		waitpid(pid, NULL, WNOHANG);
	bundle_config_free(&bc);
	if (rc < 0)
		return fail(e.msg);
	return status;
}

/* --init is on unless --init=false: a workload that is PID 1 of its pid
 * namespace ignores SIGINT/SIGTERM (and `kill -9 $$`) without a handler,
 * the classic `docker stop` surprise. */
static const struct run_cli run_defaults = { .init = 1 };

const struct cmd cmd_container_run = {
	.name = "run",
	.summary = "Run a command in a new container (its own VM)",
	.usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	.help = "Boots a lightweight VM with the image as its root file system, runs the\n"
		"command (or the image's entrypoint and command) and exits with its status.\n"
		"The image is pulled first when it is not stored here.",
	.opts = run_optv,
	.opts_size = sizeof(struct run_cli),
	.opts_defaults = &run_defaults,
	.flags = OPT_STOP_AT_OPERAND,
	.min_args = 1,
	.max_args = -1,
	.run = run_cmd,
};

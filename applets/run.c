/* `container run`, `create`, `start [-a] [-i]` and `wait`, through the API
 * server (applets/cliapi.h) as the docker CLI does: the flags become
 * Docker's create request (the same JSON `docker run` sends; what Docker
 * has no field for goes in our extension object "ContainerVM", see
 * applets/ctrspec.h), POST /containers/create (on 404 "No such image": POST
 * /images/create with its progress, then again), then in the foreground
 * attach (hijacked) and wait (next-exit, or removed with --rm) before
 * start, the stdio relay (applets/attach.c), and the wait's status as our
 * exit code; with -d, start (answered once the workload runs) and the id.
 * Errors of the server or of the start exit 125, as docker's.
 *
 * Flag names are apple/container's, with docker's spellings as aliases. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/attach.h"
#include "applets/bundle.h"
#include "applets/cliapi.h"
#include "applets/ctrspec.h"
#include "applets/image.h"
#include "initrd/guest.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/manifest.h"

#define ENV_FILE_MAX (1u << 20)

struct run_cli {
	int detach, interactive, tty, rm, init, read_only, no_sig_proxy;
	const char *name, *workdir, *user, *entrypoint, *memory, *kernel, *restart, *cidfile;
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
	OPT_STRING(0, "restart", struct run_cli, restart, "POLICY",
		   "no, on-failure[:N], always or unless-stopped"),
	OPT_STRING(0, "cidfile", struct run_cli, cidfile, "FILE",
		   "Write the container's ID to FILE (which must not exist)"),
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
	if (v < CTRSPEC_MIN_MEMORY_MIB || v > (1u << 20))
		return err_set(e, -EINVAL, "memory must be between %d MiB and 1 TiB, got '%s'",
			       CTRSPEC_MIN_MEMORY_MIB, s);
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

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* key: the list, when the flag was given */
static void set_list(json_t *o, const char *key, const struct opt_list *l)
{
	if (l->n)
		json_object_set_new(o, key, strv_json(l->v));
}

static int labels_json(const char *const *v, json_t **out, struct err *e)
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

/* --restart no|always|unless-stopped|on-failure[:N] -> RestartPolicy */
static int restart_json(const char *s, json_t **out, struct err *e)
{
	const char *colon = strchr(s, ':');
	long n = 0;
	char *end;

	if (colon) {
		n = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || n < 0)
			return err_set(e, -EINVAL, "invalid restart policy '%s'", s);
	}
	*out = json_pack("{s:s%, s:I}", "Name", s, colon ? (size_t)(colon - s) : strlen(s),
			 "MaximumRetryCount", (json_int_t)n);
	return 0;
}

/* Our flags without a Docker field, in the "ContainerVM" extension
 * (applets/ctrspec.h): kernel, its arguments, -v/--mount/--tmpfs and -p
 * in our own grammar, --no-dns, guest test modes. */
static int ext_json(const struct run_cli *a, json_t **out, struct err *e)
{
	json_t *x = json_object();

	if (a->kernel) {
		char *abs = realpath(a->kernel, NULL);
		if (!abs) {
			json_decref(x);
			return err_sys(e, "--kernel %s", a->kernel);
		}
		json_object_set_new(x, "Kernel", json_string(abs));
		free(abs);
	}
	set_list(x, "KernelArgs", &a->kernel_arg);
	set_list(x, "Volumes", &a->volume);
	set_list(x, "Mounts", &a->mount);
	set_list(x, "Tmpfs", &a->tmpfs);
	set_list(x, "Publish", &a->publish);
	if (a->no_dns)
		json_object_set_new(x, "NoDns", json_true());
	if (a->guest_test)
		json_object_set_new(x, "GuestTest", json_string(a->guest_test));
	*out = x;
	return 0;
}

/* The create request, in the shape `docker run` sends. */
static int create_body(const struct run_cli *a, int argc, char **argv, json_t **out,
		       struct err *e)
{
	json_t *j, *hc, *env = json_array(), *labels = NULL, *ext = NULL, *pol = NULL;
	unsigned rows = 24, cols = 80, mib = 0;
	int rc = 0;

	for (const char **f = a->env_file.v; rc == 0 && f && *f; f++)
		rc = env_file_add(env, *f, e);
	for (const char **v = a->env.v; rc == 0 && v && *v; v++)
		rc = env_add(env, *v, "--env", e);
	if (rc == 0 && a->cpus && (a->cpus < 0 || a->cpus > 64))
		rc = err_set(e, -EINVAL, "--cpus must be between 1 and 64");
	if (rc == 0 && a->memory)
		rc = parse_memory(a->memory, &mib, e);
	if (rc == 0 && a->hostname && !guest_hostname_valid(a->hostname))
		rc = err_set(e, -EINVAL, "invalid host name '%s'", a->hostname);
	if (rc == 0 && a->name && !bundle_name_valid(a->name))
		rc = err_set(e, -EINVAL,
			     "invalid container name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			     a->name);
	for (size_t i = 1; rc == 0 && i < a->network.n; i++)
		for (size_t k = 0; rc == 0 && k < i; k++)
			if (!strcmp(a->network.v[i], a->network.v[k]) ||
			    !strcmp(a->network.v[i], "none") || !strcmp(a->network.v[i], "host"))
				rc = err_set(e, -EINVAL, "--network %s: a container joins each "
							 "network once, and none or host alone",
					     a->network.v[i]);
	if (rc == 0 && a->restart)
		rc = restart_json(a->restart, &pol, e);
	if (rc < 0 || (rc = labels_json(a->label.v, &labels, e)) < 0 ||
	    (rc = ext_json(a, &ext, e)) < 0) {
		json_decref(env);
		json_decref(labels);
		json_decref(pol);
		return rc;
	}
	if (a->tty && !attach_winsize(STDOUT_FILENO, &rows, &cols))
		attach_winsize(STDIN_FILENO, &rows, &cols);
	hc = json_pack("{s:b, s:b, s:b, s:[i, i]}", "AutoRemove", a->rm, "ReadonlyRootfs",
		       a->read_only, "Init", a->init, "ConsoleSize", rows, cols);
	if (mib)
		json_object_set_new(hc, "Memory", json_integer((json_int_t)mib << 20));
	if (a->cpus)
		json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)a->cpus * 1000000000));
	if (pol)
		json_object_set_new(hc, "RestartPolicy", pol);
	set_list(hc, "GroupAdd", &a->group_add);
	if (a->network.n)
		json_object_set_new(hc, "NetworkMode", json_string(a->network.v[0]));
	if (a->publish_all)
		json_object_set_new(hc, "PublishAllPorts", json_true());
	set_list(hc, "Dns", &a->dns);
	set_list(hc, "DnsSearch", &a->dns_search);
	set_list(hc, "DnsOptions", &a->dns_option);
	set_list(hc, "ExtraHosts", &a->add_host);
	j = json_pack("{s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:o}", "Image", argv[0],
		      "Env", env, "Tty", a->tty, "OpenStdin", a->interactive, "StdinOnce",
		      a->interactive && !a->detach, "AttachStdin", a->interactive && !a->detach,
		      "AttachStdout", !a->detach, "AttachStderr", !a->detach, "Labels", labels,
		      "HostConfig", hc, "ContainerVM", ext);
	if (argc > 1) {
		json_t *cmd = json_array();
		for (int i = 1; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(j, "Cmd", cmd);
	}
	if (a->entrypoint)   /* "" = none, as docker's [""] */
		json_object_set_new(j, "Entrypoint", json_pack("[s]", a->entrypoint));
	if (a->user)
		json_object_set_new(j, "User", json_string(a->user));
	if (a->workdir)
		json_object_set_new(j, "WorkingDir", json_string(a->workdir));
	if (a->hostname)
		json_object_set_new(j, "Hostname", json_string(a->hostname));
	if (a->network.n > 1) {   /* as docker's: an endpoint a network */
		json_t *eps = json_object();
		for (size_t i = 0; i < a->network.n; i++)
			json_object_set_new(eps, a->network.v[i], json_object());
		json_object_set_new(j, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", eps));
	}
	*out = j;
	return 0;
}

/* POST /images/create with Docker's progress lines shown on stderr. */
static int pull(struct cliapi *api, const char *image, const char *platform, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, chunk = BUF_INIT, line = BUF_INIT;
	struct api_stream s;
	ssize_t n;
	int rc;

	buf_puts(&p, "/images/create?fromImage=");
	cliapi_escape(&p, image);
	if (platform) {
		buf_puts(&p, "&platform=");
		cliapi_escape(&p, platform);
	}
	if ((rc = cliapi_open(api, "POST", buf_str(&p), NULL, 0, &s, e)) < 0)
		return rc;
	buf_init(&chunk, 1 << 20);
	buf_init(&line, 1 << 20);
	while (rc == 0 && (n = api_stream_read(&s, &chunk, e)) != 0) {
		char *nl;
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (buf_append(&line, chunk.data, chunk.len) < 0)
			rc = err_set(e, -EFBIG, "a pull progress line is too long");
		buf_reset(&chunk);
		while (rc == 0 && line.data && (nl = memchr(line.data, '\n', line.len))) {
			json_t *j = jsonx_parse(line.data, (size_t)(nl - line.data), 1 << 20,
						"pull progress", NULL);
			const char *st = jsonx_str(j, "status"), *er = jsonx_str(j, "error");
			if (er)
				rc = err_set(e, -EIO, "%s", er);
			else if (st && !json_object_get(j, "progressDetail"))
				fprintf(stderr, "%s%s%s\n", jsonx_str(j, "id") ? jsonx_str(j, "id") : "",
					jsonx_str(j, "id") ? ": " : "", st);
			else if (st && !json_object_size(json_object_get(j, "progressDetail")))
				fprintf(stderr, "%s%s%s\n", jsonx_str(j, "id") ? jsonx_str(j, "id") : "",
					jsonx_str(j, "id") ? ": " : "", st);
			json_decref(j);
			buf_consume(&line, (size_t)(nl - line.data) + 1);
		}
	}
	api_stream_close(&s);
	return rc;
}

/* --platform, or --os/--arch, as the "os/arch" of ?platform=. */
static int platform_of(const struct run_cli *a, struct buf *out, struct err *e)
{
	struct platform plat;
	int given, rc;

	if (!a->platform && !a->os && !a->arch)
		return 0;
	if ((rc = image_cli_platform(a->platform, a->os, a->arch, &plat, &given, e)) < 0)
		return rc;
	return buf_printf(out, "%s/%s%s%s", plat.os, plat.arch, plat.variant[0] ? "/" : "",
			  plat.variant);
}

/* Create the container (pulling its image first when the server has not
 * got it): its id into id. */
static int create(struct cliapi *api, const struct run_cli *a, int argc, char **argv,
		  struct buf *id, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, plat = BUF_INIT;
	json_t *body = NULL, *r = NULL;
	int fd = -1, rc;

	if (a->cidfile) {
		/* refused before anything is made, as docker does */
		fd = open(a->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? err_set(e, -EEXIST, "container ID file found, make sure the other container isn't running or delete %s", a->cidfile)
					       : err_sys(e, "--cidfile %s", a->cidfile);
	}
	if ((rc = platform_of(a, &plat, e)) < 0 || (rc = create_body(a, argc, argv, &body, e)) < 0)
		goto out;
	buf_puts(&p, "/containers/create?");
	if (a->name) {
		buf_puts(&p, "name=");
		cliapi_escape(&p, a->name);
	}
	if (plat.len) {
		buf_puts(&p, "&platform=");
		cliapi_escape(&p, buf_str(&plat));
	}
	rc = cliapi_call(api, "POST", buf_str(&p), body, &r, e);
	if (rc == -ENOENT && strstr(e->msg, "No such image")) {
		fprintf(stderr, "Unable to find image '%s' locally\n", argv[0]);
		err_clear(e);
		if ((rc = pull(api, argv[0], plat.len ? buf_str(&plat) : NULL, e)) < 0) {
			err_wrap(e, "image %s", argv[0]);
			goto out;
		}
		rc = cliapi_call(api, "POST", buf_str(&p), body, &r, e);
	}
	if (rc == 0 && !jsonx_str(r, "Id"))
		rc = err_set(e, -EPROTO, "the API server's create answer has no Id");
	if (rc == 0) {
		buf_puts(id, jsonx_str(r, "Id"));
		if (fd >= 0 && (fs_write_full(fd, id->data, id->len, e) < 0 || close(fd) < 0))
			rc = err_sys(e, "--cidfile %s", a->cidfile);
		fd = -1;
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(a->cidfile);
	}
	json_decref(body);
	json_decref(r);
	return rc;
}

static void ctr_path(struct buf *p, const char *id, const char *suffix)
{
	buf_reset(p);
	buf_puts(p, "/containers/");
	cliapi_escape(p, id);
	buf_puts(p, suffix);
}

/* The wait's answer: {"StatusCode": N, "Error": {"Message": …}|null}. */
static int wait_status(struct api_stream *w, int *status, struct err *e)
{
	_cleanup_buf_ struct buf body = BUF_INIT;
	json_t *j;
	ssize_t n;
	const char *msg;

	buf_init(&body, 65536);
	while ((n = api_stream_read(w, &body, e)) > 0)
		;
	if (n < 0)
		return (int)n;
	if (!(j = jsonx_parse(body.data, body.len, 65536, "the wait answer", e)))
		return e->code;
	*status = (int)jsonx_int(j, "StatusCode", 255);
	msg = jsonx_str(json_object_get(j, "Error"), "Message");
	if (msg && *msg)
		fprintf(stderr, "container: %s\n", msg);
	json_decref(j);
	return 0;
}

struct fg_opts {
	bool stdin_open, tty, sig_proxy, removed;
};

/* Attach, wait, start, relay, and the workload's status: the foreground
 * of run and start -a.  Start's error: -EIO with the server's message. */
static int foreground(struct cliapi *api, const char *id, const struct fg_opts *f, int *status,
		      bool *started, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, rp = BUF_INIT, kp = BUF_INIT;
	struct api_stream at = { .fd = -1 }, w = { .fd = -1 };
	int rc;

	ctr_path(&p, id, f->stdin_open ? "/attach?stream=1&stdin=1&stdout=1&stderr=1"
				       : "/attach?stream=1&stdout=1&stderr=1");
	if ((rc = cliapi_open(api, "POST", buf_str(&p), NULL, API_CLIENT_HIJACK, &at, e)) < 0)
		return rc;
	ctr_path(&p, id, f->removed ? "/wait?condition=removed" : "/wait?condition=next-exit");
	if ((rc = cliapi_open(api, "POST", buf_str(&p), NULL, 0, &w, e)) < 0)
		goto out;
	ctr_path(&p, id, "/start");
	*started = true;   /* from now on AutoRemove is the server's */
	if ((rc = cliapi_call(api, "POST", buf_str(&p), NULL, NULL, e)) < 0)
		goto out;
	ctr_path(&rp, id, "/resize");
	ctr_path(&kp, id, "/kill");
	{
		struct attach_opts ao = { .stdin_open = f->stdin_open, .tty = f->tty,
					  .sig_proxy = f->sig_proxy, .api = api,
					  .resize_path = buf_str(&rp), .kill_path = buf_str(&kp) };
		rc = attach_relay(&at, &ao, e);
	}
	if (rc == 0)
		rc = wait_status(&w, status, e);
out:
	api_stream_close(&at);
	api_stream_close(&w);
	return rc;
}

static int run_fail(const char *cmd, const struct err *e)
{
	fprintf(stderr, "container %s: %s\n", cmd, e->msg);
	return EXIT_RUNTIME;
}

static int run_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct run_cli *a = o;
	_cleanup_buf_ struct buf id = BUF_INIT, p = BUF_INIT;
	struct cliapi api;
	struct err e = ERR_INIT;
	int status = 0, rc;
	bool is_create = strcmp(c->name, "create") == 0, started = false;

	if (a->tty && a->interactive && !a->detach && !is_create && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "container %s: the input device is not a TTY (drop -t, or run from a terminal)\n",
			c->name);
		return EXIT_RUNTIME;
	}
	if (a->rm && a->restart && strcmp(a->restart, "no") != 0) {
		fprintf(stderr, "container %s: --restart and --rm cannot be used together\n", c->name);
		return EXIT_USAGE;
	}
	if ((rc = cliapi_connect(&api, &e)) < 0 || (rc = create(&api, a, argc, argv, &id, &e)) < 0) {
		cliapi_free(&api);
		return run_fail(c->name, &e);
	}
	if (is_create) {
		printf("%s\n", buf_str(&id));
	} else if (a->detach) {
		ctr_path(&p, buf_str(&id), "/start");
		started = true;
		if ((rc = cliapi_call(&api, "POST", buf_str(&p), NULL, NULL, &e)) == 0)
			printf("%s\n", buf_str(&id));
	} else {
		struct fg_opts f = { .stdin_open = a->interactive, .tty = a->tty,
				     .sig_proxy = !a->no_sig_proxy, .removed = a->rm };
		rc = foreground(&api, buf_str(&id), &f, &status, &started, &e);
	}
	if (rc < 0 && a->rm && !started) {
		/* never started: the server's AutoRemove will not come */
		struct err ignored = ERR_INIT;
		ctr_path(&p, buf_str(&id), "?force=1&v=1");
		cliapi_call(&api, "DELETE", buf_str(&p), NULL, NULL, &ignored);
	}
	cliapi_free(&api);
	if (rc < 0)
		return run_fail(c->name, &e);
	fflush(stdout);
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

const struct cmd cmd_container_create = {
	.name = "create",
	.summary = "Create a container without starting it; prints its ID",
	.usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
	.help = "Takes run's options (-d and --no-sig-proxy have no effect); `container start`\n"
		"starts it.  The image is pulled first when it is not stored here.",
	.opts = run_optv,
	.opts_size = sizeof(struct run_cli),
	.opts_defaults = &run_defaults,
	.flags = OPT_STOP_AT_OPERAND,
	.min_args = 1,
	.max_args = -1,
	.run = run_cmd,
};

/* ---- start, wait ---- */

struct start_cli {
	int attach, interactive;
};

static const struct opt start_optv[] = {
	OPT_FLAG('a', "attach", struct start_cli, attach,
		 "Relay the container's output and exit with its status"),
	OPT_FLAG('i', "interactive", struct start_cli, interactive, "Relay our stdin too"),
	OPT_END,
};

static int start_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct start_cli *a = o;
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct cliapi api;
	struct err e = ERR_INIT;
	int status = EXIT_OK, rc;

	if ((a->attach || a->interactive) && argc != 1) {
		fprintf(stderr, "container %s: -a and -i take one container\n", c->name);
		return EXIT_USAGE;
	}
	if (cliapi_connect(&api, &e) < 0) {
		cliapi_free(&api);
		return run_fail(c->name, &e);
	}
	if (a->attach || a->interactive) {
		json_t *j = NULL;
		ctr_path(&p, argv[0], "/json");
		rc = cliapi_call(&api, "GET", buf_str(&p), NULL, &j, &e);
		if (rc == 0) {
			json_t *cfg = json_object_get(j, "Config");
			struct fg_opts f = {
				.stdin_open = a->interactive && json_is_true(json_object_get(cfg, "OpenStdin")),
				.tty = json_is_true(json_object_get(cfg, "Tty")), .sig_proxy = true,
			};
			bool started = false;
			rc = foreground(&api, jsonx_str(j, "Id") ? jsonx_str(j, "Id") : argv[0], &f,
					&status, &started, &e);
		}
		json_decref(j);
		cliapi_free(&api);
		return rc < 0 ? run_fail(c->name, &e) : status;
	}
	for (int i = 0; i < argc; i++) {
		ctr_path(&p, argv[i], "/start");
		if (cliapi_call(&api, "POST", buf_str(&p), NULL, NULL, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", c->name, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	cliapi_free(&api);
	return status;
}

const struct cmd cmd_container_start = {
	.name = "start",
	.summary = "Start created or stopped containers",
	.usage = "[-a] [-i] CONTAINER...",
	.help = "Returns once each container's workload runs.  With -a (and -i) it relays\n"
		"the container's stdio instead and exits with its status.",
	.opts = start_optv,
	.opts_size = sizeof(struct start_cli),
	.min_args = 1,
	.max_args = -1,
	.run = start_cmd,
};

static int wait_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct cliapi api;
	struct err e = ERR_INIT;
	int status = EXIT_OK;

	(void)o;
	if (cliapi_connect(&api, &e) < 0) {
		cliapi_free(&api);
		fprintf(stderr, "container %s: %s\n", c->name, e.msg);
		return EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		struct api_stream s;
		int code = 0, rc;

		/* a wait lasts as long as the container: no timeout */
		ctr_path(&p, argv[i], "/wait");
		rc = cliapi_open(&api, "POST", buf_str(&p), NULL, 0, &s, &e);
		if (rc == 0) {
			rc = wait_status(&s, &code, &e);
			api_stream_close(&s);
		}
		if (rc < 0) {
			fprintf(stderr, "container %s: %s\n", c->name, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%d\n", code);
		}
	}
	cliapi_free(&api);
	return status;
}

const struct cmd cmd_container_wait = {
	.name = "wait",
	.summary = "Wait for containers to stop; print their exit codes",
	.usage = "CONTAINER...",
	.min_args = 1,
	.max_args = -1,
	.run = wait_cmd,
};

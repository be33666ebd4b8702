/* Docker's create request -> a bundle (see applets/ctrspec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/apinet.h"
#include "applets/api_mounts.h"
#include "applets/bundle.h"
#include "applets/ctrspec.h"
#include "applets/image.h"
#include "initrd/guest.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "net/addr.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/snapshot.h"
#include "oci/store.h"
#include "vm/vm.h"

#define RW_SIZE (8ULL << 30)
#define STRV_MAX 4096

static bool str_ok(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* An optional string field: NULL when absent, null or "". */
static int opt_str(const json_t *o, const char *key, const char **out, struct err *e)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!str_ok(v))
		return err_set(e, -EINVAL, "%s must be a string without NUL bytes", key);
	if (*json_string_value(v))
		*out = json_string_value(v);
	return 0;
}

static int opt_bool(const json_t *o, const char *key, bool dflt, bool *out, struct err *e)
{
	json_t *v = json_object_get(o, key);

	*out = dflt;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, -EINVAL, "%s must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

static int opt_int(const json_t *o, const char *key, long long *out, struct err *e)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(e, -EINVAL, "%s must be a non-negative integer", key);
	*out = json_integer_value(v);
	return 0;
}

/* Docker's StrSlice: a string or a list of strings; a copy as a JSON
 * array, or NULL when absent/null. */
static int strslice(const json_t *o, const char *key, json_t **out, struct err *e)
{
	json_t *v = json_object_get(o, key), *a;
	size_t i;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (!str_ok(v))
			return err_set(e, -EINVAL, "%s contains a NUL byte", key);
		*out = json_pack("[O]", v);
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > STRV_MAX)
		return err_set(e, -EINVAL, "%s must be a list of at most %d strings", key, STRV_MAX);
	a = json_array();
	json_array_foreach(v, i, o) {
		if (!str_ok(o)) {
			json_decref(a);
			return err_set(e, -EINVAL, "%s[%zu] must be a string without NUL bytes", key, i);
		}
		json_array_append(a, (json_t *)o);
	}
	*out = a;
	return 0;
}

static int env_check(const json_t *env, struct err *e)
{
	size_t i;
	json_t *v;

	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (!*s || *s == '=')
			return err_set(e, -EINVAL, "invalid environment variable '%s'", s);
	}
	return 0;
}

static int labels_copy(const json_t *o, json_t **out, struct err *e)
{
	json_t *v = json_object_get(o, "Labels"), *l = json_object(), *x;
	const char *k;

	*out = l;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(e, -EINVAL, "Labels must be an object of strings");
	json_object_foreach(v, k, x) {
		if (!str_ok(x) || !*k)
			return err_set(e, -EINVAL, "label '%s' must be a string without NUL bytes", k);
		json_object_set(l, k, x);
	}
	return 0;
}

static int name_check(const char *name, char **out, struct err *e)
{
	*out = NULL;
	if (!name || !*name)
		return 0;
	if (*name == '/')
		name++;
	if (!bundle_name_valid(name))
		return err_set(e, -EINVAL,
			       "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			       name);
	*out = xstrdup(name);
	return 0;
}

/* Memory and CPUs of HostConfig, with our defaults when unset. */
static int resources(const json_t *hc, struct ctrspec *s, struct err *e)
{
	long long mem, nano;
	int rc;

	s->cpus = CTRSPEC_DEFAULT_CPUS;
	s->memory_mib = CTRSPEC_DEFAULT_MEMORY_MIB;
	if ((rc = opt_int(hc, "Memory", &mem, e)) < 0 || (rc = opt_int(hc, "NanoCpus", &nano, e)) < 0)
		return rc;
	if (mem) {
		if (mem >> 20 < CTRSPEC_MIN_MEMORY_MIB || mem >> 20 > (1LL << 20))
			return err_set(e, -EINVAL, "Memory must be between %d MiB and 1 TiB",
				       CTRSPEC_MIN_MEMORY_MIB);
		s->memory_mib = (unsigned)(mem >> 20);
	}
	if (nano) {
		long long n = (nano + 999999999) / 1000000000;
		if (n > 64)
			return err_set(e, -EINVAL, "NanoCpus: at most 64 CPUs");
		s->cpus = (unsigned)n;
	}
	return 0;
}

static int process_doc(const json_t *j, const json_t *hc, struct ctrspec *s, struct err *e)
{
	json_t *p = json_object(), *cmd = NULL, *ep = NULL, *env = NULL, *cs;
	const char *user, *wd;
	unsigned rows = 24, cols = 80;
	int rc;

	s->process = p;
	if ((rc = strslice(j, "Cmd", &cmd, e)) < 0 || (rc = strslice(j, "Entrypoint", &ep, e)) < 0 ||
	    (rc = strslice(j, "Env", &env, e)) < 0 || (env && (rc = env_check(env, e)) < 0) ||
	    (rc = opt_str(j, "User", &user, e)) < 0 || (rc = opt_str(j, "WorkingDir", &wd, e)) < 0) {
		json_decref(cmd);
		json_decref(ep);
		json_decref(env);
		return rc;
	}
	if (cmd && json_array_size(cmd))
		json_object_set_new(p, "cmd", cmd);
	else
		json_decref(cmd);
	if (ep) {
		/* [""] is how the docker CLI says --entrypoint "" */
		if (json_array_size(ep) == 1 && !*json_string_value(json_array_get(ep, 0)))
			json_array_clear(ep);
		json_object_set_new(p, "entrypoint", ep);
	}
	json_object_set_new(p, "env", env ? env : json_array());
	if (user)
		json_object_set_new(p, "user", json_string(user));
	if (wd) {
		if (*wd != '/')
			return err_set(e, -EINVAL, "the working directory '%s' is not an absolute path", wd);
		json_object_set_new(p, "workdir", json_string(wd));
	}
	cs = json_object_get(hc, "ConsoleSize");
	if (json_is_array(cs) && json_array_size(cs) == 2 &&
	    json_integer_value(json_array_get(cs, 0)) > 0 &&
	    json_integer_value(json_array_get(cs, 0)) < 65536 &&
	    json_integer_value(json_array_get(cs, 1)) > 0 &&
	    json_integer_value(json_array_get(cs, 1)) < 65536) {
		rows = (unsigned)json_integer_value(json_array_get(cs, 0));
		cols = (unsigned)json_integer_value(json_array_get(cs, 1));
	}
	json_object_set_new(p, "tty", json_boolean(s->tty));
	json_object_set_new(p, "stdin", json_boolean(s->open_stdin));
	json_object_set_new(p, "rows", json_integer(rows));
	json_object_set_new(p, "cols", json_integer(cols));
	return 0;
}

/* HostConfig.GroupAdd: the process's supplementary groups. */
static int groups(const json_t *hc, struct ctrspec *s, struct err *e)
{
	json_t *g = NULL;
	int rc = strslice(hc, "GroupAdd", &g, e);

	if (rc == 0 && json_array_size(g))
		json_object_set(s->process, "groups", g);
	json_decref(g);
	return rc;
}

/* A list of our CLI's flag values, each through its own parser. */
static int ext_flags(const json_t *x, const char *key,
		     int (*parse)(const char *, struct mount_list *, struct err *),
		     struct mount_list *ml, struct err *e)
{
	json_t *a = NULL, *v;
	size_t i;
	int rc = strslice(x, key, &a, e);

	json_array_foreach(a, i, v)
		if (rc == 0 && (rc = parse(json_string_value(v), ml, e)) < 0)
			err_wrap(e, "ContainerVM.%s", key);
	json_decref(a);
	return rc;
}

/* The "ContainerVM" extension object (see applets/ctrspec.h). */
static int ext_parse(const json_t *j, struct ctrspec *s, struct err *e)
{
	json_t *x = json_object_get(j, "ContainerVM"), *pub = NULL, *v;
	const char *k, *t;
	bool nodns;
	size_t i;
	int rc;

	if (!x || json_is_null(x))
		return 0;
	if (!json_is_object(x))
		return err_set(e, -EINVAL, "ContainerVM must be an object");
	if ((rc = opt_str(x, "Kernel", &k, e)) < 0 || (rc = opt_str(x, "GuestTest", &t, e)) < 0 ||
	    (rc = opt_bool(x, "NoDns", false, &nodns, e)) < 0 ||
	    (rc = strslice(x, "KernelArgs", &s->kernel_args, e)) < 0)
		return rc;
	if (k && *k != '/')
		return err_set(e, -EINVAL, "ContainerVM.Kernel must be an absolute path");
	s->kernel = k ? xstrdup(k) : NULL;
	s->guest_test = t ? xstrdup(t) : NULL;
	if (nodns)
		json_object_set_new(s->net, "no_dns", json_true());
	if ((rc = ext_flags(x, "Volumes", mounts_parse_volume_flag, &s->mounts, e)) < 0 ||
	    (rc = ext_flags(x, "Mounts", mounts_parse_mount_flag, &s->mounts, e)) < 0 ||
	    (rc = ext_flags(x, "Tmpfs", mounts_parse_tmpfs_flag, &s->mounts, e)) < 0 ||
	    (rc = strslice(x, "Publish", &pub, e)) < 0)
		return rc;
	json_array_foreach(pub, i, v) {
		struct net_port *ports = xcalloc(NET_PORTS_MAX, sizeof(*ports));
		size_t n = 0;
		rc = net_port_parse(json_string_value(v), ports, NET_PORTS_MAX, &n, e);
		free(ports);
		if (rc < 0) {
			json_decref(pub);
			return err_wrap(e, "ContainerVM.Publish");
		}
		json_array_append(json_object_get(s->net, "publish"), v);
	}
	json_decref(pub);
	return 0;
}

int ctrspec_parse(const char *body, size_t len, const char *name, const char *platform,
		  struct ctrspec *s, struct err *e)
{
	json_t *j __attribute__((cleanup(jsonx_decrefp))) = NULL;
	json_t *hc;
	const char *image, *host;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = name_check(name, &s->name, e)) < 0)
		return rc;
	if (platform && *platform) {
		if (strlen(platform) > 64)
			return err_set(e, -EINVAL, "invalid platform");
		s->platform = xstrdup(platform);
	}
	if (!len)
		return err_set(e, -EINVAL, "config cannot be empty in order to create a container");
	if (!(j = jsonx_parse(body, len, CTRSPEC_BODY_MAX, "the request", e)))
		return -EINVAL;
	if (!json_is_object(j))
		return err_set(e, -EINVAL, "the request is not a JSON object");
	hc = json_object_get(j, "HostConfig");
	if (hc && !json_is_null(hc) && !json_is_object(hc))
		return err_set(e, -EINVAL, "HostConfig must be an object");
	if (!json_is_object(hc))
		hc = NULL;
	if ((rc = opt_str(j, "Image", &image, e)) < 0)
		return rc;
	if (!image)
		return err_set(e, -EINVAL, "no image was given");
	if (strlen(image) > IMAGE_REF_MAX)
		return err_set(e, -EINVAL, "the image reference is too long");
	s->image = xstrdup(image);
	if ((rc = opt_str(j, "Hostname", &host, e)) < 0)
		return rc;
	if (host && !guest_hostname_valid(host))
		return err_set(e, -EINVAL, "invalid hostname '%s'", host);
	s->hostname = host ? xstrdup(host) : NULL;
	if ((rc = opt_bool(j, "Tty", false, &s->tty, e)) < 0 ||
	    (rc = opt_bool(j, "OpenStdin", false, &s->open_stdin, e)) < 0 ||
	    (rc = opt_bool(j, "StdinOnce", false, &s->stdin_once, e)) < 0 ||
	    (rc = opt_bool(hc, "AutoRemove", false, &s->auto_remove, e)) < 0 ||
	    (rc = opt_bool(hc, "ReadonlyRootfs", false, &s->read_only, e)) < 0 ||
	    /* our default is an init (see run.c): only an explicit false drops it */
	    (rc = opt_bool(hc, "Init", true, &s->init, e)) < 0 ||
	    (rc = resources(hc, s, e)) < 0 || (rc = labels_copy(j, &s->labels, e)) < 0 ||
	    (rc = apinet_parse(j, hc, &s->net, e)) < 0 ||
	    (rc = api_mounts_parse(j, hc, &s->mounts, e)) < 0)
		return rc;
	if ((rc = process_doc(j, hc, s, e)) < 0 || (rc = groups(hc, s, e)) < 0)
		return rc;
	return ext_parse(j, s, e);
}

void ctrspec_free(struct ctrspec *s)
{
	free(s->image);
	free(s->name);
	free(s->platform);
	free(s->hostname);
	free(s->kernel);
	free(s->guest_test);
	json_decref(s->kernel_args);
	json_decref(s->process);
	json_decref(s->labels);
	json_decref(s->net);
	mount_list_free(&s->mounts);
	memset(s, 0, sizeof(*s));
}

int ctrspec_build(const struct ctrspec *s, const char *data_dir, struct bundle_config *bc,
		  struct err *e)
{
	struct platform plat;
	struct digest manifest;
	_cleanup_buf_ struct buf snap = BUF_INIT;
	char ref[IMAGE_REF_MAX], host[13];
	json_t *config = NULL, *guest;
	enum vm_arch arch;
	int given, rc;

	memset(bc, 0, sizeof(*bc));
	if ((rc = image_cli_platform(s->platform, NULL, NULL, &plat, &given, e)) < 0)
		return rc;
	if (strcmp(plat.os, "linux") != 0)
		return err_set(e, -EINVAL, "only linux images run here, not %s", plat.os);
	if ((rc = vm_arch_parse(plat.arch, &arch, e)) < 0)
		return rc;
	if ((rc = image_local(data_dir, s->image, &plat, ref, &manifest, &snap, &config, e)) < 0)
		return rc;
	bundle_new_id(bc->id);
	bc->name = s->name ? xstrdup(s->name) : bundle_unused_name();
	bc->created = xmalloc(40);
	bundle_now(bc->created, 40);
	bc->image_ref = xstrdup(ref);
	bc->image_manifest = xstrdup(manifest.s);
	bc->snapshot = buf_steal(&snap);
	bc->arch = xstrdup(vm_arch_name(arch));
	bc->cpus = s->cpus;
	bc->memory_mib = s->memory_mib;
	bc->rw_size = RW_SIZE;
	bc->auto_remove = s->auto_remove;
	bc->labels = json_incref(s->labels);
	snprintf(host, sizeof(host), "%.12s", bc->id);
	guest = json_object();
	json_object_set_new(guest, "hostname", json_string(s->hostname ? s->hostname : host));
	json_object_set_new(guest, "read_only", json_boolean(s->read_only));
	json_object_set_new(guest, "init", json_boolean(s->init));
	json_object_set_new(guest, "image", config);
	json_object_set(guest, "process", s->process);
	if (s->guest_test)
		json_object_set_new(guest, "test", json_string(s->guest_test));
	bc->guest = guest;
	bc->kernel = s->kernel ? xstrdup(s->kernel) : NULL;
	if (json_array_size(s->kernel_args)) {
		size_t i;
		json_t *v;
		bc->kernel_args = xcalloc(json_array_size(s->kernel_args) + 1, sizeof(char *));
		json_array_foreach(s->kernel_args, i, v)
			bc->kernel_args[i] = xstrdup(json_string_value(v));
	}
	if ((rc = apinet_build(s->net, bc, e)) < 0)
		return rc;
	/* last: it creates volumes, which nothing would remove on a later
	 * failure; a missing bind source is the client's error (400), never
	 * 404, which `docker run` would answer by pulling the image */
	rc = mounts_resolve(&s->mounts, json_object_get(config, "Volumes"), &bc->mounts, e);
	if (rc == -ENOENT && e)
		rc = e->code = -EINVAL;
	return rc;   /* on failure the caller undoes the network (create_work) */
}

/* ---- exec ---- */

static int console_size(const json_t *cs, unsigned *rows, unsigned *cols)
{
	json_int_t r = json_integer_value(json_array_get(cs, 0));
	json_int_t c = json_integer_value(json_array_get(cs, 1));

	if (!json_is_array(cs) || json_array_size(cs) != 2 || r <= 0 || r > 65535 || c <= 0 ||
	    c > 65535)
		return 0;
	*rows = (unsigned)r;
	*cols = (unsigned)c;
	return 1;
}

int ctrspec_exec_parse(const char *body, size_t len, struct ctrspec_exec *x, struct err *e)
{
	json_t *j __attribute__((cleanup(jsonx_decrefp))) = NULL;
	const char *u, *w;
	int rc;

	memset(x, 0, sizeof(*x));
	x->rows = 24;
	x->cols = 80;
	if (!(j = jsonx_parse(body, len, CTRSPEC_BODY_MAX, "the request", e)))
		return -EINVAL;
	if (!json_is_object(j))
		return err_set(e, -EINVAL, "the request is not a JSON object");
	if ((rc = strslice(j, "Cmd", &x->cmd, e)) < 0 || (rc = strslice(j, "Env", &x->env, e)) < 0)
		return rc;
	if (!x->cmd || !json_array_size(x->cmd))
		return err_set(e, -EINVAL, "No exec command specified");
	if (!x->env)
		x->env = json_array();
	if ((rc = env_check(x->env, e)) < 0 || (rc = opt_str(j, "User", &u, e)) < 0 ||
	    (rc = opt_str(j, "WorkingDir", &w, e)) < 0 ||
	    (rc = opt_bool(j, "Tty", false, &x->tty, e)) < 0 ||
	    (rc = opt_bool(j, "AttachStdin", false, &x->in, e)) < 0 ||
	    (rc = opt_bool(j, "AttachStdout", false, &x->out, e)) < 0 ||
	    (rc = opt_bool(j, "AttachStderr", false, &x->err, e)) < 0)
		return rc;
	if (w && *w != '/')
		return err_set(e, -EINVAL, "the working directory '%s' is not an absolute path", w);
	x->user = u ? xstrdup(u) : NULL;
	x->workdir = w ? xstrdup(w) : NULL;
	console_size(json_object_get(j, "ConsoleSize"), &x->rows, &x->cols);
	return 0;
}

void ctrspec_exec_free(struct ctrspec_exec *x)
{
	json_decref(x->cmd);
	json_decref(x->env);
	free(x->user);
	free(x->workdir);
	memset(x, 0, sizeof(*x));
}

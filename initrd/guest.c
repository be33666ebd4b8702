/* The guest init's pure helpers (see initrd/guest.h): command-line and
 * JSON boot configuration, passwd/group resolution, Docker's environment
 * and ENTRYPOINT/CMD composition.  No system calls, so they are tested on
 * the host and compile everywhere. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "initrd/guest.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mac.h"
#include "lib/mem.h"

/* --- string vectors ------------------------------------------------------ */

void guest_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

size_t guest_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **guest_strv_dup(char *const *v)
{
	size_t n = guest_strv_len(v);
	char **r;

	if (!v)
		return NULL;
	r = xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* --- kernel command line ------------------------------------------------- */

/* Standard or URL alphabet, padding optional; anything else is refused. */
static int b64decode(const char *s, size_t n, struct buf *out)
{
	size_t len;

	if (buf_reserve(out, n) < 0)
		return -E2BIG;
	if (base64_decode(s, n, (unsigned char *)out->data + out->len, &len, BASE64_URL) < 0)
		return -EINVAL;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

static int parse_clock(const char *v, int64_t *out)
{
	int64_t sec = 0, ns = 0;
	const char *p = v;
	int digits = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > (INT64_MAX / 1000000000 - 9) / 10)
			return -ERANGE;
		sec = sec * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 9)
				ns = ns * 10 + (*p - '0');
		if (digits == 0)
			return -EINVAL;
		for (int d = digits; d < 9; d++)
			ns *= 10;
	}
	if (*p)
		return -EINVAL;
	*out = sec * 1000000000 + ns;
	return 0;
}

/* One argument the way the kernel's next_arg() splits them: whitespace
 * outside double quotes ends it; quotes around the value (or the whole
 * argument) are dropped.  Writes NULs into s. */
static char *next_arg(char *s, char **param, char **val)
{
	size_t i, equals = 0;
	int in_quote = 0, quoted = 0;

	if (*s == '"') {
		s++;
		in_quote = quoted = 1;
	}
	for (i = 0; s[i]; i++) {
		if (isspace((unsigned char)s[i]) && !in_quote)
			break;
		if (equals == 0 && s[i] == '=')
			equals = i;
		if (s[i] == '"')
			in_quote = !in_quote;
	}
	*param = s;
	*val = NULL;
	if (equals) {
		s[equals] = '\0';
		*val = s + equals + 1;
		if (**val == '"') {
			(*val)++;
			if (s[i - 1] == '"')
				s[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && s[i - 1] == '"')
		s[i - 1] = '\0';
	if (s[i]) {
		s[i] = '\0';
		i++;
	}
	s += i;
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static int cmdline_one(struct guest_cmdline *c, const char *key, const char *val,
		       struct buf *unknown, struct err *e)
{
	if (!strcmp(key, "agent")) {
		if (!val || !*val)
			return err_set(e, -EINVAL, "container.agent needs a value");
		free(c->agent);
		c->agent = xstrdup(val);
	} else if (!strcmp(key, "config")) {
		struct buf b;
		buf_init(&b, GUEST_CONFIG_MAX);
		if (!val || b64decode(val, strlen(val), &b) < 0) {
			buf_free(&b);
			return err_set(e, -EINVAL, "container.config: not base64");
		}
		free(c->config);
		c->config_len = b.len;
		c->config = buf_steal(&b);
	} else if (!strcmp(key, "clock")) {
		if (!val || parse_clock(val, &c->clock_ns) < 0)
			return err_set(e, -EINVAL, "container.clock=%s: want SECONDS[.FRACTION]",
				       val ? val : "");
		c->has_clock = true;
	} else if (!strcmp(key, "debug")) {
		c->debug = !val || strcmp(val, "0") != 0;
	} else if (!strcmp(key, "test")) {
		free(c->test);
		c->test = xstrdup(val ? val : "");
	} else {
		if (unknown->len)
			buf_putc(unknown, ' ');
		buf_printf(unknown, "container.%s", key);
	}
	return 0;
}

int guest_cmdline_parse(const char *s, size_t len, struct guest_cmdline *out, struct err *e)
{
	_cleanup_free_ char *copy = xstrndup(s, len);
	struct buf unknown = BUF_INIT;
	char *p = copy, *param, *val;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*p))
		p++;
	while (*p) {
		p = next_arg(p, &param, &val);
		if (!val && !strcmp(param, "--"))
			break;    /* the rest belongs to init's argv */
		if (strncmp(param, "container.", 10) != 0)
			continue;
		rc = cmdline_one(out, param + 10, val, &unknown, e);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		buf_free(&unknown);
		guest_cmdline_free(out);
		return rc;
	}
	out->unknown = unknown.len ? buf_steal(&unknown) : NULL;
	buf_free(&unknown);
	return 0;
}

void guest_cmdline_free(struct guest_cmdline *c)
{
	free(c->agent);
	free(c->config);
	free(c->test);
	free(c->unknown);
	memset(c, 0, sizeof(*c));
}

/* --- JSON boot configuration ---------------------------------------------- */

static const char *const rlimit_names[] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock",
	"as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime",
};

int guest_rlimit_parse(const char *name)
{
	if (!strncasecmp(name, "RLIMIT_", 7))
		name += 7;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (!strcasecmp(name, rlimit_names[i]))
			return (int)i;   /* the Linux numbering, whatever the host's */
	return -1;
}

static int opt_strv(const json_t *o, const char *key, char ***out, const char *what,
		    struct err *e)
{
	json_t *v = json_object_get(o, key), *x;
	size_t i, n = 0;
	char **r = NULL;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(e, -EINVAL, "%s: '%s' is not a list of strings", what, key);
	r = xcalloc(1, sizeof(*r));
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
			guest_strv_free(r);
			return err_set(e, -EINVAL, "%s: '%s' item %zu is not a string", what, key, i);
		}
		strv_push(&r, &n, xstrdup(json_string_value(x)));
	}
	guest_strv_free(*out);
	*out = r;
	return 0;
}

static int opt_bool(const json_t *o, const char *key, bool *out, const char *what,
		    struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, -EINVAL, "%s: '%s' is not a boolean", what, key);
	*out = json_is_true(v);
	return 0;
}

static int opt_int(const json_t *o, const char *key, long long min, long long max,
		   long long *out, const char *what, struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(e, -EINVAL, "%s: '%s' is not an integer in %lld..%lld", what, key,
			       min, max);
	*out = json_integer_value(v);
	return 1;
}

static int parse_rlimits(const json_t *arr, struct guest_process_config *p, struct err *e)
{
	json_t *x;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return err_set(e, -EINVAL, "config: 'rlimits' is not a list");
	p->rlimits = xcalloc(json_array_size(arr) + 1, sizeof(*p->rlimits));
	json_array_foreach(arr, i, x) {
		const char *type = jsonx_str(x, "type");
		long long soft = -1, hard = -1;
		int r = type ? guest_rlimit_parse(type) : -1;
		if (r < 0)
			return err_set(e, -EINVAL, "config: rlimit %zu: unknown type '%s'", i,
				       type ? type : "");
		if (opt_int(x, "soft", -1, INT64_MAX, &soft, "config: rlimit", e) < 0 ||
		    opt_int(x, "hard", -1, INT64_MAX, &hard, "config: rlimit", e) < 0)
			return -EINVAL;
		uint64_t s = soft < 0 ? UINT64_MAX : (uint64_t)soft;
		uint64_t h = hard < 0 ? UINT64_MAX : (uint64_t)hard;
		if (s > h)
			return err_set(e, -EINVAL, "config: rlimit %s: soft above hard", type);
		p->rlimits[p->n_rlimits++] = (struct guest_rlimit){ r, s, h };
	}
	return 0;
}

static int parse_ipv4(const char *s, uint8_t out[4])
{
	unsigned v[4];
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (v[i] > 255)
			return -EINVAL;
		out[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_ifaces(const json_t *arr, struct guest_config *c, struct err *e)
{
	json_t *x;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > GUEST_IFACES_MAX)
		return err_set(e, -EINVAL, "config: 'interfaces' is not a list of at most %d",
			       GUEST_IFACES_MAX);
	c->ifaces = xcalloc(json_array_size(arr) + 1, sizeof(*c->ifaces));
	json_array_foreach(arr, i, x) {
		struct guest_iface *f = &c->ifaces[c->n_ifaces++];
		char *addr = NULL, *gw = NULL, *mac = NULL, *slash;
		long long mtu = 0;
		int rc = 0;
		if (!json_is_object(x))
			return err_set(e, -EINVAL, "config: interface %zu is not an object", i);
		if ((rc = jsonx_opt_strdup(x, "name", &f->name, "interface", e)) < 0 ||
		    (rc = jsonx_opt_strdup(x, "address", &addr, "interface", e)) < 0 ||
		    (rc = jsonx_opt_strdup(x, "gateway", &gw, "interface", e)) < 0 ||
		    (rc = jsonx_opt_strdup(x, "mac", &mac, "interface", e)) < 0 ||
		    (rc = opt_int(x, "mtu", 0, 65535, &mtu, "interface", e)) < 0)
			goto done;
		f->mtu = (unsigned)mtu;
		rc = -EINVAL;
		if (!f->name || !*f->name || strlen(f->name) >= 16 || strchr(f->name, '/')) {
			err_set(e, rc, "config: interface %zu: bad or missing name", i);
			goto done;
		}
		slash = addr ? strchr(addr, '/') : NULL;
		char tail;
		if (!slash || (*slash = '\0', parse_ipv4(addr, f->addr) < 0) ||
		    sscanf(slash + 1, "%2u%c", &f->prefix, &tail) != 1 || f->prefix > 32) {
			err_set(e, rc, "config: interface %s: address must be A.B.C.D/N", f->name);
			goto done;
		}
		if (gw && parse_ipv4(gw, f->gateway) < 0) {
			err_set(e, rc, "config: interface %s: bad gateway '%s'", f->name, gw);
			goto done;
		}
		f->has_gateway = gw != NULL;
		if (mac && mac_parse(mac, f->mac) < 0) {
			err_set(e, rc, "config: interface %s: bad mac '%.20s'", f->name, mac);
			goto done;
		}
		f->has_mac = mac != NULL;
		rc = 0;
done:
		free(addr);
		free(gw);
		free(mac);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_process(const json_t *img, const json_t *proc, struct guest_process_config *p,
			 struct err *e)
{
	long long v;
	int rc = 0;

	if (img && !json_is_object(img))
		return err_set(e, -EINVAL, "config: 'image' is not an object");
	if (proc && !json_is_object(proc))
		return err_set(e, -EINVAL, "config: 'process' is not an object");
	if (img && ((rc = opt_strv(img, "Entrypoint", &p->img_entrypoint, "image", e)) < 0 ||
		    (rc = opt_strv(img, "Cmd", &p->img_cmd, "image", e)) < 0 ||
		    (rc = opt_strv(img, "Env", &p->img_env, "image", e)) < 0 ||
		    (rc = jsonx_opt_strdup(img, "User", &p->img_user, "image", e)) < 0 ||
		    (rc = jsonx_opt_strdup(img, "WorkingDir", &p->img_workdir, "image", e)) < 0))
		return rc;
	if (!proc)
		return 0;
	if ((rc = opt_strv(proc, "entrypoint", &p->entrypoint, "process", e)) < 0 ||
	    (rc = opt_strv(proc, "cmd", &p->cmd, "process", e)) < 0 ||
	    (rc = opt_strv(proc, "env", &p->env, "process", e)) < 0 ||
	    (rc = opt_strv(proc, "groups", &p->groups, "process", e)) < 0 ||
	    (rc = jsonx_opt_strdup(proc, "user", &p->user, "process", e)) < 0 ||
	    (rc = jsonx_opt_strdup(proc, "workdir", &p->workdir, "process", e)) < 0 ||
	    (rc = opt_bool(proc, "tty", &p->tty, "process", e)) < 0 ||
	    (rc = opt_bool(proc, "stdin", &p->open_stdin, "process", e)) < 0)
		return rc;
	if ((rc = opt_int(proc, "rows", 0, 0xffff, &v, "process", e)) < 0)
		return rc;
	if (rc > 0)
		p->rows = (unsigned)v;
	if ((rc = opt_int(proc, "cols", 0, 0xffff, &v, "process", e)) < 0)
		return rc;
	if (rc > 0)
		p->cols = (unsigned)v;
	return parse_rlimits(json_object_get(proc, "rlimits"), p, e);
}

int guest_config_parse(const char *json, size_t len, struct guest_config *out,
		       struct err *e)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *dns;
	long long clk;
	int rc;

	memset(out, 0, sizeof(*out));
	out->init = true;
	root = jsonx_parse(json, len, GUEST_CONFIG_MAX, "boot config", e);
	if (!root)
		return e ? e->code : -EBADMSG;
	if (!json_is_object(root))
		return err_set(e, -EINVAL, "boot config: not a JSON object");
	dns = json_object_get(root, "dns");
	if (dns && !json_is_null(dns) && !json_is_object(dns))
		return err_set(e, -EINVAL, "boot config: 'dns' is not an object");
	if ((rc = jsonx_opt_strdup(root, "hostname", &out->hostname, "boot config", e)) < 0 ||
	    (rc = opt_bool(root, "read_only", &out->read_only, "boot config", e)) < 0 ||
	    (rc = jsonx_opt_strdup(root, "image_dev", &out->image_dev, "boot config", e)) < 0 ||
	    (rc = jsonx_opt_strdup(root, "rw_dev", &out->rw_dev, "boot config", e)) < 0 ||
	    (rc = jsonx_opt_strdup(root, "fstype", &out->fstype, "boot config", e)) < 0 ||
	    (rc = opt_strv(root, "hosts", &out->hosts, "boot config", e)) < 0 ||
	    (rc = opt_bool(root, "init", &out->init, "boot config", e)) < 0 ||
	    (rc = jsonx_opt_strdup(root, "test", &out->test, "boot config", e)) < 0 ||
	    (dns && ((rc = opt_strv(dns, "nameservers", &out->dns_servers, "dns", e)) < 0 ||
		     (rc = opt_strv(dns, "search", &out->dns_search, "dns", e)) < 0 ||
		     (rc = opt_strv(dns, "options", &out->dns_options, "dns", e)) < 0)) ||
	    (rc = parse_process(json_object_get(root, "image"), json_object_get(root, "process"),
				&out->proc, e)) < 0 ||
	    (rc = parse_ifaces(json_object_get(root, "interfaces"), out, e)) < 0 ||
	    (rc = guest__mounts_parse(json_object_get(root, "mounts"), out, e)) < 0 ||
	    (rc = opt_int(root, "clock_ns", 0, INT64_MAX, &clk, "boot config", e)) < 0) {
		guest_config_free(out);
		return rc;
	}
	out->has_clock = rc > 0;
	out->clock_ns = rc > 0 ? clk : 0;
	if (!out->hostname)
		out->hostname = xstrdup("container");
	if (!guest_hostname_valid(out->hostname)) {
		rc = err_set(e, -EINVAL, "boot config: invalid hostname '%s'", out->hostname);
		guest_config_free(out);
		return rc;
	}
	if (!out->image_dev)
		out->image_dev = xstrdup("/dev/vda");
	if (!out->rw_dev)
		out->rw_dev = xstrdup("/dev/vdb");
	if (!out->fstype)
		out->fstype = xstrdup("ext4");
	return 0;
}

void guest_config_free(struct guest_config *c)
{
	struct guest_process_config *p = &c->proc;

	free(c->hostname);
	free(c->image_dev);
	free(c->rw_dev);
	free(c->fstype);
	free(c->test);
	guest_strv_free(c->hosts);
	guest_strv_free(c->dns_servers);
	guest_strv_free(c->dns_search);
	guest_strv_free(c->dns_options);
	for (size_t i = 0; i < c->n_ifaces; i++)
		free(c->ifaces[i].name);
	free(c->ifaces);
	guest_strv_free(p->img_entrypoint);
	guest_strv_free(p->img_cmd);
	guest_strv_free(p->img_env);
	free(p->img_user);
	free(p->img_workdir);
	guest_strv_free(p->entrypoint);
	guest_strv_free(p->cmd);
	guest_strv_free(p->env);
	guest_strv_free(p->groups);
	free(p->user);
	free(p->workdir);
	free(p->rlimits);
	guest__mounts_free(c);
	memset(c, 0, sizeof(*c));
}

bool guest_hostname_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 64)   /* the kernel's limit (__NEW_UTS_LEN) */
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return false;
		if (label == 0 && c == '-')
			return false;
		label++;
	}
	return true;
}

/* --- passwd and group ----------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Docker/runc ids: decimal digits only, 0 .. 2^31-1. */
static bool parse_id(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > 0x7fffffff)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* Split the next non-empty, non-comment line of *text into up to nf
 * colon-separated fields (pointers into line, which the caller frees).
 * Returns the number of fields, 0 at the end of text. */
static size_t next_entry(const char **text, char **line, char **f, size_t nf)
{
	while (**text) {
		const char *s = *text, *end = strchr(s, '\n');
		size_t len = end ? (size_t)(end - s) : strlen(s), n = 0;
		*text = s + len + (end ? 1 : 0);
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		if (!len || *s == '#')
			continue;
		*line = xstrndup(s, len);
		for (char *p = *line; n < nf; n++) {
			f[n] = p;
			p = strchr(p, ':');
			if (!p) {
				n++;
				break;
			}
			*p++ = '\0';
		}
		for (size_t i = n; i < nf; i++)
			f[i] = "";
		return n;
	}
	return 0;
}

struct pwent {
	char *name, *home;
	uint32_t uid, gid;
};

/* First passwd entry matching by name (byname) or uid. */
static bool passwd_find(const char *passwd, const char *name, uint32_t uid, struct pwent *out)
{
	const char *t = passwd;
	char *line, *f[7];

	while (t && next_entry(&t, &line, f, 7)) {
		uint32_t u, g;
		bool hit = parse_id(f[2], &u) && parse_id(f[3], &g) &&
			   (name ? !strcmp(f[0], name) : u == uid);
		if (hit) {
			out->name = xstrdup(f[0]);
			out->home = xstrdup(f[5]);
			out->uid = u;
			out->gid = g;
		}
		free(line);
		if (hit)
			return true;
	}
	return false;
}

/* First group matching by name or gid. */
static bool group_find(const char *group, const char *name, uint32_t gid, uint32_t *out)
{
	const char *t = group;
	char *line, *f[4];

	while (t && next_entry(&t, &line, f, 4)) {
		uint32_t g;
		bool hit = parse_id(f[2], &g) && (name ? !strcmp(f[0], name) : g == gid);
		free(line);
		if (hit) {
			*out = g;
			return true;
		}
	}
	return false;
}

static void push_gid(struct guest_user *u, uint32_t g)
{
	u->sgids = xreallocarray(u->sgids, u->n_sgids + 1, sizeof(*u->sgids));
	u->sgids[u->n_sgids++] = g;
}

/* Groups whose member list names user, in file order. */
static void group_members(const char *group, const char *user, struct guest_user *u)
{
	const char *t = group;
	char *line, *f[4];

	while (t && next_entry(&t, &line, f, 4)) {
		uint32_t g;
		if (parse_id(f[2], &g)) {
			for (char *m = f[3], *next; m && *m; m = next) {
				next = strchr(m, ',');
				if (next)
					*next++ = '\0';
				while (isspace((unsigned char)*m))
					m++;
				size_t ml = strlen(m);
				while (ml && isspace((unsigned char)m[ml - 1]))
					m[--ml] = '\0';
				if (!strcmp(m, user)) {
					push_gid(u, g);
					break;
				}
			}
		}
		free(line);
	}
}

static int resolve_group(const char *arg, const char *group, uint32_t *gid, struct err *e)
{
	uint32_t n = 0;
	bool numeric = parse_id(arg, &n);

	/* a numeric argument is always a gid, as in runc */
	if (group_find(group, numeric ? NULL : arg, n, gid))
		return 0;
	if (numeric) {
		*gid = n;
		return 0;
	}
	if (all_digits(arg))
		return err_set(e, -EINVAL, "group id %s out of range", arg);
	return err_set(e, -ENOENT, "unable to find group %s: no matching entries in group file",
		       arg);
}

int guest_user_resolve(const char *spec, const char *passwd, const char *group,
		       char *const *extra, struct guest_user *out, struct err *e)
{
	_cleanup_free_ char *copy = xstrdup(spec ? spec : "");
	char *user_arg = copy, *group_arg = strchr(copy, ':');
	struct pwent pw = { NULL, NULL, 0, 0 };
	uint32_t uid = 0;
	bool numeric, found;
	int rc;

	memset(out, 0, sizeof(*out));
	if (group_arg)
		*group_arg++ = '\0';
	numeric = parse_id(user_arg, &uid);
	if (!numeric && all_digits(user_arg))
		return err_set(e, -EINVAL, "user id %s out of range", user_arg);
	/* "" means the current (default) user, uid 0 */
	found = passwd_find(passwd, (*user_arg && !numeric) ? user_arg : NULL, uid, &pw);
	if (found) {
		out->uid = pw.uid;
		out->gid = pw.gid;
		out->home = pw.home;
		out->name = pw.name;
	} else if (*user_arg && !numeric) {
		return err_set(e, -ENOENT, "unable to find user %s: no matching entries in passwd file",
			       user_arg);
	} else {
		out->uid = uid;
		out->home = xstrdup("/");
	}
	if (group_arg) {
		if (!*group_arg) {
			rc = err_set(e, -EINVAL, "user spec '%s': empty group", spec);
			goto fail;
		}
		if ((rc = resolve_group(group_arg, group, &out->gid, e)) < 0)
			goto fail;
	} else if (out->name) {
		/* supplementary groups only in the implicit form */
		group_members(group, out->name, out);
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		uint32_t g;
		if ((rc = resolve_group(extra[i], group, &g, e)) < 0)
			goto fail;
		push_gid(out, g);
	}
	if (!out->home[0]) {
		free(out->home);
		out->home = xstrdup("/");
	}
	return 0;
fail:
	guest_user_free(out);
	return rc;
}

void guest_user_free(struct guest_user *u)
{
	free(u->sgids);
	free(u->home);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

/* --- composition ---------------------------------------------------------- */

int guest_argv_compose(char *const *img_entrypoint, char *const *img_cmd,
		       char *const *entrypoint, char *const *cmd, char ***out,
		       struct err *e)
{
	char *const *ep = img_entrypoint, *const *c = cmd;
	char **r = NULL;
	size_t n = 0;

	/* daemon/commit.go merge(): a user entrypoint (even [""]) drops the
	 * image's Cmd; an absent one keeps the image's entrypoint, and the
	 * image's Cmd fills in when the user gave no command. */
	if (guest_strv_len(entrypoint) == 0) {
		if (guest_strv_len(cmd) == 0)
			c = img_cmd;
		if (entrypoint)
			ep = entrypoint;
	} else {
		ep = entrypoint;
	}
	/* then [""] means "no entrypoint" */
	if (guest_strv_len(ep) == 1 && ep[0][0] == '\0')
		ep = NULL;
	r = xcalloc(1, sizeof(*r));
	for (size_t i = 0; ep && ep[i]; i++)
		strv_push(&r, &n, xstrdup(ep[i]));
	for (size_t i = 0; c && c[i]; i++)
		strv_push(&r, &n, xstrdup(c[i]));
	if (n == 0) {
		free(r);
		return err_set(e, -EINVAL, "no command specified");
	}
	*out = r;
	return 0;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t env_find(char *const *env, size_t n, const char *kv)
{
	size_t kl = key_len(kv);
	for (size_t i = 0; i < n; i++)
		if (key_len(env[i]) == kl && !strncmp(env[i], kv, kl))
			return (ssize_t)i;
	return -1;
}

/* docker's ReplaceOrAppendEnvValues: same key replaced in place, new keys
 * appended; afterwards entries without '=' (unset requests) are dropped. */
static void env_merge(char ***env, size_t *n, char *const *over)
{
	for (size_t i = 0; over && over[i]; i++) {
		ssize_t at = env_find(*env, *n, over[i]);
		if (at >= 0) {
			free((*env)[at]);
			(*env)[at] = xstrdup(over[i]);
		} else {
			strv_push(env, n, xstrdup(over[i]));
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < *n; i++) {
		if (strchr((*env)[i], '='))
			(*env)[w++] = (*env)[i];
		else
			free((*env)[i]);
	}
	*n = w;
	(*env)[w] = NULL;
}

char **guest_env_merge(char *const *base, char *const *over)
{
	char **r = xcalloc(1, sizeof(*r));
	size_t n = 0;

	env_merge(&r, &n, base);
	env_merge(&r, &n, over);
	return r;
}

char **guest_env_compose(char *const *img_env, char *const *env, const char *hostname,
			 bool tty, const char *home)
{
	struct buf b = BUF_INIT;
	char **r = xcalloc(1, sizeof(*r)), **cfg = xcalloc(1, sizeof(*cfg));
	size_t n = 0, nc = 0;

	/* daemon: CreateDaemonEnvironment, then the container's Env over it
	 * (the container's Env being the image's with the user's merged in) */
	strv_push(&r, &n, xstrdup("PATH=" GUEST_DEFAULT_PATH));
	buf_printf(&b, "HOSTNAME=%s", hostname ? hostname : "");
	strv_push(&r, &n, buf_steal(&b));
	if (tty)
		strv_push(&r, &n, xstrdup("TERM=xterm"));
	env_merge(&cfg, &nc, img_env);
	env_merge(&cfg, &nc, env);
	env_merge(&r, &n, cfg);
	guest_strv_free(cfg);
	/* runc: HOME from the user's passwd entry when the env has none */
	if (!guest_env_get(r, "HOME")) {
		buf_printf(&b, "HOME=%s", home && *home ? home : "/");
		strv_push(&r, &n, buf_steal(&b));
	}
	buf_free(&b);
	return r;
}

const char *guest_env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

int guest_workdir(const char *workdir, const char *img_workdir, char **out, struct err *e)
{
	const char *w = workdir && *workdir ? workdir : img_workdir && *img_workdir ? img_workdir
										     : "/";
	struct buf b = BUF_INIT;

	if (w[0] != '/')
		return err_set(e, -EINVAL,
			       "the working directory '%s' is invalid, it needs to be an absolute path",
			       w);
	fs_path_clean(w, &b);
	if (b.len == 0)
		buf_putc(&b, '/');
	*out = buf_steal(&b);
	return 0;
}

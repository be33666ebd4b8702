/* The mount flags' grammar (see applets/mounts.h): `-v`, `--mount`,
 * `--tmpfs` into struct mount_spec.  Pure: no file system access, so the
 * API server can parse HostConfig.Binds with the same code and the fuzzer
 * can feed it anything.  Called by applets/run.c; tested by
 * t/unit/mounts.c and t/fuzz/mount_spec.c. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mounts.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define FLAG_MAX (3 * MOUNTS_PATH_MAX)   /* a whole flag value */

void mount_list_free(struct mount_list *l)
{
	for (size_t i = 0; l && i < l->n; i++) {
		free(l->v[i].source);
		free(l->v[i].target);
	}
	if (l) {
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
}

static int push(struct mount_list *l, struct mount_spec *m, struct err *e)
{
	if (l->n >= MOUNTS_MAX) {
		free(m->source);
		free(m->target);
		return err_set(e, -E2BIG, "too many mounts (at most %d)", MOUNTS_MAX);
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = *m;
	return 0;
}

bool mounts_volume_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 2 || n > 128 || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

/* An absolute container path, cleaned lexically as Go's filepath.Clean
 * does ("/a/./b/../c" -> "/a/c"); "/" itself is refused (docker: "invalid
 * mount config: destination can't be '/'"). */
static int clean_target(const char *t, char **out, struct err *e)
{
	struct buf b = BUF_INIT;

	if (!t || !*t)
		return err_set(e, -EINVAL, "a mount needs a target path in the container");
	if (t[0] != '/')
		return err_set(e, -EINVAL, "invalid mount target '%s': not an absolute path", t);
	if (strlen(t) >= MOUNTS_PATH_MAX)
		return err_set(e, -ENAMETOOLONG, "mount target too long");
	fs_path_clean(t, &b);
	if (b.len == 0) {
		buf_free(&b);
		return err_set(e, -EINVAL, "invalid mount target '%s': the container's root cannot "
					   "be a mount target", t);
	}
	*out = buf_steal(&b);
	return 0;
}

int mounts_parse_size(const char *s, uint64_t *out, struct err *e)
{
	const char *p = s;
	uint64_t v = 0;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*p))
		return err_set(e, -EINVAL, "invalid size '%s'", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return err_set(e, -ERANGE, "size '%s' too large", s);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (tolower((unsigned char)*p)) {
	case '\0': break;
	case 'b': p++; break;
	case 'k': shift = 10; p++; break;
	case 'm': shift = 20; p++; break;
	case 'g': shift = 30; p++; break;
	case 't': shift = 40; p++; break;
	case 'p': shift = 50; p++; break;
	default: return err_set(e, -EINVAL, "invalid size '%s'", s);
	}
	if (shift && (!strcasecmp(p, "b") || !strcasecmp(p, "ib")))
		p += strlen(p);
	if (*p)
		return err_set(e, -EINVAL, "invalid size '%s'", s);
	if (shift && v > (UINT64_MAX >> shift))
		return err_set(e, -ERANGE, "size '%s' too large", s);
	*out = v << shift;
	return 0;
}

/* Words docker accepts on -v/--mount that mean nothing for a VM's mounts:
 * SELinux relabelling and mount propagation (no host mount namespace to
 * share with) and Docker Desktop's consistency hints. */
static bool ignored_word(const char *w)
{
	static const char *const words[] = {
		"z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate",
		"cached", "delegated", "consistent", "default",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

static bool is_host_path(const char *s)
{
	return s[0] == '/' || !strcmp(s, ".") || !strcmp(s, "..") || !strncmp(s, "./", 2) ||
	       !strncmp(s, "../", 3) || !strcmp(s, "~") || !strncmp(s, "~/", 2);
}

int mounts_parse_volume_flag(const char *s, struct mount_list *l, struct err *e)
{
	_cleanup_free_ char *copy = NULL;
	char *part[3] = { NULL, NULL, NULL }, *p;
	struct mount_spec m = { 0 };
	size_t n = 0;
	int rc;

	if (strlen(s) > FLAG_MAX)
		return err_set(e, -ENAMETOOLONG, "-v: value too long");
	copy = xstrdup(s);
	for (p = copy; n < 3; n++) {
		part[n] = p;
		p = strchr(p, ':');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (p)
		return err_set(e, -EINVAL, "invalid volume specification '%s': too many colons", s);
	/* one part: TARGET; two: SOURCE:TARGET or TARGET:OPTIONS; three: all */
	char *src = NULL, *dst, *opts = NULL;
	if (n == 1) {
		dst = part[0];
	} else if (n == 2 && part[0][0] == '/' && part[1][0] != '/') {
		dst = part[0];
		opts = part[1];
	} else {
		src = part[0];
		dst = part[1];
		opts = n == 3 ? part[2] : NULL;
	}
	if (src && !*src)
		return err_set(e, -EINVAL, "invalid volume specification '%s': empty source", s);
	m.type = MOUNT_VOLUME;
	if (src && is_host_path(src)) {
		if (src[0] != '/')
			return err_set(e, -EINVAL, "invalid volume specification '%s': the host path "
						   "must be absolute (the shell's $PWD helps)", s);
		m.type = MOUNT_BIND;
		m.create_src = true;
	} else if (src && !mounts_volume_name_valid(src)) {
		return err_set(e, -EINVAL, "invalid volume name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] "
					   "are allowed, at least 2 characters; a host path must be "
					   "absolute", src);
	}
	for (char *w = opts, *next; w; w = next) {
		next = strchr(w, ',');
		if (next)
			*next++ = '\0';
		if (!strcmp(w, "ro"))
			m.readonly = true;
		else if (!strcmp(w, "rw"))
			m.readonly = false;
		else if (!strcmp(w, "nocopy") && m.type == MOUNT_VOLUME)
			m.nocopy = true;
		else if (!strcmp(w, "cached") || !strcmp(w, "delegated"))
			m.cached = m.type == MOUNT_BIND;
		else if (!ignored_word(w))
			return err_set(e, -EINVAL, "invalid mode '%s' in volume specification '%s'",
				       w, s);
	}
	if ((rc = clean_target(dst, &m.target, e)) < 0)
		return rc;
	m.source = src ? xstrdup(src) : NULL;
	return push(l, &m, e);
}

/* One CSV field of --mount: a whole field may be double-quoted (as
 * docker's encoding/csv reader allows), "" inside quotes is a quote. */
static int csv_next(const char **pp, struct buf *out, struct err *e)
{
	const char *p = *pp;

	buf_reset(out);
	if (*p == '"') {
		for (p++;; p++) {
			if (!*p)
				return err_set(e, -EINVAL, "--mount: unterminated quote");
			if (*p == '"' && p[1] == '"') {
				buf_putc(out, '"');
				p++;
			} else if (*p == '"') {
				p++;
				break;
			} else {
				buf_putc(out, *p);
			}
		}
		if (*p && *p != ',')
			return err_set(e, -EINVAL, "--mount: text after a closing quote");
	} else {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (memchr(p, '"', n))
			return err_set(e, -EINVAL, "--mount: a quote inside an unquoted field");
		buf_append(out, p, n);
		p += n;
	}
	if (*p == ',')
		p++;
	*pp = p;
	buf_str(out);
	return 0;
}

static int parse_bool(const char *key, const char *v, bool *out, struct err *e)
{
	if (!v || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return err_set(e, -EINVAL, "--mount: invalid value for %s: '%s'", key, v);
	return 0;
}

static int parse_mode(const char *v, unsigned *out, struct err *e)
{
	char *end;
	unsigned long m;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (!*v || *end || errno || m > 07777 || *v == '-' || *v == '+')
		return err_set(e, -EINVAL, "invalid tmpfs mode '%s': want octal, e.g. 1777", v);
	*out = (unsigned)m;
	return 0;
}

struct mount_kv {
	const char *type, *src, *dst;
	bool ro, nocopy, have_ro;
};

static int mount_field(struct mount_spec *m, struct mount_kv *kv, char *k, char *v,
		       struct err *e)
{
	int rc = 0;

	if (!strcmp(k, "type"))
		kv->type = v ? v : "";
	else if (!strcmp(k, "source") || !strcmp(k, "src"))
		kv->src = v ? v : "";
	else if (!strcmp(k, "target") || !strcmp(k, "destination") || !strcmp(k, "dst"))
		kv->dst = v ? v : "";
	else if (!strcmp(k, "readonly") || !strcmp(k, "ro"))
		rc = parse_bool(k, v, &kv->ro, e), kv->have_ro = true;
	else if (!strcmp(k, "volume-nocopy"))
		rc = parse_bool(k, v, &kv->nocopy, e);
	else if (!strcmp(k, "tmpfs-size") && v)
		rc = mounts_parse_size(v, &m->size, e);
	else if (!strcmp(k, "tmpfs-mode") && v)
		rc = parse_mode(v, &m->mode, e);
	else if (!strcmp(k, "consistency") && v && (!strcmp(v, "cached") || !strcmp(v, "delegated")))
		m->cached = true;
	else if ((!strcmp(k, "bind-propagation") || !strcmp(k, "consistency")) && v &&
		 ignored_word(v))
		rc = 0;
	else if (!strcmp(k, "bind-nonrecursive") || !strcmp(k, "bind-recursive"))
		rc = 0;   /* a 9p share has no submounts to recurse into */
	else
		rc = err_set(e, -EINVAL, "--mount: unexpected key '%s'%s", k,
			     v ? "" : " (or a value without key=)");
	return rc;
}

int mounts_parse_mount_flag(const char *s, struct mount_list *l, struct err *e)
{
	_cleanup_buf_ struct buf f = BUF_INIT;
	struct mount_kv kv = { 0 };
	struct mount_spec m = { 0 };
	char *store[16] = { 0 };
	size_t ns = 0;
	int rc = 0;

	if (strlen(s) > FLAG_MAX)
		return err_set(e, -ENAMETOOLONG, "--mount: value too long");
	for (const char *p = s; rc == 0 && *p;) {
		char *k, *eq;
		if ((rc = csv_next(&p, &f, e)) < 0)
			break;
		if (ns == sizeof(store) / sizeof(store[0])) {
			rc = err_set(e, -EINVAL, "--mount: too many fields");
			break;
		}
		k = store[ns++] = buf_steal(&f);
		eq = strchr(k, '=');
		if (eq)
			*eq = '\0';
		rc = mount_field(&m, &kv, k, eq ? eq + 1 : NULL, e);
	}
	if (rc < 0)
		goto out;
	if (!kv.type || !strcmp(kv.type, "volume"))
		m.type = MOUNT_VOLUME;
	else if (!strcmp(kv.type, "bind"))
		m.type = MOUNT_BIND;
	else if (!strcmp(kv.type, "tmpfs"))
		m.type = MOUNT_TMPFS;
	else {
		rc = err_set(e, -EINVAL, "--mount: unsupported type '%s' (bind, volume, tmpfs)",
			     kv.type);
		goto out;
	}
	m.readonly = kv.ro;
	m.nocopy = kv.nocopy;
	m.cached &= m.type == MOUNT_BIND;
	rc = -EINVAL;
	if (m.type != MOUNT_TMPFS && (m.size || m.mode))
		err_set(e, rc, "--mount: tmpfs options on a %s mount", kv.type);
	else if (m.type == MOUNT_TMPFS && kv.src && *kv.src)
		err_set(e, rc, "--mount: a tmpfs mount takes no source");
	else if (m.type == MOUNT_BIND && (!kv.src || kv.src[0] != '/'))
		err_set(e, rc, "--mount: a bind mount needs an absolute source path");
	else if (m.type == MOUNT_VOLUME && kv.src && *kv.src && !mounts_volume_name_valid(kv.src))
		err_set(e, rc, "--mount: invalid volume name '%s'", kv.src);
	else if (m.type != MOUNT_VOLUME && m.nocopy)
		err_set(e, rc, "--mount: volume-nocopy on a %s mount", kv.type);
	else
		rc = 0;
	if (rc == 0 && m.type == MOUNT_TMPFS && kv.have_ro && kv.ro)
		m.readonly = true;
	if (rc == 0 && (rc = clean_target(kv.dst, &m.target, e)) == 0) {
		if (kv.src && *kv.src)
			m.source = xstrdup(kv.src);
		rc = push(l, &m, e);
	}
out:
	for (size_t i = 0; i < ns; i++)
		free(store[i]);
	return rc;
}

int mounts_parse_tmpfs_flag(const char *s, struct mount_list *l, struct err *e)
{
	_cleanup_free_ char *copy = NULL;
	struct mount_spec m = { .type = MOUNT_TMPFS };
	char *opts;
	int rc;

	if (strlen(s) > FLAG_MAX)
		return err_set(e, -ENAMETOOLONG, "--tmpfs: value too long");
	copy = xstrdup(s);
	opts = strchr(copy, ':');
	if (opts)
		*opts++ = '\0';
	for (char *w = opts, *next; w && *w; w = next) {
		next = strchr(w, ',');
		if (next)
			*next++ = '\0';
		rc = 0;
		if (!strncmp(w, "size=", 5))
			rc = mounts_parse_size(w + 5, &m.size, e);
		else if (!strncmp(w, "mode=", 5))
			rc = parse_mode(w + 5, &m.mode, e);
		else if (!strcmp(w, "ro"))
			m.readonly = true;
		else if (!strcmp(w, "rw"))
			m.readonly = false;
		else if (!strcmp(w, "exec"))
			m.exec = true;
		else if (!strcmp(w, "noexec"))
			m.exec = false;
		else if (strcmp(w, "nosuid") && strcmp(w, "nodev"))
			rc = err_set(e, -EINVAL, "--tmpfs %s: unsupported option '%s' (size=, mode=, "
						 "ro, rw, exec, noexec, nosuid, nodev)", s, w);
		if (rc < 0)
			return rc;
	}
	if ((rc = clean_target(copy, &m.target, e)) < 0)
		return rc;
	return push(l, &m, e);
}

static size_t depth(const char *p)
{
	size_t n = 0;
	for (; *p; p++)
		n += *p == '/';
	return n;
}

int mounts_check(struct mount_list *l, struct err *e)
{
	/* insertion sort: stable, and n is at most MOUNTS_MAX */
	for (size_t i = 1; i < l->n; i++) {
		struct mount_spec x = l->v[i];
		size_t j = i;
		while (j > 0 && depth(l->v[j - 1].target) > depth(x.target)) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = x;
	}
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = i + 1; j < l->n; j++)
			if (!strcmp(l->v[i].target, l->v[j].target))
				return err_set(e, -EINVAL, "duplicate mount point: %s",
					       l->v[i].target);
	return 0;
}

int mounts_parse_flags(const char *const *volume, const char *const *mount,
		       const char *const *tmpfs, struct mount_list *l, struct err *e)
{
	int rc = 0;

	for (; rc == 0 && volume && *volume; volume++)
		rc = mounts_parse_volume_flag(*volume, l, e);
	for (; rc == 0 && mount && *mount; mount++)
		rc = mounts_parse_mount_flag(*mount, l, e);
	for (; rc == 0 && tmpfs && *tmpfs; tmpfs++)
		rc = mounts_parse_tmpfs_flag(*tmpfs, l, e);
	return rc < 0 ? rc : mounts_check(l, e);
}

/* The host side of a container's mounts (see applets/mounts.h): resolving
 * the parsed flags at create time (realpath, pinning, volumes made on
 * first use, the image's VOLUMEs) and turning config.json's "mounts" into
 * VM shares, VM disks and the guest's mount list at each start.
 * Called by applets/run.c (resolve), applets/runtime.c (plan) and
 * container removal (anonymous volumes). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/bundle.h"
#include "applets/mounts.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "vm/vm.h"

/* --- create time ------------------------------------------------------------ */

static int resolve_bind(const struct mount_spec *m, json_t *out, struct err *e)
{
	_cleanup_free_ char *real = realpath(m->source, NULL);
	struct stat st;
	int rc;

	if (!real && errno == ENOENT && m->create_src) {
		/* docker's -v makes a missing host directory; --mount refuses */
		if ((rc = fs_mkdir_p(m->source, 0755, e)) < 0)
			return err_wrap(e, "creating the bind source %s", m->source);
		real = realpath(m->source, NULL);
	}
	if (!real && errno == ENOENT)
		return err_set(e, -ENOENT, "bind source path does not exist: %s", m->source);
	if (!real)
		return err_sys(e, "bind source %s", m->source);
	if (stat(real, &st) < 0)
		return err_sys(e, "bind source %s", real);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "bind source %s: only directories and regular files can "
					   "be shared with a container's VM", m->source);
	json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I}", "type",
					     "bind", "source", real, "target", m->target, "readonly",
					     m->readonly, "file", !S_ISDIR(st.st_mode), "cached",
					     m->cached, "dev", (json_int_t)st.st_dev, "ino",
					     (json_int_t)st.st_ino));
	return 0;
}

static int resolve_one(const struct mount_spec *m, json_t *out, json_t *made, struct err *e)
{
	char *name = NULL;
	int rc;

	switch (m->type) {
	case MOUNT_BIND:
		return resolve_bind(m, out, e);
	case MOUNT_TMPFS:
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:i, s:b, s:b}", "type", "tmpfs",
						     "target", m->target, "size", (json_int_t)m->size,
						     "mode", m->mode ? (int)m->mode : 01777,
						     "readonly", m->readonly, "exec", m->exec));
		return 0;
	case MOUNT_VOLUME:
		if (m->source)
			rc = volume_ensure(m->source, e);
		else if ((rc = volume_create(NULL, 0, NULL, NULL, true, &name, e)) == 0)
			json_array_append_new(made, json_string(name));
		if (rc < 0)
			return rc;
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "type", "volume",
						     "name", m->source ? m->source : name, "target",
						     m->target, "readonly", m->readonly, "anonymous",
						     m->source == NULL, "nocopy", m->nocopy));
		free(name);
		return 0;
	}
	return err_set(e, -EINVAL, "unknown mount type %d", (int)m->type);
}

int mounts_resolve(const struct mount_list *l, const json_t *image_volumes, json_t **out,
		   struct err *e)
{
	struct mount_list all = { 0 };
	json_t *res = json_array(), *made = json_array(), *v;
	const char *key;
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct mount_spec m = l->v[i];
		m.source = m.source ? xstrdup(m.source) : NULL;
		m.target = xstrdup(m.target);
		all.v = xreallocarray(all.v, all.n + 1, sizeof(*all.v));
		all.v[all.n++] = m;
	}
	/* the image's VOLUMEs that no mount of the user's covers */
	if (json_is_object(image_volumes)) {
		json_object_foreach((json_t *)image_volumes, key, v) {
			_cleanup_buf_ struct buf flag = BUF_INIT;
			bool covered = false;
			struct mount_list one = { 0 };
			buf_puts(&flag, key);
			if (mounts_parse_volume_flag(buf_str(&flag), &one, e) < 0) {
				rc = err_wrap(e, "the image's VOLUME %s", key);
				break;
			}
			for (size_t i = 0; i < all.n; i++)
				covered |= !strcmp(all.v[i].target, one.v[0].target);
			if (covered || one.v[0].type != MOUNT_VOLUME || all.n >= MOUNTS_MAX) {
				mount_list_free(&one);
				continue;
			}
			all.v = xreallocarray(all.v, all.n + 1, sizeof(*all.v));
			all.v[all.n++] = one.v[0];
			free(one.v);
		}
	}
	if (rc == 0)
		rc = mounts_check(&all, e);
	for (size_t i = 0; rc == 0 && i < all.n; i++)
		rc = resolve_one(&all.v[i], res, made, e);
	if (rc < 0) {
		/* nothing refers to the anonymous volumes made so far */
		size_t i;
		json_array_foreach(made, i, v) {
			struct err ignored = ERR_INIT;
			volume_remove(json_string_value(v), true, &ignored);
		}
		json_decref(res);
	} else {
		*out = res;
	}
	json_decref(made);
	mount_list_free(&all);
	return rc;
}

int mounts_remove_anonymous(const json_t *mounts, struct err *e)
{
	size_t i;
	json_t *m;
	int rc = 0;

	json_array_foreach(mounts, i, m) {
		const char *t = jsonx_str(m, "type"), *n = jsonx_str(m, "name");
		struct err le = ERR_INIT;
		if (!t || strcmp(t, "volume") || !n || !json_is_true(json_object_get(m, "anonymous")))
			continue;
		if (volume_remove(n, false, &le) < 0 && le.code != -ENOENT) {
			rc = le.code;
			err_set(e, rc, "%s", le.msg);
		}
	}
	return rc;
}

/* --- start time ------------------------------------------------------------- */

void mounts_plan_free(struct mount_plan *p)
{
	for (size_t i = 0; i < p->n_shares; i++) {
		free(p->shares[i].tag);
		free(p->shares[i].path);
	}
	for (size_t i = 0; i < p->n_disks; i++) {
		free(p->disks[i].path);
		free(p->disks[i].serial);
	}
	free(p->shares);
	free(p->disks);
	json_decref(p->guest);
	memset(p, 0, sizeof(*p));
}

/* The pinned source: still there, still the same inode, and still reached
 * without a symlink (a component swapped for a link since create time
 * would otherwise redirect the share). */
static int check_pin(const json_t *m, const char *src, struct err *e)
{
	_cleanup_free_ char *real = realpath(src, NULL);
	json_t *dev = json_object_get(m, "dev"), *ino = json_object_get(m, "ino");
	struct stat st;

	if (!real || stat(real, &st) < 0)
		return err_set(e, -ENOENT, "bind source path does not exist: %s", src);
	if (strcmp(real, src) != 0 || !json_is_integer(dev) || !json_is_integer(ino) ||
	    (json_int_t)st.st_dev != json_integer_value(dev) ||
	    (json_int_t)st.st_ino != json_integer_value(ino))
		return err_set(e, -ESTALE, "bind source %s is no longer the directory or file it was "
					   "when the container was created: re-create the container",
			       src);
	return 0;
}

static size_t share_for(struct mount_plan *p, const char *dir, bool ro, bool cached)
{
	_cleanup_buf_ struct buf tag = BUF_INIT;

	for (size_t i = 0; i < p->n_shares; i++)
		if (!strcmp(p->shares[i].path, dir)) {
			p->shares[i].read_only &= ro;
			p->shares[i].cached &= cached;
			return i;
		}
	buf_printf(&tag, "bind%zu", p->n_shares);
	p->shares = xreallocarray(p->shares, p->n_shares + 1, sizeof(*p->shares));
	p->shares[p->n_shares] = (struct mount_plan_share){ buf_steal(&tag), xstrdup(dir), ro,
							    cached };
	return p->n_shares++;
}

/* A single file is shared through a directory of its own holding a hard
 * link to it, <bundle>/binds/<n>/<name>, so the guest sees that file and
 * not its siblings (a file bound from $HOME must not expose $HOME).  The
 * link is the same inode: writes from either side are the same file.
 * 1 made (dir filled in), 0 not possible here (another file system, a
 * protected_hardlinks refusal): the caller shares the parent instead. */
static int private_dir(const char *self_id, size_t n, const char *src, const char *base,
		       char **dir, struct err *e)
{
	_cleanup_buf_ struct buf d = BUF_INIT, f = BUF_INIT, sub = BUF_INIT;
	struct err le = ERR_INIT;

	buf_printf(&sub, "binds/%zu", n);
	if (!self_id || bundle_path(self_id, buf_str(&sub), &d, &le) < 0 ||
	    fs_mkdir_p(buf_str(&d), 0700, &le) < 0)
		return 0;
	buf_printf(&f, "%s/%s", buf_str(&d), base);
	if (unlink(buf_str(&f)) < 0 && errno != ENOENT)
		return err_sys(e, "remove %s", buf_str(&f));
	if (link(src, buf_str(&f)) < 0)
		return 0;
	*dir = buf_steal(&d);
	return 1;
}

static int plan_bind(struct mount_plan *p, const json_t *m, const char *target, bool ro,
		     const char *self_id, struct err *e)
{
	const char *src = jsonx_str(m, "source");
	bool file = json_is_true(json_object_get(m, "file"));
	_cleanup_free_ char *dir = NULL;
	const char *base = NULL;
	json_t *g;
	size_t s;
	int rc;

	if (!src || src[0] != '/')
		return err_set(e, -EINVAL, "config: a bind mount without an absolute source");
	if ((rc = check_pin(m, src, e)) < 0)
		return rc;
	if (file) {
		/* a single file: share a directory holding it, bind the one file */
		const char *slash = strrchr(src, '/');
		base = slash + 1;
		if ((rc = private_dir(self_id, json_array_size(p->guest), src, base, &dir, e)) < 0)
			return rc;
		if (rc == 0)
			dir = slash == src ? xstrdup("/") : xstrndup(src, (size_t)(slash - src));
	}
	s = share_for(p, dir ? dir : src, ro, json_is_true(json_object_get(m, "cached")));
	g = json_pack("{s:s, s:s, s:s, s:b}", "type", "9p", "source", p->shares[s].tag, "target",
		      target, "readonly", ro);
	if (base)
		json_object_set_new(g, "file", json_string(base));
	json_array_append_new(p->guest, g);
	return 0;
}

static int plan_volume(struct mount_plan *p, const json_t *m, const char *target, bool ro,
		       const char *self_id, struct err *e)
{
	const char *name = jsonx_str(m, "name");
	_cleanup_buf_ struct buf img = BUF_INIT, serial = BUF_INIT;
	char other[65];
	struct stat st;
	size_t d;
	int rc;

	if (!name || (rc = volume_path(name, "volume.ext4", &img, e)) < 0)
		return name ? rc : err_set(e, -EINVAL, "config: a volume mount without a name");
	if (stat(buf_str(&img), &st) < 0)
		return err_set(e, -ENOENT, "no such volume: %s", name);
	if ((rc = volume_running_user(name, self_id, other, e)) < 0)
		return rc;
	if (rc > 0)
		return err_set(e, -EBUSY, "volume %s is in use by running container %.12s: a volume "
					  "is a disk, attached to one running container at a time",
			       name, other);
	for (d = 0; d < p->n_disks; d++)
		if (!strcmp(p->disks[d].path, buf_str(&img)))
			break;
	if (d == p->n_disks) {
		buf_printf(&serial, "vol%zu", d);
		p->disks = xreallocarray(p->disks, d + 1, sizeof(*p->disks));
		p->disks[d] = (struct mount_plan_disk){ xstrdup(buf_str(&img)), buf_steal(&serial) };
		p->n_disks++;
	}
	json_array_append_new(p->guest, json_pack("{s:s, s:s, s:s, s:b, s:b}", "type", "volume",
						  "source", p->disks[d].serial, "target", target,
						  "readonly", ro, "copy",
						  !json_is_true(json_object_get(m, "nocopy"))));
	return 0;
}

int mounts_plan(const json_t *mounts, const char *self_id, struct mount_plan *out,
		struct err *e)
{
	size_t i;
	json_t *m;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->guest = json_array();
	if (mounts && (!json_is_array(mounts) || json_array_size(mounts) > MOUNTS_MAX))
		return err_set(e, -EINVAL, "config: 'mounts' is not a list of at most %d", MOUNTS_MAX);
	json_array_foreach(mounts, i, m) {
		const char *type = jsonx_str(m, "type"), *target = jsonx_str(m, "target");
		bool ro = json_is_true(json_object_get(m, "readonly"));
		if (!type || !target || target[0] != '/') {
			rc = err_set(e, -EINVAL, "config: mount %zu lacks a type or an absolute target", i);
		} else if (!strcmp(type, "bind")) {
			rc = plan_bind(out, m, target, ro, self_id, e);
		} else if (!strcmp(type, "volume")) {
			rc = plan_volume(out, m, target, ro, self_id, e);
		} else if (!strcmp(type, "tmpfs")) {
			json_t *g = json_deep_copy(m);
			json_array_append_new(out->guest, g);
		} else {
			rc = err_set(e, -EINVAL, "config: mount %zu: unknown type '%s'", i, type);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		mounts_plan_free(out);
		return rc;
	}
	/* a share is mounted once: cached only when every use of it asked */
	json_array_foreach(out->guest, i, m) {
		const char *tag = jsonx_str(m, "source");
		for (size_t s = 0; tag && !strcmp(jsonx_str(m, "type"), "9p") && s < out->n_shares; s++)
			if (!strcmp(out->shares[s].tag, tag))
				json_object_set_new(m, "cached", json_boolean(out->shares[s].cached));
	}
	return 0;
}

void mounts_vm_config(const struct mount_plan *p, struct vm_config *vc, struct vm_disk *disks,
		      struct vm_share *shares)
{
	for (size_t i = 0; i < p->n_disks; i++)
		disks[vc->n_disks + i] = (struct vm_disk){ p->disks[i].path, false, p->disks[i].serial };
	vc->disks = disks;
	vc->n_disks += p->n_disks;
	for (size_t i = 0; i < p->n_shares; i++)
		shares[i] = (struct vm_share){ p->shares[i].tag, p->shares[i].path,
					       p->shares[i].read_only, p->shares[i].cached };
	vc->shares = p->n_shares ? shares : NULL;
	vc->n_shares = p->n_shares;
}

void mounts_plan_virtiofs(struct mount_plan *p)
{
	size_t i;
	json_t *m;

	json_array_foreach(p->guest, i, m)
		if (!strcmp(jsonx_str(m, "type"), "9p"))
			json_object_set_new(m, "type", json_string("virtiofs"));
}

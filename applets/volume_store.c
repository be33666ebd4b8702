/* Volumes on disk (see applets/volume_store.h): metadata files, sparse
 * ext4 images made by our own writer, and who uses what.  Called by the
 * volume commands, by mounts_resolve/mounts_plan and by container removal. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
#include "lib/paths.h"
#include "oci/ext4.h"

#define VOLUME_JSON_MAX (1u << 20)
#define VOLUMES_MAX 100000

void volume_free(struct volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->created);
	free(v->driver);
	json_decref(v->labels);
	json_decref(v->options);
	memset(v, 0, sizeof(*v));
}

int volume_path(const char *name, const char *file, struct buf *out, struct err *e)
{
	int rc = paths_data_dir(out, e);

	if (rc < 0)
		return rc;
	buf_puts(out, "/volumes");
	if (name && !mounts_volume_name_valid(name))
		return err_set(e, -EINVAL, "invalid volume name '%s'", name);
	if (name)
		buf_printf(out, "/%s", name);
	if (file)
		buf_printf(out, "/%s", file);
	return 0;
}

static int lock_volumes(int *fd, struct buf *lock, struct err *e)
{
	int rc;

	if ((rc = volume_path(NULL, NULL, lock, e)) < 0 ||
	    (rc = fs_mkdir_p(buf_str(lock), 0700, e)) < 0)
		return rc;
	buf_puts(lock, "/.lock");
	return fs_lock(buf_str(lock), LOCK_EX, fd, e);
}

static void random_name(char out[65])
{
	/* container ids and anonymous volume names are the same kind of thing */
	bundle_new_id(out);
}

static int rm_tree(const char *dir)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	static const char *const files[] = { "volume.json", "volume.ext4", "volume.ext4.tmp" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, files[i]);
		if (unlink(buf_str(&p)) < 0 && errno != ENOENT)
			return -errno;
	}
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

static int write_meta(const char *dir, const struct volume *v, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = json_pack(
		"{s:s, s:s, s:s, s:I, s:O, s:O, s:b}", "name", v->name, "created", v->created,
		"driver", v->driver, "size", (json_int_t)v->size, "labels", v->labels, "options",
		v->options, "anonymous", v->anonymous);

	if (!j)
		return err_set(e, -EINVAL, "volume %s: labels or options are not valid", v->name);
	buf_printf(&p, "%s/volume.json", dir);
	return jsonx_write_file(buf_str(&p), j, 0644, e);
}

int volume_create(const char *name, uint64_t size, const json_t *labels, const json_t *options,
		  bool anonymous, char **made, struct err *e)
{
	_cleanup_buf_ struct buf lock = BUF_INIT, dir = BUF_INIT, img = BUF_INIT, tmp = BUF_INIT;
	struct volume v = { 0 };
	struct ext4_opts eo = { 0 };
	char rnd[65];
	int fd = -1, rc;

	if (!name) {
		random_name(rnd);
		name = rnd;
	}
	if (!mounts_volume_name_valid(name))
		return err_set(e, -EINVAL, "invalid volume name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] "
					   "are allowed, at least 2 characters", name);
	if (size == 0)
		size = VOLUME_DEFAULT_SIZE;
	if (size < VOLUME_MIN_SIZE || size > VOLUME_MAX_SIZE)
		return err_set(e, -EINVAL, "volume size must be between 16 MiB and 1 PiB");
	if ((rc = lock_volumes(&fd, &lock, e)) < 0)
		return rc;
	if ((rc = volume_path(name, NULL, &dir, e)) < 0)
		goto out;
	if (mkdir(buf_str(&dir), 0700) < 0) {
		rc = errno == EEXIST ? err_set(e, -EEXIST, "volume %s already exists", name)
				     : err_sys(e, "create %s", buf_str(&dir));
		goto out;
	}
	buf_printf(&img, "%s/volume.ext4", buf_str(&dir));
	buf_printf(&tmp, "%s.tmp", buf_str(&img));
	snprintf(eo.label, sizeof(eo.label), "%.15s", name);
	v.name = xstrdup(name);
	v.created = xmalloc(40);
	bundle_now(v.created, 40);
	v.driver = xstrdup("local");
	v.size = size & ~(uint64_t)(EXT4_BLOCK_SIZE - 1);
	v.labels = labels ? json_deep_copy(labels) : json_object();
	v.options = options ? json_deep_copy(options) : json_object();
	v.anonymous = anonymous;
	/* a sixteenth of the volume, 4..32 MiB: small volumes stay usable */
	eo.journal_blocks = (uint32_t)(v.size / EXT4_BLOCK_SIZE / 16);
	if (eo.journal_blocks < 1024)
		eo.journal_blocks = 1024;
	if (eo.journal_blocks > VOLUME_JOURNAL_BLOCKS)
		eo.journal_blocks = VOLUME_JOURNAL_BLOCKS;
	if (anonymous)
		json_object_set_new(v.labels, VOLUME_ANON_LABEL, json_string(""));
	if ((rc = ext4_make_empty(buf_str(&tmp), v.size, &eo, e)) < 0 ||
	    (rename(buf_str(&tmp), buf_str(&img)) < 0 && (rc = err_sys(e, "rename %s", buf_str(&tmp))) < 0) ||
	    (rc = write_meta(buf_str(&dir), &v, e)) < 0) {
		rm_tree(buf_str(&dir));
		err_wrap(e, "volume %s", name);
		goto out;
	}
	if (made)
		*made = xstrdup(name);
out:
	volume_free(&v);
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

int volume_ensure(const char *name, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat st;
	int rc;

	if ((rc = volume_path(name, "volume.json", &p, e)) < 0)
		return rc;
	if (stat(buf_str(&p), &st) == 0)
		return 0;
	rc = volume_create(name, 0, NULL, NULL, false, NULL, e);
	if (rc == -EEXIST) {   /* made by someone else meanwhile */
		err_clear(e);
		return 0;
	}
	return rc < 0 ? rc : 1;
}

int volume_load(const char *name, struct volume *out, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT, text = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = volume_path(name, "volume.json", &p, e)) < 0)
		return rc;
	if ((rc = fs_read_file(buf_str(&p), &text, VOLUME_JSON_MAX, e)) < 0)
		return rc == -ENOENT ? err_set(e, -ENOENT, "no such volume: %s", name) : rc;
	j = jsonx_parse(text.data, text.len, VOLUME_JSON_MAX, buf_str(&p), e);
	if (!j)
		return e->code;
	if (!json_is_object(j) || (rc = jsonx_opt_strdup(j, "created", &out->created, buf_str(&p), e)) < 0 ||
	    (rc = jsonx_opt_strdup(j, "driver", &out->driver, buf_str(&p), e)) < 0) {
		volume_free(out);
		return rc < 0 ? rc : err_set(e, -EINVAL, "%s: not an object", buf_str(&p));
	}
	out->name = xstrdup(name);
	v = json_object_get(j, "size");
	out->size = json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	v = json_object_get(j, "labels");
	out->labels = json_is_object(v) ? json_incref(v) : json_object();
	v = json_object_get(j, "options");
	out->options = json_is_object(v) ? json_incref(v) : json_object();
	out->anonymous = json_is_true(json_object_get(j, "anonymous"));
	if (!out->driver)
		out->driver = xstrdup("local");
	if (!out->created)
		out->created = xstrdup("");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_names(char ***out, size_t *n, struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	char **v = xcalloc(1, sizeof(*v));
	size_t len = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = volume_path(NULL, NULL, &root, e)) < 0) {
		free(v);
		return rc;
	}
	d = opendir(buf_str(&root));
	if (!d && errno != ENOENT) {
		free(v);
		return err_sys(e, "open %s", buf_str(&root));
	}
	while (d && (de = readdir(d)) && len < VOLUMES_MAX) {
		if (!mounts_volume_name_valid(de->d_name))
			continue;
		v = xreallocarray(v, len + 2, sizeof(*v));
		v[len++] = xstrdup(de->d_name);
		v[len] = NULL;
	}
	if (d)
		closedir(d);
	qsort(v, len, sizeof(*v), cmp_str);
	*out = v;
	*n = len;
	return 0;
}

static bool ctr_running(const char *id)
{
	struct bundle_state s;
	struct err le = ERR_INIT;

	return bundle_state_load(id, &s, &le) == 0 && s.status == BUNDLE_RUNNING &&
	       s.runtime_pid > 0 && kill((pid_t)s.runtime_pid, 0) == 0;
}

int volume_users_map(json_t **out, struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	json_t *map = json_object();
	struct dirent *de;
	DIR *d;
	int rc;

	*out = NULL;
	if ((rc = bundle_root(&root, e)) < 0) {
		json_decref(map);
		return rc;
	}
	d = opendir(buf_str(&root));
	while (d && (de = readdir(d))) {
		struct bundle_config c;
		struct err le = ERR_INIT;
		bool running = false, asked = false;
		size_t i;
		json_t *m;
		if (strlen(de->d_name) != BUNDLE_ID_LEN)
			continue;
		if (bundle_config_load(de->d_name, &c, &le) < 0)
			continue;
		json_array_foreach(c.mounts, i, m) {
			const char *t = jsonx_str(m, "type"), *n = jsonx_str(m, "name");
			json_t *u;
			if (!t || !n || strcmp(t, "volume") != 0)
				continue;
			if (!(u = json_object_get(map, n))) {
				u = json_pack("{s:[], s:b}", "ids", "running", 0);
				json_object_set_new(map, n, u);
			}
			if (!asked) {   /* the state once per container */
				running = ctr_running(c.id);
				asked = true;
			}
			json_array_append_new(json_object_get(u, "ids"), json_string(c.id));
			if (running)
				json_object_set_new(u, "running", json_true());
		}
		bundle_config_free(&c);
	}
	if (d)
		closedir(d);
	*out = map;
	return 0;
}

/* name's entry of a users map as an owned id vector. */
static char **users_of(const json_t *map, const char *name, bool *running)
{
	const json_t *u = json_object_get(map, name), *ids = json_object_get(u, "ids");
	char **v = xcalloc(json_array_size(ids) + 1, sizeof(*v));

	for (size_t i = 0; i < json_array_size(ids); i++)
		v[i] = xstrdup(json_string_value(json_array_get(ids, i)));
	*running = json_is_true(json_object_get(u, "running"));
	return v;
}

int volume_users(const char *name, char ***ids, bool *running, struct err *e)
{
	_cleanup_json_ json_t *map = NULL;
	int rc;

	*running = false;
	*ids = NULL;
	if ((rc = volume_users_map(&map, e)) < 0)
		return rc;
	*ids = users_of(map, name, running);
	return 0;
}

int volume_running_user(const char *name, const char *except_id, char out[65], struct err *e)
{
	char **ids = NULL;
	bool running;
	int rc, found = 0;

	if ((rc = volume_users(name, &ids, &running, e)) < 0)
		return rc;
	for (size_t i = 0; running && !found && ids[i]; i++) {
		if (except_id && !strcmp(ids[i], except_id))
			continue;
		if (ctr_running(ids[i])) {
			snprintf(out, 65, "%s", ids[i]);
			found = 1;
		}
	}
	for (size_t i = 0; ids && ids[i]; i++)
		free(ids[i]);
	free(ids);
	return found;
}

/* Under the volumes lock, with the users as they are now. */
static int remove_locked(const char *name, bool force, const json_t *map, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	char **users;
	bool running;
	int rc;

	if ((rc = volume_path(name, NULL, &dir, e)) < 0)
		return rc;
	users = users_of(map, name, &running);
	if (users[0] && (!force || running))
		rc = err_set(e, -EBUSY, "volume %s is in use by container %.12s%s%s", name, users[0],
			     users[1] ? " and others" : "",
			     running ? " (running)" : ": remove the container first, or use -f");
	else if ((rc = rm_tree(buf_str(&dir))) < 0)
		err_set(e, rc, "remove %s: %s", buf_str(&dir), strerror(-rc));
	for (size_t i = 0; users[i]; i++)
		free(users[i]);
	free(users);
	return rc;
}

int volume_remove(const char *name, bool force, struct err *e)
{
	_cleanup_buf_ struct buf lock = BUF_INIT, dir = BUF_INIT;
	_cleanup_json_ json_t *map = NULL;
	struct stat st;
	int fd = -1, rc;

	if (!name || !mounts_volume_name_valid(name))
		return err_set(e, -EINVAL, "invalid volume name '%s'", name ? name : "");
	if ((rc = volume_path(name, NULL, &dir, e)) < 0)
		return rc;
	if (stat(buf_str(&dir), &st) < 0)
		return err_set(e, -ENOENT, "no such volume: %s", name);
	if ((rc = lock_volumes(&fd, &lock, e)) < 0)
		return rc;
	if ((rc = volume_users_map(&map, e)) == 0)
		rc = remove_locked(name, force, map, e);
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

int volume_prune(volume_want_fn want, void *arg, json_t **gone, long long *space,
		 struct err *e)
{
	_cleanup_buf_ struct buf lock = BUF_INIT;
	_cleanup_json_ json_t *map = NULL;
	char **names = NULL;
	size_t n = 0;
	int fd = -1, rc;

	*gone = NULL;
	*space = 0;
	if ((rc = lock_volumes(&fd, &lock, e)) < 0)
		return rc;
	if ((rc = volume_users_map(&map, e)) < 0 || (rc = volume_names(&names, &n, e)) < 0)
		goto out;
	*gone = json_array();
	for (size_t i = 0; i < n; i++) {
		struct volume v;
		struct err le = ERR_INIT;
		long long size;
		if (json_object_get(map, names[i]) || volume_load(names[i], &v, &le) < 0)
			continue;   /* in use, or removed meanwhile, or half made */
		if (want(&v, map, arg)) {
			size = volume_allocated(names[i]);
			if (remove_locked(names[i], false, map, &le) == 0) {
				json_array_append_new(*gone, json_string(names[i]));
				*space += size;
			}
		}
		volume_free(&v);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

long long volume_allocated(const char *name)
{
	_cleanup_buf_ struct buf p = BUF_INIT;

	return volume_path(name, "volume.ext4", &p, NULL) < 0 ? 0 : fs_allocated(buf_str(&p));
}

int volume_mountpoint(const char *name, struct buf *out, struct err *e)
{
	return volume_path(name, "volume.ext4", out, e);
}

json_t *volume_json(const struct volume *v)
{
	_cleanup_buf_ struct buf mp = BUF_INIT;
	struct err e = ERR_INIT;

	volume_mountpoint(v->name, &mp, &e);
	return json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:I, s:b}", "Name", v->name,
			 "Driver", v->driver, "CreatedAt", v->created, "Mountpoint", buf_str(&mp),
			 "Labels", v->labels, "Options", v->options, "Scope", "local", "Size",
			 (json_int_t)v->size, "Anonymous", v->anonymous);
}

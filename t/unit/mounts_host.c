/* Unit tests for applets/mounts_host.c and applets/volume_store.c in a
 * scratch data directory: bind sources resolved and pinned (a directory
 * swapped or replaced by a symlink after create is refused at start),
 * -v creating a missing directory while --mount refuses, shares shared per
 * directory, volumes made on first use, the image's VOLUMEs, anonymous
 * volumes removed, volume names and sizes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/mounts.h"
#include "applets/volume_store.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "t/tap.h"

static char dir[] = "/tmp/mounts_host.XXXXXX";

static const char *P(const char *rel)
{
	static char b[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof(b[i]), "%s/%s", dir, rel);
	return b[i];
}

static int resolve(const char *const *v, const char *const *mnt, const char *image_vols,
		   json_t **out, struct err *e)
{
	struct mount_list l = { 0 };
	json_t *iv = image_vols ? json_loads(image_vols, 0, NULL) : NULL;
	int rc;

	err_clear(e);
	rc = mounts_parse_flags(v, mnt, NULL, &l, e);
	if (rc == 0)
		rc = mounts_resolve(&l, iv, out, e);
	mount_list_free(&l);
	json_decref(iv);
	return rc;
}

static void test_bind(void)
{
	struct err e = ERR_INIT;
	struct mount_plan p;
	json_t *m = NULL;
	char spec[3][600];
	const char *v[4];

	mkdir(P("src"), 0755);
	mkdir(P("src/sub"), 0755);
	fclose(fopen(P("src/file.conf"), "w"));
	symlink(P("src"), P("link"));
	snprintf(spec[0], sizeof(spec[0]), "%s:/a:ro", P("link"));
	snprintf(spec[1], sizeof(spec[1]), "%s:/etc/file.conf", P("src/file.conf"));
	snprintf(spec[2], sizeof(spec[2]), "%s:/b", P("new/dir"));
	v[0] = spec[0], v[1] = spec[1], v[2] = spec[2], v[3] = NULL;
	is_int(resolve(v, NULL, NULL, &m, &e), 0, "three binds resolve (%s)", e.msg);
	is_int(json_array_size(m), 3, "... three mounts");
	is_str(jsonx_str(json_array_get(m, 0), "source"), P("src"),
	       "a symlinked source is recorded as its real path");
	ok(json_is_true(json_object_get(json_array_get(m, 2), "file")) ||
		   json_is_true(json_object_get(json_array_get(m, 1), "file")),
	   "a single file is marked as one");
	ok(access(P("new/dir"), F_OK) == 0, "-v created the missing host directory");

	is_int(mounts_plan(m, NULL, &p, &e), 0, "plan");
	is_int(p.n_shares, 2, "the directory and the file's directory (the same one) and new/dir: 2 shares");
	ok(json_is_false(json_object_get(json_array_get(p.guest, 0), "cached")),
	   "a share is not cached unless asked");
	ok(p.n_shares == 2 && !p.shares[0].read_only, "a share used read-write is not read-only");
	is_int(json_array_size(p.guest), 3, "three guest mounts");
	mounts_plan_virtiofs(&p);
	is_str(jsonx_str(json_array_get(p.guest, 0), "type"), "virtiofs",
	       "over virtio-fs the guest mounts the share as virtiofs");
	is_str(jsonx_str(json_array_get(p.guest, 0), "source"), p.shares[0].tag, "... by the same tag");
	mounts_plan_free(&p);

	/* swap the directory: a new one at the same path */
	rename(P("src"), P("src.old"));
	mkdir(P("src"), 0755);
	is_int(mounts_plan(m, NULL, &p, &e), -ESTALE, "a directory replaced after create is refused");
	ok(strstr(e.msg, P("src")) != NULL, "... naming it (%s)", e.msg);
	rmdir(P("src"));
	symlink(P("src.old"), P("src"));
	err_clear(&e);
	is_int(mounts_plan(m, NULL, &p, &e), -ESTALE, "... and so is a symlink to the original put in its place");
	unlink(P("src"));
	rename(P("src.old"), P("src"));
	err_clear(&e);
	is_int(mounts_plan(m, NULL, &p, &e), 0, "the original back in place starts again");
	mounts_plan_free(&p);
	json_decref(m);

	{
		char s[600];
		const char *mv[] = { s, NULL };
		snprintf(s, sizeof(s), "type=bind,source=%s,target=/x", P("absent"));
		is_int(resolve(NULL, mv, NULL, &m, &e), -ENOENT, "--mount of a missing source");
		ok(strstr(e.msg, "bind source path does not exist") != NULL, "... says so (%s)", e.msg);
		ok(access(P("absent"), F_OK) != 0, "... and creates nothing");
		mkfifo(P("fifo"), 0644);
		snprintf(s, sizeof(s), "type=bind,source=%s,target=/x", P("fifo"));
		is_int(resolve(NULL, mv, NULL, &m, &e), -EINVAL, "a fifo cannot be shared");
	}
}

static size_t count_volumes(void)
{
	char **names;
	size_t n;
	struct err e = ERR_INIT;

	if (volume_names(&names, &n, &e) < 0)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n;
}

static void test_volumes(void)
{
	struct err e = ERR_INIT;
	struct mount_plan p;
	struct volume vol;
	json_t *m = NULL;
	const char *v[] = { "data:/d", "data:/d2:ro", "/anon", NULL };
	char *made = NULL;
	struct stat st;

	is_int(resolve(v, NULL, "{\"/img\":{}, \"/d\":{}}", &m, &e), 0, "named, anonymous and image volumes (%s)", e.msg);
	is_int(json_array_size(m), 4, "... 4 mounts: /d covers the image's /d, /img added");
	is_int(count_volumes(), 3, "... 3 volumes: data and two anonymous");
	ok(volume_load("data", &vol, &e) == 0 && vol.size == VOLUME_DEFAULT_SIZE && !vol.anonymous,
	   "data was made on first use with the default size");
	volume_free(&vol);
	is_int(mounts_plan(m, NULL, &p, &e), 0, "plan");
	is_int(p.n_disks, 3, "one disk per volume (data mounted twice is one disk)");
	ok(p.n_disks == 3 && !strcmp(p.disks[0].serial, "vol0"), "serials vol0...");
	mounts_plan_free(&p);
	is_int(mounts_remove_anonymous(m, &e), 0, "remove the anonymous volumes");
	is_int(count_volumes(), 1, "... data is left");
	json_decref(m);

	is_int(volume_create("data", 0, NULL, NULL, false, NULL, &e), -EEXIST, "create twice: EEXIST");
	is_int(volume_create("x", 0, NULL, NULL, false, NULL, &e), -EINVAL, "a one-letter name");
	is_int(volume_create("small", 1 << 20, NULL, NULL, false, NULL, &e), -EINVAL, "1 MiB is too small");
	is_int(volume_create(NULL, 32 << 20, NULL, NULL, false, &made, &e), 0, "a random name");
	ok(made && strlen(made) == 64, "... 64 hex digits");
	{
		struct buf b = BUF_INIT;
		volume_path(made, "volume.ext4", &b, &e);
		ok(stat(buf_str(&b), &st) == 0 && st.st_size == 32 << 20 && st.st_blocks < 2048,
		   "a 32 MiB sparse image (%lld blocks allocated)", (long long)st.st_blocks);
		buf_free(&b);
	}
	is_int(volume_remove(made, false, &e), 0, "remove it");
	is_int(volume_remove(made, false, &e), -ENOENT, "remove again: ENOENT");
	free(made);
	is_int(volume_load("../etc", &vol, &e), -EINVAL, "a name with a slash is refused");
}

static bool want_anon(const struct volume *v, const json_t *users, void *arg)
{
	(void)users;
	++*(int *)arg;
	return v->anonymous;
}

static bool want_all(const struct volume *v, const json_t *users, void *arg)
{
	(void)v;
	(void)users;
	(void)arg;
	return true;
}

/* The one prune loop: only what want selects, names and space returned. */
static void test_prune(void)
{
	struct err e = ERR_INIT;
	json_t *gone = NULL, *users = NULL;
	long long space = -1;
	char *anon = NULL;
	int asked = 0;
	struct volume kept;

	volume_create("keepme", 32 << 20, NULL, NULL, false, NULL, &e);
	volume_create(NULL, 32 << 20, NULL, NULL, true, &anon, &e);
	is_int(volume_users_map(&users, &e), 0, "users map");
	ok(json_is_object(users) && json_object_size(users) == 0, "... empty: no container uses a volume");
	json_decref(users);
	is_int(volume_prune(want_anon, &asked, &gone, &space, &e), 0, "prune the anonymous ones");
	ok(anon && json_array_size(gone) == 1 && !strcmp(json_string_value(json_array_get(gone, 0)), anon),
	   "... only the anonymous volume went");
	ok(asked >= 2 && space >= 0, "... want asked for each volume (%d), space %lld", asked, space);
	json_decref(gone);
	is_int(volume_load("keepme", &kept, &e), 0, "the named one stays");
	volume_free(&kept);
	is_int(volume_prune(want_all, NULL, &gone, &space, &e), 0, "prune every unused one");
	ok(json_array_size(gone) >= 1 && count_volumes() == 0, "... none left");
	json_decref(gone);
	free(anon);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	setenv("CONTAINER_DATA_DIR", P("data"), 1);
	test_bind();
	test_volumes();
	test_prune();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not clean %s", dir);
	}
	return done_testing();
}

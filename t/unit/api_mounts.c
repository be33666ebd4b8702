/* Unit tests of the create request's mounts (applets/api_mounts.c):
 * what the docker CLI sends for -v, --mount and --tmpfs becomes the same
 * struct mount_spec list `container run` builds; hostile and malformed
 * fields (wrong types, quote injection into the re-encoded --mount line,
 * ':' in a tmpfs target, relative paths, too many) are refused with a
 * message; and config.json's "mounts" shown in Docker's inspect shape. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_mounts.h"
#include "applets/mounts.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "t/tap.h"

/* strcmp that a missing (NULL) field fails instead of crashing */
static bool eq(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* body: a create request; its HostConfig is looked up as the server does. */
static int parse(const char *body, struct mount_list *l, struct err *e)
{
	json_t *j = json_loads(body, 0, NULL);
	int rc;

	memset(l, 0, sizeof(*l));
	err_clear(e);
	if (!j)
		return -999;
	rc = api_mounts_parse(j, json_object_get(j, "HostConfig"), l, e);
	json_decref(j);
	return rc;
}

static void refused(const char *body, const char *msg_part)
{
	struct mount_list l;
	struct err e = ERR_INIT;
	int rc = parse(body, &l, &e);

	ok(rc < 0 && rc != -999 && e.msg[0] && strstr(e.msg, msg_part), "refused: %s (%s)", body,
	   e.msg);
	mount_list_free(&l);
}

static const struct mount_spec *at(const struct mount_list *l, const char *target)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].target, target))
			return &l->v[i];
	return NULL;
}

static void docker_run_shape(void)
{
	struct mount_list l;
	struct err e = ERR_INIT;
	const struct mount_spec *m;
	/* docker run -v data:/var/lib/db -v /srv:/w:ro -v /anon
	 *   --mount type=bind,src=/etc,dst=/m,readonly
	 *   --mount type=tmpfs,dst=/t2,tmpfs-size=4194304,tmpfs-mode=0700
	 *   --tmpfs /t:size=8m,exec */
	const char *body =
		"{\"Image\":\"bb\",\"Volumes\":{\"/anon\":{},\"/w\":{}},"
		"\"HostConfig\":{\"Binds\":[\"data:/var/lib/db\",\"/srv:/w:ro\"],"
		"\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/m\",\"ReadOnly\":true},"
		"{\"Type\":\"tmpfs\",\"Target\":\"/t2\",\"TmpfsOptions\":{\"SizeBytes\":4194304,"
		"\"Mode\":448}},{\"Type\":\"volume\",\"Source\":\"v3\",\"Target\":\"/d\","
		"\"VolumeOptions\":{\"NoCopy\":true}}],"
		"\"Tmpfs\":{\"/t\":\"size=8m,exec\"}}}";

	is_int(parse(body, &l, &e), 0, "docker run's mounts parse (%s)", e.msg);
	is_int((int)l.n, 7, "seven mounts (the bind target /w in Volumes is not doubled)");
	m = at(&l, "/var/lib/db");
	ok(m && m->type == MOUNT_VOLUME && eq(m->source, "data") && !m->readonly,
	   "Binds data:/var/lib/db: the named volume");
	m = at(&l, "/w");
	ok(m && m->type == MOUNT_BIND && eq(m->source, "/srv") && m->readonly && m->create_src,
	   "Binds /srv:/w:ro: a read-only bind, made when missing as docker's -v");
	m = at(&l, "/anon");
	ok(m && m->type == MOUNT_VOLUME && !m->source, "Volumes /anon: an anonymous volume");
	m = at(&l, "/m");
	ok(m && m->type == MOUNT_BIND && m->readonly && !m->create_src,
	   "Mounts bind ReadOnly: read-only, never created (as --mount)");
	m = at(&l, "/t2");
	ok(m && m->type == MOUNT_TMPFS && m->size == 4194304 && m->mode == 0700,
	   "Mounts tmpfs: SizeBytes and Mode (decimal os.FileMode) kept");
	m = at(&l, "/d");
	ok(m && m->type == MOUNT_VOLUME && m->nocopy && eq(m->source, "v3"),
	   "Mounts volume NoCopy");
	m = at(&l, "/t");
	ok(m && m->type == MOUNT_TMPFS && m->size == 8 << 20 && m->exec, "Tmpfs /t:size=8m,exec");
	mount_list_free(&l);

	is_int(parse("{\"HostConfig\":null,\"Volumes\":null}", &l, &e), 0, "null fields: none");
	is_int((int)l.n, 0, "no mounts");
	mount_list_free(&l);
	is_int(parse("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a,b\\\"c\","
		     "\"Target\":\"/x\"}]}}", &l, &e), 0,
	       "a source with a comma and a quote (%s)", e.msg);
	ok(l.n == 1 && eq(l.v[0].source, "/a,b\"c") && l.v[0].type == MOUNT_BIND,
	   "... survives the --mount re-encoding intact");
	mount_list_free(&l);
}

static void hostile(void)
{
	char big[4096];
	size_t o = 0;

	refused("{\"HostConfig\":{\"Binds\":\"/a:/b\"}}", "Binds must be a list");
	refused("{\"HostConfig\":{\"Binds\":[1]}}", "Binds[0]");
	refused("{\"HostConfig\":{\"Binds\":[\"rel/dir:/b\"]}}", "invalid volume name");
	refused("{\"HostConfig\":{\"Binds\":[\"/a:/\"]}}", "root cannot be a mount target");
	refused("{\"HostConfig\":{\"Binds\":[\"/a:b\"]}}", "invalid mode");
	refused("{\"HostConfig\":{\"Binds\":[\"v1:/x\",\"v2:/x\"]}}", "duplicate mount point");
	refused("{\"HostConfig\":{\"Mounts\":{}}}", "Mounts must be a list");
	refused("{\"HostConfig\":{\"Mounts\":[\"type=bind\"]}}", "must be an object");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Target\":\"/x\"}]}}", "needs a Type");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"npipe\",\"Target\":\"/x\"}]}}",
		"unsupported type");
	/* a quote and comma in a field must not add a field of the attacker's */
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\\\",type=bind\","
		"\"Target\":\"/x\"}]}}", "invalid volume name");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"rel\","
		"\"Target\":\"/x\"}]}}", "absolute source");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a\","
		"\"Target\":\"/x\",\"ReadOnly\":\"yes\"}]}}", "ReadOnly must be a boolean");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/x\","
		"\"TmpfsOptions\":{\"SizeBytes\":-1}}]}}", "SizeBytes");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/x\","
		"\"TmpfsOptions\":{\"Mode\":99999}}]}}", "Mode");
	refused("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a\","
		"\"Target\":\"/x\",\"TmpfsOptions\":{\"SizeBytes\":5}}]}}", "tmpfs options");
	refused("{\"HostConfig\":{\"Tmpfs\":[\"/t\"]}}", "Tmpfs must be an object");
	refused("{\"HostConfig\":{\"Tmpfs\":{\"/t:x\":\"\"}}}", "without ':'");
	refused("{\"HostConfig\":{\"Tmpfs\":{\"/t\":\"uid=0\"}}}", "unsupported option");
	refused("{\"HostConfig\":{\"Tmpfs\":{\"/t\":1}}}", "string of options");
	refused("{\"Volumes\":{\"rel\":{}}}", "not an absolute");
	refused("{\"Volumes\":{\"/a:/b\":{}}}", "not an absolute");
	refused("{\"Volumes\":[\"/a\"]}", "Volumes must be an object");
	/* more than MOUNTS_MAX */
	o += (size_t)snprintf(big + o, sizeof(big) - o, "{\"HostConfig\":{\"Binds\":[");
	for (int i = 0; i < MOUNTS_MAX + 1; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s\"/s:/t%d\"", i ? "," : "", i);
	snprintf(big + o, sizeof(big) - o, "]}}");
	refused(big, "too many mounts");
}

static void docker_shape(void)
{
	json_t *m = json_loads(
		"[{\"type\":\"bind\",\"source\":\"/srv\",\"target\":\"/w\",\"readonly\":true},"
		"{\"type\":\"volume\",\"name\":\"data\",\"target\":\"/d\",\"readonly\":false},"
		"{\"type\":\"tmpfs\",\"target\":\"/t\"},{\"type\":\"bind\"}]", 0, NULL);
	json_t *d = api_mounts_json(m), *x;

	is_int((int)json_array_size(d), 3, "three mounts shown (one without a target skipped)");
	x = json_array_get(d, 0);
	ok(eq(jsonx_str(x, "Type"), "bind") && eq(jsonx_str(x, "Source"), "/srv") &&
	   eq(jsonx_str(x, "Destination"), "/w") && json_is_false(json_object_get(x, "RW")) &&
	   eq(jsonx_str(x, "Mode"), "ro") && eq(jsonx_str(x, "Propagation"), "rprivate"),
	   "bind: Source, Destination, RW false, Mode ro, rprivate");
	x = json_array_get(d, 1);
	ok(eq(jsonx_str(x, "Name"), "data") && eq(jsonx_str(x, "Driver"), "local") &&
	   json_is_true(json_object_get(x, "RW")) &&
	   eq(jsonx_str(x, "Source"), "/scratch/data/volumes/data/volume.ext4"),
	   "volume: Name, Driver local, RW, Source the volume's image (%s)", jsonx_str(x, "Source"));
	x = json_array_get(d, 2);
	ok(eq(jsonx_str(x, "Type"), "tmpfs") && eq(jsonx_str(x, "Source"), ""),
	   "tmpfs: no Source");
	json_decref(d);
	json_decref(m);
	d = api_mounts_json(NULL);
	ok(json_is_array(d) && !json_array_size(d), "no mounts: []");
	json_decref(d);
}

int main(void)
{
	setenv("CONTAINER_DATA_DIR", "/scratch/data", 1);
	docker_run_shape();
	hostile();
	docker_shape();
	return done_testing();
}

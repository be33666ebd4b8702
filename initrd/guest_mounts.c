/* The guest boot document's "mounts" list (see initrd/guest.h): parsed
 * and checked here, without system calls, so the host's tests run it;
 * mounted by initrd/init_mounts.c.  Called by guest_config_parse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "initrd/guest.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

/* Absolute, at most 4095 bytes, no empty, "." or ".." component: the host
 * cleaned it, and init must never climb out of the container's root. */
static bool target_ok(const char *t)
{
	size_t n = strlen(t);

	if (n < 2 || n > 4095 || t[0] != '/' || t[n - 1] == '/')
		return false;
	for (const char *p = t + 1; p && *p;) {
		const char *end = strchr(p, '/');
		size_t k = end ? (size_t)(end - p) : strlen(p);
		if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = end ? end + 1 : NULL;
	}
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strchr(s, '/') == NULL;
}

static int one(const json_t *x, size_t i, struct guest_mount *m, struct err *e)
{
	const char *type = jsonx_str(x, "type");
	json_t *v;
	int rc;

	if (!json_is_object(x) || !type)
		return err_set(e, -EINVAL, "config: mount %zu is not an object with a type", i);
	if (!strcmp(type, "9p"))
		m->type = GUEST_MOUNT_9P;
	else if (!strcmp(type, "virtiofs"))
		m->type = GUEST_MOUNT_VIRTIOFS;
	else if (!strcmp(type, "volume"))
		m->type = GUEST_MOUNT_VOLUME;
	else if (!strcmp(type, "tmpfs"))
		m->type = GUEST_MOUNT_TMPFS;
	else
		return err_set(e, -EINVAL, "config: mount %zu: unknown type '%s'", i, type);
	if ((rc = jsonx_opt_strdup(x, "source", &m->source, "mount", e)) < 0 ||
	    (rc = jsonx_opt_strdup(x, "target", &m->target, "mount", e)) < 0 ||
	    (rc = jsonx_opt_strdup(x, "file", &m->file, "mount", e)) < 0)
		return rc;
	if (!m->target || !target_ok(m->target))
		return err_set(e, -EINVAL, "config: mount %zu: bad target", i);
	if (m->type != GUEST_MOUNT_TMPFS && (!m->source || !name_ok(m->source)))
		return err_set(e, -EINVAL, "config: mount %zu: bad source", i);
	if (m->file && ((m->type != GUEST_MOUNT_9P && m->type != GUEST_MOUNT_VIRTIOFS) ||
			!name_ok(m->file)))
		return err_set(e, -EINVAL, "config: mount %zu: bad file name", i);
	m->readonly = json_is_true(json_object_get(x, "readonly"));
	m->copy = json_is_true(json_object_get(x, "copy"));
	m->exec = json_is_true(json_object_get(x, "exec"));
	m->cached = json_is_true(json_object_get(x, "cached"));
	v = json_object_get(x, "size");
	if (v && !(json_is_integer(v) && json_integer_value(v) >= 0))
		return err_set(e, -EINVAL, "config: mount %zu: bad size", i);
	m->size = v ? (uint64_t)json_integer_value(v) : 0;
	v = json_object_get(x, "mode");
	if (v && !(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 07777))
		return err_set(e, -EINVAL, "config: mount %zu: bad mode", i);
	m->mode = v ? (unsigned)json_integer_value(v) : 01777;
	return 0;
}

int guest__mounts_parse(const void *json_array, struct guest_config *c, struct err *e)
{
	const json_t *arr = json_array;
	json_t *x;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > GUEST_MOUNTS_MAX)
		return err_set(e, -EINVAL, "config: 'mounts' is not a list of at most %d",
			       GUEST_MOUNTS_MAX);
	c->mounts = xcalloc(json_array_size(arr) + 1, sizeof(*c->mounts));
	json_array_foreach(arr, i, x) {
		int rc = one(x, i, &c->mounts[c->n_mounts++], e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void guest__mounts_free(struct guest_config *c)
{
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].source);
		free(c->mounts[i].target);
		free(c->mounts[i].file);
	}
	free(c->mounts);
	c->mounts = NULL;
	c->n_mounts = 0;
}

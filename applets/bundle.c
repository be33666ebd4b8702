/* A container's directory on disk: config.json, state.json, name
 * uniqueness, id/name resolution (see applets/bundle.h).  Called by
 * `container run`, the runtime role and `container logs`; tested by
 * t/unit/applets_bundle.c. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/bundle.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"

/* config.json carries the image's OCI config; state.json is small. */
#define CONFIG_MAX (4u << 20)
#define STATE_MAX (64u << 10)
#define LOCK_NAME ".lock"
/* hidden directories beside the bundles: one being created, one being
 * removed (both left only by a process killed half-way) */
#define NEW_PREFIX ".new-"
#define GONE_PREFIX ".gone-"


const char *const bundle_timing_names[BUNDLE_T__COUNT] = {
	"create", "prep", "spawn", "boot", "start", "run", "teardown",
};

static bool id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == BUNDLE_ID_LEN;
}

int bundle_root(struct buf *out, struct err *e)
{
	int rc = paths_data_dir(out, e);

	if (rc < 0)
		return rc;
	if (buf_puts(out, "/containers") < 0)
		return err_set(e, -ENAMETOOLONG, "containers directory: path too long");
	return 0;
}

int bundle_path(const char *id, const char *file, struct buf *out, struct err *e)
{
	int rc;

	if (!id_valid(id))
		return err_set(e, -EINVAL, "'%s' is not a container id (64 hex digits)", id);
	rc = bundle_root(out, e);
	if (rc < 0)
		return rc;
	if (buf_printf(out, "/%s%s%s", id, file ? "/" : "", file ? file : "") < 0)
		return err_set(e, -ENAMETOOLONG, "container %.12s: path too long", id);
	return 0;
}

/* Random bytes: getentropy (Linux, musl, macOS); /dev/urandom as a
 * fallback on old kernels.  Names and ids need uniqueness, not secrecy,
 * but ids are also the only handle on a container, so make them good. */
static void random_bytes(void *p, size_t n)
{
	unsigned char *b = p;

	while (n) {
		size_t k = n > 256 ? 256 : n;
		if (getentropy(b, k) < 0) {
			FILE *f = fopen("/dev/urandom", "rb");
			if (!f || fread(b, 1, n, f) != n) {
				fprintf(stderr, "container: no source of random bytes\n");
				abort();
			}
			fclose(f);
			return;
		}
		b += k;
		n -= k;
	}
}

void bundle_new_id(char out[BUNDLE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[BUNDLE_ID_LEN / 2];

	random_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[BUNDLE_ID_LEN] = '\0';
}

bool bundle_name_valid(const char *name)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return i >= 1 && i <= BUNDLE_NAME_MAX;
}

/* Our own two lists (Docker's idea, not its words): a mood and a
 * computing or science pioneer. */
static const char *const adjectives[] = {
	"agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp",
	"curious", "daring", "eager", "fancy", "fearless", "gentle", "glad", "golden", "happy",
	"humble", "jolly", "keen", "kind", "lively", "lucid", "merry", "mellow", "nimble",
	"noble", "patient", "plucky", "polite", "proud", "quick", "quiet", "rapid", "serene",
	"sharp", "shiny", "silent", "sleepy", "snappy", "steady", "sunny", "swift", "tender",
	"tidy", "vivid", "warm", "wise", "witty", "zealous", "zen",
};
static const char *const surnames[] = {
	"allen", "babbage", "backus", "bell", "boole", "cerf", "church", "codd", "conway",
	"curie", "dijkstra", "engelbart", "euler", "fermat", "feynman", "gauss", "goldberg",
	"hamilton", "hamming", "hopper", "hypatia", "johnson", "kahan", "kernighan", "knuth",
	"lamport", "liskov", "lovelace", "mccarthy", "meitner", "minsky", "moore", "napier",
	"neumann", "noether", "pascal", "perlman", "ritchie", "shannon", "sutherland",
	"tarjan", "thompson", "torvalds", "turing", "wilkes", "wirth", "wozniak", "yonath",
};

char *bundle_random_name(void)
{
	unsigned char r[2];
	struct buf b = BUF_INIT;

	random_bytes(r, sizeof(r));
	buf_printf(&b, "%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
		   surnames[r[1] % ARRAY_SIZE(surnames)]);
	return buf_steal(&b);
}

void bundle_now(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%09ldZ", sec, (long)ts.tv_nsec);
}

/* --- config.json ---------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *config_to_json(const struct bundle_config *c)
{
	json_t *args = json_array();
	json_t *guest = c->guest ? json_incref(c->guest) : json_object();
	json_t *labels = c->labels ? json_incref(c->labels) : json_object();
	json_t *j;

	for (char **a = c->kernel_args; a && *a; a++)
		json_array_append_new(args, json_string(*a));
	j = json_pack("{s:s, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:I, s:I, s:o, s:o, s:I},"
			 " s:o, s:b, s:o}",
			 "id", c->id, "name", str_or_null(c->name), "created",
			 str_or_null(c->created), "image", "ref", str_or_null(c->image_ref),
			 "manifest", str_or_null(c->image_manifest), "snapshot",
			 str_or_null(c->snapshot), "vm", "arch", str_or_null(c->arch), "cpus",
			 (json_int_t)c->cpus, "memory_mib", (json_int_t)c->memory_mib, "kernel",
			 str_or_null(c->kernel), "kernel_args", args, "rw_size",
			 (json_int_t)c->rw_size, "guest", guest, "auto_remove", c->auto_remove,
			 "labels", labels);
	if (j && c->network)
		json_object_set(j, "network", c->network);
	if (j && c->mounts && json_array_size(c->mounts))
		json_object_set(j, "mounts", c->mounts);
	return j;
}

static int opt_uint(const json_t *o, const char *key, uint64_t dflt, uint64_t max,
		    uint64_t *out, const char *what, struct err *e)
{
	json_t *v = json_object_get(o, key);

	*out = dflt;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return err_set(e, -EINVAL, "%s: '%s' is not an integer in 0..%llu", what, key,
			       (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int config_from_json(const json_t *j, const char *what, struct bundle_config *c,
			    struct err *e)
{
	json_t *image, *vm, *v;
	const char *id;
	uint64_t u;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(j))
		return err_set(e, -EINVAL, "%s: not a JSON object", what);
	if ((rc = jsonx_req_str(j, "id", &id, what, e)) < 0)
		return rc;
	if (!id_valid(id))
		return err_set(e, -EINVAL, "%s: 'id' is not 64 hex digits", what);
	memcpy(c->id, id, BUNDLE_ID_LEN + 1);
	if ((rc = jsonx_opt_strdup(j, "name", &c->name, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(j, "created", &c->created, what, e)) < 0)
		return rc;
	if (c->name && !bundle_name_valid(c->name))
		return err_set(e, -EINVAL, "%s: invalid name '%s'", what, c->name);
	if ((rc = jsonx_req_obj(j, "image", &image, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(image, "ref", &c->image_ref, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(image, "manifest", &c->image_manifest, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(image, "snapshot", &c->snapshot, what, e)) < 0)
		return rc;
	if (!c->snapshot)
		return err_set(e, -EINVAL, "%s: image.snapshot missing", what);
	if ((rc = jsonx_req_obj(j, "vm", &vm, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(vm, "arch", &c->arch, what, e)) < 0 ||
	    (rc = jsonx_opt_strdup(vm, "kernel", &c->kernel, what, e)) < 0)
		return rc;
	if ((rc = opt_uint(vm, "cpus", 1, 256, &u, what, e)) < 0)
		return rc;
	c->cpus = (unsigned)u;
	if ((rc = opt_uint(vm, "memory_mib", 256, 1u << 22, &u, what, e)) < 0)
		return rc;
	c->memory_mib = (unsigned)u;
	if ((rc = opt_uint(vm, "rw_size", 1ull << 30, 1ull << 50, &c->rw_size, what, e)) < 0)
		return rc;
	v = json_object_get(vm, "kernel_args");
	if (v && !json_is_null(v)) {
		size_t i, n = json_is_array(v) ? json_array_size(v) : 0;
		if (!json_is_array(v) || n > 256)
			return err_set(e, -EINVAL, "%s: vm.kernel_args is not a list of strings", what);
		c->kernel_args = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++) {
			json_t *a = json_array_get(v, i);
			if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a))
				return err_set(e, -EINVAL, "%s: vm.kernel_args[%zu] is not a string",
					       what, i);
			c->kernel_args[i] = xstrdup(json_string_value(a));
		}
	}
	v = json_object_get(j, "guest");
	if (v && !json_is_null(v) && !json_is_object(v))
		return err_set(e, -EINVAL, "%s: 'guest' is not an object", what);
	c->guest = v && json_is_object(v) ? json_incref(v) : json_object();
	v = json_object_get(j, "auto_remove");
	if (v && !json_is_boolean(v))
		return err_set(e, -EINVAL, "%s: 'auto_remove' is not a boolean", what);
	c->auto_remove = v && json_is_true(v);
	v = json_object_get(j, "labels");
	if (v && !json_is_null(v) && !json_is_object(v))
		return err_set(e, -EINVAL, "%s: 'labels' is not an object", what);
	c->labels = v && json_is_object(v) ? json_incref(v) : json_object();
	v = json_object_get(j, "network");
	if (v && !json_is_null(v) && !json_is_object(v))
		return err_set(e, -EINVAL, "%s: 'network' is not an object", what);
	c->network = v && json_is_object(v) ? json_incref(v) : NULL;
	v = json_object_get(j, "mounts");
	if (v && !json_is_null(v) && !json_is_array(v))
		return err_set(e, -EINVAL, "%s: 'mounts' is not a list", what);
	c->mounts = v && json_is_array(v) ? json_incref(v) : NULL;
	return 0;
}

void bundle_config_free(struct bundle_config *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->created);
	free(c->image_ref);
	free(c->image_manifest);
	free(c->snapshot);
	free(c->arch);
	free(c->kernel);
	for (char **a = c->kernel_args; a && *a; a++)
		free(*a);
	free(c->kernel_args);
	json_decref(c->guest);
	json_decref(c->labels);
	json_decref(c->network);
	json_decref(c->mounts);
	memset(c, 0, sizeof(*c));
}

/* A state or config file that would not load: "no such container" when it
 * is gone (e may be NULL: callers that only ask "is it there"). */
static int load_failed(const char *id, const struct err *le, struct err *e)
{
	if (le->code == -ENOENT)
		return err_set(e, -ENOENT, "no such container: %s", id);
	return err_set(e, le->code ? le->code : -EIO, "%s", le->msg);
}

int bundle_config_load(const char *id, struct bundle_config *out, struct err *e)
{
	struct err le = ERR_INIT;
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	int rc = bundle_path(id, "config.json", &p, e);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	j = jsonx_load_file(buf_str(&p), CONFIG_MAX, &le);
	if (!j)
		return load_failed(id, &le, e);
	rc = config_from_json(j, buf_str(&p), out, e);
	if (rc == 0 && strcmp(out->id, id) != 0)
		rc = err_set(e, -EINVAL, "%s: 'id' %.12s does not match its directory",
			     buf_str(&p), out->id);
	if (rc < 0)
		bundle_config_free(out);
	return rc;
}

/* --- state.json ------------------------------------------------------------ */

static const char *const status_names[] = { "created", "running", "exited" };

static void copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static int state_write(const char *path, const char *id, const struct bundle_state *s,
		       struct err *e);

int bundle_state_save(const char *id, const struct bundle_state *s, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	int rc = bundle_path(id, "state.json", &p, e);

	return rc < 0 ? rc : state_write(buf_str(&p), id, s, e);
}

static int state_write(const char *path, const char *id, const struct bundle_state *s,
		       struct err *e)
{
	_cleanup_buf_ struct buf text = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	int rc;

	if ((unsigned)s->status >= ARRAY_SIZE(status_names))
		return err_set(e, -EINVAL, "container %.12s: bad status %d", id, (int)s->status);
	j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:i, s:s}", "status", status_names[s->status],
		      "runtime_pid", (json_int_t)s->runtime_pid, "vmm_pid", (json_int_t)s->vmm_pid,
		      "started_at", s->started_at, "finished_at", s->finished_at, "exit_code",
		      s->exit_code, "error", s->error);
	if (!j)
		return err_set(e, -EINVAL, "container %.12s: state has invalid UTF-8", id);
	if (s->has_timings) {
		json_t *t = json_object();
		for (int i = 0; i < BUNDLE_T__COUNT; i++)
			json_object_set_new(t, bundle_timing_names[i],
					    json_real((double)(long long)(s->timings_ms[i] * 10) / 10));
		json_object_set_new(t, "rss_kib", json_integer(s->rss_kib));
		json_object_set_new(j, "timings", t);
	}
	/* as jsonx_write_file, with ms printed as 774.8, not 774.79999 */
	if ((rc = jsonx_dump_buf(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(7),
				 &text, e)) < 0)
		return rc;
	buf_putc(&text, '\n');
	return fs_write_atomic(path, text.data, text.len, 0644, e);
}

int bundle_state_load(const char *id, struct bundle_state *out, struct err *e)
{
	struct err le = ERR_INIT;
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	const char *status, *what;
	json_t *t;
	size_t i;
	int rc = bundle_path(id, "state.json", &p, e);

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (rc < 0)
		return rc;
	what = buf_str(&p);
	j = jsonx_load_file(what, STATE_MAX, &le);
	if (!j)
		return load_failed(id, &le, e);
	if ((rc = jsonx_req_str(j, "status", &status, what, e)) < 0)
		return rc;
	for (i = 0; i < ARRAY_SIZE(status_names) && strcmp(status, status_names[i]); i++)
		;
	if (i == ARRAY_SIZE(status_names))
		return err_set(e, -EINVAL, "%s: unknown status '%s'", what, status);
	out->status = (enum bundle_status)i;
	out->runtime_pid = (long)jsonx_int(j, "runtime_pid", 0);
	out->vmm_pid = (long)jsonx_int(j, "vmm_pid", 0);
	out->exit_code = (int)jsonx_int(j, "exit_code", -1);
	copy_str(out->started_at, sizeof(out->started_at), jsonx_str(j, "started_at"));
	copy_str(out->finished_at, sizeof(out->finished_at), jsonx_str(j, "finished_at"));
	copy_str(out->error, sizeof(out->error), jsonx_str(j, "error"));
	t = json_object_get(j, "timings");
	if (json_is_object(t)) {
		out->has_timings = true;
		for (i = 0; i < BUNDLE_T__COUNT; i++)
			out->timings_ms[i] = json_number_value(json_object_get(t, bundle_timing_names[i]));
		out->rss_kib = (long)jsonx_int(t, "rss_kib", 0);
	}
	return 0;
}

/* --- the containers directory ---------------------------------------------- */

/* Call fn for each bundle directory's id; stops at fn's non-zero result. */
static int each_id(int (*fn)(const char *id, void *arg, struct err *e), void *arg,
		   struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct dirent *de;
	DIR *d;
	int rc = bundle_root(&root, e);

	if (rc < 0)
		return rc;
	d = opendir(buf_str(&root));
	if (!d)
		return errno == ENOENT ? 0 : err_sys(e, "open %s", buf_str(&root));
	while ((de = readdir(d)))
		if (id_valid(de->d_name) && (rc = fn(de->d_name, arg, e)) != 0)
			break;
	closedir(d);
	return rc;
}

/* The name in a bundle's config.json, owned; NULL when it has none or the
 * file is unreadable (a broken bundle holds no name). */
static char *name_of(const char *id)
{
	struct bundle_config c;
	struct err e = ERR_INIT;
	char *name;

	if (bundle_config_load(id, &c, &e) < 0)
		return NULL;
	name = c.name;
	c.name = NULL;
	bundle_config_free(&c);
	return name;
}

struct name_check {
	const char *name;
	char holder[BUNDLE_ID_LEN + 1];
};

static int check_name(const char *id, void *arg, struct err *e)
{
	struct name_check *nc = arg;
	_cleanup_free_ char *n = name_of(id);

	(void)e;
	if (n && !strcmp(n, nc->name)) {
		memcpy(nc->holder, id, BUNDLE_ID_LEN + 1);
		return 1;
	}
	return 0;
}

char *bundle_unused_name(void)
{
	struct err e = ERR_INIT;
	char *name = NULL;

	for (int i = 0; i < 16; i++) {
		struct name_check nc = { NULL, "" };
		free(name);
		name = bundle_random_name();
		if (i >= 8) { /* a crowded store: Docker's digit suffix */
			unsigned char r;
			char *d = xmalloc(strlen(name) + 4);
			random_bytes(&r, 1);
			sprintf(d, "%s%d", name, r % 100);
			free(name);
			name = d;
		}
		nc.name = name;
		if (each_id(check_name, &nc, &e) == 0)
			break;
	}
	return name;
}

int bundle_create(const struct bundle_config *c, struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT, lock = BUF_INIT, dir = BUF_INIT, p = BUF_INIT,
				 tmp = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	struct name_check nc = { c->name, "" };
	struct bundle_state s;
	int fd = -1, rc;

	if (!id_valid(c->id))
		return err_set(e, -EINVAL, "'%s' is not a container id (64 hex digits)", c->id);
	if (c->name && !bundle_name_valid(c->name))
		return err_set(e, -EINVAL, "invalid container name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				       "are allowed, at most %d", c->name, BUNDLE_NAME_MAX);
	if (!c->snapshot)
		return err_set(e, -EINVAL, "container %.12s: no image snapshot", c->id);
	j = config_to_json(c);
	if (!j)
		return err_set(e, -EINVAL, "container %.12s: configuration is not valid UTF-8", c->id);
	if ((rc = bundle_root(&root, e)) < 0 || (rc = fs_mkdir_p(buf_str(&root), 0700, e)) < 0)
		return rc;
	buf_printf(&lock, "%s/%s", buf_str(&root), LOCK_NAME);
	if ((rc = fs_lock(buf_str(&lock), LOCK_EX, &fd, e)) < 0)
		return rc;
	if (c->name && (rc = each_id(check_name, &nc, e)) != 0) {
		if (rc > 0)
			rc = err_set(e, -EEXIST, "the container name \"%s\" is already in use by "
					       "container %s", c->name, nc.holder);
		goto out;
	}
	/* made whole under a hidden name, then renamed into place: a creator
	 * killed half-way leaves a .new- directory (bundle_sweep), never a
	 * container without its config or state */
	buf_printf(&tmp, "%s/" NEW_PREFIX "%s", buf_str(&root), c->id);
	buf_printf(&dir, "%s/%s", buf_str(&root), c->id);
	if (access(buf_str(&dir), F_OK) == 0) {
		errno = EEXIST;
		rc = err_sys(e, "create %s", buf_str(&dir));
		goto out;
	}
	if (mkdir(buf_str(&tmp), 0700) < 0) {
		rc = err_sys(e, "create %s", buf_str(&tmp));
		goto out;
	}
	buf_printf(&p, "%s/config.json", buf_str(&tmp));
	memset(&s, 0, sizeof(s));
	s.status = BUNDLE_CREATED;
	s.exit_code = -1;
	if ((rc = jsonx_write_file(buf_str(&p), j, 0644, e)) < 0)
		goto undo;
	buf_reset(&p);
	buf_printf(&p, "%s/state.json", buf_str(&tmp));
	if ((rc = state_write(buf_str(&p), c->id, &s, e)) < 0)
		goto undo;
	if (rename(buf_str(&tmp), buf_str(&dir)) < 0) {
		rc = err_sys(e, "rename %s", buf_str(&tmp));
		goto undo;
	}
	fs_fsync_dir(buf_str(&root), NULL);
	goto out;
undo:
	nftw(buf_str(&tmp), bundle__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
out:
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

int bundle_config_save(const struct bundle_config *c, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	_cleanup_json_ json_t *j = config_to_json(c);
	int rc;

	if (!j)
		return err_set(e, -EINVAL, "container %.12s: configuration is not valid UTF-8", c->id);
	if ((rc = bundle_path(c->id, "config.json", &p, e)) < 0)
		return rc;
	return jsonx_write_file(buf_str(&p), j, 0644, e);
}

int bundle_rename(const char *id, const char *name, struct bundle_config *out, struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT, lock = BUF_INIT;
	struct name_check nc = { name, "" };
	struct bundle_config c;
	int fd = -1, rc;

	if (!bundle_name_valid(name))
		return err_set(e, -EINVAL, "invalid container name '%.140s': only "
				       "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most %d", name,
			       BUNDLE_NAME_MAX);
	if ((rc = bundle_root(&root, e)) < 0)
		return rc;
	buf_printf(&lock, "%s/%s", buf_str(&root), LOCK_NAME);
	if ((rc = fs_lock(buf_str(&lock), LOCK_EX, &fd, e)) < 0)
		return rc;
	if ((rc = bundle_config_load(id, &c, e)) < 0)
		goto out;
	if ((rc = each_id(check_name, &nc, e)) != 0) {
		if (rc > 0)
			rc = strcmp(nc.holder, id) == 0 ? 0
			     : err_set(e, -EEXIST, "the container name \"%s\" is already in use "
						   "by container %s", name, nc.holder);
	} else {
		free(c.name);
		c.name = xstrdup(name);
		rc = bundle_config_save(&c, e);
	}
	if (rc == 0 && out) {
		*out = c;   /* the caller's now: no second load */
		memset(&c, 0, sizeof(c));
	}
	bundle_config_free(&c);
out:
	fs_unlock_unlink(buf_str(&lock), fd);
	return rc;
}

struct resolve {
	const char *q;
	size_t qlen;
	char exact[BUNDLE_ID_LEN + 1], named[BUNDLE_ID_LEN + 1], prefix[BUNDLE_ID_LEN + 1];
	unsigned n_prefix;
	bool q_is_hex;
};

static int resolve_one(const char *id, void *arg, struct err *e)
{
	struct resolve *r = arg;

	(void)e;
	if (!strcmp(id, r->q)) {
		memcpy(r->exact, id, BUNDLE_ID_LEN + 1);
		return 1;
	}
	if (r->q_is_hex && !strncmp(id, r->q, r->qlen)) {
		if (r->n_prefix++ == 0)
			memcpy(r->prefix, id, BUNDLE_ID_LEN + 1);
	}
	if (!r->named[0]) {
		_cleanup_free_ char *n = name_of(id);
		if (n && !strcmp(n, r->q))
			memcpy(r->named, id, BUNDLE_ID_LEN + 1);
	}
	return 0;
}

int bundle_resolve(const char *query, char out[BUNDLE_ID_LEN + 1], struct err *e)
{
	struct resolve r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.q = query;
	r.qlen = strlen(query);
	r.q_is_hex = r.qlen > 0 && r.qlen <= BUNDLE_ID_LEN && strspn(query, "0123456789abcdef") == r.qlen;
	if (!r.qlen || r.qlen > BUNDLE_NAME_MAX + 1)
		return err_set(e, -ENOENT, "no such container: %.*s", BUNDLE_NAME_MAX, query);
	rc = each_id(resolve_one, &r, e);
	if (rc < 0)
		return rc;
	/* Docker's order: a full id, then a name, then a unique id prefix. */
	if (r.exact[0])
		memcpy(out, r.exact, BUNDLE_ID_LEN + 1);
	else if (r.named[0])
		memcpy(out, r.named, BUNDLE_ID_LEN + 1);
	else if (r.n_prefix == 1)
		memcpy(out, r.prefix, BUNDLE_ID_LEN + 1);
	else if (r.n_prefix > 1)
		return err_set(e, -EINVAL, "ambiguous container id prefix '%s': %u containers match",
			       query, r.n_prefix);
	else
		return err_set(e, -ENOENT, "no such container: %s", query);
	return 0;
}

static const char *path_base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int bundle__rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* a sweep and a remover may both walk a .gone- directory: what the
	 * other one removed first is done, not an error */
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return errno ? errno : EIO;
	return 0;
}

int bundle_remove(const char *id, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT, gone = BUF_INIT;
	int rc = bundle_path(id, NULL, &dir, e);

	if (rc < 0 || (rc = bundle_root(&gone, e)) < 0)
		return rc;
	/* out of sight in one step: a remover killed half-way leaves a
	 * .gone- directory (bundle_sweep), never half a container */
	buf_printf(&gone, "/" GONE_PREFIX "%.*s", BUNDLE_ID_LEN, id);
	if (rename(buf_str(&dir), buf_str(&gone)) == 0)
{
		struct buf t = dir;
		dir = gone;
		gone = t;
	}
	else if (errno == ENOENT)
		return err_set(e, -ENOENT, "no such container: %s", id);
	rc = nftw(buf_str(&dir), bundle__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc < 0 && errno == ENOENT)   /* a sweep took the .gone- directory: done */
		return strncmp(path_base(buf_str(&dir)), GONE_PREFIX, strlen(GONE_PREFIX)) == 0
			       ? 0 : err_set(e, -ENOENT, "no such container: %s", id);
	if (rc != 0) {
		errno = rc > 0 ? rc : errno;
		return err_sys(e, "remove %s", buf_str(&dir));
	}
	return 0;
}

int bundle_sweep(struct err *e)
{
	_cleanup_buf_ struct buf root = BUF_INIT, lock = BUF_INIT, p = BUF_INIT;
	struct dirent *d;
	DIR *dir;
	int fd = -1, rc, n = 0;

	if ((rc = bundle_root(&root, e)) < 0)
		return rc;
	if (!(dir = opendir(buf_str(&root))))
		return errno == ENOENT ? 0 : err_sys(e, "open %s", buf_str(&root));
	buf_printf(&lock, "%s/%s", buf_str(&root), LOCK_NAME);
	/* under the creators' lock: no .new- directory is being filled */
	if ((rc = fs_lock(buf_str(&lock), LOCK_EX, &fd, e)) < 0) {
		closedir(dir);
		return rc;
	}
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, NEW_PREFIX, strlen(NEW_PREFIX)) &&
		    strncmp(d->d_name, GONE_PREFIX, strlen(GONE_PREFIX)))
			continue;
		buf_reset(&p);
		buf_printf(&p, "%s/%s", buf_str(&root), d->d_name);
		if (nftw(buf_str(&p), bundle__rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
			n++;
	}
	closedir(dir);
	fs_unlock_unlink(buf_str(&lock), fd);
	return n;
}

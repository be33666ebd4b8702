/* Unit tests for applets/bundle.c: create, load, resolve, names, state
 * round trip, corrupt files.  Runs in a temporary CONTAINER_DATA_DIR. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applets/bundle.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "t/tap.h"

static char root[] = "/tmp/bundle-test-XXXXXX";

static void mkconfig(struct bundle_config *c, const char *id, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->name = (char *)name;
	c->created = (char *)"2024-01-01T00:00:00.000000000Z";
	c->image_ref = (char *)"docker.io/library/busybox:latest";
	c->snapshot = (char *)"/snap/x.ext4";
	c->arch = (char *)"x86_64";
	c->cpus = 2;
	c->memory_mib = 512;
	c->rw_size = 1 << 26;
}

static void hexid(char *out, char first)
{
	memset(out, '0', BUNDLE_ID_LEN);
	out[0] = first;
	out[BUNDLE_ID_LEN] = 0;
}

static int write_file(const char *id, const char *file, const char *text)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	int rc = bundle_path(id, file, &p, &e);
	if (rc == 0)
		rc = fs_write_atomic(buf_str(&p), text, strlen(text), 0644, &e);
	buf_free(&p);
	return rc;
}

static void test_names(void)
{
	char id[BUNDLE_ID_LEN + 1], id2[BUNDLE_ID_LEN + 1];
	char big[200];

	ok(bundle_name_valid("web1"), "name web1 valid");
	ok(bundle_name_valid("a.b-c_d"), "name with . - _ valid");
	ok(!bundle_name_valid(""), "empty name invalid");
	ok(!bundle_name_valid("-x"), "leading - invalid");
	ok(!bundle_name_valid("_x"), "leading _ invalid");
	ok(!bundle_name_valid("a/b"), "slash invalid");
	ok(!bundle_name_valid("a b"), "space invalid");
	ok(!bundle_name_valid(".."), "'..' invalid");
	memset(big, 'a', sizeof(big));
	big[BUNDLE_NAME_MAX] = 0;
	ok(bundle_name_valid(big), "128 chars valid");
	big[BUNDLE_NAME_MAX] = 'a';
	big[BUNDLE_NAME_MAX + 1] = 0;
	ok(!bundle_name_valid(big), "129 chars invalid");

	bundle_new_id(id);
	bundle_new_id(id2);
	is_int((int)strlen(id), BUNDLE_ID_LEN, "id is 64 chars");
	is_int((int)strspn(id, "0123456789abcdef"), BUNDLE_ID_LEN, "id is lowercase hex");
	ok(strcmp(id, id2) != 0, "two ids differ");

	int good = 1;
	for (int i = 0; i < 50; i++) {
		char *n = bundle_random_name();
		if (!bundle_name_valid(n) || !strchr(n, '_'))
			good = 0;
		free(n);
	}
	ok(good, "50 random names are valid adjective_surname names");

	char ts[40];
	bundle_now(ts, sizeof(ts));
	is_int((int)strlen(ts), 30, "timestamp is RFC 3339 with ns (%s)", ts);
	ok(ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' && ts[29] == 'Z', "timestamp shape");
}

static void test_create_load(void)
{
	struct bundle_config c, got;
	struct bundle_state s;
	struct err e = ERR_INIT;
	char a[BUNDLE_ID_LEN + 1], b[BUNDLE_ID_LEN + 1], cc[BUNDLE_ID_LEN + 1], out[BUNDLE_ID_LEN + 1];
	char *args[] = { "loglevel=3", "foo=bar", NULL };
	int rc;

	hexid(a, 'a');
	a[1] = 'b';
	hexid(b, 'a');
	b[1] = 'c';
	hexid(cc, 'c');

	rc = bundle_state_load(a, &s, &e);
	is_int(rc, -ENOENT, "state of a missing container: -ENOENT");
	ok(strstr(e.msg, "no such container") != NULL, "message: %s", e.msg);

	mkconfig(&c, a, "web1");
	c.kernel_args = args;
	c.auto_remove = true;
	c.guest = json_pack("{s:s, s:{s:[s,s]}}", "hostname", "h1", "process", "cmd", "echo", "hi");
	c.labels = json_pack("{s:s}", "k", "v");
	rc = bundle_create(&c, &e);
	is_int(rc, 0, "create a (%s)", e.msg);
	json_decref(c.guest);
	json_decref(c.labels);

	rc = bundle_config_load(a, &got, &e);
	is_int(rc, 0, "load config a (%s)", e.msg);
	if (rc == 0) {
		is_str(got.name, "web1", "name round trip");
		is_str(got.snapshot, "/snap/x.ext4", "snapshot round trip");
		is_str(got.arch, "x86_64", "arch round trip");
		is_int((int)got.cpus, 2, "cpus");
		is_int((int)got.memory_mib, 512, "memory");
		is_int((int)(got.rw_size >> 20), 64, "rw_size");
		ok(got.kernel == NULL, "kernel null = default");
		ok(got.kernel_args && !strcmp(got.kernel_args[1], "foo=bar") && !got.kernel_args[2],
		   "kernel_args");
		ok(got.auto_remove, "auto_remove");
		is_str(json_string_value(json_object_get(got.guest, "hostname")), "h1", "guest doc");
		is_str(json_string_value(json_object_get(got.labels, "k")), "v", "labels");
		bundle_config_free(&got);
	}
	rc = bundle_state_load(a, &s, &e);
	is_int(rc, 0, "initial state loads");
	is_int((int)s.status, BUNDLE_CREATED, "initial status created");
	is_int(s.exit_code, -1, "initial exit code -1");
	ok(!s.has_timings, "no timings yet");

	/* same name: refused, naming the holder */
	mkconfig(&c, b, "web1");
	rc = bundle_create(&c, &e);
	is_int(rc, -EEXIST, "same name refused");
	ok(strstr(e.msg, a) != NULL, "message names the holder: %s", e.msg);
	/* same id: refused */
	mkconfig(&c, a, "other");
	is_int(bundle_create(&c, &e), -EEXIST, "same id refused");
	mkconfig(&c, b, "Bad Name");
	is_int(bundle_create(&c, &e), -EINVAL, "invalid name refused");
	mkconfig(&c, "../../etc", "x");
	is_int(bundle_create(&c, &e), -EINVAL, "non-hex id refused");
	mkconfig(&c, b, "web2");
	is_int(bundle_create(&c, &e), 0, "create b");
	mkconfig(&c, cc, NULL);
	is_int(bundle_create(&c, &e), 0, "create c without a name");

	/* resolve */
	is_int(bundle_resolve(a, out, &e), 0, "full id resolves");
	is_str(out, a, "to itself");
	is_int(bundle_resolve("web2", out, &e), 0, "name resolves");
	is_str(out, b, "to b");
	is_int(bundle_resolve("ab", out, &e), 0, "unique prefix resolves");
	is_str(out, a, "to a");
	rc = bundle_resolve("a", out, &e);
	is_int(rc, -EINVAL, "ambiguous prefix");
	ok(strstr(e.msg, "ambiguous") != NULL, "message: %s", e.msg);
	is_int(bundle_resolve("c", out, &e), 0, "prefix c");
	is_int(bundle_resolve("nosuch", out, &e), -ENOENT, "unknown name: -ENOENT");
	is_int(bundle_resolve("", out, &e), -ENOENT, "empty query: -ENOENT");
	is_int(bundle_resolve("d", out, &e), -ENOENT, "unknown prefix: -ENOENT");

	/* state round trip */
	memset(&s, 0, sizeof(s));
	s.status = BUNDLE_EXITED;
	s.runtime_pid = 1234;
	s.vmm_pid = 1235;
	snprintf(s.started_at, sizeof(s.started_at), "2024-01-01T00:00:00.1Z");
	snprintf(s.finished_at, sizeof(s.finished_at), "2024-01-01T00:00:01.2Z");
	s.exit_code = 137;
	snprintf(s.error, sizeof(s.error), "it \"broke\"\n");
	s.has_timings = true;
	for (int i = 0; i < BUNDLE_T__COUNT; i++)
		s.timings_ms[i] = 10.5 * (i + 1);
	s.rss_kib = 4321;
	is_int(bundle_state_save(b, &s, &e), 0, "state save");
	struct bundle_state s2;
	is_int(bundle_state_load(b, &s2, &e), 0, "state load");
	ok(s2.status == BUNDLE_EXITED && s2.runtime_pid == 1234 && s2.vmm_pid == 1235 &&
	   s2.exit_code == 137, "state fields round trip");
	is_str(s2.error, "it \"broke\"\n", "error text round trip");
	is_str(s2.finished_at, s.finished_at, "finished_at");
	ok(s2.has_timings && s2.timings_ms[BUNDLE_T_TEARDOWN] == 10.5 * (BUNDLE_T_TEARDOWN + 1) && s2.rss_kib == 4321,
	   "timings round trip");

	/* corrupt files: clear errors naming the file, nothing replaced */
	write_file(cc, "config.json", "{\"id\": ");
	rc = bundle_config_load(cc, &got, &e);
	ok(rc < 0 && strstr(e.msg, "config.json") && strstr(e.msg, "invalid JSON"),
	   "corrupt config.json: %s", e.msg);
	write_file(cc, "config.json", "{\"id\":\"0000\",\"image\":{\"snapshot\":\"/x\"},\"vm\":{}}");
	rc = bundle_config_load(cc, &got, &e);
	ok(rc == -EINVAL && strstr(e.msg, "id"), "bad id in config.json: %s", e.msg);
	write_file(cc, "config.json", "[1,2]");
	is_int(bundle_config_load(cc, &got, &e), -EINVAL, "config.json not an object");
	write_file(cc, "state.json", "{\"status\":\"dancing\"}");
	rc = bundle_state_load(cc, &s2, &e);
	ok(rc == -EINVAL && strstr(e.msg, "dancing"), "unknown status: %s", e.msg);
	write_file(b, "config.json", "{\"id\":\"" "b" "\"}");
	/* a broken bundle does not break resolution of the others */
	is_int(bundle_resolve("web1", out, &e), 0, "resolution survives broken bundles");

	/* remove */
	is_int(bundle_remove(b, &e), 0, "remove b");
	is_int(bundle_state_load(b, &s2, &e), -ENOENT, "b is gone");
	is_int(bundle_remove(b, &e), -ENOENT, "remove again: -ENOENT");
	is_int(bundle_remove("..", &e), -EINVAL, "remove refuses a non-id");
	mkconfig(&c, b, "web2");
	is_int(bundle_create(&c, &e), 0, "name web2 free again after remove");
}

/* A create or remove killed half-way leaves only hidden directories,
 * which bundle_sweep takes away; the bundles beside them stay. */
static void test_sweep(void)
{
	const char *id = "5555555555555555555555555555555555555555555555555555555555555555";
	const char *half = "6666666666666666666666666666666666666666666666666666666666666666";
	char path[512], out[BUNDLE_ID_LEN + 1];
	struct bundle_config c;
	struct err e = ERR_INIT;
	struct stat sb;
	FILE *f;

	mkconfig(&c, id, "sweepme");
	is_int(bundle_create(&c, &e), 0, "create beside the debris");
	snprintf(path, sizeof(path), "%s/containers/.new-%s", root, id);
	ok(stat(path, &sb) < 0 && errno == ENOENT, "a finished create leaves no .new- directory");
	snprintf(path, sizeof(path), "%s/containers/.new-%s", root, half);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/containers/.new-%s/config.json", root, half);
	if ((f = fopen(path, "w")))
		fclose(f);
	snprintf(path, sizeof(path), "%s/containers/.gone-%s", root, half);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/containers/.gone-%s/rw.ext4", root, half);
	if ((f = fopen(path, "w")))
		fclose(f);
	is_int(bundle_resolve(half, out, &e), -ENOENT, "half-made bundles are not containers");
	is_int(bundle_sweep(&e), 2, "sweep removes the .new- and the .gone- directory");
	snprintf(path, sizeof(path), "%s/containers/.gone-%s", root, half);
	ok(stat(path, &sb) < 0 && errno == ENOENT, "the .gone- directory is gone");
	is_int(bundle_resolve("sweepme", out, &e), 0, "the whole bundle stays");
	is_int(bundle_sweep(&e), 0, "nothing more to sweep");
	is_int(bundle_remove(id, &e), 0, "remove");
	snprintf(path, sizeof(path), "%s/containers/.gone-%s", root, id);
	ok(stat(path, &sb) < 0 && errno == ENOENT, "a finished remove leaves no .gone- directory");
}

/* A sweep and a live bundle_remove walk the same .gone- directory: an
 * entry the other one removed first is done, not a failure. */
static void test_rm_race(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/containers/.gone-vanished", root);
	is_int(bundle__rm_entry(path, NULL, FTW_F, NULL), 0, "rm_entry: a file already gone is done");
	is_int(bundle__rm_entry(path, NULL, FTW_NS, NULL), 0,
	       "rm_entry: an entry that vanished before its stat is done");
	is_int(bundle__rm_entry(path, NULL, FTW_DP, NULL), 0, "rm_entry: a directory already gone is done");
	snprintf(path, sizeof(path), "%s/containers", root);
	ok(bundle__rm_entry(path, NULL, FTW_DP, NULL) == ENOTEMPTY,
	   "rm_entry: a real failure (a non-empty directory) is still one");
}

/* 150 unnamed creates: with 2496 random names a plain random pick
 * collides with p > 0.98; bundle_unused_name never hands out a held one */
static void test_unused_names(void)
{
	struct bundle_config c;
	struct err e = ERR_INIT;
	int fails = 0;

	for (int i = 0; i < 150; i++) {
		char id[BUNDLE_ID_LEN + 1], *name = bundle_unused_name();
		bundle_new_id(id);
		mkconfig(&c, id, name);
		if (bundle_create(&c, &e) != 0) {
			if (!fails++)
				diag("create %d (%s): %s", i, name, e.msg);
		}
		free(name);
	}
	is_int(fails, 0, "150 creates with generated names: none collides");
}

static int rm_rf(const char *dir)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };
	pid_t pid = fork();
	int st;
	if (pid == 0) {
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	return waitpid(pid, &st, 0) < 0 ? -1 : st;
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("CONTAINER_DATA_DIR", root, 1);
	test_names();
	test_create_load();
	test_sweep();
	test_rm_race();
	test_unused_names();
	rm_rf(root);
	return done_testing();
}

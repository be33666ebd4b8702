/* Tests of oci/creds.c: config.json round trip (base64 auth, mode 0600,
 * unknown keys kept, Docker Hub's key, "https://host" keys), credential
 * helpers through a fake docker-credential-test script on PATH (get,
 * store, erase, list, not found, malformed and endless output), and that
 * secrets never reach an error message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "oci/creds.h"
#include "t/tap.h"

static char dir[4096];

static void rm_rf(const char *d)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", d, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", dir, name);
	if (fs_write_atomic(buf_str(&p), text, strlen(text), mode, NULL) < 0)
		abort();
}

static json_t *config(void)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	buf_printf(&p, "%s/config.json", dir);
	return jsonx_load_file(buf_str(&p), 0, NULL);
}

static void test_config_roundtrip(void)
{
	struct creds c = { xstrdup("alice"), xstrdup("p:w ss"), NULL }, got;
	struct err e = ERR_INIT;
	struct stat st;
	_cleanup_buf_ struct buf p = BUF_INIT;
	json_t *j;

	is_int(creds_lookup(dir, "reg.example:5000", &got, &e), 0, "no config.json: no credentials");
	write_file("config.json", "{\"proxies\":{\"default\":{}},\"auths\":{}}", 0644);
	is_int(creds_store(dir, "reg.example:5000", &c, &e), 0, "store in auths");
	buf_printf(&p, "%s/config.json", dir);
	ok(stat(buf_str(&p), &st) == 0 && (st.st_mode & 0777) == 0600, "config.json rewritten 0600");
	j = config();
	is_str(jsonx_str(json_object_get(json_object_get(j, "auths"), "reg.example:5000"), "auth"),
	       "YWxpY2U6cDp3IHNz", "auth is base64(user:password)");
	ok(json_object_get(j, "proxies") != NULL, "unknown keys are kept");
	json_decref(j);
	is_int(creds_lookup(dir, "reg.example:5000", &got, &e), 1, "lookup finds them");
	is_str(got.username, "alice", "user name");
	is_str(got.password, "p:w ss", "password with a colon");
	creds_free(&got);
	is_int(creds_lookup(dir, "other.example", &got, &e), 0, "another host has none");

	is_int(creds_store(dir, "docker.io", &c, &e), 0, "store for Docker Hub");
	j = config();
	ok(json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/") != NULL,
	   "Docker Hub key is https://index.docker.io/v1/");
	json_decref(j);
	is_int(creds_lookup(dir, "index.docker.io", &got, &e), 1, "found by an alias of the hub");
	creds_free(&got);

	write_file("config.json",
		   "{\"auths\":{\"https://legacy.example/v1/\":{\"auth\":\"Ym9iOnNlY3JldA==\","
		   "\"identitytoken\":\"tok\"}}}", 0600);
	is_int(creds_lookup(dir, "legacy.example", &got, &e), 1, "an https://host/v1/ key matches host");
	is_str(got.username, "bob", "its user");
	is_str(got.identity_token, "tok", "its identity token");
	creds_free(&got);

	write_file("config.json", "{\"auths\":{\"bad.example\":{\"auth\":\"c2VjcmV0\"}}}", 0600);
	is_int(creds_lookup(dir, "bad.example", &got, &e), -EINVAL, "auth without a colon is refused");
	ok(strstr(e.msg, "c2VjcmV0") == NULL && strstr(e.msg, "secret") == NULL,
	   "the message does not show the secret: %s", e.msg);
	err_clear(&e);

	write_file("config.json", "{\"auths\":", 0600);
	ok(creds_lookup(dir, "x.example", &got, &e) < 0, "a broken config.json is an error");

	write_file("config.json", "{\"auths\":{\"a.example\":{\"auth\":\"YTpi\"},\"https://a.example\":{}}}", 0600);
	is_int(creds_erase(dir, "a.example", &e), 0, "erase");
	j = config();
	is_int(json_object_size(json_object_get(j, "auths")), 0, "every spelling of the host erased");
	json_decref(j);
	is_int(creds_erase(dir, "a.example", &e), -ENOENT, "erase again: not logged in");
	creds_free(&c);
}

/* A credential helper in shell, keeping its state in $dir/helper.db. */
static const char helper[] =
	"#!/bin/sh\n"
	"db=\"$HELPER_DB\"\n"
	"in=$(cat)\n"
	"echo \"$1 $in\" >>\"$db.log\"\n"
	"case $1 in\n"
	"get) if [ \"$in\" = huge.example ]; then yes xxxxxxxxxxxxxxxxxxxxxxxxxx; fi\n"
	"     if [ \"$in\" = junk.example ]; then echo 'not json'; exit 0; fi\n"
	"     if [ -f \"$db\" ] && grep -q \"\\\"ServerURL\\\":\\\"$in\\\"\" \"$db\"; then cat \"$db\"; exit 0; fi\n"
	"     echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"store) printf '%s' \"$in\" >\"$db\" ;;\n"
	"erase) [ -f \"$db\" ] || { echo 'credentials not found in native keychain'; exit 1; }; rm -f \"$db\" ;;\n"
	"list) echo '{\"h.example\":\"carol\"}' ;;\n"
	"esac\n";

static void test_helpers(void)
{
	_cleanup_buf_ struct buf path = BUF_INIT, db = BUF_INIT, logp = BUF_INIT, logtxt = BUF_INIT;
	struct creds c = { xstrdup("carol"), xstrdup("hunter2"), NULL }, got;
	struct creds_entry *v;
	struct err e = ERR_INIT;
	size_t n;
	json_t *j;

	write_file("docker-credential-test", helper, 0755);
	buf_printf(&path, "%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", buf_str(&path), 1);
	buf_printf(&db, "%s/helper.db", dir);
	setenv("HELPER_DB", buf_str(&db), 1);

	write_file("config.json", "{\"credsStore\":\"test\"}", 0600);
	is_int(creds_lookup(dir, "h.example", &got, &e), 0, "helper: not found is no credentials");
	is_int(creds_store(dir, "h.example", &c, &e), 0, "helper: store");
	j = config();
	ok(json_object_get(json_object_get(j, "auths"), "h.example") != NULL &&
	   !json_object_get(json_object_get(json_object_get(j, "auths"), "h.example"), "auth"),
	   "auths keeps an empty entry, no secret");
	json_decref(j);
	is_int(creds_lookup(dir, "h.example", &got, &e), 1, "helper: get");
	is_str(got.username, "carol", "helper: user");
	is_str(got.password, "hunter2", "helper: secret");
	creds_free(&got);
	is_int(creds_list(dir, &v, &n, &e), 0, "list");
	ok(n == 1 && strcmp(v[0].server, "h.example") == 0 && v[0].username &&
	   strcmp(v[0].username, "carol") == 0, "list merges auths and the helper's list");
	creds_entries_free(v, n);

	is_int(creds_lookup(dir, "junk.example", &got, &e), -EINVAL, "helper: malformed answer");
	is_int(creds_lookup(dir, "huge.example", &got, &e), -E2BIG, "helper: endless output is cut off");
	err_clear(&e);

	write_file("config.json", "{\"credHelpers\":{\"h.example\":\"test\"},"
		   "\"credsStore\":\"missing-helper\"}", 0600);
	is_int(creds_lookup(dir, "h.example", &got, &e), 1, "credHelpers wins over credsStore");
	creds_free(&got);
	ok(creds_lookup(dir, "other.example", &got, &e) < 0, "a missing helper is an error");
	ok(strstr(e.msg, "docker-credential-missing-helper") != NULL, "naming it: %s", e.msg);
	err_clear(&e);

	write_file("config.json", "{\"credsStore\":\"../../bin/sh\"}", 0600);
	is_int(creds_lookup(dir, "h.example", &got, &e), -EINVAL, "a helper name with a path is refused");

	write_file("config.json", "{\"credsStore\":\"test\"}", 0600);
	is_int(creds_erase(dir, "h.example", &e), 0, "helper: erase");
	is_int(creds_lookup(dir, "h.example", &got, &e), 0, "gone after erase");

	buf_printf(&logp, "%s.log", buf_str(&db));
	fs_read_file(buf_str(&logp), &logtxt, 0, NULL);
	ok(strstr(buf_str(&logtxt), "store {\"ServerURL\":\"h.example\",\"Username\":\"carol\","
		  "\"Secret\":\"hunter2\"}") != NULL, "store got Docker's JSON on stdin");
	ok(strstr(buf_str(&logtxt), "get h.example") != NULL, "get got the server on stdin");
	creds_free(&c);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/oci_creds.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	is_str(creds_server_key("docker.io"), "https://index.docker.io/v1/", "hub key");
	is_str(creds_server_key("ghcr.io"), "ghcr.io", "other registries by host");
	test_config_roundtrip();
	test_helpers();
	rm_rf(dir);
	return done_testing();
}

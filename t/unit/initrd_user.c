/* Unit tests for initrd/guest.c's user, group, environment, working
 * directory and ENTRYPOINT/CMD composition: the cases where Docker's (and
 * runc's) behaviour is easy to get wrong. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/guest.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "t/tap.h"

/* alpine-like files, with the oddities real images have */
static const char passwd[] =
	"root:x:0:0:root:/root:/bin/ash\n"
	"bin:x:1:1:bin:/bin:/sbin/nologin\n"
	"# a comment line\n"
	"\n"
	"broken:x:notanumber:1::/nowhere:/bin/sh\n"
	"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
	"  app:x:1000:1000:App:/home/app:/bin/sh  \n"
	"nohome:x:1001:1001::::\n"
	"dup:x:1002:1002::/first:/bin/sh\n"
	"dup:x:1003:1003::/second:/bin/sh\n"
	"short:x:1004";
static const char group[] =
	"root:x:0:root\n"
	"bin:x:1:root,bin,daemon\n"
	"wheel:x:10:root, app\n"
	"nogroup:x:65533:\n"
	"nobody:x:65534:\n"
	"app:x:1000:\n"
	"audio:x:29:app\n"
	"bad:x:xx:app\n"
	"staff:x:50:other,app";

static char *ids(const struct guest_user *u)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%u:%u [", u->uid, u->gid);
	for (size_t i = 0; i < u->n_sgids; i++)
		buf_printf(&b, "%s%u", i ? " " : "", u->sgids[i]);
	buf_printf(&b, "] %s", u->home ? u->home : "(null)");
	return buf_steal(&b);
}

static void user_is(const char *spec, char *const *extra, const char *want, const char *what)
{
	struct guest_user u;
	struct err e = ERR_INIT;
	int rc = guest_user_resolve(spec, passwd, group, extra, &u, &e);
	if (rc < 0) {
		ok(0, "%s: %s", what, e.msg);
		return;
	}
	char *got = ids(&u);
	is_str(got, want, "%s", what);
	free(got);
	guest_user_free(&u);
}

static void user_fails(const char *spec, int code, const char *msg_part, const char *what)
{
	struct guest_user u;
	struct err e = ERR_INIT;
	int rc = guest_user_resolve(spec, passwd, group, NULL, &u, &e);
	is_int(rc, code, "%s", what);
	if (msg_part)
		ok(strstr(e.msg, msg_part) != NULL, "%s: message '%s'", what, e.msg);
}

static void test_users(void)
{
	user_is("", NULL, "0:0 [0 1 10] /root", "default user is root with its groups");
	user_is("root", NULL, "0:0 [0 1 10] /root", "root by name");
	user_is("0", NULL, "0:0 [0 1 10] /root", "root by uid");
	user_is("app", NULL, "1000:1000 [10 29 50] /home/app",
		"name: gid, home, member lists with spaces");
	user_is("1000", NULL, "1000:1000 [10 29 50] /home/app", "uid found in passwd");
	user_is("nobody", NULL, "65534:65534 [] /", "nobody");
	user_is("4242", NULL, "4242:0 [] /", "numeric uid absent from passwd: allowed, gid 0, home /");
	user_is("4242:4343", NULL, "4242:4343 [] /", "uid:gid both absent");
	user_is("app:audio", NULL, "1000:29 [] /home/app", "name:group: no supplementary groups");
	user_is("app:0", NULL, "1000:0 [] /home/app", "name:gid");
	user_is("1000:staff", NULL, "1000:50 [] /home/app", "uid:group");
	user_is("nohome", NULL, "1001:1001 [] /", "empty home becomes /");
	user_is("dup", NULL, "1002:1002 [] /first", "first match wins");
	user_is("1003", NULL, "1003:1003 [] /second", "uid lookup of the second dup");
	char *extra[] = { "audio", "777", NULL };
	user_is("nobody", extra, "65534:65534 [29 777] /", "--group-add by name and number");
	user_is("app", extra, "1000:1000 [10 29 50 29 777] /home/app",
		"--group-add appends to membership groups");

	user_fails("nosuch", -ENOENT, "unable to find user nosuch", "missing name is an error");
	user_fails("broken", -ENOENT, NULL, "entry with a non-numeric uid is ignored");
	user_fails("short", -ENOENT, NULL, "truncated entry is ignored");
	user_fails("app:nosuch", -ENOENT, "unable to find group nosuch", "missing group name");
	user_fails("app:", -EINVAL, NULL, "empty group part");
	user_fails("4294967296", -EINVAL, "out of range", "uid over 2^31-1");
	user_fails("2147483648", -EINVAL, NULL, "uid 2^31");
	user_is("2147483647", NULL, "2147483647:0 [] /", "uid 2^31-1");
	user_fails("-1", -ENOENT, NULL, "negative uid is a (missing) name");

	struct guest_user u;
	struct err e = ERR_INIT;
	is_int(guest_user_resolve("1234", NULL, NULL, NULL, &u, &e), 0,
	       "no passwd file: numeric user still works");
	guest_user_free(&u);
	is_int(guest_user_resolve("", NULL, NULL, NULL, &u, &e), 0, "no passwd file: root");
	ok(u.uid == 0 && u.gid == 0 && u.n_sgids == 0 && !strcmp(u.home, "/"), "root without passwd");
	guest_user_free(&u);
	is_int(guest_user_resolve("app", NULL, NULL, NULL, &u, &e), -ENOENT,
	       "no passwd file: a name is an error");
}

static char *join(char **v)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; v && v[i]; i++)
		buf_printf(&b, "%s[%s]", i ? " " : "", v[i]);
	return buf_steal(&b);
}

static void argv_is(char **iep, char **icmd, char **ep, char **cmd, const char *want,
		    const char *what)
{
	char **out = NULL;
	struct err e = ERR_INIT;
	int rc = guest_argv_compose(iep, icmd, ep, cmd, &out, &e);
	if (!want) {
		is_int(rc, -EINVAL, "%s", what);
		is_str(e.msg, "no command specified", "%s: message", what);
		return;
	}
	char *got = join(out);
	is_str(got, want, "%s", what);
	free(got);
	guest_strv_free(out);
}

static void test_argv(void)
{
	char *iep[] = { "/entry.sh", "--flag", NULL }, *icmd[] = { "serve", NULL };
	char *cmd[] = { "echo", "hi", NULL }, *ep[] = { "/bin/sh", NULL };
	char *ep_empty_str[] = { "", NULL }, *empty[] = { NULL };

	argv_is(iep, icmd, NULL, NULL, "[/entry.sh] [--flag] [serve]", "image entrypoint + cmd");
	argv_is(iep, icmd, NULL, cmd, "[/entry.sh] [--flag] [echo] [hi]",
		"user command replaces image cmd, entrypoint kept");
	argv_is(iep, icmd, ep, NULL, "[/bin/sh]", "--entrypoint drops the image cmd");
	argv_is(iep, icmd, ep, cmd, "[/bin/sh] [echo] [hi]", "--entrypoint + command");
	argv_is(iep, icmd, ep_empty_str, cmd, "[echo] [hi]", "--entrypoint '' + command");
	argv_is(iep, icmd, ep_empty_str, NULL, NULL, "--entrypoint '' alone: no command");
	argv_is(iep, icmd, empty, NULL, "[serve]",
		"entrypoint [] via the API: cleared, image cmd kept");
	argv_is(NULL, icmd, NULL, NULL, "[serve]", "cmd only");
	argv_is(NULL, icmd, NULL, cmd, "[echo] [hi]", "cmd replaced");
	argv_is(NULL, NULL, NULL, NULL, NULL, "nothing at all");
	argv_is(NULL, NULL, NULL, empty, NULL, "empty user command and nothing else");
	argv_is(iep, NULL, NULL, empty, "[/entry.sh] [--flag]", "entrypoint, no cmd anywhere");
	char *cmd_empty_arg[] = { "", NULL };
	argv_is(NULL, NULL, NULL, cmd_empty_arg, "[]", "a single empty argument is a command");
}

static void test_env(void)
{
	char *img[] = { "PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "X=1", NULL };
	char *user[] = { "X=2", "NEW=yes", "LANG", "EMPTY=", NULL };
	char **env = guest_env_compose(img, user, "web1", true, "/home/app");
	char *got = join(env);
	is_str(got, "[PATH=/opt/bin:/usr/bin] [HOSTNAME=web1] [TERM=xterm] [X=2] [NEW=yes] "
		    "[EMPTY=] [HOME=/home/app]",
	       "image PATH replaces the default in place, -e overrides, bare KEY unsets, HOME last");
	free(got);
	is_str(guest_env_get(env, "EMPTY"), "", "empty value kept");
	ok(guest_env_get(env, "LANG") == NULL, "unset key gone");
	ok(guest_env_get(env, "PAT") == NULL, "prefix of a key is not the key");
	guest_strv_free(env);

	env = guest_env_compose(NULL, NULL, "h", false, NULL);
	got = join(env);
	is_str(got, "[PATH=" GUEST_DEFAULT_PATH "] [HOSTNAME=h] [HOME=/]",
	       "defaults: PATH, HOSTNAME, HOME=/; no TERM without a tty");
	free(got);
	guest_strv_free(env);

	char *home[] = { "HOME=/custom", "TERM=dumb", NULL };
	env = guest_env_compose(home, NULL, "h", true, "/root");
	is_str(guest_env_get(env, "HOME"), "/custom", "HOME from the image wins over passwd");
	is_str(guest_env_get(env, "TERM"), "dumb", "image TERM replaces xterm");
	guest_strv_free(env);

	char *unset_path[] = { "PATH", NULL };
	env = guest_env_compose(NULL, unset_path, "h", false, "/");
	is_str(guest_env_get(env, "PATH"), GUEST_DEFAULT_PATH,
	       "a bare PATH unsets the image's, not the daemon default (as docker)");
	guest_strv_free(env);
}

static void test_workdir(void)
{
	char *w = NULL;
	struct err e = ERR_INIT;

	guest_workdir(NULL, NULL, &w, &e);
	is_str(w, "/", "default workdir");
	free(w);
	guest_workdir(NULL, "/app", &w, &e);
	is_str(w, "/app", "image workdir");
	free(w);
	guest_workdir("/src//x/./y/../z/", "/app", &w, &e);
	is_str(w, "/src/x/z", "user workdir wins, cleaned");
	free(w);
	guest_workdir("/../..", NULL, &w, &e);
	is_str(w, "/", ".. stops at /");
	free(w);
	is_int(guest_workdir("rel", NULL, &w, &e), -EINVAL, "relative workdir refused");
	ok(strstr(e.msg, "absolute") != NULL, "message: %s", e.msg);
}

int main(void)
{
	test_users();
	test_argv();
	test_env();
	test_workdir();
	return done_testing();
}

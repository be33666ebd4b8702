/* `container registry login|logout|list`: credentials for registries, in
 * Docker's config.json (oci/creds.c), checked against the registry before
 * they are stored.  The password is read from stdin (--password-stdin) or
 * from the terminal with echo off; it is never an argument. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "applets/applets.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/mem.h"
#include "oci/creds.h"

#define SECRET_MAX 8192

static int fail(const struct cmd *c, const struct err *e)
{
	fprintf(stderr, "container registry %s: %s\n", c->name, e->msg);
	return EXIT_FAIL;
}

/* "https://host/v1/" or "host/" as people paste them -> "host". */
static void server_host(const char *s, struct buf *out)
{
	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	buf_append(out, s, strcspn(s, "/"));
}

/* One line from fd into out (bounded), without the newline. */
static int read_line(int fd, struct buf *out)
{
	char ch;

	for (;;) {
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ch == '\n')
			break;
		if (buf_putc(out, ch) < 0)
			return -E2BIG;
	}
	if (out->len && out->data[out->len - 1] == '\r')
		buf_truncate(out, out->len - 1);
	return 0;
}

static int prompt(const char *what, int echo, struct buf *out)
{
	struct termios t, old;
	int rc, tty = isatty(0);

	if (!tty)
		return -ENOTTY;
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	if (!echo && tcgetattr(0, &old) == 0) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &t);
		rc = read_line(0, out);
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
		return rc;
	}
	return read_line(0, out);
}

struct login_cli {
	const char *username, *scheme;
	int password_stdin;
};

static const struct opt login_optv[] = {
	OPT_STRING('u', "username", struct login_cli, username, "USER", "User name"),
	OPT_FLAG(0, "password-stdin", struct login_cli, password_stdin,
		 "Read the password (or token) from stdin"),
	OPT_STRING(0, "scheme", struct login_cli, scheme, "SCHEME",
		   "Registry scheme: https, http or auto (http only for loopback)"),
	OPT_END,
};

static int login_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct login_cli *a = o;
	_cleanup_buf_ struct buf host = BUF_INIT, user = BUF_INIT, pass = BUF_INIT;
	struct creds_conn_opts co = { 0 };
	struct creds cr = { 0 };
	struct err e = ERR_INIT;
	int rc;

	(void)argc;
	server_host(argv[0], &host);
	if (host.len == 0) {
		fprintf(stderr, "container registry login: no server given\n");
		return EXIT_USAGE;
	}
	if (a->scheme && strcmp(a->scheme, "http") == 0)
		co.scheme = REGISTRY_SCHEME_HTTP;
	else if (a->scheme && strcmp(a->scheme, "https") == 0)
		co.scheme = REGISTRY_SCHEME_HTTPS;
	else if (a->scheme && strcmp(a->scheme, "auto") != 0) {
		fprintf(stderr, "container registry login: --scheme must be https, http or auto\n");
		return EXIT_USAGE;
	}
	creds_conn_opts_from_env(&co);
	buf_init(&user, 1024);
	buf_init(&pass, SECRET_MAX);
	if (a->username)
		buf_puts(&user, a->username);
	else if (prompt("Username", 1, &user) < 0) {
		fprintf(stderr, "container registry login: give -u USER (no terminal to ask on)\n");
		return EXIT_USAGE;
	}
	rc = a->password_stdin ? read_line(0, &pass) : prompt("Password", 0, &pass);
	if (rc == -ENOTTY) {
		fprintf(stderr, "container registry login: use --password-stdin (no terminal to ask on)\n");
		return EXIT_USAGE;
	}
	if (rc < 0 || pass.len == 0 || user.len == 0) {
		fprintf(stderr, "container registry login: %s\n",
			rc < 0 ? "password too long" : "user name and password must not be empty");
		return EXIT_USAGE;
	}
	cr.username = (char *)buf_str(&user);
	cr.password = (char *)buf_str(&pass);
	rc = creds_verify(buf_str(&host), &co, &cr, &e);
	if (rc == 0)
		rc = creds_store(co.config_dir, buf_str(&host), &cr, &e);
	memset(pass.data, 0, pass.len);
	if (rc < 0)
		return fail(c, &e);
	printf("Login succeeded\n");
	return EXIT_OK;
}

static const struct cmd cmd_registry_login = {
	.name = "login",
	.summary = "Log in to a registry",
	.usage = "[-u USER] [--password-stdin] SERVER",
	.help = "Credentials are checked with the registry, then stored in Docker's\n"
		"config.json ($DOCKER_CONFIG or ~/.docker), or in its credential helper.",
	.opts = login_optv,
	.opts_size = sizeof(struct login_cli),
	.min_args = 1,
	.max_args = 1,
	.run = login_cmd,
};

static int logout_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf host = BUF_INIT;
	struct err e = ERR_INIT;

	(void)o;
	(void)argc;
	server_host(argv[0], &host);
	if (creds_erase(NULL, buf_str(&host), &e) < 0)
		return fail(c, &e);
	printf("Removed login credentials for %s\n", buf_str(&host));
	return EXIT_OK;
}

static const struct cmd cmd_registry_logout = {
	.name = "logout",
	.summary = "Forget the credentials for a registry",
	.usage = "SERVER",
	.min_args = 1,
	.max_args = 1,
	.run = logout_cmd,
};

static int list_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	struct creds_entry *v;
	struct err e = ERR_INIT;
	size_t n;

	(void)o;
	(void)argc;
	(void)argv;
	if (creds_list(NULL, &v, &n, &e) < 0)
		return fail(c, &e);
	printf("%-40s %s\n", "SERVER", "USERNAME");
	for (size_t i = 0; i < n; i++)
		printf("%-40s %s\n", v[i].server, v[i].username ? v[i].username : "-");
	creds_entries_free(v, n);
	return EXIT_OK;
}

static const struct cmd cmd_registry_list = {
	.name = "list",
	.aliases = "ls",
	.summary = "List the registries with stored credentials",
	.max_args = 0,
	.run = list_cmd,
};

static const struct cmd *const registry_sub[] = {
	&cmd_registry_login, &cmd_registry_logout, &cmd_registry_list, NULL,
};

const struct cmd cmd_registry = {
	.name = "registry",
	.aliases = "r",
	.summary = "Manage registry logins: login, logout, list",
	.usage = "COMMAND [OPTIONS] [ARG...]",
	.sub = registry_sub,
};

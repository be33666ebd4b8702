/* `container exec [-d] [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...`,
 * through the API server (applets/cliapi.h) as `docker exec` does: POST
 * /containers/{id}/exec, POST /exec/{id}/start (hijacked, or Detach),
 * the stdio relay of applets/attach.c, then GET /exec/{id}/json for the
 * exit code, which becomes ours (126/127 when the command could not run). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/attach.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"

struct exec_cli {
	int detach, interactive, tty;
	struct opt_list env;
	const char *workdir, *user;
};

static const struct opt exec_optv[] = {
	OPT_FLAG('d', "detach", struct exec_cli, detach, "Run the command in the background"),
	OPT_FLAG('i', "interactive", struct exec_cli, interactive, "Keep stdin open"),
	OPT_FLAG('t', "tty", struct exec_cli, tty, "Allocate a terminal"),
	OPT_LIST('e', "env", struct exec_cli, env, "KEY=VAL", "Set an environment variable"),
	OPT_STRING('w', "workdir", struct exec_cli, workdir, "DIR", "Working directory"),
	OPT_STRING('u', "user", struct exec_cli, user, "USER", "User (name|uid[:group|gid])"),
	OPT_END,
};

static int fail(int code, const char *msg)
{
	fprintf(stderr, "container exec: %s\n", msg);
	return code;
}

/* -e K=V as given; -e K takes K from our environment (left out when
 * unset), as docker does. */
static json_t *env_json(const struct opt_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++) {
		const char *kv = l->v[i], *v;
		if (strchr(kv, '=')) {
			json_array_append_new(a, json_string(kv));
		} else if ((v = getenv(kv))) {
			_cleanup_buf_ struct buf b = BUF_INIT;
			buf_printf(&b, "%s=%s", kv, v);
			json_array_append_new(a, json_string(buf_str(&b)));
		}
	}
	return a;
}

static json_t *exec_body(const struct exec_cli *a, int argc, char **argv)
{
	json_t *cmd = json_array(), *j;
	unsigned rows = 0, cols = 0;
	bool in = a->interactive && !a->detach;

	for (int i = 1; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	j = json_pack("{s:o, s:o, s:b, s:b, s:b, s:b}", "Cmd", cmd, "Env", env_json(&a->env),
		      "Tty", a->tty, "AttachStdin", in, "AttachStdout", !a->detach, "AttachStderr",
		      !a->detach);
	if (a->user)
		json_object_set_new(j, "User", json_string(a->user));
	if (a->workdir)
		json_object_set_new(j, "WorkingDir", json_string(a->workdir));
	if (a->tty && (attach_winsize(STDOUT_FILENO, &rows, &cols) ||
		       attach_winsize(STDIN_FILENO, &rows, &cols)))
		json_object_set_new(j, "ConsoleSize", json_pack("[i, i]", rows, cols));
	return j;
}

static int exec_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct exec_cli *a = o;
	_cleanup_buf_ struct buf p = BUF_INIT, rp = BUF_INIT;
	json_t *body = exec_body(a, argc, argv), *r = NULL;
	struct cliapi api;
	struct api_stream s = { .fd = -1 };
	struct err e = ERR_INIT;
	const char *xid;
	int rc, status = EXIT_OK;

	(void)c;
	if (a->tty && a->interactive && !isatty(STDIN_FILENO) && !a->detach) {
		json_decref(body);
		return fail(EXIT_RUNTIME, "the input device is not a TTY (drop -t, or run from a terminal)");
	}
	buf_puts(&p, "/containers/");
	cliapi_escape(&p, argv[0]);
	buf_puts(&p, "/exec");
	rc = cliapi_connect(&api, &e);
	if (rc == 0)
		rc = cliapi_call(&api, "POST", buf_str(&p), body, &r, &e);
	json_decref(body);
	if (rc < 0 || !(xid = jsonx_str(r, "Id"))) {
		json_decref(r);
		cliapi_free(&api);
		return fail(rc == -ENOENT ? EXIT_FAIL : EXIT_RUNTIME,
			    rc < 0 ? e.msg : "the API server gave no exec id");
	}
	buf_reset(&p);
	buf_printf(&p, "/exec/%s/start", xid);
	buf_printf(&rp, "/exec/%s/resize", xid);
	body = json_pack("{s:b, s:b}", "Detach", a->detach, "Tty", a->tty);
	rc = cliapi_open(&api, "POST", buf_str(&p), body, a->detach ? 0 : API_CLIENT_HIJACK, &s,
			 &e);
	json_decref(body);
	if (rc == 0 && !a->detach) {
		struct attach_opts ao = { .stdin_open = a->interactive, .tty = a->tty,
					  .api = &api, .resize_path = buf_str(&rp) };
		rc = attach_relay(&s, &ao, &e);
	}
	api_stream_close(&s);
	if (rc == 0 && !a->detach) {
		json_t *x = NULL;
		buf_reset(&p);
		buf_printf(&p, "/exec/%s/json", xid);
		if ((rc = cliapi_call(&api, "GET", buf_str(&p), NULL, &x, &e)) == 0)
			status = (int)jsonx_int(x, "ExitCode", 255);
		json_decref(x);
	}
	json_decref(r);
	cliapi_free(&api);
	if (rc < 0)
		return fail(EXIT_RUNTIME, e.msg);
	return status;
}

const struct cmd cmd_exec = {
	.name = "exec",
	.summary = "Run a command in a running container",
	.usage = "[OPTIONS] CONTAINER COMMAND [ARG...]",
	.help = "Runs COMMAND in the running container (a name, an id or an id prefix) and\n"
		"exits with its status.  With -d it returns once the command runs; a command\n"
		"whose client goes away keeps running with its stdin closed, as docker's.",
	.opts = exec_optv,
	.opts_size = sizeof(struct exec_cli),
	.flags = OPT_STOP_AT_OPERAND,
	.min_args = 2,
	.max_args = -1,
	.run = exec_cmd,
};

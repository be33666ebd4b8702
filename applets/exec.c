/* `container exec [-d] [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...`:
 * runs a process in a running container through its runtime's socket
 * (applets/runtime.h) and relays its stdio with applets/attach.c; the exit
 * code is the process's.  Talks to the runtime directly until the API
 * server (#6) proxies Docker's exec endpoints; kept thin for that swap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/attach.h"
#include "applets/bundle.h"
#include "applets/runtime.h"
#include "initrd/agent.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/mem.h"

#define EXEC_STREAM 2u   /* ours alone: the runtime maps it for the guest */

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
 * unset), as docker does.  The strings built here are in owned. */
static const char **env_list(const struct opt_list *l, char **owned)
{
	const char **env = xcalloc(l->n + 1, sizeof(*env));
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *kv = l->v[i], *v;
		if (strchr(kv, '=')) {
			env[n++] = kv;
		} else if ((v = getenv(kv))) {
			size_t kn = strlen(kv), vn = strlen(v);
			owned[i] = xmalloc(kn + vn + 2);
			memcpy(owned[i], kv, kn);
			owned[i][kn] = '=';
			memcpy(owned[i] + kn + 1, v, vn + 1);
			env[n++] = owned[i];
		}
	}
	return env;
}

static int exec_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct exec_cli *a = o;
	char id[BUNDLE_ID_LEN + 1];
	struct err e = ERR_INIT;
	_cleanup_free_ char **owned = xcalloc(a->env.n + 1, sizeof(char *));
	_cleanup_free_ const char **env = env_list(&a->env, owned);
	struct agent_proc_spec spec = { 0 };
	struct attach_opts ao = { 0 };
	unsigned rows = 0, cols = 0;
	int fd = -1, status = 0, rc;

	(void)c;
	(void)argc;
	if (a->tty && a->interactive && !isatty(STDIN_FILENO) && !a->detach)
		return fail(EXIT_RUNTIME, "the input device is not a TTY (drop -t, or run from a terminal)");
	if (a->tty && !attach_winsize(STDOUT_FILENO, &rows, &cols))
		attach_winsize(STDIN_FILENO, &rows, &cols);
	spec = (struct agent_proc_spec){
		.argv = (const char *const *)(argv + 1),
		.env = env,
		.cwd = a->workdir,
		.user = a->user,
		.tty = a->tty,
		.open_stdin = a->interactive && !a->detach,
		.rows = (uint16_t)rows,
		.cols = (uint16_t)cols,
	};
	ao = (struct attach_opts){ .stdin_open = spec.open_stdin, .tty = a->tty,
				   .stream = EXEC_STREAM, .create = &spec, .detach = a->detach };
	rc = bundle_resolve(argv[0], id, &e);
	if (rc < 0)
		return fail(EXIT_FAIL, e.msg);
	if ((rc = runtime_connect(id, 0, &fd, &e)) < 0)
		return fail(EXIT_FAIL, e.msg);
	rc = attach_run(fd, &ao, &status, &e);
	close(fd);
	for (size_t i = 0; i < a->env.n; i++)
		free(owned[i]);
	/* the guest's reason for not running it, as docker's codes */
	if (rc == -ENOENT)
		return fail(EXIT_NOTFOUND, e.msg);
	if (rc == -EACCES || rc == -ENOEXEC || rc == -EISDIR)
		return fail(EXIT_NOEXEC, e.msg);
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

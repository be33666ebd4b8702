/* `container stop [-t SECONDS] [-s SIGNAL] CONTAINER...` and
 * `container kill [-s SIGNAL] CONTAINER...`, through the API server
 * (applets/cliapi.h): POST /containers/{id}/stop?t=&signal= answers once
 * the container's VM is gone (the signal, -t seconds of grace, then
 * SIGKILL); POST /containers/{id}/kill?signal= sends a signal, and with
 * SIGKILL (the default) we also wait (POST …/wait?condition=not-running)
 * until the VM is gone, as `kill` always did here. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/applets.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"

#define STOP_DEFAULT_S 10

static const struct { const char *name; int signo; } signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "ALRM", SIGALRM },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "WINCH", SIGWINCH }, { "PIPE", SIGPIPE },
};

/* "TERM", "SIGTERM", "term", "15" (1..64 as the guest takes); -1 if none. */
static int parse_signal(const char *s)
{
	char *end;
	long n;

	if (!s)
		return -1;
	n = strtol(s, &end, 10);
	if (*s && !*end)
		return n >= 1 && n <= 64 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcasecmp(s, signames[i].name) == 0)
			return signames[i].signo;
	return -1;
}

static int stop_one(struct cliapi *api, const char *query, int signo, long timeout_s,
		    bool is_kill, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	int rc;

	buf_puts(&p, "/containers/");
	cliapi_escape(&p, query);
	if (!is_kill)
		buf_printf(&p, "/stop?t=%ld&signal=%d", timeout_s, signo);
	else
		buf_printf(&p, "/kill?signal=%d", signo);
	if ((rc = cliapi_call(api, "POST", buf_str(&p), NULL, NULL, e)) < 0 || !is_kill ||
	    signo != SIGKILL)
		return rc;
	buf_reset(&p);
	buf_puts(&p, "/containers/");
	cliapi_escape(&p, query);
	buf_puts(&p, "/wait?condition=not-running");
	return cliapi_call(api, "POST", buf_str(&p), NULL, NULL, e);
}

struct stop_cli {
	long time;
	const char *signal;
};

static int run_all(const char *verb, int signo, long timeout_s, bool is_kill, int argc,
		   char **argv)
{
	struct cliapi api;
	struct err ce = ERR_INIT;
	int status = EXIT_OK;

	if (cliapi_connect(&api, &ce) < 0) {
		fprintf(stderr, "container %s: %s\n", verb, ce.msg);
		cliapi_free(&api);
		return EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		struct err e = ERR_INIT;
		if (stop_one(&api, argv[i], signo, timeout_s, is_kill, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", verb, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	cliapi_free(&api);
	fflush(stdout);
	return status;
}

static const struct opt stop_optv[] = {
	OPT_INT('t', "time|timeout", struct stop_cli, time, "SECONDS",
		"Seconds to wait before killing (default 10)"),
	OPT_STRING('s', "signal", struct stop_cli, signal, "SIGNAL",
		   "Signal to send first (default SIGTERM)"),
	OPT_END,
};

static const struct stop_cli stop_defaults = { .time = STOP_DEFAULT_S };

static int stop_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct stop_cli *a = o;
	int signo = a->signal ? parse_signal(a->signal) : SIGTERM;

	(void)c;
	if (signo < 0) {
		fprintf(stderr, "container stop: invalid signal '%s'\n", a->signal);
		return EXIT_USAGE;
	}
	if (a->time < 0 || a->time > 24L * 3600) {
		fprintf(stderr, "container stop: invalid time %ld\n", a->time);
		return EXIT_USAGE;
	}
	return run_all("stop", signo, a->time, false, argc, argv);
}

const struct cmd cmd_stop = {
	.name = "stop",
	.summary = "Stop running containers",
	.usage = "[OPTIONS] CONTAINER...",
	.help = "Sends SIGTERM (or -s) to each container's main process, waits -t seconds\n"
		"for it to exit, then kills it; returns once the container's VM is gone.",
	.opts = stop_optv,
	.opts_size = sizeof(struct stop_cli),
	.opts_defaults = &stop_defaults,
	.min_args = 1,
	.max_args = -1,
	.run = stop_cmd,
};

static const struct opt kill_optv[] = {
	OPT_STRING('s', "signal", struct stop_cli, signal, "SIGNAL",
		   "Signal to send (default SIGKILL: end the container)"),
	OPT_END,
};

static int kill_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct stop_cli *a = o;
	int signo = a->signal ? parse_signal(a->signal) : SIGKILL;

	(void)c;
	if (signo < 0) {
		fprintf(stderr, "container kill: invalid signal '%s'\n", a->signal);
		return EXIT_USAGE;
	}
	return run_all("kill", signo, 0, true, argc, argv);
}

const struct cmd cmd_kill = {
	.name = "kill",
	.summary = "Kill running containers or send them a signal",
	.usage = "[OPTIONS] CONTAINER...",
	.help = "With SIGKILL (the default) each container ends at once (status 137) and the\n"
		"command returns once its VM is gone; any other signal goes to the main\n"
		"process only.",
	.opts = kill_optv,
	.opts_size = sizeof(struct stop_cli),
	.min_args = 1,
	.max_args = -1,
	.run = kill_cmd,
};

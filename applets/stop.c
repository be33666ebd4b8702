/* `container stop [-t SECONDS] [-s SIGNAL] CONTAINER...` and
 * `container kill [-s SIGNAL] CONTAINER...`, through each container's
 * runtime socket (applets/runtime.h "Stopping"): stop sends the signal
 * (SIGTERM) as a stop request on stream 0, waits up to -t seconds for the
 * workload's exit, then asks for SIGKILL; kill with SIGKILL (the default)
 * ends the container the same way at once, any other signal only goes to
 * the main process.  Both return once the VM is gone (stop, kill -9).
 * Talks to the runtime directly until the API server (#6) proxies Docker's
 * stop/kill endpoints; kept thin for that swap. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/bundle.h"
#include "applets/runtime.h"
#include "applets/rtclient.h"
#include "applets/stop.h"
#include "initrd/agent.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"

#define STOP_DEFAULT_S 10
#define KILL_WAIT_MS 20000   /* SIGKILL to the VM's end: guest, sync, power-off */
#define HELLO_WAIT_MS 10000

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

/* HELLO both ways, then the runtime's OK on stream 1: the workload runs
 * and our requests are taken. */
static int rtc_open(struct rtc *c, const char *id, struct err *e)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, "container-stop" };
	_cleanup_buf_ struct buf out = BUF_INIT;
	struct agent_frame f;
	size_t pending = 0;
	int rc;

	if ((rc = runtime_connect(id, 0, &c->fd, e)) < 0)
		return rc;
	if ((rc = agent_put_hello(&out, &h, e)) < 0 ||
	    (rc = fs_write_full(c->fd, out.data, out.len, e)) < 0)
		return rc;
	while ((rc = rtc_next(c, &pending, &f, HELLO_WAIT_MS, e)) > 0) {
		if (f.type == AGENT_ERROR)
			return err_set(e, -EIO, "%s", f.u.error.message);
		if (f.type == AGENT_OK && f.stream == 1)
			break;
	}
	buf_consume(&c->in, pending);
	if (rc == 0)
		return err_set(e, -ETIMEDOUT, "container %.12s is not running yet", id);
	return rc < 0 ? rc : 0;
}

/* signo 0: SHUTDOWN on stream 0, the runtime's "kill the container". */
static int rtc_signal(struct rtc *c, int signo, struct err *e)
{
	_cleanup_buf_ struct buf out = BUF_INIT;
	int rc = signo ? agent_put_signal(&out, 1, signo, e)
		       : agent_put_raw(&out, AGENT_SHUTDOWN, 0, 0, NULL, 0, e);

	return rc < 0 ? rc : fs_write_full(c->fd, out.data, out.len, e);
}

/* Until stream 1's EXIT (sent once the VM is gone) or the runtime's end:
 * 1; 0 when timeout_ms passed first. */
static int rtc_wait_exit(struct rtc *c, int timeout_ms, struct err *e)
{
	uint64_t end = rtc_now_ms() + (uint64_t)timeout_ms;
	struct agent_frame f;
	size_t pending = 0;
	int rc;

	for (;;) {
		uint64_t now = rtc_now_ms();
		if (now >= end)
			return 0;
		rc = rtc_next(c, &pending, &f, (int)(end - now), e);
		if (rc == -EPIPE) {
			err_clear(e);
			return 1;
		}
		if (rc <= 0)
			return rc;
		if (f.type == AGENT_EXIT && f.stream == 1)
			return 1;
	}
}

int stop_container(const char *query, int signo, long timeout_s, bool is_kill, struct err *e)
{
	char id[BUNDLE_ID_LEN + 1];
	struct bundle_state st;
	struct rtc c;
	int rc;

	rtc_init(&c);
	if ((rc = bundle_resolve(query, id, e)) < 0 || (rc = bundle_state_load(id, &st, e)) < 0)
		return rc;
	if (st.status != BUNDLE_RUNNING)
		return err_set(e, -ESRCH, "container %s is not running", query);
	rc = rtc_open(&c, id, e);
	if (rc == 0 && is_kill && signo != SIGKILL) {
		rc = rtc_signal(&c, signo, e);   /* only the main process */
	} else if (rc == 0) {
		bool now = signo == SIGKILL || timeout_s == 0, done = false;
		rc = rtc_signal(&c, now ? 0 : signo, e);
		if (rc == 0 && !now) {
			rc = rtc_wait_exit(&c, (int)(timeout_s * 1000), e);
			done = rc == 1;
			if (rc == 0)
				rc = rtc_signal(&c, 0, e);   /* the grace is over */
		}
		if (rc == 0 && !done) {
			rc = rtc_wait_exit(&c, KILL_WAIT_MS, e);
			if (rc == 0)
				rc = err_set(e, -ETIMEDOUT, "container %s did not stop", query);
		}
		if (rc == 1)
			rc = 0;
	}
	rtc_close(&c);
	return rc;
}

struct stop_cli {
	long time;
	const char *signal;
};

static int run_all(const char *verb, int signo, long timeout_s, bool is_kill, int argc,
		   char **argv)
{
	int status = EXIT_OK;

	for (int i = 0; i < argc; i++) {
		struct err e = ERR_INIT;
		if (stop_container(argv[i], signo, timeout_s, is_kill, &e) < 0) {
			fprintf(stderr, "container %s: %s\n", verb, e.msg);
			status = EXIT_FAIL;
		} else {
			printf("%s\n", argv[i]);
		}
	}
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

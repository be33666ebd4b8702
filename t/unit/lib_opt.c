/* The option parser: every accepted form, every refusal, and the
 * stop-at-first-operand rule that lets `run IMAGE cmd --flag` reach the
 * workload. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/opt.h"
#include "t/tap.h"

struct o {
	int detach, interactive, tty, rm, verbose;
	const char *name, *workdir;
	long cpus;
	struct opt_list env;
};

static const struct opt optv[] = {
	OPT_FLAG('d', "detach", struct o, detach, "background"),
	OPT_FLAG('i', "interactive", struct o, interactive, "keep stdin open"),
	OPT_FLAG('t', "tty", struct o, tty, "allocate a tty"),
	OPT_FLAG(0, "rm", struct o, rm, "remove after exit"),
	OPT_COUNT('v', "verbose", struct o, verbose, "more output"),
	OPT_STRING(0, "name", struct o, name, "NAME", "container name"),
	OPT_STRING('w', "workdir|cwd", struct o, workdir, "DIR", "working directory"),
	OPT_INT('c', "cpus", struct o, cpus, "N", "cpus"),
	OPT_LIST('e', "env", struct o, env, "KEY=VAL", "environment"),
	OPT_END,
};

static int parse(struct o *o, struct opt_result *r, unsigned flags, struct err *e,
		 int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	err_clear(e);
	return opt_parse(optv, o, argc, argv, flags, r, e);
}

#define ARGV(...) (char *[]){ __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define P(flags, ...) parse(&o, &r, flags, &e, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* A command that answers with the log level it runs at. */
static int level_run(const struct cmd *c, void *o, int argc, char **argv)
{
	(void)c, (void)o, (void)argc, (void)argv;
	return (int)log_level();
}

static const struct cmd level_cmd = { .name = "lvl", .max_args = 0, .run = level_run };

int main(void)
{
	struct o o;
	struct opt_result r;
	struct err e;

	is_int(P(0, "-d"), 0, "short flag");
	ok(o.detach == 1 && r.nargs == 0, "-d sets detach, no operands");
	opt_free(optv, &o, &r);

	is_int(P(0, "--detach"), 0, "long flag");
	ok(o.detach, "--detach sets detach");
	opt_free(optv, &o, &r);

	is_int(P(0, "-itd"), 0, "bundled flags");
	ok(o.interactive && o.tty && o.detach, "-itd sets all three");
	opt_free(optv, &o, &r);

	is_int(P(0, "-ieFOO=1"), 0, "bundle ending in a value option");
	ok(o.interactive && o.env.n == 1 && strcmp(o.env.v[0], "FOO=1") == 0,
	   "-ieFOO=1: value is the rest of the bundle");
	opt_free(optv, &o, &r);

	is_int(P(0, "-it", "-e", "A=1"), 0, "short value in next argument");
	ok(o.env.n == 1 && strcmp(o.env.v[0], "A=1") == 0, "-e A=1");
	opt_free(optv, &o, &r);

	is_int(P(0, "-eA=1"), 0, "short value attached");
	is_str(o.env.v[0], "A=1", "-eA=1");
	opt_free(optv, &o, &r);

	is_int(P(0, "--name=web"), 0, "--x=v");
	is_str(o.name, "web", "--name=web");
	opt_free(optv, &o, &r);

	is_int(P(0, "--name", "web"), 0, "--x v");
	is_str(o.name, "web", "--name web");
	opt_free(optv, &o, &r);

	is_int(P(0, "--name", "a", "--name", "b"), 0, "string option given twice");
	is_str(o.name, "b", "last string wins");
	opt_free(optv, &o, &r);

	is_int(P(0, "--name="), 0, "--x= gives an empty value");
	is_str(o.name, "", "empty value kept");
	opt_free(optv, &o, &r);

	is_int(P(0, "-e", "A=1", "--env", "B=2", "-eC=3", "--env=D=4"), 0, "repeatable");
	ok(o.env.n == 4 && strcmp(o.env.v[0], "A=1") == 0 && strcmp(o.env.v[3], "D=4") == 0 &&
	   o.env.v[4] == NULL, "all four values, in order, NULL-terminated");
	opt_free(optv, &o, &r);

	is_int(P(0, "-v", "-vv", "--verbose"), 0, "count option");
	is_int(o.verbose, 4, "-v -vv --verbose counts 4");
	opt_free(optv, &o, &r);

	is_int(P(0, "--rm=false"), 0, "--flag=false");
	is_int(o.rm, 0, "--rm=false clears");
	opt_free(optv, &o, &r);
	is_int(P(0, "--rm=True"), 0, "--flag=True (docker-py spelling)");
	is_int(o.rm, 1, "--rm=True sets");
	opt_free(optv, &o, &r);
	is_int(P(0, "--rm=maybe"), -EINVAL, "--flag=maybe refused");
	ok(strstr(e.msg, "--rm") != NULL, "message names the option: %s", e.msg);

	is_int(P(0, "--cwd", "/x"), 0, "alias of a long option");
	is_str(o.workdir, "/x", "--cwd fills workdir");
	opt_free(optv, &o, &r);

	is_int(P(0, "-c", "4"), 0, "integer option");
	is_int(o.cpus, 4, "-c 4");
	opt_free(optv, &o, &r);
	is_int(P(0, "-c", "4x"), -EINVAL, "integer with junk refused");
	is_int(P(0, "--cpus="), -EINVAL, "empty integer refused");
	is_int(P(0, "--cpus", "99999999999999999999999"), -EINVAL, "integer overflow refused");

	is_int(P(0, "--nope"), -EINVAL, "unknown long option");
	is_str(e.msg, "unknown option --nope", "message");
	is_int(P(0, "-x"), -EINVAL, "unknown short option");
	is_int(P(0, "-dx"), -EINVAL, "unknown short option in a bundle");
	is_int(P(0, "--name"), -EINVAL, "missing value at the end");
	ok(strstr(e.msg, "needs a value") != NULL, "says a value is needed: %s", e.msg);
	is_int(P(0, "-e"), -EINVAL, "short option missing value at the end");
	is_int(P(0, "--detach=1x"), -EINVAL, "flag with a bad value");
	is_int(P(0, "-v=3"), -EINVAL, "-v=3 refused: a count takes no value");
	is_int(P(0, "-e=A=1", "-d=false", "-it=true"), 0, "pflag's -x=VAL forms");
	ok(o.env.n == 1 && strcmp(o.env.v[0], "A=1") == 0 && o.detach == 0 && o.interactive && o.tty,
	   "-e=A=1 gives A=1, -d=false clears, -it=true sets both");
	opt_free(optv, &o, &r);
	is_int(P(0, "--verbose=3"), -EINVAL, "--count=value refused");

	/* Operands and ordering. */
	is_int(P(0, "a", "-d", "b"), 0, "options interleaved with operands");
	ok(o.detach && r.nargs == 2 && strcmp(r.args[0], "a") == 0 && strcmp(r.args[1], "b") == 0,
	   "interleaved: detach set, operands a b");
	opt_free(optv, &o, &r);

	is_int(P(OPT_STOP_AT_OPERAND, "-d", "alpine", "ls", "--all", "-d"), 0,
	       "stop at the first operand");
	ok(o.detach == 1 && r.nargs == 4 && strcmp(r.args[0], "alpine") == 0 &&
	   strcmp(r.args[2], "--all") == 0 && strcmp(r.args[3], "-d") == 0,
	   "run IMAGE cmd --all -d: options after IMAGE belong to the workload");
	opt_free(optv, &o, &r);

	is_int(P(OPT_STOP_AT_OPERAND, "alpine", "--nope"), 0,
	       "unknown option after the first operand is an operand");
	opt_free(optv, &o, &r);

	is_int(P(0, "-d", "--", "-e", "--name"), 0, "-- ends options");
	ok(o.env.n == 0 && o.name == NULL && r.nargs == 2 && strcmp(r.args[0], "-e") == 0,
	   "after --, -e and --name are operands");
	opt_free(optv, &o, &r);

	is_int(P(0, "-", "-d"), 0, "a lone - is an operand");
	ok(r.nargs == 1 && strcmp(r.args[0], "-") == 0 && o.detach, "- kept, -d parsed");
	opt_free(optv, &o, &r);

	is_int(P(0, "-e", "--name"), 0, "a value may start with a dash");
	ok(o.env.n == 1 && strcmp(o.env.v[0], "--name") == 0, "-e --name takes --name as value");
	opt_free(optv, &o, &r);

	is_int(P(0, "--help"), 0, "--help accepted by every table");
	ok(r.help, "help flagged");
	opt_free(optv, &o, &r);
	is_int(P(0, "-h"), 0, "-h accepted");
	ok(r.help, "help flagged by -h");
	opt_free(optv, &o, &r);
	is_int(P(0, "--debug"), 0, "--debug accepted by every table");
	ok(r.debug, "debug flagged");
	opt_free(optv, &o, &r);

	is_int(parse(&o, &r, 0, &e, 0, (char *[]){ NULL }), 0, "empty command line");
	ok(r.nargs == 0 && r.args && r.args[0] == NULL, "no operands, array NULL-terminated");
	opt_free(optv, &o, &r);

	/* every command and role honours CONTAINER_LOG (lib/cmd.c), not only
	 * the API server */
	setenv("CONTAINER_LOG", "nonsense", 1);
	is_int(cmd_run(&level_cmd, "lvl", 0, ARGV("x") + 1), LOG_WARN, "CONTAINER_LOG unknown: the default");
	setenv("CONTAINER_LOG", "info", 1);
	is_int(cmd_run(&level_cmd, "lvl", 0, ARGV("x") + 1), LOG_INFO, "CONTAINER_LOG=info");
	setenv("CONTAINER_LOG", "debug", 1);
	is_int(cmd_run(&level_cmd, "lvl", 0, ARGV("x") + 1), LOG_DEBUG, "CONTAINER_LOG=debug");
	unsetenv("CONTAINER_LOG");
	return done_testing();
}

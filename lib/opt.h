/* Declarative option parser, and the command descriptor that help text is
 * generated from (so usage can never drift from what is parsed).
 *
 * A command declares a table of options, each naming a field of its own
 * options struct by offset:
 *
 *     struct run_opts { int rm, detach; const char *name; struct opt_list env; };
 *     static const struct opt run_optv[] = {
 *         OPT_FLAG('d', "detach", struct run_opts, detach, "Run in the background"),
 *         OPT_LIST('e', "env", struct run_opts, env, "KEY=VAL", "Set an environment variable"),
 *         OPT_END
 *     };
 *
 * Forms accepted: -x, -xVAL, -x VAL, -x=VAL (as pflag), bundles (-it, -itd, -ieFOO: an option
 * taking a value eats the rest of the bundle), --name=VAL, --name VAL,
 * --flag=true|false (as docker-py sends), repeatable options (OPT_LIST,
 * OPT_COUNT), "--" ending options, "-" as an operand.  A long name may list
 * aliases separated by '|' ("rm|remove"); the first is the one shown.
 *
 * With OPT_STOP_AT_OPERAND the first operand ends option parsing, so in
 * `container run IMAGE cmd --flag` the `--flag` goes to the workload.
 * Otherwise options and operands may be interleaved.
 */
#ifndef LIB_OPT_H
#define LIB_OPT_H

#include <stddef.h>
#include <stdio.h>

struct err;

enum opt_type {
	OPT_T_FLAG,   /* int: 1 when given (--x=false gives 0) */
	OPT_T_COUNT,  /* int: +1 per occurrence */
	OPT_T_STRING, /* const char *: last occurrence wins (borrowed from argv) */
	OPT_T_INT,    /* long: decimal, range-checked */
	OPT_T_LIST,   /* struct opt_list: every occurrence, in order */
};

/* Values of a repeatable option.  v is NULL-terminated; strings are
 * borrowed from argv; the array is owned (opt_free). */
struct opt_list {
	const char **v;
	size_t n;
};

struct opt {
	char shortname;       /* 0 when none */
	const char *name;     /* long name(s), "a|b"; NULL when none */
	enum opt_type type;
	size_t offset;        /* of the field in the options struct */
	const char *arg;      /* value's name in help ("KEY=VAL"); NULL for flags */
	const char *help;     /* one line; NULL hides the option from help */
};

#define OPT__(s, n, t, T, f, a, h) { s, n, t, offsetof(T, f), a, h }
#define OPT_FLAG(s, n, T, f, h)      OPT__(s, n, OPT_T_FLAG, T, f, NULL, h)
#define OPT_COUNT(s, n, T, f, h)     OPT__(s, n, OPT_T_COUNT, T, f, NULL, h)
#define OPT_STRING(s, n, T, f, a, h) OPT__(s, n, OPT_T_STRING, T, f, a, h)
#define OPT_INT(s, n, T, f, a, h)    OPT__(s, n, OPT_T_INT, T, f, a, h)
#define OPT_LIST(s, n, T, f, a, h)   OPT__(s, n, OPT_T_LIST, T, f, a, h)
#define OPT_END { 0, NULL, 0, 0, NULL, NULL }

enum {
	OPT_STOP_AT_OPERAND = 1 << 0,
};

/* Result of a parse: operands in order (borrowed from argv, owned array,
 * NULL-terminated), and whether --help was asked for (-h/--help are
 * understood by every command unless its table defines -h itself). */
struct opt_result {
	char **args;
	int nargs;
	int help;
	int debug;   /* --debug, accepted by every command */
};

/* Parse argv[0..argc) (argv[0] is NOT skipped: pass argv+1 for a command
 * line) into dst, whose fields must be zeroed by the caller beforehand.
 * Returns 0, or -EINVAL with a message naming the option. */
int opt_parse(const struct opt *opts, void *dst, int argc, char **argv,
	      unsigned flags, struct opt_result *res, struct err *e);

/* Free the arrays owned by OPT_T_LIST fields of dst and by res. */
void opt_free(const struct opt *opts, void *dst, struct opt_result *res);

/* A command (or command group) of the CLI, or a role.  Help text lives
 * beside the command's code in this descriptor. */
struct cmd;
typedef int (*cmd_fn)(const struct cmd *c, void *opts, int argc, char **argv);

struct cmd {
	const char *name;        /* "run" */
	const char *aliases;     /* "rm|remove" or NULL */
	const char *summary;     /* one line for command lists */
	const char *usage;       /* operands after the name: "[OPTIONS] IMAGE [COMMAND] [ARG...]" */
	const char *help;        /* optional paragraph(s) shown by --help */
	const struct opt *opts;  /* may be NULL */
	size_t opts_size;        /* sizeof the options struct */
	const void *opts_defaults; /* initial values (opts_size bytes), or NULL = zeros */
	unsigned flags;          /* OPT_STOP_AT_OPERAND, ... */
	int min_args, max_args;  /* operand count bounds; max -1 = unbounded */
	cmd_fn run;              /* NULL for a group */
	const struct cmd *const *sub; /* a group's subcommands, NULL-terminated */
};

/* Does word name c (its name or one of its aliases)? */
int cmd_matches(const struct cmd *c, const char *word);
const struct cmd *cmd_find(const struct cmd *const *list, const char *word);

/* Print "Usage: <path> <usage>", the help text, options (generated from
 * the table) and, for a group, its subcommands. */
void cmd_usage(FILE *f, const char *path, const struct cmd *c);
/* Print an indented two-column list of commands (name + summary). */
void cmd_list(FILE *f, const struct cmd *const *list);

/* Run a command: parse its options, handle --help and operand counts,
 * dispatch groups to subcommands.  path is the words so far
 * ("container image").  Returns a process exit code (lib/exit.h). */
int cmd_run(const struct cmd *c, const char *path, int argc, char **argv);

/* Internal, shared by lib/opt.c and lib/cmd.c. */
int opt__names_match(const char *names, const char *word, size_t n);

#endif

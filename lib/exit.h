/* Process exit codes, documented in README.md ("Exit codes"). */
#ifndef LIB_EXIT_H
#define LIB_EXIT_H

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,        /* the command failed; the message says why */
	EXIT_USAGE = 2,       /* bad command line: unknown command/option, wrong operands */
	EXIT_RUNTIME = 125,   /* run/exec: could not start the container (docker's code) */
	EXIT_NOEXEC = 126,    /* the workload's command exists but cannot be executed */
	EXIT_NOTFOUND = 127,  /* the workload's command was not found */
	EXIT_SIGNAL_BASE = 128, /* workload killed by signal N: 128 + N */
};

#endif

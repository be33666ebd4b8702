# applets/: the applet table, the CLI front and one file per role or
# command group.  main.c is not in SRCS (unit tests have their own main).
SRCS += applets/table.c applets/cli.c applets/version.c applets/roles.c
SRCS_linux += applets/init_linux.c
SRCS_darwin += applets/init_darwin.c
SHELL_TESTS += t/cli/run.sh t/cli/artifacts.sh
BENCHES += t/bench/cli_start.sh

# applets/: the applet table, the CLI front and one file per role or
# command group.  main.c is not in SRCS (unit tests have their own main).
SRCS += applets/table.c applets/cli.c applets/version.c
# container run / logs, and the stdio client they share with #6's start/exec
SRCS += applets/run.c applets/logs.c applets/attach.c applets/ps.c
SRCS_linux += applets/init_linux.c
SRCS_darwin += applets/init_darwin.c
SHELL_TESTS += t/cli/run.sh t/cli/artifacts.sh t/integ/run.sh
BENCHES += t/bench/cli_start.sh t/bench/container_run.sh

# exec / stop / kill (issue #6): the runtime's socket clients, its
# multi-client fan-out and the exec stream table.
SRCS += applets/runtime_clients.c applets/runtime_streams.c applets/exec.c applets/stop.c
UNIT_TESTS += t/unit/applets_runtime_streams.c
SHELL_TESTS += t/integ/runtime_exec.sh

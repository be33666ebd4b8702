# Our CLI on the Docker Engine API (issue #6): the client side of every
# container command (auto-starting the server), and the server's
# extension endpoint for `logs --boot`.
SRCS += applets/cliapi.c applets/api_bootlog.c
SHELL_TESTS += t/integ/cli_api.sh
UNIT_TESTS += t/unit/applets_attach.c

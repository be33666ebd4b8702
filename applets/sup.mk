# The rest of the supervisor (issue #6): stats (the endpoint is in
# apiserver.mk's api_stats.c; the guest's side is initrd/procstat.c).
SRCS += applets/stats.c
SHELL_TESTS += t/integ/api_stats.sh

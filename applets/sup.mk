# The rest of the supervisor (issue #6): stats (the endpoint is in
# apiserver.mk's api_stats.c; the guest's side is initrd/procstat.c).
SRCS += applets/stats.c applets/system_info.c
SHELL_TESTS += t/integ/api_stats.sh
SHELL_TESTS += t/integ/system_info.sh

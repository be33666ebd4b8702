# The rest of the supervisor (issue #6): stats (the endpoint is in
# apiserver.mk's api_stats.c; the guest's side is initrd/procstat.c).
SRCS += applets/stats.c applets/system_info.c applets/login.c
SRCS_linux += applets/login_linux.c
SRCS_darwin += applets/login_darwin.c
SHELL_TESTS += t/integ/api_stats.sh
SHELL_TESTS += t/integ/system_info.sh
SHELL_TESTS += t/integ/login.sh
UNIT_TESTS += t/unit/applets_login.c
SHELL_TESTS += t/integ/api_hostile.sh
SHELL_TESTS += t/integ/api_ps.sh

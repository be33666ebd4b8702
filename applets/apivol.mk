# Volumes and mounts through the Docker API (issue #8): HostConfig's
# Binds/Mounts/Tmpfs and Config.Volumes in container create
# (applets/api_mounts.c, called by ctrspec.c) and the /volumes endpoints
# (applets/api_volumes.c); tested with the real docker CLI.
SRCS += applets/api_mounts.c applets/api_volumes.c
UNIT_TESTS += t/unit/api_mounts.c
SHELL_TESTS += t/integ/docker_volumes.sh

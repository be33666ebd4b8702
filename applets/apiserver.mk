# The API server (issue #6): HTTP/1.1 + the Docker Engine API on
# $RUN/container.sock, its router and endpoint groups, and the client our
# CLI uses to talk to it.
SRCS += applets/apiserver.c applets/api_client.c applets/api_http.c applets/api_router.c applets/api_system.c \
	applets/api_ctr.c applets/api_containers.c applets/api_attach.c applets/api_ctrjson.c \
	applets/api_logs.c applets/api_exec.c applets/api_images.c \
	applets/api_events.c applets/api_restart.c applets/ctrspec.c applets/apinet.c
SRCS += applets/api_stats.c applets/api_sysdf.c applets/api_ctrcache.c
UNIT_TESTS += t/unit/applets_api_http.c t/unit/applets_ctrspec.c
FUZZ_TARGETS += t/fuzz/api_request.c t/fuzz/ctrspec_parse.c
SHELL_TESTS += t/integ/apiserver.sh t/integ/docker_cli.sh t/integ/api_crash.sh t/integ/api_crashloop.sh t/integ/api_restart.sh t/integ/api_rebuild.sh
BENCHES += t/bench/apiserver.sh

# The image commands on the API (issue #6): X-Registry-Auth, push, save
# (GET /images/{name}/get, /images/get), load, prune.
SRCS += applets/api_regauth.c applets/api_imgio.c
UNIT_TESTS += t/unit/applets_api_regauth.c
FUZZ_TARGETS += t/fuzz/registry_auth.c
SHELL_TESTS += t/integ/docker_images.sh

# The runtime role (one process per container) and the container bundle
# (issue #5).
SRCS += applets/runtime.c applets/runtime_io.c applets/bundle.c
UNIT_TESTS += t/unit/applets_bundle.c
# VM tests of the role, with a Python client of the attach protocol
# (t/integ/rtclient.py: a helper, not a test).
SHELL_TESTS += t/integ/runtime.sh

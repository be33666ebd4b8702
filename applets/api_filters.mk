# Docker's ?filters, parsed once per request and bounded (volumes; the
# label rule shared with the container list); fuzzed.
SRCS += applets/api_filters.c
UNIT_TESTS += t/unit/api_filters.c
FUZZ_TARGETS += t/fuzz/api_filters.c
# the volume endpoints with many volumes and containers
BENCHES += t/bench/volumes_api.sh

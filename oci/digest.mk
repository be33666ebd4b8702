# oci/digest.mk: the accelerated sha256 block functions used by
# oci/digest.c (each file compiles to a "not here" probe on other
# architectures), and the sha256 throughput benchmark.
SRCS += oci/sha256_x86.c oci/sha256_arm64.c
TEST_TOOLS += t/tools/sha256bench.c
BENCHES += t/bench/sha256.sh

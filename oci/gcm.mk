# oci/gcm.mk: AES-GCM for the TLS records of a pull (issue #3's speed
# target).  oci/gcm.c frames messages and holds the portable block
# functions, oci/gcm_x86.c the AES-NI + PCLMULQDQ bulk, oci/gcm_mbedtls.c
# makes them mbedTLS's GCM where the deps are built with MBEDTLS_GCM_ALT
# (x86_64 targets; empty elsewhere, including the native test build, which
# links Debian's stock mbedTLS: the tests compare against it).
SRCS += oci/gcm.c oci/gcm_x86.c oci/gcm_mbedtls.c
UNIT_TESTS += t/unit/oci_gcm.c
TEST_TOOLS += t/tools/gcmbench.c
BENCHES += t/bench/gcm.sh
# The product binary's TLS record layer against OpenSSL (node): every
# suite a server may force, our preferred one, a flipped bit refused.
SHELL_TESTS += t/integ/tls_suites.sh
FUZZ_TARGETS += t/fuzz/gcm.c

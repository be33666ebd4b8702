# oci/pullbench.mk: the floor of the pull benchmark (t/bench/pull.sh): the
# blob files read once through the pull's own sha256 + decompression
# pipeline, without network, TLS or writes (issue #3).
TEST_TOOLS += t/tools/pullfloor.c
# The TLS client's pull-speed behaviour: session resumption, several
# records per read, a forged record after good ones still reported.
UNIT_TESTS += t/unit/oci_tls.c

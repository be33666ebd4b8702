# oci/snapshot.mk: the snapshot cache (issue #4): image manifest -> ext4
# image file, built from the content store's layers (oci/snapshot.c); its
# unit tests, the driver used by the corpus test and the unpack benchmark.
# The corpus test needs debootstrap (apt, installed on demand), GNU tar,
# e2fsprogs, python3 and busybox-static; the benchmark umoci and e2fsprogs.
SRCS += oci/snapshot.c
UNIT_TESTS += t/unit/oci_snapshot.c
TEST_TOOLS += t/tools/snapshot.c
SHELL_TESTS += t/integ/snapshot_debian.sh
BENCHES += t/bench/unpack.sh

# Mounts and volumes (issue #8): the flags' grammar (pure), their host side
# (resolve at create, plan at start), the volume store and commands; the
# guest's half is in initrd/initrd_mounts.mk.
SRCS += applets/mounts.c applets/mounts_host.c applets/volume_store.c applets/volume.c
UNIT_TESTS += t/unit/mounts.c t/unit/mounts_host.c
FUZZ_TARGETS += t/fuzz/mount_spec.c
SHELL_TESTS += t/integ/volumes.sh
BENCHES += t/bench/volumes.sh

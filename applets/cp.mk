# docker cp and export (issue #8): the archive endpoints (the guest side is
# initrd/init_copy.c, the tar code oci/tarx.mk), `container cp` and
# `container export`, the fuzz target of the guest's stat and the
# end-to-end test with real VMs and the docker CLI.
SRCS += applets/api_archive.c applets/cp.c
FUZZ_TARGETS += t/fuzz/archive_stat.c
SHELL_TESTS += t/integ/cp.sh

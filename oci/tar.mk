# oci/tar.mk: the streaming tar reader and the decompression stages
# (issue #4, part 2), with their unit tests, fuzz targets, the tarls test
# tool and the GNU tar interop test.
SRCS += oci/tar.c oci/decompress.c
UNIT_TESTS += t/unit/oci_tar.c t/unit/oci_decompress.c
FUZZ_TARGETS += t/fuzz/tar_header.c t/fuzz/decompress.c
TEST_TOOLS += t/tools/tarls.c
SHELL_TESTS += t/integ/tar_interop.sh

# oci/fstree + oci/ext4*: the layer tree, our ext4 writer and reader (issue #4).
SRCS += oci/fstree.c oci/ext4.c oci/ext4_dir.c oci/ext4_meta.c oci/ext4_finish.c \
	oci/ext4_read.c
UNIT_TESTS += t/unit/oci_fstree.c t/unit/oci_ext4.c
TEST_TOOLS += t/tools/mkext4test.c
SHELL_TESTS += t/integ/ext4_e2fsck.sh
FUZZ_TARGETS += t/fuzz/layer_apply.c

# initrd/blobs.mk: the embedded initramfs/kernel and kernel resolution
# (issue #5).  The blob bytes (initrd/blobs_data.S) and the initramfs build
# (initrd/mkinitramfs.c, a native build tool) are wired in the Makefile,
# which assembles the stub per link variant.
SRCS += initrd/blobs.c
UNIT_TESTS += t/unit/initrd_blobs.c
SHELL_TESTS += t/integ/blobs.sh

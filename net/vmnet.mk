# net/vmnet.mk: the macOS vmnet backend (issue #7): the portable switch and
# its VM ports (tested here), the vmnet glue (darwin only), a no-op on Linux.
SRCS += net/vswitch.c net/vport.c
SRCS_linux += net/vmnet_linux.c
SRCS_darwin += net/vmnet_darwin.c
UNIT_TESTS += t/unit/net_vswitch.c t/unit/net_vport.c
FUZZ_TARGETS += t/fuzz/vswitch_frame.c

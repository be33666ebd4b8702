# vm/vm.mk: the VM backend interface and its backends (issue #5, part 3).
# The backend is chosen here, per platform, never by #ifdef: QEMU on Linux,
# Virtualization.framework on macOS.
SRCS += vm/vm.c
SRCS_linux += vm/qemu.c vm/qemu_argv.c vm/qmp.c vm/virtiofsd.c
SRCS_darwin += vm/vz.c
UNIT_TESTS += t/unit/vm_qemu_argv.c t/unit/vm_qmp.c t/unit/vm_qemu_spawn.c
FUZZ_TARGETS += t/fuzz/qmp_message.c
TEST_TOOLS += t/tools/vmrun.c t/tools/stubkernel.c
SHELL_TESTS += t/integ/vm_qemu.sh t/integ/vm_boot.sh
SHELL_TESTS += t/integ/virtiofs.sh

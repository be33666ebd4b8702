# initrd/kernel.mk: the guest kernel (issue #5, first part).  The kernel is
# built outside the tree by initrd/kernel/build.sh (`make kernel`); the boot
# smoke test skips, with the reason, until a kernel is cached.
SHELL_TESTS += t/integ/kernel_boot.sh

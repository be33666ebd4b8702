# initrd/initrd.mk: the guest side (issue #5, part 2): the agent protocol
# codec and the cpio writer (platform-neutral), the guest init's pure
# helpers (platform-neutral, so the host can compose the same way) and the
# guest init itself (Linux only).
SRCS += initrd/agent.c
UNIT_TESTS += t/unit/initrd_agent.c
FUZZ_TARGETS += t/fuzz/agent_decode.c
SRCS += initrd/cpio.c
UNIT_TESTS += t/unit/initrd_cpio.c
SRCS += initrd/guest.c
# the guest's /proc parsers for STATS (pure: unit-tested and fuzzed on the host)
SRCS += initrd/procstat.c
UNIT_TESTS += t/unit/initrd_procstat.c
FUZZ_TARGETS += t/fuzz/proc_stats.c
UNIT_TESTS += t/unit/initrd_user.c t/unit/initrd_cmdline.c
SRCS_linux += initrd/init.c initrd/init_proc.c initrd/init_loop.c
SRCS_linux += initrd/init_copy.c
SHELL_TESTS += t/integ/guest_init.sh

# The guest's half of issue #8 (mounts): the boot document's "mounts" list
# (pure, with the rest of guest.c's parsing) and the mounting itself
# (Linux only: 9p shares, volume disks, tmpfs, copy-up).
SRCS += initrd/guest_mounts.c
SRCS_linux += initrd/init_mounts.c

# `container system`: kernel set/show and the hidden initramfs dump (#5);
# start/stop/status join the group with #6.
SRCS += applets/system.c

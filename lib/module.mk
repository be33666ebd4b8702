# lib/: shared primitives; depends on nothing of ours.
SRCS += lib/base64.c lib/err.c lib/mem.c lib/buf.c lib/stream.c lib/log.c lib/fs.c \
	lib/opt.c lib/cmd.c lib/jsonx.c lib/paths.c lib/mac.c
SRCS += lib/timex.c lib/human.c
SRCS_linux += lib/paths_linux.c
SRCS_darwin += lib/paths_darwin.c
UNIT_TESTS += t/unit/lib_base64.c t/unit/lib_buf.c t/unit/lib_err.c t/unit/lib_fs.c t/unit/lib_opt.c \
	t/unit/lib_jsonx.c t/unit/lib_stream.c t/unit/lib_paths.c t/unit/lib_mac.c
UNIT_TESTS += t/unit/lib_human.c

#!/bin/sh
# The build products: a static host binary, a static aarch64 binary that
# runs under user-mode emulation, and a Mach-O arm64 binary.
. "${SRCDIR:-.}/t/cli/lib.sh"
OUTD=$(dirname "$(dirname "$C")")

matching "host binary is statically linked" "file -L \$C" 'statically linked'
matching "ldd: not a dynamic executable" "ldd \$C" 'not a dynamic executable' 1
A64=$OUTD/linux-arm64/container
if [ -x "$A64" ]; then
	matching "arm64 binary is a static aarch64 ELF" "file -L $A64" 'ELF 64-bit LSB executable, ARM aarch64.*statically linked'
	if command -v qemu-aarch64-static >/dev/null; then
		matching "arm64 binary prints its version under qemu-aarch64-static" \
			"qemu-aarch64-static $A64 --version" '^container version .*linux-arm64'
	else
		skipping 1 "qemu-aarch64-static not installed (package qemu-user-static)"
	fi
else
	skipping 2 "no $A64: run 'make cross'"
fi
MAC=$OUTD/darwin-arm64/container
if [ -x "$MAC" ]; then
	matching "darwin binary is a Mach-O arm64 executable" "file -L $MAC" 'Mach-O 64-bit arm64 executable'
	OBJDUMP=$(command -v llvm-objdump || ls /usr/bin/llvm-objdump-* 2>/dev/null | head -1)
	if [ -n "$OBJDUMP" ]; then
		testing "darwin binary links only libSystem" \
			"$OBJDUMP --macho --dylibs-used $MAC | tail -n +2 | sed 's/ (.*//; s/^[[:space:]]*//'" \
			"/usr/lib/libSystem.B.dylib"
	else
		skipping 1 "llvm-objdump not installed (package llvm)"
	fi
else
	skipping 2 "no $MAC: run 'make cross'"
fi
done_testing

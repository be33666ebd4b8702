#!/bin/sh
# sha256 throughput: oci/digest.c with the accelerated block function
# (SHA-NI / ARMv8 SHA2, when the CPU has it) and with the portable C one,
# hashing SHA256_MIB (256) MiB in memory (t/tools/sha256bench), against
# coreutils sha256sum over a file of the same size in the page cache.
set -u
: "${TOOLS_DIR:?TOOLS_DIR must point at the built test tools}"
MIB=${SHA256_MIB:-256}
B=$TOOLS_DIR/sha256bench
[ -x "$B" ] || { echo "sha256: $B is not built"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_sha256.XXXXXX")
trap 'rm -rf "$W"' EXIT

printf '%-12s %10s\n' impl MB/s
"$B" "$MIB" | awk '{ printf "%-12s %10s\n", $1, $2 }' || exit 1
if command -v sha256sum >/dev/null 2>&1; then
	head -c "$((MIB * 1048576))" /dev/zero >"$W/data"
	cat "$W/data" >/dev/null
	t0=$(date +%s.%N)
	sha256sum "$W/data" >/dev/null
	t1=$(date +%s.%N)
	awk -v m="$MIB" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-12s %10.0f\n", "sha256sum", m * 1.048576 / (b - a) }'
else
	echo "sha256sum: SKIP: not installed (coreutils)"
fi

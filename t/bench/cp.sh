#!/bin/bash
# Copying files in and out of a running container (issue #8): BENCH_MB
# (default 64) of random data, and BENCH_FILES (default 2000) small files,
# with `container cp` both ways, beside the floor of the same bytes through
# `container exec -i ... cat` (the agent channel without tar).  Median of
# 3, wall time, the container booted once.
set -u
: "${CONTAINER_BIN:?}" "${TMPDIR:=/tmp}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$CONTAINER_BIN
MB=${BENCH_MB:-64}
FILES=${BENCH_FILES:-2000}
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null) || { echo "skip: guest kernel not built"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing"; exit 0; }
[ -x /bin/busybox ] || { echo "skip: no /bin/busybox"; exit 0; }
W=$(mktemp -d "$TMPDIR/bench_cp.XXXXXX")
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
trap '"$C" rm -f cpb >/dev/null 2>&1; "$C" system stop >/dev/null 2>&1; rm -rf "$W"' EXIT
"$C" system kernel set --binary "$KERNEL" >/dev/null
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" test/bb:1 amd64 /bin/busybox >/dev/null
"$C" image load -i "$W/bb.tar" >/dev/null
"$C" system start >/dev/null
"$C" run -d --name cpb test/bb:1 sleep 100000 >/dev/null
mkdir -p "$W/big" "$W/small/tree"
head -c $((MB << 20)) /dev/urandom >"$W/big/blob"
for i in $(seq "$FILES"); do echo "file $i" >"$W/small/tree/f$i"; done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
run3() { local a b c; a=$(ms "$@"); b=$(ms "$@"); c=$(ms "$@"); med "$a" "$b" "$c"; }
in_big=$(run3 "$C" cp "$W/big/blob" cpb:/tmp/blob)
out_big=$(run3 "$C" cp cpb:/tmp/blob "$W/out.blob")
floor_in=$(run3 sh -c "\"$C\" exec -i cpb sh -c 'cat > /tmp/floor' < \"$W/big/blob\"")
floor_out=$(run3 sh -c "\"$C\" exec cpb cat /tmp/blob > \"$W/floor.out\"")
in_small=$(run3 "$C" cp "$W/small/tree" cpb:/tmp/)
out_small=$(run3 sh -c "rm -rf \"$W/so\"; \"$C\" cp cpb:/tmp/tree \"$W/so\"")
printf '%-36s %10s %10s\n' "what (median of 3, ms)" "cp" "exec cat"
printf '%-36s %10s %10s\n' "$MB MiB into the container" "$in_big" "$floor_in"
printf '%-36s %10s %10s\n' "$MB MiB out of the container" "$out_big" "$floor_out"
printf '%-36s %10s %10s\n' "$FILES small files in" "$in_small" "-"
printf '%-36s %10s %10s\n' "$FILES small files out" "$out_small" "-"

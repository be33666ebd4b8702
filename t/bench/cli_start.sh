#!/bin/sh
# Start-up cost of the static multicall binary (dispatch + --version) beside
# /bin/true, a dynamic busybox-free floor; and the size of every target.
set -u
: "${CONTAINER_BIN:?}"
N=${BENCH_N:-1000}
per_call_us() { # command...
	s=$(date +%s%N)
	i=0
	while [ $i -lt "$N" ]; do "$@" >/dev/null; i=$((i + 1)); done
	e=$(date +%s%N)
	echo $(( (e - s) / N / 1000 ))
}
ours=$(per_call_us "$CONTAINER_BIN" --version)
floor=$(per_call_us /bin/true)
printf '%-34s %12s\n' "start-up, $N runs" "µs per call"
printf '%-34s %12s\n' "container --version (static)" "$ours"
printf '%-34s %12s\n' "/bin/true (floor)" "$floor"
printf '%-34s %12s\n' "ratio" "$(awk "BEGIN{printf \"%.2f\", $ours/($floor>0?$floor:1)}")"
echo
printf '%-34s %12s\n' "binary" "bytes"
for t in linux-amd64 linux-arm64 darwin-arm64; do
	f=$(dirname "$(dirname "$CONTAINER_BIN")")/$t/container
	[ -f "$f" ] && printf '%-34s %12s\n' "$t" "$(wc -c <"$f")"
done

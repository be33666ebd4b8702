#!/bin/bash
# Port publishing cost: TCP throughput host -> container (busybox httpd
# serving 64 MiB) through the runtime's -p proxy vs straight to the
# container's IP on the bridge, and connections per second (a small GET,
# one connection each) both ways.  Runs in its own network namespace.
# Medians of BENCH_RUNS (default 5).
set -u
: "${CONTAINER_BIN:?}" "${TMPDIR:=/tmp}"
if [ -z "${NET_BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null || { echo "skip: needs root and unshare -n"; exit 0; }
	NET_BENCH_IN_NS=1 exec unshare -n bash "$0" "$@"
fi
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$CONTAINER_BIN
N=${BENCH_RUNS:-5}
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null) || { echo "skip: guest kernel not built"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing"; exit 0; }
ip link set lo up
W=$(mktemp -d "$TMPDIR/bench_net.XXXXXX")
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
trap 'for f in "$W"/run/network-*.pid; do [ -f "$f" ] && kill "$(cat "$f")"; done; pkill -f "$W/data"; rm -rf "$W"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

"$C" system kernel set --binary "$KERNEL" >/dev/null
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" bench/bb:1 amd64 /bin/busybox
"$C" image load -i "$W/bb.tar" >/dev/null
"$C" run -d --name web -p 127.0.0.1:18090:80 bench/bb:1 sh -c \
	'mkdir -p /www && echo ok >/www/s && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && exec httpd -f -p 80 -h /www' >/dev/null
ip=$("$C" inspect web | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Network"]["ip"])')
for _ in $(seq 120); do curl -sf -m 2 -o /dev/null http://127.0.0.1:18090/s && break; sleep 0.5; done

mbps() { curl -s -o /dev/null -w '%{speed_download}' "$1" | awk '{printf "%.0f\n", $1 / 1048576}'; }
cps() { # URL-HOST PORT: connections per second over 200 sequential GETs
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
h, p = sys.argv[1], int(sys.argv[2]); n = 200; t = time.time()
for _ in range(n):
    s = socket.create_connection((h, p)); s.sendall(b"GET /s HTTP/1.0\r\n\r\n")
    while s.recv(4096): pass
    s.close()
print(int(n / (time.time() - t)))
PY
}
for _ in $(seq "$N"); do
	echo "$(mbps http://127.0.0.1:18090/big) $(mbps "http://$ip/big") $(cps 127.0.0.1 18090) $(cps "$ip" 80)"
done >"$W/r"
px=$(cut -d' ' -f1 "$W/r" | median); dx=$(cut -d' ' -f2 "$W/r" | median)
pc=$(cut -d' ' -f3 "$W/r" | median); dc=$(cut -d' ' -f4 "$W/r" | median)
printf '%-44s %12s %12s %8s\n' "host -> container (TCG guest)" "-p proxy" "direct IP" "ratio"
printf '%-44s %12s %12s %8s\n' "TCP throughput, 64 MiB GET (MiB/s)" "$px" "$dx" \
	"$(awk -v a="$px" -v b="$dx" 'BEGIN {printf "%.2f", b ? a / b : 0}')"
printf '%-44s %12s %12s %8s\n' "connections/s (GET /s, sequential)" "$pc" "$dc" \
	"$(awk -v a="$pc" -v b="$dc" 'BEGIN {printf "%.2f", b ? a / b : 0}')"
"$C" rm -f web >/dev/null

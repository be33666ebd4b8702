#!/bin/bash
# `container run --rm IMG true` against its floor: the same QEMU and kernel
# booting a ten-line static init that powers off at once (through
# t/tools/vmrun, i.e. our vm/ layer with no disks and no agent), plus the
# breakdown the runtime records in state.json and peak memory of the three
# processes involved.  Medians of N runs (BENCH_RUNS, default 7).
set -u
: "${CONTAINER_BIN:?}" "${TOOLS_DIR:?}" "${TMPDIR:=/tmp}"
# containers join the default network: as root, keep its bridge and NAT
# rules out of the machine's own network namespace
if [ -z "${BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	BENCH_NETNS=1 exec unshare -n bash "$0" "$@"
fi
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$CONTAINER_BIN
N=${BENCH_RUNS:-7}
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null) || { echo "skip: guest kernel not built"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing"; exit 0; }
W=$(mktemp -d "$TMPDIR/bench_run.XXXXXX")
trap '"$C" system stop >/dev/null 2>&1; for f in "$W"/run/network-*.pid; do [ -f "$f" ] && kill "$(cat "$f")"; done; rm -rf "$W"' EXIT
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# --- the floor: a ten-line init ---------------------------------------------
cat >"$W/init.c" <<'EOF'
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
EOF
cc -static -Os -o "$W/init" "$W/init.c" || { echo "skip: cannot build a static init"; exit 0; }
(cd "$W" && mkdir -p fl/dev && cp init fl/init && cd fl && find . | cpio -o -H newc --quiet >"$W/floor.cpio")

# --- ours, interleaved with the floor so that both see the same machine -------
"$C" system kernel set --binary "$KERNEL" >/dev/null
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" bench/bb:1 amd64 /bin/busybox
"$C" image load -i "$W/bb.tar" >/dev/null
"$C" run --rm bench/bb:1 true # builds the image's snapshot once
: >"$W/floor.ms"
: >"$W/ours.ms"
for i in $(seq "$N"); do
	t0=$(now_ms)
	"$TOOLS_DIR/vmrun" --kernel "$KERNEL" --initrd "$W/floor.cpio" --in-memory --cpus 2 --mem 1024 \
		--append "quiet" --timeout 60000 >/dev/null 2>&1
	echo $(( $(now_ms) - t0 )) >>"$W/floor.ms"
	t0=$(now_ms)
	"$C" run --rm bench/bb:1 true
	echo $(( $(now_ms) - t0 )) >>"$W/ours.ms"
done
# the same without --rm, to read the runtime's breakdown from state.json
: >"$W/timings"
for i in $(seq "$N"); do
	"$C" run --name "t$i" bench/bb:1 true
	cat "$CONTAINER_DATA_DIR"/containers/*/state.json >>"$W/timings"
	"$C" rm "t$i" >/dev/null   # through the API server, which the first run started
done
part() { python3 -c '
import json, sys, re
text = open(sys.argv[1]).read()
docs = [json.loads(m) for m in re.findall(r"\{.*?\n\}", text, re.S)]
vals = sorted(d.get("timings", {}).get(sys.argv[2], 0) for d in docs)
print(vals[(len(vals) - 1) // 2] if vals else "-")' "$W/timings" "$1"; }

# --- memory: runtime (its own VmHWM), QEMU (VmHWM while it runs), guest init
"$C" run -d --name mem --kernel-arg container.debug=1 bench/bb:1 sleep 3 >/dev/null
sleep 2.5
qpid=$(python3 -c 'import json,glob,sys; print(json.load(open(glob.glob(sys.argv[1])[0]))["vmm_pid"])' \
	"$CONTAINER_DATA_DIR/containers/*/state.json" 2>/dev/null ||
	pgrep -f "qemu-system.*$W/data" | head -1)
qemu_kib=$(awk '/VmHWM/ {print $2}' "/proc/$qpid/status" 2>/dev/null || echo -)
for i in $(seq 100); do grep -q '"exited"' "$CONTAINER_DATA_DIR"/containers/*/state.json 2>/dev/null && break; sleep 0.1; done
init_kib=$(grep -o 'init peak rss [0-9]* KiB' "$CONTAINER_DATA_DIR"/containers/*/boot.log | grep -o '[0-9]*' | tail -1)
rt_kib=$(part rss_kib)

fl=$(median <"$W/floor.ms")
ou=$(median <"$W/ours.ms")
printf '%-44s %10s %10s\n' "container run --rm IMG true (median of $N)" "ours" "floor"
printf '%-44s %8s ms %8s ms\n' "wall time" "$ou" "$fl"
printf '%-44s %10s %10s\n' "ratio (target <= 1.15)" "$(awk -v a="$ou" -v b="$fl" 'BEGIN{printf "%.2f", a/b}')" "1.00"
echo
echo "breakdown (the runtime's state.json \"timings\", median ms of $N more runs):"
for p in create prep spawn boot start run teardown; do
	v=$(part $p)
	printf '  %-42s %8s ms\n' "$p" "$v"
done
printf '  %-42s %8s ms   (target <= 20)\n' "host preparation (create + prep)" "$(awk -v a="$(part create)" -v b="$(part prep)" 'BEGIN{print a+b}')"
echo "  create: run's image lookup, bundle write, runtime spawn; prep: rw disk;"
echo "  spawn: QEMU up (vm_start); boot: kernel + init to the guest's HELLO;"
echo "  start: CONFIG to the workload running (mounts, overlay); run: to EXIT;"
echo "  teardown: EXIT to the VM gone and the bundle cleaned up"
echo
printf '%-44s %10s %10s\n' "peak memory" "KiB" "target"
printf '%-44s %10s %10s\n' "runtime role (VmHWM)" "$rt_kib" "8192"
printf '%-44s %10s %10s\n' "QEMU (VmHWM, reported separately)" "$qemu_kib" "-"
printf '%-44s %10s %10s\n' "guest init (VmHWM at power-off)" "${init_kib:--}" "2048"

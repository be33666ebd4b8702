#!/bin/sh
# The QEMU backend against the real QEMU, no Linux kernel needed: stand-in
# kernels from $TOOLS_DIR/stubkernel print a marker on the console UART and
# then halt, triple-fault (x86_64) or power off through PSCI (aarch64).
# So this runs our exact command lines (every kind of device, commas in
# paths, seccomp sandbox, QMP on an fd, paused start), and checks exit
# reasons from QMP, vm_stop's bound, vm_kill, PR_SET_PDEATHSIG, and that
# start failures carry QEMU's own message.  Fast (well under a second per
# VM).  t/integ/vm_boot.sh boots the real kernel.
set -u
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
skip() { i=0; while [ $i -lt "$1" ]; do n=$((n + 1)); echo "ok $n # SKIP $2"; i=$((i + 1)); done; }
finish() { echo "1..$n"; exit 0; }

srcdir=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tools=${TOOLS_DIR:-$srcdir/.build/native/t/tools}
vmrun=$tools/vmrun
stub=$tools/stubkernel
[ -x "$vmrun" ] && [ -x "$stub" ] || { skip 21 "vmrun/stubkernel not built in $tools"; finish; }

# A comma in every path: QEMU option values must have it doubled.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vm_qemu,XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for m in x86-halt x86-reset arm64-off arm64-halt; do "$stub" $m "$tmp/$m"; done
printf 'DISK-AAA' >"$tmp/a.img"; truncate -s 1M "$tmp/a.img"
printf 'DISK-BBB' >"$tmp/b.img"; truncate -s 1M "$tmp/b.img"
mkdir -p "$tmp/share,dir"

run() {
	name=$1
	shift
	"$vmrun" --console "$tmp/$name.console" --timeout 20000 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	grep '^exit' "$tmp/$name.out" | sed 's/^/# /'
	sed 's/^/# stderr: /' "$tmp/$name.err"
}
field() { sed -n "s/^exit .*$2=\([^ ]*\).*/\1/p" "$tmp/$1.out"; }
# Our QEMUs carry $tmp in their argv: find any left behind.
leftover() { pgrep -f "qemu-system.*$tmp" >/dev/null 2>&1; }
marker() { grep -q STUB-CONSOLE-MARKER "$tmp/$1.console"; }

# --- x86_64 ----------------------------------------------------------------
if command -v qemu-system-x86_64 >/dev/null || [ -n "${CONTAINER_QEMU_DIR:-}" ]; then
	run x_all --kernel "$tmp/x86-reset" --disk "$tmp/a.img:ro" --disk "$tmp/b.img" \
		--share "vol0=$tmp/share,dir" --share "vol1=$tmp/share,dir:ro" --nic-user \
		--agent-socket "$tmp/agent.sock" --cpus 2 --mem 128 --append "a=1 b"
	check "x86_64: QEMU accepts every kind of device" '[ "$(cat "$tmp/x_all.rc")" = 0 ]'
	check "x86_64: console marker" 'marker x_all'
	check "x86_64: triple fault ends the VM as a reboot" '[ "$(field x_all reason)" = reboot ]'
	check "x86_64: QMP's SHUTDOWN reason is guest-reset" '[ "$(field x_all detail)" = guest-reset ]'

	run x_mem --kernel "$tmp/x86-reset" --in-memory --agent-fd
	check "x86_64: in-memory kernel (sealed memfd), agent fd" \
		'[ "$(field x_mem reason)" = reboot ] && marker x_mem'

	run x_stop --kernel "$tmp/x86-halt" --stop-after 300 --stop-timeout 500
	check "x86_64: stop of a deaf guest is bounded, then killed" \
		'[ "$(field x_stop reason)" = killed ] && grep -q "did not power off in time" "$tmp/x_stop.out"'

	run x_kill --kernel "$tmp/x86-halt" --kill-after 1500
	check "x86_64: kill" '[ "$(field x_kill reason)" = killed ] && marker x_kill'

	CONTAINER_QEMU_NO_SANDBOX=1 run x_nosb --kernel "$tmp/x86-reset"
	check "x86_64: runs without the seccomp sandbox too" '[ "$(field x_nosb reason)" = reboot ]'

	# The driver is SIGKILLed: the kernel kills QEMU (PR_SET_PDEATHSIG).
	"$vmrun" --kernel "$tmp/x86-halt" --console "$tmp/orphan.console" >"$tmp/orphan.out" 2>&1 &
	drv=$!
	i=0
	while ! grep -q '^pid ' "$tmp/orphan.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	qpid=$(sed -n 's/^pid //p' "$tmp/orphan.out")
	check "orphan: qemu started" '[ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null'
	kill -KILL $drv
	wait $drv 2>/dev/null
	i=0
	while [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	check "orphan: qemu died with its driver" '[ -n "$qpid" ] && ! kill -0 "$qpid" 2>/dev/null'

	echo garbage >"$tmp/bad-kernel"
	run bad --kernel "$tmp/bad-kernel"
	check "bad kernel: fails with QEMU's complaint" \
		'[ "$(cat "$tmp/bad.rc")" = 1 ] && grep -q "qemu did not start: exited with 1: .*kernel" "$tmp/bad.err"'
	run nodisk --kernel "$tmp/x86-halt" --disk "$tmp/no-such.img"
	check "missing disk: fails naming the file" 'grep -q "qemu did not start.*no-such.img" "$tmp/nodisk.err"'
	check "no qemu left (x86_64)" '! leftover'
	check "console log kept QEMU's stderr" 'grep -q "kernel" "$tmp/bad.console"'
else
	skip 14 "qemu-system-x86_64 not installed"
fi

# --- aarch64 -----------------------------------------------------------------
if command -v qemu-system-aarch64 >/dev/null || [ -n "${CONTAINER_QEMU_DIR:-}" ]; then
	run a_all --arch arm64 --kernel "$tmp/arm64-off" --disk "$tmp/a.img:ro" --disk "$tmp/b.img" \
		--share "vol0=$tmp/share,dir" --nic-user --agent-fd --cpus 2
	check "aarch64: QEMU accepts every kind of device" '[ "$(cat "$tmp/a_all.rc")" = 0 ]'
	check "aarch64: console marker (PL011)" 'marker a_all'
	check "aarch64: PSCI SYSTEM_OFF is a poweroff" '[ "$(field a_all reason)" = poweroff ]'
	check "aarch64: QMP's SHUTDOWN reason is guest-shutdown" '[ "$(field a_all detail)" = guest-shutdown ]'
	run a_nine --arch arm64 --kernel "$tmp/arm64-off" --cpus 9 --in-memory
	check "aarch64: 9 CPUs (GICv3), in-memory kernel" '[ "$(field a_nine reason)" = poweroff ]'
	run a_stop --arch arm64 --kernel "$tmp/arm64-halt" --stop-after 300 --stop-timeout 500
	check "aarch64: bounded stop" '[ "$(field a_stop reason)" = killed ] && marker a_stop'
	check "no qemu left (aarch64)" '! leftover'
	echo "# start times (spawn to QMP ready): x86_64 $(field x_all start_ms) ms, aarch64 $(field a_all start_ms) ms"
	echo "# stub VM wall times (spawn to exit): x86_64 $(field x_all wall_ms) ms, aarch64 $(field a_all wall_ms) ms"
else
	skip 7 "qemu-system-aarch64 not installed"
fi
finish

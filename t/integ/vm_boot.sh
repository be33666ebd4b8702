#!/bin/sh
# VM integration test: boot the project kernel with a tiny busybox initramfs
# through the VM interface (vm/vm.h, driven by $TOOLS_DIR/vmrun) under QEMU,
# KVM when usable, TCG otherwise.  The guest's /init prints a marker on the
# console, writes one (plus what it found on two disks and a 9p share) to
# the virtio-serial agent port, and then powers off, sleeps, or waits.
# Checks: the markers arrive, QEMU exits on its own with the right reason,
# vm_stop and vm_kill end the VM, and no qemu is left behind, also when the
# driver is SIGKILLed mid-boot (PR_SET_PDEATHSIG).  Boot wall times are
# printed as TAP comments, never asserted.
#
# Kernel: $VM_KERNEL, else the cached project kernel
# (initrd/kernel/build.sh --cached), else Debian's cloud kernel if it is
# installed (virtio is modular there, so the device checks then skip).
set -u
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
skip() { i=0; while [ $i -lt "$1" ]; do n=$((n + 1)); echo "ok $n # SKIP $2"; i=$((i + 1)); done; }
finish() { echo "1..$n"; exit 0; }
TOTAL=25

srcdir=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
vmrun=${TOOLS_DIR:-$srcdir/.build/native/t/tools}/vmrun
[ -x "$vmrun" ] || { skip $TOTAL "vmrun not built ($vmrun)"; finish; }
command -v qemu-system-x86_64 >/dev/null || [ -n "${CONTAINER_QEMU_DIR:-}" ] ||
	{ skip $TOTAL "qemu-system-x86_64 not installed"; finish; }
command -v cpio >/dev/null || { skip $TOTAL "cpio not installed"; finish; }
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	skip $TOTAL "no static busybox (apt-get install busybox-static)"
	finish
fi

full=1
kernel=${VM_KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=$("$srcdir/initrd/kernel/build.sh" --cached x86_64 2>/dev/null | tail -n 1) || kernel=
fi
if [ -z "$kernel" ] || [ ! -r "$kernel" ]; then
	kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -n 1)
	full=0
fi
if [ -z "$kernel" ]; then
	skip $TOTAL "project kernel not built yet (make kernel) and no Debian cloud kernel installed"
	finish
fi
echo "# kernel: $kernel"

# A comma in every path: QEMU option values must have it doubled.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vm_boot,XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- the initramfs ------------------------------------------------------
root=$tmp/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/mnt"
cp "$busybox" "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo VMRUN-CONSOLE-MARKER
report="VMRUN-AGENT-MARKER"
for d in vda vdb; do
	[ -b /dev/$d ] && report="$report $d=$(head -c 8 /dev/$d)"
done
if mount -t 9p -o trans=virtio,version=9p2000.L share0 /mnt 2>/dev/null; then
	report="$report share=$(cat /mnt/hello.txt)"
	echo written-by-guest >/mnt/from-guest.txt 2>/dev/null && report="$report share-rw=yes"
	umount /mnt
fi
ls /dev/input/event* >/dev/null 2>&1 && report="$report input=yes"
for p in /sys/class/virtio-ports/*; do
	[ "$(cat "$p/name" 2>/dev/null)" = container.agent ] || continue
	dev=/dev/${p##*/}
	[ -e "$dev" ] || mknod "$dev" c $(tr : ' ' <"$p/dev")
	echo "$report" >"$dev"
done
case "${vmtest:-poweroff}" in
poweroff) poweroff -f ;;
button)
	# The power button arrives as an input event; any byte will do.
	for ev in /dev/input/event*; do
		[ -e "$ev" ] && (head -c 1 "$ev" >/dev/null; poweroff -f) &
	done
	sleep 1000 ;;
*) sleep 1000 ;;
esac
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$tmp/initrd.cpio" ||
	{ skip $TOTAL "cpio failed"; finish; }

printf 'DISK-AAA' >"$tmp/a.img"; truncate -s 1M "$tmp/a.img"
printf 'DISK-BBB' >"$tmp/b.img"; truncate -s 1M "$tmp/b.img"
mkdir -p "$tmp/share,dir"
echo hello-from-host >"$tmp/share,dir/hello.txt"

# vmrun NAME MODE [vmrun options...]: boot, leave output in $tmp/NAME.*
run() {
	name=$1 mode=$2
	shift 2
	"$vmrun" --kernel "$kernel" --initrd "$tmp/initrd.cpio" --mem 256 \
		--append "quiet panic=-1 vmtest=$mode" --console "$tmp/$name.console" \
		--agent-out "$tmp/$name.agent" --timeout 60000 "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	grep '^exit' "$tmp/$name.out" | sed 's/^/# /'
}
field() { sed -n "s/^exit .*$2=\([^ ]*\).*/\1/p" "$tmp/$1.out"; }
# Our QEMUs carry $tmp in their argv (the console path): find any left.
leftover() { pgrep -f "qemu-system.*$tmp" >/dev/null 2>&1; }

# --- 1: boot to power-off, agent on a listening socket ------------------
run boot poweroff --agent-socket "$tmp/agent.sock" \
	--disk "$tmp/a.img:ro" --disk "$tmp/b.img" --share "share0=$tmp/share,dir"
check "boot: vmrun succeeded" '[ "$(cat $tmp/boot.rc)" = 0 ]' || sed 's/^/# /' "$tmp/boot.err"
check "boot: the guest powered off by itself" '[ "$(field boot reason)" = poweroff ]'
check "boot: QEMU reported guest-shutdown" '[ "$(field boot detail)" = guest-shutdown ]'
check "boot: console log has the marker" 'grep -q VMRUN-CONSOLE-MARKER "$tmp/boot.console"'
check "boot: agent socket received the marker" 'grep -q VMRUN-AGENT-MARKER "$tmp/boot.agent"'
if [ $full = 1 ]; then
	check "boot: first disk is vda (read-only image)" 'grep -q "vda=DISK-AAA" "$tmp/boot.agent"'
	check "boot: second disk is vdb" 'grep -q "vdb=DISK-BBB" "$tmp/boot.agent"'
	check "boot: 9p share (path with a comma) readable" 'grep -q "share=hello-from-host" "$tmp/boot.agent"'
	check "boot: 9p share writable" '[ "$(cat "$tmp/share,dir/from-guest.txt" 2>/dev/null)" = written-by-guest ]'
else
	skip 4 "Debian kernel: virtio-blk and 9p are modules"
fi
echo "# boot wall time (spawn to QEMU exit): $(field boot wall_ms) ms"

# --- 2: in-memory kernel and initrd, agent on an fd ----------------------
run mem poweroff --in-memory --agent-fd
check "in-memory blobs: powered off" '[ "$(field mem reason)" = poweroff ]'
check "in-memory blobs: console marker" 'grep -q VMRUN-CONSOLE-MARKER "$tmp/mem.console"'
check "agent fd: marker received" 'grep -q VMRUN-AGENT-MARKER "$tmp/mem.agent"'
echo "# boot wall time, in-memory: $(field mem wall_ms) ms"

# --- 3: vm_stop (power button, bounded) ----------------------------------
run stop button --agent-fd --stop-after 2500 --stop-timeout 3000
if grep -q "input=yes" "$tmp/stop.agent"; then
	check "stop: power button powered the guest off" '[ "$(field stop reason)" = stopped ]'
else
	echo "# guest kernel has no input devices: the power button cannot reach userspace"
	check "stop: no power-off in time, killed at the deadline" \
		'[ "$(field stop reason)" = killed ] && grep -q "did not power off in time" "$tmp/stop.out"'
fi
check "stop: vmrun succeeded" '[ "$(cat $tmp/stop.rc)" = 0 ]'
check "stop: no qemu left" '! leftover'

# --- 4: vm_kill ---------------------------------------------------------
run kill sleep --kill-after 8000
check "kill: reason killed" '[ "$(field kill reason)" = killed ]'
check "kill: guest had booted" 'grep -q VMRUN-CONSOLE-MARKER "$tmp/kill.console"'
check "kill: no qemu left" '! leftover'

# --- 5: the driver dies mid-boot: PDEATHSIG takes QEMU with it ---------
"$vmrun" --kernel "$kernel" --initrd "$tmp/initrd.cpio" --append "quiet vmtest=sleep" \
	--console "$tmp/orphan.console" >"$tmp/orphan.out" 2>&1 &
drv=$!
i=0
while ! grep -q '^pid ' "$tmp/orphan.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
qpid=$(sed -n 's/^pid //p' "$tmp/orphan.out")
check "orphan: qemu started" '[ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null'
sleep 0.3
kill -KILL $drv
wait $drv 2>/dev/null
i=0
while [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "orphan: qemu died with its driver (SIGKILL)" '[ -n "$qpid" ] && ! kill -0 "$qpid" 2>/dev/null'
check "orphan: no qemu left" '! leftover'

# --- 6: errors name the cause ---------------------------------------------
echo garbage >"$tmp/bad-kernel"
"$vmrun" --kernel "$tmp/bad-kernel" --console "$tmp/bad.console" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "bad kernel: vmrun fails" '[ $rc -eq 1 ]'
check "bad kernel: QEMU's complaint in the message" 'grep -q "qemu did not start: exited with 1: .*kernel" "$tmp/bad.err"'
"$vmrun" --kernel "$kernel" --disk "$tmp/no-such.img" >"$tmp/nod.out" 2>"$tmp/nod.err"
check "missing disk: start fails and names the file" 'grep -q "qemu did not start.*no-such.img" "$tmp/nod.err"'
check "no qemu left at the end" '! leftover'
finish

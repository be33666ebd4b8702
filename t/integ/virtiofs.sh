#!/usr/bin/env bash
# t/integ/virtiofs.sh: bind mounts over virtio-fs on QEMU (issue #8): one
# virtiofsd per distinct source, symlinks both ways (which 9p's
# mapped-xattr cannot carry), :ro refused by the host as well as the guest,
# CONTAINER_SHARE=9p for comparison, nothing left behind when the
# runtime is SIGKILLed, and a VM ended (not hung) when its virtiofsd dies.  Needs root and QEMU's virtiofsd (qemu-system-common).
set -u
TOTAL=16 NAME=virtiofs
. "$(dirname "$0")/vm_env.sh"
[ "$(id -u)" = 0 ] || skip_rest "virtio-fs is used as root only (9p otherwise)"
[ -x /usr/lib/qemu/virtiofsd ] || [ -n "${CONTAINER_VIRTIOFSD:-}" ] || skip_rest "no virtiofsd (qemu-system-common)"
[ "${CONTAINER_SHARE:-virtiofs}" = virtiofs ] || skip_rest "CONTAINER_SHARE=$CONTAINER_SHARE"
vfsds() { pgrep -f "virtiofsd.*$W" | wc -l; }
# the runtime takes CONTAINER_SHARE from the server that spawns it
"$C" system start >/dev/null 2>&1 || skip_rest "the API server does not start"
fstype() { echo "grep \" $1 \" /proc/mounts | cut -d\" \" -f3"; }

A=$W/a B=$W/b
mkdir -p "$A" "$B"
echo a >"$A/f"
ln -s f "$A/hostlink"
ln -s /etc/hostname "$A/abslink"

# --- symlinks ---------------------------------------------------------------------
out=$("$C" run --rm -v "$A:/a" test/bb:1 sh -c "$(fstype /a); cat /a/hostlink; readlink /a/abslink; ln -s f /a/ctrlink; ln -s /nowhere /a/dangling; mkdir /a/d; ln -s ../f /a/d/up" 2>&1)
is "$out" "virtiofs
a
/etc/hostname" "a bind mount is virtio-fs; a host symlink is read through in the container; an absolute one reads as its text"
is "$(readlink "$A/ctrlink")" f "a symlink made in the container is a symlink on the host"
is "$(readlink "$A/dangling"):$(cat "$A/d/up")" "/nowhere:a" "... dangling and relative ones too"

# --- one daemon per distinct source ---------------------------------------------------
id=$("$C" run -d --name two -v "$A:/a" -v "$A:/a2:ro" -v "$B:/b:ro" test/bb:1 sleep 120 2>/dev/null)
rt=$(pgrep -f "container-runtime.*${id:-none}" | head -1)
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(pgrep -P "$rt" -f virtiofsd | wc -l)" -ge 2 ] && break; sleep 0.5; done
is "$(pgrep -P "$rt" -f virtiofsd | wc -l)" 2 "three bind mounts of two distinct sources: two virtiofsd, children of the runtime"
out=$("$C" exec two sh -c 'echo x >/a/rw && echo rw-ok; echo x >/a2/no; echo x >/b/no' 2>&1)
like "$out" "rw-ok" "a source used read-write and read-only is writable where it is mounted rw"
like "$out" "Read-only file system" "... and refused where it is :ro"
bpid=$(pgrep -P "$rt" -f "virtiofsd.*source=$B" | head -1)
# its root, after the sandbox's pivot_root, is the source, mounted read-only
is "$(awk -v m="$B" '$4 == m && $5 == "/" { split($6, o, ","); print o[1] }' "/proc/$bpid/mountinfo" 2>/dev/null | tail -1)" ro \
	"a share used only read-only is a read-only mount for its virtiofsd (the host refuses writes too)"
is "$(test -e "$B/no" && echo written || echo absent)" absent "... nothing was written on the host"

# --- a SIGKILLed runtime leaves nothing -------------------------------------------------
is "$(vfsds)" 4 "each virtiofsd is two processes (its namespace sandbox)"
kill -9 "$rt"
for i in $(seq 1 40); do [ "$(vfsds)" = 0 ] && [ "$(qemus)" = 0 ] && break; sleep 0.25; done
is "$(qemus)" 0 "the runtime SIGKILLed: its qemu is gone"
is "$(vfsds)" 0 "... and so is every virtiofsd"
"$C" rm -f two >/dev/null 2>&1

# --- a virtiofsd that dies ends its VM ------------------------------------------------
id=$("$C" run -d -v "$A:/a" test/bb:1 sleep 120 2>/dev/null)
sleep 1
kill -9 "$(pgrep -n -f "virtiofsd.*source=$A")" # the newest: the sandboxed daemon itself
for i in $(seq 1 40); do [ "$(qemus)" = 0 ] && break; sleep 0.25; done
is "$(qemus)" 0 "a virtiofsd killed under a running container ends its VM (its file accesses would hang)"
like "$("$C" exec "$id" true 2>&1)" "not running" "... and the container is stopped"
"$C" rm -f "$id" >/dev/null 2>&1

# --- 9p for comparison --------------------------------------------------------------
server_stop; CONTAINER_SHARE=9p "$C" system start >/dev/null 2>&1
out=$("$C" run --rm -v "$A:/a" test/bb:1 sh -c "$(fstype /a); cat /a/f" 2>&1)
is "$out" "9p
a" "CONTAINER_SHARE=9p: the same bind mount over 9p"
is "$(vfsds)" 0 "... with no virtiofsd"

server_stop
is "$(qemus)" 0 "no qemu is left"
echo "1..$n"
[ $failed -eq 0 ]

# Sourced by the tests that run containers through the product CLI
# (t/integ/run.sh, runtime_exec.sh, …; the CLI starts the API server on
# first use, cleanup stops it): TAP helpers, the checks that skip with
# a reason, a scratch data and run directory, the cached x86_64 kernel
# installed with `system kernel set`, and the busybox image test/bb:1.
# The caller sets TOTAL (its number of checks, for skip_rest) and NAME.
: "${CONTAINER_BIN:?}" "${TMPDIR:=/tmp}" "${TOTAL:?}" "${NAME:?}"
# Containers join the default network, whose bridge, NAT rules and DNS
# helper would be made in the machine's own network namespace: as root,
# re-run the calling test in a private one (loopback up) instead.
if [ -z "${VM_ENV_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	VM_ENV_NETNS=1 exec unshare -n bash "$0" "$@"
fi
[ -n "${VM_ENV_NETNS:-}" ] && ip link set lo up 2>/dev/null
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
C=$CONTAINER_BIN
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi; }
like() { case "$1" in *"$2"*) ok "$3" ;; *) nok "$3"; echo "#   got:  '$1'"; echo "#   want: *$2*"; return 1 ;; esac; }
skip_rest() { while [ $n -lt $TOTAL ]; do n=$((n + 1)); echo "ok $n # SKIP $1"; done; echo "1..$n"; exit 0; }

command -v qemu-system-x86_64 >/dev/null || skip_rest "qemu-system-x86_64 not installed"
command -v python3 >/dev/null || skip_rest "python3 not installed"
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || skip_rest "no static busybox (busybox-static)"
KERNEL=$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null) || skip_rest "guest kernel not built (make kernel)"
"$C" system initramfs --arch x86_64 >/dev/null 2>&1 || skip_rest "this build embeds no x86_64 initramfs"

W=$(mktemp -d "$TMPDIR/$NAME.XXXXXX")
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
# Our CLI starts the API server on first use (applets/cliapi.h); it is
# stopped first, so that no restart policy or reattach outlives the test.
server_stop() { "$C" system stop >/dev/null 2>&1; }
# The last check of a test: the server it started is gone after stop.
server_gone() {
	local pid
	pid=$(cat "$CONTAINER_RUN_DIR/apiserver.pid" 2>/dev/null)
	server_stop
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then nok "the API server (pid $pid) is gone after system stop"
	else ok "no API server left (system stop)"; fi
}
# Tests of the Docker API: need_netns for those that make bridges (as root
# this file re-ran the test in a private network namespace);
# api_server_start starts the server as the first check and points
# DOCKER_HOST at it; D is the docker CLI with a time bound.
need_netns() {
	[ -n "${VM_ENV_NETNS:-}" ] ||
		skip_rest "needs root and unshare -n (bridges and TAPs in a private network namespace)"
}
SOCK=$CONTAINER_RUN_DIR/container.sock
api_server_start() {
	local out
	out=$("$C" system start 2>&1) || { nok "system start: $out"; skip_rest "no API server"; }
	ok "system start"
	export DOCKER_HOST=unix://$SOCK
}
D() { timeout "${D_TIMEOUT:-120}" docker "$@"; }
cleanup() {
	server_stop
	pkill -f "$W/data" 2>/dev/null # our QEMUs (their disks are under $W/data)
	pkill -f "virtiofsd.*$W" 2>/dev/null # and virtiofsds of shares under $W
	for f in "$W"/run/network-*.pid; do # and our network helpers
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
"$C" system kernel set --binary "$KERNEL" >/dev/null || { nok "system kernel set"; skip_rest "no kernel"; }
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" test/bb:1 amd64 "$BUSYBOX" || skip_rest "cannot build the test image"
"$C" image load -i "$W/bb.tar" >/dev/null 2>&1 || { nok "image load"; skip_rest "no image"; }
# the load went through an API server started for it (#6): stop it, so that
# the test's own start (or first command) gets the environment it sets up
server_stop
qemus() { pgrep -f "qemu-system.*$W/data" | wc -l; }
# Our runtimes: the ones whose environment names our scratch data dir.
runtimes() {
	local p
	for p in $(pgrep -f '^container-runtime'); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "CONTAINER_DATA_DIR=$W/data" && echo "$p"
	done | wc -l
}

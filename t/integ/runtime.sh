#!/usr/bin/env bash
# t/integ/runtime.sh: the runtime role (`container runtime --attach-fd N ID`)
# driving a real VM (QEMU, TCG here): a busybox image ext4 (mke2fs -d,
# test-only), bundles written by hand under a scratch CONTAINER_DATA_DIR,
# the cached project kernel named in each bundle, the embedded initramfs
# (or $CONTAINER_INITRAMFS), and t/integ/rtclient.py as the attached client.
#
# Checks: output, exit statuses, stdin, signals, state.json, stdio.log,
# --rm, detach, the malicious-guest modes (the runtime reports an error and
# never crashes; its peak RSS stays bounded, also under a flood with a
# client that never reads), and that no QEMU is left behind.
set -u
: "${TMPDIR:=/tmp}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$(mktemp -d "$TMPDIR/runtime.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
NTESTS=39
RSS_MAX_KIB=16384
okk() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { if [ "$1" = "$2" ]; then okk "$3"; else nok "$3"; echo "#   got '$1', want '$2'"; fi; }
skip_all() { for _ in $(seq 1 $NTESTS); do n=$((n + 1)); echo "ok $n # SKIP $1"; done; echo "1..$n"; exit 0; }

BIN=${CONTAINER_BIN:-$SRCDIR/out/linux-amd64/container}
[ -x "$BIN" ] || skip_all "no container binary (make all)"
for tool in mke2fs python3 qemu-system-x86_64; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || skip_all "no static busybox (busybox-static)"
KERNEL=${GUEST_KERNEL:-$("$SRCDIR/initrd/kernel/build.sh" --cached x86_64 2>/dev/null | tail -1)} || true
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || skip_all "guest kernel not built (make kernel)"
[ "$(uname -m)" = x86_64 ] || skip_all "the test image is x86_64"

# --- the image ------------------------------------------------------------------
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" "$R/root"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh echo cat id ls sleep wc kill true head sha256sum touch tr; do ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
mke2fs -q -t ext4 -d "$R" "$W/image.ext4" 16M >/dev/null 2>&1 || skip_all "mke2fs -d failed"

export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
C=$CONTAINER_DATA_DIR/containers
mkdir -p "$C"
seq=0

# mk GUEST-JSON [AUTO_REMOVE]: a new bundle; sets ID.
mk() {
	seq=$((seq + 1))
	ID=$(printf '%064x' $((0xc0ffee000 + seq)))
	mkdir -p "$C/$ID"
	cat >"$C/$ID/config.json" <<EOF
{ "id": "$ID", "name": "rt$seq", "created": "2024-01-01T00:00:00Z",
  "image": { "ref": "test/busybox", "snapshot": "$W/image.ext4" },
  "vm": { "arch": "x86_64", "cpus": 1, "memory_mib": 256, "kernel": "$KERNEL",
          "kernel_args": [], "rw_size": 67108864 },
  "guest": $1,
  "auto_remove": ${2:-false}, "labels": {} }
EOF
	echo '{"status":"created","exit_code":-1}' >"$C/$ID/state.json"
}

# run [RTCLIENT-OPTIONS]: run the runtime on $ID with the client; sets OUT,
# ERR, RC (the EXIT status as the client saw it), RRC (the runtime's exit).
run() {
	rm -f "$W/rrc"
	RTRC=$W/rrc CONTAINER_TIMINGS=1 timeout 300 python3 "$SRCDIR/t/integ/rtclient.py" "$@" -- \
		"$BIN" runtime --attach-fd @FD "$ID" >"$W/out" 2>"$W/err"
	RC=$?
	RRC=$(cat "$W/rrc" 2>/dev/null || echo none)
	OUT=$(tr -d '\0' <"$W/out")
	ERR=$(grep -v '^runtime: timings' "$W/err")
	grep '^runtime: timings' "$W/err" >>"$W/timings"
	if [ "$RC" -ge 123 ] && [ "$RC" -le 125 ] || [ "$RRC" != 0 ]; then
		sed 's/^/# stderr: /' "$W/err" | tail -5
	fi
}

# state FIELD: one field of $ID's state.json ("timings.rss_kib" works)
state() {
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$C/$ID/state.json" "$1" 2>/dev/null
}

rss_ok() {
	local kib
	kib=$(state timings.rss_kib)
	if [ -n "$kib" ] && [ "$kib" -gt 0 ] && [ "$kib" -le $RSS_MAX_KIB ]; then
		okk "$1: runtime peak RSS ${kib} KiB <= $RSS_MAX_KIB"
	else
		nok "$1: runtime peak RSS '${kib}' KiB <= $RSS_MAX_KIB"
	fi
}

# --- the workload's stdio and exit status ----------------------------------------------
mk '{"process":{"cmd":["echo","hello"]}}'
run
check "$OUT/$RC/$RRC" "hello/0/0" "echo hello: output, EXIT 0, runtime exit 0"
check "$(state status)/$(state exit_code)/$(state error)" "exited/0/" "state.json: exited, exit_code 0, no error"
rss_ok "echo hello"

mk '{"process":{"cmd":["sh","-c","echo out; echo err >&2; exit 7"]}}'
run
check "$OUT/$ERR/$RC" "out/err/7" "stdout and stderr apart, exit 7"
check "$(state exit_code)" 7 "state.json: exit_code 7"
ok_times=$(python3 -c 'import json,sys
s=json.load(open(sys.argv[1])); t=s["timings"]
good = s["started_at"] and s["finished_at"] and s["started_at"] < s["finished_at"] \
  and s["runtime_pid"] == 0 and s["vmm_pid"] == 0 \
  and all(t[k] >= 0 for k in ("prep","spawn","boot","start","run","teardown"))
print("yes" if good else "no")' "$C/$ID/state.json")
check "$ok_times" yes "state.json: started_at < finished_at, pids cleared, every phase timed"
log_ok=$(python3 -c 'import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
print(sorted((x["stream"], x["log"]) for x in L) == [("stderr","err\n"),("stdout","out\n")]
      and all(x["time"].endswith("Z") for x in L))' "$C/$ID/stdio.log")
check "$log_ok" True "stdio.log: Docker json-file lines per stream"

mk '{"process":{"cmd":["sh","-c","kill -9 $$"]}}'
run
check "$RC/$RRC" "137/0" "killed by SIGKILL: 137"

mk '{"process":{"cmd":["nosuch"]}}'
run
check "$RC" 127 "missing command: 127"
case $ERR in *nosuch*) okk "missing command: message on stderr" ;;
*) nok "missing command: message on stderr"; echo "#   got '$ERR'" ;; esac

printf 'a\nb\n' >"$W/stdin"
mk '{"process":{"stdin":true,"cmd":["wc","-l"]}}'
run --stdin "$W/stdin"
check "$(echo $OUT)/$RC" "2/0" "stdin through, EOF closes it: wc -l counts 2"

head -c 3000000 /dev/urandom >"$W/big"
mk '{"process":{"stdin":true,"cmd":["cat"]}}'
run --stdin "$W/big"
check "$(sha256sum <"$W/out" | cut -c1-64)/$RC" "$(sha256sum <"$W/big" | cut -c1-64)/0" \
	"3 MB through stdin and back, byte for byte"
rss_ok "3 MB echo"
check "$(python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)
print("parsed")' "$C/$ID/stdio.log" 2>&1)" parsed "stdio.log of binary output: every line valid JSON"

mk '{"process":{"cmd":["sleep","100"]}}'
run --signal 15@3
check "$RC/$RRC" "143/0" "SIGNAL from the client reaches the workload: 143"

# SIGTERM to the runtime: the workload gets SIGTERM (graceful stop)
mk '{"process":{"cmd":["sh","-c","echo up; exec sleep 100"]}}'
(RTRC=$W/rrc2 timeout 300 python3 "$SRCDIR/t/integ/rtclient.py" -- "$BIN" runtime --attach-fd @FD "$ID" \
	>"$W/out2" 2>/dev/null; echo $? >"$W/rc2") &
for _ in $(seq 1200); do grep -q up "$W/out2" 2>/dev/null && break; sleep 0.1; done
rpid=$(state runtime_pid)
[ -n "$rpid" ] && [ "$rpid" -gt 0 ] && kill -TERM "$rpid"
wait
check "$(cat "$W/rc2" 2>/dev/null)/$(cat "$W/rrc2" 2>/dev/null)" "143/0" \
	"SIGTERM to the runtime stops the workload with SIGTERM: 143"

# a slow client (~400 KB/s): the runtime stops reading the guest while
# the client's queue is full, so the guest's EXIT waits behind output;
# the guest waits for SHUTDOWN, so nothing is lost.
mk '{"process":{"cmd":["sh","-c","head -c 5000000 /dev/zero | tr \"\\\\0\" x"]}}'
run --slow 0.15
got="$(tr -d '\0' <"$W/out" | wc -c)/$RC/$RRC"
if [ "$got" = "5000000/0/0" ]; then okk "slow client: all 5 MB of output, then EXIT 0"
else nok "slow client: all 5 MB of output, then EXIT 0"
	echo "#   got '$got'"; fi

# --rm: the bundle is gone when the client has EXIT
mk '{"process":{"cmd":["true"]}}' true
run
check "$RC/$([ -e "$C/$ID" ] && echo present || echo gone)" "0/gone" "auto_remove: bundle removed before EXIT"

# read-only: no writable disk made
mk '{"read_only":true,"process":{"cmd":["sh","-c","touch /x 2>/dev/null || echo ro"]}}'
run
check "$OUT/$RC/$([ -e "$C/$ID/rw.ext4" ] && echo rw || echo none)" "ro/0/none" \
	"read_only: root not writable, no rw.ext4"

# the writable disk survives a second start of the same container
mk '{"process":{"cmd":["sh","-c","cat /kept 2>/dev/null || echo new; echo kept > /kept"]}}'
run
first=$OUT
run
check "$first/$OUT" "new/kept" "a restarted container keeps its writable layer"

# detach: the client leaves, the container runs on, output goes to stdio.log
mk '{"process":{"cmd":["sh","-c","sleep 3; echo late"]}}'
run --detach 1
check "$RRC/$(state status)/$(state exit_code)" "0/exited/0" "detach: the runtime runs the workload to its end"
case $(cat "$C/$ID/stdio.log") in *'"log":"late\n"'*) okk "detach: later output in stdio.log" ;;
*) nok "detach: later output in stdio.log" ;; esac

# no client at all (run -d)
mk '{"process":{"cmd":["echo","bg"]}}'
CONTAINER_TIMINGS=1 timeout 300 "$BIN" runtime "$ID" </dev/null >/dev/null 2>"$W/err"
RC=$?
check "$RC/$(state exit_code)/$(grep -c '"log":"bg\\n"' "$C/$ID/stdio.log")" "0/0/1" \
	"without --attach-fd: runs, output in stdio.log"

# --- failures ------------------------------------------------------------------------------
mk '{"process":{"cmd":["true"]}}'
echo '{"id": 5' >"$C/$ID/config.json"
run
case $RC/$RRC/$ERR in 125/1/*config.json*) okk "corrupt config.json: ERROR naming the file, runtime exit 1" ;;
*) nok "corrupt config.json: ERROR naming the file"; echo "#   got $RC/$RRC/$ERR" ;; esac

mk '{"process":{"cmd":["true"]}}'
sed -i "s|\"kernel\": \"[^\"]*\"|\"kernel\": \"$W/nokernel\"|" "$C/$ID/config.json"
run
check "$RC/$RRC/$(state status)" "125/1/exited" "missing kernel: ERROR to the client, state exited"
case $(state error) in *nokernel*) okk "missing kernel: state.json error names it" ;;
*) nok "missing kernel: state.json error names it"; echo "#   got '$(state error)'" ;; esac

# --- a malicious guest -----------------------------------------------------------------------
for mode in garbage oversize; do
	mk '{"test":"'$mode'","process":{"cmd":["true"]}}'
	run
	case $RC/$RRC/$ERR in 125/1/*'agent protocol'*) okk "guest '$mode': the runtime reports the broken protocol" ;;
	*) nok "guest '$mode': the runtime reports the broken protocol"; echo "#   got $RC/$RRC/$ERR" ;; esac
	rss_ok "guest '$mode'"
done

mk '{"test":"unknown","process":{"cmd":["true"]}}'
run
case $RC/$RRC/$ERR in 125/1/*'without an exit status'*) okk "guest 'unknown': frames skipped, the VM's end reported" ;;
*) nok "guest 'unknown': frames skipped, the VM's end reported"; echo "#   got $RC/$RRC/$ERR" ;; esac
nwarn=$(grep -c 'frame skipped' "$W/err")
check "$nwarn" 10 "guest 'unknown': 16 bad frames, 10 logged (rate limit)"

mk '{"test":"badfield","process":{"cmd":["true"]}}'
run
check "$RC/$RRC" "125/1" "guest 'badfield': an error for the client, runtime exit 1"

# the guest's flood mode: STDOUT frames without end, flow control ignored
mk '{"test":"flood","process":{"cmd":["true"]}}'
run --noread 5
check "$RRC" 1 "guest 'flood', client never reads: runtime ends, no crash"
rss_ok "guest 'flood'"

# a workload flooding stdout at a client that never reads: the runtime
# stops reading the guest (bounded memory), then SIGTERM: grace, kill
mk '{"process":{"cmd":["sh","-c","tr \"\\\\0\" x </dev/zero"]}}'
run --noread 8
check "$RRC" 1 "stdout flood, client never reads: the runtime ends on SIGTERM"
rss_ok "stdout flood with a stuck client"
logsz=$(stat -c %s "$C/$ID/stdio.log")
if [ "$logsz" -gt $((1 << 20)) ] && [ "$logsz" -lt $((32 << 20)) ]; then
	okk "stdout flood: output flowed, then guest reads paused (stdio.log $logsz bytes)"
else
	nok "stdout flood: output flowed, then guest reads paused (stdio.log $logsz bytes)"
fi

# --- nothing left behind ----------------------------------------------------------------
# (the bracket keeps grep from matching its own command line)
left=$(grep -l "${W%?}[${W: -1}]/image.ext4" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
check "$left" 0 "no QEMU process left behind"

if [ -s "$W/timings" ]; then
	sed 's/^/# /' "$W/timings" | head -3
fi
echo "1..$n"

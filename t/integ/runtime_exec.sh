#!/usr/bin/env bash
# t/integ/runtime_exec.sh: a running container's runtime socket end to end
# (issue #6): `container exec` (exit codes, stdin, env/workdir/user, a pty,
# two at once), the main process's output reaching logs meanwhile, `stop`
# and `kill`, and the socket's removal; the CLI through the API server.  Boots the real guest kernel (TCG
# here) with a busybox image built by t/integ/mkimage.py, as run.sh does.
set -u
TOTAL=39 NAME=rtexec
. "$(dirname "$0")/vm_env.sh"
"$C" system start >/dev/null 2>&1 || nok "system start"   # its notice in no output checked
state() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["exit_code"])' \
	"$CONTAINER_DATA_DIR/containers/$1/state.json"; }

id=$("$C" run -d --name ticker test/bb:1 sh -c 'while :; do echo tick; sleep 1; done') ||
	{ nok "run -d"; skip_rest "no container"; }
ok "run -d a ticking container"
sock=$W/run/runtime-${id:0:12}.sock
is "$(stat -c %a "$sock" 2>/dev/null)" 600 "the runtime listens on runtime-<id12>.sock, mode 0600"

# --- exec -------------------------------------------------------------------
out=$("$C" exec "$id" echo hi 2>&1); rc=$?
is "$rc:$out" "0:hi" "exec ID echo hi: hi, exit 0"
"$C" exec ticker sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "exec by name, sh -c 'exit 3': exit 3"
out=$(printf 'a\nb\nc\n' | "$C" exec -i "${id:0:8}" wc -l 2>&1)
is "$out" 3 "exec -i by id prefix: stdin through with EOF (wc -l counts 3)"
head -c 3000000 /dev/urandom >"$W/big"
got=$("$C" exec -i "$id" cat <"$W/big" | sha256sum | cut -d' ' -f1)
is "$got" "$(sha256sum <"$W/big" | cut -d' ' -f1)" "exec -i cat: 3 MB back byte for byte"
out=$("$C" exec "$id" nosuch 2>&1); rc=$?
is "$rc" 127 "exec ID nosuch: exit 127"
like "$out" "nosuch" "the message names the missing command"
out=$("$C" exec -e A=1 -w /tmp "$id" sh -c 'echo $A $(pwd)' 2>&1)
is "$out" "1 /tmp" "exec -e A=1 -w /tmp"
out=$("$C" exec -u nobody "$id" id -u 2>&1)
is "$out" 65534 "exec -u nobody: id -u is 65534"
out=$("$C" exec "$id" sh -c 'echo out; echo err >&2' 2>/dev/null)
is "$out" out "exec: stdout and stderr apart"
if command -v script >/dev/null; then
	out=$(script -qec "stty rows 21 cols 77; $C exec -it $id stty size" /dev/null </dev/null | tr -d '\r')
	like "$out" "21 77" "exec -it under script: stty size is the outer terminal's"
else
	ok "# SKIP script(1) not installed"
fi
"$C" exec "$id" sh -c 'sleep 2; echo one' >"$W/e1" 2>&1 &
p1=$!
"$C" exec "$id" sh -c 'sleep 1; echo two; exit 5' >"$W/e2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$r1:$(cat "$W/e1")|$r2:$(cat "$W/e2")" "0:one|5:two" "two execs at once: each its own output and status"
out=$("$C" exec -d "$id" sh -c 'sleep 1; echo detached > /tmp/d'); rc=$?
is "$rc" 0 "exec -d returns at once, exit 0"
sleep 2
is "$("$C" exec "$id" cat /tmp/d 2>&1)" detached "exec -d: the process ran on"
# a client that goes away: its process runs on with stdin closed
timeout 3 "$C" exec -i "$id" sh -c 'cat >/dev/null; echo gone > /tmp/g' < <(sleep 10) >/dev/null 2>&1
sleep 1
is "$("$C" exec "$id" cat /tmp/g 2>&1)" gone "a client that disconnects: its process's stdin closes, it runs on"
ticks=$("$C" logs "$id" | grep -c tick)
[ "$ticks" -ge 3 ] && ok "the main process's output reached logs meanwhile ($ticks ticks)" ||
	nok "the main process's output reached logs meanwhile ($ticks ticks)"

# --- stop / kill -----------------------------------------------------------
t0=$(date +%s)
out=$("$C" stop -t 2 "$id" 2>&1); rc=$?
is "$rc:$out" "0:$id" "stop -t 2 ID: exit 0, prints the container"
dt=$(( $(date +%s) - t0 ))
[ "$dt" -le 10 ] && ok "stop returned in $dt s" || nok "stop returned in $dt s"
st=$(state "$id")
case "$st" in "exited 143" | "exited 137") ok "state.json: $st" ;; *) nok "state.json: $st (want exited 143 or 137)" ;; esac
[ ! -e "$sock" ] && ok "the socket file is removed after exit" || nok "the socket file is removed after exit"
out=$("$C" stop "$id" 2>&1); rc=$?
is "$rc:$out" "0:$id" "stop of a stopped container succeeds, as docker's (the API's 304)"
is "$(state "$id")" "$st" "... and leaves its state alone"
out=$("$C" exec "$id" echo hi 2>&1); rc=$?
like "$rc:$out" "is not running" "exec into a stopped container: a clear error"

id4=$("$C" run -d test/bb:1 sh -c 'trap "" TERM; while :; do sleep 1; done') || nok "run -d ignoring TERM"
sleep 1
# the socket protocol by hand: STATS routed back; a HELLO of another version refused
out=$(python3 - "$W/run/runtime-${id4:0:12}.sock" <<'PY'
import socket, struct, sys
def frame(t, stream, payload=b""):
    return struct.pack(">HBBIII", 0xC7A6, 1, t, stream, 0, len(payload)) + payload
def field(tag, v):
    return struct.pack(">BI", tag, len(v)) + v
def frames(s, want):
    buf = b""
    while True:
        while len(buf) >= 16:
            t, st, n = buf[3], struct.unpack(">I", buf[4:8])[0], struct.unpack(">I", buf[12:16])[0]
            if len(buf) < 16 + n: break
            buf = buf[16 + n:]
            if t in want: return t, st
        d = s.recv(65536)
        if not d: return None, None
        buf += d
def hello(lo, hi):
    return frame(1, 0, field(1, struct.pack(">q", lo)) + field(2, struct.pack(">q", hi)) + field(3, b"t\0"))
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(hello(1, 1) + frame(0x17, 0))
print("stats" if frames(s, (0x18,))[0] == 0x18 else "no stats")
s2 = socket.socket(socket.AF_UNIX); s2.connect(sys.argv[1])
s2.sendall(hello(7, 9))
print("refused" if frames(s2, (4,))[0] == 4 else "accepted")
PY
)
is "$(echo $out)" "stats refused" "socket: STATS answered to its asker; a HELLO of protocol 7..9 refused"
t0=$(date +%s)
"$C" stop -t 1 "$id4" >/dev/null 2>&1; rc=$?
dt=$(( $(date +%s) - t0 ))
is "$rc:$(state "$id4")" "0:exited 137" "stop -t 1 of a workload ignoring SIGTERM: killed after the grace, 137"
[ "$dt" -ge 1 ] && [ "$dt" -le 12 ] && ok "... in $dt s" || nok "... in $dt s"

id2=$("$C" run -d test/bb:1 sleep 1000) || nok "run -d sleep"
out=$("$C" kill "$id2" 2>&1); rc=$?
is "$rc:$(state "$id2")" "0:exited 137" "kill ID: the VM ends, exit_code 137"
id3=$("$C" run -d test/bb:1 sh -c 'trap "echo hup; exit 9" HUP; while :; do sleep 1; done') || nok "run -d trap"
sleep 1
"$C" kill -s HUP "$id3" >/dev/null 2>&1
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(state "$id3")" = "exited 9" ] && break; sleep 1; done
is "$(state "$id3")" "exited 9" "kill -s HUP: the signal reaches the main process (its trap exits 9)"
long=$W/run/$(printf 'x%.0s' $(seq 1 100))
out=$(CONTAINER_RUN_DIR=$long "$C" run -d test/bb:1 true 2>&1); rc=$?
like "$rc:$out" "125:container run: socket path $long/container.sock is too long" "a socket path over 103 bytes: a clear error from the CLI (125)"

# --- list, inspect, rm, prune ---------------------------------------------------
idr=$("$C" run -d --name lister test/bb:1 sleep 1000) || nok "run -d lister"
is "$("$C" ls -q)" "${idr:0:12}" "ls -q lists only the running container"
like "$("$C" ls)" "Up " "ls shows it as Up"
is "$("$C" ls -a -q | wc -l)" "$(ls "$CONTAINER_DATA_DIR/containers" | wc -l)" "ls -a lists every container"
is "$("$C" inspect lister | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Id"], d["State"]["Status"])')" \
	"$idr running" "inspect by name: id and state"
out=$("$C" rm lister 2>&1); rc=$?
like "$rc:$out" "1:container delete: You cannot remove a running container" "rm refuses a running container"
"$C" rm -f lister >/dev/null 2>&1
is "$?:$(ls "$CONTAINER_DATA_DIR/containers" | grep -c "$idr")" "0:0" "rm -f kills and removes it"
"$C" prune >/dev/null
is "$("$C" ls -a -q | wc -l | tr -d ' ')" 0 "prune removes every stopped container"
is "$(qemus)" 0 "no qemu is left"
server_gone
echo "1..$n"
[ "$failed" -eq 0 ]

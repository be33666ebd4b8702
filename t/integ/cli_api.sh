#!/usr/bin/env bash
# t/integ/cli_api.sh: our own CLI on the Docker Engine API (issue #6): the
# flows docker_cli.sh drives with the real docker CLI, through `container`
# instead — run --rm (output, exit codes), run -d --name, ls, logs (-f
# ending when the container stops), exec (status, -it under a pty), stop,
# rm, create + start -a, wait, --cidfile — plus the server's auto-start
# (and CONTAINER_NO_AUTOSTART=1 naming the command to run instead), and 20
# containers started at once (N=20; all running with distinct ids and
# addresses, then all stopped and removed, no QEMU left).  Every container
# boots the real guest kernel under QEMU (TCG here), as vm_env.sh sets up.
set -u
TOTAL=36 NAME=cliapi
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
N=${N:-20}

# --- auto-start -------------------------------------------------------------------
out=$(CONTAINER_NO_AUTOSTART=1 "$C" ls 2>&1); rc=$?
like "$rc:$out" "1:container list: the API server is not running" "CONTAINER_NO_AUTOSTART=1: ls fails while no server runs"
like "$out" "start it with: container system start" "... and names the command to run"
"$C" ls >"$W/ls.out" 2>"$W/ls.err"; rc=$?
like "$rc:$(cat "$W/ls.err")" "0:container: started the API server on $CONTAINER_RUN_DIR/container.sock" \
	"the first command starts the server and says so on stderr"
is "$(wc -l <"$W/ls.err" | tr -d ' ')" 1 "... in one line"
"$C" system status >/dev/null 2>&1
is "$?" 0 "system status: running"
is "$("$C" ls 2>&1 >/dev/null)" "" "the next command finds it running (nothing on stderr)"

# --- run in the foreground ---------------------------------------------------------
out=$("$C" run --rm $IMG echo hi 2>&1); rc=$?
is "$rc:$out" "0:hi" "run --rm IMG echo hi: hi, exit 0"
"$C" run --rm $IMG sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "run sh -c 'exit 3': exit code 3"
is "$("$C" ls -aq | wc -l | tr -d ' ')" 0 "--rm: nothing left"
out=$("$C" run --rm --name 'bad/name' $IMG true 2>&1); rc=$?
like "$rc:$out" "125:container run: invalid container name" "an invalid name: 125"

# --- a detached container ----------------------------------------------------------
id=$("$C" run -d --name x $IMG sh -c 'echo hello from x; echo warn >&2; exec sleep 1000' 2>&1)
is "${#id}" 64 "run -d --name x: a 64-hex id" || skip_rest "no container x"
like "$("$C" ls)" "x" "ls shows x"
is "$("$C" ls -q)" "${id:0:12}" "ls -q: its short id"
sleep 1
is "$("$C" logs x 2>/dev/null)" "hello from x" "logs x: stdout"
is "$("$C" logs x 2>&1 >/dev/null)" "warn" "logs x: stderr apart"
out=$("$C" exec x echo hi 2>&1); rc=$?
is "$rc:$out" "0:hi" "exec x echo hi"
"$C" exec x sh -c 'exit 4' >/dev/null 2>&1
is "$?" 4 "exec: the process's exit code"
if command -v script >/dev/null; then
	out=$(printf 'echo pty-$((6*7))\nstty size\nexit 0\n' | script -qec "stty rows 30 cols 90; $C exec -it x sh" /dev/null | tr -d '\r')
	like "$out" "pty-42" "exec -it x sh under a pty: commands run"
	like "$out" "30 90" "exec -it: the terminal size reaches the process"
else
	ok "# SKIP script(1) not installed"; ok "# SKIP script(1) not installed"
fi
is "$("$C" inspect x | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Id"], d["State"]["Status"])')" \
	"$id running" "inspect x: Docker's document"
"$C" wait x >"$W/wait.out" 2>&1 &
wpid=$!
sleep 1
out=$("$C" stop -t 2 x 2>&1); rc=$?
is "$rc:$out" "0:x" "stop x"
wait $wpid
is "$(cat "$W/wait.out")" 143 "wait, begun before the stop, prints 143"
out=$("$C" rm x 2>&1); rc=$?
is "$rc:$out" "0:x" "rm x"
out=$("$C" rm x 2>&1); rc=$?
like "$rc:$out" "1:container delete: No such container: x" "rm x again: No such container"

# --- logs -f, create + start, cidfile -------------------------------------------------
"$C" run -d --name y $IMG sh -c 'for i in 1 2 3; do echo n$i; sleep 1; done' >/dev/null
out=$(timeout 120 "$C" logs -f y 2>&1); rc=$?
is "$rc:$(echo $out)" "0:n1 n2 n3" "logs -f ends when the container stops, with every line"
is "$("$C" wait y)" 0 "wait on an exited container: 0"
"$C" create --name si -i --cidfile "$W/cid" $IMG sh -c 'read l; echo got $l; exit 5' >"$W/create.out" 2>&1
is "$(cat "$W/cid")" "$(cat "$W/create.out")" "create --cidfile: the file holds the id create printed"
out=$(echo hello | "$C" start -ai si 2>&1); rc=$?
is "$rc:$out" "5:got hello" "start -ai: stdin in, output out, the exit code"
out=$("$C" run --rm --cidfile "$W/cid" $IMG true 2>&1); rc=$?
like "$rc:$out" "125:container run: container ID file found" "--cidfile refuses a file that exists"
"$C" rm y si >/dev/null

# --- N containers started at once ------------------------------------------------------
t0=$(date +%s)
for i in $(seq 1 $N); do
	"$C" run -d -m 128M -c 1 --name p$i $IMG sleep 1000 >"$W/p$i.id" 2>"$W/p$i.err" &
done
wait
el=$(( $(date +%s) - t0 ))
echo "# $N containers started in parallel in ${el}s"
cat "$W"/p*.err | sort | uniq -c | sed 's/^/# /'
is "$(cat "$W"/p*.id | sort -u | grep -c '^[0-9a-f]\{64\}$')" $N "$N run -d at once: $N distinct ids (${el}s)"
is "$("$C" ls -q | wc -l | tr -d ' ')" $N "... all running"
ips=$("$C" inspect $(seq -f 'p%g' 1 $N) | python3 -c 'import json,sys; print(len({d["NetworkSettings"]["IPAddress"] for d in json.load(sys.stdin)}))')
is "$ips" $N "... with $N distinct addresses"
t0=$(date +%s)
"$C" stop -t 1 $(seq -f 'p%g' 1 $N) >/dev/null 2>&1
echo "# stopped in $(( $(date +%s) - t0 ))s"
is "$("$C" ls -q | wc -l | tr -d ' ')" 0 "... all stopped"
"$C" rm $(seq -f 'p%g' 1 $N) >/dev/null 2>&1
is "$("$C" ls -aq | wc -l | tr -d ' ')" 0 "... all removed"
is "$(qemus)" 0 "no QEMU left"
server_gone
echo "1..$n"
[ $failed -eq 0 ]

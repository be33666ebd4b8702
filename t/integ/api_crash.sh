#!/usr/bin/env bash
# t/integ/api_crash.sh: the API server's robustness with real VMs (issue
# #6), driven by the real docker CLI: 5 containers printing once a second
# survive a SIGKILL of the server; the restarted server reattaches (they
# still run, their logs hold the lines printed while it was down, stop
# works, one QEMU per running container, an exec's record still answers
# GET /exec/{id}/json); then 8 clients starting,
# stopping and removing the same container at once leave a consistent
# state (no container, no VM, no runtime, no socket) and a live server.  A
# runtime killed with SIGKILL: wait returns, the state says why, no VM stays.
set -u
TOTAL=19 NAME=apicrash
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
api_server_start
D_TIMEOUT=180
lines() { D logs "$1" 2>/dev/null | wc -l; }

bad=0
for i in 1 2 3 4 5; do
	D run -d -m 256m --name c$i $IMG sh -c 'i=0; while :; do i=$((i+1)); echo line $i; sleep 1; done' \
		>/dev/null 2>&1 || bad=1
done
is "$bad:$(D ps -q | wc -l)" "0:5" "5 containers started"
sleep 2
for i in 1 2 3 4 5; do before[$i]=$(lines c$i); done
# an exec that ended before the crash: its record is saved in the bundle
api() { curl -s --max-time 60 --unix-socket "$SOCK" "$@"; }
jget() { local e=$1; shift; python3 -c "import json,sys; d=json.load(sys.stdin); print($e)" "$@" 2>&1; }
eid=$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":["sh","-c","exit 3"]}' \
	http://d/containers/c1/exec | jget 'd["Id"]')
api -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "http://d/exec/$eid/start"
for t in $(seq 60); do
	[ "$(api "http://d/exec/$eid/json" | jget 'd["Running"]')" = False ] && break
	sleep 1
done
spid=$(cat "$CONTAINER_RUN_DIR/apiserver.pid")
kill -9 "$spid"
sleep 4
kill -0 "$spid" 2>/dev/null && nok "the server survived SIGKILL?" ||
	{ out=$("$C" system start 2>&1) && ok "server killed with SIGKILL for 4 s, restarted" ||
		nok "restart after SIGKILL: $out"; }
is "$(D ps -q | wc -l)" 5 "after the restart all 5 are running"
is "$(api "http://d/exec/$eid/json" | jget 'd["Running"], d["ExitCode"], d["ContainerID"] == sys.argv[1]' "$(D inspect -f '{{.Id}}' c1)")" \
	"False 3 True" "GET /exec/{id}/json after the restart: the record of an exec that ended (exit 3)"
is "$(api -o /dev/null -w '%{http_code}' "http://d/exec/..%2F..%2F$eid/json"):$(api -o /dev/null -w '%{http_code}' "http://d/exec/$(printf '%064d' 0)/json")" \
	"404:404" "a path or an unknown id: 404"
short=
for i in 1 2 3 4 5; do
	after=$(lines c$i)
	[ "$after" -ge $((before[$i] + 3)) ] || short="$short c$i:${before[$i]}->$after"
done
is "$short" "" "each log holds the lines printed while the server was down"
is "$(qemus)" 5 "one QEMU per running container"
bad=0 pids=
for i in 1 2 3 4 5; do D stop -t 2 c$i >/dev/null 2>&1 & pids="$pids $!"; done
for p in $pids; do wait "$p" || bad=1; done
is "$bad:$(D ps -q | wc -l):$(qemus)" "0:0:0" "stop works on all 5 after the restart; no QEMU left"
D rm c1 c2 c3 c4 c5 >/dev/null 2>&1
is "$(D ps -aq | wc -l)" 0 "all removed"

# --- a runtime killed with SIGKILL ------------------------------------------
D run -d --name victim $IMG sleep 1000 >/dev/null
D wait victim >"$W/victim.wait" 2>&1 &
wpid=$!
sleep 1
kill -9 "$(D inspect -f '{{.State.Pid}}' victim >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runtime_pid"])' \
	"$CONTAINER_DATA_DIR/containers/$(D inspect -f '{{.Id}}' victim)/state.json")"
wait $wpid
is "$(cat "$W/victim.wait")" 255 "the runtime killed: docker wait returns (255, no exit status)"
like "$(D inspect -f '{{.State.Status}} {{.State.Error}}' victim)" "exited the container's runtime ended" \
	"inspect: exited, with the reason"
sleep 1
is "$(qemus)" 0 "its VM did not outlive it"
D rm victim >/dev/null

# --- 8 clients at once on one container ------------------------------------
D create --name cc $IMG sleep 1000 >/dev/null
pids=
for k in 1 2 3 4 5 6 7 8; do
	# each step's exit status; 124 is D's timeout (a client that hung)
	( D start cc >/dev/null; echo "start $?"; D stop -t 1 cc >/dev/null; echo "stop $?"
	  D rm -f cc >/dev/null; echo "rm $?" ) >"$W/cc.$k" 2>/dev/null &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
is "$(cat "$W"/cc.* | wc -l):$(cat "$W"/cc.* | grep -c ' 124$')" "24:0" \
	"8 clients ran start/stop/rm -f on one container and all returned (none timed out)"
D rm -f cc >/dev/null 2>&1
sleep 1
is "$(D ps -aq | wc -l)" 0 "no container left"
is "$(qemus)" 0 "no QEMU left"
is "$(runtimes)" 0 "no runtime left"
is "$(ls "$CONTAINER_RUN_DIR" | grep -c '^runtime-')" 0 "no runtime socket left"
is "$(D version --format '{{.Server.APIVersion}}' 2>&1)" 1.45 "the server still answers"
echo "1..$n"
[ $failed -eq 0 ]

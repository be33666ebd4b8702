#!/usr/bin/env bash
# t/integ/api_crashloop.sh: ROUNDS (default 20; the issue's figure is 100)
# rounds of SIGKILL of the API server at a random moment while clients
# create, start, stop and remove containers through the API (curl on the
# socket), with real VMs.  After each restart every container must be in
# a valid state: inspect parses, Status is created, running or exited, and
# a running one has exactly one runtime and one QEMU (given a settle time
# for a runtime caught booting or tearing down).  At the end everything is
# removed and nothing may be left: no bundle, no disk, no QEMU, no runtime,
# no runtime socket, no stray temporary file.
# Prints TAP; SEED picks the random sequence (printed, to replay a failure).
set -u
ROUNDS=${ROUNDS:-20}
TOTAL=$((ROUNDS + 8)) NAME=apicrashloop
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
SEED=${SEED:-$$}
RANDOM=$SEED
echo "# ROUNDS=$ROUNDS SEED=$SEED"
IMG=test/bb:1
SOCK=$CONTAINER_RUN_DIR/container.sock
trap '"$C" system stop >/dev/null 2>&1; cleanup' EXIT
"$C" system start >/dev/null 2>&1 || { nok "system start"; skip_rest "no API server"; }
api() { curl -s --max-time 60 --unix-socket "$SOCK" "$@"; }
POOL="k1 k2 k3"

create() { # name [start]
	api -o /dev/null -X POST -H 'Content-Type: application/json' \
		-d "{\"Image\":\"$IMG\",\"Cmd\":[\"sleep\",\"1000\"],\"HostConfig\":{\"Memory\":268435456}}" \
		"http://d/v1.45/containers/create?name=$1"
	[ -n "${2:-}" ] && api -o /dev/null -X POST "http://d/v1.45/containers/$1/start"
}
# One client's random operation on a random container of the pool.
op() {
	local name=k$((RANDOM % 3 + 1))
	case $((RANDOM % 6)) in
	0) create "$name" ;;
	1) create "$name" start ;;
	2) api -o /dev/null -X POST "http://d/v1.45/containers/$name/start" ;;
	3) api -o /dev/null -X POST "http://d/v1.45/containers/$name/stop?t=1" ;;
	4) api -o /dev/null -X DELETE "http://d/v1.45/containers/$name?force=1" ;;
	5) api -o /dev/null -X DELETE "http://d/v1.45/containers/$name" ;;
	esac
}
count() { pgrep -f "$1" | wc -l; }
# Empty when every container is valid, else what is wrong.
check() {
	local ids id j st bad=
	ids=$(ls "$CONTAINER_DATA_DIR/containers" 2>/dev/null)
	for id in $ids; do
		j=$(api "http://d/v1.45/containers/$id/json")
		st=$(printf '%s' "$j" | jq -r .State.Status 2>/dev/null) || st="unparsable:${j:0:80}"
		case $st in
		created | exited)
			[ "$(count "container-runtime .*$id")" = 0 ] && [ "$(count "qemu-system.*$id")" = 0 ] ||
				bad="$bad ${id:0:8}:$st-with-processes"
			;;
		running)
			[ "$(count "container-runtime .*$id")" = 1 ] && [ "$(count "qemu-system.*$id")" = 1 ] ||
				bad="$bad ${id:0:8}:running-rt$(count "container-runtime .*$id")-vm$(count "qemu-system.*$id")"
			;;
		*) bad="$bad ${id:0:8}:$st" ;;
		esac
	done
	echo "$bad"
}

for r in $(seq 1 "$ROUNDS"); do
	pids=
	for k in 1 2 3; do op & pids="$pids $!"; done
	sleep "$((RANDOM % 30 / 10)).$((RANDOM % 10))"
	kill -9 "$(cat "$CONTAINER_RUN_DIR/apiserver.pid")" 2>/dev/null
	wait $pids 2>/dev/null
	"$C" system start >/dev/null 2>&1 || { nok "round $r: restart"; continue; }
	# a runtime caught booting or shutting down gets time to settle
	for t in $(seq 1 60); do
		bad=$(check)
		[ -z "$bad" ] && break
		sleep 1
	done
	is "$bad" "" "round $r: every container valid after a SIGKILL of the server"
	echo "# round $r: $(api "http://d/v1.45/containers/json?all=1" | jq -r '[.[] | .Names[0] + "=" + .State] | join(" ")')"
done

# --- everything removed: nothing leaked --------------------------------------
for id in $(ls "$CONTAINER_DATA_DIR/containers"); do
	api -o /dev/null -X DELETE "http://d/v1.45/containers/$id?force=1"
done
left=$(api "http://d/v1.45/containers/json?all=1" | jq length)
is "$left" 0 "all removed through the API"
is "$(ls -A "$CONTAINER_DATA_DIR/containers" | grep -vx .lock | wc -l)" 0 "no bundle (no disk), no half-made or half-removed one left"
sleep 1
is "$(qemus)" 0 "no QEMU left"
is "$(runtimes)" 0 "no runtime left"
is "$(ls "$CONTAINER_RUN_DIR" | grep -c '^runtime-')" 0 "no runtime socket left"
is "$(find "$CONTAINER_DATA_DIR" -name '*.tmp*' -o -name '.*.tmp' | wc -l)" 0 "no temporary file left"
is "$(api http://d/_ping)" OK "the server answers"
server_gone
echo "1..$n"
[ $failed -eq 0 ]

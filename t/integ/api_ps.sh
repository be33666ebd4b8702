#!/usr/bin/env bash
# t/integ/api_ps.sh: GET /containers/json served from the bundle cache
# (applets/api_ctrcache.c) is never stale: every change of a container is
# in the next list (create, start, exit with its code, a rename of its
# state file by the runtime, rm), also for changes made behind the
# server's back (a bundle removed on disk, a runtime killed); and a
# container waiting out its restart backoff is listed as "restarting",
# as Docker does.  Real VMs (TCG).
set -u
TOTAL=10 NAME=apips
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
trap '"$C" system stop >/dev/null 2>&1; cleanup' EXIT
"$C" system start >/dev/null 2>&1 || { nok "system start"; skip_rest "no API server"; }
SOCK=$CONTAINER_RUN_DIR/container.sock
api() { curl -s --max-time 60 --unix-socket "$SOCK" "$@"; }
# "State Status" of container $1 in the list
row() { api "http://d/containers/json?all=1" | python3 -c "
import json,sys
for c in json.load(sys.stdin):
    if c['Names'] == ['/$1']:
        w = c['Status'].split(' ')
        print(c['State'], w[0], w[1] if w[0] in ('Exited', 'Restarting') else '')"; }
create() { api -X POST -H 'Content-Type: application/json' -d "$2" "http://d/containers/create?name=$1" >/dev/null; }

create p1 '{"Image":"'$IMG'","Cmd":["sh","-c","sleep 2; exit 3"]}'
is "$(row p1)" "created Created " "created: in the list at once"
api -X POST http://d/containers/p1/start >/dev/null
is "$(row p1)" "running Up " "started: running"
api -X POST http://d/containers/p1/wait >/dev/null
is "$(row p1)" "exited Exited (3)" "exited with its code"
is "$(row p1)" "exited Exited (3)" "again (the cached summary)"
create p2 '{"Image":"'$IMG'","Cmd":["sleep","1000"]}'
api -X POST http://d/containers/p2/start >/dev/null
is "$(row p2)" "running Up " "p2 running"
kill -9 "$(python3 -c "import json; print(json.load(open('$CONTAINER_DATA_DIR/containers/'+'$(api http://d/containers/p2/json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')'+'/state.json'))['runtime_pid'])")"
sleep 1
is "$(row p2 | cut -d' ' -f1)" "exited" "a runtime killed behind the server's back: exited at once"
api -X DELETE "http://d/containers/p1" >/dev/null
is "$(row p1)" "" "removed: gone from the list"
id2=$(api http://d/containers/p2/json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
rm -rf "$CONTAINER_DATA_DIR/containers/$id2"
is "$(api 'http://d/containers/json?all=1')" "[]" "a bundle removed on disk: gone from the list"

# restarting: a failing workload under restart=always waits a growing backoff
create r1 '{"Image":"'$IMG'","Cmd":["sh","-c","exit 1"],"HostConfig":{"RestartPolicy":{"Name":"always"}}}'
api -X POST http://d/containers/r1/start >/dev/null
seen= both=
insp() { api http://d/containers/r1/json | python3 -c 'import json,sys; s=json.load(sys.stdin)["State"]; print(s["Status"], s["Restarting"])'; }
for i in $(seq 1 120); do
	r=$(row r1)
	case $r in "restarting Restarting (1)")
		seen=1
		[ "$(insp)" = "restarting True" ] && { both=1; break; } ;;
	esac
	sleep 0.5
done
is "${seen:-0}" 1 "a container waiting out its restart backoff is listed as restarting (${r:-})"
is "${both:-0}" 1 "inspect agrees in the same backoff: restarting, Restarting true"
api -X POST "http://d/containers/r1/stop?t=1" >/dev/null
echo "1..$n"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# t/integ/system_info.sh: `container system version | df | logs` and the
# server's log bound (issue #6), GET /system/df in Docker's shape (and
# `docker system df` when the docker CLI is installed), on a scratch
# data/run dir with one stored image, one container (its writable disk
# written to) and one volume.  Boots the guest kernel under QEMU (TCG).
set -u
TOTAL=29 NAME=sysinfo
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
command -v curl >/dev/null || skip_rest "curl not installed"
api() { curl -s --max-time 60 --unix-socket "$SOCK" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

out=$("$C" system version 2>&1); rc=$?
[ $rc -eq 1 ] && like "$out" "not running" "system version without a server: client part, exit 1" || nok "version without server: $rc $out"
like "$out" "API version:  1.45" "the client's API version"
# stats, system df and cp reach the server as every command does: started
# on first use, or (CONTAINER_NO_AUTOSTART=1) an error naming the command
for cmd in "stats --no-stream" "system df" "cp c1:/x $W/x"; do
	out=$(CONTAINER_NO_AUTOSTART=1 "$C" $cmd 2>&1); rc=$?
	[ $rc -ne 0 ] && like "$out" "start it with: container system start" "$cmd without a server: the command to run" ||
		nok "$cmd without a server: $rc $out"
done
out=$("$C" system df 2>&1); rc=$?
[ $rc -eq 0 ] && like "$out" "started the API server" "system df starts the server on first use" || nok "df autostart: $rc $out"
server_stop
# a small log bound, so that a rotation happens in this test
out=$(CONTAINER_API_LOG_MAX=4096 CONTAINER_LOG=debug "$C" system start 2>&1) || { nok "system start: $out"; skip_rest "no API server"; }
ok "system start"
out=$("$C" system version 2>&1)
like "$out" "Server: container-apiserver" "system version: the server part"
is "$("$C" system version --format json | jq_ 'd["Server"]["ApiVersion"] == d["Client"]["ApiVersion"] == "1.45"')" True "--format json: both API versions"

# one container that wrote 4 MiB, one volume that holds 2 MiB
"$C" volume create vol1 >/dev/null
cid=$(api -X POST -H 'Content-Type: application/json' \
	-d '{"Image":"'$IMG'","Cmd":["sh","-c","dd if=/dev/zero of=/big bs=1M count=4 conv=fsync 2>/dev/null; dd if=/dev/urandom of=/v/x bs=1M count=2 conv=fsync 2>/dev/null; sync"],"HostConfig":{"Binds":["vol1:/v"]}}' \
	"http://d/containers/create?name=df1" | jq_ 'd["Id"]')
is "${#cid}" 64 "create df1" || skip_rest "no container"
api -X POST "http://d/containers/$cid/start" >/dev/null
api -X POST "http://d/containers/$cid/wait" >/dev/null
j=$(api "http://d/system/df")
is "$(echo "$j" | jq_ 'len(d["Images"]), len(d["Containers"]), len(d["Volumes"]), d["BuildCache"]')" "1 1 1 []" \
	"GET /system/df: one image, one container, one volume, no build cache"
is "$(echo "$j" | jq_ 'd["Images"][0]["Containers"]')" 1 "the image is used by one container"
is "$(echo "$j" | jq_ 'd["LayersSize"] == d["Images"][0]["Size"] > 0')" True "LayersSize = the image's size"
is "$(echo "$j" | jq_ '4<<20 <= d["Containers"][0]["SizeRw"] < 64<<20')" True "SizeRw: the 4 MiB written, sparse (not 8 GiB)"
is "$(echo "$j" | jq_ 'd["Containers"][0]["SizeRootFs"] == d["Containers"][0]["SizeRw"] + d["Images"][0]["Size"]')" True "SizeRootFs = SizeRw + image"
is "$(echo "$j" | jq_ 'd["Volumes"][0]["Name"], d["Volumes"][0]["UsageData"]["RefCount"], 2<<20 <= d["Volumes"][0]["UsageData"]["Size"] < 64<<20')" \
	"vol1 1 True" "volume: RefCount 1, the 2 MiB written"
is "$(api "http://d/system/df?type=volume" | jq_ 'sorted(d.keys())')" "['BuildCache', 'Volumes']" "type=volume: only volumes"
is "$(api -o /dev/null -w '%{http_code}' "http://d/system/df?type=nope")" 400 "an unknown type: 400"
is "$(api "http://d/system/df?type=volume&type=image" | jq_ 'sorted(d.keys())')" "['BuildCache', 'Images', 'LayersSize', 'Volumes']" "type given twice: the union"
out=$("$C" system df 2>&1)
like "$out" "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE" "system df: docker's header"
like "$(echo "$out" | grep '^Containers')" "Containers      1         0" "system df: 1 container, none running"
like "$(echo "$out" | grep '^Local Volumes')" "Local Volumes   1         1" "system df: 1 volume in use"
if command -v docker >/dev/null; then
	out=$(DOCKER_HOST=unix://$SOCK timeout 60 docker system df 2>&1)
	like "$(echo "$out" | grep '^Images')" "Images          1         1" "docker system df: images row ($(echo "$out" | grep '^Images'))"
else
	ok "# SKIP docker CLI not installed"
fi

# the log: every request at debug level, bounded by rotation
for i in $(seq 60); do api "http://d/_ping" >/dev/null; done
sleep 2
D=$CONTAINER_DATA_DIR
[ -f "$D/apiserver.log.1" ] && ok "the log was rotated to apiserver.log.1" || nok "no rotation ($(wc -c <"$D/apiserver.log") bytes)"
sz=$(wc -c <"$D/apiserver.log")
[ "$sz" -lt 16384 ] && ok "the current log stays near its bound ($sz bytes, bound 4096 + 1 s of writes)" || nok "log is $sz bytes"
like "$("$C" system logs 2>&1)" "GET /_ping -> 200" "system logs: the requests (debug)"
is "$("$C" system logs -n 3 | wc -l)" 3 "system logs -n 3: three lines"
"$C" system logs -f >"$W/follow" 2>&1 & fpid=$!
sleep 1; : >"$W/follow"
# spread over ~3 s: the log (bound 4096 bytes) rotates while followed
for i in $(seq 80); do api "http://d/_ping?follow-mark=$i" >/dev/null; sleep 0.04; done
# until the last line arrives (a busy machine lags), 30 s at most
for i in $(seq 60); do grep -q 'follow-mark=80 ' "$W/follow" && break; sleep 0.5; done
kill $fpid; wait $fpid 2>/dev/null
n80=$(grep -c 'follow-mark=80 ' "$W/follow")
is "$n80" 1 "system logs -f: new lines arrive, also across a rotation"
# every line once: none lost at a rotation (the old file read to its end)
is "$(grep -ao 'follow-mark=[0-9]* ' "$W/follow" | sort -u | wc -l) $(grep -c 'follow-mark=' "$W/follow")" "80 80" \
	"system logs -f: all 80 lines, each once, across $(grep -ac 'log rotated' "$W/follow") rotations"
echo "1..$n"
[ $failed -eq 0 ]

#!/bin/sh
# The API server (issue #6): resident memory idle and with 100 containers
# on disk, `docker ps -a` latency (median of 21 runs) with them, and
# requests per second for GET /containers/json?all=1 over one keep-alive
# connection (curl), beside `docker version` (the CLI's own floor: what
# `docker ps` costs above it is the server's share).  The 100 containers
# are created, not started: this machine cannot run 100 VMs.  A list
# stats the two files of every bundle and writes each stopped
# container's summary from the bundle cache (applets/api_ctrcache.h); a
# running one's summary is rebuilt per request (its Ports), so with
# running containers the list costs more than measured here.
set -u
: "${CONTAINER_BIN:?}"
C=$CONTAINER_BIN
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v curl >/dev/null || { echo "skipped: curl not installed"; exit 0; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/apibench.XXXXXX")
export CONTAINER_DATA_DIR=$W/data CONTAINER_RUN_DIR=$W/run
trap '"$C" system stop >/dev/null 2>&1; rm -rf "$W"' EXIT
python3 "$SRCDIR/t/integ/mkimage.py" "$W/bb.tar" test/bb:1 amd64 /bin/busybox >/dev/null 2>&1 &&
	"$C" image load -i "$W/bb.tar" >/dev/null 2>&1 || { echo "skipped: no test image"; exit 0; }
"$C" system start >/dev/null || exit 1
S=$W/run/container.sock
PID=$(cat "$W/run/apiserver.pid")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$PID/status"; }
curl -s --unix-socket "$S" http://d/_ping >/dev/null
printf '%-46s %10s\n' "measure" "value"
printf '%-46s %7s KiB\n' "RSS idle (after one request)" "$(rss)"
i=0
while [ $i -lt 100 ]; do
	curl -s --unix-socket "$S" -H 'Content-Type: application/json' \
		-d '{"Image":"test/bb:1","Cmd":["true"],"Labels":{"bench":"1"}}' \
		"http://d/v1.45/containers/create?name=b$i" >/dev/null
	i=$((i + 1))
done
printf '%-46s %10s\n' "containers on disk" "$(curl -s --unix-socket "$S" 'http://d/containers/json?all=1' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
printf '%-46s %7s KiB\n' "RSS with 100 containers" "$(rss)"
if command -v docker >/dev/null; then
	export DOCKER_HOST=unix://$S
	median() { # of 21 runs of the command, µs
		i=0; while [ $i -lt 21 ]; do
			s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
			echo $(( (e - s) / 1000 )); i=$((i + 1)); done | sort -n | sed -n 11p
	}
	ps=$(median docker ps -a)
	ver=$(median docker version)
	printf '%-46s %7s µs\n' "docker ps -a, 100 containers, median of 21" "$ps"
	printf '%-46s %7s µs\n' "docker version, median of 21 (the CLI's floor)" "$ver"
	printf '%-46s %7s µs\n' "docker ps -a minus docker version" "$((ps - ver))"
fi
N=500
args=$(i=0; while [ $i -lt $N ]; do printf 'http://d/containers/json?all=1 '; i=$((i + 1)); done)
s=$(date +%s%N)
# shellcheck disable=SC2086
curl -s --unix-socket "$S" $args >/dev/null
e=$(date +%s%N)
printf '%-46s %10s\n' "GET /containers/json?all=1 (100), req/s" "$(( N * 1000000000 / (e - s) ))"
args=$(i=0; while [ $i -lt $N ]; do printf 'http://d/_ping '; i=$((i + 1)); done)
s=$(date +%s%N)
# shellcheck disable=SC2086
curl -s --unix-socket "$S" $args >/dev/null
e=$(date +%s%N)
printf '%-46s %10s\n' "GET /_ping, req/s" "$(( N * 1000000000 / (e - s) ))"
printf '%-46s %7s KiB\n' "peak RSS (VmHWM)" "$(hwm)"

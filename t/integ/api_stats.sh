#!/usr/bin/env bash
# t/integ/api_stats.sh: GET /containers/{id}/stats (issue #6) and
# `container stats`, against a real container (guest kernel under QEMU),
# through curl, our CLI and, when installed, the real docker CLI.  The
# numbers are the guest's own (applets/api_stats.c): the checks assert
# they are plausible (memory in use below the limit, the limit the
# container's -m, a busy loop's CPU above an idle one's, bytes written to
# the disk show up, processes counted), never exact.
set -u
TOTAL=24 NAME=apistats
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
command -v curl >/dev/null || skip_rest "curl not installed"
api_server_start
api() { curl -s --max-time 30 --unix-socket "$SOCK" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

cid=$(api -X POST -H 'Content-Type: application/json' \
	-d '{"Image":"'$IMG'","Cmd":["sh","-c","dd if=/dev/zero of=/f bs=1M count=8 conv=fsync 2>/dev/null; sleep 1000"],"HostConfig":{"Memory":268435456}}' \
	"http://d/containers/create?name=st1" | jq_ 'd["Id"]')
is "${#cid}" 64 "create st1" || skip_rest "no container"
api -X POST "http://d/containers/$cid/start" >/dev/null
sleep 2

j=$(api "http://d/containers/st1/stats?stream=false")
is "$(echo "$j" | jq_ 'd["id"]')" "$cid" "stream=false: the id"
is "$(echo "$j" | jq_ 'd["name"]')" "/st1" "the name with Docker's slash"
is "$(echo "$j" | jq_ 'd["memory_stats"]["limit"]')" 268435456 "memory limit = the container's Memory"
is "$(echo "$j" | jq_ '0 < d["memory_stats"]["usage"] < d["memory_stats"]["limit"]')" True "memory usage in (0, limit)"
is "$(echo "$j" | jq_ 'd["cpu_stats"]["online_cpus"]')" 2 "online_cpus = the VM's CPUs (default 2)"
is "$(echo "$j" | jq_ 'd["precpu_stats"]["system_cpu_usage"] < d["cpu_stats"]["system_cpu_usage"]')" True \
	"stream=false: precpu_stats is an earlier sample"
is "$(echo "$j" | jq_ 'd["preread"] < d["read"] and d["read"][:2] == "20"')" True "read/preread timestamps"
is "$(echo "$j" | jq_ '[x["value"] >= 8<<20 for x in d["blkio_stats"]["io_service_bytes_recursive"] if x["op"]=="write"]')" "[True]" \
	"blkio: the 8 MiB written (fsync) counted"
is "$(echo "$j" | jq_ '1 <= d["pids_stats"]["current"] <= 10')" True "pids: the workload's few processes (no kernel threads)"
is "$(echo "$j" | jq_ 'sorted(d["networks"]["eth0"].keys())[0]')" rx_bytes "networks.eth0 in Docker's shape"
j=$(api "http://d/containers/st1/stats?stream=false&one-shot=true")
is "$(echo "$j" | jq_ 'd["precpu_stats"]["cpu_usage"]["total_usage"]')" 0 "one-shot: precpu empty"
k=$(api --max-time 3 "http://d/containers/st1/stats" | grep -c '"cpu_stats"')
[ "$k" -ge 2 ] && ok "stream: an object a second ($k in 3 s)" || nok "stream: $k objects in 3 s"

# a busy loop's CPU shows up, an idle one's does not
api -X POST -H 'Content-Type: application/json' -d '{"Image":"'$IMG'","Cmd":["sh","-c","while :; do :; done"]}' \
	"http://d/containers/create?name=busy" >/dev/null
api -X POST "http://d/containers/busy/start" >/dev/null
sleep 2
cpu() { api "http://d/containers/$1/stats?stream=false" | jq_ '(d["cpu_stats"]["cpu_usage"]["total_usage"]-d["precpu_stats"]["cpu_usage"]["total_usage"])/(d["cpu_stats"]["system_cpu_usage"]-d["precpu_stats"]["system_cpu_usage"])*d["cpu_stats"]["online_cpus"]*100'; }
b=$(cpu busy) i=$(cpu st1)
is "$(python3 -c "print($b > 30 and $b > $i + 20)")" True "CPU %: busy loop $b, sleeping $i"

# our CLI
out=$("$C" stats --no-stream 2>&1)
like "$out" "CONTAINER ID" "container stats --no-stream: the header"
is "$(echo "$out" | grep -c ' st1 \| busy ')" 2 "one row per running container"
like "$(echo "$out" | grep ' st1 ')" "/ 256MiB" "MEM USAGE / LIMIT in Docker's units"
out=$("$C" stats --no-stream busy 2>&1)
is "$(echo "$out" | awk 'NR==2 {print ($3+0 > 30)}')" 1 "container stats busy: CPU % of the busy loop (${out##*$'\n'})"

# stopped: zeros, at once
api -X POST "http://d/containers/busy/kill" >/dev/null; sleep 1
is "$(api "http://d/containers/busy/stats?stream=false" | jq_ 'd["read"]')" "0001-01-01T00:00:00Z" "a stopped container: zeros"
is "$(api -o /dev/null -w '%{http_code}' "http://d/containers/nosuch/stats")" 404 "no such container: 404"

if command -v docker >/dev/null; then
	out=$(timeout 60 docker stats --no-stream st1 2>&1)
	like "$(echo "$out" | sed -n 2p)" "st1" "docker stats --no-stream st1: a row ($(echo "$out" | sed -n 2p))"
	like "$out" "256MiB" "docker stats: the limit"
	# streaming: the CLI redraws as objects arrive (one a second)
	out=$(timeout -k 2 5 docker stats st1 2>&1 | tr '\033' '\n' | grep -c 'st1 ')
	[ "$out" -ge 2 ] && ok "docker stats st1 (streaming): $out redraws in 5 s" || nok "docker stats streaming: $out redraws"
else
	for i in 1 2 3; do ok "# SKIP docker CLI not installed"; done
fi
echo "1..$n"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# t/integ/net_api.sh: the Docker API's network endpoints (issue #7) with
# the real docker CLI as the client, and curl for status codes, in a
# private network namespace (network rm rewrites the NAT rules there).
set -u
if [ -z "${NET_TEST_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
		echo "1..1"; echo "ok 1 # SKIP needs root and unshare -n"; exit 0
	fi
	NET_TEST_IN_NS=1 exec unshare -n bash "$0" "$@"
fi
B=${CONTAINER_BIN:?}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi; }
command -v docker >/dev/null && command -v curl >/dev/null || { echo "1..1"; echo "ok 1 # SKIP docker CLI or curl missing"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/net_api.XXXXXX")
export CONTAINER_DATA_DIR=$T/data CONTAINER_RUN_DIR=$T/run
trap '"$B" system stop >/dev/null 2>&1; rm -rf "$T"' EXIT
"$B" system start >/dev/null || { nok "system start"; echo "1..$n"; exit 1; }
export DOCKER_HOST=unix://$T/run/container.sock
api() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/run/container.sock" "$@"; }

id=$(docker network create --subnet 10.77.0.0/24 --internal --label team=a x 2>&1)
is "${#id}" 64 "docker network create answers a 64-hex id"
is "$(docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}' | sort | tr '\n' ,)" \
	"default bridge local,x bridge local," "docker network ls: default and x, bridge driver, local scope"
is "$(docker network inspect x --format '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Internal}} {{.Labels.team}}')" \
	"10.77.0.0/24 10.77.0.1 true a" "docker network inspect: subnet, gateway, internal, labels"
is "$(docker network inspect "${id:0:12}" --format '{{.Name}}')" x "inspect by id prefix"
is "$(api -X POST -H 'Content-Type: application/json' -d '{"Name":"x"}' http://d/v1.45/networks/create)" 409 \
	"creating an existing name: 409"
is "$(api -X POST -H 'Content-Type: application/json' -d '{"Name":"z","Driver":"overlay"}' http://d/networks/create)" 400 \
	"an unsupported driver: 400"
is "$(api -X POST -H 'Content-Type: application/json' -d '{"Name":"z","IPAM":{"Config":[{"Subnet":"10.77.0.0/16"}]}}' http://d/networks/create)" 400 \
	"an overlapping subnet: 400"
is "$(api -X POST -d '{"Name":' http://d/networks/create)" 400 "a malformed body: 400"
is "$(api http://d/networks/nosuch)" 404 "inspect of an unknown network: 404"
is "$(api -X DELETE http://d/networks/nosuch)" 404 "delete of an unknown network: 404"
is "$(api -X DELETE http://d/networks/default)" 403 "the default network cannot be deleted: 403"
is "$(docker network rm x)" x "docker network rm x"
docker network create y >/dev/null
is "$(docker network prune -f | tr '\n' ' ')" "Deleted Networks: y  " "docker network prune -f removes unused networks, not default"
is "$(docker network ls -q | wc -l)" 1 "only default is left"

# Options given at create are kept and shown back (compose compares them);
# Docker's bridge MTU option sets the network's MTU
docker network create -o com.docker.network.driver.mtu=1400 -o custom.opt=x o1 >/dev/null
is "$(docker network inspect o1 --format '{{index .Options "com.docker.network.driver.mtu"}} {{index .Options "custom.opt"}}')" \
	"1400 x" "docker network inspect shows the Options given at create"
is "$("$B" network inspect o1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')" 1400 \
	"the MTU option is the network's MTU"
is "$(api -X POST -H 'Content-Type: application/json' -d '{"Name":"o2","Options":{"com.docker.network.driver.mtu":"9x"}}' http://d/networks/create)" \
	400 "a malformed MTU option: 400"
is "$(api -X POST -H 'Content-Type: application/json' -d '{"Name":"o2","Options":{"a":1}}' http://d/networks/create)" \
	400 "an option that is not a string: 400"

# our CLI's network commands are clients of the same endpoints
is "$("$B" network create --subnet 10.77.5.0/24 --mtu 1400 --label team=b c1)" c1 "container network create c1"
is "$(docker network inspect c1 --format '{{(index .IPAM.Config 0).Subnet}} {{.Labels.team}} {{index .Options "com.docker.network.driver.mtu"}}')" \
	"10.77.5.0/24 b 1400" "docker sees what container network create asked for"
out=$("$B" network create --mtu 100 c2 2>&1); rc=$?
is "$rc:$out" "1:container network create: mtu 100: want 576..9000" "an MTU out of range is refused by the server"
is "$("$B" network ls -q | tr '\n' ' ')" "c1 default o1 " "container network ls -q"
is "$("$B" network rm o1 c1 | tr '\n' ' ')" "o1 c1 " "container network rm o1 c1"
out=$("$B" network rm nosuch 2>&1); rc=$?
is "$rc:$out" "1:container network delete: network nosuch not found" "container network rm of an unknown network"
"$B" system stop >/dev/null 2>&1
out=$(CONTAINER_NO_AUTOSTART=1 "$B" network ls 2>&1); rc=$?
case "$rc:$out" in 1:*"API server is not running"*) ok "network ls goes through the API server (none running: refused)" ;;
	*) nok "network ls without a server: $rc:$out" ;; esac
echo "1..$n"
[ $failed -eq 0 ]

#!/usr/bin/env bash
# t/integ/docker_net.sh: networking through the Docker API (issue #7 over
# #6) with the REAL docker CLI as the client, in a network namespace of its
# own (unshare -n): docker run -p to busybox httpd reached with curl,
# docker port / ps / inspect showing the bound ports and the addresses, an
# ephemeral host port, two containers on a user network reaching each
# other by name and by --network-alias, a compose-shaped create (curl:
# NetworkMode + EndpointsConfig Aliases), network connect/disconnect of a
# created container, --dns/--dns-search/--add-host/
# --hostname in the guest, --network none, and hostile requests (400/404).
set -u
TOTAL=38 NAME=dockernet
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
export CONTAINER_NETWORK_IDLE_MS=3000
. "$(dirname "$0")/vm_env.sh"
need_netns
IMG=test/bb:1
api_server_start
api() { # METHOD PATH BODY -> "status body"
	curl -s -m 120 -w ' %{http_code}' --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' \
		-d "$3" "http://d/v1.45$2"
}
http_wait() { # URL -> the page, after up to 60 s
	for _ in $(seq 120); do curl -sf -m 2 "$1" && return 0; sleep 0.5; done; return 1
}
WEB='mkdir -p /www && echo "page from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'

# --- -p through the API --------------------------------------------------------
id=$(D run -d --name web -p 127.0.0.1:18081:80 $IMG sh -c "$WEB" 2>&1)
is "${#id}" 64 "docker run -d -p 127.0.0.1:18081:80: a 64-hex id" || echo "# $id"
is "$(http_wait http://127.0.0.1:18081/)" "page from ${id:0:12}" "curl 127.0.0.1:18081 gets the page from the container"
is "$(D port web)" "80/tcp -> 127.0.0.1:18081" "docker port web"
is "$(D ps --format '{{.Names}} {{.Ports}}')" "web 127.0.0.1:18081->80/tcp" "docker ps shows the published port"
ipaddr=$(D inspect -f '{{.NetworkSettings.IPAddress}}' web)
case "$ipaddr" in 192.168.64.[0-9]*) ok "inspect: NetworkSettings.IPAddress $ipaddr on the default network" ;;
	*) nok "inspect: NetworkSettings.IPAddress '$ipaddr'" ;; esac
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}} {{(index .NetworkSettings.Networks "default").IPAddress}}' web)" \
	"default 192.168.64.1 24 $ipaddr" "inspect: NetworkMode, Gateway, prefix, Networks.default.IPAddress"
like "$(D inspect -f '{{.NetworkSettings.MacAddress}}' web)" "02:" "inspect: a MacAddress"
is "$(D inspect -f '{{json .HostConfig.PortBindings}}' web)" '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18081"}]}' \
	"inspect: HostConfig.PortBindings as asked"

# an ephemeral host port (docker -p 127.0.0.1::80)
D run -d --name eph -p 127.0.0.1::80 $IMG sh -c "$WEB" >/dev/null 2>&1
p=$(D port eph 80/tcp | sed -n 's/^127.0.0.1://p')
case "$p" in ''|0|*[!0-9]*) nok "docker port eph: an ephemeral port ('$p')" ;; *) ok "docker port eph 80/tcp: ephemeral port $p" ;; esac
like "$(http_wait "http://127.0.0.1:${p:-1}/")" "page from" "curl on the ephemeral port gets the page"
D rm -f eph >/dev/null 2>&1

# -P: the ports the request exposes, each on an ephemeral port
D run -d --name pall -P --expose 80 $IMG sh -c "$WEB" >/dev/null 2>&1
p=$(D port pall 80/tcp | sed -n 's/^127.0.0.1://p')
like "$(http_wait "http://127.0.0.1:${p:-1}/")" "page from" "docker run -P --expose 80: published on $p"
D rm -f pall >/dev/null 2>&1
D rm -f web >/dev/null 2>&1
is "$(curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:18081/)" 000 "docker rm -f web: the port is closed"

# --- a user network: names and aliases ------------------------------------------
D network create appnet >/dev/null 2>&1
D run -d --name db --network appnet --network-alias database --network-alias store $IMG sh -c "$WEB" >/dev/null 2>&1
dbid=$(D inspect -f '{{.Id}}' db)
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{(index .NetworkSettings.Networks "appnet").Aliases}}' db)" \
	"appnet [database store]" "inspect db: NetworkMode appnet, Aliases"
# busybox-static's wget crashes in this image; nc speaks HTTP/1.0 well enough
GET='printf "GET / HTTP/1.0\r\n\r\n" | nc -w 5 $h 80 | tail -1'
out=$(D run --rm --network appnet $IMG sh -c "for h in db db.test database store.test; do $GET; done" 2>&1)
is "$out" "$(printf 'page from %s\n' ${dbid:0:12} ${dbid:0:12} ${dbid:0:12} ${dbid:0:12})" \
	"another container on appnet reaches db by name, name.test and both aliases"
out=$(D run --rm $IMG sh -c 'nslookup db >/dev/null 2>&1 && echo found || echo unknown' 2>&1)
is "$out" "unknown" "a container on the default network does not resolve db"

# compose's shape: NetworkMode = the project network, EndpointsConfig with the service name
out=$(api POST "/containers/create?name=proj-api-1" \
	"{\"Image\":\"$IMG\",\"Cmd\":[\"sh\",\"-c\",\"echo api-page >/tmp/index.html; exec httpd -f -p 80 -h /tmp\"],\"HostConfig\":{\"NetworkMode\":\"appnet\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"appnet\":{\"Aliases\":[\"api\",\"proj-api-1\"]}}}}")
like "$out" " 201" "compose-shaped create (NetworkMode + EndpointsConfig.Aliases): 201"
D start proj-api-1 >/dev/null 2>&1
out=$(D exec db sh -c "for h in api proj-api-1; do $GET; done" 2>&1)
is "$(echo $out)" "api-page api-page" "db reaches the compose service by its service name and container name"

# connect/disconnect of a created container (compose's way to add networks;
# several networks per container: t/integ/net_multi.sh)
D create --name late --add-host foo:10.1.2.3 $IMG sh -c "$WEB" >/dev/null 2>&1
D network connect appnet late >/dev/null 2>&1
D network disconnect appnet late >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}' late)" "default 1" \
	"connect to a second network and disconnect from it: back on default alone"
D network disconnect default late >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}}:{{.NetworkSettings.IPAddress}}' late)" "none:" "docker network disconnect default late: no network"
D network connect --alias later appnet late >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}} {{(index .NetworkSettings.Networks "appnet").Aliases}}' late)" \
	"appnet [later]" "docker network connect --alias later appnet late: on appnet with the alias"
D start late >/dev/null 2>&1
lid=$(D inspect -f '{{.Id}}' late)
out=$(D exec db sh -c "for h in late later; do $GET; done" 2>&1)
is "$(echo $out)" "page from ${lid:0:12} page from ${lid:0:12}" "db reaches the connected container by name and alias"
is "$(D exec late grep foo /etc/hosts)" "$(printf '10.1.2.3\tfoo')" "--add-host survives the reconnection"
out=$(D network disconnect appnet late 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "is running" "disconnect of a running container: refused (409)" || nok "disconnect running: $rc $out"

# --- what the guest is told ---------------------------------------------------------
out=$(D run --rm --network appnet --hostname hh --dns 10.9.9.9 --dns-search example.org --dns-option ndots:2 \
	--add-host foo:10.1.2.3 $IMG sh -c 'hostname; cat /etc/resolv.conf /etc/hosts' 2>&1)
like "$out" "hh" "--hostname hh"
like "$out" "nameserver 10.9.9.9" "--dns in resolv.conf"
like "$out" "search example.org" "--dns-search in resolv.conf"
like "$out" "options ndots:2" "--dns-option in resolv.conf"
like "$out" "$(printf '10.1.2.3\tfoo')" "--add-host in /etc/hosts"
out=$(D run --rm --network none $IMG sh -c 'ls /sys/class/net | tr "\n" " "' 2>&1)
is "$out" "lo " "--network none: only lo"
D create --name nonet --network none $IMG true >/dev/null 2>&1
is "$(D inspect -f '{{.HostConfig.NetworkMode}}:{{.NetworkSettings.IPAddress}}' nonet)" "none:" "inspect --network none: no address"

# --- hostile or unsupported requests --------------------------------------------------
create_status() { # STATUS EXTRA-JSON DESCRIPTION: a create with {"Image": IMG, EXTRA} answers STATUS
	like "$(api POST /containers/create "{\"Image\":\"$IMG\",$2}")" " $1" "$3: $1"
}
create_status 404 '"HostConfig":{"NetworkMode":"nosuchnet"}' "NetworkMode of a network that does not exist"
create_status 400 '"HostConfig":{"NetworkMode":"container:db"}' "NetworkMode container:X (a VM cannot share another's stack)"
create_status 400 '"HostConfig":{"PortBindings":{"80/sctp":[{"HostPort":"1"}]}}' "PortBindings with sctp"
create_status 400 '"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}' "PortBindings host port 99999"
create_status 400 '"NetworkingConfig":{"EndpointsConfig":{"appnet":{"Aliases":["bad name"]}}}' "an alias with a space"
create_status 400 '"HostConfig":{"Dns":["not-an-ip"]}' "Dns not an address"

D rm -f db proj-api-1 nonet late >/dev/null 2>&1
out=$(D network rm appnet 2>&1)
is "$?" 0 "docker network rm appnet once its containers are gone"
echo "1..$n"
[ $failed -eq 0 ]
